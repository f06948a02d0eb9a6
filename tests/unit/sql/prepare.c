/*
 * tests/unit/sql/prepare.c -- cmocka tests of the public C API's prepared statements
 * (include/planar/planar.h), on a real engine and a lake with a SQLite catalog in a temporary
 * directory (api_fixture.h).
 *
 * Covers: prepared queries and lake INSERT/UPDATE/DELETE with parameters of every kind, hostile
 * text values, a prepared SELECT seeing commits of another session and of another engine
 * instance, SQL PREPARE/EXECUTE/DEALLOCATE of lake DML, and the error paths (parameter index,
 * unbound or ill-typed parameters).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdint.h>

#include "api_fixture.h"

static void test_prepare_query(void **state)
{
	fixture *f = *state;
	planar_stmt *st = NULL;
	assert_int_equal(planar_prepare(f->conn, "SELECT $1::INTEGER + 1 AS a, $2 AS b, $3::DOUBLE AS c, $4 AS d, "
						 "$5::TIMESTAMP AS e, $6::BOOLEAN AS g",
					 &st),
			 0);
	assert_int_equal(planar_stmt_param_count(st), 6);
	assert_int_equal(planar_stmt_bind_int64(st, 0, 1), PLANAR_EINVALID);
	assert_non_null(strstr(planar_conn_errmsg(f->conn), "out of range"));
	assert_int_equal(planar_stmt_bind_int64(st, 7, 1), PLANAR_EINVALID);
	assert_int_equal(planar_stmt_bind_int64(st, 1, 41), 0);
	assert_int_equal(planar_stmt_bind_text(st, 2, "it's", 4), 0);
	assert_int_equal(planar_stmt_bind_double(st, 3, 2.25), 0);
	assert_int_equal(planar_stmt_bind_null(st, 4), 0);
	assert_int_equal(planar_stmt_bind_timestamp(st, 5, 1709210096789012LL), 0);
	planar_result *res = NULL;
	assert_int_equal(planar_stmt_execute(st, &res), PLANAR_EINVALID); /* $6 unbound */
	assert_non_null(strstr(planar_conn_errmsg(f->conn), "$6"));
	assert_int_equal(planar_stmt_bind_bool(st, 6, true), 0);
	for (int round = 0; round < 3; round++) {
		if (round == 2)
			assert_int_equal(planar_stmt_execute_stream(st, &res), 0);
		else
			assert_int_equal(planar_stmt_execute(st, &res), 0);
		assert_int_equal(next(res), 1);
		int64_t i;
		double d;
		bool b;
		assert_int_equal(planar_result_get_int64(res, 0, 0, &i), 0);
		assert_int_equal(i, 42 + round);
		assert_text(res, 1, 0, "it's");
		assert_int_equal(planar_result_get_double(res, 2, 0, &d), 0);
		assert_true(d == 2.25);
		assert_true(planar_result_chunk_is_null(res, 3, 0));
		assert_int_equal(planar_result_get_timestamp(res, 4, 0, &i), 0);
		assert_true(i == 1709210096789012LL);
		assert_int_equal(planar_result_get_bool(res, 5, 0, &b), 0);
		assert_true(b);
		planar_result_free(res);
		assert_int_equal(planar_stmt_bind_int64(st, 1, 42 + round), 0);
	}
	/* a text that does not convert to the parameter's type */
	assert_int_equal(planar_stmt_clear_bindings(st), 0);
	assert_int_equal(planar_stmt_execute(st, &res), PLANAR_EINVALID);
	assert_int_equal(planar_stmt_bind_text(st, 1, "abc", 3), 0);
	for (size_t k = 2; k <= 6; k++)
		assert_int_equal(planar_stmt_bind_null(st, k), 0);
	assert_int_not_equal(planar_stmt_execute(st, &res), 0);
	assert_null(res);
	assert_non_null(strstr(planar_conn_errmsg(f->conn), "abc"));
	planar_stmt_free(st);

	/* ? parameters; a stream outlives its statement */
	assert_int_equal(planar_prepare(f->conn, "SELECT range FROM range(?) WHERE range % ? = 0", &st), 0);
	assert_int_equal(planar_stmt_param_count(st), 2);
	assert_int_equal(planar_stmt_bind_int64(st, 1, 100000), 0);
	assert_int_equal(planar_stmt_bind_int64(st, 2, 7), 0);
	assert_int_equal(planar_stmt_execute_stream(st, &res), 0);
	planar_stmt_free(st);
	size_t n, total = 0;
	while ((n = next(res)) > 0)
		total += n;
	assert_int_equal(total, 14286);
	planar_result_free(res);

	/* shapes refused at prepare */
	assert_int_equal(planar_prepare(f->conn, "SELECT $1, ?", &st), PLANAR_EINVALID);
	assert_null(st);
	assert_int_equal(planar_prepare(f->conn, "SELECT $name", &st), PLANAR_EUNSUPPORTED);
	assert_int_equal(planar_prepare(f->conn, "SELECT 1; SELECT 2", &st), PLANAR_EINVALID);
	assert_int_equal(planar_prepare(f->conn, "SELECT 'unterminated", &st), PLANAR_EINVALID);
	/* text binding refusals */
	assert_int_equal(planar_prepare(f->conn, "SELECT $1", &st), 0);
	assert_int_equal(planar_stmt_bind_text(st, 1, "a\0b", 3), PLANAR_EINVALID);
	assert_int_equal(planar_stmt_bind_text(st, 1, "\xff\xfe", 2), PLANAR_EINVALID);
	assert_int_equal(planar_stmt_bind_text(st, 1, NULL, 0), PLANAR_EINVALID);
	assert_int_equal(planar_stmt_bind_text(st, 1, "", 0), 0);
	assert_int_equal(planar_stmt_execute(st, &res), 0);
	assert_int_equal(next(res), 1);
	assert_text(res, 0, 0, "");
	planar_result_free(res);
	planar_stmt_free(st);
	planar_stmt_free(NULL);
}

static const char *const hostile[] = {
	"O'Brien", "'; DROP TABLE lake.t; --", "back\\slash \\' \\\\", "$1 ? $$dollar$$ $tag$x$tag$",
	"\"dq\" ) ; ", "héllo wörld 日本語 🌍", "line\nbreak\ttab\r", "E'\\x41'", "' || (SELECT 1) || '", "",
};

static void test_prepare_lake_dml(void **state)
{
	fixture *f = *state;
	size_t nh = sizeof hostile / sizeof hostile[0];
	exec_ok(f->conn, "CREATE TABLE lake.t(id INTEGER, v VARCHAR, d DOUBLE, ts TIMESTAMP, b BOOLEAN)");
	planar_stmt *ins = NULL, *sel = NULL, *upd = NULL, *del = NULL;
	assert_int_equal(planar_prepare(f->conn, "INSERT INTO lake.t VALUES ($1, $2, $3, $4, $5)", &ins), 0);
	assert_int_equal(planar_stmt_param_count(ins), 5);
	for (size_t k = 0; k < nh; k++) {
		assert_int_equal(planar_stmt_bind_int64(ins, 1, (int64_t)k), 0);
		assert_int_equal(planar_stmt_bind_text(ins, 2, hostile[k], strlen(hostile[k])), 0);
		assert_int_equal(planar_stmt_bind_double(ins, 3, k == 1 ? NAN : k == 2 ? -INFINITY : 0.1 * (double)k), 0);
		assert_int_equal(planar_stmt_bind_timestamp(ins, 4, 1709210096789012LL + (int64_t)k), 0);
		if (k % 2)
			assert_int_equal(planar_stmt_bind_null(ins, 5), 0);
		else
			assert_int_equal(planar_stmt_bind_bool(ins, 5, k % 4 == 0), 0);
		planar_result *res = NULL;
		if (planar_stmt_execute(ins, &res) != 0)
			fail_msg("insert %zu: %s", k, planar_conn_errmsg(f->conn));
		assert_int_equal(next(res), 1);
		int64_t count;
		assert_int_equal(planar_result_get_int64(res, 0, 0, &count), 0);
		assert_int_equal(count, 1);
		planar_result_free(res);
	}
	/* read back each row by its text */
	assert_int_equal(planar_prepare(f->conn, "SELECT id, v, d, ts, b FROM lake.t WHERE v = $1", &sel), 0);
	for (size_t k = 0; k < nh; k++) {
		planar_result *res = NULL;
		assert_int_equal(planar_stmt_bind_text(sel, 1, hostile[k], strlen(hostile[k])), 0);
		assert_int_equal(planar_stmt_execute_stream(sel, &res), 0);
		assert_int_equal(next(res), 1);
		int64_t id, ts;
		double d;
		assert_int_equal(planar_result_get_int64(res, 0, 0, &id), 0);
		assert_int_equal(id, (int64_t)k);
		assert_text(res, 1, 0, hostile[k]);
		assert_int_equal(planar_result_get_double(res, 2, 0, &d), 0);
		if (k == 1)
			assert_true(isnan(d));
		else if (k == 2)
			assert_true(isinf(d) && d < 0);
		else
			assert_true(d == 0.1 * (double)k);
		assert_int_equal(planar_result_get_timestamp(res, 3, 0, &ts), 0);
		assert_true(ts == 1709210096789012LL + (int64_t)k);
		assert_int_equal(planar_result_chunk_is_null(res, 4, 0), k % 2 == 1);
		assert_int_equal(next(res), 0);
		planar_result_free(res);
	}
	/* comparisons with parameters on a table of many files (file pruning looks at them) */
	planar_stmt *cnt = NULL;
	assert_int_equal(planar_prepare(f->conn, "SELECT count(*) FROM lake.t WHERE id = $1 OR id BETWEEN $2 AND $2 + 1 "
						 "OR id IN ($3)", &cnt), 0);
	assert_int_equal(planar_stmt_bind_int64(cnt, 1, 2), 0);
	assert_int_equal(planar_stmt_bind_int64(cnt, 2, 5), 0);
	assert_int_equal(planar_stmt_bind_int64(cnt, 3, 9), 0);
	planar_result *cres = NULL;
	assert_int_equal(planar_stmt_execute(cnt, &cres), 0);
	assert_int_equal(next(cres), 1);
	int64_t c4;
	assert_int_equal(planar_result_get_int64(cres, 0, 0, &c4), 0);
	assert_int_equal(c4, 4);
	planar_result_free(cres);
	planar_stmt_free(cnt);
	/* UPDATE and DELETE with parameters */
	assert_int_equal(planar_prepare(f->conn, "UPDATE lake.t SET v = $1 WHERE id = $2", &upd), 0);
	assert_int_equal(planar_stmt_bind_text(upd, 1, hostile[1], strlen(hostile[1])), 0);
	assert_int_equal(planar_stmt_bind_int64(upd, 2, 0), 0);
	assert_int_equal(planar_stmt_execute(upd, NULL), 0);
	assert_int_equal(planar_prepare(f->conn, "DELETE FROM lake.t WHERE id = ? OR v = ?", &del), 0);
	assert_int_equal(planar_stmt_bind_int64(del, 1, 3), 0);
	assert_int_equal(planar_stmt_bind_text(del, 2, hostile[5], strlen(hostile[5])), 0);
	planar_result *res = NULL;
	assert_int_equal(planar_stmt_execute(del, &res), 0);
	assert_int_equal(next(res), 1);
	int64_t count;
	assert_int_equal(planar_result_get_int64(res, 0, 0, &count), 0);
	assert_int_equal(count, 2);
	planar_result_free(res);
	assert_int_equal(planar_stmt_bind_text(sel, 1, hostile[1], strlen(hostile[1])), 0);
	assert_int_equal(planar_stmt_execute(sel, &res), 0);
	size_t n, rows = 0;
	while ((n = next(res)) > 0)
		rows += n;
	assert_int_equal(rows, 2);
	planar_result_free(res);
	res = stream(f->conn, "SELECT count(*) FROM lake.t");
	assert_int_equal(next(res), 1);
	assert_int_equal(planar_result_get_int64(res, 0, 0, &count), 0);
	assert_int_equal(count, (int64_t)nh - 2);
	planar_result_free(res);
	/* a failing statement leaves the lake as it was */
	assert_int_equal(planar_stmt_bind_text(ins, 1, "not a number", 12), 0);
	assert_int_not_equal(planar_stmt_execute(ins, NULL), 0);
	res = stream(f->conn, "SELECT count(*) FROM lake.t");
	assert_int_equal(next(res), 1);
	assert_int_equal(planar_result_get_int64(res, 0, 0, &count), 0);
	assert_int_equal(count, (int64_t)nh - 2);
	planar_result_free(res);
	planar_stmt_free(ins);
	planar_stmt_free(sel);
	planar_stmt_free(upd);
	planar_stmt_free(del);
}

static int64_t count_ge(planar_conn *conn, planar_stmt *st, int64_t min)
{
	planar_result *res = NULL;
	int64_t n = -1;
	assert_int_equal(planar_stmt_bind_int64(st, 1, min), 0);
	if (planar_stmt_execute(st, &res) != 0)
		fail_msg("execute: %s", planar_conn_errmsg(conn));
	assert_int_equal(next(res), 1);
	assert_int_equal(planar_result_get_int64(res, 0, 0, &n), 0);
	planar_result_free(res);
	return n;
}

/* A prepared SELECT sees commits made after it was prepared: by this session, another session
 * of the same engine, and another engine instance (as another process would). */
static void test_prepared_sees_commits(void **state)
{
	fixture *f = *state;
	exec_ok(f->conn, "CREATE TABLE lake.c(id INTEGER)");
	exec_ok(f->conn, "INSERT INTO lake.c VALUES (1), (2)");
	planar_stmt *st = NULL;
	assert_int_equal(planar_prepare(f->conn, "SELECT count(*) FROM lake.c WHERE id >= $1", &st), 0);
	assert_int_equal(count_ge(f->conn, st, 0), 2);
	exec_ok(f->conn, "INSERT INTO lake.c VALUES (3)");
	assert_int_equal(count_ge(f->conn, st, 0), 3);
	/* a change feed whose bound is a parameter (snapshots: 1 CREATE, 2 and 3 INSERTs) */
	planar_stmt *feed = NULL;
	assert_int_equal(planar_prepare(f->conn, "SELECT count(*) FROM ducklake_table_insertions('lake', 'main', 'c', 0, $1)",
					&feed), 0);
	assert_int_equal(count_ge(f->conn, feed, 2), 2);
	assert_int_equal(count_ge(f->conn, feed, 3), 3);
	planar_stmt_free(feed);
	planar_conn *other = NULL;
	assert_int_equal(planar_conn_open(&other, f->db, NULL), 0);
	exec_ok(other, "INSERT INTO lake.c VALUES (4), (5)");
	assert_int_equal(count_ge(f->conn, st, 0), 5);
	planar_conn_free(other);
	planar_db *db2 = NULL;
	planar_conn *c2 = NULL;
	assert_int_equal(planar_db_open(&db2, NULL, NULL), 0);
	assert_int_equal(planar_conn_open(&c2, db2, NULL), 0);
	attach_lake(c2, f->dir);
	exec_ok(c2, "DELETE FROM lake.c WHERE id < 3");
	exec_ok(c2, "INSERT INTO lake.c VALUES (6)");
	planar_conn_free(c2);
	planar_db_free(db2);
	assert_int_equal(count_ge(f->conn, st, 0), 4);
	assert_int_equal(count_ge(f->conn, st, 5), 2);
	planar_stmt_free(st);
}

static void test_sql_prepare_execute(void **state)
{
	fixture *f = *state;
	exec_ok(f->conn, "CREATE TABLE lake.p(id INTEGER, v VARCHAR)");
	exec_ok(f->conn, "PREPARE ins AS INSERT INTO lake.p VALUES ($1, $2)");
	exec_ok(f->conn, "EXECUTE ins(1, 'it''s')");
	exec_ok(f->conn, "EXECUTE ins(1 + 1, concat('a', 'b'))");
	exec_ok(f->conn, "EXECUTE ins(3, NULL)");
	assert_int_not_equal(planar_conn_query(f->conn, "EXECUTE ins(4)", NULL), 0);
	assert_non_null(strstr(planar_conn_errmsg(f->conn), "2 parameters"));
	exec_ok(f->conn, "PREPARE upd AS UPDATE lake.p SET v = ? WHERE id = ?");
	exec_ok(f->conn, "EXECUTE upd('x', 2)");
	exec_ok(f->conn, "PREPARE del AS DELETE FROM lake.p WHERE id = $1");
	exec_ok(f->conn, "EXECUTE del(3)");
	exec_ok(f->conn, "DEALLOCATE PREPARE del");
	assert_int_not_equal(planar_conn_query(f->conn, "EXECUTE del(1)", NULL), 0);
	/* the C API can run EXECUTE with a bound value */
	planar_stmt *st = NULL;
	assert_int_equal(planar_prepare(f->conn, "EXECUTE ins($1, 'from C')", &st), 0);
	assert_int_equal(planar_stmt_bind_int64(st, 1, 9), 0);
	assert_int_equal(planar_stmt_execute(st, NULL), 0);
	planar_stmt_free(st);
	planar_result *res = stream(f->conn, "SELECT string_agg(id || '=' || coalesce(v, 'NULL'), ',' ORDER BY id) FROM lake.p");
	assert_int_equal(next(res), 1);
	assert_text(res, 0, 0, "1=it's,2=x,9=from C");
	planar_result_free(res);
	/* queries still go to the engine's own PREPARE */
	exec_ok(f->conn, "PREPARE q AS SELECT count(*) + $1 FROM lake.p");
	res = stream(f->conn, "EXECUTE q(10)");
	assert_int_equal(next(res), 1);
	assert_text(res, 0, 0, "13");
	planar_result_free(res);
	exec_ok(f->conn, "DEALLOCATE ins");
	exec_ok(f->conn, "DEALLOCATE q");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_prepare_query, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prepare_lake_dml, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prepared_sees_commits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sql_prepare_execute, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
