#!/usr/bin/env bash
# tests/faults/search_segment.sh PLANAR -- a process killed while storing a search index segment
# (PLANAR_FAULT=search:mid-segment-file: half the file written; search:after-segment-file: the
# file complete, not registered) leaves no registered segment: the next process searches
# correctly (rebuilding from the change feed), and a later flush stores and registers one that
# a third process loads.
set -u
PLANAR=$(realpath "$1")
T=$(mktemp -d /tmp/planar-fault-search-XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
for point in search:mid-segment-file search:after-segment-file; do
  L="$T/$point"
  mkdir -p "$L"
  ATTACH="ATTACH 'ducklake:sqlite:$L/meta.sqlite' AS lake (DATA_PATH '$L/data/')"
  q() { PLANAR_TEST_CATALOG_SQL=1 "$PLANAR" -csv -noheader -c "$ATTACH" "$@"; }
  q -c "CREATE TABLE lake.docs (id INTEGER, body VARCHAR)" \
    -c "INSERT INTO lake.docs SELECT i, 'document ' || i || CASE WHEN i = 5 THEN ' about compilers' ELSE '' END FROM range(50) t(i)" \
    >"$T/setup.out" 2>&1 || { fail "$point: setup"; cat "$T/setup.out"; }
  PLANAR_FAULT=$point q -c "CALL lake.create_search_index('main.docs', text_column => 'body', id_column => 'id')" \
    >"$T/crash.out" 2>&1
  rc=$?
  [ $rc -eq 99 ] && ok "$point: the process ended at the point" || fail "$point: exit status $rc"
  got=$(q -c "SELECT count(*) FROM __planar_cat('lake', 'SELECT * FROM planar_search_segment')" 2>/dev/null)
  [ -z "$got" ] || [ "$got" = 0 ] && ok "$point: no segment registered" || fail "$point: registered: $got"
  got=$(q -c "SELECT id FROM planar_search('lake', 'main.docs', 'compilers', top_k => 1)" \
    -c "SELECT coalesce(loaded_segment, -1), feed_rows FROM lake.search_indexes()" 2>&1)
  [ "$got" = "$(printf '5\n-1,50')" ] && ok "$point: the next process rebuilds and searches" ||
    fail "$point: after the crash: $got"
  got=$(q -c "CALL lake.flush_search_index('main.docs')" 2>&1)
  [ "$got" = "main.docs,2,50" ] && ok "$point: a flush stores a segment" || fail "$point: flush: $got"
  got=$(q -c "SELECT id FROM planar_search('lake', 'main.docs', 'compilers', top_k => 1)" \
    -c "SELECT loaded_segment, feed_rows FROM lake.search_indexes()" 2>&1)
  [ "$got" = "$(printf '5\n2,0')" ] && ok "$point: the next process loads it" || fail "$point: after the flush: $got"
done
[ $fails -eq 0 ] || { echo "$fails failed"; exit 1; }
echo "all passed"
