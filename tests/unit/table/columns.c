/*
 * tests/unit/table/columns.c -- cmocka tests of DuckDB relation <-> DuckLake column trees
 * (src/table/columns.c) on an in-memory DuckDB connection.
 *
 * Covers struct/list/map parents with children and depth-first ids, type names, defaults
 * (literal vs expression) and NOT NULL, rejected constraints (PRIMARY KEY, UNIQUE, CHECK) and
 * types (ENUM, ARRAY, UNION), a missing temp table, and pl_columns_table_def round-tripping.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "table/columns.h"

typedef struct fixture {
	duckdb_database db;
	duckdb_connection con;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	pl_err err = {0};
	if (!f || pl_engine_open(&f->db, NULL, false, &err) || pl_engine_connect(&f->con, f->db, &err))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	duckdb_disconnect(&f->con);
	duckdb_close(&f->db);
	free(f);
	return 0;
}

static void exec_ok(fixture *f, const char *sql)
{
	pl_err err = {0};
	if (pl_engine_exec(f->con, sql, &err))
		fail_msg("%s: %s", sql, err.msg);
}

/* Renders columns as "id:parent:name:type" joined by spaces. */
static char *render(const pl_new_column *c, size_t n)
{
	pl_buf b = PL_BUF_INIT;
	pl_buf_puts(&b, "");
	for (size_t i = 0; i < n; i++)
		pl_buf_printf(&b, "%s%lld:%lld:%s:%s", i ? " " : "", (long long)c[i].id, (long long)c[i].parent,
			      c[i].name, c[i].type);
	return pl_buf_detach(&b);
}

static void columns__nested_types_become_trees_with_depth_first_ids(void **state)
{
	fixture *f = *state;
	exec_ok(f, "CREATE TEMP TABLE n (id INTEGER NOT NULL, s STRUCT(a INTEGER, b VARCHAR[]), "
		   "m MAP(VARCHAR, DOUBLE), l BIGINT[], d DECIMAL(18,3), t TIMESTAMPTZ)");
	pl_new_column *c = NULL;
	size_t n = 0;
	pl_err err = {0};
	assert_int_equal(pl_columns_from_temp_table(f->con, "n", &c, &n, &err), 0);
	char *got = render(c, n);
	assert_string_equal(got, "1:-1:id:int32 2:-1:s:struct 3:2:a:int32 4:2:b:list 5:4:element:varchar "
				 "6:-1:m:map 7:6:key:varchar 8:6:value:float64 9:-1:l:list 10:9:element:int64 "
				 "11:-1:d:decimal(18,3) 12:-1:t:timestamptz");
	free(got);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(c[i].order, c[i].id);
	assert_false(c[0].nulls_allowed);
	assert_true(c[1].nulls_allowed);
	assert_true(c[2].nulls_allowed);
	assert_string_equal(c[0].default_value, "NULL");
	assert_string_equal(c[0].default_value_type, "literal");
	pl_columns_free(c, n);
}

static void columns__defaults_are_literal_or_expression(void **state)
{
	fixture *f = *state;
	exec_ok(f, "CREATE TEMP TABLE d (a DECIMAL(18,3) DEFAULT 1.5, b VARCHAR DEFAULT 'it''s', "
		   "c BIGINT DEFAULT -3, e BOOLEAN DEFAULT true, g TIMESTAMPTZ DEFAULT now(), "
		   "h INTEGER DEFAULT 1 + 2, i VARCHAR DEFAULT 'a' || 'b')");
	pl_new_column *c = NULL;
	size_t n = 0;
	pl_err err = {0};
	assert_int_equal(pl_columns_from_temp_table(f->con, "d", &c, &n, &err), 0);
	assert_int_equal(n, 7);
	const char *kinds[] = {"literal", "literal", "literal", "literal", "expression", "expression", "expression"};
	for (size_t i = 0; i < n; i++)
		if (strcmp(c[i].default_value_type, kinds[i]) != 0)
			fail_msg("column %s default [%s] is %s, expected %s", c[i].name, c[i].default_value,
				 c[i].default_value_type, kinds[i]);
	assert_string_equal(c[0].default_value, "1.5");
	assert_string_equal(c[1].default_value, "it's"); /* literals are stored as their value */
	assert_string_equal(c[2].default_value, "-3");
	assert_non_null(strstr(c[4].default_value, "now()"));
	pl_columns_free(c, n);
}

static void columns__constraints_other_than_not_null_are_rejected(void **state)
{
	fixture *f = *state;
	static const struct {
		const char *ddl, *table, *kind;
	} cases[] = {
		{"CREATE TEMP TABLE pk (id INTEGER PRIMARY KEY, v VARCHAR)", "pk", "PRIMARY KEY"},
		{"CREATE TEMP TABLE uq (id INTEGER UNIQUE)", "uq", "UNIQUE"},
		{"CREATE TEMP TABLE ck (id INTEGER CHECK (id > 0))", "ck", "CHECK"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		exec_ok(f, cases[i].ddl);
		pl_new_column *c = (pl_new_column *)0x1;
		size_t n = 99;
		pl_err err = {0};
		assert_int_equal(pl_columns_from_temp_table(f->con, cases[i].table, &c, &n, &err), PL_EUNSUPPORTED);
		if (!strstr(err.msg, cases[i].kind))
			fail_msg("message for %s: %s", cases[i].kind, err.msg);
		assert_ptr_equal(c, (pl_new_column *)0x1); /* outputs untouched */
		assert_int_equal(n, 99);
	}
	exec_ok(f, "CREATE TEMP TABLE nn (id INTEGER NOT NULL)"); /* NOT NULL is fine */
	pl_new_column *c = NULL;
	size_t n = 0;
	pl_err err = {0};
	assert_int_equal(pl_columns_from_temp_table(f->con, "nn", &c, &n, &err), 0);
	assert_false(c[0].nulls_allowed);
	pl_columns_free(c, n);
}

static void columns__unstorable_types_are_rejected(void **state)
{
	fixture *f = *state;
	exec_ok(f, "CREATE TYPE mood AS ENUM ('sad', 'ok')");
	exec_ok(f, "CREATE TEMP TABLE en (id INTEGER, feel mood)");
	exec_ok(f, "CREATE TEMP TABLE ar (a INTEGER[3])");
	exec_ok(f, "CREATE TEMP TABLE un (u UNION(x INTEGER, y VARCHAR))");
	exec_ok(f, "CREATE TEMP TABLE deep (s STRUCT(ok INTEGER, bad mood))");
	const char *tables[] = {"en", "ar", "un", "deep"}, *cols[] = {"\"feel\"", "\"a\"", "\"u\"", "\"bad\""};
	for (size_t i = 0; i < 4; i++) {
		pl_new_column *c = NULL;
		size_t n = 0;
		pl_err err = {0};
		assert_int_equal(pl_columns_from_temp_table(f->con, tables[i], &c, &n, &err), PL_EUNSUPPORTED);
		if (!strstr(err.msg, cols[i]) || !strstr(err.msg, "cannot store"))
			fail_msg("table %s: %s", tables[i], err.msg);
	}
}

static void columns__missing_temp_table_is_an_error(void **state)
{
	fixture *f = *state;
	exec_ok(f, "CREATE TABLE main_not_temp (a INTEGER)"); /* not in the temp catalog */
	pl_new_column *c = NULL;
	size_t n = 0;
	pl_err err = {0};
	assert_int_equal(pl_columns_from_temp_table(f->con, "main_not_temp", &c, &n, &err), PL_EINVALID);
	assert_non_null(strstr(err.msg, "main_not_temp"));
	assert_null(c);
}

static void columns__table_def_round_trips(void **state)
{
	fixture *f = *state;
	pl_column a = {.id = 4, .parent = 3, .name = "a", .type = "int32", .nulls_allowed = true};
	pl_column *kids[] = {&a};
	pl_column cols[] = {
		{.id = 1, .parent = -1, .name = "id", .type = "int32", .default_value = "NULL"},
		{.id = 2, .parent = -1, .name = "we\"ird", .type = "decimal(18,3)", .default_value = "1.5",
		 .nulls_allowed = true},
		{.id = 3, .parent = -1, .name = "s", .type = "struct", .children = kids, .nchildren = 1,
		 .nulls_allowed = true},
	};
	pl_column *top[] = {&cols[0], &cols[1], &cols[2]};
	pl_table t = {.name = "t", .top = top, .ntop = 3};
	pl_buf def = PL_BUF_INIT;
	pl_err err = {0};
	assert_int_equal(pl_columns_table_def(&def, &t, &err), 0);
	assert_string_equal(pl_buf_cstr(&def), "(\"id\" INTEGER NOT NULL, \"we\"\"ird\" DECIMAL(18,3) DEFAULT "
					       "CAST('1.5' AS DECIMAL(18,3)), \"s\" STRUCT(\"a\" INTEGER))");
	pl_buf ddl = PL_BUF_INIT;
	pl_buf_printf(&ddl, "CREATE TEMP TABLE rt %s", pl_buf_cstr(&def));
	exec_ok(f, pl_buf_cstr(&ddl));
	pl_new_column *c = NULL;
	size_t n = 0;
	assert_int_equal(pl_columns_from_temp_table(f->con, "rt", &c, &n, &err), 0);
	char *got = render(c, n);
	assert_string_equal(got, "1:-1:id:int32 2:-1:we\"ird:decimal(18,3) 3:-1:s:struct 4:3:a:int32");
	free(got);
	assert_false(c[0].nulls_allowed);
	assert_string_equal(c[1].default_value, "1.500");
	pl_columns_free(c, n);
	pl_buf_dispose(&def);
	pl_buf_dispose(&ddl);

	cols[1].type = "tinyblob"; /* unknown type: the error names the column */
	pl_buf bad = PL_BUF_INIT;
	assert_int_equal(pl_columns_table_def(&bad, &t, &err), PL_EUNSUPPORTED);
	assert_non_null(strstr(err.msg, "tinyblob"));
	pl_buf_dispose(&bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(columns__nested_types_become_trees_with_depth_first_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(columns__defaults_are_literal_or_expression, setup, teardown),
		cmocka_unit_test_setup_teardown(columns__constraints_other_than_not_null_are_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(columns__unstorable_types_are_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(columns__missing_temp_table_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(columns__table_def_round_trips, setup, teardown),
	};
	return cmocka_run_group_tests_name("table/columns", tests, NULL, NULL);
}
