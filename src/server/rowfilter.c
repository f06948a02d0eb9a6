/*
 * rowfilter.c -- a tenant's query reads only its own rows of the tables that have a tenant_id
 * column: after the sandbox admitted the query, every reference to such a table (not a CTE of
 * that name in scope) becomes (SELECT * FROM table WHERE tenant_id = '<tenant>') under the
 * reference's alias, in DuckDB's own parse tree (json_serialize_sql), and the query that runs is
 * that tree turned back into SQL (json_deserialize_sql). An admin token acting for no tenant
 * reads every row.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "server/policy.h"

typedef struct rf_scope {
	const char *const *names;
	size_t n;
	const struct rf_scope *up;
} rf_scope;

typedef struct rf_ctx {
	const char *db, *tenant;
	char *const *tables; /* "schema\ttable" lower case: the tables with tenant_id */
	size_t ntables;
	size_t changed;
	bool failed;
} rf_ctx;

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static bool in_scope(const rf_scope *s, const char *name)
{
	for (; s; s = s->up)
		for (size_t i = 0; i < s->n; i++)
			if (pl_str_ieq(s->names[i], name))
				return true;
	return false;
}

static bool filtered_table(rf_ctx *x, const json_t *o, const rf_scope *scope)
{
	const char *cat = jstr(o, "catalog_name"), *sch = jstr(o, "schema_name"), *tbl = jstr(o, "table_name");
	if (!*cat && !*sch && in_scope(scope, tbl))
		return false;
	if (!*sch || (!*cat && pl_str_ieq(sch, x->db)))
		sch = "main";
	char key[2 * PL_NAME_MAX + 8];
	if (strlen(sch) > PL_NAME_MAX || strlen(tbl) > PL_NAME_MAX)
		return false;
	snprintf(key, sizeof key, "%s\t%s", sch, tbl);
	lower(key);
	for (size_t i = 0; i < x->ntables; i++)
		if (strcmp(x->tables[i], key) == 0)
			return true;
	return false;
}

/* Makes the BASE_TABLE object o a subquery reading only the tenant's rows of it. */
static void wrap(rf_ctx *x, json_t *o)
{
	json_t *inner = json_deep_copy(o);
	const char *alias = jstr(o, "alias");
	json_t *outer_alias = json_string(*alias ? alias : jstr(o, "table_name"));
	json_t *col_alias = json_incref(json_object_get(o, "column_name_alias"));
	json_object_set_new(inner, "alias", json_string(""));
	json_object_set_new(inner, "column_name_alias", json_array());
	json_t *where = json_pack(
		"{s:s,s:s,s:s,s:i,s:{s:s,s:s,s:s,s:i,s:[s]},s:{s:s,s:s,s:s,s:i,s:{s:{s:s,s:n},s:b,s:s}}}", "class",
		"COMPARISON", "type", "COMPARE_EQUAL", "alias", "", "query_location", 0, "left", "class", "COLUMN_REF", "type",
		"COLUMN_REF", "alias", "", "query_location", 0, "column_names", "tenant_id", "right", "class", "CONSTANT",
		"type", "VALUE_CONSTANT", "alias", "", "query_location", 0, "value", "type", "id", "VARCHAR", "type_info",
		"is_null", 0, "value", x->tenant);
	json_t *star = json_pack("{s:s,s:s,s:s,s:i,s:s,s:[],s:[],s:b,s:n,s:[],s:[]}", "class", "STAR", "type", "STAR", "alias",
				 "", "query_location", 0, "relation_name", "", "exclude_list", "replace_list", "columns", 0,
				 "expr", "qualified_exclude_list", "rename_list");
	json_t *node = json_pack("{s:s,s:[],s:{s:[]},s:[o],s:o,s:o,s:[],s:[],s:s,s:n,s:n,s:n}", "type", "SELECT_NODE",
				 "modifiers", "cte_map", "map", "select_list", star, "from_table", inner, "where_clause", where,
				 "group_expressions", "group_sets", "aggregate_handling", "STANDARD_HANDLING", "having", "sample",
				 "qualify");
	if (!inner || !outer_alias || !where || !star || !node) {
		x->failed = true;
		json_decref(outer_alias);
		json_decref(col_alias);
		json_decref(node);
		return;
	}
	json_object_clear(o);
	json_object_set_new(o, "type", json_string("SUBQUERY"));
	json_object_set_new(o, "alias", outer_alias);
	json_object_set_new(o, "sample", json_null());
	json_object_set_new(o, "query_location", json_integer(0));
	json_object_set_new(o, "subquery", json_pack("{s:o,s:[]}", "node", node, "named_param_map"));
	json_object_set_new(o, "column_name_alias", col_alias ? col_alias : json_array());
	x->changed++;
}

static void walk_value(rf_ctx *x, json_t *v, const rf_scope *scope);

static void walk_object(rf_ctx *x, json_t *o, const rf_scope *scope)
{
	json_t *map = json_object_get(json_object_get(o, "cte_map"), "map");
	size_t ncte = json_is_array(map) ? json_array_size(map) : 0;
	const char **names = ncte ? calloc(ncte, sizeof *names) : NULL;
	if (ncte && !names) {
		x->failed = true;
		return;
	}
	rf_scope inner = {names, 0, scope};
	for (size_t i = 0; i < ncte; i++) {
		json_t *e = json_array_get(map, i);
		names[i] = jstr(e, "key");
		inner.n = i + 1;
		walk_value(x, json_object_get(e, "value"), &inner);
	}
	inner.n = ncte;
	const rf_scope *sc = ncte ? &inner : scope;
	if (strcmp(jstr(o, "type"), "BASE_TABLE") == 0) {
		if (filtered_table(x, o, sc))
			wrap(x, o);
		free(names);
		return;
	}
	const char *key;
	json_t *val;
	json_object_foreach(o, key, val)
	{
		if (strcmp(key, "cte_map") != 0)
			walk_value(x, val, sc);
	}
	free(names);
}

static void walk_value(rf_ctx *x, json_t *v, const rf_scope *scope)
{
	if (json_is_object(v))
		walk_object(x, v, scope);
	else if (json_is_array(v))
		for (size_t i = 0; i < json_array_size(v); i++)
			walk_value(x, json_array_get(v, i), scope);
}

/* One text value of a one-parameter query. */
static int query_text(planar_conn *conn, const char *sql, const char *param, char **out)
{
	planar_stmt *st = NULL;
	planar_result *res = NULL;
	int rc = planar_prepare(conn, sql, &st);
	if (rc == 0)
		rc = planar_stmt_bind_text(st, 1, param, strlen(param));
	if (rc == 0)
		rc = planar_stmt_execute(st, &res);
	planar_stmt_free(st);
	if (rc)
		return rc;
	*out = planar_result_row_count(res) > 0 ? planar_result_value_string(res, 0, 0) : NULL;
	planar_result_free(res);
	return *out ? 0 : PLANAR_EINVALID;
}

int pl_srv_rowfilter(planar_conn *conn, const char *db, const pl_srv_parsed *parsed, const char *tenant, char **out,
		     char **why)
{
	*out = NULL;
	if (!tenant || parsed->ntenant == 0)
		return 0;
	rf_ctx x = {db, tenant, parsed->tenant_tables, parsed->ntenant, 0, false};
	int rc = 0;
	char *text = pl_strdup(parsed->tree);
	json_t *tree = NULL;
	if (!text) {
		rc = PLANAR_ENOMEM;
	} else {
		/* "no location" is the largest uint64, which jansson cannot hold: locations only name
		 * places in error messages */
		for (char *p = text; (p = strstr(p, ":18446744073709551615")) != NULL;) {
			memmove(p + 2, p + 21, strlen(p + 21) + 1);
			p[1] = '0';
		}
		tree = json_loads(text, 0, NULL);
	}
	if (!tree) {
		rc = PLANAR_EINVALID;
		goto done;
	}
	walk_value(&x, json_object_get(tree, "statements"), NULL);
	if (x.failed) {
		rc = PLANAR_EINVALID;
		goto done;
	}
	if (x.changed > 0) {
		char *dumped = json_dumps(tree, JSON_COMPACT);
		rc = dumped ? query_text(conn, "SELECT json_deserialize_sql(CAST($1 AS JSON))", dumped, out) : PLANAR_ENOMEM;
		free(dumped);
	}
done:
	if (rc && !*why)
		*why = pl_strdup("the query cannot be limited to the tenant's rows; simplify it");
	free(text);
	json_decref(tree);
	return rc;
}
