/*
 * changes.h -- the change feed: the SQL that returns a table's changes between two snapshots
 * (inclusive), read with the table's columns at the end snapshot: one row per inserted or
 * deleted row, with its snapshot, its DuckLake row id and insert / delete / update_preimage /
 * update_postimage (a row deleted and re-inserted with the same row id in one snapshot).
 */
#ifndef PL_TABLE_CHANGES_H
#define PL_TABLE_CHANGES_H

#include "catalog/driver.h"
#include "catalog/model.h"
#include "core/buf.h"

typedef enum pl_change_kind { PL_CHANGES_ALL, PL_CHANGES_INSERTIONS, PL_CHANGES_DELETIONS } pl_change_kind;

/* Appends the SELECT for table t (as in model m, the end snapshot) over snapshots [from, to]. */
int pl_changes_sql(pl_buf *out, pl_catdb *cat, const char *lake_name, const pl_model *m, const pl_table *t,
		   int64_t from, int64_t to, pl_change_kind kind, pl_err *err);

#endif
