/*
 * countstar.h -- `SELECT count(*) FROM t` on a lake table, answered from the catalog: each live
 * file's record count minus its deleted rows, so no data file is read.
 */
#ifndef PL_SQL_COUNTSTAR_H
#define PL_SQL_COUNTSTAR_H

#include "sql/router.h"

/* When t is `SELECT count(*) [AS name] FROM [lake.][schema.]table [[AS] alias] [;]` on a lake
 * table whose count the catalog knows exactly (a name without its lake: in the session's
 * current lake, not shadowed by a temporary object; not inside a transaction pinned to an older
 * snapshot), *sql_out is a SELECT of that constant; else NULL. Called with db->lock held. */
int pl_count_star_rewrite(planar_conn *conn, const pl_toks *t, char **sql_out, pl_err *err);

#endif
