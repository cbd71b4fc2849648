#!/bin/sh
# headers.usage (CTest): the usage example at the top of each public header that has one
# compiles. The example is the first run of comment lines indented by three spaces ("//   "),
# up to the first line of prose. The examples are compiled together with
# tests/usage/prelude.hpp (the whole library, `using namespace tenantry`, and the entities
# Organization, ApiToken and Widget), each inside a function whose parameters give it `org`,
# `token`, `uid`, `url`, `db` and `tokens`, behind a #line directive, so an error names the
# header and line of the example. An example that starts with a declaration (struct, template,
# enum) is compiled at namespace scope in a file of its own (it brings its own ApiToken).
#   sh tests/usage.sh SOURCE_DIR BINARY_DIR CXX [INCLUDE_DIR...]
set -eu
src=$1
out=$2
cxx=$3
shift 3
# The headers whose first indented block is code (the others hold tables: URL forms, type
# mappings, the exception tree). Adding an example to a header means adding it here.
headers="tenantry/database.hpp tenantry/ddl.hpp tenantry/entity.hpp tenantry/migrate.hpp tenantry/org_schema.hpp
  tenantry/pool.hpp tenantry/query.hpp tenantry/repository.hpp tenantry/version.hpp tenantry/driver/transaction.hpp
  tenantry/conflict.hpp tenantry/statements.hpp tenantry/sql_types.hpp tenantry/seeds.hpp tenantry/entity_printer.hpp
  tenantry/observe.hpp"

flags="-std=c++20 -fsyntax-only -Wall -Wextra -Werror -Wno-unused-variable -Wno-unused-but-set-variable"
incs="-I$src/include -I$src/tests"
for d in "$@"; do
  case "$d" in "" | /usr/include | /usr/include/ | /usr/local/include) ;; *) incs="$incs -isystem $d" ;; esac
done

rm -rf "$out"
mkdir -p "$out"
together="$out/examples.cpp"
printf '#include "usage/prelude.hpp"\n' >"$together"
failed=""
n=0
for h in $headers; do
  n=$((n + 1))
  file="$src/include/$h"
  # "LINE<tab>code" for each line of the example; blank comment lines inside it are kept.
  block=$(awk '
    /^#pragma once/ { exit }
    /^\/\/   / { started = 1; printf "%d\t%s\n", NR, substr($0, 6); next }
    started && /^\/\/$/ { printf "%d\t\n", NR; next }
    started { exit }
  ' "$file")
  if [ -z "$block" ]; then
    echo "usage: $h has no usage example (a block of '//   ' lines at the top)" >&2
    failed="$failed $h"
    continue
  fi
  first_line=$(printf '%s\n' "$block" | head -n 1 | cut -f1)
  code=$(printf '%s\n' "$block" | cut -f2-)
  id=$(printf '%s' "$h" | tr '/.' '__')
  case "$code" in
    struct\ * | template\ * | enum\ * | class\ *)
      tu="$out/$id.cpp"
      {
        printf '#define TENANTRY_USAGE_OWN_ENTITIES 1\n#include "usage/prelude.hpp"\n#include <%s>\n' "$h"
        printf 'using namespace tenantry;\n#line %s "%s"\n%s\n' "$first_line" "$file" "$code"
      } >"$tu"
      # shellcheck disable=SC2086
      "$cxx" $flags $incs "$tu" || failed="$failed $h"
      ;;
    *)
      {
        printf '#line 1 "usage glue for %s"\n#include <%s>\n' "$h" "$h"
        printf '[[maybe_unused]] void usage_%s([[maybe_unused]] tenantry::OrgId org, [[maybe_unused]] ApiToken token,\n' "$id"
        printf '    [[maybe_unused]] std::string uid, [[maybe_unused]] std::string url, [[maybe_unused]] tenantry::Database& db,\n'
        printf '    [[maybe_unused]] tenantry::Repository<ApiToken, tenantry::SqliteDialect>& tokens) {\n'
        printf '  using namespace tenantry;\n  {  // the example may declare its own db, tokens...\n#line %s "%s"\n%s\n  }\n}\n' \
          "$first_line" "$file" "$code"
      } >>"$together"
      ;;
  esac
done
# shellcheck disable=SC2086
"$cxx" $flags $incs "$together" || failed="$failed (see the errors above: they name the header and line)"
if [ -n "$failed" ]; then
  echo "usage: FAILED:$failed" >&2
  exit 1
fi
echo "usage: the examples of all $n headers compile"
