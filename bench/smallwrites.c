/*
 * smallwrites.c -- many one-row commits, then upkeep: what a table of 10,000 one-row INSERTs
 * costs a reader after ducklake_flush_inlined_data (rows inlined into the catalog) and after
 * ducklake_merge_adjacent_files (one Parquet file per INSERT), against the same rows written in
 * one INSERT; and the merge itself against DuckDB copying the same files into one.
 *
 * Steps, on a fresh lake (SQLite catalog by default; --catalog duckdb) in a temporary directory:
 *   1. `whole`: the N rows in one INSERT ... SELECT FROM range(N) (one file).
 *   2. `inlined`: the same N rows, one INSERT each (data inlining, DuckLake's default limit);
 *      then CALL ducklake_flush_inlined_data (timed once).
 *   3. `files`: the same N rows, one INSERT each, with data_inlining_row_limit 0 on the table
 *      (one Parquet file each); then COPY (SELECT * FROM read_parquet(<its files>)) TO one file
 *      (--reps times, the floor) and CALL ducklake_merge_adjacent_files (timed once).
 *   4. count(*) and a point query (id = N/2) on whole, inlined and files: one warm-up each
 *      (results must match), then --reps timed runs, rotating the order; medians and ratios
 *      against whole.
 * Targets (the issue): after flush / merge, count(*) and the point query <= 1.2x whole; the merge
 * <= 2x the COPY. Nothing here asserts on timings; it fails only when a statement fails or the
 * results differ.
 *
 * Usage: smallwrites [--rows N] [--reps N] [--catalog-duckdb 0|1]
 */
#define _POSIX_C_SOURCE 200809L

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define DEFAULT_ROWS 10000LL
#define DEFAULT_REPS 7

enum { WHOLE, INLINED, FILES, NSIDES };
static const char *const side_names[NSIDES] = {"whole", "inlined", "files"};
static const char *const srcs[NSIDES] = {"lake.main.whole", "lake.main.inlined", "lake.main.files"};

static const bench_query queries[] = {
	{"count_star", "SELECT count(*) FROM {src}"},
	{"point_query", "SELECT id, k, v, s FROM {src} WHERE id = {mid}"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: %s [--rows N] [--reps N] [--catalog-duckdb 0|1]\n", bench_prog);
}

static int one_row_inserts(planar_conn *conn, const char *table, long long rows, double *ms)
{
	char sql[256];
	double t0 = now_ms();
	for (long long i = 0; i < rows; i++) {
		snprintf(sql, sizeof(sql), "INSERT INTO lake.main.%s VALUES (%lld, %lld, %lld.25, 'name%lld')", table, i,
			 i % 1000, i % 10007, i % 5000);
		if (run(conn, "a one-row INSERT", sql, NULL))
			return -1;
	}
	*ms = now_ms() - t0;
	return 0;
}

static int timed_once(planar_conn *conn, const char *what, const char *sql, double *ms)
{
	return timed(conn, what, sql, ms, NULL);
}

int main(int argc, char **argv)
{
	bench_prog = "smallwrites";
	long long rows = DEFAULT_ROWS, reps = DEFAULT_REPS, duck = 0;
	const bench_option opts[] = {{"--rows", 100, 1000000, &rows},
				     {"--reps", 1, 1000, &reps},
				     {"--catalog-duckdb", 0, 1, &duck}};
	int prc = parse_options(argc, argv, opts, sizeof(opts) / sizeof(opts[0]), usage);
	if (prc >= 0)
		return prc;
	strbuf dir = {0}, sql = {0}, parquet = {0};
	planar_db *db = NULL;
	planar_conn *conn = NULL;
	double ins_inlined = 0, ins_files = 0, flush_ms = 0, merge_ms = 0, copy[1000];
	uint64_t nfiles = 0;
	long long files_before = 0, files_after = 0, flushed_files = 0;
	int rc = make_temp_dir(&dir);
	if (rc == 0)
		rc = open_planar(&db, &conn);
	if (rc == 0)
		rc = print_header(conn, duck ? ", DuckDB-file catalog" : ", SQLite catalog");
	if (rc == 0) {
		sb_printf(&sql, "ATTACH 'ducklake:%s:%s/meta.%s' AS lake (DATA_PATH '%s/data/')", duck ? "duckdb" : "sqlite",
			  dir.ptr, duck ? "ducklake" : "sqlite", dir.ptr);
		rc = run(conn, "ATTACH", sql.ptr, NULL);
	}
	for (int s = 0; rc == 0 && s < NSIDES; s++) {
		sql.len = 0;
		sb_printf(&sql, "CREATE TABLE %s(id BIGINT, k INTEGER, v DOUBLE, s VARCHAR)", srcs[s]);
		rc = run(conn, "CREATE TABLE", sql.ptr, NULL);
	}
	if (rc == 0)
		rc = run(conn, "turning inlining off for files",
			 "CALL lake.set_option('data_inlining_row_limit', '0', table_name => 'files')", NULL);
	if (rc == 0) {
		sql.len = 0;
		sb_printf(&sql,
			  "INSERT INTO lake.main.whole SELECT i, i %% 1000, (i %% 10007) + 0.25, 'name' || (i %% 5000) "
			  "FROM range(%lld) r(i)",
			  rows);
		rc = run(conn, "the INSERT of whole", sql.ptr, NULL);
	}
	if (rc == 0)
		rc = one_row_inserts(conn, "inlined", rows, &ins_inlined);
	if (rc == 0)
		rc = timed_once(conn, "the flush",
				"CALL ducklake_flush_inlined_data('lake', table_name => 'inlined')", &flush_ms);
	if (rc == 0)
		rc = scalar_ll(conn, "counting inlined's files", "SELECT count(*) FROM ducklake_list_files('lake', 'inlined')",
			       &flushed_files);
	if (rc == 0)
		rc = one_row_inserts(conn, "files", rows, &ins_files);
	if (rc == 0)
		rc = scalar_ll(conn, "counting files' files", "SELECT count(*) FROM ducklake_list_files('lake', 'files')",
			       &files_before);
	if (rc == 0)
		rc = parquet_src_from(conn, "listing files' files", "SELECT data_file FROM ducklake_list_files('lake', 'files')",
				      &parquet, &nfiles);
	for (long long r = 0; rc == 0 && r < reps; r++) {
		sql.len = 0;
		sb_printf(&sql, "COPY (SELECT * FROM %s) TO '%s/copy.parquet' (FORMAT parquet)", parquet.ptr, dir.ptr);
		rc = timed_once(conn, "the COPY of the files", sql.ptr, &copy[r]);
	}
	if (rc == 0)
		rc = timed_once(conn, "the merge", "CALL ducklake_merge_adjacent_files('lake', 'files')", &merge_ms);
	if (rc == 0)
		rc = scalar_ll(conn, "counting files' files after the merge",
			       "SELECT count(*) FROM ducklake_list_files('lake', 'files')", &files_after);
	double medians[2][NSIDES] = {{0}};
	for (size_t q = 0; rc == 0 && q < sizeof(queries) / sizeof(queries[0]); q++) {
		char *texts[NSIDES] = {0};
		rc = measure(conn, &queries[q], rows / 2, NSIDES, srcs, side_names, (int)reps, medians[q], texts);
		for (int s = 1; rc == 0 && s < NSIDES; s++)
			rc = same_result(queries[q].name, side_names[0], texts[0], side_names[s], texts[s]);
		for (int s = 0; s < NSIDES; s++)
			free(texts[s]);
	}
	if (rc == 0) {
		double copy_ms = median(copy, (size_t)reps);
		printf("\n%lld one-row INSERTs per table\n", rows);
		printf("inlined: the INSERTs %.0f ms (%.0f commits/s); flush_inlined_data %.1f ms -> %lld file(s)\n",
		       ins_inlined, rows / (ins_inlined / 1000.0), flush_ms, flushed_files);
		printf("files:   the INSERTs %.0f ms (%.0f commits/s), %lld files; merge_adjacent_files %.1f ms -> %lld "
		       "file(s)\n",
		       ins_files, rows / (ins_files / 1000.0), files_before, merge_ms, files_after);
		printf("merge / COPY (SELECT * FROM read_parquet(<the %llu files>)) TO one file: %.1f / %.1f ms = %.2f "
		       "(target <= 2)\n",
		       (unsigned long long)nfiles, merge_ms, copy_ms, merge_ms / copy_ms);
		printf("\n%-12s %10s %10s %10s %14s %14s\n", "query", "whole ms", "inlined ms", "files ms", "inlined/whole",
		       "files/whole");
		for (size_t q = 0; q < 2; q++)
			printf("%-12s %10.2f %10.2f %10.2f %14.2f %14.2f\n", queries[q].name, medians[q][WHOLE],
			       medians[q][INLINED], medians[q][FILES], medians[q][INLINED] / medians[q][WHOLE],
			       medians[q][FILES] / medians[q][WHOLE]);
		printf("(target: after the flush and the merge, each <= 1.2x whole)\n");
		print_load("at end");
	}
	planar_conn_free(conn);
	planar_db_free(db);
	if (dir.ptr)
		remove_temp_dir(dir.ptr);
	sb_free(&dir);
	sb_free(&sql);
	sb_free(&parquet);
	return rc ? 1 : 0;
}
