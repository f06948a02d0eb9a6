#!/usr/bin/env bash
# bench/concurrency.sh -- commit throughput of concurrent writers, PostgreSQL and SQLite catalogs.
#
# usage: bench/concurrency.sh PATH/TO/planar [--commits K] [--procs "1 2 4 8"] [--catalogs "postgres sqlite"]
#
# For each catalog and each process count P: a fresh lake with one table t(p INT, k INT); P
# planar processes start together, each one session (a script file) that runs K single-row
# `INSERT INTO t VALUES (p, k)` statements, each its own commit and snapshot, into the same
# table. Each session reads the clock (epoch_ms(now())) after attaching and after its last
# INSERT; the time reported is from the earliest start to the latest end, so process start-up
# and attaching are not counted. commits/s = successful INSERTs / that time. Afterwards the
# table must hold exactly the acknowledged rows and the lake one snapshot per commit (else the
# run is flagged).
#
# PostgreSQL: a private server from tests/pg.sh (fsync=off, as in the tests; Planar still
# fsyncs its data files), started and stopped here; skipped when the server binaries are
# missing. SQLite: a catalog file next to the data. Data files go to a temporary directory under
# $TMPDIR (else /tmp): use a real disk for representative numbers.
set -uo pipefail
planar=$(realpath "$1")
shift
K=50
PROCS="1 2 4 8"
CATALOGS="postgres sqlite"
while [ $# -gt 0 ]; do
	case "$1" in
	--commits) K=$2; shift 2 ;;
	--procs) PROCS=$2; shift 2 ;;
	--catalogs) CATALOGS=$2; shift 2 ;;
	*) echo "bench/concurrency.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/tests/pg.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/planar-conc-XXXXXX")
chmod 755 "$work"
pg_started=0
cleanup() {
	[ "$pg_started" = 1 ] && pg_stop "$work/pg"
	rm -rf "$work"
}
trap cleanup EXIT
bad=0

lake_args() { # lake_args CATALOG DIR: sets largs
	if [ "$1" = postgres ]; then
		largs=(-csv -noheader --lake "ducklake:postgres:$PLANAR_PG metadata_schema=$(basename "$2")" --data-path "$2/data/")
	else
		largs=(-csv -noheader --lake "ducklake:sqlite:$2/meta.sqlite" --data-path "$2/data/")
	fi
}

printf '%-9s %5s %8s %8s %9s %10s %14s\n' catalog procs commits failed seconds commits/s per-proc/s
for cat in $CATALOGS; do
	if [ "$cat" = postgres ]; then
		if ! pg_bindir >/dev/null 2>&1; then
			echo "postgres: skipped (no PostgreSQL server binaries)"
			continue
		fi
		pg_start "$work/pg" || { echo "postgres: server did not start"; bad=1; continue; }
		pg_started=1
	fi
	for P in $PROCS; do
		dir="$work/${cat}_p$P"
		mkdir -p "$dir"
		lake_args "$cat" "$dir"
		"$planar" "${largs[@]}" -c "CREATE TABLE t(p INT, k INT)" || { echo "$cat P=$P: set-up failed"; bad=1; continue; }
		s0=$("$planar" "${largs[@]}" -c "SELECT max(snapshot_id) FROM ducklake_snapshots('lake')")
		pids=()
		for p in $(seq 1 "$P"); do
			{
				echo ".bail off"
				echo "SELECT 'start', epoch_ms(now());"
				for k in $(seq 1 "$K"); do echo "INSERT INTO t VALUES ($p, $k) RETURNING 'ok';"; done
				echo "SELECT 'end', epoch_ms(now());"
			} >"$dir/w$p.sql"
			"$planar" "${largs[@]}" "$dir/w$p.sql" >"$dir/w$p.out" 2>"$dir/w$p.err" &
			pids+=($!)
		done
		for pid in "${pids[@]}"; do wait "$pid"; done
		start=$(cat "$dir"/w*.out | sed -n 's/^start,//p' | sort -n | head -1)
		end=$(cat "$dir"/w*.out | sed -n 's/^end,//p' | sort -n | tail -1)
		ok=$(cat "$dir"/w*.out | grep -c '^ok$')
		failed=$(cat "$dir"/w*.err | grep -c '^Error')
		check=$("$planar" "${largs[@]}" -c "SELECT (SELECT count(*) FROM t), (SELECT max(snapshot_id) FROM ducklake_snapshots('lake'))")
		flag=""
		if [ "$check" != "$ok,$((s0 + ok))" ]; then
			flag="  <- rows,snapshot: $check, expected $ok,$((s0 + ok))"
			bad=1
		fi
		[ "$failed" -gt 0 ] && flag="$flag  (e.g. $(grep -h '^Error' "$dir"/w*.err | head -1 | cut -c1-120))"
		awk -v c="$cat" -v P="$P" -v ok="$ok" -v f="$failed" -v a="$start" -v b="$end" -v flag="$flag" 'BEGIN {
			s = (b - a) / 1000
			printf "%-9s %5d %8d %8d %9.2f %10.1f %14.1f%s\n", c, P, ok, f, s, ok / s, ok / s / P, flag }'
	done
	if [ "$cat" = postgres ]; then
		pg_stop "$work/pg"
		pg_started=0
	fi
done
exit "$bad"
