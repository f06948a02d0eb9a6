/*
 * mcp_history.c -- the MCP tools over history (see mcp_tools.c for the others):
 *
 *   list_snapshots  world-model snapshots (world_model.snapshots): intent_id, from, to, limit
 *   get_snapshot    one world-model snapshot, its JSON fields as JSON
 *   table_history   the lake snapshots that changed a table, and its rows' changes between two
 *                   snapshots (the change feed, lake.<schema>.table_changes)
 *
 * Both tables are read through the tenant scope: a tenant sees its own snapshots and rows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/service.h"
#include "core/str.h"
#include "server/mcp.h"

#define TOOL_DEFAULT_LIMIT 100
#define WORLD_SCHEMA "world_model"
#define WORLD_TABLE "snapshots"

/* ---- world-model snapshots ---- */

static int world_table(pl_mcp_call *call, char **filter, char **errmsg)
{
	char sch[PL_NAME_MAX + 1], tbl[PL_NAME_MAX + 1];
	char *ignored = NULL;
	int rc = pl_srv_table_resolve(call->conn, WORLD_SCHEMA "." WORLD_TABLE, sch, tbl, &ignored);
	free(ignored);
	if (rc == 0 && (strcmp(sch, WORLD_SCHEMA) != 0 || strcmp(tbl, WORLD_TABLE) != 0))
		rc = PLANAR_ENOTFOUND;
	if (rc)
		return pl_mcp_tool_err(errmsg, "this lake has no world-model snapshots (no table " WORLD_SCHEMA "." WORLD_TABLE ")%s%s",
				NULL, NULL);
	return pl_mcp_scoped_table(call, WORLD_SCHEMA "." WORLD_TABLE, sch, tbl, filter, errmsg);
}

int pl_mcp_list_snapshots(pl_mcp_call *call, json_t *args, json_t **result, char **errmsg)
{
	const char *intent = NULL, *from = NULL, *to = NULL;
	int64_t limit = TOOL_DEFAULT_LIMIT;
	int rc = pl_mcp_arg_str(args, "intent_id", false, &intent, errmsg);
	if (rc == 0)
		rc = pl_mcp_arg_str(args, "from", false, &from, errmsg);
	if (rc == 0)
		rc = pl_mcp_arg_str(args, "to", false, &to, errmsg);
	if (rc == 0)
		rc = pl_mcp_arg_int(args, "limit", 1, pl_mcp_row_cap(call), &limit, errmsg);
	char *filter = NULL;
	if (rc == 0)
		rc = world_table(call, &filter, errmsg);
	if (rc)
		return rc;
	/* from/to are checked as timestamps first: a clear message instead of a cast error */
	const char *bounds[2] = {from, to};
	for (int i = 0; i < 2; i++) {
		if (!bounds[i])
			continue;
		json_t *ok = NULL;
		const char *p[1] = {bounds[i]};
		char *ignored = NULL;
		if (pl_mcp_run(call->conn, "SELECT TRY_CAST(CAST($1 AS VARCHAR) AS TIMESTAMPTZ) IS NOT NULL", p, 1, 1, false,
			       &ok, &ignored) != 0 ||
		    !json_is_true(json_array_get(json_array_get(json_object_get(ok, "rows"), 0), 0))) {
			free(ignored);
			json_decref(ok);
			free(filter);
			return pl_mcp_tool_err(errmsg, "the argument \"%s\" must be a timestamp such as 2026-12-01T10:00:00Z%s",
					i ? "to" : "from", NULL);
		}
		free(ignored);
		json_decref(ok);
	}
	pl_buf q = PL_BUF_INIT;
	pl_buf_puts(&q, "SELECT snapshot_id, tenant_id, intent_id, \"timestamp\", lake_snapshot_id FROM " PL_SRV_LAKE
			"." WORLD_SCHEMA "." WORLD_TABLE " WHERE ($1 IS NULL OR intent_id = $1) AND ($2 IS NULL OR "
			"\"timestamp\" >= CAST(CAST($2 AS VARCHAR) AS TIMESTAMPTZ)) AND ($3 IS NULL OR \"timestamp\" <= "
			"CAST(CAST($3 AS VARCHAR) AS TIMESTAMPTZ))");
	if (filter)
		pl_buf_printf(&q, " AND %s", filter);
	pl_buf_puts(&q, " ORDER BY \"timestamp\" DESC, snapshot_id");
	const char *params[3] = {intent, from, to};
	json_t *rows = NULL;
	rc = pl_buf_oom(&q) ? PLANAR_ENOMEM : pl_mcp_run(call->conn, pl_buf_cstr(&q), params, 3, limit, true, &rows, errmsg);
	pl_buf_dispose(&q);
	free(filter);
	if (rc)
		return rc;
	*result = json_pack("{s:O,s:O,s:O}", "snapshots", json_object_get(rows, "rows"), "count",
			    json_object_get(rows, "row_count"), "truncated", json_object_get(rows, "truncated"));
	json_decref(rows);
	return 0;
}

int pl_mcp_get_snapshot(pl_mcp_call *call, json_t *args, json_t **result, char **errmsg)
{
	const char *id = NULL;
	int rc = pl_mcp_arg_str(args, "snapshot_id", true, &id, errmsg);
	char *filter = NULL;
	if (rc == 0)
		rc = world_table(call, &filter, errmsg);
	if (rc)
		return rc;
	pl_buf q = PL_BUF_INIT;
	pl_buf_puts(&q, "SELECT snapshot_id, tenant_id, intent_id, \"timestamp\", agents_active, user_plane, causal_chain, "
			"lake_snapshot_id FROM " PL_SRV_LAKE "." WORLD_SCHEMA "." WORLD_TABLE " WHERE snapshot_id = $1");
	if (filter)
		pl_buf_printf(&q, " AND %s", filter);
	const char *params[1] = {id};
	json_t *rows = NULL;
	rc = pl_buf_oom(&q) ? PLANAR_ENOMEM : pl_mcp_run(call->conn, pl_buf_cstr(&q), params, 1, 1, true, &rows, errmsg);
	pl_buf_dispose(&q);
	free(filter);
	if (rc)
		return rc;
	json_t *row = json_array_get(json_object_get(rows, "rows"), 0);
	if (!row) {
		json_decref(rows);
		return pl_mcp_tool_err(errmsg, "no world-model snapshot \"%s\"%s", id, NULL);
	}
	*result = json_incref(row);
	json_decref(rows);
	return 0;
}

/* ---- table_history ---- */

int pl_mcp_table_history(pl_mcp_call *call, json_t *args, json_t **result, char **errmsg)
{
	const char *name = NULL;
	int64_t from = -1, to = -1, limit = TOOL_DEFAULT_LIMIT;
	bool changes = true;
	int rc = pl_mcp_arg_str(args, "table", true, &name, errmsg);
	if (rc == 0)
		rc = pl_mcp_arg_int(args, "from_snapshot", 0, INT64_MAX, &from, errmsg);
	if (rc == 0)
		rc = pl_mcp_arg_int(args, "to_snapshot", 0, INT64_MAX, &to, errmsg);
	if (rc == 0)
		rc = pl_mcp_arg_int(args, "limit", 1, pl_mcp_row_cap(call), &limit, errmsg);
	json_t *cv = json_object_get(args, "changes");
	if (rc == 0 && cv && !json_is_boolean(cv))
		rc = pl_mcp_tool_err(errmsg, "the argument \"changes\" must be true or false%s%s", NULL, NULL);
	if (rc)
		return rc;
	if (cv)
		changes = json_is_true(cv);
	char sch[PL_NAME_MAX + 1], tbl[PL_NAME_MAX + 1];
	char *filter = NULL;
	if ((rc = pl_mcp_scoped_table(call, name, sch, tbl, &filter, errmsg)) != 0)
		return rc;
	/* the snapshots whose changes name the table (DuckDB's spelling: quoted when needed) */
	pl_buf plain = PL_BUF_INIT, quoted = PL_BUF_INIT, q = PL_BUF_INIT;
	pl_buf_printf(&plain, "%s.%s", sch, tbl);
	pl_buf_put_ident(&quoted, sch);
	pl_buf_putc(&quoted, '.');
	pl_buf_put_ident(&quoted, tbl);
	/* inserts and deletes name the table by its id, creation and drops by its name */
	int64_t table_id = -1, current = -1, version = -1;
	pl_err err;
	pl_err_clear(&err);
	pthread_mutex_lock(&call->srv->lake.svc_lock);
	rc = pl_service_table_id(call->srv->lake.svc, sch, tbl, &table_id, &err);
	if (rc == 0)
		rc = pl_service_current(call->srv->lake.svc, &current, &version, &err);
	pthread_mutex_unlock(&call->srv->lake.svc_lock);
	if (rc) {
		*errmsg = pl_strdup(err.msg);
		pl_buf_dispose(&plain);
		pl_buf_dispose(&quoted);
		free(filter);
		return rc;
	}
	pl_buf_puts(&q, "SELECT snapshot_id, snapshot_time, schema_version, changes, author, commit_message FROM "
			PL_SRV_LAKE ".snapshots() WHERE ($3 IS NULL OR snapshot_id >= CAST($3 AS BIGINT)) AND "
			"($4 IS NULL OR snapshot_id <= CAST($4 AS BIGINT)) AND EXISTS (SELECT 1 FROM (SELECT "
			"unnest(flatten(map_values(changes))) AS n) WHERE n = $1 OR n = $2 OR (n = $5 AND $6) OR n = $7) "
			"ORDER BY snapshot_id DESC");
	char fs[32], ts[32], ids[32];
	snprintf(fs, sizeof fs, "%lld", (long long)from);
	snprintf(ts, sizeof ts, "%lld", (long long)to);
	snprintf(ids, sizeof ids, "%lld", (long long)table_id);
	const char *params[7] = {pl_buf_cstr(&plain), pl_buf_cstr(&quoted), from >= 0 ? fs : NULL, to >= 0 ? ts : NULL, tbl,
				 strcmp(sch, "main") == 0 ? "true" : "false", ids};
	json_t *snaps = NULL, *feed = NULL;
	rc = pl_mcp_run(call->conn, pl_buf_cstr(&q), params, 7, limit, true, &snaps, errmsg);
	pl_buf_dispose(&q);
	if (rc == 0 && changes) {
		/* the change feed between from (default: the table's first snapshot) and to (default: now) */
		int64_t start = from, end = to >= 0 ? to : current;
		if (start < 0) {
			json_t *rows = json_object_get(snaps, "rows");
			start = 0;
			if (json_array_size(rows) > 0)
				start = json_integer_value(json_object_get(json_array_get(rows, json_array_size(rows) - 1), "snapshot_id"));
		}
		if (rc == 0) {
			pl_buf f = PL_BUF_INIT;
			pl_buf_puts(&f, "SELECT * FROM " PL_SRV_LAKE ".");
			pl_buf_put_ident(&f, sch);
			pl_buf_puts(&f, ".table_changes(");
			pl_buf_put_literal(&f, tbl);
			pl_buf_printf(&f, ", %lld, %lld)", (long long)start, (long long)end);
			if (filter)
				pl_buf_printf(&f, " WHERE %s", filter);
			pl_buf_puts(&f, " ORDER BY snapshot_id, rowid");
			rc = pl_buf_oom(&f) ? PLANAR_ENOMEM : pl_mcp_run(call->conn, pl_buf_cstr(&f), NULL, 0, limit, true, &feed, errmsg);
			pl_buf_dispose(&f);
			if (feed) {
				json_object_set_new(feed, "from_snapshot", json_integer(start));
				json_object_set_new(feed, "to_snapshot", json_integer(end));
			}
		}
	}
	if (rc == 0) {
		*result = json_pack("{s:s,s:O,s:O}", "table", pl_buf_cstr(&plain), "snapshots", json_object_get(snaps, "rows"),
				    "snapshots_truncated", json_object_get(snaps, "truncated"));
		if (*result && feed)
			json_object_set_new(*result, "changes", json_pack("{s:O,s:O,s:O,s:O,s:O}", "from_snapshot",
									  json_object_get(feed, "from_snapshot"), "to_snapshot",
									  json_object_get(feed, "to_snapshot"), "rows",
									  json_object_get(feed, "rows"), "row_count",
									  json_object_get(feed, "row_count"), "truncated",
									  json_object_get(feed, "truncated")));
	}
	json_decref(snaps);
	json_decref(feed);
	pl_buf_dispose(&plain);
	pl_buf_dispose(&quoted);
	free(filter);
	return rc;
}
