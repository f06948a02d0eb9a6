/*
 * timetravel.c -- time-travel benchmark: the scan queries on an old version of a lake table
 * (`lake.main.t AT (VERSION => old)`) compared with the current table, and with the old
 * version's Parquet files read directly.
 *
 * What it measures: reading a table at an old snapshot goes through a different path than
 * reading it at the latest one. For every `AT (...)` reference Planar loads the catalog at that
 * snapshot and creates (and afterwards drops) a temporary view over the files live at that
 * snapshot; the latest version is a view kept up to date between statements. The target is for
 * the old version to cost what its files cost (ratio ~1.0).
 *
 * Steps: create a fresh lake in a temporary directory (SQLite catalog) and a table
 * t(id BIGINT, k INTEGER, v DOUBLE, s VARCHAR, ts TIMESTAMP) with three snapshots:
 *   old:     INSERT N rows (one data file)                                  -> N rows
 *   update:  UPDATE t SET v = v + 0.5 WHERE id % 100 = 7 (1% of the rows)   -> a delete file
 *                                                                               and a data file
 *   current: INSERT N/5 more rows                                           -> N + N/5 rows
 * Then every query runs on four relations ("sides"):
 *   at_old       lake.main.t AT (VERSION => old)
 *   parquet_old  read_parquet() of the data files live at the old snapshot (as listed by
 *                ducklake_list_files(..., snapshot_version => old)); same rows as at_old
 *   at_current   lake.main.t AT (VERSION => current), the latest snapshot through the AT path
 *   current      lake.main.t
 * one warm-up run each (at_old must equal parquet_old, at_current must equal current), then
 * --reps timed runs per side, rotating which side goes first; medians are reported. It only
 * reports: nothing here asserts on timings.
 *
 * Uses only the public API (planar/planar.h). Usage: timetravel [--rows N] [--reps N]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define DEFAULT_ROWS 5000000LL
#define DEFAULT_REPS 5

enum { AT_OLD, PARQUET_OLD, AT_CURRENT, CURRENT, NSIDES };
static const char *const side_names[NSIDES] = {"at_old", "parquet_old", "at_current", "current"};

typedef struct lake_state {
	long long old_snap, update_snap, current_snap;
	long long old_rows, current_rows;
} lake_state;

static int current_snapshot(planar_conn *conn, long long *out)
{
	return scalar_ll(conn, "reading ducklake_current_snapshot", "SELECT id FROM ducklake_current_snapshot('lake')",
			 out);
}

static int timed_stmt(planar_conn *conn, const char *what, const char *sql, double *ms)
{
	fprintf(stderr, "%s: %s...\n", bench_prog, what);
	double t0 = now_ms();
	int rc = run(conn, what, sql, NULL);
	*ms = now_ms() - t0;
	return rc;
}

static int setup(planar_conn *conn, const char *dir, long long rows, lake_state *st, strbuf *old_src)
{
	strbuf q = {0};
	double insert_ms = 0, update_ms = 0, insert2_ms = 0;
	long long added = rows / 5;
	sb_printf(&q, "ATTACH 'ducklake:sqlite:%s/meta.sqlite' AS lake (DATA_PATH '%s/data/')", dir, dir);
	int rc = run(conn, "ATTACH", q.ptr, NULL);
	if (rc == 0)
		rc = run(conn, "CREATE TABLE",
			 "CREATE TABLE lake.main.t (id BIGINT, k INTEGER, v DOUBLE, s VARCHAR, ts TIMESTAMP)", NULL);

	/* v holds multiples of 0.25 below 2^12 (+ 0.5 after the update): every sum is exact. */
	static const char insert_fmt[] =
		"INSERT INTO lake.main.t SELECT range AS id, CAST(range %% 1000 AS INTEGER) AS k, "
		"(range %% 10007) * 0.25 AS v, 'name' || (range %% 5000) AS s, "
		"TIMESTAMP '2024-01-01 00:00:00' + to_seconds(range) AS ts FROM range(%lld, %lld)";
	q.len = 0;
	sb_printf(&q, insert_fmt, 0LL, rows);
	if (rc == 0)
		rc = timed_stmt(conn, "INSERT (old version)", q.ptr, &insert_ms);
	if (rc == 0)
		rc = current_snapshot(conn, &st->old_snap);
	if (rc == 0)
		rc = timed_stmt(conn, "UPDATE 1%", "UPDATE lake.main.t SET v = v + 0.5 WHERE id % 100 = 7", &update_ms);
	if (rc == 0)
		rc = current_snapshot(conn, &st->update_snap);
	q.len = 0;
	sb_printf(&q, insert_fmt, rows, rows + added);
	if (rc == 0)
		rc = timed_stmt(conn, "INSERT (current version)", q.ptr, &insert2_ms);
	if (rc == 0)
		rc = current_snapshot(conn, &st->current_snap);
	st->old_rows = rows;
	st->current_rows = rows + added;

	uint64_t old_files = 0;
	long long cur_files = 0, cur_deletes = 0;
	q.len = 0;
	sb_printf(&q,
		  "SELECT data_file FROM ducklake_list_files('lake', 't', snapshot_version => %lld) ORDER BY data_file",
		  st->old_snap);
	if (rc == 0)
		rc = parquet_src_from(conn, "listing the old version's files", q.ptr, old_src, &old_files);
	if (rc == 0)
		rc = scalar_ll(conn, "reading ducklake_table_info",
			       "SELECT file_count FROM ducklake_table_info('lake') WHERE table_name = 't'", &cur_files);
	if (rc == 0)
		rc = scalar_ll(conn, "reading ducklake_table_info",
			       "SELECT delete_file_count FROM ducklake_table_info('lake') WHERE table_name = 't'",
			       &cur_deletes);
	if (rc == 0) {
		printf("old:     snapshot %lld, %lld rows, %llu data file(s), no deletes    INSERT %.0f ms\n",
		       st->old_snap, st->old_rows, (unsigned long long)old_files, insert_ms);
		printf("update:  snapshot %lld, UPDATE ... SET v = v + 0.5 WHERE id %% 100 = 7 (%lld rows)    %.0f ms\n",
		       st->update_snap, rows / 100 + (rows % 100 > 7), update_ms);
		printf("current: snapshot %lld, %lld rows, %lld data file(s), %lld delete file(s)    INSERT %.0f ms\n",
		       st->current_snap, st->current_rows, cur_files, cur_deletes, insert2_ms);
	}
	sb_free(&q);
	return rc;
}

static int bench(planar_conn *conn, const lake_state *st, int reps, const char *old_src)
{
	strbuf src[NSIDES] = {{0}};
	sb_printf(&src[AT_OLD], "lake.main.t AT (VERSION => %lld)", st->old_snap);
	sb_puts(&src[PARQUET_OLD], old_src);
	sb_printf(&src[AT_CURRENT], "lake.main.t AT (VERSION => %lld)", st->current_snap);
	sb_puts(&src[CURRENT], "lake.main.t");
	const char *srcs[NSIDES];
	for (int s = 0; s < NSIDES; s++)
		srcs[s] = src[s].ptr;

	double row_ratio = (double)st->current_rows / (double)st->old_rows;
	double logs[4] = {0};
	int rc = 0;
	printf("\n%-18s %9s %12s %7s %11s %9s %7s %8s %8s\n", "query", "at_old ms", "parquet_old", "ratio",
	       "at_current", "current", "ratio", "old/cur", "per row");
	for (size_t qi = 0; rc == 0 && qi < bench_nqueries; qi++) {
		const bench_query *q = &bench_queries[qi];
		double ms[NSIDES];
		char *texts[NSIDES] = {0};
		fprintf(stderr, "%s: %s...\n", bench_prog, q->name);
		rc = measure(conn, q, st->old_rows / 2, NSIDES, srcs, side_names, reps, ms, texts);
		if (rc == 0)
			rc = same_result(q->name, src[AT_OLD].ptr, texts[AT_OLD], "read_parquet() of its files",
					 texts[PARQUET_OLD]);
		if (rc == 0)
			rc = same_result(q->name, src[AT_CURRENT].ptr, texts[AT_CURRENT], "lake.main.t", texts[CURRENT]);
		if (rc == 0 && qi == 0 &&
		    (strtoll(texts[AT_OLD], NULL, 10) != st->old_rows ||
		     strtoll(texts[CURRENT], NULL, 10) != st->current_rows)) {
			fprintf(stderr, "%s: count(*) is %s (old) and %s (current), expected %lld and %lld\n", bench_prog,
				texts[AT_OLD], texts[CURRENT], st->old_rows, st->current_rows);
			rc = -1;
		}
		if (rc == 0) {
			double r[4] = {ms[AT_OLD] / ms[PARQUET_OLD], ms[AT_CURRENT] / ms[CURRENT], ms[AT_OLD] / ms[CURRENT],
				       ms[AT_OLD] / ms[CURRENT] * row_ratio};
			for (int i = 0; i < 4; i++)
				logs[i] += log(r[i]);
			printf("%-18s %9.2f %12.2f %7.3f %11.2f %9.2f %7.3f %8.3f %8.3f\n", q->name, ms[AT_OLD],
			       ms[PARQUET_OLD], r[0], ms[AT_CURRENT], ms[CURRENT], r[1], r[2], r[3]);
			fflush(stdout);
		}
		for (int s = 0; s < NSIDES; s++)
			free(texts[s]);
	}
	if (rc == 0) {
		double n = (double)bench_nqueries;
		printf("geomean at_old / parquet_old:      %.3f (target ~1.0: time travel costs what its files cost)\n",
		       exp(logs[0] / n));
		printf("geomean at_current / current:      %.3f (target ~1.0: the AT path at the latest snapshot)\n",
		       exp(logs[1] / n));
		printf("geomean at_old / current:          %.3f (target ~1.0; the versions differ, see per row)\n",
		       exp(logs[2] / n));
		printf("geomean per row (old/cur x %.2f):  %.3f (old: %lld rows, 1 file; current: %lld rows, "
		       "with deletes)\n",
		       row_ratio, exp(logs[3] / n), st->old_rows, st->current_rows);
	}
	for (int s = 0; s < NSIDES; s++)
		sb_free(&src[s]);
	return rc;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: timetravel [--rows N] [--reps N]\n"
		   "  --rows N  rows of the old version; the current one has N + N/5 (default %lld)\n"
		   "  --reps N  timed runs per query and side; the median is reported (default %d)\n",
		DEFAULT_ROWS, DEFAULT_REPS);
}

int main(int argc, char **argv)
{
	bench_prog = "timetravel";
	long long rows = DEFAULT_ROWS, reps = DEFAULT_REPS;
	const bench_option opts[] = {
		{"--rows", 100, 1000000000000LL, &rows},
		{"--reps", 1, 1000, &reps},
	};
	int status = parse_options(argc, argv, opts, sizeof(opts) / sizeof(opts[0]), usage);
	if (status >= 0)
		return status;

	strbuf dir = {0};
	if (make_temp_dir(&dir)) {
		sb_free(&dir);
		return 1;
	}
	planar_db *db = NULL;
	planar_conn *conn = NULL;
	strbuf old_src = {0}, extra = {0};
	lake_state st = {0};
	int rc = open_planar(&db, &conn);
	sb_printf(&extra, ", reps %lld (median after 1 warm-up), catalog sqlite", reps);
	if (rc == 0)
		rc = print_header(conn, extra.ptr);
	if (rc == 0)
		rc = setup(conn, dir.ptr, rows, &st, &old_src);
	if (rc == 0)
		rc = bench(conn, &st, (int)reps, old_src.ptr);

	if (rc == 0)
		print_load("at end");
	planar_conn_free(conn);
	planar_db_free(db);
	remove_temp_dir(dir.ptr);
	sb_free(&dir);
	sb_free(&old_src);
	sb_free(&extra);
	return rc == 0 ? 0 : 1;
}
