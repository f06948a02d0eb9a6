#!/usr/bin/env bash
# Load on `planar serve` over loopback with wrk (Debian package wrk): GET /data/query SELECT 1,
# then small ingests (RECORDS records per POST /data/ingest, group-committed). Prints requests/s,
# p50 and p99 latency, the count of non-2xx answers and the server's CPU per request (from
# /proc: the figure to compare on a loaded machine) for each, with the snapshots and Parquet
# files the ingests made. Then bulk ingest of BULK records (one JSON array body, one NDJSON body)
# against DuckDB's read_json -> Parquet of the same records (COPY in one process, the floor;
# curl streams each body from its file with -T, as a client sending its records would, where
# --data-binary @file would first read the whole file into curl's memory),
# each REPEAT times (medians of wall time and of CPU time: the floor's process, the server's
# from /proc; on a loaded machine the CPU ratio is the steadier one). Then a query of the BULK rows through GET /data/query (curl, on
# a freshly started server) against the shell writing the same rows as CSV (`planar -csv -c`),
# with the server's peak RSS. Never fails on a figure.
#   bench/serve.sh [BUILD_DIR] [--duration 10s] [--connections 32] [--threads 8] [--records 5]
#                  [--catalog sqlite|duckdb] [--bulk 1000000] [--no-bulk] [--bulk-only] [--repeat 3]
set -euo pipefail
build=build
[ $# -gt 0 ] && [ "${1#--}" = "$1" ] && { build=$1; shift; }
duration=10s conns=32 threads=8 records=5 catalog=sqlite bulk=1000000 small=1 repeat=3
while [ $# -gt 0 ]; do
  case $1 in
    --duration) duration=$2; shift 2 ;;
    --connections) conns=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --records) records=$2; shift 2 ;;
    --catalog) catalog=$2; shift 2 ;;
    --bulk) bulk=$2; shift 2 ;;
    --no-bulk) bulk=0; shift ;;
    --bulk-only) small=0; shift ;;
    --repeat) repeat=$2; shift 2 ;;
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
serve() { # starts the server: sets pid and port
  : > "$work/log" # there before the server's shell opens it (the loop below reads it at once)
  "$planar" serve --lake "$uri" --data-path "$work/data/" --listen 127.0.0.1:0 --threads "$threads" \
    --max-connections $((conns * 4)) --max-body 4294967296 --row-cap $((bulk > 100000 ? bulk : 100000)) 2> "$work/log" &
  pid=$!
  port=
  for _ in $(seq 1 400); do
    port=$(sed -n 's/.*"event":"listening".*"port":\([0-9]*\).*/\1/p' "$work/log")
    [ -n "$port" ] && break
    sleep 0.05
  done
  [ -n "$port" ] || { cat "$work/log"; exit 1; }
}
serve
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
if [ "$small" = 1 ]; then
echo "planar serve: $catalog catalog, $threads HTTP threads, $conns connections, $duration each, load $(cut -d' ' -f1 /proc/loadavg)"
hz=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; } # the server's CPU (user + system) in clock ticks
run() { # NAME wrk-args...: also the server's CPU per request (load-independent)
  local name=$1; shift
  local line c0 c1 n
  c0=$(cpu)
  line=$(wrk -t"$([ "$conns" -lt 2 ] && echo 1 || echo 2)" -c"$conns" -d"$duration" --latency "$@" | grep '^RESULT' || true)
  c1=$(cpu)
  n=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<< "$line")
  printf '%-28s %s server_cpu_ms_per_req=%s\n' "$name" "${line#RESULT }" \
    "$(python3 -c "print('%.3f' % (($c1 - $c0) * 1000.0 / $hz / max(1, ${n:-0})))")"
}
run "query SELECT 1" -s "$work/report.lua" -H "Authorization: Bearer $token" \
  "http://127.0.0.1:$port/data/query?sql=SELECT%201"
snap0=$("$planar" -csv -noheader --lake "$uri" --data-path "$work/data/" -c "SELECT max(snapshot_id) FROM ducklake_snapshots('lake')")
run "ingest $records records" -s "$work/ingest_report.lua" "http://127.0.0.1:$port/data/ingest"
snap1=$("$planar" -csv -noheader --lake "$uri" --data-path "$work/data/" -c "SELECT max(snapshot_id) FROM ducklake_snapshots('lake')")
echo "small ingests made $((snap1 - snap0)) snapshots (group commit)"
rows=$(curl -s -G -H "Authorization: Bearer $token" "http://127.0.0.1:$port/data/query" \
  --data-urlencode "sql=SELECT count(*) FROM bench" | sed -n 's/.*"rows":\[\[\([0-9]*\)\]\].*/\1/p')
files=$(find "$work/data" -name '*.parquet' 2>/dev/null | wc -l)
echo "rows ingested: $rows, Parquet files: $files (small batches are inlined into the catalog)"
echo "background flushes during the run (rows, ms): $(sed -n 's/.*"event":"flushed".*"n":\([0-9]*\),"ms":\([0-9.]*\).*/\1 \2/p' "$work/log" | paste -sd, - | sed 's/,/; /g')"
fi

[ "$bulk" -gt 0 ] || exit 0
# ---- bulk: BULK records as one JSON array and as NDJSON, against read_json -> Parquet ----
"$planar" -c "COPY (SELECT range AS id, 'name-' || range AS name, range * 0.25 AS v FROM range($bulk)) TO '$work/bulk.ndjson' (FORMAT JSON)" >/dev/null
"$planar" --lake "$uri" --data-path "$work/data/" -c "CREATE TABLE bulk(id BIGINT, name VARCHAR, v DOUBLE)" \
  -c "CREATE TABLE bulk2(id BIGINT, name VARCHAR, v DOUBLE)" >/dev/null
sv=$(curl -s "http://127.0.0.1:$port/readyz" | sed -n 's/.*"schema_version":\([0-9]*\).*/\1/p')
{ printf '{"table":"bulk","tenant_id":"t1","job_id":"bulk","schema_version":%s,"records":[' "$sv"
  sed '$!s/$/,/' "$work/bulk.ndjson"; printf ']}'; } > "$work/bulk.json"
secs() { python3 -c "import sys; print('%.3f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$@"; }
median() { python3 -c "import sys, statistics; print('%.3f' % statistics.median(float(x) for x in sys.argv[1:]))" "$@"; }
# the floor's CPU (user + system, from /usr/bin/time) less the shell's own start
cputime() { /usr/bin/time -f '%U %S' -o "$work/time" "$@" >/dev/null && awk '{printf "%.3f", $1 + $2}' "$work/time"; }
t0=$(date +%s.%N); scpu=$(cputime "$planar" -c "SELECT 1"); t1=$(date +%s.%N); startup=$(secs "$t0" "$t1")
floors=() fcpus=() tjs=() tns=() cjs=() cns=()
hz=$(getconf CLK_TCK)
cpus() { awk -v hz="$hz" '{printf "%.3f", ($14 + $15) / hz}' "/proc/$pid/stat"; } # server CPU seconds
load0=$(cut -d' ' -f1 /proc/loadavg)
for r in $(seq 1 "$repeat"); do
  rm -f "$work/floor.parquet"
  t0=$(date +%s.%N)
  fc=$(cputime "$planar" -c "COPY (SELECT * FROM read_json('$work/bulk.ndjson', format = 'newline_delimited', columns = {'id': 'BIGINT', 'name': 'VARCHAR', 'v': 'DOUBLE'})) TO '$work/floor.parquet'")
  t1=$(date +%s.%N); floors+=("$(python3 -c "print('%.3f' % max(0.001, $(secs "$t0" "$t1") - $startup))")")
  fcpus+=("$(python3 -c "print('%.3f' % max(0.001, $fc - $scpu))")")
  t0=$(date +%s.%N); c0=$(cpus)
  jcode=$(curl -s -o "$work/bj" -w '%{http_code}' -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -H 'Expect:' -X POST -T "$work/bulk.json" "http://127.0.0.1:$port/data/ingest")
  t1=$(date +%s.%N); tjs+=("$(secs "$t0" "$t1")"); cjs+=("$(secs "$c0" "$(cpus)")")
  t0=$(date +%s.%N); c0=$(cpus)
  ncode=$(curl -s -o "$work/bn" -w '%{http_code}' -H "Authorization: Bearer $token" -H 'Content-Type: application/x-ndjson' \
    -H 'Expect:' -X POST -T "$work/bulk.ndjson" "http://127.0.0.1:$port/data/ingest?table=bulk2&tenant_id=t1&job_id=bulk")
  t1=$(date +%s.%N); tns+=("$(secs "$t0" "$t1")"); cns+=("$(secs "$c0" "$(cpus)")")
done
floor=$(median "${floors[@]}") tj=$(median "${tjs[@]}") tn=$(median "${tns[@]}")
fcpu=$(median "${fcpus[@]}") cj=$(median "${cjs[@]}") cn=$(median "${cns[@]}")
rate() { python3 -c "print('%.0f' % ($bulk / $1))"; }
echo "bulk $bulk records ($(du -h "$work/bulk.ndjson" | cut -f1) NDJSON), median of $repeat, load $load0 -> $(cut -d' ' -f1 /proc/loadavg):"
printf '  %-34s %8s s %10s rec/s  CPU %s s  (runs %s; CPU s %s)\n' "DuckDB read_json -> Parquet" "$floor" "$(rate "$floor")" "$fcpu" "${floors[*]}" "${fcpus[*]}"
printf '  %-34s %8s s %10s rec/s  ratio %s  CPU %s s, CPU ratio %s  (HTTP %s; runs %s; server CPU s %s)\n' "POST JSON array" "$tj" "$(rate "$tj")" \
  "$(python3 -c "print('%.2f' % ($floor / $tj))")" "$cj" "$(python3 -c "print('%.2f' % ($fcpu / max(0.001, $cj)))")" "$jcode" "${tjs[*]}" "${cjs[*]}"
printf '  %-34s %8s s %10s rec/s  ratio %s  CPU %s s, CPU ratio %s  (HTTP %s; runs %s; server CPU s %s)\n' "POST NDJSON" "$tn" "$(rate "$tn")" \
  "$(python3 -c "print('%.2f' % ($floor / $tn))")" "$cn" "$(python3 -c "print('%.2f' % ($fcpu / max(0.001, $cn)))")" "$ncode" "${tns[*]}" "${cns[*]}"

# ---- query: BULK rows as JSON over HTTP against the shell's CSV ----
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
serve
qsql="SELECT id, name, v FROM bulk2 LIMIT $bulk"
enc=$(python3 -c "import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))" "$qsql")
tcs=() tqs=()
load0=$(cut -d' ' -f1 /proc/loadavg)
for r in $(seq 1 "$repeat"); do
  t0=$(date +%s.%N)
  "$planar" -csv --lake "$uri" --data-path "$work/data/" -c "$qsql" > "$work/q.csv"
  t1=$(date +%s.%N); tcs+=("$(secs "$t0" "$t1")")
  t0=$(date +%s.%N)
  qcode=$(curl -s -o "$work/q.json" -w '%{http_code}' -H "Authorization: Bearer $token" "http://127.0.0.1:$port/data/query?sql=$enc")
  t1=$(date +%s.%N); tqs+=("$(secs "$t0" "$t1")")
done
tc=$(median "${tcs[@]}") tq=$(median "${tqs[@]}")
qrows=$(sed -n 's/.*"row_count":\([0-9]*\).*/\1/p' "$work/q.json" | tail -n 1)
rss=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
echo "query of $bulk rows, median of $repeat, load $load0 -> $(cut -d' ' -f1 /proc/loadavg):"
printf '  %-34s %8s s %10s rows/s  %s bytes  (runs %s)\n' "planar -csv -c (shell)" "$tc" "$(rate "$tc")" "$(stat -c %s "$work/q.csv")" "${tcs[*]}"
printf '  %-34s %8s s %10s rows/s  %s bytes  ratio %s  (HTTP %s, row_count %s; runs %s)\n' "GET /data/query (JSON)" "$tq" \
  "$(rate "$tq")" "$(stat -c %s "$work/q.json")" "$(python3 -c "print('%.2f' % ($tc / $tq))")" "$qcode" "$qrows" "${tqs[*]}"
echo "  server peak RSS (VmHWM) after the queries: $rss kB"
