/*
 * transaction.h -- BEGIN / COMMIT / ROLLBACK spanning many statements and many lakes.
 *
 * The session's DuckDB connection runs the same transaction, so its reads are pinned to the
 * state at BEGIN and the lake views it rebuilds stay private until COMMIT. Commits are
 * optimistic, as in DuckLake: a write inside the transaction writes its Parquet files and keeps
 * its catalog changes in memory (catalog/pending.h builds the lake as the transaction sees it:
 * the BEGIN snapshot plus its writes), holding no lock another writer waits for. COMMIT writes
 * every statement's changes of a lake as one snapshot, checked for conflicts with what others
 * committed since BEGIN; ROLLBACK drops them and removes the files written. A statement that
 * fails inside a transaction aborts it: until ROLLBACK, further statements are refused.
 */
#ifndef PL_SQL_TRANSACTION_H
#define PL_SQL_TRANSACTION_H

#include "sql/lake.h"
#include "sql/router.h"

/* Routes BEGIN/START TRANSACTION, COMMIT/END, ROLLBACK/ABORT; sets *handled. */
int pl_txn_route(pl_stmt *st, planar_result **out, pl_err *err, bool *handled);
/* Fails when the session's transaction was aborted by an earlier error. */
int pl_txn_check_usable(planar_conn *conn, const pl_stmt *st, pl_err *err);
/* Applies one statement's changes to the lake inside conn's transaction. A compaction the
 * transaction ran earlier (pl_txn_add_compaction) of a table these changes touch is dropped and
 * its files removed: it would replace files the transaction changes. */
int pl_txn_apply(planar_conn *conn, pl_lake *lake, pl_txn *txn, pl_err *err);
/* Adds txn, whose only changes are compactions (table/compact.h, pl_compact_plan), to conn's
 * transaction: they change no row the transaction reads, so its models and views stay; COMMIT
 * commits them with its snapshot and ROLLBACK removes their files. Callable while the session's
 * statement runs (db->lock held). */
int pl_txn_add_compaction(planar_conn *conn, pl_lake *lake, pl_txn *txn, pl_err *err);
/* The writes conn's transaction made to lake so far (*n of them), and whether any. */
const pl_txn *pl_txn_writes(planar_conn *conn, pl_lake *lake, size_t *n);
/* Around a statement of a session inside a transaction: swaps the models its lakes have for it
 * (its BEGIN snapshot, or its pending state) in (enter) and out (leave). Not for a ROLLBACK
 * (t: the statement's tokens). */
int pl_txn_enter(planar_conn *conn, const pl_toks *t, pl_err *err);
void pl_txn_leave(planar_conn *conn);
/* Moves the session's pending commit message (set_commit_message) into txn. */
void pl_txn_take_commit_message(planar_conn *conn, pl_txn *txn);
/* CALL lake.set_commit_message('author', 'message' [, extra_info => ...]) and
 * CALL ducklake_set_commit_message('lake', 'author', 'message' [, ...]). */
int pl_txn_set_commit_message(planar_conn *conn, const char *author, const char *message, const char *extra,
			      pl_err *err);
/* A statement failed inside the transaction: drop the lakes' changes, refuse until ROLLBACK. */
void pl_txn_mark_aborted(planar_conn *conn);
/* A statement failed inside the transaction with err: as in DuckDB, the transaction goes on after
 * an error raised before anything ran (parser, binder, catalog errors) and aborts otherwise. */
void pl_txn_statement_failed(planar_conn *conn, const pl_err *err);
/* Cleans a session's transaction state (connection closing). */
void pl_txn_dispose_conn(planar_conn *conn);

#endif
