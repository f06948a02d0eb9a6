#!/usr/bin/env bash
# Two `planar serve` processes on one lake with a PostgreSQL catalog (a private server from
# tests/pg.sh) behave as one service: tokens made once work on both, rows ingested through either
# are read through both, an Idempotency-Key answered by one is replayed by the other, a revoked
# token is refused by both at once, concurrent ingests through both all land exactly once, the
# data-plane tables are created once when both start at once, and a policy set through one is
# read through the other.
#   tests/server/two_servers_pg.sh PATH/TO/planar
set -uo pipefail
. "$(dirname "$0")/lib.sh"
planar=$(realpath "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
command -v curl >/dev/null 2>&1 || { echo "curl not found: skipped"; exit 77; }
. "$root/tests/pg.sh"
work=$(mktemp -d)
chmod 755 "$work"
pids=() pg_started=0
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  [ "$pg_started" = 1 ] && pg_stop "$work/pg"
  rm -rf "$work"
}
trap cleanup EXIT

pg_start "$work/pg" || { echo "FAIL postgres: server did not start"; exit 1; }
pg_started=1
lakeuri="postgres:$PLANAR_PG"
"$planar" --lake "$lakeuri" --data-path "$work/data/" -c "CREATE TABLE ev(id BIGINT NOT NULL, src VARCHAR)" \
  || { echo "setup failed"; exit 1; }
W=$("$planar" token create --lake "$lakeuri" --tenant t1 --role writer | tail -n 1)
G=$("$planar" token create --lake "$lakeuri" --tenant t1 --role reader | tail -n 1)

launch() { # launch NAME
  "$planar" serve --lake "$lakeuri" --data-path "$work/data/" --listen 127.0.0.1:0 2> "$work/$1.log" &
  pids+=($!)
}
start() { # start NAME: waits until it listens, sets port_NAME
  local port=$(listening_port "$work/$1.log")
  [ -n "$port" ] || { echo "server $1 did not start:"; cat "$work/$1.log"; exit 1; }
  eval "port_$1=$port"
}
# both start at once: the data-plane tables are created exactly once
launch a
launch b
start a
start b
A="http://127.0.0.1:$port_a" B="http://127.0.0.1:$port_b"
# (a server that found them missing may log its creation although the other one committed
# first and its own transaction created nothing: the lake's tables are what counts)
created=$("$planar" --lake "$lakeuri" --data-path "$work/data/" -noheader -list -c \
  "SELECT count(*), count(DISTINCT schema_name || '.' || table_name) FROM duckdb_tables() WHERE database_name = 'lake' AND table_name <> 'ev'")
check "data-plane tables created once by the two servers" "7|7" "$created"
logged=$(cat "$work/a.log" "$work/b.log" | grep -c '"data_plane_tables_created"')
check "a server logged their creation" "true" "$([ "$logged" -ge 1 ] && echo true)"
check "each data-plane table once" "7 7" "$("$planar" -csv -noheader --lake "$lakeuri" --data-path "$work/data/" -c "SELECT count(*), count(DISTINCT schema_name || '.' || table_name) FROM duckdb_tables() WHERE database_name = 'lake' AND table_name IN ('ros_navigation_trials', 'object_detections', 'agent_traces', 'snapshots', 'experiments', 'simulation_runs', 'job_outcomes')" | tr ',' ' ')"
AD=$("$planar" token create --lake "$lakeuri" --role admin | tail -n 1)
check "policy set through a" "200" "$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "Authorization: Bearer $AD" -H 'Content-Type: application/json' "$A/data/policy" --data-binary '{"tenant_id":"t9","allowed_tables":["ev"]}')"
has "policy read through b" '"allowed_tables":["ev"]' "$(curl -s -H "Authorization: Bearer $AD" "$B/data/policy?tenant_id=t9")"
sv=$(curl -s "$A/readyz" | sed -n 's/.*"schema_version":\([0-9]*\).*/\1/p')
ingest() { # ingest BASE ID SRC [KEY]
  curl -s -o "$work/out.$2" -w '%{http_code}' -H "Authorization: Bearer $W" -H 'Content-Type: application/json' \
    ${4:+-H "Idempotency-Key: $4"} "$1/data/ingest" \
    --data-binary "{\"table\":\"ev\",\"tenant_id\":\"t1\",\"job_id\":\"j$2\",\"schema_version\":$sv,\"records\":[{\"id\":$2,\"src\":\"$3\"}]}"
}
count() { curl -s -G -H "Authorization: Bearer $G" "$1/data/query" --data-urlencode "sql=SELECT count(*), count(DISTINCT id) FROM ev" \
  | sed -n 's/.*"rows":\[\[\([0-9]*\),\([0-9]*\)\]\].*/\1 \2/p'; }

check "ingest through a" "201" "$(ingest "$A" 1 a)"
check "ingest through b" "201" "$(ingest "$B" 2 b)"
check "a reads both" "2 2" "$(count "$A")"
check "b reads both" "2 2" "$(count "$B")"
check "keyed ingest through a" "201" "$(ingest "$A" 3 a key-3)"
first=$(cat "$work/out.3")
check "retry through b" "201" "$(ingest "$B" 3 b key-3)"
check "b replays a's answer" "$first" "$(cat "$work/out.3")"
check "written once" "3 3" "$(count "$B")"

# concurrent ingests through both servers
for i in $(seq 100 139); do
  if [ $((i % 2)) = 0 ]; then ingest "$A" "$i" a > "$work/code.$i" & else ingest "$B" "$i" b > "$work/code.$i" & fi
done
wait_jobs() { for j in $(jobs -p); do case " ${pids[*]} " in *" $j "*) ;; *) wait "$j" ;; esac; done; }
wait_jobs
ok=0; for i in $(seq 100 139); do [ "$(cat "$work/code.$i")" = 201 ] && ok=$((ok + 1)); done
check "concurrent ingests accepted" "40" "$ok"
check "every accepted row once (a)" "43 43" "$(count "$A")"
check "every accepted row once (b)" "43 43" "$(count "$B")"

# retention through a removes the old rows for both (PostgreSQL catalog)
curl -s -o /dev/null -X PUT -H "Authorization: Bearer $AD" -H 'Content-Type: application/json' "$A/data/policy" \
  --data-binary '{"tenant_id":"t1","retention_days":30}'
PLANAR_TEST_CATALOG_SQL=1 "$planar" -csv -noheader --lake "$lakeuri" --data-path "$work/data/" \
  -c "SELECT * FROM __planar_cat('lake', 'UPDATE planar_service_ingest SET ingested_at = ''2020-01-01 00:00:00.000000+00'' WHERE job_id IN (''j1'', ''j2'') RETURNING 1')" >/dev/null
has "retention pass on PostgreSQL" '"rows_deleted":2' "$(curl -s -X POST -H "Authorization: Bearer $AD" "$A/data/retention")"
check "old rows gone (b)" "41 41" "$(count "$B")"
check "old rows gone (a)" "41 41" "$(count "$A")"

# a revoke reaches both servers at once
gid=$("$planar" token list --lake "$lakeuri" | awk -F'\t' '$3 == "reader" {print $1}')
"$planar" token revoke --lake "$lakeuri" "$gid" >/dev/null
check "revoked on a" "401" "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $G" "$A/data/query?sql=SELECT%201")"
check "revoked on b" "401" "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $G" "$B/data/query?sql=SELECT%201")"

for p in "${pids[@]}"; do kill -TERM "$p"; done
for p in "${pids[@]}"; do wait "$p"; check "server stops cleanly" "0" "$?"; done
pids=()
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
