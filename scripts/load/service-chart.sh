#!/usr/bin/env bash
# Renders the rows of a service-load report (Markdown lines written by --report) as a chart:
# requests/s (bars, left axis) and p50 / p99 latency (points, right axis) per run.
#   scripts/load/service-chart.sh build/load/report.md docs/service.png
set -euo pipefail
report="$1" out="$2"
data="$(mktemp)"
trap 'rm -f "$data"' EXIT
# | backend | replicas | duration | threads/conns | req/s | p50 | p99 | ... | fault |
awk -F'|' '{ gsub(/ /, "", $2); gsub(/ /, "", $3); label = $2 "-x" $3; if ($14 !~ /^ *- *$/) label = label "-kill";
             printf "%d \"%s\" %s %s %s\n", NR - 1, label, $6, $7, $8 }' "$report" >"$data"
gnuplot <<GP
set terminal pngcairo size 900,480 font "sans,11"
set output "$out"
set title "tenantry-service through HAProxy: 5 orgs, mixed read/write (wrk)"
set style fill solid 0.6 border -1
set boxwidth 0.5
set ylabel "requests / s"
set y2label "latency (ms)"
set y2tics
set ytics nomirror
set yrange [0:*]
set y2range [0:*]
set xrange [-0.6:*]
set key top right
plot "$data" using 1:3:xtic(2) with boxes title "req/s", \
     "" using 1:4 axes x1y2 with points pt 7 ps 1.5 title "p50 ms", \
     "" using 1:5 axes x1y2 with points pt 5 ps 1.5 title "p99 ms"
GP
echo "service-chart: wrote $out"
