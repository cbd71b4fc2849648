#!/usr/bin/env bash
# Build the reference app (Release, g++) in build/app and run its demo on the embedded SQLite
# default. Arguments go to `tenantry-app demo`, e.g. scripts/demo.sh --db sqlite:/tmp/demo.db
set -euo pipefail
cd "$(dirname "$0")/.."

dir=build/app
log="$dir/build.log"

# Fast path: install packages only when the toolchain or a needed header is missing.
have_deps() {
  command -v cmake >/dev/null 2>&1 && command -v g++ >/dev/null 2>&1 &&
    printf '%s\n' '#include <boost/pfr.hpp>' '#include <sqlite3.h>' '#include <libpq-fe.h>' \
      '#include <CLI/CLI.hpp>' '#include <fmt/core.h>' |
    g++ -std=c++20 -E -x c++ -I/usr/include/postgresql - -o /dev/null >/dev/null 2>&1
}
have_deps || scripts/install-deps.sh

mkdir -p "$dir"
echo "demo.sh: building tenantry-app (Release, g++; log: $log)"
if ! {
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++ \
    -DTENANTRY_BUILD_TESTS=OFF -DTENANTRY_BUILD_EXAMPLES=ON
  cmake --build "$dir" --target tenantry-app -j "$(nproc)"
} >"$log" 2>&1; then
  echo "demo.sh: build FAILED; last lines of $log:" >&2
  tail -n 40 "$log" >&2
  exit 1
fi

exec "$dir/examples/tenantry-app" demo "$@"
