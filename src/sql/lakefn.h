/*
 * lakefn.h -- rewriting `lake.<function>(...)` calls into ducklake_<function>('lake', ...) (see
 * lakefn.c).
 */
#ifndef PL_SQL_LAKEFN_H
#define PL_SQL_LAKEFN_H

#include "core/str.h"
#include "sql/router.h"

/* Like pl_timetravel_rewrite: *sql_out is the rewritten statement, or NULL when nothing changed. */
int pl_lakefn_rewrite(planar_conn *conn, const pl_toks *t, char **sql_out, pl_strv *views, pl_err *err);

#endif
