#!/usr/bin/env bash
# The ingest path of `planar serve`: group commit of concurrent small ingests (every row exactly
# once, far fewer snapshots than requests, no Parquet file until the flush), idempotency under
# group commit, the background flush and the flush at SIGTERM, NDJSON bodies larger than
# --max-body, Parquet bodies (valid and invalid), and "create": true with inferred types.
#   tests/server/ingest.sh PATH/TO/planar
# Needs curl(1); exits 77 (skipped) without it.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
http_test_start "$1"
# the server spools bodies under TMPDIR: a directory of this test's own, so that the checks that
# no spool file is left see only this server's (other servers may be ingesting beside it)
export TMPDIR="$work/tmp"
mkdir -p "$TMPDIR"
lakeuri="sqlite:$work/meta.sqlite"
lake() { "$planar" -csv -noheader --lake "$lakeuri" --data-path "$work/data/" "$@"; }
lake -c "CREATE TABLE ev(id BIGINT NOT NULL, name VARCHAR, v DOUBLE, tags VARCHAR[])" \
  -c "CREATE TABLE other(k BIGINT)" -c "CREATE TABLE tsx(id BIGINT, ts TIMESTAMP)" -c "CREATE TABLE fl(id BIGINT)" \
  || { echo "setup failed"; exit 1; }
W=$("$planar" token create --lake "$lakeuri" --tenant t1 --role writer | tail -n 1)
R=$("$planar" token create --lake "$lakeuri" --tenant t1 --role reader | tail -n 1)

start() { # start [options...]: sets pid and base
  : > "$work/log" # emptied first: the last server's port must not be read as this one's
  "$planar" serve --lake "$lakeuri" --data-path "$work/data/" --listen 127.0.0.1:0 --audit-flush-ms 50 "$@" 2> "$work/log" &
  pid=$!
  local port=$(listening_port "$work/log" "$pid")
  [ -n "$port" ] || { echo "server did not start:"; cat "$work/log"; exit 1; }
  base="http://127.0.0.1:$port"
  getsv
}
getsv() { SV=$(curl -s "$base/readyz" | sed -n 's/.*"schema_version":\([0-9]*\).*/\1/p'); }
stop() { # SIGTERM; on a failed exit shows what the server said last (sanitizer reports too)
  kill -TERM "$pid"; wait "$pid"; local rc=$?; pid=
  [ $rc -eq 0 ] || grep -v '^{"ts"' "$work/log" | tail -n 60 >&2
  return $rc
}
# post CONTENT-TYPE URL-SUFFIX BODY-FILE [curl args]: sets code and body
post() {
  local ct=$1 q=$2 f=$3; shift 3
  code=$(curl -s -o "$work/body" -w '%{http_code}' -H "Authorization: Bearer $W" -H "Content-Type: $ct" "$@" \
    --data-binary "@$f" "$base/data/ingest$q")
  body=$(cat "$work/body")
}
json() { printf '%s' "$1" > "$work/req.json"; shift; post application/json "" "$work/req.json" "$@"; }
count() { curl -s -G -H "Authorization: Bearer $W" "$base/data/query" --data-urlencode "sql=$1" | sed -n 's/.*"rows":\[\[\([^]]*\)\]\].*/\1/p'; }
files() { find "$work/data" -name '*.parquet' | wc -l; }

# ---- group commit: 16 clients x 25 requests of 4 records at once ----
start --flush-rows 0 --flush-on-stop 0 --max-body 65536
snap0=$(lake -c "SELECT max(snapshot_id) FROM ducklake_snapshots('lake')")
client() { # client N: requests with ids N*1000 + i*4 + 0..3
  local n=$1
  for i in $(seq 0 24); do
    local b=$((n * 1000 + i * 4))
    curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $W" -H 'Content-Type: application/json' \
      --data-binary "{\"table\":\"ev\",\"tenant_id\":\"t1\",\"schema_version\":$SV,\"job_id\":\"c$n\",\"records\":[{\"id\":$b},{\"id\":$((b + 1))},{\"id\":$((b + 2)),\"name\":\"x\"},{\"id\":$((b + 3)),\"tags\":[\"t\"]}]}" \
      "$base/data/ingest"
  done > "$work/codes.$n"
}
cpids=()
for n in $(seq 1 16); do client "$n" & cpids+=($!); done
wait "${cpids[@]}"
check "every small ingest answered 201" "400" "$(cat "$work"/codes.* | grep -c '^201$')"
check "every row exactly once" "1600,1600,1600" "$(count "SELECT count(*), count(DISTINCT id), sum(CASE WHEN id % 1000 < 100 THEN 1 ELSE 0 END) FROM ev" | tr -d ' ')"
snaps=$(( $(lake -c "SELECT max(snapshot_id) FROM ducklake_snapshots('lake')") - snap0 ))
check "fewer snapshots than requests (group commit)" "1" "$([ "$snaps" -lt 400 ] && [ "$snaps" -ge 1 ] && echo 1)"
echo "400 requests in $snaps snapshots"
check "small ingests are inlined: no Parquet file" "0" "$(files)"
check "a lineage row per request" "400" "$(lake -c "SELECT count(*) FROM __planar_cat('lake', 'SELECT * FROM planar_service_ingest WHERE job_id LIKE ''c%'' AND snapshot_id IS NOT NULL')")"
# a request's rows are row_count rows from row_offset of its snapshot's insertions
pid1=$(lake -c "SELECT partition_id FROM __planar_cat('lake', 'SELECT partition_id FROM planar_service_ingest WHERE job_id = ''c1'' ORDER BY partition_id LIMIT 1')")
has "snapshot extra info lists the request" "$pid1" "$(lake -c "SELECT commit_extra_info FROM ducklake_snapshots('lake') WHERE commit_extra_info LIKE '%$pid1%'")"

# ---- idempotency under group commit: 8 concurrent requests with one key write once ----
cpids=()
for k in $(seq 1 8); do
  curl -s -H "Authorization: Bearer $W" -H 'Content-Type: application/json' -H 'Idempotency-Key: same-key' \
    --data-binary '{"table":"ev","tenant_id":"t1","schema_version":'"$SV"',"job_id":"idem","records":[{"id":900001},{"id":900002}]}' \
    "$base/data/ingest" > "$work/idem.$k" &
  cpids+=($!)
done
wait "${cpids[@]}"
check "one key, one answer" "1" "$(cat "$work"/idem.* | sort -u | wc -l)"
has "the answer" '"row_count":2' "$(cat "$work/idem.1")"
check "one key, rows written once" "2" "$(count "SELECT count(*) FROM ev WHERE id > 900000")"
# a pending row whose commit never happened (a crash before the commit): the retry writes
lake -c "SELECT * FROM __planar_cat('lake', 'INSERT INTO planar_service_ingest (partition_id, tenant_id, job_id, table_name, idempotency_key, row_count, ingested_at, response) VALUES (''p-x'', ''t1'', ''j'', ''ev'', ''crashed-key'', 1, ''now'', ''{\"pending_commit\":\"ingest 00000000-no-such-commit\",\"partition_id\":\"p-x\"}'') RETURNING 1')" >/dev/null
json '{"table":"ev","tenant_id":"t1","schema_version":'"$SV"',"job_id":"j","records":[{"id":900003}]}' -H 'Idempotency-Key: crashed-key'
check "retry after a crash before the commit writes" "201" "$code"
check "its row" "1" "$(count "SELECT count(*) FROM ev WHERE id = 900003")"
json '{"table":"ev","tenant_id":"t1","schema_version":'"$SV"',"job_id":"j","records":[{"id":900003}]}' -H 'Idempotency-Key: crashed-key'
check "and a retry of that gets the same rows" "1" "$(count "SELECT count(*) FROM ev WHERE id = 900003")"
check "the stale pending row is gone" "0" "$(lake -c "SELECT count(*) FROM __planar_cat('lake', 'SELECT * FROM planar_service_ingest WHERE partition_id = ''p-x''')")"

# ---- one bad request in a group fails alone ----
# (the value passes the JSON checks, the cast at the commit fails)
cpids=()
for k in $(seq 1 6); do
  if [ "$k" = 3 ]; then ts='2026-13-45 99:00:00'; else ts="2026-12-0$k 10:00:00"; fi
  curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $W" -H 'Content-Type: application/json' \
    --data-binary "{\"table\":\"tsx\",\"tenant_id\":\"t1\",\"schema_version\":$SV,\"job_id\":\"g\",\"records\":[{\"id\":$k,\"ts\":\"$ts\"}]}" "$base/data/ingest" > "$work/g.$k" &
  cpids+=($!)
done
wait "${cpids[@]}"
check "the bad request: 422" "422" "$(cat "$work/g.3")"
check "the others: 201" "201 201 201 201 201" "$(cat "$work/g.1" "$work/g.2" "$work/g.4" "$work/g.5" "$work/g.6" | sed 's/201/201 /g' | xargs)"
check "the others' rows" "5,0" "$(count "SELECT count(*), count(*) FILTER (WHERE id = 3) FROM tsx" | tr -d ' ')"

# ---- NDJSON: a body of ~6 MB through a server whose --max-body is 64 KiB ----
seq 1 60000 | awk '{printf "{\"id\":%d,\"name\":\"row-%d-padding-padding-padding-padding-padding-padding\",\"v\":%d.5}\n", 2000000 + $1, $1, $1}' > "$work/big.ndjson"
check "the NDJSON body is far larger than --max-body" "1" "$([ "$(stat -c %s "$work/big.ndjson")" -gt 5000000 ] && echo 1)"
post application/x-ndjson "?table=ev&tenant_id=t1&job_id=nd" "$work/big.ndjson"
check "NDJSON ingest" "201" "$code"; has "NDJSON row_count" '"row_count":60000' "$body"
check "NDJSON rows" "60000,60000" "$(count "SELECT count(*), count(DISTINCT id) FROM ev WHERE id > 2000000" | tr -d ' ')"
rss=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
echo "server peak RSS after the NDJSON body: $rss kB"
printf '{"id":1}\n{"id":2}\n{"id":"three"}\n{"id":4}\n' > "$work/bad.ndjson"
post application/x-ndjson "?table=ev&tenant_id=t1&job_id=nd" "$work/bad.ndjson"
check "NDJSON bad line" "422" "$code"; has "NDJSON names the line" '"record":2' "$body"; has "and the field" '"field":"id"' "$body"
printf '{"id":1}\n{"id":2,\n' > "$work/bad2.ndjson"
post application/x-ndjson "?table=ev&tenant_id=t1&job_id=nd" "$work/bad2.ndjson"
check "NDJSON broken JSON" "422" "$code"
check "nothing written by bad NDJSON bodies" "0" "$(count "SELECT count(*) FROM ev WHERE id < 5")"
post application/x-ndjson "?table=nope&tenant_id=t1&job_id=nd" "$work/bad.ndjson"
check "NDJSON unknown table" "404" "$code"
post application/x-ndjson "?table=ev&job_id=nd" "$work/bad.ndjson"
check "NDJSON without tenant" "400" "$code"
post application/x-ndjson "?table=ev&tenant_id=t2&job_id=nd" "$work/bad.ndjson"
check "NDJSON other tenant" "403" "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $R" -H 'Content-Type: application/x-ndjson' --data-binary "@$work/bad.ndjson" "$base/data/ingest?table=ev&tenant_id=t1&job_id=x")
check "NDJSON reader token" "403" "$code"
printf '{"id":3000001}\n' > "$work/one.ndjson"
post application/x-ndjson "?table=ev&tenant_id=t1&job_id=nd" "$work/one.ndjson" -H 'Idempotency-Key: nd-1'; a1=$body
post application/x-ndjson "?table=ev&tenant_id=t1&job_id=nd" "$work/one.ndjson" -H 'Idempotency-Key: nd-1'
check "NDJSON retry gets the first answer" "$a1" "$body"
check "NDJSON retry writes once" "1" "$(count "SELECT count(*) FROM ev WHERE id = 3000001")"
check "no NDJSON spool file left" "0" "$(ls "$TMPDIR"/planar-ingest-*.ndjson 2>/dev/null | wc -l)"

# ---- Parquet bodies ----
"$planar" -c "COPY (SELECT 4000000 + range AS id, 'p' || range AS name, range::DOUBLE AS v, ['a'] AS tags FROM range(500)) TO '$work/good.parquet'" >/dev/null
"$planar" -c "COPY (SELECT 'x' AS id) TO '$work/badtype.parquet'" >/dev/null
pf0=$(files)
post application/vnd.apache.parquet "?table=ev&tenant_id=t1&job_id=pq" "$work/good.parquet" -H 'Idempotency-Key: pq-1'; a1=$body
check "Parquet ingest" "201" "$code"; has "Parquet row_count" '"row_count":500' "$body"
post application/vnd.apache.parquet "?table=ev&tenant_id=t1&job_id=pq" "$work/good.parquet" -H 'Idempotency-Key: pq-1'
check "Parquet retry gets the first answer" "$a1" "$body"
check "Parquet rows once" "500" "$(count "SELECT count(*) FROM ev WHERE id >= 4000000")"
check "one Parquet file registered (not copied)" "$((pf0 + 1))" "$(files)"
post application/vnd.apache.parquet "?table=ev&tenant_id=t1&job_id=pq" "$work/badtype.parquet"
check "Parquet of the wrong types" "422" "$code"
post application/vnd.apache.parquet "?table=ev&tenant_id=t1&job_id=pq" "$work/bad.ndjson"
check "not a Parquet file" "422" "$code"
check "refused Parquet files removed" "$((pf0 + 1))" "$(files)"

# ---- create: true ----
json '{"table":"made","tenant_id":"t1","job_id":"cr","create":true,"records":[{"i":1,"d":1.5,"b":true,"s":"x","ts":"2026-12-01T10:00:00","tz":"2026-12-01T10:00:00Z","j":{"k":[1]},"n":null},{"i":2,"d":2}]}'
check "create: true" "201" "$code"
check "inferred types" "BIGINT,DOUBLE,BOOLEAN,VARCHAR,TIMESTAMP,TIMESTAMP WITH TIME ZONE,JSON,VARCHAR" \
  "$(lake -c "SELECT string_agg(data_type, ',' ORDER BY column_index) FROM duckdb_columns() WHERE database_name = 'lake' AND table_name = 'made'" | tr -d '"')"
check "created table's rows" "2,3.5" "$(count "SELECT count(*), sum(d) FROM made" | tr -d ' ')"
json '{"table":"made2","tenant_id":"t1","job_id":"cr","create":true,"records":[{"a":1},{"a":"x"}]}'
check "create with mixed types" "422" "$code"; has "names the field" '"field":"a"' "$body"
json '{"table":"made3","tenant_id":"t1","job_id":"cr","create":true,"records":[{"a":1},5]}'
check "create with a record not an object" "422" "$code"
check "nothing created by refused creates" "0" "$(lake -c "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'lake' AND table_name IN ('made2', 'made3')")"
getsv
json '{"table":"made4","tenant_id":"t1","schema_version":'"$SV"',"job_id":"cr","records":[{"a":1}]}'
check "no create: 404" "404" "$code"
json '{"table":"made","tenant_id":"t1","job_id":"cr","create":true,"records":[{"i":3}]}'
check "create of an existing table writes into it" "201" "$code"
stop; check "server stops" "0" "$?"

# ---- background flush: past --flush-rows the inlined rows go to Parquet ----
start --flush-rows 50 --flush-secs 3600 --flush-on-stop 0
f0=$(files)
for i in $(seq 1 15); do json "{\"table\":\"other\",\"tenant_id\":\"t1\",\"schema_version\":$SV,\"job_id\":\"f\",\"records\":[{\"k\":$i},{\"k\":$i},{\"k\":$i},{\"k\":$i},{\"k\":$i}]}"; done
for _ in $(seq 1 100); do grep -q '"event":"flushed"' "$work/log" && break; sleep 0.1; done
has "a flush ran" '"event":"flushed"' "$(cat "$work/log")"
check "the flush wrote Parquet" "1" "$([ "$(files)" -gt "$f0" ] && echo 1)"
check "rows unchanged by the flush" "75,600" "$(count "SELECT count(*), sum(k) FROM other" | tr -d ' ')"
# flushes write their files without holding the lakes: group commits go on meanwhile, and the
# rows they commit then stay inlined for the next flush (none lost, none twice)
flclient() { # flclient N: 25 requests of 4 rows, ids N*1000 + 0..99
  for i in $(seq 0 24); do
    local b=$(($1 * 1000 + i * 4))
    curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $W" -H 'Content-Type: application/json' \
      --data-binary "{\"table\":\"fl\",\"tenant_id\":\"t1\",\"schema_version\":$SV,\"job_id\":\"fl\",\"records\":[{\"id\":$b},{\"id\":$((b + 1))},{\"id\":$((b + 2))},{\"id\":$((b + 3))}]}" \
      "$base/data/ingest"
  done > "$work/flcodes.$1"
}
nf0=$(grep -c '"event":"flushed"' "$work/log")
cpids=()
for n in $(seq 1 8); do flclient "$n" & cpids+=($!); done
wait "${cpids[@]}"
check "ingests during flushes answered 201" "200" "$(cat "$work"/flcodes.* | grep -c '^201$')"
for _ in $(seq 1 100); do [ "$(grep -c '"event":"flushed"' "$work/log")" -gt $((nf0 + 1)) ] && break; sleep 0.1; done
check "flushes ran during the ingests" "1" "$([ "$(grep -c '"event":"flushed"' "$work/log")" -gt $((nf0 + 1)) ] && echo 1)"
check "rows committed during flushes: each once" "800,800,800" "$(count "SELECT count(*), count(DISTINCT id), sum(CASE WHEN id % 1000 < 100 THEN 1 ELSE 0 END) FROM fl" | tr -d ' ')"
stop
check "after the stop: each once" "800,800" "$(lake -c "SELECT count(*), count(DISTINCT id) FROM fl" | tr -d ' ')"

# ---- SIGTERM flushes the inlined rows ----
start --flush-rows 1000000 --flush-secs 3600
f0=$(files)
json '{"table":"other","tenant_id":"t1","schema_version":'"$SV"',"job_id":"f","records":[{"k":1000}]}'
stop; check "server stops after the flush" "0" "$?"
has "flushed at SIGTERM" '"event":"flushed"' "$(cat "$work/log")"
check "SIGTERM flush wrote Parquet" "1" "$([ "$(files)" -gt "$f0" ] && echo 1)"
check "rows after the stop" "76" "$(lake -c "SELECT count(*) FROM other")"

# ---- bulk bodies (more records than --inline-rows): checked by the scanner, spooled as NDJSON ----
lake -c "CREATE TABLE bk(id BIGINT NOT NULL, i INTEGER, name VARCHAR, v DOUBLE, tags VARCHAR[], j JSON, ok BOOLEAN)" \
  -c "CREATE TABLE bc(id BIGINT NOT NULL, i INTEGER, name VARCHAR, v DOUBLE, f FLOAT, ok BOOLEAN, u UBIGINT)" \
  -c "CREATE TABLE bd(id BIGINT NOT NULL, i INTEGER, name VARCHAR, v DOUBLE, f FLOAT, ok BOOLEAN, u UBIGINT, d VARCHAR DEFAULT 'd')" \
  -c "CREATE TABLE be(id BIGINT NOT NULL, i INTEGER, name VARCHAR, v DOUBLE, f FLOAT, ok BOOLEAN, u UBIGINT)" >/dev/null
start --inline-rows 2 --flush-on-stop 0
bulk() { # bulk RECORDS...: a JSON body of these records for table bk
  local IFS=,
  json "{\"table\":\"bk\",\"tenant_id\":\"t1\",\"schema_version\":$SV,\"job_id\":\"bk\",\"records\":[$*]}"
}
printf '{"table":"bk","tenant_id":"t1","schema_version":%s,"job_id":"bk","records":[\n {"id": 1,\n  "name": "a \\"q\\" \\u00e9 \\ud83d\\ude00 \xc3\xa9",\n  "tags": ["x", "y"]},\n {"id":2,"i":-2147483648,"v":1e300,"j":{"k":[1,{"z":null}]},"ok":true},\n {"id":3,"name":null,"j":"s"}\n]}' "$SV" > "$work/req.json"
post application/json "" "$work/req.json"
check "bulk body (newlines, escapes, nesting)" "201" "$code"; has "bulk row_count" '"row_count":3' "$body"
check "bulk rows as sent" "3|a \"q\" é 😀 é|x,y|-2147483648|1e+300|true|{\"k\":[1,{\"z\":null}]}" \
  "$(curl -s -G -H "Authorization: Bearer $W" "$base/data/query" --data-urlencode "sql=SELECT count(*) || '|' || max(name) || '|' || array_to_string(max(tags), ',') || '|' || min(i) || '|' || max(v) || '|' || bool_or(ok) || '|' || max(j) FILTER (WHERE id = 2) AS r FROM bk" | sed -n 's/.*"rows":\[\["\(.*\)"\]\].*/\1/p' | sed 's/\\"/"/g')"
bad_bulk() { # bad_bulk NAME STATUS RECORD FIELD RECORDS...
  local name=$1 st=$2 rec=$3 field=$4; shift 4
  bulk "$@"
  check "bulk $name" "$st" "$code"
  if [ -n "$rec" ]; then has "bulk $name: the record" "\"record\":$rec" "$body"; has "bulk $name: the field" "\"field\":\"$field\"" "$body"; fi
}
bad_bulk "unknown field" 422 3 nope '{"id":10}' '{"id":11}' '{"id":12}' '{"id":13,"nope":1}'
bad_bulk "missing required field" 422 1 id '{"id":10}' '{"name":"x"}' '{"id":12}'
bad_bulk "string for an integer" 422 2 id '{"id":10}' '{"id":11}' '{"id":"12"}'
bad_bulk "fraction for an integer" 422 0 id '{"id":1.5}' '{"id":11}' '{"id":12}'
bad_bulk "integer out of range" 422 2 i '{"id":10}' '{"id":11}' '{"id":12,"i":2147483648}'
bad_bulk "integer beyond 64 bits" 422 0 id '{"id":99999999999999999999}' '{"id":11}' '{"id":12}'
bad_bulk "number beyond a double" 422 1 v '{"id":10}' '{"id":11,"v":1e999}' '{"id":12}'
bad_bulk "NULL into NOT NULL" 422 2 id '{"id":10}' '{"id":11}' '{"id":null}'
bad_bulk "scalar for a list" 422 1 tags '{"id":10}' '{"id":11,"tags":"x"}' '{"id":12}'
bad_bulk "number for a boolean" 422 1 ok '{"id":10}' '{"id":11,"ok":1}' '{"id":12}'
bad_bulk "number for text" 422 0 name '{"id":10,"name":5}' '{"id":11}' '{"id":12}'
bad_bulk "a record not an object" 422 1 '' '{"id":10}' '[1]' '{"id":12}'
bad_bulk "an empty record" 422 2 '' '{"id":10}' '{"id":11}' '{}'
bad_bulk "duplicate field" 422 1 id '{"id":10}' '{"id":11,"id":12}' '{"id":12}'
bad_bulk "duplicate nested key" 400 '' '' '{"id":10}' '{"id":11,"j":{"a":1,"b":2,"a":3}}' '{"id":12}'
bad_bulk "lone surrogate" 400 '' '' '{"id":10}' '{"id":11,"name":"\ud800"}' '{"id":12}'
bad_bulk "NUL in text" 422 1 name '{"id":10}' '{"id":11,"name":"a\u0000b"}' '{"id":12}'
bad_bulk "broken record" 400 '' '' '{"id":10}' '{"id":11,}' '{"id":12}'
has "bulk broken record: which" '"record":1' "$body"
bad_bulk "missing comma" 400 '' '' '{"id":10}' '{"id":11} {"id":12}'
bad_bulk "unbalanced" 400 '' '' '{"id":10}' '{"id":11]' '{"id":12}'
bad_bulk "raw newline in a string" 400 '' '' '{"id":10}' '{"id":11,"name":"a
b"}' '{"id":12}'
printf '{"table":"bk","tenant_id":"t1","schema_version":%s,"job_id":"bk","records":[{"id":10},{"id":11},{"id":12,"name":"\xc0\xaf"}]}' "$SV" > "$work/req.json"
post application/json "" "$work/req.json"; check "bulk invalid UTF-8 (overlong)" "400" "$code"
deep=$(printf '%.0s[' $(seq 1 3000))$(printf '%.0s]' $(seq 1 3000))
bad_bulk "deep nesting" 400 '' '' '{"id":10}' "{\"id\":11,\"j\":$deep}" '{"id":12}'
check "refused bulk bodies wrote nothing" "3" "$(count "SELECT count(*) FROM bk")"
check "no bulk spool file left" "0" "$(ls "$TMPDIR"/planar-ingest-*.ndjson 2>/dev/null | wc -l)"
# the same checks on NDJSON lines
nd() { printf '%b' "$1" > "$work/nd.ndjson"; post application/x-ndjson "?table=bk&tenant_id=t1&job_id=nd" "$work/nd.ndjson"; }
nd '{"id":20}\n{"id":21,"name":"a\\u0000b"}\n'; check "NDJSON NUL in text" "422" "$code"; has "NDJSON NUL: the field" '"field":"name"' "$body"
nd '{"id":20}\n{"id":21,"id":22}\n'; check "NDJSON duplicate field" "422" "$code"; has "NDJSON duplicate: the record" '"record":1' "$body"
nd '{"id":20}\n{"id":21,"name":"\xff"}\n'; check "NDJSON invalid UTF-8" "422" "$code"
nd '{"id":20} x\n'; check "NDJSON trailing text" "422" "$code"
nd "{\"id\":20,\"j\":$deep}\n"; check "NDJSON deep nesting" "422" "$code"
nd '{"id":20,"i":-1e2}\n'; check "NDJSON exponent for an integer" "422" "$code"; has "NDJSON exponent: the field" '"field":"i"' "$body"
nd '{"id":20}\n\n{"id":21,"tags":["a\\nb"],"j":[1,2]}\r\n{"id":22,"v":-0.5e-3}'
check "NDJSON good lines" "201" "$code"; has "NDJSON good row_count" '"row_count":3' "$body"
check "bulk table rows" "6" "$(count "SELECT count(*) FROM bk")"
# large bodies (over 4 MiB) are checked and spooled in parts, one thread each: every record once,
# and the first record that does not fit is the one named, whichever part it is in
bigbulk() { # bigbulk N BAD-INDEX:TEXT...: a JSON body of N records (id 100000 + index), some replaced
  python3 - "$SV" "$@" > "$work/req.json" <<'PY'
import sys
sv, n, bad = sys.argv[1], int(sys.argv[2]), dict(a.split(":", 1) for a in sys.argv[3:])
recs = [bad.get(str(i), '{"id":%d,"name":"record %d of a large body, spooled in parts","v":%d.5}' % (100000 + i, i, i))
        for i in range(n)]
sys.stdout.write('{"table":"bk","tenant_id":"t1","schema_version":%s,"job_id":"big","records":[%s]}' % (sv, ",\n".join(recs)))
PY
  post application/json "" "$work/req.json"
}
bigbulk 100000 99990:'{"id":1,"nope":2}'
check "large bulk body, misfit in the last part" "422" "$code"; has "large bulk: the record" '"record":99990' "$body"
has "large bulk: the field" '"field":"nope"' "$body"
bigbulk 100000 70001:'{"id":1,"v":"x"}' 3:'{"id":"3"}'
check "large bulk body, misfits in two parts" "422" "$code"; has "large bulk: the first record" '"record":3' "$body"
bigbulk 100000 50001:'{"id":1} {"id":2}'
check "large bulk body, syntax error mid-body" "400" "$code"; has "large bulk syntax: the record" '"record":50001' "$body"
bigbulk 100000 50000:'{"id":1]'
check "large bulk body, unbalanced record" "400" "$code"
check "refused large bodies wrote nothing" "6" "$(count "SELECT count(*) FROM bk")"
bigbulk 100000
check "large bulk body" "201" "$code"; has "large bulk row_count" '"row_count":100000' "$body"
check "large bulk rows, each once" "100000|100000|199999|14999950000|5000000000" \
  "$(count "SELECT count(DISTINCT id) || '|' || min(id) || '|' || max(id) || '|' || sum(id) || '|' || CAST(sum(v) AS BIGINT) AS r FROM bk WHERE id >= 100000" | tr -d '"')"
check "no bulk spool file left (parts)" "0" "$(ls "$TMPDIR"/planar-ingest-* 2>/dev/null | wc -l)"
# tables of integers, doubles, booleans and text without defaults: a large JSON body's records go
# to the INSERT as columns (__planar_rows) while later ones are still checked; the same records
# as NDJSON (read_json of the spooled lines) are the reference for every value and the row order
cat > "$work/vals.ndjson" <<'ND'
{"id":1,"name":"plain","v":0.1,"f":0.1,"ok":true,"i":-2147483648,"u":9223372036854775807}
{"id":2,"name":"a \"q\" \\ \/ \b\f\n\r\t \u00e9 \ud83d\ude00 é","v":-0.0,"f":-0,"ok":false,"i":2147483647}
{"id":3,"name":null,"v":1.7976931348623157e308,"f":3.4e38,"ok":null,"i":null,"u":0}
{"id":4,"v":5e-324,"f":1e-45}
{"id":5,"v":123456789012345678901234567890,"f":16777217,"name":""}
{"id":6,"v":9007199254740993,"f":0.30000000000000004,"name":"\u0000x"}
{"id":7,"v":2.2250738585072011e-308,"f":-1.5E+3,"name":"x\u0041\u00ff\u4e2d"}
{"id":8,"v":-123.456e-7,"f":100,"i":0}
{"id":9,"v":0.000000000000000000000000000001,"f":1e22}
{"id":10,"v":12345678901234567890.5,"name":"tail"}
ND
grep -v u0000 "$work/vals.ndjson" > "$work/vals2.ndjson" # NUL in text is refused (below)
python3 - "$SV" "$work/vals2.ndjson" > "$work/req.json" <<'PY'
import sys
lines = open(sys.argv[2]).read().split("\n")
lines = [l for l in lines if l]
recs = lines + ['{"id":%d,"name":"n%d","v":%d.25,"ok":%s}' % (100 + i, i, i, "true" if i % 3 else "false") for i in range(5000)]
sys.stdout.write('{"table":"bc","tenant_id":"t1","schema_version":%s,"job_id":"bc","records":[%s]}' % (sys.argv[1], ",\n ".join(recs)))
PY
post application/json "" "$work/req.json"
check "columns path: body" "201" "$code"; has "columns path: row_count" '"row_count":5009' "$body"
python3 - "$work/vals2.ndjson" > "$work/vals3.ndjson" <<'PY'
import sys
lines = [l for l in open(sys.argv[1]).read().split("\n") if l]
lines += ['{"id":%d,"name":"n%d","v":%d.25,"ok":%s}' % (100 + i, i, i, "true" if i % 3 else "false") for i in range(5000)]
sys.stdout.write("\n".join(lines) + "\n")
PY
post application/x-ndjson "?table=bd&tenant_id=t1&job_id=bd" "$work/vals3.ndjson"
check "columns path: the reference as NDJSON" "201" "$code"
# bd has a column with a default: its NDJSON goes the read_json way
same="SELECT count(*) FROM (SELECT * FROM bc EXCEPT ALL SELECT id, i, name, v, f, ok, u FROM bd) UNION ALL SELECT count(*) FROM (SELECT id, i, name, v, f, ok, u FROM bd EXCEPT ALL SELECT * FROM bc)"
check "columns path: the same values as read_json" '0],[0' "$(curl -s -G -H "Authorization: Bearer $W" "$base/data/query" --data-urlencode "sql=$same" | sed -n 's/.*"rows":\[\[\(.*\)\]\].*/\1/p')"
check "columns path: signed zero, exact doubles" "true|true|true|true" "$(count "SELECT (signbit(max(v) FILTER (WHERE id = 2)) AND signbit(max(f) FILTER (WHERE id = 2))) || '|' || (max(v) FILTER (WHERE id = 5) = CAST('123456789012345678901234567890' AS DOUBLE) AND max(v) FILTER (WHERE id = 10) = CAST('12345678901234567890.5' AS DOUBLE)) || '|' || (max(v) FILTER (WHERE id = 1) = CAST('0.1' AS DOUBLE)) || '|' || (max(v) FILTER (WHERE id = 4) > 0) AS r FROM bc" | tr -d '"')"
check "columns path: record order kept" "1,2,3,4,5,7,8,9,10,100,101" "$(count "SELECT array_to_string(list(id)[1:11], ',') AS r FROM bc" | tr -d '"')"
check "columns path: text as sent" 'a "q" \ /  é 😀 é|xAÿ中|4' "$(curl -s -G -H "Authorization: Bearer $W" "$base/data/query" --data-urlencode "sql=SELECT replace(replace(replace(replace(replace(max(name) FILTER (WHERE id = 2), chr(8), ''), chr(12), ''), chr(10), ''), chr(13), ''), chr(9), '') || '|' || max(name) FILTER (WHERE id = 7) || '|' || count(*) FILTER (WHERE name IS NULL AND id < 100) AS r FROM bc" | sed -n 's/.*"rows":\[\["\(.*\)"\]\].*/\1/p' | sed 's/\\"/"/g; s/\\\\/\\/g')"
# misfits anywhere in a large body: the INSERT that was already reading the records is undone
colbulk() { # colbulk N BAD-INDEX:TEXT... [-- curl args]: a JSON body of N records for bc
  python3 - "$SV" "$@" > "$work/req.json" <<'PY'
import sys
sv, n, bad = sys.argv[1], int(sys.argv[2]), dict(a.split(":", 1) for a in sys.argv[3:])
recs = [bad.get(str(i), '{"id":%d,"name":"record %d of a large body, read as columns","v":%d.5,"ok":true}' % (200000 + i, i, i))
        for i in range(n)]
sys.stdout.write('{"table":"bc","tenant_id":"t1","schema_version":%s,"job_id":"colbig","records":[%s]}' % (sv, ",\n".join(recs)))
PY
  post application/json "" "$work/req.json" "${extra[@]}"
}
extra=()
n0=$(count "SELECT count(*) FROM bc"); f0=$(files)
colbulk 100000 99998:'{"id":1,"nope":2}'
check "columns path: misfit in the last part" "422" "$code"; has "columns path: the record" '"record":99998' "$body"
has "columns path: the field" '"field":"nope"' "$body"
colbulk 100000 99999:'{"id":1,"i":2147483648}'
check "columns path: the last record out of range" "422" "$code"; has "columns path: last record" '"record":99999' "$body"
colbulk 100000 80001:'{"id":1,"v":"x"}' 2:'{"id":null}'
check "columns path: misfits in two parts" "422" "$code"; has "columns path: the first misfit" '"record":2' "$body"
colbulk 100000 60001:'{"id":1} {"id":2}'
check "columns path: syntax error mid-body" "400" "$code"; has "columns path: syntax, the record" '"record":60001' "$body"
colbulk 100000 70000:'{"id":1,"name":"a\u0000b"}'
check "columns path: NUL in text" "422" "$code"; has "columns path: NUL, the field" '"field":"name"' "$body"
check "columns path: refused bodies wrote nothing" "$n0" "$(count "SELECT count(*) FROM bc")"
check "columns path: refused bodies left no file" "$f0" "$(files)"
extra=(-H 'Idempotency-Key: colbig-1')
colbulk 100000; a1=$body
check "columns path: large body" "201" "$code"; has "columns path: large row_count" '"row_count":100000' "$body"
colbulk 100000
check "columns path: retry answered" "201" "$code"; check "columns path: retry, the first answer" "$a1" "$body"
check "columns path: large rows once, in order" "100000|200000|299999|24999950000|5000000000|200000,200001,200002" \
  "$(count "SELECT count(DISTINCT id) || '|' || min(id) || '|' || max(id) || '|' || sum(id) || '|' || CAST(sum(v) AS BIGINT) || '|' || array_to_string(list(id ORDER BY rowid)[1:3], ',') AS r FROM bc WHERE id >= 200000" | tr -d '"')"
# the parts are written at the same time, each to files of its own: row ids follow the records
check "columns path: row ids in record order across the parts" "0" \
  "$(count "SELECT count(*) FROM (SELECT id - lag(id) OVER (ORDER BY rowid) AS d FROM bc WHERE id >= 200000) WHERE d <> 1")"
snap=$(printf '%s' "$a1" | sed -n 's/.*"snapshot_id":\([0-9]*\).*/\1/p')
check "columns path: a file per part (one per core, at most 4)" "$(( $(nproc) < 4 ? $(nproc) : 4 ))" \
  "$(lake -c "SELECT count(*) FROM __ducklake_metadata_lake.ducklake_data_file WHERE begin_snapshot = ${snap:-0}")"
extra=()
# NDJSON bodies of such a table: written as they come, then checked in parts into columns
printf '\n%s\r\n  \n' "$(cat "$work/vals3.ndjson")" > "$work/vals4.ndjson"
post application/x-ndjson "?table=be&tenant_id=t1&job_id=be" "$work/vals4.ndjson"
check "NDJSON columns path: body" "201" "$code"; has "NDJSON columns path: row_count" '"row_count":5009' "$body"
check "NDJSON columns path: the same values as read_json" '0],[0' "$(curl -s -G -H "Authorization: Bearer $W" "$base/data/query" --data-urlencode "sql=${same//bc/be}" | sed -n 's/.*"rows":\[\[\(.*\)\]\].*/\1/p')"
check "NDJSON columns path: record order kept" "1,2,3,4,5,7,8,9,10,100,101" "$(count "SELECT array_to_string(list(id)[1:11], ',') AS r FROM be" | tr -d '"')"
ndbig() { # ndbig N BAD-INDEX:TEXT...: N NDJSON lines for be (blank lines between some)
  python3 - "$@" > "$work/big.ndjson" <<'PY'
import sys
n, bad = int(sys.argv[1]), dict(a.split(":", 1) for a in sys.argv[2:])
out = []
for i in range(n):
    rec = bad.get(str(i), '{"id":%d,"name":"line %d of a large NDJSON body, read as columns","v":%d.5}' % (300000 + i, i, i))
    out.append('{"id":1,"name":"%s"}' % ("a" * (17 << 20)) if rec == "LONG" else rec)
    if i % 1000 == 7:
        out.append("   ")
sys.stdout.write("\n".join(out) + "\n")
PY
  post application/x-ndjson "?table=be&tenant_id=t1&job_id=ndbig" "$work/big.ndjson" "${extra[@]}"
}
n0=$(count "SELECT count(*) FROM be"); f0=$(files)
ndbig 100000 99997:'{"id":1,"nope":2}'
check "NDJSON columns path: misfit in the last part" "422" "$code"; has "NDJSON columns path: the record" '"record":99997' "$body"
has "NDJSON columns path: the field" '"field":"nope"' "$body"
ndbig 100000 90001:'{"id":1,"v":"x"}' 12:'{"id":2} x'
check "NDJSON columns path: two bad lines" "422" "$code"; has "NDJSON columns path: the first" '"record":12' "$body"
has "NDJSON columns path: not valid JSON" 'not valid JSON' "$body"
ndbig 100000 77777:LONG
check "NDJSON columns path: a line too long" "422" "$code"; has "NDJSON columns path: too long, the record" '"record":77777' "$body"
check "NDJSON columns path: refused bodies wrote nothing" "$n0" "$(count "SELECT count(*) FROM be")"
check "NDJSON columns path: refused bodies left no file" "$f0" "$(files)"
printf '\n \r\n' > "$work/blank.ndjson"
post application/x-ndjson "?table=be&tenant_id=t1&job_id=nd" "$work/blank.ndjson"; check "NDJSON columns path: only blank lines" "400" "$code"
extra=(-H 'Idempotency-Key: ndbig-1')
ndbig 100000; a1=$body
check "NDJSON columns path: large body" "201" "$code"; has "NDJSON columns path: large row_count" '"row_count":100000' "$body"
ndbig 100000
check "NDJSON columns path: retry, the first answer" "$a1" "$body"
check "NDJSON columns path: large rows once, in order" "100000|300000|399999|300000,300001,300002" \
  "$(count "SELECT count(DISTINCT id) || '|' || min(id) || '|' || max(id) || '|' || array_to_string(list(id ORDER BY rowid)[1:3], ',') AS r FROM be WHERE id >= 300000" | tr -d '"')"
extra=()
check "no spool file left (columns paths)" "0" "$(ls "$TMPDIR"/planar-ingest-* 2>/dev/null | wc -l)"
stop; check "server stops (bulk)" "0" "$?"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
