#!/usr/bin/env bash
# Compaction while other processes write and read the same lake.
#
# For a SQLite catalog and a PostgreSQL one: two writer processes (one long-lived session doing
# INSERTs and DELETEs of earlier rows, so deletes hit files being merged; one starting a process
# per INSERT), a compactor process that keeps running ducklake_merge_adjacent_files and
# ducklake_rewrite_data_files (low threshold), and a reader of the table and its change feed.
# Afterwards: every insert was acknowledged and every acknowledged change is there, nothing
# else; time travel to every snapshot reads exactly the changes acknowledged up to it (each
# writer notes the snapshot it committed); the change feed over the whole history adds up to the
# table; every file a live snapshot references exists; a statement fails only with a conflict
# (and then nothing of it is committed); the compactor merged files while they wrote, and
# rewrites files after deletes; once the merged-away files are cleaned up no file is left that
# the catalog does not know. Every process runs under `timeout`; every loop is bounded.
#   tests/faults/compaction.sh PATH/TO/planar        (KEEP=1 keeps the work directory)
# Exits 77 (skipped) when the PostgreSQL part cannot run (no server binaries).
set -uo pipefail
export PLANAR_TEST_CATALOG_SQL=1
planar=$(realpath "$1")
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
pgdir=
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	[ -z "$pgdir" ] || { pg_stop "$pgdir"; rm -rf "$pgdir"; }
	if [ -n "${KEEP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
pass=0 fail=0 skipped=0
check() { # check NAME EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $1: expected '$2', got '$3'"; fi
}
M=60

lk() { timeout 600 "$planar" -csv -noheader --lake "$uri" --data-path "$dir/data/" "$@"; }
# after each change: the snapshot it committed (acknowledged changes are tied to it)
SNAP="SELECT 'snap=' || id FROM ducklake_last_committed_snapshot('lake');"

# the long-lived writer: INSERTs; every 3rd statement also deletes two earlier rows (their files
# are likely being merged or rewritten meanwhile)
writer_session() {
	{
		echo ".bail off"
		for ((k = 1; k <= M; k++)); do
			echo "INSERT INTO t VALUES (1, $k) RETURNING 'ack=1:' || k;"
			echo "$SNAP"
			if ((k % 3 == 0)); then
				echo "DELETE FROM t WHERE p = 1 AND k IN ($((k - 2)), $((k - 1))) RETURNING 'del=1:' || k;"
				echo "$SNAP"
			fi
		done
	} | lk >"$1" 2>"$1.err"
}

# a process per INSERT
writer_processes() {
	for ((k = 1; k <= M / 2; k++)); do
		lk -c "INSERT INTO t VALUES (2, $k) RETURNING 'ack=2:' || k" -c "$SNAP" >>"$1" 2>>"$1.err"
	done
}

# merges and rewrites, again and again until $1 exists (at most 300 rounds)
compactor() {
	{
		echo ".bail off"
		for ((i = 0; i < 300; i++)); do
			echo "SELECT 'merged=' || coalesce(sum(files_processed), 0) FROM ducklake_merge_adjacent_files('lake', 't');"
			echo "SELECT 'rewritten=' || coalesce(sum(files_processed), 0) FROM ducklake_rewrite_data_files('lake', 't', delete_threshold => 0.1);"
			[ -e "$1" ] && break
			sleep 0.05
		done
	} | lk >"$2" 2>"$2.err"
}

# reads the table and its change feed, until $1 exists
reader() {
	{
		echo ".bail off"
		for ((i = 0; i < 300; i++)); do
			echo "SELECT 'seen=' || count(*) FROM t;"
			echo "SELECT 'feed=' || count(*) FROM ducklake_table_changes('lake', 'main', 't', 0, (SELECT max(snapshot_id) FROM ducklake_snapshots('lake')));"
			[ -e "$1" ] && break
			sleep 0.1
		done
	} | lk >"$2" 2>"$2.err"
}

sum_of() { awk -F= -v k="$1" '$1 == k { s += $2 } END { print s + 0 }' "$2"; }

run_case() { # run_case NAME
	local name=$1 stop="$work/$1.stop"
	lk -c "CALL lake.set_option('data_inlining_row_limit', '0')" -c "CREATE TABLE t (p INTEGER, k INTEGER)" \
		-c "INSERT INTO t VALUES (0, 0) RETURNING 'ack=0:0'" -c "$SNAP" >"$work/$name.w0" ||
		{ fail=$((fail + 1)); echo "FAIL $name: setup"; return; }
	writer_session "$work/$name.w1" &
	local w1=$!
	writer_processes "$work/$name.w2" &
	local w2=$!
	compactor "$stop" "$work/$name.c" &
	local c=$!
	reader "$stop" "$work/$name.r" &
	local r=$!
	pids=("$w1" "$w2" "$c" "$r")
	wait "$w1" "$w2"
	touch "$stop"
	wait "$c" "$r"
	pids=()
	# one more round after the writers stopped: deletes in every file of the per-process writer's
	# rows (most of them merged by now), then a merge and a rewrite that must find work (every
	# file with deletes: how large a share of a merged file the deleted rows are depends on how
	# the merges fell, and with 0.1 a run found no file over it)
	lk -c "DELETE FROM t WHERE p = 2 AND k % 3 = 0 RETURNING 'del=2:' || k" -c "$SNAP" >"$work/$name.w3" 2>>"$work/$name.w2.err"
	lk -c "SELECT 'merged=' || coalesce(sum(files_processed), 0) FROM ducklake_merge_adjacent_files('lake', 't')" \
		-c "SELECT 'rewritten=' || coalesce(sum(files_processed), 0) FROM ducklake_rewrite_data_files('lake', 't', delete_threshold => 0)" \
		>"$work/$name.c2" 2>>"$work/$name.c.err"

	# what the writers were told, replayed
	local expect
	expect=$(cat "$work/$name.w0" "$work/$name.w1" "$work/$name.w2" "$work/$name.w3" | awk -F'[=:]' '
		$1 == "ack" { rows[$2 ":" $3] = 1 }
		$1 == "del" { delete rows[$2 ":" $3] }
		END { for (r in rows) print r }' | sort)
	local got
	got=$(lk -c "SELECT p || ':' || k FROM t" | sort)
	check "$name: rows" "$expect" "$got"
	local acks
	acks=$(cat "$work/$name.w1" "$work/$name.w2" | grep -c '^ack=')
	check "$name: every insert was acknowledged" "$((M + M / 2))" "$acks"
	# every snapshot reads exactly the acknowledged changes committed up to it (time travel through
	# merged and rewritten files): the row count at each snapshot, replayed from the writers' acks
	local truth last n
	last=$(lk -c "SELECT max(snapshot_id) FROM ducklake_snapshots('lake')")
	truth=$(cat "$work/$name.w0" "$work/$name.w1" "$work/$name.w2" "$work/$name.w3" | awk -F'[=:]' -v last="$last" '
		BEGIN { n = 0; done = 0 }
		$1 == "ack" || $1 == "del" { op[n] = $1; key[n] = $2 ":" $3; n++ }
		$1 == "snap" { for (i = done; i < n; i++) at[i] = $2 + 0; done = n }
		END {
			for (s = 2; s <= last; s++) {
				delete rows
				for (i = 0; i < done; i++) if (at[i] <= s) { if (op[i] == "ack") rows[key[i]] = 1; else delete rows[key[i]] }
				c = 0; for (r in rows) c++
				print s ":" c
			}
		}')
	local q="" s
	for ((s = 2; s <= last; s++)); do
		q="$q${q:+ UNION ALL }SELECT '$s:' || count(*) FROM t AT (VERSION => $s)"
	done
	n=$(printf '%s\n' "$truth" | grep -c .)
	check "$name: snapshots to check" "1" "$((n > 50))"
	check "$name: time travel to every snapshot" "$truth" "$(lk -c "$q" | sort -t: -k1,1n)"
	# the change feed over the whole history adds up to the table
	check "$name: change feed" "$(printf '%s\n' "$expect" | grep -c .)" "$(lk -c "SELECT sum(CASE WHEN change_type IN ('insert', 'update_postimage') THEN 1 WHEN change_type IN ('delete', 'update_preimage') THEN -1 END) FROM ducklake_table_changes('lake', 'main', 't', 0, (SELECT max(snapshot_id) FROM ducklake_snapshots('lake')))")"
	# every file a live snapshot references exists
	check "$name: live files exist" "0" "$(lk -c "SELECT count(*) FROM ducklake_list_files('lake', 't') WHERE data_file NOT IN (SELECT file FROM glob('$dir/data/**')) OR (delete_file IS NOT NULL AND delete_file NOT IN (SELECT file FROM glob('$dir/data/**')))")"
	# failures only of the kind a race with compaction may cause
	local other
	other=$(cat "$work/$name.w1.err" "$work/$name.w2.err" "$work/$name.c.err" "$work/$name.r.err" | grep -v -i -e 'conflict' | grep -c .)
	check "$name: errors other than conflicts" "0" "$other"
	local merged rewritten
	merged=$(sum_of merged "$work/$name.c")
	rewritten=$(sum_of rewritten "$work/$name.c")
	check "$name: files were merged while the writers ran" "1" "$((merged > 0))"
	check "$name: files were rewritten at the end" "1" "$(($(sum_of rewritten "$work/$name.c2") > 0))"
	# the merged-away files go with a cleanup; nothing is left that the catalog does not know
	lk -c "CALL ducklake_cleanup_old_files('lake', cleanup_all => true)" >/dev/null
	check "$name: no orphans left" "0" "$(lk -c "SELECT count(*) FROM ducklake_delete_orphaned_files('lake', cleanup_all => true, dry_run => true)")"
	check "$name: the table reads after cleanup" "$(printf '%s\n' "$expect" | grep -c .)" "$(lk -c "SELECT count(*) FROM t")"
	echo "$name: $acks inserts acknowledged, $merged files merged, $rewritten rewritten, $n snapshots checked," \
		"$(cat "$work/$name.w1.err" "$work/$name.w2.err" "$work/$name.c.err" | grep -c "^Error") statements lost to conflicts"
}

dir="$work/sqlite"
mkdir -p "$dir"
uri="ducklake:sqlite:$dir/meta.sqlite"
run_case sqlite

. tests/pg.sh
if pg_bindir >/dev/null 2>&1; then
	pgdir=$(mktemp -d /tmp/planar-pg-XXXXXX)
	if pg_start "$pgdir"; then
		dir="$work/postgres"
		mkdir -p "$dir"
		uri="ducklake:postgres:$PLANAR_PG metadata_schema=compact"
		run_case postgres
	else
		fail=$((fail + 1))
		echo "FAIL postgres: the server did not start"
	fi
else
	skipped=1
	echo "SKIP postgres: no PostgreSQL server binaries"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] || exit 1
[ "$skipped" -eq 0 ] || exit 77
exit 0
