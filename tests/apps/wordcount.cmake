# spmd-wordcount (included from tests/apps/CMakeLists.txt): against collections.Counter on a
# generated multilingual corpus at 1-4 ranks; empty corpora.
spmd_add_check_script(NAME wordcount.counter SCRIPT wordcount_check.py
  TIMEOUT 240 PROCESSORS 4 LABELS app
  ARGS $<TARGET_FILE:spmd-wordcount> ${CMAKE_CURRENT_BINARY_DIR}/wordcount-scratch)
spmd_add_run_test(NAME wordcount.missing_path TARGET spmd-wordcount RANKS 1 3 TIMEOUT 30
  EXPECT --exit 2 --max-seconds 10 --stderr-count "error:=1"
         --stderr-once "^spmd-wordcount: error: no readable files in /nonexistent/corpus \\(/nonexistent/corpus: No such file or directory\\) \\(rank 0\\)$"
  ARGS /nonexistent/corpus --output ${CMAKE_CURRENT_BINARY_DIR}/words-bad.h5)
# An exception in a middle stage (tokenise) ends the whole job quickly with one line naming the
# stage, at every layout (fused at 1-2 ranks, one rank per stage at 3, a wide stage at 4).
spmd_add_run_test(NAME wordcount.stage_failure TARGET spmd-wordcount RANKS 1 2 3 4 TIMEOUT 30
  EXPECT --exit 1 --max-seconds 15 --stderr-count "error:=1"
         --stderr-once "^spmd-wordcount: error: pipeline stage '(read\\+)?tokenise(\\+count)?' failed on rank [0-9]: test failure at the word 'spmdkit' \\(rank [0-9]\\)$"
  ARGS ${PROJECT_SOURCE_DIR}/README.md --test-fail-word spmdkit
       --output ${CMAKE_CURRENT_BINARY_DIR}/words-fail.h5)
# Every code point of Unicode against Python's re + str.lower (the tokenizer's tables).
spmd_add_check_script(NAME wordcount.unicode SCRIPT wordcount_unicode_check.py
  TIMEOUT 240 PROCESSORS 3 LABELS app
  ARGS $<TARGET_FILE:spmd-wordcount> ${CMAKE_CURRENT_BINARY_DIR}/wordcount-unicode-scratch ${PROJECT_SOURCE_DIR}/apps/wordcount/unicode_tables.inc)
