/*
 * deletes.c -- positional delete files and deletion vectors (see deletes.h).
 */
#include "table/deletes.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "core/str.h"
#include "storage/dv.h"
#include "storage/fs.h"
#include "table/scan.h"

#define PL_FIELD_FILE_PATH 2147483646LL
#define PL_FIELD_POS 2147483645LL

/* (old positions UNION new positions) */
static void put_all_positions(pl_buf *q, const pl_delete_request *req)
{
	pl_buf_puts(q, "SELECT pos FROM (");
	pl_buf_puts(q, req->new_positions_sql);
	pl_buf_putc(q, ')');
	if (req->file->delete_path) {
		pl_buf_puts(q, " UNION SELECT pos FROM (");
		pl_scan_put_file_deletes(q, req->model, req->file);
		pl_buf_putc(q, ')');
	}
}

static int file_name(const char *dir, const char *ext, char **rel, char **full, pl_err *err)
{
	char uuid[PL_UUID_STRLEN + 1];
	int rc = pl_uuid_v7(uuid, err);
	if (rc)
		return rc;
	pl_buf r = PL_BUF_INIT, f = PL_BUF_INIT;
	pl_buf_printf(&r, "ducklake-%s-delete.%s", uuid, ext);
	pl_buf_printf(&f, "%s%s", dir, pl_buf_cstr(&r));
	*rel = pl_buf_detach(&r);
	*full = pl_buf_detach(&f);
	return *rel && *full ? 0 : pl_err_nomem(err);
}

static int write_parquet(const pl_delete_request *req, const char *full, pl_new_delete *out, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	duckdb_result res;
	/* the positions are sorted alone and the path added after: a sort that carried the path
	 * would copy it on every row */
	pl_buf_puts(&q, "COPY (SELECT ");
	pl_buf_put_literal(&q, req->file->path);
	pl_buf_puts(&q, " AS file_path, pos FROM (SELECT pos FROM (");
	put_all_positions(&q, req);
	pl_buf_puts(&q, ") ORDER BY pos)) TO ");
	pl_buf_put_literal(&q, full);
	pl_buf_printf(&q, " (FORMAT parquet, FIELD_IDS {file_path: %lld, pos: %lld}, RETURN_STATS true)",
		      PL_FIELD_FILE_PATH, PL_FIELD_POS);
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query(req->con, q.ptr, &res, err);
	pl_buf_dispose(&q);
	if (rc)
		return rc;
	out->delete_count = duckdb_value_int64(&res, 1, 0);
	out->file_size = duckdb_value_int64(&res, 2, 0);
	out->footer_size = duckdb_value_int64(&res, 3, 0);
	duckdb_destroy_result(&res);
	return 0;
}

/* The merged sorted lists a and b, without repeats. */
static uint64_t *merge_positions(const uint64_t *a, size_t na, const uint64_t *b, size_t nb, size_t *n)
{
	uint64_t *out = malloc((na + nb + 1) * sizeof(*out));
	size_t i = 0, j = 0, k = 0;
	while (out && (i < na || j < nb)) {
		uint64_t v = j >= nb || (i < na && a[i] <= b[j]) ? a[i] : b[j];
		i += i < na && a[i] == v;
		j += j < nb && b[j] == v;
		if (k == 0 || out[k - 1] != v)
			out[k++] = v;
	}
	*n = k;
	return out;
}

/* Every deleted position of the file, sorted: the request's new ones with the file's earlier
 * deletes. */
static int read_positions(const pl_delete_request *req, uint64_t **pos, size_t *n, pl_err *err)
{
	uint64_t *old = NULL;
	size_t nold = 0;
	int rc = 0;
	if (req->file->delete_path) {
		pl_buf q = PL_BUF_INIT;
		duckdb_result res;
		pl_buf_puts(&q, "SELECT pos FROM (");
		pl_scan_put_file_deletes(&q, req->model, req->file);
		pl_buf_puts(&q, ") ORDER BY pos");
		rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query(req->con, q.ptr, &res, err);
		pl_buf_dispose(&q);
		if (rc)
			return rc;
		nold = duckdb_row_count(&res);
		old = malloc((nold ? nold : 1) * sizeof(*old));
		for (size_t i = 0; old && i < nold; i++)
			old[i] = (uint64_t)duckdb_value_int64(&res, 0, i);
		duckdb_destroy_result(&res);
		if (!old)
			return pl_err_nomem(err);
	}
	*pos = merge_positions(old, nold, req->new_positions, req->nnew, n);
	free(old);
	return *pos ? 0 : pl_err_nomem(err);
}

static int write_dv(const pl_delete_request *req, const char *full, pl_new_delete *out, pl_err *err)
{
	uint64_t *pos = NULL;
	size_t n = 0, len = 0;
	unsigned char *blob = NULL;
	int rc = read_positions(req, &pos, &n, err);
	if (rc == 0)
		rc = pl_dv_encode(pos, n, &blob, &len, err);
	FILE *f = rc ? NULL : fopen(full, "wb");
	if (rc == 0 && !f)
		rc = pl_err_set(err, PL_EIO, "cannot create '%s': %s", full, strerror(errno));
	if (f) {
		if (fwrite(blob, 1, len, f) != len)
			rc = pl_err_set(err, PL_EIO, "cannot write '%s': %s", full, strerror(errno));
		if (fclose(f) != 0 && rc == 0)
			rc = pl_err_set(err, PL_EIO, "cannot write '%s': %s", full, strerror(errno));
	}
	out->delete_count = (int64_t)n;
	out->file_size = (int64_t)len;
	out->footer_size = 0;
	free(pos);
	free(blob);
	return rc;
}

int pl_deletes_write(const pl_delete_request *req, pl_new_delete *out, pl_err *err)
{
	char *rel = NULL, *full = NULL;
	const char *fmt = req->deletion_vector ? "puffin" : "parquet";
	if (req->deletion_vector ? req->nnew > 0 && !req->new_positions : !req->new_positions_sql)
		return pl_err_set(err, PL_ERROR, "internal error: a delete file without its new positions");
	int rc = file_name(req->table->dir, fmt, &rel, &full, err);
	/* a table of registered files only has no directory yet */
	if (rc == 0)
		rc = pl_fs_mkdirs(req->table->dir, err);
	if (rc == 0)
		rc = req->deletion_vector ? write_dv(req, full, out, err) : write_parquet(req, full, out, err);
	if (rc == 0 && pl_strv_push(req->written, full))
		rc = pl_err_nomem(err);
	if (rc == 0) {
		out->table_id = req->table->id;
		out->data_file_id = req->file->id;
		out->replaces = req->file->delete_path ? req->file->delete_id : -1;
		out->path = rel;
		out->format = pl_strdup(fmt);
		rel = NULL;
		if (!out->format)
			rc = pl_err_nomem(err);
	} else if (full) {
		pl_err ignored;
		pl_fs_remove(full, &ignored);
	}
	free(rel);
	free(full);
	return rc;
}
