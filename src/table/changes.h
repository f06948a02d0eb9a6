/*
 * changes.h -- the change feed: the SQL that returns a table's changes between two snapshots
 * (inclusive), read with the table's columns at the end snapshot: one row per inserted or
 * deleted row, with its snapshot, its DuckLake row id and insert / delete / update_preimage /
 * update_postimage (a row deleted and re-inserted with the same row id in one snapshot).
 */
#ifndef PL_TABLE_CHANGES_H
#define PL_TABLE_CHANGES_H

#include <stdbool.h>

#include "catalog/driver.h"
#include "catalog/model.h"
#include "core/buf.h"
#include "table/context.h"

typedef enum pl_change_kind { PL_CHANGES_ALL, PL_CHANGES_INSERTIONS, PL_CHANGES_DELETIONS } pl_change_kind;

/* Appends the SELECT for table t (as in model m, the end snapshot) over snapshots [from, to]. */
int pl_changes_sql(pl_buf *out, pl_catdb *cat, const char *lake_name, const pl_model *m, const pl_table *t,
		   int64_t from, int64_t to, pl_change_kind kind, pl_err *err);

/* A bound of the change feed as the call gave it: a snapshot id, or (is_time) a UTC timestamp
 * `YYYY-MM-DD HH:MM:SS.ffffff+00`. */
typedef struct pl_changes_bound {
	const char *text;
	bool is_time;
} pl_changes_bound;

/* CREATE OR REPLACE TEMP VIEW view AS the changes of table `table` of schema `schema` between
 * two bounds (a start time: the first snapshot at or after it; an end time: the last at or
 * before it), the table read from the catalog at the end snapshot (files under data_path). */
int pl_changes_view(const pl_table_ctx *ctx, const char *data_path, const char *schema, const char *table,
		    const pl_changes_bound *start, const pl_changes_bound *end, pl_change_kind kind, const char *view,
		    pl_err *err);

#endif
