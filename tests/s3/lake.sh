#!/usr/bin/env bash
# tests/s3/lake.sh PLANAR -- lakes whose DATA_PATH is s3:// against the test S3 server (run by
# tests/s3/with-server.sh, which exports PLANAR_S3_ENDPOINT, PLANAR_S3_PROXY, ...):
#   the SQL logic test tests/s3/lake.test on the DuckDB and SQLite catalogs; credentials from
#   AWS_*, MINIO_* and R2_* variables, virtual-host URLs, PERSISTENT secrets (a 0600 file);
#   orphaned objects; the read cache (LRU eviction under a size limit, size and ETag
#   validation, two processes sharing it); faults through the fault proxy (500s retried, 500s
#   for good, a stalled server, the connection dropped mid-upload: the lake as before, no stray
#   object after a failed commit); clear errors for wrong keys, a missing bucket, an unreachable
#   endpoint; and the secret never in any output, log, cache or catalog file.
set -u
PLANAR=$(realpath "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
T=$(mktemp -d /tmp/planar-s3lake-XXXXXX)
OUT=$T/out
mkdir -p "$OUT"
PROXY_PID=
cleanup() {
  [ -z "$PROXY_PID" ] || kill "$PROXY_PID" 2>/dev/null
  [ -z "${PGDIR:-}" ] || { pg_stop "$PGDIR" >/dev/null 2>&1; rm -rf "$PGDIR"; }
  rm -rf "$T"
}
trap cleanup EXIT
export PLANAR_S3_CACHE_DIR=$T/cache PLANAR_SECRET_DIR=$T/secrets
BUCKET=${PLANAR_S3_BUCKET:-planar-test}
fails=0
n=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
# the server's keys come as AWS_* variables: most cases use CREATE SECRET instead
SAVED_KEY=$AWS_ACCESS_KEY_ID SAVED_SECRET=$AWS_SECRET_ACCESS_KEY
noenv() { env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_ENDPOINT_URL -u AWS_REGION "$@"; }
secret() { # secret ENDPOINT [SECRET]: a CREATE SECRET statement for the test server
  echo "CREATE SECRET (TYPE s3, KEY_ID 'S3RVER', SECRET '${2:-S3RVER}', ENDPOINT '$1', REGION 'us-east-1')"
}
run() { # run NAME ARGS...: planar with output kept in $OUT/NAME.{out,err}; returns its status
  local name=$1
  shift
  n=$((n + 1))
  noenv "$PLANAR" -csv "$@" >"$OUT/$n-$name.out" 2>"$OUT/$n-$name.err"
}
out() { cat "$OUT/$n-$1.out"; }
err() { cat "$OUT/$n-$1.err"; }
objects() { # objects PREFIX: keys of the objects below PREFIX (from the server's directory)
  (cd "$PLANAR_S3_DATA_DIR/$BUCKET" 2>/dev/null && find . -name '*._S3rver_object' | sed -e 's#^\./##' \
    -e 's#\._S3rver_object$##' | grep "^$1" | sort)
}
put_object() { # put_object KEY FILE
  curl -sSf --aws-sigv4 "aws:amz:us-east-1:s3" --user "S3RVER:S3RVER" \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -T "$2" "$PLANAR_S3_ENDPOINT/$BUCKET/$1" >/dev/null
}

# ---- the SQL logic test, per catalog kind (PostgreSQL when its server binaries are installed) ----
export PLANAR_TEST_CATALOG_SQL=1
kinds="duckdb sqlite"
. tests/pg.sh
PGDIR=
if pg_bindir >/dev/null 2>&1; then
  PGDIR=$(mktemp -d /tmp/planar-s3lake-pg-XXXXXX)
  chmod 755 "$PGDIR"
  if pg_start "$PGDIR" >"$OUT/pg.log" 2>&1; then kinds="$kinds postgres"; else echo "skipped: postgres (server did not start)"; fi
else
  echo "skipped: lake.test on postgres (no PostgreSQL server binaries)"
fi
for kind in $kinds; do
  prefix="ducklake:$kind:"
  [ "$kind" = postgres ] && prefix="ducklake:postgres:$PLANAR_PG metadata_schema="
  if noenv env S3_LAKE_PATH="s3://$BUCKET/sqltest-$kind/" "$PLANAR" test --env "DUCKLAKE_PREFIX=$prefix" \
      --env "CATALOG=$kind" tests/s3/lake.test >"$OUT/sqltest-$kind.out" 2>&1 &&
     grep -q "1 passed, 0 failed, 0 skipped" "$OUT/sqltest-$kind.out"; then
    ok "lake.test on $kind"
  else
    fail "lake.test on $kind"; cat "$OUT/sqltest-$kind.out"
  fi
done
unset PLANAR_TEST_CATALOG_SQL

# ---- credentials from the environment, URL styles, persistent secrets ----
L=$T/env.sqlite
if AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_ENDPOINT_URL=$PLANAR_S3_ENDPOINT AWS_REGION=us-east-1 \
   "$PLANAR" -csv -c "ATTACH 'ducklake:sqlite:$L' AS lake (DATA_PATH 's3://$BUCKET/env/')" \
   -c "CREATE TABLE lake.t AS SELECT range AS i FROM range(100)" -c "SELECT sum(i) FROM lake.t" >"$OUT/aws.out" 2>&1 &&
   grep -qx 4950 "$OUT/aws.out"; then ok "AWS_* variables"; else fail "AWS_* variables"; cat "$OUT/aws.out"; fi
rm -rf "$PLANAR_S3_CACHE_DIR"
if noenv env MINIO_ENDPOINT=${PLANAR_S3_ENDPOINT#http://} MINIO_ACCESS_KEY=S3RVER MINIO_SECRET_KEY=S3RVER MINIO_USE_SSL=false \
   "$PLANAR" -csv -c "ATTACH 'ducklake:sqlite:$L' AS lake" -c "SELECT sum(i) FROM lake.t" >"$OUT/minio.out" 2>&1 &&
   grep -qx 4950 "$OUT/minio.out"; then ok "MINIO_* variables"; else fail "MINIO_* variables"; cat "$OUT/minio.out"; fi
rm -rf "$PLANAR_S3_CACHE_DIR"
if noenv env R2_ENDPOINT=$PLANAR_S3_ENDPOINT R2_ACCESS_KEY=S3RVER R2_SECRET_KEY=S3RVER \
   "$PLANAR" -csv -c "ATTACH 'ducklake:sqlite:$L' AS lake" -c "SELECT sum(i) FROM lake.t" >"$OUT/r2.out" 2>&1 &&
   grep -qx 4950 "$OUT/r2.out"; then ok "R2_* variables"; else fail "R2_* variables"; cat "$OUT/r2.out"; fi
rm -rf "$PLANAR_S3_CACHE_DIR"
if run vhost -c "CREATE SECRET (TYPE s3, KEY_ID 'S3RVER', SECRET 'S3RVER', ENDPOINT '$PLANAR_S3_VHOST_ENDPOINT', URL_STYLE 'vhost', USE_SSL false)" \
   -c "ATTACH 'ducklake:sqlite:$L' AS lake" -c "INSERT INTO lake.t VALUES (1)" -c "SELECT sum(i) FROM lake.t" &&
   out vhost | grep -qx 4951; then ok "virtual-host URLs"; else fail "virtual-host URLs"; err vhost; fi
if run persist1 -c "CREATE PERSISTENT SECRET keep (TYPE s3, KEY_ID 'S3RVER', SECRET 'S3RVER', ENDPOINT '$PLANAR_S3_ENDPOINT')" &&
   [ "$(stat -c %a "$T/secrets/keep.s3secret" 2>/dev/null)" = 600 ] &&
   run persist2 -c "ATTACH 'ducklake:sqlite:$L' AS lake" -c "SELECT sum(i) FROM lake.t" -c "SELECT persistent, storage FROM duckdb_secrets()" &&
   out persist2 | grep -qx 4951 && out persist2 | grep -qx "true,local_file" &&
   run persist3 -c "DROP SECRET keep" && [ ! -e "$T/secrets/keep.s3secret" ]; then
  ok "PERSISTENT secret (0600 file, read by a later process, removed by DROP SECRET)"
else
  fail "PERSISTENT secret"; err persist1; err persist2; ls -l "$T/secrets"
fi

# ---- orphaned objects ----
L=$T/orph.duckdb
echo junk >"$T/junk.parquet"
if run orph1 -c "$(secret "$PLANAR_S3_ENDPOINT")" -c "ATTACH 'ducklake:duckdb:$L' AS lake (DATA_PATH 's3://$BUCKET/orph/')" \
     -c "CREATE TABLE lake.t AS SELECT range AS i FROM range(100)" &&
   put_object orph/main/t/stray.parquet "$T/junk.parquet" &&
   run orph2 -c "$(secret "$PLANAR_S3_ENDPOINT")" -c "ATTACH 'ducklake:duckdb:$L' AS lake" \
     -c "SELECT path FROM ducklake_delete_orphaned_files('lake', cleanup_all => true)" -c "SELECT sum(i) FROM lake.t" &&
   out orph2 | grep -qx "s3://$BUCKET/orph/main/t/stray.parquet" && out orph2 | grep -qx 4950 &&
   [ -z "$(objects orph/main/t/stray)" ] && [ "$(objects orph/ | wc -l)" = 1 ]; then
  ok "ducklake_delete_orphaned_files removes objects no catalog row knows"
else
  fail "orphaned objects"; err orph1; out orph2; err orph2; objects orph/
fi

# ---- files registered with absolute s3:// paths (outside the data path) ----
L=$T/abs.sqlite
AA="ATTACH 'ducklake:sqlite:$L' AS lake (DATA_PATH 's3://$BUCKET/abs/', DATA_INLINING_ROW_LIMIT 0)"
"$PLANAR" -c "COPY (SELECT range AS i, 'v' || range AS s FROM range(10)) TO '$T/ext.parquet' (FORMAT parquet)" >/dev/null 2>&1 &&
  put_object ext/data/ext.parquet "$T/ext.parquet" || fail "absolute paths: setup"
aq() { run "$1" -c "$(secret "$PLANAR_S3_ENDPOINT")" -c "$AA" "${@:2}"; }
if aq abs1 -c "CREATE TABLE lake.t(i BIGINT, s VARCHAR)" \
     -c "CALL ducklake_add_data_files('lake', 't', 's3://$BUCKET/ext/data/ext.parquet')" -c "SELECT sum(i) FROM lake.t" &&
   out abs1 | grep -qx 45 && rm -rf "$PLANAR_S3_CACHE_DIR" &&
   aq abs2 -c "SELECT sum(i), min(s) FROM lake.t" -c "SELECT data_file FROM ducklake_list_files('lake', 't')" &&
   out abs2 | grep -qx "45,v0" && out abs2 | grep -qx "s3://$BUCKET/ext/data/ext.parquet"; then
  ok "add_data_files of an s3:// file outside the data path; read through the cache by a later process"
else fail "absolute s3:// file: add and read"; err abs1; out abs2; err abs2; fi
rm -rf "$PLANAR_S3_CACHE_DIR"
if aq abs3 -c "DELETE FROM lake.t WHERE i < 5" -c "SELECT sum(i) FROM lake.t" \
     -c "SELECT sum(i) FROM lake.t AT (VERSION => 2)" \
     -c "SELECT change_type, count(*) FROM ducklake_table_changes('lake', 'main', 't', 3, 3) GROUP BY ALL" &&
   [ "$(out abs3 | tr '\n' ' ')" = "sum(i) 35 sum(i) 45 change_type,count_star() delete,5 " ]; then
  ok "absolute s3:// file: delete, time travel, change feed"
else fail "absolute s3:// file: delete, time travel, change feed"; out abs3; err abs3; fi
rm -rf "$PLANAR_S3_CACHE_DIR"
if aq abs4 -c "INSERT INTO lake.t VALUES (100, 'w')" -c "CALL ducklake_rewrite_data_files('lake', delete_threshold => 0)" \
     -c "CALL ducklake_merge_adjacent_files('lake')" -c "SELECT sum(i), count(*) FROM lake.t" \
     -c "CALL ducklake_expire_snapshots('lake', older_than => now() + INTERVAL 1 day)" \
     -c "SELECT count(*) FROM ducklake_cleanup_old_files('lake', cleanup_all => true)" \
     -c "SELECT count(*) FROM ducklake_delete_orphaned_files('lake', cleanup_all => true)" \
     -c "SELECT sum(i) FROM lake.t" &&
   out abs4 | grep -qx "135,6" && [ "$(out abs4 | tail -1)" = 135 ] &&
   [ "$(objects ext/data/ext.parquet)" = ext/data/ext.parquet ]; then
  ok "rewrite and merge leave an added s3:// file as it is; cleanup and orphan removal never delete it"
else fail "absolute s3:// file: rewrite, merge and cleanup"; out abs4; err abs4; objects ext/; fi
# a lake whose catalog names its own files by absolute s3:// paths (as some DuckLake writers do)
L=$T/absx.sqlite
XA="ATTACH 'ducklake:sqlite:$L' AS lake (DATA_PATH 's3://$BUCKET/absx/', DATA_INLINING_ROW_LIMIT 0)"
xq() { run "$1" -c "$(secret "$PLANAR_S3_ENDPOINT")" -c "$XA" "${@:2}"; }
if ! command -v sqlite3 >/dev/null; then
  echo "skipped: a lake with absolute s3:// paths of its own (no sqlite3 command)"
elif xq absx0 -c "CREATE TABLE lake.t AS SELECT range AS i FROM range(10)" -c "INSERT INTO lake.t SELECT range FROM range(10, 20)" &&
   sqlite3 "$L" "UPDATE ducklake_data_file SET path = 's3://$BUCKET/absx/main/t/' || path, path_is_relative = 0" &&
   rm -rf "$PLANAR_S3_CACHE_DIR" &&
   xq absx1 -c "SELECT count(*) FROM ducklake_delete_orphaned_files('lake', cleanup_all => true)" \
     -c "DELETE FROM lake.t WHERE i < 5" -c "SELECT sum(i) FROM lake.t" -c "SELECT sum(i) FROM lake.t AT (VERSION => 2)" \
     -c "CALL ducklake_rewrite_data_files('lake', delete_threshold => 0)" \
     -c "CALL ducklake_expire_snapshots('lake', older_than => now() + INTERVAL 1 day)" \
     -c "SELECT count(*) FROM ducklake_cleanup_old_files('lake', cleanup_all => true)" &&
   [ "$(out absx1 | grep -v '^[0-9],20' | tr '\n' ' ')" = "count_star() 0 sum(i) 180 sum(i) 190 schema_name,table_name,files_processed,files_created main,t,1,1 snapshot_id,snapshot_time,schema_version,changes,author,commit_message,commit_extra_info count_star() 2 " ] &&
   rm -rf "$PLANAR_S3_CACHE_DIR" && xq absx2 -c "SELECT sum(i), count(*) FROM lake.t" &&
   out absx2 | grep -qx "180,15" && [ "$(objects absx/main/t/ | wc -l)" = 2 ]; then
  ok "a lake naming its files by absolute s3:// paths: read, delete, time travel, rewrite, cleanup; orphan removal keeps them"
else fail "a lake with absolute s3:// paths of its own"; err absx0; out absx1; err absx1; out absx2; err absx2; objects absx/; fi
# the secret with the longest SCOPE gives the keys: an unscoped one points nowhere
OTHER=planar-other
cp "$T/ext.parquet" "$T/ext2.parquet"
curl -sSf --aws-sigv4 "aws:amz:us-east-1:s3" --user "S3RVER:S3RVER" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
  -T "$T/ext2.parquet" "$PLANAR_S3_ENDPOINT/$OTHER/scoped/ext2.parquet" >/dev/null || fail "absolute paths: second bucket"
rm -rf "$PLANAR_S3_CACHE_DIR"
if PLANAR_S3_MAX_RETRIES=0 run abs5 \
     -c "CREATE SECRET nowhere (TYPE s3, KEY_ID 'S3RVER', SECRET 'S3RVER', ENDPOINT '$PLANAR_S3_DEAD')" \
     -c "CREATE SECRET lakes (TYPE s3, KEY_ID 'S3RVER', SECRET 'S3RVER', ENDPOINT '$PLANAR_S3_ENDPOINT', SCOPE 's3://$BUCKET/')" \
     -c "CREATE SECRET other (TYPE s3, KEY_ID 'S3RVER', SECRET 'S3RVER', ENDPOINT '$PLANAR_S3_ENDPOINT', SCOPE 's3://$OTHER/scoped/')" \
     -c "$AA" -c "CALL ducklake_add_data_files('lake', 't', 's3://$OTHER/scoped/ext2.parquet')" \
     -c "SELECT sum(i) FROM lake.t" -c "SELECT data_file FROM ducklake_list_files('lake', 't')" &&
   out abs5 | grep -qx 180 &&
   ! PLANAR_S3_MAX_RETRIES=0 run abs6 \
     -c "CREATE SECRET nowhere (TYPE s3, KEY_ID 'S3RVER', SECRET 'S3RVER', ENDPOINT '$PLANAR_S3_DEAD')" \
     -c "CREATE SECRET lakes (TYPE s3, KEY_ID 'S3RVER', SECRET 'S3RVER', ENDPOINT '$PLANAR_S3_ENDPOINT', SCOPE 's3://$BUCKET/')" \
     -c "$AA" -c "SELECT sum(i) FROM lake.t" &&
   err abs6 | grep -q "s3://$OTHER/scoped/ext2.parquet" && err abs6 | grep -q "unreachable"; then
  ok "absolute s3:// files use the secret with the longest matching SCOPE"
else fail "absolute s3:// files and secret scopes"; out abs5; err abs5; err abs6; fi
if ! aq abs7 -c "CALL ducklake_add_data_files('lake', 't', 's3://$BUCKET/ext/../abs/x.parquet')" &&
   err abs7 | grep -q "not a readable S3 object name" &&
   ! aq abs8 -c "CALL ducklake_add_data_files('lake', 't', 's3://$BUCKET/ext/data/*.parquet')" &&
   err abs8 | grep -q "patterns are not supported" &&
   ! aq abs9 -c "CALL ducklake_add_data_files('lake', 't', 's3://$BUCKET/ext/missing.parquet')" &&
   err abs9 | grep -q "s3://$BUCKET/ext/missing.parquet"; then
  ok "add_data_files refuses '..' keys and patterns, and names a missing object"
else fail "absolute s3:// file errors"; err abs7; err abs8; err abs9; fi

# ---- the read cache ----
L=$T/cache.sqlite
run c0 -c "$(secret "$PLANAR_S3_ENDPOINT")" -c "ATTACH 'ducklake:sqlite:$L' AS lake (DATA_PATH 's3://$BUCKET/cache/', DATA_INLINING_ROW_LIMIT 0)" \
  -c "CREATE TABLE lake.a AS SELECT range AS i FROM range(1000)" -c "CREATE TABLE lake.b AS SELECT range AS j FROM range(10)" \
  -c "INSERT INTO lake.a SELECT range FROM range(1000, 2000)" || { fail "cache setup"; err c0; }
MIRROR=$(find "$PLANAR_S3_CACHE_DIR" -type d -path '*/cache/main' | head -1)
rm -rf "$PLANAR_S3_CACHE_DIR"
# cold: both processes fetch into one cache at once
q() { run "$1" -c "$(secret "$PLANAR_S3_ENDPOINT")" -c "ATTACH 'ducklake:sqlite:$L' AS lake" "${@:2}"; }
(q twoA -c "SELECT sum(i) FROM lake.a" -c "SELECT sum(j) FROM lake.b") & pa=$!
n=$((n + 1)); nb=$n
(n=$nb; noenv "$PLANAR" -csv -c "$(secret "$PLANAR_S3_ENDPOINT")" -c "ATTACH 'ducklake:sqlite:$L' AS lake" \
  -c "SELECT sum(i) FROM lake.a" -c "SELECT sum(j) FROM lake.b" >"$OUT/twoB.out" 2>"$OUT/twoB.err") & pb=$!
wait $pa; ra=$?; wait $pb; rb=$?
if [ $ra = 0 ] && [ $rb = 0 ] && grep -qx 1999000 "$OUT/twoB.out" && grep -qx 45 "$OUT/twoB.out" &&
   [ -z "$(find "$PLANAR_S3_CACHE_DIR" -name '*.tmp*')" ] && [ "$(find "$PLANAR_S3_CACHE_DIR" -name '*.plmeta' | wc -l)" = 3 ]; then
  ok "two processes fill one cache directory at once"
else
  fail "two processes sharing the cache"; cat "$OUT/twoB.err"; find "$PLANAR_S3_CACHE_DIR" -type f
fi
MIRROR=$(find "$PLANAR_S3_CACHE_DIR" -type d -path '*/cache/main' | head -1)
f=$(find "$MIRROR/b" -name '*.parquet' | head -1)
ino=$(stat -c %i "$f")
q warm -c "SELECT sum(j) FROM lake.b"
[ "$(stat -c %i "$f")" = "$ino" ] && out warm | grep -qx 45 && ok "warm cache: the copy is used as it is" || fail "warm cache"
# a copy of the wrong size is fetched again
size=$(stat -c %s "$f")
truncate -s 10 "$f"
if q trunc -c "SELECT sum(j) FROM lake.b" && out trunc | grep -qx 45 && [ "$(stat -c %s "$f")" = "$size" ]; then
  ok "a cached copy of the wrong size is fetched again"
else fail "size validation"; err trunc; fi
# with ETag validation, a copy whose object changed is fetched again
ino=$(stat -c %i "$f")
sed -i 's/ .*/ 0123456789abcdef/' "$f.plmeta"
q etag0 -c "SELECT sum(j) FROM lake.b"
[ "$(stat -c %i "$f")" = "$ino" ] || fail "without PLANAR_S3_CACHE_VALIDATE the ETag is not checked"
if PLANAR_S3_CACHE_VALIDATE=etag q etag1 -c "SELECT sum(j) FROM lake.b" && out etag1 | grep -qx 45 &&
   [ "$(stat -c %i "$f")" != "$ino" ] && ! grep -q 0123456789abcdef "$f.plmeta"; then
  ok "PLANAR_S3_CACHE_VALIDATE=etag fetches a copy whose ETag changed"
else fail "ETag validation"; err etag1; fi
# LRU eviction: a cache of 1 byte keeps only what the running statement holds
rm -rf "$PLANAR_S3_CACHE_DIR"
if PLANAR_S3_CACHE_SIZE=1 q evict -c "SELECT sum(i) FROM lake.a" -c "SELECT sum(j) FROM lake.b" -c "SELECT sum(i) FROM lake.a" &&
   [ "$(out evict | grep -cx 1999000)" = 2 ] && [ "$(find "$MIRROR/b" -name '*.plmeta' | wc -l)" = 0 ] &&
   [ "$(find "$MIRROR/a" -name '*.plmeta' | wc -l)" = 2 ]; then
  ok "LRU eviction under PLANAR_S3_CACHE_SIZE never removes the files a statement reads"
else fail "eviction"; err evict; find "$PLANAR_S3_CACHE_DIR" -name '*.plmeta'; fi
# a selective query fetches only the files pruning keeps
rm -rf "$PLANAR_S3_CACHE_DIR"
q prune -c "CREATE TABLE lake.many AS SELECT 1 AS k LIMIT 0" \
  -c "INSERT INTO lake.many VALUES (1)" -c "INSERT INTO lake.many VALUES (2)" -c "INSERT INTO lake.many VALUES (3)" \
  -c "INSERT INTO lake.many VALUES (4)" -c "INSERT INTO lake.many VALUES (5)" -c "INSERT INTO lake.many VALUES (6)" \
  -c "INSERT INTO lake.many VALUES (7)" -c "INSERT INTO lake.many VALUES (8)" -c "INSERT INTO lake.many VALUES (9)" >/dev/null
rm -rf "$PLANAR_S3_CACHE_DIR"
if q prune2 -c "SELECT k FROM lake.many WHERE k = 7" && out prune2 | grep -qx 7 &&
   [ "$(find "$PLANAR_S3_CACHE_DIR" -path '*/many/*' -name '*.plmeta' | wc -l)" -le 2 ]; then
  # (one file of each table is read when the lake is attached: its view's columns)
  ok "a selective query fetches only the files pruning keeps"
else fail "pruned fetch"; err prune; out prune2; err prune2; find "$PLANAR_S3_CACHE_DIR" -path '*/many/*' -name '*.plmeta'; fi

# ---- faults ----
export PLANAR_S3_MAX_RETRIES=2 PLANAR_S3_RETRY_BASE_MS=50 PLANAR_S3_TIMEOUT_MS=2000
L=$T/fault.sqlite
fq() { run "$1" -c "$(secret "$PLANAR_S3_PROXY")" -c "ATTACH 'ducklake:sqlite:$L' AS lake (DATA_PATH 's3://$BUCKET/fault/', DATA_INLINING_ROW_LIMIT 0)" "${@:2}"; }
snaps() { fq snaps -c "SELECT count(*) FROM ducklake_snapshots('lake')" >/dev/null; out snaps | tail -1; }
fq f0 -c 'CREATE TABLE lake."fault-500x2"(i INT)' -c 'CREATE TABLE lake."fault-500always"(i INT)' \
  -c 'CREATE TABLE lake."fault-stall"(i INT)' -c 'CREATE TABLE lake.big(i BIGINT, s VARCHAR)' \
  -c 'CREATE TABLE lake."fault-region"(i INT)' -c 'CREATE TABLE lake."fault-quota"(i INT)' \
  -c 'CREATE TABLE lake.part(k VARCHAR, i INT)' -c 'ALTER TABLE lake.part SET PARTITIONED BY (k)' || { fail "fault setup"; err f0; }
if fq f1 -c 'INSERT INTO lake."fault-500x2" SELECT range FROM range(100)' -c 'SELECT sum(i) FROM lake."fault-500x2"' &&
   out f1 | grep -qx 4950; then ok "500s are retried"; else fail "500s retried"; err f1; fi
before=$(snaps)
if ! fq f2 -c 'INSERT INTO lake."fault-500always" SELECT range FROM range(100)' &&
   err f2 | grep -q "S3 upload (PUT) of s3://$BUCKET/fault/main/fault-500always/" && err f2 | grep -q "HTTP 500" &&
   [ "$(snaps)" = "$before" ] && [ -z "$(objects fault/main/fault-500always/)" ]; then
  ok "a failing upload: one clear error, the lake as before"
else fail "500 always"; err f2; fi
# one partition's upload fails: the other partition's object is removed, nothing is committed
if ! fq f3 -c "INSERT INTO lake.part VALUES ('ok', 1), ('fault-500always', 2)" &&
   [ "$(snaps)" = "$before" ] && [ -z "$(objects fault/main/part/)" ]; then
  ok "no stray object after a failed commit"
else fail "stray objects after a failed commit"; err f3; objects fault/main/part/; fi
if ! fq f4 -c 'INSERT INTO lake."fault-stall" SELECT range FROM range(100)' && err f4 | grep -q "timeout" &&
   [ "$(snaps)" = "$before" ]; then
  ok "a stalled server: a timeout error, the lake as before"
else fail "timeout"; err f4; fi
if ! fq f6 -c 'INSERT INTO lake."fault-region" SELECT range FROM range(100)' &&
   err f6 | grep -q "s3://$BUCKET/fault/main/fault-region/" && err f6 | grep -q "region 'eu-west-3'" &&
   err f6 | grep -q "AWS_REGION" && [ "$(snaps)" = "$before" ]; then
  ok "a wrong region: the error names the bucket's region and what to set, the lake as before"
else fail "wrong region"; err f6; fi
if ! fq f7 -c 'INSERT INTO lake."fault-quota" SELECT range FROM range(100)' &&
   err f7 | grep -q "s3://$BUCKET/fault/main/fault-quota/" && err f7 | grep -q "quota" &&
   [ "$(snaps)" = "$before" ] && [ -z "$(objects fault/main/fault-quota/)" ]; then
  ok "a full store: the error says so, the lake as before"
else fail "full quota"; err f7; fi
# the connection to the server dies in the middle of a multipart upload
port=$(free_port)
node tests/s3/faultproxy.js "$port" "${PLANAR_S3_ENDPOINT##*:}" >/dev/null 2>&1 & PROXY_PID=$!
for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.05; done
(sleep 1.5; kill "$PROXY_PID" 2>/dev/null) &
killer=$!
if ! PLANAR_S3_MULTIPART_THRESHOLD=5MB PLANAR_S3_PART_SIZE=5MB run f5 -c "$(secret "http://127.0.0.1:$port")" \
     -c "ATTACH 'ducklake:sqlite:$L' AS lake (DATA_PATH 's3://$BUCKET/fault/', DATA_INLINING_ROW_LIMIT 0)" \
     -c "INSERT INTO lake.big SELECT range, repeat(md5(range::VARCHAR), 8) FROM range(3000000)" &&
   [ "$(snaps)" = "$before" ]; then
  ok "the server gone mid-upload: an error, the lake as before"
else fail "server killed mid-upload"; err f5; fi
wait $killer
PROXY_PID=
fq f6 -c "SELECT count(*) FROM lake.big" -c "FROM ducklake_delete_orphaned_files('lake', cleanup_all => true)" >/dev/null
[ -z "$(objects fault/main/big/)" ] && ok "what a dead upload left is removed as orphans" || fail "orphans of a dead upload"
unset PLANAR_S3_MAX_RETRIES PLANAR_S3_RETRY_BASE_MS PLANAR_S3_TIMEOUT_MS

# a commit that conflicts (both transactions delete from one data file) removes its objects
L=$T/conflict.sqlite
CA="ATTACH 'ducklake:sqlite:$L' AS lake (DATA_PATH 's3://$BUCKET/conflict/', DATA_INLINING_ROW_LIMIT 0)"
run k0 -c "$(secret "$PLANAR_S3_ENDPOINT")" -c "$CA" -c "CREATE TABLE lake.t AS SELECT range AS i FROM range(100)" ||
  { fail "conflict setup"; err k0; }
mkfifo "$T/fifo"
noenv "$PLANAR" -csv <"$T/fifo" >"$OUT/conflictA.out" 2>&1 &
pa=$!
exec 3>"$T/fifo"
printf '%s;\n%s;\nBEGIN;\nDELETE FROM lake.t WHERE i = 1;\nSELECT 1 AS deleted;\n' "$(secret "$PLANAR_S3_ENDPOINT")" "$CA" >&3
for _ in $(seq 1 200); do grep -q deleted "$OUT/conflictA.out" 2>/dev/null && break; sleep 0.1; done
run k1 -c "$(secret "$PLANAR_S3_ENDPOINT")" -c "$CA" -c "DELETE FROM lake.t WHERE i = 2" || { fail "conflict: the first commit"; err k1; }
printf 'COMMIT;\n' >&3
exec 3>&-
wait $pa
if grep -qi conflict "$OUT/conflictA.out" &&
   run k2 -c "$(secret "$PLANAR_S3_ENDPOINT")" -c "$CA" -c "SELECT count(*) FROM lake.t" \
     -c "SELECT count(*) FROM ducklake_delete_orphaned_files('lake', cleanup_all => true, dry_run => true)" &&
   [ "$(out k2 | tr '\n' ' ')" = "count_star() 99 count_star() 0 " ]; then
  ok "a conflicting commit fails and leaves no object behind"
else fail "conflicting commit"; cat "$OUT/conflictA.out"; out k2; err k2; fi

# ---- errors ----
L=$T/err.sqlite
if [ -n "${PLANAR_S3_SIGCHECK:-}" ]; then
  if ! run e1 -c "$(secret "$PLANAR_S3_SIGCHECK" Wr0ngS3cretValue)" -c "ATTACH 'ducklake:sqlite:$L' AS lake (DATA_PATH 's3://$BUCKET/err/')" &&
     err e1 | grep -q "s3://$BUCKET/err/" && err e1 | grep -qi "secret"; then
    ok "wrong keys: the error names the bucket and the keys to check"
  else fail "wrong keys"; err e1; fi
else
  echo "skipped: wrong keys (no SigV4 checker: python3-botocore)"
fi
if ! run e2 -c "$(secret "$PLANAR_S3_ENDPOINT")" -c "ATTACH 'ducklake:sqlite:$L' AS lake (DATA_PATH 's3://no-such-bucket/x/')" &&
   err e2 | grep -q "bucket 'no-such-bucket' does not exist" && [ ! -e "$L" ]; then
  ok "missing bucket (no catalog file is created)"
else fail "missing bucket"; err e2; fi
if ! PLANAR_S3_MAX_RETRIES=0 run e3 -c "$(secret "$PLANAR_S3_DEAD")" -c "ATTACH 'ducklake:sqlite:$L' AS lake (DATA_PATH 's3://$BUCKET/x/')" &&
   err e3 | grep -q "endpoint is unreachable"; then ok "unreachable endpoint"; else fail "unreachable endpoint"; err e3; fi
if ! run e4 -c "ATTACH 'ducklake:sqlite:$L' AS lake (DATA_PATH 's3://$BUCKET/x/')" &&
   err e4 | grep -q "CREATE SECRET" && err e4 | grep -q "AWS_ACCESS_KEY_ID"; then ok "no credentials"; else fail "no credentials"; err e4; fi

# ---- the secret is never shown ----
if grep -rl "Wr0ngS3cretValue\|secret=S3RVER" "$OUT" "$PLANAR_S3_CACHE_DIR" "$T"/*.sqlite "$T"/*.duckdb 2>/dev/null; then
  fail "a secret appears in outputs, logs, the cache or a catalog"
else
  ok "no secret in any output, log, cache file or catalog"
fi

echo "$fails failed"
[ "$fails" = 0 ]
