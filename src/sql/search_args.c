/*
 * search_args.c -- names, arguments and the filter of the search functions (search_internal.h).
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "sql/search_internal.h"
#include "table/timetravel.h"

/* ---- names ---- */

/* 'schema.table' or 'table' (schema main) as in the lake's committed model. */
int pl_sx_find_table(pl_lake *lake, const char *name, const pl_table **out, pl_err *err)
{
	*out = NULL;
	const char *dot = strchr(name, '.');
	char *schema = dot ? pl_strndup(name, (size_t)(dot - name)) : pl_strdup("main");
	const char *table = dot ? dot + 1 : name;
	if (!schema)
		return pl_err_nomem(err);
	pl_model *m = pl_sx_committed_model(lake);
	const pl_schema *s = pl_model_schema(m, schema);
	*out = s ? pl_model_table(m, s->id, table) : NULL;
	int rc = *out ? 0
		      : pl_err_set(err, PL_ENOTFOUND, "Catalog Error: table \"%s\" does not exist in lake \"%s\"", name,
				   lake->name);
	free(schema);
	return rc;
}

const char *pl_sx_schema_name(pl_lake *lake, const pl_table *t)
{
	const pl_schema *s = pl_model_schema_by_id(pl_sx_committed_model(lake), t->schema_id);
	return s ? s->name : "main";
}

/* The session's queries that read lake views find the session by their DuckDB connection
 * (and so do not wait for the lakes this statement holds): registered before the first one. */
int pl_sx_register_conn(planar_conn *conn, pl_err *err)
{
	duckdb_client_context ctx = NULL;
	duckdb_connection_get_client_context(conn->con, &ctx);
	int rc = ctx ? pl_delcache_conn_put(&conn->db->deletes, duckdb_client_context_get_connection_id(ctx), conn) : 0;
	if (ctx)
		duckdb_destroy_client_context(&ctx);
	return rc ? pl_err_nomem(err) : 0;
}

/* ---- arguments ---- */


void pl_sx_args_dispose(args *a)
{
	for (size_t i = 0; i < a->npos; i++)
		free(a->pos[i]);
	for (size_t i = 0; i < a->nnamed; i++) {
		free(a->keys[i]);
		free(a->vals[i]);
	}
	memset(a, 0, sizeof(*a));
}

const char *pl_sx_named(const args *a, const char *key)
{
	for (size_t i = 0; i < a->nnamed; i++)
		if (pl_str_ieq(a->keys[i], key))
			return a->vals[i];
	return NULL;
}

bool pl_sx_has_named(const args *a, const char *key)
{
	for (size_t i = 0; i < a->nnamed; i++)
		if (pl_str_ieq(a->keys[i], key))
			return true;
	return false;
}

/* The value of an argument expression, evaluated by DuckDB as VARCHAR (a list as a JSON array
 * of strings when as_list); NULL for SQL NULL. */
static int eval_arg(planar_conn *conn, const char *expr, size_t len, bool as_list, char **out, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	if (as_list)
		pl_buf_printf(&q, "SELECT CAST(to_json(CAST((%.*s) AS VARCHAR[])) AS VARCHAR)", (int)len, expr);
	else
		pl_buf_printf(&q, "SELECT CAST((%.*s) AS VARCHAR)", (int)len, expr);
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query_value(conn->con, q.ptr, out, err);
	pl_buf_dispose(&q);
	return rc;
}

/* Splits the arguments between the parentheses at open and close and evaluates them. */
int pl_sx_parse_args(planar_conn *conn, const pl_toks *t, size_t open, size_t close, const char *fn, args *a,
		      pl_err *err)
{
	memset(a, 0, sizeof(*a));
	size_t start = open + 1;
	int depth = 0, rc = 0;
	for (size_t i = open + 1; rc == 0 && i <= close; i++) {
		if (i < close && pl_tok_is_punct(t, i, "(")) {
			depth++;
			continue;
		}
		if (i < close && pl_tok_is_punct(t, i, ")")) {
			depth--;
			continue;
		}
		if (i < close && (pl_tok_is_punct(t, i, "[")))
			depth++;
		if (i < close && (pl_tok_is_punct(t, i, "]")))
			depth--;
		if (i < close && !(depth == 0 && pl_tok_is_punct(t, i, ",")))
			continue;
		if (i == start) {
			if (i == close && a->npos == 0 && a->nnamed == 0)
				break; /* no arguments */
			return pl_err_set(err, PL_EINVALID, "%s: an argument is empty", fn);
		}
		bool is_named = i > start + 2 && pl_tok_is_punct(t, start + 1, "=") && pl_tok_is_punct(t, start + 2, ">") &&
				(t->items[start].kind == PL_TOK_WORD || t->items[start].kind == PL_TOK_QIDENT);
		size_t from = is_named ? start + 3 : start;
		if (from >= i)
			return pl_err_set(err, PL_EINVALID, "%s: an argument is empty", fn);
		if (a->npos + a->nnamed >= MAX_ARGS)
			return pl_err_set(err, PL_EINVALID, "%s: too many arguments", fn);
		char *key = is_named ? pl_tok_ident(t, start) : NULL;
		if (is_named && !key)
			return pl_err_nomem(err);
		if (!is_named && a->nnamed > 0) {
			free(key);
			return pl_err_set(err, PL_EINVALID, "%s: positional arguments come before named ones", fn);
		}
		if (key && pl_sx_has_named(a, key)) {
			rc = pl_err_set(err, PL_EINVALID, "%s: the argument %s is given twice", fn, key);
			free(key);
			return rc;
		}
		size_t b = t->items[from].start, e = t->items[i - 1].start + t->items[i - 1].len;
		char *val = NULL;
		bool list = key && pl_str_ieq(key, "metadata_columns");
		const pl_tok *one = from + 1 == i ? &t->items[from] : NULL;
		bool digits = one && one->kind == PL_TOK_NUMBER && one->len > 0 && one->len < 19;
		for (size_t k = 0; digits && k < one->len; k++)
			digits = t->src[one->start + k] >= '0' && t->src[one->start + k] <= '9';
		if (!list && one && one->kind == PL_TOK_STRING && t->src[one->start] == '\'') {
			/* a plain literal is its own value: no engine round trip per argument */
			rc = (val = pl_tok_string(t, from)) ? 0 : pl_err_nomem(err);
		} else if (!list && digits) {
			rc = (val = pl_strndup(t->src + one->start, one->len)) ? 0 : pl_err_nomem(err);
		} else {
			rc = eval_arg(conn, t->src + b, e - b, list, &val, err);
		}
		if (rc) {
			free(key);
			return pl_err_wrap(err, "%s: cannot evaluate the argument %s", fn, key ? key : "");
		}
		if (key) {
			a->keys[a->nnamed] = key;
			a->vals[a->nnamed++] = val;
		} else {
			a->pos[a->npos++] = val;
		}
		start = i + 1;
	}
	return rc;
}

int pl_sx_check_known(const args *a, const char *fn, const char *const *known, pl_err *err)
{
	for (size_t i = 0; i < a->nnamed; i++) {
		bool ok = false;
		for (const char *const *k = known; *k && !ok; k++)
			ok = pl_str_ieq(a->keys[i], *k);
		if (!ok)
			return pl_err_set(err, PL_EINVALID, "%s: unknown argument \"%s\"", fn, a->keys[i]);
	}
	return 0;
}


/* ---- the filter ---- */

/* Whether a parsed statement (json_serialize_sql) is one plain SELECT from one table with no
 * subquery and no table function anywhere: a filter that passes cannot run another statement
 * or read anything but the table. */
static bool json_has_forbidden(json_t *j)
{
	if (json_is_object(j)) {
		const char *key;
		json_t *v;
		json_object_foreach(j, key, v) {
			if ((strcmp(key, "class") == 0 || strcmp(key, "type") == 0) && json_is_string(v)) {
				const char *s = json_string_value(v);
				if (strcmp(s, "SUBQUERY") == 0 || strcmp(s, "TABLE_FUNCTION") == 0 ||
				    strcmp(s, "SET_OPERATION_NODE") == 0 || strcmp(s, "RECURSIVE_CTE_NODE") == 0 ||
				    strcmp(s, "CTE_NODE") == 0 || strcmp(s, "JOIN") == 0)
					return true;
			}
			if (strcmp(key, "cte_map") == 0 && json_is_object(v)) {
				json_t *m = json_object_get(v, "map");
				if (json_is_array(m) && json_array_size(m) > 0)
					return true;
			}
			if (json_has_forbidden(v))
				return true;
		}
	} else if (json_is_array(j)) {
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v) {
			if (json_has_forbidden(v))
				return true;
		}
	}
	return false;
}

static int check_filter_sql(planar_conn *conn, const char *sql, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	pl_buf_puts(&q, "SELECT CAST(json_serialize_sql(");
	pl_buf_put_literal(&q, sql);
	pl_buf_puts(&q, ") AS VARCHAR)");
	char *text = NULL;
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query_value(conn->con, q.ptr, &text, err);
	pl_buf_dispose(&q);
	if (rc)
		return rc;
	json_t *j = text ? json_loads(text, 0, NULL) : NULL;
	free(text);
	json_t *stmts = json_object_get(j, "statements");
	bool ok = j && json_is_false(json_object_get(j, "error")) && json_is_array(stmts) && json_array_size(stmts) == 1;
	json_t *node = ok ? json_object_get(json_array_get(stmts, 0), "node") : NULL;
	ok = ok && json_is_string(json_object_get(node, "type")) &&
	     strcmp(json_string_value(json_object_get(node, "type")), "SELECT_NODE") == 0 && !json_has_forbidden(node);
	const char *msg = !j ? NULL : json_string_value(json_object_get(j, "error_message"));
	if (!ok)
		rc = pl_err_set(err, PL_EINVALID, "planar_search: the filter must be one SQL predicate over the table's "
				"columns (no subqueries, no table functions)%s%s", msg ? ": " : "", msg ? msg : "");
	json_decref(j);
	return rc;
}

/* The ids of the table's rows (as of snap, or now when snap < 0) that satisfy filter. */
int pl_sx_filter_ids(planar_conn *conn, pl_lake *lake, const pl_table *t, const pl_search_def *def,
		      const char *filter, int64_t snap, pl_strv *ids, pl_err *err)
{
	if (strchr(filter, ';'))
		return pl_err_set(err, PL_EINVALID, "planar_search: the filter must be one SQL predicate (no ';')");
	char view[64] = "";
	int rc = 0;
	pl_lake_ctx ctx;
	pl_lake_table_ctx(&ctx, lake, conn);
	if (snap >= 0) {
		pl_model *m = NULL;
		rc = pl_model_load(&m, lake->cat, snap, lake->data_path, err);
		if (rc == 0) {
			snprintf(view, sizeof(view), "__planar_search_asof_%lu", ++conn->tmp_seq);
			rc = pl_timetravel_view(&ctx.table, m, snap, pl_sx_schema_name(lake, t), t->name, view, err);
		}
		pl_model_free(m);
		if (rc)
			return rc;
	}
	pl_buf q = PL_BUF_INIT;
	pl_buf_puts(&q, "SELECT CAST(");
	pl_buf_put_ident(&q, def->id_column);
	pl_buf_puts(&q, " AS VARCHAR) FROM ");
	if (snap >= 0) {
		pl_buf_puts(&q, "temp.main.");
		pl_buf_put_ident(&q, view);
	} else {
		pl_buf_put_ident(&q, lake->name);
		pl_buf_puts(&q, ".");
		pl_buf_put_ident(&q, pl_sx_schema_name(lake, t));
		pl_buf_puts(&q, ".");
		pl_buf_put_ident(&q, t->name);
	}
	pl_buf_puts(&q, " WHERE (");
	pl_buf_puts(&q, filter);
	pl_buf_puts(&q, "\n)");
	rc = pl_buf_oom(&q) ? pl_err_nomem(err) : check_filter_sql(conn, q.ptr, err);
	duckdb_result res;
	if (rc == 0 && (rc = pl_engine_query(conn->con, q.ptr, &res, err)) != 0)
		pl_err_wrap(err, "planar_search: the filter failed");
	if (rc == 0) {
		idx_t n = duckdb_row_count(&res);
		bool oom = false;
		for (idx_t r = 0; r < n && !oom; r++) {
			char *v = pl_engine_value_str(&res, 0, r, &oom);
			if (v && pl_strv_push_owned(ids, v))
				oom = true;
		}
		duckdb_destroy_result(&res);
		if (oom)
			rc = pl_err_nomem(err);
	}
	pl_buf_dispose(&q);
	if (view[0])
		pl_table_drop_temp(&ctx.table, "VIEW", view);
	return rc;
}

/* ---- planar_search ---- */

int pl_sx_parse_vector(const char *s, float **out, size_t *n, pl_err *err)
{
	*out = NULL;
	*n = 0;
	size_t cap = 0;
	const char *p = s;
	while (*p == ' ' || *p == '[')
		p++;
	while (*p && *p != ']') {
		char *end;
		double v = strtod(p, &end);
		if (end == p || !isfinite(v)) {
			free(*out);
			*out = NULL;
			return pl_err_set(err, PL_EINVALID, "planar_search: query_vector must be a list of numbers");
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			float *f = realloc(*out, cap * sizeof(float));
			if (!f) {
				free(*out);
				*out = NULL;
				return pl_err_nomem(err);
			}
			*out = f;
		}
		(*out)[(*n)++] = (float)v;
		p = end;
		while (*p == ' ' || *p == ',')
			p++;
	}
	return 0;
}

bool pl_sx_parse_int(const char *s, int64_t *out)
{
	if (!s || !*s)
		return false;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (*end)
		return false;
	*out = v;
	return true;
}

