/*
 * sandbox.c -- what a query of the HTTP API may be: exactly one SELECT (also WITH ... SELECT,
 * FROM ..., VALUES) that reads only the lake's tables. The text is parsed by DuckDB's own
 * parser (json_serialize_sql, which refuses every statement that is not a SELECT) and the
 * parse tree is walked:
 *   - every table reference must name a table of the lake (or a CTE in scope); other catalogs,
 *     DuckDB's system views (duckdb_*, information_schema, pg_catalog, sqlite_master), the
 *     lake's metadata catalog and Planar's internal objects are not tables of the lake;
 *   - table functions are refused except range, generate_series and unnest (so no read_*,
 *     glob, query, ducklake_*, duckdb_*, pragma_* ...);
 *   - functions with file, setting, environment or catalog access are refused by name, as are
 *     functions named with a schema or catalog;
 *   - DESCRIBE/SUMMARIZE/SHOW references and anything else that is not a SELECT are refused;
 *   - with a tenant policy, only the tables its allowed_tables names are tables of the lake (a
 *     table it does not allow is refused exactly like one that does not exist).
 * The parse trees of the last 64 query texts are kept (a tree depends on the text only), and the
 * lake's tables per schema version, so a repeated query costs no DuckDB work before it runs;
 * every check above still runs on every request.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "server/internal.h"
#include "server/policy.h"

typedef struct sb_ctx {
	const char *db; /* the database the query runs on: the lake, or a pinned attachment of it */
	const pl_srv_policy *pol; /* the tenant's allowed_tables (NULL: every table) */
	char **tables; /* "schema\ttable", lower case */
	size_t ntables;
	pl_buf why;
} sb_ctx;

typedef struct sb_scope {
	const char *const *names;
	size_t n;
	const struct sb_scope *up;
} sb_scope;

static bool refuse(sb_ctx *x, const char *fmt, const char *name)
{
	if (x->why.len == 0)
		pl_buf_printf(&x->why, fmt, name ? name : "");
	return false;
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static bool in_scope(const sb_scope *s, const char *name)
{
	for (; s; s = s->up)
		for (size_t i = 0; i < s->n; i++)
			if (pl_str_ieq(s->names[i], name))
				return true;
	return false;
}

static bool lake_has(sb_ctx *x, const char *schema, const char *table)
{
	char key[2 * PL_NAME_MAX + 8];
	if (strlen(schema) > PL_NAME_MAX || strlen(table) > PL_NAME_MAX)
		return false;
	if (!pl_srv_policy_allows(x->pol, schema, table)) /* refused like a table that does not exist */
		return false;
	snprintf(key, sizeof key, "%s\t%s", schema, table);
	lower(key);
	for (size_t i = 0; i < x->ntables; i++)
		if (strcmp(x->tables[i], key) == 0)
			return true;
	return false;
}

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static bool check_table(sb_ctx *x, const json_t *o, const sb_scope *scope)
{
	const char *cat = jstr(o, "catalog_name"), *sch = jstr(o, "schema_name"), *tbl = jstr(o, "table_name");
	if (!*cat && !*sch && in_scope(scope, tbl))
		return true;
	if (*cat && !pl_str_ieq(cat, x->db))
		return refuse(x, "the query may read only the lake's tables (not the catalog \"%s\")", cat);
	bool ok;
	if (!*sch)
		ok = lake_has(x, "main", tbl);
	else
		ok = lake_has(x, sch, tbl) || (!*cat && pl_str_ieq(sch, x->db) && lake_has(x, "main", tbl));
	return ok ? true : refuse(x, "\"%s\" is not a table of the lake", tbl);
}

static bool name_denied(const char *name)
{
	static const char *const prefixes[] = {
		"read_",  "duckdb_",  "ducklake_", "__",         "pragma_",   "sqlite_",   "pg_",      "parquet_",
		"json_execute", "json_serialize", "json_deserialize", "iceberg_", "delta_", "postgres_", "mysql_",
		"sniff_", "glob", "icu_", "http", "s3", "current_setting", "current_schema", "current_database",
		"current_catalog", "current_query", "current_role", "current_user", "current_transaction", "getenv", "which_secret", "query", "sql_auto",
		"checkpoint", "force_checkpoint", "load", "install", "enable_", "disable_", "nextval",
		"currval", "setseed", "planar", "export", "import", "copy", "attach", "detach", "secret", "extension",
		"system", "shell", "file", "dir",
	};
	char low[128];
	snprintf(low, sizeof low, "%s", name);
	lower(low);
	for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
		if (strncmp(low, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

static bool check_value(sb_ctx *x, const json_t *v, const sb_scope *scope);

static bool check_object(sb_ctx *x, const json_t *o, const sb_scope *scope)
{
	/* A query node's CTEs: CTE i sees the CTEs before it and itself; the rest sees them all. */
	const json_t *map = json_object_get(json_object_get(o, "cte_map"), "map");
	size_t ncte = json_is_array(map) ? json_array_size(map) : 0;
	const char **names = ncte ? calloc(ncte, sizeof *names) : NULL;
	if (ncte && !names)
		return refuse(x, "out of memory%s", "");
	sb_scope inner = {names, 0, scope};
	bool ok = true;
	for (size_t i = 0; ok && i < ncte; i++) {
		const json_t *e = json_array_get(map, i);
		names[i] = jstr(e, "key");
		inner.n = i + 1;
		ok = check_value(x, json_object_get(e, "value"), &inner);
	}
	inner.n = ncte;
	const sb_scope *sc = ncte ? &inner : scope;
	const char *type = jstr(o, "type");
	if (ok && strcmp(type, "BASE_TABLE") == 0)
		ok = check_table(x, o, sc);
	if (ok && (strcmp(type, "SHOW_REF") == 0 || strcmp(type, "COLUMN_DATA") == 0 || strcmp(type, "DELIM_GET") == 0))
		ok = refuse(x, "the query may not use %s", strcmp(type, "SHOW_REF") == 0 ? "DESCRIBE/SUMMARIZE/SHOW" : type);
	if (ok && strcmp(type, "TABLE_FUNCTION") == 0) {
		const json_t *f = json_object_get(o, "function");
		const char *fn = jstr(f, "function_name");
		static const char *const allowed[] = {"range", "generate_series", "unnest"};
		bool found = false;
		for (size_t i = 0; i < 3; i++)
			found = found || pl_str_ieq(fn, allowed[i]);
		if (!found || *jstr(f, "schema") || *jstr(f, "catalog"))
			ok = refuse(x, "the table function %s() is not allowed in queries", fn);
	}
	if (ok && json_object_get(o, "function_name")) {
		const char *fn = jstr(o, "function_name");
		const char *fs = jstr(o, "schema"), *fc = jstr(o, "catalog");
		/* the parser names built-ins it inserts itself (list_value for [..]) as system.main */
		if ((*fs && !pl_str_ieq(fs, "main")) || (*fc && !pl_str_ieq(fc, "system")))
			ok = refuse(x, "the function %s() may not be named with a schema or catalog", fn);
		else if (name_denied(fn))
			ok = refuse(x, "the function %s() is not allowed in queries", fn);
	}
	const char *key;
	json_t *val;
	json_object_foreach((json_t *)o, key, val)
	{
		if (!ok)
			break;
		if (strcmp(key, "cte_map") != 0)
			ok = check_value(x, val, sc);
	}
	free(names);
	return ok;
}

static bool check_value(sb_ctx *x, const json_t *v, const sb_scope *scope)
{
	if (json_is_object(v))
		return check_object(x, v, scope);
	if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v); i++)
			if (!check_value(x, json_array_get(v, i), scope))
				return false;
	}
	return true;
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* "schema\ttable" (lower case) of each row of a two-column query of db's tables */
static int query_tables(planar_conn *conn, const char *sql, const char *db, char ***out, size_t *nout, char **why)
{
	planar_result *res = NULL;
	planar_stmt *st = NULL;
	int rc = planar_prepare(conn, sql, &st);
	if (rc == 0)
		rc = planar_stmt_bind_text(st, 1, db, strlen(db));
	if (rc == 0)
		rc = planar_stmt_execute(st, &res);
	planar_stmt_free(st);
	if (rc) {
		*why = pl_strdup(planar_conn_errmsg(conn));
		return rc;
	}
	uint64_t n = planar_result_row_count(res);
	char **v = calloc(n ? n : 1, sizeof *v);
	size_t k = 0;
	for (uint64_t i = 0; v && i < n; i++) {
		char *sc = planar_result_value_string(res, 0, i), *t = planar_result_value_string(res, 1, i);
		size_t len = (sc ? strlen(sc) : 0) + (t ? strlen(t) : 0) + 2;
		char *key = malloc(len);
		if (key) {
			snprintf(key, len, "%s\t%s", sc ? sc : "", t ? t : "");
			lower(key);
			v[k++] = key;
		}
		planar_free(sc);
		planar_free(t);
	}
	planar_result_free(res);
	if (!v) {
		*why = pl_strdup("out of memory");
		return PLANAR_ENOMEM;
	}
	*out = v;
	*nout = k;
	return 0;
}

static char **copy_names(char *const *v, size_t n, size_t *nout)
{
	char **copy = calloc(n ? n : 1, sizeof *copy);
	size_t k = 0;
	for (size_t i = 0; copy && i < n; i++)
		if ((copy[k] = pl_strdup(v[i])))
			k++;
	*nout = k;
	return copy;
}

/* The tables of db, and those of them with a tenant_id column (*tenant, *ntenant: for the row
 * filter), from the cache while the lake's schema version has not moved. */
static int load_tables(pl_srv_lake *l, planar_conn *conn, sb_ctx *x, char ***tenant, size_t *ntenant, char **why)
{
	int64_t snap = -1, version = -1;
	bool pinned = strcmp(x->db, PL_SRV_LAKE) != 0;
	if (!pinned) {
		pl_err err;
		pl_err_clear(&err);
		int rc = pl_srv_current(l, &snap, &version, &err); /* kept while the catalog has not moved */
		if (rc) {
			*why = pl_strdup(err.msg);
			return rc;
		}
	}
	pthread_mutex_lock(&l->tables_lock);
	for (size_t i = 0; i < sizeof l->tables / sizeof l->tables[0]; i++) {
		struct pl_srv_tables *t = &l->tables[i];
		if (t->names && strcmp(t->db, x->db) == 0 && t->version == version) {
			x->tables = copy_names(t->names, t->n, &x->ntables);
			*tenant = copy_names(t->tenant, t->ntenant, ntenant);
			pthread_mutex_unlock(&l->tables_lock);
			return x->tables && *tenant ? 0 : PLANAR_ENOMEM;
		}
	}
	pthread_mutex_unlock(&l->tables_lock);
	int rc = query_tables(conn, "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = $1", x->db,
			      &x->tables, &x->ntables, why);
	if (rc == 0)
		rc = query_tables(conn,
				  "SELECT DISTINCT schema_name, table_name FROM duckdb_columns() WHERE database_name = $1 "
				  "AND column_name = 'tenant_id'",
				  x->db, tenant, ntenant, why);
	if (rc)
		return rc;
	size_t nc = 0, nt = 0;
	char **copy = copy_names(x->tables, x->ntables, &nc), **tcopy = copy_names(*tenant, *ntenant, &nt);
	if (!copy || !tcopy) {
		free_names(copy, nc);
		free_names(tcopy, nt);
		return 0;
	}
	pthread_mutex_lock(&l->tables_lock);
	struct pl_srv_tables *t = &l->tables[l->ntables_next++ % (sizeof l->tables / sizeof l->tables[0])];
	free_names(t->names, t->n);
	free_names(t->tenant, t->ntenant);
	snprintf(t->db, sizeof t->db, "%s", x->db);
	t->version = version;
	t->names = copy;
	t->n = nc;
	t->tenant = tcopy;
	t->ntenant = nt;
	pthread_mutex_unlock(&l->tables_lock);
	return 0;
}

#define PARSE_SQL_MAX 8192     /* longer query texts are not kept */
#define PARSE_TREE_MAX (1 << 17) /* nor larger trees */

/* The parse tree of sql from the cache (a copy), or NULL. */
static char *parse_cached(pl_srv_lake *l, const char *sql)
{
	char *tree = NULL;
	if (strlen(sql) > PARSE_SQL_MAX)
		return NULL;
	pthread_mutex_lock(&l->tables_lock);
	for (size_t i = 0; i < sizeof l->parses / sizeof l->parses[0]; i++) {
		struct pl_srv_parse *e = &l->parses[i];
		if (e->sql && strcmp(e->sql, sql) == 0) {
			e->used = ++l->parse_tick;
			tree = pl_strdup(e->tree);
			break;
		}
	}
	pthread_mutex_unlock(&l->tables_lock);
	return tree;
}

static void parse_keep(pl_srv_lake *l, const char *sql, const char *tree)
{
	if (strlen(sql) > PARSE_SQL_MAX || strlen(tree) > PARSE_TREE_MAX)
		return;
	char *s = pl_strdup(sql), *t = pl_strdup(tree);
	if (!s || !t) {
		free(s);
		free(t);
		return;
	}
	pthread_mutex_lock(&l->tables_lock);
	struct pl_srv_parse *e = &l->parses[0];
	for (size_t i = 0; i < sizeof l->parses / sizeof l->parses[0]; i++) {
		struct pl_srv_parse *c = &l->parses[i];
		if (c->sql && strcmp(c->sql, sql) == 0) { /* another thread kept it meanwhile */
			free(s);
			free(t);
			pthread_mutex_unlock(&l->tables_lock);
			return;
		}
		if (!c->sql || c->used < e->used)
			e = c;
		if (!c->sql)
			break;
	}
	free(e->sql);
	free(e->tree);
	*e = (struct pl_srv_parse){s, t, ++l->parse_tick};
	pthread_mutex_unlock(&l->tables_lock);
}

void pl_srv_sandbox_dispose(pl_srv_lake *l)
{
	for (size_t i = 0; i < sizeof l->parses / sizeof l->parses[0]; i++) {
		free(l->parses[i].sql);
		free(l->parses[i].tree);
		l->parses[i].sql = l->parses[i].tree = NULL;
	}
	for (size_t i = 0; i < sizeof l->tables / sizeof l->tables[0]; i++) {
		free_names(l->tables[i].names, l->tables[i].n);
		free_names(l->tables[i].tenant, l->tables[i].ntenant);
		l->tables[i].names = l->tables[i].tenant = NULL;
		l->tables[i].n = l->tables[i].ntenant = 0;
	}
}

void pl_srv_parsed_free(pl_srv_parsed *p)
{
	if (!p)
		return;
	planar_free(p->tree);
	free_names(p->tenant_tables, p->ntenant);
	memset(p, 0, sizeof *p);
}

int pl_srv_sandbox_check(pl_srv_lake *l, planar_conn *conn, const char *db, const char *sql,
			 const struct pl_srv_policy *pol, pl_srv_parsed *parsed, char **why)
{
	*why = NULL;
	if (parsed)
		memset(parsed, 0, sizeof *parsed);
	int rc = 0;
	char *text = parse_cached(l, sql);
	if (!text) {
		planar_stmt *st = NULL;
		planar_result *res = NULL;
		rc = planar_prepare(conn, "SELECT json_serialize_sql(CAST($1 AS VARCHAR))", &st);
		if (rc == 0)
			rc = planar_stmt_bind_text(st, 1, sql, strlen(sql));
		if (rc == 0)
			rc = planar_stmt_execute(st, &res);
		if (rc) {
			*why = pl_strdup(planar_conn_errmsg(conn));
			planar_stmt_free(st);
			return rc;
		}
		text = planar_result_value_string(res, 0, 0);
		planar_result_free(res);
		planar_stmt_free(st);
		if (text)
			parse_keep(l, sql, text);
	}
	json_error_t jerr;
	json_t *tree = text ? json_loads(text, JSON_DECODE_INT_AS_REAL, &jerr) : NULL;
	if (!tree) {
		planar_free(text);
		*why = pl_strdup("the query could not be parsed");
		return PLANAR_EINVALID;
	}
	if (json_is_true(json_object_get(tree, "error"))) {
		const char *m = jstr(tree, "error_message");
		const char *t = jstr(tree, "error_type");
		pl_buf b = PL_BUF_INIT;
		if (strstr(m, "Only SELECT"))
			pl_buf_puts(&b, "only a read-only SELECT (or WITH ... SELECT, FROM ...) is allowed");
		else
			pl_buf_printf(&b, "%s error: %s", t, m);
		*why = pl_buf_detach(&b);
		json_decref(tree);
		planar_free(text);
		return PLANAR_EINVALID;
	}
	const json_t *stmts = json_object_get(tree, "statements");
	if (!json_is_array(stmts) || json_array_size(stmts) != 1) {
		*why = pl_strdup(json_is_array(stmts) && json_array_size(stmts) > 1 ? "exactly one statement is allowed"
										   : "the query is empty");
		json_decref(tree);
		planar_free(text);
		return PLANAR_EINVALID;
	}
	sb_ctx x = {db, pol, NULL, 0, PL_BUF_INIT};
	char **tenant = NULL;
	size_t ntenant = 0;
	rc = load_tables(l, conn, &x, &tenant, &ntenant, why);
	if (rc == 0 && !check_value(&x, json_array_get(stmts, 0), NULL)) {
		*why = pl_buf_detach(&x.why);
		rc = PLANAR_EINVALID;
	}
	free_names(x.tables, x.ntables);
	pl_buf_dispose(&x.why);
	json_decref(tree);
	if (rc == 0 && parsed) { /* the row filter works on the same parse tree */
		*parsed = (pl_srv_parsed){text, tenant, ntenant};
		text = NULL;
		tenant = NULL;
		ntenant = 0;
	}
	free_names(tenant, ntenant);
	planar_free(text);
	return rc;
}
