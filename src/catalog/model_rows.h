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
	"row_id_start, file_order, partition_id, begin_snapshot FROM ducklake_data_file WHERE"

/* Fills f from row i of a PL_MODEL_FILE_COLUMNS query; false when out of memory. */
bool pl_model__fill_file(const pl_table *t, pl_data_file *f, const pl_rows *r, size_t i);

/* Files of a table in id order, for finding a data file by id. */
typedef struct pl_file_index {
	pl_data_file **by_id;
	size_t n;
} pl_file_index;

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

int pl_model__load_snapshot(pl_model *m, pl_catdb *db, int64_t snap, pl_err *err);
int pl_model__load_stats(pl_model *m, pl_catdb *db, pl_err *err);

#endif
