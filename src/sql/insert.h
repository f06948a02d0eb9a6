/*
 * insert.h -- planning a lake INSERT as one streaming query.
 *
 * DuckDB's INSERT into a temporary table would materialize every row before it becomes Parquet.
 * Instead, for the forms it can express, Planar builds one SELECT that yields exactly the rows
 * DuckDB's INSERT would store, in the table's column order and with its column names: the
 * source (VALUES, a query, DEFAULT VALUES) mapped by position, column list or BY NAME, omitted
 * columns filled with their defaults, every value cast to its column's type as DuckDB casts it,
 * and NOT NULL columns checked row by row with DuckDB's error message. The writer then COPYs
 * that SELECT straight into Parquet files.
 *
 * Anything else (RETURNING, ON CONFLICT, INSERT OR ..., an alias, EXPLAIN, and every statement
 * DuckDB would reject, so that the user sees DuckDB's own error) keeps the staging-table path.
 */
#ifndef PL_SQL_INSERT_H
#define PL_SQL_INSERT_H

#include <stdbool.h>

#include "catalog/model.h"
#include "core/buf.h"
#include "sql/router.h"

/* Builds into *out the streaming SELECT for the INSERT in st whose target name ends before
 * token `after` (the statement's WITH list, if any, included). *streamable is false (and out
 * empty) when the statement needs the staging path. Fails only when memory runs out or a type
 * cannot be spelled. */
int pl_insert_stream_select(pl_stmt *st, size_t after, const pl_table *t, pl_buf *out, bool *streamable,
			    pl_err *err);

/* Makes an error of the streaming query read as DuckDB's INSERT reports it (NOT NULL violations;
 * no excerpt of the generated query). */
void pl_insert_fix_error(pl_err *err);

#endif
