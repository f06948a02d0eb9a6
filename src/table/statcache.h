/*
 * statcache.h -- per-file column statistics (DuckLake ducklake_file_column_stats) kept in memory
 * for file pruning.
 *
 * A data file's statistics are written in the same commit as the file and never change, so a
 * lake keeps them for its lifetime, per (table, column), filled lazily: a lookup fetches only
 * the rows of files it has not seen (one catalog query, `data_file_id >= smallest unseen id`).
 * The files' partition values (ducklake_file_partition_value) are kept the same way, per (table,
 * partition key index), as statistics whose min and max are the value.
 * Not thread-safe: callers hold the planar_db lock.
 */
#ifndef PL_TABLE_STATCACHE_H
#define PL_TABLE_STATCACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "catalog/model.h"

/* One file's bounds for one column; min/max NULL when unknown. values (non-NULL values, as
 * DuckLake's value_count) and nulls: -1 when unknown. */
typedef struct pl_file_stat {
	char *min, *max;
	bool contains_nan;
	int64_t values, nulls;
} pl_file_stat;

typedef struct pl_stat_column pl_stat_column;

typedef struct pl_statcache {
	pl_stat_column **cols;
	size_t ncols, cap;
} pl_statcache;

void pl_statcache_init(pl_statcache *c);
void pl_statcache_dispose(pl_statcache *c);

/* Statistics of column_id for every file of t: *out (malloc'd, t->nfiles entries) points into
 * the cache, NULL for a file without statistics. Files the catalog has no row for are remembered
 * as such only when `settled` (their commit is visible to db, not pending in a transaction).
 * Entries stay valid while the cache lives. */
int pl_statcache_lookup(pl_statcache *c, pl_catdb *db, const pl_table *t, int64_t column_id, bool settled,
			const pl_file_stat ***out, pl_err *err);

/* Like pl_statcache_lookup, for partition key key_index's values (min = max = the value). */
int pl_statcache_lookup_partition(pl_statcache *c, pl_catdb *db, const pl_table *t, int64_t key_index, bool settled,
				  const pl_file_stat ***out, pl_err *err);

#endif
