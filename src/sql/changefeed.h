/*
 * changefeed.h -- rewriting change-feed table function calls into views (see changefeed.c).
 */
#ifndef PL_SQL_CHANGEFEED_H
#define PL_SQL_CHANGEFEED_H

#include "core/str.h"
#include "sql/router.h"

/* Like pl_timetravel_rewrite, for ducklake_table_changes / _insertions / _deletions calls. */
int pl_changefeed_rewrite(planar_conn *conn, const pl_toks *t, char **sql_out, pl_strv *views, pl_err *err);

/* True when the statement calls a change-feed function. */
bool pl_changefeed_present(const pl_toks *t);

#endif
