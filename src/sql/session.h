/*
 * session.h -- the internals of planar_db (engine + attached lakes) and planar_conn (one
 * session: a DuckDB connection, its transaction state and its last error).
 *
 * Locking: db->lock guards the list of lakes and every lake's catalog connection and model.
 * A statement that touches a lake holds it from planning to commit, so commits from sessions
 * of one process are serialized; commits from other processes are handled by the catalog.
 */
#ifndef PL_SQL_SESSION_H
#define PL_SQL_SESSION_H

#include <pthread.h>

#include "engine/engine.h"
#include "sql/lexer.h"
#include "planar/planar.h"
#include "table/delcache.h"

typedef struct pl_lake pl_lake;

struct planar_db {
	duckdb_database duck;
	duckdb_connection admin; /* for view maintenance, under lock */
	pthread_mutex_t lock;
	pl_lake **lakes;
	size_t nlakes, caplakes;
	/* Guards lakes/nlakes (and the lakes' names) for readers that do not hold `lock`: the
	 * registry changes only with both held. */
	pthread_mutex_t names_lock;
	pl_delcache deletes; /* deleted-row bitsets for scans (thread-safe) */
};

typedef struct pl_begin_snapshot {
	pl_lake *lake;
	int64_t snapshot;
} pl_begin_snapshot;

struct planar_conn {
	planar_db *db;
	duckdb_connection con;
	unsigned long tmp_seq; /* for unique temporary object names */
	pl_err err;
	/* BEGIN ... COMMIT (see transaction.h) */
	bool in_txn, txn_aborted;
	pl_lake *txn_views_lake;    /* the lake whose views this transaction rebuilt */
	pl_begin_snapshot *begin;   /* each lake's snapshot when the transaction began */
	size_t nbegin;
	char *commit_author, *commit_message, *commit_extra; /* set_commit_message */
};

/* Values are turned into text as DuckDB's CAST(x AS VARCHAR) does, chunk by chunk on first
 * use, on the connection that produced the result (so session settings such as TimeZone
 * apply). */
struct planar_result {
	duckdb_result res;
	char **names;
	char **types; /* column type spellings */
	size_t ncols;
	duckdb_connection con; /* borrowed: the producing connection */
	unsigned long *tmp_seq;
	idx_t nchunks;
	idx_t *chunk_start;     /* first row of each chunk, nchunks + 1 entries */
	char ***chunk_text;     /* per chunk: rows * ncols cells, NULL until converted */
};

/* Wraps a DuckDB result (takes ownership) into a planar_result of conn. */
int pl_result_wrap(planar_result **out, planar_conn *conn, duckdb_result *res, pl_err *err);
/* A one-row result built by running a SELECT on the session's connection. */
int pl_result_from_sql(planar_result **out, planar_conn *conn, const char *sql, pl_err *err);

/* Whether a statement may involve a lake: a token (identifier or string) is a lake's name, or
 * cur_db (the session's current database, may be NULL) is a lake. Needs only names_lock. */
bool pl_db_statement_names_lake(planar_db *db, const pl_toks *t, const char *cur_db);

/* Lake registry (callers hold db->lock). */
pl_lake *pl_db_find_lake(planar_db *db, const char *name);
int pl_db_add_lake(planar_db *db, pl_lake *lake, pl_err *err);
void pl_db_remove_lake(planar_db *db, pl_lake *lake);

#endif
