/*
 * maintenance.h -- DuckLake's maintenance table functions, with DuckLake's names, arguments and
 * result columns, callable as `CALL f(...)` or in `FROM f(...)`:
 *
 *   ducklake_expire_snapshots(catalog [, older_than => TIMESTAMPTZ | versions => [id, ...]]
 *                             [, dry_run => BOOLEAN])
 *       -> snapshot_id, snapshot_time, schema_version, changes, author, commit_message,
 *          commit_extra_info of the snapshots expired
 *   ducklake_cleanup_old_files(catalog [, older_than => TIMESTAMPTZ | cleanup_all => BOOLEAN]
 *                              [, dry_run => BOOLEAN])                         -> path
 *   ducklake_delete_orphaned_files(catalog [, older_than | cleanup_all] [, dry_run])  -> path
 *   ducklake_settings(catalog) -> catalog_type, extension_version, data_path
 *   ducklake_last_committed_snapshot(catalog) -> id (the snapshot this attachment committed last,
 *                                                NULL when it committed none)
 *
 * The work happens when the function is executed (not when it is bound: EXPLAIN or DESCRIBE
 * change nothing), under the process's lake lock and the catalog's write transaction
 * (table/maintenance.h). They refuse to run inside BEGIN ... COMMIT, on a read-only lake, and
 * while another session holds the lake's write transaction; inside a statement that holds the
 * lakes while it runs (EXPLAIN ANALYZE of lake DML) they fail after waiting for them.
 * ducklake_settings and ducklake_last_committed_snapshot only read, and answer when bound.
 */
#ifndef PL_SQL_MAINTENANCE_H
#define PL_SQL_MAINTENANCE_H

#include "sql/lexer.h"
#include "sql/session.h"

int pl_maintenance_register(planar_db *db, pl_err *err);

/* Compaction (sql/compact.c): ducklake_merge_adjacent_files(catalog [, table_name [, schema =>]]
 * [, max_compacted_files =>, min_file_size =>, max_file_size =>]) and
 * ducklake_rewrite_data_files(catalog [, table_name [, schema =>]] [, delete_threshold =>]),
 * -> schema_name, table_name, files_processed, files_created. Called by pl_maintenance_register. */
int pl_compact_register(planar_db *db, pl_err *err);
/* Rewrites the one-argument forms ducklake_merge_adjacent_files('lake') /
 * ducklake_rewrite_data_files('lake') to pass a NULL table (every table); *sql_out NULL when
 * the statement has none (a router rewrite step). */
int pl_compact_rewrite(planar_conn *conn, const pl_toks *t, char **sql_out, pl_strv *views, pl_err *err);

/* `[FORCE] CHECKPOINT [lake]` of a lake (sql/checkpoint.c): flush inlined data, expire snapshots,
 * merge adjacent files, rewrite data files, clean up old files, delete orphaned files, in that
 * order (DuckLake's), each as its own statement. *handled false: not a lake's checkpoint. Called
 * by the router without db->lock. */
struct pl_stmt;
int pl_checkpoint_route(struct pl_stmt *st, planar_result **out, pl_err *err, bool *handled);

#endif
