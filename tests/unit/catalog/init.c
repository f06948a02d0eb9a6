/*
 * tests/unit/catalog/init.c -- cmocka tests of creating and validating a DuckLake catalog
 * (src/catalog/init.c, with pl_model_load/pl_catalog_latest_snapshot of src/catalog/model.c),
 * on a fresh catalog file per test and driver.
 *
 * Covers the snapshot 0 rows (snapshot, changes, metadata, schema "main"), metadata lookup,
 * the model at snapshot 0, and pl_catalog_check_version on newer, older and missing versions.
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
	assert_int_equal(pl_catalog_check_version(f->db, f->path, &err), 0);
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
	assert_int_equal(pl_catalog_check_version(f->db, "lk", &err), PL_EUNSUPPORTED);
	assert_non_null(strstr(err.msg, "2.0"));
	assert_non_null(strstr(err.msg, "newer"));
	pl_val v0 = PL_VTEXT("0.3");
	pl_catdb_exec(f->db, "UPDATE ducklake_metadata SET \"value\" = ? WHERE \"key\" = 'version'", &v0, 1, &err);
	assert_int_equal(pl_catalog_check_version(f->db, "lk", &err), PL_EUNSUPPORTED);
	assert_non_null(strstr(err.msg, "upgrade"));
	pl_catdb_exec(f->db, "DELETE FROM ducklake_metadata WHERE \"key\" = 'version'", NULL, 0, &err);
	assert_int_equal(pl_catalog_check_version(f->db, "lk", &err), PL_ECATALOG);
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

#define BOTH(fn) {#fn "/sqlite", fn, setup, teardown, (void *)"sqlite"}, \
		 {#fn "/duckdb", fn, setup, teardown, (void *)"duckdb"}

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(init__create_writes_snapshot_zero),
		BOTH(init__create_makes_every_spec_table),
		BOTH(init__check_version_rejects_other_versions),
	};
	return cmocka_run_group_tests_name("catalog/init", tests, NULL, NULL);
}
