/*
 * macros.c -- CREATE [OR REPLACE] MACRO|FUNCTION [IF NOT EXISTS] name (params) AS expr | AS TABLE
 * query [, (params) AS ...] and DROP MACRO [TABLE] | DROP FUNCTION [IF EXISTS] name in a lake: the
 * statement side (the table layer plans the catalog rows, table/ddl.h). Each statement is one
 * snapshot; the lake's database in DuckDB gets the macro when the lake is next synced, so queries
 * call it as lake.schema.name(...) (or name(...) with the lake as current database).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "sql/lake.h"
#include "sql/router.h"
#include "table/ddl.h"

typedef struct defaults {
	pl_macro_default *items;
	size_t n;
	pl_strv texts; /* owns the strings the items point to */
} defaults;

static void defaults_dispose(defaults *d)
{
	free(d->items);
	pl_strv_dispose(&d->texts);
}

/* Evaluates one default expression: its text (as DuckDB shows the value) and DuckLake type. */
static int eval_default(planar_conn *conn, const char *expr, size_t len, char **value, char **type, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	duckdb_result res;
	pl_buf_printf(&q, "SELECT CAST((%.*s) AS VARCHAR), typeof(%.*s)", (int)len, expr, (int)len, expr);
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query(conn->con, q.ptr, &res, err);
	pl_buf_dispose(&q);
	if (rc)
		return rc;
	bool oom = false;
	*value = pl_engine_value_str(&res, 0, 0, &oom);
	char *dtype = pl_engine_value_str(&res, 1, 0, &oom);
	duckdb_destroy_result(&res);
	const char *lt = dtype ? pl_duckdb_to_ducklake_type(dtype) : NULL;
	*type = pl_strdup(lt ? lt : dtype ? dtype : "unknown");
	free(dtype);
	if (!*value && !oom) /* a NULL default */
		*value = pl_strdup("NULL");
	return oom || !*value || !*type ? pl_err_nomem(err) : 0;
}

/* The `name := expr` defaults of one parameter group (tokens open..close). */
static int group_defaults(planar_conn *conn, const pl_toks *t, size_t open, size_t close, size_t impl, defaults *d,
			  pl_err *err)
{
	size_t start = open + 1;
	int depth = 0;
	for (size_t i = open + 1; i <= close; i++) {
		bool end = i == close || (depth == 0 && pl_tok_is_punct(t, i, ","));
		if (pl_tok_is_punct(t, i, "("))
			depth++;
		else if (pl_tok_is_punct(t, i, ")") && i != close)
			depth--;
		if (!end)
			continue;
		/* start: the parameter's name; a default after := (or =) */
		size_t eq = start;
		while (eq < i && !(pl_tok_is_punct(t, eq, ":") && pl_tok_is_punct(t, eq + 1, "=")) &&
		       !pl_tok_is_punct(t, eq, ":=") && !pl_tok_is_punct(t, eq, "="))
			eq++;
		if (eq < i) {
			size_t vfrom = eq + (pl_tok_is_punct(t, eq, ":") ? 2 : 1);
			if (vfrom >= i)
				return pl_err_set(err, PL_EINVALID, "syntax error: a macro parameter default has no value");
			size_t a = t->items[vfrom].start, b = t->items[i - 1].start + t->items[i - 1].len;
			char *name = pl_tok_ident(t, start), *value = NULL, *type = NULL;
			int rc = name ? eval_default(conn, t->src + a, b - a, &value, &type, err) : pl_err_nomem(err);
			pl_macro_default *grown = rc ? NULL : realloc(d->items, (d->n + 1) * sizeof(*grown));
			if (rc == 0 && !grown)
				rc = pl_err_nomem(err);
			if (rc == 0) {
				d->items = grown;
				d->items[d->n++] = (pl_macro_default){impl, name, value, type};
			}
			/* the strings belong to d->texts from here on */
			if (name && pl_strv_push_owned(&d->texts, name))
				rc = rc ? rc : pl_err_nomem(err);
			if (value && pl_strv_push_owned(&d->texts, value))
				rc = rc ? rc : pl_err_nomem(err);
			if (type && pl_strv_push_owned(&d->texts, type))
				rc = rc ? rc : pl_err_nomem(err);
			if (rc)
				return rc;
		}
		start = i + 1;
	}
	return 0;
}

/* Every parameter group of the definition starting at `open` (the first group's "("): the first,
 * then each top-level `, (...) AS` after an implementation's body. */
static int parse_defaults(planar_conn *conn, const pl_toks *t, size_t open, defaults *d, pl_err *err)
{
	size_t impl = 0;
	while (open < t->len && pl_tok_is_punct(t, open, "(")) {
		size_t close = pl_tok_match_paren(t, open);
		if (close >= t->len)
			return pl_err_set(err, PL_EINVALID, "syntax error: unbalanced parentheses in CREATE MACRO");
		int rc = group_defaults(conn, t, open, close, impl++, d, err);
		if (rc)
			return rc;
		size_t next = t->len;
		int depth = 0;
		for (size_t i = close + 1; i < t->len; i++) {
			if (pl_tok_is_punct(t, i, "("))
				depth++;
			else if (pl_tok_is_punct(t, i, ")"))
				depth--;
			else if (depth == 0 && pl_tok_is_punct(t, i, ",") && pl_tok_is_punct(t, i + 1, "(")) {
				size_t c = pl_tok_match_paren(t, i + 1);
				if (c < t->len && pl_tok_is(t, c + 1, "AS")) {
					next = i + 1;
					break;
				}
			}
		}
		open = next;
	}
	return 0;
}

static int resolve(pl_stmt *st, size_t *i, pl_target *tgt, const pl_schema **schema, pl_err *err)
{
	char *parts[3] = {0};
	size_t n = 0;
	int rc = pl_parse_qname(&st->toks, i, parts, &n, err);
	if (rc == 0)
		rc = pl_resolve_target(st, parts, n, tgt, err);
	for (size_t k = 0; k < n; k++)
		free(parts[k]);
	if (rc == 0 && !tgt->lake)
		rc = pl_err_set(err, PL_ENOTFOUND, "no lake found for the macro");
	if (rc == 0)
		rc = pl_lake_check_writable(tgt->lake, err);
	const pl_model *m = NULL;
	if (rc == 0)
		rc = pl_lake_model_for(tgt->lake, st->conn, &m, err);
	*schema = rc ? NULL : pl_model_schema(m, tgt->schema);
	if (rc == 0 && !*schema)
		rc = pl_err_set(err, PL_ENOTFOUND, "Catalog Error: Schema with name \"%s\" does not exist! (not found in lake "
				"\"%s\")", tgt->schema, tgt->lake->name);
	return rc;
}

int pl_handle_create_macro(pl_stmt *st, size_t name_at, planar_result **out, pl_err *err)
{
	const pl_toks *t = &st->toks;
	pl_target tgt = {0};
	const pl_schema *s = NULL;
	pl_txn txn = {0};
	defaults d = {0};
	size_t i = name_at;
	bool or_replace = pl_tok_is(t, 1, "OR"), if_not_exists = pl_tok_is(t, name_at - 1, "EXISTS");
	(void)out;
	int rc = resolve(st, &i, &tgt, &s, err);
	if (rc == 0 && !pl_tok_is_punct(t, i, "("))
		rc = pl_err_set(err, PL_EINVALID, "syntax error: CREATE MACRO needs a parameter list after the name");
	if (rc == 0)
		rc = pl_name_check("macro", tgt.name, err);
	const pl_model *m = NULL;
	if (rc == 0)
		rc = pl_lake_model_for(tgt.lake, st->conn, &m, err);
	size_t close = rc ? 0 : pl_tok_match_paren(t, i);
	bool table = close < t->len && pl_tok_is(t, close + 1, "AS") && pl_tok_is(t, close + 2, "TABLE");
	const pl_macro *existing = rc ? NULL : pl_model_macro(m, s->id, tgt.name, table);
	bool skip = false;
	if (rc == 0 && existing && if_not_exists)
		skip = true;
	else if (rc == 0 && existing && !or_replace)
		rc = pl_err_set(err, PL_EEXISTS, "Catalog Error: %s Function with name \"%s\" already exists!",
				table ? "Table Macro" : "Macro", tgt.name);
	if (rc == 0 && !skip)
		rc = parse_defaults(st->conn, t, i, &d, err);
	if (rc == 0 && !skip) {
		pl_lake_ctx ctx;
		pl_lake_table_ctx(&ctx, tgt.lake, st->conn);
		rc = pl_ddl_create_macro(&ctx.table, s, tgt.name, t->src + t->items[i].start, d.items, d.n,
					 or_replace ? existing : NULL, &txn, err);
	}
	if (rc == 0 && !skip)
		rc = pl_lake_commit(tgt.lake, st->conn, &txn, err);
	pl_txn_dispose(&txn);
	defaults_dispose(&d);
	pl_target_dispose(&tgt);
	return rc;
}

/* DROP MACRO [TABLE] [IF EXISTS] name / DROP FUNCTION ...: at is the name's token. */
int pl_handle_drop_macro(pl_stmt *st, size_t at, bool table_kind, bool if_exists, planar_result **out, pl_err *err)
{
	const pl_toks *t = &st->toks;
	pl_target tgt = {0};
	const pl_schema *s = NULL;
	pl_txn txn = {0};
	size_t i = at;
	(void)out;
	int rc = resolve(st, &i, &tgt, &s, err);
	if (rc == 0 && i < t->len && !pl_tok_is(t, i, "CASCADE") && !pl_tok_is(t, i, "RESTRICT"))
		rc = pl_err_set(err, PL_EINVALID, "syntax error at end of DROP MACRO");
	const pl_model *m = NULL;
	if (rc == 0)
		rc = pl_lake_model_for(tgt.lake, st->conn, &m, err);
	const pl_macro *mac = rc ? NULL : pl_model_macro(m, s->id, tgt.name, table_kind);
	const pl_macro *other = rc || mac ? NULL : pl_model_macro(m, s->id, tgt.name, !table_kind);
	if (rc == 0 && other)
		mac = other; /* the other kind: refused below, as DuckDB refuses it */
	if (rc == 0 && !mac && !if_exists)
		rc = pl_err_set(err, PL_ENOTFOUND, "Catalog Error: %s Function with name %s does not exist!",
				table_kind ? "Table Macro" : "Macro", tgt.name);
	else if (rc == 0 && mac && mac->table != table_kind)
		rc = pl_err_set(err, PL_EINVALID, "Catalog Error: Existing object %s is of type %s, trying to drop type %s",
				tgt.name, mac->table ? "Table Macro Function" : "Macro Function",
				table_kind ? "Table Macro Function" : "Macro Function");
	if (rc == 0 && mac)
		rc = pl_ddl_drop_macro(mac, &txn, err);
	if (rc == 0 && mac)
		rc = pl_lake_commit(tgt.lake, st->conn, &txn, err);
	pl_txn_dispose(&txn);
	pl_target_dispose(&tgt);
	return rc;
}
