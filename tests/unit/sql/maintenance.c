/*
 * maintenance.c -- snapshot expiry and file cleanup in one session while other sessions of the
 * same planar_db write the lake on threads (SQLite and DuckDB-file catalogs) (their INSERTs write files without holding the lakes,
 * so cleanup runs between a write and its commit):
 *
 * every acknowledged change is in the table, nothing else is; every file a live snapshot
 * references exists; a writer's statement fails only because its files or base snapshot were
 * taken meanwhile (and commits nothing); the maintenance session never fails; and expiry and
 * cleanup did expire snapshots and remove files.
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

#define ROWS 40

typedef struct fixture {
	char dir[64];
	planar_db *db;
	planar_conn *w[2], *m;
} fixture;

static int run(planar_conn *c, const char *sql)
{
	int rc = planar_conn_query(c, sql, NULL);
	if (rc)
		fprintf(stderr, "%s: %s\n", sql, planar_conn_errmsg(c));
	return rc;
}

static long long count(planar_conn *c, const char *sql)
{
	planar_result *r = NULL;
	long long n = -1;
	if (planar_conn_query(c, sql, &r) == 0 && planar_result_row_count(r) == 1) {
		char *v = planar_result_value_string(r, 0, 0);
		n = v ? atoll(v) : -1;
		free(v);
	} else {
		fprintf(stderr, "%s: %s\n", sql, planar_conn_errmsg(c));
	}
	planar_result_free(r);
	return n;
}

/* *state: the catalog kind ("sqlite", "duckdb"). */
static int setup(void **state)
{
	const char *kind = *state;
	fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/planar-maint-XXXXXX");
	if (!f || !mkdtemp(f->dir) || planar_db_open(&f->db, NULL, NULL) || planar_conn_open(&f->w[0], f->db, NULL) ||
	    planar_conn_open(&f->w[1], f->db, NULL) || planar_conn_open(&f->m, f->db, NULL))
		return -1;
	char sql[256];
	snprintf(sql, sizeof(sql), "ATTACH 'ducklake:%s:%s/meta.db' AS lake (DATA_PATH '%s/data/', DATA_INLINING_ROW_LIMIT 0)", kind, f->dir, f->dir);
	if (run(f->m, sql) || run(f->m, "CREATE TABLE lake.t(w INTEGER, k INTEGER)"))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	for (int i = 0; i < 2; i++)
		planar_conn_free(f->w[i]);
	planar_conn_free(f->m);
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
	int id;
	bool present[ROWS + 1]; /* rows (id, k) the writer was told are there */
	int unexpected;         /* failures other than those maintenance may cause */
	atomic_int *running;
} writer;

static bool maintenance_race(const char *msg)
{
	return strstr(msg, "removed before it could be committed") || strstr(msg, "were expired meanwhile") ||
	       strstr(msg, "was expired and its files removed meanwhile") ||
	       (strstr(msg, "cannot move") && strstr(msg, ".planar-write-"));
}

/* A failed statement: counted unless maintenance explains it. */
static void failed(writer *w, const char *sql)
{
	if (maintenance_race(planar_conn_errmsg(w->conn)))
		return;
	w->unexpected++;
	fprintf(stderr, "%s: %s\n", sql, planar_conn_errmsg(w->conn));
}

static void *write_rows(void *p)
{
	writer *w = p;
	char sql[160];
	for (int k = 1; k <= ROWS; k++) {
		snprintf(sql, sizeof(sql), "INSERT INTO lake.t VALUES (%d, %d)", w->id, k);
		if (planar_conn_query(w->conn, sql, NULL) == 0)
			w->present[k] = true;
		else
			failed(w, sql);
		if (k % 3 == 0 && w->present[k - 1]) { /* ends files: expiry has something to schedule */
			snprintf(sql, sizeof(sql), "DELETE FROM lake.t WHERE w = %d AND k = %d", w->id, k - 1);
			if (planar_conn_query(w->conn, sql, NULL) == 0)
				w->present[k - 1] = false;
			else
				failed(w, sql);
		}
	}
	atomic_fetch_sub(w->running, 1);
	return NULL;
}

static void maintenance__beside_writers_on_threads(void **state)
{
	fixture *f = *state;
	atomic_int running = 2;
	writer w[2];
	pthread_t th[2];
	for (int i = 0; i < 2; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].conn = f->w[i];
		w[i].id = i + 1;
		w[i].running = &running;
		assert_int_equal(pthread_create(&th[i], NULL, write_rows, &w[i]), 0);
	}
	long long expired = 0, removed = 0;
	int rounds = 0;
	while (atomic_load(&running) > 0 && rounds < 2000) {
		long long e = count(f->m, "SELECT count(*) FROM ducklake_expire_snapshots('lake', older_than => now())");
		long long o = count(f->m, "SELECT count(*) FROM ducklake_cleanup_old_files('lake', cleanup_all => true)");
		long long d = count(f->m, "SELECT count(*) FROM ducklake_delete_orphaned_files('lake', cleanup_all => true)");
		assert_true(e >= 0 && o >= 0 && d >= 0);
		expired += e;
		removed += o + d;
		rounds++;
	}
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(w[0].unexpected + w[1].unexpected, 0);
	/* once more with the writers done */
	expired += count(f->m, "SELECT count(*) FROM ducklake_expire_snapshots('lake', older_than => now())");
	removed += count(f->m, "SELECT count(*) FROM ducklake_cleanup_old_files('lake', cleanup_all => true)");
	assert_true(expired > 0);
	assert_true(removed > 0);

	/* every acknowledged row, and nothing else */
	long long want = 0;
	fprintf(stderr, "maintenance: %d rounds, %lld snapshots expired, %lld files removed\n", rounds, expired, removed);
	for (int i = 0; i < 2; i++)
		for (int k = 1; k <= ROWS; k++) {
			char sql[128];
			snprintf(sql, sizeof(sql), "SELECT count(*) FROM lake.t WHERE w = %d AND k = %d", i + 1, k);
			assert_int_equal(count(f->m, sql), w[i].present[k] ? 1 : 0);
			want += w[i].present[k];
		}
	assert_int_equal(count(f->m, "SELECT count(*) FROM lake.t"), want);
	/* every live file exists (reading every column of every row reads every file) */
	char sql[512];
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM ducklake_list_files('lake', 't') WHERE data_file NOT IN (SELECT file FROM "
		 "glob('%s/data/**')) OR (delete_file IS NOT NULL AND delete_file NOT IN (SELECT file FROM glob('%s/data/**')))",
		 f->dir, f->dir);
	assert_int_equal(count(f->m, sql), 0);
	assert_int_equal(count(f->m, "SELECT count(*) FROM (SELECT sum(w + k) OVER () FROM lake.t)"), want);
	/* nothing unregistered is left */
	assert_int_equal(count(f->m, "SELECT count(*) FROM ducklake_delete_orphaned_files('lake', cleanup_all => true, "
				     "dry_run => true)"),
			 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_prestate_setup_teardown(maintenance__beside_writers_on_threads, setup, teardown, "sqlite"),
		cmocka_unit_test_prestate_setup_teardown(maintenance__beside_writers_on_threads, setup, teardown, "duckdb"),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
