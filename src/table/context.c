/*
 * context.c -- the context of a table operation (see context.h).
 */
#include "table/context.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/inline.h"
#include "catalog/options.h"
#include "catalog/upkeep.h"
#include "core/str.h"

void pl_table_temp_name(const pl_table_ctx *ctx, const char *what, char out[64])
{
	snprintf(out, 64, "__planar_%s_%lu", what, ++*ctx->tmp_seq);
}

void pl_table_drop_temp(const pl_table_ctx *ctx, const char *kind, const char *name)
{
	pl_buf q = PL_BUF_INIT;
	pl_err ignored;
	pl_buf_printf(&q, "DROP %s IF EXISTS temp.main.", kind);
	pl_buf_put_ident(&q, name);
	if (!pl_buf_oom(&q))
		pl_engine_exec(ctx->con, q.ptr, &ignored);
	pl_buf_dispose(&q);
}

bool pl_table_release(const pl_table_ctx *ctx)
{
	return ctx->release ? ctx->release(ctx->arg) : false;
}

void pl_table_reacquire(const pl_table_ctx *ctx, bool released)
{
	if (ctx->reacquire)
		ctx->reacquire(ctx->arg, released);
}

int pl_table_read_failed(const pl_table_ctx *ctx, int64_t snapshot, int rc, pl_err *err)
{
	bool exists = true;
	pl_err ignored = {0};
	if (rc != PL_EIO || !ctx->cat || pl_upkeep_snapshot_exists(ctx->cat, snapshot, &exists, &ignored) != 0 || exists)
		return rc;
	return pl_err_set(err, PL_ECONFLICT,
			  "conflict: snapshot %lld, which this statement read, was expired and its files removed meanwhile "
			  "(ducklake_expire_snapshots and ducklake_cleanup_old_files); retry the statement",
			  (long long)snapshot);
}

int pl_table_option(const pl_table_ctx *ctx, const pl_table *t, const char *key, char **out, pl_err *err)
{
	return pl_catalog_option(ctx->cat, t ? t->id : -1, t ? t->schema_id : -1, key, out, err);
}

static int size_option(const pl_table_ctx *ctx, const char *key, const char *v, const char *example, int64_t *out,
		       pl_err *err)
{
	if (v && !pl_parse_byte_size(v, out))
		return pl_err_set(err, PL_EINVALID, "lake option %s is '%s', not a size such as '%s'; set it again with "
				  "CALL %s.set_option('%s', '%s')", key, v, example, ctx->lake, key, example);
	return 0;
}

static int inline_limit_of(const pl_table_ctx *ctx, const char *v, int64_t *out, pl_err *err)
{
	*out = ctx->inline_limit_set		 ? ctx->inline_limit
	       : ctx->default_inline_limit_set ? ctx->default_inline_limit
					       : PL_INLINE_DEFAULT_LIMIT;
	if (v && !pl_inline_parse_limit(v, out))
		return pl_err_set(err, PL_EINVALID, "lake option %s is '%s', not a row count such as '10'; set it "
				  "again with CALL %s.set_option('%s', 10)", PL_INLINE_OPTION, v, ctx->lake,
				  PL_INLINE_OPTION);
	return 0;
}

int pl_table_inline_limit(const pl_table_ctx *ctx, int64_t schema_id, int64_t *out, pl_err *err)
{
	char *v = NULL;
	int rc = pl_catalog_option(ctx->cat, -1, schema_id, PL_INLINE_OPTION, &v, err);
	if (rc == 0)
		rc = inline_limit_of(ctx, v, out, err);
	free(v);
	return rc;
}

/* Appends ", NAME value" to req's COPY options: value as a SQL string, or as a number when it is
 * all digits. */
static int copy_option(const pl_table_ctx *ctx, pl_write_request *req, const char *name, const char *key,
		       const char *v, const char *suffix, pl_err *err)
{
	pl_buf b = PL_BUF_INIT;
	pl_buf_printf(&b, "%s, %s ", req->copy_options, name);
	pl_buf_put_literal(&b, v);
	if (suffix) /* inside the literal: '1000 bytes' */
		pl_buf_insert_before_last(&b, suffix);
	int rc = pl_buf_oom(&b) ? pl_err_nomem(err) : 0;
	if (rc == 0 && b.len >= sizeof(req->copy_options))
		rc = pl_err_set(err, PL_EINVALID, "lake option %s is too long ('%s'); set it again with CALL %s.set_option",
				key, v, ctx->lake);
	if (rc == 0)
		memcpy(req->copy_options, b.ptr, b.len + 1);
	pl_buf_dispose(&b);
	return rc;
}

int pl_table_write_options(const pl_table_ctx *ctx, const pl_table *t, pl_write_request *req, int64_t *inline_limit,
			   pl_err *err)
{
	enum { TARGET, ROW_GROUP, CODEC, LEVEL, VERSION, GROUP_BYTES, PER_THREAD, HIVE, INLINE, NKEYS };
	static const char *const keys[NKEYS] = {"target_file_size", "parquet_row_group_size", "parquet_compression",
						"parquet_compression_level", "parquet_version",
						"parquet_row_group_size_bytes", "per_thread_output", "hive_file_pattern",
						PL_INLINE_OPTION};
	char *v[NKEYS] = {NULL};
	req->target_file_size = PL_DEFAULT_TARGET_FILE_SIZE;
	req->row_group_size = 0;
	req->copy_options[0] = '\0';
	req->flat_partitions = false;
	int rc = pl_catalog_options(ctx->cat, t ? t->id : -1, t ? t->schema_id : -1, keys, inline_limit ? NKEYS : INLINE,
				    v, err);
	if (rc == 0)
		rc = size_option(ctx, keys[TARGET], v[TARGET], "128MB", &req->target_file_size, err);
	if (rc == 0 && ctx->target_file_size_override > 0)
		req->target_file_size = ctx->target_file_size_override;
	if (rc == 0)
		rc = size_option(ctx, keys[ROW_GROUP], v[ROW_GROUP], "122880", &req->row_group_size, err);
	if (rc == 0 && v[CODEC])
		rc = copy_option(ctx, req, "COMPRESSION", keys[CODEC], v[CODEC], NULL, err);
	/* DuckDB takes a compression level for zstd only: a lake-wide level must not break a
	 * table of another codec */
	if (rc == 0 && v[LEVEL] && v[CODEC] && pl_str_ieq(v[CODEC], "zstd"))
		rc = copy_option(ctx, req, "COMPRESSION_LEVEL", keys[LEVEL], v[LEVEL], NULL, err);
	if (rc == 0 && v[VERSION])
		rc = copy_option(ctx, req, "PARQUET_VERSION", keys[VERSION], v[VERSION], NULL, err);
	if (rc == 0 && v[GROUP_BYTES])
		rc = copy_option(ctx, req, "ROW_GROUP_SIZE_BYTES", keys[GROUP_BYTES], v[GROUP_BYTES], " bytes", err);
	if (rc == 0 && v[PER_THREAD] && pl_str_ieq(v[PER_THREAD], "true"))
		rc = copy_option(ctx, req, "PER_THREAD_OUTPUT", keys[PER_THREAD], "true", NULL, err);
	req->flat_partitions = v[HIVE] && pl_str_ieq(v[HIVE], "false");
	if (rc == 0 && inline_limit)
		rc = inline_limit_of(ctx, v[INLINE], inline_limit, err);
	for (int i = 0; i < NKEYS; i++)
		free(v[i]);
	return rc;
}

/* The columns of inlined-data tables, which a table's own columns cannot be while it inlines. */
static bool reserved_for_inlining(const char *name)
{
	static const char *const reserved[] = {"row_id", "begin_snapshot", "end_snapshot",
					       "_ducklake_internal_snapshot_id", "_ducklake_internal_row_id"};
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (pl_str_ieq(name, reserved[i]))
			return true;
	return false;
}

int pl_table_check_inlining_on(const pl_table_ctx *ctx, const pl_model *m, const char *scope, int64_t scope_id,
			       pl_err *err)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < m->ntables; i++) {
		const pl_table *t = &m->tables[i];
		if (scope && strcmp(scope, "table") == 0 ? t->id != scope_id
		    : scope && strcmp(scope, "schema") == 0 ? t->schema_id != scope_id
							     : false)
			continue;
		const char *col = NULL;
		for (size_t c = 0; !col && c < t->ntop; c++)
			if (reserved_for_inlining(t->top[c]->name))
				col = t->top[c]->name;
		if (!col)
			continue;
		/* a narrower scope's own value decides for the table */
		char *own = NULL;
		bool table_scope = scope && strcmp(scope, "table") == 0;
		rc = table_scope ? 0 : pl_catalog_option_in_scope(ctx->cat, "data_inlining_row_limit", "table", t->id, &own, err);
		if (rc == 0 && !own && !scope)
			rc = pl_catalog_option_in_scope(ctx->cat, "data_inlining_row_limit", "schema", t->schema_id, &own, err);
		bool off = own && strtoll(own, NULL, 10) <= 0;
		free(own);
		if (rc == 0 && !off)
			rc = pl_err_set(err, PL_EINVALID,
					"Cannot enable data inlining for table \"%s\". Column \"%s\" conflicts with a reserved "
					"DuckLake internal column name used for inlining. To enable inlining for this table, "
					"rename or drop column \"%s\".",
					t->name, col, col);
	}
	return rc;
}

int pl_table_check_column_name(const pl_table_ctx *ctx, const pl_table *t, int64_t schema_id, const char *name,
			       pl_err *err)
{
	if (!reserved_for_inlining(name))
		return 0;
	int64_t limit = 0;
	pl_write_request req = {0};
	int rc = t ? pl_table_write_options(ctx, t, &req, &limit, err) : pl_table_inline_limit(ctx, schema_id, &limit, err);
	if (rc == 0 && limit > 0)
		rc = pl_err_set(err, PL_EINVALID,
				"Binder Error: Column name \"%s\" is reserved by DuckLake for internal use when data inlining is "
				"enabled. If you must use this column name, disable inlining by calling "
				"ducklake_set_option('data_inlining_row_limit', 0).",
				name);
	return rc;
}

int pl_table_write_sizes(const pl_table_ctx *ctx, const pl_table *t, pl_write_request *req, pl_err *err)
{
	return pl_table_write_options(ctx, t, req, NULL, err);
}
