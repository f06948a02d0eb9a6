/*
 * partition.c -- partitioning benchmark: a one-day query on a table partitioned by day against
 * the same query on the same rows in an unpartitioned table, and on that table's Parquet files
 * read directly.
 *
 * Steps: a fresh lake (SQLite catalog) in a temporary directory; table `flat` and table `byday`
 * (ALTER TABLE ... SET PARTITIONED BY (year(ts), month(ts), day(ts))), both t(id BIGINT,
 * ts TIMESTAMP, v DOUBLE, s VARCHAR), receive the same N rows spread over 365 days in one INSERT
 * each (rows in id order, so the days are interleaved: every row group of `flat` spans the
 * year). Then `SELECT count(*), sum(v) FROM <src> WHERE ts >= D AND ts < D + 1 day` for a day in
 * the middle runs on: byday, flat, and read_parquet() of flat's files; one warm-up run each
 * (results must match), then --reps timed runs each, rotating the order; medians reported,
 * with the number of files each side's scan read (DuckDB's EXPLAIN ANALYZE "Total Files Read").
 * Nothing here asserts on timings.
 *
 * Usage: partition [--rows N] [--reps N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define DEFAULT_ROWS 10000000LL
#define DEFAULT_REPS 5

enum { BYDAY, FLAT, PARQUET, NSIDES };
static const char *const side_names[NSIDES] = {"byday", "flat", "parquet_flat"};

static const char query_sql[] = "SELECT count(*), sum(v) FROM {src} WHERE ts >= TIMESTAMP '2024-07-01' AND "
				"ts < TIMESTAMP '2024-07-02'";

static void usage(FILE *f)
{
	fprintf(f, "usage: %s [--rows N] [--reps N]\n", bench_prog);
}

/* "Total Files Read: N" of the query's EXPLAIN ANALYZE, -1 when it says nothing. */
static long long files_read(planar_conn *conn, const char *src)
{
	char *q = render(query_sql, src, 0);
	strbuf sql = {0};
	sb_printf(&sql, "EXPLAIN ANALYZE %s", q);
	planar_result *res = NULL;
	long long n = -1;
	if (run(conn, "EXPLAIN ANALYZE", sql.ptr, &res) == 0) {
		char *text = result_text(res);
		const char *p = text ? strstr(text, "Total Files Read:") : NULL;
		if (p)
			n = strtoll(p + strlen("Total Files Read:"), NULL, 10);
		free(text);
	}
	planar_result_free(res);
	sb_free(&sql);
	free(q);
	return n;
}

static int setup(planar_conn *conn, const char *dir, long long rows)
{
	strbuf q = {0};
	sb_printf(&q, "ATTACH 'ducklake:sqlite:%s/meta.sqlite' AS lake (DATA_PATH '%s/data/')", dir, dir);
	int rc = run(conn, "ATTACH", q.ptr, NULL);
	static const char *const tables[] = {"flat", "byday"};
	for (int i = 0; rc == 0 && i < 2; i++) {
		q.len = 0;
		sb_printf(&q, "CREATE TABLE lake.%s (id BIGINT, ts TIMESTAMP, v DOUBLE, s VARCHAR)", tables[i]);
		rc = run(conn, "CREATE TABLE", q.ptr, NULL);
	}
	if (rc == 0)
		rc = run(conn, "SET PARTITIONED BY",
			 "ALTER TABLE lake.byday SET PARTITIONED BY (year(ts), month(ts), day(ts))", NULL);
	for (int i = 0; rc == 0 && i < 2; i++) {
		q.len = 0;
		sb_printf(&q,
			  "INSERT INTO lake.%s SELECT range, TIMESTAMP '2024-01-01' + to_seconds((range %% 365) * 86400 + "
			  "range %% 86400), (range %% 1000) * 0.5, 'row' || (range %% 1000) FROM range(%lld)",
			  tables[i], rows);
		fprintf(stderr, "%s: loading %s...\n", bench_prog, tables[i]);
		double ms = 0;
		rc = timed(conn, "INSERT", q.ptr, &ms, NULL);
		if (rc == 0)
			printf("load %-6s %10.0f ms\n", tables[i], ms);
	}
	sb_free(&q);
	return rc;
}

int main(int argc, char **argv)
{
	bench_prog = "partition";
	long long rows = DEFAULT_ROWS, reps = DEFAULT_REPS;
	const bench_option opts[] = {{"--rows", 1000, 1000000000LL, &rows}, {"--reps", 1, 1000, &reps}};
	int st = parse_options(argc, argv, opts, 2, usage);
	if (st >= 0)
		return st;
	planar_db *db = NULL;
	planar_conn *conn = NULL;
	strbuf dir = {0}, parquet = {0};
	char *texts[NSIDES] = {0};
	double medians[NSIDES] = {0};
	uint64_t nfiles = 0;
	int rc = make_temp_dir(&dir);
	if (rc == 0)
		rc = open_planar(&db, &conn);
	if (rc == 0)
		rc = print_header(conn, "");
	if (rc == 0)
		rc = setup(conn, dir.ptr, rows);
	if (rc == 0)
		rc = parquet_src_from(conn, "listing flat's files", "SELECT data_file FROM ducklake_list_files('lake', 'flat')",
				      &parquet, &nfiles);
	const char *srcs[NSIDES] = {"lake.byday", "lake.flat", parquet.ptr};
	const bench_query q = {"one_day", query_sql};
	if (rc == 0)
		rc = measure(conn, &q, 0, NSIDES, srcs, side_names, (int)reps, medians, texts);
	for (int s = 1; rc == 0 && s < NSIDES; s++)
		rc = same_result(q.name, side_names[0], texts[0], side_names[s], texts[s]);
	if (rc == 0) {
		long long files[NSIDES];
		for (int s = 0; s < NSIDES; s++)
			files[s] = files_read(conn, srcs[s]);
		char *byday_files = scalar(conn, "counting byday's files",
					   "SELECT count(*) FROM ducklake_list_files('lake', 'byday')");
		printf("\nrows %lld over 365 days; byday has %s files, flat %llu\n", rows, byday_files ? byday_files : "?",
		       (unsigned long long)nfiles);
		free(byday_files);
		printf("%-14s %12s %12s\n", "side", "median ms", "files read");
		for (int s = 0; s < NSIDES; s++)
			printf("%-14s %12.1f %12lld\n", side_names[s], medians[s], files[s]);
		printf("byday / flat: %.2f   byday / parquet_flat: %.2f   (target: byday reads only that day's files)\n",
		       medians[BYDAY] / medians[FLAT], medians[BYDAY] / medians[PARQUET]);
		print_load("at end");
	}
	for (int s = 0; s < NSIDES; s++)
		free(texts[s]);
	planar_conn_free(conn);
	planar_db_free(db);
	if (dir.ptr)
		remove_temp_dir(dir.ptr);
	sb_free(&dir);
	sb_free(&parquet);
	return rc ? 1 : 0;
}
