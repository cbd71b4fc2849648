#!/usr/bin/env bash
# Load and isolation under load for the reference service: starts a cluster
# (scripts/service-cluster.sh: replicas behind HAProxy), creates 5 orgs with a token and a toolset
# each, drives a mixed read/write workload with wrk through the proxy (one org per wrk thread, see
# scripts/load/service-load.lua), then checks:
#   * cross-org: every response body's org_id / alias / slug belongs to the thread's org (must be 0)
#   * no acknowledged write lost: every alias whose creation got 201 is in the database
#   * without --kill-one: no errors and no non-2xx responses at all
# and prints requests/s, p50/p99 latency, errors and the cross-org count.
#
#   scripts/service-load.sh --short                       # bounded (CI): 3 s, SQLite, 1 replica
#   scripts/service-load.sh --short --backend postgres --replicas 3
#   scripts/service-load.sh --backend postgres --replicas 3 --duration 30 --connections 40
#   scripts/service-load.sh --backend postgres --replicas 3 --duration 30 --kill-one
#
# Options: --backend postgres|sqlite (default sqlite), --replicas N (default 1), --duration S
# (default 20), --threads T (default 5; one org each, round robin), --connections C (default 20),
# --kill-one (SIGKILL replica 2 half-way), --report FILE (append the result line as Markdown),
# --control (negative control: each thread is told the NEXT org's id, so the checker must flag
# the rows of its own org as foreign; passes only if it does - proof the check can fail).
# SERVICE_BIN names the tenantry-service binary. Exit status 0 only when every check passed.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

backend=sqlite replicas=1 duration=20 threads=5 connections=20 kill_one=0 report="" control=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --short) duration=3 threads=5 connections=10; shift ;;
    --backend) backend="$2"; shift 2 ;;
    --replicas) replicas="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --kill-one) kill_one=1; shift ;;
    --control) control=1; shift ;;
    --report) report="$2"; shift 2 ;;
    *) sed -n '2,20p' "$0"; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "service-load: wrk is not installed (scripts/install-deps.sh)" >&2; exit 1; }
[[ $kill_one == 0 || $replicas -ge 2 ]] || { echo "service-load: --kill-one needs --replicas 2 or more" >&2; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/tenantry-load.XXXXXX")"
export SERVICE_CLUSTER_DIR="$work/cluster"
cleanup() { scripts/service-cluster.sh stop >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

scripts/service-cluster.sh start --backend "$backend" --replicas "$replicas"
# shellcheck disable=SC1091
. "$SERVICE_CLUSTER_DIR/env"
export DATABASE_URL TENANTRY_PLATFORM_KEY_FILE BODHI_ORG_DOMAIN="$DOMAIN"
proxy="http://127.0.0.1:$PROXY_PORT"

# ---- five orgs, a power user token and a toolset (with a sealed API key) each ------------------
config="$work/config.lua"
{
  echo "return { domain = \"$DOMAIN\", orgs = {"
  for slug in acme globex initech umbrella hooli; do
    org_id="$("$SERVICE_BIN" create-org "$slug" "$slug Inc" | cut -d' ' -f1)"
    token="$("$SERVICE_BIN" issue-token "$slug" "user-$slug" power_user)"
    body="$(curl -fsS -H "Host: $slug.$DOMAIN" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
      -d "{\"toolset_type\":\"web-search\",\"slug\":\"exa\",\"api_key\":\"key-$slug-initial\"}" "$proxy/api/toolsets")"
    toolset="$(printf '%s' "$body" | sed -n 's/^{"id":"\([^"]*\)".*/\1/p')"
    [[ -n "$toolset" ]] || { echo "service-load: could not create a toolset: $body" >&2; exit 1; }
    echo "  { slug = \"$slug\", id = \"$org_id\", token = \"$token\", toolset = \"$toolset\" },"
    echo "$slug $org_id" >>"$work/orgs"
  done
  echo "} }"
} >"$config"
if [[ $control == 1 ]]; then
  # Each org's entry keeps its slug (the Host) and token but names the next org's id as expected.
  awk -F'"' '/slug =/ { n++; id[n] = $4; line[n] = $0 } !/slug =/ && !/^return/ && !/^} }/ { }
    END { print "return { domain = \"'"$DOMAIN"'\", orgs = {";
          for (i = 1; i <= n; i++) { j = i % n + 1; l = line[i]; sub("id = \"" id[i] "\"", "id = \"" id[j] "\"", l); print l }
          print "} }" }' "$config" >"$config.control"
  mv "$config.control" "$config"
fi

# ---- the run --------------------------------------------------------------------------------------
result="$work/result"
echo "service-load: wrk -t$threads -c$connections -d${duration}s through HAProxy ($backend, $replicas replica(s))"
if [[ $kill_one == 1 ]]; then
  (sleep "$(awk "BEGIN { print $duration / 2 }")" && scripts/service-cluster.sh kill 2) &
  killer=$!
fi
LOAD_CONFIG="$config" LOAD_RESULT="$result" wrk -t"$threads" -c"$connections" -d"${duration}s" --timeout 5s \
  -s "$root/scripts/load/service-load.lua" "$proxy/" >"$work/wrk.out"
[[ $kill_one == 1 ]] && wait "$killer"
value() { awk -v k="$1" '$1 == k { print $2 }' "$result"; }

# ---- no acknowledged write lost --------------------------------------------------------------------
acked=0 missing=0
while read -r slug org_id; do
  grep "^ack $slug " "$result" | cut -d' ' -f3 | sort >"$work/acked.$slug" || true
  if [[ "$backend" == postgres ]]; then
    psql "$DATABASE_URL" -Atc "SELECT alias FROM user_aliases WHERE org_id = '$org_id'" | sort >"$work/stored.$slug"
  else
    sqlite3 "${DATABASE_URL#sqlite:}" "SELECT alias FROM user_aliases WHERE org_id = '$org_id'" | sort >"$work/stored.$slug"
  fi
  acked=$((acked + $(wc -l <"$work/acked.$slug")))
  missing=$((missing + $(comm -23 "$work/acked.$slug" "$work/stored.$slug" | wc -l)))
done <"$work/orgs"

errors=$(($(value errors_connect) + $(value errors_read) + $(value errors_write) + $(value errors_timeout)))
statuses="$(awk '$1 == "status" { printf "%s%s=%s", sep, $2, $3; sep=" " }' "$result")"
line="| $backend | $replicas | ${duration}s | $threads/$connections | $(value rps) | $(value p50_ms) | $(value p99_ms) | $errors | $(value non_2xx) | $(value cross_org) | $acked | $missing | $([[ $kill_one == 1 ]] && echo "replica 2 killed at $((duration / 2))s" || echo "-") |"
echo
echo "| backend | replicas | duration | threads/conns | req/s | p50 ms | p99 ms | socket errors | non-2xx | cross-org | acked writes | lost | fault |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
echo "$line"
echo "statuses: $statuses; responses checked: $(value checked)"
[[ -n "$report" ]] && echo "$line" >>"$report"

if [[ $control == 1 ]]; then
  # The negative control passes when the checker flagged at least half as many rows as responses
  # (every row-carrying response has one or more; /api/orgs/current carries none).
  if [[ "$(value checked)" -gt 0 && $(($(value cross_org) * 2)) -ge "$(value checked)" ]]; then
    echo "service-load: control OK: the checker flagged $(value cross_org) rows in $(value checked) responses"
    exit 0
  fi
  echo "service-load: control FAILED: the checker flagged only $(value cross_org) rows in $(value checked) responses" >&2
  exit 1
fi
ok=1
[[ "$(value checked)" -gt 0 ]] || { echo "service-load: FAILED: no response was checked" >&2; ok=0; }
[[ "$(value cross_org)" == 0 ]] || { echo "service-load: FAILED: $(value cross_org) cross-org rows in responses" >&2; ok=0; }
[[ $missing == 0 ]] || { echo "service-load: FAILED: $missing acknowledged writes are not in the database" >&2; ok=0; }
[[ $acked -gt 0 ]] || { echo "service-load: FAILED: no write was acknowledged" >&2; ok=0; }
if [[ $kill_one == 0 ]]; then
  [[ $errors == 0 && "$(value non_2xx)" == 0 ]] || { echo "service-load: FAILED: errors without a fault" >&2; cat "$work/wrk.out" >&2; ok=0; }
fi
[[ $ok == 1 ]] && echo "service-load: OK"
[[ $ok == 1 ]]
