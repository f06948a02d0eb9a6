/*
 * tests/unit/sql/api_fixture.h -- what the C API's cmocka tests share (api.c, prepare.c): a
 * session on a real engine with a lake on a SQLite catalog in a temporary directory, and helpers
 * that fail the test with the engine's message. Include it after <cmocka.h>.
 */
#ifndef PL_TESTS_UNIT_SQL_API_FIXTURE_H
#define PL_TESTS_UNIT_SQL_API_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "planar/planar.h"

typedef struct fixture {
	char dir[64];
	planar_db *db;
	planar_conn *conn;
} fixture;

static inline void exec_ok(planar_conn *conn, const char *sql)
{
	if (planar_conn_query(conn, sql, NULL) != 0)
		fail_msg("%s failed: %s", sql, planar_conn_errmsg(conn));
}

static inline void attach_lake(planar_conn *conn, const char *dir)
{
	char sql[512];
	snprintf(sql, sizeof sql, "ATTACH 'ducklake:sqlite:%s/meta.db' AS lake (DATA_PATH '%s/data/')", dir, dir);
	exec_ok(conn, sql);
}

static inline int setup(void **state)
{
	fixture *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/planar-api-XXXXXX");
	if (!mkdtemp(f->dir) || planar_db_open(&f->db, NULL, NULL) != 0 || planar_conn_open(&f->conn, f->db, NULL) != 0)
		return -1;
	attach_lake(f->conn, f->dir);
	*state = f;
	return 0;
}

static inline int teardown(void **state)
{
	fixture *f = *state;
	char cmd[128];
	planar_conn_free(f->conn);
	planar_db_free(f->db);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static inline planar_result *stream(planar_conn *conn, const char *sql)
{
	planar_result *res = NULL;
	if (planar_conn_query_stream(conn, sql, &res) != 0)
		fail_msg("%s failed: %s", sql, planar_conn_errmsg(conn));
	assert_non_null(res);
	return res;
}

static inline size_t next(planar_result *res)
{
	size_t n = 99;
	if (planar_result_next_chunk(res, &n) != 0)
		fail_msg("next_chunk failed: %s", planar_result_errmsg(res));
	return n;
}

static inline void assert_text(planar_result *res, size_t col, size_t row, const char *want)
{
	const char *t = NULL;
	size_t len = 0;
	assert_int_equal(planar_result_get_text(res, col, row, &t, &len), 0);
	assert_non_null(t);
	assert_string_equal(t, want);
	assert_int_equal(len, strlen(want));
}

#endif
