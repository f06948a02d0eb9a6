#!/usr/bin/env bash
# A writer that dies in the middle of a commit leaves the lake consistent, on both catalog kinds
# (SQLite and DuckDB file).
#
# Crash points (PLANAR_FAULT, src/core/fault.h: the process _exit(99)s right there):
#   write:after-files     data files written and published, nothing in the catalog yet
#   commit:before-commit  catalog rows written, catalog transaction not committed
#   commit:after-commit   catalog transaction committed, views not rebuilt
# each for an INSERT, a DELETE (one data file partly, one entirely), an UPDATE, an ALTER TABLE
# and a BEGIN .. INSERT/DELETE/UPDATE/CREATE TABLE AS .. COMMIT script (write:after-files is not
# reached inside a transaction, so that script runs only with the two commit points). Then a real
# `kill -9` of a process in the middle of a 5M-row INSERT (it may or may not have committed).
#
# After each crash a fresh process checks: the lake attaches; the snapshot count is the old one
# (after-files, before-commit) or old+1 (after-commit); the tables hold exactly the old rows or
# exactly the rows a reference lake holds after the same statements ran without a crash; time
# travel to the old snapshot still gives the old rows; no catalog row refers to a snapshot that
# does not exist and no id is beyond the latest snapshot's counters; every file the catalog
# registers (any snapshot) exists on disk; files on disk the catalog does not know (orphans) are
# only files that appeared during the crashed write (counted and printed, allowed); the next
# write succeeds with snapshot id old_max+1; count(snapshots) = max(snapshot_id)+1.
#   tests/faults/crash.sh PATH/TO/planar
set -uo pipefail
planar=$(realpath "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0 orphan_report=()
check() { # check NAME EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $1: expected '$2', got '$3'"; fi
}
check_true() { # check_true NAME DETAIL COMMAND...
	local name=$1 detail=$2
	shift 2
	if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $name: $detail"; fi
}

# The lake under test: $cat (sqlite|duckdb) and $dir are set by the caller.
lk() { "$planar" -csv -noheader --lake "ducklake:$cat:$dir/meta.$cat" --data-path "$dir/data/" "$@"; }
lkh() { "$planar" -csv --lake "ducklake:$cat:$dir/meta.$cat" --data-path "$dir/data/" "$@"; }
catq() { # catq SQL: a query on the catalog database itself (integer and text columns only)
	lk -c "SELECT * FROM __planar_cat('lake', '$1')"
}

setup() { # a table t with two data files: 0..99 and 100..149
	mkdir -p "$dir"
	lk -c "CREATE TABLE t(i BIGINT, s VARCHAR)" \
		-c "INSERT INTO t SELECT i, 'v' || i FROM range(100) r(i)" \
		-c "INSERT INTO t SELECT i, 'w' || i FROM range(100, 150) r(i)" >/dev/null
}

# Every table's rows (with column names, so an ALTER shows), as an md5.
dump() {
	local tables args=() tb
	tables=$(lk -c "SELECT table_name FROM ducklake_table_info('lake') ORDER BY 1") || { echo "dump-failed"; return; }
	for tb in $tables; do args+=(-c "SELECT '$tb' AS table_name" -c "SELECT * FROM $tb ORDER BY ALL"); done
	{ echo "$tables"; [ ${#args[@]} -eq 0 ] || lkh "${args[@]}"; } 2>&1 | md5sum | cut -c1-32
}
dump_t_at() { lkh -c "SELECT * FROM t AT (VERSION => $1) ORDER BY ALL" 2>&1 | md5sum | cut -c1-32; }

nsnaps() { lk -c "SELECT count(*) FROM ducklake_snapshots('lake')" 2>/dev/null; }
maxsnap() { lk -c "SELECT max(snapshot_id) FROM ducklake_snapshots('lake')" 2>/dev/null; }

# Catalog rows that belong to no committed snapshot, or ids beyond the latest snapshot's counters.
dangling() {
	catq "SELECT (SELECT count(*) FROM ducklake_data_file WHERE begin_snapshot > m OR end_snapshot > m OR data_file_id >= nf)
	 + (SELECT count(*) FROM ducklake_delete_file WHERE begin_snapshot > m OR end_snapshot > m OR delete_file_id >= nf)
	 + (SELECT count(*) FROM ducklake_table WHERE begin_snapshot > m OR end_snapshot > m OR table_id >= nc)
	 + (SELECT count(*) FROM ducklake_schema WHERE begin_snapshot > m OR end_snapshot > m OR schema_id >= nc)
	 + (SELECT count(*) FROM ducklake_column WHERE begin_snapshot > m OR end_snapshot > m)
	 + (SELECT count(*) FROM ducklake_snapshot_changes WHERE snapshot_id > m)
	 + (SELECT count(*) - count(DISTINCT snapshot_id) FROM ducklake_snapshot)
	 + (SELECT count(*) FROM ducklake_snapshot) - (SELECT count(*) FROM ducklake_snapshot_changes)
	 FROM (SELECT snapshot_id AS m, next_file_id AS nf, next_catalog_id AS nc FROM ducklake_snapshot
	       WHERE snapshot_id = (SELECT max(snapshot_id) FROM ducklake_snapshot)) latest" 2>&1
}

disk_files() { find "$dir/data" -type f 2>/dev/null | sort; }

# Checks common to every scenario after the crash. Globals: old_n old_max old_dump new_dump
# before_disk (files on disk before the crash); $1 = label, $2 = allowed outcomes (old|new|either).
after_crash() {
	local label=$1 want=$2 n mx d reg missing orphans not_new o f cur
	check "$label: lake attaches" "1" "$(lk -c "SELECT 1" 2>&1)"
	n=$(nsnaps) mx=$(maxsnap) d=$(dump)
	local outcome=mixed
	if [ "$n" = "$old_n" ] && [ "$mx" = "$old_max" ] && [ "$d" = "$old_dump" ]; then outcome=old; fi
	if [ "$n" = "$((old_n + 1))" ] && [ "$mx" = "$((old_max + 1))" ] && [ "$d" = "$new_dump" ]; then outcome=new; fi
	case $want in
	old) check "$label: old snapshots and rows" "old" "$outcome (snapshots $n, max $mx)" ;;
	new) check "$label: one new snapshot with the new rows" "new" "$outcome (snapshots $n, max $mx)" ;;
	either) check_true "$label: old or new state, not a mix" "got $outcome (snapshots $n, max $mx, was $old_n)" \
		[ "$outcome" != mixed ] ;;
	esac
	check "$label: time travel to the old snapshot" "$old_dump_t" "$(dump_t_at "$old_max")"
	check "$label: no dangling catalog rows" "0" "$(dangling)"
	# Every registered file (any snapshot, data and delete files) exists in a table directory.
	reg=$(catq "SELECT path FROM ducklake_data_file UNION ALL SELECT path FROM ducklake_delete_file" | sed 's#.*/##' | sort)
	missing=0
	for f in $reg; do
		[ -n "$(find "$dir/data" -mindepth 3 -maxdepth 3 -type f -name "$f" -not -path '*/.planar-*')" ] ||
			{ missing=$((missing + 1)); echo "  $label: registered file $f is missing"; }
	done
	check "$label: registered files exist" "0" "$missing"
	# The current files (absolute paths from ducklake_list_files) exist.
	cur=$(lk -c "SELECT data_file FROM ducklake_list_files('lake', 't') UNION ALL
	             SELECT delete_file FROM ducklake_list_files('lake', 't') WHERE delete_file IS NOT NULL")
	missing=0
	for f in $cur; do [ -f "$f" ] || missing=$((missing + 1)); done
	check "$label: listed files exist" "0" "$missing"
	# Orphans: on disk, not registered; allowed only when they appeared during the crashed write.
	orphans=0 not_new=0
	while IFS= read -r o; do
		[ -n "$o" ] || continue
		if ! grep -qxF "${o##*/}" <<<"$reg"; then
			orphans=$((orphans + 1))
			grep -qxF "$o" <<<"$before_disk" && not_new=$((not_new + 1))
		fi
	done <<<"$(disk_files)"
	check "$label: unregistered files are only leftovers of the crashed write" "0" "$not_new"
	[ "$outcome" = new ] && [ "$want" != either ] && check "$label: no orphan after a commit" "0" "$orphans"
	orphan_report+=("$label: $orphans orphan file(s)")
	# The next write gets the next snapshot id; ids stay dense.
	mx=$(maxsnap)
	local out
	out=$(lk -c "INSERT INTO t (i, s) VALUES (9999, 'next')" 2>&1)
	check "$label: next write succeeds" "1" "$out"
	check "$label: next snapshot id" "$((mx + 1))" "$(maxsnap)"
	check "$label: next write visible" "1" "$(lk -c "SELECT count(*) FROM t WHERE i = 9999" 2>&1)"
	check "$label: count(snapshots) = max(snapshot_id)+1" "$(($(maxsnap) + 1))" "$(nsnaps)"
	check "$label: no dangling catalog rows after the next write" "0" "$(dangling)"
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

for cat in sqlite duckdb; do
	for sc in insert delete update alter txn; do
		scenario_sql "$sc"
		# The reference: the same statements without a crash.
		dir=$work/$cat-$sc-ref
		setup
		ref_old_n=$(nsnaps)
		lk "${sql[@]}" >/dev/null 2>"$work/err" || echo "FAIL $cat $sc: reference run failed: $(cat "$work/err")"
		check "$cat $sc: the statements make one snapshot" "$((ref_old_n + 1))" "$(nsnaps)"
		new_dump=$(dump)
		for point in write:after-files commit:before-commit commit:after-commit; do
			[ "$sc" = txn ] && [ "$point" = write:after-files ] && continue
			label="$cat $sc @$point"
			dir=$work/$cat-$sc-${point#*:}
			setup
			old_n=$(nsnaps) old_max=$(maxsnap) old_dump=$(dump) old_dump_t=$(dump_t_at "$(maxsnap)")
			before_disk=$(disk_files)
			PLANAR_FAULT=$point lk "${sql[@]}" >/dev/null 2>&1
			check "$label: process crashed at the point" "99" "$?"
			if [ "$point" = commit:after-commit ]; then after_crash "$label" new; else after_crash "$label" old; fi
		done
	done

	# kill -9 in the middle of a big INSERT (early: still writing files; late: maybe committing).
	for delay in 0.5 2.2; do
		label="$cat kill -9 after ${delay}s"
		dir=$work/$cat-kill-$delay
		setup
		old_n=$(nsnaps) old_max=$(maxsnap) old_dump=$(dump) old_dump_t=$(dump_t_at "$(maxsnap)")
		before_disk=$(disk_files)
		"$planar" -csv -noheader --lake "ducklake:$cat:$dir/meta.$cat" --data-path "$dir/data/" \
			-c "INSERT INTO t SELECT i, md5(i::VARCHAR) FROM range(1000, 5001000) r(i)" >/dev/null 2>&1 &
		pid=$!
		sleep "$delay"
		kill -9 "$pid" 2>/dev/null
		wait "$pid"
		rc=$?
		# The rows are either the old 150 or those plus all 5M: compare by an aggregate, and let
		# the "new" dump be whatever the lake shows when it holds exactly old+5M rows.
		agg=$(lk -c "SELECT count(*) || ':' || sum(i) FROM t" 2>&1)
		case $agg in
		"150:11175") new_dump=none ;;
		"5000150:12504997511175") new_dump=$(dump) ;;
		*) new_dump=none ;;
		esac
		check_true "$label: rows are the old or old + 5M ($agg)" "got $agg" \
			[ "$agg" = "150:11175" -o "$agg" = "5000150:12504997511175" ]
		echo "  $label: process exit status $rc, rows $agg"
		after_crash "$label" either
	done
done

for line in "${orphan_report[@]}"; do echo "  $line"; done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
