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

/* A temporary view the running statement reads a table through as of an older snapshot (one
 * plain AT reference): file pruning (prune.h) replaces it by a view over fewer files. */
typedef struct pl_at_view {
	char view[64];
	pl_lake *lake;
	int64_t snapshot;
	int64_t table_id;
} pl_at_view;

/* The running statement's time-travel view named view, or NULL. */
const pl_at_view *pl_timetravel_find(const planar_conn *conn, const char *view);
/* Forgets the statement's time-travel views (they are dropped with its views). */
void pl_timetravel_forget(planar_conn *conn);

#endif
