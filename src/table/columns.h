/*
 * columns.h -- translating between DuckDB relations and DuckLake column trees.
 *
 * New tables take their columns from a DuckDB temporary table that DuckDB created from the
 * user's own column list (so DuckDB parses every type and default); nested types become
 * struct/list/map parents with child columns, ids assigned depth-first from 1.
 */
#ifndef PL_TABLE_COLUMNS_H
#define PL_TABLE_COLUMNS_H

#include "catalog/commit.h"
#include "catalog/model.h"
#include "engine/engine.h"

/* Reads the columns (types, defaults, NOT NULL) of temp.main.<name>. Rejects constraints that
 * DuckLake cannot keep (PRIMARY KEY, UNIQUE, CHECK, FOREIGN KEY) and types it cannot store. */
int pl_columns_from_temp_table(duckdb_connection con, const char *name, pl_new_column **out,
			       size_t *nout, pl_err *err);
void pl_columns_free(pl_new_column *cols, size_t n);
/* A copy of t's columns (ids, parents, names, types) that a write can use while the model that
 * holds t changes under it. */
int pl_columns_copy(const pl_table *t, pl_new_column **out, size_t *nout, pl_err *err);
/* Appends "(\"a\" INTEGER DEFAULT 1 NOT NULL, ...)" for a lake table's current columns. */
int pl_columns_table_def(pl_buf *out, const pl_table *t, pl_err *err);
/* Appends a BOOLEAN expression, true when a value of t's columns in a row has a NUL byte once
 * cast to VARCHAR (such text is not kept in the catalog: inlined values are C strings). */
void pl_columns_put_nul_check(pl_buf *out, const pl_table *t);

#endif
