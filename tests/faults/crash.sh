#!/usr/bin/env bash
# A writer that dies in the middle of a commit leaves the lake consistent, on both catalog kinds
# (SQLite and DuckDB file).
#
# Crash points (PLANAR_FAULT, src/core/fault.h: the process _exit(99)s right there):
#   write:after-files     data files written and published, nothing in the catalog yet
#   commit:before-commit  catalog rows written, catalog transaction not committed
#   commit:after-commit   catalog transaction committed, views not rebuilt
# each for an INSERT, a DELETE (one data file partly, another entirely), an UPDATE, an ALTER
# TABLE and a BEGIN; INSERT; DELETE; UPDATE; CREATE TABLE AS; COMMIT script (write:after-files
# is not reached inside a transaction, so the script runs with the two commit points only).
# Then a real `kill -9` of a process running a 5M-row INSERT: while it evaluates the rows (0.5 s),
# as soon as its staging file appears (writing Parquet), and as soon as the staging directory is
# gone again (files published, catalog commit running or done: it may or may not have committed).
#
# After each crash a fresh process checks: the lake attaches; the snapshot count is the old one
# (after-files, before-commit) or old+1 (after-commit); the tables hold exactly the old rows or
# exactly what a reference lake holds after the same statements ran without a crash, never a
# mix; time travel to the old snapshot gives the old rows; no catalog row belongs to a snapshot
# that does not exist or has an id beyond the latest snapshot's counters; every file the catalog
# registers (any snapshot, data and delete files) exists, and so does every ducklake_list_files
# path; files on disk the catalog does not know (orphans) appeared during the crashed write
# (they are allowed and counted; none after a committed crash); the next write succeeds with
# snapshot id old_max+1 and count(snapshots) = max(snapshot_id)+1.
#   tests/faults/crash.sh PATH/TO/planar
set -uo pipefail
planar=$(realpath "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0 orphan_report=()
check() { # check NAME EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $1: expected '$2', got '$3'"; fi
}

# The lake under test: $cat (sqlite|duckdb) and $dir are set by the caller.
lk() { "$planar" -csv -noheader --lake "ducklake:$cat:$dir/meta.$cat" --data-path "$dir/data/" "$@"; }

SETUP=(-c "CREATE TABLE t(i BIGINT, s VARCHAR)"
	-c "INSERT INTO t SELECT i, 'v' || i FROM range(100) r(i)"
	-c "INSERT INTO t SELECT i, 'w' || i FROM range(100, 150) r(i)")

# State of the lake as key=value lines, in one process. $1: a version for time travel (or '').
# rows_* are md5s of the rows as structs (column names included); rows_t2 comes last because the
# table may not exist (then the process stops there and rows_t2 stays empty).
rowsum() { echo "SELECT '$1=' || coalesce(md5(string_agg(x::VARCHAR, '|' ORDER BY x::VARCHAR)), 'empty') FROM $2 x"; }
state_sql() {
	local q=(-c "SELECT 'n=' || count(*) FROM ducklake_snapshots('lake')"
		-c "SELECT 'max=' || max(snapshot_id) FROM ducklake_snapshots('lake')"
		-c "SELECT 'tables=' || string_agg(table_name, ',' ORDER BY table_name) FROM ducklake_table_info('lake')"
		-c "SELECT 'dangling=' || x FROM __planar_cat('lake', '$DANGLING') d(x)"
		-c "SELECT 'reg=' || path FROM __planar_cat('lake', 'SELECT path FROM ducklake_data_file UNION ALL SELECT path FROM ducklake_delete_file')"
		-c "SELECT 'cur=' || data_file FROM ducklake_list_files('lake', 't')"
		-c "SELECT 'cur=' || delete_file FROM ducklake_list_files('lake', 't') WHERE delete_file IS NOT NULL"
		-c "SELECT 'agg=' || count(*) || ':' || sum(i) FROM t")
	[ -n "$1" ] && q+=(-c "$(rowsum tt "t AT (VERSION => $1)")")
	q+=(-c "$(rowsum rows_t t)" -c "$(rowsum rows_t2 t2)")
	state=("${q[@]}")
}
# Catalog rows that belong to no committed snapshot, ids beyond the latest snapshot's counters,
# duplicate snapshot ids, snapshots without their changes row.
DANGLING="SELECT (SELECT count(*) FROM ducklake_data_file WHERE begin_snapshot > m OR end_snapshot > m OR data_file_id >= nf)
 + (SELECT count(*) FROM ducklake_delete_file WHERE begin_snapshot > m OR end_snapshot > m OR delete_file_id >= nf)
 + (SELECT count(*) FROM ducklake_table WHERE begin_snapshot > m OR end_snapshot > m OR table_id >= nc)
 + (SELECT count(*) FROM ducklake_schema WHERE begin_snapshot > m OR end_snapshot > m OR schema_id >= nc)
 + (SELECT count(*) FROM ducklake_column WHERE begin_snapshot > m OR end_snapshot > m)
 + (SELECT count(*) FROM ducklake_snapshot_changes WHERE snapshot_id > m)
 + (SELECT count(*) - count(DISTINCT snapshot_id) FROM ducklake_snapshot)
 + (SELECT count(*) FROM ducklake_snapshot) - (SELECT count(*) FROM ducklake_snapshot_changes)
 FROM (SELECT snapshot_id AS m, next_file_id AS nf, next_catalog_id AS nc FROM ducklake_snapshot
       WHERE snapshot_id = (SELECT max(snapshot_id) FROM ducklake_snapshot)) latest"
get() { printf '%s\n' "$1" | sed -n "s/^$2=//p"; }
disk_files() { find "$dir/data" -type f 2>/dev/null | sort; }

# Checks after the crash. Globals: old (state text before), new_rows_t/new_rows_t2 (reference
# state), before_disk. $1 = label, $2 = allowed outcome: old | new | either.
after_crash() {
	local label=$1 want=$2 s n mx outcome=mixed reg f missing orphans=0 not_new=0 o table_files
	local old_n old_max
	old_n=$(get "$old" n) old_max=$(get "$old" max)
	state_sql "$old_max"
	s=$(lk "${state[@]}" 2>&1)
	n=$(get "$s" n) mx=$(get "$s" max)
	[ -n "$n" ] && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL $label: the lake does not attach: $s"; }
	local rows="$(get "$s" tables) $(get "$s" rows_t) $(get "$s" rows_t2)"
	[ "$n" = "$old_n" ] && [ "$mx" = "$old_max" ] &&
		[ "$rows" = "$(get "$old" tables) $(get "$old" rows_t) $(get "$old" rows_t2)" ] && outcome=old
	[ "$n" = "$((old_n + 1))" ] && [ "$mx" = "$((old_max + 1))" ] && [ "$rows" = "$new_rows" ] && outcome=new
	case $want in
	old) check "$label: the old snapshots and rows" "old" "$outcome" ;;
	new) check "$label: one more snapshot and the new rows" "new" "$outcome" ;;
	either) [ "$outcome" != mixed ] && pass=$((pass + 1)) ||
		{ fail=$((fail + 1)); echo "FAIL $label: neither the old nor the new state (snapshots $n, max $mx, rows $(get "$s" agg))"; } ;;
	esac
	[ "$outcome" = mixed ] && echo "  $label: snapshots $n (was $old_n), max $mx, rows $(get "$s" agg) (was $(get "$old" agg))"
	check "$label: time travel to the old snapshot" "$(get "$old" rows_t)" "$(get "$s" tt)"
	check "$label: no dangling catalog rows" "0" "$(get "$s" dangling)"
	# Every registered file (any snapshot) is in a table directory; every listed path exists.
	reg=$(get "$s" reg | sed 's#.*/##' | sort)
	table_files=$(find "$dir/data" -mindepth 3 -maxdepth 3 -type f -printf '%f\n' | sort)
	missing=$(comm -23 <(printf '%s\n' "$reg" | sed '/^$/d') <(printf '%s\n' "$table_files") | wc -l)
	check "$label: registered files exist" "0" "$missing"
	missing=0
	for f in $(get "$s" cur); do [ -f "$f" ] || missing=$((missing + 1)); done
	check "$label: ducklake_list_files paths exist" "0" "$missing"
	# Orphans: on disk, not registered; allowed only when they appeared during the crashed write.
	while IFS= read -r o; do
		[ -n "$o" ] || continue
		if ! grep -qxF "${o##*/}" <<<"$reg"; then
			orphans=$((orphans + 1))
			grep -qxF "$o" <<<"$before_disk" && not_new=$((not_new + 1))
		fi
	done <<<"$(disk_files)"
	check "$label: unregistered files are leftovers of the crashed write" "0" "$not_new"
	[ "$want" = new ] && check "$label: no orphan after a committed crash" "0" "$orphans"
	orphan_report+=("$label ($outcome): $orphans orphan file(s)")
	# The next write gets the next snapshot id; ids stay dense.
	state_sql ""
	s=$(lk -c "INSERT INTO t (i, s) VALUES (9999, 'next')" -c "SELECT 'next=' || count(*) FROM t WHERE i = 9999" "${state[@]}" 2>&1)
	check "$label: next write succeeds and is visible" "1" "$(get "$s" next)"
	check "$label: next snapshot id" "$((mx + 1))" "$(get "$s" max)"
	check "$label: count(snapshots) = max(snapshot_id)+1" "$(($(get "$s" max) + 1))" "$(get "$s" n)"
	check "$label: no dangling catalog rows after the next write" "0" "$(get "$s" dangling)"
}

scenario_sql() { # sets sql=(...) for scenario $1
	case $1 in
	insert) sql=(-c "INSERT INTO t SELECT i, 'n' || i FROM range(1000, 1200) r(i)") ;;
	delete) sql=(-c "DELETE FROM t WHERE i >= 100 OR i % 4 = 1") ;;
	update) sql=(-c "UPDATE t SET s = s || '-u' WHERE i % 3 = 0") ;;
	alter) sql=(-c "ALTER TABLE t ADD COLUMN k INT DEFAULT 7") ;;
	txn) sql=(-c "BEGIN" -c "INSERT INTO t VALUES (500, 'tx')" -c "DELETE FROM t WHERE i < 10"
		-c "UPDATE t SET s = 'tu' WHERE i = 50" -c "CREATE TABLE t2 AS SELECT i FROM t WHERE i < 15" -c "COMMIT") ;;
	esac
}

run_catalog() { # all scenarios on one catalog kind; prints its checks, leaves its counts in a file
	cat=$1
	for sc in insert delete update alter txn; do
		scenario_sql "$sc"
		# The reference: the same statements without a crash make one snapshot.
		dir=$work/$cat-$sc-ref
		mkdir -p "$dir"
		state_sql ""
		ref_before=$(lk "${SETUP[@]}" -c "SELECT 'n=' || count(*) FROM ducklake_snapshots('lake')" 2>&1)
		lk "${sql[@]}" >/dev/null 2>"$work/err" || echo "FAIL $cat $sc: reference run failed: $(cat "$work/err")"
		ref=$(lk "${state[@]}" 2>&1)
		check "$cat $sc: the statements make one snapshot" "$(($(get "$ref_before" n) + 1))" "$(get "$ref" n)"
		new_rows="$(get "$ref" tables) $(get "$ref" rows_t) $(get "$ref" rows_t2)"
		for point in write:after-files commit:before-commit commit:after-commit; do
			[ "$sc" = txn ] && [ "$point" = write:after-files ] && continue
			label="$cat $sc @$point"
			dir=$work/$cat-$sc-${point#*:}
			mkdir -p "$dir"
			old=$(lk "${SETUP[@]}" "${state[@]}" 2>&1)
			before_disk=$(disk_files)
			PLANAR_FAULT=$point lk "${sql[@]}" >/dev/null 2>&1
			check "$label: process crashed at the point" "99" "$?"
			if [ "$point" = commit:after-commit ]; then after_crash "$label" new; else after_crash "$label" old; fi
			[ -n "${CRASH_TIMING:-}" ] && echo "  [$label done at $((SECONDS - start)) s]"
		done
	done

	# kill -9 of a 5M-row INSERT: while evaluating, while writing Parquet, after publishing.
	new_rows=none
	for phase in evaluating writing published; do
		label="$cat kill -9 $phase"
		dir=$work/$cat-kill-$phase
		mkdir -p "$dir"
		state_sql ""
		old=$(lk "${SETUP[@]}" "${state[@]}" 2>&1)
		before_disk=$(disk_files)
		"$planar" -csv -noheader --lake "ducklake:$cat:$dir/meta.$cat" --data-path "$dir/data/" \
			-c "INSERT INTO t SELECT i, md5(i::VARCHAR) FROM range(1000, 5001000) r(i)" >/dev/null 2>&1 &
		pid=$!
		seen=no
		case $phase in
		evaluating) sleep 0.5 ;;
		*) # poll (at most 30 s) for the staging directory to appear (writing) and vanish (published)
			for ((k = 0; k < 3000; k++)); do
				if compgen -G "$dir/data/main/t/.planar-write-*/*" >/dev/null; then
					seen=yes
					[ "$phase" = writing ] && break
				elif [ $seen = yes ] || ! kill -0 "$pid" 2>/dev/null; then
					break
				fi
				sleep 0.01
			done ;;
		esac
		kill -0 "$pid" 2>/dev/null && alive=yes || alive=no
		kill -9 "$pid" 2>/dev/null
		{ wait "$pid"; } 2>/dev/null
		rc=$?
		agg=$(lk -c "SELECT count(*) || ':' || sum(i) FROM t" 2>&1)
		echo "  $label: alive when killed: $alive, staging seen: $seen, exit status $rc, rows:sum now $agg"
		# The new state is exactly old + 5M rows; the rows' md5 is then taken from the lake itself.
		if [ "$agg" = "5000150:12504997511175" ]; then
			state_sql ""
			s=$(lk "${state[@]}" 2>&1)
			new_rows="$(get "$s" tables) $(get "$s" rows_t) $(get "$s" rows_t2)"
		fi
		after_crash "$label" either
		new_rows=none
		[ -n "${CRASH_TIMING:-}" ] && echo "  [$label done at $((SECONDS - start)) s]"
	done
	for line in "${orphan_report[@]}"; do echo "  $line"; done
	echo "$pass $fail" >"$work/$cat.counts"
}

# The two catalog kinds run side by side (each on its own lakes); their reports print in order.
start=$SECONDS
for cat in sqlite duckdb; do run_catalog "$cat" >"$work/$cat.log" 2>&1 & done
wait
for cat in sqlite duckdb; do
	cat "$work/$cat.log"
	read -r p f <"$work/$cat.counts" 2>/dev/null || { p=0 f=1; echo "FAIL $cat: the scenarios did not finish"; }
	pass=$((pass + p)) fail=$((fail + f))
done
echo "crash scenarios took $((SECONDS - start)) s"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
