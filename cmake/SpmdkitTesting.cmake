include_guard(GLOBAL)
# MPI test registration. gtest_discover_tests cannot launch MPI tests, so every MPI test binary is
# registered once per rank count as <name>.np<N>, launched through mpiexec.

set(SPMD_TEST_RANKS 1 2 3 4 CACHE STRING "Rank counts every MPI test runs at")
set(SPMD_TEST_TIMEOUT 120 CACHE STRING "Default CTest TIMEOUT (seconds) of an MPI test")

# Environment of every MPI test:
# - root may run Open MPI (CI containers run as root; harmless otherwise),
# - more ranks than cores (4 ranks on a 2-core machine), and idle ranks yield so they stay responsive,
# - ranks get a pseudo-terminal from Open MPI: no colour codes in the logs.
set(SPMD_MPI_TEST_ENVIRONMENT
    OMPI_ALLOW_RUN_AS_ROOT=1
    OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    OMPI_MCA_rmaps_base_oversubscribe=1
    OMPI_MCA_mpi_yield_when_idle=1
    GTEST_COLOR=no)

# spmd_mpi_command(<out-var> <ranks> <timeout>): the mpiexec prefix for <ranks> ranks. mpirun's own
# --timeout fires a little before CTest's so the whole job (not only mpirun) is torn down and the
# log says it was a timeout.
function(spmd_mpi_command out ranks timeout)
  math(EXPR mpirun_timeout "${timeout} - 5")
  if(mpirun_timeout LESS 5)
    set(mpirun_timeout 5)
  endif()
  set(${out} ${MPIEXEC_EXECUTABLE} --oversubscribe --timeout ${mpirun_timeout}
      ${MPIEXEC_NUMPROC_FLAG} ${ranks} ${MPIEXEC_PREFLAGS} PARENT_SCOPE)
endfunction()

# spmd_add_mpi_test(NAME name TARGET exe [RANKS 1 2 3 4] [TIMEOUT s] [ARGS ...] [LABELS ...]
#                   [ENVIRONMENT VAR=value...] [CHECKED EXPECT checks...])
# Registers name.np<N> for every N in RANKS. With CHECKED, the run goes through
# tests/support/expect_run.py, which checks the exit status, the messages and the JSON summary
# (see that script for the checks). "@NP@" in EXPECT and ARGS becomes the rank count.
function(spmd_add_mpi_test)
  cmake_parse_arguments(ARG "CHECKED" "NAME;TARGET;TIMEOUT" "RANKS;ARGS;LABELS;EXPECT;ENVIRONMENT"
                        ${ARGN})
  if(NOT ARG_RANKS)
    set(ARG_RANKS ${SPMD_TEST_RANKS})
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT ${SPMD_TEST_TIMEOUT})
  endif()
  set(driver)
  if(ARG_CHECKED)
    set(driver ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/tests/support/expect_run.py)
    list(APPEND ARG_LABELS app)
  endif()
  foreach(n IN LISTS ARG_RANKS)
    spmd_mpi_command(launcher ${n} ${ARG_TIMEOUT})
    set(checks)
    if(ARG_CHECKED)
      string(REPLACE "@NP@" "${n}" checks "${ARG_EXPECT};--")
    endif()
    string(REPLACE "@NP@" "${n}" args "${ARG_ARGS}")
    add_test(NAME ${ARG_NAME}.np${n}
             COMMAND ${driver} ${checks} ${launcher} $<TARGET_FILE:${ARG_TARGET}>
                     ${MPIEXEC_POSTFLAGS} ${args})
    set_tests_properties(${ARG_NAME}.np${n} PROPERTIES
      TIMEOUT ${ARG_TIMEOUT} PROCESSORS ${n}
      ENVIRONMENT "${SPMD_MPI_TEST_ENVIRONMENT};${ARG_ENVIRONMENT}"
      LABELS "mpi;${ARG_LABELS}")
  endforeach()
endfunction()

# spmd_add_gtest_mpi(NAME name SOURCES ... [RANKS ...] [TIMEOUT s] [LIBRARIES ...] [LABELS ...]
#                    [IO_LAYERS])
# A GoogleTest binary with the MPI-aware main, registered at every rank count. With IO_LAYERS it is
# registered once per Open MPI I/O layer (name.ompio.npN, name.romio321.npN): collective HDF5 I/O
# has had bugs in one layer or the other, so I/O tests run under both.
function(spmd_add_gtest_mpi)
  cmake_parse_arguments(ARG "IO_LAYERS" "NAME;TIMEOUT" "SOURCES;RANKS;LIBRARIES;LABELS" ${ARGN})
  set(target test_${ARG_NAME})
  add_executable(${target} ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE spmdkit::spmdkit spmdkit_gtest_main ${ARG_LIBRARIES})
  spmd_set_warnings(${target})
  spmd_precompile_headers(${target} KIND test)
  set(pass_through)
  if(ARG_RANKS)
    list(APPEND pass_through RANKS ${ARG_RANKS})
  endif()
  if(ARG_TIMEOUT)
    list(APPEND pass_through TIMEOUT ${ARG_TIMEOUT})
  endif()
  if(ARG_IO_LAYERS)
    foreach(layer ompio romio321)
      spmd_add_mpi_test(NAME ${ARG_NAME}.${layer} TARGET ${target} ${pass_through}
                        ENVIRONMENT OMPI_MCA_io=${layer} LABELS unit io ${ARG_LABELS})
    endforeach()
  else()
    spmd_add_mpi_test(NAME ${ARG_NAME} TARGET ${target} ${pass_through} LABELS unit ${ARG_LABELS})
  endif()
endfunction()

# spmd_add_gtest(NAME name TARGET exe SOURCES ... [TIMEOUT s])
# A GoogleTest binary of code that needs no MPI (the farm's scheduler, child processes): run as
# it is, no mpirun, label "unit".
function(spmd_add_gtest)
  cmake_parse_arguments(ARG "" "NAME;TARGET;TIMEOUT" "SOURCES" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 60)
  endif()
  add_executable(${ARG_TARGET} ${ARG_SOURCES})
  target_link_libraries(${ARG_TARGET} PRIVATE spmdkit::spmdkit GTest::gtest_main)
  spmd_set_warnings(${ARG_TARGET})
  spmd_precompile_headers(${ARG_TARGET} KIND test)
  add_test(NAME ${ARG_NAME} COMMAND ${ARG_TARGET})
  set_tests_properties(${ARG_NAME} PROPERTIES TIMEOUT ${ARG_TIMEOUT} LABELS unit)
endfunction()

# spmd_add_run_test(NAME name TARGET exe [RANKS ...] [TIMEOUT s] [EXPECT checks...] [ARGS ...])
# An end-to-end run of an app, checked by expect_run.py (timeout default 60 s).
function(spmd_add_run_test)
  cmake_parse_arguments(ARG "" "TIMEOUT" "" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 60)
  endif()
  spmd_add_mpi_test(CHECKED TIMEOUT ${ARG_TIMEOUT} ${ARG_UNPARSED_ARGUMENTS})
endfunction()

# spmd_add_check_script(NAME name SCRIPT file.py [ARGS ...] [TIMEOUT s] [PROCESSORS n]
#                       [COST c] [LABELS ...]): a Python check (run by the Python that has h5py)
# that launches its own jobs: it gets mpiexec as its first argument, then ARGS, and the MPI test
# environment. Exit code 77 means skipped (the script says why). COST: CTest starts costlier
# tests first.
function(spmd_add_check_script)
  cmake_parse_arguments(ARG "" "NAME;SCRIPT;TIMEOUT;PROCESSORS;COST" "ARGS;LABELS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  if(NOT ARG_PROCESSORS)
    set(ARG_PROCESSORS 3)
  endif()
  add_test(NAME ${ARG_NAME}
           COMMAND ${SPMD_PYTHON_WITH_H5PY} ${CMAKE_CURRENT_SOURCE_DIR}/${ARG_SCRIPT}
                   ${MPIEXEC_EXECUTABLE} ${ARG_ARGS})
  set_tests_properties(${ARG_NAME} PROPERTIES TIMEOUT ${ARG_TIMEOUT} PROCESSORS ${ARG_PROCESSORS}
                       SKIP_RETURN_CODE 77 ENVIRONMENT "${SPMD_MPI_TEST_ENVIRONMENT}"
                       LABELS "mpi;${ARG_LABELS}")
  if(ARG_COST)
    set_tests_properties(${ARG_NAME} PROPERTIES COST ${ARG_COST})
  endif()
endfunction()
