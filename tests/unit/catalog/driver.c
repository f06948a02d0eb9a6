/*
 * tests/unit/catalog/driver.c -- cmocka tests of the catalog database drivers (src/catalog/driver.c,
 * driver_sqlite.c, driver_duckdb.c), each test run once per driver on a file in a temp directory.
 *
 * Covers binding every pl_val kind, NULLs, booleans through pl_rows_bool, many-row results,
 * table_exists, begin/commit/rollback (with reopen), error mapping (bad SQL, constraint
 * violations), opening a non-database file, read-only and no-create opens of missing files, and
 * statements run again (kept prepared) seeing later rows and columns.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog/driver.h"

typedef struct fixture {
	const char *kind;
	char dir[64];
	char path[128];
	pl_catdb *db;
} fixture;

static int open_db(fixture *f, const char *path, bool read_only, bool create, pl_catdb **out, pl_err *err)
{
	pl_catdb_options o = {f->kind, path, read_only, create, NULL, NULL};
	return pl_catdb_open(out, &o, err);
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	f->kind = *state;
	strcpy(f->dir, "/tmp/planar-unit-driver-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/cat.%s", f->dir, f->kind);
	pl_err err = {0};
	if (open_db(f, f->path, false, true, &f->db, &err) != 0) {
		fprintf(stderr, "open %s: %s\n", f->path, err.msg);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	pl_catdb_close(f->db);
	DIR *d = opendir(f->dir);
	for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
		char p[512];
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(p, sizeof(p), "%s/%s", f->dir, e->d_name);
			unlink(p);
		}
	}
	if (d)
		closedir(d);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void exec_ok(pl_catdb *db, const char *sql, const pl_val *p, size_t n)
{
	pl_err err = {0};
	if (pl_catdb_exec(db, sql, p, n, &err) != 0)
		fail_msg("%s: %s", sql, err.msg);
}

static pl_rows *query_ok(pl_catdb *db, const char *sql, const pl_val *p, size_t n)
{
	pl_err err = {0};
	pl_rows *r = NULL;
	if (pl_catdb_query(db, sql, p, n, &r, &err) != 0)
		fail_msg("%s: %s", sql, err.msg);
	assert_non_null(r);
	return r;
}

static int64_t count_rows(pl_catdb *db, const char *table)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	pl_rows *r = query_ok(db, sql, NULL, 0);
	int64_t n = pl_rows_int(r, 0, 0, -1);
	pl_rows_free(r);
	return n;
}

static void driver__reports_its_name(void **state)
{
	fixture *f = *state;
	assert_string_equal(f->db->ops->name, f->kind);
	assert_false(f->db->read_only);
}

static void driver__binds_every_value_kind(void **state)
{
	fixture *f = *state;
	exec_ok(f->db, "CREATE TABLE p (i BIGINT, s VARCHAR, b BOOLEAN, n BIGINT, t VARCHAR)", NULL, 0);
	pl_val row1[] = {PL_VINT(INT64_MIN), PL_VTEXT("it's \"q\" ?"), PL_VBOOL(true), PL_VNULL, PL_VTEXT(NULL)};
	pl_val row2[] = {PL_VINT(INT64_MAX), PL_VTEXT(""), PL_VBOOL(false), PL_VOPTINT(-1), PL_VTEXT("x")};
	pl_val row3[] = {PL_VOPTINT(7), PL_VTEXT("héllo"), PL_VNULL, PL_VINT(0), PL_VTEXT("y")};
	exec_ok(f->db, "INSERT INTO p VALUES (?, ?, ?, ?, ?)", row1, 5);
	exec_ok(f->db, "INSERT INTO p VALUES (?, ?, ?, ?, ?)", row2, 5);
	exec_ok(f->db, "INSERT INTO p VALUES (?, ?, ?, ?, ?)", row3, 5);

	pl_rows *r = query_ok(f->db, "SELECT i, s, b, n, t FROM p ORDER BY i", NULL, 0);
	assert_int_equal(r->ncols, 5);
	assert_int_equal(r->nrows, 3);
	assert_string_equal(r->names[0], "i");
	assert_string_equal(r->names[4], "t");
	assert_true(pl_rows_int(r, 0, 0, 0) == INT64_MIN);
	assert_string_equal(pl_rows_get(r, 0, 1), "it's \"q\" ?");
	assert_true(pl_rows_bool(r, 0, 2, false));
	assert_true(pl_rows_is_null(r, 0, 3));
	assert_true(pl_rows_is_null(r, 0, 4)); /* PL_VTEXT(NULL) binds NULL */
	assert_int_equal(pl_rows_int(r, 0, 3, -99), -99);

	assert_int_equal(pl_rows_int(r, 1, 0, 0), 7);
	assert_string_equal(pl_rows_get(r, 1, 1), "héllo");
	assert_true(pl_rows_is_null(r, 1, 2));
	assert_true(pl_rows_bool(r, 1, 2, true)); /* NULL gives the default */
	assert_false(pl_rows_bool(r, 1, 2, false));
	assert_string_equal(pl_rows_get(r, 1, 3), "0");
	assert_false(pl_rows_is_null(r, 1, 3));

	assert_true(pl_rows_int(r, 2, 0, 0) == INT64_MAX);
	assert_non_null(pl_rows_get(r, 2, 1)); /* empty string is not NULL */
	assert_string_equal(pl_rows_get(r, 2, 1), "");
	assert_false(pl_rows_bool(r, 2, 2, true));
	assert_true(pl_rows_is_null(r, 2, 3)); /* PL_VOPTINT(-1) */
	/* out of range reads as NULL */
	assert_null(pl_rows_get(r, 3, 0));
	assert_null(pl_rows_get(r, 0, 5));
	pl_rows_free(r);

	/* parameters in WHERE, booleans as parameters */
	pl_val w[] = {PL_VBOOL(true), PL_VTEXT("it's \"q\" ?")};
	r = query_ok(f->db, "SELECT count(*) AS c FROM p WHERE b = ? AND s = ?", w, 2);
	assert_string_equal(r->names[0], "c");
	assert_int_equal(pl_rows_int(r, 0, 0, -1), 1);
	pl_rows_free(r);
}

static void driver__empty_result_keeps_columns(void **state)
{
	fixture *f = *state;
	exec_ok(f->db, "CREATE TABLE e (a BIGINT, b VARCHAR)", NULL, 0);
	pl_rows *r = query_ok(f->db, "SELECT a, b FROM e", NULL, 0);
	assert_int_equal(r->nrows, 0);
	assert_int_equal(r->ncols, 2);
	assert_string_equal(r->names[1], "b");
	assert_null(pl_rows_get(r, 0, 0));
	assert_int_equal(pl_rows_int(r, 0, 0, 5), 5);
	pl_rows_free(r);
}

static void driver__many_rows_come_back_in_order(void **state)
{
	fixture *f = *state;
	exec_ok(f->db, "CREATE TABLE m (a BIGINT, s VARCHAR)", NULL, 0);
	for (int i = 0; i < 300; i++) {
		char s[16];
		snprintf(s, sizeof(s), "v%d", i);
		pl_val p[] = {PL_VINT(i), PL_VTEXT(s)};
		exec_ok(f->db, "INSERT INTO m VALUES (?, ?)", p, 2);
	}
	pl_rows *r = query_ok(f->db, "SELECT a, s FROM m ORDER BY a", NULL, 0);
	assert_int_equal(r->nrows, 300);
	for (size_t i = 0; i < 300; i++) {
		char s[16];
		snprintf(s, sizeof(s), "v%zu", i);
		assert_int_equal(pl_rows_int(r, i, 0, -1), (int64_t)i);
		assert_string_equal(pl_rows_get(r, i, 1), s);
	}
	pl_rows_free(r);
}

static void driver__table_exists(void **state)
{
	fixture *f = *state;
	pl_err err = {0};
	bool yes = true;
	assert_int_equal(f->db->ops->table_exists(f->db, "ducklake_metadata", &yes, &err), 0);
	assert_false(yes);
	exec_ok(f->db, "CREATE TABLE ducklake_metadata (k VARCHAR)", NULL, 0);
	assert_int_equal(f->db->ops->table_exists(f->db, "ducklake_metadata", &yes, &err), 0);
	assert_true(yes);
	assert_int_equal(f->db->ops->table_exists(f->db, "ducklake_meta", &yes, &err), 0);
	assert_false(yes);
	exec_ok(f->db, "CREATE VIEW v AS SELECT 1 AS x", NULL, 0);
	assert_int_equal(f->db->ops->table_exists(f->db, "v", &yes, &err), 0);
	assert_false(yes); /* a view is not a table */
}

static void driver__rollback_discards_and_commit_persists(void **state)
{
	fixture *f = *state;
	pl_err err = {0};
	exec_ok(f->db, "CREATE TABLE tx (a BIGINT)", NULL, 0);
	assert_int_equal(f->db->ops->begin(f->db, &err), 0);
	exec_ok(f->db, "INSERT INTO tx VALUES (1)", NULL, 0);
	exec_ok(f->db, "CREATE TABLE tx2 (a BIGINT)", NULL, 0);
	assert_int_equal(count_rows(f->db, "tx"), 1); /* visible inside the transaction */
	assert_int_equal(f->db->ops->rollback(f->db, &err), 0);
	assert_int_equal(count_rows(f->db, "tx"), 0);
	bool exists = true;
	assert_int_equal(f->db->ops->table_exists(f->db, "tx2", &exists, &err), 0);
	assert_false(exists); /* DDL rolled back too */

	assert_int_equal(f->db->ops->begin(f->db, &err), 0);
	exec_ok(f->db, "INSERT INTO tx VALUES (2)", NULL, 0);
	exec_ok(f->db, "INSERT INTO tx VALUES (3)", NULL, 0);
	assert_int_equal(f->db->ops->commit(f->db, &err), 0);
	/* rollback with no open transaction is harmless */
	assert_int_equal(f->db->ops->rollback(f->db, &err), 0);
	assert_int_equal(count_rows(f->db, "tx"), 2);

	pl_catdb_close(f->db);
	f->db = NULL;
	assert_int_equal(open_db(f, f->path, true, false, &f->db, &err), 0);
	assert_true(f->db->read_only);
	assert_int_equal(count_rows(f->db, "tx"), 2);
}

static void driver__bad_sql_is_a_catalog_error_naming_the_file(void **state)
{
	fixture *f = *state;
	pl_err err = {0};
	assert_int_equal(pl_catdb_exec(f->db, "SELEC 1", NULL, 0, &err), PL_ECATALOG);
	assert_int_equal(err.code, PL_ECATALOG);
	assert_non_null(strstr(err.msg, f->path));
	pl_rows *r = NULL;
	pl_err_clear(&err);
	assert_int_equal(pl_catdb_query(f->db, "SELECT * FROM no_such_table", NULL, 0, &r, &err), PL_ECATALOG);
	assert_null(r);
	assert_non_null(strstr(err.msg, "no_such_table"));
}

static void driver__constraint_violation_is_a_conflict(void **state)
{
	fixture *f = *state;
	pl_err err = {0};
	exec_ok(f->db, "CREATE TABLE pk (id BIGINT PRIMARY KEY)", NULL, 0);
	pl_val p = PL_VINT(1);
	exec_ok(f->db, "INSERT INTO pk VALUES (?)", &p, 1);
	assert_int_equal(pl_catdb_exec(f->db, "INSERT INTO pk VALUES (?)", &p, 1, &err), PL_ECONFLICT);
	assert_true(strlen(err.msg) > 0);
	assert_int_equal(count_rows(f->db, "pk"), 1);
}

static void driver__opening_a_non_database_file_fails_with_message(void **state)
{
	fixture *f = *state;
	char path[192];
	snprintf(path, sizeof(path), "%s/notadb.txt", f->dir);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	for (int i = 0; i < 200; i++)
		fputs("this is certainly not a database file\n", fp);
	fclose(fp);
	pl_catdb *db = NULL;
	pl_err err = {0};
	int rc = open_db(f, path, false, false, &db, &err);
	assert_true(rc < 0);
	assert_int_equal(err.code, rc);
	assert_null(db);
	assert_non_null(strstr(err.msg, path));
	assert_true(strlen(err.msg) > strlen(path) + 10);
	pl_err_clear(&err);
	rc = open_db(f, path, true, false, &db, &err);
	assert_true(rc < 0);
	assert_non_null(strstr(err.msg, path));
}

static void driver__read_only_open_of_missing_file_fails(void **state)
{
	fixture *f = *state;
	char path[192];
	snprintf(path, sizeof(path), "%s/missing.db", f->dir);
	pl_catdb *db = NULL;
	pl_err err = {0};
	int rc = open_db(f, path, true, false, &db, &err);
	assert_true(rc < 0);
	assert_null(db);
	assert_non_null(strstr(err.msg, path));
	assert_int_not_equal(access(path, F_OK), 0); /* not created */
}

static void driver__open_without_create_does_not_create(void **state)
{
	fixture *f = *state;
	char path[192];
	snprintf(path, sizeof(path), "%s/missing.db", f->dir);
	pl_catdb *db = NULL;
	pl_err err = {0};
	int rc = open_db(f, path, false, false, &db, &err);
	assert_true(rc < 0);
	assert_null(db);
	assert_non_null(strstr(err.msg, path));
	assert_int_not_equal(access(path, F_OK), 0);
}

/* Statements a connection runs again (and keeps prepared) see the rows and columns of later
 * changes: DuckDB must not answer from a plan pruned by the statistics of the first run. */
static void driver__repeated_statements_see_later_changes(void **state)
{
	fixture *f = *state;
	exec_ok(f->db, "CREATE TABLE t (x BIGINT, s VARCHAR)", NULL, 0);
	exec_ok(f->db, "INSERT INTO t VALUES (1, 'a')", NULL, 0);
	static const char *const max_b = "SELECT max(x) FROM t WHERE s = 'b'", *const above = "SELECT x FROM t WHERE x > ?";
	pl_val one = PL_VINT(1);
	for (int round = 0; round < 2; round++) {
		pl_rows *r = query_ok(f->db, max_b, NULL, 0);
		assert_true(round ? !pl_rows_is_null(r, 0, 0) : pl_rows_is_null(r, 0, 0));
		if (round)
			assert_int_equal(pl_rows_int(r, 0, 0, 0), 5000000000LL);
		pl_rows_free(r);
		r = query_ok(f->db, above, &one, 1);
		assert_int_equal(r->nrows, (size_t)round);
		pl_rows_free(r);
		if (!round)
			exec_ok(f->db, "INSERT INTO t VALUES (5000000000, 'b')", NULL, 0);
	}
	/* a column added since: the kept statement is bound again */
	pl_rows *r = query_ok(f->db, "SELECT * FROM t ORDER BY x", NULL, 0);
	assert_int_equal(r->ncols, 2);
	pl_rows_free(r);
	exec_ok(f->db, "ALTER TABLE t ADD COLUMN y INTEGER", NULL, 0);
	exec_ok(f->db, "UPDATE t SET y = 7 WHERE x = ?", &one, 1);
	r = query_ok(f->db, "SELECT * FROM t ORDER BY x", NULL, 0);
	assert_int_equal(r->ncols, 3);
	assert_string_equal(r->names[2], "y");
	assert_int_equal(pl_rows_int(r, 0, 2, 0), 7);
	assert_true(pl_rows_is_null(r, 1, 2));
	pl_rows_free(r);
	/* more distinct statements than a connection keeps, then the first ones again */
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < 100; i++) {
			char sql[96];
			snprintf(sql, sizeof(sql), "SELECT count(*) + %d FROM t WHERE x >= ?", i);
			r = query_ok(f->db, sql, &one, 1);
			assert_int_equal(pl_rows_int(r, 0, 0, -1), 2 + i);
			pl_rows_free(r);
		}
	/* a statement that failed is not kept: it fails again the same way, then works once it can */
	exec_ok(f->db, "CREATE TABLE u (k BIGINT UNIQUE)", NULL, 0);
	exec_ok(f->db, "INSERT INTO u VALUES (?)", &one, 1);
	pl_err err = {0};
	assert_int_equal(pl_catdb_exec(f->db, "INSERT INTO u VALUES (?)", &one, 1, &err), PL_ECONFLICT);
	pl_val two = PL_VINT(2);
	exec_ok(f->db, "INSERT INTO u VALUES (?)", &two, 1);
	assert_int_equal(count_rows(f->db, "u"), 2);
}

/* Text values bound where the statement expects numbers or a time stamp read back as the same
 * values, the second run of the kept statement too (the DuckDB driver binds them as those types). */
static void driver__text_values_of_typed_columns(void **state)
{
	fixture *f = *state;
	exec_ok(f->db, strcmp(f->kind, "sqlite") == 0
			       ? "CREATE TABLE typed (a BIGINT, b INTEGER, c DOUBLE, d TEXT, e VARCHAR)"
			       : "CREATE TABLE typed (a BIGINT, b INTEGER, c DOUBLE, d TIMESTAMP WITH TIME ZONE, e VARCHAR)",
		NULL, 0);
	static const char *const rows[][5] = {
		{"-9223372036854775807", "-2147483648", "0.1", "2024-02-29 23:59:59.000001+00", "12"},
		{"007", "2147483647", "-1.5e-7", "1970-01-01 00:00:00.000000+00", "0.25"},
		{"123456789012345678", "0", "1e300", "2038-01-19 03:14:08.999999+00", "x"},
	};
	static const char *const back[][4] = {
		{"-9223372036854775807", "-2147483648", "0.1", "2024-02-29 23:59:59.000001+00"},
		{"7", "2147483647", "-1.5e-07", "1970-01-01 00:00:00+00"},
		{"123456789012345678", "0", "1e+300", "2038-01-19 03:14:08.999999+00"},
	};
	for (size_t i = 0; i < 3; i++) {
		pl_val p[5];
		for (size_t c = 0; c < 5; c++)
			p[c] = PL_VTEXT(rows[i][c]);
		exec_ok(f->db, "INSERT INTO typed VALUES (?, ?, ?, ?, ?)", p, 5);
	}
	pl_rows *r = query_ok(f->db, "SELECT CAST(a AS VARCHAR), CAST(b AS VARCHAR), c, CAST(d AS VARCHAR), e FROM typed "
				     "ORDER BY a", NULL, 0);
	assert_int_equal(r->nrows, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_string_equal(pl_rows_get(r, i, 0), back[i][0]);
		assert_string_equal(pl_rows_get(r, i, 1), back[i][1]);
		assert_true(strtod(pl_rows_get(r, i, 2), NULL) == strtod(rows[i][2], NULL));
		if (strcmp(f->kind, "duckdb") == 0)
			assert_string_equal(pl_rows_get(r, i, 3), back[i][3]);
		assert_string_equal(pl_rows_get(r, i, 4), rows[i][4]);
	}
	pl_rows_free(r);
}

/* A DuckDB file's generation moves when a write ends, through this connection or a clone; SQLite
 * cannot know of other processes' writes and has none. */
static void driver__generation_moves_with_every_write(void **state)
{
	fixture *f = *state;
	pl_err err = {0};
	uint64_t g = pl_catdb_generation(f->db);
	if (strcmp(f->kind, "sqlite") == 0) {
		exec_ok(f->db, "CREATE TABLE gen (a BIGINT)", NULL, 0);
		assert_int_equal(pl_catdb_generation(f->db), 0);
		return;
	}
	assert_true(g > 0);
	exec_ok(f->db, "CREATE TABLE gen (a BIGINT)", NULL, 0);
	uint64_t g1 = pl_catdb_generation(f->db);
	assert_true(g1 > g);
	pl_rows_free(query_ok(f->db, "SELECT count(*) FROM gen", NULL, 0));
	assert_int_equal(pl_catdb_generation(f->db), g1); /* reads leave it */
	assert_int_equal(f->db->ops->begin(f->db, &err), 0);
	assert_int_equal(pl_catdb_generation(f->db), 0); /* unknown inside a transaction */
	exec_ok(f->db, "INSERT INTO gen VALUES (1)", NULL, 0);
	assert_int_equal(f->db->ops->commit(f->db, &err), 0);
	uint64_t g2 = pl_catdb_generation(f->db);
	assert_true(g2 > g1);
	assert_int_equal(f->db->committed_gen, g2);
	pl_catdb *clone = NULL;
	assert_int_equal(f->db->ops->clone(f->db, &clone, &err), 0);
	assert_int_equal(pl_catdb_generation(clone), g2);
	exec_ok(clone, "INSERT INTO gen VALUES (2)", NULL, 0);
	assert_true(pl_catdb_generation(f->db) > g2);
	uint64_t g3 = pl_catdb_generation(f->db);
	assert_int_equal(f->db->ops->begin(f->db, &err), 0);
	assert_int_equal(f->db->ops->rollback(f->db, &err), 0);
	assert_int_equal(pl_catdb_generation(f->db), g3); /* nothing was written */
	pl_catdb_close(clone);
	assert_int_equal(pl_catdb_generation(f->db), g3);
}

static void driver__unknown_kind_is_unsupported(void **state)
{
	(void)state;
	pl_catdb *db = NULL;
	pl_err err = {0};
	pl_catdb_options o = {"mysql", "x", false, true, NULL, NULL};
	assert_int_equal(pl_catdb_open(&db, &o, &err), PL_EUNSUPPORTED);
	assert_null(db);
	assert_non_null(strstr(err.msg, "mysql"));
}

static void driver__rows_builder_and_bool_spellings(void **state)
{
	(void)state;
	pl_rows *r = NULL;
	assert_int_equal(pl_rows_new(&r, 1), 0);
	const char *vals[] = {"1", "0", "true", "TRUE", "t", "false", "f", "yes", "2", NULL, NULL};
	const bool expect[] = {true, false, true, true, true, false, false, false, false, true};
	for (size_t i = 0; i < 10; i++) {
		char *cell = vals[i] ? strdup(vals[i]) : NULL;
		assert_int_equal(pl_rows_append(r, &cell), 0);
	}
	assert_int_equal(r->nrows, 10);
	for (size_t i = 0; i < 10; i++)
		if (pl_rows_bool(r, i, 0, true) != expect[i])
			fail_msg("pl_rows_bool(\"%s\") != %d", vals[i] ? vals[i] : "NULL", expect[i]);
	assert_int_equal(pl_rows_int(r, 0, 0, 0), 1);
	pl_rows_free(r);
	pl_rows_free(NULL);
}

#define BOTH(fn) {#fn "/sqlite", fn, setup, teardown, (void *)"sqlite"}, \
		 {#fn "/duckdb", fn, setup, teardown, (void *)"duckdb"}

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(driver__reports_its_name),
		BOTH(driver__binds_every_value_kind),
		BOTH(driver__empty_result_keeps_columns),
		BOTH(driver__many_rows_come_back_in_order),
		BOTH(driver__table_exists),
		BOTH(driver__rollback_discards_and_commit_persists),
		BOTH(driver__bad_sql_is_a_catalog_error_naming_the_file),
		BOTH(driver__constraint_violation_is_a_conflict),
		BOTH(driver__opening_a_non_database_file_fails_with_message),
		BOTH(driver__read_only_open_of_missing_file_fails),
		BOTH(driver__open_without_create_does_not_create),
		BOTH(driver__repeated_statements_see_later_changes),
		BOTH(driver__generation_moves_with_every_write),
		BOTH(driver__text_values_of_typed_columns),
		cmocka_unit_test(driver__unknown_kind_is_unsupported),
		cmocka_unit_test(driver__rows_builder_and_bool_spellings),
	};
	return cmocka_run_group_tests_name("catalog/driver", tests, NULL, NULL);
}
