#!/usr/bin/env bash
# POST /data/tables and GET /data/blobs... of `planar serve`, end to end over an embedded SQLite
# lake in a temporary directory: an admin creates tables (partitioned, in a new schema), other
# tokens get 403, an existing table 409, bad names and types 422, and hostile names are stored as
# names (no SQL runs); blob versions put with `planar blob put` are listed, their manifests read
# and their objects downloaded, each tenant seeing only the versions whose metadata names it,
# with path tricks refused.
#   tests/server/resources.sh PATH/TO/planar
# Needs curl(1); exits 77 (skipped) without it.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
http_test_start "$1"
lakeuri="sqlite:$work/meta.sqlite"
LAKE=(--lake "$lakeuri" --data-path "$work/data/")
lake() { "$planar" -csv -noheader "${LAKE[@]}" "$@"; }

lake -c "CREATE TABLE existing(x INT)" || { echo "setup failed"; exit 1; }
mk() { "$planar" token create --lake "$lakeuri" "$@" | tail -n 1; }
W1=$(mk --tenant t1 --role writer)
R1=$(mk --tenant t1 --role reader)
R2=$(mk --tenant t2 --role reader)
AD=$(mk --role admin)

# blobs: two versions of t1's dataset, one of t2's, one without a tenant
mkdir -p "$work/src1/sub" "$work/src2" "$work/src3"
printf 'alpha\n' >"$work/src1/a.txt"; printf 'beta-beta\n' >"$work/src1/sub/b.bin"
printf 'gamma\n' >"$work/src2/c.txt"; printf 'secret of t2\n' >"$work/src3/s.txt"
put() { "$planar" blob put "$@" --root "$work/blobs" "${LAKE[@]}" >/dev/null || { echo "blob put failed: $*"; exit 1; }; }
put "$work/src1" ds1 --kind dataset --metadata '{"tenant_id": "t1", "split": "train"}' --job-id job-1
put "$work/src1" ds1 --kind dataset --metadata '{"tenant_id": "t1", "split": "eval"}'
put "$work/src3" ds2 --kind checkpoint --metadata '{"tenant_id": "t2"}'
put "$work/src2" shared --kind dataset
"$planar" blob alias ds1:v1 best "${LAKE[@]}" >/dev/null || { echo "blob alias failed"; exit 1; }

"$planar" serve "${LAKE[@]}" --listen 127.0.0.1:0 --retention-interval 0 2>"$work/log" &
pid=$!
port=$(listening_port "$work/log" "$pid")
[ -n "$port" ] || { echo "server did not start:"; cat "$work/log"; exit 1; }
base="http://127.0.0.1:$port"
req() {
  local m=$1 p=$2 t=$3; shift 3
  local auth=()
  [ -n "$t" ] && auth=(-H "Authorization: Bearer $t")
  code=$(curl -s --path-as-is -o "$work/body" -w '%{http_code}' -X "$m" "${auth[@]}" "$@" "$base$p")
  body=$(cat "$work/body")
}
json() { req "$1" "$2" "$3" -H 'Content-Type: application/json' --data-binary "$4"; }
q() { req GET /data/query "$AD" -G --data-urlencode "sql=$1"; }

# ---- POST /data/tables ----
T1='{"table":"ev","columns":[{"name":"id","type":"BIGINT","nullable":false},{"name":"tenant_id","type":"varchar"},{"name":"ts","type":"timestamp with time zone"},{"name":"tags","type":"VARCHAR[]"},{"name":"amount","type":"decimal(10, 2)"}],"partitioned_by":["day(ts)","tenant_id"]}'
json POST /data/tables "" "$T1"; check "no token" "401" "$code"
json POST /data/tables "$W1" "$T1"; check "a writer may not create a table" "403" "$code"
json POST /data/tables "$R1" "$T1"; check "a reader may not create a table" "403" "$code"
json POST /data/tables "$AD" "$T1"; check "admin creates a table" "201" "$code"
has "canonical types" '"type":"TIMESTAMPTZ"' "$body"; has "list type" '"type":"VARCHAR[]"' "$body"
has "decimal" '"type":"DECIMAL(10, 2)"' "$body"; has "partition keys" '"partitioned_by":["day(ts)","tenant_id"]' "$body"
has "a snapshot" '"snapshot_id":' "$body"; has "nullable" '{"name":"id","type":"BIGINT","nullable":false}' "$body"
check "partitioned by day and identity" "day|identity" "$(PLANAR_TEST_CATALOG_SQL=1 lake -c "SELECT string_agg(transform, '|' ORDER BY partition_key_index) FROM __planar_cat('lake', 'SELECT p.transform, p.partition_key_index FROM ducklake_partition_column p JOIN ducklake_table t USING (table_id) WHERE t.table_name = ''ev''')")"
json POST /data/tables "$AD" "$T1"; check "an existing table" "409" "$code"
json POST /data/tables "$AD" '{"table":"existing","columns":[{"name":"x","type":"INT"}]}'; check "a table made outside the API" "409" "$code"
json POST /data/tables "$AD" '{"schema":"sensors","table":"temps","columns":[{"name":"v","type":"DOUBLE"}]}'
check "a table in a new schema" "201" "$code"
check "the schema was created" "sensors" "$(lake -c "SELECT schema_name FROM information_schema.schemata WHERE schema_name = 'sensors'")"
req GET /readyz ""; sv=$(printf '%s' "$body" | sed -n 's/.*"schema_version":\([0-9]*\).*/\1/p')
json POST /data/ingest "$W1" "{\"table\":\"ev\",\"tenant_id\":\"t1\",\"job_id\":\"j\",\"schema_version\":$sv,\"records\":[{\"id\":1,\"tenant_id\":\"t1\",\"ts\":\"2026-12-01T10:00:00Z\",\"tags\":[\"a\"],\"amount\":1.5}]}"
check "the new table takes ingests" "201" "$code"
json POST /data/ingest "$W1" "{\"table\":\"ev\",\"tenant_id\":\"t1\",\"job_id\":\"j\",\"schema_version\":$sv,\"records\":[{\"tenant_id\":\"t1\"}]}"
check "NOT NULL kept (a record without id)" "422" "$code"
# invalid requests: 422 naming the field, nothing created
snaps() { lake -c "SELECT count(*) FROM ducklake_snapshots('lake')"; }
before=$(snaps)
bad() { # bad NAME FIELD BODY
  json POST /data/tables "$AD" "$3"; check "$1" "422" "$code"; has "$1 names the field" "\"field\":\"$2\"" "$body"
}
bad "unknown type" "columns[0].type" '{"table":"b1","columns":[{"name":"x","type":"GEOMETRY"}]}'
bad "type with SQL" "columns[0].type" '{"table":"b2","columns":[{"name":"x","type":"INT); DROP TABLE existing; --"}]}'
bad "type with a default" "columns[0].type" '{"table":"b3","columns":[{"name":"x","type":"INT DEFAULT 1"}]}'
bad "decimal out of range" "columns[0].type" '{"table":"b4","columns":[{"name":"x","type":"DECIMAL(40,2)"}]}'
bad "decimal with a sign" "columns[0].type" '{"table":"b4","columns":[{"name":"x","type":"DECIMAL(+5,2)"}]}'
bad "no columns" "columns" '{"table":"b5","columns":[]}'
bad "no table" "table" '{"columns":[{"name":"x","type":"INT"}]}'
bad "empty table name" "table" '{"table":"","columns":[{"name":"x","type":"INT"}]}'
json POST /data/tables "$AD" '{"table":"a\u0000b","columns":[{"name":"x","type":"INT"}]}'; check "NUL in a name" "400" "$code"
bad "control character" "columns[0].name" '{"table":"b6","columns":[{"name":"a\nb","type":"INT"}]}'
bad "duplicate column" "columns[1].name" '{"table":"b7","columns":[{"name":"x","type":"INT"},{"name":"X","type":"INT"}]}'
bad "unknown partition column" "partitioned_by[0]" '{"table":"b8","columns":[{"name":"x","type":"INT"}],"partitioned_by":["y"]}'
bad "partition expression" "partitioned_by[0]" '{"table":"b9","columns":[{"name":"x","type":"INT"}],"partitioned_by":["bucket(4, x)"]}'
bad "unknown field" "owner" '{"table":"b10","columns":[{"name":"x","type":"INT"}],"owner":"me"}'
bad "nullable type" "columns[0].nullable" '{"table":"b11","columns":[{"name":"x","type":"INT","nullable":"no"}]}'
json POST /data/tables "$AD" '[1]'; check "not an object" "400" "$code"
req POST /data/tables "$AD" -H 'Content-Type: text/plain' --data-binary '{}'; check "not JSON" "415" "$code"
req GET /data/tables "$AD"; check "GET /data/tables" "405" "$code"
check "no snapshot from refused requests" "$before" "$(snaps)"
# hostile names are names
json POST /data/tables "$AD" '{"schema":"x\"; DROP TABLE existing; --","table":"t\"); DROP TABLE existing; --","columns":[{"name":"c\"; DELETE FROM existing; --","type":"INT"}],"partitioned_by":["c\"; DELETE FROM existing; --"]}'
check "hostile names: created as names" "201" "$code"
check "hostile names: nothing else ran" "existing" "$(lake -c "SELECT table_name FROM information_schema.tables WHERE table_name = 'existing'")"
check "hostile names: the table has that name" "1" "$(lake -c "SELECT count(*) FROM information_schema.tables WHERE table_name = 't\"); DROP TABLE existing; --'")"
json POST /data/tables "$AD" '{"table":"p","columns":[{"name":"ts","type":"TIMESTAMP"}],"partitioned_by":["day(ts) ); DROP TABLE existing; --"]}'
check "hostile partition key" "422" "$code"

# ---- GET /data/blobs ----
req GET /data/blobs ""; check "blobs: no token" "401" "$code"
req GET /data/blobs "$R1"; check "blobs list (t1)" "200" "$code"
check "t1 sees its two versions" '"count":2' "$(printf '%s' "$body" | grep -o '"count":[0-9]*')"
has "with metadata" '"split":"train"' "$body"; has "with aliases" '"best"' "$body"; has "with job_id" '"job_id":"job-1"' "$body"
hasnt "t1 does not see t2's blob" '"ds2"' "$body"; hasnt "t1 does not see blobs without a tenant" '"shared"' "$body"
req GET /data/blobs "$R2"; check "t2 sees one version" '"count":1' "$(printf '%s' "$body" | grep -o '"count":[0-9]*')"
hasnt "t2 does not see t1's blob" '"ds1"' "$body"
req GET /data/blobs "$AD"; check "admin sees all" '"count":4' "$(printf '%s' "$body" | grep -o '"count":[0-9]*')"
req GET '/data/blobs?tenant_id=t2' "$AD"; check "admin with tenant_id: t2's view" '"count":1' "$(printf '%s' "$body" | grep -o '"count":[0-9]*')"
req GET '/data/blobs?tenant_id=t2' "$R1"; check "t1 asking for t2's view" "403" "$code"
req GET '/data/blobs?name=ds1' "$R1"; check "by name" '"count":2' "$(printf '%s' "$body" | grep -o '"count":[0-9]*')"
req GET '/data/blobs?name=ds2' "$R1"; check "another tenant's name: empty" '"count":0' "$(printf '%s' "$body" | grep -o '"count":[0-9]*')"
req GET '/data/blobs?name=../x' "$R1"; check "bad name" "400" "$code"
req POST /data/blobs "$R1"; check "POST /data/blobs" "405" "$code"
# manifests
req GET /data/blobs/ds1/v1 "$R1"; check "manifest" "200" "$code"
has "manifest files" '"path":"sub/b.bin","size":10' "$body"; has "sha256" '"sha256":"' "$body"
hasnt "no location for tenants" '"location"' "$body"
req GET /data/blobs/ds1/latest "$R1"; check "latest" "200" "$code"; has "latest is v2" '"version":2' "$body"
req GET /data/blobs/ds1/best "$R1"; check "alias" "200" "$code"; has "best is v1" '"version":1' "$body"
req GET /data/blobs/ds1/1 "$R1"; check "plain number" "200" "$code"
req GET /data/blobs/ds1/v9 "$R1"; check "unknown version" "404" "$code"
req GET /data/blobs/nope/v1 "$R1"; check "unknown name" "404" "$code"
req GET /data/blobs/ds2/v1 "$R1"; check "another tenant's version: 404" "404" "$code"; nf=$body
req GET /data/blobs/nope2/v1 "$R1"; check "indistinguishable from a missing one" "${body//nope2/ds2}" "$nf"
req GET /data/blobs/ds2/v1 "$R2"; check "t2 reads its own" "200" "$code"
req GET /data/blobs/shared/v1 "$R1"; check "a version without a tenant: 404 for tenants" "404" "$code"
req GET /data/blobs/shared/v1 "$AD"; check "admin reads it" "200" "$code"
# objects
req GET /data/blobs/ds1/v1/objects/a.txt "$R1"; check "object" "200" "$code"; check "object bytes" "alpha" "$body"
req GET /data/blobs/ds1/best/objects/sub/b.bin "$W1"; check "object in a folder" "200" "$code"; check "its bytes" "beta-beta" "$body"
curl -s -o /dev/null -D "$work/hdr" -H "Authorization: Bearer $R1" "$base/data/blobs/ds1/v1/objects/a.txt"
has "ETag is the SHA-256" "$(sha256sum "$work/src1/a.txt" | cut -c1-64)" "$(cat "$work/hdr")"
has "octet-stream" "application/octet-stream" "$(cat "$work/hdr")"
req GET /data/blobs/ds2/v1/objects/s.txt "$R1"; check "another tenant's object" "404" "$code"; hasnt "no bytes leak" "secret" "$body"
req GET /data/blobs/ds2/v1/objects/s.txt "$R2"; check "t2's object for t2" "200" "$code"
req GET /data/blobs/ds1/v1/objects/missing.txt "$R1"; check "unknown object" "404" "$code"
req GET /data/blobs/ds1/v1/objects/.planar-manifest.json "$R1"; check "the manifest file is not an object" "404" "$code"
for trick in "../v1/a.txt" "sub/../a.txt" "./a.txt" "sub//b.bin" "%2e%2e/%2e%2e/meta.sqlite" "..%2f..%2fmeta.sqlite" "sub/%2e%2e/a.txt"; do
  req GET "/data/blobs/ds1/v1/objects/$trick" "$R1"
  if [ "$code" = 400 ] || [ "$code" = 404 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL path trick $trick answers $code: $body"; fi
  hasnt "path trick $trick reads nothing" "SQLite" "$body"
done
for trick in "/data/blobs/../tables" "/data/blobs/ds1" "/data/blobs/ds1/v1/files/a.txt" "/data/blobs/ds1/v1/objects/" "/data/blobs/.x/v1"; do
  req GET "$trick" "$R1"
  if [ "$code" = 400 ] || [ "$code" = 404 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $trick answers $code: $body"; fi
done
# an object changed in the store is refused, not served
printf 'tampered\n' >"$(find "$work/blobs" -path '*ds1/v2/a.txt')"
req GET /data/blobs/ds1/v2/objects/a.txt "$R1"; check "a changed object" "503" "$code"; has "says so" "does not match its manifest" "$body"

# ---- /openapi.json and /metrics ----
req GET /openapi.json ""
for p in '"/data/tables":{"post"' '"/data/blobs":{"get"' '"/data/blobs/{name}/{version}":{"get"' '"/data/blobs/{name}/{version}/objects/{path}":{"get"'; do
  has "openapi documents $p" "$p" "$body"
done
printf '%s' "$body" | python3 -c 'import json,sys; json.load(sys.stdin)' 2>/dev/null && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL openapi is not JSON"; }
req GET /metrics ""
has "metrics: tables route" 'planar_serve_requests_total{route="tables",status="201"}' "$body"
has "metrics: blobs route" 'planar_serve_requests_total{route="blobs",status="200"}' "$body"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
