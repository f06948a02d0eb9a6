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

#endif
