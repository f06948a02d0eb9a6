/*
 * engine.c -- DuckDB database, connection and query plumbing with error translation.
 */
#include "engine/engine.h"

#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "core/objhooks.h"

int pl_engine_open(duckdb_database *out, const char *path, bool read_only, pl_err *err)
{
	duckdb_config config = NULL;
	char *open_err = NULL;
	int rc = 0;
	if (duckdb_create_config(&config) == DuckDBError)
		return pl_err_nomem(err);
	if (read_only)
		duckdb_set_config(config, "access_mode", "READ_ONLY");
	/* Lakes are opened by Planar itself: DuckDB must not try to fetch extensions. */
	duckdb_set_config(config, "autoinstall_known_extensions", "false");
	duckdb_set_config(config, "autoload_known_extensions", "false");
	if (duckdb_open_ext(path, out, config, &open_err) == DuckDBError) {
		rc = pl_err_set(err, PL_EIO, "cannot open database '%s': %s", path ? path : ":memory:",
				open_err ? open_err : "unknown error");
		duckdb_free(open_err);
	}
	duckdb_destroy_config(&config);
	return rc;
}

int pl_engine_connect(duckdb_connection *out, duckdb_database db, pl_err *err)
{
	if (duckdb_connect(db, out) == DuckDBError)
		return pl_err_set(err, PL_ERROR, "cannot connect to the query engine");
	return 0;
}

int pl_engine_result_error(duckdb_result *res, pl_err *err)
{
	const char *msg = duckdb_result_error(res);
	int code = PL_ERROR;
	switch (duckdb_result_error_type(res)) {
	case DUCKDB_ERROR_TRANSACTION:
	case DUCKDB_ERROR_CONSTRAINT:
		code = PL_ECONFLICT;
		break;
	case DUCKDB_ERROR_OUT_OF_MEMORY:
		code = PL_ENOMEM;
		break;
	case DUCKDB_ERROR_IO:
	case DUCKDB_ERROR_PERMISSION:
		code = PL_EIO;
		break;
	case DUCKDB_ERROR_INTERRUPT:
		code = PL_ECANCELED;
		break;
	case DUCKDB_ERROR_PARSER:
	case DUCKDB_ERROR_SYNTAX:
	case DUCKDB_ERROR_BINDER:
	case DUCKDB_ERROR_CONVERSION:
	case DUCKDB_ERROR_CATALOG:
	case DUCKDB_ERROR_INVALID_INPUT:
	case DUCKDB_ERROR_MISMATCH_TYPE:
	case DUCKDB_ERROR_INVALID_TYPE:
	case DUCKDB_ERROR_OUT_OF_RANGE:
	case DUCKDB_ERROR_DIVIDE_BY_ZERO:
		code = PL_EINVALID;
		break;
	case DUCKDB_ERROR_NOT_IMPLEMENTED:
		code = PL_EUNSUPPORTED;
		break;
	default:
		break;
	}
	return pl_err_set(err, code, "%s", msg ? msg : "query failed");
}

int pl_engine_query(duckdb_connection con, const char *sql, duckdb_result *out, pl_err *err)
{
	int src = pl_objhook_ensure_sql(sql, err); /* files of an S3 lake the query reads: cached first */
	if (src)
		return src;
	if (duckdb_query(con, sql, out) == DuckDBError) {
		int rc = pl_engine_result_error(out, err);
		duckdb_destroy_result(out);
		return rc;
	}
	return 0;
}

static void finalize_prepared(void *stmt)
{
	duckdb_prepared_statement ps = stmt;
	duckdb_destroy_prepare(&ps);
}

void pl_engine_stmt_cache_init(pl_stmt_cache *cache)
{
	memset(cache, 0, sizeof(*cache));
	cache->finalize = finalize_prepared;
}

int pl_engine_query_args(duckdb_connection con, pl_stmt_cache *cache, const char *sql, const pl_engine_arg *args,
			 size_t nargs, duckdb_result *out, pl_err *err)
{
	int rc = pl_objhook_ensure_sql(sql, err);
	if (rc)
		return rc;
	duckdb_prepared_statement ps = pl_stmt_cache_take(cache, sql);
	if (!ps && duckdb_prepare(con, sql, &ps) == DuckDBError) {
		const char *msg = duckdb_prepare_error(ps);
		rc = pl_err_set(err, PL_EINVALID, "%s", msg ? msg : "cannot prepare the statement");
		duckdb_destroy_prepare(&ps);
		return rc;
	}
	duckdb_state st = duckdb_clear_bindings(ps);
	for (size_t i = 0; st == DuckDBSuccess && i < nargs; i++)
		st = args[i].is_int ? duckdb_bind_int64(ps, i + 1, args[i].i)
		     : args[i].text ? duckdb_bind_varchar(ps, i + 1, args[i].text)
				    : duckdb_bind_null(ps, i + 1);
	if (st == DuckDBError) {
		rc = pl_err_set(err, PL_EINVALID, "cannot bind the arguments of a prepared statement");
	} else if (duckdb_execute_prepared(ps, out) == DuckDBError) {
		rc = pl_engine_result_error(out, err);
		duckdb_destroy_result(out);
	}
	pl_stmt_cache_give(cache, sql, ps);
	return rc;
}

int pl_engine_exec(duckdb_connection con, const char *sql, pl_err *err)
{
	duckdb_result res;
	int rc = pl_engine_query(con, sql, &res, err);
	if (rc == 0)
		duckdb_destroy_result(&res);
	return rc;
}

char *pl_engine_value_str(duckdb_result *res, idx_t col, idx_t row, bool *oom)
{
	if (duckdb_value_is_null(res, col, row))
		return NULL;
	char *v = duckdb_value_varchar(res, col, row);
	if (!v) {
		*oom = true;
		return NULL;
	}
	char *copy = pl_strdup(v);
	duckdb_free(v);
	if (!copy)
		*oom = true;
	return copy;
}

int pl_engine_query_value(duckdb_connection con, const char *sql, char **out, pl_err *err)
{
	duckdb_result res;
	*out = NULL;
	int rc = pl_engine_query(con, sql, &res, err);
	if (rc)
		return rc;
	bool oom = false;
	if (duckdb_row_count(&res) > 0 && duckdb_column_count(&res) > 0)
		*out = pl_engine_value_str(&res, 0, 0, &oom);
	duckdb_destroy_result(&res);
	return oom ? pl_err_nomem(err) : 0;
}

int pl_engine_utc_timestamp(duckdb_connection con, const char *expr, char **out, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	pl_buf_printf(&q, "SELECT strftime(CAST((%s) AS TIMESTAMP WITH TIME ZONE) AT TIME ZONE 'UTC', "
			  "'%%Y-%%m-%%d %%H:%%M:%%S.%%f') || '+00'",
		      expr);
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query_value(con, q.ptr, out, err);
	pl_buf_dispose(&q);
	if (rc == 0 && !*out)
		rc = pl_err_set(err, PL_EINVALID, "the timestamp %s is NULL", expr);
	return rc;
}

void pl_engine_vector_set_null(duckdb_vector v, idx_t row)
{
	duckdb_vector_ensure_validity_writable(v);
	duckdb_validity_set_row_invalid(duckdb_vector_get_validity(v), row);
}

void pl_engine_vector_put_text(duckdb_vector v, idx_t row, const char *s)
{
	if (s)
		duckdb_vector_assign_string_element(v, row, s);
	else
		pl_engine_vector_set_null(v, row);
}

static char *take_text(duckdb_value v)
{
	char *s = v && !duckdb_is_null_value(v) ? duckdb_get_varchar(v) : NULL;
	char *copy = pl_strdup(s);
	if (s)
		duckdb_free(s);
	if (v)
		duckdb_destroy_value(&v);
	return copy;
}

char *pl_engine_param_text(duckdb_bind_info info, idx_t i)
{
	return take_text(duckdb_bind_get_parameter(info, i));
}

char *pl_engine_named_text(duckdb_bind_info info, const char *name)
{
	return take_text(duckdb_bind_get_named_parameter(info, name));
}

void pl_engine_bind_column(duckdb_bind_info info, const char *name, duckdb_type type)
{
	duckdb_logical_type t = duckdb_create_logical_type(type);
	duckdb_bind_add_result_column(info, name, t);
	duckdb_destroy_logical_type(&t);
}

int pl_engine_use(duckdb_connection con, const char *db, const char *schema, char **back_out, pl_err *err)
{
	*back_out = NULL;
	duckdb_result res;
	int rc = pl_engine_query(con, "SELECT current_database(), current_schema()", &res, err);
	if (rc)
		return rc;
	bool oom = false;
	char *cur_db = pl_engine_value_str(&res, 0, 0, &oom), *cur = pl_engine_value_str(&res, 1, 0, &oom);
	duckdb_destroy_result(&res);
	pl_buf use = PL_BUF_INIT, back = PL_BUF_INIT;
	pl_buf_puts(&use, "USE ");
	pl_buf_put_ident(&use, db);
	pl_buf_putc(&use, '.');
	pl_buf_put_ident(&use, schema);
	pl_buf_puts(&back, "USE ");
	pl_buf_put_ident(&back, cur_db ? cur_db : "memory");
	pl_buf_putc(&back, '.');
	pl_buf_put_ident(&back, cur ? cur : "main");
	rc = oom || pl_buf_oom(&use) || pl_buf_oom(&back) ? pl_err_nomem(err) : pl_engine_exec(con, use.ptr, err);
	pl_buf_dispose(&use);
	free(cur_db);
	free(cur);
	if (rc)
		pl_buf_dispose(&back);
	else
		*back_out = pl_buf_detach(&back);
	return rc;
}

void pl_engine_use_back(duckdb_connection con, char *back)
{
	if (!back)
		return;
	pl_err ignored = {0};
	pl_engine_exec(con, back, &ignored);
	free(back);
}

int pl_engine_exec_in_schema(duckdb_connection con, const char *db, const char *schema, const char *sql, pl_err *err)
{
	char *back = NULL;
	int rc = pl_engine_use(con, db, schema, &back, err);
	if (rc == 0)
		rc = pl_engine_exec(con, sql, err);
	pl_engine_use_back(con, back);
	return rc;
}
