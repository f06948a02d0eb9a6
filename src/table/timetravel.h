/*
 * timetravel.h -- a lake table as it was at an older snapshot (`tbl AT (VERSION => n)`,
 * `tbl AT (TIMESTAMP => ts)`): the snapshot an AT clause names, and a temporary view over the
 * table's files and deletes at that snapshot.
 */
#ifndef PL_TABLE_TIMETRAVEL_H
#define PL_TABLE_TIMETRAVEL_H

#include <stdbool.h>

#include "catalog/driver.h"
#include "catalog/model.h"
#include "table/context.h"

/* The snapshot of AT (VERSION => expr) or, by_timestamp, AT (TIMESTAMP => expr): expr is
 * evaluated on ctx->con; a timestamp names the last snapshot at or before it. Fails when there
 * is no such snapshot in ctx->cat. */
int pl_timetravel_snapshot(const pl_table_ctx *ctx, const char *expr, bool by_timestamp, int64_t *snap,
			   pl_err *err);
/* CREATE OR REPLACE TEMP VIEW view over table `name` of schema `schema` as model m (the model at
 * snapshot snap) has it; the table not existing there is an error. */
int pl_timetravel_view(const pl_table_ctx *ctx, const pl_model *m, int64_t snap, const char *schema, const char *name,
		       const char *view, pl_err *err);

#endif
