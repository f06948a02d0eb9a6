/*
 * prune.h -- statement-level file pruning: lake table references in a query whose WHERE clause
 * rules out files (by the catalog's min/max statistics) are replaced by temporary views over the
 * files that may match.
 *
 * DuckDB parses the statement (json_serialize_sql); conjuncts `column <op> constant` of each
 * SELECT's WHERE clause are matched to the lake tables of that SELECT's FROM clause; the
 * constants are turned back into SQL (json_deserialize_sql) and evaluated by DuckDB against the
 * statistics (table/prune.h). Anything not understood is left alone: pruning only ever removes
 * files no row of which can satisfy the WHERE clause, and a failure to analyse a statement
 * means no pruning, never an error.
 */
#ifndef PL_SQL_PRUNE_H
#define PL_SQL_PRUNE_H

#include "core/str.h"
#include "sql/router.h"

/* Tables with fewer data files are not pruned: DuckDB's own footer checks are as fast. */
#define PL_PRUNE_MIN_FILES 8

/* Like pl_timetravel_rewrite: *sql_out is the rewritten statement, or NULL when nothing was
 * pruned; the temporary views created are appended to views. */
int pl_prune_rewrite(planar_conn *conn, const pl_toks *t, char **sql_out, pl_strv *views, pl_err *err);

/* Parses a query while the statement waits for the lake lock, when the last look found a
 * table worth pruning: the parse needs only the session's own connection, and pl_prune_rewrite
 * takes the trees when its text is the same. pl_prune_preparse_clear frees what was not taken. */
void pl_prune_preparse(planar_conn *conn, const pl_toks *t);
void pl_prune_preparse_clear(planar_conn *conn);
/* Makes the views of pruned files that the rewrite of a query left for after the lock
 * (conn->views_later); without run, only forgets them. */
int pl_prune_make_views(planar_conn *conn, bool run, pl_err *err);

#endif
