/*
 * namemap.h -- DuckLake name maps (ducklake_column_mapping + ducklake_name_mapping): how the
 * columns of a Parquet file the lake did not write (no field ids; registered by
 * ducklake_add_data_files) map to a table's field ids. A data file names its map by mapping_id.
 *
 * A map's rows are (column_id, parent_column, source_name, target_field_id, is_partition),
 * column ids numbered in depth-first order from 0, parent -1 for top-level columns. An
 * is_partition entry takes its value from the file's hive path (key=value), not from the file.
 * Maps never change once written; a commit reuses an existing map of the table with the same
 * entries instead of writing a new one.
 */
#ifndef PL_CATALOG_NAMEMAP_H
#define PL_CATALOG_NAMEMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "catalog/driver.h"

typedef struct pl_namemap_col {
	int64_t column_id, parent, target; /* parent -1 at the top */
	char *source;
	bool partition;
} pl_namemap_col;

typedef struct pl_namemap {
	int64_t id, table_id;
	pl_namemap_col *cols;
	size_t ncols;
} pl_namemap;

/* All maps of a catalog, by id; shared (reference-counted) by the models that read them. */
typedef struct pl_namemaps {
	int refs;
	pl_namemap *items;
	size_t n;
} pl_namemaps;

int pl_namemaps_load(pl_catdb *db, pl_namemaps **out, pl_err *err);
pl_namemaps *pl_namemaps_ref(pl_namemaps *m);
void pl_namemaps_release(pl_namemaps *m);
const pl_namemap *pl_namemaps_find(const pl_namemaps *m, int64_t id);
/* The id of a map of maps for map's table with the same entries as map (source names in any
 * order, as DuckLake compares them); -1 when none. */
int64_t pl_namemaps_equal_id(const pl_namemaps *maps, const pl_namemap *map);

struct pl_new_namemap;
/* *out: base's maps (shared when add is empty) plus the n maps of add under their assigned ids;
 * PL_ENOMEM when out of memory. */
int pl_namemaps_extend(pl_namemaps *base, const struct pl_new_namemap *add, size_t n, pl_namemaps **out);

/* Appends an entry to map (strings copied); its index, or -1 when out of memory. */
long pl_namemap_add(pl_namemap *map, int64_t parent, const char *source, int64_t target, bool partition);
void pl_namemap_dispose(pl_namemap *map);

/* Inside a commit: the id of a map of table_id with map's entries, written with id
 * *next_id (then incremented) when the catalog has none. */
int pl_namemap_store(pl_catdb *db, const pl_namemap *map, int64_t table_id, int64_t *next_id, int64_t *out_id,
		     pl_err *err);

#endif
