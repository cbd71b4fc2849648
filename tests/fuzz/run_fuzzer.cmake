# One bounded libFuzzer run (ctest fuzz.<target>): -DFUZZER -DTARGET -DSOURCE -DWORK -DSECONDS.
# New inputs go to WORK/corpus, never into the checked-in corpus; a crash input is written to
# WORK/ and reported with the command that keeps it as a regression test.
file(MAKE_DIRECTORY ${WORK}/corpus)
execute_process(
  COMMAND ${FUZZER} -max_total_time=${SECONDS} -timeout=10 -rss_limit_mb=2048 -max_len=4096
          -print_final_stats=1 -artifact_prefix=${WORK}/
          ${WORK}/corpus ${SOURCE}/corpus/${TARGET} ${SOURCE}/regressions/${TARGET}
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "fuzz target '${TARGET}' found a failing input (exit ${rc}); it is in ${WORK}/ "
                      "(crash-*, leak-*, timeout-*). Fix the library, then keep the input: "
                      "cp ${WORK}/crash-<hash> ${SOURCE}/regressions/${TARGET}/")
endif()
