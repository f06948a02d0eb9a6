/*
 * sessions.c -- several sessions of one planar_db at once.
 *
 * 1. Throughput: N threads, each with its own connection, run a point query in a loop for a fixed
 *    time: on a lake table (pruned to one file by the catalog's statistics), and on read_parquet()
 *    of the same files (DuckDB alone, the same engine). Queries per second summed over the threads,
 *    and the ratio to one thread (target: >= 1.6x with 8 sessions on 2 cores).
 * 2. Interference: the latency of `SELECT 1` in one session alone, while another session runs a
 *    long read of the lake, and while another session writes a large INSERT into the lake
 *    (target: a long statement delays SELECT 1 by < 10 ms).
 *
 * Options: --rows N (default 2000000), --files N (default 32), --seconds N per measurement
 * (default 3), --long-rows N rows of the long INSERT (default 20000000).
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"



typedef struct worker {
	planar_db *db;
	const char *src;
	long long rows;
	double until_ms;
	long long done;
	int rc;
	unsigned seed;
} worker;

static void *point_queries(void *p)
{
	worker *w = p;
	planar_conn *conn = NULL;
	if (planar_conn_open(&conn, w->db, NULL) != 0) {
		w->rc = 1;
		return NULL;
	}
	char sql[4096];
	while (now_ms() < w->until_ms) {
		long long id = (long long)(rand_r(&w->seed) % (unsigned)w->rows);
		snprintf(sql, sizeof(sql), "SELECT v FROM %s WHERE id = %lld", w->src, id);
		planar_result *r = NULL;
		if (planar_conn_query(conn, sql, &r) != 0 || planar_result_row_count(r) != 1) {
			fprintf(stderr, "%s: point query failed: %s\n", bench_prog, planar_conn_errmsg(conn));
			planar_result_free(r);
			w->rc = 1;
			break;
		}
		planar_result_free(r);
		w->done++;
	}
	planar_conn_free(conn);
	return NULL;
}

static int throughput(planar_db *db, const char *src, long long rows, int threads, double seconds, double *qps)
{
	worker w[8];
	pthread_t th[8];
	double start = now_ms(), until = start + seconds * 1000.0;
	for (int i = 0; i < threads; i++) {
		w[i] = (worker){db, src, rows, until, 0, 0, (unsigned)(i * 7919 + 1)};
		if (pthread_create(&th[i], NULL, point_queries, &w[i]) != 0)
			return 1;
	}
	long long total = 0;
	int rc = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(th[i], NULL);
		total += w[i].done;
		rc |= w[i].rc;
	}
	*qps = (double)total / ((now_ms() - start) / 1000.0);
	return rc;
}

typedef struct long_stmt {
	planar_db *db;
	const char *sql;
	atomic_int started, finished;
	int rc;
} long_stmt;

static void *run_long(void *p)
{
	long_stmt *l = p;
	planar_conn *conn = NULL;
	if (planar_conn_open(&conn, l->db, NULL) != 0) {
		l->rc = 1;
		atomic_store(&l->finished, 1);
		return NULL;
	}
	atomic_store(&l->started, 1);
	if (planar_conn_query(conn, l->sql, NULL) != 0) {
		fprintf(stderr, "%s: long statement failed: %s\n", bench_prog, planar_conn_errmsg(conn));
		l->rc = 1;
	}
	atomic_store(&l->finished, 1);
	planar_conn_free(conn);
	return NULL;
}

/* SELECT 1 latencies (ms) on conn while `background` runs (NULL: alone), for up to `seconds`. */
static int select1_latency(planar_db *db, planar_conn *conn, const char *background, double seconds,
			   double *p50, double *p99, double *max, size_t *n_out)
{
	static double lat[200000];
	size_t n = 0;
	long_stmt l = {db, background, 0, 0, 0};
	pthread_t th;
	if (background) {
		if (pthread_create(&th, NULL, run_long, &l) != 0)
			return 1;
		while (!atomic_load(&l.started))
			;
		double settle = now_ms() + 200; /* let it get going */
		while (now_ms() < settle)
			;
	}
	double until = now_ms() + seconds * 1000.0;
	while (now_ms() < until && n < sizeof(lat) / sizeof(lat[0]) && !(background && atomic_load(&l.finished))) {
		double t0 = now_ms();
		if (planar_conn_query(conn, "SELECT 1", NULL) != 0)
			return 1;
		lat[n++] = now_ms() - t0;
	}
	bool overlapped = !background || !atomic_load(&l.finished);
	if (background)
		pthread_join(th, NULL);
	if (l.rc)
		return 1;
	if (n == 0) {
		fprintf(stderr, "%s: the background statement ended before any SELECT 1 ran; make it longer\n", bench_prog);
		return 1;
	}
	sort_doubles(lat, n);
	*p50 = percentile_sorted(lat, n, 50);
	*p99 = percentile_sorted(lat, n, 99);
	*max = lat[n - 1];
	*n_out = n;
	if (!overlapped)
		fprintf(stderr, "%s: note: the background statement ended before the last SELECT 1\n", bench_prog);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bench_sessions [--rows N] [--files N] [--seconds N] [--long-rows N]\n");
}

int main(int argc, char **argv)
{
	bench_prog = "bench_sessions";
	long long rows = 2000000, files = 32, seconds = 3, long_rows = 20000000;
	const bench_option opts[] = {{"--rows", 1000, 1000000000, &rows},
				     {"--files", 8, 10000, &files},
				     {"--seconds", 1, 600, &seconds},
				     {"--long-rows", 1000, 2000000000, &long_rows}};
	int prc = parse_options(argc, argv, opts, sizeof(opts) / sizeof(opts[0]), usage);
	if (prc >= 0)
		return prc;
	strbuf dir = {0}, sql = {0}, src = {0};
	planar_db *db = NULL;
	planar_conn *conn = NULL;
	int rc = make_temp_dir(&dir) || open_planar(&db, &conn);
	if (rc == 0)
		rc = print_header(conn, "");
	sb_printf(&sql, "ATTACH 'ducklake:sqlite:%s/meta.sqlite' AS lake (DATA_PATH '%s/data/')", dir.ptr, dir.ptr);
	if (rc == 0)
		rc = run(conn, "attach", sql.ptr, NULL);
	/* files of rows/files rows each, ids ascending: a point query keeps one file after pruning */
	char opt[128];
	snprintf(opt, sizeof(opt), "CALL lake.set_option('parquet_row_group_size', %lld)", rows / files);
	if (rc == 0)
		rc = run(conn, "row group size", opt, NULL);
	snprintf(opt, sizeof(opt), "CALL lake.set_option('target_file_size', '%lldB')", rows / files * 8);
	if (rc == 0)
		rc = run(conn, "target file size", opt, NULL);
	if (rc == 0)
		rc = run(conn, "create", "CREATE TABLE lake.t(id BIGINT, v DOUBLE)", NULL);
	free(sql.ptr);
	sql = (strbuf){0};
	sb_printf(&sql, "INSERT INTO lake.t SELECT range, range * 0.5 FROM range(%lld)", rows);
	if (rc == 0)
		rc = run(conn, "fill", sql.ptr, NULL);
	uint64_t nfiles = 0;
	if (rc == 0)
		rc = parquet_src_from(conn, "files", "SELECT data_file FROM ducklake_list_files('lake', 't')", &src, &nfiles);
	if (rc == 0)
		printf("table: %lld rows in %llu files\n\n", rows, (unsigned long long)nfiles);

	static const int counts[] = {1, 2, 4, 8};
	double base[2] = {0, 0};
	const char *sides[2] = {"lake.t", src.ptr};
	printf("point queries per second, summed over sessions (%llds each; target at 8 sessions: >= 1.6x one)\n",
	       seconds);
	printf("%-9s %12s %8s %16s %8s\n", "sessions", "lake q/s", "x one", "read_parquet q/s", "x one");
	for (size_t c = 0; rc == 0 && c < sizeof(counts) / sizeof(counts[0]); c++) {
		double q[2];
		for (int s = 0; rc == 0 && s < 2; s++)
			rc = throughput(db, sides[s], rows, counts[c], (double)seconds, &q[s]);
		if (rc)
			break;
		if (c == 0)
			base[0] = q[0], base[1] = q[1];
		printf("%-9d %12.0f %8.2f %16.0f %8.2f\n", counts[c], q[0], q[0] / base[0], q[1], q[1] / base[1]);
	}

	printf("\nSELECT 1 in one session (ms; target: a long statement elsewhere adds < 10 ms)\n");
	printf("%-34s %8s %8s %8s %8s\n", "beside", "p50", "p99", "max", "n");
	char long_read[256], long_write[256];
	snprintf(long_read, sizeof(long_read), "SELECT sum(hash(a.v + b.range)) FROM lake.t a, range(1000) b");
	snprintf(long_write, sizeof(long_write), "INSERT INTO lake.t SELECT range + %lld, 1.0 FROM range(%lld)", rows,
		 long_rows);
	const struct {
		const char *name, *sql;
	} cases[] = {{"nothing", NULL}, {"a long read of the lake", long_read}, {"a long INSERT into the lake", long_write}};
	for (size_t k = 0; rc == 0 && k < sizeof(cases) / sizeof(cases[0]); k++) {
		double p50 = 0, p99 = 0, max = 0;
		size_t n = 0;
		rc = select1_latency(db, conn, cases[k].sql, (double)seconds * 3, &p50, &p99, &max, &n);
		if (rc == 0)
			printf("%-34s %8.3f %8.3f %8.3f %8zu\n", cases[k].name, p50, p99, max, n);
	}
	print_load("at end");
	planar_conn_free(conn);
	planar_db_free(db);
	if (dir.ptr)
		remove_temp_dir(dir.ptr);
	free(dir.ptr);
	free(sql.ptr);
	free(src.ptr);
	return rc ? 1 : 0;
}
