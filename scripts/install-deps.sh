#!/usr/bin/env bash
# Install every Debian package the library, tests, examples and benchmarks need.
# Idempotent; quiet (the apt log goes to a file whose tail is printed on failure).
#   TENANTRY_DEPS_FORCE=1   run apt-get even when every package is already installed
set -euo pipefail

packages=(
  build-essential g++ clang clang-format cmake make pkg-config
  libboost1.81-dev libsqlite3-dev sqlite3 libpq-dev postgresql postgresql-client
  libfmt-dev catch2 libbenchmark-dev libcli11-dev libssl-dev
  pgbouncer gnuplot-nox valgrind libclang-rt-14-dev
  libboost-json1.81-dev haproxy wrk curl
)
log="${TMPDIR:-/tmp}/tenantry-install-deps.log"

# Fast path: nothing to do when dpkg already has them all (no apt-get update, no root needed).
missing=()
for p in "${packages[@]}"; do
  if [[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" != installed ]]; then
    missing+=("$p")
  fi
done
if [[ ${#missing[@]} -eq 0 && "${TENANTRY_DEPS_FORCE:-0}" != 1 ]]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "install-deps: not root and no sudo; as root, run:" >&2
  echo "  apt-get update && apt-get install -y --no-install-recommends ${packages[*]}" >&2
  exit 1
fi

echo "install-deps: installing ${#missing[@]} missing of ${#packages[@]} packages (log: $log)"
if ! {
  "${as_root[@]}" apt-get update &&
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y --no-install-recommends "${packages[@]}"
} >"$log" 2>&1; then
  echo "install-deps: FAILED; last lines of $log:" >&2
  tail -n 30 "$log" >&2
  exit 1
fi
echo "install-deps: done${missing[*]:+ (installed: ${missing[*]})}"
