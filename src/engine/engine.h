/*
 * engine.h -- the DuckDB instance Planar runs every query on.
 *
 * Owns database/connection lifecycle, running SQL text, translating DuckDB errors into PL_E*
 * codes, and reading values out of results. Every duckdb_result obtained here has exactly one
 * owner that calls duckdb_destroy_result on every path (including failed queries).
 */
#ifndef PL_ENGINE_ENGINE_H
#define PL_ENGINE_ENGINE_H

#include <duckdb.h>
#include <stdbool.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/stmtcache.h"

/* Opens a database (path NULL = in-memory); read_only applies to file databases. */
int pl_engine_open(duckdb_database *out, const char *path, bool read_only, pl_err *err);
int pl_engine_connect(duckdb_connection *out, duckdb_database db, pl_err *err);

/* Runs sql and discards the result. */
int pl_engine_exec(duckdb_connection con, const char *sql, pl_err *err);
/* Runs sql with db.schema as con's current schema (names sql does not qualify are that schema's,
 * as when DuckDB binds a view), then returns con to the schema it was in. */
int pl_engine_exec_in_schema(duckdb_connection con, const char *db, const char *schema, const char *sql, pl_err *err);
/* Makes db.schema the connection's current schema; *back: what pl_engine_use_back runs to make
 * the previous one current again (and frees). */
int pl_engine_use(duckdb_connection con, const char *db, const char *schema, char **back, pl_err *err);
void pl_engine_use_back(duckdb_connection con, char *back);
/* Runs sql; on success *out holds the result (caller destroys). On failure *out is destroyed. */
int pl_engine_query(duckdb_connection con, const char *sql, duckdb_result *out, pl_err *err);
/* One argument of pl_engine_query_args: text (NULL: SQL NULL) or, with is_int, an integer. */
typedef struct pl_engine_arg {
	const char *text;
	int64_t i;
	bool is_int;
} pl_engine_arg;
/* Runs sql, a statement with $1..$n placeholders, with args bound to them: prepared once per
 * connection and kept in cache (pl_engine_stmt_cache_init), so that a statement run again with
 * other values is not parsed, bound and planned again. A placeholder keeps the type DuckDB gave
 * it: bind text where it is VARCHAR and integers where it is BIGINT, or DuckDB plans again. */
int pl_engine_query_args(duckdb_connection con, pl_stmt_cache *cache, const char *sql, const pl_engine_arg *args,
			 size_t nargs, duckdb_result *out, pl_err *err);
/* Makes cache an empty cache of DuckDB prepared statements (pl_stmt_cache_clear empties it;
 * clear it before the connection is closed). */
void pl_engine_stmt_cache_init(pl_stmt_cache *cache);
/* Maps a failed result's error type to a PL_E* code and copies its message into err. */
int pl_engine_result_error(duckdb_result *res, pl_err *err);

/* Value at (col,row) cast to VARCHAR, malloc'd; NULL for SQL NULL (sets *oom on failure). */
char *pl_engine_value_str(duckdb_result *res, idx_t col, idx_t row, bool *oom);
/* Runs a query that returns one value; *out is malloc'd text or NULL for SQL NULL/no row. */
int pl_engine_query_value(duckdb_connection con, const char *sql, char **out, pl_err *err);

/* Evaluates a timestamp expression to UTC text "YYYY-MM-DD HH:MM:SS.ffffff+00" (*out malloc'd). */
int pl_engine_utc_timestamp(duckdb_connection con, const char *expr, char **out, pl_err *err);
/* Appends the SQL spelling of a logical type (INTEGER, DECIMAL(18,3), STRUCT("a" INTEGER)...). */
void pl_engine_type_sql(pl_buf *out, duckdb_logical_type type);
bool pl_engine_type_is_numeric(duckdb_type id);
/* A table function's argument i (or named argument) as text, malloc'd: NULL when it is absent,
 * SQL NULL, or there is no memory. */
char *pl_engine_param_text(duckdb_bind_info info, idx_t i);
char *pl_engine_named_text(duckdb_bind_info info, const char *name);
/* Declares a result column of a table function being bound. */
void pl_engine_bind_column(duckdb_bind_info info, const char *name, duckdb_type type);
/* Marks row of an output vector SQL NULL. */
void pl_engine_vector_set_null(duckdb_vector v, idx_t row);
/* Sets row of a VARCHAR output vector to s, or SQL NULL when s is NULL. */
void pl_engine_vector_put_text(duckdb_vector v, idx_t row, const char *s);
/* Registers murmur3_32(value) -> INTEGER, DuckLake's bucket-partition hash (engine/murmur.c). */
int pl_engine_register_murmur3(duckdb_connection con, pl_err *err);

#endif
