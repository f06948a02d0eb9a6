/*
 * model.h -- a lake's catalog as of one snapshot (DuckLake 1.0): schemas, tables, their column
 * trees, live data files and inlined-data tables, and table statistics.
 *
 * Loaded with a fixed handful of catalog queries (one per catalog table) filtered by
 * `begin_snapshot <= s AND (end_snapshot IS NULL OR s < end_snapshot)`. A model is immutable
 * once loaded (but for the lazy parts below); a new snapshot means a new model.
 *
 * Lazy parts. A table's data files are not read with the model: the first
 * pl_model_table_files() of the table reads them (its live files and their delete files, two
 * queries), so attaching a lake costs the same whatever the number of files. Until then
 * `files_deferred` is true and `files`/`nfiles` are empty; code that reads t->files calls
 * pl_model_table_files() first (or is handed a table it was called on). What a table's view
 * needs of its files (which layouts have files or deleted rows, pl_model_table_summary) is
 * read without loading them. Loading uses the catalog connection the model was loaded from
 * (`cat`), which must outlive the model's use, and is serialized by the model's `lock`, so
 * sessions sharing a model may load its tables from several threads. A model loaded through a
 * connection inside a write transaction must be made complete with pl_model_load_all_files()
 * (the state at a pending snapshot changes as the transaction goes on). A table that is not in
 * any model (a shallow copy with a subset of the files, a test's table) has files_deferred
 * false: its files are what it holds. A copy of a whole model gets a lock of its own; its
 * unloaded tables load at the copy's snapshot_id through its `cat`, so a copy that is to hold
 * changes not in the catalog loads its source's files first (pl_model_load_all_files) or sets
 * `cat` to NULL (loading then fails instead of reading the catalog).
 */
#ifndef PL_CATALOG_MODEL_H
#define PL_CATALOG_MODEL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog/driver.h"
#include "core/buf.h"

typedef struct pl_column {
	int64_t id, order, parent; /* parent -1 for top-level columns */
	int64_t begin_snapshot;    /* when this version of the column appeared */
	char *name;
	char *type;            /* DuckLake type name: int32, varchar, struct, list, map, decimal(p,s) */
	char *initial_default; /* NULL when none */
	char *default_value;   /* NULL when none */
	char *default_value_type;
	char *comment;         /* COMMENT ON COLUMN, NULL when none */
	bool nulls_allowed;
	struct pl_column **children;
	size_t nchildren;
} pl_column;

typedef struct pl_data_file {
	int64_t id, file_order, record_count, file_size, footer_size, row_id_start, begin_snapshot;
	int64_t partition_id; /* -1 when none */
	char *path;           /* resolved: absolute or relative to the working directory */
	/* The live delete file of this data file at the snapshot, if any. */
	int64_t delete_id, delete_count, delete_size, delete_footer, delete_begin;
	int64_t delete_partial_max; /* -1, or: rows carry _ducklake_internal_snapshot_id */
	char *delete_path;    /* resolved; NULL when no rows of the file are deleted */
	char *delete_format;  /* "parquet" (positional) or "puffin" (deletion vector) */
	bool mapped;          /* a file the lake did not write, read through name map mapping_id */
	int64_t mapping_id;
	/* > 0: the rows carry _ducklake_internal_snapshot_id (flushed inlined rows, or a file merged
	 * from files of several snapshots), which began at snapshots begin_snapshot .. partial_max; at
	 * an older snapshot the later rows are not there (scan.c hides them as deleted).
	 * -1 (or 0, a file built in memory) otherwise: no snapshot 0 holds rows. */
	int64_t partial_max;
	/* Positions deleted through ducklake_inlined_delete_<table> (small deletes DuckLake keeps in
	 * the catalog instead of a delete file), live at the snapshot, ascending; owned. */
	int64_t *inlined_deletes;
	size_t ninlined_deletes;
} pl_data_file;

/* One key of a table's partitioning (DuckLake ducklake_partition_column), in key order. */
typedef struct pl_partition_key {
	int64_t column_id;  /* a top-level column */
	char *transform;    /* "identity", "year", "month", "day", "hour" or "bucket(N)" */
} pl_partition_key;

/* One key of a table's sort order for new data (DuckLake ducklake_sort_expression). */
typedef struct pl_sort_key {
	char *expression;   /* DuckDB SQL over the table's columns */
	bool descending, nulls_first;
} pl_sort_key;
/* What a table's view needs to know of its live files without reading them. The files fall into
 * two column layouts: `current` files began after the table's schema_since (written with
 * its current columns), older ones at or before it. */
typedef struct pl_files_summary {
	bool current, older;                 /* some live file of that layout */
	bool current_deletes, older_deletes; /* some live file of that layout has deleted rows */
	size_t nfiles;                       /* live files, counted up to PL_MODEL_SUMMARY_FILES */
} pl_files_summary;

#define PL_MODEL_SUMMARY_FILES 64

typedef struct pl_inlined_table {
	char *name;
	int64_t schema_version;
	/* pending model only: row ids an open transaction deleted (not yet in the catalog) */
	int64_t *deleted;
	size_t ndeleted;
} pl_inlined_table;

typedef struct pl_table {
	int64_t id, schema_id, begin_snapshot;
	char *uuid, *name;
	char *dir; /* resolved directory of the table's files, ends in '/' */
	char *path;
	bool path_is_relative;
	pl_column *columns; /* all versions' rows valid at the snapshot, flat */
	size_t ncolumns;
	pl_column **top;    /* top-level columns in column_order */
	size_t ntop;
	int64_t max_column_id;
	int64_t schema_since; /* latest begin_snapshot of any current column */
	/* Live data files in file_order, data_file_id order. Read them after pl_model_table_files():
	 * while files_deferred they are not loaded yet (files NULL, nfiles 0). */
	pl_data_file *files;
	size_t nfiles;
	size_t files_cap; /* entries allocated in a model's table (advancing appends in place) */
	int64_t files_snapshot; /* the snapshot the loaded files are at: the model's but for a failed advance */
	bool files_deferred;
	/* The summary (pl_model_table_summary), when summary_known: read from the catalog while
	 * files_deferred, else taken from the files (valid while summary.nfiles == nfiles). */
	bool summary_known;
	pl_files_summary summary;
	pl_inlined_table *inlined;
	size_t ninlined;
	int64_t record_count, next_row_id, file_size_bytes;
	bool has_stats;
	char *comment; /* COMMENT ON TABLE, NULL when none */
	int64_t partition_id; /* the table's partitioning for new data; -1 when not partitioned */
	pl_partition_key *partition_keys;
	size_t npartition_keys;
	int64_t sort_id; /* SET SORTED BY; -1 when the table has no sort order */
	pl_sort_key *sort_keys;
	size_t nsort_keys;
	/* A pending model (catalog/pending.h) shares the tables its transaction did not change with
	 * the model it was built on: such a table's memory belongs to `owner`, which it holds a
	 * reference to. NULL for a table the model owns. */
	struct pl_model *owner;
} pl_table;

typedef struct pl_view {
	int64_t id, schema_id;
	char *name, *sql, *column_aliases; /* sql names its own lake {DUCKLAKE_CATALOG} */
	char *comment;                     /* COMMENT ON VIEW, NULL when none */
} pl_view;

/* A macro (ducklake_macro, its implementations in ducklake_macro_impl and their parameters in
 * ducklake_macro_parameters). */
typedef struct pl_macro_param {
	char *name;
	char *type;          /* DuckLake type, "unknown" when untyped */
	char *default_value; /* as text, NULL when the parameter has no default */
	char *default_type;  /* DuckLake type of the default ("unknown" when none) */
} pl_macro_param;

typedef struct pl_macro_impl {
	char *sql; /* DuckDB SQL: the expression of a scalar macro, the query of a table macro */
	pl_macro_param *params;
	size_t nparams;
} pl_macro_impl;

typedef struct pl_macro {
	int64_t id, schema_id;
	char *name;
	bool table; /* every implementation is a table macro (else scalar) */
	pl_macro_impl *impls;
	size_t nimpls;
} pl_macro;

/* Frees a macro's contents; copies one (false when out of memory: dst is then freed). */
void pl_macro_dispose(pl_macro *m);
bool pl_macro_copy(pl_macro *dst, const pl_macro *src);

typedef struct pl_schema {
	int64_t id;
	char *uuid, *name;
	char *dir; /* resolved directory, ends in '/' */
	char *path;
	bool path_is_relative;
} pl_schema;

typedef struct pl_model {
	int64_t snapshot_id, schema_version, next_catalog_id, next_file_id;
	char *snapshot_time;
	pl_schema *schemas;
	size_t nschemas;
	pl_table *tables;
	size_t ntables;
	pl_view *views;
	size_t nviews;
	pl_macro *macros;
	size_t nmacros;
	struct pl_namemaps *namemaps; /* name maps of external files (catalog/namemap.h), shared */
	/* References: 1 from pl_model_load; a statement that keeps using a model while its owner may
	 * replace it takes one more (pl_model_ref). pl_model_free drops one and frees at zero; a model
	 * with more than one reference is never advanced in place. */
	int refs;
	/* Loading tables' files on first use (see the top of this file): the catalog connection the
	 * model was loaded from (not owned), and the lock serializing loads and advances. A copy of a
	 * model initializes a lock of its own. */
	pl_catdb *cat;
	/* The catalog connection the committed part of the model reads from (not owned): past
	 * versions of its tables' columns. A pending model's too, whose cat is NULL. */
	pl_catdb *history;
	pthread_mutex_t lock;
} pl_model;

/* Loads the catalog at snapshot_id; data_path is the lake's resolved data path (ends in '/'). */
int pl_model_load(pl_model **out, pl_catdb *db, int64_t snapshot_id, const char *data_path,
		  pl_err *err);
void pl_model_free(pl_model *m);
pl_model *pl_model_ref(pl_model *m);
/* The live data files of table t of model m (t may also be a table outside any model, see the
 * top of this file), read from the catalog at m's snapshot on first use: *files (may be NULL
 * when *n is 0; either may be NULL when not wanted) stays valid while the model lives and is
 * not advanced. On an error t stays unloaded. */
int pl_model_table_files(const pl_model *m, const pl_table *t, const pl_data_file **files, size_t *n,
			 pl_err *err);
/* Loads the files of every table of m not loaded yet (one query for all tables). */
int pl_model_load_all_files(pl_model *m, pl_err *err);
/* Which layouts of t have files and deleted rows: from its files when they are loaded, else from
 * a few catalog queries (remembered until the table's files change). */
int pl_model_table_summary(const pl_model *m, const pl_table *t, pl_files_summary *out, pl_err *err);
/* The resolved path of some live file of t in the current layout (or the older one), without
 * loading t's files; *path (malloc'd) NULL when there is none. */
int pl_model_table_some_file(const pl_model *m, const pl_table *t, bool current, char **path, pl_err *err);
/* The number of live files of t when loaded, else at least the summary's count (capped at
 * PL_MODEL_SUMMARY_FILES), or SIZE_MAX when nothing is known yet. Never reads the catalog. */
size_t pl_model_table_nfiles_hint(const pl_model *m, const pl_table *t);
/* Brings m forward to snapshot snap in place when every snapshot since m's only inserted or
 * deleted rows (no DDL): a handful of queries for just the files and delete files that began
 * or ended since, instead of a full load. *advanced is false (m untouched) when a full load is
 * needed. On an error m may hold part of the changes at its old snapshot id; advancing again
 * (or a full load) completes them. Tables whose files are not loaded yet stay so (they load at
 * the new snapshot); a summary of a table with changes is forgotten. */
int pl_model_advance(pl_model *m, pl_catdb *db, int64_t snap, bool *advanced, pl_err *err);

const pl_schema *pl_model_schema(const pl_model *m, const char *name);
const pl_schema *pl_model_schema_by_id(const pl_model *m, int64_t id);
const pl_table *pl_model_table(const pl_model *m, int64_t schema_id, const char *name);
const pl_table *pl_model_table_by_id(const pl_model *m, int64_t id);
/* Table table_id's columns (columns and top only) as of snapshot_id, read from the catalog;
 * freed with pl_model_columns_free. */
int pl_model_columns_at(pl_catdb *db, int64_t table_id, int64_t snapshot_id, pl_table **out, pl_err *err);
void pl_model_columns_free(pl_table *t);
const pl_view *pl_model_view(const pl_model *m, int64_t schema_id, const char *name);
/* A macro by name: of either kind (kind -1), a scalar (0) or a table macro (1). */
const pl_macro *pl_model_macro(const pl_model *m, int64_t schema_id, const char *name, int kind);

/* Appends the DuckDB SQL type of a column (recursively for struct/list/map). */
int pl_column_duckdb_type(pl_buf *out, const pl_column *col, pl_err *err);
/* Maps a DuckLake primitive type name to DuckDB SQL (int32 -> INTEGER); NULL if unknown. */
const char *pl_ducklake_to_duckdb_type(const char *ducklake_type);
/* Maps a DuckDB primitive type name to DuckLake (INTEGER -> int32); NULL if not representable. */
const char *pl_duckdb_to_ducklake_type(const char *duckdb_type);

/* The last snapshot at or before (or the first at or after) a UTC timestamp written
 * "YYYY-MM-DD HH:MM:SS.ffffff+00"; -1 when there is none. */
int pl_catalog_snapshot_at_time(pl_catdb *db, const char *utc_ts, bool at_or_before, int64_t *out, pl_err *err);
/* Latest snapshot id of a catalog (-1 when there is none). */
int pl_catalog_latest_snapshot(pl_catdb *db, int64_t *out, pl_err *err);

#endif
