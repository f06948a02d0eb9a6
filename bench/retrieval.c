/*
 * retrieval.c -- quality and speed of search indexes (planar_search) on Debian's package
 * descriptions (bench/retrieval.sh makes the corpus: package, one-line summary, long
 * description).
 *
 * Quality: the long descriptions are indexed; each of --queries packages (a fixed sample) is
 * searched for by its summary, and its own description is the one relevant document. Reported
 * per ranking (bm25, vector with the built-in embedder, hybrid, and a DuckDB baseline: rows
 * whose description contains every word of the summary, by ILIKE, in table order): recall@10
 * (the relevant document is among the first 10) and MRR@10 (mean of 1/rank, 0 beyond 10), with
 * the median and p95 latency of one query.
 *
 * Speed: the descriptions repeated (each copy with its own ids and one extra word, in a fixed
 * order) up to --scale-docs documents; index build rate (documents per second of
 * create_search_index, wall and CPU), top-10 latency of bm25, hybrid and vector queries (wall
 * median and p95; the process's CPU time per query, median and p95; a digest of every hit, so
 * that two builds can be shown to rank alike), and the cost of an ingest of 1,000 rows: the
 * INSERT, then the first search after it (which brings the index up to date) minus a search
 * without changes, as a ratio to the INSERT, in wall and CPU time (median of --reps rounds).
 * --quality 0 skips the quality part (its ILIKE baseline takes seconds per query).
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

/* CPU time of the whole process (all threads), in ms: the machine may be shared, and wall
 * time then says more about the other processes than about this one. */
static double cpu_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static long long n_queries = 1000, scale_docs = 1000000, reps = 5, speed_queries = 200, do_quality = 1;
static const char *data_path;

static void usage(FILE *f)
{
	fprintf(f, "usage: bench_retrieval --data FILE.tsv [--queries N] [--scale-docs N] [--speed-queries N] "
		   "[--reps N] [--quality 0|1]\n");
}

typedef struct query {
	char *name, *summary;
} query;

/* The 1-based rank of want among the first column of a result (0: not there). */
static int rank_of(const planar_result *res, const char *want)
{
	for (uint64_t r = 0; r < planar_result_row_count(res) && r < 10; r++) {
		char *v = value(res, 0, r);
		int same = strcmp(v, want) == 0;
		free(v);
		if (same)
			return (int)r + 1;
	}
	return 0;
}

/* planar_search over table for text (a literal), as SQL. */
static char *search_sql(const char *table, const char *text, const char *mode, int top_k)
{
	strbuf b = {0};
	sb_printf(&b, "SELECT id, score FROM planar_search('lake', '%s', ", table);
	sb_put_literal(&b, text);
	sb_printf(&b, ", top_k => %d, mode => '%s')", top_k, mode);
	return b.ptr;
}

/* Rows whose description contains every word (letters and digits, 2 or more) of the text. */
static char *ilike_sql(const char *text)
{
	strbuf b = {0};
	sb_puts(&b, "SELECT name FROM lake.pkgs WHERE true");
	const char *p = text;
	int words = 0;
	while (*p) {
		while (*p && !isalnum((unsigned char)*p))
			p++;
		const char *s = p;
		while (*p && isalnum((unsigned char)*p))
			p++;
		if (p - s >= 2) {
			sb_printf(&b, " AND body ILIKE '%%%.*s%%'", (int)(p - s), s);
			words++;
		}
	}
	if (!words)
		sb_puts(&b, " AND false");
	sb_puts(&b, " LIMIT 10");
	return b.ptr;
}

static int quality(planar_conn *conn, query *qs, size_t nq)
{
	static const char *const modes[] = {"bm25", "vector", "hybrid", "ilike"};
	printf("\nquality: %zu queries (summary -> its own long description)\n", nq);
	printf("%-8s %10s %8s %10s %10s\n", "ranking", "recall@10", "MRR@10", "median ms", "p95 ms");
	double *ms = malloc(nq * sizeof(double));
	if (!ms)
		die_oom();
	for (size_t m = 0; m < 4; m++) {
		size_t hits = 0;
		double rr = 0;
		for (size_t i = 0; i < nq; i++) {
			char *sql = m < 3 ? search_sql("main.pkgs", qs[i].summary, modes[m], 10) : ilike_sql(qs[i].summary);
			planar_result *res = NULL;
			double t0 = now_ms();
			int rc = run(conn, modes[m], sql, &res);
			ms[i] = now_ms() - t0;
			free(sql);
			if (rc) {
				free(ms);
				return 1;
			}
			int r = rank_of(res, qs[i].name);
			planar_result_free(res);
			if (r) {
				hits++;
				rr += 1.0 / r;
			}
		}
		sort_doubles(ms, nq);
		printf("%-8s %10.3f %8.3f %10.2f %10.2f\n", modes[m], (double)hits / nq, rr / nq, median(ms, nq),
		       percentile_sorted(ms, nq, 95));
		fflush(stdout);
	}
	free(ms);
	return 0;
}

/* A digest of every hit (id and score, in order) of the timed searches of one mode: two builds
 * that rank alike print the same digest. */
static uint64_t digest;

static void digest_add(const planar_result *res)
{
	for (uint64_t r = 0; res && r < planar_result_row_count(res); r++)
		for (size_t c = 0; c < 2; c++) {
			char *v = value(res, c, r);
			for (const char *p = v; *p; p++)
				digest = (digest ^ (uint8_t)*p) * 1099511628211ULL;
			digest = (digest ^ '|') * 1099511628211ULL;
			free(v);
		}
}

static int timed_search(planar_conn *conn, const char *sql, double *ms, double *cpu)
{
	planar_result *res = NULL;
	double t0 = now_ms(), c0 = cpu_ms();
	int rc = run(conn, "search", sql, &res);
	*ms = now_ms() - t0;
	if (cpu) {
		*cpu = cpu_ms() - c0;
		digest_add(res);
	}
	planar_result_free(res);
	return rc;
}

static int speed(planar_conn *conn, query *qs, size_t nq)
{
	long long copies = (scale_docs + 64000 - 1) / 64000;
	strbuf b = {0};
	sb_printf(&b,
		  "CREATE TABLE lake.big AS SELECT c * 1000000 + row_number() OVER (PARTITION BY c ORDER BY name, body) AS "
		  "id, name, body || ' copy' || c AS body FROM lake.pkgs, range(%lld) r(c) ORDER BY id LIMIT %lld",
		  copies, scale_docs);
	double ms = 0;
	printf("\nspeed: %lld documents\n", scale_docs);
	if (timed(conn, "load", b.ptr, &ms, NULL))
		return 1;
	sb_free(&b);
	printf("load (CREATE TABLE AS):   %10.0f ms\n", ms);
	print_load("before the build");
	double c0 = cpu_ms();
	if (timed(conn, "build", "CALL lake.create_search_index('main.big', text_column => 'body', id_column => 'id')", &ms,
		  NULL))
		return 1;
	double cpu = cpu_ms() - c0;
	printf("index build:              %10.0f ms  (%.0f documents/s); CPU %.0f ms (%.0f documents per CPU second)\n", ms,
	       scale_docs / (ms / 1000.0), cpu, scale_docs / (cpu / 1000.0));
	print_load("after the build");
	fflush(stdout);
	size_t n = nq < (size_t)speed_queries ? nq : (size_t)speed_queries;
	double *t = malloc((n + 1) * sizeof(double)), *tc = malloc((n + 1) * sizeof(double));
	if (!t || !tc)
		die_oom();
	static const char *const modes[] = {"bm25", "hybrid", "vector"};
	for (int m = 0; m < 3; m++) {
		for (size_t i = 0; i < 5 && i < n; i++) { /* warm-up */
			char *sql = search_sql("main.big", qs[i].summary, modes[m], 10);
			int rc = timed_search(conn, sql, &t[0], NULL);
			free(sql);
			if (rc)
				return 1;
		}
		double c1 = cpu_ms();
		digest = 14695981039346656037ULL;
		for (size_t i = 0; i < n; i++) {
			char *sql = search_sql("main.big", qs[i].summary, modes[m], 10);
			int rc = timed_search(conn, sql, &t[i], &tc[i]);
			free(sql);
			if (rc)
				return 1;
		}
		double qcpu = (cpu_ms() - c1) / n;
		sort_doubles(t, n);
		sort_doubles(tc, n);
		printf("top-10 %-6s (%zu queries): median %7.2f ms, p95 %7.2f ms; CPU per query: mean %.2f ms, median "
		       "%.2f ms, p95 %.2f ms; hits digest %016llx\n",
		       modes[m], n, median(t, n), percentile_sorted(t, n, 95), qcpu, median(tc, n),
		       percentile_sorted(tc, n, 95), (unsigned long long)digest);
		fflush(stdout);
	}
	/* ingest of 1,000 rows, then the first search after it vs one without changes */
	double *ratio = malloc((size_t)reps * sizeof(double)), *ins = malloc((size_t)reps * sizeof(double)),
	       *upd = malloc((size_t)reps * sizeof(double));
	double *cratio = malloc((size_t)reps * sizeof(double)), *cins = malloc((size_t)reps * sizeof(double)),
	       *cupd = malloc((size_t)reps * sizeof(double));
	if (!ratio || !ins || !upd || !cratio || !cins || !cupd)
		die_oom();
	char *probe = search_sql("main.big", "network daemon", "hybrid", 10);
	for (long long r = 0; r < reps; r++) {
		strbuf q = {0};
		sb_printf(&q,
			  "INSERT INTO lake.big SELECT %lld + row_number() OVER () AS id, name, body || ' fresh%lld' FROM "
			  "lake.pkgs LIMIT 1000",
			  900000000000LL + r * 10000, r);
		double t_ins = 0, t_first = 0, t_plain = 0, c_first = 0, c_plain = 0;
		double c0 = cpu_ms();
		if (timed(conn, "ingest", q.ptr, &t_ins, NULL))
			return 1;
		double c_ins = cpu_ms() - c0;
		if (timed_search(conn, probe, &t_first, &c_first) || timed_search(conn, probe, &t_plain, &c_plain))
			return 1;
		sb_free(&q);
		ins[r] = t_ins;
		upd[r] = t_first - t_plain;
		ratio[r] = upd[r] / t_ins;
		cins[r] = c_ins;
		cupd[r] = c_first - c_plain;
		cratio[r] = cupd[r] / c_ins;
	}
	printf("ingest of 1,000 rows: INSERT median %.1f ms; index update (first search - plain search) median "
	       "%.1f ms; ratio median %.2f\n",
	       median(ins, (size_t)reps), median(upd, (size_t)reps), median(ratio, (size_t)reps));
	printf("  in CPU time: INSERT median %.1f ms; index update median %.1f ms; ratio median %.2f\n",
	       median(cins, (size_t)reps), median(cupd, (size_t)reps), median(cratio, (size_t)reps));
	/* the new rows are found */
	char *fresh = search_sql("main.big", "fresh0", "bm25", 10);
	planar_result *res = NULL;
	if (run(conn, "fresh", fresh, &res))
		return 1;
	printf("rows of the first ingest found by the next search: %llu of 10 asked\n",
	       (unsigned long long)planar_result_row_count(res));
	planar_result_free(res);
	free(fresh);
	free(probe);
	free(ratio);
	free(ins);
	free(upd);
	free(cratio);
	free(cins);
	free(cupd);
	free(t);
	free(tc);
	return 0;
}

int main(int argc, char **argv)
{
	bench_prog = "bench_retrieval";
	/* --data is ours; the counts go to parse_options */
	char **rest = malloc((size_t)(argc + 1) * sizeof(char *));
	if (!rest)
		die_oom();
	int nrest = 0;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
			data_path = argv[++i];
		else
			rest[nrest++] = argv[i];
	}
	rest[nrest] = NULL;
	const bench_option opts[] = {
		{"--queries", 10, 100000, &n_queries},
		{"--scale-docs", 0, 100000000, &scale_docs},
		{"--speed-queries", 10, 100000, &speed_queries},
		{"--reps", 1, 1000, &reps},
		{"--quality", 0, 1, &do_quality},
	};
	int st = parse_options(nrest, rest, opts, sizeof(opts) / sizeof(opts[0]), usage);
	free(rest);
	if (st >= 0)
		return st;
	if (!data_path || strchr(data_path, '\'')) {
		usage(stderr);
		return 2;
	}
	strbuf dir = {0};
	if (make_temp_dir(&dir))
		return 1;
	planar_db *db = NULL;
	planar_conn *conn = NULL;
	int rc = open_planar(&db, &conn);
	strbuf sql = {0};
	if (rc == 0)
		rc = print_header(conn, "");
	sb_printf(&sql, "ATTACH 'ducklake:duckdb:%s/meta.ducklake' AS lake (DATA_PATH '%s/data/')", dir.ptr, dir.ptr);
	if (rc == 0)
		rc = run(conn, "attach", sql.ptr, NULL);
	sb_free(&sql);
	sb_printf(&sql,
		  "CREATE TABLE lake.pkgs AS SELECT * FROM read_csv('%s', delim = '\t', header = false, quote = '', "
		  "escape = '', columns = {'name': 'VARCHAR', 'summary': 'VARCHAR', 'body': 'VARCHAR'})",
		  data_path);
	if (rc == 0)
		rc = run(conn, "load the corpus", sql.ptr, NULL);
	sb_free(&sql);
	long long ndocs = 0;
	if (rc == 0)
		rc = scalar_ll(conn, "count", "SELECT count(*) FROM lake.pkgs", &ndocs);
	double ms = 0;
	if (rc == 0)
		rc = timed(conn, "index", "CALL lake.create_search_index('main.pkgs', text_column => 'body', id_column => 'name')",
			   &ms, NULL);
	if (rc == 0)
		printf("corpus: %lld package descriptions; index build %.0f ms (%.0f documents/s)\n", ndocs, ms,
		       ndocs / (ms / 1000.0));
	/* the sample: fixed, spread over the alphabet */
	query *qs = NULL;
	size_t nq = 0;
	planar_result *res = NULL;
	sb_printf(&sql, "SELECT name, summary FROM lake.pkgs ORDER BY hash(name), name LIMIT %lld", n_queries);
	if (rc == 0)
		rc = run(conn, "sample", sql.ptr, &res);
	sb_free(&sql);
	if (rc == 0) {
		nq = (size_t)planar_result_row_count(res);
		qs = calloc(nq ? nq : 1, sizeof(*qs));
		if (!qs)
			die_oom();
		for (size_t i = 0; i < nq; i++) {
			qs[i].name = value(res, 0, i);
			qs[i].summary = value(res, 1, i);
		}
		planar_result_free(res);
	}
	if (rc == 0 && do_quality)
		rc = quality(conn, qs, nq);
	if (rc == 0 && scale_docs > 0)
		rc = speed(conn, qs, nq);
	print_load("at the end");
	for (size_t i = 0; i < nq; i++) {
		free(qs[i].name);
		free(qs[i].summary);
	}
	free(qs);
	planar_conn_free(conn);
	planar_db_free(db);
	remove_temp_dir(dir.ptr);
	sb_free(&dir);
	return rc ? 1 : 0;
}
