/*
 * service.h -- what `planar serve` (src/server) needs from an attached lake besides SQL: its own
 * connection to the lake's catalog, for the service tables of catalog/service.h.
 */
#ifndef PL_SQL_SERVICE_H
#define PL_SQL_SERVICE_H

#include "catalog/driver.h"
#include "planar/planar.h"

/* A new, independent connection to the catalog of the lake attached as lake_name (the caller
 * closes it with pl_catdb_close). PL_ENOTFOUND when no such lake is attached. */
int pl_service_catalog_open(planar_db *db, const char *lake_name, pl_catdb **out, pl_err *err);

#endif
