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
# as soon as its staging file appears (writing Parquet), as soon as the staging directory is gone
# again (files published; statistics and the catalog commit to come), and 0.05 s after that
# (around its commit: it may or may not have committed; both are fine).
#
# After each crash a fresh process checks: the lake attaches; the snapshot count is the old one
# (after-files, before-commit) or old+1 (after-commit); the tables hold exactly the old rows or
# exactly what a reference lake holds after the same statements ran without a crash, never a
# mix; time travel to the old snapshot gives the old rows; no catalog row belongs to a snapshot
# that does not exist or has an id beyond the latest snapshot's counters (SQLite: and
# PRAGMA integrity_check is ok); every file the catalog registers (any snapshot, data and delete
# files) exists, and so does every ducklake_list_files path; files on disk the catalog does not
# know (orphans) appeared during the crashed write (allowed and counted; none after a committed
# crash); the next write succeeds with snapshot id max+1, and count(snapshots) = max(id)+1.
# The two catalog kinds run side by side.
#   tests/faults/crash.sh PATH/TO/planar
set -uo pipefail
# catalog rows are checked through __planar_cat(), which exists only with this set
export PLANAR_TEST_CATALOG_SQL=1
planar=$(realpath "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0 orphan_report=()
check() { # check NAME EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $1: expected '$2', got '$3'"; fi
}

# The lake under test: $cat (sqlite|duckdb) and $dir are set by the caller.
lk() { timeout 120 "$planar" -csv -noheader --lake "ducklake:$cat:$dir/meta.$cat" --data-path "$dir/data/" "$@"; }
# One session running statements (arguments) one after another, going on after an error.
session() {
	local q
	{ echo ".bail off"; for q; do printf '%s;\n' "$q"; done; } | lk 2>&1
}
get() { printf '%s\n' "$1" | awk -v k="$2=" 'index($0, k) == 1 { print substr($0, length(k) + 1) }'; } # get TEXT KEY
disk_files() { find "$dir/data" -type f 2>/dev/null | sort; }

SETUP=("CREATE TABLE t(i BIGINT, s VARCHAR)"
	"INSERT INTO t SELECT i, 'v' || i FROM range(100) r(i)"
	"INSERT INTO t SELECT i, 'w' || i FROM range(100, 150) r(i)")

# Catalog rows that belong to no committed snapshot, ids beyond the latest snapshot's counters,
# duplicate snapshot ids, snapshots without their changes row: their number.
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

# Statements printing the lake's state as P.key=value lines ($1 = P): snapshots, tables, the
# catalog check, registered and listed files, and the rows of t (and t2, when it exists) as
# count:sum of the rows' hashes (the rows cast to structs, so column names count: an ALTER
# shows). With light=1 (the 5M-row kill scenarios, whose rows follow from i) count:sum(i)
# stands in. $2: a version to read t at by time travel, or ''.
rowsum() {
	if [ "${light:-0}" = 1 ]; then echo "SELECT '$1=' || count(*) || ':' || coalesce(sum(i), 0) FROM $2 x"
	else echo "SELECT '$1=' || count(*) || ':' || coalesce(sum(hash(x::VARCHAR)), 0) FROM $2 x"; fi
}
state_sql() {
	local p=$1
	state=("SELECT '$p.n=' || count(*) FROM ducklake_snapshots('lake')"
		"SELECT '$p.max=' || max(snapshot_id) FROM ducklake_snapshots('lake')"
		"SELECT '$p.tables=' || string_agg(table_name, '+' ORDER BY table_name) FROM ducklake_table_info('lake')"
		"SELECT '$p.dangling=' || x FROM __planar_cat('lake', '$DANGLING') d(x)"
		"SELECT '$p.reg=' || path FROM __planar_cat('lake', 'SELECT path FROM ducklake_data_file UNION ALL SELECT path FROM ducklake_delete_file')"
		"SELECT '$p.cur=' || data_file FROM ducklake_list_files('lake', 't')"
		"SELECT '$p.cur=' || delete_file FROM ducklake_list_files('lake', 't') WHERE delete_file IS NOT NULL"
		"$(rowsum "$p.rows_t" t)"
		"$(rowsum "$p.rows_t2" t2)")
	[ "$cat" = sqlite ] && state+=("SELECT '$p.integrity=' || x FROM __planar_cat('lake', 'PRAGMA integrity_check') d(x)")
	[ -n "${2:-}" ] && state+=("$(rowsum "$p.tt" "t AT (VERSION => $2)")")
}
rows_of() { echo "$(get "$1" "$2.tables") $(get "$1" "$2.rows_t") $(get "$1" "$2.rows_t2")"; } # $1 text, $2 prefix

# Checks after the crash, in one session: the state (a.*), the next write, the state again (b.*).
# Globals: old (state lines "o.*" before the crash), new_rows (tables and rows after the same
# statements without a crash), before_disk. $1 = label, $2 = allowed outcome: old | new | either.
after_crash() {
	local label=$1 want=$2 s n mx outcome=mixed reg missing orphans=0 not_new=0 o f old_n old_max
	old_n=$(get "$old" o.n) old_max=$(get "$old" o.max)
	local stmts=()
	state_sql a "$old_max"
	stmts+=("${state[@]}" "INSERT INTO t (i, s) VALUES (-1, 'next')" "SELECT 'next=' || count(*) FROM t WHERE i = -1")
	state_sql b
	stmts+=("${state[@]}")
	s=$(session "${stmts[@]}")
	n=$(get "$s" a.n) mx=$(get "$s" a.max)
	[ -n "$n" ] && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL $label: the lake does not attach: $(head -c 400 <<<"$s")"; }
	[ "$n" = "$old_n" ] && [ "$mx" = "$old_max" ] && [ "$(rows_of "$s" a)" = "$(rows_of "$old" o)" ] && outcome=old
	[ "$n" = "$((old_n + 1))" ] && [ "$mx" = "$((old_max + 1))" ] && [ "$(rows_of "$s" a)" = "$new_rows" ] && outcome=new
	case $want in
	old) check "$label: the old snapshots and rows" "old" "$outcome" ;;
	new) check "$label: one more snapshot and the new rows" "new" "$outcome" ;;
	either) [ "$outcome" != mixed ] && pass=$((pass + 1)) ||
		{ fail=$((fail + 1)); echo "FAIL $label: neither the old nor the new state"; } ;;
	esac
	[ "$outcome" = mixed ] && echo "  $label: snapshots $n (was $old_n), max $mx (was $old_max)," \
		"rows '$(rows_of "$s" a)' (old '$(rows_of "$old" o)', new '$new_rows')"
	check "$label: time travel to the old snapshot" "$(get "$old" o.rows_t)" "$(get "$s" a.tt)"
	check "$label: no dangling catalog rows" "0" "$(get "$s" a.dangling)"
	[ "$cat" = sqlite ] && check "$label: SQLite integrity_check" "ok" "$(get "$s" a.integrity)"
	# Every registered file (any snapshot) is in a table directory; every listed path exists.
	reg=$(get "$s" a.reg | sed 's#.*/##' | sort)
	missing=$(comm -23 <(printf '%s\n' "$reg" | sed '/^$/d') \
		<(find "$dir/data" -mindepth 3 -maxdepth 3 -type f -printf '%f\n' | sort) | wc -l)
	check "$label: registered files exist" "0" "$missing"
	missing=0
	for f in $(get "$s" a.cur); do [ -f "$f" ] || missing=$((missing + 1)); done
	check "$label: ducklake_list_files paths exist" "0" "$missing"
	# Orphans: on disk, not registered (before the next write); allowed only when they appeared
	# during the crashed write. The next write's file is registered in b.reg.
	reg=$(get "$s" b.reg | sed 's#.*/##' | sort)
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
	check "$label: next write succeeds and is visible" "1" "$(get "$s" next)"
	check "$label: next snapshot id" "$((mx + 1))" "$(get "$s" b.max)"
	check "$label: count(snapshots) = max(snapshot_id)+1" "$(($(get "$s" b.max) + 1))" "$(get "$s" b.n)"
	check "$label: no dangling catalog rows after the next write" "0" "$(get "$s" b.dangling)"
}

scenario_sql() { # sets sql=(-c ...) for scenario $1
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
	local sc point label ref i stmts
	for sc in insert delete update alter txn; do
		scenario_sql "$sc"
		# The reference: the same statements without a crash make one snapshot.
		dir=$work/$cat-$sc-ref
		mkdir -p "$dir"
		stmts=()
		for ((i = 1; i < ${#sql[@]}; i += 2)); do stmts+=("${sql[i]}"); done
		state_sql r
		ref=$(session "${SETUP[@]}" "SELECT 'r0=' || count(*) FROM ducklake_snapshots('lake')" "${stmts[@]}" \
			"SELECT 'ran=1'" "${state[@]}")
		check "$cat $sc: the statements run without error" "" "$(sed '/^ran=1$/q' <<<"$ref" | grep -m1 '^Error')"
		check "$cat $sc: the statements make one snapshot" "$(($(get "$ref" r0) + 1))" "$(get "$ref" r.n)"
		new_rows=$(rows_of "$ref" r)
		for point in write:after-files commit:before-commit commit:after-commit; do
			[ "$sc" = txn ] && [ "$point" = write:after-files ] && continue
			label="$cat $sc @$point"
			dir=$work/$cat-$sc-${point#*:}
			mkdir -p "$dir"
			state_sql o
			old=$(session "${SETUP[@]}" "${state[@]}")
			before_disk=$(disk_files)
			PLANAR_FAULT=$point lk "${sql[@]}" >/dev/null 2>&1
			check "$label: process crashed at the point" "99" "$?"
			if [ "$point" = commit:after-commit ]; then after_crash "$label" new; else after_crash "$label" old; fi
			[ -n "${CRASH_TIMING:-}" ] && echo "  [$label done at $((SECONDS - start)) s]"
		done
	done

	# kill -9 of a 5M-row INSERT. The new state is exactly the old rows plus the 5M: count and
	# sum(i) identify both.
	local phase pid seen k alive rc agg
	light=1 new_rows="t 5000150:12504997511175 "
	for phase in evaluating writing published committing; do
		label="$cat kill -9 $phase"
		dir=$work/$cat-kill-$phase
		mkdir -p "$dir"
		state_sql o
		old=$(session "${SETUP[@]}" "${state[@]}")
		before_disk=$(disk_files)
		"$planar" -csv -noheader --lake "ducklake:$cat:$dir/meta.$cat" --data-path "$dir/data/" \
			-c "INSERT INTO t SELECT i, 'r' || (i % 1000) FROM range(1000, 5001000) r(i)" >/dev/null 2>&1 &
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
			done
			[ "$phase" = committing ] && sleep 0.05 ;;
		esac
		kill -0 "$pid" 2>/dev/null && alive=yes || alive=no
		kill -9 "$pid" 2>/dev/null
		{ wait "$pid"; } 2>/dev/null
		rc=$?
		agg=$(lk -c "SELECT count(*) || ':' || sum(i) FROM t" 2>&1)
		echo "  $label: alive when killed: $alive, staging file seen: $seen, exit status $rc, count:sum(i) now $agg"
		# the writing and published phases are only what they say if the staging file was seen
		case $phase in writing | published) check "$label: the kill came after the staging file appeared" yes "$seen" ;; esac
		after_crash "$label" either
		[ -n "${CRASH_TIMING:-}" ] && echo "  [$label done at $((SECONDS - start)) s]"
	done
	light=0
	for k in "${orphan_report[@]}"; do echo "  $k"; done
	echo "$pass $fail" >"$work/$cat.counts"
}

start=$SECONDS
for c in sqlite duckdb; do run_catalog "$c" >"$work/$c.log" 2>&1 & done
wait
for c in sqlite duckdb; do
	cat "$work/$c.log"
	read -r p f <"$work/$c.counts" 2>/dev/null || { p=0 f=1; echo "FAIL $c: the scenarios did not finish"; }
	pass=$((pass + p)) fail=$((fail + f))
done
echo "crash scenarios took $((SECONDS - start)) s"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
