/*
 * flush.c -- writing a table's inlined rows to data files (see flush.h).
 *
 * The rows are read from the catalog as text (with row_id, begin_snapshot, end_snapshot), put
 * into a temporary table of the flush's own connection with DuckDB's appender, cast back to the
 * column types and copied into Parquet by the data file writer. The deleted rows' positions in
 * each written file are found by reading the file back and matching (row id, begin snapshot),
 * so they are right whatever order partitioning and sorting gave the rows.
 */
#include "table/flush.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog/inline.h"
#include "catalog/reads.h"
#include "core/ids.h"
#include "core/str.h"
#include "storage/dv.h"
#include "storage/fs.h"
#include "table/partition.h"
#include "table/scan.h"
#include "table/writer.h"
#include "storage/s3lake.h"

#define FIELD_FILE_PATH 2147483646LL
#define FIELD_POS 2147483645LL

/* The temporary table the rows go through: c0..c{n-1}, rid, bs, es, all VARCHAR. */
static int load_rows(duckdb_connection con, const char *name, const pl_rows *rows, size_t ncols, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	pl_buf_printf(&q, "CREATE OR REPLACE TEMP TABLE %s (", name);
	for (size_t c = 0; c < ncols; c++)
		pl_buf_printf(&q, "c%zu VARCHAR, ", c);
	pl_buf_puts(&q, "rid VARCHAR, bs VARCHAR, es VARCHAR)");
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_exec(con, q.ptr, err);
	pl_buf_dispose(&q);
	if (rc)
		return rc;
	duckdb_appender app = NULL;
	if (duckdb_appender_create_ext(con, "temp", "main", name, &app) == DuckDBError) {
		rc = pl_err_set(err, PL_ERROR, "cannot append the inlined rows: %s",
				app ? duckdb_appender_error(app) : "no appender");
		duckdb_appender_destroy(&app);
		return rc;
	}
	for (size_t r = 0; rc == 0 && r < rows->nrows; r++) {
		for (size_t c = 0; rc == 0 && c < rows->ncols; c++) {
			const char *v = pl_rows_get(rows, r, c);
			duckdb_state s = v ? duckdb_append_varchar(app, v) : duckdb_append_null(app);
			if (s == DuckDBError)
				rc = pl_err_set(err, PL_ERROR, "cannot append the inlined rows: %s", duckdb_appender_error(app));
		}
		if (rc == 0 && duckdb_appender_end_row(app) == DuckDBError)
			rc = pl_err_set(err, PL_ERROR, "cannot append the inlined rows: %s", duckdb_appender_error(app));
	}
	if (rc == 0 && duckdb_appender_close(app) == DuckDBError)
		rc = pl_err_set(err, PL_ERROR, "cannot append the inlined rows: %s", duckdb_appender_error(app));
	duckdb_appender_destroy(&app);
	return rc;
}

/* SELECT <columns cast to their types>, row id, begin snapshot FROM the rows, in the table's sort
 * order (keys: the latest table's sort expressions over cols' columns, or NULL), then row id and
 * snapshot. */
static char *source_sql(const char *tmp, const pl_table *cols, const pl_table *latest, char **keys, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	pl_buf_puts(&q, "SELECT ");
	for (size_t c = 0; c < cols->ntop; c++) {
		pl_buf type = PL_BUF_INIT;
		if (pl_scan_column_type(&type, cols->top[c], err)) {
			pl_buf_dispose(&q);
			return NULL;
		}
		pl_buf_printf(&q, "CAST(c%zu AS %s) AS ", c, type.ptr);
		pl_buf_put_ident(&q, cols->top[c]->name);
		pl_buf_puts(&q, ", ");
		pl_buf_dispose(&type);
	}
	pl_buf_printf(&q, "CAST(rid AS BIGINT) AS _ducklake_internal_row_id, CAST(bs AS BIGINT) AS "
			  "_ducklake_internal_snapshot_id FROM temp.main.%s",
		      tmp);
	char *base = pl_buf_detach(&q);
	if (!base) {
		pl_err_nomem(err);
		return NULL;
	}
	pl_buf_printf(&q, "SELECT * FROM (%s) AS __planar_sorted ORDER BY ", base);
	free(base);
	for (size_t k = 0; keys && k < latest->nsort_keys; k++)
		pl_buf_printf(&q, "%s %s NULLS %s, ", keys[k], latest->sort_keys[k].descending ? "DESC" : "ASC",
			      latest->sort_keys[k].nulls_first ? "FIRST" : "LAST");
	pl_buf_puts(&q, "_ducklake_internal_row_id, _ducklake_internal_snapshot_id");
	char *out = pl_buf_detach(&q);
	if (!out)
		pl_err_nomem(err);
	return out;
}

/* The columns of the inlined-data table's schema version: t's own when it has not changed since,
 * else t as of that version (*old, loaded, freed by the caller). When expiry removed that
 * version's snapshots, t with the columns it had then (*cols_at, read from the column history,
 * freed by the caller; *shape is t with those columns). */
static int version_columns(const pl_table_ctx *ctx, const pl_table *t, const pl_inlined_table *it, pl_model **old,
			   pl_table **cols_at, pl_table *shape, const pl_table **out, pl_err *err)
{
	int64_t snap = -1;
	*out = t;
	int rc = pl_inline_version_snapshot(ctx->cat, t->id, it->schema_version, &snap, err);
	if (rc || snap < 0 || snap >= t->schema_since)
		return rc;
	rc = pl_model_load(old, ctx->cat, snap, t->dir, err);
	if (rc == PL_ENOTFOUND) { /* the snapshot expired */
		rc = pl_model_columns_at(ctx->cat, t->id, snap, cols_at, err);
		if (rc == 0 && (*cols_at)->ntop > 0) {
			*shape = *t;
			shape->columns = (*cols_at)->columns;
			shape->ncolumns = (*cols_at)->ncolumns;
			shape->top = (*cols_at)->top;
			shape->ntop = (*cols_at)->ntop;
			*out = shape;
		}
		return rc;
	}
	const pl_table *v = rc == 0 ? pl_model_table_by_id(*old, t->id) : NULL;
	if (v && v->ntop > 0)
		*out = v;
	return rc;
}

/* count, min and max snapshot of the deleted rows of data file `path` (written now). */
static int deleted_rows_sql(pl_buf *q, const char *path, const char *tmp)
{
	pl_buf_puts(q, "SELECT d.file_row_number AS pos, CAST(r.es AS BIGINT) AS s FROM read_parquet(");
	pl_buf_put_literal(q, path);
	pl_buf_printf(q, ", file_row_number = true) AS d JOIN temp.main.%s AS r ON d._ducklake_internal_row_id = "
			 "CAST(r.rid AS BIGINT) AND d._ducklake_internal_snapshot_id = CAST(r.bs AS BIGINT) WHERE r.es "
			 "IS NOT NULL",
		      tmp);
	return pl_buf_oom(q) ? -1 : 0;
}

/* The delete file of txn->files[k] (written now, under t's directory): the positions of its rows
 * deleted before the flush, each with the snapshot that deleted it. Nothing when none was. */
static int write_deletes(const pl_table_ctx *ctx, const pl_table *t, pl_txn *txn, size_t k, const char *tmp,
			 pl_err *err)
{
	pl_buf data = PL_BUF_INIT, rows = PL_BUF_INIT, q = PL_BUF_INIT;
	duckdb_result res;
	pl_buf_printf(&data, "%s%s", t->dir, txn->files[k].path);
	int rc = pl_buf_oom(&data) || deleted_rows_sql(&rows, data.ptr, tmp) ? pl_err_nomem(err) : 0;
	int64_t count = 0, lo = -1, hi = -1;
	pl_buf_printf(&q, "SELECT count(*), min(s), max(s) FROM (%s)", pl_buf_cstr(&rows));
	if (rc == 0)
		rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query(ctx->con, q.ptr, &res, err);
	if (rc == 0) {
		count = duckdb_value_int64(&res, 0, 0);
		lo = duckdb_value_int64(&res, 1, 0);
		hi = duckdb_value_int64(&res, 2, 0);
		duckdb_destroy_result(&res);
	}
	pl_buf_dispose(&q);
	char uuid[PL_UUID_STRLEN + 1];
	if (rc == 0 && count > 0)
		rc = pl_uuid_v7(uuid, err);
	char *rel = NULL;
	pl_buf full = PL_BUF_INIT;
	if (rc == 0 && count > 0) {
		pl_buf r = PL_BUF_INIT;
		pl_buf_printf(&r, "ducklake-%s-delete.parquet", uuid);
		pl_buf_printf(&full, "%s%s", t->dir, pl_buf_cstr(&r));
		rel = pl_buf_detach(&r);
		pl_buf_puts(&q, "COPY (SELECT ");
		pl_buf_put_literal(&q, data.ptr);
		pl_buf_printf(&q, " AS file_path, pos, s AS _ducklake_internal_snapshot_id FROM (%s) ORDER BY pos) TO ",
			      pl_buf_cstr(&rows));
		pl_buf_put_literal(&q, pl_buf_cstr(&full));
		pl_buf_printf(&q, " (FORMAT parquet, FIELD_IDS {file_path: %lld, pos: %lld, _ducklake_internal_snapshot_id: "
				  "%lld}, RETURN_STATS true)",
			      FIELD_FILE_PATH, FIELD_POS, PL_SNAPSHOT_ID_FIELD);
		rc = !rel || pl_buf_oom(&full) || pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query(ctx->con, q.ptr, &res, err);
		if (rc == 0 && pl_strv_push(&txn->written, full.ptr)) {
			pl_err ignored;
			pl_fs_remove(full.ptr, &ignored);
			rc = pl_err_nomem(err);
		}
		pl_new_delete *d = NULL;
		if (rc == 0) {
			int64_t size = duckdb_value_int64(&res, 2, 0), footer = duckdb_value_int64(&res, 3, 0);
			duckdb_destroy_result(&res);
			rc = pl_fs_sync_file(full.ptr, err);
			d = rc == 0 ? pl_txn_add_delete(txn) : NULL;
			if (rc == 0 && !d)
				rc = pl_err_nomem(err);
			if (d) {
				d->table_id = t->id;
				d->data_file_id = -1;
				d->new_file = k + 1;
				d->path = rel;
				rel = NULL;
				d->format = pl_strdup("parquet");
				d->delete_count = count;
				d->file_size = size;
				d->footer_size = footer;
				d->replaces = -1;
				d->flushed = true;
				d->flush_begin = lo;
				d->flush_max = -1; /* as DuckDB's extension records it: NULL (see flush.h) */
				(void)hi;
				if (!d->format)
					rc = pl_err_nomem(err);
			}
		}
	}
	free(rel);
	pl_buf_dispose(&full);
	pl_buf_dispose(&q);
	pl_buf_dispose(&rows);
	pl_buf_dispose(&data);
	return rc;
}

/* One inlined-data table of t. */
static int flush_one(const pl_table_ctx *ctx, const pl_model *m, const pl_table *t, const pl_inlined_table *it,
		     pl_txn *txn, int64_t *rows_out, pl_err *err)
{
	pl_model *old = NULL;
	pl_table *cols_at = NULL, shape;
	const pl_table *cols = t;
	pl_strv specs = PL_STRV_INIT;
	pl_rows *rows = NULL;
	char tmp[64];
	static unsigned long seq;
	snprintf(tmp, sizeof(tmp), "__planar_flush_%lu", __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED));
	int rc = version_columns(ctx, t, it, &old, &cols_at, &shape, &cols, err);
	for (size_t c = 0; rc == 0 && c < cols->ntop; c++) {
		pl_buf b = PL_BUF_INIT;
		pl_scan_inlined_column(&b, cols->top[c]);
		rc = pl_buf_oom(&b) || pl_strv_push(&specs, b.ptr) ? pl_err_nomem(err) : 0;
		pl_buf_dispose(&b);
	}
	if (rc == 0)
		rc = pl_catalog_inlined_history(ctx->cat, it->name, m->snapshot_id, (const char *const *)specs.items,
						specs.len, &rows, err);
	if (rc || rows->nrows == 0) {
		pl_rows_free(rows);
		pl_strv_dispose(&specs);
		pl_model_free(old);
		pl_model_columns_free(cols_at);
		return rc;
	}
	pl_partition_write pw = {0};
	const pl_schema *sch = t->nsort_keys ? pl_model_schema_by_id(m, t->schema_id) : NULL;
	pl_write_request req = {.con = ctx->con, .dir = t->dir, .columns = {.table = cols}, .table_ref = t->id,
				.with_row_ids = true, .with_snapshot_ids = true, .flush = true, .partition = &pw,
				.use_db = sch ? ctx->lake : NULL, .use_schema = sch ? sch->name : NULL};
	rc = pl_table_write_sizes(ctx, t, &req, err); /* (the lake's options, from the catalog) */
	/* from here on only the flush's own connection and files: the rows are loaded and written
	 * without holding the lakes (ctx->release; m stays the caller's) */
	bool released = rc == 0 && pl_table_release(ctx);
	if (rc == 0)
		rc = load_rows(ctx->con, tmp, rows, cols->ntop, err);
	char **keys = NULL;
	if (rc == 0)
		rc = pl_sort_keys_for(ctx->con, t, cols, &keys, err);
	char *src = rc == 0 ? source_sql(tmp, cols, t, keys, err) : NULL;
	pl_strv_free(keys);
	if (rc == 0 && !src)
		rc = err->code ? err->code : pl_err_nomem(err);
	if (rc == 0)
		rc = pl_partition_write_plan(cols, &pw, err);
	req.source_sql = src;
	size_t first = txn->nfiles;
	int64_t written = 0;
	if (rc == 0)
		rc = pl_writer_write(&req, txn, &written, err);
	for (size_t k = first; rc == 0 && k < txn->nfiles; k++)
		rc = write_deletes(ctx, t, txn, k, tmp, err);
	pl_table_reacquire(ctx, released);
	pl_inlined_flush *f = rc == 0 ? pl_txn_add_flush(txn) : NULL;
	if (rc == 0 && (!f || !(f->inlined_table = pl_strdup(it->name))))
		rc = pl_err_nomem(err);
	if (f) {
		f->table_id = t->id;
		f->upto = m->snapshot_id;
	}
	if (rc == 0)
		*rows_out += written;
	pl_partition_write_dispose(&pw);
	free(src);
	pl_buf drop = PL_BUF_INIT;
	pl_err ignored;
	pl_buf_printf(&drop, "DROP TABLE IF EXISTS temp.main.%s", tmp);
	if (!pl_buf_oom(&drop))
		pl_engine_exec(ctx->con, drop.ptr, &ignored);
	pl_buf_dispose(&drop);
	pl_rows_free(rows);
	pl_strv_dispose(&specs);
	pl_model_free(old);
	pl_model_columns_free(cols_at);
	return rc;
}

/* ---- deletes kept in the catalog -> delete files ---------------------------------------------- */

static const pl_data_file *file_by_id(const pl_table *t, int64_t id)
{
	for (size_t i = 0; i < t->nfiles; i++)
		if (t->files[i].id == id)
			return &t->files[i];
	return NULL;
}

/* SELECT pos, s: the positions of f's current delete file with the snapshot of each (its own
 * tags, else the file's begin snapshot). */
static int existing_positions(const pl_table_ctx *ctx, const pl_data_file *f, pl_buf *out, pl_err *err)
{
	if (strcmp(f->delete_format, "puffin") == 0) {
		uint64_t *pos = NULL;
		size_t n = 0;
		int rc = pl_s3lake_ensure((const char *const *)&f->delete_path, 1, err); /* S3: cached */
		if (rc == 0)
			rc = pl_dv_read_file(f->delete_path, &pos, &n, err);
		pl_buf_puts(out, "SELECT CAST(NULL AS BIGINT) AS pos, CAST(NULL AS BIGINT) AS s WHERE false");
		for (size_t i = 0; rc == 0 && i < n; i++)
			pl_buf_printf(out, " UNION ALL SELECT %llu, %lld", (unsigned long long)pos[i], (long long)f->delete_begin);
		free(pos);
		return rc;
	}
	pl_buf q = PL_BUF_INIT;
	char *has = NULL;
	pl_buf_puts(&q, "SELECT count(*) FROM parquet_schema(");
	pl_buf_put_literal(&q, f->delete_path);
	pl_buf_puts(&q, ") WHERE name = '_ducklake_internal_snapshot_id'");
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query_value(ctx->con, q.ptr, &has, err);
	pl_buf_dispose(&q);
	if (rc)
		return rc;
	bool tagged = has && strcmp(has, "0") != 0;
	free(has);
	pl_buf_puts(out, "SELECT pos, ");
	if (tagged)
		pl_buf_puts(out, "_ducklake_internal_snapshot_id AS s");
	else
		pl_buf_printf(out, "CAST(%lld AS BIGINT) AS s", (long long)f->delete_begin);
	pl_buf_puts(out, " FROM read_parquet(");
	pl_buf_put_literal(out, f->delete_path);
	pl_buf_putc(out, ')');
	return 0;
}

/* One data file's deletes kept in the catalog (rows [from, to) of r: file_id, row_id, snapshot)
 * become a delete file that also holds its current delete file's positions, each with its
 * snapshot; it replaces that file's row. */
static int flush_file_deletes(const pl_table_ctx *ctx, const pl_table *t, const pl_data_file *f, const pl_rows *r,
			      size_t from, size_t to, pl_txn *txn, pl_err *err)
{
	pl_buf rows = PL_BUF_INIT, q = PL_BUF_INIT, full = PL_BUF_INIT;
	duckdb_result res;
	pl_buf_puts(&rows, "SELECT pos, s FROM (VALUES ");
	for (size_t k = from; k < to; k++)
		pl_buf_printf(&rows, "%s(CAST(%lld AS BIGINT), CAST(%lld AS BIGINT))", k > from ? ", " : "",
			      (long long)pl_rows_int(r, k, 1, -1), (long long)pl_rows_int(r, k, 2, -1));
	pl_buf_puts(&rows, ") AS v(pos, s)");
	int rc = 0;
	if (f->delete_path) {
		pl_buf_puts(&rows, " UNION ALL SELECT pos, s FROM (");
		rc = existing_positions(ctx, f, &rows, err);
		pl_buf_putc(&rows, ')');
	}
	char uuid[PL_UUID_STRLEN + 1];
	if (rc == 0)
		rc = pl_uuid_v7(uuid, err);
	char *rel = NULL;
	if (rc == 0) {
		pl_buf b = PL_BUF_INIT;
		pl_buf_printf(&b, "ducklake-%s-delete.parquet", uuid);
		pl_buf_printf(&full, "%s%s", t->dir, pl_buf_cstr(&b));
		rel = pl_buf_detach(&b);
		pl_buf_puts(&q, "COPY (SELECT ");
		pl_buf_put_literal(&q, f->path);
		pl_buf_printf(&q, " AS file_path, pos, min(s) AS _ducklake_internal_snapshot_id FROM (%s) GROUP BY pos "
				  "ORDER BY pos) TO ",
			      pl_buf_cstr(&rows));
		pl_buf_put_literal(&q, pl_buf_cstr(&full));
		pl_buf_printf(&q, " (FORMAT parquet, FIELD_IDS {file_path: %lld, pos: %lld, _ducklake_internal_snapshot_id: "
				  "%lld}, RETURN_STATS true)",
			      FIELD_FILE_PATH, FIELD_POS, PL_SNAPSHOT_ID_FIELD);
		rc = !rel || pl_buf_oom(&full) || pl_buf_oom(&q) ? pl_err_nomem(err) : pl_fs_mkdirs(t->dir, err);
		if (rc == 0)
			rc = pl_engine_query(ctx->con, q.ptr, &res, err);
		if (rc == 0 && pl_strv_push(&txn->written, full.ptr)) {
			pl_err ignored;
			pl_fs_remove(full.ptr, &ignored);
			duckdb_destroy_result(&res);
			rc = pl_err_nomem(err);
		}
	}
	int64_t count = 0, size = 0, footer = 0;
	if (rc == 0) {
		count = duckdb_value_int64(&res, 1, 0);
		size = duckdb_value_int64(&res, 2, 0);
		footer = duckdb_value_int64(&res, 3, 0);
		duckdb_destroy_result(&res);
		rc = pl_fs_sync_file(full.ptr, err);
	}
	int64_t lo = -1, hi = -1;
	pl_buf_truncate(&q, 0);
	pl_buf_printf(&q, "SELECT min(s), max(s) FROM (SELECT pos, min(s) AS s FROM (%s) GROUP BY pos)", pl_buf_cstr(&rows));
	if (rc == 0)
		rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query(ctx->con, q.ptr, &res, err);
	if (rc == 0) {
		lo = duckdb_value_int64(&res, 0, 0);
		hi = duckdb_value_int64(&res, 1, 0);
		duckdb_destroy_result(&res);
	}
	pl_new_delete *d = rc == 0 ? pl_txn_add_delete(txn) : NULL;
	if (rc == 0 && !d)
		rc = pl_err_nomem(err);
	if (d) {
		d->table_id = t->id;
		d->data_file_id = f->id;
		d->path = rel;
		rel = NULL;
		d->format = pl_strdup("parquet");
		d->delete_count = count;
		d->file_size = size;
		d->footer_size = footer;
		d->replaces = f->delete_path ? f->delete_id : -1;
		d->drop_replaced = true;
		d->flushed = true;
		d->flush_begin = lo;
		d->flush_max = hi;
		if (!d->format)
			rc = pl_err_nomem(err);
	}
	free(rel);
	pl_buf_dispose(&rows);
	pl_buf_dispose(&q);
	pl_buf_dispose(&full);
	return rc;
}

/* The deletes of t's files kept in the catalog become delete files; the catalog's rows go. */
static int flush_file_deletes_of(const pl_table_ctx *ctx, const pl_model *m, const pl_table *t, pl_txn *txn,
				 pl_err *err)
{
	pl_rows *r = NULL;
	int rc = pl_inline_file_deletes(ctx->cat, t->id, 0, m->snapshot_id, &r, err);
	if (rc || !r || r->nrows == 0) {
		pl_rows_free(r);
		return rc;
	}
	rc = pl_model_table_files(m, t, NULL, NULL, err);
	for (size_t i = 0, j; rc == 0 && i < r->nrows; i = j) {
		int64_t id = pl_rows_int(r, i, 0, -1);
		for (j = i + 1; j < r->nrows && pl_rows_int(r, j, 0, -1) == id; j++)
			;
		const pl_data_file *f = file_by_id(t, id);
		if (f) /* (a file that ended since needs none) */
			rc = flush_file_deletes(ctx, t, f, r, i, j, txn, err);
	}
	pl_rows_free(r);
	char name[64];
	snprintf(name, sizeof(name), "ducklake_inlined_delete_%lld", (long long)t->id);
	pl_inlined_flush *fl = rc == 0 ? pl_txn_add_flush(txn) : NULL;
	if (rc == 0 && (!fl || !(fl->inlined_table = pl_strdup(name))))
		rc = pl_err_nomem(err);
	if (fl) {
		fl->table_id = t->id;
		fl->upto = m->snapshot_id;
	}
	return rc;
}

int pl_flush_inlined(const pl_table_ctx *ctx, const pl_model *m, const pl_table *t, pl_txn *txn, int64_t *rows_out,
		     pl_err *err)
{
	*rows_out = 0;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < t->ninlined; i++)
		rc = flush_one(ctx, m, t, &t->inlined[i], txn, rows_out, err);
	if (rc == 0)
		rc = flush_file_deletes_of(ctx, m, t, txn, err);
	return rc;
}
