/*
 * inline.h -- data inlining (DuckLake 1.0): an INSERT of at most `data_inlining_row_limit` rows
 * is stored in the catalog instead of a Parquet file, as rows of the table's inlined-data table
 * `ducklake_inlined_data_<table_id>_<schema_version>` (row_id, begin_snapshot, end_snapshot, then
 * the table's columns), registered in `ducklake_inlined_data_tables`. The column types of that
 * table are those DuckDB's ducklake extension gives it on each catalog: DuckDB's own type names
 * on a DuckDB file; on SQLite FLOAT/DOUBLE and nested types as VARCHAR; on PostgreSQL VARCHAR and
 * BLOB as BYTEA, the types PostgreSQL cannot hold (unsigned and huge integers, dates, timestamps)
 * as VARCHAR and nested types as VARCHAR.
 *
 * The limit comes from the lake option data_inlining_row_limit (table, then schema, then global
 * scope), else from ATTACH's DATA_INLINING_ROW_LIMIT, else DuckLake's default of 10.
 */
#ifndef PL_CATALOG_INLINE_H
#define PL_CATALOG_INLINE_H

#include <stdbool.h>
#include <stdint.h>

#include "catalog/commit.h"
#include "catalog/model.h"

#define PL_INLINE_DEFAULT_LIMIT 10
#define PL_INLINE_OPTION "data_inlining_row_limit"

/* Parses a limit option's value (a non-negative integer); false when it is not one. */
bool pl_inline_parse_limit(const char *s, int64_t *out);
/* Whether t's rows can be stored in an inlined-data table on catalog db: no column is named like
 * the table's own columns (row_id, begin_snapshot, end_snapshot, ...), no VARIANT or GEOMETRY
 * value, names within PostgreSQL's identifier length there. */
bool pl_inline_supported(pl_catdb *db, const pl_table *t);
/* Fills ins (names, types, column ids, the DDL of a new inlined-data table) for table t on db;
 * the caller adds the rows (cells, nrows). */
int pl_inline_prepare(pl_inlined_insert *ins, pl_catdb *db, const pl_table *t, pl_err *err);
/* Creates and registers the inlined-data table of a table the commit creates (nt, given its id),
 * at the commit's schema version, as DuckDB's extension does when data inlining is on; nothing
 * when its columns cannot be inlined. */
int pl_inline_create_for_new_table(pl_catdb *db, const pl_new_table *nt, pl_commit_state *st, pl_err *err);
/* An ALTER of table_id in the commit: an inlined-data table made for the table in this same
 * commit (with the columns before the ALTER, and no rows yet) is dropped again; the table's next
 * inlined insert makes one for its new columns. */
int pl_inline_alter(pl_catdb *db, int64_t table_id, pl_commit_state *st, pl_err *err);
/* Writes the inlined inserts of t into the snapshot being committed (pl_commit_apply). */
int pl_inline_write_inserts(pl_catdb *db, pl_txn *t, pl_commit_state *st, pl_err *err);

/* Rows (file_id, row_id = position in the data file, begin_snapshot) of table_id's
 * ducklake_inlined_delete_<table_id> that began in [from, to], by file and position; *out NULL
 * when the table has none. */
int pl_inline_file_deletes(pl_catdb *db, int64_t table_id, int64_t from, int64_t to, pl_rows **out, pl_err *err);
/* Writes t's deletes of data-file rows kept in the catalog (pl_inlined_file_delete): into
 * ducklake_inlined_delete_<table> (created when missing: file_id, row_id, begin_snapshot BIGINT),
 * `inlined_delete:<table>` in the changes. */
int pl_inline_write_file_deletes(pl_catdb *db, pl_txn *t, pl_commit_state *st, pl_err *err);
/* Conflicts of t's inlined file deletes with rows of the same data files deleted in the catalog
 * by snapshots in (base, own). */
int pl_inline_check_file_deletes(pl_catdb *db, const pl_txn *t, int64_t base, int64_t own, pl_err *err);
/* A snapshot at which table table_id had the columns it had at schema version `version` (an
 * inlined-data table of that version has those columns), found also after the version's own
 * snapshots expired; -1 when there is none. */
int pl_inline_version_snapshot(pl_catdb *db, int64_t table_id, int64_t version, int64_t *out, pl_err *err);
/* The flushes of t (pl_inlined_flush): the flushed rows leave their inlined-data tables, and
 * inlined-data tables of a flushed table superseded by a newer one and left empty are dropped,
 * as DuckDB's extension does after a flush. */
int pl_inline_write_flushes(pl_catdb *db, pl_txn *t, pl_commit_state *st, pl_err *err);

#endif
