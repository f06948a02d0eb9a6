/*
 * addfiles.c -- CALL ducklake_add_data_files('lake', 'table', 'path' | ['path', ...]
 *                 [, schema => 's'] [, allow_missing => bool] [, ignore_extra_columns => bool]
 *                 [, hive_partitioning => bool])
 * and CALL lake.add_data_files('table', ...): registers existing Parquet files in a table
 * (table/addfiles.h) and commits them as one snapshot.
 */
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "sql/lake.h"
#include "sql/router.h"
#include "table/addfiles.h"

typedef struct add_args {
	pl_strv pos;   /* positional string arguments */
	pl_strv paths; /* the path argument: one string or a list */
	pl_strv exprs; /* or an expression giving them, evaluated by DuckDB */
	bool path_seen;
	char *schema;
	pl_addfiles_opts opts;
} add_args;

static int bool_value(const pl_toks *t, size_t i, bool *out, pl_err *err)
{
	char *v = t->items[i].kind == PL_TOK_STRING ? pl_tok_string(t, i) : pl_strndup(t->src + t->items[i].start, t->items[i].len);
	if (!v)
		return pl_err_nomem(err);
	bool ok = true;
	if (pl_str_ieq(v, "true") || pl_str_ieq(v, "t") || strcmp(v, "1") == 0)
		*out = true;
	else if (pl_str_ieq(v, "false") || pl_str_ieq(v, "f") || strcmp(v, "0") == 0)
		*out = false;
	else
		ok = false;
	free(v);
	return ok ? 0 : pl_err_set(err, PL_EINVALID, "add_data_files: expected true or false");
}

/* One argument at i (a string, NULL, or a list of strings); *next is the token after it. */
static int read_value(const pl_toks *t, size_t i, size_t close, pl_strv *into, pl_strv *exprs, size_t *next,
		      pl_err *err)
{
	if (pl_tok_is_punct(t, i, "[")) {
		size_t k = i + 1;
		while (k < close && !pl_tok_is_punct(t, k, "]")) {
			if (t->items[k].kind != PL_TOK_STRING)
				return pl_err_set(err, PL_EINVALID, "Invalid Input Error: File list must be a string or a list "
							     "of strings");
			char *s = pl_tok_string(t, k);
			if (!s || pl_strv_push_owned(into, s))
				return pl_err_nomem(err);
			k++;
			if (pl_tok_is_punct(t, k, ","))
				k++;
		}
		if (k >= close)
			return pl_err_set(err, PL_EINVALID, "syntax error in CALL arguments");
		*next = k + 1;
		return 0;
	}
	if (pl_tok_is(t, i, "NULL") && (i + 1 >= close || pl_tok_is_punct(t, i + 1, ",")))
		return pl_err_set(err, PL_EINVALID, "Invalid Input Error: File list cannot be NULL");
	if (t->items[i].kind != PL_TOK_STRING || (i + 1 < close && !pl_tok_is_punct(t, i + 1, ","))) {
		/* an expression: up to the next comma outside parentheses and brackets */
		int depth = 0;
		size_t k = i;
		for (; k < close && (depth > 0 || !pl_tok_is_punct(t, k, ",")); k++) {
			if (pl_tok_is_punct(t, k, "(") || pl_tok_is_punct(t, k, "["))
				depth++;
			else if (pl_tok_is_punct(t, k, ")") || pl_tok_is_punct(t, k, "]"))
				depth--;
		}
		size_t from = t->items[i].start, to = t->items[k - 1].start + t->items[k - 1].len;
		char *e = pl_strndup(t->src + from, to - from);
		if (!e || pl_strv_push_owned(exprs, e))
			return pl_err_nomem(err);
		*next = k;
		return 0;
	}
	char *s = pl_tok_string(t, i);
	if (!s || pl_strv_push_owned(into, s))
		return pl_err_nomem(err);
	*next = i + 1;
	return 0;
}

static int parse(const pl_toks *t, size_t open, size_t npos_before_path, add_args *a, pl_err *err)
{
	size_t close = pl_tok_match_paren(t, open);
	if (close >= t->len || close + 1 != t->len)
		return pl_err_set(err, PL_EINVALID, "syntax error in CALL arguments");
	int rc = 0;
	for (size_t i = open + 1; rc == 0 && i < close;) {
		/* name => value, name := value, name = value */
		size_t v = i;
		if (i + 2 < close && pl_tok_is_punct(t, i + 1, "=") && pl_tok_is_punct(t, i + 2, ">"))
			v = i + 3;
		else if (i + 2 < close && pl_tok_is_punct(t, i + 1, ":") && pl_tok_is_punct(t, i + 2, "="))
			v = i + 3;
		else if (i + 1 < close && pl_tok_is_punct(t, i + 1, "="))
			v = i + 2;
		bool named = v > i && t->items[i].kind != PL_TOK_STRING;
		size_t next = i + 1;
		if (named) {
			char *key = pl_tok_ident(t, i);
			if (!key)
				return pl_err_nomem(err);
			if (v >= close)
				rc = pl_err_set(err, PL_EINVALID, "syntax error in CALL arguments");
			else if (pl_str_ieq(key, "schema")) {
				free(a->schema);
				a->schema = t->items[v].kind == PL_TOK_STRING ? pl_tok_string(t, v) : pl_tok_ident(t, v);
				rc = a->schema ? 0 : pl_err_nomem(err);
			} else if (pl_str_ieq(key, "allow_missing"))
				rc = bool_value(t, v, &a->opts.allow_missing, err);
			else if (pl_str_ieq(key, "ignore_extra_columns"))
				rc = bool_value(t, v, &a->opts.ignore_extra_columns, err);
			else if (pl_str_ieq(key, "hive_partitioning")) {
				bool b = false;
				rc = bool_value(t, v, &b, err);
				a->opts.hive_partitioning = b;
			} else
				rc = pl_err_set(err, PL_EINVALID, "Binder Error: Invalid named parameter \"%s\" for function "
								  "ducklake_add_data_files", key);
			free(key);
			next = v + 1;
		} else if (a->pos.len == npos_before_path && !a->path_seen) {
			rc = read_value(t, i, close, &a->paths, &a->exprs, &next, err);
			a->path_seen = true;
		} else {
			if (t->items[i].kind == PL_TOK_STRING) {
				char *s = pl_tok_string(t, i);
				rc = !s || pl_strv_push_owned(&a->pos, s) ? pl_err_nomem(err) : 0;
			} else if (pl_tok_is(t, i, "NULL")) {
				rc = pl_err_set(err, PL_EINVALID, "Invalid Input Error: Table name cannot be NULL");
			} else {
				rc = pl_err_set(err, PL_EINVALID, "CALL arguments must be literals");
			}
		}
		i = next;
		if (rc == 0 && i < close && !pl_tok_is_punct(t, i++, ","))
			rc = pl_err_set(err, PL_EINVALID, "CALL arguments must be literals");
	}
	if (rc == 0 && (!a->path_seen || a->pos.len != npos_before_path))
		rc = pl_err_set(err, PL_EINVALID, "add_data_files takes %s a table name and a path or list of paths",
				npos_before_path == 2 ? "a lake name," : "");
	return rc;
}

/* The paths an expression argument gives: a string or a list of strings. */
static int eval_paths(duckdb_connection con, const char *expr, pl_strv *paths, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	pl_buf_puts(&q, "SELECT unnest(CASE WHEN typeof(__e) LIKE '%[]' THEN CAST(__e AS VARCHAR[]) ELSE "
			 "[CAST(__e AS VARCHAR)] END) FROM (SELECT (");
	pl_buf_puts(&q, expr);
	pl_buf_puts(&q, ") AS __e)");
	if (pl_buf_oom(&q))
		return pl_err_nomem(err);
	duckdb_result r;
	int rc = pl_engine_query(con, pl_buf_cstr(&q), &r, err);
	pl_buf_dispose(&q);
	if (rc)
		return rc;
	for (idx_t i = 0; rc == 0 && i < duckdb_row_count(&r); i++) {
		bool oom = false;
		char *v = pl_engine_value_str(&r, 0, i, &oom);
		if (oom)
			rc = pl_err_nomem(err);
		else if (!v)
			rc = pl_err_set(err, PL_EINVALID, "Invalid Input Error: File list cannot be NULL");
		else if (pl_strv_push_owned(paths, v))
			rc = pl_err_nomem(err);
	}
	duckdb_destroy_result(&r);
	return rc;
}

int pl_handle_add_data_files(pl_stmt *st, pl_lake *lake, size_t open, pl_err *err)
{
	add_args a = {0};
	a.opts.hive_partitioning = -1;
	int rc = parse(&st->toks, open, lake ? 1 : 2, &a, err);
	for (size_t i = 0; rc == 0 && i < a.exprs.len; i++)
		rc = eval_paths(st->conn->con, a.exprs.items[i], &a.paths, err);
	if (rc == 0 && !lake && !(lake = pl_db_find_lake(st->conn->db, a.pos.items[0])))
		rc = pl_err_set(err, PL_ENOTFOUND, "Catalog Error: no lake named \"%s\" is attached", a.pos.items[0]);
	if (rc == 0)
		rc = pl_lake_check_writable(lake, err);
	const pl_model *m = NULL;
	if (rc == 0)
		rc = pl_lake_model_for(lake, st->conn, &m, err);
	const char *table = rc ? NULL : a.pos.items[a.pos.len - 1];
	const pl_schema *s = rc ? NULL : pl_model_schema(m, a.schema ? a.schema : "main");
	const pl_table *t = s ? pl_model_table(m, s->id, table) : NULL;
	if (rc == 0 && !t) {
		const pl_table *other = NULL;
		for (size_t i = 0; !other && i < m->ntables; i++)
			if (pl_str_ieq(m->tables[i].name, table))
				other = &m->tables[i];
		const pl_schema *os = other ? pl_model_schema_by_id(m, other->schema_id) : NULL;
		if (os)
			rc = pl_err_set(err, PL_ENOTFOUND, "Catalog Error: Table with name %s does not exist!\nDid you mean "
							   "\"%s.%s\"?", table, os->name, other->name);
		else
			rc = pl_err_set(err, PL_ENOTFOUND, "Catalog Error: Table with name %s does not exist!", table);
	}
	pl_txn txn = {0};
	if (rc == 0) {
		int64_t base = m->snapshot_id;
		pl_lake_ctx ctx;
		pl_lake_table_ctx(&ctx, lake, st->conn);
		rc = pl_addfiles_build(&ctx.table, t, a.paths.items, a.paths.len, &a.opts, &txn, err);
		if (rc == 0 && txn.nfiles > 0)
			rc = pl_lake_commit_from(lake, st->conn, &txn, base, err);
	}
	pl_txn_dispose(&txn);
	pl_strv_dispose(&a.pos);
	pl_strv_dispose(&a.paths);
	pl_strv_dispose(&a.exprs);
	free(a.schema);
	return rc;
}
