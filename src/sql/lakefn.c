/*
 * lakefn.c -- the `lake.<function>(...)` call forms of DuckLake's functions. DuckLake gives each
 * attached lake's schemas the functions snapshots(), table_info(), current_snapshot(),
 * last_committed_snapshot(), settings(), options(), merge_adjacent_files(), set_option(...),
 * set_commit_message(...) and table_changes / table_insertions / table_deletions(...), so that
 * `FROM lake.snapshots()`, `CALL lake.merge_adjacent_files()` and, with the lake as the current
 * database, `FROM snapshots()` run `ducklake_<name>('lake', ...)`. Planar rewrites these calls
 * generically, by name: `lake.X(args)` (and `lake.schema.X(args)`) becomes
 * `ducklake_X('lake', args)` whenever a table function ducklake_X exists (or is one of the
 * statement forms Planar handles itself: set_option, set_commit_message, add_data_files), so any
 * ducklake_ function gets this form as soon as it is registered. The change-feed functions also
 * get the schema: `lake.s.table_changes('t', 1, 2)` is `ducklake_table_changes('lake', 's', 't',
 * 1, 2)`. Unqualified calls are rewritten only for DuckLake's own list and only in a FROM, JOIN
 * or CALL position while the current database is a lake.
 */
#include "sql/lakefn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "sql/lake.h"

/* DuckLake's per-schema functions (the names an unqualified call may use). */
static const char *const builtin_names[] = {
	"merge_adjacent_files", "set_option",  "set_commit_message", "options",          "settings",
	"current_snapshot",     "snapshots",   "table_info",         "last_committed_snapshot",
	"table_changes",        "table_deletions", "table_insertions", NULL,
};

/* Statement forms Planar's router handles itself (no DuckDB function by that name). */
static const char *const statement_forms[] = {"set_option", "set_commit_message", "add_data_files",
					      "table_changes", "table_insertions", "table_deletions", NULL};

/* Functions that take the schema after the catalog. */
static const char *const schema_scoped[] = {"table_changes", "table_insertions", "table_deletions", NULL};

static bool in_list(const char *const *list, const char *name)
{
	for (; *list; list++)
		if (pl_str_ieq(*list, name))
			return true;
	return false;
}

static bool is_name(const pl_toks *t, size_t i)
{
	return i < t->len && (t->items[i].kind == PL_TOK_WORD || t->items[i].kind == PL_TOK_QIDENT);
}

/* Whether DuckDB knows a table function or table macro ducklake_<name>. */
static int function_exists(planar_conn *conn, const char *name, bool *exists, pl_err *err)
{
	pl_buf q = PL_BUF_INIT, fn = PL_BUF_INIT;
	char *count = NULL;
	pl_buf_puts(&fn, "ducklake_");
	pl_buf_puts(&fn, name);
	pl_buf_puts(&q, "SELECT count(*) FROM duckdb_functions() WHERE lower(function_name) = lower(");
	pl_buf_put_literal(&q, pl_buf_cstr(&fn));
	pl_buf_puts(&q, ") AND function_type IN ('table', 'table_macro')");
	int rc = pl_buf_oom(&q) || pl_buf_oom(&fn) ? pl_err_nomem(err) : pl_engine_query_value(conn->con, q.ptr, &count, err);
	*exists = rc == 0 && count && strcmp(count, "0") != 0;
	free(count);
	pl_buf_dispose(&q);
	pl_buf_dispose(&fn);
	return rc;
}

/* The session's current database and schema, asked once per statement. */
typedef struct location {
	bool known;
	char *db, *schema;
} location;

static int current_location(planar_conn *conn, location *loc, pl_err *err)
{
	if (loc->known)
		return 0;
	duckdb_result res;
	int rc = pl_engine_query(conn->con, "SELECT current_database(), current_schema()", &res, err);
	if (rc)
		return rc;
	bool oom = false;
	loc->db = pl_engine_value_str(&res, 0, 0, &oom);
	loc->schema = pl_engine_value_str(&res, 1, 0, &oom);
	duckdb_destroy_result(&res);
	loc->known = true;
	return oom ? pl_err_nomem(err) : 0;
}

/* A call at token i: its lake, schema (NULL: none given), function name and the "(" token. */
typedef struct lake_call {
	pl_lake *lake;
	char *schema, *name;
	size_t open;
} lake_call;

static void call_dispose(lake_call *c)
{
	free(c->schema);
	free(c->name);
	memset(c, 0, sizeof(*c));
}

static int match_call(planar_conn *conn, const pl_toks *t, size_t i, location *loc, lake_call *c, pl_err *err)
{
	memset(c, 0, sizeof(*c));
	if (!is_name(t, i) || (i > 0 && pl_tok_is_punct(t, i - 1, ".")))
		return 0;
	/* INSERT INTO lake.s.t (columns): a table and its column list, not a call (asking DuckDB
	 * whether such a function exists costs more than the rest of a small INSERT) */
	if (i > 0 && pl_tok_is(t, i - 1, "INTO"))
		return 0;
	size_t fn = 0;
	if (pl_tok_is_punct(t, i + 1, ".") && is_name(t, i + 2) && pl_tok_is_punct(t, i + 3, "(")) {
		fn = i + 2;
	} else if (pl_tok_is_punct(t, i + 1, ".") && is_name(t, i + 2) && pl_tok_is_punct(t, i + 3, ".") &&
		   is_name(t, i + 4) && pl_tok_is_punct(t, i + 5, "(")) {
		fn = i + 4;
	} else if (pl_tok_is_punct(t, i + 1, "(") && t->items[i].kind == PL_TOK_WORD && i > 0 &&
		   (pl_tok_is(t, i - 1, "FROM") || pl_tok_is(t, i - 1, "JOIN") || pl_tok_is(t, i - 1, "CALL"))) {
		char *name = pl_tok_ident(t, i);
		if (!name)
			return pl_err_nomem(err);
		bool builtin = in_list(builtin_names, name);
		int rc = builtin ? current_location(conn, loc, err) : 0;
		pl_lake *lake = builtin && rc == 0 && loc->db ? pl_db_find_lake(conn->db, loc->db) : NULL;
		if (!lake) {
			free(name);
			return rc;
		}
		*c = (lake_call){lake, pl_strdup(loc->schema ? loc->schema : "main"), name, i + 1};
		return c->schema ? 0 : pl_err_nomem(err);
	} else {
		return 0;
	}
	char *lake_name = pl_tok_ident(t, i);
	if (!lake_name)
		return pl_err_nomem(err);
	c->lake = pl_db_find_lake(conn->db, lake_name);
	free(lake_name);
	if (!c->lake)
		return 0;
	if (fn == i + 4 && !(c->schema = pl_tok_ident(t, i + 2)))
		return pl_err_nomem(err);
	if (c->schema && !pl_model_schema(c->lake->model, c->schema)) {
		call_dispose(c);
		return 0;
	}
	if (!(c->name = pl_tok_ident(t, fn)))
		return pl_err_nomem(err);
	c->open = fn + 1;
	return 0;
}

int pl_lakefn_rewrite(planar_conn *conn, const pl_toks *t, char **sql_out, pl_strv *views, pl_err *err)
{
	(void)views;
	pl_buf out = PL_BUF_INIT;
	location loc = {0};
	size_t copied = 0, made = 0;
	int rc = 0;
	*sql_out = NULL;
	for (size_t i = 0; rc == 0 && i < t->len; i++) {
		lake_call c;
		rc = match_call(conn, t, i, &loc, &c, err);
		if (rc || !c.lake)
			continue;
		bool known = in_list(statement_forms, c.name);
		if (!known)
			rc = function_exists(conn, c.name, &known, err);
		size_t close = pl_tok_match_paren(t, c.open);
		if (rc == 0 && known && close < t->len) {
			pl_buf_put(&out, t->src + copied, t->items[i].start - copied);
			pl_buf_puts(&out, "ducklake_");
			pl_buf_puts(&out, c.name);
			pl_buf_puts(&out, "(");
			pl_buf_put_literal(&out, c.lake->name);
			if (in_list(schema_scoped, c.name)) {
				pl_buf_puts(&out, ", ");
				pl_buf_put_literal(&out, c.schema ? c.schema : "main");
			}
			if (close > c.open + 1)
				pl_buf_puts(&out, ", ");
			copied = t->items[c.open].start + 1;
			i = c.open;
			made++;
		}
		call_dispose(&c);
	}
	free(loc.db);
	free(loc.schema);
	return pl_rewrite_finish(&out, t, copied, rc == 0 && made > 0, rc, sql_out, err);
}
