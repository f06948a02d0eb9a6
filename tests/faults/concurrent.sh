#!/usr/bin/env bash
# Several `planar` processes writing one lake at the same time.
#
# SQLite catalog (many processes may open it):
#  - 2 writers, each one long-lived session, and then 4 writers, each starting one process per
#    statement, run M single-row INSERTs into a shared table and M into a table of their own
#    (distinct values, each INSERT its own snapshot), while a reader session keeps counting rows.
#    Afterwards: every acknowledged row is present exactly once and no other row is; there is one
#    new snapshot per acknowledged INSERT and the snapshot ids are 0..N without gaps; at every
#    new snapshot exactly one table has exactly one more row than at the snapshot before, and it
#    is the table that snapshot's changes name; each of the reader's results (one statement over
#    all tables) equals the tables' counts at some snapshot and they never decrease; every file
#    on disk is registered and every registered file exists.
#  - Conflicting DELETEs: two sessions, attached and waiting on a barrier, delete the same rows
#    of one data file at the same moment (several trials). The rows are deleted exactly once (one
#    new snapshot); the other session either fails with an error naming the conflict or (when it
#    ran after the first committed) deletes nothing; the loser leaves no file behind.
# DuckDB-file catalog (one process at a time): while one session holds the lake, another
# process's write and read fail with a clear error naming the lock (not a corrupt or "not a
# DuckLake catalog" claim); the holder's writes all land; then 2 writers starting one process
# per INSERT race for the lock, and whatever was acknowledged is there exactly once, as above.
# Every process runs under `timeout`; every loop is bounded in count and time.
#   tests/faults/concurrent.sh PATH/TO/planar
set -uo pipefail
# catalog rows are checked through __planar_cat(), which exists only with this set
export PLANAR_TEST_CATALOG_SQL=1
planar=$(realpath "$1")
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$work"' EXIT
pass=0 fail=0
check() { # check NAME EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $1: expected '$2', got '$3'"; fi
}
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
start=$SECONDS

# The lake under test: $cat and $dir are set by the caller.
lk() { timeout 60 "$planar" -csv -noheader --lake "ducklake:$cat:$dir/meta.$cat" --data-path "$dir/data/" "$@"; }
get() { printf '%s\n' "$1" | awk -v k="$2=" 'index($0, k) == 1 { print substr($0, length(k) + 1) }'; } # get TEXT KEY

# One writer: $1 = writer number, $2 = M, $3 = session (one long-lived process) | process (a
# process per row pair: shared, then own). All writers start when the file $go appears. Prints ack=TABLE:P:K for every INSERT that succeeded
# (its RETURNING row); errors go to stderr. A process writer stops starting processes at
# $deadline (SECONDS); a session is bounded by lk's timeout (60 s).
writer() {
	local p=$1 m=$2 mode=$3 k
	if [ "$mode" = session ]; then
		{
			echo ".bail off"
			for ((k = 0; k < 500; k++)); do [ -e "$go" ] && break; sleep 0.01; done
			for ((k = 1; k <= m; k++)); do
				echo "INSERT INTO shared VALUES ($p, $k) RETURNING 'ack=shared:' || p || ':' || k;"
				echo "INSERT INTO own_$p VALUES ($p, $k) RETURNING 'ack=own_$p:' || p || ':' || k;"
			done
		} | lk
	else
		for ((k = 0; k < 500; k++)); do [ -e "$go" ] && break; sleep 0.01; done
		for ((k = 1; k <= m && SECONDS < deadline; k++)); do
			lk -c "INSERT INTO shared VALUES ($p, $k) RETURNING 'ack=shared:' || p || ':' || k" \
				-c "INSERT INTO own_$p VALUES ($p, $k) RETURNING 'ack=own_$p:' || p || ':' || k"
		done
	fi
	return 0
}

# A reader session: one statement over all tables every 50 ms until $1 exists (at most 600 times).
reader() {
	local stop=$1 w=$2 q i
	q="SELECT 'r=' || (SELECT count(*) FROM shared)"
	for ((i = 1; i <= w; i++)); do q+=" || ':' || (SELECT count(*) FROM own_$i)"; done
	{
		echo ".bail off"
		for ((i = 0; i < 600; i++)); do
			echo "$q;"
			[ -e "$stop" ] && break
			sleep 0.05
		done
	} | lk
}

# Checks the lake after a round. $1 label, $2 writers, $3 acks file, $4 base snapshot (the last
# one before the writers), $5 reader output file or ''.
verify() {
	local label=$1 w=$2 acks=$3 base=$4 rout=$5 i out n mx
	local tables="shared"
	for ((i = 1; i <= w; i++)); do tables+=" own_$i"; done
	out=$(lk -c "SELECT 'n=' || count(*) FROM ducklake_snapshots('lake')" \
		-c "SELECT 'max=' || max(snapshot_id) FROM ducklake_snapshots('lake')" \
		-c "SELECT 'distinct=' || count(DISTINCT snapshot_id) FROM ducklake_snapshots('lake')" 2>&1)
	n=$(get "$out" n) mx=$(get "$out" max)
	check "$label: snapshot ids are 0..N without gaps or duplicates" "$n $n" "$(get "$out" distinct) $((mx + 1))"
	check "$label: one snapshot per acknowledged INSERT" "$(wc -l <"$acks")" "$((mx - base))"
	# Rows: exactly the acknowledged ones, each once.
	local args=()
	for tb in $tables; do args+=(-c "SELECT '$tb:' || p || ':' || k FROM $tb"); done
	lk "${args[@]}" 2>&1 | sort >"$work/rows"
	sed 's/^ack=//' "$acks" | sort >"$work/acked"
	check "$label: no row twice" "" "$(uniq -d "$work/rows" | head -3 | tr '\n' ' ')"
	check "$label: every acknowledged row present" "" "$(comm -23 "$work/acked" "$work/rows" | head -3 | tr '\n' ' ')"
	check "$label: no row that was not acknowledged" "" "$(comm -13 "$work/acked" "$work/rows" | head -3 | tr '\n' ' ')"
	# Every snapshot since base inserted into the one table its changes name, and that table has,
	# at that version, exactly as many rows as snapshots so far inserted into it.
	lk -c "SELECT 'c=' || snapshot_id || '=' || changes::VARCHAR FROM ducklake_snapshots('lake') WHERE snapshot_id > $base" \
		-c "SELECT 'id=' || table_id || '=' || table_name FROM ducklake_table_info('lake')" >"$work/changes" 2>&1
	awk -v base="$base" -v max="$mx" '
		/^id=/ { split(substr($0, 4), a, "="); name[a[1]] = a[2]; next }
		/^c=/ { x = substr($0, 3); p = index(x, "="); s = substr(x, 1, p - 1); c = substr(x, p + 1)
			if (match(c, /^\{tables_inserted_into=\[[0-9]+\]\}$/)) { gsub(/[^0-9]/, "", c); tid[s] = c } else tid[s] = "?" }
		END {
			for (s = base + 1; s <= max; s++) {
				t = (s in tid) ? tid[s] : "?"; tb = (t in name) ? name[t] : "?"
				if (tb == "?") { print "echo snapshot " s " changes not one insert"; continue }
				n[tb]++
				print "SELECT '"'"'v=" s ":" tb ":" n[tb] ":'"'"' || count(*) FROM " tb " AT (VERSION => " s ");"
			}
		}' "$work/changes" | sed 's/^echo \(.*\)/SELECT '"'"'bad=\1'"'"';/' >"$work/versions.sql"
	{ echo ".bail off"; cat "$work/versions.sql"; } | lk >"$work/versions" 2>&1
	local bad_snaps
	bad_snaps=$(awk '/^bad=/ { print substr($0, 5); next }
		/^v=/ { split(substr($0, 3), a, ":"); if (a[3] != a[4]) print "snapshot " a[1] ": " a[2] " has " a[4] " rows, expected " a[3]; next }
		{ print "unexpected: " $0 }' "$work/versions")
	check "$label: every snapshot adds exactly its one row" "" "$(printf '%s' "$bad_snaps" | head -3 | tr '\n' ';')"
	check "$label: every snapshot checked" "$((mx - base))" "$(grep -c '^v=' "$work/versions")"
	# The reader's results are the counts at some snapshot, and never decrease.
	if [ -n "$rout" ]; then
		local reads bad_reads
		reads=$(grep -c '^r=' "$rout")
		[ "$reads" -gt 0 ] && ok || bad "$label: the reader read nothing: $(head -3 "$rout.err")"
		check "$label: the reader got no error" "" "$(head -3 "$rout.err")"
		# The tables' counts at every snapshot since base, from the verified per-snapshot rows.
		bad_reads=$(awk -v tables="$tables" '
			BEGIN { nt = split(tables, tn, " "); for (i = 1; i <= nt; i++) idx[tn[i]] = i }
			FNR == NR { if (/^v=/) { split(substr($0, 3), a, ":"); grow[a[1]] = idx[a[2]] } next }
			FNR == 1 { key = ""; for (i = 1; i <= nt; i++) { cnt[i] = 0; key = key (i > 1 ? ":" : "") 0 }; state[key] = 1
				for (s in grow) if (s + 0 > maxs) maxs = s + 0
				for (s = 0; s <= maxs; s++) if (s in grow) { cnt[grow[s]]++; key = ""; for (i = 1; i <= nt; i++) key = key (i > 1 ? ":" : "") cnt[i]; state[key] = 1 } }
			/^r=/ { x = substr($0, 3); if (!(x in state)) print "read " x " matches no snapshot"
				n = split(x, a, ":"); for (i = 1; i <= n; i++) { if (a[i] + 0 < last[i] + 0) print "read " x " went back"; last[i] = a[i] } }' \
			"$work/versions" "$rout")
		check "$label: every read is one snapshot's state, never going back" "" "$(printf '%s' "$bad_reads" | head -3 | tr '\n' ';')"
		echo "  $label: the reader made $reads reads"
	fi
	# Row ids: unique in every table, files' row id ranges do not overlap, and the table
	# statistics agree with the files (record_count = rows in live files, next_row_id = the end
	# of the last range).
	args=()
	for tb in $tables; do args+=(-c "SELECT 'rowids=$tb:' || count(*) || ':' || count(DISTINCT rowid) FROM $tb"); done
	out=$(lk "${args[@]}" \
		-c "SELECT 'overlaps=' || x FROM __planar_cat('lake', 'SELECT count(*) FROM ducklake_data_file a JOIN ducklake_data_file b
			ON a.table_id = b.table_id AND a.data_file_id < b.data_file_id AND a.row_id_start < b.row_id_start + b.record_count
			AND b.row_id_start < a.row_id_start + a.record_count') d(x)" \
		-c "SELECT 'badstats=' || x FROM __planar_cat('lake', 'SELECT count(*) FROM ducklake_table_stats s
			WHERE record_count <> (SELECT coalesce(sum(record_count), 0) FROM ducklake_data_file f WHERE f.table_id = s.table_id AND f.end_snapshot IS NULL)
			OR next_row_id <> (SELECT coalesce(max(row_id_start + record_count), 0) FROM ducklake_data_file f WHERE f.table_id = s.table_id)') d(x)" 2>&1)
	check "$label: row ids unique in every table" "" "$(get "$out" rowids | awk -F: '$2 != $3' | head -3 | tr '\n' ' ')"
	check "$label: no overlapping row id ranges" "0" "$(get "$out" overlaps)"
	check "$label: table statistics agree with the files" "0" "$(get "$out" badstats)"
	# Files: every registered file exists, every file on disk is registered.
	lk -c "SELECT path FROM __planar_cat('lake', 'SELECT path FROM ducklake_data_file UNION ALL SELECT path FROM ducklake_delete_file')" \
		2>&1 | sed 's#.*/##' | sort >"$work/registered"
	find "$dir/data" -type f -printf '%f\n' | sort >"$work/ondisk"
	check "$label: registered files exist" "" "$(comm -23 "$work/registered" "$work/ondisk" | head -3 | tr '\n' ' ')"
	check "$label: no unregistered file on disk" "" "$(comm -13 "$work/registered" "$work/ondisk" | head -3 | tr '\n' ' ')"
}

# A round: $1 catalog, $2 writers, $3 M, $4 session|process|mixed (the last writer in process
# mode, the others in session mode), $5 reader yes|no. Process writers stop after 25 s.
round() {
	cat=$1 dir=$work/$1-$2-$4
	local r=$dir/run
	local w=$2 m=$3 mode=$4 with_reader=$5 i label="$1: $2 writers ($4 mode)" base setup=()
	mkdir -p "$dir" "$r"
	# the checks compare snapshots with the files they add: data inlining off
	setup=(-c "CALL lake.set_option('data_inlining_row_limit', 0)" -c "CREATE TABLE shared(p INT, k INT)")
	for ((i = 1; i <= w; i++)); do setup+=(-c "CREATE TABLE own_$i(p INT, k INT)"); done
	base=$(lk "${setup[@]}" -c "SELECT max(snapshot_id) FROM ducklake_snapshots('lake')" 2>&1)
	local wpids=() rpid="" wmode
	deadline=$((SECONDS + 25)) go=$r/go
	for ((i = 1; i <= w; i++)); do
		wmode=$mode
		[ "$mode" = mixed ] && wmode=$([ "$i" -lt "$w" ] && echo session || echo process)
		writer "$i" "$m" "$wmode" >"$r/acks.$i" 2>"$r/errs.$i" &
		wpids+=($!) pids+=($!)
	done
	if [ "$with_reader" = yes ]; then
		reader "$r/stop" "$w" >"$r/reads" 2>"$r/reads.err" &
		rpid=$! pids+=($!)
	fi
	sleep 0.3 # the session writers and the reader are attached
	touch "$go"
	for p in "${wpids[@]}"; do wait "$p"; done
	touch "$r/stop"
	[ -n "$rpid" ] && wait "$rpid"
	local t=$((SECONDS - start))
	cat "$r"/acks.* | grep '^ack=' >"$r/acks"
	local nerr
	nerr=$(cat "$r"/errs.* | grep -c '^Error')
	echo "  $label: $(wc -l <"$r/acks") of $((2 * w * m)) INSERTs acknowledged, $nerr failed (at $t s)"
	if [ "$cat" = sqlite ]; then
		check "$label: every INSERT succeeds (inserts never conflict)" "0" "$nerr"
		[ "$nerr" -eq 0 ] || cat "$r"/errs.* | grep '^Error' | sort | uniq -c | head -3
	else
		check "$label: every failure names the lock" "" \
			"$(cat "$r"/errs.* | grep '^Error' | grep -vi 'lock' | head -2)"
	fi
	verify "$label" "$w" "$r/acks" "$base" "$([ "$with_reader" = yes ] && echo "$r/reads")"
}

# Conflicting DELETEs of the same rows of one data file: $1 trials.
delete_conflicts() {
	cat=sqlite dir=$work/sqlite-deletes
	local trials=$1 j a setup=() conflicts=0 serial=0
	mkdir -p "$dir"
	for ((j = 1; j <= trials; j++)); do setup+=(-c "CREATE TABLE d$j(i INT)" -c "INSERT INTO d$j SELECT * FROM range(100)"); done
	lk "${setup[@]}" >/dev/null 2>&1
	for ((j = 1; j <= trials; j++)); do
		local label="sqlite: conflicting DELETE trial $j" before dpids=()
		before=$(lk -c "SELECT max(snapshot_id) FROM ducklake_snapshots('lake')" 2>&1)
		find "$dir/data" -type f -printf '%f\n' | sort >"$work/files.before"
		for a in 1 2; do
			{
				for ((k = 0; k < 500; k++)); do [ -e "$work/go.$j" ] && break; sleep 0.01; done
				echo "DELETE FROM d$j WHERE i < 50 RETURNING 'del=' || i;"
			} | lk >"$work/del.$a" 2>"$work/del.$a.err" &
			dpids+=($!) pids+=($!)
		done
		sleep 0.4 # both sessions attached and waiting
		touch "$work/go.$j"
		local rcs=()
		for p in "${dpids[@]}"; do wait "$p"; rcs+=($?); done
		local n1 n2 e1 e2
		n1=$(grep -c '^del=' "$work/del.1") n2=$(grep -c '^del=' "$work/del.2")
		e1=$(head -c 300 "$work/del.1.err") e2=$(head -c 300 "$work/del.2.err")
		# Exactly one deleted the 50 rows; the other failed naming a conflict or deleted none.
		local winner=0 loser=0
		if [ "$n1" = 50 ] && [ "${rcs[0]}" = 0 ]; then winner=1 loser=2; fi
		if [ "$n2" = 50 ] && [ "${rcs[1]}" = 0 ]; then [ $winner = 0 ] && winner=2 loser=1 || winner=both; fi
		if [ "$winner" = 0 ] || [ "$winner" = both ]; then
			bad "$label: exactly one session deletes the rows (rows returned $n1/$n2, exit ${rcs[*]}, errors '$e1' '$e2')"
		else
			ok
			local ln le lrc
			ln=$([ $loser = 1 ] && echo "$n1" || echo "$n2") le=$([ $loser = 1 ] && echo "$e1" || echo "$e2")
			lrc=${rcs[$((loser - 1))]}
			if [ "$lrc" != 0 ] && grep -qi conflict <<<"$le" && [ "$ln" = 0 ]; then
				ok; conflicts=$((conflicts + 1))
			elif [ "$lrc" = 0 ] && [ "$ln" = 0 ] && [ -z "$le" ]; then
				ok; serial=$((serial + 1))
			else
				bad "$label: the other session neither failed with a conflict nor deleted nothing (exit $lrc, rows $ln, error '$le')"
			fi
		fi
		local out
		out=$(lk -c "SELECT 'n=' || count(*) FROM d$j" -c "SELECT 'min=' || min(i) FROM d$j" \
			-c "SELECT 'max=' || max(snapshot_id) FROM ducklake_snapshots('lake')" \
			-c "SELECT 'prev=' || count(*) FROM d$j AT (VERSION => $before)" 2>&1)
		check "$label: rows deleted exactly once" "50 50" "$(get "$out" n) $(get "$out" min)"
		check "$label: one new snapshot" "$((before + 1))" "$(get "$out" max)"
		check "$label: the previous snapshot still has all rows" "100" "$(get "$out" prev)"
		lk -c "SELECT path FROM __planar_cat('lake', 'SELECT path FROM ducklake_data_file UNION ALL SELECT path FROM ducklake_delete_file')" \
			2>&1 | sed 's#.*/##' | sort >"$work/registered"
		find "$dir/data" -type f -printf '%f\n' | sort >"$work/ondisk"
		check "$label: no stray file" "" "$(comm -13 "$work/registered" "$work/ondisk" | head -3 | tr '\n' ' ')"
		check "$label: registered files exist" "" "$(comm -23 "$work/registered" "$work/ondisk" | head -3 | tr '\n' ' ')"
	done
	echo "  sqlite: conflicting DELETEs: $conflicts trial(s) overlapped (loser got a conflict error), $serial serialized (loser deleted nothing)"
}

# DuckDB file: a second process while one session holds the lake.
duckdb_lock() {
	cat=duckdb dir=$work/duckdb-lock
	local label="duckdb: second process while the lake is held" out hp rc k
	mkdir -p "$dir"
	# the holder's first row is seen as its Parquet file: data inlining off
	lk -c "CALL lake.set_option('data_inlining_row_limit', 0)" -c "CREATE TABLE t(i INT)" >/dev/null 2>&1
	{
		echo "INSERT INTO t VALUES (1);"
		for ((k = 0; k < 500; k++)); do [ -e "$work/release" ] && break; sleep 0.01; done
		echo "INSERT INTO t VALUES (2);"
	} | lk >"$work/holder.out" 2>"$work/holder.err" &
	hp=$! pids+=($!)
	for ((k = 0; k < 500; k++)); do # wait (at most 5 s) until the holder has written its first row
		[ -n "$(find "$dir/data" -name '*.parquet' 2>/dev/null)" ] && break
		sleep 0.01
	done
	out=$(lk -c "INSERT INTO t VALUES (100)" 2>&1)
	rc=$?
	check "$label: a write fails" "1" "$rc"
	grep -qi "lock" <<<"$out" && ok || bad "$label: the write's error names the lock: '$out'"
	grep -qi "not a DuckLake catalog" <<<"$out" && bad "$label: the error calls a held lake 'not a DuckLake catalog': '$out'" || ok
	out=$(lk -c "SELECT count(*) FROM t" 2>&1)
	rc=$?
	check "$label: a read fails too (one process at a time)" "1" "$rc"
	grep -qi "lock" <<<"$out" && ok || bad "$label: the read's error names the lock: '$out'"
	touch "$work/release"
	wait "$hp"
	check "$label: the holder's session succeeds" "0 " "$? $(head -c 300 "$work/holder.err")"
	out=$(lk -c "SELECT 'rows=' || string_agg(i::VARCHAR, ' ' ORDER BY i) FROM t" \
		-c "SELECT 'snaps=' || count(*) || ':' || (max(snapshot_id) + 1) FROM ducklake_snapshots('lake')" 2>&1)
	check "$label: exactly the holder's rows" "1 2" "$(get "$out" rows)"
	[ -n "$(get "$out" rows)" ] || echo "  $label: $out"
	check "$label: snapshots dense" "4:4" "$(get "$out" snaps)"
}

for part in ${CONCURRENT_PARTS:-sqlite2 sqlite4 deletes duckdb_lock duckdb2}; do
	case $part in
	sqlite2) round sqlite 2 30 session yes ;;
	sqlite4) round sqlite 4 20 mixed yes ;;
	deletes) delete_conflicts 5 ;;
	duckdb_lock) duckdb_lock ;;
	duckdb2) round duckdb 2 15 process no ;;
	esac
	[ -n "${CONCURRENT_TIMING:-}" ] && echo "  [$part done at $((SECONDS - start)) s]"
done

echo "concurrency checks took $((SECONDS - start)) s"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
