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
 * A result reads its values through the connection that produced it: free results before
 * their connection.
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

/* Results. Rows and columns are 0-based. A result holds all rows of the statement. */
size_t planar_result_column_count(const planar_result *res);
const char *planar_result_column_name(const planar_result *res, size_t col);
/* DuckDB type of the column as SQL text, e.g. "INTEGER", "VARCHAR", "STRUCT(a INTEGER)". */
const char *planar_result_column_type(const planar_result *res, size_t col);
/* True for numeric columns (integers, decimals, floats): renderers right-align them. */
bool planar_result_column_is_numeric(const planar_result *res, size_t col);
uint64_t planar_result_row_count(const planar_result *res);
bool planar_result_is_null(const planar_result *res, size_t col, uint64_t row);
/* The value cast to VARCHAR exactly as DuckDB casts it; NULL for SQL NULL. Free with planar_free(). */
char *planar_result_value_string(const planar_result *res, size_t col, uint64_t row);
void planar_result_free(planar_result *res);

void planar_free(void *ptr);

#ifdef __cplusplus
}
#endif
#endif
