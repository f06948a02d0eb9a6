#!/usr/bin/env bash
# tests/s3/search.sh PLANAR -- search index segments on lakes whose DATA_PATH is s3:// against
# the test S3 server (run by tests/s3/with-server.sh): the SQL logic test tests/s3/search.test
# on the DuckDB and SQLite catalogs, then across processes: the segment is an object below the
# data path, a new process with an empty local cache fetches and loads it (no rebuild), and
# dropping the index removes the object.
set -u
PLANAR=$(realpath "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
T=$(mktemp -d /tmp/planar-s3search-XXXXXX)
trap 'rm -rf "$T"' EXIT
export PLANAR_S3_CACHE_DIR=$T/cache PLANAR_SECRET_DIR=$T/secrets
BUCKET=${PLANAR_S3_BUCKET:-planar-test}
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
noenv() { env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_ENDPOINT_URL -u AWS_REGION "$@"; }
objects() { # objects PREFIX: keys of the objects below PREFIX (from the server's directory)
  (cd "$PLANAR_S3_DATA_DIR/$BUCKET" 2>/dev/null && find . -name '*._S3rver_object' | sed -e 's#^\./##' \
    -e 's#\._S3rver_object$##' | grep "^$1" | sort)
}

export PLANAR_TEST_CATALOG_SQL=1
for kind in duckdb sqlite; do
  if noenv env S3_LAKE_PATH="s3://$BUCKET/search-sqltest-$kind/" "$PLANAR" test --env "DUCKLAKE_PREFIX=ducklake:$kind:" \
      --env "CATALOG=$kind" tests/s3/search.test >"$T/sqltest-$kind.out" 2>&1 &&
     grep -q "1 passed, 0 failed, 0 skipped" "$T/sqltest-$kind.out"; then
    ok "search.test on $kind"
  else
    fail "search.test on $kind"; cat "$T/sqltest-$kind.out"
  fi
done
unset PLANAR_TEST_CATALOG_SQL

SECRET="CREATE SECRET (TYPE s3, KEY_ID 'S3RVER', SECRET 'S3RVER', ENDPOINT '$PLANAR_S3_ENDPOINT', REGION 'us-east-1', URL_STYLE 'path', USE_SSL false)"
ATTACH="ATTACH 'ducklake:sqlite:$T/meta.sqlite' AS lake (DATA_PATH 's3://$BUCKET/search-procs/', DATA_INLINING_ROW_LIMIT 0)"
planar() { noenv "$PLANAR" -csv -noheader -c "$SECRET" -c "$ATTACH" "$@"; }

planar -c "CREATE TABLE lake.docs (id INTEGER, body VARCHAR)" \
  -c "INSERT INTO lake.docs SELECT i, 'document number ' || i || CASE WHEN i = 7 THEN ' about compilers' ELSE '' END FROM range(100) t(i)" \
  -c "CALL lake.create_search_index('main.docs', text_column => 'body', id_column => 'id')" \
  -c "DELETE FROM lake.docs WHERE id = 3" >"$T/create.out" 2>&1 || { fail "creating the index"; cat "$T/create.out"; }
n=$(objects "search-procs/__planar_search/" | grep -c '\.plseg$')
[ "$n" = 1 ] && ok "the segment is an object of the lake" || fail "segment objects: $n"
rm -rf "$T/cache"
got=$(planar -c "SELECT id FROM planar_search('lake', 'main.docs', 'compilers', top_k => 1, mode => 'bm25')" \
  -c "SELECT count(*) FROM planar_search('lake', 'main.docs', 'document', top_k => 1000, mode => 'bm25')" \
  -c "SELECT loaded_segment, feed_rows FROM lake.search_indexes()" 2>&1)
[ "$got" = "$(printf '7\n99\n2,1')" ] && ok "a new process with an empty cache loads the segment" ||
  fail "search after a restart: $got"
planar -c "CALL lake.drop_search_index('main.docs')" >"$T/drop.out" 2>&1 || { fail "dropping"; cat "$T/drop.out"; }
n=$(objects "search-procs/__planar_search/" | grep -c '\.plseg$')
[ "$n" = 0 ] && ok "dropping the index removes the object" || fail "segment objects after the drop: $n"

[ $fails -eq 0 ] || { echo "$fails failed"; exit 1; }
echo "all passed"
