/*
 * session.c -- planar_db and planar_conn: opening the engine, running scripts statement by
 * statement through the router, and the lake registry.
 */
#include "sql/session.h"
#include "sql/prune.h"

#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "core/str.h"
#include "sql/lake.h"
#include "sql/lexer.h"
#include "sql/router.h"
#include "sql/timetravel.h"
#include "sql/transaction.h"
#include "storage/s3lake.h"

const char *planar_version(void)
{
	return "0.1.0";
}

void planar_free(void *ptr)
{
	free(ptr);
}

static int set_errmsg(char **errmsg_out, const pl_err *err)
{
	if (errmsg_out)
		*errmsg_out = pl_strdup(err->msg);
	return err->code ? err->code : PL_ERROR;
}

int planar_db_open(planar_db **out, const char *duckdb_path, char **errmsg_out)
{
	pl_err err = {0};
	planar_db *db = calloc(1, sizeof(*db));
	if (errmsg_out)
		*errmsg_out = NULL;
	*out = NULL;
	if (!db) {
		pl_err_nomem(&err);
		return set_errmsg(errmsg_out, &err);
	}
	pthread_mutexattr_t attr;
	pthread_mutexattr_init(&attr);
	/* Recursive: Planar's table functions run inside queries that Planar issues under the lock. */
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&db->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	pthread_mutex_init(&db->names_lock, NULL);
	pl_delcache_init(&db->deletes);
	pl_empty_files_init(&db->empty, NULL);
	pl_s3lake_install_hooks(); /* absolute s3:// files are read through the S3 cache in any lake */
	int rc = pl_engine_open(&db->duck, duckdb_path, false, &err);
	db->empty.duck = db->duck;
	if (rc == 0)
		rc = pl_engine_connect(&db->admin, db->duck, &err);
	if (rc == 0)
		rc = pl_functions_register(db, &err);
	if (rc == 0)
		rc = pl_engine_register_murmur3(db->admin, &err);
	if (rc) {
		planar_db_free(db);
		return set_errmsg(errmsg_out, &err);
	}
	*out = db;
	return 0;
}

void planar_db_free(planar_db *db)
{
	if (!db)
		return;
	for (size_t i = 0; i < db->nlakes; i++)
		pl_lake_free(db->lakes[i]);
	free(db->lakes);
	if (db->admin)
		duckdb_disconnect(&db->admin);
	if (db->duck)
		duckdb_close(&db->duck);
	pthread_mutex_destroy(&db->lock);
	pthread_mutex_destroy(&db->names_lock);
	pl_delcache_dispose(&db->deletes);
	pl_empty_files_dispose(&db->empty);
	free(db);
}

int planar_conn_open(planar_conn **out, planar_db *db, char **errmsg_out)
{
	pl_err err = {0};
	planar_conn *c = calloc(1, sizeof(*c));
	if (errmsg_out)
		*errmsg_out = NULL;
	*out = NULL;
	if (!c) {
		pl_err_nomem(&err);
		return set_errmsg(errmsg_out, &err);
	}
	c->db = db;
	pl_engine_stmt_cache_init(&c->prepared);
	pl_err no_id = {0};
	if (pl_uuid_v4(c->scratch, &no_id) != 0)
		c->scratch[0] = '\0';
	if (pl_engine_connect(&c->con, db->duck, &err) || pl_functions_install_macros(c->con, &err)) {
		if (c->con)
			duckdb_disconnect(&c->con);
		free(c);
		return set_errmsg(errmsg_out, &err);
	}
	*out = c;
	return 0;
}

void planar_conn_free(planar_conn *conn)
{
	if (!conn)
		return;
	pthread_mutex_lock(&conn->db->lock);
	pl_txn_dispose_conn(conn);
	pthread_mutex_unlock(&conn->db->lock);
	pl_delcache_conn_forget(&conn->db->deletes, conn);
	pl_conn_dispose_api(conn);
	pl_timetravel_forget(conn);
	pl_stmt_cache_clear(&conn->prepared);
	duckdb_disconnect(&conn->con);
	free(conn->loc_db);
	free(conn->loc_schema);
	pl_prune_preparse_clear(conn);
	pl_prune_make_views(conn, false, NULL);
	free(conn);
}

const char *planar_conn_errmsg(const planar_conn *conn)
{
	return conn ? conn->err.msg : "no connection";
}

int planar_conn_query(planar_conn *conn, const char *sql, planar_result **out)
{
	char **stmts = NULL;
	planar_result *last = NULL;
	if (out)
		*out = NULL;
	pl_err_clear(&conn->err);
	int rc = pl_sql_split_script(&stmts, sql, &conn->err);
	for (size_t i = 0; rc == 0 && stmts[i]; i++) {
		planar_result_free(last);
		last = NULL;
		pl_conn_begin_statement(conn);
		rc = pl_router_run(conn, stmts[i], &last, &conn->err);
	}
	pl_strv_free(stmts);
	if (rc) {
		planar_result_free(last);
		if (!conn->err.msg[0])
			pl_err_set(&conn->err, rc, "statement failed");
		return rc;
	}
	pl_err_clear(&conn->err);
	if (out)
		*out = last;
	else
		planar_result_free(last);
	return 0;
}

int planar_sql_split(char ***out, const char *script)
{
	pl_err err = {0};
	return pl_sql_split_script(out, script, &err);
}

void planar_strv_free(char **strv)
{
	pl_strv_free(strv);
}

pl_lake *pl_db_find_lake(planar_db *db, const char *name)
{
	for (size_t i = 0; i < db->nlakes; i++)
		if (pl_str_ieq(pl_lake_name(db->lakes[i]), name))
			return db->lakes[i];
	return NULL;
}

int pl_db_add_lake(planar_db *db, pl_lake *lake, pl_err *err)
{
	if (db->nlakes == db->caplakes) {
		size_t cap = db->caplakes ? db->caplakes * 2 : 4;
		pl_lake **p = realloc(db->lakes, cap * sizeof(*p));
		if (!p)
			return pl_err_nomem(err);
		db->lakes = p;
		db->caplakes = cap;
	}
	pthread_mutex_lock(&db->names_lock);
	db->lakes[db->nlakes++] = lake;
	pthread_mutex_unlock(&db->names_lock);
	return 0;
}

bool pl_db_statement_names_lake(planar_db *db, const pl_toks *t, const char *cur_db)
{
	bool named = false;
	pthread_mutex_lock(&db->names_lock);
	for (size_t l = 0; !named && l < db->nlakes; l++) {
		const char *name = pl_lake_name(db->lakes[l]), *meta = db->lakes[l]->meta_name;
		named = cur_db && (pl_str_ieq(cur_db, name) || pl_str_ieq(cur_db, meta));
		for (size_t i = 0; !named && i < t->len; i++) {
			pl_tok_kind k = t->items[i].kind;
			if (k != PL_TOK_WORD && k != PL_TOK_QIDENT && k != PL_TOK_STRING)
				continue;
			char *v = k == PL_TOK_STRING ? pl_tok_string(t, i) : pl_tok_ident(t, i);
			/* out of memory: assume it does */
			named = !v || pl_str_ieq(v, name) || pl_str_ieq(v, meta);
			free(v);
		}
	}
	pthread_mutex_unlock(&db->names_lock);
	return named;
}

void pl_db_remove_lake(planar_db *db, pl_lake *lake)
{
	for (size_t i = 0; i < db->nlakes; i++) {
		if (db->lakes[i] == lake) {
			pthread_mutex_lock(&db->names_lock);
			memmove(&db->lakes[i], &db->lakes[i + 1], (db->nlakes - i - 1) * sizeof(*db->lakes));
			db->nlakes--;
			pthread_mutex_unlock(&db->names_lock);
			return;
		}
	}
}
