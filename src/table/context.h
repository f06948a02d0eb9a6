/*
 * context.h -- what a table operation is given to run on: the session's engine connection (it
 * evaluates the user's expressions and holds the statement's temporary objects), the lake's
 * catalog and name, the deleted-row cache, and how to let other sessions go on during long I/O.
 * The table layer knows nothing of sessions or lakes: the statement side fills this in.
 */
#ifndef PL_TABLE_CONTEXT_H
#define PL_TABLE_CONTEXT_H

#include <stdbool.h>

#include "catalog/driver.h"
#include "catalog/model.h"
#include "engine/engine.h"
#include "table/delcache.h"
#include "table/emptyfile.h"
#include "table/writer.h"

/* A statement's source that reads rows coming in ordered parts: the source with `whole`
 * replaced by part[k] reads part k alone and needs nothing of the session's connection, so
 * that the parts can be written at the same time, part k > 0 on cons[k - 1] (table/insert.c). */
typedef struct pl_source_parts {
	char *whole;
	char **part;
	duckdb_connection *cons;
	size_t n;
} pl_source_parts;

typedef struct pl_table_ctx {
	duckdb_connection con;   /* the session's connection */
	duckdb_connection admin; /* loads deleted-row bitsets (pl_delcache) */
	pl_delcache *deletes;
	pl_catdb *cat;           /* the lake's catalog: options */
	const char *lake;        /* the lake's name, as its views and messages name it */
	unsigned long *tmp_seq;  /* numbers the session's temporary objects */
	/* Around the long part of an operation (running the user's query, writing files): release
	 * returns whether it let other sessions go on; afterwards the model the operation planned
	 * on may be older than the lake's. Either may be NULL (nothing to release). */
	bool (*release)(void *arg);
	void (*reacquire)(void *arg, bool released);
	void *arg;
	/* ATTACH's DATA_INLINING_ROW_LIMIT, when it was given (lake options override it). */
	bool inline_limit_set;
	int64_t inline_limit;
	/* The session's ducklake_default_data_inlining_row_limit (used when neither a lake option
	 * nor ATTACH gives a limit) and ducklake_target_file_size (> 0: overrides every lake
	 * option). */
	bool default_inline_limit_set;
	int64_t default_inline_limit;
	int64_t target_file_size_override;
	/* ATTACH's WRITE_DELETION_VECTORS: the default when no lake option sets it. */
	bool write_dv_default;
	/* Statements prepared on con that are run again with other values (NULL: none kept). */
	pl_stmt_cache *prepared;
	/* The statement's source comes in parts (NULL: it does not, or it is not to be split). */
	const pl_source_parts *parts;
	/* Unique to the session (NULL or empty: none): names the temporary file of a one-file
	 * write of bound values, the same each time (writer.h, pl_write_request.bound). */
	const char *scratch;
	/* Empty files of tables' columns (NULL: none), listed after a lone file read through field
	 * ids so that DuckDB reads it on every thread (emptyfile.h). */
	pl_empty_files *empty;
} pl_table_ctx;

/* Fresh name for a temporary object of the session: __planar_<what>_<n>. */
void pl_table_temp_name(const pl_table_ctx *ctx, const char *what, char out[64]);
/* Drops temp.main.<name> (kind "TABLE" or "VIEW") if it exists; errors are ignored. */
void pl_table_drop_temp(const pl_table_ctx *ctx, const char *kind, const char *name);
bool pl_table_release(const pl_table_ctx *ctx);
/* rc (an error) of a statement that read the lake's files as of snapshot: a conflict to retry
 * when it is PL_EIO and the snapshot was expired meanwhile (cleanup may have removed files it
 * read), else rc as it was. */
int pl_table_read_failed(const pl_table_ctx *ctx, int64_t snapshot, int rc, pl_err *err);
void pl_table_reacquire(const pl_table_ctx *ctx, bool released);
/* A lake option for table t (NULL: none): table scope, then schema scope, then global (NULL in
 * *out when unset). */
int pl_table_option(const pl_table_ctx *ctx, const pl_table *t, const char *key, char **out, pl_err *err);
/* Sets req's file and row-group sizes from the lake options target_file_size and
 * parquet_row_group_size for t (NULL: a table being created), else DuckLake's defaults; an
 * unparsable value is an error naming the option. */
int pl_table_write_sizes(const pl_table_ctx *ctx, const pl_table *t, pl_write_request *req, pl_err *err);
/* The data inlining row limit of a table to be created in schema schema_id (see below). */
int pl_table_inline_limit(const pl_table_ctx *ctx, int64_t schema_id, int64_t *out, pl_err *err);
/* The same, in the same catalog query, with t's data inlining row limit in *inline_limit: the
 * option data_inlining_row_limit (table, schema, global scope), else ATTACH's
 * DATA_INLINING_ROW_LIMIT, else DuckLake's default (catalog/inline.h). */
int pl_table_write_options(const pl_table_ctx *ctx, const pl_table *t, pl_write_request *req, int64_t *inline_limit,
			   pl_err *err);
/* A top-level column `name` for table t (NULL: a new table in schema schema_id): refused, as
 * DuckLake refuses it, when it is one of the columns of inlined-data tables (row_id,
 * begin_snapshot, end_snapshot, _ducklake_internal_*) and data inlining is on for the table. */
int pl_table_check_column_name(const pl_table_ctx *ctx, const pl_table *t, int64_t schema_id, const char *name,
			       pl_err *err);
/* Before data_inlining_row_limit is set above 0 in scope ("table", "schema" or NULL: the whole
 * lake) of scope_id: refused, as DuckLake refuses it, when a table of model m it would turn
 * inlining on for (no narrower setting of 0) has one of those column names. */
int pl_table_check_inlining_on(const pl_table_ctx *ctx, const pl_model *m, const char *scope, int64_t scope_id,
			       pl_err *err);

#endif
