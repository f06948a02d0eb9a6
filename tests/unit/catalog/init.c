/*
 * tests/unit/catalog/init.c -- cmocka tests of creating and validating a DuckLake catalog
 * (src/catalog/init.c, with pl_model_load/pl_catalog_latest_snapshot of src/catalog/model.c),
 * on a fresh catalog file per test and driver.
 *
 * Covers the snapshot 0 rows (snapshot, changes, metadata, schema "main"), metadata lookup,
 * the model at snapshot 0, pl_catalog_check_version on newer, older and missing versions, and the
 * migration of a DuckLake 0.3 catalog.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/init.h"
#include "catalog/model.h"

#include "fixture.h"

static int setup(void **state)
{
	return fixture_setup(state, "init");
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
static void init__create_writes_snapshot_zero(void **state)
{
	fixture *f = *state;
	pl_rows *r = q(f, "SELECT snapshot_id, schema_version, next_catalog_id, next_file_id FROM ducklake_snapshot", 0);
	assert_int_equal(r->nrows, 1);
	assert_int_equal(pl_rows_int(r, 0, 0, -1), 0);
	assert_int_equal(pl_rows_int(r, 0, 1, -1), 0);
	assert_int_equal(pl_rows_int(r, 0, 2, -1), 1);
	assert_int_equal(pl_rows_int(r, 0, 3, -1), 0);
	pl_rows_free(r);
	r = q(f, "SELECT changes_made FROM ducklake_snapshot_changes WHERE snapshot_id = 0", 0);
	assert_string_equal(pl_rows_get(r, 0, 0), "created_schema:\"main\"");
	pl_rows_free(r);
	pl_err err = {0};
	char *v = NULL;
	assert_int_equal(pl_catalog_metadata(f->db, "version", &v, &err), 0);
	assert_string_equal(v, "1.0");
	free(v);
	assert_int_equal(pl_catalog_metadata(f->db, "data_path", &v, &err), 0);
	assert_string_equal(v, f->data);
	free(v);
	assert_int_equal(pl_catalog_metadata(f->db, "no_such_key", &v, &err), 0);
	assert_null(v);
	int64_t latest = -1;
	assert_int_equal(pl_catalog_latest_snapshot(f->db, &latest, &err), 0);
	assert_int_equal(latest, 0);
	assert_int_equal(pl_catalog_check_version(f->db, f->path, false, &err), 0);
	pl_model *m = NULL;
	assert_int_equal(pl_model_load(&m, f->db, 0, f->data, &err), 0);
	assert_int_equal(m->nschemas, 1);
	assert_string_equal(m->schemas[0].name, "main");
	char dir[160];
	snprintf(dir, sizeof(dir), "%smain/", f->data);
	assert_string_equal(m->schemas[0].dir, dir);
	assert_int_equal(m->ntables, 0);
	assert_non_null(m->snapshot_time);
	pl_model_free(m);
}

static void init__check_version_rejects_other_versions(void **state)
{
	fixture *f = *state;
	pl_err err = {0};
	pl_val v2 = PL_VTEXT("2.0");
	assert_int_equal(pl_catdb_exec(f->db, "UPDATE ducklake_metadata SET \"value\" = ? WHERE \"key\" = 'version'",
				       &v2, 1, &err), 0);
	assert_int_equal(pl_catalog_check_version(f->db, "lk", false, &err), PL_EUNSUPPORTED);
	assert_non_null(strstr(err.msg, "2.0"));
	assert_non_null(strstr(err.msg, "newer"));
	pl_val v0 = PL_VTEXT("0.3");
	pl_catdb_exec(f->db, "UPDATE ducklake_metadata SET \"value\" = ? WHERE \"key\" = 'version'", &v0, 1, &err);
	assert_int_equal(pl_catalog_check_version(f->db, "lk", false, &err), PL_EUNSUPPORTED);
	assert_non_null(strstr(err.msg, "AUTOMATIC_MIGRATION"));
	pl_catdb_exec(f->db, "DELETE FROM ducklake_metadata WHERE \"key\" = 'version'", NULL, 0, &err);
	assert_int_equal(pl_catalog_check_version(f->db, "lk", false, &err), PL_ECATALOG);
	assert_non_null(strstr(err.msg, "no version"));
}

static void init__create_makes_every_spec_table(void **state)
{
	fixture *f = *state;
	static const char *const tables[] = {"ducklake_metadata", "ducklake_snapshot", "ducklake_snapshot_changes",
		"ducklake_schema", "ducklake_table", "ducklake_column", "ducklake_data_file", "ducklake_delete_file",
		"ducklake_file_column_stats", "ducklake_table_stats", "ducklake_table_column_stats",
		"ducklake_inlined_data_tables", "ducklake_schema_versions", "ducklake_sort_expression"};
	pl_err err = {0};
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		bool yes = false;
		assert_int_equal(f->db->ops->table_exists(f->db, tables[i], &yes, &err), 0);
		if (!yes)
			fail_msg("%s missing", tables[i]);
	}
	pl_rows *r = q(f, "SELECT schema_id, schema_name, path, path_is_relative, end_snapshot FROM ducklake_schema", 0);
	assert_int_equal(r->nrows, 1);
	assert_int_equal(pl_rows_int(r, 0, 0, -1), 0);
	assert_string_equal(pl_rows_get(r, 0, 2), "main/");
	assert_true(pl_rows_bool(r, 0, 3, false));
	assert_true(pl_rows_is_null(r, 0, 4));
	pl_rows_free(r);
	/* creating twice fails (tables exist) and leaves the catalog as it was */
	assert_int_not_equal(pl_catalog_create(f->db, f->data, &err), 0);
	assert_non_null(strstr(err.msg, "cannot create the lake's catalog"));
	r = q(f, "SELECT count(*) FROM ducklake_snapshot", 0);
	assert_int_equal(pl_rows_int(r, 0, 0, -1), 1);
	pl_rows_free(r);
}

static void run(fixture *f, const char *sql)
{
	pl_err err = {0};
	if (pl_catdb_exec(f->db, sql, NULL, 0, &err))
		fail_msg("%s: %s", sql, err.msg);
}

/* A fresh 1.0 catalog turned back into DuckLake 0.3's shape (no macros, sort orders, variant
 * statistics, column default types, per-table schema versions or partial_max; partial_file_info
 * instead), with one table and one file, then migrated. */
static void init__migrates_a_03_catalog(void **state)
{
	fixture *f = *state;
	static const char *const downgrade[] = {
		"DROP TABLE ducklake_macro", "DROP TABLE ducklake_macro_impl", "DROP TABLE ducklake_macro_parameters",
		"DROP TABLE ducklake_sort_info", "DROP TABLE ducklake_sort_expression",
		"DROP TABLE ducklake_file_variant_stats",
		"ALTER TABLE ducklake_column DROP COLUMN default_value_type",
		"ALTER TABLE ducklake_column DROP COLUMN default_value_dialect",
		"ALTER TABLE ducklake_data_file DROP COLUMN partial_max",
		"ALTER TABLE ducklake_data_file ADD COLUMN partial_file_info VARCHAR",
		"ALTER TABLE ducklake_delete_file DROP COLUMN partial_max",
		"DELETE FROM ducklake_schema_versions", "ALTER TABLE ducklake_schema_versions DROP COLUMN table_id",
		"INSERT INTO ducklake_schema_versions VALUES (0, 0), (1, 1), (2, 2)",
		"INSERT INTO ducklake_snapshot VALUES (1, '2024-01-01 00:00:00+00', 1, 3, 1), "
		"(2, '2024-01-02 00:00:00+00', 2, 3, 2)",
		"INSERT INTO ducklake_table VALUES (1, '00000000-0000-4000-8000-000000000001', 1, NULL, 0, 't', 't/', true)",
		"INSERT INTO ducklake_table VALUES (2, '00000000-0000-4000-8000-000000000002', 1, 2, 0, 'gone', 'gone/', true)",
		"INSERT INTO ducklake_column (column_id, begin_snapshot, table_id, column_order, column_name, column_type, "
		"nulls_allowed) VALUES (1, 1, 1, 1, 'i', 'int32', true)",
		"INSERT INTO ducklake_data_file (data_file_id, table_id, begin_snapshot, path, path_is_relative, "
		"file_format, record_count, file_size_bytes, row_id_start, partial_file_info) VALUES "
		"(0, 1, 1, 'a.parquet', true, 'parquet', 10, 100, 0, 'partial_max:7'), "
		"(1, 1, 2, 'b.parquet', true, 'parquet', 10, 100, 10, NULL)",
		"UPDATE ducklake_metadata SET \"value\" = '0.3' WHERE \"key\" = 'version'",
	};
	for (size_t i = 0; i < sizeof(downgrade) / sizeof(downgrade[0]); i++)
		run(f, downgrade[i]);
	pl_err err = {0};
	assert_int_equal(pl_catalog_check_version(f->db, "lk", false, &err), PL_EUNSUPPORTED);
	assert_non_null(strstr(err.msg, "AUTOMATIC_MIGRATION"));
	pl_rows *r = q(f, "SELECT \"value\" FROM ducklake_metadata WHERE \"key\" = 'version'", 0);
	assert_string_equal(pl_rows_get(r, 0, 0), "0.3"); /* refused: nothing changed */
	pl_rows_free(r);
	assert_int_equal(pl_catalog_check_version(f->db, "lk", true, &err), 0);
	r = q(f, "SELECT \"value\" FROM ducklake_metadata WHERE \"key\" = 'version'", 0);
	assert_string_equal(pl_rows_get(r, 0, 0), "1.0");
	pl_rows_free(r);
	/* partial_max out of partial_file_info */
	r = q(f, "SELECT data_file_id, partial_max FROM ducklake_data_file ORDER BY data_file_id", 0);
	assert_int_equal(r->nrows, 2);
	assert_int_equal(pl_rows_int(r, 0, 1, -1), 7);
	assert_true(pl_rows_is_null(r, 1, 1));
	pl_rows_free(r);
	/* one schema-version row per table that existed at the version's snapshot (its dropping
	 * snapshot included, as DuckLake migrates them); none for snapshot 0 */
	r = q(f, "SELECT table_id, begin_snapshot FROM ducklake_schema_versions ORDER BY table_id, begin_snapshot", 0);
	static const int64_t want[][2] = {{1, 1}, {1, 2}, {2, 1}, {2, 2}};
	assert_int_equal(r->nrows, 4);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(pl_rows_int(r, i, 0, -1), want[i][0]);
		assert_int_equal(pl_rows_int(r, i, 1, -1), want[i][1]);
	}
	pl_rows_free(r);
	r = q(f, "SELECT default_value_type FROM ducklake_column", 0);
	assert_string_equal(pl_rows_get(r, 0, 0), "literal");
	pl_rows_free(r);
	/* every table and column of the 1.0 catalog is there, and the model loads */
	for (size_t i = 0; i < pl_catalog_spec_count(); i++) {
		char *name = NULL;
		pl_strv names = PL_STRV_INIT, types = PL_STRV_INIT;
		assert_int_equal(pl_catalog_spec_table(i, &name, &names, &types, &err), 0);
		char sql[2048];
		int n = snprintf(sql, sizeof(sql), "SELECT ");
		for (size_t c = 0; c < names.len; c++)
			n += snprintf(sql + n, sizeof(sql) - (size_t)n, "%s\"%s\"", c ? ", " : "", names.items[c]);
		snprintf(sql + n, sizeof(sql) - (size_t)n, " FROM %s WHERE 1 = 0", name);
		pl_rows_free(q(f, sql, 0));
		free(name);
		pl_strv_dispose(&names);
		pl_strv_dispose(&types);
	}
	pl_model *m = NULL;
	if (pl_model_load(&m, f->db, 2, f->data, &err))
		fail_msg("model: %s", err.msg);
	assert_int_equal(m->ntables, 1);
	pl_model_free(m);
	/* a current catalog needs nothing more */
	assert_int_equal(pl_catalog_check_version(f->db, "lk", true, &err), 0);
}

#define BOTH(fn) {#fn "/sqlite", fn, setup, teardown, (void *)"sqlite"}, \
		 {#fn "/duckdb", fn, setup, teardown, (void *)"duckdb"}

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(init__create_writes_snapshot_zero),
		BOTH(init__create_makes_every_spec_table),
		BOTH(init__check_version_rejects_other_versions),
		BOTH(init__migrates_a_03_catalog),
	};
	return cmocka_run_group_tests_name("catalog/init", tests, NULL, NULL);
}
