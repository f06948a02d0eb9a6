/*
 * aggfold.h -- `SELECT count(*), min(c), max(c) FROM t` on a lake table, answered from the
 * catalog when it knows the answer exactly, so no data file is read.
 *
 * count(*): each live file's record count minus its deleted rows, plus the live rows of the
 * table's inlined-data tables (one catalog query each).
 * min(c) / max(c) of an integer, timestamp or date column: the per-file statistics of the live
 * files and (integers only) the bounds of the inlined rows, but only while they describe exactly
 * the rows a scan returns (timestamps and dates: bounds written as plain times, no infinities;
 * a table with inlined-data tables is scanned): no live file
 * has deleted rows (a file's statistics still count them), no inlined row was deleted, every file
 * has statistics of the column (a file written before the column was added has none), no file is
 * a registered external file, and the transaction has not written to the lake. Other types
 * (strings may be stored truncated, floats have NaN and -0.0), a column whose file statistics
 * have no bounds (all NULL, or unknown) and any other case fall back to the scan.
 */
#ifndef PL_SQL_AGGFOLD_H
#define PL_SQL_AGGFOLD_H

#include "sql/router.h"

/* When t is `[EXPLAIN [ANALYZE]] SELECT agg [AS name] [, ...] FROM [lake.][schema.]table [[AS]
 * alias] [;]`, each agg count(*), min(column) or max(column), on a lake table whose answers the
 * catalog knows exactly (a name without its lake: in the session's current lake, not shadowed by
 * a temporary object), *sql_out is the same statement over constants; else NULL. Called with
 * db->lock held. */
int pl_agg_fold_rewrite(planar_conn *conn, const pl_toks *t, char **sql_out, pl_err *err);

#endif
