# One compile-fail test (compile_fail.cmake registers one per file):
#   cmake -DCXX=<compiler> -DCXX_ID=<GNU|Clang> -DSOURCE=<file.cpp> "-DFLAGS=<flags>" -DPCH=<pch.hpp|OFF> -P check.cmake
# The file's first line is "// expect: <regex>" or "// expect: COMPILES". A file that must fail
# passes when the compilation fails, the regex appears in an error line (or, for clang++, which
# puts a failed consteval call's function name in a note, a note line), and in no more than one
# error line: the rule is stated once, not once per instantiation (a duplicate would mean two
# dialects, or two overloads, each report it). A second line "// repeats: <why>" lets a file
# whose error comes from outside tenantry (Boost.PFR) match more than once; "// errors: N"
# requires exactly N error lines (1: the rule and nothing else). The test output
# reports the diagnostic's length (lines, bytes) and its first error line.
cmake_minimum_required(VERSION 3.22)
file(STRINGS ${SOURCE} head_lines LIMIT_COUNT 2)
list(GET head_lines 0 first_line)
list(GET head_lines -1 second_line)
string(REGEX REPLACE "^// expect: " "" expected "${first_line}")
# The diagnostics are matched with every ';' turned into ',' (below); the rule's text gets the same.
string(REPLACE ";" "," expected "${expected}")
get_filename_component(name ${SOURCE} NAME_WE)
# PCH: pch.cmake's header (compile_fail.pch), or OFF. Only the library's headers are in it.
set(pch_flags "")
if(PCH)
  if(CXX_ID STREQUAL "Clang")
    set(pch_flags -include-pch ${PCH}.pch)
  else()
    set(pch_flags -include ${PCH} -Winvalid-pch)
  endif()
endif()
execute_process(COMMAND ${CXX} -std=c++20 -fsyntax-only ${FLAGS} ${pch_flags} ${SOURCE}
  RESULT_VARIABLE rv OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(expected STREQUAL "COMPILES")
  if(NOT rv EQUAL 0)
    message(FATAL_ERROR "compile_fail.${name}: must compile, but:\n${out}")
  endif()
  message(STATUS "compile_fail.${name}: compiles")
  return()
endif()
if(rv EQUAL 0)
  message(FATAL_ERROR "compile_fail.${name}: compiled, but must fail with '${expected}'")
endif()
string(LENGTH "${out}" bytes)
string(REGEX MATCHALL "\n" newlines "${out}")
list(LENGTH newlines lines)

# Diagnostic lines only (errors and their notes), not the source lines the compiler quotes. The
# compilers differ in where the rule lands: g++ puts a static_assert's text or a consteval
# failure's function name in the error, clang++ the latter in a note. (';' and brackets would
# split or group CMake list items: they are replaced first.)
string(REPLACE ";" "," text "${out}")
string(REPLACE "[" "(" text "${text}")
string(REPLACE "]" ")" text "${text}")
string(REPLACE "\n" ";" all_lines "${text}")
set(errors "")
set(matching 0)        # error lines stating the rule
set(matching_notes 0)  # note lines stating it
foreach(line IN LISTS all_lines)
  if(line MATCHES ": (fatal error|error): ")
    list(APPEND errors "${line}")
    if(line MATCHES "${expected}")
      math(EXPR matching "${matching} + 1")
    endif()
  elseif(line MATCHES ": note: " AND line MATCHES "${expected}")
    math(EXPR matching_notes "${matching_notes} + 1")
  endif()
endforeach()
list(LENGTH errors n_errors)
set(first "")
if(n_errors GREATER 0)
  list(GET errors 0 first)
endif()
message(STATUS "compile_fail.${name}: ${lines} diagnostic lines, ${bytes} bytes, ${n_errors} error(s); first: ${first}")
if(matching EQUAL 0 AND matching_notes EQUAL 0)
  message(FATAL_ERROR "compile_fail.${name}: no error (or note) says '${expected}':\n${out}")
endif()
if(second_line MATCHES "^// errors: ([0-9]+)" AND NOT n_errors EQUAL CMAKE_MATCH_1)
  message(FATAL_ERROR "compile_fail.${name}: ${n_errors} errors, expected ${CMAKE_MATCH_1} (the rule alone):\n${out}")
endif()
if(matching GREATER 1 AND NOT second_line MATCHES "^// repeats: ")
  message(FATAL_ERROR "compile_fail.${name}: the rule is reported ${matching} times, not once:\n${out}")
endif()
