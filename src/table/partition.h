/*
 * partition.h -- partitioned tables (DuckLake 1.0): ALTER TABLE ... SET / RESET PARTITIONED BY,
 * and how new data of a partitioned table is split into files.
 *
 * Keys are top-level columns with a transform: identity, year, month, day, hour (of a date or
 * timestamp) or bucket(N) (murmur3_32 of the value, as Iceberg defines it, modulo N). A write
 * sends each row to the file of its key values, under `<key>=<value>/` directories of the table
 * (key names as DuckLake names them: the column for identity, else the transform's name), and
 * records the values per file in the catalog. Changing the partitioning leaves existing files
 * where they are.
 */
#ifndef PL_TABLE_PARTITION_H
#define PL_TABLE_PARTITION_H

#include <stdbool.h>
#include <stdint.h>

#include "catalog/commit.h"
#include "catalog/model.h"
#include "core/buf.h"
#include "engine/engine.h"

/* One key as the statement writes it. */
typedef struct pl_partition_spec {
	const char *transform; /* "identity", "year", "month", "day", "hour" or "bucket" */
	int64_t bucket_count;  /* bucket: the number of buckets */
	const char *column;
} pl_partition_spec;

/* Plans SET PARTITIONED BY (n keys) or RESET PARTITIONED BY (n == 0) of table t into txn;
 * *noop when the table is partitioned that way already. */
int pl_partition_plan(const pl_table *t, const pl_partition_spec *keys, size_t n, pl_txn *txn, bool *noop,
		      pl_err *err);

/* One key of SET SORTED BY, its expression already in DuckDB's normalized form. */
typedef struct pl_sort_spec {
	const char *expression;
	bool descending, nulls_first;
} pl_sort_spec;

/* Plans SET SORTED BY (n keys) or RESET SORTED BY (n == 0) of table t into txn (when the table
 * is sorted that way already, an unchanged order: see pl_new_sort); *noop is always false. */
int pl_sort_plan(const pl_table *t, const pl_sort_spec *keys, size_t n, pl_txn *txn, bool *noop, pl_err *err);
/* expr (a sort expression) with its unqualified column references from[i] (without case)
 * renamed to[i], as DuckDB prints it (*out: a copy of expr when nothing was renamed); *all_known
 * is false when it names a column that is not in from. */
int pl_sort_rename(duckdb_connection con, const char *expr, const char *const *from, const char *const *to, size_t n,
		   char **out, bool *all_known, pl_err *err);
/* latest's sort expressions over the columns of cols (the same table at an older schema
 * version): column names mapped by column id. *out: NULL-terminated (free with pl_strv_free);
 * NULL when latest has no sort order or a key names a column cols lacks. */
int pl_sort_keys_for(duckdb_connection con, const pl_table *latest, const pl_table *cols, char ***out, pl_err *err);
/* The source's rows in t's sort order: SELECT * FROM (source) ORDER BY ... (a copy of source
 * when t has no sort order); NULL when out of memory. */
char *pl_sort_source(const pl_table *t, const char *source);

/* How a write of a partitioned table runs (independent of the table once made): the SELECT
 * around the source's rows (computed key columns appended when a key has a transform) and the
 * COPY options that partition it. */
typedef struct pl_partition_write {
	int64_t partition_id;
	char *select_prefix; /* "SELECT *, <key expressions> FROM (": the source and ") AS x" follow */
	char *options;       /* ", PARTITION_BY (...), WRITE_PARTITION_COLUMNS ..." */
	/* When a key has a transform, every key is a computed column named PL_PARTITION_KEY_PREFIX<k>,
	 * and the directory of key k written as "<prefix><k>=" is named dir_names[k] instead
	 * (DuckLake's key names, escaped for a path); NULL when the keys are the table's columns. */
	char **dir_names;
	size_t nkeys;
} pl_partition_write;

#define PL_PARTITION_KEY_PREFIX "__planar_pk"

/* The relative path of a file written under w's internal key directories ("__planar_pk0=v/f")
 * with DuckLake's directory names; a copy of rel when w has none; NULL when out of memory. */
char *pl_partition_dir_path(const pl_partition_write *w, const char *rel);

/* The partition values of a file added to table t (ducklake_add_data_files) from the n
 * key=value pairs of its hive path (values[i] NULL: the default partition): the path must give
 * every key of t's partitioning, by DuckLake's key names, and no other column of t, else the
 * file is refused naming `file`. Sets f's partitioning and values (text in the key's type). Does
 * nothing when t has no partition keys. */
int pl_partition_from_hive(duckdb_connection con, const pl_table *t, const char *file, const char *const *keys,
			   const char *const *values, size_t n, pl_new_file *f, pl_err *err);

/* Fills w for table t; w->options NULL when t is not partitioned. */
int pl_partition_write_plan(const pl_table *t, pl_partition_write *w, pl_err *err);
void pl_partition_write_dispose(pl_partition_write *w);

#endif
