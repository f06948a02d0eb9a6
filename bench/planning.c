/*
 * planning.c -- planning cost versus the number of data files of a lake table.
 *
 * What it measures: how the time of a selective query grows with the number of Parquet files
 * the table has, next to DuckDB asking the same files directly. Planar prunes the table's files
 * with the catalog's min/max statistics before DuckDB plans the query, so a point query reads
 * one file whatever the table's size; DuckDB alone opens every file's footer to find out.
 *
 * Steps: a fresh lake in a temporary directory (--dir, default $TMPDIR else /tmp; catalog
 * SQLite, or PostgreSQL with --catalog postgres and a libpq connection string in $PLANAR_PG),
 * table t(id BIGINT, v BIGINT) with the lake options target_file_size = 1 byte and
 * parquet_row_group_size = 2048, so that one INSERT ... SELECT writes one file per 2048 rows.
 * The table is grown to each count of --files in turn (ascending), one INSERT per count;
 * file k holds 2048 rows of id k. At each count, timed (median of --reps, after one warm-up):
 *   explain    EXPLAIN SELECT count(*) FROM lake.t WHERE id = 42
 *   select     SELECT count(*), min(v) FROM lake.t WHERE id = 42   (must count 2048)
 *   duckdb     the same SELECT over read_parquet() of a glob of the table's directory on the same engine
 *   ratio      select / duckdb
 *   count      SELECT count(*) FROM lake.t   (no predicate: every file's footer)
 *   explain_ac / select_ac  the EXPLAIN / SELECT as the first statement of the session after
 *              another session (a second planar_db: its own engine and catalog model, as another
 *              process would be) committed a one-row INSERT: includes reloading the model and
 *              rebuilding the table's view
 *   refresh_ac `SELECT 42` as the first statement after another session committed a one-row
 *              INSERT: seeing the commit (model advance, view maintenance) without planning
 *   insert     a one-row INSERT by the session itself (write, commit, model and view refresh)
 *   attach     ATTACH of the lake by a new planar_db (loading the model at the latest snapshot;
 *              a table's files are read on first use)
 *   attach_q   the SELECT as that new engine's first statement after ATTACH: reads the table's
 *              files and the statistics of its filtered column
 * and the rate of growing the table (files/s). The timed INSERTs add one file each (5 * reps
 * per count, not counted in the files column). Each timing is the wall clock of one
 * planar_conn_query() call, result materialized.
 *
 * Uses only the public API (planar/planar.h).
 * Usage: planning [--files "1000 10000 100000"] [--reps N] [--dir DIR] [--catalog sqlite|postgres]
 */
#define _XOPEN_SOURCE 700

#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "planar/planar.h"

#define MAX_COUNTS 16

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("planning: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(double), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	return remove(path);
}

/* Runs sql; dies with the message on failure. Returns the elapsed ms; *first gets row 0, col 0. */
static double run(planar_conn *c, const char *sql, char **first)
{
	planar_result *res = NULL;
	double t0 = now_ms();
	int rc = planar_conn_query(c, sql, &res);
	double t = now_ms() - t0;
	if (rc) {
		fprintf(stderr, "planning: query failed: %.200s%s\n  %s\n", sql, strlen(sql) > 200 ? "..." : "",
			planar_conn_errmsg(c));
		exit(1);
	}
	if (first) {
		*first = NULL;
		if (res && planar_result_row_count(res) > 0 && planar_result_column_count(res) > 0)
			*first = planar_result_value_string(res, 0, 0);
	}
	planar_result_free(res);
	return t;
}

typedef struct lake_session {
	planar_db *db;
	planar_conn *conn;
} lake_session;

static char attach_sql[16384];

static double open_session(lake_session *s)
{
	char *msg = NULL;
	if (planar_db_open(&s->db, NULL, &msg) || planar_conn_open(&s->conn, s->db, &msg))
		die("cannot open planar: %s", msg ? msg : "?");
	double t = run(s->conn, attach_sql, NULL);
	run(s->conn, "USE lake", NULL);
	return t;
}

static void close_session(lake_session *s)
{
	planar_conn_free(s->conn);
	planar_db_free(s->db);
	s->conn = NULL;
	s->db = NULL;
}

static long long count_files(planar_conn *c)
{
	char *v = NULL;
	run(c, "SELECT count(*) FROM ducklake_list_files('lake', 't')", &v);
	long long n = v ? atoll(v) : -1;
	planar_free(v);
	return n;
}

/* Grows t from `have` to `want` files in one INSERT: with target_file_size 1 byte and
 * parquet_row_group_size 2048, every 2048-row chunk becomes a file of its own, holding one id
 * (id = row / 2048), so each file's statistics (min = max = id) single it out. */
static void grow(planar_conn *c, long long have, long long want)
{
	char sql[256];
	snprintf(sql, sizeof(sql), "INSERT INTO t SELECT i // 2048, i // 2048 * 10 FROM range(%lld, %lld) r(i)",
		 have * 2048, want * 2048);
	run(c, sql, NULL);
}

int main(int argc, char **argv)
{
	long long counts[MAX_COUNTS] = {1000, 10000, 100000};
	size_t ncounts = 3;
	long long reps = 5;
	const char *base = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	const char *catalog = "sqlite";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			die("option %s needs a value", a);
		if (strcmp(a, "--files") == 0) {
			ncounts = 0;
			char *copy = strdup(v), *save = NULL;
			for (char *tok = strtok_r(copy, " ,", &save); tok && ncounts < MAX_COUNTS;
			     tok = strtok_r(NULL, " ,", &save))
				counts[ncounts++] = atoll(tok);
			free(copy);
		} else if (strcmp(a, "--reps") == 0) {
			reps = atoll(v);
		} else if (strcmp(a, "--dir") == 0) {
			base = v;
		} else if (strcmp(a, "--catalog") == 0) {
			catalog = v;
		} else {
			die("unknown option %s (--files, --reps, --dir, --catalog)", a);
		}
		i++;
	}
	if (ncounts == 0 || reps < 1)
		die("bad options");
	for (size_t i = 0; i < ncounts; i++)
		if (counts[i] < 43 || (i > 0 && counts[i] <= counts[i - 1] + 5 * reps))
			die("--files must be ascending counts of at least 43, more than 5 * --reps apart");

	char dir[2048];
	snprintf(dir, sizeof(dir), "%s/planar-planning-XXXXXX", base);
	if (!mkdtemp(dir))
		die("cannot create a directory under %s", base);
	if (strcmp(catalog, "sqlite") == 0) {
		snprintf(attach_sql, sizeof(attach_sql), "ATTACH 'ducklake:sqlite:%s/meta.sqlite' AS lake (DATA_PATH '%s/data/')",
			 dir, dir);
	} else if (strcmp(catalog, "postgres") == 0) {
		const char *pg = getenv("PLANAR_PG");
		if (!pg)
			die("--catalog postgres needs PLANAR_PG (a libpq connection string)");
		snprintf(attach_sql, sizeof(attach_sql),
			 "ATTACH 'ducklake:postgres:%s metadata_schema=planning_%ld' AS lake (DATA_PATH '%s/data/')", pg,
			 (long)getpid(), dir);
	} else {
		die("--catalog sqlite|postgres");
	}

	lake_session s = {0}, other = {0};
	open_session(&s);
	run(s.conn, "CREATE TABLE t(id BIGINT, v BIGINT)", NULL);
	run(s.conn, "CALL lake.set_option('target_file_size', '1B')", NULL);
	run(s.conn, "CALL lake.set_option('parquet_row_group_size', '2048')", NULL);
	open_session(&other);

	printf("planning time vs data files: catalog %s, data in %s, median of %lld (ms)\n", catalog, base, reps);
	printf("%8s %9s %9s %9s %9s %9s %9s %11s %11s %10s %9s %9s %9s\n", "files", "grow f/s", "explain", "select",
	       "duckdb", "ratio", "count", "explain_ac", "select_ac", "refresh_ac", "insert", "attach", "attach_q");
	fflush(stdout);
	long long have = 0;
	double first[10] = {0};
	double *t = calloc((size_t)reps, sizeof(double));
	if (!t)
		die("out of memory");
	for (size_t k = 0; k < ncounts; k++) {
		double g0 = now_ms();
		grow(s.conn, have, counts[k]);
		double grow_ms = now_ms() - g0;
		double rate = (double)(counts[k] - have) * 1000.0 / grow_ms;
		have = counts[k];
		/* DuckDB's writer threads may join two chunks in one file now and then */
		long long files = count_files(s.conn);
		if (files < have * 9 / 10)
			die("expected about %lld files, the catalog lists %lld", have, files);

		const char *explain = "EXPLAIN SELECT count(*) FROM lake.t WHERE id = 42";
		const char *select = "SELECT count(*), min(v) FROM lake.t WHERE id = 42";
		const char *count = "SELECT count(*) FROM lake.t";
		char direct[2300];
		snprintf(direct, sizeof(direct), "SELECT count(*), min(v) FROM read_parquet('%s/data/main/t/*.parquet') "
			 "WHERE id = 42", dir);
		double med[10] = {0};
		char *v = NULL;
		run(s.conn, explain, NULL);
		for (long long r = 0; r < reps; r++)
			t[r] = run(s.conn, explain, NULL);
		med[0] = median(t, (size_t)reps);
		run(s.conn, select, &v);
		if (!v || strcmp(v, "2048") != 0)
			die("WHERE id = 42 counted %s rows, not 2048", v ? v : "no");
		planar_free(v);
		for (long long r = 0; r < reps; r++)
			t[r] = run(s.conn, select, NULL);
		med[1] = median(t, (size_t)reps);
		/* the same question asked of the table's Parquet files directly (every live file: no
		 * deletes or rewrites in this table) */
		run(s.conn, direct, NULL);
		for (long long r = 0; r < reps; r++)
			t[r] = run(s.conn, direct, NULL);
		med[6] = median(t, (size_t)reps);
		run(s.conn, count, NULL);
		for (long long r = 0; r < reps; r++)
			t[r] = run(s.conn, count, NULL);
		med[2] = median(t, (size_t)reps);
		/* another engine commits one row (one more file); then this session's first statement,
		 * an EXPLAIN (reload + planning) or the SELECT (reload + planning + scan) */
		for (int q = 0; q < 2; q++) {
			for (long long r = 0; r < reps; r++) {
				char ins[128];
				snprintf(ins, sizeof(ins), "INSERT INTO t VALUES (%lld, 0)", 1000000000LL + have);
				run(other.conn, ins, NULL);
				have++;
				t[r] = run(s.conn, q == 0 ? explain : select, NULL);
			}
			med[3 + q] = median(t, (size_t)reps);
		}
		/* another engine commits one row; this session's next statement touches no table: what
		 * seeing the commit costs (model advance, view maintenance) */
		for (long long r = 0; r < reps; r++) {
			char ins[128];
			snprintf(ins, sizeof(ins), "INSERT INTO t VALUES (%lld, 0)", 1500000000LL + have);
			run(other.conn, ins, NULL);
			have++;
			t[r] = run(s.conn, "SELECT 42", NULL);
		}
		med[8] = median(t, (size_t)reps);
		/* one single-row INSERT by this session: a commit on a table of this many files */
		for (long long r = 0; r < reps; r++) {
			char ins[128];
			snprintf(ins, sizeof(ins), "INSERT INTO t VALUES (%lld, 0)", 2000000000LL + have);
			t[r] = run(s.conn, ins, NULL);
			have++;
		}
		med[7] = median(t, (size_t)reps);
		/* ATTACH from a new engine: loading the model at the latest snapshot; then its first
		 * SELECT, which reads the table's files and statistics */
		double *tq = calloc((size_t)reps, sizeof(double));
		if (!tq)
			die("out of memory");
		for (long long r = 0; r < reps; r++) {
			lake_session fresh = {0};
			t[r] = open_session(&fresh);
			tq[r] = run(fresh.conn, select, NULL);
			close_session(&fresh);
		}
		med[5] = median(t, (size_t)reps);
		med[9] = median(tq, (size_t)reps);
		free(tq);
		printf("%8lld %9.0f %9.2f %9.2f %9.2f %9.3f %9.2f %11.2f %11.2f %10.2f %9.2f %9.2f %9.2f\n", files, rate,
		       med[0], med[1], med[6], med[1] / med[6], med[2], med[3], med[4], med[8], med[7], med[5], med[9]);
		fflush(stdout);
		if (k == 0)
			memcpy(first, med, sizeof(first));
		else
			printf("%8s vs the first row: refresh_ac %.2fx, insert %.2fx, attach %.2fx (targets: <= 20 ms and "
			       "<= 2x); select_ac - select %.2f ms (was %.2f)\n", "", med[8] / first[8], med[7] / first[7],
			       med[5] / first[5], med[4] - med[1], first[4] - first[1]);
	}
	free(t);
	close_session(&other);
	close_session(&s);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
