#!/usr/bin/env bash
# The data-plane HTTP service end to end: tokens made with `planar token`, then `planar serve`
# started on a free loopback port over an embedded SQLite lake in a temporary directory, every
# route exercised with good and bad input (missing/invalid/revoked tokens, other tenants,
# malformed JSON, invalid UTF-8, wrong content type, bodies over the limit, hostile queries),
# the audit and lineage tables checked, and SIGTERM draining a request in flight.
#   tests/server/serve.sh PATH/TO/planar
# Needs curl(1); exits 77 (skipped) without it.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
http_test_start "$1"
lakeuri="sqlite:$work/meta.sqlite"
lake() { "$planar" -csv -noheader --lake "$lakeuri" --data-path "$work/data/" "$@"; }
cat_sql() { lake -c "SELECT * FROM __planar_cat('lake', '$1')"; }

lake -c "CREATE TABLE ev(id BIGINT NOT NULL, name VARCHAR, score DOUBLE, ok BOOLEAN, ts TIMESTAMP, tags VARCHAR[], meta STRUCT(a INT, b VARCHAR))" \
  -c "CREATE TABLE dflt(a INT NOT NULL, b INT NOT NULL DEFAULT 7, c VARCHAR DEFAULT 'x')" \
  -c "CREATE TABLE secret_other(x INT)" || { echo "setup failed"; exit 1; }

# ---- tokens ----
mk() { "$planar" token create --lake "$lakeuri" "$@" | tail -n 1; }
W1=$(mk --tenant t1 --role writer)
R1=$(mk --tenant t1 --role reader)
W2=$(mk --tenant t2 --role writer)
AD=$(mk --role admin)
GONE=$(mk --tenant t1 --role writer)
check "token printed on the last line" "plt_" "${W1:0:4}"
check "token length" "68" "${#W1}"
"$planar" token create --lake "$lakeuri" --role writer >/dev/null 2>&1; check "writer needs a tenant" "1" "$([ $? -ne 0 ] && echo 1)"
"$planar" token create --lake "$lakeuri" --role admin --tenant t1 >/dev/null 2>&1; check "admin has no tenant" "1" "$([ $? -ne 0 ] && echo 1)"
"$planar" token create --lake "$lakeuri" --tenant t1 --role boss >/dev/null 2>&1; check "unknown role refused" "1" "$([ $? -ne 0 ] && echo 1)"
list=$("$planar" token list --lake "$lakeuri")
check "token list" "5" "$(printf '%s\n' "$list" | wc -l)"
case "$list" in *plt_*) fail=$((fail + 1)); echo "FAIL token list shows a token" ;; *) pass=$((pass + 1)) ;; esac
check "only hashes stored" "0" "$(cat_sql "SELECT count(*) FROM planar_service_token WHERE token_hash LIKE ''plt_%''")"
gone_id=$(printf '%s\n' "$list" | tail -n 1 | cut -f1)
"$planar" token revoke --lake "$lakeuri" "$gone_id" >/dev/null; check "revoke" "0" "$?"
"$planar" token revoke --lake "$lakeuri" "$gone_id" >/dev/null 2>&1; check "revoke twice fails" "1" "$?"

# ---- server ----
"$planar" serve --lake "$lakeuri" --data-path "$work/data/" --listen 127.0.0.1:0 --max-body 65536 --row-cap 50 \
  --audit-flush-ms 50 --query-timeout-ms 8000 --max-in-flight 1 2> "$work/log" &
pid=$!
port=$(listening_port "$work/log" "$pid")
[ -n "$port" ] || { echo "server did not start:"; cat "$work/log"; exit 1; }
base="http://127.0.0.1:$port"
# req METHOD PATH TOKEN [curl args...]: sets code and body
req() {
  local m=$1 p=$2 t=$3; shift 3
  local auth=()
  [ -n "$t" ] && auth=(-H "Authorization: Bearer $t")
  code=$(curl -s -o "$work/body" -w '%{http_code}' -X "$m" "${auth[@]}" "$@" "$base$p")
  body=$(cat "$work/body")
}
json() { req POST "$1" "$2" -H 'Content-Type: application/json' --data-binary "$3"; }
q() { local t=$1 sql=$2; shift 2; req GET /data/query "$t" -G --data-urlencode "sql=$sql" "$@"; }

req GET /healthz ""; check "healthz" "200" "$code"; has "healthz body" '"ok"' "$body"
req GET /readyz ""; check "readyz" "200" "$code"; has "readyz snapshot" '"snapshot_id"' "$body"
sv=$(printf '%s' "$body" | sed -n 's/.*"schema_version":\([0-9]*\).*/\1/p')
req POST /healthz ""; check "healthz wrong method" "405" "$code"

req GET /data/query ""; check "no token" "401" "$code"; has "401 body" '"code":"unauthorized"' "$body"
req GET /data/query "plt_0000"; check "unknown token" "401" "$code"
req GET /data/query "$GONE" -G --data-urlencode "sql=SELECT 1"; check "revoked token" "401" "$code"
req GET /data/query "" -H "Authorization: Basic abc"; check "not a bearer token" "401" "$code"
req GET /nowhere "$AD"; check "unknown route" "404" "$code"; has "error shape" '"error":{"code":"not_found","message":' "$body"
req GET /data/../data/query "$AD"; check "path tricks do not route" "true" "$([ "$code" = 404 ] || [ "$code" = 400 ] || [ "$code" = 401 ] && echo true)"

# ---- ingest ----
rec1='{"id":1,"name":"a","score":1.5,"ok":true,"ts":"2024-01-01 00:00:00","tags":["x","y"],"meta":{"a":1,"b":"q"}}'
json /data/ingest "$W1" "{\"table\":\"ev\",\"tenant_id\":\"t1\",\"job_id\":\"j1\",\"schema_version\":$sv,\"records\":[$rec1,{\"id\":2}]}"
check "ingest" "201" "$code"; has "partition_id" '"partition_id":"' "$body"; has "row_count" '"row_count":2' "$body"
snap=$(printf '%s' "$body" | sed -n 's/.*"snapshot_id":\([0-9]*\).*/\1/p')
json /data/ingest "$W1" "{\"table\":\"main.ev\",\"tenant_id\":\"t1\",\"job_id\":\"j2\",\"schema_version\":\"$sv\",\"records\":[{\"id\":3}]}"
check "ingest schema.table, schema_version as text" "201" "$code"
b1=; for k in 1 2; do
  req POST /data/ingest "$W1" -H 'Content-Type: application/json' -H 'Idempotency-Key: key-1' \
    --data-binary "{\"table\":\"ev\",\"tenant_id\":\"t1\",\"job_id\":\"j3\",\"schema_version\":$sv,\"records\":[{\"id\":4}]}"
  check "idempotent ingest $k" "201" "$code"
  [ -z "$b1" ] && b1=$body
done
check "retry gets the first answer" "$b1" "$body"
# a crash between the commit and the settled lineage row leaves the row pending (it names the
# commit message): the answer is rebuilt from the commit
cmsg=$(lake -c "SELECT commit_message FROM ducklake_snapshots('lake') WHERE commit_extra_info LIKE '%key-1%'")
pid1=$(printf '%s' "$b1" | sed -n 's/.*"partition_id":"\([^"]*\)".*/\1/p')
check "lineage row made pending" "1" "$(cat_sql "UPDATE planar_service_ingest SET snapshot_id = NULL, response = ''{\"pending_commit\":\"$cmsg\",\"partition_id\":\"$pid1\"}'' WHERE idempotency_key = ''key-1'' RETURNING 1")"
req POST /data/ingest "$W1" -H 'Content-Type: application/json' -H 'Idempotency-Key: key-1' \
  --data-binary "{\"table\":\"ev\",\"tenant_id\":\"t1\",\"job_id\":\"j3\",\"schema_version\":$sv,\"records\":[{\"id\":4}]}"
check "retry without the lineage row" "201" "$code"
check "retry without the lineage row gets the first answer" "$b1" "$body"
json /data/ingest "$W1" "{\"table\":\"dflt\",\"tenant_id\":\"t1\",\"job_id\":\"jd\",\"schema_version\":$sv,\"records\":[{\"a\":1},{\"a\":2,\"b\":3,\"c\":null}]}"
check "ingest with defaults" "201" "$code"
q "$W1" "SELECT a, b, c FROM dflt ORDER BY a"; has "missing fields take defaults" '"rows":[[1,7,"x"],[2,3,null]]' "$body"
q "$W1" "SELECT count(*) FROM ev"; has "rows written once" '"rows":[[4]]' "$body"
json /data/ingest "$W1" "{\"table\":\"ev\",\"tenant_id\":\"t1\",\"job_id\":\"j\",\"schema_version\":$sv,\"records\":[{\"id\":5},{\"idx\":1}]}"
check "unknown field" "422" "$code"; has "names record" '"record":1' "$body"; has "names field" '"field":"idx"' "$body"
json /data/ingest "$W1" "{\"table\":\"ev\",\"tenant_id\":\"t1\",\"job_id\":\"j\",\"schema_version\":$sv,\"records\":[{\"id\":\"seven\"}]}"
check "wrong type" "422" "$code"; has "wrong type names field" '"field":"id"' "$body"
json /data/ingest "$W1" "{\"table\":\"ev\",\"tenant_id\":\"t1\",\"job_id\":\"j\",\"schema_version\":$sv,\"records\":[{\"id\":6},{\"id\":7},{\"name\":\"x\"}]}"
check "missing required field" "422" "$code"; has "missing names record" '"record":2' "$body"
json /data/ingest "$W1" "{\"table\":\"ev\",\"tenant_id\":\"t1\",\"job_id\":\"j\",\"schema_version\":$sv,\"records\":[{\"id\":300000000000000000000}]}"
check "integer out of range" "true" "$([ "$code" = 422 ] || [ "$code" = 400 ] && echo true)"
json /data/ingest "$W1" "{\"table\":\"ev\",\"tenant_id\":\"t1\",\"job_id\":\"j\",\"schema_version\":$((sv - 1)),\"records\":[{\"id\":8}]}"
check "stale schema_version" "409" "$code"; has "current version" "\"current_schema_version\":$sv" "$body"
json /data/ingest "$W1" "{\"table\":\"ev\",\"tenant_id\":\"t2\",\"job_id\":\"j\",\"schema_version\":$sv,\"records\":[{\"id\":9}]}"
check "other tenant" "403" "$code"
json /data/ingest "$R1" "{\"table\":\"ev\",\"tenant_id\":\"t1\",\"job_id\":\"j\",\"schema_version\":$sv,\"records\":[{\"id\":9}]}"
check "reader may not ingest" "403" "$code"
json /data/ingest "$W1" "{\"table\":\"nope\",\"tenant_id\":\"t1\",\"job_id\":\"j\",\"schema_version\":$sv,\"records\":[{\"id\":9}]}"
check "unknown table" "404" "$code"
json /data/ingest "$W1" "{\"table\":\"ev\",\"tenant_id\":\"t1\",\"job_id\":\"j\",\"schema_version\":$sv,\"records\":[]}"
check "empty records" "400" "$code"
json /data/ingest "$W1" '{"table":"ev", "records": [1,'
check "malformed JSON" "400" "$code"; has "malformed names JSON" '"code":"bad_request"' "$body"
printf '{"table":"ev\xff\xfe","tenant_id":"t1","job_id":"j","schema_version":%s,"records":[{"id":1}]}' "$sv" > "$work/bad-utf8"
req POST /data/ingest "$W1" -H 'Content-Type: application/json' --data-binary "@$work/bad-utf8"
check "invalid UTF-8" "400" "$code"
req POST /data/ingest "$W1" -H 'Content-Type: text/plain' --data-binary '{}'
check "wrong content type" "415" "$code"
json /data/ingest "$W1" '[1,2]'; check "body not an object" "400" "$code"
head -c 100000 /dev/zero | tr '\0' 'a' > "$work/big"
req POST /data/ingest "$W1" -H 'Content-Type: application/json' --data-binary "@$work/big"
check "body over the limit" "413" "$code"
req POST /data/ingest "$W1" -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' --data-binary "@$work/big"
check "chunked body over the limit" "413" "$code"
req POST /data/ingest "" -H 'Content-Type: application/json' --data-binary "@$work/big"
check "over the limit before auth" "413" "$code"
req GET /data/ingest "$W1"; check "ingest wrong method" "405" "$code"
q "$W1" "SELECT count(*) FROM ev"; has "nothing written by refused requests" '"rows":[[4]]' "$body"

# ---- query ----
q "$R1" "SELECT id, name, score, ok, ts, tags, meta FROM ev WHERE id = 1"
check "query" "200" "$code"
has "typed values" '"rows":[[1,"a",1.5,true,"2024-01-01T00:00:00",["x","y"],{"a":1,"b":"q"}]]' "$body"
has "column types" '{"name":"score","type":"DOUBLE"}' "$body"
req POST /data/query "$R1" -H 'Content-Type: application/json' --data-binary '{"sql":"SELECT id FROM ev ORDER BY id","tenant_id":"t1","limit":2}'
check "POST query" "200" "$code"; has "limit" '"rows":[[1],[2]],"row_count":2,"truncated":true' "$body"
q "$R1" "SELECT x FROM range(1000) r(x)"; has "row cap" '"row_count":50,"truncated":true' "$body"
req GET /data/query "$R1" -G --data-urlencode "sql=SELECT 1" --data-urlencode "tenant_id=t2"; check "query for another tenant" "403" "$code"
req GET /data/query "$AD" -G --data-urlencode "sql=SELECT 1" --data-urlencode "tenant_id=t2"; check "admin queries any tenant" "200" "$code"
req GET "/data/query?sql=SELECT%20%27%ff%27" "$R1"; check "invalid UTF-8 in sql" "400" "$code"
req GET /data/query "$R1"; check "sql missing" "400" "$code"
q "$R1" "SELECT * FROM ev WHERE"; check "syntax error" "400" "$code"
q "$R1" "SELECT error('boom')"; check "runtime error" "400" "$code"
q "$R1" "SELECT count(*) FROM ev AT (VERSION => $snap)"; check "time travel" "200" "$code"; has "time travel rows" '"rows":[[2]]' "$body"
req GET /data/query "$R1" -G --data-urlencode "sql=SELECT count(*) FROM ev" --data-urlencode "as_of=$snap"
check "as_of" "200" "$code"; has "as_of rows" '"rows":[[2]]' "$body"
req POST /data/query "$R1" -H 'Content-Type: application/json' --data-binary "{\"sql\":\"SELECT count(*) FROM ev\",\"as_of\":$snap}"
check "POST as_of" "200" "$code"; has "POST as_of rows" '"rows":[[2]]' "$body"
req GET /data/query "$R1" -G --data-urlencode "sql=SELECT count(*) FROM lake.ev" --data-urlencode "as_of=$snap"
check "as_of may not reach the live lake" "400" "$code"
req GET /data/query "$R1" -G --data-urlencode "sql=SELECT count(*) FROM ev" --data-urlencode "as_of=99999"
check "as_of unknown snapshot" "404" "$code"
req GET /data/query "$R1" -G --data-urlencode "sql=SELECT count(*) FROM ev" --data-urlencode "as_of=yesterday"
check "as_of not a snapshot id" "400" "$code"
q "$R1" "SELECT count(*) FROM lake_at_$snap.ev"; check "pinned attachment not reachable without as_of" "400" "$code"
q "$R1" "SELECT count(*) FROM ev"; has "after as_of the session reads the live lake" '"rows":[[4]]' "$body"
q "$R1" "WITH a AS (SELECT id FROM ev), b AS (SELECT * FROM a) SELECT count(*) FROM b"; check "CTEs" "200" "$code"
q "$R1" "FROM ev SELECT count(*)"; check "FROM-first" "200" "$code"
q "$R1" "SELECT sum(x) FROM range(1000000000000) r(x)"; check "query time limit" "503" "$code"
has "time limit named" "time limit" "$body"
q "$R1" "SELECT 42"; check "next query after a timeout" "200" "$code"
hostile=(
  "SELECT * FROM read_csv('/etc/passwd')"
  "SELECT * FROM read_csv_auto('/etc/passwd')"
  "SELECT * FROM read_text('/etc/passwd')"
  "SELECT * FROM read_blob('/etc/passwd')"
  "SELECT * FROM read_parquet('$work/data/**/*.parquet')"
  "SELECT * FROM read_json('/etc/passwd')"
  "SELECT * FROM '/etc/passwd'"
  "SELECT * FROM 'x.parquet'"
  "SELECT * FROM glob('/*')"
  "SELECT * FROM parquet_scan('x.parquet')"
  "SELECT * FROM parquet_metadata('x.parquet')"
  "COPY ev TO '$work/stolen.csv'"
  "COPY (SELECT 1) TO '$work/stolen.csv'"
  "EXPORT DATABASE '$work/exp'"
  "ATTACH '$work/x.db' AS x"
  "DETACH lake"
  "INSTALL httpfs"
  "LOAD httpfs"
  "SET threads = 1"
  "RESET threads"
  "PRAGMA version"
  "PRAGMA database_list"
  "CALL pragma_version()"
  "INSERT INTO ev VALUES (99)"
  "DELETE FROM ev"
  "UPDATE ev SET id = 0"
  "DROP TABLE ev"
  "CREATE TABLE x AS SELECT 1"
  "CREATE TEMP TABLE x AS SELECT 1"
  "CREATE MACRO m() AS 1"
  "ALTER TABLE ev ADD COLUMN z INT"
  "TRUNCATE ev"
  "BEGIN"
  "CHECKPOINT"
  "VACUUM"
  "USE memory"
  "SELECT 1; DROP TABLE ev"
  "SELECT 1; SELECT 2"
  "SELECT * FROM duckdb_tables()"
  "SELECT * FROM duckdb_settings()"
  "SELECT * FROM duckdb_databases()"
  "SELECT * FROM duckdb_secrets()"
  "SELECT * FROM duckdb_extensions()"
  "SELECT * FROM duckdb_functions()"
  "SELECT * FROM duckdb_tables"
  "SELECT * FROM duckdb_settings"
  "SELECT * FROM information_schema.tables"
  "SELECT * FROM information_schema.columns"
  "SELECT * FROM information_schema.schemata"
  "SELECT * FROM pg_catalog.pg_tables"
  "SELECT * FROM pg_tables"
  "SELECT * FROM sqlite_master"
  "SELECT * FROM system.main.duckdb_settings"
  "SELECT * FROM memory.main.x"
  "SELECT * FROM temp.main.x"
  "SELECT * FROM __ducklake_metadata_lake.main.ducklake_table"
  "SELECT * FROM __ducklake_metadata_lake.ducklake_snapshot"
  "SELECT * FROM ducklake_snapshots('lake')"
  "SELECT * FROM ducklake_table_info('lake')"
  "SELECT * FROM ducklake_list_files('lake', 'ev')"
  "SELECT * FROM ducklake_table_changes('lake', 'main', 'ev', 0, 10)"
  "SELECT * FROM lake.snapshots()"
  "SELECT * FROM __planar_cat('lake', 'SELECT 1')"
  "SELECT __planar_cat('lake', 'SELECT 1')"
  "SELECT * FROM query('SELECT 1')"
  "SELECT * FROM query_table('ev')"
  "SELECT * FROM json_execute_serialized_sql('x')"
  "SELECT getenv('HOME')"
  "SELECT current_setting('threads')"
  "SELECT current_database()"
  "SELECT current_schemas(true)"
  "SELECT which_secret('s3://x', 's3')"
  "SELECT * FROM sniff_csv('/etc/passwd')"
  "SELECT system.main.getenv('HOME')"
  "SELECT lake.main.f()"
  "SELECT * FROM (WITH duckdb_settings AS (SELECT 1) SELECT 1), duckdb_settings"
  "WITH a AS (SELECT * FROM duckdb_settings), duckdb_settings AS (SELECT 1) SELECT * FROM a"
  "SELECT * FROM ev, read_csv('/etc/passwd')"
  "SELECT (SELECT count(*) FROM read_csv('/etc/passwd'))"
  "SELECT * FROM ev WHERE id IN (SELECT 1 FROM glob('/*'))"
  "SELECT * FROM ev UNION ALL SELECT * FROM read_csv('/etc/passwd')"
  "SELECT list_transform([1], x -> getenv('HOME'))"
  "DESCRIBE ev"
  "DESCRIBE SELECT * FROM duckdb_settings()"
  "SUMMARIZE ev"
  "SHOW TABLES"
  "SHOW ALL TABLES"
  "EXPLAIN SELECT 1"
  "EXPLAIN ANALYZE SELECT 1"
  "SELECT nextval('s')"
  "SELECT * FROM secret_other_missing"
  "SELECT * FROM t2.ev"
  ""
  "   "
  "-- only a comment"
)
for hq in "${hostile[@]}"; do
  q "$R1" "$hq"
  if [ "$code" = 400 ] || [ "$code" = 403 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL hostile query allowed ($code): $hq: $body"; fi
done
check "no file written by hostile queries" "0" "$(ls "$work" | grep -c -E 'stolen|exp|x.db')"
q "$R1" "SELECT count(*) FROM ev"; has "lake unchanged by hostile queries" '"rows":[[4]]' "$body"

# ---- /openapi.json describes exactly the routes the server has; /metrics ----
req GET /openapi.json ""; check "openapi" "200" "$code"; has "openapi 3.1" '"openapi":"3.1.0"' "$body"
ops=0
for path in $(printf '%s' "$body" | grep -o '"/[a-z/._]*":{"[a-z]*"' | sed 's/"\(\/[a-z\/._]*\)":{"\([a-z]*\)"/\1:\2/'); do
  p=${path%%:*} m=$(printf '%s' "${path#*:}" | tr a-z A-Z)
  if [ "$m" = POST ]; then req POST "$p" "$AD" -H 'Content-Type: application/json' --data-binary '{}'; else req GET "$p" "$AD"; fi
  ops=$((ops + 1))
  if [ "$code" = 404 ] || [ "$code" = 405 ]; then fail=$((fail + 1)); echo "FAIL documented $m $p answers $code"; else pass=$((pass + 1)); fi
done
check "openapi documents the fourteen routes" "14" "$ops"
for p in /healthz /readyz /metrics /openapi.json /data/ingest /data/query /data/retrieve /mcp; do
  has "openapi documents $p" "\"$p\":{" "$(curl -s "$base/openapi.json")"
done
req GET /metrics ""; check "metrics" "200" "$code"
has "metrics requests by route and status" 'planar_serve_requests_total{route="ingest",status="201"}' "$body"
has "metrics latency histogram" 'planar_serve_request_seconds_bucket{route="query",status="200",le="+Inf"}' "$body"
has "metrics ingested rows" 'planar_serve_ingested_rows_total 6' "$body"

# ---- audit and lineage ----
sleep 0.3 # the audit writer flushes every 50 ms; the final check below runs after shutdown anyway
# ---- SIGTERM drains a request in flight ----
curl -s -o "$work/slow" -w '%{http_code}' -G -H "Authorization: Bearer $AD" "$base/data/query" \
  --data-urlencode "sql=SELECT sum(x) FROM range(150000000) r(x)" > "$work/slow_code" &
cpid=$!
# SIGTERM once the query is in flight (the /metrics request counts itself too)
for _ in $(seq 1 400); do
  n=$(curl -s "$base/metrics" | sed -n 's/^planar_serve_requests_in_flight \([0-9]*\)/\1/p')
  [ "${n:-0}" -ge 2 ] && break
  sleep 0.025
done
# (the reply's headers are kept: the slow query may end before another request is sent)
q "$R1" "SELECT 1" -D "$work/headers"
if [ "${n:-0}" -ge 2 ]; then
  check "a data request over --max-in-flight" "429" "$code"
  has "429 body" '"code":"too_many_requests"' "$body"
  check "429 carries Retry-After" "1" "$(grep -ci '^retry-after: 1' "$work/headers")"
else # the query ended before it was seen in flight: nothing to check here
  echo "NOTE: the slow query finished before it was seen in flight; 429 not checked this run"
fi
kill -TERM "$pid"
wait "$cpid"
check "request in flight completes during drain" "200" "$(cat "$work/slow_code")"
has "drained answer" '"rows":[[' "$(cat "$work/slow")"
wait "$pid"; check "server exits 0 after SIGTERM" "0" "$?"
pid=
has "drain logged" '"event":"draining"' "$(cat "$work/log")"
has "stop logged" '"event":"stopped"' "$(cat "$work/log")"
nlog=$(grep -c '"request_id"' "$work/log")
check "one log line per request (all JSON)" "$nlog" "$(grep '"request_id"' "$work/log" | grep -c '^{.*}$')"
has "log line fields" '"route":"ingest","status":201' "$(cat "$work/log")"
audited=$(cat_sql "SELECT count(*) FROM planar_service_audit")
check "audit rows written" "1" "$([ "$audited" -gt 100 ] && echo 1)"
check "audit of refused query" "1" "$([ "$(cat_sql "SELECT count(*) FROM planar_service_audit WHERE status = 400 AND route = ''query''")" -gt 50 ] && echo 1)"
check "audit names tenant and rows" "1" "$(cat_sql "SELECT count(*) FROM planar_service_audit WHERE tenant_id = ''t1'' AND route = ''ingest'' AND status = 201 AND rows_touched = 2 AND target = ''ev''")"
check "lineage rows" "4" "$(cat_sql "SELECT count(*) FROM planar_service_ingest")"
check "ingest commits carry their lineage" "4" "$(lake -c "SELECT count(*) FROM ducklake_snapshots('lake') WHERE author = 'planar serve' AND commit_message LIKE 'ingest %' AND commit_extra_info LIKE '%partition_id%'")"
check "the commit names the partition" "1" "$(lake -c "SELECT count(*) FROM ducklake_snapshots('lake') WHERE snapshot_id = $snap AND commit_extra_info LIKE '%\"job_id\":\"j1\"%'")"
check "lineage names the snapshot" "1" "$(cat_sql "SELECT count(*) FROM planar_service_ingest WHERE snapshot_id = $snap AND job_id = ''j1'' AND row_count = 2")"
check "lineage rows trace to the request" "2" "$(lake -c "SELECT count(*) FROM ducklake_table_insertions('lake', 'main', 'ev', $snap, $snap)")"

# ---- TLS (--tls-cert/--tls-key), with a self-signed certificate from openssl(1) ----
skipped=
if command -v openssl >/dev/null 2>&1 && openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" \
    -out "$work/cert.pem" -days 2 -subj "/CN=127.0.0.1" >/dev/null 2>&1; then
  "$planar" serve --lake "$lakeuri" --listen 127.0.0.1:0 --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" 2> "$work/tlslog" &
  pid=$!
  port=$(listening_port "$work/tlslog" "$pid")
  check "TLS healthz" "200" "$(curl -s -k -o /dev/null -w '%{http_code}' "https://127.0.0.1:$port/healthz")"
  has "TLS query" '"rows":[[4]]' "$(curl -s -k -G -H "Authorization: Bearer $R1" "https://127.0.0.1:$port/data/query" --data-urlencode "sql=SELECT count(*) FROM ev")"
  check "plain HTTP refused on the TLS port" "000" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")"
  kill -TERM "$pid"; wait "$pid"; check "TLS server stops" "0" "$?"
  pid=
else
  skipped="no openssl(1): TLS not tested"
fi
"$planar" serve --lake "$lakeuri" --tls-cert "$work/cert.pem" >/dev/null 2>&1; check "--tls-cert needs --tls-key" "2" "$?"

# ---- stalled clients and too many connections (a server with a 1 s idle timeout, 3 connections) ----
printf '# a configuration file\nlake = %s\nlisten = 127.0.0.1:0\n\nthreads = 1\ntimeout = 30\n' "$lakeuri" > "$work/serve.conf"
printf 'lake = %s\nno-such-option = 1\n' "$lakeuri" > "$work/bad.conf"
"$planar" serve --config "$work/bad.conf" 2>/dev/null; check "bad configuration file refused" "2" "$?"
# the file, then the environment (timeout 1 wins over the file's 30), then the command line
PLANAR_SERVE_TIMEOUT=1 PLANAR_SERVE_MAX_CONNECTIONS=30 "$planar" serve --config "$work/serve.conf" --max-connections 3 \
  2> "$work/limitlog" &
pid=$!
port=$(listening_port "$work/limitlog" "$pid")
exec 5<>"/dev/tcp/127.0.0.1/$port" 6<>"/dev/tcp/127.0.0.1/$port" 7<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n' >&5   # headers never finished
printf 'POST /data/ingest HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"a' >&6   # body never finished
# over the limit a connection waits in the listen backlog until the idle timeout frees a slot
check "a connection over the limit is served once a stalled one is dropped" "200" \
  "$(curl -s -o /dev/null -m 20 -w '%{http_code}' "http://127.0.0.1:$port/healthz")"
sleep 3 # past the idle timeout: the server drops the stalled connections
got=$(timeout 5 cat <&5; echo "eof=$?")
check "a stalled client is dropped" "eof=0" "$got"
exec 5>&- 6>&- 7>&-
check "the server answers after dropping stalled clients" "200" "$(curl -s -o /dev/null -m 5 -w '%{http_code}' "http://127.0.0.1:$port/healthz")"
PLANAR_SERVE_THREADS=0 "$planar" serve --lake "$lakeuri" >/dev/null 2>&1; check "invalid environment value refused" "2" "$?"
kill -TERM "$pid"; wait "$pid"; check "limits server stops" "0" "$?"
pid=

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ] || exit 1
[ -z "$skipped" ] || { echo "$skipped"; exit 77; }
