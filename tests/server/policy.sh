#!/usr/bin/env bash
# Tenant policies, world-model snapshots, retention, quotas, the data-plane tables and query
# paging of `planar serve`, end to end over an embedded SQLite lake in a temporary directory:
# policy CRUD (admin only), allowed_tables on ingest, query (with hostile queries that try to
# see other tables) and snapshots, snapshots create/get/list/replay (as_of), cursors, usage and
# the 507 quota answer, and a retention pass removing old rows and their files.
#   tests/server/policy.sh PATH/TO/planar
# Needs curl(1); exits 77 (skipped) without it.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
http_test_start "$1"
lakeuri="sqlite:$work/meta.sqlite"
lake() { "$planar" -csv -noheader --lake "$lakeuri" --data-path "$work/data/" "$@"; }
cat_sql() { PLANAR_TEST_CATALOG_SQL=1 lake -c "SELECT * FROM __planar_cat('lake', '$1')"; }

lake -c "CREATE TABLE ev(id BIGINT NOT NULL, tenant_id VARCHAR, v VARCHAR)" \
  -c "CREATE TABLE other(x INT)" -c "INSERT INTO other VALUES (42)" \
  -c "CREATE SCHEMA sec" -c "CREATE TABLE sec.hidden(s VARCHAR)" -c "INSERT INTO sec.hidden VALUES ('secret')" \
  || { echo "setup failed"; exit 1; }
mk() { "$planar" token create --lake "$lakeuri" "$@" | tail -n 1; }
W1=$(mk --tenant t1 --role writer)
R1=$(mk --tenant t1 --role reader)
W2=$(mk --tenant t2 --role writer)
AD=$(mk --role admin)

start() {
  : > "$work/log" # emptied first: the last server's port must not be read as this one's
  "$planar" serve --lake "$lakeuri" --data-path "$work/data/" --listen 127.0.0.1:0 --retention-interval 0 --inline-rows 10 \
    --audit-flush-ms 50 "$@" 2> "$work/log" &
  pid=$!
  port=$(listening_port "$work/log" "$pid")
  [ -n "$port" ] || { echo "server did not start:"; cat "$work/log"; exit 1; }
  base="http://127.0.0.1:$port"
}
start --row-cap 1000
req() {
  local m=$1 p=$2 t=$3; shift 3
  local auth=()
  [ -n "$t" ] && auth=(-H "Authorization: Bearer $t")
  code=$(curl -s -o "$work/body" -w '%{http_code}' -X "$m" "${auth[@]}" "$@" "$base$p")
  body=$(cat "$work/body")
}
json() { req "$1" "$2" "$3" -H 'Content-Type: application/json' --data-binary "$4"; }
q() { req GET /data/query "$1" -G --data-urlencode "sql=$2" "${@:3}"; }
field() { printf '%s' "$body" | sed -n "s/.*\"$1\":\"\\{0,1\\}\\([^,\"}]*\\).*/\\1/p"; }

# ---- the data-plane tables exist after the first start ----
q "$AD" "SELECT count(*) FROM world_model.snapshots"; check "world_model.snapshots exists" "200" "$code"
for t in event_log.ros_navigation_trials event_log.object_detections event_log.agent_traces experiments simulation_runs job_outcomes; do
  q "$AD" "SELECT count(*) FROM $t"; check "data-plane table $t" "200" "$code"
done
check "four tables partitioned by day" "day,4" "$(cat_sql "SELECT transform, count(*) FROM ducklake_partition_column GROUP BY transform")"
has "created once" '"data_plane_tables_created"' "$(cat "$work/log")"
req GET /readyz ""; sv=$(field schema_version)

ingest() { # ingest TOKEN TENANT TABLE RECORDS
  json POST /data/ingest "$1" "{\"table\":\"$3\",\"tenant_id\":\"$2\",\"job_id\":\"j\",\"schema_version\":$sv,\"records\":$4}"
}
# ---- policy CRUD ----
json PUT /data/policy "$W1" '{"tenant_id":"t1","allowed_tables":["ev"]}'; check "policy put by a tenant token" "403" "$code"
json PUT /data/policy "$R1" '{"tenant_id":"t1"}'; check "policy put by a reader" "403" "$code"
json PUT /data/policy "$AD" '{"tenant_id":"t1","retention_days":"x"}'; check "retention_days type" "422" "$code"; has "names the field" '"field":"retention_days"' "$body"
json PUT /data/policy "$AD" '{"tenant_id":"t1","allowed_tables":["ev",7]}'; check "allowed_tables element" "422" "$code"; has "names the element" '"field":"allowed_tables[1]"' "$body"
json PUT /data/policy "$AD" '{"tenant_id":"t1","max_storage_gb":-1}'; check "max_storage_gb" "422" "$code"
json PUT /data/policy "$AD" '{"tenant_id":"t1","colour":"red"}'; check "unknown field" "422" "$code"
json PUT /data/policy "$AD" '{"retention_days":3}'; check "tenant_id required" "422" "$code"
req GET /data/policy "$W1"; check "no policy yet" "200" "$code"; has "not configured" '"configured":false' "$body"
json PUT /data/policy "$AD" '{"tenant_id":"t1","retention_days":30,"allowed_tables":["ev","world_model.snapshots","event_log.*"],"max_storage_gb":1.5}'
check "policy put" "200" "$code"; has "policy stored" '"allowed_tables":["ev","world_model.snapshots","event_log.*"]' "$body"
has "max_storage_gb echoed" '"max_storage_gb":1.5' "$body"
req GET /data/policy "$R1"; check "tenant reads its policy" "200" "$code"; has "retention" '"retention_days":30' "$body"
req GET /data/policy "$W1" -G --data-urlencode tenant_id=t2; check "tenant reads another's policy" "403" "$code"
req GET /data/policy "$AD" -G --data-urlencode tenant_id=t1; check "admin reads any policy" "200" "$code"
req GET /data/policy "$AD"; check "admin names the tenant" "400" "$code"
req DELETE /data/policy "$AD"; check "policy wrong method" "405" "$code"
req GET /data/policy ""; check "policy needs a token" "401" "$code"

# ---- allowed_tables: ingest ----
ingest "$W1" t1 ev '[{"id":1,"tenant_id":"t1"},{"id":2,"tenant_id":"t1"}]'; check "allowed ingest" "201" "$code"
ingest "$W1" t1 other '[{"x":1}]'; check "ingest into a table not allowed" "403" "$code"; has "names allowed_tables" '"reason":"allowed_tables"' "$body"
ingest "$W1" t1 event_log.agent_traces '[{"trace_id":"a"}]'; check "schema wildcard allows" "201" "$code"
ingest "$W2" t2 other '[{"x":2}]'; check "a tenant without policy writes any table" "201" "$code"

# ---- allowed_tables: query, hostile ----
q "$R1" "SELECT count(*) FROM ev"; check "allowed query" "200" "$code"; has "allowed rows" '"rows":[[2]]' "$body"
q "$R1" "SELECT * FROM other"; check "not allowed table" "400" "$code"; e_other=$(printf '%s' "$body" | sed 's/other/X/g')
q "$R1" "SELECT * FROM nosuch"; e_none=$(printf '%s' "$body" | sed 's/nosuch/X/g')
check "refusal does not tell whether the table exists" "$e_none" "$e_other"
hostile=(
  "SELECT * FROM sec.hidden"
  "SELECT * FROM lake.main.other"
  "SELECT * FROM lake.sec.hidden"
  "SELECT * FROM ev, other"
  "SELECT * FROM ev WHERE id IN (SELECT x FROM other)"
  "WITH a AS (SELECT * FROM other) SELECT * FROM a"
  "SELECT (SELECT max(s) FROM sec.hidden)"
  "SELECT * FROM information_schema.tables"
  "SELECT * FROM information_schema.columns"
  "SELECT * FROM duckdb_tables()"
  "SELECT * FROM duckdb_columns()"
  "SELECT table_name FROM duckdb_tables"
  "SELECT * FROM ducklake_snapshots('lake')"
  "SELECT * FROM ducklake_table_info('lake')"
  "SELECT * FROM lake.snapshots()"
  "SELECT * FROM lake.table_info()"
  "SELECT * FROM table_changes('other', 0, 100)"
  "SELECT * FROM ducklake_table_changes('lake', 'main', 'other', 0, 100)"
  "SELECT * FROM ducklake_table_insertions('lake', 'sec', 'hidden', 0, 100)"
  "SELECT * FROM other AT (VERSION => 1)"
  "SELECT * FROM pg_catalog.pg_tables"
  "SELECT * FROM sqlite_master"
  "SELECT * FROM __ducklake_metadata_lake.ducklake_table"
  "SELECT * FROM query('SELECT * FROM other')"
  "SELECT * FROM query_table('other')"
  "SELECT * FROM read_parquet('$work/data/main/other/*.parquet')"
  "SELECT * FROM \"other\""
  "SELECT * FROM OTHER"
  "SELECT * FROM main.other"
  "SELECT * FROM lake_at_1.other"
)
for h in "${hostile[@]}"; do
  q "$R1" "$h"; check "hostile: $h" "400" "$code"
  hasnt "hostile leaks: $h" "secret" "$body"; hasnt "hostile leaks 42: $h" '[42]' "$body"
done
req GET /data/query "$R1" -G --data-urlencode "sql=SELECT * FROM other" --data-urlencode as_of=1; check "as_of does not widen the tables" "400" "$code"
q "$AD" "SELECT * FROM other" --data-urlencode tenant_id=t1; check "admin acting for t1 gets t1's tables" "400" "$code"
q "$AD" "SELECT count(*) FROM other"; check "admin alone reads every table" "200" "$code"
q "$W2" "SELECT count(*) FROM sec.hidden"; check "tenant without policy reads every table" "200" "$code"

# ---- a tenant reads only its own rows of tables with tenant_id ----
W3=$(mk --tenant t3 --role writer)
ingest "$W3" t3 ev '[{"id":301,"tenant_id":"t3","v":"t3-secret"},{"id":302,"tenant_id":"t3"}]'; check "t3 ingest" "201" "$code"
q "$R1" "SELECT count(*) FROM ev"; has "t1 does not see t3's rows" '"rows":[[2]]' "$body"
q "$W3" "SELECT count(*), min(id) FROM ev"; has "t3 sees only its rows" '"rows":[[2,301]]' "$body"
q "$AD" "SELECT count(*) FROM ev"; has "admin sees all rows" '"rows":[[4]]' "$body"
q "$AD" "SELECT count(*) FROM ev" --data-urlencode tenant_id=t3; has "admin acting for t3" '"rows":[[2]]' "$body"
for h in "SELECT * FROM ev AS e WHERE e.tenant_id = 't3'" "SELECT v FROM main.ev WHERE id = 301" "SELECT v FROM lake.ev" \
  "WITH x AS (SELECT * FROM ev) SELECT v FROM x" "SELECT (SELECT max(v) FROM ev)" "SELECT v FROM ev UNION ALL SELECT v FROM lake.main.ev" \
  "SELECT a.v FROM ev a JOIN ev b USING (id)" "SELECT v FROM ev AT (VERSION => 100)"; do
  q "$R1" "$h"; hasnt "row filter: $h" "t3-secret" "$body"
done
q "$R1" "WITH ev AS (SELECT 'cte' AS v) SELECT v FROM ev"; has "a CTE named like the table is the CTE" '"rows":[["cte"]]' "$body"
q "$R1" "SELECT e.id, count(*) AS n FROM ev e GROUP BY ALL ORDER BY 1"; check "filtered query shape" "200" "$code"; has "filtered columns" '"columns":[{"name":"id","type":"BIGINT"},{"name":"n","type":"BIGINT"}]' "$body"

# ---- world-model snapshots ----
S1=0190a5f2-1111-7000-8000-000000000001 S2=0190a5f2-1111-7000-8000-000000000002 S3=0190a5f2-1111-7000-8000-000000000003
I1=0190a5f2-2222-7000-8000-00000000000a I2=0190a5f2-2222-7000-8000-00000000000b
snap() { # snap TOKEN ID INTENT TS [extra]
  json POST /data/snapshots "$1" "{\"snapshot_id\":\"$2\",\"intent_id\":\"$3\",\"timestamp\":\"$4\",\"agents_active\":[{\"role\":\"planner\",\"status\":\"running\",\"tool_call_count\":3}],\"user_plane\":{\"torch\":{\"jobs_in_flight\":2,\"gpu_util\":0.75},\"ros\":{\"jobs_in_flight\":0,\"gpu_util\":0.1}},\"causal_chain\":[{\"intent_id\":\"$3\",\"job_id\":\"job-1\",\"outcome\":\"ok\"}]${5:-}}"
}
snap "$W1" "$S1" "$I1" "2026-03-12T10:00:00Z"; check "snapshot stored" "201" "$code"; has "answer" "\"snapshot_id\":\"$S1\"" "$body"
pin1=$(field lake_snapshot_id)
first=$body
snap "$W1" "$S1" "$I1" "2026-03-12T10:00:00Z"; check "same snapshot again" "201" "$code"; check "same answer" "$first" "$body"
snap "$W1" "$S1" "$I1" "2026-03-12T10:00:01Z"; check "same id, other body" "409" "$code"
snap "$W2" "$S1" "$I1" "2026-03-12T10:00:00Z"; check "same id, other tenant" "409" "$code"
snap "$W1" "not-a-uuid" "$I1" "2026-03-12T10:00:00Z"; check "bad snapshot_id" "422" "$code"; has "names snapshot_id" '"field":"snapshot_id"' "$body"
snap "$W1" "$S2" "nope" "2026-03-12T10:00:00Z"; check "bad intent_id" "422" "$code"; has "names intent_id" '"field":"intent_id"' "$body"
snap "$W1" "$S2" "$I1" "yesterday"; check "bad timestamp" "422" "$code"; has "names timestamp" '"field":"timestamp"' "$body"
snap "$W1" "$S2" "$I1" "2026-13-12T10:00:00Z"; check "month 13" "422" "$code"
json POST /data/snapshots "$W1" "{\"snapshot_id\":\"$S2\",\"intent_id\":\"$I1\",\"timestamp\":\"2026-03-12T10:00:00Z\",\"agents_active\":[{\"role\":\"a\",\"status\":\"b\",\"tool_call_count\":\"3\"}],\"user_plane\":{},\"causal_chain\":[]}"
check "bad nested type" "422" "$code"; has "names nested field" '"field":"agents_active[0].tool_call_count"' "$body"
json POST /data/snapshots "$W1" "{\"snapshot_id\":\"$S2\",\"intent_id\":\"$I1\",\"timestamp\":\"2026-03-12T10:00:00Z\",\"agents_active\":[],\"user_plane\":[],\"causal_chain\":[]}"
check "user_plane type" "422" "$code"; has "names user_plane" '"field":"user_plane"' "$body"
json POST /data/snapshots "$W1" "{\"snapshot_id\":\"$S2\",\"intent_id\":\"$I1\",\"timestamp\":\"2026-03-12T10:00:00Z\",\"agents_active\":[],\"user_plane\":{},\"causal_chain\":[{\"intent_id\":\"x\"}]}"
check "causal_chain element" "422" "$code"; has "names causal_chain" '"field":"causal_chain[0].intent_id"' "$body"
snap "$R1" "$S2" "$I1" "2026-03-12T10:00:00Z"; check "reader may not store snapshots" "403" "$code"
snap "$W1" "$S2" "$I1" "2026-03-12T10:00:00Z" ',"tenant_id":"t2"'; check "tenant token for another tenant" "403" "$code"
snap "$AD" "$S2" "$I1" "2026-03-12T10:00:00Z"; check "admin must name the tenant" "422" "$code"
# rows written after the first snapshot: the replay must not see them
ingest "$W1" t1 ev '[{"id":3,"tenant_id":"t1"}]'; check "ingest after snapshot" "201" "$code"
snap "$W1" "$S2" "$I2" "2026-03-12T11:00:00+01:00"; check "second snapshot" "201" "$code"
snap "$W2" "$S3" "$I2" "2026-03-12T12:00:00Z"; check "t2 snapshot" "201" "$code"
req GET "/data/snapshots/$S1" "$R1"; check "get snapshot" "200" "$code"
has "get fields" "\"intent_id\":\"$I1\"" "$body"; has "timestamp ISO" '"timestamp":"2026-03-12T10:00:00' "$body"
has "json fields" '"agents_active":[{"role":"planner","status":"running","tool_call_count":3}]' "$body"
has "pinned" "\"lake_snapshot_id\":$pin1" "$body"
req GET "/data/snapshots/$S3" "$R1"; check "another tenant's snapshot" "404" "$code"
req GET "/data/snapshots/$S3" "$AD"; check "admin reads any snapshot" "200" "$code"
req GET "/data/snapshots/nope" "$R1"; check "snapshot id not a uuid" "400" "$code"
req GET /data/snapshots "$R1"; check "list" "200" "$code"; has "list count" '"count":2' "$body"; hasnt "list is tenant-scoped" "$S3" "$body"
req GET /data/snapshots "$R1" -G --data-urlencode "intent_id=$I2"; has "list by intent" '"count":1' "$body"; has "list by intent id" "$S2" "$body"
req GET /data/snapshots "$R1" -G --data-urlencode "from=2026-03-12T10:30:00Z"; has "list from" '"count":0' "$body"
req GET /data/snapshots "$R1" -G --data-urlencode "from=2026-03-12T09:00:00Z" --data-urlencode "to=2026-03-12T10:00:00Z"; has "list from-to" '"count":2' "$body"
req GET /data/snapshots "$R1" -G --data-urlencode "from=soon"; check "list bad from" "422" "$code"
req GET /data/snapshots "$AD"; has "admin lists all" '"count":3' "$body"
q "$R1" "SELECT count(*) FROM world_model.snapshots"; has "snapshot rows through the query API are the tenant's" '"rows":[[2]]' "$body"
q "$AD" "SELECT count(*) FROM world_model.snapshots"; has "admin queries all snapshot rows" '"rows":[[3]]' "$body"
# replay: as_of=<world-model snapshot id> sees the lake at that decision point
q "$R1" "SELECT count(*) FROM ev" --data-urlencode "as_of=$S1"; check "replay" "200" "$code"; has "replay state" '"rows":[[2]]' "$body"
q "$R1" "SELECT count(*) FROM ev" --data-urlencode "as_of=$S2"; has "replay later state" '"rows":[[3]]' "$body"
q "$R1" "SELECT count(*) FROM ev" --data-urlencode "as_of=$S3"; check "replay of another tenant's snapshot" "404" "$code"
q "$R1" "SELECT count(*) FROM ev"; has "live state" '"rows":[[3]]' "$body"
q "$R1" "SELECT count(*) FROM ev" --data-urlencode "as_of=2000-01-01T00:00:00Z"; check "as_of before the lake" "404" "$code"
q "$R1" "SELECT count(*) FROM ev" --data-urlencode "as_of=2999-01-01T00:00:00Z"; check "as_of timestamp" "200" "$code"; has "as_of timestamp state" '"rows":[[3]]' "$body"
# allowed_tables applies to snapshots
json PUT /data/policy "$AD" '{"tenant_id":"t2","allowed_tables":["other"]}'; check "t2 policy" "200" "$code"
req GET /data/snapshots "$W2"; check "snapshots not allowed" "403" "$code"
snap "$W2" 0190a5f2-1111-7000-8000-000000000009 "$I2" "2026-03-12T12:00:00Z"; check "snapshot write not allowed" "403" "$code"
q "$W2" "SELECT * FROM world_model.snapshots"; check "snapshot table not allowed in queries" "400" "$code"

# ---- paging ----
recs=$(for i in $(seq 100 124); do printf '%s{"id":%d,"tenant_id":"t1"}' "$([ $i = 100 ] || echo ,)" "$i"; done)
ingest "$W1" t1 ev "[$recs]"; check "ingest for paging" "201" "$code"
pq="SELECT id FROM ev WHERE id >= 100 ORDER BY id"
q "$R1" "$pq" --data-urlencode limit=10; check "page 1" "200" "$code"; has "page 1 rows" '"rows":[[100],[101],[102],[103],[104],[105],[106],[107],[108],[109]]' "$body"
has "page 1 truncated" '"truncated":true' "$body"; cur=$(field next_cursor); psnap=$(field snapshot_id)
check "cursor given" "true" "$([ -n "$cur" ] && [ "$cur" != null ] && echo true)"
ingest "$W1" t1 ev '[{"id":99999,"tenant_id":"t1"}]'; check "ingest between pages" "201" "$code"
q "$R1" "$pq" --data-urlencode limit=10 --data-urlencode "cursor=$cur"; check "page 2" "200" "$code"
has "page 2 rows" '"rows":[[110],[111],[112],[113],[114],[115],[116],[117],[118],[119]]' "$body"; check "same snapshot" "$psnap" "$(field snapshot_id)"
cur=$(field next_cursor)
q "$R1" "$pq" --data-urlencode limit=10 --data-urlencode "cursor=$cur"; has "page 3 rows" '"rows":[[120],[121],[122],[123],[124]]' "$body"
has "last page" '"next_cursor":null' "$body"; has "last page not truncated" '"truncated":false' "$body"
q "$R1" "SELECT 1" --data-urlencode "cursor=$cur"; check "cursor of another query" "400" "$code"
q "$W2" "$pq" --data-urlencode "cursor=$cur"; check "cursor of another tenant" "400" "$code"
q "$R1" "$pq" --data-urlencode "cursor=zzz"; check "garbage cursor" "400" "$code"
q "$R1" "$pq" --data-urlencode "cursor=$cur" --data-urlencode as_of=1; check "cursor and as_of" "400" "$code"
req POST /data/query "$R1" -H 'Content-Type: application/json' --data-binary "{\"sql\":\"$pq\",\"limit\":20}"
check "POST page" "200" "$code"; cur=$(field next_cursor)
req POST /data/query "$R1" -H 'Content-Type: application/json' --data-binary "{\"sql\":\"$pq\",\"limit\":20,\"cursor\":\"$cur\"}"
has "POST page 2 (its snapshot has the later row)" '"rows":[[120],[121],[122],[123],[124],[99999]]' "$body"

# ---- usage and quota ----
req GET /data/usage "$R1"; check "usage" "200" "$code"; has "usage bytes" '"usage_bytes":' "$body"
used=$(field usage_bytes)
check "usage counts the writes" "true" "$([ "${used:-0}" -gt 100 ] && echo true)"
req GET /data/usage "$R1" -G --data-urlencode tenant_id=t2; check "usage of another tenant" "403" "$code"
json PUT /data/policy "$AD" "{\"tenant_id\":\"t1\",\"retention_days\":30,\"allowed_tables\":[\"ev\",\"world_model.snapshots\",\"event_log.*\"],\"max_storage_gb\":$(awk "BEGIN{printf \"%.9f\", ($used + 50) / 1e9}")}"
check "small quota" "200" "$code"
ingest "$W1" t1 ev '[{"id":5000,"tenant_id":"t1","v":"this record is longer than fifty bytes of JSON text, surely"}]'
check "over quota" "507" "$code"; has "usage in body" "\"usage_bytes\":$used" "$body"; has "quota in body" '"max_storage_bytes":' "$body"
has "error code" '"code":"insufficient_storage"' "$body"
snap "$W1" 0190a5f2-1111-7000-8000-00000000000f "$I1" "2026-03-12T10:00:00Z"; check "snapshot over quota" "507" "$code"
q "$R1" "SELECT count(*) FROM ev WHERE id = 5000"; has "nothing written over quota" '"rows":[[0]]' "$body"
json PUT /data/policy "$AD" '{"tenant_id":"t1","retention_days":30,"allowed_tables":["ev","world_model.snapshots","event_log.*"]}'
ingest "$W1" t1 ev '[{"id":5000,"tenant_id":"t1"}]'; check "no quota" "201" "$code"

# ---- retention ----
files_before=$(find "$work/data" -name '*.parquet' | wc -l)
# the 25-row ingest (a Parquet file) and the first two ingests were "made" 60 days ago
old_ids=$(cat_sql "SELECT partition_id FROM planar_service_ingest WHERE tenant_id = ''t1'' AND table_name = ''ev'' AND row_count IN (2, 25) ORDER BY snapshot_id" | tr '\n' ' ')
check "two old ingests" "2" "$(echo $old_ids | wc -w)"
for p in $old_ids; do cat_sql "UPDATE planar_service_ingest SET ingested_at = ''2020-01-01 00:00:00.000000+00'' WHERE partition_id = ''$p'' RETURNING 1" >/dev/null; done
req POST /data/retention "$W1"; check "retention needs admin" "403" "$code"
req POST /data/retention "$AD"; check "retention pass" "200" "$code"; has "rows removed" '"rows_deleted":27' "$body"
has "snapshots expired" '"snapshots_expired":' "$body"; hasnt "some snapshots expired" '"snapshots_expired":0' "$body"
hasnt "files deleted" '"files_deleted":0' "$body"
q "$R1" "SELECT count(*), count(*) FILTER (WHERE id >= 100 AND id < 200), count(*) FILTER (WHERE id IN (1, 2)) FROM ev"
has "old rows gone, new rows kept" '"rows":[[3,0,0]]' "$body"
q "$W2" "SELECT count(*) FROM other"; has "other tenants untouched" '"rows":[[2]]' "$body"
files_after=$(find "$work/data" -name '*.parquet' | wc -l)
check "the old rows' file deleted" "true" "$([ "$files_after" -lt "$files_before" ] && echo true)"
req POST /data/retention "$AD"; has "second pass removes nothing" '"rows_deleted":0' "$body"
req GET /data/usage "$R1"; used2=$(field usage_bytes); check "usage drops" "true" "$([ "$used2" -lt "$used" ] && echo true)"

# ---- openapi and metrics know the new routes ----
req GET /openapi.json ""
for p in /data/policy /data/usage /data/retention /data/snapshots "/data/snapshots/{snapshot_id}"; do has "openapi $p" "\"$p\":{" "$body"; done
req GET /metrics ""; has "metrics by route" 'planar_serve_requests_total{route="snapshots",status="201"}' "$body"
has "metrics snapshots" 'planar_serve_snapshots_stored_total 3' "$body"; has "metrics quota" 'planar_serve_quota_refusals_total 2' "$body"
has "metrics retention" 'planar_serve_retention_rows_total 27' "$body"

kill -TERM "$pid"; wait "$pid"; check "server stops cleanly" "0" "$?"
# a second start finds the tables (no new snapshot)
before=$(lake -c "SELECT max(snapshot_id) FROM lake.snapshots()")
start
check "second start creates nothing" "$before" "$(lake -c "SELECT max(snapshot_id) FROM lake.snapshots()")"
ingest "$W1" t1 ev '[{"id":7000,"tenant_id":"t1"}]'; check "ingest before the scheduled pass" "201" "$code"
p=$(cat_sql "SELECT partition_id FROM planar_service_ingest WHERE response LIKE ''%\"row_count\":1%'' AND tenant_id = ''t1'' AND table_name = ''ev'' ORDER BY snapshot_id DESC LIMIT 1")
cat_sql "UPDATE planar_service_ingest SET ingested_at = ''2020-01-01 00:00:00.000000+00'' WHERE partition_id = ''$p'' RETURNING 1" >/dev/null
kill -TERM "$pid"; wait "$pid"; pid=
# the server's own schedule: a pass every second removes the row
start --retention-interval 1
for _ in $(seq 1 600); do grep -q '"event":"retention".*"rows":1' "$work/log" && break; sleep 0.1; done
has "scheduled retention pass" '"event":"retention","ok":true,"tenants":1,"ingests":1,"rows":1' "$(cat "$work/log")"
q "$R1" "SELECT count(*) FROM ev WHERE id = 7000"; has "scheduled pass removed the row" '"rows":[[0]]' "$body"
# more distinct as_of snapshots than a server keeps attached at once (64): unused ones make room
ok=0
for i in $(seq 1 70); do
  ingest "$W1" t1 ev "[{\"id\":$((8000 + i)),\"tenant_id\":\"t1\"}]"
  s=$(field snapshot_id)
  q "$R1" "SELECT count(*) FROM ev WHERE id BETWEEN 8001 AND 8100" --data-urlencode "as_of=$s"
  [ "$code" = 200 ] && case "$body" in *"\"rows\":[[$i]]"*) ok=$((ok + 1)) ;; esac
done
check "70 distinct as_of snapshots" "70" "$ok"
kill -TERM "$pid"; wait "$pid"; check "server with a retention thread stops cleanly" "0" "$?"; pid=
# a policy the server keeps is replaced at once by its own PUT (no audit flush in between to move
# the catalog's data_version: the server's own writes must)
start --audit-flush-ms 600000
q "$R1" "SELECT count(*) FROM other"; check "kept policy: not allowed" "400" "$code"
json PUT /data/policy "$AD" '{"tenant_id":"t1","allowed_tables":["ev","other"]}'; check "policy widened" "200" "$code"
q "$R1" "SELECT count(*) FROM other"; check "widened policy applies at once" "200" "$code"
json PUT /data/policy "$AD" '{"tenant_id":"t1","allowed_tables":["ev"]}'; check "policy narrowed" "200" "$code"
q "$R1" "SELECT count(*) FROM other"; check "narrowed policy applies at once" "400" "$code"
# the tables the row filter limits are kept per schema version: a table that gains a tenant_id
# column while the server runs is limited from the next query on
R3=$(mk --tenant t3 --role reader) # t3 has no policy
lake -c "CREATE TABLE late(id BIGINT)" -c "INSERT INTO late VALUES (1)" >/dev/null
q "$R3" "SELECT count(*) FROM late"; check "late table before its tenant_id" "200" "$code"; has "every row" '"rows":[[1]]' "$body"
lake -c "ALTER TABLE late ADD COLUMN tenant_id VARCHAR" -c "INSERT INTO late VALUES (2, 't3'), (3, 't1')" >/dev/null
q "$R3" "SELECT count(*), min(id) FROM late"; check "late table after its tenant_id" "200" "$code"
has "only the tenant's rows" '"rows":[[1,2]]' "$body"
kill -TERM "$pid"; wait "$pid"; check "server stops (kept policies)" "0" "$?"; pid=
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
