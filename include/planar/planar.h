/*
 * planar.h -- the public C API of libplanar.
 *
 * A planar_db is one query engine (an in-process DuckDB) plus the DuckLake lakes attached to it.
 * A planar_conn is one session on it: its own transaction state, current database and last error.
 * planar_conn_query() runs SQL exactly as the `planar` shell does: statements that change a lake
 * are executed by Planar (catalog + Parquet files), everything else runs unchanged in DuckDB.
 *
 * Ownership: objects returned through `**out` belong to the caller and are released with the
 * matching *_free (which accepts NULL). Strings returned as `const char *` are borrowed from
 * their parent object; strings returned as `char *` are the caller's, released with planar_free().
 * A connection is used by one thread at a time; a planar_db may be shared by many connections.
 * A result reads its values through the connection that produced it: free results (and
 * prepared statements) before their connection. Using an object after its *_free is undefined.
 *
 * Two kinds of results:
 *   - materialized (planar_conn_query, planar_stmt_execute): all rows are held by the engine;
 *     rows can be read in any order with the row accessors, or chunk by chunk.
 *   - streaming (planar_conn_query_stream, planar_stmt_execute_stream): rows are produced as
 *     they are read, one chunk (up to 2048 rows) at a time, so memory stays bounded whatever the
 *     size of the result. Only the chunk accessors work on them. A connection has at most one
 *     open stream: starting any other statement on the connection (a query or an execute)
 *     ends it, and its next planar_result_next_chunk() fails with PLANAR_ECANCELED.
 *     Read a stream to its end (or free it) before running the next statement.
 */
#ifndef PLANAR_PLANAR_H
#define PLANAR_PLANAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "planar/errors.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct planar_db planar_db;
typedef struct planar_conn planar_conn;
typedef struct planar_result planar_result;
typedef struct planar_stmt planar_stmt;

/* Column types (stable numbers). Types without their own entry are PLANAR_TYPE_OTHER; their
 * SQL spelling is in planar_result_column_type(). */
typedef enum planar_type {
	PLANAR_TYPE_INVALID = 0,
	PLANAR_TYPE_BOOLEAN = 1,
	PLANAR_TYPE_TINYINT = 2,
	PLANAR_TYPE_SMALLINT = 3,
	PLANAR_TYPE_INTEGER = 4,
	PLANAR_TYPE_BIGINT = 5,
	PLANAR_TYPE_HUGEINT = 6,
	PLANAR_TYPE_UTINYINT = 7,
	PLANAR_TYPE_USMALLINT = 8,
	PLANAR_TYPE_UINTEGER = 9,
	PLANAR_TYPE_UBIGINT = 10,
	PLANAR_TYPE_UHUGEINT = 11,
	PLANAR_TYPE_FLOAT = 12,
	PLANAR_TYPE_DOUBLE = 13,
	PLANAR_TYPE_DECIMAL = 14,
	PLANAR_TYPE_VARCHAR = 15,
	PLANAR_TYPE_BLOB = 16,
	PLANAR_TYPE_DATE = 17,
	PLANAR_TYPE_TIME = 18,
	PLANAR_TYPE_TIMESTAMP = 19,    /* microseconds, no time zone */
	PLANAR_TYPE_TIMESTAMP_TZ = 20, /* microseconds since the epoch, UTC */
	PLANAR_TYPE_TIMESTAMP_S = 21,
	PLANAR_TYPE_TIMESTAMP_MS = 22,
	PLANAR_TYPE_TIMESTAMP_NS = 23,
	PLANAR_TYPE_INTERVAL = 24,
	PLANAR_TYPE_UUID = 25,
	PLANAR_TYPE_ENUM = 26,
	PLANAR_TYPE_LIST = 27,
	PLANAR_TYPE_STRUCT = 28,
	PLANAR_TYPE_MAP = 29,
	PLANAR_TYPE_ARRAY = 30,
	PLANAR_TYPE_UNION = 31,
	PLANAR_TYPE_TIME_TZ = 32,
	PLANAR_TYPE_OTHER = 99,
} planar_type;

/* Library version string, e.g. "0.1.0". */
const char *planar_version(void);

/* Opens a Planar instance. `duckdb_path` is the engine's own database file, NULL for in-memory
 * (the usual case: lakes keep their state in their catalogs). On failure returns a PLANAR_E*
 * code and, when errmsg_out is not NULL, a message the caller frees with planar_free(). */
int planar_db_open(planar_db **out, const char *duckdb_path, char **errmsg_out);
void planar_db_free(planar_db *db);

int planar_conn_open(planar_conn **out, planar_db *db, char **errmsg_out);
void planar_conn_free(planar_conn *conn);

/* Runs one SQL statement or a script of several separated by ';'. Returns 0 and, when out is
 * not NULL, the result of the last statement; on failure a PLANAR_E* code, with the message in
 * planar_conn_errmsg(). Statements before a failing one in the same script stay executed. */
int planar_conn_query(planar_conn *conn, const char *sql, planar_result **out);

/* Message of the last failure on this connection ("" when the last call succeeded). */
const char *planar_conn_errmsg(const planar_conn *conn);

/* Splits a script into statements (aware of quotes, comments and dollar quoting). On success
 * *out is a NULL-terminated array of statement texts without the trailing ';'; free it with
 * planar_strv_free(). Empty statements are skipped. */
int planar_sql_split(char ***out, const char *script);
void planar_strv_free(char **strv);

/* Like planar_conn_query(), but the result of the last statement, when the engine runs it (any
 * query), is streaming: read it with planar_result_next_chunk(); failures while reading are
 * reported by planar_result_next_chunk() and planar_result_errmsg(). Statements Planar executes
 * itself (lake DDL/DML) give a small materialized result, read the same way. */
int planar_conn_query_stream(planar_conn *conn, const char *sql, planar_result **out);

/* Asks the statement running on conn, or its open stream, to stop; callable from another thread
 * (e.g. when the client of a server goes away). The statement, or the stream's next
 * planar_result_next_chunk(), fails with PLANAR_ECANCELED; a statement that is not running is
 * not affected. Never frees anything. */
void planar_conn_interrupt(planar_conn *conn);

/* ---- Prepared statements ------------------------------------------------------------------
 * One statement with positional parameters `$1`, `$2`, ... or `?` (numbered in order; the two
 * forms cannot be mixed). Queries (SELECT, FROM, VALUES, WITH ... SELECT, SHOW, ...) are prepared
 * by the engine and the values are bound to it; each execute first brings attached lakes up to
 * date, so it sees commits made after the prepare by any session or process. Every other
 * statement (lake INSERT / UPDATE / DELETE, DDL, ...) is run at execute time with each value
 * rendered as a typed SQL literal (text as an escaped string literal, never re-parsed as SQL),
 * exactly as planar_conn_query would run it. Parameter indexes are 1-based. Errors are reported
 * through the return code and planar_conn_errmsg() of the statement's connection. */
int planar_prepare(planar_conn *conn, const char *sql, planar_stmt **out);
size_t planar_stmt_param_count(const planar_stmt *stmt);
int planar_stmt_bind_null(planar_stmt *stmt, size_t idx);
int planar_stmt_bind_bool(planar_stmt *stmt, size_t idx, bool value);
int planar_stmt_bind_int64(planar_stmt *stmt, size_t idx, int64_t value);
int planar_stmt_bind_double(planar_stmt *stmt, size_t idx, double value);
/* len bytes of UTF-8 text (copied); text holding a NUL byte or invalid UTF-8 is refused. */
int planar_stmt_bind_text(planar_stmt *stmt, size_t idx, const char *text, size_t len);
/* A TIMESTAMP given as microseconds since 1970-01-01 00:00:00 UTC. */
int planar_stmt_bind_timestamp(planar_stmt *stmt, size_t idx, int64_t micros);
/* Unbinds every parameter (all must be bound again before the next execute). */
int planar_stmt_clear_bindings(planar_stmt *stmt);
/* Runs the statement with the current bindings (which stay bound); *out as planar_conn_query. */
int planar_stmt_execute(planar_stmt *stmt, planar_result **out);
/* The same, with a streaming result as planar_conn_query_stream. */
int planar_stmt_execute_stream(planar_stmt *stmt, planar_result **out);
/* Results of a statement stay valid after planar_stmt_free. */
void planar_stmt_free(planar_stmt *stmt);

/* ---- Results: columns (both kinds) ---------------------------------------------------------
 * Rows and columns are 0-based. */
size_t planar_result_column_count(const planar_result *res);
const char *planar_result_column_name(const planar_result *res, size_t col);
/* DuckDB type of the column as SQL text, e.g. "INTEGER", "VARCHAR", "STRUCT(a INTEGER)". */
const char *planar_result_column_type(const planar_result *res, size_t col);
/* True for numeric columns (integers, decimals, floats): renderers right-align them. */
bool planar_result_column_is_numeric(const planar_result *res, size_t col);
planar_type planar_result_column_type_id(const planar_result *res, size_t col);
bool planar_result_is_streaming(const planar_result *res);
/* Message of the last failure of a result accessor or of planar_result_next_chunk ("" if none). */
const char *planar_result_errmsg(const planar_result *res);

/* ---- Results: rows of a materialized result -------------------------------------------------
 * Row numbers count from the first row of the result. On a streaming result these return 0 /
 * true / NULL. Text is converted one chunk at a time (only one chunk's text is kept). */
uint64_t planar_result_row_count(const planar_result *res);
bool planar_result_is_null(const planar_result *res, size_t col, uint64_t row);
/* The value cast to VARCHAR exactly as DuckDB casts it; NULL for SQL NULL. Free with planar_free(). */
char *planar_result_value_string(const planar_result *res, size_t col, uint64_t row);

/* ---- Results: chunk by chunk (both kinds) ---------------------------------------------------
 * planar_result_next_chunk() moves to the next chunk of rows: returns 0 and sets *nrows to its
 * row count (> 0), or 0 with *nrows == 0 once the result is exhausted; on failure a PLANAR_E*
 * code (message in planar_result_errmsg()). The accessors below read the CURRENT chunk; `row`
 * is 0-based within it. They return 0, or PLANAR_EINVALID for a column/row out of range, no
 * current chunk, or a value that does not convert to the asked type (see each accessor).
 * A SQL NULL reads as 0 / false / NULL text pointer: test planar_result_chunk_is_null() first.
 * Pointers handed out (text, JSON) are borrowed from the result and stay valid until the next
 * planar_result_next_chunk() or planar_result_free(), whichever comes first. */
int planar_result_next_chunk(planar_result *res, size_t *nrows);
/* True for SQL NULL (and for a column/row out of range). */
bool planar_result_chunk_is_null(const planar_result *res, size_t col, size_t row);
/* BOOLEAN columns only. */
int planar_result_get_bool(planar_result *res, size_t col, size_t row, bool *out);
/* Integer columns (TINYINT .. HUGEINT, unsigned ones) whose value fits in int64_t. */
int planar_result_get_int64(planar_result *res, size_t col, size_t row, int64_t *out);
/* FLOAT, DOUBLE, DECIMAL and integer columns (large integers are rounded). */
int planar_result_get_double(planar_result *res, size_t col, size_t row, double *out);
/* Any column: VARCHAR as stored, others as CAST(x AS VARCHAR) gives them (with the session's
 * TimeZone for TIMESTAMPTZ). *text is NUL-terminated, *len excludes the NUL (len may be NULL). */
int planar_result_get_text(planar_result *res, size_t col, size_t row, const char **text, size_t *len);
/* DATE, TIMESTAMP (all precisions) and TIMESTAMPTZ as microseconds since the epoch (UTC for
 * TIMESTAMPTZ; DATE is its midnight). Infinite values read as INT64_MAX / INT64_MIN. */
int planar_result_get_timestamp(planar_result *res, size_t col, size_t row, int64_t *micros);
/* Any column as JSON text, as DuckDB's to_json() writes it: LIST/ARRAY as arrays, STRUCT and
 * MAP as objects, numbers and booleans bare, everything else as strings; SQL NULL as `null`. */
int planar_result_get_json(planar_result *res, size_t col, size_t row, const char **json, size_t *len);

void planar_result_free(planar_result *res);

/* ---------------------------------------------------------------------------------------------
 * Versioned blobs: folders of files (datasets, checkpoints) uploaded beside an attached lake
 * under <root>/datasets|checkpoints/<NAME>/v<N>/ and recorded in its catalog. The root is a
 * local directory or s3://bucket/prefix (S3 settings from the environment: AWS_*, R2_*, MINIO_*);
 * NULL: $PLANAR_BLOB_ROOT, else "blobs/" beside the lake's data path (its parent directory).
 * A reference is NAME, NAME:vN, NAME:latest or NAME:<alias>. `lake` is the attached lake's name
 * (NULL: "lake"). Each returns 0 or a PLANAR_E* code with the message in planar_conn_errmsg();
 * `summary` (may be NULL) gets one line describing the version (free with planar_free()).
 * ------------------------------------------------------------------------------------------- */
typedef struct planar_blob_put_opts {
	const char *lake;
	const char *dir;      /* the local folder to upload */
	const char *name;
	const char *kind;     /* "dataset" | "checkpoint" */
	const char *metadata; /* JSON, or NULL */
	const char *job_id;   /* or NULL */
	const char *root;     /* or NULL (see above) */
} planar_blob_put_opts;

/* Uploads a folder as the name's next version (never reusing or overwriting one); a version
 * whose upload did not finish is never visible. */
int planar_blob_put(planar_conn *conn, const planar_blob_put_opts *opts, int64_t *version, char **summary);
/* Downloads a version into dir, every file checked against its manifest. */
int planar_blob_get(planar_conn *conn, const char *lake, const char *ref, const char *dir, char **summary);
/* Points a custom alias at a version. */
int planar_blob_alias(planar_conn *conn, const char *lake, const char *ref, const char *alias, char **summary);
/* Versions of name (NULL: every name) as tab-separated lines under a header: name, version,
 * kind, created_at, file_count, total_bytes, aliases, job_id, metadata, location. */
int planar_blob_list(planar_conn *conn, const char *lake, const char *name, char **text);
/* Re-checks every object of a version against its manifest: *report lists what changed or
 * vanished (empty when nothing did), *problems counts them. */
int planar_blob_verify(planar_conn *conn, const char *lake, const char *ref, char **report, int64_t *problems);

void planar_free(void *ptr);

#ifdef __cplusplus
}
#endif
#endif
