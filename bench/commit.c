/*
 * commit.c -- commit-latency benchmark: many one-row INSERTs into a lake table, each its own
 * snapshot, on a SQLite catalog, a DuckDB-file catalog and, when $PLANAR_PG holds a libpq
 * connection string, a PostgreSQL catalog (in a schema of its own). The target is a p50 of at
 * most 3 ms on the file catalogs.
 *
 * What it measures: the fixed cost of one write statement. By default the rows are inlined
 * (DuckLake's data inlining, the default limit of 10 rows): each INSERT only commits one catalog
 * transaction that stores the row in the catalog; target >= 1,000 commits/s with a p50 of at
 * most 1 ms on SQLite. With --files 1 data inlining is off and each `INSERT INTO lake.main.t
 * VALUES (...)` writes one small Parquet file (staged, renamed into place, fsync'd) and commits
 * one catalog transaction (read the latest snapshot, check for conflicts, insert the snapshot,
 * the file and the statistics rows). The latency of every statement is recorded; the report
 * gives p50, p99, max, mean and commits per second, plus the mean of the first and the last 10%
 * of the commits (a growing latency means a commit's cost depends on the lake's history).
 *
 * Steps, once per catalog kind (sqlite, then duckdb): create a fresh lake in its own
 * subdirectory of a temporary directory (ATTACH ... DATA_INLINING_ROW_LIMIT 0 with --files 1),
 * CREATE TABLE lake.main.t(id BIGINT, k INTEGER, v DOUBLE,
 * s VARCHAR, ts TIMESTAMP), run --warmup untimed one-row INSERTs, then --commits timed ones
 * (planar_conn_query() wall-clock time each). Checks: every INSERT made exactly one snapshot and
 * the table holds every row. Afterwards one scan of the many-file table is timed (median of 5
 * after a warm-up), for information. Then DETACH. It only reports: nothing here asserts on timings.
 *
 * Uses only the public API (planar/planar.h). Usage: commit [--commits N] [--warmup N] [--files 0|1];
 * $PLANAR_BENCH_CATALOGS (e.g. "duckdb" or "sqlite,postgres") limits the run to the catalogs named.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define DEFAULT_COMMITS 1000
#define DEFAULT_WARMUP 10
#define SCAN_REPS 5
#define TARGET_P50_MS 3.0        /* files */
#define TARGET_INLINE_P50_MS 1.0 /* inlined, SQLite */
#define TARGET_INLINE_PER_SEC 1000.0

static long long files_mode = 0;

static const struct {
	const char *name, *uri_prefix, *file;
} catalogs[] = {
	{"sqlite", "ducklake:sqlite:", "meta.sqlite"},
	{"duckdb", "ducklake:duckdb:", "meta.ducklake"},
	{"postgres", "ducklake:postgres:", NULL}, /* only with $PLANAR_PG */
};
#define NCATALOGS (sizeof(catalogs) / sizeof(catalogs[0]))

typedef struct result_row {
	double p50, p99, max, min, mean, per_sec, first_mean, last_mean, slope;
	double cpu_p50, cpu_mean, cpu_first, cpu_last, cpu_slope; /* process CPU time per INSERT */
	long long files;
	double scan_ms;
} result_row;

/* CPU time of the whole process (every thread, DuckDB's included), in ms. */
static double cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int insert_one(planar_conn *conn, long long i, double *ms, double *cpu)
{
	char sql[256];
	double c0 = cpu_ms();
	/* v = i * 0.25 is printed exactly; every row is distinct. */
	snprintf(sql, sizeof(sql),
		 "INSERT INTO lake.main.t VALUES (%lld, %lld, %.2f, 'name%lld', TIMESTAMP '2024-01-01 00:00:00')", i,
		 i % 1000, (double)i * 0.25, i);
	int rc = timed(conn, "INSERT", sql, ms, NULL);
	*cpu = cpu_ms() - c0;
	return rc;
}

static double mean_of(const double *v, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += v[i];
	return n ? s / (double)n : 0;
}

/* Least-squares slope of latency over commit number, in ms per 1000 commits. */
static double slope_per_1000(const double *v, size_t n)
{
	double mx = ((double)n - 1) / 2, my = mean_of(v, n), sxy = 0, sxx = 0;
	for (size_t i = 0; i < n; i++) {
		sxy += ((double)i - mx) * (v[i] - my);
		sxx += ((double)i - mx) * ((double)i - mx);
	}
	return sxx > 0 ? sxy / sxx * 1000 : 0;
}

static int bench_catalog(planar_conn *conn, const char *dir, size_t ci, long long commits, long long warmup,
			 result_row *out)
{
	strbuf q = {0};
	double *lat = calloc((size_t)commits, sizeof(*lat)), *cpu = calloc((size_t)commits, sizeof(*cpu));
	if (!lat || !cpu)
		die_oom();
	if (catalogs[ci].file)
		sb_printf(&q, "ATTACH '%s%s/%s/%s' AS lake (DATA_PATH '%s/%s/data/'%s)", catalogs[ci].uri_prefix, dir,
			  catalogs[ci].name, catalogs[ci].file, dir, catalogs[ci].name,
			  files_mode ? ", DATA_INLINING_ROW_LIMIT 0" : "");
	else
		sb_printf(&q, "ATTACH '%s%s metadata_schema=commit_bench_%ld' AS lake (DATA_PATH '%s/%s/data/'%s)",
			  catalogs[ci].uri_prefix, getenv("PLANAR_PG"), (long)getpid(), dir, catalogs[ci].name,
			  files_mode ? ", DATA_INLINING_ROW_LIMIT 0" : "");
	int rc = run(conn, "ATTACH", q.ptr, NULL);
	if (rc == 0)
		rc = run(conn, "CREATE TABLE",
			 "CREATE TABLE lake.main.t (id BIGINT, k INTEGER, v DOUBLE, s VARCHAR, ts TIMESTAMP)", NULL);

	long long i = 0, snap0 = 0, snap1 = 0, count = 0;
	double ms = 0, cpu_once = 0;
	fprintf(stderr, "%s: %s: %lld warm-up and %lld timed one-row INSERTs...\n", bench_prog, catalogs[ci].name,
		warmup, commits);
	for (; rc == 0 && i < warmup; i++)
		rc = insert_one(conn, i, &ms, &cpu_once);
	if (rc == 0)
		rc = scalar_ll(conn, "reading ducklake_current_snapshot",
			       "SELECT id FROM ducklake_current_snapshot('lake')", &snap0);
	double t0 = now_ms();
	for (long long c = 0; rc == 0 && c < commits; c++, i++)
		rc = insert_one(conn, i, &lat[c], &cpu[c]);
	double total_ms = now_ms() - t0;
	if (rc == 0)
		rc = scalar_ll(conn, "reading ducklake_current_snapshot",
			       "SELECT id FROM ducklake_current_snapshot('lake')", &snap1);
	if (rc == 0 && snap1 - snap0 != commits) {
		fprintf(stderr, "%s: %s: %lld INSERTs made %lld snapshots\n", bench_prog, catalogs[ci].name, commits,
			snap1 - snap0);
		rc = -1;
	}
	if (rc == 0)
		rc = scalar_ll(conn, "counting rows", "SELECT count(*) FROM lake.main.t", &count);
	if (rc == 0 && count != warmup + commits) {
		fprintf(stderr, "%s: %s: the table holds %lld rows, expected %lld\n", bench_prog, catalogs[ci].name,
			count, warmup + commits);
		rc = -1;
	}
	if (rc == 0)
		rc = scalar_ll(conn, "reading ducklake_table_info",
			       "SELECT file_count FROM ducklake_table_info('lake') WHERE table_name = 't'", &out->files);

	/* A scan of the many-file table, for information. */
	if (rc == 0) {
		static const bench_query scan = {"scan", "SELECT count(*), sum(v), max(s) FROM {src}"};
		const char *src = "lake.main.t", *name = "the table";
		char *text = NULL;
		rc = measure(conn, &scan, 0, 1, &src, &name, SCAN_REPS, &out->scan_ms, &text);
		free(text);
	}

	if (rc == 0) {
		size_t n = (size_t)commits, tenth = n / 10 ? n / 10 : 1;
		out->first_mean = mean_of(lat, tenth);
		out->last_mean = mean_of(lat + n - tenth, tenth);
		out->mean = mean_of(lat, n);
		out->slope = slope_per_1000(lat, n);
		out->per_sec = (double)commits / (total_ms / 1000.0);
		out->cpu_first = mean_of(cpu, tenth);
		out->cpu_last = mean_of(cpu + n - tenth, tenth);
		out->cpu_mean = mean_of(cpu, n);
		out->cpu_slope = slope_per_1000(cpu, n);
		out->cpu_p50 = median(cpu, n);
		sort_doubles(lat, n);
		out->min = lat[0];
		out->p50 = n % 2 ? lat[n / 2] : (lat[n / 2 - 1] + lat[n / 2]) / 2;
		out->p99 = percentile_sorted(lat, n, 99);
		out->max = lat[n - 1];
	}
	/* Detach even after a failure, so that the next catalog starts clean. */
	if (planar_conn_query(conn, "DETACH lake", NULL) != 0 && rc == 0) {
		fprintf(stderr, "%s: DETACH failed: %s\n", bench_prog, planar_conn_errmsg(conn));
		rc = -1;
	}
	sb_free(&q);
	free(lat);
	free(cpu);
	return rc;
}

/* Whether $PLANAR_BENCH_CATALOGS (a list of names) is unset or names catalog ci. */
static bool chosen(size_t ci)
{
	const char *list = getenv("PLANAR_BENCH_CATALOGS");
	size_t n = strlen(catalogs[ci].name);
	for (const char *p = list; p && (p = strstr(p, catalogs[ci].name)) != NULL; p += n)
		if ((p == list || p[-1] == ',' || p[-1] == ' ') && (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
			return true;
	return !list || !*list;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: commit [--commits N] [--warmup N] [--files 0|1]\n"
		   "  --commits N  timed one-row INSERTs per catalog (default %d)\n"
		   "  --warmup N   untimed one-row INSERTs before them (default %d)\n"
		   "  --files 1    data inlining off: every INSERT writes a Parquet file (default 0: inlined)\n",
		DEFAULT_COMMITS, DEFAULT_WARMUP);
}

int main(int argc, char **argv)
{
	bench_prog = "commit";
	long long commits = DEFAULT_COMMITS, warmup = DEFAULT_WARMUP;
	const bench_option opts[] = {
		{"--commits", 1, 10000000, &commits},
		{"--warmup", 0, 10000000, &warmup},
		{"--files", 0, 1, &files_mode},
	};
	int status = parse_options(argc, argv, opts, sizeof(opts) / sizeof(opts[0]), usage);
	if (status >= 0)
		return status;

	strbuf dir = {0}, extra = {0};
	if (make_temp_dir(&dir)) {
		sb_free(&dir);
		return 1;
	}
	planar_db *db = NULL;
	planar_conn *conn = NULL;
	result_row res[NCATALOGS];
	memset(res, 0, sizeof(res));
	int rc = open_planar(&db, &conn);
	sb_printf(&extra, ", %lld timed commits per catalog after %lld warm-up commits", commits, warmup);
	if (rc == 0)
		rc = print_header(conn, extra.ptr);
	size_t ncat = getenv("PLANAR_PG") ? NCATALOGS : NCATALOGS - 1;
	for (size_t ci = 0; rc == 0 && ci < ncat; ci++)
		if (chosen(ci))
			rc = bench_catalog(conn, dir.ptr, ci, commits, warmup, &res[ci]);
	if (rc == 0) {
		printf("one-row INSERT, one snapshot each, %s; latency in ms\n",
		       files_mode ? "one Parquet file each (data inlining off)" : "rows inlined into the catalog");
		printf("%-8s %8s %8s %8s %8s %8s %10s %10s %10s %10s %s\n", "catalog", "p50", "p99", "max", "min", "mean",
		       "commits/s", "first 10%", "last 10%", "slope/1k", "target");
		for (size_t ci = 0; ci < ncat; ci++) {
			if (!chosen(ci))
				continue;
			const char *target = "(none)";
			if (files_mode && catalogs[ci].file)
				target = res[ci].p50 <= TARGET_P50_MS ? "p50 <= 3 ms: met" : "p50 <= 3 ms: NOT met";
			else if (!files_mode && strcmp(catalogs[ci].name, "sqlite") == 0)
				target = res[ci].p50 <= TARGET_INLINE_P50_MS && res[ci].per_sec >= TARGET_INLINE_PER_SEC
						 ? ">= 1000/s, p50 <= 1 ms: met"
						 : ">= 1000/s, p50 <= 1 ms: NOT met";
			printf("%-8s %8.2f %8.2f %8.2f %8.2f %8.2f %10.1f %10.2f %10.2f %+10.2f %s\n", catalogs[ci].name,
			       res[ci].p50, res[ci].p99, res[ci].max, res[ci].min, res[ci].mean, res[ci].per_sec,
			       res[ci].first_mean, res[ci].last_mean, res[ci].slope, target);
		}
		printf("process CPU time per INSERT in ms (all threads; less sensitive to other load on the machine)\n");
		printf("%-8s %8s %8s %10s %10s %10s\n", "catalog", "p50", "mean", "first 10%", "last 10%", "slope/1k");
		for (size_t ci = 0; ci < ncat; ci++)
			if (chosen(ci))
				printf("%-8s %8.2f %8.2f %10.2f %10.2f %+10.2f\n", catalogs[ci].name, res[ci].cpu_p50,
			       res[ci].cpu_mean, res[ci].cpu_first, res[ci].cpu_last, res[ci].cpu_slope);
		printf("(first/last 10%%: mean of the first and last tenth of the timed commits; slope/1k: "
		       "least-squares growth in ms per 1000 commits)\n");
		printf("afterwards, SELECT count(*), sum(v), max(s) FROM lake.main.t (median of %d after a warm-up):\n",
		       SCAN_REPS);
		for (size_t ci = 0; ci < ncat; ci++)
			if (chosen(ci))
				printf("%-8s %8.2f ms   (%lld data files)\n", catalogs[ci].name, res[ci].scan_ms, res[ci].files);
	}

	if (rc == 0)
		print_load("at end");
	planar_conn_free(conn);
	planar_db_free(db);
	remove_temp_dir(dir.ptr);
	sb_free(&dir);
	sb_free(&extra);
	return rc == 0 ? 0 : 1;
}
