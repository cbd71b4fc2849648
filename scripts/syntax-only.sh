#!/bin/sh
# A compiler launcher for translation units that are checked, not built (CMake's
# <LANG>_COMPILER_LAUNCHER; tests/CMakeLists.txt, TENANTRY_TESTS_SYNTAX_ONLY): runs the compile
# command with -fsyntax-only, so every error and warning (-Werror) is reported as in a real
# build, without code generation, then leaves the empty object file the build expects.
#   syntax-only.sh <compiler> <arguments...>
set -eu
out=""
prev=""
for a in "$@"; do
  [ "$prev" = "-o" ] && out="$a"
  prev="$a"
done
"$@" -fsyntax-only
[ -z "$out" ] || : >"$out"
