#!/usr/bin/env bash
# The whole test suite: installs packages, checks the format (scripts/format.sh), starts a
# throwaway PostgreSQL (scripts/pg.sh) and a PgBouncer in front of it (scripts/pgbouncer.sh), then
# configures, builds and runs CTest once per build:
#   gcc    build/test-gcc    g++,     -O0 -Werror, no debug info; the test files compiled with
#                            -fsyntax-only (TENANTRY_TESTS_SYNTAX_ONLY: g++'s errors and warnings,
#                            no code generation, not run); builds and runs the examples, the
#                            benchmarks' smoke runs, the compile-fail checks with g++, the header
#                            checks and the downstream install
#   asan   build/test-asan   clang++, Debug, -Werror, AddressSanitizer + UBSan; builds and runs
#                            every test executable and the reference app under the sanitizers,
#                            the compile-fail checks with clang++ and the libFuzzer targets
#                            (benchmarks and the small example programs: gcc build only)
#   tsan   build/test-tsan   clang++, -O1, -Werror, ThreadSanitizer; only tenantry-reliability
#   clang  build/test-clang  clang++, Debug, -Werror, no sanitizer (not in the default set: asan
#                            compiles and runs the same code with clang++, so on CI's two cores a
#                            plain clang build would only repeat it)
#
# Environment:
#   TENANTRY_COMPILERS="gcc asan tsan"  which builds to run (default; "clang" adds the plain one)
#   TENANTRY_ASAN=1                 add the asan build
#   TENANTRY_TSAN=1                 add the tsan build
#   TENANTRY_JOBS=N                 parallel build and test jobs (default: nproc)
#   TENANTRY_TEST_TIMEOUT=S         per-test timeout in seconds (default 600)
#   TENANTRY_FUZZ_SECONDS=S         how long the asan build fuzzes each tests/fuzz target (default 20)
#   TENANTRY_PG_URL=...             use this server instead of starting one
#   TENANTRY_PGBOUNCER_URL=...      use this PgBouncer (transaction pooling) instead of starting one
#   TENANTRY_SKIP_DEPS=1            do not run scripts/install-deps.sh
# Arguments are passed to every ctest run, e.g. scripts/test.sh -R sqlite
set -euo pipefail
cd "$(dirname "$0")/.."

# ---- which builds (checked before anything is installed or started) ---------------------------
jobs="${TENANTRY_JOBS:-$(nproc)}"
timeout="${TENANTRY_TEST_TIMEOUT:-600}"

read -r -a requested <<<"${TENANTRY_COMPILERS:-gcc asan tsan}"
[[ "${TENANTRY_ASAN:-0}" == 1 ]] && requested+=(asan)
[[ "${TENANTRY_TSAN:-0}" == 1 ]] && requested+=(tsan)
builds=()
for b in "${requested[@]}"; do
  case "$b" in
    gcc | g++) b=gcc ;;
    clang | clang++) b=clang ;;
    asan | tsan) ;;
    *) echo "test.sh: unknown build '$b' in TENANTRY_COMPILERS (use gcc, clang, asan, tsan)" >&2; exit 2 ;;
  esac
  [[ " ${builds[*]} " == *" $b "* ]] || builds+=("$b")
done
[[ ${#builds[@]} -gt 0 ]] || { echo "test.sh: TENANTRY_COMPILERS selects no build" >&2; exit 2; }

if [[ "${TENANTRY_SKIP_DEPS:-0}" != 1 ]]; then
  scripts/install-deps.sh
fi

# ---- format (seconds; a failure fails the run, after the builds have run too) ----------------
format_ok=1
scripts/format.sh --check || format_ok=0

# Whatever this script started is stopped on any exit, last started first.
on_exit=()
stop_started() {
  local i
  for ((i = ${#on_exit[@]} - 1; i >= 0; i--)); do ${on_exit[i]} >/dev/null 2>&1 || true; done
}
trap stop_started EXIT
trap 'exit 130' INT TERM

# ---- PostgreSQL --------------------------------------------------------------------------------
if [[ -z "${TENANTRY_PG_URL:-}" ]]; then
  if scripts/pg.sh status >/dev/null 2>&1; then
    echo "test.sh: reusing the PostgreSQL already running (left running afterwards)"
  else
    # Stop (and delete) the cluster on any exit, including a failed start.
    on_exit+=("scripts/pg.sh stop")
    scripts/pg.sh start
  fi
  TENANTRY_PG_URL="$(scripts/pg.sh url)"
  TENANTRY_PG_SOCKET_DIR="$(scripts/pg.sh socket)"
  export TENANTRY_PG_URL TENANTRY_PG_SOCKET_DIR
fi
echo "test.sh: TENANTRY_PG_URL=$TENANTRY_PG_URL"

# ---- PgBouncer (transaction pooling) in front of that server ----------------------------------
# If it cannot start, the PgBouncer tests fail saying so; the other tests still run.
if [[ -z "${TENANTRY_PGBOUNCER_URL:-}" ]]; then
  if scripts/pgbouncer.sh status >/dev/null 2>&1; then
    echo "test.sh: reusing the PgBouncer already running (left running afterwards)"
    TENANTRY_PGBOUNCER_URL="$(scripts/pgbouncer.sh url)"
  else
    upstream=()  # the host and port of TENANTRY_PG_URL when it is a URL; else scripts/pg.sh's
    if [[ "$TENANTRY_PG_URL" =~ ^postgres(ql)?://([^@/?]*@)?([^:/?,]+)(:([0-9]+))? ]]; then
      upstream=("TENANTRY_PG_HOST=${BASH_REMATCH[3]}")
      [[ -n "${BASH_REMATCH[5]}" ]] && upstream+=("TENANTRY_PG_PORT=${BASH_REMATCH[5]}")
    fi
    on_exit+=("scripts/pgbouncer.sh stop")
    if env "${upstream[@]}" scripts/pgbouncer.sh start; then
      TENANTRY_PGBOUNCER_URL="$(scripts/pgbouncer.sh url)"
    else
      echo "test.sh: WARNING: PgBouncer did not start; the PgBouncer tests will fail" >&2
    fi
  fi
  [[ -n "${TENANTRY_PGBOUNCER_URL:-}" ]] && export TENANTRY_PGBOUNCER_URL
fi
echo "test.sh: TENANTRY_PGBOUNCER_URL=${TENANTRY_PGBOUNCER_URL:-<not running>}"

# ---- run them ----------------------------------------------------------------------------------
declare -A summary=()
total_passed=0
total_failed=0
failed_builds=()

# run_build NAME [ctest args...]: sets summary[NAME]; returns non-zero if any step failed.
run_build() {
  local name="$1" dir="build/test-$1" cxx=g++ start log
  shift
  local cmake_args=(-DCMAKE_BUILD_TYPE=Debug -DTENANTRY_WERROR=ON) test_env=() build_args=() ctest_args=()
  case "$name" in
    gcc)
      cxx=g++
      # The benchmark suite builds here (one build is enough) so its bench-*-quick smoke runs
      # take part; they assert that the suite runs, nothing about speed.
      cmake_args+=(-DTENANTRY_BUILD_BENCHMARKS=ON)
      # No debug info: CI reads the tests' output, not a debugger's, and -g costs ~15% of the
      # compile time and most of the link time of these template-heavy test files.
      cmake_args+=(-DCMAKE_CXX_FLAGS_DEBUG=-g0)
      # The test executables' files are compiled with -fsyntax-only (warnings are errors), not
      # built or run: the asan build builds and runs every one under the sanitizers. What runs
      # here is what g++ builds: the examples, the benchmarks' smoke runs, fuzz-replay, and the
      # compile-fail, header and downstream checks.
      cmake_args+=(-DTENANTRY_TESTS_SYNTAX_ONLY=ON)
      ;;
    clang) cxx=clang++ ;;
    asan)
      cxx=clang++
      cmake_args+=(-DTENANTRY_SANITIZE=ON)
      # libFuzzer targets (tests/fuzz): ctest's fuzz.<target> fuzz each for TENANTRY_FUZZ_SECONDS.
      cmake_args+=(-DTENANTRY_BUILD_FUZZERS=ON "-DTENANTRY_FUZZ_SECONDS=${TENANTRY_FUZZ_SECONDS:-20}")
      # Line tables only: sanitizer reports keep file:line, the build skips full debug info.
      cmake_args+=(-DCMAKE_CXX_FLAGS_DEBUG=-gline-tables-only)
      # The small example programs (examples/features, quickstart, org-schemas) call the library
      # as the tests do: the gcc build compiles and runs them; here they would add a quarter to
      # the compile time. The reference app, the service and the queries example stay.
      cmake_args+=(-DTENANTRY_BUILD_FEATURE_EXAMPLES=OFF)
      # Sanitizer run-time options for this build's tests only; an outer setting wins.
      test_env=("ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1}"
        "UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}")
      # The header checks and the downstream install run no project code and depend on the
      # compiler little: the gcc build runs them. The compile-fail checks run here, with clang++
      # (each rule must read as one line on both compilers).
      ctest_args=(-E '^(downstream$|headers\.|bench-)')
      ;;
    tsan)
      # ThreadSanitizer for the multi-threaded tests only (pool, load, PgBouncer): a report fails
      # the run. -O1 keeps the load tests' run time reasonable (TSan is 5-15x slower).
      cxx=clang++
      cmake_args+=(-DTENANTRY_BUILD_EXAMPLES=OFF "-DCMAKE_CXX_FLAGS=-fsanitize=thread -fno-omit-frame-pointer -O1"
        -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread)
      build_args=(--target tenantry-reliability)
      ctest_args=(-R '^tenantry-reliability$')
      test_env=("TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}")
      ;;
  esac
  echo
  echo "==== $dir ($cxx) ===="
  start=$SECONDS

  if ! cmake -S . -B "$dir" -DCMAKE_CXX_COMPILER="$cxx" "${cmake_args[@]}"; then
    summary[$name]="FAILED to configure"
    return 1
  fi
  if ! cmake --build "$dir" -j "$jobs" "${build_args[@]}"; then
    summary[$name]="FAILED to build"
    return 1
  fi
  local built=$((SECONDS - start))
  echo "== $dir built in $built s"

  log="$dir/ctest.log"
  local ok=1
  if ! env "${test_env[@]}" ctest --test-dir "$dir" --output-on-failure --no-tests=error -j "$jobs" \
    --timeout "$timeout" "$@" "${ctest_args[@]}" 2>&1 | tee "$log"; then
    ok=0
  fi
  echo "== $dir done in $((SECONDS - start)) s"

  # "95% tests passed, 2 tests failed out of 40"
  local line n_failed n_total
  line="$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1 || true)"
  if [[ "$line" =~ ([0-9]+)\ tests?\ failed\ out\ of\ ([0-9]+) ]]; then
    n_failed="${BASH_REMATCH[1]}"
    n_total="${BASH_REMATCH[2]}"
    summary[$name]="$((n_total - n_failed)) passed, $n_failed failed (build ${built} s, tests $((SECONDS - start - built)) s)"
    total_passed=$((total_passed + n_total - n_failed))
    total_failed=$((total_failed + n_failed))
  else
    summary[$name]="FAILED (no test result from ctest)"
    ok=0
  fi
  [[ $ok == 1 ]]
}

for b in "${builds[@]}"; do
  run_build "$b" "$@" || failed_builds+=("test-$b")
done

echo
echo "==== summary ===="
if [[ $format_ok == 1 ]]; then
  echo "format: ok"
else
  echo "format: FAILED (scripts/format.sh --check)"
  failed_builds+=(format)
fi
for b in "${builds[@]}"; do
  echo "test-$b: ${summary[$b]}"
done
if [[ ${#failed_builds[@]} -gt 0 ]]; then
  echo "test.sh: FAILED: ${failed_builds[*]} (after $SECONDS s)"
  exit 1
fi
echo "total: $total_passed passed, $total_failed failed in $SECONDS s"
