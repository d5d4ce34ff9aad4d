# spmd-crawl (included from tests/apps/CMakeLists.txt): a generated site served on 127.0.0.1
# against an independent breadth-first walk, identical at 1-4 ranks; --max-pages; file:// URLs;
# bad seeds; HTTPS with a private CA.
spmd_add_check_script(NAME crawl.site SCRIPT crawl_check.py TIMEOUT 300 PROCESSORS 4 LABELS app
  ARGS $<TARGET_FILE:spmd-crawl> ${CMAKE_CURRENT_BINARY_DIR}/crawl-scratch)
spmd_add_check_script(NAME crawl.files SCRIPT crawl_check.py TIMEOUT 120 PROCESSORS 3 LABELS app
  ARGS $<TARGET_FILE:spmd-crawl> ${CMAKE_CURRENT_BINARY_DIR}/crawl-files-scratch --file)

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
spmd_add_check_script(NAME crawl.tls SCRIPT crawl_tls_check.py TIMEOUT 180 PROCESSORS 3 LABELS app
  ARGS $<TARGET_FILE:spmd-crawl> ${CMAKE_CURRENT_BINARY_DIR}/crawl-tls-scratch)
# file:// scope: no spelling of a link ("%2e%2e/", "..%2f", symbolic links) reads outside the
# seed's directory.
spmd_add_check_script(NAME crawl.file_scope SCRIPT crawl_scope_check.py
  TIMEOUT 120 PROCESSORS 3 LABELS app
  ARGS $<TARGET_FILE:spmd-crawl> ${CMAKE_CURRENT_BINARY_DIR}/crawl-scope-scratch)
# robots.txt as RFC 9309 says: redirects followed (same origin), unreachable disallows all.
spmd_add_check_script(NAME crawl.robots SCRIPT crawl_robots_check.py
  TIMEOUT 180 PROCESSORS 3 LABELS app
  ARGS $<TARGET_FILE:spmd-crawl> ${CMAKE_CURRENT_BINARY_DIR}/crawl-robots-scratch)
# A hostile site: link flood, endless and huge bodies, a dripping server, huge headers.
spmd_add_check_script(NAME crawl.hostile SCRIPT crawl_hostile_check.py
  TIMEOUT 180 PROCESSORS 3 LABELS app
  ARGS $<TARGET_FILE:spmd-crawl> ${CMAKE_CURRENT_BINARY_DIR}/crawl-hostile-scratch)
