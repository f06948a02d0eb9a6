/*
 * mcp_tools.c -- the tools of the MCP server, all read-only and tenant-scoped (tenant.c):
 *
 *   list_tables     the lake tables the caller may read, with their columns
 *   describe_table  one table: columns, rows the caller sees, the lake's current snapshot
 *   query           one SELECT through the query sandbox of /data/query (limit, as_of)
 *   retrieve        semantic retrieval, as GET /data/retrieve (retrieve.c)
 *   list_snapshots, get_snapshot, table_history   (mcp_history.c)
 *
 * A tenant's calls see only the tables its policy allows and only its rows of a table that holds
 * several tenants' rows (it has a tenant_id column): query through the sandbox and row filter of
 * /data/query, the others through pl_srv_tenant_scope.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "server/mcp.h"
#include "server/policy.h"

#define TOOL_DEFAULT_LIMIT 100

typedef int (*tool_fn)(pl_mcp_call *call, json_t *args, json_t **result, char **errmsg);

typedef struct tool_def {
	const char *name, *title, *description;
	const char *schema; /* the arguments' JSON Schema */
	tool_fn fn;
} tool_def;

static atomic_ulong calls_ok, calls_failed;

int pl_mcp_tool_err(char **errmsg, const char *fmt, const char *a, const char *b)
{
	pl_buf m = PL_BUF_INIT;
	pl_buf_printf(&m, fmt, a ? a : "", b ? b : "");
	*errmsg = pl_buf_detach(&m);
	return PLANAR_EINVALID;
}

/* ---- arguments ---- */

int pl_mcp_arg_str(json_t *args, const char *k, bool required, const char **out, char **errmsg)
{
	json_t *v = json_object_get(args, k);
	*out = NULL;
	if (!v || json_is_null(v))
		return required ? pl_mcp_tool_err(errmsg, "the argument \"%s\" is required%s", k, NULL) : 0;
	if (!json_is_string(v))
		return pl_mcp_tool_err(errmsg, "the argument \"%s\" must be a string%s", k, NULL);
	*out = json_string_value(v);
	if (!pl_srv_utf8_valid(*out, json_string_length(v)))
		return pl_mcp_tool_err(errmsg, "the argument \"%s\" must be UTF-8 text without NUL%s", k, NULL);
	return 0;
}

int pl_mcp_arg_int(json_t *args, const char *k, int64_t min, int64_t max, int64_t *out, char **errmsg)
{
	json_t *v = json_object_get(args, k);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		char lim[64];
		snprintf(lim, sizeof lim, "from %lld to %lld", (long long)min, (long long)max);
		return pl_mcp_tool_err(errmsg, "the argument \"%s\" must be an integer %s", k, lim);
	}
	*out = json_integer_value(v);
	return 0;
}

/* Refuses arguments the tool's schema does not name. */
static int args_known(json_t *args, const char *schema, char **errmsg)
{
	json_t *s = json_loads(schema, 0, NULL);
	json_t *props = json_object_get(s, "properties");
	const char *k;
	json_t *v;
	int rc = 0;
	json_object_foreach(args, k, v)
	{
		if (!json_object_get(props, k)) {
			rc = pl_mcp_tool_err(errmsg, "unknown argument \"%s\"%s", k, NULL);
			break;
		}
	}
	json_decref(s);
	return rc;
}

/* ---- results as JSON ---- */

int pl_mcp_result_json(planar_result *res, int64_t cap, bool objects, json_t **out, char **errmsg)
{
	*out = NULL;
	size_t ncols = planar_result_column_count(res);
	planar_type *types = calloc(ncols ? ncols : 1, sizeof *types);
	bool *is_json = calloc(ncols ? ncols : 1, sizeof *is_json);
	json_t *cols = json_array(), *rows = json_array();
	int rc = (!types || !is_json || !cols || !rows) ? PLANAR_ENOMEM : 0;
	for (size_t i = 0; rc == 0 && i < ncols; i++) {
		const char *name = planar_result_column_name(res, i), *type = planar_result_column_type(res, i);
		types[i] = planar_result_column_type_id(res, i);
		is_json[i] = type && strcmp(type, "JSON") == 0;
		json_array_append_new(cols, json_pack("{s:s,s:s}", "name", name ? name : "", "type", type ? type : ""));
	}
	int64_t sent = 0;
	bool truncated = false, done = false;
	pl_buf b = PL_BUF_INIT;
	while (rc == 0 && !done) {
		size_t n = 0;
		if (planar_result_next_chunk(res, &n) != 0) {
			const char *m = planar_result_errmsg(res);
			*errmsg = pl_strdup(m && *m ? m : "the query failed");
			rc = PLANAR_ERROR;
			break;
		}
		if (n == 0)
			break;
		for (size_t r = 0; r < n; r++) {
			if (sent >= cap) {
				truncated = true;
				done = true;
				break;
			}
			pl_buf_truncate(&b, 0);
			pl_buf_putc(&b, objects ? '{' : '[');
			for (size_t c = 0; c < ncols; c++) {
				if (c)
					pl_buf_putc(&b, ',');
				if (objects) {
					const char *name = planar_result_column_name(res, c);
					pl_srv_put_json_string(&b, name ? name : "", name ? strlen(name) : 0);
					pl_buf_putc(&b, ':');
				}
				const char *text = NULL;
				size_t len = 0;
				json_t *j = NULL;
				if (is_json[c] && !planar_result_chunk_is_null(res, c, r) &&
				    planar_result_get_text(res, c, r, &text, &len) == 0 &&
				    (j = json_loadb(text, len, JSON_DECODE_ANY, NULL)) != NULL) {
					char *dumped = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
					pl_buf_puts(&b, dumped ? dumped : "null");
					free(dumped);
					json_decref(j);
				} else {
					pl_srv_put_value(&b, res, types[c], c, r);
				}
			}
			pl_buf_putc(&b, objects ? '}' : ']');
			json_t *row = pl_buf_oom(&b) ? NULL : json_loadb(b.ptr, b.len, JSON_DECODE_ANY, NULL);
			if (!row) {
				*errmsg = pl_strdup("a row could not be written as JSON");
				rc = PLANAR_ERROR;
				break;
			}
			json_array_append_new(rows, row);
			sent++;
		}
	}
	pl_buf_dispose(&b);
	free(types);
	free(is_json);
	if (rc == 0)
		*out = json_pack("{s:o,s:o,s:I,s:b}", "columns", cols, "rows", rows, "row_count", (json_int_t)sent,
				 "truncated", truncated);
	if (rc || !*out) {
		if (rc == 0) {
			json_decref(cols);
			json_decref(rows);
		}
		if (!*errmsg)
			*errmsg = pl_strdup("out of memory");
		return rc ? rc : PLANAR_ENOMEM;
	}
	return 0;
}

/* Runs a prepared statement with text parameters (NULL binds NULL) and returns its rows. */
int pl_mcp_run(planar_conn *conn, const char *sql, const char *const *params, size_t nparams, int64_t cap,
		      bool objects, json_t **out, char **errmsg)
{
	planar_stmt *st = NULL;
	planar_result *res = NULL;
	int rc = planar_prepare(conn, sql, &st);
	for (size_t i = 0; rc == 0 && i < nparams; i++)
		rc = params[i] ? planar_stmt_bind_text(st, i + 1, params[i], strlen(params[i])) : planar_stmt_bind_null(st, i + 1);
	if (rc == 0)
		rc = planar_stmt_execute_stream(st, &res);
	if (rc) {
		*errmsg = pl_strdup(planar_conn_errmsg(conn));
		planar_stmt_free(st);
		return rc;
	}
	rc = pl_mcp_result_json(res, cap, objects, out, errmsg);
	planar_result_free(res);
	planar_stmt_free(st);
	return rc;
}

int64_t pl_mcp_row_cap(pl_mcp_call *call)
{
	return call->srv->cfg.row_cap > 0 ? call->srv->cfg.row_cap : 100000;
}

/* Resolves a table argument and applies the tenant check: stored names and the row predicate. */
int pl_mcp_scoped_table(pl_mcp_call *call, const char *name, char *sch, char *tbl, char **row_filter, char **errmsg)
{
	*row_filter = NULL;
	int rc = pl_srv_table_resolve(call->conn, name, sch, tbl, errmsg);
	if (rc)
		return rc;
	bool allowed = false;
	rc = pl_srv_tenant_scope(call->srv, call->conn, call->tenant, sch, tbl, &allowed, row_filter, errmsg);
	if (rc == 0 && !allowed) {
		free(*row_filter);
		*row_filter = NULL;
		return pl_mcp_tool_err(errmsg, "no table \"%s\" in the lake%s", name, NULL); /* not even its name */
	}
	return rc;
}

static void put_qualified(pl_buf *b, const char *sch, const char *tbl)
{
	pl_buf_puts(b, PL_SRV_LAKE ".");
	pl_buf_put_ident(b, sch);
	pl_buf_putc(b, '.');
	pl_buf_put_ident(b, tbl);
}

/* ---- list_tables, describe_table ---- */

static int t_list_tables(pl_mcp_call *call, json_t *args, json_t **result, char **errmsg)
{
	const char *schema = NULL;
	int rc = pl_mcp_arg_str(args, "schema", false, &schema, errmsg);
	if (rc)
		return rc;
	json_t *names = NULL;
	const char *params[1] = {schema};
	rc = pl_mcp_run(call->conn,
			"SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = '" PL_SRV_LAKE "' "
			"AND table_name NOT LIKE '\\_\\_planar%' ESCAPE '\\' AND ($1 IS NULL OR lower(schema_name) = lower($1)) "
			"ORDER BY schema_name, table_name",
			params, 1, 100000, false, &names, errmsg);
	if (rc)
		return rc;
	/* which tables have a search index (none when the lake has no search) */
	pl_strv indexed = PL_STRV_INIT;
	planar_result *ix = NULL;
	if (planar_conn_query(call->conn, "FROM " PL_SRV_LAKE ".search_indexes()", &ix) == 0) {
		size_t cs = SIZE_MAX, ct = SIZE_MAX;
		for (size_t i = 0; i < planar_result_column_count(ix); i++) {
			const char *n = planar_result_column_name(ix, i);
			if (n && (pl_str_ieq(n, "schema_name") || pl_str_ieq(n, "schema")))
				cs = i;
			else if (n && (pl_str_ieq(n, "table_name") || pl_str_ieq(n, "table")))
				ct = i;
		}
		for (uint64_t i = 0; ct != SIZE_MAX && i < planar_result_row_count(ix); i++) {
			char *s = cs == SIZE_MAX ? NULL : planar_result_value_string(ix, cs, i);
			char *t = planar_result_value_string(ix, ct, i);
			pl_buf b = PL_BUF_INIT;
			if (s && !strchr(t ? t : "", '.'))
				pl_buf_printf(&b, "%s.", s);
			pl_buf_puts(&b, t ? t : "");
			pl_strv_push_owned(&indexed, pl_buf_detach(&b));
			planar_free(s);
			planar_free(t);
		}
	}
	planar_result_free(ix);
	json_t *tables = json_array();
	size_t i;
	json_t *row;
	json_array_foreach(json_object_get(names, "rows"), i, row)
	{
		const char *sch = json_string_value(json_array_get(row, 0)), *tbl = json_string_value(json_array_get(row, 1));
		if (!sch || !tbl)
			continue;
		bool allowed = false;
		char *filter = NULL;
		json_t *cols = NULL;
		rc = pl_srv_tenant_scope(call->srv, call->conn, call->tenant, sch, tbl, &allowed, &filter, errmsg);
		if (rc == 0 && allowed)
			rc = pl_srv_table_columns(call->conn, sch, tbl, &cols, errmsg);
		if (rc) {
			free(filter);
			break;
		}
		if (allowed) {
			char full[2 * PL_NAME_MAX + 2];
			snprintf(full, sizeof full, "%s.%s", sch, tbl);
			bool has_index = false;
			for (size_t k = 0; k < indexed.len; k++)
				has_index = has_index || pl_str_ieq(indexed.items[k], full);
			json_array_append_new(tables, json_pack("{s:s,s:s,s:s,s:o,s:b,s:b}", "name", full, "schema", sch,
								"table", tbl, "columns", cols, "search_index", has_index,
								"tenant_rows_only", filter != NULL));
		}
		free(filter);
	}
	pl_strv_dispose(&indexed);
	json_decref(names);
	if (rc) {
		json_decref(tables);
		return rc;
	}
	*result = json_pack("{s:o}", "tables", tables);
	return 0;
}

static int t_describe_table(pl_mcp_call *call, json_t *args, json_t **result, char **errmsg)
{
	const char *name = NULL;
	int rc = pl_mcp_arg_str(args, "table", true, &name, errmsg);
	if (rc)
		return rc;
	char sch[PL_NAME_MAX + 1], tbl[PL_NAME_MAX + 1];
	char *filter = NULL;
	if ((rc = pl_mcp_scoped_table(call, name, sch, tbl, &filter, errmsg)) != 0)
		return rc;
	json_t *cols = NULL, *count = NULL, *snap = NULL;
	rc = pl_srv_table_columns(call->conn, sch, tbl, &cols, errmsg);
	if (rc == 0) {
		pl_buf q = PL_BUF_INIT;
		pl_buf_puts(&q, "SELECT count(*) FROM ");
		put_qualified(&q, sch, tbl);
		if (filter)
			pl_buf_printf(&q, " WHERE %s", filter);
		rc = pl_mcp_run(call->conn, pl_buf_cstr(&q), NULL, 0, 1, false, &count, errmsg);
		pl_buf_dispose(&q);
	}
	if (rc == 0)
		rc = pl_mcp_run(call->conn, "SELECT id FROM " PL_SRV_LAKE ".current_snapshot()", NULL, 0, 1, false, &snap,
				errmsg);
	if (rc == 0) {
		json_t *n = json_array_get(json_array_get(json_object_get(count, "rows"), 0), 0);
		json_t *s = json_array_get(json_array_get(json_object_get(snap, "rows"), 0), 0);
		char full[2 * PL_NAME_MAX + 2];
		snprintf(full, sizeof full, "%s.%s", sch, tbl);
		*result = json_pack("{s:s,s:s,s:s,s:O,s:O,s:O,s:b}", "name", full, "schema", sch, "table", tbl, "columns",
				    cols, "row_count", n ? n : json_null(), "lake_snapshot_id", s ? s : json_null(),
				    "tenant_rows_only", filter != NULL);
	}
	free(filter);
	json_decref(cols);
	json_decref(count);
	json_decref(snap);
	return rc;
}

/* ---- query ---- */

/* as_of: a lake snapshot id, or a timestamp / world-model snapshot id resolved to one. */
static int as_of_arg(pl_mcp_call *call, json_t *args, int64_t *out, char **errmsg)
{
	json_t *v = json_object_get(args, "as_of");
	if (json_is_string(v))
		return pl_srv_resolve_as_of(call->srv, call->conn, json_string_value(v), call->tenant, out, errmsg);
	return pl_mcp_arg_int(args, "as_of", 0, INT64_MAX, out, errmsg);
}

static int t_query(pl_mcp_call *call, json_t *args, json_t **result, char **errmsg)
{
	const char *sql = NULL;
	int64_t limit = TOOL_DEFAULT_LIMIT, as_of = -1;
	int rc = pl_mcp_arg_str(args, "sql", true, &sql, errmsg);
	if (rc == 0)
		rc = pl_mcp_arg_int(args, "limit", 0, pl_mcp_row_cap(call), &limit, errmsg);
	if (rc == 0)
		rc = as_of_arg(call, args, &as_of, errmsg);
	if (rc)
		return rc;
	pl_srv_lake *l = &call->srv->lake;
	char db[64] = PL_SRV_LAKE;
	bool pinned = false;
	if (as_of >= 0) {
		char *msg = NULL;
		rc = pl_srv_lake_at(l, as_of, db, &msg);
		if (rc == 0) {
			char use[96];
			snprintf(use, sizeof use, "USE %s", db);
			pinned = true;
			if ((rc = planar_conn_query(call->conn, use, NULL)) != 0)
				msg = pl_strdup(planar_conn_errmsg(call->conn));
		}
		if (rc)
			*errmsg = msg ? msg : pl_strdup("cannot open the lake at that snapshot");
	}
	char *why = NULL;
	pl_srv_parsed parsed = {0};
	if (rc == 0) {
		pl_srv_policy pol;
		pl_err perr;
		pl_err_clear(&perr);
		rc = pl_srv_policy_load(call->srv, call->tenant, &pol, &perr);
		if (rc)
			why = pl_strdup(perr.msg);
		else
			rc = pl_srv_sandbox_check(l, call->conn, db, sql, &pol, &parsed, &why);
		pl_srv_policy_free(&pol);
		if (rc) {
			pl_buf m = PL_BUF_INIT;
			pl_buf_printf(&m, "the query is not allowed: %s", why ? why : "it could not be checked");
			free(why);
			why = NULL;
			*errmsg = pl_buf_detach(&m);
		}
	}
	/* a tenant reads only its rows of tables with a tenant_id column, as with /data/query */
	char *filtered = NULL;
	if (rc == 0 && (rc = pl_srv_rowfilter(call->conn, db, &parsed, call->tenant, &filtered, &why)) != 0) {
		*errmsg = why ? why : pl_strdup("the query is not allowed");
		why = NULL;
	}
	pl_srv_parsed_free(&parsed);
	if (rc == 0) {
		planar_result *res = NULL;
		rc = planar_conn_query_stream(call->conn, filtered ? filtered : sql, &res);
		if (rc)
			*errmsg = pl_strdup(planar_conn_errmsg(call->conn));
		else
			rc = pl_mcp_result_json(res, limit, false, result, errmsg);
		planar_result_free(res);
	}
	planar_free(filtered);
	if (pinned) {
		if (planar_conn_query(call->conn, "USE " PL_SRV_LAKE, NULL) != 0)
			call->broken = true; /* the session is not put back in the pool */
		pl_srv_lake_at_done(l, as_of);
	}
	return rc;
}

/* ---- retrieve ---- */

static int t_retrieve(pl_mcp_call *call, json_t *args, json_t **result, char **errmsg)
{
	pl_retrieve_req q = {.top_k = 5, .as_of = -1};
	int rc = pl_mcp_arg_str(args, "query", true, &q.query, errmsg);
	if (rc == 0)
		rc = pl_mcp_arg_int(args, "top_k", 1, 1000, &q.top_k, errmsg);
	if (rc == 0)
		rc = pl_mcp_arg_str(args, "table", false, &q.table, errmsg);
	if (rc == 0)
		rc = pl_mcp_arg_str(args, "since", false, &q.since, errmsg);
	if (rc == 0)
		rc = pl_mcp_arg_str(args, "until", false, &q.until, errmsg);
	if (rc == 0)
		rc = pl_mcp_arg_str(args, "time_column", false, &q.time_column, errmsg);
	if (rc == 0)
		rc = pl_mcp_arg_str(args, "filter", false, &q.filter, errmsg);
	if (rc == 0)
		rc = pl_mcp_arg_str(args, "mode", false, &q.mode, errmsg);
	if (rc == 0)
		rc = as_of_arg(call, args, &q.as_of, errmsg);
	if (rc)
		return rc;
	json_t *items = NULL;
	pl_srv_err kind;
	rc = pl_srv_retrieve(call->srv, call->conn, call->tenant, &q, &items, &kind, errmsg);
	if (rc)
		return rc;
	*result = json_pack("{s:o}", "results", items);
	return 0;
}

/* ---- the table of tools ---- */

static const tool_def tools[] = {
	{"list_tables", "List tables",
	 "The lake tables you may read, each with its columns (name, type, nullable), whether it has a search index "
	 "(for retrieve) and whether you see only your tenant's rows.",
	 "{\"type\":\"object\",\"properties\":{\"schema\":{\"type\":\"string\",\"description\":\"only tables of this "
	 "schema\"}},\"additionalProperties\":false}",
	 t_list_tables},
	{"describe_table", "Describe a table",
	 "One lake table: its columns, how many rows you see, and the lake's current snapshot id.",
	 "{\"type\":\"object\",\"properties\":{\"table\":{\"type\":\"string\",\"description\":\"table or schema.table\"}},"
	 "\"required\":[\"table\"],\"additionalProperties\":false}",
	 t_describe_table},
	{"query", "Run a read-only SQL query",
	 "Runs one read-only SELECT (DuckDB SQL; WITH and FROM-first forms too) over the lake's tables and returns "
	 "{columns, rows, row_count, truncated}. Files, settings, catalog functions and writes are refused.",
	 "{\"type\":\"object\",\"properties\":{\"sql\":{\"type\":\"string\",\"description\":\"one SELECT\"},\"limit\":{"
	 "\"type\":\"integer\",\"minimum\":0,\"description\":\"most rows returned (default 100)\"},\"as_of\":{\"type\":"
	 "[\"integer\",\"string\"],\"description\":\"read the lake as of a snapshot id, a timestamp or a world-model "
	 "snapshot id\"}},\"required\":[\"sql\"],"
	 "\"additionalProperties\":false}",
	 t_query},
	{"retrieve", "Semantic retrieval",
	 "Finds the rows most relevant to a text among the lake's search indexes (or one table) and returns them best "
	 "first as {results: [{id, text, score, metadata, table}]}.",
	 "{\"type\":\"object\",\"properties\":{\"query\":{\"type\":\"string\",\"description\":\"what to look for\"},"
	 "\"top_k\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":1000,\"default\":5},\"table\":{\"type\":\"string\","
	 "\"description\":\"search only this table (schema.table)\"},\"since\":{\"type\":\"string\",\"description\":"
	 "\"rows at or after this time (ISO 8601) on the table's time column\"},\"until\":{\"type\":\"string\","
	 "\"description\":\"rows before this time\"},\"time_column\":{\"type\":\"string\",\"description\":\"the column "
	 "since/until apply to (default: the table's time column)\"},\"filter\":{\"type\":\"string\",\"description\":"
	 "\"SQL predicate on the table's columns\"},\"mode\":{\"type\":\"string\",\"enum\":[\"hybrid\",\"bm25\","
	 "\"vector\"]},\"as_of\":{\"type\":[\"integer\",\"string\"],\"description\":\"lake snapshot id, timestamp or "
	 "world-model snapshot id\"}},"
	 "\"required\":[\"query\"],\"additionalProperties\":false}",
	 t_retrieve},
	{"list_snapshots", "List world-model snapshots",
	 "World-model snapshots (world_model.snapshots), newest first: snapshot_id, tenant_id, intent_id, timestamp, "
	 "lake_snapshot_id. Filter by intent and time.",
	 "{\"type\":\"object\",\"properties\":{\"intent_id\":{\"type\":\"string\"},\"from\":{\"type\":\"string\","
	 "\"description\":\"at or after this time (ISO 8601)\"},\"to\":{\"type\":\"string\",\"description\":\"at or "
	 "before this time\"},\"limit\":{\"type\":\"integer\",\"minimum\":1,\"default\":100}},\"additionalProperties\":"
	 "false}",
	 pl_mcp_list_snapshots},
	{"get_snapshot", "Read a world-model snapshot",
	 "One world-model snapshot with its agents_active, user_plane and causal_chain as JSON.",
	 "{\"type\":\"object\",\"properties\":{\"snapshot_id\":{\"type\":\"string\"}},\"required\":[\"snapshot_id\"],"
	 "\"additionalProperties\":false}",
	 pl_mcp_get_snapshot},
	{"table_history", "Show a table's history",
	 "The lake snapshots that changed a table (newest first: id, time, schema version, changes, author, message) "
	 "and, unless changes is false, its rows' changes between from_snapshot and to_snapshot (the change feed: "
	 "insert, delete, update_preimage, update_postimage).",
	 "{\"type\":\"object\",\"properties\":{\"table\":{\"type\":\"string\"},\"from_snapshot\":{\"type\":\"integer\","
	 "\"minimum\":0},\"to_snapshot\":{\"type\":\"integer\",\"minimum\":0},\"changes\":{\"type\":\"boolean\","
	 "\"default\":true},\"limit\":{\"type\":\"integer\",\"minimum\":1,\"default\":100}},\"required\":[\"table\"],"
	 "\"additionalProperties\":false}",
	 pl_mcp_table_history},
};
#define NTOOLS (sizeof tools / sizeof tools[0])

json_t *pl_mcp_tools_list(void)
{
	json_t *list = json_array();
	for (size_t i = 0; i < NTOOLS; i++) {
		json_t *schema = json_loads(tools[i].schema, 0, NULL);
		json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:o,s:{s:b,s:b,s:b,s:b}}", "name", tools[i].name, "title",
						      tools[i].title, "description", tools[i].description, "inputSchema",
						      schema ? schema : json_object(), "annotations", "readOnlyHint", 1,
						      "destructiveHint", 0, "idempotentHint", 1, "openWorldHint", 0));
	}
	return json_pack("{s:o}", "tools", list);
}

bool pl_mcp_tool_exists(const char *name)
{
	for (size_t i = 0; i < NTOOLS; i++)
		if (strcmp(tools[i].name, name) == 0)
			return true;
	return false;
}

int pl_mcp_tool_call(pl_mcp_call *call, const char *name, json_t *args, json_t **result, char **errmsg)
{
	*result = NULL;
	*errmsg = NULL;
	for (size_t i = 0; i < NTOOLS; i++) {
		if (strcmp(tools[i].name, name) != 0)
			continue;
		int rc = args_known(args, tools[i].schema, errmsg);
		if (rc == 0)
			rc = tools[i].fn(call, args, result, errmsg);
		if (rc == 0 && !*result) {
			*errmsg = pl_strdup("out of memory");
			rc = PLANAR_ENOMEM;
		}
		if (rc && !*errmsg)
			*errmsg = pl_strdup("the tool failed");
		atomic_fetch_add(rc ? &calls_failed : &calls_ok, 1);
		return rc;
	}
	*errmsg = pl_strdup("no such tool");
	return PLANAR_ENOTFOUND;
}

void pl_mcp_metrics(pl_buf *b)
{
	pl_buf_printf(b,
		      "# HELP planar_serve_mcp_tool_calls_total MCP tool calls, by outcome.\n"
		      "# TYPE planar_serve_mcp_tool_calls_total counter\n"
		      "planar_serve_mcp_tool_calls_total{outcome=\"ok\"} %lu\n"
		      "planar_serve_mcp_tool_calls_total{outcome=\"error\"} %lu\n",
		      (unsigned long)atomic_load(&calls_ok), (unsigned long)atomic_load(&calls_failed));
}
