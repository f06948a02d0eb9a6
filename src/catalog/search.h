/*
 * search.h -- the catalog side of search indexes: one Planar-owned table in the lake's catalog,
 * which a DuckLake reader ignores, created on first use:
 *
 *   planar_search_index (table_id, schema_name, table_name, text_column, id_column,
 *                        metadata_columns, vector_column, embedder, created_snapshot, created_at)
 *
 * one row per indexed table (a table has at most one index), keyed by the table's id so a
 * renamed table keeps its index. metadata_columns is a JSON array of column names.
 *
 * The index's contents are derived from the table's history (see table/search.h); saved copies
 * of them (segments: immutable files below the lake's data path, see text/index.h) are listed in
 *
 *   planar_search_segment (table_id, index_created_at, path, begin_snapshot, end_snapshot,
 *                          versions, size_bytes, created_at)
 *
 * one row per segment: the index (table id and its created_at, so a dropped and re-created
 * index never loads the old one's), the file (relative to the data path) and the snapshots it
 * covers. A row is inserted only after its file is complete, so a registered segment is never
 * a partial one.
 */
#ifndef PL_CATALOG_SEARCH_H
#define PL_CATALOG_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "catalog/driver.h"
#include "core/err.h"
#include "core/str.h"

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
/* Removes the index of a table and unregisters its segments in the same transaction (their
 * paths go to *removed, for the caller to remove); *found false when it had none. */
int pl_search_def_delete(pl_catdb *db, int64_t table_id, bool *found, pl_strv *removed, pl_err *err);
/* The index of a table; *found false when none (also when the catalog has no index table). */
int pl_search_def_get(pl_catdb *db, int64_t table_id, pl_search_def *out, bool *found, pl_err *err);
/* Every index, by table id. */
int pl_search_def_list(pl_catdb *db, pl_search_def **out, size_t *n, pl_err *err);

/* A stored segment. */
typedef struct pl_search_segment {
	char *path; /* relative to the data path */
	int64_t begin_snapshot, end_snapshot, versions, size_bytes;
} pl_search_segment;

void pl_search_segments_free(pl_search_segment *s, size_t n);

/* The segments of index (table_id, index_created_at) newest first (by end_snapshot). */
int pl_search_segment_list(pl_catdb *db, int64_t table_id, const char *index_created_at, pl_search_segment **out,
			   size_t *n, pl_err *err);
/* Registers a complete segment of the index (table_id, index_created_at) in one transaction,
 * which also unregisters the index's segments older than the newest `keep` others (their paths
 * go to *superseded, for the caller to remove). *registered false (and nothing changed) when
 * the index no longer exists as created at index_created_at (dropped meanwhile). */
int pl_search_segment_register(pl_catdb *db, int64_t table_id, const char *index_created_at,
			       const pl_search_segment *s, size_t keep, bool *registered, pl_strv *superseded,
			       pl_err *err);
/* The time now as the catalog records created_at ("YYYY-MM-DD HH:MM:SS.ffffff+00"). */
void pl_search_now(char out[64]);

#endif
