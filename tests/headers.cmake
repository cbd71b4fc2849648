# headers.self_contained (CTest): every public header compiles on its own, included twice (so
# it includes what it uses and is guarded), warning-free:
#   cmake -DSOURCE_DIR=<tenantry source> -DBINARY_DIR=<scratch dir> -DCXX=<compiler>
#         "-DINCLUDES=<dir>;<dir>..." -P tests/headers.cmake
# Syntax only (-fsyntax-only): a header's templates are checked as far as a compiler checks
# templates that nothing instantiates; the test executables instantiate them.
cmake_minimum_required(VERSION 3.22)

foreach(var SOURCE_DIR BINARY_DIR CXX)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "headers: -D${var}=... is required")
  endif()
endforeach()

set(flags -std=c++20 -fsyntax-only -Wall -Wextra -Wpedantic -Werror -I${SOURCE_DIR}/include)
foreach(dir IN LISTS INCLUDES)
  # The compiler's own directories stay where they are (-isystem /usr/include breaks #include_next).
  if(NOT dir STREQUAL "" AND NOT dir MATCHES "^/usr(/local)?/include/?$")
    list(APPEND flags -isystem ${dir})
  endif()
endforeach()

file(GLOB_RECURSE headers RELATIVE ${SOURCE_DIR}/include ${SOURCE_DIR}/include/tenantry/*.hpp)
list(SORT headers)
file(MAKE_DIRECTORY ${BINARY_DIR})
set(failed "")
foreach(h IN LISTS headers)
  string(MAKE_C_IDENTIFIER "${h}" id)
  set(tu ${BINARY_DIR}/${id}.cpp)
  file(WRITE ${tu} "#include <${h}>\n#include <${h}>  // twice: guarded\n")
  execute_process(COMMAND ${CXX} ${flags} ${tu} RESULT_VARIABLE rv OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rv EQUAL 0)
    list(APPEND failed ${h})
    message("headers: ${h} does not compile on its own:\n${out}")
  endif()
endforeach()
list(LENGTH headers n)
if(failed)
  list(JOIN failed ", " text)
  message(FATAL_ERROR "headers: FAILED: not self-contained: ${text}")
endif()
message(STATUS "headers: all ${n} public headers compile on their own")
