/*
 * insert.h -- INSERT into a lake table: the rows of a query become Parquet files and the
 * changes of one snapshot (pl_txn); the caller commits them.
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
 * DuckDB would reject, so that the user sees DuckDB's own error) runs DuckDB's own INSERT into
 * a staging table with the table's columns (pl_insert_create_staging), whose rows are written.
 */
#ifndef PL_TABLE_INSERT_H
#define PL_TABLE_INSERT_H

#include <stdbool.h>

#include "catalog/commit.h"
#include "catalog/model.h"
#include "core/buf.h"
#include "table/context.h"

/* A piece of the statement's text. */
typedef struct pl_text {
	const char *s; /* NULL: the DEFAULT keyword (a VALUES entry) */
	size_t len;
} pl_text;

typedef enum pl_insert_kind { PL_INSERT_QUERY, PL_INSERT_VALUES, PL_INSERT_DEFAULTS } pl_insert_kind;

/* Where an INSERT's rows come from, as the statement wrote it. */
typedef struct pl_insert_source {
	pl_insert_kind kind;
	const char *cte;      /* the statement's WITH list, NULL when none */
	bool by_name;         /* INSERT ... BY NAME */
	char *const *columns; /* the column list (ncolumns names; none: every column in order) */
	size_t ncolumns;
	pl_text query;        /* QUERY: the query (SELECT, FROM-first, VALUES, parenthesized) */
	const pl_text *values; /* VALUES: nrows rows of width entries, row by row */
	size_t nrows, width;
} pl_insert_source;

/* The streaming SELECT of a VALUES list whose entries are all plain literals, with every literal
 * a placeholder ($1..$n) bound to its text: an INSERT of other values runs the same query text,
 * which DuckDB prepares once (insert_literal.c says which literals qualify). */
typedef struct pl_insert_bound {
	pl_buf sql;    /* empty: the VALUES list has other entries */
	char **values; /* nvalues texts, for $1..$n */
	size_t nvalues;
} pl_insert_bound;
void pl_insert_bound_dispose(pl_insert_bound *b);

/* Builds into *out the streaming SELECT for rows from src into t (the query is prepared on con
 * to learn its columns). *streamable is false (and out empty) when the statement needs the
 * staging path. With `bound` (may be NULL), a short VALUES list of literals is also given in
 * that form. Fails only when memory runs out or a type cannot be spelled. */
int pl_insert_stream_select(duckdb_connection con, const pl_table *t, const pl_insert_source *src, pl_buf *out,
			    pl_insert_bound *bound, bool *streamable, pl_err *err);
/* A VALUES entry e for a column of DuckDB type `type` (insert_literal.c): 0 when it is a literal
 * that binds as the text *value (malloc'd), or stays in the query as it is (*keep: NULL, TRUE,
 * FALSE); 1 when it must stay as written; -1 when memory runs out. */
int pl_insert_literal_arg(const pl_text *e, const char *type, char **value, bool *keep);

/* Makes an error of the streaming query read as DuckDB's INSERT reports it (NOT NULL violations;
 * no excerpt of the generated query). */
void pl_insert_fix_error(pl_err *err);

/* CREATE TEMP TABLE tmp with t's columns (types, defaults, NOT NULL). */
int pl_insert_create_staging(const pl_table_ctx *ctx, const pl_table *t, const char *tmp, pl_err *err);

/* Writes the rows of `source` (a SELECT in t's column order) into data files of t, appended to
 * txn as new files; *rows_out is the row count. The files are written without holding the lakes
 * (ctx->release): t is copied first. sync_later: the files are fsync'd in the background until
 * txn commits (pl_writer_write_deferred; only for a txn committed on its own). On failure the
 * caller removes what txn lists as written. */
int pl_insert_write(const pl_table_ctx *ctx, const pl_table *t, const char *source, bool sync_later, pl_txn *txn,
		    int64_t *rows_out, pl_err *err);

/* pl_insert_write with data inlining: when may_inline (a statement committed on its own) and
 * the rows number at most the table's data_inlining_row_limit, they are kept in
 * txn->inlined_inserts for the catalog instead of files. known_rows is the number of rows
 * source yields when it is known before running it (a VALUES list, DEFAULT VALUES), else -1:
 * then the files are written and, when they hold few enough rows, read back and dropped. */
int pl_insert_write_rows(const pl_table_ctx *ctx, const pl_table *t, const char *source, int64_t known_rows,
			 bool may_inline, bool sync_later, pl_txn *txn, int64_t *rows_out, pl_err *err);
/* The same, with the bound form of source (NULL or empty: none) for rows kept in the catalog. */
int pl_insert_write_bound(const pl_table_ctx *ctx, const pl_table *t, const char *source,
			  const pl_insert_bound *bound, int64_t known_rows, bool may_inline, bool sync_later, pl_txn *txn,
			  int64_t *rows_out, pl_err *err);

#endif
