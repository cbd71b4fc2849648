#!/usr/bin/env bash
# The documented load figures of docs/service.md: three long runs of scripts/service-load.sh with a
# Release build of tenantry-service (SQLite with one replica; PostgreSQL with three; PostgreSQL with
# three and replica 2 killed half-way), the Markdown table in build/load/report.md and the chart
# docs/service.png (gnuplot).
#   DURATION=20 CONNECTIONS=20 scripts/service-figures.sh
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${DURATION:-20}" connections="${CONNECTIONS:-20}"
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
if [[ -z "${SERVICE_BIN:-}" ]]; then
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -S . -B build/rel -DCMAKE_BUILD_TYPE=Release -DTENANTRY_BUILD_TESTS=OFF "${launcher[@]}" >/dev/null
  cmake --build build/rel -j "${TENANTRY_JOBS:-2}" --target tenantry-service
  export SERVICE_BIN="$PWD/build/rel/examples/tenantry-service"
fi
mkdir -p build/load
report=build/load/report.md
: >"$report"
scripts/service-load.sh --backend sqlite --replicas 1 --duration "$duration" --connections "$connections" --report "$report"
scripts/service-load.sh --backend postgres --replicas 3 --duration "$duration" --connections "$connections" --report "$report"
scripts/service-load.sh --backend postgres --replicas 3 --duration "$duration" --connections "$connections" --kill-one \
  --report "$report"
scripts/load/service-chart.sh "$report" docs/service.png
cat "$report"
