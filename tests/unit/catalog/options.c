/*
 * tests/unit/catalog/options.c -- cmocka tests of lake options by scope (src/catalog/options.c)
 * on a fresh catalog per driver (SQLite, DuckDB file): table scope wins over schema scope over
 * the global value, unset options are NULL, other tables' and schemas' values do not leak.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/init.h"
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

#define BOTH(fn) {#fn "/sqlite", fn, setup, teardown, (void *)"sqlite"}, \
		 {#fn "/duckdb", fn, setup, teardown, (void *)"duckdb"}

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(options__scopes),
	};
	return cmocka_run_group_tests_name("catalog/options", tests, NULL, NULL);
}
