/*
 * ddl.h -- creating and dropping lake schemas, tables and views, and comments on them: the
 * changes of one snapshot (pl_txn), which the caller commits. A table's columns are those of a
 * temporary DuckDB table created from the statement's own column list or query, so DuckDB
 * parses every column definition.
 */
#ifndef PL_TABLE_DDL_H
#define PL_TABLE_DDL_H

#include <stdbool.h>

#include "catalog/commit.h"
#include "catalog/model.h"
#include "table/context.h"

/* A new schema named name. */
int pl_ddl_create_schema(pl_txn *txn, const char *name, pl_err *err);

typedef struct pl_create_table {
	const pl_schema *schema; /* where (not used once the rows are being written) */
	const char *name;
	const pl_table *replaced; /* CREATE OR REPLACE of an existing table: dropped (NULL: none) */
	const char *definition;   /* the text after the name: `(columns ...)` or `AS query ...` */
	const char *query;        /* AS query: the query's text (NULL: a column list) */
	bool with_data_clause;    /* the query ends in the user's own WITH [NO] DATA */
	/* The statement commits on its own: few enough rows of the query are inlined, as an INSERT's
	 * (the table is planned on `model`, whose data path is data_path). */
	bool may_inline;
	pl_model *model;
	const char *data_path;
} pl_create_table;

/* Plans a new table (its rows too, for AS query: written to data files without holding the
 * lakes, see ctx->release) into txn. On failure the caller removes what txn lists as written. */
int pl_ddl_create_table(const pl_table_ctx *ctx, const pl_create_table *c, pl_txn *txn, pl_err *err);

/* Drops schema s of m; its tables too when cascade, else a table in it is an error. */
int pl_ddl_drop_schema(const pl_model *m, const pl_schema *s, bool cascade, pl_txn *txn, pl_err *err);
int pl_ddl_drop_table(const pl_table *t, pl_txn *txn, pl_err *err);

/* A view `name` in schema s (replacing view `replaced`, NULL: none) of query; DuckDB binds the
 * query once (a temporary view on ctx->con), so a view that cannot work is refused up front.
 * stored_sql is the text the catalog keeps (the lake's own name written {DUCKLAKE_CATALOG}). */
int pl_ddl_create_view(const pl_table_ctx *ctx, const pl_schema *s, const char *name, const pl_view *replaced,
		       const char *query, const char *stored_sql, pl_txn *txn, pl_err *err);
int pl_ddl_drop_view(const pl_view *v, pl_txn *txn, pl_err *err);
/* ALTER VIEW v RENAME TO new_name (v in schema s). */
int pl_ddl_rename_view(const pl_schema *s, const pl_view *v, const char *new_name, pl_txn *txn, pl_err *err);
/* A default of a macro parameter, as the statement gives it: implementation impl (0-based) of the
 * macro, parameter param; value as text, type its DuckLake type. */
typedef struct pl_macro_default {
	size_t impl;
	const char *param, *value, *type;
} pl_macro_default;

/* A macro `name` in schema s (replacing macro `replaced`, NULL: none) from definition, the text
 * after the name in CREATE MACRO (`(a, b := 1) AS a + b [, (...) AS ...]`, `(x) AS TABLE ...`),
 * which DuckDB parses (table/macro.c). */
int pl_ddl_create_macro(const pl_table_ctx *ctx, const pl_schema *s, const char *name, const char *definition,
			const pl_macro_default *defaults, size_t ndefaults, const pl_macro *replaced, pl_txn *txn,
			pl_err *err);
int pl_ddl_drop_macro(const pl_macro *m, pl_txn *txn, pl_err *err);
/* COMMENT ON table / view (`view`) object_id (column_id -1) or one of its columns; value NULL
 * removes the comment. */
int pl_ddl_comment(int64_t object_id, bool view, int64_t column_id, const char *value, pl_txn *txn, pl_err *err);

#endif
