/*
 * search.c -- search indexes as SQL (search.h): the CALLs that create and drop them, the
 * listing, and planar_search(), with the process's cache of built indexes.
 *
 * The cache holds one built index per (catalog identity, table id); an entry remembers the
 * definition it was built for (a dropped and re-created index is rebuilt) and the snapshot it
 * has caught up to. Every search first applies the table's changes committed since (by any
 * writer), then ranks as of the snapshot asked for. Entries are used under one mutex.
 */
#include "sql/search.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog/search.h"
#include "core/str.h"
#include "sql/lake.h"
#include "table/search.h"
#include "table/timetravel.h"
#include "text/index.h"

/* ---- the cache ---- */

typedef struct entry {
	char *identity;
	int64_t table_id;
	int64_t created_snapshot;
	char *created_at;
	pl_tindex *index;
	int64_t indexed_to; /* snapshots up to this one are in the index */
	struct entry *next;
} entry;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static entry *cache;

static void entry_free(entry *e)
{
	if (!e)
		return;
	free(e->identity);
	free(e->created_at);
	pl_tindex_free(e->index);
	free(e);
}

/* Removes the entry of (identity, table_id); cache_lock held. */
static void cache_remove(const char *identity, int64_t table_id)
{
	for (entry **p = &cache; *p; p = &(*p)->next)
		if (strcmp((*p)->identity, identity) == 0 && (*p)->table_id == table_id) {
			entry *e = *p;
			*p = e->next;
			entry_free(e);
			return;
		}
}

void pl_search_forget(const char *identity)
{
	pthread_mutex_lock(&cache_lock);
	for (entry **p = &cache; *p;) {
		if (!identity || strcmp((*p)->identity, identity) == 0) {
			entry *e = *p;
			*p = e->next;
			entry_free(e);
		} else {
			p = &(*p)->next;
		}
	}
	pthread_mutex_unlock(&cache_lock);
}

static const char *lake_identity(const pl_lake *lake)
{
	return lake->identity ? lake->identity : lake->location;
}

/* The lake's committed model (not a transaction's pending one). */
static pl_model *committed_model(pl_lake *lake)
{
	return lake->shared_model ? lake->shared_model : lake->model;
}

/* The built index of def, caught up to the lake's latest snapshot; cache_lock held. */
static int cached_index(planar_conn *conn, pl_lake *lake, const pl_table *t, const pl_search_def *def, entry **out,
			size_t *changed, pl_err *err)
{
	*out = NULL;
	*changed = 0;
	const char *identity = lake_identity(lake);
	entry *e = cache;
	while (e && !(strcmp(e->identity, identity) == 0 && e->table_id == def->table_id))
		e = e->next;
	if (e && (e->created_snapshot != def->created_snapshot || strcmp(e->created_at, def->created_at) != 0)) {
		cache_remove(identity, def->table_id); /* dropped and created again since */
		e = NULL;
	}
	if (!e) {
		if (!(e = calloc(1, sizeof(*e))) || !(e->identity = pl_strdup(identity)) ||
		    !(e->created_at = pl_strdup(def->created_at))) {
			entry_free(e);
			return pl_err_nomem(err);
		}
		e->table_id = def->table_id;
		e->created_snapshot = def->created_snapshot;
		e->indexed_to = -1;
		int rc = pl_tindex_new(&e->index, def->embedder, def->vector_column != NULL, err);
		if (rc) {
			entry_free(e);
			return rc;
		}
		e->next = cache;
		cache = e;
	}
	pl_model *m = committed_model(lake);
	if (m->snapshot_id > e->indexed_to) {
		pl_lake_ctx ctx;
		pl_lake_table_ctx(&ctx, lake, conn);
		int rc = pl_search_catchup(&ctx.table, m, t, def, e->index, e->indexed_to + 1, m->snapshot_id, changed, err);
		if (rc) {
			/* a partly applied range cannot be told from the rest: start over next time */
			cache_remove(identity, def->table_id);
			return rc;
		}
		e->indexed_to = m->snapshot_id;
	}
	*out = e;
	return 0;
}

/* ---- names ---- */

/* 'schema.table' or 'table' (schema main) as in the lake's committed model. */
static int find_table(pl_lake *lake, const char *name, const pl_table **out, pl_err *err)
{
	*out = NULL;
	const char *dot = strchr(name, '.');
	char *schema = dot ? pl_strndup(name, (size_t)(dot - name)) : pl_strdup("main");
	const char *table = dot ? dot + 1 : name;
	if (!schema)
		return pl_err_nomem(err);
	pl_model *m = committed_model(lake);
	const pl_schema *s = pl_model_schema(m, schema);
	*out = s ? pl_model_table(m, s->id, table) : NULL;
	int rc = *out ? 0
		      : pl_err_set(err, PL_ENOTFOUND, "Catalog Error: table \"%s\" does not exist in lake \"%s\"", name,
				   lake->name);
	free(schema);
	return rc;
}

static const char *schema_name(pl_lake *lake, const pl_table *t)
{
	const pl_schema *s = pl_model_schema_by_id(committed_model(lake), t->schema_id);
	return s ? s->name : "main";
}

/* The session's queries that read lake views find the session by their DuckDB connection
 * (and so do not wait for the lakes this statement holds): registered before the first one. */
static int register_conn(planar_conn *conn, pl_err *err)
{
	duckdb_client_context ctx = NULL;
	duckdb_connection_get_client_context(conn->con, &ctx);
	int rc = ctx ? pl_delcache_conn_put(&conn->db->deletes, duckdb_client_context_get_connection_id(ctx), conn) : 0;
	if (ctx)
		duckdb_destroy_client_context(&ctx);
	return rc ? pl_err_nomem(err) : 0;
}

/* ---- arguments ---- */

#define MAX_ARGS 12

typedef struct args {
	char *pos[MAX_ARGS];
	size_t npos;
	char *keys[MAX_ARGS], *vals[MAX_ARGS];
	size_t nnamed;
} args;

static void args_dispose(args *a)
{
	for (size_t i = 0; i < a->npos; i++)
		free(a->pos[i]);
	for (size_t i = 0; i < a->nnamed; i++) {
		free(a->keys[i]);
		free(a->vals[i]);
	}
	memset(a, 0, sizeof(*a));
}

static const char *named(const args *a, const char *key)
{
	for (size_t i = 0; i < a->nnamed; i++)
		if (pl_str_ieq(a->keys[i], key))
			return a->vals[i];
	return NULL;
}

static bool has_named(const args *a, const char *key)
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
static int parse_args(planar_conn *conn, const pl_toks *t, size_t open, size_t close, const char *fn, args *a,
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
		if (key && has_named(a, key)) {
			rc = pl_err_set(err, PL_EINVALID, "%s: the argument %s is given twice", fn, key);
			free(key);
			return rc;
		}
		size_t b = t->items[from].start, e = t->items[i - 1].start + t->items[i - 1].len;
		char *val = NULL;
		bool list = key && pl_str_ieq(key, "metadata_columns");
		rc = eval_arg(conn, t->src + b, e - b, list, &val, err);
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

static int check_known(const args *a, const char *fn, const char *const *known, pl_err *err)
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

/* ---- CALL create_search_index / drop_search_index ---- */

static bool names_call(const pl_toks *t, const char *proc, bool *qualified)
{
	char full[64];
	snprintf(full, sizeof(full), "ducklake_%s", proc);
	if (pl_tok_is(t, 1, full) && pl_tok_is_punct(t, 2, "(")) {
		*qualified = false;
		return true;
	}
	*qualified = true;
	return t->len > 4 && pl_tok_is_punct(t, 2, ".") && pl_tok_is(t, 3, proc) && pl_tok_is_punct(t, 4, "(");
}

static void utc_now(char out[64])
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(out, 64, "%04d-%02d-%02d %02d:%02d:%02d.%06ld+00", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000);
}

static int parse_columns(const char *json, pl_search_def *d, pl_err *err)
{
	json_t *a = json ? json_loads(json, 0, NULL) : NULL;
	size_t n = json_is_array(a) ? json_array_size(a) : 0;
	int rc = 0;
	if (json && !json_is_array(a))
		rc = pl_err_set(err, PL_EINVALID, "create_search_index: metadata_columns must be a list of column names");
	if (rc == 0 && n && !(d->metadata_columns = calloc(n, sizeof(char *))))
		rc = pl_err_nomem(err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const char *s = json_string_value(json_array_get(a, i));
		if (!s || !*s)
			rc = pl_err_set(err, PL_EINVALID, "create_search_index: metadata_columns must be a list of column names");
		else if (!(d->metadata_columns[d->nmetadata++] = pl_strdup(s)))
			rc = pl_err_nomem(err);
	}
	json_decref(a);
	return rc;
}

static int create_index(planar_conn *conn, pl_lake *lake, const args *a, planar_result **out, pl_err *err)
{
	static const char *const known[] = {"text_column", "id_column", "metadata_columns", "vector_column", "embedder",
					    NULL};
	const char *fn = "create_search_index";
	int rc = check_known(a, fn, known, err);
	if (rc == 0 && (a->npos != 1 || !a->pos[0]))
		rc = pl_err_set(err, PL_EINVALID, "%s takes the table ('schema.table') and named arguments text_column, "
				"id_column [, metadata_columns, vector_column, embedder]", fn);
	if (rc == 0 && (!named(a, "text_column") || !named(a, "id_column")))
		rc = pl_err_set(err, PL_EINVALID, "%s: text_column and id_column are required", fn);
	if (rc == 0)
		rc = pl_lake_check_writable(lake, err);
	const pl_table *t = NULL;
	if (rc == 0)
		rc = find_table(lake, a->pos[0], &t, err);
	pl_search_def d = {0};
	char now[64];
	utc_now(now);
	if (rc == 0) {
		d.table_id = t->id;
		d.schema = pl_strdup(schema_name(lake, t));
		d.table = pl_strdup(t->name);
		d.text_column = pl_strdup(named(a, "text_column"));
		d.id_column = pl_strdup(named(a, "id_column"));
		d.vector_column = named(a, "vector_column") ? pl_strdup(named(a, "vector_column")) : NULL;
		d.embedder = pl_strdup(named(a, "embedder") ? named(a, "embedder") : "builtin");
		d.created_snapshot = committed_model(lake)->snapshot_id;
		d.created_at = pl_strdup(now);
		if (!d.schema || !d.table || !d.text_column || !d.id_column || !d.embedder || !d.created_at ||
		    (named(a, "vector_column") && !d.vector_column))
			rc = pl_err_nomem(err);
	}
	if (rc == 0)
		rc = parse_columns(named(a, "metadata_columns"), &d, err);
	if (rc == 0)
		rc = pl_search_check_columns(t, &d, err);
	if (rc == 0 && !d.vector_column) { /* the embedder must exist in this process */
		pl_tindex *probe = NULL;
		rc = pl_tindex_new(&probe, d.embedder, false, err);
		pl_tindex_free(probe);
	}
	if (rc == 0)
		rc = pl_search_def_insert(lake->cat, &d, err);
	/* build it now, so the first search does not wait (and a table it cannot index is refused) */
	entry *e = NULL;
	size_t changed = 0;
	if (rc == 0) {
		pthread_mutex_lock(&cache_lock);
		rc = cached_index(conn, lake, t, &d, &e, &changed, err);
		size_t docs = e ? pl_tindex_live(e->index) : 0;
		int64_t snap = e ? e->indexed_to : 0;
		pthread_mutex_unlock(&cache_lock);
		if (rc) {
			pl_err ignored = {0};
			bool found;
			pl_search_def_delete(lake->cat, d.table_id, &found, &ignored);
		} else {
			pl_buf q = PL_BUF_INIT;
			pl_buf_puts(&q, "SELECT ");
			pl_buf_put_literal(&q, d.schema);
			pl_buf_puts(&q, " || '.' || ");
			pl_buf_put_literal(&q, d.table);
			pl_buf_printf(&q, " AS table_name, CAST(%zu AS BIGINT) AS documents, CAST(%lld AS BIGINT) AS snapshot_id",
				      docs, (long long)snap);
			rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_result_from_sql(out, conn, q.ptr, err);
			pl_buf_dispose(&q);
		}
	}
	pl_search_def_dispose(&d);
	return rc;
}

static int drop_index(planar_conn *conn, pl_lake *lake, const args *a, planar_result **out, pl_err *err)
{
	static const char *const known[] = {"if_exists", NULL};
	int rc = check_known(a, "drop_search_index", known, err);
	if (rc == 0 && (a->npos != 1 || !a->pos[0]))
		rc = pl_err_set(err, PL_EINVALID, "drop_search_index takes the table ('schema.table')");
	if (rc == 0)
		rc = pl_lake_check_writable(lake, err);
	const pl_table *t = NULL;
	if (rc == 0)
		rc = find_table(lake, a->pos[0], &t, err);
	bool found = false;
	if (rc == 0)
		rc = pl_search_def_delete(lake->cat, t->id, &found, err);
	const char *ie = named(a, "if_exists");
	bool if_exists = ie && (pl_str_ieq(ie, "true") || strcmp(ie, "1") == 0);
	if (rc == 0 && !found && !if_exists)
		rc = pl_err_set(err, PL_ENOTFOUND, "table \"%s\" has no search index", a->pos[0]);
	if (rc == 0) {
		pthread_mutex_lock(&cache_lock);
		cache_remove(lake_identity(lake), t->id);
		pthread_mutex_unlock(&cache_lock);
		rc = pl_result_from_sql(out, conn, found ? "SELECT true AS dropped" : "SELECT false AS dropped", err);
	}
	return rc;
}

int pl_search_call(pl_stmt *st, planar_result **out, pl_err *err, bool *handled)
{
	const pl_toks *t = &st->toks;
	bool qualified = false, create = false;
	if (names_call(t, "create_search_index", &qualified))
		create = true;
	else if (!names_call(t, "drop_search_index", &qualified))
		return 0;
	size_t open = qualified ? 4 : 2;
	pl_lake *lake = NULL;
	if (qualified) {
		char *name = pl_tok_ident(t, 1);
		if (!name)
			return pl_err_nomem(err);
		lake = pl_db_find_lake(st->conn->db, name);
		free(name);
		if (!lake)
			return 0;
	}
	*handled = true;
	size_t close = pl_tok_match_paren(t, open);
	if (close >= t->len || close + 1 != t->len)
		return pl_err_set(err, PL_EINVALID, "syntax error in CALL arguments");
	int rrc = register_conn(st->conn, err);
	if (rrc)
		return rrc;
	args a;
	const char *fn = create ? "create_search_index" : "drop_search_index";
	int rc = parse_args(st->conn, t, open, close, fn, &a, err);
	if (rc == 0 && !qualified) { /* ducklake_<proc>('lake', ...) */
		if (a.npos == 0 || !a.pos[0] || !(lake = pl_db_find_lake(st->conn->db, a.pos[0])))
			rc = pl_err_set(err, PL_ENOTFOUND, "no lake named \"%s\" is attached",
					a.npos && a.pos[0] ? a.pos[0] : "");
		if (rc == 0) {
			free(a.pos[0]);
			memmove(a.pos, a.pos + 1, (a.npos - 1) * sizeof(char *));
			a.npos--;
		}
	}
	if (rc == 0)
		rc = create ? create_index(st->conn, lake, &a, out, err) : drop_index(st->conn, lake, &a, out, err);
	args_dispose(&a);
	return rc;
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
static int filter_ids(planar_conn *conn, pl_lake *lake, const pl_table *t, const pl_search_def *def,
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
			rc = pl_timetravel_view(&ctx.table, m, snap, schema_name(lake, t), t->name, view, err);
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
		pl_buf_put_ident(&q, schema_name(lake, t));
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

static int parse_vector(const char *s, float **out, size_t *n, pl_err *err)
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

static bool parse_int(const char *s, int64_t *out)
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

/* Appends the hits as a subquery with columns id, text, score, metadata. */
static void put_hits(pl_buf *out, const pl_tindex *x, const pl_thit *hits, size_t n)
{
	if (n == 0) {
		pl_buf_puts(out, "(SELECT CAST(NULL AS VARCHAR) AS id, CAST(NULL AS VARCHAR) AS text, CAST(NULL AS DOUBLE) "
				 "AS score, CAST(NULL AS JSON) AS metadata WHERE false)");
		return;
	}
	pl_buf_puts(out, "(SELECT CAST(id AS VARCHAR) AS id, CAST(text AS VARCHAR) AS text, CAST(score AS DOUBLE) AS score, "
			 "CAST(metadata AS JSON) AS metadata FROM (VALUES ");
	for (size_t i = 0; i < n; i++) {
		pl_buf_puts(out, i ? ", (" : "(");
		pl_buf_put_literal(out, pl_tindex_id(x, hits[i].doc));
		pl_buf_puts(out, ", ");
		pl_buf_put_literal(out, pl_tindex_text(x, hits[i].doc));
		pl_buf_printf(out, ", %.17g, ", hits[i].score);
		const char *m = pl_tindex_metadata(x, hits[i].doc);
		pl_buf_put_literal(out, m ? m : "{}");
		pl_buf_puts(out, ")");
	}
	pl_buf_puts(out, ") AS hits(id, text, score, metadata) ORDER BY score DESC)");
}

static int run_search(planar_conn *conn, const args *a, pl_buf *out, pl_err *err)
{
	static const char *const known[] = {"top_k", "mode", "filter", "as_of", "query_vector", NULL};
	int rc = check_known(a, "planar_search", known, err);
	if (rc == 0 && (a->npos != 3 || !a->pos[0] || !a->pos[1]))
		return pl_err_set(err, PL_EINVALID, "planar_search takes the lake, the table ('schema.table') and the query "
				  "text, then top_k, mode, filter, as_of, query_vector by name");
	if (rc)
		return rc;
	pl_lake *lake = pl_db_find_lake(conn->db, a->pos[0]);
	if (!lake)
		return pl_err_set(err, PL_ENOTFOUND, "planar_search: no lake named \"%s\" is attached", a->pos[0]);
	int64_t top_k = 10, as_of = -1;
	if (named(a, "top_k") && (!parse_int(named(a, "top_k"), &top_k) || top_k < 0 || top_k > 100000))
		return pl_err_set(err, PL_EINVALID, "planar_search: top_k must be an integer from 0 to 100000");
	if (has_named(a, "as_of") && named(a, "as_of") && !parse_int(named(a, "as_of"), &as_of))
		return pl_err_set(err, PL_EINVALID, "planar_search: as_of must be a snapshot id");
	pl_search_mode mode = PL_SEARCH_HYBRID;
	const char *ms = named(a, "mode");
	if (ms && pl_str_ieq(ms, "bm25"))
		mode = PL_SEARCH_BM25;
	else if (ms && pl_str_ieq(ms, "vector"))
		mode = PL_SEARCH_VECTOR;
	else if (ms && !pl_str_ieq(ms, "hybrid"))
		return pl_err_set(err, PL_EINVALID, "planar_search: mode must be 'hybrid', 'bm25' or 'vector', not '%s'", ms);
	const pl_table *t = NULL;
	rc = find_table(lake, a->pos[1], &t, err);
	pl_search_def def;
	bool found = false;
	if (rc == 0)
		rc = pl_search_def_get(lake->cat, t->id, &def, &found, err);
	if (rc == 0 && !found)
		rc = pl_err_set(err, PL_ENOTFOUND,
				"planar_search: table \"%s\" has no search index (CALL %s.create_search_index(...))", a->pos[1],
				lake->name);
	if (rc)
		return rc;
	int64_t latest = committed_model(lake)->snapshot_id;
	if (as_of > latest)
		rc = pl_err_set(err, PL_EINVALID, "planar_search: snapshot %lld does not exist yet (the latest is %lld)",
				(long long)as_of, (long long)latest);
	float *qvec = NULL;
	size_t qlen = 0;
	if (rc == 0 && named(a, "query_vector"))
		rc = parse_vector(named(a, "query_vector"), &qvec, &qlen, err);
	pl_strv ids = PL_STRV_INIT;
	bool filtered = named(a, "filter") != NULL;
	if (rc == 0 && filtered)
		rc = filter_ids(conn, lake, t, &def, named(a, "filter"), as_of, &ids, err);
	pthread_mutex_lock(&cache_lock);
	entry *e = NULL;
	size_t changed = 0;
	if (rc == 0)
		rc = cached_index(conn, lake, t, &def, &e, &changed, err);
	uint8_t *allowed = NULL;
	if (rc == 0 && filtered)
		rc = pl_tindex_allow_ids(e->index, ids.items, ids.len, &allowed, err);
	pl_thit *hits = NULL;
	size_t n = 0;
	if (rc == 0) {
		pl_tquery q = {a->pos[2] ? a->pos[2] : "", qvec, qlen, mode, (size_t)top_k,
			       as_of >= 0 ? as_of : e->indexed_to, allowed};
		rc = pl_tindex_search(e->index, &q, &hits, &n, err);
	}
	if (rc == 0) {
		put_hits(out, e->index, hits, n);
		if (pl_buf_oom(out))
			rc = pl_err_nomem(err);
	}
	pthread_mutex_unlock(&cache_lock);
	free(hits);
	free(allowed);
	free(qvec);
	pl_strv_dispose(&ids);
	pl_search_def_dispose(&def);
	return rc;
}

/* lake.search_indexes(): one row per index of the lake. */
static int list_indexes(planar_conn *conn, pl_lake *lake, pl_buf *out, pl_err *err)
{
	pl_search_def *defs = NULL;
	size_t n = 0;
	int rc = pl_search_def_list(lake->cat, &defs, &n, err);
	if (rc)
		return rc;
	(void)conn;
	pl_buf_puts(out, "(SELECT CAST(schema_name AS VARCHAR) AS schema_name, CAST(table_name AS VARCHAR) AS table_name, "
			 "CAST(text_column AS VARCHAR) AS text_column, CAST(id_column AS VARCHAR) AS id_column, "
			 "CAST(metadata_columns AS VARCHAR[]) AS metadata_columns, CAST(vector_column AS VARCHAR) AS "
			 "vector_column, CAST(embedder AS VARCHAR) AS embedder, CAST(created_snapshot AS BIGINT) AS "
			 "created_snapshot, CAST(documents AS BIGINT) AS documents, CAST(indexed_snapshot AS BIGINT) AS "
			 "indexed_snapshot FROM (VALUES ");
	pl_model *m = committed_model(lake);
	pthread_mutex_lock(&cache_lock);
	for (size_t i = 0; i < n; i++) {
		const pl_table *t = pl_model_table_by_id(m, defs[i].table_id);
		const pl_schema *s = t ? pl_model_schema_by_id(m, t->schema_id) : NULL;
		entry *e = cache;
		while (e && !(strcmp(e->identity, lake_identity(lake)) == 0 && e->table_id == defs[i].table_id))
			e = e->next;
		pl_buf_puts(out, i ? ", (" : "(");
		pl_buf_put_literal(out, s ? s->name : defs[i].schema);
		pl_buf_puts(out, ", ");
		pl_buf_put_literal(out, t ? t->name : defs[i].table);
		pl_buf_puts(out, ", ");
		pl_buf_put_literal(out, defs[i].text_column);
		pl_buf_puts(out, ", ");
		pl_buf_put_literal(out, defs[i].id_column);
		pl_buf_puts(out, ", [");
		for (size_t k = 0; k < defs[i].nmetadata; k++) {
			if (k)
				pl_buf_puts(out, ", ");
			pl_buf_put_literal(out, defs[i].metadata_columns[k]);
		}
		pl_buf_puts(out, "]::VARCHAR[], ");
		pl_buf_put_literal(out, defs[i].vector_column);
		pl_buf_puts(out, ", ");
		pl_buf_put_literal(out, defs[i].embedder);
		pl_buf_printf(out, ", %lld, ", (long long)defs[i].created_snapshot);
		if (e)
			pl_buf_printf(out, "%zu, %lld)", pl_tindex_live(e->index), (long long)e->indexed_to);
		else
			pl_buf_puts(out, "NULL, NULL)");
	}
	pthread_mutex_unlock(&cache_lock);
	if (n == 0)
		pl_buf_puts(out, "(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)");
	pl_buf_puts(out, ") AS v(schema_name, table_name, text_column, id_column, metadata_columns, vector_column, "
			 "embedder, created_snapshot, documents, indexed_snapshot)");
	if (n == 0)
		pl_buf_puts(out, " WHERE false");
	pl_buf_puts(out, " ORDER BY schema_name, table_name)");
	pl_search_defs_free(defs, n);
	return pl_buf_oom(out) ? pl_err_nomem(err) : 0;
}

int pl_search_rewrite(planar_conn *conn, const pl_toks *t, char **sql_out, pl_strv *views, pl_err *err)
{
	(void)views;
	pl_buf out = PL_BUF_INIT;
	size_t copied = 0, made = 0;
	int rc = 0;
	*sql_out = NULL;
	for (size_t i = 0; rc == 0 && i < t->len; i++) {
		size_t open = 0, from = i;
		pl_lake *list_lake = NULL;
		bool search = false;
		if (pl_tok_is(t, i, "planar_search") && pl_tok_is_punct(t, i + 1, "(") &&
		    !(i > 0 && pl_tok_is_punct(t, i - 1, "."))) {
			search = true;
			open = i + 1;
		} else if (pl_tok_is_punct(t, i + 1, ".") && pl_tok_is(t, i + 2, "search_indexes") &&
			   pl_tok_is_punct(t, i + 3, "(") && pl_tok_is_punct(t, i + 4, ")") &&
			   !(i > 0 && pl_tok_is_punct(t, i - 1, "."))) {
			char *name = pl_tok_ident(t, i);
			if (!name)
				return pl_err_nomem(err);
			list_lake = pl_db_find_lake(conn->db, name);
			free(name);
			if (!list_lake)
				continue;
			open = i + 3;
		} else {
			continue;
		}
		size_t close = pl_tok_match_paren(t, open);
		if (close >= t->len)
			break;
		if (made == 0 && (rc = register_conn(conn, err)) != 0)
			break;
		pl_buf_put(&out, t->src + copied, t->items[from].start - copied);
		if (search) {
			args a;
			rc = parse_args(conn, t, open, close, "planar_search", &a, err);
			if (rc == 0)
				rc = run_search(conn, &a, &out, err);
			args_dispose(&a);
		} else {
			rc = list_indexes(conn, list_lake, &out, err);
		}
		if (rc == 0 && !pl_tok_has_alias(t, close + 1))
			pl_buf_puts(&out, search ? " AS planar_search" : " AS search_indexes");
		copied = t->items[close].start + 1;
		i = close;
		made++;
	}
	return pl_rewrite_finish(&out, t, copied, rc == 0 && made > 0, rc, sql_out, err);
}
