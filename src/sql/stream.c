/*
 * stream.c -- running statements for the C API: streaming results, bound parameters, the
 * connection's open stream and its auxiliary connection (see session.h).
 *
 * A streaming DuckDB result is read while its query runs; any other query on the same DuckDB
 * connection ends it. So the session connection runs nothing while a stream is open: values
 * DuckDB must format (text of most types, JSON) are converted on conn->aux, which copies the
 * session's TimeZone and Calendar settings (the ones CAST(... AS VARCHAR) depends on) before
 * a stream whose columns depend on them starts, and before a conversion when no stream is open
 * and a statement ran since the last copy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "sql/lexer.h"
#include "sql/router.h"
#include "sql/session.h"
#include "sql/timetravel.h"
#include "storage/s3lake.h"

void pl_conn_begin_statement(planar_conn *conn)
{
	conn->epoch++;
	if (conn->stream) {
		conn->stream->closed = true;
		conn->stream = NULL;
	}
	if (conn->stale_views.len)
		pl_timetravel_cleanup(conn, &conn->stale_views);
}

/* Copies the settings that change how values print from the session connection to aux. */
static int sync_aux(planar_conn *conn, pl_err *err)
{
	if (!conn->aux) {
		int rc = pl_engine_connect(&conn->aux, conn->db->duck, err);
		if (rc)
			return rc;
		conn->aux_epoch = conn->epoch - 1;
	}
	/* With a stream open the session connection cannot be queried; the stream was started
	 * after a copy of the settings unless its columns do not depend on them. */
	if (conn->aux_epoch == conn->epoch || conn->stream)
		return 0;
	duckdb_result res;
	pl_err ignored;
	if (pl_engine_query(conn->con, "SELECT current_setting('TimeZone'), current_setting('Calendar')", &res,
			    &ignored) == 0) {
		bool oom = false;
		char *tz = pl_engine_value_str(&res, 0, 0, &oom), *cal = pl_engine_value_str(&res, 1, 0, &oom);
		duckdb_destroy_result(&res);
		pl_buf q = PL_BUF_INIT;
		if (tz) {
			pl_buf_puts(&q, "SET TimeZone = ");
			pl_buf_put_literal(&q, tz);
			pl_buf_puts(&q, "; ");
		}
		if (cal) {
			pl_buf_puts(&q, "SET Calendar = ");
			pl_buf_put_literal(&q, cal);
		}
		int rc = oom || pl_buf_oom(&q) ? pl_err_nomem(err) : q.len ? pl_engine_exec(conn->aux, q.ptr, err) : 0;
		pl_buf_dispose(&q);
		free(tz);
		free(cal);
		if (rc)
			return rc;
	}
	conn->aux_epoch = conn->epoch;
	return 0;
}

void pl_conn_dispose_api(planar_conn *conn)
{
	if (conn->stream)
		conn->stream->closed = true;
	conn->stream = NULL;
	if (conn->stale_views.len)
		pl_timetravel_cleanup(conn, &conn->stale_views);
	pl_strv_dispose(&conn->stale_views);
	if (conn->aux)
		duckdb_disconnect(&conn->aux);
	pl_sqlprep_dispose(conn);
}

/* ---- conversion by DuckDB ---------------------------------------------------------------------- */

static int conv_exec(planar_conn *conn, pl_buf *q, pl_err *err)
{
	return pl_buf_oom(q) ? pl_err_nomem(err) : pl_engine_exec(conn->aux, q->ptr, err);
}

/* Reads the VARCHAR columns of res into the caches of the columns `want` (in order). */
static int read_converted(duckdb_result *res, const bool *want, size_t ncols, pl_colcache *caches, size_t rows,
			  pl_err *err)
{
	size_t row = 0;
	for (;;) {
		duckdb_data_chunk c = duckdb_fetch_chunk(*res);
		if (!c)
			break;
		size_t n = (size_t)duckdb_data_chunk_get_size(c);
		size_t k = 0;
		for (size_t col = 0; col < ncols; col++) {
			if (!want[col])
				continue;
			duckdb_vector v = duckdb_data_chunk_get_vector(c, k++);
			duckdb_string_t *data = duckdb_vector_get_data(v);
			uint64_t *validity = duckdb_vector_get_validity(v);
			for (size_t i = 0; i < n && row + i < rows; i++) {
				if (validity && !duckdb_validity_row_is_valid(validity, i))
					pl_colcache_set(&caches[col], row + i, NULL, 0);
				else
					pl_colcache_set(&caches[col], row + i, duckdb_string_t_data(&data[i]),
							duckdb_string_t_length(data[i]));
			}
		}
		row += n;
		duckdb_destroy_data_chunk(&c);
	}
	if (row != rows)
		return pl_err_set(err, PL_ERROR, "cannot convert result values to text: %zu rows instead of %zu", row,
				  rows);
	for (size_t col = 0; col < ncols; col++) {
		if (want[col] && pl_buf_oom(&caches[col].data))
			return pl_err_nomem(err);
		if (want[col])
			caches[col].ready = true;
	}
	return 0;
}

int pl_result_convert(planar_result *r, duckdb_data_chunk chunk, size_t rows, bool json, const bool *want,
		      pl_colcache *caches, pl_err *err)
{
	planar_conn *conn = r->conn;
	int rc = sync_aux(conn, err);
	if (rc)
		return rc;
	char name[64];
	snprintf(name, sizeof(name), "__planar_conv_%lu", ++conn->tmp_seq);
	pl_buf q = PL_BUF_INIT;
	pl_buf_puts(&q, "CREATE TEMP TABLE ");
	pl_buf_put_ident(&q, name);
	pl_buf_putc(&q, '(');
	for (size_t c = 0; c < r->ncols; c++)
		pl_buf_printf(&q, "%sc%zu %s", c ? ", " : "", c, r->types[c]);
	pl_buf_putc(&q, ')');
	rc = conv_exec(conn, &q, err);
	pl_buf_dispose(&q);
	if (rc)
		return pl_err_wrap(err, "cannot convert result values to text");
	duckdb_appender app = NULL;
	if (duckdb_appender_create_ext(conn->aux, "temp", "main", name, &app) == DuckDBError) {
		rc = pl_err_set(err, PL_ERROR, "cannot convert result values to text");
	} else if (duckdb_append_data_chunk(app, chunk) == DuckDBError || duckdb_appender_flush(app) == DuckDBError) {
		rc = pl_err_set(err, PL_ERROR, "cannot convert result values to text: %s", duckdb_appender_error(app));
	}
	duckdb_appender_destroy(&app);
	if (rc == 0) {
		bool first = true;
		pl_buf_puts(&q, "SELECT ");
		for (size_t c = 0; c < r->ncols; c++) {
			if (!want[c])
				continue;
			pl_buf_printf(&q, json ? "%sCAST(to_json(c%zu) AS VARCHAR)" : "%sCAST(c%zu AS VARCHAR)",
				      first ? "" : ", ", c);
			first = false;
		}
		pl_buf_puts(&q, " FROM temp.main.");
		pl_buf_put_ident(&q, name);
		duckdb_result res;
		rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query(conn->aux, q.ptr, &res, err);
		pl_buf_dispose(&q);
		if (rc == 0) {
			rc = read_converted(&res, want, r->ncols, caches, rows, err);
			duckdb_destroy_result(&res);
		}
	}
	pl_err ignored;
	pl_buf_puts(&q, "DROP TABLE IF EXISTS temp.main.");
	pl_buf_put_ident(&q, name);
	conv_exec(conn, &q, &ignored);
	pl_buf_dispose(&q);
	return rc;
}

/* ---- running a statement on the engine --------------------------------------------------------- */

static int bind_params(duckdb_prepared_statement prep, const pl_exec *x, pl_err *err)
{
	idx_t want = duckdb_nparams(prep);
	if (want != x->nparams)
		return pl_err_set(err, PL_EINVALID, "the statement has %llu parameters, %zu values were bound",
				  (unsigned long long)want, x->nparams);
	for (size_t i = 0; i < x->nparams; i++) {
		const pl_param *p = &x->params[i];
		idx_t k = i + 1;
		duckdb_state st = DuckDBError;
		switch (p->kind) {
		case PL_PARAM_NULL: st = duckdb_bind_null(prep, k); break;
		case PL_PARAM_BOOL: st = duckdb_bind_boolean(prep, k, p->b); break;
		case PL_PARAM_INT64: st = duckdb_bind_int64(prep, k, p->i); break;
		case PL_PARAM_DOUBLE: st = duckdb_bind_double(prep, k, p->d); break;
		case PL_PARAM_TEXT: st = duckdb_bind_varchar_length(prep, k, p->text, p->len); break;
		case PL_PARAM_TIMESTAMP: st = duckdb_bind_timestamp(prep, k, (duckdb_timestamp){p->i}); break;
		case PL_PARAM_UNSET: return pl_err_set(err, PL_EINVALID, "parameter $%zu is not bound", i + 1);
		}
		if (st == DuckDBError) {
			const char *msg = duckdb_prepare_error(prep);
			return pl_err_set(err, PL_EINVALID, "cannot bind parameter $%zu%s%s", i + 1, msg ? ": " : "",
					  msg ? msg : "");
		}
	}
	return 0;
}

/* Prepares sql, or takes the cached statement when it was prepared from the same text. */
static int get_prepared(planar_conn *conn, const pl_exec *x, const char *sql, duckdb_prepared_statement *out,
			bool *cached, pl_err *err)
{
	*cached = false;
	int src = pl_s3lake_ensure_sql(sql, err); /* files of an S3 lake the query reads: cached first */
	if (src)
		return src;
	if (x->cache && !x->stream && x->cache->prep && x->cache->sql && strcmp(x->cache->sql, sql) == 0) {
		*out = x->cache->prep;
		*cached = true;
		return 0;
	}
	duckdb_prepared_statement prep = NULL;
	if (duckdb_prepare(conn->con, sql, &prep) == DuckDBError) {
		const char *msg = duckdb_prepare_error(prep);
		int rc = pl_err_set(err, PL_EINVALID, "%s", msg ? msg : "cannot prepare the statement");
		duckdb_destroy_prepare(&prep);
		return rc;
	}
	if (x->cache && !x->stream) {
		char *copy = pl_strdup(sql);
		if (copy) {
			if (x->cache->prep)
				duckdb_destroy_prepare(&x->cache->prep);
			free(x->cache->sql);
			x->cache->prep = prep;
			x->cache->sql = copy;
			*cached = true;
		}
	}
	*out = prep;
	return 0;
}

/* Whether the text of the statement's columns may depend on session settings (TimeZone and
 * Calendar for TIMESTAMPTZ, also inside nested values). */
static bool needs_settings(duckdb_prepared_statement prep)
{
	idx_t n = duckdb_prepared_statement_column_count(prep);
	for (idx_t i = 0; i < n; i++) {
		switch (duckdb_prepared_statement_column_type(prep, i)) {
		case DUCKDB_TYPE_BOOLEAN:
		case DUCKDB_TYPE_TINYINT:
		case DUCKDB_TYPE_SMALLINT:
		case DUCKDB_TYPE_INTEGER:
		case DUCKDB_TYPE_BIGINT:
		case DUCKDB_TYPE_HUGEINT:
		case DUCKDB_TYPE_UTINYINT:
		case DUCKDB_TYPE_USMALLINT:
		case DUCKDB_TYPE_UINTEGER:
		case DUCKDB_TYPE_UBIGINT:
		case DUCKDB_TYPE_UHUGEINT:
		case DUCKDB_TYPE_FLOAT:
		case DUCKDB_TYPE_DOUBLE:
		case DUCKDB_TYPE_DECIMAL:
		case DUCKDB_TYPE_VARCHAR:
		case DUCKDB_TYPE_BLOB:
		case DUCKDB_TYPE_DATE:
		case DUCKDB_TYPE_TIME:
		case DUCKDB_TYPE_TIMESTAMP:
		case DUCKDB_TYPE_TIMESTAMP_S:
		case DUCKDB_TYPE_TIMESTAMP_MS:
		case DUCKDB_TYPE_TIMESTAMP_NS:
		case DUCKDB_TYPE_INTERVAL:
		case DUCKDB_TYPE_UUID:
		case DUCKDB_TYPE_ENUM: break;
		default: return true;
		}
	}
	return false;
}

int pl_exec_passthrough(planar_conn *conn, const char *sql, planar_result **out, pl_err *err)
{
	const pl_exec *x = conn->exec;
	if (!x || (!x->stream && x->nparams == 0 && !x->cache))
		return pl_result_from_sql(out, conn, sql, err);
	duckdb_prepared_statement prep = NULL;
	bool cached = false;
	int rc = get_prepared(conn, x, sql, &prep, &cached, err);
	if (rc) {
		/* Statements DuckDB cannot prepare still run as plain queries when nothing is bound. */
		return x->nparams == 0 ? pl_result_from_sql(out, conn, sql, err) : rc;
	}
	if (x->stream && needs_settings(prep))
		rc = sync_aux(conn, err); /* the last chance to query the session before the stream */
	if (rc == 0)
		rc = bind_params(prep, x, err);
	duckdb_result res;
	if (rc == 0 && x->stream) {
		duckdb_pending_result pending = NULL;
		if (duckdb_pending_prepared_streaming(prep, &pending) == DuckDBError) {
			const char *msg = duckdb_pending_error(pending);
			rc = pl_err_set(err, PL_ERROR, "%s", msg ? msg : "cannot run the statement");
		} else if (duckdb_execute_pending(pending, &res) == DuckDBError) {
			rc = pl_engine_result_error(&res, err);
			duckdb_destroy_result(&res);
		}
		duckdb_destroy_pending(&pending);
	} else if (rc == 0 && duckdb_execute_prepared(prep, &res) == DuckDBError) {
		rc = pl_engine_result_error(&res, err);
		duckdb_destroy_result(&res);
	}
	if (rc == 0)
		rc = pl_result_wrap(out, conn, &res, err);
	if (rc == 0 && (*out)->streaming && !cached) {
		(*out)->prep = prep; /* kept for as long as the stream runs */
		prep = NULL;
	}
	if (!cached && prep)
		duckdb_destroy_prepare(&prep);
	if (rc == 0 && (*out)->streaming)
		conn->stream = *out;
	return rc;
}

void planar_conn_interrupt(planar_conn *conn)
{
	if (conn)
		duckdb_interrupt(conn->con);
}

int planar_conn_query_stream(planar_conn *conn, const char *sql, planar_result **out)
{
	char **stmts = NULL;
	planar_result *last = NULL;
	*out = NULL;
	pl_err_clear(&conn->err);
	int rc = pl_sql_split_script(&stmts, sql, &conn->err);
	for (size_t i = 0; rc == 0 && stmts[i]; i++) {
		planar_result_free(last);
		last = NULL;
		pl_exec x = {.stream = stmts[i + 1] == NULL};
		pl_conn_begin_statement(conn);
		conn->exec = &x;
		rc = pl_router_run(conn, stmts[i], &last, &conn->err);
		conn->exec = NULL;
	}
	pl_strv_free(stmts);
	if (rc) {
		planar_result_free(last);
		if (!conn->err.msg[0])
			pl_err_set(&conn->err, rc, "statement failed");
		return rc;
	}
	pl_err_clear(&conn->err);
	*out = last;
	return 0;
}
