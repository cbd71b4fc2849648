# Compile-fail tests: each tests/compile_fail/*.cpp must fail to compile with the error its
# first line names ("// expect: <regex>"), proving that misuse (an org-less query on an
# org-scoped entity, a conflict target that is not unique, a member of another struct...) is a
# compile error with a message that says why. ok_control.cpp must compile, which shows the
# harness would notice a file failing for an unrelated reason (its regex matches only success).
#
# Each runs check.cmake with g++ or clang++ (whichever builds the tests): the rule must be stated
# once, and the output reports the diagnostic's length and first error line.
file(GLOB compile_fail_sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*.cpp)
set(compile_fail_flags -I${PROJECT_SOURCE_DIR}/include -I${PROJECT_SOURCE_DIR}/tests -I${PROJECT_SOURCE_DIR}/examples)
foreach(dir IN LISTS Boost_INCLUDE_DIRS SQLite3_INCLUDE_DIRS PostgreSQL_INCLUDE_DIRS)
  list(APPEND compile_fail_flags -I${dir})
endforeach()
foreach(src IN LISTS compile_fail_sources)
  get_filename_component(name ${src} NAME_WE)
  add_test(NAME compile_fail.${name}
    COMMAND ${CMAKE_COMMAND} -DCXX=${CMAKE_CXX_COMPILER} -DSOURCE=${src} "-DFLAGS=${compile_fail_flags}"
            -P ${CMAKE_CURRENT_LIST_DIR}/check.cmake)
endforeach()
