/*
 * commit.h -- the DuckLake commit protocol: one catalog transaction that turns a set of pending
 * changes into exactly one new snapshot.
 *
 * Ids (schemas, tables, files, snapshot) are assigned inside the catalog transaction from the
 * latest snapshot, so a commit that raced another one simply re-reads and retries. Before
 * writing, the changes of every snapshot committed since `base_snapshot` are checked against
 * this transaction; a real conflict aborts with PL_ECONFLICT and a message naming it.
 * References to objects created in the same pl_txn are negative: -(index + 1). A transaction of
 * several statements keeps one pl_txn per statement until COMMIT; a statement refers to objects
 * an earlier one created by their local ids (PL_LOCAL_ID_BASE and up, given by the pending model,
 * see catalog/pending.h), which the commit replaces by the ids it assigns.
 */
#ifndef PL_CATALOG_COMMIT_H
#define PL_CATALOG_COMMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "catalog/driver.h"
#include "catalog/model.h"
#include "catalog/namemap.h"
#include "core/buf.h"
#include "core/str.h"

typedef struct pl_new_column {
	int64_t id, order, parent; /* ids are per table, assigned by the caller; parent -1 = top */
	char *name, *type, *default_value, *default_value_type;
	char *initial_default;     /* value for files written before the column existed */
	char *initial_stat;        /* initial_default as the column's statistics write it (NULL: unknown) */
	bool nulls_allowed;
} pl_new_column;

typedef struct pl_new_schema {
	char *name;
	int64_t assigned_id;
} pl_new_schema;

typedef struct pl_new_table {
	int64_t schema_ref; /* schema id, or -(index+1) into new schemas */
	char *schema_name, *name;
	pl_new_column *columns;
	size_t ncolumns;
	int64_t assigned_id;
	bool inlined_table; /* data inlining is on: create its inlined-data table with it */
} pl_new_table;

typedef struct pl_column_stats {
	int64_t column_id, value_count, null_count, column_size; /* column_size -1 = unknown */
	char *min, *max;                                         /* NULL = unknown */
	int contains_nan;                                        /* -1 unknown, 0, 1 */
	char *type;                                              /* DuckLake type, for merging */
} pl_column_stats;

/* A name map for external files; the commit reuses an equal map of the table when there is one. */
typedef struct pl_new_namemap {
	pl_namemap map;     /* map.table_id: the files' table (as the transaction's model knows it) */
	int64_t assigned_id; /* local until the commit assigns it */
} pl_new_namemap;

typedef struct pl_new_file {
	int64_t table_ref; /* table id, or -(index+1) into new tables */
	char *path;        /* file name relative to the table's directory */
	int64_t record_count, file_size, footer_size;
	pl_column_stats *stats;
	size_t nstats;
	int64_t assigned_id;
	/* A file of a partitioned table: its partitioning and the value of each key (in key order,
	 * as DuckLake stores them: text, NULL for a NULL key). */
	bool partitioned;
	int64_t partition_id;
	char **partition_values;
	size_t npartition_values;
	/* A file the lake did not write (ducklake_add_data_files): path is absolute (stored relative
	 * to the lake's data path when under it) and namemap is k + 1 for txn->namemaps[k]. */
	bool external;
	size_t namemap;
	/* A file of rows flushed from an inlined-data table (ducklake_flush_inlined_data): the rows
	 * carry their row ids and begin snapshots (_ducklake_internal_row_id / _snapshot_id), so the
	 * file begins at the earliest of them, partial_max is the latest, row_id_start the smallest
	 * row id, and the table's record count and next row id stay as they are. */
	bool flushed;
	int64_t flush_begin, flush_max, flush_row_id_start;
} pl_new_file;

/* ALTER TABLE ... SET SORTED BY (nkeys > 0) / RESET SORTED BY (nkeys 0). */
typedef struct pl_new_sort {
	int64_t table_id;
	char **expressions; /* DuckDB SQL */
	bool *descending, *nulls_first;
	size_t nkeys;
	int64_t assigned_id;
	/* the same order as the table's (set again, or a rename that changes no expression): as
	 * DuckLake, the snapshot records the table as altered and uses up a catalog id, and no
	 * row changes */
	bool unchanged;
} pl_new_sort;

/* ALTER TABLE ... SET PARTITIONED BY (nkeys > 0) / RESET PARTITIONED BY (nkeys 0): how the
 * table's new data is partitioned from this snapshot on. */
typedef struct pl_new_partition {
	int64_t table_id;
	int64_t *column_ids;
	char **transforms; /* "identity", "year", "month", "day", "hour", "bucket(N)" */
	size_t nkeys;
	int64_t assigned_id;
} pl_new_partition;

/* A new delete file for a data file; it replaces the data file's previous delete file. */
typedef struct pl_new_delete {
	int64_t table_id, data_file_id;
	char *path;   /* file name relative to the table's directory */
	char *format; /* "parquet" or "puffin" */
	int64_t delete_count, file_size, footer_size;
	int64_t replaces; /* delete_file_id ended by this one, or -1 */
	int64_t assigned_id;
	/* k + 1: the delete file of txn->files[k] (a file of the same commit); data_file_id unused. */
	size_t new_file;
	/* The replaced delete file's row is removed (and its file scheduled for deletion) instead of
	 * ended: this one holds its positions with their snapshots (a flush of inlined deletes). */
	bool drop_replaced;
	char *replaced_path; /* its path as the catalog stores it, and whether relative */
	bool replaced_relative;
	/* Positions tagged with the snapshot that deleted them (_ducklake_internal_snapshot_id, a
	 * flush of deleted inlined rows): begins at the earliest, partial_max the latest. */
	bool flushed;
	int64_t flush_begin, flush_max;
} pl_new_delete;

/* A data file all of whose rows are deleted: it (and its delete file) end at the snapshot. */
typedef struct pl_ended_file {
	int64_t table_id, data_file_id, delete_id; /* delete_id -1 when none */
} pl_ended_file;

/* Inlined rows deleted from an inlined-data table. */
typedef struct pl_inlined_delete {
	int64_t table_id;
	char *inlined_table;
	int64_t *row_ids;
	size_t n;
} pl_inlined_delete;

/* Rows of a data file deleted in the catalog instead of a delete file (DuckLake 1.0 deletion
 * inlining, at most data_inlining_row_limit rows of one file): positions in the file. */
typedef struct pl_inlined_file_delete {
	int64_t table_id, data_file_id;
	int64_t *positions;
	size_t n;
} pl_inlined_file_delete;

/* Rows of an inlined-data table written to data files by ducklake_flush_inlined_data: those that
 * began at or before snapshot `upto` leave the inlined table (the files hold them now). */
typedef struct pl_inlined_flush {
	int64_t table_id;
	char *inlined_table;
	int64_t upto;
} pl_inlined_flush;

/* Rows of an INSERT stored in the catalog (data inlining, catalog/inline.h): they go into the
 * table's latest ducklake_inlined_data_<table>_<schema_version> table, which the commit creates
 * (with a new schema version) when the table has none for its current columns. */
typedef struct pl_inlined_insert {
	int64_t table_id;   /* table id, a local id, or -(k + 1): the table tables[k] of its txn creates */
	char **names;       /* the table's top-level columns, in order (ncols) */
	char **types;       /* their DuckLake types ("struct", "list", "map" for nested columns) */
	int64_t *column_ids;
	size_t ncols;
	char *columns_ddl;  /* the column definitions of a new inlined-data table on this catalog */
	char **cells;       /* nrows * ncols values as DuckDB renders them as VARCHAR; NULL = NULL */
	size_t nrows;
	bool catalog_form; /* cells already rewritten for the catalog (PostgreSQL BYTEA input) */
	/* New versions of existing rows (an UPDATE): their row ids (nrows), which they keep; the
	 * table's next row id does not move. NULL: new rows. */
	int64_t *row_ids;
} pl_inlined_insert;

/* ALTER TABLE: column rows that end, new column rows (new versions of existing ids, or new
 * columns), and/or a new name for the table. */
typedef struct pl_alter {
	int64_t table_id;
	int64_t *end_columns;
	size_t nend;
	pl_new_column *columns;
	size_t ncolumns;
	char *new_name; /* RENAME TO */
	char *uuid, *path;
	int64_t schema_id;
	char *schema_name; /* with new_name: the table's schema (the rename's change names it) */
	bool path_is_relative;
} pl_alter;

/* CREATE VIEW: the SQL keeps {DUCKLAKE_CATALOG} where the view names its own lake. */
typedef struct pl_new_view {
	int64_t schema_id;
	char *schema_name, *name, *sql, *column_aliases;
	int64_t assigned_id;
	/* ALTER VIEW ... RENAME TO: view renamed_id gets a new row named `name` (its other columns
	 * as they were; sql and column_aliases unused), as DuckLake renames a view. */
	bool rename;
	int64_t renamed_id;
} pl_new_view;

/* CREATE MACRO: macro.schema_id may be a local id; macro.id is unused (assigned_id). */
typedef struct pl_new_macro {
	pl_macro macro;
	char *schema_name;
	int64_t assigned_id;
} pl_new_macro;

/* DROP MACRO [TABLE]: the kind names the change (dropped_scalar_macro / dropped_table_macro). */
typedef struct pl_dropped_macro {
	int64_t id;
	bool table;
} pl_dropped_macro;

/* COMMENT ON TABLE (column_id -1) / COLUMN: value NULL removes the tag. */
typedef struct pl_tag {
	int64_t table_id, column_id;
	char *key, *value;
	bool view; /* the object is a view (the change is altered_view) */
} pl_tag;

typedef struct pl_dropped {
	int64_t id;
	char *name; /* for messages */
} pl_dropped;

/* Work started for a txn that must be complete before its catalog transaction commits (the data
 * files' fsync, running in the background while the catalog rows are written). wait() finishes
 * it, releases ctx and returns 0 or a PL_E* code with err filled; it is called exactly once. */
typedef struct pl_txn_pending {
	int (*wait)(void *ctx, pl_err *err);
	void *ctx;
} pl_txn_pending;

/* How a commit retries a lost race (another writer committed or held the catalog meanwhile):
 * DuckLake's ducklake_max_retry_count / ducklake_retry_wait_ms / ducklake_retry_backoff. When
 * `set` is false the commit uses Planar's own policy (20 attempts, millisecond backoff). */
typedef struct pl_retry_policy {
	bool set;
	int64_t max_retry_count; /* attempts: at least 1 */
	int64_t wait_ms;         /* first wait, times a random factor in [0.5, 1] */
	double backoff;          /* each later wait is this many times the one before */
} pl_retry_policy;

typedef struct pl_txn {
	pl_new_schema *schemas;
	size_t nschemas;
	pl_new_table *tables;
	size_t ntables;
	pl_new_file *files;
	size_t nfiles;
	pl_dropped *dropped_tables;
	size_t ndropped_tables;
	pl_dropped *dropped_schemas;
	size_t ndropped_schemas;
	pl_new_delete *deletes;
	size_t ndeletes;
	pl_ended_file *ended_files;
	size_t nended_files;
	pl_inlined_delete *inlined_deletes;
	size_t ninlined_deletes;
	pl_inlined_insert *inlined_inserts;
	size_t ninlined_inserts;
	pl_inlined_flush *flushes;
	size_t nflushes;
	pl_inlined_file_delete *file_deletes;
	size_t nfile_deletes;
	pl_alter *alters;
	size_t nalters;
	pl_new_view *views;
	size_t nviews;
	pl_dropped *dropped_views;
	size_t ndropped_views;
	pl_new_macro *macros;
	size_t nmacros;
	pl_dropped_macro *dropped_macros;
	size_t ndropped_macros;
	pl_tag *tags;
	size_t ntags;
	pl_new_partition *partitions;
	size_t npartitions;
	pl_new_sort *sorts;
	size_t nsorts;
	pl_new_namemap *namemaps; /* name maps of external files */
	size_t nnamemaps;
	/* Compactions run inside a transaction (catalog/compact.h): committed with its snapshot;
	 * each owns its written file (->file) and its table's resolved directory
	 * (compaction_dirs[i]); compaction_data_path is the lake's. */
	struct pl_compaction *compactions;
	size_t ncompactions;
	char **compaction_dirs;
	char *compaction_data_path;
	char *author, *commit_message, *commit_extra_info;
	pl_strv written; /* full paths of the files written for this txn, removed if it fails */
	bool outcome_unknown; /* set by pl_commit: the files must stay (the commit may have landed) */
	pl_txn_pending pending; /* work that must finish before the catalog commit */
	pl_retry_policy retry; /* pl_commit / pl_commit_many: the first txn's policy applies */
} pl_txn;

bool pl_txn_is_empty(const pl_txn *txn);
/* Drops txn's compaction i; with remove_file its written file goes too (and leaves txn->written). */
void pl_txn_drop_compaction(pl_txn *txn, size_t i, bool remove_file);
/* Drops txn's compactions of tables `by` touches, removing their files (with by NULL: every
 * compaction, keeping the files, as pl_txn_dispose does); returns how many. */
size_t pl_txn_drop_compactions(pl_txn *txn, const pl_txn *by);
/* Whether txn changes table id (its rows, files, columns, partitioning, sort order, tags, or
 * drops it). */
bool pl_txn_touches_table(const pl_txn *txn, int64_t id);
/* Finishes txn->pending (nothing when none); pl_commit calls it before committing, and
 * pl_txn_remove_written / pl_txn_dispose before anything else. */
int pl_txn_finish_pending(pl_txn *txn, pl_err *err);
void pl_new_columns_free(pl_new_column *cols, size_t n);
/* Removes the files listed in txn->written (the statement or transaction failed), unless the
 * commit's outcome is unknown: then they may belong to a committed snapshot and stay. */
void pl_txn_remove_written(pl_txn *txn);
void pl_txn_dispose(pl_txn *txn);
/* Appends (zeroed) entries; return a pointer to the new element or NULL on OOM. */
pl_new_schema *pl_txn_add_schema(pl_txn *txn);
pl_new_table *pl_txn_add_table(pl_txn *txn);
pl_new_file *pl_txn_add_file(pl_txn *txn);
/* Frees what a new file row owns (statistics, path, partition values); the struct stays. */
void pl_new_file_clear(pl_new_file *f);
/* Frees what a new delete file row owns (paths, format); the struct stays. */
void pl_new_delete_clear(pl_new_delete *d);
pl_dropped *pl_txn_add_dropped_table(pl_txn *txn);
pl_dropped *pl_txn_add_dropped_schema(pl_txn *txn);
pl_new_delete *pl_txn_add_delete(pl_txn *txn);
pl_ended_file *pl_txn_add_ended_file(pl_txn *txn);
pl_inlined_delete *pl_txn_add_inlined_delete(pl_txn *txn);
pl_inlined_insert *pl_txn_add_inlined_insert(pl_txn *txn);
pl_inlined_flush *pl_txn_add_flush(pl_txn *txn);
pl_inlined_file_delete *pl_txn_add_file_delete(pl_txn *txn);
void pl_inlined_insert_dispose(pl_inlined_insert *ins);
pl_alter *pl_txn_add_alter(pl_txn *txn);
pl_new_view *pl_txn_add_view(pl_txn *txn);
pl_dropped *pl_txn_add_dropped_view(pl_txn *txn);
pl_new_macro *pl_txn_add_macro(pl_txn *txn);
pl_dropped_macro *pl_txn_add_dropped_macro(pl_txn *txn);
pl_tag *pl_txn_add_tag(pl_txn *txn);
pl_new_partition *pl_txn_add_partition(pl_txn *txn);
pl_new_sort *pl_txn_add_sort(pl_txn *txn);
pl_new_namemap *pl_txn_add_namemap(pl_txn *txn);

/* Transaction-local ids: objects created by a statement of a transaction that has not committed. */
#define PL_LOCAL_ID_BASE ((int64_t)1 << 60)
/* Row ids of rows a transaction inserted, as its own statements see them before COMMIT (DuckLake's
 * transaction-local row ids: 10^18 and up, in the order the rows were written, per table); COMMIT
 * gives them the table's next row ids. */
#define PL_TXN_ROW_ID_BASE ((int64_t)1000000000000000000LL)

/* A field rewritten by the commit: it held local id `local` and now holds `real`. `defines`
 * marks the object's own id (the pair maps local to real); the rest are references. */
typedef struct pl_id_fix {
	int64_t *field;
	int64_t local, real;
	bool defines;
} pl_id_fix;

/* A commit in progress: the snapshot it will create and the id counters. */
typedef struct pl_commit_state {
	int64_t base;     /* snapshot the changes were planned on */
	int64_t snapshot; /* the new snapshot id */
	int64_t schema_version, next_catalog_id, next_file_id;
	bool ddl, snapshot_written;
	bool outcome_unknown; /* the connection died during COMMIT and the outcome could not be read */
	pl_buf changes;   /* changes_made text */
	pl_id_fix *fixes; /* local ids replaced so far; an abort puts them back for a retry */
	size_t nfixes, capfixes;
	uint64_t gen_before; /* pl_catdb_generation() before the catalog transaction began */
	int64_t latest_schema_version; /* the latest snapshot's, as read when the transaction began */
	pl_noted_stats *stats;         /* table statistics rows as written (for the commit's note) */
	size_t nstats, capstats;
	bool stats_oom;                /* one could not be noted: no note */
	char time[32];                 /* the snapshot's time as written */
	size_t delete_files;           /* delete file rows written */
	pl_rows *files;                /* data file rows written, as a model reads them (for the note) */
} pl_commit_state;

/* The steps of a commit: begin opens the catalog transaction (waiting for other writers) and
 * reads the latest snapshot; each apply checks conflicts since base and writes one statement's
 * changes into the same new snapshot; finish commits it (with the optional author and message);
 * abort rolls everything back and restores the local ids the applies replaced. */
int pl_commit_begin(pl_catdb *db, int64_t base, pl_commit_state *st, pl_err *err);
int pl_commit_apply(pl_catdb *db, pl_txn *txn, pl_commit_state *st, bool *real_conflict, pl_err *err);
int pl_commit_finish(pl_catdb *db, pl_commit_state *st, const char *author, const char *message,
		     const char *extra, pl_err *err);
void pl_commit_abort(pl_catdb *db, pl_commit_state *st);

/* Commits txn on top of the catalog in one go, retrying lost races; *snapshot_out receives the
 * new snapshot id. */
int pl_commit(pl_catdb *db, pl_txn *txn, int64_t base_snapshot, int64_t *snapshot_out, pl_err *err);
/* Commits the n statements' changes of a transaction (in order, later ones referring to objects
 * of earlier ones by local ids) as one snapshot planned on base, with the transaction's author
 * and message, retrying lost races like pl_commit. Each txn's pending work is finished first. On
 * failure *outcome_unknown tells whether the snapshot may have landed (keep the files). */
int pl_commit_many(pl_catdb *db, pl_txn *txns, size_t n, int64_t base, const char *author,
		   const char *message, const char *extra, int64_t *snapshot_out, bool *outcome_unknown,
		   pl_err *err);

/* For the commit's helpers (catalog/inline.c): records a change ("kind:id") in the snapshot's
 * changes_made, once; replaces a local id held by *field by the id its creator was given. */
void pl_commit_note_change(pl_commit_state *st, const char *kind, int64_t id);
int pl_commit_map_local(pl_commit_state *st, int64_t *field, pl_err *err);
/* Adds `rows` rows to table_id's statistics (record count, next row id) and merges the column
 * statistics `stats` (nstats) into its column statistics; *row_id_start receives the first row
 * id of the new rows. */
int pl_commit_add_table_rows(pl_catdb *db, pl_commit_state *st, int64_t table_id, const pl_column_stats *stats,
			     size_t nstats, int64_t rows, int64_t *row_id_start, pl_err *err);
/* The same for new versions of existing rows: the next row id stays. */
int pl_commit_add_table_versions(pl_catdb *db, pl_commit_state *st, int64_t table_id, const pl_column_stats *stats,
				 size_t nstats, int64_t rows, pl_err *err);

/* Compares two statistics values of a DuckLake type: <0, 0, >0. */
int pl_stats_compare(const char *type, const char *a, const char *b);

#endif
