/*
 * prune.h -- file pruning: which data files of a table cannot hold a row matching a query's
 * predicates, judged from the catalog's per-file min/max statistics (ducklake_file_column_stats).
 *
 * Conditions are conjuncts `column <op> constant-expression` taken from a statement's WHERE
 * clause; the expressions stay SQL text and are evaluated by DuckDB, with DuckDB's own casts,
 * against the statistics cast to the column's type (the table function __planar_fstats serves
 * them from the lake's statistics cache). A file is dropped when some condition is false for
 * every value between its min and max, or for every row given its counts: a file whose column
 * is all NULL satisfies no comparison, one without NULLs no IS NULL. Under a bucket(N, c) key
 * of the table's current partitioning, `c = e` also rules out the files of the table's
 * partitioning whose bucket (ducklake_file_partition_value) is not e's, when e has c's type (or
 * both are integers) so that every value equal to e hashes as e does. Files without statistics
 * are always kept.
 */
#ifndef PL_TABLE_PRUNE_H
#define PL_TABLE_PRUNE_H

#include <stdbool.h>

#include "catalog/model.h"
#include "engine/engine.h"

typedef enum pl_prune_op {
	PL_PRUNE_EQ, PL_PRUNE_NE, PL_PRUNE_LT, PL_PRUNE_LE, PL_PRUNE_GT, PL_PRUNE_GE,
	PL_PRUNE_IS_NULL, PL_PRUNE_NOT_NULL /* no expression */
} pl_prune_op;

/* `column op expr`: expr is the SQL of a constant expression (NULL for the NULL tests). */
typedef struct pl_prune_atom {
	pl_prune_op op;
	const char *expr;
} pl_prune_atom;

/* A disjunction of atoms over one column (one atom: a plain comparison; `c IN (a, b)` is
 * `c = a OR c = b`): a file is ruled out when every atom is. */
typedef struct pl_prune_cond {
	const pl_column *column; /* a top-level column of the table */
	const pl_prune_atom *atoms;
	size_t natoms;
} pl_prune_cond;

/* True when the column's type has comparable min/max statistics. */
bool pl_prune_column_is_usable(const pl_column *c);

/* Runs the drop query on con; keep[i] (t->nfiles entries) says whether file i may match,
 * *nkept how many do. t is the table in the lake's current model, or (snapshot >= 0) in its
 * model at that snapshot. */
int pl_prune_files(duckdb_connection con, const char *lake, int64_t snapshot, const pl_table *t,
		   const pl_prune_cond *conds, size_t n, bool *keep, size_t *nkept, pl_err *err);

/* The order to read t's files in for a Top-N on column c (ORDER BY c [DESC] LIMIT n): by their
 * max (desc) or min bound, leading bounds first, files without statistics before all; order[]
 * receives the t->nfiles indexes. */
int pl_prune_order(duckdb_connection con, const char *lake, int64_t snapshot, const pl_table *t, const pl_column *c,
		   bool desc, size_t *order, pl_err *err);

#endif
