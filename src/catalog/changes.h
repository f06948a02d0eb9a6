/*
 * changes.h -- the changes_made text of DuckLake snapshots ("created_table:\"s\".\"t\",
 * inserted_into_table:3,..."): reading its entries, quoting names into it, and the conflicts the
 * snapshots committed since a commit's base mean for that commit.
 */
#ifndef PL_CATALOG_CHANGES_H
#define PL_CATALOG_CHANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog/commit.h"
#include "catalog/driver.h"
#include "core/buf.h"

typedef struct pl_change {
	char kind[32];
	const char *value; /* points into the changes text, quoting kept */
	size_t len;
} pl_change;

/* Reads the next "kind:value" entry of a changes_made list at *s (advancing it). */
bool pl_changes_next(const char **s, pl_change *out);
/* Appends "schema"."name" (schema may be NULL) as changes_made entries spell names. */
void pl_changes_quoted_name(pl_buf *b, const char *schema, const char *name);
/* Fails with PL_ECONFLICT naming the conflict when a snapshot committed after base (and before
 * `own`, the snapshot being written, whose earlier statements never conflict with later ones)
 * changed what t changes (a file t deletes from, a table it writes to dropped or altered, a name
 * it creates). */
int pl_changes_check_conflicts(pl_catdb *db, const pl_txn *t, int64_t base, int64_t own, pl_err *err);

#endif
