# spmd-crawl (included from tests/apps/CMakeLists.txt): a generated site served on 127.0.0.1
# against an independent breadth-first walk, identical at 1-4 ranks; --max-pages; file:// URLs;
# bad seeds; HTTPS with a private CA.
add_test(NAME crawl.site
         COMMAND ${SPMD_PYTHON_WITH_H5PY} ${CMAKE_CURRENT_SOURCE_DIR}/crawl_check.py
                 ${MPIEXEC_EXECUTABLE} $<TARGET_FILE:spmd-crawl>
                 ${CMAKE_CURRENT_BINARY_DIR}/crawl-scratch)
set_tests_properties(crawl.site PROPERTIES TIMEOUT 300 PROCESSORS 4
                     ENVIRONMENT "${SPMD_MPI_TEST_ENVIRONMENT}" LABELS "mpi;app")
add_test(NAME crawl.files
         COMMAND ${SPMD_PYTHON_WITH_H5PY} ${CMAKE_CURRENT_SOURCE_DIR}/crawl_check.py
                 ${MPIEXEC_EXECUTABLE} $<TARGET_FILE:spmd-crawl>
                 ${CMAKE_CURRENT_BINARY_DIR}/crawl-files-scratch --file)
set_tests_properties(crawl.files PROPERTIES TIMEOUT 120 PROCESSORS 3
                     ENVIRONMENT "${SPMD_MPI_TEST_ENVIRONMENT}" LABELS "mpi;app")

spmd_add_run_test(NAME crawl.bad_seed TARGET spmd-crawl RANKS 1 3 TIMEOUT 30
  EXPECT --exit 2 --max-seconds 10 --stderr-count "error:=1"
         --stderr-once "^spmd-crawl: error: seed 'no-such-file\\.html' is neither a URL nor an existing file \\(rank 0\\)$"
  ARGS no-such-file.html --output ${CMAKE_CURRENT_BINARY_DIR}/crawl-bad.h5)
spmd_add_run_test(NAME crawl.unsupported_seed TARGET spmd-crawl RANKS 2 TIMEOUT 30
  EXPECT --exit 2 --max-seconds 10
         --stderr-once "^spmd-crawl: error: seed 'ftp://example\\.org/': only http, https and file URLs are crawled \\(rank 0\\)$"
  ARGS ftp://example.org/ --output ${CMAKE_CURRENT_BINARY_DIR}/crawl-bad.h5)
spmd_add_run_test(NAME crawl.no_seed TARGET spmd-crawl RANKS 2 TIMEOUT 30
  EXPECT --exit 2 --max-seconds 10 --stderr-once "^spmd-crawl: error: urls is required"
  ARGS --output ${CMAKE_CURRENT_BINARY_DIR}/crawl-bad.h5)
# HTTPS with a private CA made by the test (skipped, saying why, without openssl).
add_test(NAME crawl.tls
         COMMAND ${SPMD_PYTHON_WITH_H5PY} ${CMAKE_CURRENT_SOURCE_DIR}/crawl_tls_check.py
                 ${MPIEXEC_EXECUTABLE} $<TARGET_FILE:spmd-crawl>
                 ${CMAKE_CURRENT_BINARY_DIR}/crawl-tls-scratch)
set_tests_properties(crawl.tls PROPERTIES TIMEOUT 180 PROCESSORS 3 SKIP_RETURN_CODE 77
                     ENVIRONMENT "${SPMD_MPI_TEST_ENVIRONMENT}" LABELS "mpi;app")
# file:// scope: no spelling of a link ("%2e%2e/", "..%2f", symbolic links) reads outside the
# seed's directory.
add_test(NAME crawl.file_scope
         COMMAND ${SPMD_PYTHON_WITH_H5PY} ${CMAKE_CURRENT_SOURCE_DIR}/crawl_scope_check.py
                 ${MPIEXEC_EXECUTABLE} $<TARGET_FILE:spmd-crawl>
                 ${CMAKE_CURRENT_BINARY_DIR}/crawl-scope-scratch)
set_tests_properties(crawl.file_scope PROPERTIES TIMEOUT 120 PROCESSORS 3
                     ENVIRONMENT "${SPMD_MPI_TEST_ENVIRONMENT}" LABELS "mpi;app")
# robots.txt as RFC 9309 says: redirects followed (same origin), unreachable disallows all.
add_test(NAME crawl.robots
         COMMAND ${SPMD_PYTHON_WITH_H5PY} ${CMAKE_CURRENT_SOURCE_DIR}/crawl_robots_check.py
                 ${MPIEXEC_EXECUTABLE} $<TARGET_FILE:spmd-crawl>
                 ${CMAKE_CURRENT_BINARY_DIR}/crawl-robots-scratch)
set_tests_properties(crawl.robots PROPERTIES TIMEOUT 180 PROCESSORS 3
                     ENVIRONMENT "${SPMD_MPI_TEST_ENVIRONMENT}" LABELS "mpi;app")
# A hostile site: link flood, endless and huge bodies, a dripping server, huge headers.
add_test(NAME crawl.hostile
         COMMAND ${SPMD_PYTHON_WITH_H5PY} ${CMAKE_CURRENT_SOURCE_DIR}/crawl_hostile_check.py
                 ${MPIEXEC_EXECUTABLE} $<TARGET_FILE:spmd-crawl>
                 ${CMAKE_CURRENT_BINARY_DIR}/crawl-hostile-scratch)
set_tests_properties(crawl.hostile PROPERTIES TIMEOUT 180 PROCESSORS 3
                     ENVIRONMENT "${SPMD_MPI_TEST_ENVIRONMENT}" LABELS "mpi;app")
