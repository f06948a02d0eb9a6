/*
 * addfiles.h -- registering existing Parquet files in a lake table without copying them
 * (DuckLake's ducklake_add_data_files): each file's columns are matched to the table's columns
 * by name (nested struct fields too), their types checked as DuckLake checks them, and the file
 * is recorded with its row count, sizes and per-column statistics from its Parquet footer and a
 * name map (catalog/namemap.h) by which readers find its columns.
 */
#ifndef PL_TABLE_ADDFILES_H
#define PL_TABLE_ADDFILES_H

#include <stdbool.h>

#include "catalog/commit.h"
#include "table/context.h"

typedef struct pl_addfiles_opts {
	bool allow_missing;        /* table columns the file lacks read as their defaults */
	bool ignore_extra_columns; /* file columns the table lacks are skipped */
	int hive_partitioning;     /* -1 automatic, 0 no, 1 yes: key=value path segments give values */
} pl_addfiles_opts;

/* Adds to txn the files matched by the paths or globs (each must match at least one file) of
 * table t. Files without rows are skipped; a file matched twice is added once. On an error
 * (naming the file and column) txn may hold part of the files: the caller discards it. */
int pl_addfiles_build(const pl_table_ctx *ctx, const pl_table *t, char *const *globs, size_t nglobs,
		      const pl_addfiles_opts *opts, pl_txn *txn, pl_err *err);

#endif
