# spmd-pi (included from tests/apps/CMakeLists.txt): the same bits at 1-4 ranks (the estimate's
# hex form, and h5diff of the convergence table), statistically right, bad input refused.
set(pi_outputs)
foreach(n 1 2 3 4)
  spmd_add_run_test(NAME pi.identical TARGET spmd-pi RANKS ${n} TIMEOUT 60
    EXPECT --json status=ok --json hits=1571497 --json estimate_hex=0x1.924d79107c26dp+1
    ARGS --samples 2000003 --seed 1 --json --output ${CMAKE_CURRENT_BINARY_DIR}/pi-${n}.h5)
  set_tests_properties(pi.identical.np${n} PROPERTIES FIXTURES_SETUP pi_${n})
  list(APPEND pi_outputs ${CMAKE_CURRENT_BINARY_DIR}/pi-${n}.h5)
endforeach()
foreach(n 2 3 4)
  add_test(NAME pi.identical.h5diff.np${n}
           COMMAND ${SPMD_H5DIFF} ${CMAKE_CURRENT_BINARY_DIR}/pi-1.h5
                   ${CMAKE_CURRENT_BINARY_DIR}/pi-${n}.h5 /convergence /convergence)
  set_tests_properties(pi.identical.h5diff.np${n} PROPERTIES LABELS app
                       FIXTURES_REQUIRED "pi_1;pi_${n}")
endforeach()
spmd_add_run_test(NAME pi.ball5 TARGET spmd-pi RANKS 3 TIMEOUT 60
  EXPECT --json status=ok --json dims=5
  ARGS --dims 5 --samples 400000 --seed 3 --json --output ${CMAKE_CURRENT_BINARY_DIR}/pi-ball5.h5)
set_tests_properties(pi.ball5.np3 PROPERTIES FIXTURES_SETUP pi_ball5)
add_test(NAME pi.statistics
         COMMAND ${SPMD_PYTHON_WITH_H5PY} ${CMAKE_CURRENT_SOURCE_DIR}/pi_check.py ${pi_outputs}
                 ${CMAKE_CURRENT_BINARY_DIR}/pi-ball5.h5)
set_tests_properties(pi.statistics PROPERTIES LABELS app
                     FIXTURES_REQUIRED "pi_1;pi_2;pi_3;pi_4;pi_ball5")
spmd_add_run_test(NAME pi.bad_samples TARGET spmd-pi RANKS 1 2 TIMEOUT 30
  EXPECT --exit 2 --max-seconds 10 --stderr-count "error:=1"
         --stderr-once "^spmd-pi: error: --samples: must be a positive integer, got 0 .*\\(rank 0\\)$"
  ARGS --samples 0 --output ${CMAKE_CURRENT_BINARY_DIR}/pi-bad.h5)
spmd_add_run_test(NAME pi.bad_dims TARGET spmd-pi RANKS 2 TIMEOUT 30
  EXPECT --exit 2 --max-seconds 10 --stderr-once "^spmd-pi: error: --dims: Value 30 not in range"
  ARGS --dims 30 --output ${CMAKE_CURRENT_BINARY_DIR}/pi-bad.h5)
