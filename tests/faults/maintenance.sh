#!/usr/bin/env bash
# Snapshot expiry and file cleanup while other processes write the same lake.
#
# For a SQLite catalog and a PostgreSQL one: two writer processes (one long-lived session doing
# INSERTs, DELETEs and UPDATEs, one starting a process per INSERT) and a maintenance process
# that keeps running ducklake_expire_snapshots(older_than => now()),
# ducklake_cleanup_old_files(cleanup_all => true) and
# ducklake_delete_orphaned_files(cleanup_all => true), the most aggressive settings there are.
# Afterwards: every acknowledged change is there and nothing else; every file a live snapshot
# references exists (data and delete files), and the whole table reads; a writer's statement
# fails only with the errors that say its files (written, or still in its staging directory) or
# its base snapshot were taken meanwhile (then nothing of it is committed); expiry and cleanup
# did remove snapshots and files. Also: a session that keeps the model of an old snapshot does
# not serve it after another process expired it; the files a writer killed with SIGKILL during a
# large INSERT left behind are exactly what ducklake_delete_orphaned_files removes. Every
# process runs under `timeout` (but the one killed); every loop is bounded.
#   tests/faults/maintenance.sh PATH/TO/planar        (KEEP=1 keeps the work directory)
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

lk() { timeout 120 "$planar" -csv -noheader --lake "$uri" --data-path "$dir/data/" "$@"; }

# the long-lived writer: INSERTs; every 4th statement also deletes an earlier row, every 7th
# updates the row (0, n) that is there from the start (so files and delete files end and expiry
# has something to schedule)
writer_session() {
	{
		echo ".bail off"
		for ((k = 1; k <= M; k++)); do
			echo "INSERT INTO t VALUES (1, $k) RETURNING 'ack=1:' || k;"
			if ((k % 4 == 0)); then echo "DELETE FROM t WHERE p = 1 AND k = $((k - 2)) RETURNING 'del=1:' || k;"; fi
			if ((k % 7 == 0)); then echo "UPDATE t SET k = k + 1 WHERE p = 0 RETURNING 'upd=0:' || (k - 1) || ':' || k;"; fi
		done
	} | lk >"$1" 2>"$1.err"
}

# a process per INSERT
writer_processes() {
	for ((k = 1; k <= M / 2; k++)); do
		lk -c "INSERT INTO t VALUES (2, $k) RETURNING 'ack=2:' || k" >>"$1" 2>>"$1.err"
	done
}

# expiry and cleanup, again and again until $1 exists (at most 300 rounds)
maintainer() {
	{
		echo ".bail off"
		for ((i = 0; i < 300; i++)); do
			echo "SELECT 'exp=' || count(*) FROM ducklake_expire_snapshots('lake', older_than => now());"
			echo "SELECT 'old=' || count(*) FROM ducklake_cleanup_old_files('lake', cleanup_all => true);"
			echo "SELECT 'orph=' || count(*) FROM ducklake_delete_orphaned_files('lake', cleanup_all => true);"
			[ -e "$1" ] && break
			sleep 0.05
		done
	} | lk >"$2" 2>"$2.err"
}

sum_of() { awk -F= -v k="$1" '$1 == k { s += $2 } END { print s + 0 }' "$2"; }

run_case() { # run_case NAME
	local name=$1 stop="$work/$1.stop"
	lk -c "CALL lake.set_option('data_inlining_row_limit', '0')" -c "CREATE TABLE t (p INTEGER, k INTEGER)" -c "INSERT INTO t VALUES (0, 0)" >/dev/null || { fail=$((fail + 1)); echo "FAIL $name: setup"; return; }
	writer_session "$work/$name.w1" &
	local w1=$!
	writer_processes "$work/$name.w2" &
	local w2=$!
	maintainer "$stop" "$work/$name.m" &
	local m=$!
	pids=("$w1" "$w2" "$m")
	wait "$w1" "$w2"
	touch "$stop"
	wait "$m"
	pids=()
	# one more round after the writers stopped: everything expirable is expired and removed
	lk -c "CALL ducklake_expire_snapshots('lake', older_than => now())" \
		-c "CALL ducklake_cleanup_old_files('lake', cleanup_all => true)" >/dev/null

	# what the writers were told, replayed
	local expect
	expect=$( (echo "ack=0:0"; cat "$work/$name.w1" "$work/$name.w2") | awk -F'[=:]' '
		$1 == "ack" { rows[$2 ":" $3] = 1 }
		$1 == "del" { delete rows[$2 ":" $3] }
		$1 == "upd" { delete rows[$2 ":" $3]; rows[$2 ":" $4] = 1 }
		END { for (r in rows) print r }' | sort)
	local got
	got=$(lk -c "SELECT p || ':' || k FROM t" | sort)
	check "$name: rows" "$expect" "$got"
	local acks
	acks=$(cat "$work/$name.w1" "$work/$name.w2" | grep -c '^ack=')
	check "$name: inserts were acknowledged" "1" "$((acks > 0))"
	# every file a live snapshot references exists
	check "$name: live files exist" "0" "$(lk -c "SELECT count(*) FROM ducklake_list_files('lake', 't') WHERE data_file NOT IN (SELECT file FROM glob('$dir/data/**')) OR (delete_file IS NOT NULL AND delete_file NOT IN (SELECT file FROM glob('$dir/data/**')))")"
	check "$name: the table reads" "$(printf '%s\n' "$expect" | grep -c .)" "$(lk -c "SELECT count(*) FROM (SELECT sum(k) OVER () FROM t)")"
	# failures only of the kinds maintenance may cause (or a lost conflict between the writers)
	local other
	other=$(cat "$work/$name.w1.err" "$work/$name.w2.err" | grep -v -e 'removed before it could be committed' \
		-e 'were expired meanwhile' -e 'conflict' -e '^Error: cannot move .*/\.planar-write-.*No such file' | grep -c .)
	check "$name: writer errors other than maintenance races" "0" "$other"
	check "$name: maintenance errors" "" "$(cat "$work/$name.m.err")"
	local expired removed
	expired=$(sum_of exp "$work/$name.m")
	removed=$(($(sum_of old "$work/$name.m") + $(sum_of orph "$work/$name.m")))
	check "$name: snapshots were expired" "1" "$((expired > 0))"
	check "$name: files were removed" "1" "$((removed > 0))"
	# no file of the lake is left unregistered, none registered is missing
	check "$name: no orphans left" "0" "$(lk -c "SELECT count(*) FROM ducklake_delete_orphaned_files('lake', cleanup_all => true, dry_run => true)")"
	echo "$name: $acks inserts acknowledged, $expired snapshots expired, $removed files removed, $(cat "$work/$name.w1.err" "$work/$name.w2.err" | grep -c "^Error") writer statements lost to maintenance"
}

# A session that read an old snapshot (and keeps its model) must not serve it once another
# process expired it: time travel to it fails, to the snapshots that remain it still works.
stale_cache() {
	local fifo="$work/stale.fifo" out="$work/stale.out" i
	lk -c "CALL lake.set_option('data_inlining_row_limit', '0')" -c "CREATE TABLE s (i INTEGER)" -c "INSERT INTO s VALUES (1)" -c "INSERT INTO s VALUES (2)" \
		-c "INSERT INTO s VALUES (3)" >/dev/null
	local v
	v=$(lk -c "SELECT max(snapshot_id) - 1 FROM ducklake_snapshots('lake')")
	mkfifo "$fifo"
	lk <"$fifo" >"$out" 2>&1 &
	pids=($!)
	exec 3>"$fifo"
	echo ".bail off" >&3
	echo "SELECT 'before=' || count(*) FROM s AT (VERSION => $v);" >&3
	for ((i = 0; i < 600; i++)); do grep -q '^before=' "$out" && break; sleep 0.05; done
	lk -c "CALL ducklake_expire_snapshots('lake', versions => [$v])" >/dev/null
	echo "SELECT 'after=' || count(*) FROM s AT (VERSION => $v);" >&3
	echo "SELECT 'latest=' || count(*) FROM s AT (VERSION => $((v + 1)));" >&3
	exec 3>&-
	wait "${pids[0]}"
	pids=()
	check "stale cache: before" "before=2" "$(grep '^before=' "$out")"
	check "stale cache: the expired snapshot is not served" "1" "$(grep -c 'No snapshot found at version .* (it was expired)' "$out")"
	check "stale cache: the latest" "latest=3" "$(grep '^latest=' "$out")"
}

# A writer killed (kill -9) half-way through a large INSERT leaves files no catalog row knows;
# ducklake_delete_orphaned_files removes exactly those, and the lake is as before.
killed_writer() {
	lk -c "CREATE TABLE big (i BIGINT, s VARCHAR)" -c "CALL lake.set_option('target_file_size', '256KB')" >/dev/null
	local before
	before=$(lk -c "SELECT count(*) FROM t")
	# not under timeout: the signal must reach planar itself (it is killed below in any case)
	"$planar" --lake "$uri" --data-path "$dir/data/" \
		-c "INSERT INTO big SELECT i, repeat('x', 50) || i FROM range(50000000) r(i)" >/dev/null 2>&1 &
	local w=$! i
	pids=("$w")
	for ((i = 0; i < 1200; i++)); do
		[ -n "$(find "$dir/data/main/big" -name '*.parquet' 2>/dev/null | head -n 1)" ] && break
		sleep 0.05
	done
	kill -9 "$w" 2>/dev/null
	wait "$w" 2>/dev/null
	pids=()
	local left listed
	left=$(find "$dir/data/main/big" -name '*.parquet' | wc -l)
	check "killed writer: it left files" "1" "$((left > 0))"
	listed=$(lk -c "SELECT count(*) FROM ducklake_delete_orphaned_files('lake', cleanup_all => true, dry_run => true) WHERE path LIKE '$dir/data/main/big/%'")
	check "killed writer: every file it left is an orphan" "$left" "$listed"
	check "killed writer: no other orphan" "$listed" "$(lk -c "SELECT count(*) FROM ducklake_delete_orphaned_files('lake', cleanup_all => true)")"
	check "killed writer: none left" "0" "$(find "$dir/data/main/big" -name '*.parquet' | wc -l)"
	check "killed writer: no staging directory left" "0" "$(find "$dir/data/main/big" -name '.planar-write-*' | wc -l)"
	check "killed writer: nothing committed" "0" "$(lk -c "SELECT count(*) FROM big")"
	check "killed writer: the rest reads as before" "$before" "$(lk -c "SELECT count(*) FROM t")"
	check "killed writer: live files exist" "0" "$(lk -c "SELECT count(*) FROM ducklake_list_files('lake', 't') WHERE data_file NOT IN (SELECT file FROM glob('$dir/data/**'))")"
}

dir="$work/sqlite"
mkdir -p "$dir"
uri="ducklake:sqlite:$dir/meta.sqlite"
run_case sqlite
stale_cache
killed_writer

. tests/pg.sh
if pg_bindir >/dev/null 2>&1; then
	pgdir=$(mktemp -d /tmp/planar-pg-XXXXXX)
	if pg_start "$pgdir"; then
		dir="$work/postgres"
		mkdir -p "$dir"
		uri="ducklake:postgres:$PLANAR_PG metadata_schema=maint"
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
