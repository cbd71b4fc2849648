#!/usr/bin/env bash
# The reference service (examples/service) as it is deployed: N replicas of tenantry-service on
# loopback ports behind HAProxy, the wildcard-subdomain router (the seeds' Traefik), on PostgreSQL
# (a database of its own on the server scripts/pg.sh runs) or on a SQLite file (one replica).
#
#   scripts/service-cluster.sh start [--backend postgres|sqlite] [--replicas N]
#   scripts/service-cluster.sh demo      create two orgs and talk to them through the proxy
#   scripts/service-cluster.sh status    the proxy port and each replica
#   scripts/service-cluster.sh kill N    SIGKILL replica N (for failover runs)
#   scripts/service-cluster.sh stop      stop everything it started, drop its database
#
# State lives in SERVICE_CLUSTER_DIR (default /tmp/tenantry-service-cluster); its file `env` holds
# PROXY_PORT, DOMAIN, DATABASE_URL, SERVICE_BIN for scripts that drive the cluster. Everything
# binds to 127.0.0.1 only. SERVICE_BIN (default build/dev/examples/tenantry-service) is the binary.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

dir="${SERVICE_CLUSTER_DIR:-/tmp/tenantry-service-cluster}"
domain="${BODHI_ORG_DOMAIN:-tenantry.test}"
bin="${SERVICE_BIN:-$root/build/dev/examples/tenantry-service}"

die() { echo "service-cluster: $*" >&2; exit 1; }

free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 30000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  die "no free port found"
}

wait_for() {  # wait_for SECONDS COMMAND...
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [[ $SECONDS -lt $deadline ]] || return 1
    sleep 0.1
  done
}

health_ok() { curl -fsS --max-time 2 "http://127.0.0.1:$1/health" >/dev/null; }

start() {
  local backend=postgres replicas=3
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --backend) backend="$2"; shift 2 ;;
      --replicas) replicas="$2"; shift 2 ;;
      *) die "unknown option $1" ;;
    esac
  done
  [[ -x "$bin" ]] || die "no service binary at $bin (build the target tenantry-service, or set SERVICE_BIN)"
  command -v haproxy >/dev/null || die "haproxy is not installed (scripts/install-deps.sh)"
  [[ -f "$dir/env" ]] && die "a cluster is already running in $dir (stop it first)"
  mkdir -p "$dir"
  local url
  if [[ "$backend" == postgres ]]; then
    scripts/pg.sh status >/dev/null 2>&1 || scripts/pg.sh start >/dev/null
    local base db
    base="${TENANTRY_PG_URL:-$(scripts/pg.sh url)}"
    db="tenantry_svc_$$_$RANDOM"
    psql "$base" -v ON_ERROR_STOP=1 -qc "CREATE DATABASE $db" >/dev/null
    echo "$base" >"$dir/pg_admin_url"
    echo "$db" >"$dir/pg_database"
    url="${base%/*}/$db"
  elif [[ "$backend" == sqlite ]]; then
    [[ "$replicas" == 1 ]] || die "SQLite runs one replica (a file on one machine); use --backend postgres for more"
    url="sqlite:$dir/service.db"
  else
    die "--backend must be postgres or sqlite"
  fi
  # The platform key: in a file only this user can read, never in the database.
  (umask 077 && "$bin" generate-platform-key >"$dir/platform.key")
  export DATABASE_URL="$url" BODHI_ORG_DOMAIN="$domain" TENANTRY_PLATFORM_KEY_FILE="$dir/platform.key"
  export DATABASE_POOL_SIZE="${DATABASE_POOL_SIZE:-8}" SERVICE_ORG_CACHE_TTL_MS="${SERVICE_ORG_CACHE_TTL_MS:-2000}"
  "$bin" init
  local servers="" i port
  for i in $(seq 1 "$replicas"); do
    rm -f "$dir/s$i.port"
    "$bin" serve --address 127.0.0.1 --port 0 --port-file "$dir/s$i.port" --served-by "s$i" >"$dir/s$i.log" 2>&1 &
    echo $! >"$dir/s$i.pid"
    wait_for 20 test -s "$dir/s$i.port" || { cat "$dir/s$i.log" >&2; die "replica s$i did not start"; }
    port="$(cat "$dir/s$i.port")"
    servers+="  server s$i 127.0.0.1:$port check"$'\n'
  done
  local proxy_port
  proxy_port="$(free_port)"
  cat >"$dir/haproxy.cfg" <<EOF
global
  maxconn 4096

defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  timeout http-keep-alive 30s
  option http-keep-alive
  # A connection that never reached a replica is retried on another; a request that did is not
  # (it may have been a write).
  retries 2
  retry-on conn-failure
  option redispatch

frontend orgs
  bind 127.0.0.1:$proxy_port
  # The wildcard router: <slug>.$domain (any port) and /health go to the service.
  acl org_host req.hdr(host),field(1,:) -m end .$domain
  acl health path /health
  use_backend service if org_host || health
  default_backend no_org

backend service
  balance roundrobin
  option httpchk GET /health
  http-check expect status 200
  default-server inter 500ms fall 2 rise 2
$servers
backend no_org
  http-request return status 404 content-type application/json string "{\"error\":{\"code\":\"org_not_found\",\"message\":\"not an org host\"}}"
EOF
  haproxy -f "$dir/haproxy.cfg" -db >"$dir/haproxy.log" 2>&1 &
  echo $! >"$dir/haproxy.pid"
  wait_for 20 health_ok "$proxy_port" || { cat "$dir/haproxy.log" >&2; die "HAProxy did not come up"; }
  cat >"$dir/env" <<EOF
PROXY_PORT=$proxy_port
DOMAIN=$domain
DATABASE_URL=$url
SERVICE_BIN=$bin
REPLICAS=$replicas
BACKEND=$backend
TENANTRY_PLATFORM_KEY_FILE=$dir/platform.key
EOF
  echo "service-cluster: $replicas replica(s) on $backend behind HAProxy at http://127.0.0.1:$proxy_port (orgs at <slug>.$domain)"
}

stop() {
  local f pid
  for f in "$dir"/haproxy.pid "$dir"/s*.pid; do
    [[ -f "$f" ]] || continue
    pid="$(cat "$f")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$f"
  done
  if [[ -f "$dir/pg_database" ]]; then
    psql "$(cat "$dir/pg_admin_url")" -qc "DROP DATABASE IF EXISTS $(cat "$dir/pg_database") WITH (FORCE)" >/dev/null 2>&1 || true
    rm -f "$dir/pg_database" "$dir/pg_admin_url"
  fi
  rm -f "$dir/env" "$dir/platform.key"
  echo "service-cluster: stopped"
}

status() {
  [[ -f "$dir/env" ]] || { echo "service-cluster: not running"; exit 3; }
  # shellcheck disable=SC1091
  . "$dir/env"
  echo "proxy http://127.0.0.1:$PROXY_PORT ($BACKEND, $REPLICAS replicas, orgs at <slug>.$DOMAIN)"
  local f
  for f in "$dir"/s*.port; do
    local n; n="$(basename "$f" .port)"
    if kill -0 "$(cat "$dir/$n.pid" 2>/dev/null || echo 0)" 2>/dev/null; then echo "$n 127.0.0.1:$(cat "$f") running"
    else echo "$n 127.0.0.1:$(cat "$f") stopped"; fi
  done
}

demo() {
  [[ -f "$dir/env" ]] || die "not running (start it first)"
  # shellcheck disable=SC1091
  . "$dir/env"
  export DATABASE_URL TENANTRY_PLATFORM_KEY_FILE BODHI_ORG_DOMAIN="$DOMAIN"
  local p="http://127.0.0.1:$PROXY_PORT" a g
  "$SERVICE_BIN" create-org acme "Acme Corp" >/dev/null 2>&1 || true
  "$SERVICE_BIN" create-org globex "Globex" >/dev/null 2>&1 || true
  a="$("$SERVICE_BIN" issue-token acme alice power_user)"
  g="$("$SERVICE_BIN" issue-token globex gina power_user)"
  set -x
  curl -s "$p/health"; echo
  curl -s -H "Host: acme.$DOMAIN" -H "Authorization: Bearer $a" "$p/api/orgs/current"; echo
  curl -s -H "Host: acme.$DOMAIN" -H "Authorization: Bearer $a" -H 'Content-Type: application/json' \
    -d '{"alias":"llama3:instruct","repo":"meta/llama3","filename":"q4.gguf"}' "$p/api/aliases"; echo
  curl -s -H "Host: acme.$DOMAIN" -H "Authorization: Bearer $a" -H 'Content-Type: application/json' \
    -d '{"toolset_type":"web-search","slug":"exa","api_key":"exa-live-key-1234"}' "$p/api/toolsets"; echo
  curl -s -H "Host: globex.$DOMAIN" -H "Authorization: Bearer $g" "$p/api/aliases"; echo
  curl -s -H "Host: globex.$DOMAIN" -H "Authorization: Bearer $a" "$p/api/aliases"; echo
  curl -s -H "Host: nosuch.$DOMAIN" -H "Authorization: Bearer $a" "$p/api/aliases"; echo
  { set +x; } 2>/dev/null
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) stop ;;
  status) status ;;
  demo) demo ;;
  kill)
    [[ -f "$dir/s${2:?replica number}.pid" ]] || die "no replica s$2"
    kill -9 "$(cat "$dir/s$2.pid")"
    echo "service-cluster: killed replica s$2" ;;
  *) sed -n '2,15p' "$0"; exit 2 ;;
esac
