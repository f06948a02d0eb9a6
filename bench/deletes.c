/*
 * deletes.c -- delete benchmark: the same scan queries on one lake table before and after
 * deleting 1% of its rows, with positional delete files and with deletion vectors.
 *
 * What it measures: what deleted rows cost a reader. A table without deletes is read as
 * read_parquet() of its data files; a data file with deleted rows is read with its row positions
 * and anti-joined with the deleted positions (a Parquet delete file, or a deletion vector in a
 * puffin file). The target is for 1% deleted rows to slow full scans by at most 30% (geometric
 * mean of the after/before ratios <= 1.3).
 *
 * Steps: create a fresh lake in a temporary directory (SQLite catalog) with two identical tables,
 * t and t_dv, of N rows each (t_dv gets CALL lake.set_option('write_deletion_vectors', 'true',
 * table_name => 't_dv')); run every query on both (one warm-up run each, then --reps timed runs,
 * alternating which goes first; medians); DELETE FROM ... WHERE id % 100 = 7 on both (timed);
 * run the same queries again. Results are checked: before, both tables must equal read_parquet()
 * of t's files; after, both must equal read_parquet() of those files WHERE id % 100 <> 7.
 * The DELETE is timed next to SELECT count(*) of read_parquet() of the same files with its
 * predicate (target: at most 3x). Then (--files N, default 2000) a table of N files of 2048 rows,
 * every file with deleted rows: SELECT sum(v) against read_parquet() of the same files (target
 * at most 1.3x) and SELECT count(*); once with positional delete files, once with deletion
 * vectors.
 * It only reports: nothing here asserts on timings.
 *
 * Uses only the public API (planar/planar.h). Usage: deletes [--rows N] [--reps N] [--files N]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define DEFAULT_ROWS 10000000LL
#define DEFAULT_REPS 5
#define DELETE_WHERE "id %% 100 = 7" /* a printf format */
#define NTABLES 2

static const char *const tables[NTABLES] = {"t", "t_dv"};
static const char *const srcs[NTABLES] = {"lake.main.t", "lake.main.t_dv"};
static const char *const titles[NTABLES] = {"positional delete files (table t, Parquet delete file)",
					    "deletion vectors (table t_dv, write_deletion_vectors = true, puffin file)"};

#define MAX_QUERIES 16

typedef struct phase {
	double ms[MAX_QUERIES][NTABLES]; /* [query][table] medians */
} phase;

static int create_tables(planar_conn *conn, const char *dir, long long rows, strbuf *files_src)
{
	strbuf q = {0};
	sb_printf(&q, "ATTACH 'ducklake:sqlite:%s/meta.sqlite' AS lake (DATA_PATH '%s/data/')", dir, dir);
	int rc = run(conn, "ATTACH", q.ptr, NULL);
	double insert_ms[NTABLES] = {0};
	for (int t = 0; rc == 0 && t < NTABLES; t++) {
		q.len = 0;
		sb_printf(&q, "CREATE TABLE %s (id BIGINT, k INTEGER, v DOUBLE, s VARCHAR, ts TIMESTAMP)", srcs[t]);
		rc = run(conn, "CREATE TABLE", q.ptr, NULL);
		if (rc == 0 && strcmp(tables[t], "t_dv") == 0)
			rc = run(conn, "CALL set_option",
				 "CALL lake.set_option('write_deletion_vectors', 'true', table_name => 't_dv')", NULL);
		if (rc)
			break;
		/* v holds multiples of 0.25 below 2^12: every sum is exact, so results compare as text. */
		q.len = 0;
		sb_printf(&q,
			  "INSERT INTO %s SELECT range AS id, CAST(range %% 1000 AS INTEGER) AS k, "
			  "(range %% 10007) * 0.25 AS v, 'name' || (range %% 5000) AS s, "
			  "TIMESTAMP '2024-01-01 00:00:00' + to_seconds(range) AS ts FROM range(%lld)",
			  srcs[t], rows);
		fprintf(stderr, "%s: inserting %lld rows into %s...\n", bench_prog, rows, srcs[t]);
		double t0 = now_ms();
		rc = run(conn, "INSERT", q.ptr, NULL);
		insert_ms[t] = now_ms() - t0;
	}
	sb_free(&q);

	uint64_t nfiles = 0;
	long long bytes = 0;
	if (rc == 0)
		rc = parquet_src_from(conn, "listing t's files",
				      "SELECT data_file FROM ducklake_list_files('lake', 't') ORDER BY data_file",
				      files_src, &nfiles);
	if (rc == 0)
		rc = scalar_ll(conn, "reading ducklake_table_info",
			       "SELECT file_size_bytes FROM ducklake_table_info('lake') WHERE table_name = 't'", &bytes);
	if (rc == 0)
		printf("rows: %lld per table   files: %llu per table   data: %.1f MiB per table   "
		       "insert: %.0f ms (t), %.0f ms (t_dv)\n",
		       rows, (unsigned long long)nfiles, (double)bytes / (1024.0 * 1024.0), insert_ms[0], insert_ms[1]);
	return rc;
}

/* Runs every query on both tables; checks both against the reference relation ref. */
static int run_phase(planar_conn *conn, const char *label, long long rows, long long expect_count, int reps,
		     const char *ref, phase *out)
{
	int rc = 0;
	for (size_t qi = 0; rc == 0 && qi < bench_nqueries; qi++) {
		const bench_query *q = &bench_queries[qi];
		char *texts[NTABLES] = {0}, *ref_text = NULL;
		double ms;
		fprintf(stderr, "%s: %s: %s...\n", bench_prog, label, q->name);
		rc = measure(conn, q, rows / 2, NTABLES, srcs, tables, reps, out->ms[qi], texts);
		/* The reference: the same query on read_parquet() of the files (untimed). */
		char *ref_sql = rc ? NULL : render(q->sql, ref, rows / 2);
		if (rc == 0)
			rc = timed(conn, "the reference query on read_parquet()", ref_sql, &ms, &ref_text);
		for (int t = 0; rc == 0 && t < NTABLES; t++)
			rc = same_result(q->name, srcs[t], texts[t], "read_parquet() of the files", ref_text);
		if (rc == 0 && qi == 0 && strtoll(texts[0], NULL, 10) != expect_count) {
			fprintf(stderr, "%s: %s: count(*) is %s, expected %lld\n", bench_prog, label, texts[0], expect_count);
			rc = -1;
		}
		free(ref_sql);
		free(ref_text);
		for (int t = 0; t < NTABLES; t++)
			free(texts[t]);
	}
	return rc;
}

/* Median of reps timed runs of sql (after one warm-up). */
static int median_ms(planar_conn *conn, const char *what, const char *sql, int reps, double *out, char **text)
{
	double v[64];
	int n = reps < 64 ? reps : 64, rc = timed(conn, what, sql, &v[0], text);
	for (int i = 0; rc == 0 && i < n; i++)
		rc = timed(conn, what, sql, &v[i], NULL);
	*out = rc ? 0 : median(v, (size_t)n);
	return rc;
}

static int run_delete(planar_conn *conn, int t, long long expect_deleted, const char *files)
{
	strbuf q = {0};
	long long before = 0, after = 0, ndel = 0, del_bytes = 0;
	sb_printf(&q, "SELECT count(*) FROM %s", srcs[t]);
	int rc = scalar_ll(conn, "counting rows", q.ptr, &before);
	strbuf del = {0};
	sb_printf(&del, "DELETE FROM %s WHERE " DELETE_WHERE, srcs[t]);
	fprintf(stderr, "%s: %s...\n", bench_prog, del.ptr);
	double t0 = now_ms();
	if (rc == 0)
		rc = run(conn, "DELETE", del.ptr, NULL);
	double del_ms = now_ms() - t0;
	if (rc == 0)
		rc = scalar_ll(conn, "counting rows", q.ptr, &after);
	q.len = 0;
	sb_printf(&q, "SELECT delete_file_count FROM ducklake_table_info('lake') WHERE table_name = '%s'", tables[t]);
	if (rc == 0)
		rc = scalar_ll(conn, "reading ducklake_table_info", q.ptr, &ndel);
	q.len = 0;
	sb_printf(&q, "SELECT delete_file_size_bytes FROM ducklake_table_info('lake') WHERE table_name = '%s'",
		  tables[t]);
	if (rc == 0)
		rc = scalar_ll(conn, "reading ducklake_table_info", q.ptr, &del_bytes);
	if (rc == 0 && before - after != expect_deleted) {
		fprintf(stderr, "%s: %s removed %lld rows, expected %lld\n", bench_prog, del.ptr, before - after,
			expect_deleted);
		rc = -1;
	}
	if (rc == 0)
		printf("%-52s %8.0f ms   %lld rows deleted, %lld delete file(s), %.1f KiB\n", del.ptr, del_ms,
		       before - after, ndel, (double)del_bytes / 1024.0);
	/* what finding the rows costs DuckDB on the same files */
	double ref_ms = 0;
	q.len = 0;
	sb_printf(&q, "SELECT count(*) FROM %s WHERE " DELETE_WHERE, files);
	if (rc == 0)
		rc = median_ms(conn, "the DELETE's predicate on read_parquet()", q.ptr, 3, &ref_ms, NULL);
	if (rc == 0)
		printf("%-52s %8.0f ms   DELETE / this = %.2f (target <= 3)\n",
		       "SELECT count(*) FROM read_parquet(files) WHERE ...", ref_ms, del_ms / ref_ms);
	sb_free(&q);
	sb_free(&del);
	return rc;
}

static void report(int t, const phase *before, const phase *after)
{
	double log_sum = 0;
	printf("\n%s\n", titles[t]);
	printf("%-18s %12s %12s %8s\n", "query", "before ms", "after ms", "ratio");
	for (size_t qi = 0; qi < bench_nqueries; qi++) {
		double b = before->ms[qi][t], a = after->ms[qi][t];
		log_sum += log(a / b);
		printf("%-18s %12.2f %12.2f %8.3f\n", bench_queries[qi].name, b, a, a / b);
	}
	printf("geomean ratio: %.3f (target <= 1.3)\n", exp(log_sum / (double)bench_nqueries));
	printf("targets: sum_avg_v after/before %.3f (<= 1.15), count_star after/before %.3f (<= 2)\n",
	       after->ms[1][t] / before->ms[1][t], after->ms[0][t] / before->ms[0][t]);
}

/* A table of nfiles files (2048 rows each), every one with deleted rows (positional delete files,
 * or deletion vectors with dv): SELECT sum(v) against read_parquet() of the same files. */
static int many_files(planar_conn *conn, const char *name, bool dv, long long nfiles, int reps)
{
	strbuf q = {0}, files = {0};
	uint64_t n = 0;
	sb_printf(&q, "CREATE TABLE lake.main.%s (id BIGINT, v DOUBLE)", name);
	int rc = run(conn, "CREATE TABLE", q.ptr, NULL);
	const char *const options[][2] = {{"target_file_size", "1B"},
					  {"parquet_row_group_size", "2048"},
					  {"write_deletion_vectors", dv ? "true" : "false"}};
	for (size_t k = 0; rc == 0 && k < sizeof(options) / sizeof(options[0]); k++) {
		q.len = 0;
		sb_printf(&q, "CALL lake.set_option('%s', '%s', table_name => '%s')", options[k][0], options[k][1], name);
		rc = run(conn, "set_option", q.ptr, NULL);
	}
	q.len = 0;
	sb_printf(&q, "INSERT INTO lake.main.%s SELECT range, (range %% 10007) * 0.25 FROM range(%lld)", name,
		  nfiles * 2048);
	fprintf(stderr, "%s: writing %lld files into lake.main.%s...\n", bench_prog, nfiles, name);
	if (rc == 0)
		rc = run(conn, "INSERT", q.ptr, NULL);
	fprintf(stderr, "%s: deleting from every file of lake.main.%s...\n", bench_prog, name);
	q.len = 0;
	sb_printf(&q, "DELETE FROM lake.main.%s WHERE id %% 100 = 7", name);
	double t0 = now_ms();
	if (rc == 0)
		rc = run(conn, "DELETE", q.ptr, NULL);
	double del_ms = now_ms() - t0;
	q.len = 0;
	sb_printf(&q, "SELECT data_file FROM ducklake_list_files('lake', '%s') ORDER BY data_file", name);
	if (rc == 0)
		rc = parquet_src_from(conn, "listing the table's files", q.ptr, &files, &n);
	double lake_ms = 0, ref_ms = 0, count_ms = 0;
	char *lake_text = NULL, *ref_text = NULL;
	q.len = 0;
	sb_printf(&q, "SELECT sum(v) FROM lake.main.%s", name);
	if (rc == 0)
		rc = median_ms(conn, "sum over the lake table", q.ptr, reps, &lake_ms, &lake_text);
	q.len = 0;
	sb_printf(&q, "SELECT sum(v) FROM %s", files.ptr);
	if (rc == 0)
		rc = median_ms(conn, "sum over read_parquet()", q.ptr, reps, &ref_ms, NULL);
	q.len = 0;
	sb_printf(&q, "SELECT sum(v) FROM %s WHERE id %% 100 <> 7", files.ptr);
	if (rc == 0)
		rc = timed(conn, "reference sum", q.ptr, &t0, &ref_text);
	if (rc == 0)
		rc = same_result("sum(v)", name, lake_text, "read_parquet() without the deleted rows", ref_text);
	q.len = 0;
	sb_printf(&q, "SELECT count(*) FROM lake.main.%s", name);
	if (rc == 0)
		rc = median_ms(conn, "count(*) over the lake table", q.ptr, reps, &count_ms, NULL);
	if (rc == 0) {
		printf("\n%llu files, each with deleted rows, %s (DELETE took %.0f ms)\n", (unsigned long long)n,
		       dv ? "deletion vectors" : "positional delete files", del_ms);
		printf("SELECT sum(v): lake %.2f ms, read_parquet() of the same files %.2f ms, ratio %.3f (target <= 1.3)\n",
		       lake_ms, ref_ms, lake_ms / ref_ms);
		printf("SELECT count(*): lake %.2f ms\n", count_ms);
	}
	free(lake_text);
	free(ref_text);
	sb_free(&q);
	sb_free(&files);
	return rc;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: deletes [--rows N] [--reps N] [--files N]\n"
		   "  --rows N  rows in each of the two lake tables (default %lld)\n"
		   "  --files N then a table of N files of 2048 rows, each with deleted rows (default 2000, 0: none)\n"
		   "  --reps N  timed runs per query and table, before and after; the median is reported (default %d)\n",
		DEFAULT_ROWS, DEFAULT_REPS);
}

int main(int argc, char **argv)
{
	bench_prog = "deletes";
	long long rows = DEFAULT_ROWS, reps = DEFAULT_REPS, many = 2000;
	const bench_option opts[] = {
		{"--rows", 100, 1000000000000LL, &rows},
		{"--reps", 1, 1000, &reps},
		{"--files", 0, 1000000, &many},
	};
	int status = parse_options(argc, argv, opts, sizeof(opts) / sizeof(opts[0]), usage);
	if (status >= 0)
		return status;
	if (bench_nqueries > MAX_QUERIES) {
		fprintf(stderr, "%s: too many queries\n", bench_prog);
		return 2;
	}

	strbuf dir = {0};
	if (make_temp_dir(&dir)) {
		sb_free(&dir);
		return 1;
	}
	planar_db *db = NULL;
	planar_conn *conn = NULL;
	strbuf files = {0}, ref_before = {0}, ref_after = {0}, extra = {0};
	phase *before = calloc(1, sizeof(*before)), *after = calloc(1, sizeof(*after));
	if (!before || !after)
		die_oom();
	/* rows with id % 100 = 7 among 0..rows-1 */
	long long deleted = rows / 100 + (rows % 100 > 7 ? 1 : 0);

	int rc = open_planar(&db, &conn);
	sb_printf(&extra, ", reps %lld (median after 1 warm-up), catalog sqlite", reps);
	if (rc == 0)
		rc = print_header(conn, extra.ptr);
	if (rc == 0)
		rc = create_tables(conn, dir.ptr, rows, &files);
	if (rc == 0) {
		sb_puts(&ref_before, files.ptr);
		sb_printf(&ref_after, "(SELECT * FROM %s WHERE NOT (" DELETE_WHERE "))", files.ptr);
		rc = run_phase(conn, "before", rows, rows, (int)reps, ref_before.ptr, before);
	}
	for (int t = 0; rc == 0 && t < NTABLES; t++)
		rc = run_delete(conn, t, deleted, files.ptr);
	if (rc == 0)
		rc = run_phase(conn, "after", rows, rows - deleted, (int)reps, ref_after.ptr, after);
	for (int t = 0; rc == 0 && t < NTABLES; t++)
		report(t, before, after);
	if (rc == 0 && many > 0)
		rc = many_files(conn, "m", false, many, (int)reps);
	if (rc == 0 && many > 0)
		rc = many_files(conn, "m_dv", true, many, (int)reps);

	if (rc == 0)
		print_load("at end");
	planar_conn_free(conn);
	planar_db_free(db);
	remove_temp_dir(dir.ptr);
	sb_free(&dir);
	sb_free(&files);
	sb_free(&ref_before);
	sb_free(&ref_after);
	sb_free(&extra);
	free(before);
	free(after);
	return rc == 0 ? 0 : 1;
}
