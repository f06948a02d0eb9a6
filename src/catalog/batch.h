/*
 * batch.h -- multi-row INSERTs into a catalog table: rows are collected and sent as
 * `INSERT INTO ... VALUES (...), (...), ...` statements of up to PL_BATCH_MAX_PARAMS bound
 * values each, so registering many files (and their statistics) costs a few round trips instead
 * of one per row. Every driver (SQLite, DuckDB, PostgreSQL) runs the same SQL.
 */
#ifndef PL_CATALOG_BATCH_H
#define PL_CATALOG_BATCH_H

#include <stddef.h>

#include "catalog/driver.h"

/* Bound values per statement: below SQLite's historical limit of 999 host parameters. */
#define PL_BATCH_MAX_PARAMS 900

typedef struct pl_batch {
	pl_catdb *db;
	const char *head; /* "INSERT INTO t (a, b) VALUES " */
	const char *row;  /* one row's value list with nparams '?': "(?, ?, NULL)" */
	size_t nparams;   /* '?' per row (>= 1) */
	pl_val *vals;     /* pending rows; text values point to strings the caller keeps alive */
	size_t nrows, cap;
	size_t statements; /* statements run so far */
} pl_batch;

/* Prepares an empty batch (no allocation until the first row). */
void pl_batch_init(pl_batch *b, pl_catdb *db, const char *head, const char *row, size_t nparams);
/* Adds a row of b->nparams values; runs the pending rows when a statement is full. Text values
 * must stay valid until the batch is flushed. */
int pl_batch_add(pl_batch *b, const pl_val *row, pl_err *err);
/* Runs the pending rows (nothing when none). */
int pl_batch_flush(pl_batch *b, pl_err *err);
void pl_batch_dispose(pl_batch *b);

/* Rows one statement takes for a row of nparams values. */
size_t pl_batch_rows_per_statement(size_t nparams);

#endif
