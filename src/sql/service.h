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
 * columns are BIGINT, DOUBLE, BOOLEAN or VARCHAR. The rows come in nparts parts, in order:
 * __planar_rows('<id>') reads them all, part after part, on one thread, so rows keep their
 * order; __planar_rows('<id>/<k>') reads part k alone, so that the parts can be read (and
 * written) at the same time by statements of their own. Every scan starts its parts again from
 * their first row (a retried statement reads the same rows). The rows are made as DuckDB asks
 * for them: on the thread that runs the scan. */
typedef enum pl_rows_kind { PL_ROWS_BIGINT, PL_ROWS_DOUBLE, PL_ROWS_BOOLEAN, PL_ROWS_VARCHAR } pl_rows_kind;

#define PL_ROWS_BLOCK 2048 /* rows of a block at most (DuckDB's vector size) */

typedef struct pl_rows_text {
	const char *p; /* valid UTF-8 without NUL, alive while the source is registered */
	size_t len;
} pl_rows_text;

/* One column of a block: null[r] marks a NULL; the values are in the array of the column's kind
 * (room for PL_ROWS_BLOCK values; a NULL's value is not read). */
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
	size_t nparts; /* at least 1 */
	/* A cursor at the first row of part k (NULL: out of memory). */
	void *(*open)(void *user, size_t part);
	/* The cursor's next rows into blk (up to PL_ROWS_BLOCK; blk->nrows 0 after the part's last
	 * row): 0, or nonzero when the rows cannot be had (*msg: why, alive while the source is
	 * registered). */
	int (*next)(void *cursor, pl_rows_block *blk, const char **msg);
	void (*close)(void *cursor);
	void *user;
} pl_rows_source;

/* Registers __planar_rows in db's engine (once per db). */
int pl_service_rows_enable(planar_db *db, pl_err *err);
/* Registers src under id (the struct is copied; names, kinds and user must stay alive until
 * pl_service_rows_remove). */
int pl_service_rows_add(const char *id, const pl_rows_source *src, pl_err *err);
void pl_service_rows_remove(const char *id);
/* The number of parts of the source registered under id (0: none is). */
size_t pl_service_rows_parts(const char *id);

#endif
