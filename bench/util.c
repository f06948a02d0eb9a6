/*
 * util.c -- helpers shared by the benchmark programs (see util.h).
 */
#define _XOPEN_SOURCE 700

#include "util.h"

#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *bench_prog = "bench";

const bench_query bench_queries[] = {
	{"count_star", "SELECT count(*) FROM {src}"},
	{"sum_avg_v", "SELECT sum(v), avg(v) FROM {src}"},
	{"group_by_k", "SELECT k, count(*), avg(v) FROM {src} GROUP BY k ORDER BY k"},
	{"filter_k_eq_7", "SELECT count(*), sum(v), max(s) FROM {src} WHERE k = 7"},
	{"id_range_1000", "SELECT count(*), sum(v) FROM {src} WHERE id >= {mid} AND id < {mid} + 1000"},
	{"min_max_ts", "SELECT min(ts), max(ts) FROM {src}"},
	{"count_distinct_s", "SELECT count(DISTINCT s) FROM {src}"},
};
const size_t bench_nqueries = sizeof(bench_queries) / sizeof(bench_queries[0]);

/* ---- text ----------------------------------------------------------------------------------- */

void die_oom(void)
{
	fprintf(stderr, "%s: out of memory\n", bench_prog);
	exit(2);
}

void sb_putn(strbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->ptr, cap);
		if (!p)
			die_oom();
		b->ptr = p;
		b->cap = cap;
	}
	memcpy(b->ptr + b->len, s, n);
	b->len += n;
	b->ptr[b->len] = '\0';
}

void sb_puts(strbuf *b, const char *s)
{
	sb_putn(b, s, strlen(s));
}

void sb_printf(strbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		fprintf(stderr, "%s: bad format\n", bench_prog);
		exit(2);
	}
	char *tmp = malloc((size_t)n + 1);
	if (!tmp)
		die_oom();
	va_start(ap, fmt);
	vsnprintf(tmp, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb_putn(b, tmp, (size_t)n);
	free(tmp);
}

void sb_put_literal(strbuf *b, const char *s)
{
	sb_putn(b, "'", 1);
	for (const char *p = s; *p; p++) {
		sb_putn(b, p, 1);
		if (*p == '\'')
			sb_putn(b, p, 1);
	}
	sb_putn(b, "'", 1);
}

void sb_free(strbuf *b)
{
	free(b->ptr);
	*b = (strbuf){0};
}

char *xstrdup(const char *s)
{
	char *d = malloc(strlen(s) + 1);
	if (!d)
		die_oom();
	strcpy(d, s);
	return d;
}

char *render(const char *tmpl, const char *src, long long mid)
{
	strbuf b = {0};
	sb_puts(&b, "");
	for (const char *p = tmpl; *p;) {
		if (strncmp(p, "{src}", 5) == 0) {
			sb_puts(&b, src);
			p += 5;
		} else if (strncmp(p, "{mid}", 5) == 0) {
			sb_printf(&b, "%lld", mid);
			p += 5;
		} else {
			sb_putn(&b, p++, 1);
		}
	}
	return b.ptr;
}

/* ---- numbers -------------------------------------------------------------------------------- */

double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

void sort_doubles(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
}

double median(double *v, size_t n)
{
	sort_doubles(v, n);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double percentile_sorted(const double *v, size_t n, double p)
{
	size_t rank = (size_t)ceil(p / 100.0 * (double)n);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1];
}

int parse_count(const char *opt, const char *arg, long long min, long long max, long long *out)
{
	char *end = NULL;
	errno = 0;
	long long v = arg ? strtoll(arg, &end, 10) : 0;
	if (!arg || errno || end == arg || *end || v < min || v > max) {
		fprintf(stderr, "%s: %s needs an integer from %lld to %lld\n", bench_prog, opt, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

int parse_options(int argc, char **argv, const bench_option *opts, size_t nopts, void (*usage)(FILE *))
{
	for (int i = 1; i < argc; i++) {
		const bench_option *o = NULL;
		for (size_t k = 0; !o && k < nopts; k++)
			if (strcmp(argv[i], opts[k].name) == 0)
				o = &opts[k];
		if (o) {
			if (parse_count(o->name, i + 1 < argc ? argv[++i] : NULL, o->min, o->max, o->value))
				return 2;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "%s: unknown argument '%s'\n", bench_prog, argv[i]);
			usage(stderr);
			return 2;
		}
	}
	return -1;
}

/* ---- temporary directory -------------------------------------------------------------------- */

int make_temp_dir(strbuf *dir)
{
	const char *tmp = getenv("TMPDIR");
	tmp = tmp && *tmp ? tmp : "/tmp";
	sb_printf(dir, "%s/planar-bench-XXXXXX", tmp);
	if (!mkdtemp(dir->ptr)) {
		fprintf(stderr, "%s: cannot create a temporary directory in %s: %s\n", bench_prog, tmp,
			strerror(errno));
		return -1;
	}
	if (strchr(dir->ptr, '\'')) {
		fprintf(stderr, "%s: the temporary directory %s contains a quote\n", bench_prog, dir->ptr);
		rmdir(dir->ptr);
		return -1;
	}
	return 0;
}

static int rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	if (remove(path) != 0)
		fprintf(stderr, "%s: cannot remove %s: %s\n", bench_prog, path, strerror(errno));
	return 0;
}

void remove_temp_dir(const char *dir)
{
	if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "%s: cannot clean %s: %s\n", bench_prog, dir, strerror(errno));
}

/* ---- running SQL ---------------------------------------------------------------------------- */

int open_planar(planar_db **db, planar_conn **conn)
{
	char *err = NULL;
	int rc = planar_db_open(db, NULL, &err);
	if (rc == 0)
		rc = planar_conn_open(conn, *db, &err);
	if (rc) {
		fprintf(stderr, "%s: cannot open Planar (%d): %s\n", bench_prog, rc, err ? err : "");
		planar_free(err);
	}
	return rc;
}

void print_load(const char *when)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double l1 = 0;
	if (!f)
		return;
	if (fscanf(f, "%lf", &l1) == 1)
		printf("load average (1 min) %s: %.2f on %ld CPUs\n", when, l1, sysconf(_SC_NPROCESSORS_ONLN));
	fclose(f);
}

int print_header(planar_conn *conn, const char *extra)
{
	char *duck = scalar(conn, "reading the DuckDB version", "SELECT version()");
	char *threads = duck ? scalar(conn, "reading threads", "SELECT current_setting('threads')") : NULL;
	int rc = duck && threads ? 0 : -1;
	if (rc == 0)
		printf("planar %s, duckdb %s, threads %s%s\n", planar_version(), duck, threads, extra);
	if (rc == 0)
		print_load("at start");
	free(duck);
	free(threads);
	return rc;
}

int run(planar_conn *conn, const char *what, const char *sql, planar_result **out)
{
	int rc = planar_conn_query(conn, sql, out);
	if (rc != 0)
		fprintf(stderr, "%s: %s failed (%d): %s\n", bench_prog, what, rc, planar_conn_errmsg(conn));
	return rc;
}

char *value(const planar_result *res, size_t col, uint64_t row)
{
	if (planar_result_is_null(res, col, row))
		return xstrdup("NULL");
	char *v = planar_result_value_string(res, col, row);
	if (!v)
		die_oom();
	char *s = xstrdup(v);
	planar_free(v);
	return s;
}

char *result_text(const planar_result *res)
{
	strbuf b = {0};
	sb_puts(&b, "");
	size_t ncols = planar_result_column_count(res);
	for (uint64_t r = 0; r < planar_result_row_count(res); r++) {
		for (size_t c = 0; c < ncols; c++) {
			char *v = value(res, c, r);
			if (c)
				sb_putn(&b, "|", 1);
			sb_puts(&b, v);
			free(v);
		}
		sb_putn(&b, "\n", 1);
	}
	return b.ptr;
}

char *scalar(planar_conn *conn, const char *what, const char *sql)
{
	planar_result *res = NULL;
	if (run(conn, what, sql, &res) != 0)
		return NULL;
	char *v = NULL;
	if (planar_result_row_count(res) != 1 || planar_result_column_count(res) < 1)
		fprintf(stderr, "%s: %s: expected one row, got %llu\n", bench_prog, what,
			(unsigned long long)planar_result_row_count(res));
	else
		v = value(res, 0, 0);
	planar_result_free(res);
	return v;
}

int scalar_ll(planar_conn *conn, const char *what, const char *sql, long long *out)
{
	char *v = scalar(conn, what, sql);
	if (!v)
		return -1;
	char *end = NULL;
	errno = 0;
	*out = strtoll(v, &end, 10);
	int rc = 0;
	if (errno || end == v || *end) {
		fprintf(stderr, "%s: %s: expected an integer, got '%s'\n", bench_prog, what, v);
		rc = -1;
	}
	free(v);
	return rc;
}

int timed(planar_conn *conn, const char *what, const char *sql, double *ms, char **text_out)
{
	planar_result *res = NULL;
	double t0 = now_ms();
	int rc = run(conn, what, sql, &res);
	*ms = now_ms() - t0;
	if (rc == 0 && text_out)
		*text_out = result_text(res);
	planar_result_free(res);
	return rc;
}

int parquet_src_from(planar_conn *conn, const char *what, const char *list_sql, strbuf *src, uint64_t *nfiles)
{
	planar_result *res = NULL;
	int rc = run(conn, what, list_sql, &res);
	if (rc)
		return rc;
	*nfiles = planar_result_row_count(res);
	sb_puts(src, "read_parquet([");
	for (uint64_t r = 0; r < *nfiles; r++) {
		char *f = value(res, 0, r);
		if (r)
			sb_puts(src, ", ");
		sb_put_literal(src, f);
		free(f);
	}
	sb_puts(src, "])");
	planar_result_free(res);
	if (*nfiles == 0) {
		fprintf(stderr, "%s: %s: no files\n", bench_prog, what);
		return -1;
	}
	return 0;
}

int measure(planar_conn *conn, const bench_query *q, long long mid, size_t nsides, const char *const *srcs,
	    const char *const *side_names, int reps, double *medians, char **texts)
{
	char **sql = calloc(nsides, sizeof(*sql));
	strbuf *what = calloc(nsides, sizeof(*what));
	double *times = calloc(nsides * (size_t)reps, sizeof(*times));
	int rc = 0;
	if (!sql || !what || !times)
		die_oom();
	for (size_t s = 0; s < nsides; s++) {
		sql[s] = render(q->sql, srcs[s], mid);
		sb_printf(&what[s], "%s on %s", q->name, side_names[s]);
		texts[s] = NULL;
	}
	/* Warm-up, one run per side; its results are the caller's to check. */
	for (size_t s = 0; rc == 0 && s < nsides; s++) {
		double ms;
		rc = timed(conn, what[s].ptr, sql[s], &ms, &texts[s]);
	}
	/* Timed runs, rotating which side goes first. */
	for (int r = 0; rc == 0 && r < reps; r++)
		for (size_t i = 0; rc == 0 && i < nsides; i++) {
			size_t s = ((size_t)r + i) % nsides;
			rc = timed(conn, what[s].ptr, sql[s], &times[s * (size_t)reps + (size_t)r], NULL);
		}
	for (size_t s = 0; s < nsides; s++) {
		if (rc == 0)
			medians[s] = median(&times[s * (size_t)reps], (size_t)reps);
		free(sql[s]);
		sb_free(&what[s]);
	}
	free(sql);
	free(what);
	free(times);
	return rc;
}

int same_result(const char *query, const char *name_a, const char *a, const char *name_b, const char *b)
{
	if (strcmp(a, b) == 0)
		return 0;
	fprintf(stderr, "%s: %s: %s and %s disagree\n%s:\n%s%s:\n%s", bench_prog, query, name_a, name_b, name_a, a,
		name_b, b);
	return -1;
}
