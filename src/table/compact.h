/*
 * compact.h -- DuckLake's compaction of a lake's tables:
 *
 * merge (ducklake_merge_adjacent_files): within each group of live files of a table that share
 * its schema version, partitioning and partition values, runs of files (in the order they were
 * written) are merged until a run reaches the table's target_file_size. Files with deleted rows,
 * files at or over the size bound (max_file_size, else target_file_size), under min_file_size, or
 * registered through a name map are left as they are. The merged file keeps each row's snapshot
 * (and its row id, unless the runs' row ids are contiguous and no sort order applies), so time
 * travel to every snapshot and the change feed read exactly what they read before.
 *
 * rewrite (ducklake_rewrite_data_files): the live files whose deleted fraction is at least the
 * threshold are rewritten without their deleted rows, one new file per group (rows keep their
 * row ids); the old files end at the new snapshot.
 *
 * Rows are written in the table's current sort order when it has one (SET SORTED BY) and the
 * group has the table's current columns, else in file order. Everything is committed as one
 * snapshot (catalog/compact.h); a conflict with a concurrent commit changes nothing and removes
 * the files written.
 */
#ifndef PL_TABLE_COMPACT_H
#define PL_TABLE_COMPACT_H

#include <stdbool.h>
#include <stdint.h>

#include "catalog/commit.h"
#include "catalog/model.h"
#include "table/context.h"

typedef enum pl_compact_kind { PL_COMPACT_MERGE, PL_COMPACT_REWRITE } pl_compact_kind;

typedef struct pl_compact_request {
	pl_compact_kind kind;
	const pl_table_ctx *ctx; /* con writes the files (not in use by a query); cat, options */
	const pl_model *model;   /* the lake's latest committed model */
	const char *data_path;   /* the lake's, ends in '/' */
	const pl_table *only;    /* one table of model, or NULL: every table whose auto_compact is not false */
	uint64_t max_files;      /* merge: at most this many merge runs (max_compacted_files) */
	int64_t min_file_size, max_file_size; /* merge: bytes, -1 when not given */
	bool threshold_given;    /* rewrite: delete_threshold given; else the rewrite_delete_threshold option, 0.95 */
	double delete_threshold;
	const pl_txn *skip;      /* tables any of these nskip writes touch are left alone */
	size_t nskip;
} pl_compact_request;

/* Runs the compaction; *out: one row per file written or removed run, columns schema_name,
 * table_name, files_processed, files_created (text). *snapshot_out: the new snapshot, -1 when
 * nothing was compacted. */
int pl_compact_run(const pl_compact_request *req, pl_rows **out, int64_t *snapshot_out, pl_err *err);
/* Inside a transaction: the same work, but the compactions and their files go into `into` (its
 * compactions, written), which the transaction's COMMIT commits with its snapshot (on failure
 * nothing is added and the files written are removed). */
int pl_compact_plan(const pl_compact_request *req, pl_txn *into, pl_rows **out, pl_err *err);

#endif
