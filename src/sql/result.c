/*
 * result.c -- planar_result: a materialized DuckDB result, its column names and types, and the
 * text of its values (see session.h). Text conversion goes through a temporary table on the
 * producing connection: one result chunk is appended to it and read back with CAST(... AS
 * VARCHAR), so nested types, time zones and decimals print exactly as DuckDB prints them.
 * Only the chunk API is used on the result: DuckDB disables its per-value functions once a
 * result has been read by chunks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "sql/session.h"

static int index_chunks(planar_result *r)
{
	r->nchunks = duckdb_result_chunk_count(r->res);
	r->chunk_start = calloc(r->nchunks + 1, sizeof(idx_t));
	r->chunk_text = calloc(r->nchunks + 1, sizeof(char **));
	if (!r->chunk_start || !r->chunk_text)
		return PL_ENOMEM;
	for (idx_t i = 0; i < r->nchunks; i++) {
		duckdb_data_chunk c = duckdb_result_get_chunk(r->res, i);
		r->chunk_start[i + 1] = r->chunk_start[i] + (c ? duckdb_data_chunk_get_size(c) : 0);
		duckdb_destroy_data_chunk(&c);
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
	r->con = conn->con;
	r->tmp_seq = &conn->tmp_seq;
	r->ncols = duckdb_column_count(&r->res);
	r->names = calloc(r->ncols + 1, sizeof(char *));
	r->types = calloc(r->ncols + 1, sizeof(char *));
	bool oom = !r->names || !r->types || index_chunks(r) != 0;
	for (size_t i = 0; !oom && i < r->ncols; i++) {
		duckdb_logical_type t = duckdb_column_logical_type(&r->res, i);
		pl_buf b = PL_BUF_INIT;
		pl_engine_type_sql(&b, t);
		duckdb_destroy_logical_type(&t);
		r->types[i] = pl_buf_detach(&b);
		r->names[i] = pl_strdup(duckdb_column_name(&r->res, i));
		oom = !r->types[i] || !r->names[i];
	}
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

/* ---- text conversion ------------------------------------------------------------------------ */

static int create_text_table(planar_result *r, const char *name, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	pl_buf_puts(&q, "CREATE TEMP TABLE ");
	pl_buf_put_ident(&q, name);
	pl_buf_putc(&q, '(');
	for (size_t c = 0; c < r->ncols; c++)
		pl_buf_printf(&q, "%sc%zu %s", c ? ", " : "", c, r->types[c]);
	pl_buf_putc(&q, ')');
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_exec(r->con, q.ptr, err);
	pl_buf_dispose(&q);
	return rc;
}

static int append_chunk(planar_result *r, const char *name, idx_t chunk, pl_err *err)
{
	duckdb_appender app = NULL;
	if (duckdb_appender_create_ext(r->con, "temp", "main", name, &app) == DuckDBError) {
		duckdb_appender_destroy(&app);
		return pl_err_set(err, PL_ERROR, "cannot convert result values to text");
	}
	duckdb_data_chunk c = duckdb_result_get_chunk(r->res, chunk);
	int rc = 0;
	if (duckdb_append_data_chunk(app, c) == DuckDBError || duckdb_appender_flush(app) == DuckDBError)
		rc = pl_err_set(err, PL_ERROR, "cannot convert result values to text: %s",
				duckdb_appender_error(app));
	duckdb_destroy_data_chunk(&c);
	duckdb_appender_destroy(&app);
	return rc;
}

static int read_text(planar_result *r, const char *name, idx_t chunk, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	duckdb_result res;
	pl_buf_puts(&q, "SELECT ");
	for (size_t c = 0; c < r->ncols; c++)
		pl_buf_printf(&q, "%sCAST(c%zu AS VARCHAR)", c ? ", " : "", c);
	pl_buf_puts(&q, " FROM temp.main.");
	pl_buf_put_ident(&q, name);
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query(r->con, q.ptr, &res, err);
	pl_buf_dispose(&q);
	if (rc)
		return rc;
	idx_t rows = duckdb_row_count(&res);
	char **cells = calloc(rows * r->ncols + 1, sizeof(char *));
	bool oom = !cells;
	for (idx_t i = 0; !oom && i < rows; i++)
		for (size_t c = 0; !oom && c < r->ncols; c++)
			cells[i * r->ncols + c] = pl_engine_value_str(&res, c, i, &oom);
	duckdb_destroy_result(&res);
	if (oom) {
		for (idx_t i = 0; cells && i < rows * r->ncols; i++)
			free(cells[i]);
		free(cells);
		return pl_err_nomem(err);
	}
	r->chunk_text[chunk] = cells;
	return 0;
}

static int convert_chunk(planar_result *r, idx_t chunk, pl_err *err)
{
	char name[64];
	snprintf(name, sizeof(name), "__planar_text_%lu", ++*r->tmp_seq);
	int rc = create_text_table(r, name, err);
	if (rc)
		return rc;
	rc = append_chunk(r, name, chunk, err);
	if (rc == 0)
		rc = read_text(r, name, chunk, err);
	pl_buf q = PL_BUF_INIT;
	pl_err ignored;
	pl_buf_puts(&q, "DROP TABLE IF EXISTS temp.main.");
	pl_buf_put_ident(&q, name);
	if (!pl_buf_oom(&q))
		pl_engine_exec(r->con, q.ptr, &ignored);
	pl_buf_dispose(&q);
	return rc;
}

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

/* The text cell at (col,row), converting its chunk on first use; *failed on conversion error. */
static const char *cell(planar_result *r, size_t col, uint64_t row, bool *failed)
{
	*failed = false;
	if (!r || col >= r->ncols || row >= r->chunk_start[r->nchunks])
		return NULL;
	idx_t chunk = chunk_of(r, row);
	pl_err err;
	if (!r->chunk_text[chunk] && convert_chunk(r, chunk, &err)) {
		*failed = true;
		return NULL;
	}
	return r->chunk_text[chunk][(row - r->chunk_start[chunk]) * r->ncols + col];
}

char *planar_result_value_string(const planar_result *res, size_t col, uint64_t row)
{
	bool failed;
	const char *v = cell((planar_result *)res, col, row, &failed);
	return v ? pl_strdup(v) : NULL;
}

/* ---- accessors ------------------------------------------------------------------------------- */

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

bool planar_result_column_is_numeric(const planar_result *res, size_t col)
{
	if (!res || col >= res->ncols)
		return false;
	return pl_engine_type_is_numeric(duckdb_column_type((duckdb_result *)&res->res, col));
}

uint64_t planar_result_row_count(const planar_result *res)
{
	return res ? res->chunk_start[res->nchunks] : 0;
}

bool planar_result_is_null(const planar_result *res, size_t col, uint64_t row)
{
	bool failed;
	return cell((planar_result *)res, col, row, &failed) == NULL;
}

void planar_result_free(planar_result *res)
{
	if (!res)
		return;
	for (idx_t i = 0; res->chunk_text && i < res->nchunks; i++) {
		idx_t rows = res->chunk_start[i + 1] - res->chunk_start[i];
		for (idx_t k = 0; res->chunk_text[i] && k < rows * res->ncols; k++)
			free(res->chunk_text[i][k]);
		free(res->chunk_text[i]);
	}
	free(res->chunk_text);
	free(res->chunk_start);
	duckdb_destroy_result(&res->res);
	pl_strv_free(res->names);
	pl_strv_free(res->types);
	free(res);
}
