# spmd-farm (apps/farm): its task files and templates on their own (one process, no MPI).
add_executable(test_farm_task_file farm_task_file_test.cpp ${PROJECT_SOURCE_DIR}/apps/farm/task_file.cpp)
target_include_directories(test_farm_task_file PRIVATE ${PROJECT_SOURCE_DIR}/apps/farm ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(test_farm_task_file PRIVATE spmdkit::spmdkit nlohmann_json::nlohmann_json GTest::gtest_main)
spmd_set_warnings(test_farm_task_file)
add_test(NAME farm.task_file COMMAND test_farm_task_file)
set_tests_properties(farm.task_file PROPERTIES TIMEOUT 60 LABELS "unit;app")

# The app end to end at 1-4 ranks: outcomes against what each command must do (exit statuses,
# signals, timeouts killing grandchildren, binary and huge output, retries), --slots, templates,
# bad task files; a stop and a hard kill resumed at another rank count, every task exactly once.
spmd_add_check_script(NAME farm.end_to_end SCRIPT farm_check.py TIMEOUT 300 PROCESSORS 4
  LABELS app ARGS $<TARGET_FILE:spmd-farm> ${CMAKE_CURRENT_BINARY_DIR}/farm-scratch)
