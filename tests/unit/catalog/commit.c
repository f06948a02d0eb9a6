/*
 * tests/unit/catalog/commit.c -- cmocka tests of the commit protocol and model loading
 * (src/catalog/commit.c, model.c) on a fresh catalog (pl_catalog_create) per test and driver.
 *
 * Covers advancing a model by data changes (pl_model_advance) against a full load, committing
 * schemas/tables/columns (ids, schema_version, snapshot_changes text), time
 * travel through pl_model_load, file inserts updating table and column statistics (min/max
 * merge via pl_stats_compare), and conflict detection on stale base snapshots.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/commit.h"
#include "catalog/init.h"
#include "catalog/model.h"

#include "fixture.h"

static int setup(void **state)
{
	return fixture_setup(state, "commit");
}

static pl_rows *q(fixture *f, const char *sql, int64_t arg)
{
	pl_err err = {0};
	pl_rows *r = NULL;
	pl_val p = PL_VINT(arg);
	if (pl_catdb_query(f->db, sql, &p, strchr(sql, '?') ? 1 : 0, &r, &err))
		fail_msg("%s: %s", sql, err.msg);
	return r;
}

static void add_col(pl_new_table *nt, int64_t id, int64_t order, int64_t parent, const char *name,
		    const char *type, bool nulls)
{
	nt->columns = realloc(nt->columns, (nt->ncolumns + 1) * sizeof(*nt->columns));
	nt->columns[nt->ncolumns++] = (pl_new_column){.id = id, .order = order, .parent = parent,
		.name = strdup(name), .type = strdup(type), .default_value = strdup("NULL"),
		.default_value_type = strdup("literal"), .nulls_allowed = nulls};
}

/* A table with columns id int64, name varchar NOT NULL, s struct(a int32, b list(varchar)). */
static pl_new_table *add_table(pl_txn *t, int64_t schema_ref, const char *schema, const char *name)
{
	pl_new_table *nt = pl_txn_add_table(t);
	nt->schema_ref = schema_ref;
	nt->schema_name = strdup(schema);
	nt->name = strdup(name);
	add_col(nt, 1, 1, -1, "id", "int64", true);
	add_col(nt, 2, 2, -1, "name", "varchar", false);
	add_col(nt, 3, 3, -1, "s", "struct", true);
	add_col(nt, 4, 4, 3, "a", "int32", true);
	add_col(nt, 5, 5, 3, "b", "list", true);
	add_col(nt, 6, 6, 5, "element", "varchar", true);
	return nt;
}

static int64_t commit_ok(fixture *f, pl_txn *t, int64_t base)
{
	pl_err err = {0};
	int64_t snap = -1;
	if (pl_commit(f->db, t, base, &snap, &err))
		fail_msg("commit: %s", err.msg);
	return snap;
}

/* Commits main.<name> on top of the latest snapshot; returns the table id. */
static int64_t create_table(fixture *f, const char *name, int64_t *snap)
{
	pl_txn t = {0};
	pl_new_table *nt = add_table(&t, 0, "main", name);
	int64_t s = commit_ok(f, &t, 0);
	int64_t id = nt->assigned_id;
	pl_txn_dispose(&t);
	if (snap)
		*snap = s;
	return id;
}

static void add_stats(pl_new_file *nf, int64_t col, const char *type, const char *min, const char *max,
		      int64_t nulls)
{
	nf->stats = realloc(nf->stats, (nf->nstats + 1) * sizeof(*nf->stats));
	nf->stats[nf->nstats++] = (pl_column_stats){.column_id = col, .value_count = 3, .null_count = nulls,
		.column_size = -1, .min = min ? strdup(min) : NULL, .max = max ? strdup(max) : NULL,
		.contains_nan = -1, .type = strdup(type)};
}

static void insert_file(fixture *f, int64_t table, const char *path, const char *imin, const char *imax,
			const char *smin, const char *smax, int64_t snulls)
{
	pl_txn t = {0};
	pl_new_file *nf = pl_txn_add_file(&t);
	nf->table_ref = table;
	nf->path = strdup(path);
	nf->record_count = 3;
	nf->file_size = 100;
	nf->footer_size = 10;
	add_stats(nf, 1, "int64", imin, imax, 0);
	add_stats(nf, 2, "varchar", smin, smax, snulls);
	commit_ok(f, &t, 0);
	pl_txn_dispose(&t);
}

static void commit__create_schema_and_tables(void **state)
{
	fixture *f = *state;
	pl_txn t = {0};
	assert_true(pl_txn_is_empty(&t));
	pl_new_schema *ns = pl_txn_add_schema(&t);
	ns->name = strdup("s1");
	add_table(&t, 0, "main", "t");
	add_table(&t, -1, "s1", "u"); /* in the schema created by this transaction */
	t.author = strdup("me");
	assert_false(pl_txn_is_empty(&t));
	assert_int_equal(commit_ok(f, &t, 0), 1);
	assert_int_equal(t.schemas[0].assigned_id, 1);
	assert_int_equal(t.tables[0].assigned_id, 2);
	assert_int_equal(t.tables[1].assigned_id, 3);
	pl_txn_dispose(&t);

	pl_rows *r = q(f, "SELECT schema_version, next_catalog_id FROM ducklake_snapshot WHERE snapshot_id = ?", 1);
	assert_int_equal(pl_rows_int(r, 0, 0, -1), 1);
	assert_int_equal(pl_rows_int(r, 0, 1, -1), 4);
	pl_rows_free(r);
	r = q(f, "SELECT changes_made, author FROM ducklake_snapshot_changes WHERE snapshot_id = ?", 1);
	assert_string_equal(pl_rows_get(r, 0, 0),
			    "created_schema:\"s1\",created_table:\"main\".\"t\",created_table:\"s1\".\"u\"");
	assert_string_equal(pl_rows_get(r, 0, 1), "me");
	pl_rows_free(r);
	r = q(f, "SELECT count(*) FROM ducklake_schema_versions WHERE begin_snapshot = ? AND schema_version = 1", 1);
	assert_int_equal(pl_rows_int(r, 0, 0, -1), 2);
	pl_rows_free(r);

	pl_err err = {0};
	pl_model *m = NULL;
	assert_int_equal(pl_model_load(&m, f->db, 1, f->data, &err), 0);
	assert_int_equal(m->schema_version, 1);
	const pl_schema *s1 = pl_model_schema(m, "S1");
	assert_non_null(s1);
	const pl_table *u = pl_model_table(m, s1->id, "u");
	assert_non_null(u);
	char dir[200];
	snprintf(dir, sizeof(dir), "%ss1/u/", f->data);
	assert_string_equal(u->dir, dir);
	const pl_table *tt = pl_model_table(m, 0, "t");
	assert_non_null(tt);
	assert_ptr_equal(pl_model_table_by_id(m, 2), tt);
	assert_int_equal(tt->ncolumns, 6);
	assert_int_equal(tt->ntop, 3);
	assert_int_equal(tt->max_column_id, 6);
	assert_int_equal(tt->schema_since, 1);
	assert_string_equal(tt->top[0]->name, "id");
	assert_string_equal(tt->top[1]->type, "varchar");
	assert_false(tt->top[1]->nulls_allowed);
	assert_true(tt->top[0]->nulls_allowed);
	assert_int_equal(tt->top[2]->nchildren, 2);
	assert_string_equal(tt->top[2]->children[1]->children[0]->name, "element");
	pl_buf b = PL_BUF_INIT;
	assert_int_equal(pl_column_duckdb_type(&b, tt->top[2], &err), 0);
	assert_string_equal(pl_buf_cstr(&b), "STRUCT(\"a\" INTEGER, \"b\" VARCHAR[])");
	pl_buf_dispose(&b);
	assert_true(tt->files_deferred); /* read on first use */
	size_t nfiles = 9;
	assert_int_equal(pl_model_table_files(m, tt, NULL, &nfiles, &err), 0);
	assert_int_equal(nfiles, 0);
	assert_false(tt->files_deferred);
	pl_model_free(m);

	/* time travel: snapshot 0 has neither the schema nor the tables */
	assert_int_equal(pl_model_load(&m, f->db, 0, f->data, &err), 0);
	assert_null(pl_model_schema(m, "s1"));
	assert_int_equal(m->ntables, 0);
	pl_model_free(m);
	assert_int_equal(pl_model_load(&m, f->db, 7, f->data, &err), PL_ENOTFOUND);
}

static void commit__file_inserts_update_stats(void **state)
{
	fixture *f = *state;
	int64_t snap = 0, tid = create_table(f, "t", &snap);
	insert_file(f, tid, "a.parquet", "-5", "9", "apple", "kiwi", 1);
	insert_file(f, tid, "b.parquet", "10", "100", "banana", "zebra", 0);
	insert_file(f, tid, "c.parquet", "-7", "8", "cherry", "fig", 0);
	pl_rows *r = q(f, "SELECT schema_version, next_file_id FROM ducklake_snapshot WHERE snapshot_id = ?", snap + 3);
	assert_int_equal(pl_rows_int(r, 0, 0, -1), 1); /* inserts do not change the schema */
	assert_int_equal(pl_rows_int(r, 0, 1, -1), 3);
	pl_rows_free(r);
	r = q(f, "SELECT changes_made FROM ducklake_snapshot_changes WHERE snapshot_id = ?", snap + 1);
	char want[64];
	snprintf(want, sizeof(want), "inserted_into_table:%lld", (long long)tid);
	assert_string_equal(pl_rows_get(r, 0, 0), want);
	pl_rows_free(r);
	r = q(f, "SELECT record_count, next_row_id, file_size_bytes FROM ducklake_table_stats WHERE table_id = ?", tid);
	assert_int_equal(r->nrows, 1);
	assert_int_equal(pl_rows_int(r, 0, 0, -1), 9);
	assert_int_equal(pl_rows_int(r, 0, 1, -1), 9);
	assert_int_equal(pl_rows_int(r, 0, 2, -1), 300);
	pl_rows_free(r);
	r = q(f, "SELECT column_id, contains_null, contains_nan, min_value, max_value FROM ducklake_table_column_stats "
		 "WHERE table_id = ? ORDER BY column_id", tid);
	assert_int_equal(r->nrows, 2);
	assert_string_equal(pl_rows_get(r, 0, 3), "-7"); /* numeric, not text, order */
	assert_string_equal(pl_rows_get(r, 0, 4), "100");
	assert_false(pl_rows_bool(r, 0, 1, true));
	assert_true(pl_rows_is_null(r, 0, 2)); /* contains_nan unknown */
	assert_string_equal(pl_rows_get(r, 1, 3), "apple");
	assert_string_equal(pl_rows_get(r, 1, 4), "zebra");
	assert_true(pl_rows_bool(r, 1, 1, false)); /* the first file had a NULL */
	pl_rows_free(r);
	r = q(f, "SELECT row_id_start, record_count, begin_snapshot FROM ducklake_data_file WHERE table_id = ? "
		 "ORDER BY data_file_id", tid);
	assert_int_equal(r->nrows, 3);
	assert_int_equal(pl_rows_int(r, 1, 0, -1), 3);
	assert_int_equal(pl_rows_int(r, 2, 0, -1), 6);
	assert_int_equal(pl_rows_int(r, 2, 2, -1), snap + 3);
	pl_rows_free(r);

	pl_err err = {0};
	pl_model *m = NULL;
	assert_int_equal(pl_model_load(&m, f->db, snap + 2, f->data, &err), 0);
	const pl_table *t = pl_model_table_by_id(m, tid);
	assert_int_equal(pl_model_table_files(m, t, NULL, NULL, &err), 0);
	assert_int_equal(t->nfiles, 2); /* the third file is not visible yet */
	char path[200];
	snprintf(path, sizeof(path), "%smain/t/b.parquet", f->data);
	assert_string_equal(t->files[1].path, path);
	assert_int_equal(t->files[1].row_id_start, 3);
	assert_true(t->has_stats);
	pl_model_free(m);
}

static void commit__all_null_file_keeps_table_bounds(void **state)
{
	fixture *f = *state;
	int64_t tid = create_table(f, "t", NULL);
	insert_file(f, tid, "a.parquet", "1", "5", "b", "m", 0);
	insert_file(f, tid, "b.parquet", "2", "3", NULL, NULL, 3); /* column 2 is all NULL here */
	pl_rows *r = q(f, "SELECT contains_null, min_value, max_value FROM ducklake_table_column_stats "
			  "WHERE table_id = ? AND column_id = 2", tid);
	assert_true(pl_rows_bool(r, 0, 0, false));
	assert_string_equal(pl_rows_get(r, 0, 1), "b");
	assert_string_equal(pl_rows_get(r, 0, 2), "m");
	pl_rows_free(r);
}

static void commit__unknown_bounds_make_table_bounds_unknown(void **state)
{
	fixture *f = *state;

	int64_t tid = create_table(f, "t", NULL);
	insert_file(f, tid, "a.parquet", "1", "5", "b", "m", 0);
	insert_file(f, tid, "b.parquet", "2", "3", NULL, NULL, 0); /* 3 values, no NULLs, no bounds */
	pl_rows *r = q(f, "SELECT min_value, max_value FROM ducklake_table_column_stats "
			  "WHERE table_id = ? AND column_id = 2", tid);
	assert_true(pl_rows_is_null(r, 0, 0));
	assert_true(pl_rows_is_null(r, 0, 1));
	pl_rows_free(r);
}

static void commit__stats_compare(void **state)
{
	(void)state;
	assert_true(pl_stats_compare("int64", "-5", "10") < 0);
	assert_true(pl_stats_compare("int64", "10", "9") > 0);
	assert_true(pl_stats_compare("int32", "-10", "-5") < 0);
	assert_true(pl_stats_compare("uint8", "200", "30") > 0);
	assert_int_equal(pl_stats_compare("int16", "42", "42"), 0);
	assert_true(pl_stats_compare("int128", "170141183460469231731687303715884105727",
				     "170141183460469231731687303715884105726") > 0);
	assert_true(pl_stats_compare("float64", "1.5", "10.25") < 0);
	assert_true(pl_stats_compare("float32", "-0.5", "-0.25") < 0);
	assert_true(pl_stats_compare("float64", "1e3", "999") > 0);
	assert_true(pl_stats_compare("decimal(9,2)", "9.50", "10.00") < 0);
	assert_true(pl_stats_compare("varchar", "10", "9") < 0); /* text order */
	assert_true(pl_stats_compare("date", "2024-01-31", "2024-02-01") < 0);
	assert_true(pl_stats_compare(NULL, "b", "a") > 0);
}

static void commit__stats_compare_wide_decimals_exactly(void **state)
{
	(void)state;

	assert_true(pl_stats_compare("decimal(18,3)", "123456789012345.678", "123456789012345.679") < 0);
	assert_true(pl_stats_compare("decimal(38,0)", "12345678901234567890123", "12345678901234567890124") < 0);
}

static void commit__stale_base_conflicts_with_dropped_table(void **state)
{
	fixture *f = *state;
	int64_t base = 0, tid = create_table(f, "t", &base);
	pl_txn drop = {0};
	pl_dropped *d = pl_txn_add_dropped_table(&drop);
	d->id = tid;
	d->name = strdup("t");
	assert_int_equal(commit_ok(f, &drop, base), base + 1);
	pl_txn_dispose(&drop);
	pl_model *m = NULL;
	pl_err err = {0};
	assert_int_equal(pl_model_load(&m, f->db, base + 1, f->data, &err), 0);
	assert_null(pl_model_table_by_id(m, tid)); /* gone after the drop ... */
	pl_model_free(m);
	assert_int_equal(pl_model_load(&m, f->db, base, f->data, &err), 0);
	assert_non_null(pl_model_table_by_id(m, tid)); /* ... still there before it */
	pl_model_free(m);

	pl_txn ins = {0};
	pl_new_file *nf = pl_txn_add_file(&ins);
	nf->table_ref = tid;
	nf->path = strdup("late.parquet");
	nf->record_count = 1;
	int64_t snap = -1;
	assert_int_equal(pl_commit(f->db, &ins, base, &snap, &err), PL_ECONFLICT);
	assert_int_equal(snap, -1);
	assert_non_null(strstr(err.msg, "another transaction has dropped it"));
	char want[64];
	snprintf(want, sizeof(want), "table %lld", (long long)tid);
	assert_non_null(strstr(err.msg, want));
	pl_txn_dispose(&ins);
	int64_t latest = -1;
	assert_int_equal(pl_catalog_latest_snapshot(f->db, &latest, &err), 0);
	assert_int_equal(latest, base + 1); /* nothing written */
	pl_rows *r = q(f, "SELECT count(*) FROM ducklake_data_file", 0);
	assert_int_equal(pl_rows_int(r, 0, 0, -1), 0);
	pl_rows_free(r);

	/* the same drop again from the stale base also conflicts */
	pl_txn again = {0};
	d = pl_txn_add_dropped_table(&again);
	d->id = tid;
	assert_int_equal(pl_commit(f->db, &again, base, &snap, &err), PL_ECONFLICT);
	pl_txn_dispose(&again);
}

static void commit__stale_base_conflicts_on_same_new_table_only(void **state)
{
	fixture *f = *state;
	/* a name with a comma and a quote exercises the quoting of snapshot_changes */
	create_table(f, "t,\"x", NULL); /* snapshot 1, committed after our base 0 */
	pl_txn same = {0};
	add_table(&same, 0, "main", "t,\"x");
	pl_err err = {0};
	int64_t snap = -1;
	assert_int_equal(pl_commit(f->db, &same, 0, &snap, &err), PL_ECONFLICT);
	assert_non_null(strstr(err.msg, "Transaction conflict: cannot create table \"t,\"x\": another transaction has "
					"created it (snapshot 1)"));
	pl_txn_dispose(&same);
	pl_txn other = {0}; /* a different table from the same stale base is fine */
	add_table(&other, 0, "main", "t");
	assert_int_equal(commit_ok(f, &other, 0), 2);
	assert_int_equal(other.tables[0].assigned_id, 2);
	pl_txn_dispose(&other);
}

static void commit__conflict_detection_sees_all_changes_of_a_snapshot(void **state)
{
	fixture *f = *state;

	pl_txn many = {0};
	char name[16];
	for (int i = 0; i < 70; i++) {
		snprintf(name, sizeof(name), "t%d", i);
		pl_new_table *nt = pl_txn_add_table(&many);
		nt->schema_name = strdup("main");
		nt->name = strdup(name);
	}
	commit_ok(f, &many, 0);
	pl_txn_dispose(&many);
	pl_txn late = {0};
	add_table(&late, 0, "main", "t69");
	pl_err err = {0};
	int64_t snap = -1;
	assert_int_equal(pl_commit(f->db, &late, 0, &snap, &err), PL_ECONFLICT);
	pl_txn_dispose(&late);
}

static void commit__drop_schema_conflicts_with_concurrent_table_in_it(void **state)
{
	fixture *f = *state;

	pl_txn mk = {0};
	pl_txn_add_schema(&mk)->name = strdup("s");
	int64_t base = commit_ok(f, &mk, 0);
	int64_t sid = mk.schemas[0].assigned_id;
	pl_txn_dispose(&mk);
	pl_txn tbl = {0};
	add_table(&tbl, sid, "s", "t");
	commit_ok(f, &tbl, base);
	pl_txn_dispose(&tbl);
	pl_txn drop = {0};
	pl_dropped *d = pl_txn_add_dropped_schema(&drop);
	d->id = sid;
	d->name = strdup("s");
	pl_err err = {0};
	int64_t snap = -1;
	assert_int_equal(pl_commit(f->db, &drop, base, &snap, &err), PL_ECONFLICT);
	pl_txn_dispose(&drop);
}

static int64_t file_id_of(fixture *f, const char *path)
{
	pl_rows *r = NULL;
	pl_err err = {0};
	pl_val p = PL_VTEXT(path);
	if (pl_catdb_query(f->db, "SELECT data_file_id FROM ducklake_data_file WHERE path = ?", &p, 1, &r, &err))
		fail_msg("%s", err.msg);
	int64_t id = pl_rows_int(r, 0, 0, -1);
	pl_rows_free(r);
	return id;
}

static void delete_rows(fixture *f, int64_t table, int64_t file, const char *path, int64_t replaces)
{
	pl_txn t = {0};
	pl_new_delete *d = pl_txn_add_delete(&t);
	*d = (pl_new_delete){table, file, strdup(path), strdup("parquet"), 1, 50, 5, replaces, -1, 0, false, NULL, false, false, -1, -1};
	pl_err err = {0};
	int64_t latest = -1;
	assert_int_equal(pl_catalog_latest_snapshot(f->db, &latest, &err), 0);
	commit_ok(f, &t, latest);
	pl_txn_dispose(&t);
}

static void assert_same_files(const pl_model *ma, const pl_table *a, const pl_model *mb, const pl_table *b)
{
	pl_err err = {0};
	assert_int_equal(pl_model_table_files(ma, a, NULL, NULL, &err), 0);
	assert_int_equal(pl_model_table_files(mb, b, NULL, NULL, &err), 0);
	assert_int_equal(a->nfiles, b->nfiles);
	for (size_t i = 0; i < a->nfiles; i++) {
		assert_int_equal(a->files[i].id, b->files[i].id);
		assert_string_equal(a->files[i].path, b->files[i].path);
		assert_int_equal(a->files[i].delete_id, b->files[i].delete_id);
		if (a->files[i].delete_path || b->files[i].delete_path)
			assert_string_equal(a->files[i].delete_path, b->files[i].delete_path);
	}
	assert_int_equal(a->record_count, b->record_count);
	assert_int_equal(a->next_row_id, b->next_row_id);
}

/* Advancing a model by inserts, deletes, replaced delete files and ended files gives what a full
 * load at the new snapshot gives; a schema change needs the full load. */
static void commit__advance_matches_full_load(void **state)
{
	fixture *f = *state;
	pl_err err = {0};
	int64_t table = create_table(f, "t", NULL);
	insert_file(f, table, "a.parquet", "1", "3", "a", "c", 0);
	insert_file(f, table, "b.parquet", "4", "6", "d", "f", 0);
	int64_t latest = -1;
	assert_int_equal(pl_catalog_latest_snapshot(f->db, &latest, &err), 0);
	pl_model *m = NULL, *full = NULL, *lazy = NULL;
	assert_int_equal(pl_model_load(&m, f->db, latest, f->data, &err), 0);
	assert_int_equal(pl_model_table_files(m, pl_model_table_by_id(m, table), NULL, NULL, &err), 0);
	/* a model whose table's files are not loaded yet advances too: they load at the new snapshot */
	assert_int_equal(pl_model_load(&lazy, f->db, latest, f->data, &err), 0);
	pl_files_summary sum;
	assert_int_equal(pl_model_table_summary(lazy, pl_model_table_by_id(lazy, table), &sum, &err), 0);
	assert_int_equal(sum.nfiles, 2);
	assert_false(sum.current_deletes);

	int64_t a = file_id_of(f, "a.parquet"), b = file_id_of(f, "b.parquet");
	insert_file(f, table, "c.parquet", "7", "9", "g", "i", 0);
	delete_rows(f, table, a, "del-a1.parquet", -1);
	pl_rows *r = q(f, "SELECT max(delete_file_id) FROM ducklake_delete_file WHERE data_file_id = ?", a);
	int64_t first_delete = pl_rows_int(r, 0, 0, -1);
	pl_rows_free(r);
	delete_rows(f, table, a, "del-a2.parquet", first_delete);
	pl_txn t = {0};
	*pl_txn_add_ended_file(&t) = (pl_ended_file){table, b, -1};
	assert_int_equal(pl_catalog_latest_snapshot(f->db, &latest, &err), 0);
	commit_ok(f, &t, latest);
	pl_txn_dispose(&t);

	assert_int_equal(pl_catalog_latest_snapshot(f->db, &latest, &err), 0);
	bool advanced = false;
	assert_int_equal(pl_model_advance(m, f->db, latest, &advanced, &err), 0);
	assert_true(advanced);
	assert_int_equal(m->snapshot_id, latest);
	assert_int_equal(pl_model_load(&full, f->db, latest, f->data, &err), 0);
	assert_same_files(m, pl_model_table_by_id(m, table), full, pl_model_table_by_id(full, table));
	const pl_table *mt = pl_model_table_by_id(m, table);
	assert_int_equal(mt->nfiles, 2); /* a (with its second delete file) and c */
	assert_non_null(strstr(mt->files[0].delete_path, "del-a2.parquet"));
	assert_int_equal(pl_model_advance(lazy, f->db, latest, &advanced, &err), 0);
	assert_true(advanced);
	const pl_table *lt = pl_model_table_by_id(lazy, table);
	assert_true(lt->files_deferred);
	assert_false(lt->summary_known); /* its files changed */
	assert_int_equal(pl_model_table_summary(lazy, lt, &sum, &err), 0);
	assert_int_equal(sum.nfiles, 2);
	assert_true(sum.current && !sum.older && sum.current_deletes && !sum.older_deletes);
	assert_same_files(lazy, lt, full, pl_model_table_by_id(full, table));
	pl_model_free(lazy);
	pl_model_free(full);

	create_table(f, "u", NULL); /* DDL: a full load is needed */
	assert_int_equal(pl_catalog_latest_snapshot(f->db, &latest, &err), 0);
	assert_int_equal(pl_model_advance(m, f->db, latest, &advanced, &err), 0);
	assert_false(advanced);
	assert_int_not_equal(m->snapshot_id, latest);
	pl_model_free(m);
}

/* A commit that takes the latest snapshot to be its connection's last one (nothing was written
 * since, as far as it knows) while another connection's commit landed meanwhile: the two take
 * the same snapshot id, the catalog refuses this one, and the retry commits on top of the other. */
static void commit__own_latest_assumed_loses_the_race_and_retries(void **state)
{
	fixture *f = *state;
	pl_err err = {0};
	int64_t snap = 0, tid = create_table(f, "t", &snap);
	insert_file(f, tid, "a.parquet", "1", "5", "b", "m", 0);
	pl_catdb *other = NULL;
	assert_int_equal(f->db->ops->clone(f->db, &other, &err), 0);
	pl_txn t = {0};
	pl_new_file *nf = pl_txn_add_file(&t);
	nf->table_ref = tid;
	nf->path = strdup("other.parquet");
	nf->record_count = 3;
	nf->file_size = 100;
	nf->footer_size = 10;
	int64_t other_snap = -1;
	assert_int_equal(pl_commit(other, &t, snap + 1, &other_snap, &err), 0);
	pl_txn_dispose(&t);
	assert_int_equal(other_snap, snap + 2);
	/* as if this connection had checked for writes just before the other commit landed */
	f->db->latest_gen = pl_catdb_generation(f->db);
	insert_file(f, tid, "c.parquet", "-7", "8", "cherry", "fig", 0);
	pl_rows *r = q(f, "SELECT count(*), max(snapshot_id) FROM ducklake_snapshot WHERE snapshot_id > ?", snap);
	assert_int_equal(pl_rows_int(r, 0, 0, -1), 3);
	assert_int_equal(pl_rows_int(r, 0, 1, -1), snap + 3);
	pl_rows_free(r);
	r = q(f, "SELECT count(*), sum(record_count) FROM ducklake_data_file WHERE table_id = ?", tid);
	assert_int_equal(pl_rows_int(r, 0, 0, -1), 3);
	pl_rows_free(r);
	r = q(f, "SELECT record_count, next_row_id FROM ducklake_table_stats WHERE table_id = ?", tid);
	assert_int_equal(pl_rows_int(r, 0, 0, -1), 9);
	assert_int_equal(pl_rows_int(r, 0, 1, -1), 9);
	pl_rows_free(r);
	r = q(f, "SELECT min_value, max_value FROM ducklake_table_column_stats WHERE table_id = ? AND column_id = 1", tid);
	assert_string_equal(pl_rows_get(r, 0, 0), "-7");
	assert_string_equal(pl_rows_get(r, 0, 1), "8");
	pl_rows_free(r);
	pl_catdb_close(other);
}

#define BOTH(fn) {#fn "/sqlite", fn, setup, teardown, (void *)"sqlite"}, \
		 {#fn "/duckdb", fn, setup, teardown, (void *)"duckdb"}

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(commit__create_schema_and_tables),
		BOTH(commit__file_inserts_update_stats),
		BOTH(commit__all_null_file_keeps_table_bounds),
		BOTH(commit__unknown_bounds_make_table_bounds_unknown),
		cmocka_unit_test(commit__stats_compare),
		cmocka_unit_test(commit__stats_compare_wide_decimals_exactly),
		BOTH(commit__stale_base_conflicts_with_dropped_table),
		BOTH(commit__stale_base_conflicts_on_same_new_table_only),
		BOTH(commit__conflict_detection_sees_all_changes_of_a_snapshot),
		BOTH(commit__drop_schema_conflicts_with_concurrent_table_in_it),
		BOTH(commit__advance_matches_full_load),
		BOTH(commit__own_latest_assumed_loses_the_race_and_retries),
	};
	return cmocka_run_group_tests_name("catalog/commit", tests, NULL, NULL);
}
