/*
 * flush.h -- ducklake_flush_inlined_data for one table: the rows its inlined-data tables hold
 * (catalog/inline.h) become Parquet data files, as DuckDB's ducklake extension writes them.
 *
 * Every row that began by the model's snapshot is written, deleted ones too, with two extra
 * columns: _ducklake_internal_row_id (field id 2147483540) and _ducklake_internal_snapshot_id
 * (2147483539, the snapshot the row began at). A file is registered with begin_snapshot = its
 * earliest row's snapshot, partial_max = its latest, and row_id_start = its smallest row id, so
 * time travel to a snapshot in between filters the rows by their snapshot, and the change feed
 * sees each row inserted when it was. Rows deleted before the flush go to a delete file of that
 * data file whose positions carry the snapshot that deleted them (_ducklake_internal_snapshot_id),
 * begin_snapshot the earliest and partial_max the latest. Rows are written in the table's sort
 * order (SET SORTED BY, then row id and snapshot), one file per partition value of a partitioned
 * table, with the columns the table had when the inlined-data table was made. The commit then
 * removes the flushed rows from the inlined-data table (pl_inlined_flush) and records
 * `inline_flush:<table_id>`; the table's record count and next row id stay as they are.
 */
#ifndef PL_TABLE_FLUSH_H
#define PL_TABLE_FLUSH_H

#include <stdint.h>

#include "catalog/commit.h"
#include "catalog/model.h"
#include "table/context.h"

/* Writes the inlined rows of table t (of model m) into files and plans their commit into txn
 * (files, delete files, flushes); *rows_out = rows written (0: the table had none, txn
 * unchanged). The files written are listed in txn->written (the caller removes them when the
 * commit fails). ctx->con must be a connection no query is running on. The lakes are let go
 * (ctx->release) while the data files are written: the caller keeps m alive meanwhile. */
int pl_flush_inlined(const pl_table_ctx *ctx, const pl_model *m, const pl_table *t, pl_txn *txn, int64_t *rows_out,
		     pl_err *err);

#endif
