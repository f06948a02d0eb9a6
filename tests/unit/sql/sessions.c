/*
 * sessions.c -- several sessions of one planar_db on threads: a statement that names no lake runs
 * while another session holds the lakes for a long write, and the write still commits whole.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "planar/planar.h"
#include "sql/lake.h"
#include "sql/session.h"

typedef struct fixture {
	char dir[64];
	planar_db *db;
	planar_conn *a, *b;
} fixture;

static int run(planar_conn *c, const char *sql)
{
	int rc = planar_conn_query(c, sql, NULL);
	if (rc)
		fprintf(stderr, "%s: %s\n", sql, planar_conn_errmsg(c));
	return rc;
}

static char *value(planar_conn *c, const char *sql)
{
	planar_result *r = NULL;
	if (planar_conn_query(c, sql, &r) != 0 || planar_result_row_count(r) != 1) {
		planar_result_free(r);
		return NULL;
	}
	char *v = planar_result_value_string(r, 0, 0);
	planar_result_free(r);
	return v;
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/planar-sessions-XXXXXX");
	if (!f || !mkdtemp(f->dir) || planar_db_open(&f->db, NULL, NULL) || planar_conn_open(&f->a, f->db, NULL) ||
	    planar_conn_open(&f->b, f->db, NULL))
		return -1;
	char sql[256];
	snprintf(sql, sizeof(sql), "ATTACH 'ducklake:sqlite:%s/meta.db' AS lake (DATA_PATH '%s/data/')", f->dir, f->dir);
	if (run(f->a, sql) || run(f->a, "CREATE TABLE lake.t(i BIGINT, s VARCHAR)"))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	planar_conn_free(f->a);
	planar_conn_free(f->b);
	planar_db_free(f->db);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", f->dir);
	free(f);
	return 0;
}

typedef struct writer {
	planar_conn *conn;
	int rc;
	atomic_int done;
} writer;

static void *write_rows(void *p)
{
	writer *w = p;
	w->rc = run(w->conn, "INSERT INTO lake.t SELECT range, repeat('x', 20) || range FROM range(3000000)");
	w->done = 1;
	return NULL;
}

/* Session b's statements that name no lake complete while session a's INSERT holds the lakes. */
static void sessions__reads_run_beside_a_long_write(void **state)
{
	fixture *f = *state;
	writer w = {f->a, -1, 0};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, write_rows, &w), 0);
	/* wait until the writer holds the lakes */
	bool held = false;
	while (!w.done && !held) {
		if (pthread_mutex_trylock(&f->db->lock) == 0)
			pthread_mutex_unlock(&f->db->lock);
		else
			held = true;
		if (!held)
			usleep(1000);
	}
	assert_true(held);
	/* Statements of b keep coming back while the write goes on. Under one lock for every
	 * statement none would return before the write ends; how many do depends on the machine's
	 * speed, so the test asks for one that started and ended inside the write, and that the
	 * last of them still answers right. */
	int served_while_writing = 0;
	while (!atomic_load(&w.done)) {
		char *v = value(f->b, "SELECT 41 + 1");
		assert_non_null(v);
		assert_string_equal(v, "42");
		free(v);
		if (!atomic_load(&w.done))
			served_while_writing++;
	}
	char *sum = value(f->b, "SELECT sum(range) FROM range(1000)");
	assert_non_null(sum);
	assert_string_equal(sum, "499500");
	free(sum);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(w.rc, 0);
	assert_true(served_while_writing >= 1);
	/* and the write is there whole, seen by the other session */
	char *n = value(f->b, "SELECT count(*) FROM lake.t");
	assert_non_null(n);
	assert_string_equal(n, "3000000");
	free(n);
}

/* A statement naming the lake waits for the writer and then sees its commit. */
static void sessions__lake_reads_see_whole_commits(void **state)
{
	fixture *f = *state;
	writer w = {f->a, -1, 0};
	pthread_t th;
	char *before = value(f->b, "SELECT count(*) FROM lake.t");
	assert_non_null(before);
	assert_int_equal(pthread_create(&th, NULL, write_rows, &w), 0);
	for (int i = 0; i < 20; i++) {
		char *n = value(f->b, "SELECT count(*) FROM lake.t");
		assert_non_null(n);
		long long c = atoll(n), b = atoll(before);
		assert_true(c == b || c == b + 3000000); /* never a partial write */
		free(n);
		usleep(20000);
	}
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(w.rc, 0);
	free(before);
}

/* The lake's writers count while a statement writes files without holding the lakes. */
static int writers_of(fixture *f)
{
	pthread_mutex_lock(&f->db->lock);
	pl_lake *lake = pl_db_find_lake(f->db, "lake");
	int n = lake ? lake->writers : -1;
	pthread_mutex_unlock(&f->db->lock);
	return n;
}

/* While session a writes an INSERT's files, session b reads and writes the same lake: its read
 * sees the table before a's commit, its own INSERT commits, and a's commit lands after. */
static void sessions__same_lake_beside_a_long_insert(void **state)
{
	fixture *f = *state;
	writer w = {f->a, -1, 0};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, write_rows, &w), 0);
	bool writing = false;
	while (!atomic_load(&w.done) && !writing) {
		writing = writers_of(f) > 0;
		if (!writing)
			usleep(1000);
	}
	assert_true(writing);
	char *n = value(f->b, "SELECT count(*) FROM lake.t");
	assert_non_null(n);
	assert_string_equal(n, "0");
	free(n);
	assert_int_equal(run(f->b, "INSERT INTO lake.t VALUES (-1, 'beside')"), 0);
	bool overlapped = writers_of(f) > 0 && !atomic_load(&w.done);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(w.rc, 0);
	assert_true(overlapped);
	n = value(f->b, "SELECT count(*) FROM lake.t");
	assert_non_null(n);
	assert_string_equal(n, "3000001");
	free(n);
	/* two snapshots after the table's: b's INSERT, then a's */
	n = value(f->b, "SELECT string_agg(coalesce(changes['tables_inserted_into'], changes['inlined_insert'])[1] || "
			"CASE WHEN changes['inlined_insert'] IS NULL THEN '' ELSE ' inlined' END, ',' ORDER BY snapshot_id) "
			"FROM ducklake_snapshots('lake') WHERE snapshot_id > 1");
	assert_non_null(n);
	/* the table id, as DuckLake records it; b's one row went into the catalog (data inlining) */
	assert_string_equal(n, "1 inlined,1");
	free(n);
}

static void *delete_rows(void *p)
{
	writer *w = p;
	w->rc = run(w->conn, "DELETE FROM lake.t WHERE hash(s || 'salt') % 3 = 0 AND i >= 0");
	atomic_store(&w->done, 1);
	return NULL;
}

/* While session a's DELETE looks for its rows, session b inserts into the same table and reads
 * it: both commit (they touch different files), and b never waits for a's search. */
static void sessions__insert_beside_a_long_delete(void **state)
{
	fixture *f = *state;
	assert_int_equal(run(f->a, "INSERT INTO lake.t SELECT range, repeat('x', 20) || range FROM range(3000000)"), 0);
	writer w = {f->a, -1, 0};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, delete_rows, &w), 0);
	bool searching = false;
	while (!atomic_load(&w.done) && !searching) {
		searching = writers_of(f) > 0;
		if (!searching)
			usleep(500);
	}
	assert_true(searching);
	assert_int_equal(run(f->b, "INSERT INTO lake.t VALUES (-5, 'while deleting')"), 0);
	char *n = value(f->b, "SELECT count(*) FROM lake.t WHERE i = -5");
	assert_non_null(n);
	assert_string_equal(n, "1");
	free(n);
	bool overlapped = !atomic_load(&w.done);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(w.rc, 0);
	assert_true(overlapped);
	/* the DELETE planned before b's row existed: b's row stays, a's deletes are all there */
	char *left = value(f->b, "SELECT count(*) FROM lake.t WHERE i >= 0 AND hash(s || 'salt') % 3 = 0");
	assert_non_null(left);
	assert_string_equal(left, "0");
	free(left);
	n = value(f->b, "SELECT count(*) FROM lake.t WHERE i = -5");
	assert_string_equal(n, "1");
	free(n);
}

/* A lake another session's open transaction has read cannot be detached until it ends. */
static void sessions__detach_waits_for_other_transactions(void **state)
{
	fixture *f = *state;
	assert_int_equal(run(f->b, "BEGIN"), 0);
	char *n = value(f->b, "SELECT count(*) FROM lake.t");
	assert_non_null(n);
	free(n);
	assert_int_not_equal(planar_conn_query(f->a, "DETACH lake", NULL), 0);
	assert_non_null(strstr(planar_conn_errmsg(f->a), "a transaction of another session reads it"));
	assert_int_equal(run(f->b, "COMMIT"), 0);
	assert_int_equal(run(f->a, "DETACH lake"), 0);
}

typedef struct txn_writer {
	planar_db *db;
	int id, rc;
} txn_writer;

/* One session: BEGIN, five INSERTs, COMMIT. */
static void *insert_in_transaction(void *p)
{
	txn_writer *w = p;
	planar_conn *c = NULL;
	w->rc = planar_conn_open(&c, w->db, NULL);
	if (w->rc == 0)
		w->rc = run(c, "BEGIN");
	for (int i = 0; w->rc == 0 && i < 5; i++) {
		char sql[128];
		snprintf(sql, sizeof(sql), "INSERT INTO lake.t VALUES (%d, 'w%d')", w->id * 100 + i, w->id);
		w->rc = run(c, sql);
	}
	if (w->rc == 0)
		w->rc = run(c, "COMMIT");
	planar_conn_free(c);
	return NULL;
}

static void *insert_twenty(void *p)
{
	txn_writer *w = p;
	planar_conn *c = NULL;
	w->rc = planar_conn_open(&c, w->db, NULL);
	for (int i = 0; w->rc == 0 && i < 20; i++)
		w->rc = run(c, "INSERT INTO lake.t VALUES (-1, 'other')");
	planar_conn_free(c);
	return NULL;
}

/* A transaction that has written holds no lock: another session's writes commit meanwhile
 * (a lock would hang the thread and fail the test by its timeout), the transaction keeps its
 * own snapshot, and its COMMIT lands on top of theirs. */
static void sessions__open_transaction_blocks_no_writer(void **state)
{
	fixture *f = *state;
	assert_int_equal(run(f->a, "BEGIN"), 0);
	assert_int_equal(run(f->a, "INSERT INTO lake.t VALUES (1, 'mine')"), 0);
	txn_writer w = {f->db, 0, -1};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, insert_twenty, &w), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(w.rc, 0);
	char *n = value(f->a, "SELECT count(*) FROM lake.t");
	assert_non_null(n);
	assert_string_equal(n, "1");
	free(n);
	assert_int_equal(run(f->a, "COMMIT"), 0);
	n = value(f->b, "SELECT count(*) || '/' || count(*) FILTER (WHERE s = 'mine') FROM lake.t");
	assert_non_null(n);
	assert_string_equal(n, "21/1");
	free(n);
}

/* Deleting the same rows in a transaction and, meanwhile, in another session: the later COMMIT
 * fails with a conflict and the lake keeps the other session's delete only. */
static void sessions__conflicting_transaction_fails_at_commit(void **state)
{
	fixture *f = *state;
	assert_int_equal(run(f->a, "INSERT INTO lake.t SELECT range, 'x' FROM range(10)"), 0);
	assert_int_equal(run(f->a, "BEGIN"), 0);
	assert_int_equal(run(f->a, "DELETE FROM lake.t WHERE i < 3"), 0);
	assert_int_equal(run(f->b, "DELETE FROM lake.t WHERE i = 9"), 0);
	assert_int_not_equal(planar_conn_query(f->a, "COMMIT", NULL), 0);
	assert_non_null(strstr(planar_conn_errmsg(f->a), "conflict"));
	char *n = value(f->a, "SELECT count(*) || '/' || sum(i) FROM lake.t");
	assert_non_null(n);
	assert_string_equal(n, "9/36");
	free(n);
}

/* Four sessions on threads, each inserting in its own transaction: every COMMIT lands. (The
 * table has a data file already: a transaction's first file in a table without one changes the
 * table's view, which two transactions at once can only do one after the other; so the seed row
 * is written to a file, not inlined into the catalog.) */
static void sessions__concurrent_transactions_all_commit(void **state)
{
	fixture *f = *state;
	assert_int_equal(run(f->a, "CALL lake.set_option('data_inlining_row_limit', 0)"), 0);
	assert_int_equal(run(f->a, "INSERT INTO lake.t VALUES (0, 'seed')"), 0);
	txn_writer w[4];
	pthread_t th[4];
	for (int i = 0; i < 4; i++) {
		w[i] = (txn_writer){f->db, i + 1, -1};
		assert_int_equal(pthread_create(&th[i], NULL, insert_in_transaction, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(w[i].rc, 0);
	}
	char *n = value(f->a, "SELECT count(*) || '/' || count(DISTINCT s) FROM lake.t");
	assert_non_null(n);
	assert_string_equal(n, "21/5");
	free(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(sessions__reads_run_beside_a_long_write, setup, teardown),
		cmocka_unit_test_setup_teardown(sessions__lake_reads_see_whole_commits, setup, teardown),
		cmocka_unit_test_setup_teardown(sessions__same_lake_beside_a_long_insert, setup, teardown),
		cmocka_unit_test_setup_teardown(sessions__insert_beside_a_long_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(sessions__detach_waits_for_other_transactions, setup, teardown),
		cmocka_unit_test_setup_teardown(sessions__open_transaction_blocks_no_writer, setup, teardown),
		cmocka_unit_test_setup_teardown(sessions__conflicting_transaction_fails_at_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(sessions__concurrent_transactions_all_commit, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
