#!/usr/bin/env bash
# Concurrent writers and readers on one lake, measured: first on a private PostgreSQL server
# (tests/pg.sh, started and stopped here), then the same on a SQLite catalog.
#
# For N = 2, 4, 8 (PLANAR_STRESS_NS) writer processes on a fresh lake: each writer is one planar
# session running a script (`.bail off`, so it goes on after an error) of 2*M single-row
# statements, alternately `INSERT INTO shared ...` and `INSERT INTO own_<i> ...`, each its own
# statement and snapshot. Values are unique: writer i, statement k (1..2M) inserts i*10000 + k
# (odd k: shared, even k: own_i). Every INSERT says `RETURNING v`, so a value on the writer's
# output is an acknowledged row; the statements that failed are counted from its errors.
# Meanwhile two readers (planar processes one after another until the writers are done, each
# a session of 5 reads 20 ms apart) read `count(*), count(DISTINCT v), sum(hash(v))` of shared
# UNION ALL every own_i (reader A) and of shared alone (reader B).
#
# Then one process checks:
#   - snapshot ids are 0..max without gaps (count = max + 1, all distinct);
#   - the rows present are exactly the acknowledged rows, each once;
#   - every snapshot after the set-up has exactly one change, the insert of one row
#     (ducklake_table_changes over all tables), and the commits of one writer come in its order;
#   - time travel agrees: `AT (VERSION => s)` count and hash-sum over all tables equal the running
#     totals of the change feed at s, at every snapshot when there are at most 20, else at ~20
#     evenly spread ones including the first and the last (a statement reading all 9 tables AT
#     a version costs 100-200 ms with a few hundred files, on a 2-core machine);
#   - every result a reader saw is the complete state at some snapshot (its count and hash-sum
#     equal the running totals at one snapshot), and count = count(DISTINCT v).
# And per catalog, conflicting DELETEs (ROUNDS rounds): a table with 100 rows in one data file,
# two planar processes that start together (a clock barrier: each sleeps, inside its session
# after attaching, until the same instant) and run `DELETE FROM d WHERE v < 50 RETURNING v`:
# exactly one deletes the 50 rows; the other fails with an error mentioning "conflict" or
# deletes 0 rows; 50 rows remain.
#
# Prints per catalog and N: commits, failed statements, seconds and commits/s of the writer
# phase (wall clock from starting the writers to the last one's exit, process start-up
# included).
#   tests/faults/pg_stress.sh PATH/TO/planar
# Environment: PLANAR_STRESS_M (default 10), PLANAR_STRESS_NS (default "2 4 8"),
# PLANAR_STRESS_CATALOGS (default "postgres sqlite"). Without PostgreSQL server binaries the
# postgres pass fails (scripts/install-deps.sh installs them).
set -uo pipefail
planar=$(realpath "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/pg.sh"
M=${PLANAR_STRESS_M:-10}
NS=${PLANAR_STRESS_NS:-"2 4 8"}
CATALOGS=${PLANAR_STRESS_CATALOGS:-"postgres sqlite"}
ROUNDS=3
work=$(mktemp -d /tmp/planar-stress-XXXXXX)
chmod 755 "$work"
pg_started=0
cleanup() {
	[ "$pg_started" = 1 ] && pg_stop "$work/pg"
	rm -rf "$work"
}
trap cleanup EXIT
pass=0 fail=0
check() { # check NAME EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $1: expected '$2', got '$3'"; fi
}
now_ms() { date +%s%3N; }

# lk DIR ARGS...: planar on the lake of this pass ($cat) in DIR
lake_args() { # sets largs to planar's arguments for the lake in DIR
	if [ "$cat" = postgres ]; then
		largs=(-csv -noheader --lake "ducklake:postgres:$PLANAR_PG metadata_schema=$(basename "$1")" --data-path "$1/data/")
	else
		largs=(-csv -noheader --lake "ducklake:sqlite:$1/meta.sqlite" --data-path "$1/data/")
	fi
}
lk() {
	local largs
	lake_args "$1"
	shift
	"$planar" "${largs[@]}" "$@"
}

union_of() { # union_of N [AT-clause]: shared and own_1..own_N as one relation of v
	local q="SELECT v FROM shared ${2:-}" i
	for i in $(seq 1 "$1"); do q="$q UNION ALL SELECT v FROM own_$i ${2:-}"; done
	echo "$q"
}

run_n() { # run_n N: one measured round on a fresh lake
	local n=$1 dir="$work/${cat}_n$1" i k s pids=() t0 t1 s0 smax
	mkdir -p "$dir"
	local setup=(-c "CREATE TABLE shared(v BIGINT)")
	for i in $(seq 1 "$n"); do setup+=(-c "CREATE TABLE own_$i(v BIGINT)"); done
	lk "$dir" "${setup[@]}" || { fail=$((fail + 1)); echo "FAIL $cat N=$n: set-up"; return; }
	s0=$(lk "$dir" -c "SELECT max(snapshot_id) FROM ducklake_snapshots('lake')")
	for i in $(seq 1 "$n"); do
		{
			echo ".bail off"
			for k in $(seq 1 $((2 * M))); do
				if [ $((k % 2)) = 1 ]; then t=shared; else t=own_$i; fi
				echo "INSERT INTO $t VALUES ($((i * 10000 + k))) RETURNING v;"
			done
		} >"$dir/w$i.sql"
	done
	local qa qb
	qa="SELECT 'A', count(*), count(DISTINCT v), coalesce(sum(hash(v)::HUGEINT), 0) FROM ($(union_of "$n")) x;"
	qb="SELECT 'B', count(*), count(DISTINCT v), coalesce(sum(hash(v)::HUGEINT), 0) FROM shared;"
	# a reader runs planar processes one after another until the writers are done, each a
	# session of 5 reads 20 ms apart (short sessions: output reaches the file when each exits,
	# and a new session also attaches, loading the model, while the writers commit)
	reader() { # reader NAME QUERY
		{
			echo ".bail off"
			for _ in 1 2 3 4 5; do echo "$2"; echo "SELECT sleep_ms(20);"; done
		} >"$dir/r$1.sql"
		while [ ! -e "$dir/stop" ]; do
			lk "$dir" "$dir/r$1.sql" >>"$dir/r$1.out" 2>>"$dir/r$1.err"
		done
	}
	: >"$dir/rA.out"
	: >"$dir/rB.out"
	reader A "$qa" &
	local ra=$!
	reader B "$qb" &
	local rb=$!
	t0=$(now_ms)
	for i in $(seq 1 "$n"); do
		lk "$dir" "$dir/w$i.sql" >"$dir/w$i.out" 2>"$dir/w$i.err" &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p"; done
	t1=$(now_ms)
	touch "$dir/stop"
	wait "$ra" "$rb"

	cat "$dir"/w*.out | sort -n >"$dir/acked"
	local acked failed
	acked=$(wc -l <"$dir/acked")
	failed=$(cat "$dir"/w*.err | grep -c '^Error' || true)
	local secs rate
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1000 }')
	rate=$(awk -v c="$acked" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", c * 1000 / (b - a) }')
	printf '%-8s N=%d  commits=%d  failed=%d  %6.2f s  %7.1f commits/s\n' "$cat" "$n" "$acked" "$failed" "$secs" "$rate"
	if [ "$failed" -gt 0 ]; then
		echo "  errors of failed statements (distinct):"
		cat "$dir"/w*.err | grep '^Error' | sed 's/[0-9][0-9]*/#/g' | sort | uniq -c | sed 's/^/    /'
	fi
	check "$cat N=$n acknowledged + failed = statements" $((2 * M * n)) $((acked + failed))
	check "$cat N=$n no statement failed (writers wait for each other)" 0 "$failed"

	# one process for the snapshot list's end, one for all the rest (each process costs its start-up)
	smax=$(lk "$dir" -c "SELECT max(snapshot_id) FROM ducklake_snapshots('lake')")
	local feed="SELECT snapshot_id AS s, change_type, v, 'shared' AS t FROM ducklake_table_changes('lake', 'main', 'shared', $((s0 + 1)), $smax)"
	for i in $(seq 1 "$n"); do
		feed="$feed UNION ALL SELECT snapshot_id, change_type, v, 'own' FROM ducklake_table_changes('lake', 'main', 'own_$i', $((s0 + 1)), $smax)"
	done
	# time travel at every snapshot up to 20, else at ~20 evenly spread ones, first and last included
	local tt=() step=$(((smax - s0 + 19) / 20))
	[ "$step" -ge 1 ] || step=1
	for s in $( (seq "$s0" "$step" "$smax"; echo "$smax") | sort -nu); do
		tt+=(-c "SELECT 'tt', $s, count(*), coalesce(sum(hash(v)::HUGEINT), 0) FROM ($(union_of "$n" "AT (VERSION => $s)")) x")
	done
	local v0
	v0=$(now_ms)
	# running totals per snapshot of the change feed: all tables (reader A), shared alone (reader B)
	lk "$dir" -c "SELECT 'snaps', count(*), count(DISTINCT snapshot_id), min(snapshot_id) FROM ducklake_snapshots('lake')" \
		-c "SELECT 'row', v FROM ($(union_of "$n")) x ORDER BY v" \
		-c "CREATE TEMP TABLE feed AS $feed" \
		-c "SELECT 'per_snapshot', count(*), count(DISTINCT s), min(s), max(s), count(*) FILTER (WHERE change_type <> 'insert') FROM feed" \
		-c "SELECT 'out_of_order', count(*) FROM (SELECT s, lag(s) OVER (PARTITION BY v // 10000 ORDER BY v) AS p FROM feed) WHERE s <= p" \
		-c "SELECT 'totals', $s0, 0, 0 UNION ALL SELECT 'totals', s, count(*) OVER w, sum(hash(v)::HUGEINT) OVER w FROM feed WINDOW w AS (ORDER BY s) ORDER BY 2" \
		-c "SELECT 'totals_b', 0, 0 UNION ALL SELECT 'totals_b', count(*) OVER w, sum(hash(v)::HUGEINT) OVER w FROM feed WHERE t = 'shared' WINDOW w AS (ORDER BY s)" \
		"${tt[@]}" >"$dir/verify.out" 2>"$dir/verify.err"
	[ -n "${PLANAR_STRESS_VERBOSE:-}" ] && echo "  verification ($((${#tt[@]} / 2)) time-travel reads): $(($(now_ms) - v0)) ms"
	check "$cat N=$n verification queries ran" "" "$(head -c 300 "$dir/verify.err")"
	get() { grep "^$1," "$dir/verify.out" | cut -d, -f2-; }

	check "$cat N=$n snapshot ids 0..max without gaps" "$((smax + 1)),$((smax + 1)),0" "$(get snaps)"
	check "$cat N=$n one snapshot per acknowledged commit" "$acked" "$((smax - s0))"

	# rows present = acknowledged rows, each once
	get row >"$dir/present"
	check "$cat N=$n rows present are the acknowledged rows" "$(md5sum <"$dir/acked")" "$(md5sum <"$dir/present")"
	check "$cat N=$n no row twice" "" "$(uniq -d "$dir/present" | head -3 | tr '\n' ' ')"
	check "$cat N=$n no unacknowledged row" "" "$(comm -13 "$dir/acked" "$dir/present" | head -3 | tr '\n' ' ')"
	check "$cat N=$n no acknowledged row missing" "" "$(comm -23 "$dir/acked" "$dir/present" | head -3 | tr '\n' ' ')"

	# the change feed: one inserted row per snapshot after set-up, each writer's commits in order
	if [ "$acked" -gt 0 ]; then
		check "$cat N=$n exactly one inserted row per snapshot" "$acked,$acked,$((s0 + 1)),$smax,0" "$(get per_snapshot)"
	fi
	check "$cat N=$n each writer's commits in its order" "0" "$(get out_of_order)"
	get totals >"$dir/totals"
	get totals_b >"$dir/totals_b"

	# time travel agrees with the change feed's running totals
	get tt >"$dir/tt.out"
	check "$cat N=$n time travel = change-feed totals at $((${#tt[@]} / 2)) snapshots" \
		"$(awk -F, 'NR == FNR { want[$1] = 1; next } $1 in want' "$dir/tt.out" "$dir/totals" | md5sum)" \
		"$(md5sum <"$dir/tt.out")"

	# readers: every result is the complete state at some snapshot
	local reads_a reads_b bad_a bad_b
	reads_a=$(grep -c '^A,' "$dir/rA.out" || true)
	reads_b=$(grep -c '^B,' "$dir/rB.out" || true)
	# reader A: (count, hash-sum) must be one snapshot's totals
	bad_a=$(awk -F, 'NR == FNR { ok[$2 "," $3] = 1; next } $1 == "A" && (!(($2 "," $4) in ok) || $2 != $3)' \
		"$dir/totals" "$dir/rA.out" | head -3 | tr '\n' ' ')
	# reader B: the shared table's (count, hash-sum) at some snapshot
	bad_b=$(awk -F, 'NR == FNR { ok[$1 "," $2] = 1; next } $1 == "B" && (!(($2 "," $4) in ok) || $2 != $3)' \
		"$dir/totals_b" "$dir/rB.out" | head -3 | tr '\n' ' ')
	echo "  readers: A $reads_a reads ($(grep -c '^Error' "$dir/rA.err" || true) errors), B $reads_b reads ($(grep -c '^Error' "$dir/rB.err" || true) errors)"
	grep -h '^Error' "$dir/rA.err" "$dir/rB.err" | sed 's/[0-9][0-9]*/#/g' | sort | uniq -c | sed 's/^/    /'
	check "$cat N=$n reader A saw only complete snapshots" "" "$bad_a"
	check "$cat N=$n reader B saw only complete snapshots" "" "$bad_b"
	[ "$reads_a" -gt 0 ] && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL $cat N=$n: reader A read nothing"; }
}

delete_race() { # conflicting DELETEs of the same rows of one data file, ROUNDS times
	local dir="$work/${cat}_del" r conflicts=0 zero=0 skews=""
	mkdir -p "$dir"
	for r in $(seq 1 "$ROUNDS"); do
		lk "$dir" -c "CREATE TABLE d$r(v BIGINT)" -c "INSERT INTO d$r SELECT * FROM range(100)" ||
			{ fail=$((fail + 1)); echo "FAIL $cat delete round $r: set-up"; continue; }
		local at=$(($(now_ms) + 1000)) p1 p2
		for w in 1 2; do
			lk "$dir" -c "SELECT 'sync', sleep_ms(greatest(0, $at - epoch_ms(now())))" \
				-c "SELECT 'woke', epoch_ms(now())" -c "DELETE FROM d$r WHERE v < 50 RETURNING v" >"$dir/del$r.$w.out" 2>"$dir/del$r.$w.err" &
			eval "p$w=\$!"
		done
		wait "$p1"
		local rc1=$?
		wait "$p2"
		local rc2=$?
		local n1 n2
		n1=$(grep -c '^[0-9]' "$dir/del$r.1.out")
		n2=$(grep -c '^[0-9]' "$dir/del$r.2.out")
		# outcome per process: deleted-50 | conflict | zero | other
		outcome() { # rc rows errfile
			if [ "$1" = 0 ] && [ "$2" = 50 ]; then echo deleted
			elif [ "$1" = 0 ] && [ "$2" = 0 ]; then echo zero
			elif [ "$1" != 0 ] && grep -qi conflict "$3"; then echo conflict
			else echo "other(rc=$1 rows=$2 err=$(head -c 200 "$3"))"
			fi
		}
		local o1 o2
		o1=$(outcome "$rc1" "$n1" "$dir/del$r.1.err")
		o2=$(outcome "$rc2" "$n2" "$dir/del$r.2.err")
		local w1 w2
		w1=$(sed -n 's/^woke,//p' "$dir/del$r.1.out")
		w2=$(sed -n 's/^woke,//p' "$dir/del$r.2.out")
		skews="$skews $(( ${w1:-0} > ${w2:-0} ? ${w1:-0} - ${w2:-0} : ${w2:-0} - ${w1:-0} ))"
		local pair
		pair=$(printf '%s\n%s\n' "$o1" "$o2" | sort | tr '\n' ' ')
		case "$pair" in
		"conflict deleted ") conflicts=$((conflicts + 1)); pass=$((pass + 1)) ;;
		"deleted zero ") zero=$((zero + 1)); pass=$((pass + 1)) ;;
		*) fail=$((fail + 1)); echo "FAIL $cat delete round $r: exactly one deletes, got: $o1 / $o2" ;;
		esac
		check "$cat delete round $r: 50 rows left, none below 50" "50,50" \
			"$(lk "$dir" -c "SELECT count(*), min(v) FROM d$r")"
	done
	echo "$cat conflicting DELETEs: $ROUNDS rounds, $conflicts ended in a conflict error, $zero in a 0-row delete (start skew ms:$skews)"
	[ -n "$(cat "$dir"/del*.err)" ] && echo "  e.g.: $(cat "$dir"/del*.err | head -1)"
}

for cat in $CATALOGS; do
	if [ "$cat" = postgres ]; then
		if ! pg_bindir >/dev/null 2>&1; then
			fail=$((fail + 1))
			echo "FAIL postgres: no PostgreSQL server binaries (apt-get install postgresql, or scripts/install-deps.sh)"
			continue
		fi
		pg_start "$work/pg" || { fail=$((fail + 1)); echo "FAIL postgres: server did not start"; continue; }
		pg_started=1
	fi
	for n in $NS; do run_n "$n"; done
	delete_race
	if [ "$cat" = postgres ]; then
		pg_stop "$work/pg"
		pg_started=0
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
