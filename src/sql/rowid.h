/*
 * rowid.h -- the rowid pseudo-column of lake tables (see rowid.c).
 */
#ifndef PL_SQL_ROWID_H
#define PL_SQL_ROWID_H

#include "core/str.h"
#include "catalog/model.h"
#include "sql/router.h"

/* Like pl_timetravel_rewrite, for statements that name `rowid` and read lake tables. */
int pl_rowid_rewrite(planar_conn *conn, const pl_toks *t, char **sql_out, pl_strv *views, pl_err *err);

/* Time travel views of statements that name rowid or snapshot_id are named with this prefix and
 * made by pl_rowid_view, so pl_rowid_rewrite rewrites the pseudo-columns over them. */
#define PL_ROWID_AT_PREFIX "__planar_atr_"
/* Whether the statement names the rowid or snapshot_id pseudo-column. */
bool pl_rowid_wanted(const pl_toks *t);
/* CREATE OR REPLACE TEMP VIEW view over table t of model m of the lake: its columns and
 * __planar_rowid, __planar_snapshot. */
int pl_rowid_view(planar_conn *conn, const char *lake, const pl_model *m, const pl_table *t, const char *view,
		  pl_err *err);

#endif
