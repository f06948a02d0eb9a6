/*
 * model_rows.h -- internals shared by loading a model (model.c) and advancing one to a newer
 * snapshot (model_advance.c): the catalog columns read for data and delete files and the
 * helpers that turn those rows into a table's files.
 */
#ifndef PL_CATALOG_MODEL_ROWS_H
#define PL_CATALOG_MODEL_ROWS_H

#include "catalog/model.h"

#define PL_MODEL_FILE_COLUMNS \
	"SELECT table_id, data_file_id, path, path_is_relative, record_count, file_size_bytes, footer_size, " \
	"row_id_start, file_order, partition_id, begin_snapshot, mapping_id, partial_max FROM ducklake_data_file WHERE"

/* Fills f from row i of a PL_MODEL_FILE_COLUMNS query; false when out of memory. */
bool pl_model__fill_file(const pl_table *t, pl_data_file *f, const pl_rows *r, size_t i);

/* Files of a table in id order, for finding a data file by id. */
typedef struct pl_file_index {
	pl_data_file **by_id;
	size_t n;
} pl_file_index;

/* Adds positions (n) to f's inlined deletes, kept ascending and distinct; -1 when out of memory. */
int pl_model__add_inlined_deletes(pl_data_file *f, const int64_t *pos, size_t n);
/* Loads the inlined deletes (ducklake_inlined_delete_<table>) of t's files live at m's snapshot. */
int pl_model__load_inlined_deletes(pl_model *m, pl_table *t, pl_err *err);

/* Frees a data file's strings (path and delete file). */
void pl_model__free_file(pl_data_file *f);

int pl_model__index_files(pl_file_index *ix, pl_table *t);
pl_data_file *pl_model__find_file(const pl_file_index *ix, int64_t id);

#define PL_MODEL_DELETE_COLUMNS \
	"SELECT table_id, data_file_id, delete_file_id, path, path_is_relative, format, delete_count, " \
	"file_size_bytes, footer_size, begin_snapshot, partial_max FROM ducklake_delete_file WHERE"

/* Applies rows of a PL_MODEL_DELETE_COLUMNS query (grouped by table) to the files they name;
 * with `clear`, rows (table_id, data_file_id, delete_file_id) name delete files that ended.
 * Tables whose files are not loaded are skipped. False when out of memory. */
bool pl_model__apply_deletes(pl_model *m, const pl_rows *r, bool clear);
/* The same for rows [from, to), all of table t. */
bool pl_model__apply_table_deletes(pl_table *t, const pl_rows *r, size_t from, size_t to, bool clear);

pl_table *pl_model__table_mut(pl_model *m, int64_t id);

/* `? >= begin_snapshot AND (end_snapshot IS NULL OR ? < end_snapshot)`: live at a snapshot */
#define PL_MODEL_LIVE_AT " ? >= begin_snapshot AND (end_snapshot IS NULL OR ? < end_snapshot)"

/* The directory of a schema or table: parent_dir + path when relative, else path; parent_dir
 * when path is NULL or empty. Ends in '/'; NULL when out of memory. */
char *pl_model__resolve_dir(const char *parent_dir, const char *path, bool relative);

/* Builds t->top and the columns' children from t->columns (sorted by order), and max_column_id. */
int pl_model__link_columns(pl_table *t);

/* Reads the macros live at m's snapshot (catalog/macro.c). */
int pl_model__load_macros(pl_model *m, pl_catdb *db, pl_err *err);

/* Reads each table's partitioning at m's snapshot (catalog/partition.c). */
int pl_model__load_partitions(pl_model *m, pl_catdb *db, pl_err *err);
/* Copies n partition keys (NULL when n is 0 or out of memory: check *oom). */
pl_partition_key *pl_model__copy_partition_keys(const pl_partition_key *k, size_t n, bool *oom);
void pl_model__free_partition_keys(pl_partition_key *k, size_t n);
pl_sort_key *pl_model__copy_sort_keys(const pl_sort_key *k, size_t n, bool *oom);
void pl_model__free_sort_keys(pl_sort_key *k, size_t n);
/* Loads m->namemaps (the catalog's name maps) when it is NULL or some row of a
 * PL_MODEL_FILE_COLUMNS query names a map it lacks (files is NULL: load when NULL). */
int pl_model__load_namemaps(pl_model *m, pl_catdb *db, const pl_rows *files, pl_err *err);

int pl_model__load_snapshot(pl_model *m, pl_catdb *db, int64_t snap, pl_err *err);
int pl_model__load_stats(pl_model *m, pl_catdb *db, pl_err *err);

#endif
