/*
 * service.h -- what `planar serve` (src/server) needs from an attached lake besides SQL: its own
 * connection to the lake's catalog, for the service tables of catalog/service.h.
 */
#ifndef PL_SQL_SERVICE_H
#define PL_SQL_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog/driver.h"
#include "planar/planar.h"

/* A new, independent connection to the catalog of the lake attached as lake_name (the caller
 * closes it with pl_catdb_close). PL_ENOTFOUND when no such lake is attached. */
int pl_service_catalog_open(planar_db *db, const char *lake_name, pl_catdb **out, pl_err *err);

/* An object of a blob version (catalog/blobs.h: its location and manifest entry) opened for
 * reading, checked against the manifest (table/blob.h, pl_blob_open_object). */
int pl_service_blob_open(const char *location, const char *path, int64_t size, const char *sha256, int *fd_out,
			 pl_err *err);
/* Whether a manifest path is a relative path inside its folder. */
bool pl_service_blob_path_ok(const char *path);

/* ---- rows the service checked itself, read by DuckDB without text (service_rows.c) ----
 * A caller registers a row source under an id (unique, e.g. a UUID); a statement reads it with
 * the table function __planar_rows('<id>') (registered by pl_service_rows_enable), whose
 * columns are BIGINT, DOUBLE, BOOLEAN or VARCHAR, block after block in the order the source
 * hands them out. The scan is single-threaded, so rows keep their order; every scan starts
 * again from block 0 (a retried statement reads the same rows). */
typedef enum pl_rows_kind { PL_ROWS_BIGINT, PL_ROWS_DOUBLE, PL_ROWS_BOOLEAN, PL_ROWS_VARCHAR } pl_rows_kind;

#define PL_ROWS_BLOCK 2048 /* rows of a block at most (DuckDB's vector size) */

typedef struct pl_rows_text {
	const char *p; /* valid UTF-8 without NUL, alive while the source is registered */
	size_t len;
} pl_rows_text;

/* One column of a block: null[r] marks a NULL; the values are in the array of the column's kind. */
typedef struct pl_rows_col {
	bool *null;
	union {
		int64_t *i64;
		double *f64;
		bool *b;
		pl_rows_text *t;
	} v;
} pl_rows_col;

typedef struct pl_rows_block {
	size_t nrows;
	pl_rows_col *cols; /* one per column of the source */
} pl_rows_block;

typedef struct pl_rows_source {
	size_t ncols;
	const char *const *names;
	const pl_rows_kind *kinds;
	/* Block k (from 0) of the rows: 0 with *out set, or 0 with *out NULL after the last one,
	 * or nonzero when the rows cannot be had (*msg: why, alive while the source is
	 * registered). May wait for the block to be produced. */
	int (*block)(void *user, size_t k, const pl_rows_block **out, const char **msg);
	void *user;
} pl_rows_source;

/* Registers __planar_rows in db's engine (once per db). */
int pl_service_rows_enable(planar_db *db, pl_err *err);
/* Registers src under id (the struct is copied; names, kinds and user must stay alive until
 * pl_service_rows_remove). */
int pl_service_rows_add(const char *id, const pl_rows_source *src, pl_err *err);
void pl_service_rows_remove(const char *id);

#endif
