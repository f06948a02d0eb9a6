/*
 * scan.c -- scan benchmark: a lake table versus read_parquet() over the very same Parquet files.
 *
 * What it measures: the cost of reading a DuckLake table through Planar (`FROM lake.main.t`, a
 * DuckDB view over read_parquet() of the table's data files with a field-id schema map) compared
 * with DuckDB reading those files directly (`FROM read_parquet([...])`). Both sides run through
 * the same planar_conn, hence the same DuckDB engine, settings and caches, in one process.
 *
 * Steps: create a fresh lake in a temporary directory (SQLite catalog), create
 * t(id BIGINT, k INTEGER, v DOUBLE, s VARCHAR, ts TIMESTAMP) and fill it with one
 * INSERT ... SELECT FROM range(N); list the table's Parquet files (glob(), cross-checked with
 * the catalog's file count); then for every query: one warm-up run per side (whose results must
 * be identical), then --reps timed runs per side, alternating which side goes first, and report
 * the median wall-clock time of planar_conn_query() per side and their ratio (lake / parquet),
 * plus the geometric mean of the ratios. Then the same again after ALTER TABLE t ADD COLUMN,
 * when the lake reads those files through a field-id schema map. It only reports: nothing here
 * asserts on timings.
 *
 * Uses only the public API (planar/planar.h). Usage: scan [--rows N] [--reps N]
 */
#define _XOPEN_SOURCE 700

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "planar/planar.h"
#include "util.h"

#define DEFAULT_ROWS 10000000LL
#define DEFAULT_REPS 5

/* {src} is replaced by the scanned relation, {mid} by rows / 2 (for the id-range query). */
static const struct {
	const char *name;
	const char *sql;
} queries[] = {
	{"count_star", "SELECT count(*) FROM {src}"},
	{"sum_avg_v", "SELECT sum(v), avg(v) FROM {src}"},
	{"group_by_k", "SELECT k, count(*), avg(v) FROM {src} GROUP BY k ORDER BY k"},
	{"filter_k_eq_7", "SELECT count(*), sum(v), max(s) FROM {src} WHERE k = 7"},
	{"id_range_1000", "SELECT count(*), sum(v) FROM {src} WHERE id >= {mid} AND id < {mid} + 1000"},
	{"min_max_ts", "SELECT min(ts), max(ts) FROM {src}"},
	{"count_distinct_s", "SELECT count(DISTINCT s) FROM {src}"},
};
#define NQUERIES (sizeof(queries) / sizeof(queries[0]))

static int setup(planar_conn *conn, const char *dir, long long rows, strbuf *parquet_src)
{
	strbuf q = {0};
	int rc;
	sb_printf(&q, "ATTACH 'ducklake:sqlite:%s/meta.sqlite' AS lake (DATA_PATH '%s/data/')", dir, dir);
	rc = run(conn, "ATTACH", q.ptr, NULL);
	if (rc == 0)
		rc = run(conn, "CREATE TABLE",
			 "CREATE TABLE lake.main.t (id BIGINT, k INTEGER, v DOUBLE, s VARCHAR, ts TIMESTAMP)", NULL);
	if (rc) {
		sb_free(&q);
		return rc;
	}

	/* v holds multiples of 0.25 below 2^12: every sum is exact, so both sides agree to the bit. */
	q.len = 0;
	sb_printf(&q,
		  "INSERT INTO lake.main.t SELECT range AS id, CAST(range %% 1000 AS INTEGER) AS k, "
		  "(range %% 10007) * 0.25 AS v, 'name' || (range %% 5000) AS s, "
		  "TIMESTAMP '2024-01-01 00:00:00' + to_seconds(range) AS ts FROM range(%lld)",
		  rows);
	fprintf(stderr, "scan: inserting %lld rows...\n", rows);
	double t0 = now_ms();
	rc = run(conn, "INSERT", q.ptr, NULL);
	double insert_ms = now_ms() - t0;
	if (rc) {
		sb_free(&q);
		return rc;
	}

	/* The table's files: glob() over its directory, checked against the catalog. */
	planar_result *res = NULL;
	q.len = 0;
	sb_puts(&q, "SELECT file FROM glob(");
	strbuf pattern = {0};
	sb_printf(&pattern, "%s/data/main/t/*.parquet", dir);
	sb_put_literal(&q, pattern.ptr);
	sb_free(&pattern);
	sb_puts(&q, ") ORDER BY file");
	rc = run(conn, "listing the table's files", q.ptr, &res);
	sb_free(&q);
	if (rc)
		return rc;
	uint64_t nfiles = planar_result_row_count(res);
	sb_puts(parquet_src, "read_parquet([");
	for (uint64_t r = 0; r < nfiles; r++) {
		char *f = value(res, 0, r);
		if (r)
			sb_puts(parquet_src, ", ");
		sb_put_literal(parquet_src, f);
		free(f);
	}
	sb_puts(parquet_src, "])");
	planar_result_free(res);

	char *cat_files = scalar(conn, "reading ducklake_table_info",
				 "SELECT file_count FROM ducklake_table_info('lake') WHERE table_name = 't'");
	char *cat_bytes = scalar(conn, "reading ducklake_table_info",
				 "SELECT file_size_bytes FROM ducklake_table_info('lake') WHERE table_name = 't'");
	rc = !cat_files || !cat_bytes ? -1 : 0;
	if (rc == 0 && (nfiles == 0 || strtoull(cat_files, NULL, 10) != nfiles)) {
		fprintf(stderr, "scan: the catalog lists %s data files but the table directory holds %llu\n",
			cat_files, (unsigned long long)nfiles);
		rc = -1;
	}
	if (rc == 0)
		printf("rows: %lld   files: %llu   data: %.1f MiB   insert: %.0f ms\n", rows,
		       (unsigned long long)nfiles, (double)strtoull(cat_bytes, NULL, 10) / (1024.0 * 1024.0),
		       insert_ms);
	free(cat_files);
	free(cat_bytes);
	return rc;
}

static int bench(planar_conn *conn, long long rows, int reps, const char *parquet_src)
{
	const char *src[2] = {"lake.main.t", parquet_src};
	const char *side[2] = {"lake", "read_parquet"};
	double *times[2] = {calloc((size_t)reps, sizeof(double)), calloc((size_t)reps, sizeof(double))};
	double log_sum = 0;
	int rc = 0;
	if (!times[0] || !times[1])
		die_oom();

	printf("%-18s %12s %16s %8s\n", "query", "lake ms", "read_parquet ms", "ratio");
	for (size_t qi = 0; rc == 0 && qi < NQUERIES; qi++) {
		char *sql[2] = {render(queries[qi].sql, src[0], rows / 2), render(queries[qi].sql, src[1], rows / 2)};
		char *text[2] = {NULL, NULL};
		strbuf what[2] = {{0}, {0}};
		double ms;
		if (!sql[0] || !sql[1])
			die_oom();
		for (int s = 0; s < 2; s++)
			sb_printf(&what[s], "%s on %s", queries[qi].name, side[s]);

		/* Warm-up: both sides must return the same rows. */
		for (int s = 0; rc == 0 && s < 2; s++)
			rc = timed(conn, what[s].ptr, sql[s], &ms, &text[s]);
		if (rc == 0 && strcmp(text[0], text[1]) != 0) {
			fprintf(stderr, "scan: %s: the lake table and read_parquet() disagree\nlake:\n%s"
					"read_parquet:\n%s", queries[qi].name, text[0], text[1]);
			rc = -1;
		}
		if (rc == 0 && qi == 0 && strtoll(text[0], NULL, 10) != rows) {
			fprintf(stderr, "scan: count(*) is %s, expected %lld rows\n", text[0], rows);
			rc = -1;
		}

		/* Timed runs, alternating which side goes first. */
		for (int r = 0; rc == 0 && r < reps; r++) {
			for (int i = 0; rc == 0 && i < 2; i++) {
				int s = (r + i) % 2;
				rc = timed(conn, what[s].ptr, sql[s], &times[s][r], NULL);
			}
		}
		if (rc == 0) {
			double lake = median(times[0], (size_t)reps), pq = median(times[1], (size_t)reps);
			double ratio = lake / pq;
			log_sum += log(ratio);
			printf("%-18s %12.2f %16.2f %8.3f\n", queries[qi].name, lake, pq, ratio);
			fflush(stdout);
		}
		for (int s = 0; s < 2; s++) {
			free(sql[s]);
			free(text[s]);
			sb_free(&what[s]);
		}
	}
	if (rc == 0)
		printf("geomean ratio: %.3f (target <= 1.05)\n", exp(log_sum / (double)NQUERIES));
	free(times[0]);
	free(times[1]);
	return rc;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: scan [--rows N] [--reps N]\n"
		   "  --rows N  rows inserted into the lake table (default %lld)\n"
		   "  --reps N  timed runs per query and side; the median is reported (default %d)\n",
		DEFAULT_ROWS, DEFAULT_REPS);
}

int main(int argc, char **argv)
{
	bench_prog = "scan";
	long long rows = DEFAULT_ROWS, reps = DEFAULT_REPS;
	const bench_option opts[] = {
		{"--rows", 1, LLONG_MAX, &rows},
		{"--reps", 1, LLONG_MAX, &reps},
	};
	int status = parse_options(argc, argv, opts, sizeof(opts) / sizeof(opts[0]), usage);
	if (status >= 0)
		return status;
	if (reps > 1000) {
		fputs("scan: --reps must be <= 1000\n", stderr);
		return 2;
	}

	strbuf dir = {0};
	if (make_temp_dir(&dir) != 0) {
		sb_free(&dir);
		return 1;
	}

	planar_db *db = NULL;
	planar_conn *conn = NULL;
	char *err = NULL;
	strbuf parquet_src = {0};
	int rc = planar_db_open(&db, NULL, &err);
	if (rc == 0)
		rc = planar_conn_open(&conn, db, &err);
	if (rc) {
		fprintf(stderr, "scan: cannot open Planar (%d): %s\n", rc, err ? err : "");
		planar_free(err);
	}

	if (rc == 0) {
		char *duck = scalar(conn, "reading the DuckDB version", "SELECT version()");
		char *threads = duck ? scalar(conn, "reading threads", "SELECT current_setting('threads')") : NULL;
		rc = duck && threads ? 0 : -1;
		if (rc == 0)
			printf("planar %s, duckdb %s, threads %s, reps %lld (median after 1 warm-up)\n",
			       planar_version(), duck, threads, reps);
		free(duck);
		free(threads);
	}
	if (rc == 0)
		rc = setup(conn, dir.ptr, rows, &parquet_src);
	if (rc == 0)
		rc = bench(conn, rows, (int)reps, parquet_src.ptr);
	/* After a column change the same files are older than the table's columns: the lake reads
	 * them through field ids (a schema map), read_parquet() still by name. */
	if (rc == 0)
		rc = run(conn, "ALTER TABLE", "ALTER TABLE lake.main.t ADD COLUMN extra INTEGER", NULL);
	if (rc == 0) {
		printf("\nafter ALTER TABLE t ADD COLUMN (the lake reads the same files through field ids)\n");
		rc = bench(conn, rows, (int)reps, parquet_src.ptr);
	}

	planar_conn_free(conn);
	planar_db_free(db);
	sb_free(&parquet_src);
	remove_temp_dir(dir.ptr);
	sb_free(&dir);
	return rc == 0 ? 0 : 1;
}
