/*
 * search.h -- keeping a search index (text/index.h) in step with a lake table: the index is fed
 * from the table's change feed (table/changes.h), so rows written by any writer (Planar or
 * DuckDB's own DuckLake extension) are indexed from the snapshot they appeared in, and deleted
 * or replaced rows end at the snapshot that removed them.
 */
#ifndef PL_TABLE_SEARCH_H
#define PL_TABLE_SEARCH_H

#include <stdint.h>

#include "catalog/model.h"
#include "catalog/search.h"
#include "table/context.h"
#include "text/index.h"

/* Checks that table t has def's columns: the text, id and metadata columns exist, the vector
 * column (if any) is a list or array of numbers. */
int pl_search_check_columns(const pl_table *t, const pl_search_def *def, pl_err *err);

/* Applies the changes of table t in snapshots [from, to] to x; m is the lake's model at `to`.
 * *rows counts the changed rows read. */
int pl_search_catchup(const pl_table_ctx *ctx, const pl_model *m, const pl_table *t, const pl_search_def *def,
		      pl_tindex *x, int64_t from, int64_t to, size_t *rows, pl_err *err);

#endif
