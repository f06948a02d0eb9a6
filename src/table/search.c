/*
 * search.c -- feeding a search index from a table's change feed (search.h). One query reads
 * the changes of the snapshot range in snapshot order, deletions of a snapshot before its
 * insertions (an update's old version ends where its new one begins), streamed chunk by chunk.
 */
#include "table/search.h"

#include <stdlib.h>
#include <string.h>

#include "core/objhooks.h"
#include "core/str.h"
#include "table/changes.h"

static const pl_column *top_column(const pl_table *t, const char *name)
{
	for (size_t i = 0; i < t->ntop; i++)
		if (strcmp(t->top[i]->name, name) == 0)
			return t->top[i];
	for (size_t i = 0; i < t->ntop; i++) /* as DuckDB resolves names: case-insensitively */
		if (pl_str_ieq(t->top[i]->name, name))
			return t->top[i];
	return NULL;
}

int pl_search_check_columns(const pl_table *t, const pl_search_def *def, pl_err *err)
{
	const char *need[2] = {def->text_column, def->id_column};
	for (size_t i = 0; i < 2; i++)
		if (!top_column(t, need[i]))
			return pl_err_set(err, PL_ENOTFOUND, "table \"%s\" has no column \"%s\"", t->name, need[i]);
	for (size_t i = 0; i < def->nmetadata; i++)
		if (!top_column(t, def->metadata_columns[i]))
			return pl_err_set(err, PL_ENOTFOUND, "table \"%s\" has no column \"%s\"", t->name,
					  def->metadata_columns[i]);
	if (def->vector_column) {
		const pl_column *c = top_column(t, def->vector_column);
		if (!c)
			return pl_err_set(err, PL_ENOTFOUND, "table \"%s\" has no column \"%s\"", t->name, def->vector_column);
		const pl_column *e = c->nchildren == 1 ? c->children[0] : NULL;
		bool numeric = e && e->type &&
			       (strcmp(e->type, "float32") == 0 || strcmp(e->type, "float64") == 0 ||
				strncmp(e->type, "int", 3) == 0 || strncmp(e->type, "decimal", 7) == 0);
		if (!(strcmp(c->type, "list") == 0 || strcmp(c->type, "array") == 0) || !numeric)
			return pl_err_set(err, PL_EINVALID,
					  "the vector column \"%s\" must be a list of numbers (FLOAT[]), not %s",
					  def->vector_column, c->type);
	}
	return 0;
}

static void put_col(pl_buf *q, const pl_table *t, const char *name)
{
	const pl_column *c = top_column(t, name);
	pl_buf_put_ident(q, c ? c->name : name);
}

/* SELECT rowid, snapshot_id, deleted, id, text, metadata[, vector] FROM (changes) ORDER BY ... */
static int feed_sql(pl_buf *q, const pl_table_ctx *ctx, const pl_model *m, const pl_table *t,
		    const pl_search_def *def, int64_t from, int64_t to, pl_err *err)
{
	pl_buf_puts(q, "SELECT rowid, snapshot_id, change_type IN ('delete', 'update_preimage') AS deleted, CAST(");
	put_col(q, t, def->id_column);
	pl_buf_puts(q, " AS VARCHAR), CAST(");
	put_col(q, t, def->text_column);
	pl_buf_puts(q, " AS VARCHAR), ");
	if (def->nmetadata == 0) {
		pl_buf_puts(q, "'{}'");
	} else {
		pl_buf_puts(q, "CAST(json_object(");
		for (size_t i = 0; i < def->nmetadata; i++) {
			if (i)
				pl_buf_puts(q, ", ");
			pl_buf_put_literal(q, def->metadata_columns[i]);
			pl_buf_puts(q, ", ");
			put_col(q, t, def->metadata_columns[i]);
		}
		pl_buf_puts(q, ") AS VARCHAR)");
	}
	if (def->vector_column) {
		pl_buf_puts(q, ", CAST(");
		put_col(q, t, def->vector_column);
		pl_buf_puts(q, " AS FLOAT[])");
	}
	pl_buf_puts(q, " FROM (");
	int rc = pl_changes_sql(q, ctx->cat, ctx->lake, m, t, from, to, PL_CHANGES_ALL, err);
	pl_buf_puts(q, ") AS __planar_feed ORDER BY snapshot_id, deleted DESC, rowid");
	return rc == 0 && pl_buf_oom(q) ? pl_err_nomem(err) : rc;
}

/* A VARCHAR cell as a NUL-terminated string in *buf (NULL for SQL NULL). */
static const char *cell_text(duckdb_vector v, uint64_t *valid, idx_t row, pl_buf *buf)
{
	if (valid && !duckdb_validity_row_is_valid(valid, row))
		return NULL;
	duckdb_string_t *s = (duckdb_string_t *)duckdb_vector_get_data(v) + row;
	pl_buf_truncate(buf, 0);
	pl_buf_put(buf, duckdb_string_t_data(s), duckdb_string_t_length(*s));
	return pl_buf_cstr(buf);
}

static int apply_chunk(duckdb_data_chunk chunk, const pl_search_def *def, pl_tindex *x, pl_buf bufs[3],
		       float **vec, size_t *vec_cap, pl_err *err)
{
	idx_t n = duckdb_data_chunk_get_size(chunk);
	duckdb_vector vrow = duckdb_data_chunk_get_vector(chunk, 0), vsnap = duckdb_data_chunk_get_vector(chunk, 1),
		      vdel = duckdb_data_chunk_get_vector(chunk, 2), vid = duckdb_data_chunk_get_vector(chunk, 3),
		      vtext = duckdb_data_chunk_get_vector(chunk, 4), vmeta = duckdb_data_chunk_get_vector(chunk, 5);
	const int64_t *rowids = duckdb_vector_get_data(vrow), *snaps = duckdb_vector_get_data(vsnap);
	const bool *del = duckdb_vector_get_data(vdel);
	uint64_t *vid_ok = duckdb_vector_get_validity(vid), *vtext_ok = duckdb_vector_get_validity(vtext),
		 *vmeta_ok = duckdb_vector_get_validity(vmeta);
	duckdb_vector vvec = def->vector_column ? duckdb_data_chunk_get_vector(chunk, 6) : NULL;
	const duckdb_list_entry *lists = vvec ? duckdb_vector_get_data(vvec) : NULL;
	uint64_t *vvec_ok = vvec ? duckdb_vector_get_validity(vvec) : NULL;
	const float *floats = vvec ? duckdb_vector_get_data(duckdb_list_vector_get_child(vvec)) : NULL;
	uint64_t *floats_ok = vvec ? duckdb_vector_get_validity(duckdb_list_vector_get_child(vvec)) : NULL;
	for (idx_t r = 0; r < n; r++) {
		if (del[r]) {
			pl_tindex_delete(x, rowids[r], snaps[r]);
			continue;
		}
		pl_tdoc d = {rowids[r], snaps[r], cell_text(vid, vid_ok, r, &bufs[0]), cell_text(vtext, vtext_ok, r, &bufs[1]),
			     cell_text(vmeta, vmeta_ok, r, &bufs[2]), NULL, 0};
		if (vvec && (!vvec_ok || duckdb_validity_row_is_valid(vvec_ok, r))) {
			duckdb_list_entry e = lists[r];
			if (e.length > *vec_cap) {
				float *p = realloc(*vec, e.length * sizeof(float));
				if (!p)
					return pl_err_nomem(err);
				*vec = p;
				*vec_cap = e.length;
			}
			bool ok = true;
			for (idx_t k = 0; k < e.length; k++) {
				ok = ok && (!floats_ok || duckdb_validity_row_is_valid(floats_ok, e.offset + k));
				(*vec)[k] = floats[e.offset + k];
			}
			if (ok && e.length > 0) {
				d.vec = *vec;
				d.vec_len = e.length;
			}
		}
		if (pl_buf_oom(&bufs[0]) || pl_buf_oom(&bufs[1]) || pl_buf_oom(&bufs[2]))
			return pl_err_nomem(err);
		int rc = pl_tindex_add(x, &d, err);
		if (rc)
			return rc;
	}
	return 0;
}

int pl_search_catchup(const pl_table_ctx *ctx, const pl_model *m, const pl_table *t, const pl_search_def *def,
		      pl_tindex *x, int64_t from, int64_t to, size_t *rows, pl_err *err)
{
	*rows = 0;
	if (from > to)
		return 0;
	int rc = pl_search_check_columns(t, def, err);
	if (rc)
		return pl_err_wrap(err, "the search index of \"%s\" no longer matches the table", t->name);
	pl_buf q = PL_BUF_INIT;
	rc = feed_sql(&q, ctx, m, t, def, from, to, err);
	if (rc == 0) /* an S3 lake's files the feed reads: fetched first */
		rc = pl_objhook_ensure_sql(q.ptr, err);
	duckdb_prepared_statement ps = NULL;
	duckdb_result res;
	bool have_res = false;
	if (rc == 0 && duckdb_prepare(ctx->con, q.ptr, &ps) == DuckDBError)
		rc = pl_err_set(err, PL_ERROR, "cannot read the changes of \"%s\": %s", t->name, duckdb_prepare_error(ps));
	if (rc == 0) {
		have_res = true;
		if (duckdb_execute_prepared_streaming(ps, &res) == DuckDBError)
			rc = pl_engine_result_error(&res, err);
	}
	pl_buf bufs[3] = {PL_BUF_INIT, PL_BUF_INIT, PL_BUF_INIT};
	float *vec = NULL;
	size_t vec_cap = 0;
	while (rc == 0) {
		duckdb_data_chunk chunk = duckdb_fetch_chunk(res);
		if (!chunk) {
			if (duckdb_result_error(&res))
				rc = pl_engine_result_error(&res, err);
			break;
		}
		*rows += duckdb_data_chunk_get_size(chunk);
		rc = apply_chunk(chunk, def, x, bufs, &vec, &vec_cap, err);
		duckdb_destroy_data_chunk(&chunk);
	}
	if (have_res)
		duckdb_destroy_result(&res);
	duckdb_destroy_prepare(&ps);
	for (int i = 0; i < 3; i++)
		pl_buf_dispose(&bufs[i]);
	free(vec);
	pl_buf_dispose(&q);
	return rc;
}
