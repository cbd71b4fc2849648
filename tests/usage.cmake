# headers.usage (CTest): the usage example at the top of each public header that has one
# compiles. The example is the first run of comment lines indented by three spaces ("//   "),
# up to the first line of prose; it is compiled with tests/usage/prelude.hpp (the whole library,
# `using namespace tenantry`, and the entities Organization, ApiToken, Widget) inside a function
# whose parameters give it `org`, `token`, `uid`, `url`, `db` and `tokens`; an example that
# starts with a declaration (struct, template, enum) is compiled at namespace scope instead.
#   cmake -DSOURCE_DIR=<tenantry source> -DBINARY_DIR=<scratch dir> -DCXX=<compiler>
#         "-DINCLUDES=<dir>;<dir>..." -P tests/usage.cmake
cmake_minimum_required(VERSION 3.22)

foreach(var SOURCE_DIR BINARY_DIR CXX)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "usage: -D${var}=... is required")
  endif()
endforeach()

# The headers whose first indented block is code (the others hold tables: URL forms, type
# mappings, the exception tree). Adding an example to a header means adding it here.
set(headers
  tenantry/database.hpp tenantry/ddl.hpp tenantry/entity.hpp tenantry/migrate.hpp tenantry/org_schema.hpp
  tenantry/pool.hpp tenantry/query.hpp tenantry/repository.hpp tenantry/version.hpp
  tenantry/driver/transaction.hpp)

set(flags -std=c++20 -fsyntax-only -Wall -Wextra -Werror -Wno-unused-variable -Wno-unused-but-set-variable
  -I${SOURCE_DIR}/include -I${SOURCE_DIR}/tests)
foreach(dir IN LISTS INCLUDES)
  if(NOT dir STREQUAL "" AND NOT dir MATCHES "^/usr(/local)?/include/?$")
    list(APPEND flags -isystem ${dir})
  endif()
endforeach()

file(MAKE_DIRECTORY ${BINARY_DIR})
set(failed "")
foreach(h IN LISTS headers)
  file(STRINGS ${SOURCE_DIR}/include/${h} lines)
  set(code "")
  set(in_block OFF)
  foreach(line IN LISTS lines)
    if(line MATCHES "^#pragma once")
      break()
    endif()
    if(line MATCHES "^//   (.*)$")
      set(in_block ON)
      string(APPEND code "${CMAKE_MATCH_1}\n")
    elseif(in_block AND line STREQUAL "//")
      string(APPEND code "\n")
    elseif(in_block)
      break()
    endif()
  endforeach()
  if(code STREQUAL "")
    list(APPEND failed ${h})
    message("usage: ${h} has no usage example (a block of '//   ' lines at the top)")
    continue()
  endif()
  string(MAKE_C_IDENTIFIER "${h}" id)
  set(tu ${BINARY_DIR}/${id}.cpp)
  if(code MATCHES "^(struct|template|enum|class) ")
    file(WRITE ${tu} "#define TENANTRY_USAGE_OWN_ENTITIES 1\n#include \"usage/prelude.hpp\"\n#include <${h}>\n"
      "using namespace tenantry;\n// ---- the example in ${h}\n${code}")
  else()
    file(WRITE ${tu} "#include \"usage/prelude.hpp\"\n#include <${h}>\n"
      "[[maybe_unused]] void usage_example([[maybe_unused]] tenantry::OrgId org, [[maybe_unused]] ApiToken token,\n"
      "    [[maybe_unused]] std::string uid, [[maybe_unused]] std::string url, [[maybe_unused]] tenantry::Database& db,\n"
      "    [[maybe_unused]] tenantry::Repository<ApiToken, tenantry::SqliteDialect>& tokens) {\n"
      "  using namespace tenantry;\n  {\n// ---- the example in ${h}\n${code}\n  }\n}\n")
  endif()
  execute_process(COMMAND ${CXX} ${flags} ${tu} RESULT_VARIABLE rv OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rv EQUAL 0)
    list(APPEND failed ${h})
    message("usage: the example at the top of ${h} does not compile (${tu}):\n${out}")
  endif()
endforeach()
list(LENGTH headers n)
if(failed)
  list(JOIN failed ", " text)
  message(FATAL_ERROR "usage: FAILED: ${text}")
endif()
message(STATUS "usage: the examples of all ${n} headers compile")
