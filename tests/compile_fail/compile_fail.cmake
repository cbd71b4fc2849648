# Compile-fail tests: each tests/compile_fail/*.cpp must fail to compile with the error its
# first line names ("// expect: <regex>"), proving that misuse (an org-less query on an
# org-scoped entity, a conflict target that is not unique, a member of another struct...) is a
# compile error with a message that says why. ok_control.cpp must compile, which shows the
# harness would notice a file failing for an unrelated reason (its regex matches only success).
file(GLOB compile_fail_sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*.cpp)
foreach(src IN LISTS compile_fail_sources)
  get_filename_component(name ${src} NAME_WE)
  file(STRINGS ${src} first_line LIMIT_COUNT 1)
  string(REGEX REPLACE "^// expect: " "" expected "${first_line}")
  set(include_flags -I${PROJECT_SOURCE_DIR}/include -I${PROJECT_SOURCE_DIR}/tests -I${PROJECT_SOURCE_DIR}/examples)
  foreach(dir IN LISTS Boost_INCLUDE_DIRS SQLite3_INCLUDE_DIRS)
    list(APPEND include_flags -I${dir})
  endforeach()
  if(expected STREQUAL "COMPILES")
    add_test(NAME compile_fail.${name}
      COMMAND ${CMAKE_COMMAND} -E env ${CMAKE_CXX_COMPILER} -std=c++20 -fsyntax-only ${include_flags} ${src})
  else()
    # The compiler's exit status is ignored; the test passes only if the expected message appears.
    add_test(NAME compile_fail.${name}
      COMMAND ${CMAKE_CXX_COMPILER} -std=c++20 -fsyntax-only ${include_flags} ${src})
    set_tests_properties(compile_fail.${name} PROPERTIES PASS_REGULAR_EXPRESSION "${expected}")
  endif()
endforeach()
