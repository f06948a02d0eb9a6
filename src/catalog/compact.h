/*
 * compact.h -- the catalog side of DuckLake's compaction (ducklake_merge_adjacent_files,
 * ducklake_rewrite_data_files): the files a table could compact, and the commit that replaces
 * them by the files written from them, as DuckLake 1.0 records it.
 *
 * Merging adjacent files: the merged file begins at the first source's begin_snapshot, carries
 * each row's snapshot in _ducklake_internal_snapshot_id and records the newest of them in
 * partial_max, so every snapshot still reads exactly its rows; the sources' rows (data file,
 * column statistics, partition values) are deleted and the files scheduled for deletion
 * (ducklake_files_scheduled_for_deletion). Rewriting files with deletes: the new file begins at
 * the compaction's snapshot, the sources and their delete files end there (expiry removes them
 * once no snapshot needs them). Both record merge_adjacent:<table> / rewrite_delete:<table> in
 * the snapshot's changes.
 */
#ifndef PL_CATALOG_COMPACT_H
#define PL_CATALOG_COMPACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog/commit.h"
#include "catalog/driver.h"
#include "core/str.h"

/* The live data files of table table_id at the latest snapshot, one row each, by begin_snapshot,
 * row_id_start, data_file_id: data_file_id, record_count, row_id_start (NULL: rows carry their
 * row ids), begin_snapshot, mapping_id, partial_max, partition_id, file_size_bytes, path,
 * path_is_relative, schema_version (the table's, when the file began), delete_files (how many
 * delete file rows the file has had), live delete_file_id, its delete_count. */
int pl_compact_files(pl_catdb *db, int64_t table_id, pl_rows **out, pl_err *err);
/* How many rows of each of files[0..n) of table_id are deleted through the catalog
 * (ducklake_inlined_delete_<table>, distinct positions) into counts[0..n). */
int pl_compact_inlined_deletes(pl_catdb *db, int64_t table_id, const int64_t *files, size_t n, int64_t *counts,
			       pl_err *err);
/* The partition values of table_id's live files: data_file_id, partition_key_index,
 * partition_value, by data_file_id and key. */
int pl_compact_partition_values(pl_catdb *db, int64_t table_id, pl_rows **out, pl_err *err);

/* The first snapshot at or after `begin` that still exists (expiry removes some) at which table
 * table_id has schema version schema_version (so its columns are those of files written at
 * begin); -1 when there is none. */
int pl_compact_columns_snapshot(pl_catdb *db, int64_t table_id, int64_t begin, int64_t schema_version,
				int64_t *out, pl_err *err);

/* One compaction: files of one table replaced by one new file (or by none, when no row is left). */
typedef struct pl_compaction {
	int64_t table_id;
	bool rewrite;               /* rewrite_data_files; else merge_adjacent_files */
	int64_t *sources;           /* data_file_id of each file replaced */
	int64_t *source_deletes;    /* its live delete_file_id (-1: none), checked unchanged */
	int64_t *source_inlined;    /* its rows deleted through the catalog, checked unchanged */
	size_t nsources;
	pl_new_file *file;          /* the written file (path relative to the table's directory), or NULL */
	int64_t begin_snapshot;     /* merge: the first source's; rewrite: ignored (the new snapshot) */
	int64_t partial_max;        /* merge of several files: the newest source snapshot; else -1 */
	int64_t row_id_start;       /* -1: the file carries its row ids */
} pl_compaction;

void pl_compaction_dispose(pl_compaction *c);

/* The catalog rows of the compactions, inside the commit st (pl_commit_begin ... finish): the
 * sources are checked as pl_compact_commit checks them (PL_ECONFLICT), the new files get their
 * rows, the sources end (rewrite) or go and are scheduled for deletion (merge). */
int pl_compact_write(pl_catdb *db, pl_compaction *c, size_t n, const char *const *table_dirs,
		     const char *data_path, pl_commit_state *st, pl_err *err);

/* Commits the compactions as one snapshot planned on `base`. Fails with PL_ECONFLICT, changing
 * nothing, when a source file is gone, ended or got (other) deleted rows since, or its table was
 * dropped. written: the full paths of the new files (checked to exist); data_path: the lake's
 * (scheduled paths are stored relative to it); table_dirs[i]: the resolved directory of the
 * table of c[i] (sources' relative paths are below it). On failure *outcome_unknown tells
 * whether the snapshot may have landed (the new files must then stay). */
int pl_compact_commit(pl_catdb *db, int64_t base, pl_compaction *c, size_t n, const char *const *table_dirs,
		      const char *data_path, const pl_strv *written, int64_t *snapshot_out, bool *outcome_unknown,
		      pl_err *err);

#endif
