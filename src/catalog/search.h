/*
 * search.h -- the catalog side of search indexes: one Planar-owned table in the lake's catalog,
 * which a DuckLake reader ignores, created on first use:
 *
 *   planar_search_index (table_id, schema_name, table_name, text_column, id_column,
 *                        metadata_columns, vector_column, embedder, created_snapshot, created_at)
 *
 * one row per indexed table (a table has at most one index), keyed by the table's id so a
 * renamed table keeps its index. metadata_columns is a JSON array of column names. The index's
 * contents are derived from the table's history (see table/search.h) and are not stored here.
 */
#ifndef PL_CATALOG_SEARCH_H
#define PL_CATALOG_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "catalog/driver.h"
#include "core/err.h"

typedef struct pl_search_def {
	int64_t table_id;
	char *schema, *table; /* as named when the index was created */
	char *text_column, *id_column;
	char *vector_column; /* NULL: vectors come from the embedder */
	char *embedder;      /* "builtin" or a registered embedder */
	char **metadata_columns;
	size_t nmetadata;
	int64_t created_snapshot;
	char *created_at;
} pl_search_def;

void pl_search_def_dispose(pl_search_def *d);
void pl_search_defs_free(pl_search_def *defs, size_t n);

/* Records a new index; PL_EEXISTS when the table already has one. */
int pl_search_def_insert(pl_catdb *db, const pl_search_def *d, pl_err *err);
/* Removes the index of a table; *found false when it had none. */
int pl_search_def_delete(pl_catdb *db, int64_t table_id, bool *found, pl_err *err);
/* The index of a table; *found false when none (also when the catalog has no index table). */
int pl_search_def_get(pl_catdb *db, int64_t table_id, pl_search_def *out, bool *found, pl_err *err);
/* Every index, by table id. */
int pl_search_def_list(pl_catdb *db, pl_search_def **out, size_t *n, pl_err *err);

#endif
