/*
 * retrieve.c -- semantic retrieval for agents: GET /data/retrieve?query=...&top_k=...&tenant_id=...
 * (also POST with a JSON object of the same fields) and the MCP tool `retrieve`, both answered
 * as [{"id", "text", "score", "metadata", "table"}] best first.
 *
 * Retrieval runs the lake's search (FROM planar_search('lake', 'schema.table', 'query',
 * top_k => n [, mode =>] [, filter =>] [, as_of =>])) on one table (`table`) or on every search
 * index the tenant may read, merged by score. Optional parameters:
 *   - filter: an SQL predicate on the table's columns. It must be one parenthesis-balanced
 *     expression without ';' or comments, and `SELECT 1 FROM table WHERE (filter)` must pass the
 *     query sandbox (lake tables only, no file, setting or catalog functions).
 *   - since / until: time bounds (since inclusive, until exclusive, any timestamp DuckDB reads)
 *     on the table's time column: `time_column` when given, else the table's column named
 *     "timestamp", "ts", "time", "created_at", "event_time" or "updated_at" (that order) when it
 *     has a time type, else its only TIMESTAMP / TIMESTAMPTZ / DATE column. With `table`, a
 *     table without one is an error naming its columns; searching every index, such tables
 *     are left out.
 *   The filter and time_column apply to every table searched: give `table` with them.
 *   - as_of: a lake snapshot id, a timestamp (the last snapshot at or before it) or a world-model
 *     snapshot id (the lake snapshot it was pinned to), as /data/query takes it; the search
 *     reads the table as it was then.
 *   - mode: hybrid (the search's default), bm25 or vector.
 * A tenant's rows only: the tenant scope (tenant.c) adds its row predicate to the filter.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "server/mcp.h"
#include "server/policy.h"

#define RETRIEVE_MAX_TOP_K 1000

static int fail(pl_srv_err *kind, pl_srv_err k, char **errmsg, const char *fmt, const char *arg)
{
	pl_buf b = PL_BUF_INIT;
	pl_buf_printf(&b, fmt, arg ? arg : "");
	*errmsg = pl_buf_detach(&b);
	*kind = k;
	return k == PL_SRV_NOT_FOUND ? PLANAR_ENOTFOUND : PLANAR_EINVALID;
}

/* One expression: balanced parentheses, no ';' and no comment outside quotes. */
static bool filter_shape_ok(const char *f, const char **why)
{
	int depth = 0;
	for (const char *p = f; *p; p++) {
		if (*p == '\'' || *p == '"') {
			char q = *p;
			for (p++; *p && !(*p == q && p[1] != q); p++)
				if (*p == q)
					p++;
			if (!*p) {
				*why = "the filter has an unterminated quote";
				return false;
			}
		} else if (*p == ';') {
			*why = "the filter may not contain ';'";
			return false;
		} else if ((*p == '-' && p[1] == '-') || (*p == '/' && p[1] == '*')) {
			*why = "the filter may not contain comments";
			return false;
		} else if (*p == '(') {
			depth++;
		} else if (*p == ')' && --depth < 0) {
			break;
		}
	}
	if (depth != 0) {
		*why = "the filter's parentheses do not balance";
		return false;
	}
	return true;
}

static bool is_time_type(const char *t)
{
	return t && (strncmp(t, "TIMESTAMP", 9) == 0 || strcmp(t, "DATE") == 0);
}

/* The column since/until apply to (see the header comment). */
static int time_column(planar_conn *conn, const char *schema, const char *table, const char *wanted, char **out,
		       pl_srv_err *kind, char **errmsg)
{
	json_t *cols = NULL;
	int rc = pl_srv_table_columns(conn, schema, table, &cols, errmsg);
	if (rc) {
		*kind = PL_SRV_UNAVAILABLE;
		return rc;
	}
	static const char *const preferred[] = {"timestamp", "ts", "time", "created_at", "event_time", "updated_at"};
	const char *found = NULL, *only = NULL;
	size_t ntime = 0, i;
	json_t *c;
	pl_buf names = PL_BUF_INIT;
	json_array_foreach(cols, i, c)
	{
		const char *name = json_string_value(json_object_get(c, "name"));
		const char *type = json_string_value(json_object_get(c, "type"));
		if (!name)
			continue;
		pl_buf_printf(&names, "%s%s %s", i ? ", " : "", name, type ? type : "?");
		if (wanted && pl_str_ieq(name, wanted))
			found = is_time_type(type) ? name : "";
		if (!is_time_type(type))
			continue;
		ntime++;
		only = name;
	}
	for (size_t k = 0; !wanted && !found && k < sizeof preferred / sizeof preferred[0]; k++)
		json_array_foreach(cols, i, c)
		{
			const char *name = json_string_value(json_object_get(c, "name"));
			if (!found && name && pl_str_ieq(name, preferred[k]) &&
			    is_time_type(json_string_value(json_object_get(c, "type"))))
				found = name;
		}
	if (!wanted && !found && ntime == 1)
		found = only;
	if (found && *found) {
		*out = pl_strdup(found);
		rc = *out ? 0 : PLANAR_ENOMEM;
	} else {
		pl_buf b = PL_BUF_INIT;
		if (wanted)
			pl_buf_printf(&b, "\"%s\" is not a %scolumn of %s.%s (columns: %s)", wanted,
				      found ? "time (TIMESTAMP, TIMESTAMPTZ or DATE) " : "", schema, table, pl_buf_cstr(&names));
		else
			pl_buf_printf(&b, "since/until need a time column: %s.%s has %s; name one with time_column (columns: %s)",
				      schema, table, ntime ? "several" : "none", pl_buf_cstr(&names));
		*errmsg = pl_buf_detach(&b);
		*kind = PL_SRV_BAD_REQUEST;
		rc = PLANAR_EINVALID;
	}
	pl_buf_dispose(&names);
	json_decref(cols);
	return rc;
}

/* A timestamp DuckDB reads, as the text of a TIMESTAMPTZ (re-readable). */
static int normalize_time(planar_conn *conn, const char *name, const char *v, char **out, pl_srv_err *kind,
			  char **errmsg)
{
	planar_stmt *st = NULL;
	planar_result *res = NULL;
	int rc = planar_prepare(conn, "SELECT CAST(CAST(CAST($1 AS VARCHAR) AS TIMESTAMPTZ) AS VARCHAR)", &st);
	if (rc == 0)
		rc = planar_stmt_bind_text(st, 1, v, strlen(v));
	if (rc == 0)
		rc = planar_stmt_execute(st, &res);
	planar_stmt_free(st);
	*out = rc == 0 ? planar_result_value_string(res, 0, 0) : NULL;
	planar_result_free(res);
	if (!*out) {
		pl_buf b = PL_BUF_INIT;
		pl_buf_printf(&b, "\"%s\" must be a timestamp such as 2026-12-01T10:00:00Z", name);
		*errmsg = pl_buf_detach(&b);
		*kind = PL_SRV_BAD_REQUEST;
		return PLANAR_EINVALID;
	}
	char *copy = pl_strdup(*out);
	planar_free(*out);
	*out = copy;
	return copy ? 0 : PLANAR_ENOMEM;
}

/* The predicate handed to the search for one table: the tenant's rows, the time bounds and the
 * caller's filter, joined by AND. */
static int table_filter(pl_srv *s, planar_conn *conn, const char *tenant, const pl_retrieve_req *q,
			const char *schema, const char *table, bool *allowed, char **out, pl_srv_err *kind, char **errmsg)
{
	*out = NULL;
	char *row = NULL;
	int rc = pl_srv_tenant_scope(s, conn, tenant, schema, table, allowed, &row, errmsg);
	if (rc) {
		*kind = PL_SRV_UNAVAILABLE;
		return rc;
	}
	if (!*allowed)
		return 0;
	pl_buf b = PL_BUF_INIT;
	if (row)
		pl_buf_printf(&b, "(%s)", row);
	free(row);
	if (q->since || q->until) {
		char *col = NULL;
		rc = time_column(conn, schema, table, q->time_column, &col, kind, errmsg);
		if (rc == PLANAR_EINVALID && !q->table) {
			/* searching every index: a table without that time column has no row in the range */
			free(*errmsg);
			*errmsg = NULL;
			*allowed = false;
			pl_buf_dispose(&b);
			return 0;
		}
		const char *bound[2] = {q->since, q->until};
		for (int i = 0; rc == 0 && i < 2; i++) {
			if (!bound[i])
				continue;
			char *norm = NULL;
			rc = normalize_time(conn, i ? "until" : "since", bound[i], &norm, kind, errmsg);
			if (rc)
				break;
			pl_buf_puts(&b, b.len ? " AND (" : "(");
			pl_buf_put_ident(&b, col);
			pl_buf_puts(&b, i ? " < CAST(" : " >= CAST(");
			pl_buf_put_literal(&b, norm);
			pl_buf_puts(&b, " AS TIMESTAMPTZ))");
			free(norm);
		}
		free(col);
	}
	if (rc == 0 && q->filter) {
		/* the caller's predicate, checked as a query of the table through the sandbox */
		pl_buf probe = PL_BUF_INIT;
		pl_buf_puts(&probe, "SELECT 1 FROM ");
		pl_buf_put_ident(&probe, schema);
		pl_buf_putc(&probe, '.');
		pl_buf_put_ident(&probe, table);
		pl_buf_printf(&probe, " WHERE (%s)", q->filter);
		char *why = NULL;
		pl_srv_policy pol;
		pl_err perr;
		pl_err_clear(&perr);
		rc = pl_srv_policy_load(s, tenant, &pol, &perr);
		if (rc)
			why = pl_strdup(perr.msg);
		else
			rc = pl_buf_oom(&probe) ? PLANAR_ENOMEM
						: pl_srv_sandbox_check(&s->lake, conn, PL_SRV_LAKE, pl_buf_cstr(&probe), &pol, NULL,
									       &why);
		pl_srv_policy_free(&pol);
		pl_buf_dispose(&probe);
		if (rc) {
			pl_buf m = PL_BUF_INIT;
			pl_buf_printf(&m, "the filter is not allowed: %s", why ? why : "it could not be checked");
			free(why);
			*errmsg = pl_buf_detach(&m);
			*kind = rc == PLANAR_EINVALID ? PL_SRV_BAD_REQUEST : pl_srv_err_of_planar(rc);
		} else {
			pl_buf_printf(&b, "%s(%s)", b.len ? " AND " : "", q->filter);
		}
	}
	if (rc == 0 && pl_buf_oom(&b)) {
		*errmsg = pl_strdup("out of memory");
		*kind = PL_SRV_UNAVAILABLE;
		rc = PLANAR_ENOMEM;
	}
	if (rc == 0 && b.len)
		*out = pl_buf_detach(&b);
	pl_buf_dispose(&b);
	return rc;
}

/* The search indexes of the lake, as "schema.table" names (stored spelling). */
static int search_indexes(planar_conn *conn, pl_strv *out, pl_srv_err *kind, char **errmsg)
{
	planar_result *res = NULL;
	int rc = planar_conn_query(conn, "FROM " PL_SRV_LAKE ".search_indexes()", &res);
	if (rc) {
		pl_buf b = PL_BUF_INIT;
		pl_buf_printf(&b, "the lake's search indexes cannot be listed: %s", planar_conn_errmsg(conn));
		*errmsg = pl_buf_detach(&b);
		*kind = PL_SRV_UNAVAILABLE;
		return rc;
	}
	size_t ncols = planar_result_column_count(res), cs = SIZE_MAX, ct = SIZE_MAX;
	for (size_t i = 0; i < ncols; i++) {
		const char *n = planar_result_column_name(res, i);
		if (n && (pl_str_ieq(n, "schema_name") || pl_str_ieq(n, "schema")))
			cs = i;
		else if (n && (pl_str_ieq(n, "table_name") || pl_str_ieq(n, "table")))
			ct = i;
	}
	if (ct == SIZE_MAX) {
		planar_result_free(res);
		*errmsg = pl_strdup("the lake's search indexes name no table");
		*kind = PL_SRV_INTERNAL;
		return PLANAR_ERROR;
	}
	uint64_t n = planar_result_row_count(res);
	for (uint64_t i = 0; rc == 0 && i < n; i++) {
		char *sc = cs == SIZE_MAX ? NULL : planar_result_value_string(res, cs, i);
		char *t = planar_result_value_string(res, ct, i);
		pl_buf b = PL_BUF_INIT;
		if (sc && !strchr(t ? t : "", '.'))
			pl_buf_printf(&b, "%s.", sc);
		pl_buf_puts(&b, t ? t : "");
		planar_free(sc);
		planar_free(t);
		bool dup = false;
		for (size_t k = 0; k < out->len; k++)
			dup = dup || strcmp(out->items[k], pl_buf_cstr(&b)) == 0;
		if (dup || b.len == 0)
			pl_buf_dispose(&b);
		else if (pl_buf_oom(&b) || pl_strv_push_owned(out, pl_buf_detach(&b)) != 0)
			rc = PLANAR_ENOMEM;
	}
	planar_result_free(res);
	if (rc) {
		*errmsg = pl_strdup("out of memory");
		*kind = PL_SRV_UNAVAILABLE;
	}
	return rc;
}

static int search_table(planar_conn *conn, const pl_retrieve_req *q, const char *schema, const char *table,
			const char *filter, json_t *acc, pl_srv_err *kind, char **errmsg)
{
	pl_buf sql = PL_BUF_INIT, name = PL_BUF_INIT;
	pl_buf_printf(&name, "%s.%s", schema, table);
	pl_buf_puts(&sql, "SELECT id, text, score, metadata FROM planar_search('" PL_SRV_LAKE "', ");
	pl_buf_put_literal(&sql, pl_buf_cstr(&name));
	pl_buf_puts(&sql, ", ");
	pl_buf_put_literal(&sql, q->query);
	pl_buf_printf(&sql, ", top_k => %lld", (long long)q->top_k);
	if (q->mode) {
		pl_buf_puts(&sql, ", mode => ");
		pl_buf_put_literal(&sql, q->mode);
	}
	if (filter) {
		pl_buf_puts(&sql, ", filter => ");
		pl_buf_put_literal(&sql, filter);
	}
	if (q->as_of >= 0)
		pl_buf_printf(&sql, ", as_of => %lld", (long long)q->as_of);
	pl_buf_puts(&sql, ") ORDER BY score DESC");
	int rc = 0;
	planar_result *res = NULL;
	if (pl_buf_oom(&sql) || pl_buf_oom(&name)) {
		*errmsg = pl_strdup("out of memory");
		*kind = PL_SRV_UNAVAILABLE;
		rc = PLANAR_ENOMEM;
	} else if ((rc = planar_conn_query(conn, pl_buf_cstr(&sql), &res)) != 0) {
		pl_buf b = PL_BUF_INIT;
		pl_buf_printf(&b, "search of %s failed: %s", pl_buf_cstr(&name), planar_conn_errmsg(conn));
		*errmsg = pl_buf_detach(&b);
		*kind = rc == PLANAR_ENOTFOUND ? PL_SRV_NOT_FOUND : pl_srv_err_of_planar(rc);
	}
	uint64_t n = rc == 0 ? planar_result_row_count(res) : 0;
	for (uint64_t i = 0; i < n; i++) {
		char *id = planar_result_value_string(res, 0, i), *text = planar_result_value_string(res, 1, i);
		char *score = planar_result_value_string(res, 2, i), *meta = planar_result_value_string(res, 3, i);
		json_t *m = meta ? json_loads(meta, JSON_DECODE_ANY, NULL) : json_null();
		if (!m)
			m = json_string(meta);
		json_t *item = json_pack("{s:s?,s:s?,s:f,s:o,s:s}", "id", id, "text", text, "score",
					 score ? strtod(score, NULL) : 0.0, "metadata", m ? m : json_null(), "table",
					 pl_buf_cstr(&name));
		if (item)
			json_array_append_new(acc, item);
		planar_free(id);
		planar_free(text);
		planar_free(score);
		planar_free(meta);
	}
	planar_result_free(res);
	pl_buf_dispose(&sql);
	pl_buf_dispose(&name);
	return rc;
}

static int by_score(const void *a, const void *b)
{
	double x = json_real_value(json_object_get(*(json_t *const *)a, "score"));
	double y = json_real_value(json_object_get(*(json_t *const *)b, "score"));
	return x < y ? 1 : x > y ? -1 : 0;
}

int pl_srv_retrieve(pl_srv *s, planar_conn *conn, const char *tenant, const pl_retrieve_req *q, json_t **out,
		    pl_srv_err *kind, char **errmsg)
{
	*out = NULL;
	*errmsg = NULL;
	*kind = PL_SRV_BAD_REQUEST;
	if (!q->query || !*q->query)
		return fail(kind, PL_SRV_BAD_REQUEST, errmsg, "\"query\" is required (the text to search for)%s", NULL);
	if (!pl_srv_utf8_valid(q->query, strlen(q->query)))
		return fail(kind, PL_SRV_BAD_REQUEST, errmsg, "\"query\" must be UTF-8 text%s", NULL);
	if (q->top_k < 1 || q->top_k > RETRIEVE_MAX_TOP_K)
		return fail(kind, PL_SRV_BAD_REQUEST, errmsg, "\"top_k\" must be an integer from 1 to 1000%s", NULL);
	if (q->mode && strcmp(q->mode, "hybrid") && strcmp(q->mode, "bm25") && strcmp(q->mode, "vector"))
		return fail(kind, PL_SRV_BAD_REQUEST, errmsg, "\"mode\" must be hybrid, bm25 or vector, not \"%s\"", q->mode);
	pl_retrieve_req resolved;
	if (q->as_of_text) { /* a timestamp or a world-model snapshot id: the lake snapshot it names */
		resolved = *q;
		resolved.as_of_text = NULL;
		int rc = pl_srv_resolve_as_of(s, conn, q->as_of_text, tenant, &resolved.as_of, errmsg);
		if (rc) {
			*kind = rc == PLANAR_ENOTFOUND ? PL_SRV_NOT_FOUND : rc == PLANAR_EINVALID ? PL_SRV_BAD_REQUEST
												: pl_srv_err_of_planar(rc);
			return rc;
		}
		q = &resolved;
	}
	const char *why = NULL;
	if (q->filter && (!*q->filter || !pl_srv_utf8_valid(q->filter, strlen(q->filter)) || !filter_shape_ok(q->filter, &why)))
		return fail(kind, PL_SRV_BAD_REQUEST, errmsg, "the filter is not allowed: %s",
			    why ? why : "it must be a non-empty SQL predicate");
	pl_strv tables = PL_STRV_INIT;
	int rc = 0;
	if (q->table) {
		char sch[PL_NAME_MAX + 1], tbl[PL_NAME_MAX + 1];
		rc = pl_srv_table_resolve(conn, q->table, sch, tbl, errmsg);
		if (rc) {
			*kind = rc == PLANAR_ENOTFOUND ? PL_SRV_NOT_FOUND : pl_srv_err_of_planar(rc);
			return rc;
		}
		pl_buf b = PL_BUF_INIT;
		pl_buf_printf(&b, "%s.%s", sch, tbl);
		if (pl_buf_oom(&b) || pl_strv_push_owned(&tables, pl_buf_detach(&b)) != 0) {
			pl_buf_dispose(&b);
			return fail(kind, PL_SRV_UNAVAILABLE, errmsg, "out of memory%s", NULL);
		}
	} else if ((rc = search_indexes(conn, &tables, kind, errmsg)) != 0) {
		pl_strv_dispose(&tables);
		return rc;
	}
	json_t *acc = json_array();
	for (size_t i = 0; rc == 0 && i < tables.len; i++) {
		char sch[PL_NAME_MAX + 1], tbl[PL_NAME_MAX + 1];
		const char *dot = strchr(tables.items[i], '.');
		if (!dot || (size_t)(dot - tables.items[i]) > PL_NAME_MAX || strlen(dot + 1) > PL_NAME_MAX)
			continue;
		snprintf(sch, sizeof sch, "%.*s", (int)(dot - tables.items[i]), tables.items[i]);
		snprintf(tbl, sizeof tbl, "%s", dot + 1);
		bool allowed = false;
		char *filter = NULL;
		rc = table_filter(s, conn, tenant, q, sch, tbl, &allowed, &filter, kind, errmsg);
		if (rc == 0 && !allowed && q->table) {
			/* as for a table that does not exist (the sandbox answers the same) */
			rc = fail(kind, PL_SRV_NOT_FOUND, errmsg, "no table \"%s\" in the lake", q->table);
		} else if (rc == 0 && allowed) {
			rc = search_table(conn, q, sch, tbl, filter, acc, kind, errmsg);
		}
		free(filter);
	}
	pl_strv_dispose(&tables);
	if (rc) {
		json_decref(acc);
		return rc;
	}
	size_t n = json_array_size(acc);
	json_t **items = n ? calloc(n, sizeof *items) : NULL;
	json_t *sorted = json_array();
	if (n && !items) {
		json_decref(acc);
		json_decref(sorted);
		return fail(kind, PL_SRV_UNAVAILABLE, errmsg, "out of memory%s", NULL);
	}
	for (size_t i = 0; i < n; i++)
		items[i] = json_array_get(acc, i);
	if (n > 1)
		qsort(items, n, sizeof *items, by_score);
	for (size_t i = 0; i < n && (int64_t)i < q->top_k; i++)
		json_array_append(sorted, items[i]);
	free(items);
	json_decref(acc);
	*out = sorted;
	return 0;
}

/* ---------------------------------------------------------------------------------------------
 * GET /data/retrieve (and POST with a JSON object)
 * ------------------------------------------------------------------------------------------- */

/* A request parameter: from the JSON body (strings; integers for top_k/as_of) or the URL. */
static const char *param(struct MHD_Connection *c, json_t *body, const char *k, char *num, size_t numlen, bool *bad)
{
	if (body) {
		json_t *v = json_object_get(body, k);
		if (!v || json_is_null(v))
			return NULL;
		if (json_is_integer(v) && num) {
			snprintf(num, numlen, "%lld", (long long)json_integer_value(v));
			return num;
		}
		if (!json_is_string(v)) {
			*bad = true;
			return NULL;
		}
		return json_string_value(v);
	}
	const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, k);
	if (v && !pl_srv_utf8_valid(v, strlen(v)))
		*bad = true;
	return v;
}

static bool parse_int(const char *s, int64_t *out)
{
	if (!s || !*s)
		return false;
	char *end = NULL;
	long long n = strtoll(s, &end, 10);
	if (*end || n < 0)
		return false;
	*out = n;
	return true;
}

enum MHD_Result pl_srv_route_retrieve(struct MHD_Connection *c, pl_req *r)
{
	enum MHD_Result ret = MHD_NO;
	json_t *body = NULL;
	if (strcmp(r->method, "POST") == 0 && !(body = pl_srv_body_object(c, r, &ret)))
		return ret;
	static const char *const names[] = {"query", "top_k", "tenant_id", "table", "since", "until", "time_column",
					    "filter", "mode", "as_of"};
	const char *v[10];
	char nums[10][32];
	const char *badname = NULL;
	for (size_t i = 0; i < 10; i++) {
		bool bad = false;
		bool numeric = strcmp(names[i], "top_k") == 0 || strcmp(names[i], "as_of") == 0;
		v[i] = param(c, body, names[i], numeric ? nums[i] : NULL, sizeof nums[i], &bad);
		if (bad && !badname)
			badname = names[i];
	}
	pl_retrieve_req q = {.query = v[0], .top_k = 5, .table = v[3], .since = v[4], .until = v[5],
			     .time_column = v[6], .filter = v[7], .mode = v[8], .as_of = -1};
	const char *tenant = v[2];
	if (badname) {
		char m[96];
		snprintf(m, sizeof m, "the parameter \"%s\" must be UTF-8 text (a string)", badname);
		ret = pl_srv_reply_error(c, r, PL_SRV_BAD_REQUEST, m, NULL);
		goto out;
	}
	if (v[1] && !parse_int(v[1], &q.top_k)) {
		ret = pl_srv_reply_error(c, r, PL_SRV_BAD_REQUEST, "\"top_k\" must be an integer from 1 to 1000", NULL);
		goto out;
	}
	if (v[9] && !parse_int(v[9], &q.as_of)) {
		if (!*v[9] || v[9][0] == '-') {
			ret = pl_srv_reply_error(c, r, PL_SRV_BAD_REQUEST,
						 "\"as_of\" is a lake snapshot id, a timestamp or a world-model snapshot id", NULL);
			goto out;
		}
		q.as_of_text = v[9];
	}
	if (!tenant && (!r->role || strcmp(r->role, "admin") != 0))
		tenant = r->tenant_id;
	if (!pl_srv_authorize_tenant(c, r, tenant, &ret))
		goto out;
	/* an admin naming no tenant reads for every tenant */
	const char *scope = r->role && strcmp(r->role, "admin") == 0 ? tenant : r->tenant_id;
	if (q.table) {
		free(r->target);
		r->target = pl_strdup(q.table);
	}
	pl_srv_lake *l = &r->srv->lake;
	planar_conn *conn = NULL;
	char *msg = NULL;
	if (pl_srv_conn_get(l, &conn, &msg) != 0) {
		ret = pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, msg ? msg : "no session", NULL);
		planar_free(msg);
		goto out;
	}
	int watch = pl_srv_watch_add(r->srv, conn, r->srv->cfg.query_timeout_ms);
	json_t *res = NULL;
	pl_srv_err kind = PL_SRV_INTERNAL;
	int rc = pl_srv_retrieve(r->srv, conn, scope, &q, &res, &kind, &msg);
	bool fired = pl_srv_watch_remove(r->srv, watch);
	pl_srv_conn_put(l, conn, !fired);
	if (rc) {
		ret = fired ? pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, "the retrieval ran longer than its time limit",
						 json_pack("{s:I}", "query_timeout_ms", (json_int_t)r->srv->cfg.query_timeout_ms))
			    : pl_srv_reply_error(c, r, kind, msg ? msg : "retrieval failed", NULL);
		free(msg);
		goto out;
	}
	r->rows = (int64_t)json_array_size(res);
	ret = pl_srv_reply_json(c, r, 200, res);
out:
	json_decref(body);
	return ret;
}
