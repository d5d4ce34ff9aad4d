# spmd-fib (included from tests/apps/CMakeLists.txt): values against Python's integers and
# identical at 1-4 ranks; bad input; failed and flaky tasks; resume after kill, stop, lost worker.
# The app's arithmetic on its own (one process, no MPI).
find_package(PkgConfig REQUIRED)
pkg_check_modules(TEST_GMPXX REQUIRED IMPORTED_TARGET gmpxx gmp)
add_executable(test_fib_describe fib_describe_test.cpp ${PROJECT_SOURCE_DIR}/apps/fib/fibonacci.cpp)
target_include_directories(test_fib_describe PRIVATE ${PROJECT_SOURCE_DIR}/apps/fib)
target_link_libraries(test_fib_describe PRIVATE PkgConfig::TEST_GMPXX GTest::gtest_main)
spmd_set_warnings(test_fib_describe)
add_test(NAME fib.arithmetic COMMAND test_fib_describe)
set_tests_properties(fib.arithmetic PROPERTIES TIMEOUT 120 LABELS "unit;app")

set(fib_inputs ${CMAKE_CURRENT_SOURCE_DIR}/fib-inputs.txt)
set(fib_outputs)
foreach(n 1 2 3 4)
  spmd_add_run_test(NAME fib.values TARGET spmd-fib RANKS ${n} TIMEOUT 60
    EXPECT --json status=ok --json failed=0 --json inputs=55 --json highest_input=18313
    ARGS --inputs-file ${fib_inputs} --json --output ${CMAKE_CURRENT_BINARY_DIR}/fib-${n}.h5)
  set_tests_properties(fib.values.np${n} PROPERTIES FIXTURES_SETUP fib_${n})
  list(APPEND fib_outputs ${CMAKE_CURRENT_BINARY_DIR}/fib-${n}.h5)
endforeach()
add_test(NAME fib.python_reference
         COMMAND ${SPMD_PYTHON_WITH_H5PY} ${CMAKE_CURRENT_SOURCE_DIR}/fib_check.py ${fib_inputs}
                 ${fib_outputs})
set_tests_properties(fib.python_reference PROPERTIES LABELS app
                     FIXTURES_REQUIRED "fib_1;fib_2;fib_3;fib_4")

# The static schedule (the book's fixed split) gives the same table.
spmd_add_run_test(NAME fib.static TARGET spmd-fib RANKS 3 TIMEOUT 60
  EXPECT --json status=ok --json schedule=static --json failed=0
  ARGS --inputs-file ${fib_inputs} --schedule static --json
       --output ${CMAKE_CURRENT_BINARY_DIR}/fib-static.h5)

set(fib_error "^spmd-fib: error: ")
spmd_add_run_test(NAME fib.negative_input TARGET spmd-fib RANKS 1 3 TIMEOUT 30
  EXPECT --exit 2 --max-seconds 10 --stderr-count "error:=1"
         --stderr-once "${fib_error}--inputs: '-3' is not allowed: n must not be negative \\(rank 0\\)$"
  ARGS --inputs 5,-3 --no-journal --output ${CMAKE_CURRENT_BINARY_DIR}/fib-bad.h5)
spmd_add_run_test(NAME fib.not_a_number TARGET spmd-fib RANKS 2 TIMEOUT 30
  EXPECT --exit 2 --max-seconds 10 --stderr-count "error:=1"
         --stderr-once "${fib_error}--inputs: 'x12' is not a non-negative integer \\(rank 0\\)$"
  ARGS --inputs 5,x12 --output ${CMAKE_CURRENT_BINARY_DIR}/fib-bad.h5)
spmd_add_run_test(NAME fib.above_max_n TARGET spmd-fib RANKS 2 TIMEOUT 30
  EXPECT --exit 2 --max-seconds 10
         --stderr-once "${fib_error}--inputs: n = 5000 is above --max-n 4999 .*\\(rank 0\\)$"
  ARGS --inputs 5000 --max-n 4999 --output ${CMAKE_CURRENT_BINARY_DIR}/fib-bad.h5)
spmd_add_run_test(NAME fib.no_inputs TARGET spmd-fib RANKS 2 TIMEOUT 30
  EXPECT --exit 2 --max-seconds 10
         --stderr-once "${fib_error}give exactly one of --inputs .*\\(rank 0\\)$"
  ARGS --output ${CMAKE_CURRENT_BINARY_DIR}/fib-bad.h5)

# A task that always fails: retried, recorded, the run completes and exits 3 (tasks_failed),
# the journal is kept for --resume; a task failing once is retried and succeeds.
spmd_add_run_test(NAME fib.failing_task TARGET spmd-fib RANKS 1 3 TIMEOUT 60
  EXPECT --exit 3 --max-seconds 30 --json failed=1 --json done=6 --json retries=2
         --stderr-once "^spmd-fib: task n = 13 failed: test failure of n = 13 \\(rank [0-9], attempt 3\\)$"
  ARGS --inputs 1,2,3,5,8,13,21 --test-fail-n 13 --json
       --output ${CMAKE_CURRENT_BINARY_DIR}/fib-failing-@NP@.h5)
# The failed run keeps its journal on purpose (--resume retries the failures): clear it first, so
# the test can run again in the same build tree.
add_test(NAME fib.failing_task.clean
         COMMAND ${CMAKE_COMMAND} -E rm -rf ${CMAKE_CURRENT_BINARY_DIR}/fib-failing-1.h5.journal
                 ${CMAKE_CURRENT_BINARY_DIR}/fib-failing-3.h5.journal)
set_tests_properties(fib.failing_task.clean PROPERTIES FIXTURES_SETUP fib_failing_clean LABELS app)
set_tests_properties(fib.failing_task.np1 fib.failing_task.np3 PROPERTIES
                     FIXTURES_REQUIRED fib_failing_clean)
set_tests_properties(fib.failing_task.np3 PROPERTIES FIXTURES_SETUP fib_failing_journal)
# Its journal resumed with other parameters: refused, naming the option; with the same ones:
# the failed task is redone, and the complete run removes the journal.
set(fib_journaled ${CMAKE_CURRENT_BINARY_DIR}/fib-failing-3.h5)
spmd_add_run_test(NAME fib.resume_other_parameters TARGET spmd-fib RANKS 2 TIMEOUT 30
  EXPECT --exit 2 --max-seconds 10 --stderr-count "error:=1"
         --stderr-once "${fib_error}the journal .* belongs to a run with other parameters \\(--inputs was 1,2,3,5,8,13,21, is 1,2,3,5,8,13 now\\)"
  ARGS --inputs 1,2,3,5,8,13 --resume --output ${fib_journaled})
spmd_add_run_test(NAME fib.resume_completes TARGET spmd-fib RANKS 3 TIMEOUT 60
  EXPECT --exit 0 --json failed=0 --json resumed=6
  ARGS --inputs 1,2,3,5,8,13,21 --resume --json --output ${fib_journaled})
add_test(NAME fib.resume_completes.journal_removed
         COMMAND ${Python3_EXECUTABLE} -c "import os, sys; sys.exit(os.path.exists(sys.argv[1]))"
                 ${fib_journaled}.journal)
set_tests_properties(fib.resume_other_parameters.np2 PROPERTIES FIXTURES_REQUIRED fib_failing_journal
                     FIXTURES_SETUP fib_journal_refused)
set_tests_properties(fib.resume_completes.np3 PROPERTIES
                     FIXTURES_REQUIRED "fib_failing_journal;fib_journal_refused"
                     FIXTURES_SETUP fib_journal_resumed)
set_tests_properties(fib.resume_completes.journal_removed PROPERTIES LABELS app
                     FIXTURES_REQUIRED fib_journal_resumed)
spmd_add_run_test(NAME fib.flaky_task TARGET spmd-fib RANKS 2 4 TIMEOUT 60
  EXPECT --exit 0 --json failed=0 --json retries=1 --json done=7
  ARGS --inputs 1,2,3,5,8,13,21 --test-flaky-n 8 --json
       --output ${CMAKE_CURRENT_BINARY_DIR}/fib-flaky-@NP@.h5)

# Interrupted runs resume to an identical table: SIGKILL at 2 ranks -> 3, SIGUSR1 -> 4, a dead
# worker -> 2.
spmd_add_check_script(NAME fib.resume SCRIPT farm_resume_check.py
  TIMEOUT 300 PROCESSORS 4 LABELS app
  ARGS $<TARGET_FILE:spmd-fib> ${CMAKE_CURRENT_BINARY_DIR}/fib-resume-scratch)
