#!/usr/bin/env bash
# tests/cli/maintain.sh -- `planar maintain`: one run merges a lake's small files and flushes its
# inlined rows (CHECKPOINT) without changing what the tables hold; a scheduled run repeats until
# SIGTERM and exits 0; bad arguments exit 2; a lake that cannot be attached exits 1.
#
# Usage: tests/cli/maintain.sh path/to/planar   (ctest runs it from the project root)
# Prints one line per failing check, then "N passed, N failed"; exits non-zero on any failure.
set -u

if [ $# -ne 1 ]; then
	echo "usage: $0 path/to/planar" >&2
	exit 2
fi
PLANAR=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

passed=0
failed=0
check() { # label expected actual
	if [ "$2" = "$3" ]; then passed=$((passed + 1)); else
		failed=$((failed + 1))
		echo "FAIL $1: expected '$2', got '$3'"
	fi
}
lake=(--lake "sqlite:$TMP/meta.sqlite" --data-path "$TMP/data/")
q() { "$PLANAR" -csv -noheader "${lake[@]}" -c "$1"; }

# 20 one-row INSERTs as files, 5 inlined
"$PLANAR" "${lake[@]}" -c "CREATE TABLE t(i BIGINT, s VARCHAR)" >/dev/null
for i in $(seq 1 20); do
	"$PLANAR" "${lake[@]}" -c "CALL lake.set_option('data_inlining_row_limit', 0)" \
		-c "INSERT INTO t VALUES ($i, 'f$i')" >/dev/null
done
"$PLANAR" "${lake[@]}" -c "CALL lake.set_option('data_inlining_row_limit', 10)" >/dev/null
for i in $(seq 21 25); do "$PLANAR" "${lake[@]}" -c "INSERT INTO t VALUES ($i, 'i$i')" >/dev/null; done
before=$(q "SELECT count(*) || ':' || sum(i) || ':' || string_agg(s, '|' ORDER BY i) FROM t")
check "rows before" "25:325:$(seq -s'|' 1 20 | sed 's/\([0-9]*\)/f\1/g')|i21|i22|i23|i24|i25" "$before"
check "files before" "20" "$(q "SELECT count(*) FROM ducklake_list_files('lake', 't')")"
mid=$(q "SELECT max(snapshot_id) // 2 FROM lake.snapshots()")
at_mid=$(q "SELECT count(*) || ':' || sum(i) FROM t AT (VERSION => $mid)")

out=$("$PLANAR" maintain "${lake[@]}")
rc=$?
check "one run exits 0" "0" "$rc"
check "one JSON line" "1" "$(grep -c '^{"run": 1, .*"ok": true' <<<"$out")"
check "rows after" "$before" "$(q "SELECT count(*) || ':' || sum(i) || ':' || string_agg(s, '|' ORDER BY i) FROM t")"
check "inlined rows flushed and the small files merged into one" "1" \
	"$(q "SELECT count(*) FROM ducklake_list_files('lake', 't')")"
check "time travel to a snapshot before the run reads what it read" "$at_mid" \
	"$(q "SELECT count(*) || ':' || sum(i) FROM t AT (VERSION => $mid)")"

# scheduled: at least two runs, then SIGTERM ends it with 0
"$PLANAR" maintain "${lake[@]}" --every 0.2 >"$TMP/loop.out" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
	[ "$(grep -c '"ok": true' "$TMP/loop.out")" -ge 2 ] && break
	sleep 0.1
done
kill -TERM "$pid"
wait "$pid"
check "SIGTERM ends the schedule with 0" "0" "$?"
check "the schedule ran at least twice" "1" "$([ "$(grep -c '"ok": true' "$TMP/loop.out")" -ge 2 ] && echo 1 || echo 0)"

"$PLANAR" maintain "${lake[@]}" --every 0.05 --runs 3 >"$TMP/runs.out" 2>&1
check "--runs 3 makes three runs" "3" "$(grep -c '"ok": true' "$TMP/runs.out")"

"$PLANAR" maintain --every x >/dev/null 2>&1
check "a bad --every exits 2" "2" "$?"
"$PLANAR" maintain >/dev/null 2>&1
check "no --lake exits 2" "2" "$?"
"$PLANAR" maintain --lake "sqlite:$TMP/nowhere/x.sqlite" --data-path "$TMP/data/" --runs 1 >/dev/null 2>&1
check "--runs without --every exits 2" "2" "$?"
printf 'not a database' >"$TMP/bad.sqlite"
"$PLANAR" maintain --lake "sqlite:$TMP/bad.sqlite" >/dev/null 2>"$TMP/bad.err"
check "a lake that cannot be attached exits 1" "1" "$?"
check "and says why" "1" "$(grep -c '^Error: ' "$TMP/bad.err")"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
