/*
 * tests/unit/catalog/options.c -- cmocka tests of lake options by scope (src/catalog/options.c)
 * on a fresh catalog per driver (SQLite, DuckDB file): table scope wins over schema scope over
 * the global value, unset options are NULL, other tables' and schemas' values do not leak; answers
 * a catalog connection keeps (options, the latest snapshot) follow writes made through another
 * connection to the same catalog.
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
#include "catalog/options.h"

#include "fixture.h"

static int setup(void **state)
{
	return fixture_setup(state, "options");
}

static void set(fixture *f, const char *key, const char *value, const char *scope, int64_t scope_id)
{
	pl_err err = {0};
	pl_val p[] = {PL_VTEXT(key), PL_VTEXT(value), PL_VTEXT(scope), scope ? PL_VINT(scope_id) : PL_VNULL};
	if (pl_catdb_exec(f->db, "INSERT INTO ducklake_metadata (\"key\", \"value\", \"scope\", scope_id) VALUES (?, ?, ?, ?)",
			  p, 4, &err))
		fail_msg("%s", err.msg);
}

static void options__scopes(void **state)
{
	fixture *f = *state;
	static const char *const keys[] = {"a", "b", "c", "d"};
	char *v[4];
	pl_err err = {0};
	set(f, "a", "global-a", NULL, 0);
	set(f, "a", "schema-a", "schema", 7);
	set(f, "a", "table-a", "table", 3);
	set(f, "b", "schema-b", "schema", 7);
	set(f, "b", "global-b", NULL, 0);
	set(f, "c", "other-table-c", "table", 4);
	set(f, "c", "other-schema-c", "schema", 8);
	assert_int_equal(pl_catalog_options(f->db, 3, 7, keys, 4, v, &err), 0);
	assert_string_equal(v[0], "table-a");
	assert_string_equal(v[1], "schema-b");
	assert_null(v[2]);
	assert_null(v[3]);
	for (int i = 0; i < 4; i++)
		free(v[i]);
	/* a table being created: no table or schema scope */
	assert_int_equal(pl_catalog_options(f->db, -1, -1, keys, 2, v, &err), 0);
	assert_string_equal(v[0], "global-a");
	assert_string_equal(v[1], "global-b");
	free(v[0]);
	free(v[1]);
}

static char *option_of(pl_catdb *db, const char *key)
{
	pl_err err = {0};
	char *v = NULL;
	if (pl_catalog_option(db, 3, 7, key, &v, &err))
		fail_msg("%s", err.msg);
	return v;
}

static void options__kept_answers_follow_other_connections(void **state)
{
	fixture *f = *state;
	pl_err err = {0};
	pl_catdb *other = NULL;
	int64_t latest = -1, again = -1;
	if (f->db->ops->clone(f->db, &other, &err))
		fail_msg("%s", err.msg);
	set(f, "a", "one", NULL, 0);
	char *v = option_of(f->db, "a");
	assert_string_equal(v, "one");
	free(v);
	assert_int_equal(pl_catalog_latest_snapshot(f->db, &latest, &err), 0);
	/* the other connection sets an option and commits a snapshot, in one transaction */
	assert_int_equal(pl_catalog_set_option(other, "a", "two", "table", 3, &err), 0);
	assert_int_equal(other->ops->begin(other, &err), 0);
	pl_val s[] = {PL_VINT(latest + 1), PL_VTEXT("2024-01-01 00:00:00+00"), PL_VINT(0), PL_VINT(1), PL_VINT(0)};
	if (pl_catdb_exec(other, "INSERT INTO ducklake_snapshot VALUES (?, ?, ?, ?, ?)", s, 5, &err))
		fail_msg("%s", err.msg);
	/* not committed: neither connection's answers outside it move */
	v = option_of(f->db, "a");
	assert_string_equal(v, "two"); /* set_option committed on its own */
	free(v);
	assert_int_equal(pl_catalog_latest_snapshot(f->db, &again, &err), 0);
	assert_int_equal(again, latest);
	assert_int_equal(other->ops->commit(other, &err), 0);
	assert_int_equal(pl_catalog_latest_snapshot(f->db, &again, &err), 0);
	assert_int_equal(again, latest + 1);
	/* a write outside a transaction is seen too */
	assert_int_equal(pl_catalog_set_option(other, "a", "three", "table", 3, &err), 0);
	pl_val d = PL_VTEXT("a");
	if (pl_catdb_exec(other, "DELETE FROM ducklake_metadata WHERE \"key\" = ? AND \"scope\" = 'table'", &d, 1, &err))
		fail_msg("%s", err.msg);
	v = option_of(f->db, "a");
	assert_string_equal(v, "one");
	free(v);
	pl_catdb_close(other);
}

#define BOTH(fn) {#fn "/sqlite", fn, setup, teardown, (void *)"sqlite"}, \
		 {#fn "/duckdb", fn, setup, teardown, (void *)"duckdb"}

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(options__scopes),
		BOTH(options__kept_answers_follow_other_connections),
	};
	return cmocka_run_group_tests_name("catalog/options", tests, NULL, NULL);
}
