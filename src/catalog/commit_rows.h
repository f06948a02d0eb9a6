/*
 * commit_rows.h -- internals shared by the two halves of a commit: commit.c (the snapshot,
 * schemas, tables, views, tags, partitioning and sort order, local ids) and commit_files.c (data
 * files, statistics, delete files).
 */
#ifndef PL_CATALOG_COMMIT_ROWS_H
#define PL_CATALOG_COMMIT_ROWS_H

#include "catalog/commit.h"

/* Sets *field to real, remembering a local id it held (see pl_id_fix); `defines`: the field is
 * the object's own id. */
int pl_commit__fix_id(pl_commit_state *st, int64_t *field, int64_t real, bool defines, pl_err *err);
/* A table reference of a pl_txn: an id, or -(index + 1) into its new tables (assigned by now). */
int64_t pl_commit__resolve_table(const pl_txn *t, int64_t ref);

/* The rows of txn's new data files (per table, with statistics), new delete files, ended files
 * and deleted inlined rows, into the snapshot st writes. */
int pl_commit__write_files(pl_catdb *db, pl_txn *t, pl_commit_state *st, pl_err *err);
/* A column the commit adds to table_id (top-level, new id) after rows written earlier in the same
 * commit (an explicit transaction's INSERT, then ALTER TABLE ... ADD COLUMN): those rows read the
 * column's initial default, which the table's column statistics take in as DuckLake does (min and
 * max the default in its statistics form, or NULL values when it has none). */
int pl_commit__added_column_stats(pl_catdb *db, int64_t table_id, const pl_new_column *col, pl_commit_state *st,
				  pl_err *err);
int pl_commit__write_new_deletes(pl_catdb *db, pl_txn *t, pl_commit_state *st, pl_err *err);
int pl_commit__write_ended_files(pl_catdb *db, pl_txn *t, pl_commit_state *st, pl_err *err);

#endif
