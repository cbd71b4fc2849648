#!/usr/bin/env bash
# The benchmark suite: builds it (Release, -O2), starts PostgreSQL via scripts/pg.sh when the libpq
# driver exists, runs tenantry against hand-written sqlite3_* / libpq code, measures instruction
# counts under callgrind and the compile cost of the reference app's repositories, and renders
# docs/benchmarks.md and docs/benchmarks.png (see benchmarks/CMakeLists.txt for the binaries).
#
#   scripts/bench.sh                full run; writes build/bench/*.json and docs/benchmarks.{md,png}
#   scripts/bench.sh --quick        smoke run (tiny --benchmark_min_time, one repetition, no
#                                   valgrind, no compile timing); renders into build/bench/ only
# Options:
#   --reps N            repetitions per benchmark (default 10); medians are reported
#   --min-time S        --benchmark_min_time of each repetition, seconds (default 0.2)
#   --filter REGEX      --benchmark_filter for both binaries, e.g. 'sqlite_memory/(find|set)/'
#   --no-pg             SQLite only
#   --no-callgrind      skip the instruction counts (valgrind)
#   --no-compile-cost   skip timing the compile_cost.cpp translation unit
#   --compile-base REV  also time compile_cost.cpp as it was at REV, in the same run (default
#                       8472f5f, the commit the performance issue's work started from; "none" skips)
#   --no-build          use the binaries already in build/bench-release
#   --out DIR           where results go (default build/bench)
#   --docs DIR          where the report goes (default docs/; build/bench/ with --quick)
# Environment: TENANTRY_PG_URL and TENANTRY_PG_SOCKET_DIR select a running server instead of
# scripts/pg.sh (which is started, and stopped afterwards, when it is not already running);
# CXX / TENANTRY_BENCH_CLANG name the compilers (default g++ and clang++).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

quick=0 reps=10 min_time=0.2 filter="" use_pg=1 use_callgrind=1 use_compile=1 build=1
out="build/bench" docs="" compile_base=8472f5f
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) quick=1 ;;
    --reps) reps="$2"; shift ;;
    --min-time) min_time="$2"; shift ;;
    --filter) filter="$2"; shift ;;
    --no-pg) use_pg=0 ;;
    --no-callgrind) use_callgrind=0 ;;
    --no-compile-cost) use_compile=0 ;;
    --compile-base) compile_base="$2"; shift ;;
    --no-build) build=0 ;;
    --out) out="$2"; shift ;;
    --docs) docs="$2"; shift ;;
    -h | --help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [[ $quick == 1 ]]; then
  use_callgrind=0
  use_compile=0
  docs="${docs:-$out}"
fi
docs="${docs:-docs}"
cxx="${CXX:-g++}"
clang="${TENANTRY_BENCH_CLANG:-clang++}"
bdir="build/bench-release"
cxx_flags="-O2 -g -DNDEBUG"  # -g changes no generated code; it lets callgrind name source lines
have_pg_driver=0
[[ -f include/tenantry/driver/postgres.hpp ]] && have_pg_driver=1
[[ $have_pg_driver == 0 ]] && use_pg=0

mkdir -p "$out" "$docs"
# Results of the parts that run now are replaced; the others are kept (and reported) as they were.
rm -f "$out"/sqlite.json "$out"/stream.txt
[[ $use_pg == 1 ]] && rm -f "$out"/pg.json "$out"/pg_counts.json "$out"/rls_plans.txt
[[ $use_callgrind == 1 ]] && rm -f "$out"/callgrind.json
[[ $use_compile == 1 ]] && rm -f "$out"/compile_cost.json
load_at_start="$(cut -d' ' -f1-3 /proc/loadavg)"
loads=""  # "phase: 1-, 5- and 15-minute load averages" after each phase, for the report
note_load() { loads+="${loads:+; }$1: $(cut -d' ' -f1-3 /proc/loadavg)"; }
library="$(git rev-parse --short HEAD 2>/dev/null || echo '?')"
library+=" (include/ as of $(git log -1 --format=%h -- include 2>/dev/null || echo '?'))"
git diff --quiet HEAD -- include 2>/dev/null || library+=" with uncommitted changes in include/"

# ---- build -------------------------------------------------------------------------------------
if [[ $build == 1 ]]; then
  echo "bench.sh: building ($bdir, Release, $cxx_flags)"
  compiler_arg=()  # only on the first configure: changing it later makes CMake drop the cache
  [[ -f "$bdir/CMakeCache.txt" ]] || compiler_arg=(-DCMAKE_CXX_COMPILER="$(command -v "$cxx")")
  cmake -S . -B "$bdir" -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=$cxx_flags" "${compiler_arg[@]}" \
    -DTENANTRY_BUILD_BENCHMARKS=ON -DTENANTRY_BUILD_TESTS=OFF -DTENANTRY_BUILD_EXAMPLES=OFF \
    >"$out/cmake.log" 2>&1 || { tail -n 30 "$out/cmake.log" >&2; exit 1; }
  targets=(tenantry-bench-sqlite tenantry-bench-callgrind tenantry-bench-compile-cost)
  [[ $have_pg_driver == 1 ]] && targets+=(tenantry-bench-pg tenantry-bench-stream)
  cmake --build "$bdir" -j"$(nproc)" --target "${targets[@]}" >"$out/build.log" 2>&1 ||
    { tail -n 40 "$out/build.log" >&2; exit 1; }
fi
bin="$bdir/benchmarks"

# ---- PostgreSQL --------------------------------------------------------------------------------
# Without TENANTRY_PG_URL: a cluster of the benchmarks' own (scripts/pg.sh on port 54339, or
# TENANTRY_BENCH_PG_PORT), not the shared test server: other engineers' tests stay off it, and it
# preloads pg_stat_statements, which counts the statements each operation runs (pg_counts.hpp).
pg_server="n/a"
if [[ $use_pg == 1 && -z "${TENANTRY_PG_URL:-}" ]]; then
  TENANTRY_PG_PORT="${TENANTRY_BENCH_PG_PORT:-54339}"
  TENANTRY_PG_DIR="/tmp/tenantry-pg-bench-$TENANTRY_PG_PORT"
  TENANTRY_PG_PRELOAD=pg_stat_statements
  export TENANTRY_PG_PORT TENANTRY_PG_DIR TENANTRY_PG_PRELOAD
  if scripts/pg.sh status >/dev/null 2>&1; then
    echo "bench.sh: reusing the benchmark cluster already running on port $TENANTRY_PG_PORT (left running)"
  else
    trap 'scripts/pg.sh stop >/dev/null 2>&1 || true' EXIT
    trap 'exit 130' INT TERM
    scripts/pg.sh start
  fi
  TENANTRY_PG_URL="$(scripts/pg.sh url)"
  TENANTRY_PG_SOCKET_DIR="$(scripts/pg.sh socket)"
  export TENANTRY_PG_URL TENANTRY_PG_SOCKET_DIR
fi
if [[ $use_pg == 1 ]]; then
  pg_server="PostgreSQL $(psql "$TENANTRY_PG_URL" -Atc 'show server_version' 2>/dev/null || echo '?')"
fi

# ---- benchmarks --------------------------------------------------------------------------------
gbench=(--benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true)
if [[ $quick == 1 ]]; then
  gbench=(--quick)
  gbench_desc="--quick (one repetition, --benchmark_min_time=0.002)"
else
  gbench+=(--benchmark_repetitions="$reps" --benchmark_min_time="$min_time")
  gbench_desc="--benchmark_repetitions=$reps --benchmark_min_time=$min_time --benchmark_enable_random_interleaving=true"
fi
[[ -n "$filter" ]] && gbench+=(--benchmark_filter="$filter")

echo "bench.sh: SQLite ($gbench_desc)"
"$bin/tenantry-bench-sqlite" "${gbench[@]}" --bench-dir="$out/tmp" \
  --benchmark_out="$out/sqlite.json" --benchmark_out_format=json
note_load "after SQLite"
if [[ $use_pg == 1 ]]; then
  echo "bench.sh: PostgreSQL ($pg_server)"
  TENANTRY_BENCH_RLS_PLANS="$out/rls_plans.txt" \
    "$bin/tenantry-bench-pg" "${gbench[@]}" --benchmark_out="$out/pg.json" --benchmark_out_format=json
  note_load "after PostgreSQL"
fi

# ---- PostgreSQL round trips and statements per operation (pg_counts.hpp) -----------------------
if [[ $use_pg == 1 ]]; then
  counts_n=200
  [[ $quick == 1 ]] && counts_n=10
  echo "bench.sh: PostgreSQL round trips and statements, $counts_n calls per operation"
  "$bin/tenantry-bench-callgrind" --dialect=pg --op=all --n="$counts_n" --counts="$out/pg_counts.json"
fi

# ---- streaming memory ----------------------------------------------------------------------------
# Peak memory of reading 1,000,000 rows with for_each_row against fetch() (benchmarks/stream_rss.cpp).
stream_rows=1000000
[[ $quick == 1 ]] && stream_rows=20000
if [[ -x "$bin/tenantry-bench-stream" ]]; then
  stream_dialect=both
  [[ $use_pg == 0 ]] && stream_dialect=sqlite
  echo "bench.sh: streaming memory, $stream_rows rows ($stream_dialect)"
  "$bin/tenantry-bench-stream" --rows="$stream_rows" --dialect="$stream_dialect" --bench-dir="$out/tmp" |
    tee "$out/stream.txt"
fi

# ---- instruction counts ------------------------------------------------------------------------
if [[ $use_callgrind == 1 ]]; then
  dialects=(sqlite)
  [[ $use_pg == 1 ]] && dialects+=(pg)
  for d in "${dialects[@]}"; do
    n=2000
    [[ $d == pg ]] && n=500
    target=sqlite_memory
    [[ $d == pg ]] && target=pg_socket
    cgdir="$out/callgrind/$d"
    rm -rf "$cgdir"
    mkdir -p "$cgdir"
    echo "bench.sh: callgrind, $d, $n calls per operation"
    valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file="$cgdir/callgrind.out.%p" \
      "$bin/tenantry-bench-callgrind" --dialect="$d" --side=both --op=all --n="$n" >"$cgdir/run.log" 2>&1 ||
      { tail -n 20 "$cgdir/run.log" >&2; exit 1; }
    python3 benchmarks/bench_report.py callgrind "$cgdir" "$target" "$n" "$out/callgrind.json"
  done
  note_load "after callgrind"
elif [[ $quick == 1 ]]; then
  # No valgrind in quick mode, but the driver must still run.
  "$bin/tenantry-bench-callgrind" --dialect=sqlite --side=both --op=all --n=100 >/dev/null
fi

# ---- compile cost ------------------------------------------------------------------------------
if [[ $use_compile == 1 ]]; then
  cc_runs=3
  mkdir -p "$out/compile"
  # The TU of this checkout and, when its history holds it, the same TU at $compile_base (its
  # library, app and compile_cost.cpp, from git archive), compiled alternately with the same flags:
  # the before/after of the compile-cost target comes from one run on one machine.
  sources=("$(git rev-parse --short HEAD 2>/dev/null || echo current)|$root")
  if [[ $compile_base != none ]]; then
    if base_rev="$(git rev-parse --short "$compile_base^{commit}" 2>/dev/null)"; then
      base_dir="$out/compile/src-$base_rev"
      rm -rf "$base_dir" && mkdir -p "$base_dir"
      git archive "$base_rev" include examples benchmarks/compile_cost.cpp | tar -x -C "$base_dir"
      sources+=("before: $base_rev|$base_dir")
    else
      echo "bench.sh: no commit $compile_base in this clone's history; compile cost measured without a baseline" >&2
    fi
  fi
  variants=("SQLite|")
  [[ $have_pg_driver == 1 ]] && variants+=("SQLite + PostgreSQL|-DTENANTRY_COMPILE_COST_PG=1 -I$(pg_config --includedir 2>/dev/null || echo /usr/include/postgresql)")
  for compiler in "$cxx" "$clang"; do
    command -v "$compiler" >/dev/null || { echo "bench.sh: no $compiler; skipped" >&2; continue; }
    for v in "${variants[@]}"; do
      name="${v%%|*}" extra="${v#*|}"
      declare -A files=()
      for ((i = 1; i <= cc_runs; i++)); do
        for src in "${sources[@]}"; do
          label="${src%%|*}" dir="${src#*|}"
          f="$out/compile/$(basename "$compiler")-${name//[^A-Za-z]/_}-${label//[^A-Za-z0-9]/_}-$i.txt"
          # shellcheck disable=SC2086  # $extra is a list of flags
          /usr/bin/time -v -o "$f" "$compiler" -std=c++20 $cxx_flags -I"$dir/include" -I"$dir/examples" $extra \
            -c "$dir/benchmarks/compile_cost.cpp" -o "$out/compile/compile_cost.o"
          files[$label]+="$f "
        done
      done
      for src in "${sources[@]}"; do
        label="${src%%|*}"
        # shellcheck disable=SC2086  # a list of files
        python3 benchmarks/bench_report.py compile "$out/compile_cost.json" "$("$compiler" --version | head -n1)" "$name" "$label" ${files[$label]}
      done
      unset files
      echo "bench.sh: compile cost measured: $compiler, $name"
    done
  done
fi

# ---- report ------------------------------------------------------------------------------------
python3 - "$out/meta.json" <<EOF
import json, socket, sys, datetime
json.dump({
  "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
  "host": socket.gethostname(),
  "load_at_start": "$load_at_start",
  "loads": "$loads",
  "compiler": "$("$cxx" --version | head -n1)",
  "cxx_flags": "$cxx_flags",
  "gbench_args": "$gbench_desc",
  "pg_server": "$pg_server",
  "library": "$library",
  "quick": $quick == 1,
}, open(sys.argv[1], "w"), indent=1)
EOF
python3 benchmarks/bench_report.py render --in "$out" --template benchmarks/benchmarks.md.in --causes benchmarks/misses.md \
  --md "$docs/benchmarks.md" --png "$docs/benchmarks.png"
