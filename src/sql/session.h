/*
 * session.h -- the internals of planar_db (engine + attached lakes) and planar_conn (one
 * session: a DuckDB connection, its transaction state and its last error).
 *
 * Locking: db->lock guards the list of lakes and every lake's catalog connection and model.
 * A statement that touches a lake holds it while planning and committing (not while writing
 * Parquet), so commits from sessions of one process are serialized; commits from other
 * processes are handled by the catalog.
 */
#ifndef PL_SQL_SESSION_H
#define PL_SQL_SESSION_H

#include <pthread.h>

#include "catalog/commit.h"
#include "catalog/model.h"
#include "core/ids.h"
#include "core/str.h"
#include "engine/engine.h"
#include "sql/lexer.h"
#include "sql/settings.h"
#include "planar/planar.h"
#include "table/delcache.h"
#include "table/emptyfile.h"

typedef struct pl_lake pl_lake;

struct planar_db {
	duckdb_database duck;
	duckdb_connection admin; /* for view maintenance, under lock */
	pthread_mutex_t lock;
	/* The session whose statement holds `lock` while its queries run (the router sets it;
	 * released for I/O it is NULL): a table function running for that session's query must not
	 * take the lock again (its holder waits for the query). Read and written atomically. */
	planar_conn *lock_holder;
	pl_lake **lakes;
	size_t nlakes, caplakes;
	/* Guards lakes/nlakes (and the lakes' names) for readers that do not hold `lock`: the
	 * registry changes only with both held. */
	pthread_mutex_t names_lock;
	pl_delcache deletes; /* deleted-row bitsets for scans (thread-safe) */
	pl_settings settings; /* SET [GLOBAL] ducklake_... (under lock) */
	pl_empty_files empty; /* empty data files of tables' columns (table/emptyfile.h) */
	/* Whether the last look found a lake table large enough to prune (sql/prune.c): a hint,
	 * read without the lock, for parsing a query before taking it. Read and written atomically. */
	int prune_hint;
};

/* A lake inside a session's transaction: its snapshot at BEGIN (or when first used) and the
 * transaction's writes to it, committed together at COMMIT (see transaction.h). */
/* Hashes of the mirror objects (views, macros) a transaction's own syncs created, replaced or
 * dropped: for those the transaction's view differs from the shared one (sql/mirror.c). */
typedef struct pl_synced_set {
	uint64_t *keys;
	size_t n, cap;
	/* The shared views' statement hashes when the transaction first used the lake: what its
	 * DuckDB snapshot shows; an object whose text is still one of those is left as it is (a
	 * later change by another session is not replaced with the older text, which DuckDB
	 * would refuse as a write-write conflict). */
	uint64_t *base;
	size_t nbase;
	bool has_base;
	uint64_t id;        /* the transaction's number among the lake's (pl_lake.claims) */
	uint64_t begin_seq; /* the lake's mirror change count when it began */
} pl_synced_set;

typedef struct pl_begin_snapshot {
	pl_lake *lake;
	int64_t snapshot;
	pl_model *pending; /* the lake as the transaction sees it; NULL before its first write */
	pl_txn *writes;    /* each writing statement's changes, in order */
	size_t nwrites;
	pl_strv files;     /* files the writes added, removed when the transaction does not commit */
	int64_t next_local; /* local ids given so far (catalog/pending.h) */
	pl_synced_set synced; /* the mirror objects the transaction's syncs changed */
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
	pl_settings settings;       /* SET SESSION ducklake_... */
	/* C API (stream.c, prepare.c) */
	duckdb_connection aux;       /* converts values to text/JSON off the session connection (lazy) */
	unsigned long epoch;         /* statements started through the API */
	unsigned long aux_epoch;     /* epoch at which aux last copied the session's settings */
	planar_result *stream;       /* the open streaming result, if any */
	struct pl_exec *exec;        /* how the running statement is executed (NULL: plain query) */
	pl_strv stale_views;         /* temporary views of freed streams, dropped before the next statement */
	struct pl_sqlprep *sqlprep;  /* PREPARE name AS <statement Planar executes> */
	size_t nsqlprep;
	struct pl_at_view *at_views; /* the running statement's time-travel views (timetravel.h) */
	size_t nat_views, capat_views;
	pl_stmt_cache prepared;      /* statements Planar runs on con with other values each time */
	/* A UUID of the session, naming the temporary file of its one-file writes: the same name
	 * each time, so that their COPY is prepared once (empty: not made, such writes are not
	 * prepared). */
	char scratch[PL_UUID_STRLEN + 1];
	/* current_database() and current_schema() of con, once read (pl_session_location), until a
	 * statement that may change them (router.c) */
	bool loc_known;
	char *loc_db, *loc_schema;
	/* the running query's syntax trees, parsed before the lock (sql/prune.c) */
	char *pre_sql;
	struct json_t *pre_stmt, *pre_tmpl;
	/* A query (SELECT, FROM) whose pruned views may be made after the lock: the statements
	 * that make them, run before the query (sql/prune.c, pl_prune_make_views). */
	bool views_later;
	pl_strv later;
};

/* One bound parameter value. */
typedef enum pl_param_kind {
	PL_PARAM_UNSET = 0,
	PL_PARAM_NULL,
	PL_PARAM_BOOL,
	PL_PARAM_INT64,
	PL_PARAM_DOUBLE,
	PL_PARAM_TEXT,
	PL_PARAM_TIMESTAMP,
} pl_param_kind;

typedef struct pl_param {
	pl_param_kind kind;
	bool b;
	int64_t i; /* INT64 value, TIMESTAMP micros */
	double d;
	char *text; /* NUL-terminated */
	size_t len;
} pl_param;

/* A statement passed to the engine prepared once and reused while its text stays the same. */
typedef struct pl_prep_cache {
	duckdb_prepared_statement prep;
	char *sql;
} pl_prep_cache;

/* How pl_exec_passthrough runs the statement the router hands to the engine. */
typedef struct pl_exec {
	bool stream;
	const pl_param *params; /* params[0] is $1 */
	size_t nparams;
	pl_prep_cache *cache; /* may be NULL */
} pl_exec;

/* A column's text or JSON for the rows of one chunk, NUL-terminated strings in data. */
typedef struct pl_colcache {
	bool ready;
	size_t *off; /* per row: offset in data, SIZE_MAX for SQL NULL */
	size_t *len;
	size_t cap; /* rows off/len can hold */
	pl_buf data;
} pl_colcache;

/* A result (see planar.h). Materialized results index their chunks for row access; the text of
 * one chunk at a time is cached for it (rowtext). Both kinds have a chunk cursor (cur) with
 * per-column text/JSON caches filled on demand. Values that C cannot format exactly as DuckDB
 * does are converted by DuckDB itself on conn->aux (a temporary table holding the chunk), so the
 * session connection, and a stream running on it, are never disturbed. */
struct planar_result {
	planar_conn *conn; /* the producing connection */
	duckdb_result res;
	bool streaming, closed; /* closed: a stream ended by another statement */
	duckdb_prepared_statement prep; /* owned by a stream (NULL otherwise) */
	pl_strv views;                  /* temporary views a stream reads; dropped after it */
	char **names;
	char **types; /* column type spellings */
	duckdb_type *duck_types;
	planar_type *type_ids;
	uint8_t *dec_scale; /* DECIMAL scale per column */
	duckdb_type *dec_internal;
	size_t ncols;
	/* materialized: rows of each chunk, and the text of one of them */
	idx_t nchunks;
	idx_t *chunk_start; /* first row of each chunk, nchunks + 1 entries */
	idx_t rowtext_chunk; /* chunk whose text rowtext holds, or (idx_t)-1 */
	pl_colcache *rowtext;
	/* chunk cursor */
	duckdb_data_chunk cur;
	idx_t next_chunk; /* materialized: index of the next chunk */
	size_t cur_rows;
	bool done;
	pl_colcache *text, *json;
	pl_err err;
};
/* Wraps a DuckDB result (takes ownership) into a planar_result of conn. */
int pl_result_wrap(planar_result **out, planar_conn *conn, duckdb_result *res, pl_err *err);
/* A one-row result built by running a SELECT on the session's connection. */
int pl_result_from_sql(planar_result **out, planar_conn *conn, const char *sql, pl_err *err);

/* Whether a statement may involve a lake: a token (identifier or string) is a lake's name, or
 * cur_db (the session's current database, may be NULL) is a lake. Needs only names_lock. */
bool pl_db_statement_names_lake(planar_db *db, const pl_toks *t, const char *cur_db);
/* Runs sql on the session connection as conn->exec asks (plain, streaming, with parameters):
 * the router's path for statements the engine executes. */
int pl_exec_passthrough(planar_conn *conn, const char *sql, planar_result **out, pl_err *err);
/* A streaming result takes over the temporary views it reads (views is emptied). */
void pl_result_adopt_views(planar_result *res, pl_strv *views);
/* Before a statement starts on conn: ends its open stream, drops views of freed streams. */
void pl_conn_begin_statement(planar_conn *conn);
/* Frees the C API state of a connection (aux connection, prepared names). */
void pl_conn_dispose_api(planar_conn *conn);
/* Text (json false) or JSON of the columns `want` of a chunk, converted by DuckDB on conn->aux. */
int pl_result_convert(planar_result *r, duckdb_data_chunk chunk, size_t rows, bool json, const bool *want,
		      pl_colcache *caches, pl_err *err);
/* Text of a chunk's columns (want NULL = all) into caches: integers, booleans and VARCHAR
 * formatted here, the rest converted by DuckDB (pl_result_convert). */
int pl_result_chunk_text(planar_result *r, duckdb_data_chunk chunk, size_t rows, pl_colcache *caches,
			 const bool *want, pl_err *err);
void pl_colcache_dispose(pl_colcache *c);
/* Gets c ready to receive the values of rows rows (keeps its memory). */
int pl_colcache_reset(pl_colcache *c, size_t rows);
/* Appends row's value (text NULL for SQL NULL). */
void pl_colcache_set(pl_colcache *c, size_t row, const char *text, size_t len);

/* SQL-level PREPARE name AS <statement Planar executes>, EXECUTE name(args), DEALLOCATE name
 * (prepare.c). EXECUTE replaces st's text by the statement with its arguments as literals (texts
 * keeps the new text); *handled for PREPARE/DEALLOCATE of such names. Other forms go to DuckDB. */
struct pl_stmt;
int pl_sqlprep_route(struct pl_stmt *st, pl_strv *texts, planar_result **out, pl_err *err, bool *handled);
void pl_sqlprep_dispose(planar_conn *conn);

/* Whether a statement may involve a lake: a token (identifier or string) is a lake's name, or
 * cur_db (the session's current database, may be NULL) is a lake. Needs only names_lock. */
bool pl_db_statement_names_lake(planar_db *db, const pl_toks *t, const char *cur_db);

/* Lake registry (callers hold db->lock). */
pl_lake *pl_db_find_lake(planar_db *db, const char *name);
int pl_db_add_lake(planar_db *db, pl_lake *lake, pl_err *err);
void pl_db_remove_lake(planar_db *db, pl_lake *lake);

#endif
