/*
 * rowid.h -- the rowid pseudo-column of lake tables (see rowid.c).
 */
#ifndef PL_SQL_ROWID_H
#define PL_SQL_ROWID_H

#include "core/str.h"
#include "sql/router.h"

/* Like pl_timetravel_rewrite, for statements that name `rowid` and read lake tables. */
int pl_rowid_rewrite(planar_conn *conn, const pl_toks *t, char **sql_out, pl_strv *views, pl_err *err);

#endif
