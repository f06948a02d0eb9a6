/*
 * flush.h -- ducklake_flush_inlined_data(catalog [, schema_name => VARCHAR] [, table_name =>
 * VARCHAR]) -> schema_name, table_name, rows_flushed: writes the rows data inlining stored in the
 * catalog to Parquet data files, keeping their history (table/flush.h), as one snapshot; `CALL`
 * or `FROM`. Refused on a read-only lake. Inside BEGIN ... COMMIT, `CALL` goes through the
 * statement router (sql/call.c) to pl_flush_in_txn, and `FROM` through pl_flush_rewrite: the
 * flush becomes one of the transaction's writes, which COMMIT commits and ROLLBACK drops.
 */
#ifndef PL_SQL_FLUSH_H
#define PL_SQL_FLUSH_H

#include "sql/lake.h"
#include "sql/session.h"

int pl_flush_register(planar_db *db, pl_err *err);
/* The flush of the tables named (schema and table may be NULL) of lake as a write of conn's
 * transaction (db->lock held, the transaction's models swapped in). */
int pl_flush_in_txn(planar_conn *conn, pl_lake *lake, const char *schema, const char *table, pl_err *err);
/* Inside BEGIN ... COMMIT, the table function form (FROM ducklake_flush_inlined_data('lake'
 * [, schema_name => '...'] [, table_name => '...'])) flushes as pl_flush_in_txn does when the
 * statement is routed, and the call is replaced by its result rows (a rewrite step, see
 * pl_rowid_rewrite). Arguments other than string literals leave the call to the table
 * function, which refuses inside a transaction. */
int pl_flush_rewrite(planar_conn *conn, const pl_toks *t, char **sql_out, pl_strv *views, pl_err *err);

#endif
