/*
 * options.h -- reading lake options (ducklake_metadata rows set with set_option) for a table:
 * the table's own value, else its schema's, else the global one.
 */
#ifndef PL_CATALOG_OPTIONS_H
#define PL_CATALOG_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "catalog/driver.h"

/* Values of the options `keys` (n of them) for table_id in schema_id (-1: none) in one catalog
 * query; out[i] is malloc'd, or NULL when the option is unset. On failure every out[i] is NULL. */
int pl_catalog_options(pl_catdb *db, int64_t table_id, int64_t schema_id, const char *const *keys, size_t n,
		       char **out, pl_err *err);

#endif
