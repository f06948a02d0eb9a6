#!/usr/bin/env bash
# bench/compaction.sh -- reading a table of many small files before and after
# ducklake_merge_adjacent_files, against DuckDB reading the same Parquet files directly.
#
# usage: bench/compaction.sh [PATH/TO/planar] [FILES] [ROWS_PER_FILE] [CATALOG]
#   defaults: build/planar, 1000 files, 100 rows each, sqlite (or duckdb)
# Prints the best of 5 runs (wall time of one statement, from `.timer on`) of
#   count(*) / sum over the lake table, then read_parquet over the same files,
# before and after the merge, and how long the merge took.
set -euo pipefail
planar=$(realpath "${1:-build/planar}")
files=${2:-1000}
rows=${3:-100}
kind=${4:-sqlite}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
case "$kind" in
sqlite) uri="ducklake:sqlite:$work/meta.sqlite" ;;
duckdb) uri="ducklake:duckdb:$work/meta.ducklake" ;;
*) echo "unknown catalog kind $kind" >&2; exit 2 ;;
esac
lk() { "$planar" --lake "$uri" --data-path "$work/data/" "$@"; }

{
	echo "CALL lake.set_option('data_inlining_row_limit', '0');"
	echo "CREATE TABLE t (i BIGINT, s VARCHAR);"
	for ((f = 0; f < files; f++)); do
		echo "INSERT INTO t SELECT $f * $rows + i, 'row ' || i FROM range($rows) r(i);"
	done
} | lk >/dev/null

# best of 5: the `Run Time (s): real X` lines of `.timer on`
best() {
	{
		echo ".timer on"
		for _ in 1 2 3 4 5; do echo "$1;"; done
	} | lk 2>&1 | awk '/Run Time/ { for (i = 1; i <= NF; i++) if ($i == "real") { v = $(i + 1); if (b == "" || v < b) b = v } } END { print b }'
}

lake_q="SELECT count(*), sum(i) FROM t"
parquet_q="SELECT count(*), sum(i) FROM read_parquet('$work/data/main/t/*.parquet')"
echo "table of $files files x $rows rows ($kind catalog)"
echo "before merge: lake table $(best "$lake_q") s, read_parquet of the same files $(best "$parquet_q") s"
start=$(date +%s.%N)
lk -c "CALL ducklake_merge_adjacent_files('lake', 't')" >/dev/null
end=$(date +%s.%N)
lk -c "CALL ducklake_cleanup_old_files('lake', cleanup_all => true)" >/dev/null
echo "merge: $(echo "$end - $start" | bc) s, files now: $(lk -csv -noheader -c "SELECT count(*) FROM ducklake_list_files('lake', 't')")"
echo "after merge:  lake table $(best "$lake_q") s, read_parquet of the same files $(best "$parquet_q") s"
