/*
 * writer.h -- writing data files: rows of a DuckDB relation become Parquet files in a table's
 * directory, written with DuckLake field ids (= column ids) and split at the target file size,
 * with the per-file statistics the catalog records (from COPY ... RETURN_STATS).
 *
 * DuckDB writes into a private staging directory that is removed afterwards (a write of a few
 * rows: into a temporary file beside the table's files), so a failed write (bad data, full
 * disk) leaves nothing behind; finished files are renamed into place and
 * fsync'd before this returns (pl_writer_write_deferred: before the catalog commits), and
 * listed in txn->written; the caller registers them in one commit and, if the commit fails,
 * removes them with pl_txn_remove_written().
 */
#ifndef PL_TABLE_WRITER_H
#define PL_TABLE_WRITER_H

#include "catalog/commit.h"
#include "catalog/model.h"
#include "engine/engine.h"
#include "table/partition.h"

/* The columns being written: a flat DuckLake column list (as in pl_new_table / pl_table). */
typedef struct pl_write_columns {
	const pl_new_column *cols; /* used when not NULL */
	size_t ncols;
	const pl_table *table;     /* used otherwise */
} pl_write_columns;

/* DuckLake's default target_file_size: larger writes are split into files of about this size. */
#define PL_DEFAULT_TARGET_FILE_SIZE (512LL * 1024 * 1024)

typedef struct pl_write_request {
	duckdb_connection con;
	const char *source_sql;    /* SELECT producing the rows, columns in table order */
	const char *dir;           /* table directory, ends in '/' */
	pl_write_columns columns;
	int64_t table_ref;         /* stored in each pl_new_file */
	int64_t target_file_size;  /* bytes */
	bool with_row_ids;         /* source's last column is _ducklake_internal_row_id (UPDATE) */
	int64_t row_group_size;    /* rows per Parquet row group; 0: DuckDB's default */
	/* Non-NULL with options: the table is partitioned (table/partition.h): one file per partition
	 * value under its partition directories, with the values recorded per file. */
	const pl_partition_write *partition;
	/* The lake's Parquet options (pl_table_write_options): further COPY options, each starting
	 * with ", " (compression, its level, Parquet version, row group bytes, per-thread output). */
	char copy_options[256];
	bool flat_partitions; /* hive_file_pattern false: partitioned files go in the table directory */
	/* source's last column (after the row ids, when both) is _ducklake_internal_snapshot_id: the
	 * snapshot each row was inserted at (files merged from several snapshots, flushed rows) */
	bool with_snapshot_ids;
	/* A flush of inlined rows (with row ids and snapshot ids): each file is marked flushed with
	 * the bounds of its rows' ids and snapshots (pl_new_file.flush_*). */
	bool flush;
	/* Non-NULL: the source runs with this lake schema current (use_db.use_schema), so that the
	 * names it does not qualify (a sort key's macro) are the table's schema's, as where DuckLake
	 * binds them. */
	const char *use_db, *use_schema;
	/* nparts > 1: the rows are those of part_sql[0], then part_sql[1], ... (SELECTs like
	 * source_sql, which is then not used), written at the same time: part 0 on con, part k on
	 * part_cons[k - 1]; the files of part k follow those of part k - 1. Not with partition
	 * options. */
	char *const *part_sql;
	duckdb_connection *part_cons;
	size_t nparts;
	/* The rows make one file at most (a few rows: one row group, which a file never splits):
	 * written straight to a temporary file beside the table's files and renamed into place,
	 * without a staging directory. Not with partition options or parts. */
	bool one_file;
	/* With one_file: the same rows as source_sql, as a SELECT whose literals are placeholders
	 * ($1..$n, bound to the texts of values), and the session's scratch name (ctx->scratch).
	 * The COPY then goes to dir/.planar-write-<scratch>.parquet, always the same text, and is
	 * prepared once in `prepared`; should it fail, the write runs source_sql as written. */
	struct {
		const char *sql;
		char *const *values;
		size_t nvalues;
		pl_stmt_cache *prepared;
		const char *scratch;
	} bound;
} pl_write_request;

/* Writes the files and appends one pl_new_file per non-empty file to txn. *rows_out = rows. */
int pl_writer_write(const pl_write_request *req, pl_txn *txn, int64_t *rows_out, pl_err *err);
/* The same, but the files are fsync'd by a background thread while the caller goes on, and
 * txn->pending waits for it: pl_commit does before the catalog commits, so the fsyncs overlap
 * the catalog statements. Only for a txn that pl_commit commits (not a multi-statement one). */
int pl_writer_write_deferred(const pl_write_request *req, pl_txn *txn, int64_t *rows_out, pl_err *err);

/* Appends the FIELD_IDS value of table t's columns ({a: 1, s: {__duckdb_field_id: 2, x: 3}, ...}),
 * as its data files are written with. */
void pl_writer_put_field_ids(pl_buf *b, const pl_table *t);

#endif
