/*
 * upkeep.h -- the catalog side of DuckLake's maintenance functions: the snapshots an expiry
 * removes and the rows only they reference (ducklake_expire_snapshots), the files scheduled for
 * deletion (ducklake_cleanup_old_files), every file path the catalog knows
 * (ducklake_delete_orphaned_files), and the checks a commit makes so that none of these can
 * take away what it is about to reference.
 *
 * Callers hold the catalog's write transaction (db->ops->begin) around everything that reads
 * and then changes rows, so no commit lands in between. Timestamps are UTC text
 * "YYYY-MM-DD HH:MM:SS.ffffff+00", compared as the catalog stores them.
 */
#ifndef PL_CATALOG_UPKEEP_H
#define PL_CATALOG_UPKEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog/driver.h"
#include "core/str.h"

/* The snapshots an expiry removes, never the latest one: with `before`, those taken earlier;
 * else those whose ids are among ids[0..nids). Rows (ordered by id): snapshot_id, snapshot_time
 * (text), schema_version, changes_made, author, commit_message, commit_extra_info. */
int pl_upkeep_expirable(pl_catdb *db, const char *before, const int64_t *ids, size_t nids, pl_rows **out,
			pl_err *err);

/* Deletes snapshots ids[0..n) and, as DuckLake does, every row no remaining snapshot needs:
 * tables (with their columns, statistics, partitioning, inlined-data tables), schemas, views,
 * tags and macros that ended before any remaining snapshot, and data and delete files no
 * remaining snapshot references; those files are scheduled for deletion
 * (ducklake_files_scheduled_for_deletion, their path relative to data_path when below it).
 * *nscheduled receives how many were scheduled. */
int pl_upkeep_expire(pl_catdb *db, const int64_t *ids, size_t n, const char *data_path, size_t *nscheduled,
		     pl_err *err);

/* Files scheduled for deletion (with `before`, only those scheduled earlier). Rows:
 * data_file_id, path as stored, path_is_relative, full path (data_path + path when relative). */
int pl_upkeep_scheduled(pl_catdb *db, const char *before, const char *data_path, pl_rows **out, pl_err *err);
/* Removes scheduled rows i of `rows` (from pl_upkeep_scheduled) for every i in which[0..n). */
int pl_upkeep_unschedule(pl_catdb *db, const pl_rows *rows, const size_t *which, size_t n, pl_err *err);

/* Every file path the catalog knows, as full paths: data and delete files of every snapshot
 * (resolved through each directory their table and its schema have had) and, with_scheduled,
 * files scheduled for deletion. */
int pl_upkeep_known_paths(pl_catdb *db, const char *data_path, bool with_scheduled, pl_strv *out, pl_err *err);

/* Whether snapshot snap exists (an expiry may have removed it, also after a process cached a
 * model of it). */
int pl_upkeep_snapshot_exists(pl_catdb *db, int64_t snap, bool *out, pl_err *err);

/* Commit checks, run inside the commit's catalog transaction:
 * every file a commit is about to register still exists (a removal of unregistered files
 * cannot have taken one); PL_EIO naming the first missing one. */
int pl_upkeep_check_written(const pl_strv *written, pl_err *err);
/* every snapshot from base on still exists, so the conflict checks against the snapshots
 * committed since base see all of them; PL_ECONFLICT when some were expired meanwhile. */
int pl_upkeep_check_history(pl_catdb *db, int64_t base, pl_err *err);

#endif
