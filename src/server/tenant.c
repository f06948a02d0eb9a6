/*
 * tenant.c -- what a tenant sees of the lake's tables (the check every MCP tool and retrieval
 * makes), and the lookups of lake tables and their columns they share.
 *
 * A tenant may read the tables its policy's allowed_tables names (every table without a policy),
 * as with /data/query; a table that holds rows of several tenants (it has a tenant_id column)
 * shows a tenant only its own rows. Every tool and route decides through pl_srv_tenant_scope.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "server/mcp.h"
#include "server/policy.h"

static char *conn_msg(planar_conn *conn)
{
	const char *m = planar_conn_errmsg(conn);
	return pl_strdup(m && *m ? m : "the lake could not be read");
}

int pl_srv_table_columns(planar_conn *conn, const char *schema, const char *table, json_t **out, char **errmsg)
{
	*out = NULL;
	planar_result *res = NULL;
	const char *args[] = {schema, table};
	int rc = pl_srv_query_texts(conn,
				    "SELECT column_name, data_type, is_nullable FROM duckdb_columns() WHERE database_name = "
				    "'" PL_SRV_LAKE "' AND schema_name = $1 AND table_name = $2 ORDER BY column_index",
				    args, 2, &res);
	if (rc) {
		*errmsg = conn_msg(conn);
		return rc;
	}
	json_t *cols = json_array();
	uint64_t n = planar_result_row_count(res);
	for (uint64_t i = 0; cols && i < n; i++) {
		char *name = planar_result_value_string(res, 0, i), *type = planar_result_value_string(res, 1, i),
		     *nul = planar_result_value_string(res, 2, i);
		json_array_append_new(cols, json_pack("{s:s?,s:s?,s:b}", "name", name, "type", type, "nullable",
						      nul && (strcmp(nul, "true") == 0 || strcmp(nul, "1") == 0)));
		planar_free(name);
		planar_free(type);
		planar_free(nul);
	}
	planar_result_free(res);
	if (!cols) {
		*errmsg = pl_strdup("out of memory");
		return PLANAR_ENOMEM;
	}
	*out = cols;
	return 0;
}

static int find_table(planar_conn *conn, const char *schema, const char *table, char *schema_out, char *table_out,
		      bool *found, char **errmsg)
{
	*found = false;
	planar_result *res = NULL;
	const char *args[] = {schema, table};
	int rc = pl_srv_query_texts(conn,
				    "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = '" PL_SRV_LAKE
				    "' AND lower(schema_name) = lower($1) AND lower(table_name) = lower($2) "
				    "AND table_name NOT LIKE '\\_\\_planar%' ESCAPE '\\' ORDER BY schema_name = $1 AND "
				    "table_name = $2 DESC LIMIT 1",
				    args, 2, &res);
	if (rc) {
		*errmsg = conn_msg(conn);
		return rc;
	}
	if (planar_result_row_count(res) == 1) {
		char *s = planar_result_value_string(res, 0, 0), *t = planar_result_value_string(res, 1, 0);
		if (s && t && strlen(s) <= PL_NAME_MAX && strlen(t) <= PL_NAME_MAX) {
			snprintf(schema_out, PL_NAME_MAX + 1, "%s", s);
			snprintf(table_out, PL_NAME_MAX + 1, "%s", t);
			*found = true;
		}
		planar_free(s);
		planar_free(t);
	}
	planar_result_free(res);
	return 0;
}

int pl_srv_table_resolve(planar_conn *conn, const char *name, char *schema_out, char *table_out, char **errmsg)
{
	*errmsg = NULL;
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > 2 * PL_NAME_MAX + 1 || !pl_srv_utf8_valid(name, n)) {
		*errmsg = pl_strdup("a table name is \"table\" or \"schema.table\" (UTF-8, at most 255 bytes each)");
		return PLANAR_EINVALID;
	}
	bool found = false;
	int rc = 0;
	const char *dot = strchr(name, '.');
	if (dot && dot != name && dot[1]) {
		char *schema = pl_strndup(name, (size_t)(dot - name));
		if (!schema) {
			*errmsg = pl_strdup("out of memory");
			return PLANAR_ENOMEM;
		}
		rc = find_table(conn, schema, dot + 1, schema_out, table_out, &found, errmsg);
		free(schema);
	}
	if (rc == 0 && !found)
		rc = find_table(conn, "main", name, schema_out, table_out, &found, errmsg);
	if (rc == 0 && !found) {
		pl_buf b = PL_BUF_INIT;
		pl_buf_printf(&b, "no table \"%s\" in the lake", name);
		*errmsg = pl_buf_detach(&b);
		rc = PLANAR_ENOTFOUND;
	}
	return rc;
}

int pl_srv_tenant_scope(pl_srv *s, planar_conn *conn, const char *tenant, const char *schema,
			const char *table, bool *allowed, char **row_filter, char **errmsg)
{
	*allowed = true;
	*row_filter = NULL;
	if (!tenant)
		return 0;
	/* the tenant's policy: allowed_tables */
	pl_buf name = PL_BUF_INIT;
	pl_buf_printf(&name, "%s.%s", schema, table);
	pl_err err;
	pl_err_clear(&err);
	int rc = pl_buf_oom(&name) ? PL_ENOMEM : pl_srv_policy_check(s, tenant, pl_buf_cstr(&name), "query", &err);
	pl_buf_dispose(&name);
	if (rc == PL_EINVALID) {
		*allowed = false;
		return 0;
	}
	if (rc) {
		*errmsg = pl_strdup(err.msg[0] ? err.msg : "the tenant's policy cannot be read");
		return rc;
	}
	json_t *cols = NULL;
	rc = pl_srv_table_columns(conn, schema, table, &cols, errmsg);
	if (rc)
		return rc;
	size_t i;
	json_t *c;
	json_array_foreach(cols, i, c)
	{
		const char *name = json_string_value(json_object_get(c, "name"));
		if (name && pl_str_ieq(name, "tenant_id")) {
			pl_buf b = PL_BUF_INIT;
			pl_buf_put_ident(&b, name);
			pl_buf_puts(&b, " = ");
			pl_buf_put_literal(&b, tenant);
			if (pl_buf_oom(&b)) {
				pl_buf_dispose(&b);
				json_decref(cols);
				*errmsg = pl_strdup("out of memory");
				return PLANAR_ENOMEM;
			}
			*row_filter = pl_buf_detach(&b);
			break;
		}
	}
	json_decref(cols);
	return 0;
}
