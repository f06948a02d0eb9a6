/*
 * service.h -- what `planar serve` (src/server) needs from an attached lake besides SQL: its own
 * connection to the lake's catalog, for the service tables of catalog/service.h.
 */
#ifndef PL_SQL_SERVICE_H
#define PL_SQL_SERVICE_H

#include <stdbool.h>
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

#endif
