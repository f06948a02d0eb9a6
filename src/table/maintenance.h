/*
 * maintenance.h -- DuckLake's maintenance operations on a lake: expiring snapshots, removing the
 * files expiry scheduled for deletion, and removing files below the data path that no catalog
 * row knows (orphans, e.g. left by a writer killed half-way).
 *
 * Each runs inside one catalog write transaction (taken here, waiting for other writers as a
 * commit does), so no commit lands between what it reads and what it changes; a failure rolls
 * the catalog back. Nothing here ever removes a file that any data or delete file row of the
 * catalog names, nor anything outside the data path (paths read from the catalog are checked
 * after resolving symbolic links and "..", see storage/sweep.h). A commit in progress is
 * protected by the checks of catalog/upkeep.h: it fails, rather than naming a removed file.
 */
#ifndef PL_TABLE_MAINTENANCE_H
#define PL_TABLE_MAINTENANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog/driver.h"
#include "core/str.h"

typedef struct pl_expire_request {
	const char *older_than;   /* UTC timestamp text: snapshots taken earlier; NULL: by versions */
	const int64_t *versions;  /* snapshot ids, when older_than is NULL */
	size_t nversions;
	bool dry_run;             /* only list them */
} pl_expire_request;

/* Expires snapshots (never the latest). *out: the snapshots expired (or, dry_run, that would
 * be), with the columns of catalog/upkeep.h's pl_upkeep_expirable. */
int pl_maint_expire_snapshots(pl_catdb *db, const char *data_path, const pl_expire_request *req, pl_rows **out,
			      pl_err *err);

/* Removes files scheduled for deletion before `before` (UTC text; NULL: all of them) and their
 * rows. Entries that cannot be removed safely (outside the data path, not a regular file, not a
 * Parquet or Puffin file, or a path some data or delete file row still names) are skipped and
 * keep their rows. *out: the
 * paths removed (or, dry_run, that would be); a file already gone counts as removed. */
int pl_maint_cleanup_old_files(pl_catdb *db, const char *data_path, const char *before, bool dry_run, pl_strv *out,
			       pl_err *err);

/* Removes the Parquet and Puffin files below the data path that no catalog row knows (data
 * files, delete files, files scheduled for deletion), last modified before modified_before
 * (microseconds since the epoch; INT64_MAX: any). Symbolic links are neither followed nor
 * removed. *out: the paths removed (or, dry_run, that would be). */
int pl_maint_delete_orphans(pl_catdb *db, const char *data_path, int64_t modified_before, bool dry_run, pl_strv *out,
			    pl_err *err);

#endif
