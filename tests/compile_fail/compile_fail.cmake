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
# Parsing the library dominates each check: compile_fail.pch precompiles the headers the files
# include (pch.hpp) once per run, with the same flags, and every check starts from it (a CTest
# fixture, so `ctest -R compile_fail.x` builds it too). -DTENANTRY_COMPILE_FAIL_PCH=OFF: without.
option(TENANTRY_COMPILE_FAIL_PCH "Compile-fail checks start from a precompiled header (pch.hpp)" ON)
set(compile_fail_pch OFF)
if(TENANTRY_COMPILE_FAIL_PCH)
  set(compile_fail_pch ${CMAKE_CURRENT_BINARY_DIR}/compile_fail_pch/pch.hpp)
  add_test(NAME compile_fail.pch
    COMMAND ${CMAKE_COMMAND} -DCXX=${CMAKE_CXX_COMPILER} -DCXX_ID=${CMAKE_CXX_COMPILER_ID}
            -DHEADER=${CMAKE_CURRENT_LIST_DIR}/pch.hpp -DOUT=${CMAKE_CURRENT_BINARY_DIR}/compile_fail_pch
            "-DFLAGS=${compile_fail_flags}" -P ${CMAKE_CURRENT_LIST_DIR}/pch.cmake)
  set_tests_properties(compile_fail.pch PROPERTIES FIXTURES_SETUP compile_fail_pch)
endif()
foreach(src IN LISTS compile_fail_sources)
  get_filename_component(name ${src} NAME_WE)
  add_test(NAME compile_fail.${name}
    COMMAND ${CMAKE_COMMAND} -DCXX=${CMAKE_CXX_COMPILER} -DCXX_ID=${CMAKE_CXX_COMPILER_ID} -DSOURCE=${src}
            "-DFLAGS=${compile_fail_flags}" -DPCH=${compile_fail_pch} -P ${CMAKE_CURRENT_LIST_DIR}/check.cmake)
  if(compile_fail_pch)
    set_tests_properties(compile_fail.${name} PROPERTIES FIXTURES_REQUIRED compile_fail_pch)
  endif()
endforeach()
