#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests, on loopback only, with trust auth.
#
#   scripts/pg.sh start     initdb if needed, start, wait until it answers (no-op if running)
#   scripts/pg.sh stop      stop the server and delete its data directory
#   scripts/pg.sh restart   pg_ctl restart -m fast (for fault tests), then wait until it answers;
#                           TENANTRY_PG_RESTART_MODE=immediate restarts as after a crash
#   scripts/pg.sh status    exit 0 if running, 3 if not
#   scripts/pg.sh url       postgresql://tenantry@127.0.0.1:PORT/postgres
#   scripts/pg.sh socket    the unix socket directory (= the data directory)
#
# TENANTRY_PG_PORT (default 54329) and TENANTRY_PG_DIR (default /tmp/tenantry-pg-$PORT); a second
# cluster with its own port and directory runs beside the first (the fault tests start one).
# TENANTRY_PG_PRELOAD (default none): shared_preload_libraries for `start` (scripts/bench.sh starts
# its own cluster with pg_stat_statements, which counts the statements each operation runs; the
# shared test cluster runs without it).
# The server never runs as root: as root, it runs as the system user tenantry-pg.
set -euo pipefail

port="${TENANTRY_PG_PORT:-54329}"
dir="${TENANTRY_PG_DIR:-/tmp/tenantry-pg-$port}"
log="$dir/server.log"
pg_user=tenantry-pg
wait_seconds=30

die() { echo "pg.sh: $*" >&2; exit 1; }

find_bindir() {
  local d
  if command -v pg_config >/dev/null 2>&1; then
    d="$(pg_config --bindir 2>/dev/null || true)"
    [[ -n "$d" && -x "$d/initdb" && -x "$d/pg_ctl" ]] && { echo "$d"; return; }
  fi
  # Newest installed server version first.
  for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k5,5nr); do
    [[ -x "$d/initdb" && -x "$d/pg_ctl" ]] && { echo "$d"; return; }
  done
  die "no PostgreSQL server binaries (initdb, pg_ctl) found; run scripts/install-deps.sh"
}
bindir="$(find_bindir)"

# Run a server-side command as the cluster owner (cd / so an unreadable cwd does not matter).
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    (cd / && runuser -u "$pg_user" -- "$@")
  else
    (cd / && "$@")
  fi
}

ensure_user() {
  [[ $(id -u) -eq 0 ]] || return 0
  id -u "$pg_user" >/dev/null 2>&1 || useradd -r -m -s /usr/sbin/nologin "$pg_user"
}

is_running() { [[ -f "$dir/PG_VERSION" ]] && as_owner "$bindir/pg_ctl" status -D "$dir" >/dev/null 2>&1; }

show_log() {
  if [[ -f "$log" ]]; then
    echo "pg.sh: last lines of $log:" >&2
    tail -n 25 "$log" >&2
  fi
}

wait_ready() {
  local i
  for ((i = 0; i < wait_seconds * 5; i++)); do
    "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -U tenantry -d postgres && return 0
    sleep 0.2
  done
  echo "pg.sh: server on 127.0.0.1:$port did not accept connections within ${wait_seconds}s" >&2
  show_log
  exit 1
}

init_cluster() {
  ensure_user
  if [[ -e "$dir" ]]; then
    # Only ever initialise over an empty directory (ours from a failed run, or made by the user).
    [[ -d "$dir" && -z "$(ls -A "$dir")" ]] || die "$dir exists and is not a PostgreSQL data directory"
  fi
  mkdir -p "$dir"
  chmod 700 "$dir"
  [[ $(id -u) -eq 0 ]] && chown "$pg_user:" "$dir"
  if ! out="$(as_owner "$bindir/initdb" -D "$dir" -U tenantry --auth=trust -E UTF8 --locale=C 2>&1)"; then
    echo "$out" >&2
    die "initdb failed"
  fi
  # Appended settings win over initdb's defaults. Throwaway data: durability off.
  cat >>"$dir/postgresql.conf" <<EOF

# ---- scripts/pg.sh ----
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 100
fsync = off
EOF
}

start() {
  if is_running; then
    echo "pg.sh: already running on 127.0.0.1:$port ($dir)"
    return 0
  fi
  [[ -f "$dir/PG_VERSION" ]] || init_cluster
  local server_options=()
  [[ -n "${TENANTRY_PG_PRELOAD:-}" ]] && server_options=(-o "-c shared_preload_libraries=$TENANTRY_PG_PRELOAD")
  if ! as_owner "$bindir/pg_ctl" start -D "$dir" -l "$log" -w -t "$wait_seconds" "${server_options[@]}" >/dev/null 2>&1; then
    echo "pg.sh: pg_ctl start failed (port $port in use? see log)" >&2
    show_log
    exit 1
  fi
  wait_ready
  echo "pg.sh: running on 127.0.0.1:$port ($dir)"
}

stop() {
  if is_running; then
    as_owner "$bindir/pg_ctl" stop -D "$dir" -m fast -w -t "$wait_seconds" >/dev/null ||
      as_owner "$bindir/pg_ctl" stop -D "$dir" -m immediate -w -t "$wait_seconds" >/dev/null ||
      die "pg_ctl stop failed"
  fi
  # Never delete a directory that is not a data directory of ours.
  if [[ -f "$dir/PG_VERSION" ]] || [[ -d "$dir" && -z "$(ls -A "$dir")" ]]; then
    rm -rf "$dir"
  fi
  echo "pg.sh: stopped"
}

restart() {
  if ! is_running; then
    start
    return
  fi
  local mode="${TENANTRY_PG_RESTART_MODE:-fast}"
  [[ "$mode" == fast || "$mode" == immediate ]] || die "TENANTRY_PG_RESTART_MODE must be fast or immediate, not '$mode'"
  if ! as_owner "$bindir/pg_ctl" restart -D "$dir" -m "$mode" -l "$log" -w -t "$wait_seconds" >/dev/null 2>&1; then
    echo "pg.sh: pg_ctl restart failed" >&2
    show_log
    exit 1
  fi
  wait_ready
  echo "pg.sh: restarted ($mode) on 127.0.0.1:$port"
}

status() {
  if is_running; then
    echo "pg.sh: running on 127.0.0.1:$port ($dir)"
  else
    echo "pg.sh: not running ($dir)"
    exit 3
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart) restart ;;
  status) status ;;
  url) echo "postgresql://tenantry@127.0.0.1:$port/postgres" ;;
  socket) echo "$dir" ;;
  *) echo "usage: $0 start|stop|restart|status|url|socket" >&2; exit 2 ;;
esac
