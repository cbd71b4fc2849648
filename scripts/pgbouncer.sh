#!/usr/bin/env bash
# A throwaway PgBouncer in transaction pooling mode, in front of the scripts/pg.sh PostgreSQL, on
# loopback only, for the reliability tests (tests/reliability/pgbouncer_test.cpp).
#
#   scripts/pgbouncer.sh start     write the config, start, wait until it answers (no-op if running)
#   scripts/pgbouncer.sh stop      stop it and delete its directory
#   scripts/pgbouncer.sh status    exit 0 if running, 3 if not
#   scripts/pgbouncer.sh url       postgresql://tenantry@127.0.0.1:PORT/postgres
#   scripts/pgbouncer.sh version   the installed PgBouncer's version line
#
# Every database name is forwarded to the database of the same name on the server ("*" entry),
# so a test can create a fresh database directly and then reach it through PgBouncer.
# Authentication is trust on loopback. PgBouncer still needs every user name in its auth file:
# the file lists "tenantry" (the pg.sh superuser) and TENANTRY_PGBOUNCER_USERS.
#
# TENANTRY_PGBOUNCER_PORT (default 64329), TENANTRY_PGBOUNCER_DIR (default
# /tmp/tenantry-pgbouncer-$PORT), TENANTRY_PGBOUNCER_POOL_SIZE (server connections per database
# and user, default 4), upstream TENANTRY_PG_HOST (default 127.0.0.1) and TENANTRY_PG_PORT
# (default 54329, as scripts/pg.sh). PgBouncer refuses to run as root: as root, it runs as the
# system user tenantry-pg (the one scripts/pg.sh uses).
set -euo pipefail

port="${TENANTRY_PGBOUNCER_PORT:-64329}"
dir="${TENANTRY_PGBOUNCER_DIR:-/tmp/tenantry-pgbouncer-$port}"
pg_host="${TENANTRY_PG_HOST:-127.0.0.1}"
pg_port="${TENANTRY_PG_PORT:-54329}"
pool_size="${TENANTRY_PGBOUNCER_POOL_SIZE:-4}"
users="tenantry ${TENANTRY_PGBOUNCER_USERS:-tenantry_rel_owner tenantry_rel_app tenantry_rls_owner tenantry_rls_reader}"
run_user=tenantry-pg
log="$dir/pgbouncer.log"
pidfile="$dir/pgbouncer.pid"
wait_seconds=15

die() { echo "pgbouncer.sh: $*" >&2; exit 1; }

find_pgbouncer() {
  local p
  for p in "$(command -v pgbouncer 2>/dev/null || true)" /usr/sbin/pgbouncer /usr/bin/pgbouncer; do
    [[ -n "$p" && -x "$p" ]] && { echo "$p"; return; }
  done
  die "pgbouncer is not installed (Debian package pgbouncer; run scripts/install-deps.sh)"
}

as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    (cd / && runuser -u "$run_user" -- "$@")
  else
    (cd / && "$@")
  fi
}

ensure_user() {
  [[ $(id -u) -eq 0 ]] || return 0
  id -u "$run_user" >/dev/null 2>&1 || useradd -r -m -s /usr/sbin/nologin "$run_user"
}

pid_alive() {
  [[ -f "$pidfile" ]] || return 1
  local pid
  pid="$(cat "$pidfile" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null
}

show_log() {
  if [[ -f "$log" ]]; then
    echo "pgbouncer.sh: last lines of $log:" >&2
    tail -n 20 "$log" >&2
  fi
}

pg_isready_bin() {
  command -v pg_isready 2>/dev/null && return
  local d
  for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k5,5nr); do
    [[ -x "$d/pg_isready" ]] && { echo "$d/pg_isready"; return; }
  done
  die "pg_isready not found (package postgresql-client)"
}

write_config() {
  mkdir -p "$dir"
  chmod 700 "$dir"
  : >"$dir/userlist.txt"
  local u
  for u in $users; do
    printf '"%s" ""\n' "$u" >>"$dir/userlist.txt"
  done
  cat >"$dir/pgbouncer.ini" <<EOF
; written by scripts/pgbouncer.sh
[databases]
* = host=$pg_host port=$pg_port

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
default_pool_size = $pool_size
max_client_conn = 200
; the server answers a dropped test database at once; do not keep retrying it
server_login_retry = 1
logfile = $log
pidfile = $pidfile
admin_users = tenantry
log_connections = 0
log_disconnections = 0
ignore_startup_parameters = extra_float_digits
EOF
  [[ $(id -u) -eq 0 ]] && chown -R "$run_user:" "$dir"
  return 0
}

start() {
  local bin isready i
  bin="$(find_pgbouncer)"
  isready="$(pg_isready_bin)"
  if pid_alive; then
    echo "pgbouncer.sh: already running on 127.0.0.1:$port ($dir)"
    return 0
  fi
  ensure_user
  if [[ -e "$dir" && ! -f "$dir/pgbouncer.ini" ]]; then
    [[ -d "$dir" && -z "$(ls -A "$dir")" ]] || die "$dir exists and is not a directory of ours"
  fi
  write_config
  if ! as_owner "$bin" -d "$dir/pgbouncer.ini" >/dev/null 2>&1; then
    echo "pgbouncer.sh: pgbouncer failed to start (port $port in use?)" >&2
    show_log
    exit 1
  fi
  for ((i = 0; i < wait_seconds * 5; i++)); do
    # Through PgBouncer to the server: both must answer.
    if "$isready" -q -h 127.0.0.1 -p "$port" -U tenantry -d postgres; then
      echo "pgbouncer.sh: running on 127.0.0.1:$port -> $pg_host:$pg_port ($("$bin" --version | head -n 1))"
      return 0
    fi
    sleep 0.2
  done
  echo "pgbouncer.sh: PgBouncer on 127.0.0.1:$port did not answer within ${wait_seconds}s" >&2
  show_log
  stop >/dev/null 2>&1 || true
  exit 1
}

stop() {
  local pid i
  if pid_alive; then
    pid="$(cat "$pidfile")"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < wait_seconds * 10; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  # Never delete a directory that is not ours.
  if [[ -f "$dir/pgbouncer.ini" ]] || [[ -d "$dir" && -z "$(ls -A "$dir")" ]]; then
    rm -rf "$dir"
  fi
  echo "pgbouncer.sh: stopped"
}

status() {
  if pid_alive; then
    echo "pgbouncer.sh: running on 127.0.0.1:$port ($dir)"
  else
    echo "pgbouncer.sh: not running ($dir)"
    exit 3
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  url) echo "postgresql://tenantry@127.0.0.1:$port/postgres" ;;
  version) "$(find_pgbouncer)" --version | head -n 1 ;;
  *) echo "usage: $0 start|stop|status|url|version" >&2; exit 2 ;;
esac
