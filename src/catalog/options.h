/*
 * options.h -- lake options (ducklake_metadata rows set with set_option): reading them for a
 * table (the table's own value, else its schema's, else the global one) and setting them.
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
/* The value of one option for table_id in schema_id (-1: none): the row of the narrowest scope
 * that has the key, NULL in *out when there is none. */
int pl_catalog_option(pl_catdb *db, int64_t table_id, int64_t schema_id, const char *key, char **out,
		      pl_err *err);
/* The value option key has in exactly that scope ("table", "schema" or NULL: global; scope_id -1
 * for the global one), NULL in *out when it has none there. */
int pl_catalog_option_in_scope(pl_catdb *db, const char *key, const char *scope, int64_t scope_id, char **out,
			       pl_err *err);
/* Sets option key to value in scope ("table", "schema" or NULL: global) of scope_id (-1 for the
 * global scope), replacing the value it had there, in a catalog transaction of its own. */
int pl_catalog_set_option(pl_catdb *db, const char *key, const char *value, const char *scope, int64_t scope_id,
			  pl_err *err);

#endif
