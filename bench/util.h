/*
 * util.h -- helpers shared by the benchmark programs deletes.c, timetravel.c and commit.c
 * (scan.c is self-contained). Only the public API (planar/planar.h) is used.
 *
 * Every helper that runs SQL prints "<prog>: <what> failed (<code>): <planar_conn_errmsg>" on
 * failure and returns non-zero; the programs then clean up and exit 1. Nothing here asserts on
 * timings.
 */
#ifndef PLANAR_BENCH_UTIL_H
#define PLANAR_BENCH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "planar/planar.h"

/* Program name used as the prefix of every message; set it first thing in main(). */
extern const char *bench_prog;

/* ---- text ----------------------------------------------------------------------------------- */

typedef struct strbuf {
	char *ptr;
	size_t len, cap;
} strbuf;

void die_oom(void);
void sb_putn(strbuf *b, const char *s, size_t n);
void sb_puts(strbuf *b, const char *s);
void sb_printf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_put_literal(strbuf *b, const char *s); /* 'text' with quotes doubled */
void sb_free(strbuf *b);
char *xstrdup(const char *s);

/* The scan queries of scan.c. {src} is the scanned relation, {mid} a row count / 2. */
typedef struct bench_query {
	const char *name;
	const char *sql;
} bench_query;
extern const bench_query bench_queries[];
extern const size_t bench_nqueries;

/* tmpl with {src} and {mid} substituted (caller frees). */
char *render(const char *tmpl, const char *src, long long mid);

/* ---- numbers -------------------------------------------------------------------------------- */

double now_ms(void);
void sort_doubles(double *v, size_t n);
double median(double *v, size_t n);                  /* sorts v */
double percentile_sorted(const double *v, size_t n, double p); /* nearest rank, p in (0, 100] */
int parse_count(const char *opt, const char *arg, long long min, long long max, long long *out);

/* A command-line option taking a count: `--name N`, min <= N <= max. */
typedef struct bench_option {
	const char *name;
	long long min, max;
	long long *value;
} bench_option;
/* Parses argv: the options, and -h/--help (usage to stdout). Returns -1 when the program should
 * go on, else its exit status: 0 after --help, 2 for a bad or unknown argument (usage to stderr). */
int parse_options(int argc, char **argv, const bench_option *opts, size_t nopts, void (*usage)(FILE *));

/* ---- temporary directory -------------------------------------------------------------------- */

/* $TMPDIR/planar-bench-XXXXXX (else /tmp/...), refused if it contains a quote. */
int make_temp_dir(strbuf *dir);
void remove_temp_dir(const char *dir);

/* ---- running SQL ---------------------------------------------------------------------------- */

int open_planar(planar_db **db, planar_conn **conn);
/* Prints "load average (1 min) <when>: L on N CPUs" from /proc/loadavg (nothing without it):
 * other processes on the machine distort every timing. */
void print_load(const char *when);
/* Prints "planar V, duckdb V, threads N<extra>", then the load average "at start". */
int print_header(planar_conn *conn, const char *extra);

/* Runs sql; on failure prints what failed with planar_conn_errmsg(). */
int run(planar_conn *conn, const char *what, const char *sql, planar_result **out);
/* Value (col, row) as text, "NULL" for SQL NULL (caller frees). */
char *value(const planar_result *res, size_t col, uint64_t row);
/* The whole result as text: one line per row, values separated by '|' (caller frees). */
char *result_text(const planar_result *res);
/* One-row query: its first value as text (caller frees), NULL on failure. */
char *scalar(planar_conn *conn, const char *what, const char *sql);
/* One-row query whose first value is an integer. */
int scalar_ll(planar_conn *conn, const char *what, const char *sql, long long *out);
/* Times one planar_conn_query() call; *text_out (when not NULL) receives the result as text. */
int timed(planar_conn *conn, const char *what, const char *sql, double *ms, char **text_out);

/* "read_parquet(['f1', ...])" over the first column of the rows that list_sql returns;
 * *nfiles receives their number (0 files is an error). */
int parquet_src_from(planar_conn *conn, const char *what, const char *list_sql, strbuf *src, uint64_t *nfiles);

/*
 * One query on several sides (relations substituted for {src}): one warm-up run per side whose
 * result texts land in texts[side] (caller frees), then reps timed runs per side, rotating which
 * side goes first; medians[side] receives the median in ms.
 */
int measure(planar_conn *conn, const bench_query *q, long long mid, size_t nsides, const char *const *srcs,
	    const char *const *side_names, int reps, double *medians, char **texts);

/* Compares two result texts; prints both and returns -1 when they differ. */
int same_result(const char *query, const char *name_a, const char *a, const char *name_b, const char *b);

#endif
