#!/usr/bin/env bash
# Load on `planar serve` over loopback with wrk (Debian package wrk): GET /data/query SELECT 1,
# then small ingests (RECORDS records per POST /data/ingest). Prints requests/s, p50 and p99
# latency and the count of non-2xx answers for each. Never fails on a figure.
#   bench/serve.sh [BUILD_DIR] [--duration 10s] [--connections 32] [--threads 8] [--records 5]
#                  [--catalog sqlite|duckdb]
set -euo pipefail
build=build
[ $# -gt 0 ] && [ "${1#--}" = "$1" ] && { build=$1; shift; }
duration=10s conns=32 threads=8 records=5 catalog=sqlite
while [ $# -gt 0 ]; do
  case $1 in
    --duration) duration=$2; shift 2 ;;
    --connections) conns=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --records) records=$2; shift 2 ;;
    --catalog) catalog=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
planar=$(realpath "$build/planar")
command -v wrk >/dev/null || { echo "wrk not found (apt-get install wrk)" >&2; exit 2; }
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
case $catalog in
  sqlite) uri="sqlite:$work/meta.sqlite" ;;
  duckdb) uri="duckdb:$work/meta.ducklake" ;;
  *) echo "catalog: sqlite or duckdb" >&2; exit 2 ;;
esac
"$planar" --lake "$uri" --data-path "$work/data/" -c "CREATE TABLE bench(id BIGINT, name VARCHAR, v DOUBLE)" >/dev/null
token=$("$planar" token create --lake "$uri" --tenant t1 --role writer | tail -n 1)
"$planar" serve --lake "$uri" --data-path "$work/data/" --listen 127.0.0.1:0 --threads "$threads" \
  --max-connections $((conns * 4)) 2> "$work/log" &
pid=$!
port=
for _ in $(seq 1 200); do
  port=$(sed -n 's/.*"event":"listening".*"port":\([0-9]*\).*/\1/p' "$work/log")
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { cat "$work/log"; exit 1; }
sv=$(curl -s "http://127.0.0.1:$port/readyz" | sed -n 's/.*"schema_version":\([0-9]*\).*/\1/p')
recs=$(for i in $(seq 1 "$records"); do printf '%s{"id":%d,"name":"n%d","v":%d.5}' "$([ "$i" -gt 1 ] && echo ,)" "$i" "$i" "$i"; done)
cat > "$work/ingest.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
wrk.body = '{"table":"bench","tenant_id":"t1","job_id":"bench","schema_version":$sv,"records":[$recs]}'
LUA
cat > "$work/report.lua" <<'LUA'
done = function(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format("RESULT rps=%.1f p50_ms=%.3f p99_ms=%.3f requests=%d non2xx=%d socket_errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, non2xx, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA
cat "$work/ingest.lua" "$work/report.lua" > "$work/ingest_report.lua"
echo "planar serve: $catalog catalog, $threads HTTP threads, $conns connections, $duration each, load $(cut -d' ' -f1 /proc/loadavg)"
run() { # NAME wrk-args...
  local name=$1; shift
  local line
  line=$(wrk -t"$([ "$conns" -lt 2 ] && echo 1 || echo 2)" -c"$conns" -d"$duration" --latency "$@" | grep '^RESULT' || true)
  printf '%-28s %s\n' "$name" "${line#RESULT }"
}
run "query SELECT 1" -s "$work/report.lua" -H "Authorization: Bearer $token" \
  "http://127.0.0.1:$port/data/query?sql=SELECT%201"
run "ingest $records records" -s "$work/ingest_report.lua" "http://127.0.0.1:$port/data/ingest"
rows=$(curl -s -G -H "Authorization: Bearer $token" "http://127.0.0.1:$port/data/query" \
  --data-urlencode "sql=SELECT count(*) FROM bench" | sed -n 's/.*"rows":\[\[\([0-9]*\)\]\].*/\1/p')
files=$(find "$work/data" -name '*.parquet' 2>/dev/null | wc -l)
echo "rows ingested: $rows, Parquet files: $files (small batches are inlined into the catalog)"
