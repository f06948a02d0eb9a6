/*
 * timetravel.h -- rewriting `AT (VERSION => n)` / `AT (TIMESTAMP => ts)` table references.
 */
#ifndef PL_SQL_TIMETRAVEL_H
#define PL_SQL_TIMETRAVEL_H

#include "core/str.h"
#include "sql/router.h"

/* When the statement has AT clauses on lake tables, creates their temporary views (names
 * appended to views) and sets *sql_out to the rewritten text; otherwise *sql_out stays NULL. */
int pl_timetravel_rewrite(planar_conn *conn, const pl_toks *t, char **sql_out, pl_strv *views, pl_err *err);
/* Drops the temporary views of a statement. */
void pl_timetravel_cleanup(planar_conn *conn, pl_strv *views);

#endif
