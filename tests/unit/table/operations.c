/*
 * tests/unit/table/operations.c -- cmocka tests of the table-level API (table/insert.h,
 * table/alter.h, table/ddl.h) used without any session, statement or attached lake: hand-built
 * models, a real DuckDB connection, and the pieces a statement would hand over.
 *
 * Covers INSERT's streaming SELECT (VALUES with DEFAULT, a column list, BY NAME, the forms that
 * need the staging path) run in DuckDB, with DuckDB's NOT NULL message; its bound form (literals
 * as placeholders) giving the same rows and failures, literal by literal and type by type; ALTER's column versions
 * (rename, add with ids after the table's, IF NOT EXISTS as a no-op, type promotions only); and
 * DROP SCHEMA's dependency check.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog/init.h"
#include "engine/engine.h"
#include "table/alter.h"
#include "table/context.h"
#include "table/ddl.h"
#include "table/insert.h"

typedef struct fake {
	pl_column cols[3];
	pl_column *top[3];
	pl_schema schema;
	pl_table t;
	pl_model m;
	duckdb_database db;
	duckdb_connection con;
	unsigned long seq;
	pl_table_ctx ctx;
} fake;

/* Table main.t: 1 "id" int64 NOT NULL DEFAULT 7, 2 "s" varchar, 3 "n" int32. */
static int setup(void **state)
{
	fake *f = calloc(1, sizeof(*f));
	pl_err err = {0};
	if (!f)
		return -1;
	f->cols[0] = (pl_column){.id = 1, .order = 1, .parent = -1, .name = "id", .type = "int64",
				 .default_value = "7", .default_value_type = "literal", .nulls_allowed = false};
	f->cols[1] = (pl_column){.id = 2, .order = 2, .parent = -1, .name = "s", .type = "varchar", .nulls_allowed = true};
	f->cols[2] = (pl_column){.id = 3, .order = 3, .parent = -1, .name = "n", .type = "int32", .nulls_allowed = true};
	for (int i = 0; i < 3; i++)
		f->top[i] = &f->cols[i];
	f->schema = (pl_schema){.id = 0, .name = "main"};
	f->t = (pl_table){.id = 1, .schema_id = 0, .name = "t", .uuid = "u", .path = "t/", .columns = f->cols,
			  .ncolumns = 3, .top = f->top, .ntop = 3, .max_column_id = 3};
	f->m = (pl_model){.snapshot_id = 1, .schemas = &f->schema, .nschemas = 1, .tables = &f->t, .ntables = 1};
	if (pl_engine_open(&f->db, NULL, false, &err) || pl_engine_connect(&f->con, f->db, &err))
		return -1;
	f->ctx = (pl_table_ctx){.con = f->con, .lake = "lk", .tmp_seq = &f->seq};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fake *f = *state;
	duckdb_disconnect(&f->con);
	duckdb_close(&f->db);
	free(f);
	return 0;
}

static void put_rows_query(pl_buf *rows, const char *sel)
{
	pl_buf_puts(rows, "SELECT string_agg(concat_ws('|', id, coalesce(s, '-'), coalesce(CAST(n AS VARCHAR), '-')), ';' "
			  "ORDER BY id, s) FROM (");
	pl_buf_puts(rows, sel);
	pl_buf_puts(rows, ")");
}

/* The rows the streaming SELECT yields, as "id|s|n;" text; NULL when it is not streamable. When
 * the statement also has a bound form (literals as placeholders), that form must give the same
 * rows, run twice through the prepared-statement cache. */
static char *stream_rows(fake *f, const pl_insert_source *src, pl_err *err, int *rc)
{
	pl_buf sel = PL_BUF_INIT, rows = PL_BUF_INIT;
	pl_insert_bound bound = {0};
	bool streamable = false;
	assert_int_equal(pl_insert_stream_select(f->con, &f->t, src, &sel, &bound, &streamable, err), 0);
	if (!streamable) {
		assert_int_equal(bound.sql.len, 0);
		*rc = 0;
		return NULL;
	}
	put_rows_query(&rows, sel.ptr);
	char *v = NULL;
	*rc = pl_engine_query_value(f->con, rows.ptr, &v, err);
	if (bound.sql.len > 0) {
		pl_stmt_cache cache;
		pl_engine_stmt_cache_init(&cache);
		pl_buf q = PL_BUF_INIT;
		put_rows_query(&q, bound.sql.ptr);
		pl_engine_arg args[16] = {0};
		assert_true(bound.nvalues <= 16);
		for (size_t i = 0; i < bound.nvalues; i++)
			args[i].text = bound.values[i];
		for (int round = 0; round < 2; round++) {
			duckdb_result res;
			pl_err berr = {0};
			int brc = pl_engine_query_args(f->con, &cache, q.ptr, args, bound.nvalues, &res, &berr);
			assert_int_equal(brc != 0, *rc != 0); /* fails exactly when the query as written fails */
			if (brc == 0) {
				bool oom = false;
				char *bv = pl_engine_value_str(&res, 0, 0, &oom);
				assert_non_null(v);
				assert_non_null(bv);
				assert_string_equal(bv, v);
				free(bv);
				duckdb_destroy_result(&res);
			}
		}
		pl_stmt_cache_clear(&cache);
		pl_buf_dispose(&q);
	}
	pl_insert_bound_dispose(&bound);
	pl_buf_dispose(&sel);
	pl_buf_dispose(&rows);
	return v;
}

static pl_text txt(const char *s)
{
	return (pl_text){s, s ? strlen(s) : 0};
}

static void insert__values_with_defaults_and_a_column_list(void **state)
{
	fake *f = *state;
	pl_err err = {0};
	int rc = -1;
	char *cols[] = {"n", "s"};
	pl_text values[] = {txt("1"), txt("'a'"), txt(NULL), txt("'b'")};
	pl_insert_source src = {.kind = PL_INSERT_VALUES, .columns = cols, .ncolumns = 2, .values = values, .nrows = 2,
				.width = 2};
	char *rows = stream_rows(f, &src, &err, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(rows);
	assert_string_equal(rows, "7|a|1;7|b|-");
	free(rows);
}

static void insert__query_by_name_and_by_position(void **state)
{
	fake *f = *state;
	pl_err err = {0};
	int rc = -1;
	pl_insert_source src = {.kind = PL_INSERT_QUERY, .by_name = true, .query = txt("SELECT 'x' AS s, 3 AS id")};
	char *rows = stream_rows(f, &src, &err, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(rows, "3|x|-");
	free(rows);
	pl_insert_source pos = {.kind = PL_INSERT_QUERY, .cte = "WITH q AS (SELECT 4 AS a)",
				.query = txt("SELECT a, 'y', a + 1 FROM q")};
	rows = stream_rows(f, &pos, &err, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(rows, "4|y|5");
	free(rows);
}

static void insert__not_null_fails_as_duckdb_reports_it(void **state)
{
	fake *f = *state;
	pl_err err = {0};
	int rc = 0;
	pl_text values[] = {txt("NULL"), txt("'a'"), txt("1")};
	pl_insert_source src = {.kind = PL_INSERT_VALUES, .values = values, .nrows = 1, .width = 3};
	char *rows = stream_rows(f, &src, &err, &rc);
	assert_null(rows);
	assert_int_not_equal(rc, 0);
	pl_insert_fix_error(&err);
	assert_non_null(strstr(err.msg, "Constraint Error: NOT NULL constraint failed: t.id"));
	assert_null(strstr(err.msg, "Invalid Input Error: Constraint"));
}

/* Forms DuckDB rejects keep the staging path, so the user sees DuckDB's own message. */
static void insert__rejected_forms_are_not_streamed(void **state)
{
	fake *f = *state;
	pl_err err = {0};
	int rc = -1;
	char *unknown[] = {"nope"}, *twice[] = {"s", "s"};
	pl_text one[] = {txt("1")}, two[] = {txt("1"), txt("2")};
	pl_insert_source forms[] = {
		{.kind = PL_INSERT_VALUES, .columns = unknown, .ncolumns = 1, .values = one, .nrows = 1, .width = 1},
		{.kind = PL_INSERT_VALUES, .columns = twice, .ncolumns = 2, .values = two, .nrows = 1, .width = 2},
		{.kind = PL_INSERT_VALUES, .values = two, .nrows = 1, .width = 2}, /* 3 columns, 2 values */
		{.kind = PL_INSERT_VALUES, .by_name = true, .values = one, .nrows = 1, .width = 1},
		{.kind = PL_INSERT_DEFAULTS, .columns = unknown, .ncolumns = 1},
		{.kind = PL_INSERT_QUERY, .query = txt("SELECT 1")},               /* too few columns */
		{.kind = PL_INSERT_QUERY, .query = txt("SELECT * FROM no_such_table")}, /* DuckDB's error */
		{.kind = PL_INSERT_QUERY, .by_name = true, .query = txt("SELECT 1 AS nope")},
	};
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		char *rows = stream_rows(f, &forms[i], &err, &rc);
		if (rows)
			fail_msg("form %zu streamed: %s", i, rows);
		assert_int_equal(rc, 0);
	}
	pl_insert_source dflt = {.kind = PL_INSERT_DEFAULTS};
	char *rows = stream_rows(f, &dflt, &err, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(rows, "7|-|-");
	free(rows);
}

/* Frees a txn and makes it ready for the next change. */
static void reset(pl_txn *txn)
{
	pl_txn_dispose(txn);
	memset(txn, 0, sizeof(*txn));
}

static int alter(fake *f, pl_alter_request *req, pl_txn *txn, bool *noop, pl_err *err)
{
	return pl_alter_plan(&f->ctx, &f->m, "main", &f->t, req, txn, noop, err);
}

static void alter__rename_ends_the_column_and_keeps_its_id(void **state)
{
	fake *f = *state;
	pl_err err = {0};
	pl_txn txn = {0};
	bool noop = true;
	char *path[] = {"s"};
	pl_alter_request req = {.kind = PL_ALTER_RENAME_COLUMN, .path = path, .npath = 1, .text = "label"};
	assert_int_equal(alter(f, &req, &txn, &noop, &err), 0);
	assert_false(noop);
	assert_int_equal(txn.nalters, 1);
	assert_int_equal(txn.alters[0].table_id, 1);
	assert_int_equal(txn.alters[0].nend, 1);
	assert_int_equal(txn.alters[0].end_columns[0], 2);
	assert_int_equal(txn.alters[0].ncolumns, 1);
	assert_int_equal(txn.alters[0].columns[0].id, 2);
	assert_string_equal(txn.alters[0].columns[0].name, "label");
	reset(&txn);
	req.text = "n"; /* taken */
	assert_int_equal(alter(f, &req, &txn, &noop, &err), PL_EEXISTS);
	assert_string_equal(err.msg, "Catalog Error: Column with name n already exists!");
	reset(&txn);
}

static void alter__add_column_takes_new_ids_and_if_not_exists_is_a_noop(void **state)
{
	fake *f = *state;
	pl_err err = {0};
	pl_txn txn = {0};
	bool noop = true;
	char *path[] = {"extra"};
	pl_alter_request req = {.kind = PL_ALTER_ADD_COLUMN, .path = path, .npath = 1, .text = "INTEGER DEFAULT 5"};
	assert_int_equal(alter(f, &req, &txn, &noop, &err), 0);
	assert_false(noop);
	assert_int_equal(txn.alters[0].ncolumns, 1);
	assert_int_equal(txn.alters[0].columns[0].id, 4);
	assert_string_equal(txn.alters[0].columns[0].name, "extra");
	assert_string_equal(txn.alters[0].columns[0].type, "int32");
	assert_string_equal(txn.alters[0].columns[0].initial_default, "5");
	reset(&txn);
	char *existing[] = {"n"};
	pl_alter_request again = {.kind = PL_ALTER_ADD_COLUMN, .path = existing, .npath = 1, .if_exists = true,
				  .text = "INTEGER"};
	assert_int_equal(alter(f, &again, &txn, &noop, &err), 0);
	assert_true(noop);
	reset(&txn);
}

static void alter__types_only_promote(void **state)
{
	fake *f = *state;
	pl_err err = {0};
	pl_txn txn = {0};
	bool noop = false;
	char *path[] = {"n"};
	pl_alter_request req = {.kind = PL_ALTER_SET_TYPE, .path = path, .npath = 1, .text = "BIGINT"};
	assert_int_equal(alter(f, &req, &txn, &noop, &err), 0);
	assert_string_equal(txn.alters[0].columns[0].type, "int64");
	reset(&txn);
	req.text = "VARCHAR";
	assert_int_equal(alter(f, &req, &txn, &noop, &err), PL_EUNSUPPORTED);
	assert_non_null(strstr(err.msg, "from int32 to varchar"));
	reset(&txn);
	req.using_clause = true;
	assert_int_equal(alter(f, &req, &txn, &noop, &err), PL_EUNSUPPORTED);
	assert_non_null(strstr(err.msg, "USING would rewrite data"));
	reset(&txn);
}

static void ddl__drop_schema_needs_cascade_for_its_tables(void **state)
{
	fake *f = *state;
	pl_err err = {0};
	pl_txn txn = {0};
	assert_int_equal(pl_ddl_drop_schema(&f->m, &f->schema, false, &txn, &err), PL_EINVALID);
	assert_non_null(strstr(err.msg, "depends on schema"));
	assert_non_null(strstr(err.msg, "Use DROP...CASCADE"));
	reset(&txn);
	assert_int_equal(pl_ddl_drop_schema(&f->m, &f->schema, true, &txn, &err), 0);
	assert_int_equal(txn.ndropped_tables, 1);
	assert_int_equal(txn.dropped_tables[0].id, 1);
	assert_int_equal(txn.ndropped_schemas, 1);
	reset(&txn);
}

/* Every literal the bound form accepts must give, for every column type, exactly the value (or
 * the failure) DuckDB gives the literal as written: CAST((literal) AS type) against
 * CAST((CAST($1 AS VARCHAR) || '') AS type) bound to the accepted text. */
static void insert__bound_literals_cast_as_written(void **state)
{
	fake *f = *state;
	static const char *const literals[] = {
		"0", "7", "-7", "007", "-0", "1.5", "-1.25", "0.1", "-0.0", "1.50", "123456789012345", "1234567890123456",
		"99999999999999999999", "1e3", "3.", ".5", "'abc'", "'it''s'", "''", "'12'", "' 12 '", "'1.5'", "'true'",
		"'2024-02-29 12:00:00'", "'2024-02-30'", "TIMESTAMP '2024-01-01 00:00:00'", "DATE '2024-01-01'",
		"timestamp '2024-01-01'", "'a' 'b'", "'a''", "NULL", "true", "FALSE", "1 + 1", "now()", "'{1,2}'",
		"'[1, 2]'", "x'00'", "-'5'", "300", "-129", "4294967296", "1.005", "123.456", "1.5e3", "-2.5E-3",
		"1.2345678901234567e+00", "9.99e307", "1e999", "-0e0", "0.1e-5", "1e"};
	static const char *const types[] = {"TINYINT", "INTEGER",        "BIGINT",    "UBIGINT",   "HUGEINT",
					    "DOUBLE",  "FLOAT",          "DECIMAL(9,2)", "DECIMAL(18,3)", "VARCHAR",
					    "BOOLEAN", "DATE",           "TIMESTAMP", "TIME",      "BLOB",
					    "INTEGER[]", "UUID"};
	pl_stmt_cache cache;
	pl_engine_stmt_cache_init(&cache);
	size_t accepted = 0, kept = 0;
	for (size_t l = 0; l < sizeof(literals) / sizeof(literals[0]); l++) {
		for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++) {
			pl_text e = txt(literals[l]);
			char *value = NULL;
			bool keep = false;
			int lit = pl_insert_literal_arg(&e, types[k], &value, &keep);
			assert_true(lit == 0 || lit == 1);
			if (lit != 0)
				continue;
			if (keep) {
				kept++;
				assert_null(value);
				continue;
			}
			accepted++;
			char q[512];
			snprintf(q, sizeof(q), "SELECT CAST(CAST((%s) AS %s) AS VARCHAR)", literals[l], types[k]);
			char *want = NULL, *got = NULL;
			pl_err e1 = {0}, e2 = {0};
			int rc1 = pl_engine_query_value(f->con, q, &want, &e1);
			snprintf(q, sizeof(q), "SELECT CAST(CAST((CAST($1 AS VARCHAR) || '') AS %s) AS VARCHAR)", types[k]);
			pl_engine_arg arg = {.text = value};
			duckdb_result res;
			int rc2 = pl_engine_query_args(f->con, &cache, q, &arg, 1, &res, &e2);
			if (rc2 == 0) {
				bool oom = false;
				got = pl_engine_value_str(&res, 0, 0, &oom);
				duckdb_destroy_result(&res);
			}
			if ((rc1 != 0) != (rc2 != 0) || (rc1 == 0 && (!want || !got || strcmp(want, got) != 0)))
				fail_msg("%s as %s: written %s (%s), bound '%s' gives %s (%s)", literals[l], types[k],
					 rc1 ? "fails" : want, e1.msg, value, rc2 ? "fails" : got, e2.msg);
			free(want);
			free(got);
			free(value);
		}
	}
	assert_true(accepted > 100);
	assert_true(kept > 0);
	/* what must stay as written */
	static const struct {
		const char *lit, *type;
	} refused[] = {{"1e3", "INTEGER"}, {"1e3", "VARCHAR"}, {"-0e0", "DOUBLE"}, {"1.5", "INTEGER"}, {"1.5", "FLOAT"}, {"-0", "INTEGER"}, {"007", "VARCHAR"},
		       {"1.50", "VARCHAR"}, {"1.005", "DECIMAL(9,2)"}, {"1 + 1", "INTEGER"}, {"'a' 'b'", "VARCHAR"},
		       {"DATE '2024-01-01'", "TIMESTAMP"}, {"1234567890123456", "DOUBLE"}, {"5", "BOOLEAN"}};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		pl_text e = txt(refused[i].lit);
		char *value = NULL;
		bool keep = false;
		assert_int_equal(pl_insert_literal_arg(&e, refused[i].type, &value, &keep), 1);
		assert_null(value);
	}
	pl_stmt_cache_clear(&cache);
}

/* A one-row VALUES list of literals has a bound form that yields the same row; one with an
 * expression has none. */
static void insert__bound_form_only_for_literals(void **state)
{
	fake *f = *state;
	pl_err err = {0};
	int rc = -1;
	pl_text values[] = {txt("3"), txt("'x''y'"), txt("-4")};
	pl_insert_source src = {.kind = PL_INSERT_VALUES, .values = values, .nrows = 1, .width = 3};
	pl_buf sel = PL_BUF_INIT;
	pl_insert_bound bound = {0};
	bool streamable = false;
	assert_int_equal(pl_insert_stream_select(f->con, &f->t, &src, &sel, &bound, &streamable, &err), 0);
	assert_true(streamable);
	assert_true(bound.sql.len > 0);
	assert_int_equal(bound.nvalues, 3);
	assert_string_equal(bound.values[1], "x'y");
	assert_null(strstr(bound.sql.ptr, "x''y"));
	pl_insert_bound_dispose(&bound);
	pl_buf_dispose(&sel);
	char *rows = stream_rows(f, &src, &err, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(rows, "3|x'y|-4");
	free(rows);
	values[2] = txt("2 + 2");
	assert_int_equal(pl_insert_stream_select(f->con, &f->t, &src, &sel, &bound, &streamable, &err), 0);
	assert_true(streamable);
	assert_int_equal(bound.sql.len, 0);
	assert_int_equal(bound.nvalues, 0);
	pl_buf_dispose(&sel);
	/* a value out of the column's range fails both ways (checked in stream_rows) */
	values[2] = txt("99999999999");
	rows = stream_rows(f, &src, &err, &rc);
	assert_int_not_equal(rc, 0);
	assert_null(rows);
}

/* A read that failed (I/O) at a snapshot that was expired meanwhile is a conflict to retry; at
 * a live snapshot, or any other failure, the error stays as it was. */
static void read_failed__expired_snapshot_is_a_conflict(void **state)
{
	fake *f = *state;
	pl_err err = {0};
	char dir[] = "/tmp/planar-readfail-XXXXXX", path[64];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/meta.sqlite", dir);
	pl_catdb_options o = {"sqlite", path, false, true, NULL, NULL};
	assert_int_equal(pl_catdb_open(&f->ctx.cat, &o, &err), 0);
	assert_int_equal(pl_catalog_create(f->ctx.cat, dir, &err), 0);
	pl_err_set(&err, PL_EIO, "Cannot open file");
	assert_int_equal(pl_table_read_failed(&f->ctx, 0, PL_EIO, &err), PL_EIO); /* snapshot 0 exists */
	assert_string_equal(err.msg, "Cannot open file");
	assert_int_equal(pl_table_read_failed(&f->ctx, 7, PL_EINVALID, &err), PL_EINVALID);
	assert_int_equal(pl_table_read_failed(&f->ctx, 7, PL_EIO, &err), PL_ECONFLICT);
	assert_non_null(strstr(err.msg, "snapshot 7, which this statement read, was expired"));
	pl_catdb_close(f->ctx.cat);
	f->ctx.cat = NULL;
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(insert__values_with_defaults_and_a_column_list, setup, teardown),
		cmocka_unit_test_setup_teardown(insert__query_by_name_and_by_position, setup, teardown),
		cmocka_unit_test_setup_teardown(insert__not_null_fails_as_duckdb_reports_it, setup, teardown),
		cmocka_unit_test_setup_teardown(insert__rejected_forms_are_not_streamed, setup, teardown),
		cmocka_unit_test_setup_teardown(insert__bound_literals_cast_as_written, setup, teardown),
		cmocka_unit_test_setup_teardown(insert__bound_form_only_for_literals, setup, teardown),
		cmocka_unit_test_setup_teardown(alter__rename_ends_the_column_and_keeps_its_id, setup, teardown),
		cmocka_unit_test_setup_teardown(alter__add_column_takes_new_ids_and_if_not_exists_is_a_noop, setup, teardown),
		cmocka_unit_test_setup_teardown(alter__types_only_promote, setup, teardown),
		cmocka_unit_test_setup_teardown(ddl__drop_schema_needs_cascade_for_its_tables, setup, teardown),
		cmocka_unit_test_setup_teardown(read_failed__expired_snapshot_is_a_conflict, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
