/*
 * result.c -- planar_result: wrapping a DuckDB result (materialized or streaming), its columns,
 * the row accessors of materialized results and the per-chunk text caches (see session.h).
 * Only the chunk API is used on DuckDB results: DuckDB disables its per-value functions once a
 * result has been read by chunks. The chunk cursor and typed accessors are in result_chunk.c,
 * the conversion of values DuckDB must format itself in stream.c (pl_result_convert).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "sql/session.h"

static planar_type type_id_of(duckdb_type t)
{
	switch (t) {
	case DUCKDB_TYPE_BOOLEAN: return PLANAR_TYPE_BOOLEAN;
	case DUCKDB_TYPE_TINYINT: return PLANAR_TYPE_TINYINT;
	case DUCKDB_TYPE_SMALLINT: return PLANAR_TYPE_SMALLINT;
	case DUCKDB_TYPE_INTEGER: return PLANAR_TYPE_INTEGER;
	case DUCKDB_TYPE_BIGINT: return PLANAR_TYPE_BIGINT;
	case DUCKDB_TYPE_HUGEINT: return PLANAR_TYPE_HUGEINT;
	case DUCKDB_TYPE_UTINYINT: return PLANAR_TYPE_UTINYINT;
	case DUCKDB_TYPE_USMALLINT: return PLANAR_TYPE_USMALLINT;
	case DUCKDB_TYPE_UINTEGER: return PLANAR_TYPE_UINTEGER;
	case DUCKDB_TYPE_UBIGINT: return PLANAR_TYPE_UBIGINT;
	case DUCKDB_TYPE_UHUGEINT: return PLANAR_TYPE_UHUGEINT;
	case DUCKDB_TYPE_FLOAT: return PLANAR_TYPE_FLOAT;
	case DUCKDB_TYPE_DOUBLE: return PLANAR_TYPE_DOUBLE;
	case DUCKDB_TYPE_DECIMAL: return PLANAR_TYPE_DECIMAL;
	case DUCKDB_TYPE_VARCHAR: return PLANAR_TYPE_VARCHAR;
	case DUCKDB_TYPE_BLOB: return PLANAR_TYPE_BLOB;
	case DUCKDB_TYPE_DATE: return PLANAR_TYPE_DATE;
	case DUCKDB_TYPE_TIME: return PLANAR_TYPE_TIME;
	case DUCKDB_TYPE_TIME_TZ: return PLANAR_TYPE_TIME_TZ;
	case DUCKDB_TYPE_TIMESTAMP: return PLANAR_TYPE_TIMESTAMP;
	case DUCKDB_TYPE_TIMESTAMP_TZ: return PLANAR_TYPE_TIMESTAMP_TZ;
	case DUCKDB_TYPE_TIMESTAMP_S: return PLANAR_TYPE_TIMESTAMP_S;
	case DUCKDB_TYPE_TIMESTAMP_MS: return PLANAR_TYPE_TIMESTAMP_MS;
	case DUCKDB_TYPE_TIMESTAMP_NS: return PLANAR_TYPE_TIMESTAMP_NS;
	case DUCKDB_TYPE_INTERVAL: return PLANAR_TYPE_INTERVAL;
	case DUCKDB_TYPE_UUID: return PLANAR_TYPE_UUID;
	case DUCKDB_TYPE_ENUM: return PLANAR_TYPE_ENUM;
	case DUCKDB_TYPE_LIST: return PLANAR_TYPE_LIST;
	case DUCKDB_TYPE_STRUCT: return PLANAR_TYPE_STRUCT;
	case DUCKDB_TYPE_MAP: return PLANAR_TYPE_MAP;
	case DUCKDB_TYPE_ARRAY: return PLANAR_TYPE_ARRAY;
	case DUCKDB_TYPE_UNION: return PLANAR_TYPE_UNION;
	case DUCKDB_TYPE_INVALID: return PLANAR_TYPE_INVALID;
	default: return PLANAR_TYPE_OTHER;
	}
}

static int index_chunks(planar_result *r)
{
	r->nchunks = duckdb_result_chunk_count(r->res);
	r->chunk_start = calloc(r->nchunks + 1, sizeof(idx_t));
	if (!r->chunk_start)
		return PL_ENOMEM;
	for (idx_t i = 0; i < r->nchunks; i++) {
		duckdb_data_chunk c = duckdb_result_get_chunk(r->res, i);
		r->chunk_start[i + 1] = r->chunk_start[i] + (c ? duckdb_data_chunk_get_size(c) : 0);
		duckdb_destroy_data_chunk(&c);
	}
	return 0;
}

static int describe_columns(planar_result *r)
{
	size_t n = r->ncols + 1;
	r->names = calloc(n, sizeof(char *));
	r->types = calloc(n, sizeof(char *));
	r->duck_types = calloc(n, sizeof(duckdb_type));
	r->type_ids = calloc(n, sizeof(planar_type));
	r->dec_scale = calloc(n, 1);
	r->dec_internal = calloc(n, sizeof(duckdb_type));
	r->text = calloc(n, sizeof(pl_colcache));
	r->json = calloc(n, sizeof(pl_colcache));
	r->rowtext = calloc(n, sizeof(pl_colcache));
	if (!r->names || !r->types || !r->duck_types || !r->type_ids || !r->dec_scale || !r->dec_internal ||
	    !r->text || !r->json || !r->rowtext)
		return PL_ENOMEM;
	for (size_t i = 0; i < r->ncols; i++) {
		duckdb_logical_type t = duckdb_column_logical_type(&r->res, i);
		pl_buf b = PL_BUF_INIT;
		pl_engine_type_sql(&b, t);
		r->duck_types[i] = duckdb_get_type_id(t);
		r->type_ids[i] = type_id_of(r->duck_types[i]);
		if (r->duck_types[i] == DUCKDB_TYPE_DECIMAL) {
			r->dec_scale[i] = duckdb_decimal_scale(t);
			r->dec_internal[i] = duckdb_decimal_internal_type(t);
		}
		duckdb_destroy_logical_type(&t);
		r->types[i] = pl_buf_detach(&b);
		r->names[i] = pl_strdup(duckdb_column_name(&r->res, i));
		if (!r->types[i] || !r->names[i])
			return PL_ENOMEM;
	}
	return 0;
}

int pl_result_wrap(planar_result **out, planar_conn *conn, duckdb_result *res, pl_err *err)
{
	planar_result *r = calloc(1, sizeof(*r));
	if (!r) {
		duckdb_destroy_result(res);
		return pl_err_nomem(err);
	}
	r->res = *res;
	r->conn = conn;
	r->streaming = duckdb_result_is_streaming(r->res);
	r->rowtext_chunk = (idx_t)-1;
	r->ncols = duckdb_column_count(&r->res);
	bool oom = describe_columns(r) != 0 || (!r->streaming && index_chunks(r) != 0);
	if (oom) {
		planar_result_free(r);
		return pl_err_nomem(err);
	}
	*out = r;
	return 0;
}

int pl_result_from_sql(planar_result **out, planar_conn *conn, const char *sql, pl_err *err)
{
	duckdb_result res;
	int rc = pl_engine_query(conn->con, sql, &res, err);
	return rc ? rc : pl_result_wrap(out, conn, &res, err);
}

void pl_result_adopt_views(planar_result *res, pl_strv *views)
{
	if (!res || !res->streaming || views->len == 0)
		return;
	pl_strv_dispose(&res->views);
	res->views = *views;
	memset(views, 0, sizeof(*views));
}

/* ---- per-chunk caches ------------------------------------------------------------------------ */

int pl_colcache_reset(pl_colcache *c, size_t rows)
{
	c->ready = false;
	pl_buf_truncate(&c->data, 0);
	if (rows > c->cap) {
		size_t *off = realloc(c->off, rows * sizeof(size_t));
		if (!off)
			return PL_ENOMEM;
		c->off = off;
		size_t *len = realloc(c->len, rows * sizeof(size_t));
		if (!len)
			return PL_ENOMEM;
		c->len = len;
		c->cap = rows;
	}
	return 0;
}

void pl_colcache_set(pl_colcache *c, size_t row, const char *text, size_t len)
{
	if (!text) {
		c->off[row] = SIZE_MAX;
		c->len[row] = 0;
		return;
	}
	c->off[row] = c->data.len;
	c->len[row] = len;
	pl_buf_put(&c->data, text, len);
	pl_buf_putc(&c->data, '\0');
}

void pl_colcache_dispose(pl_colcache *c)
{
	free(c->off);
	free(c->len);
	pl_buf_dispose(&c->data);
	memset(c, 0, sizeof(*c));
}

/* ---- row access (materialized results) -------------------------------------------------------- */

static idx_t chunk_of(const planar_result *r, uint64_t row)
{
	idx_t lo = 0, hi = r->nchunks;
	while (hi - lo > 1) {
		idx_t mid = (lo + hi) / 2;
		if (r->chunk_start[mid] <= row)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* The text cell at (col,row), converting its chunk on first use (only one chunk's text is kept);
 * *failed on conversion error. */
static const char *cell(planar_result *r, size_t col, uint64_t row, bool *failed)
{
	*failed = false;
	if (!r || r->streaming || col >= r->ncols || row >= r->chunk_start[r->nchunks])
		return NULL;
	idx_t chunk = chunk_of(r, row);
	if (r->rowtext_chunk != chunk) {
		duckdb_data_chunk c = duckdb_result_get_chunk(r->res, chunk);
		size_t rows = (size_t)(r->chunk_start[chunk + 1] - r->chunk_start[chunk]);
		r->rowtext_chunk = (idx_t)-1;
		int rc = c ? pl_result_chunk_text(r, c, rows, r->rowtext, NULL, &r->err) : PL_ERROR;
		duckdb_destroy_data_chunk(&c);
		if (rc) {
			*failed = true;
			return NULL;
		}
		r->rowtext_chunk = chunk;
	}
	const pl_colcache *cc = &r->rowtext[col];
	size_t i = (size_t)(row - r->chunk_start[chunk]);
	return cc->off[i] == SIZE_MAX ? NULL : cc->data.ptr + cc->off[i];
}

char *planar_result_value_string(const planar_result *res, size_t col, uint64_t row)
{
	bool failed;
	const char *v = cell((planar_result *)res, col, row, &failed);
	return v ? pl_strdup(v) : NULL;
}

uint64_t planar_result_row_count(const planar_result *res)
{
	return res && !res->streaming ? res->chunk_start[res->nchunks] : 0;
}

bool planar_result_is_null(const planar_result *res, size_t col, uint64_t row)
{
	bool failed;
	return cell((planar_result *)res, col, row, &failed) == NULL;
}

/* ---- columns ---------------------------------------------------------------------------------- */

size_t planar_result_column_count(const planar_result *res)
{
	return res ? res->ncols : 0;
}

const char *planar_result_column_name(const planar_result *res, size_t col)
{
	return res && col < res->ncols ? res->names[col] : NULL;
}

const char *planar_result_column_type(const planar_result *res, size_t col)
{
	return res && col < res->ncols ? res->types[col] : NULL;
}

planar_type planar_result_column_type_id(const planar_result *res, size_t col)
{
	return res && col < res->ncols ? res->type_ids[col] : PLANAR_TYPE_INVALID;
}

bool planar_result_column_is_numeric(const planar_result *res, size_t col)
{
	return res && col < res->ncols && pl_engine_type_is_numeric(res->duck_types[col]);
}

bool planar_result_is_streaming(const planar_result *res)
{
	return res && res->streaming;
}

const char *planar_result_errmsg(const planar_result *res)
{
	return res ? res->err.msg : "no result";
}

void planar_result_free(planar_result *res)
{
	if (!res)
		return;
	if (res->conn && res->conn->stream == res)
		res->conn->stream = NULL;
	for (size_t i = 0; i < res->ncols; i++) {
		if (res->text)
			pl_colcache_dispose(&res->text[i]);
		if (res->json)
			pl_colcache_dispose(&res->json[i]);
		if (res->rowtext)
			pl_colcache_dispose(&res->rowtext[i]);
	}
	free(res->text);
	free(res->json);
	free(res->rowtext);
	if (res->cur)
		duckdb_destroy_data_chunk(&res->cur);
	free(res->chunk_start);
	duckdb_destroy_result(&res->res);
	if (res->prep)
		duckdb_destroy_prepare(&res->prep);
	/* The views may be read by the session until its next statement: dropped then. */
	for (size_t i = 0; res->conn && i < res->views.len; i++) {
		if (pl_strv_push(&res->conn->stale_views, res->views.items[i]))
			break;
	}
	pl_strv_dispose(&res->views);
	pl_strv_free(res->names);
	pl_strv_free(res->types);
	free(res->duck_types);
	free(res->type_ids);
	free(res->dec_scale);
	free(res->dec_internal);
	free(res);
}
