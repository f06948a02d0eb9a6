/*
 * scan.h -- scan planning: the SQL that reads a lake table at a snapshot.
 *
 * A table is exposed to DuckDB as a view over read_parquet() of its live data files, with the
 * `schema` parameter mapping Parquet field ids (= DuckLake column ids) to current names, types
 * and defaults, so renamed and added columns need no rewrite; inlined rows kept in the catalog
 * are unioned in through the __planar_cat() table function.
 */
#ifndef PL_TABLE_SCAN_H
#define PL_TABLE_SCAN_H

#include "catalog/model.h"
#include "core/buf.h"

/* Appends a SELECT returning the rows of table t at model->snapshot_id. */
int pl_scan_sql(pl_buf *out, const char *lake_name, const pl_model *model, const pl_table *t,
		pl_err *err);

/* Like pl_scan_sql, plus the columns __planar_file (data file path, or the inlined-data table),
 * __planar_pos (row position in that file, or inlined row id) and __planar_rowid (DuckLake row
 * id: embedded _ducklake_internal_row_id, else row_id_start + position). */
int pl_scan_positions_sql(pl_buf *out, const char *lake, const pl_model *m, const pl_table *t, pl_err *err);

/* Appends `SELECT pos FROM ...`: the positions deleted from data file f at the model's snapshot. */
void pl_scan_put_file_deletes(pl_buf *out, const pl_model *m, const pl_data_file *f);

#endif
