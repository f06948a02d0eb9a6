/*
 * init.h -- creating and validating DuckLake catalogs.
 */
#ifndef PL_CATALOG_INIT_H
#define PL_CATALOG_INIT_H

#include <stdbool.h>

#include "catalog/driver.h"
#include "core/str.h"

#define PL_DUCKLAKE_VERSION "1.0"
#define PL_PLANAR_VERSION "0.1.0"

/* Creates every DuckLake 1.0 table and the initial snapshot 0 (schema "main") in one transaction. */
int pl_catalog_create(pl_catdb *db, const char *data_path, pl_err *err);
/* Whether the catalog database holds DuckLake's tables (its ducklake_metadata table exists). */
int pl_catalog_is_ducklake(pl_catdb *db, bool *out, pl_err *err);
/* Fails with a clear message unless the catalog's version is the one Planar speaks or, with
 * migrate, one of an older DuckLake release, which it then migrates (pl_catalog_upgrade). */
int pl_catalog_check_version(pl_catdb *db, const char *location, bool migrate, pl_err *err);
/* Migrates a catalog of an older DuckLake release (version 0.1 to 0.4) to format 1.0 in one
 * transaction, when allowed (ATTACH ... AUTOMATIC_MIGRATION); else, and for versions it does not
 * know, fails naming the version and what to do (migrate.c). */
int pl_catalog_upgrade(pl_catdb *db, const char *location, const char *version, bool allowed, pl_err *err);
/* The i-th table of the DuckLake 1.0 catalog (i < pl_catalog_spec_count()): its name, and its
 * columns' names and DuckDB types (appended to names / types). */
size_t pl_catalog_spec_count(void);
int pl_catalog_spec_table(size_t i, char **name, pl_strv *names, pl_strv *types, pl_err *err);
/* Global-scope ducklake_metadata value for key (NULL in *out when absent). */
int pl_catalog_metadata(pl_catdb *db, const char *key, char **out, pl_err *err);

#endif
