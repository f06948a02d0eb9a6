/*
 * tests/unit/catalog/batch.c -- cmocka tests of multi-row catalog INSERTs (src/catalog/batch.c)
 * and of commits that register many files at once (src/catalog/commit.c), on a fresh catalog
 * per test and driver (SQLite, DuckDB file).
 *
 * Covers statement sizes, values (NULLs, text, booleans) surviving a batch, a commit of many
 * files in one snapshot (data file ids, row id ranges, per-file statistics), and that a table's
 * column statistics merged over many files in one commit equal those of committing the same
 * files one by one (all-NULL files, unknown bounds, NaN flags).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/batch.h"
#include "catalog/commit.h"
#include "catalog/init.h"

typedef struct fixture {
	const char *kind;
	char dir[64], path[128], data[128];
	pl_catdb *db;
} fixture;

static int open_catalog(fixture *f, const char *name, pl_catdb **db)
{
	char path[160], data[160];
	snprintf(path, sizeof(path), "%s/%s.%s", f->dir, name, f->kind);
	snprintf(data, sizeof(data), "%s/%s-data/", f->dir, name);
	pl_catdb_options o = {f->kind, path, false, true, NULL, NULL};
	pl_err err = {0};
	if (pl_catdb_open(db, &o, &err) || pl_catalog_create(*db, data, &err)) {
		fprintf(stderr, "setup: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	f->kind = *state;
	strcpy(f->dir, "/tmp/planar-unit-batch-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	*state = f;
	return open_catalog(f, "cat", &f->db);
}

static int teardown(void **state)
{
	fixture *f = *state;
	char cmd[128];
	pl_catdb_close(f->db);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	int rc = system(cmd);
	free(f);
	return rc;
}

static pl_rows *q(pl_catdb *db, const char *sql)
{
	pl_err err = {0};
	pl_rows *r = NULL;
	if (pl_catdb_query(db, sql, NULL, 0, &r, &err))
		fail_msg("%s: %s", sql, err.msg);
	return r;
}

static int64_t q_int(pl_catdb *db, const char *sql)
{
	pl_rows *r = q(db, sql);
	int64_t v = pl_rows_int(r, 0, 0, -1);
	pl_rows_free(r);
	return v;
}

static void batch__rows_per_statement(void **state)
{
	(void)state;
	assert_int_equal(pl_batch_rows_per_statement(1), PL_BATCH_MAX_PARAMS);
	assert_int_equal(pl_batch_rows_per_statement(10), PL_BATCH_MAX_PARAMS / 10);
	assert_int_equal(pl_batch_rows_per_statement(PL_BATCH_MAX_PARAMS + 1), 1);
	assert_int_equal(pl_batch_rows_per_statement(0), 1);
}

static void batch__rows_arrive_in_few_statements(void **state)
{
	fixture *f = *state;
	pl_err err = {0};
	assert_int_equal(pl_catdb_exec(f->db, "CREATE TABLE b (i BIGINT, s VARCHAR, flag BOOLEAN, fixed VARCHAR)", NULL, 0,
				       &err), 0);
	pl_batch b;
	pl_batch_init(&b, f->db, "INSERT INTO b (i, s, flag, fixed) VALUES ", "(?, ?, ?, 'k')", 3);
	char texts[1000][16];
	for (int i = 0; i < 1000; i++) {
		snprintf(texts[i], sizeof(texts[i]), "it's %d", i);
		pl_val row[] = {PL_VINT(i), i % 7 ? PL_VTEXT(texts[i]) : PL_VNULL, PL_VBOOL(i % 2)};
		assert_int_equal(pl_batch_add(&b, row, &err), 0);
	}
	assert_int_equal(pl_batch_flush(&b, &err), 0);
	assert_int_equal(pl_batch_flush(&b, &err), 0); /* nothing pending: no statement */
	size_t per = pl_batch_rows_per_statement(3);
	assert_int_equal(b.statements, (1000 + per - 1) / per);
	pl_batch_dispose(&b);
	assert_int_equal(q_int(f->db, "SELECT count(*) FROM b"), 1000);
	assert_int_equal(q_int(f->db, "SELECT sum(i) FROM b"), 499500);
	assert_int_equal(q_int(f->db, "SELECT count(*) FROM b WHERE s IS NULL"), 143);
	assert_int_equal(q_int(f->db, "SELECT count(*) FROM b WHERE flag"), 500);
	assert_int_equal(q_int(f->db, "SELECT count(*) FROM b WHERE fixed = 'k'"), 1000);
	pl_rows *r = q(f->db, "SELECT s FROM b WHERE i = 999");
	assert_string_equal(pl_rows_get(r, 0, 0), "it's 999");
	pl_rows_free(r);
}

static void batch__error_is_reported(void **state)
{
	fixture *f = *state;
	pl_err err = {0};
	pl_batch b;
	pl_batch_init(&b, f->db, "INSERT INTO no_such_table (i) VALUES ", "(?)", 1);
	pl_val row[] = {PL_VINT(1)};
	assert_int_equal(pl_batch_add(&b, row, &err), 0);
	assert_int_not_equal(pl_batch_flush(&b, &err), 0);
	assert_non_null(strstr(err.msg, "no_such_table"));
	pl_batch_dispose(&b);
}

/* ---- commits of many files ------------------------------------------------------------------ */

static int64_t create_table(pl_catdb *db)
{
	pl_txn t = {0};
	pl_err err = {0};
	int64_t snap = 0;
	pl_new_table *nt = pl_txn_add_table(&t);
	nt->schema_ref = 0;
	nt->schema_name = strdup("main");
	nt->name = strdup("t");
	nt->columns = calloc(3, sizeof(*nt->columns));
	const char *names[] = {"i", "s", "f"}, *types[] = {"int64", "varchar", "float64"};
	for (int c = 0; c < 3; c++)
		nt->columns[nt->ncolumns++] = (pl_new_column){.id = c + 1, .order = c + 1, .parent = -1,
			.name = strdup(names[c]), .type = strdup(types[c]), .nulls_allowed = true};
	if (pl_commit(db, &t, 0, &snap, &err))
		fail_msg("create: %s", err.msg);
	int64_t id = nt->assigned_id;
	pl_txn_dispose(&t);
	return id;
}

static void add_stat(pl_new_file *nf, int64_t col, const char *type, const char *min, const char *max, int64_t nulls,
		     int nan)
{
	nf->stats = realloc(nf->stats, (nf->nstats + 1) * sizeof(*nf->stats));
	nf->stats[nf->nstats++] = (pl_column_stats){.column_id = col, .value_count = 10, .null_count = nulls,
		.column_size = 50, .min = min ? strdup(min) : NULL, .max = max ? strdup(max) : NULL,
		.contains_nan = nan, .type = strdup(type)};
}

/* File k of a sequence: integer bounds that move around, an all-NULL string file, a file whose
 * string bounds are unknown, NaN in one float file. */
static void add_file(pl_txn *t, int64_t table, int k)
{
	char path[64], imin[32], imax[32], smin[32], smax[32];
	pl_new_file *nf = pl_txn_add_file(t);
	snprintf(path, sizeof(path), "f-%04d.parquet", k);
	nf->table_ref = table;
	nf->path = strdup(path);
	nf->record_count = 10 + k % 3;
	nf->file_size = 1000 + k;
	nf->footer_size = 100;
	snprintf(imin, sizeof(imin), "%d", (k * 37) % 1000 - 500);
	snprintf(imax, sizeof(imax), "%d", (k * 37) % 1000 + 5);
	snprintf(smin, sizeof(smin), "s%05d", (k * 13) % 997);
	snprintf(smax, sizeof(smax), "s%05d", (k * 13) % 997 + 50);
	add_stat(nf, 1, "int64", imin, imax, 0, -1);
	if (k == 3)
		add_stat(nf, 2, "varchar", NULL, NULL, 10, -1); /* all NULL: says nothing */
	else if (k == 90)
		add_stat(nf, 2, "varchar", NULL, NULL, 2, -1); /* bounds unknown */
	else
		add_stat(nf, 2, "varchar", smin, smax, k % 2, -1);
	add_stat(nf, 3, "float64", "-1.5", "2.5", 0, k == 77);
}

static char *column_stats_text(pl_catdb *db)
{
	pl_rows *r = q(db, "SELECT column_id, contains_null, contains_nan, min_value, max_value "
			   "FROM ducklake_table_column_stats ORDER BY column_id");
	size_t cap = 4096, len = 0;
	char *out = calloc(cap, 1);
	for (size_t i = 0; i < r->nrows; i++)
		len += (size_t)snprintf(out + len, cap - len, "%lld %d %s %s %s\n", (long long)pl_rows_int(r, i, 0, -1),
					pl_rows_bool(r, i, 1, false), pl_rows_get(r, i, 2) ? (pl_rows_bool(r, i, 2, false) ? "t" : "f") : "?",
					pl_rows_get(r, i, 3) ? pl_rows_get(r, i, 3) : "NULL",
					pl_rows_get(r, i, 4) ? pl_rows_get(r, i, 4) : "NULL");
	pl_rows_free(r);
	return out;
}

#define NFILES 400 /* in one commit */
#define NSEQ 120   /* one by one */

static void batch__many_files_in_one_commit(void **state)
{
	fixture *f = *state;
	pl_err err = {0};
	int64_t table = create_table(f->db), snap = 0;
	pl_txn t = {0};
	for (int k = 0; k < NFILES; k++)
		add_file(&t, table, k);
	assert_int_equal(pl_commit(f->db, &t, 1, &snap, &err), 0);
	assert_int_equal(snap, 2);
	for (int k = 0; k < NFILES; k++)
		assert_int_equal(t.files[k].assigned_id, k);
	pl_txn_dispose(&t);
	assert_int_equal(q_int(f->db, "SELECT count(*) FROM ducklake_data_file WHERE begin_snapshot = 2"), NFILES);
	assert_int_equal(q_int(f->db, "SELECT count(*) FROM ducklake_file_column_stats"), 3 * NFILES);
	/* row ids run on from file to file */
	assert_int_equal(q_int(f->db, "SELECT count(*) FROM ducklake_data_file a JOIN ducklake_data_file b "
				      "ON b.data_file_id = a.data_file_id + 1 WHERE b.row_id_start <> a.row_id_start + a.record_count"),
			 0);
	int64_t rows = q_int(f->db, "SELECT sum(record_count) FROM ducklake_data_file");
	assert_int_equal(q_int(f->db, "SELECT record_count FROM ducklake_table_stats"), rows);
	assert_int_equal(q_int(f->db, "SELECT next_row_id FROM ducklake_table_stats"), rows);
	assert_int_equal(q_int(f->db, "SELECT next_file_id FROM ducklake_snapshot WHERE snapshot_id = 2"), NFILES);
	pl_rows *r = q(f->db, "SELECT min_value, max_value FROM ducklake_file_column_stats WHERE data_file_id = 399 "
			      "AND column_id = 1");
	assert_string_equal(pl_rows_get(r, 0, 0), "263"); /* 399 * 37 % 1000 - 500 */
	assert_string_equal(pl_rows_get(r, 0, 1), "768");
	pl_rows_free(r);
}

static void batch__merged_stats_equal_one_by_one(void **state)
{
	fixture *f = *state;
	pl_err err = {0};
	pl_catdb *other = NULL;
	assert_int_equal(open_catalog(f, "other", &other), 0);
	int64_t t1 = create_table(f->db), t2 = create_table(other), snap = 0;
	/* the same files: in one commit after a first file, and one commit each */
	pl_txn first = {0}, rest = {0};
	add_file(&first, t1, 0);
	assert_int_equal(pl_commit(f->db, &first, 1, &snap, &err), 0);
	pl_txn_dispose(&first);
	for (int k = 1; k < NSEQ; k++)
		add_file(&rest, t1, k);
	assert_int_equal(pl_commit(f->db, &rest, 2, &snap, &err), 0);
	pl_txn_dispose(&rest);
	for (int k = 0; k < NSEQ; k++) {
		pl_txn one = {0};
		add_file(&one, t2, k);
		assert_int_equal(pl_commit(other, &one, 1 + k, &snap, &err), 0);
		pl_txn_dispose(&one);
	}
	char *a = column_stats_text(f->db), *b = column_stats_text(other);
	assert_string_equal(a, b);
	/* unknown string bounds after file 90; NaN seen in file 77; integer bounds over all */
	assert_non_null(strstr(a, "2 1 ? NULL NULL"));
	assert_non_null(strstr(a, "3 0 t -1.5 2.5"));
	assert_non_null(strstr(a, "1 0 ? -500 1004"));
	free(a);
	free(b);
	pl_catdb_close(other);
}

#define BOTH(fn) {#fn "/sqlite", fn, setup, teardown, (void *)"sqlite"}, \
		 {#fn "/duckdb", fn, setup, teardown, (void *)"duckdb"}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(batch__rows_per_statement),
		BOTH(batch__rows_arrive_in_few_statements),
		BOTH(batch__error_is_reported),
		BOTH(batch__many_files_in_one_commit),
		BOTH(batch__merged_stats_equal_one_by_one),
	};
	return cmocka_run_group_tests_name("catalog/batch", tests, NULL, NULL);
}
