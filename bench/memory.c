/*
 * memory.c -- memory benchmark: peak RSS of reading a large `SELECT *` of a lake table.
 *
 * What it measures: the peak resident set size of a process that reads every value of
 * `SELECT * FROM lake.t` (N rows x 4 columns: BIGINT, INTEGER, DOUBLE, VARCHAR), three ways:
 *   planar_stream  this program's child: the Planar C API, a streaming result
 *                  (planar_conn_query_stream + planar_result_next_chunk + typed accessors);
 *   planar_csv     the `planar` shell in csv mode, its output sent to /dev/null;
 *   duckdb_stream  this program's child: DuckDB's own C API reading the same Parquet files
 *                  (read_parquet over the table's files, duckdb_pending_prepared_streaming +
 *                  duckdb_fetch_chunk), the reference.
 * Every side runs with SET memory_limit = '--memory-limit' (MB). Each measurement is its own
 * process (fork + exec); its peak RSS comes from wait4(). The lake is filled once, by this
 * process, before any measurement. The two C API children print the row count and checksums of
 * what they read, which must agree. Reported: per side the median peak RSS and wall time over
 * --reps runs, the ratio to duckdb_stream, and the target (<= 300 MB peak RSS for the Planar
 * sides). It only reports: the exit status is non-zero only when something fails.
 *
 * Usage: memory --shell PATH/TO/planar [--rows N] [--reps N] [--memory-limit MB]
 * (bench/memory.sh builds it and passes the shell). Internal: memory --child planar|duckdb DIR MB
 */
#define _GNU_SOURCE

#include <duckdb.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "planar/planar.h"
#include "util.h"

#define DEFAULT_ROWS 20000000LL
#define DEFAULT_REPS 3
#define DEFAULT_LIMIT_MB 200LL
#define TARGET_MB 300.0

/* What a reader saw: equal on both C API sides. */
typedef struct checksum {
	uint64_t rows;
	int64_t sum_id, sum_k;
	double sum_v;
	uint64_t text_bytes;
} checksum;

static void print_checksum(const checksum *c)
{
	printf("rows %" PRIu64 " sum_id %" PRId64 " sum_k %" PRId64 " sum_v %.17g text_bytes %" PRIu64 "\n", c->rows,
	       c->sum_id, c->sum_k, c->sum_v, c->text_bytes);
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	strbuf b = {0};
	char buf[4096];
	size_t n;
	if (!f)
		return NULL;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		sb_putn(&b, buf, n);
	fclose(f);
	sb_puts(&b, "");
	return b.ptr;
}

/* ---- the children ----------------------------------------------------------------------------- */

static int child_planar(const char *dir, const char *limit_mb)
{
	planar_db *db = NULL;
	planar_conn *conn = NULL;
	strbuf q = {0};
	checksum c = {0};
	int rc = open_planar(&db, &conn);
	if (rc == 0) {
		sb_printf(&q, "SET memory_limit = '%sMB'", limit_mb);
		rc = run(conn, "SET memory_limit", q.ptr, NULL);
	}
	if (rc == 0) {
		q.len = 0;
		sb_printf(&q, "ATTACH 'ducklake:sqlite:%s/meta.sqlite' AS lake (DATA_PATH '%s/data/')", dir, dir);
		rc = run(conn, "ATTACH", q.ptr, NULL);
	}
	planar_result *res = NULL;
	if (rc == 0 && (rc = planar_conn_query_stream(conn, "SELECT * FROM lake.t", &res)) != 0)
		fprintf(stderr, "%s: SELECT failed (%d): %s\n", bench_prog, rc, planar_conn_errmsg(conn));
	for (size_t n; rc == 0 && (rc = planar_result_next_chunk(res, &n)) == 0 && n > 0;) {
		for (size_t r = 0; rc == 0 && r < n; r++) {
			int64_t id, k;
			double v;
			const char *s;
			size_t len;
			rc = planar_result_get_int64(res, 0, r, &id) || planar_result_get_int64(res, 1, r, &k) ||
			     planar_result_get_double(res, 2, r, &v) || planar_result_get_text(res, 3, r, &s, &len);
			c.sum_id += id;
			c.sum_k += k;
			c.sum_v += v;
			c.text_bytes += len;
		}
		c.rows += n;
	}
	if (rc && res)
		fprintf(stderr, "%s: reading the result failed: %s\n", bench_prog, planar_result_errmsg(res));
	if (rc == 0)
		print_checksum(&c);
	planar_result_free(res);
	sb_free(&q);
	planar_conn_free(conn);
	planar_db_free(db);
	return rc ? 1 : 0;
}

static int duck_fail(const char *what, const char *msg)
{
	fprintf(stderr, "%s: duckdb: %s failed: %s\n", bench_prog, what, msg ? msg : "");
	return 1;
}

static int child_duckdb(const char *dir, const char *limit_mb)
{
	duckdb_database db = NULL;
	duckdb_connection con = NULL;
	duckdb_result res;
	strbuf q = {0};
	checksum c = {0};
	char path[4096];
	snprintf(path, sizeof path, "%s/src.txt", dir);
	char *src = read_file(path);
	if (!src)
		return duck_fail("reading src.txt", strerror(errno));
	if (duckdb_open(NULL, &db) == DuckDBError || duckdb_connect(db, &con) == DuckDBError)
		return duck_fail("open", "");
	sb_printf(&q, "SET memory_limit = '%sMB'", limit_mb);
	if (duckdb_query(con, q.ptr, &res) == DuckDBError)
		return duck_fail("SET memory_limit", duckdb_result_error(&res));
	duckdb_destroy_result(&res);
	q.len = 0;
	sb_printf(&q, "SELECT * FROM %s", src);
	duckdb_prepared_statement prep = NULL;
	duckdb_pending_result pending = NULL;
	if (duckdb_prepare(con, q.ptr, &prep) == DuckDBError)
		return duck_fail("prepare", duckdb_prepare_error(prep));
	if (duckdb_pending_prepared_streaming(prep, &pending) == DuckDBError)
		return duck_fail("pending", duckdb_pending_error(pending));
	if (duckdb_execute_pending(pending, &res) == DuckDBError)
		return duck_fail("execute", duckdb_result_error(&res));
	duckdb_destroy_pending(&pending);
	for (duckdb_data_chunk chunk; (chunk = duckdb_fetch_chunk(res)) != NULL; duckdb_destroy_data_chunk(&chunk)) {
		idx_t n = duckdb_data_chunk_get_size(chunk);
		int64_t *id = duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk, 0));
		int32_t *k = duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk, 1));
		double *v = duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk, 2));
		duckdb_string_t *s = duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk, 3));
		for (idx_t r = 0; r < n; r++) {
			c.sum_id += id[r];
			c.sum_k += k[r];
			c.sum_v += v[r];
			c.text_bytes += duckdb_string_t_length(s[r]);
		}
		c.rows += n;
	}
	const char *err = duckdb_result_error(&res);
	int rc = err && *err ? duck_fail("fetch", err) : 0;
	if (rc == 0)
		print_checksum(&c);
	duckdb_destroy_result(&res);
	duckdb_destroy_prepare(&prep);
	duckdb_disconnect(&con);
	duckdb_close(&db);
	free(src);
	sb_free(&q);
	return rc;
}

/* ---- the parent ------------------------------------------------------------------------------- */

/* Runs argv with stdout to out_path (or /dev/null), waits; *rss_kb and *ms of the child. */
static int measure_child(char *const *argv, const char *out_path, long *rss_kb, double *ms)
{
	double t0 = now_ms();
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "%s: fork: %s\n", bench_prog, strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int fd = open(out_path ? out_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || dup2(fd, 1) < 0)
			_exit(127);
		close(fd);
		execv(argv[0], argv);
		fprintf(stderr, "%s: cannot run %s: %s\n", bench_prog, argv[0], strerror(errno));
		_exit(127);
	}
	int status = 0;
	struct rusage ru;
	if (wait4(pid, &status, 0, &ru) < 0) {
		fprintf(stderr, "%s: wait4: %s\n", bench_prog, strerror(errno));
		return -1;
	}
	*ms = now_ms() - t0;
	*rss_kb = ru.ru_maxrss;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "%s: %s exited with status %d\n", bench_prog, argv[1] ? argv[1] : argv[0],
			WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return -1;
	}
	return 0;
}

static int setup(const char *dir, long long rows)
{
	planar_db *db = NULL;
	planar_conn *conn = NULL;
	strbuf q = {0}, src = {0};
	uint64_t nfiles = 0;
	int rc = open_planar(&db, &conn);
	if (rc == 0)
		rc = print_header(conn, "");
	if (rc == 0) {
		sb_printf(&q, "ATTACH 'ducklake:sqlite:%s/meta.sqlite' AS lake (DATA_PATH '%s/data/')", dir, dir);
		rc = run(conn, "ATTACH", q.ptr, NULL);
	}
	if (rc == 0)
		rc = run(conn, "CREATE TABLE", "CREATE TABLE lake.t (id BIGINT, k INTEGER, v DOUBLE, s VARCHAR)", NULL);
	if (rc == 0) {
		q.len = 0;
		sb_printf(&q,
			  "INSERT INTO lake.t SELECT range, CAST(range %% 1000 AS INTEGER), (range %% 10007) * 0.25, "
			  "'name ' || (range %% 50000) FROM range(%lld)",
			  rows);
		fprintf(stderr, "memory: inserting %lld rows...\n", rows);
		double t0 = now_ms();
		rc = run(conn, "INSERT", q.ptr, NULL);
		printf("setup: %lld rows inserted in %.1f s\n", rows, (now_ms() - t0) / 1000);
	}
	if (rc == 0) {
		q.len = 0;
		sb_printf(&q, "SELECT file FROM glob('%s/data/**/*.parquet') ORDER BY file", dir);
		rc = parquet_src_from(conn, "listing the data files", q.ptr, &src, &nfiles);
	}
	if (rc == 0) {
		char path[4096];
		snprintf(path, sizeof path, "%s/src.txt", dir);
		FILE *f = fopen(path, "w");
		rc = !f || fputs(src.ptr, f) < 0;
		if (f && fclose(f) != 0)
			rc = -1;
		printf("setup: %" PRIu64 " data files\n", nfiles);
	}
	sb_free(&q);
	sb_free(&src);
	planar_conn_free(conn);
	planar_db_free(db);
	return rc;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: %s --shell PATH/TO/planar [--rows N] [--reps N] [--memory-limit MB]\n"
		     "  --rows N          rows of the lake table (default %lld)\n"
		     "  --reps N          runs per side; medians are reported (default %d)\n"
		     "  --memory-limit MB SET memory_limit on every side (default %lld)\n",
		bench_prog, DEFAULT_ROWS, DEFAULT_REPS, DEFAULT_LIMIT_MB);
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	bench_prog = "memory";
	if (argc == 5 && strcmp(argv[1], "--child") == 0) {
		if (strcmp(argv[2], "planar") == 0)
			return child_planar(argv[3], argv[4]);
		if (strcmp(argv[2], "duckdb") == 0)
			return child_duckdb(argv[3], argv[4]);
		return 2;
	}
	const char *shell = NULL;
	char **rest = calloc((size_t)argc + 1, sizeof(char *));
	int nrest = 0;
	if (!rest)
		die_oom();
	for (int i = 0; i < argc; i++) {
		if (i > 0 && strcmp(argv[i], "--shell") == 0 && i + 1 < argc)
			shell = argv[++i];
		else
			rest[nrest++] = argv[i];
	}
	long long rows = DEFAULT_ROWS, reps = DEFAULT_REPS, limit = DEFAULT_LIMIT_MB;
	const bench_option opts[] = {
		{"--rows", 1, 2000000000LL, &rows}, {"--reps", 1, 100, &reps}, {"--memory-limit", 16, 1000000, &limit}};
	int st = parse_options(nrest, rest, opts, sizeof opts / sizeof opts[0], usage);
	free(rest);
	if (st >= 0)
		return st;
	if (!shell) {
		fprintf(stderr, "%s: --shell PATH/TO/planar is required\n", bench_prog);
		usage(stderr);
		return 2;
	}
	strbuf dir = {0};
	if (make_temp_dir(&dir))
		return 1;
	int rc = setup(dir.ptr, rows);
	char self[4096], limit_s[32], out_path[4200], attach[8400], set_limit[64];
	ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
	if (len <= 0)
		rc = -1;
	else
		self[len] = '\0';
	snprintf(limit_s, sizeof limit_s, "%lld", limit);
	snprintf(set_limit, sizeof set_limit, "SET memory_limit = '%lldMB'", limit);
	snprintf(attach, sizeof attach, "ATTACH 'ducklake:sqlite:%s/meta.sqlite' AS lake (DATA_PATH '%s/data/')",
		 dir.ptr, dir.ptr);
	const char *names[3] = {"duckdb_stream", "planar_stream", "planar_csv"};
	char *const argvs[3][10] = {
		{self, "--child", "duckdb", dir.ptr, limit_s, NULL},
		{self, "--child", "planar", dir.ptr, limit_s, NULL},
		{(char *)shell, "-csv", "-c", set_limit, "-c", attach, "-c", "SELECT * FROM lake.t", NULL},
	};
	long *rss = calloc(3 * (size_t)reps, sizeof(long));
	double *ms = calloc(3 * (size_t)reps, sizeof(double));
	char *sums[2] = {NULL, NULL};
	if (!rss || !ms)
		die_oom();
	printf("%lld rows x 4 columns (BIGINT, INTEGER, DOUBLE, VARCHAR), memory_limit %lld MB, %lld reps\n", rows,
	       limit, reps);
	for (long long r = 0; rc == 0 && r < reps; r++) {
		for (int k = 0; rc == 0 && k < 3; k++) {
			int side = (int)((k + r) % 3); /* rotate which side goes first */
			snprintf(out_path, sizeof out_path, "%s/out_%d.txt", dir.ptr, side);
			rc = measure_child(argvs[side], side < 2 ? out_path : NULL, &rss[side * reps + r], &ms[side * reps + r]);
			if (rc == 0 && side < 2) {
				char *text = read_file(out_path);
				if (!text) {
					rc = -1;
				} else if (!sums[side]) {
					sums[side] = text;
				} else {
					rc = strcmp(text, sums[side]) ? -1 : 0;
					free(text);
				}
			}
			fprintf(stderr, "memory: rep %lld %s: %ld KB, %.1f s\n", r + 1, names[side], rss[side * reps + r],
				ms[side * reps + r] / 1000);
		}
	}
	if (rc == 0 && (!sums[0] || !sums[1] || strcmp(sums[0], sums[1]) != 0)) {
		fprintf(stderr, "%s: the two readers disagree:\n  duckdb: %s  planar: %s", bench_prog,
			sums[0] ? sums[0] : "-\n", sums[1] ? sums[1] : "-\n");
		rc = -1;
	}
	if (rc == 0) {
		printf("checksum (both C API readers): %s", sums[0]);
		printf("%-14s %14s %12s %16s %10s\n", "side", "peak RSS MB", "wall s", "RSS / duckdb", "target");
		double base = 0;
		for (int side = 0; side < 3; side++) {
			qsort(&rss[side * reps], (size_t)reps, sizeof(long), cmp_long);
			double mb = (double)rss[side * reps + reps / 2] / 1024.0;
			double sec = median(&ms[side * reps], (size_t)reps) / 1000;
			if (side == 0)
				base = mb;
			char target[32] = "(reference)";
			if (side > 0)
				snprintf(target, sizeof target, "<= %.0f MB %s", TARGET_MB, mb <= TARGET_MB ? "ok" : "MISSED");
			printf("%-14s %14.1f %12.2f %16.2f %s\n", names[side], mb, sec, mb / base, target);
		}
		printf("(medians over %lld runs; peak RSS of each process from wait4)\n", reps);
		print_load("at end");
	}
	free(sums[0]);
	free(sums[1]);
	free(rss);
	free(ms);
	remove_temp_dir(dir.ptr);
	sb_free(&dir);
	return rc ? 1 : 0;
}
