/*
 * dml.c -- DELETE, UPDATE and TRUNCATE on lake tables: the statement side. The statement is
 * split into its clauses (alias, SET list, USING / FROM list, WHERE, RETURNING), the table layer
 * finds the rows and plans the changes (table/dml.h), and they commit as one snapshot.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "sql/lake.h"
#include "sql/router.h"
#include "table/dml.h"

typedef struct dml_stmt {
	pl_stmt *st;
	bool update;
	pl_target tgt;
	pl_model *model;  /* the lake's model when the statement began, held for the whole statement */
	const pl_table *table; /* in model */
	char *alias;
	size_t name_from, name_to;          /* target name tokens */
	size_t set_from, set_to;            /* UPDATE assignments */
	size_t from_from, from_to;          /* USING / FROM list */
	size_t where_from, where_to;        /* WHERE condition */
	size_t ret_from;                    /* RETURNING list (ret_from == len: none) */
	pl_assignment *set;
	size_t nset;
	bool aliased;         /* the statement names an alias (which hides the table's name) */
	pl_buf texts[3];      /* clauses with qualified column references rewritten */
	char **set_texts;     /* the same for SET expressions (nset entries, NULL: as written) */
} dml_stmt;

/* First depth-0 occurrence of kw at or after i, else t->len. */
/* +1 for an opening bracket of any kind ( [ {, -1 for a closing one, else 0. */
static int nesting(const pl_toks *t, size_t i)
{
	if (pl_tok_is_punct(t, i, "(") || pl_tok_is_punct(t, i, "[") || pl_tok_is_punct(t, i, "{"))
		return 1;
	if (pl_tok_is_punct(t, i, ")") || pl_tok_is_punct(t, i, "]") || pl_tok_is_punct(t, i, "}"))
		return -1;
	return 0;
}

static size_t find_top(const pl_toks *t, size_t i, const char *kw)
{
	int depth = 0;
	for (; i < t->len; i++) {
		int n = nesting(t, i);
		if (n)
			depth += n;
		else if (depth == 0 && pl_tok_is(t, i, kw))
			return i;
	}
	return t->len;
}

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

static pl_text span(const pl_toks *t, size_t from, size_t to)
{
	if (from >= to)
		return (pl_text){NULL, 0};
	size_t a = t->items[from].start, e = t->items[to - 1].start + t->items[to - 1].len;
	return (pl_text){t->src + a, e - a};
}

static bool is_clause_word(const pl_toks *t, size_t i)
{
	static const char *const words[] = {"USING", "WHERE", "RETURNING", "SET", "FROM", NULL};
	for (const char *const *w = words; *w; w++)
		if (pl_tok_is(t, i, *w))
			return true;
	return false;
}

/* Parses the clauses after the target name; fills the token ranges. */
static int parse_clauses(dml_stmt *d, size_t i, pl_err *err)
{
	const pl_toks *t = &d->st->toks;
	bool as = pl_tok_is(t, i, "AS");
	if (as)
		i++;
	bool ident = i < t->len && (t->items[i].kind == PL_TOK_WORD || t->items[i].kind == PL_TOK_QIDENT);
	if (as && !ident)
		return pl_err_set(err, PL_EINVALID, "syntax error: AS needs an alias");
	if (ident && (as || !is_clause_word(t, i))) {
		if (!(d->alias = pl_tok_ident(t, i)))
			return pl_err_nomem(err);
		d->aliased = true;
		i++;
	}
	d->ret_from = find_top(t, i, "RETURNING");
	d->where_from = find_top(t, i, "WHERE");
	if (d->where_from > d->ret_from)
		d->where_from = t->len;
	d->where_to = d->ret_from;
	const char *list_kw = d->update ? "FROM" : "USING";
	size_t stop = min_size(d->where_from, d->ret_from);
	size_t set = d->update ? find_top(t, i, "SET") : i;
	if (d->update && set != i)
		return pl_err_set(err, PL_EINVALID, "syntax error: UPDATE needs SET after the table name");
	size_t list = find_top(t, d->update ? set : i, list_kw);
	if (list > stop)
		list = stop;
	d->set_from = set + 1;
	d->set_to = list;
	d->from_from = list < stop ? list + 1 : stop;
	d->from_to = stop;
	if (!d->update && list != i && list != stop)
		return pl_err_set(err, PL_EINVALID, "syntax error near \"%.*s\"", (int)t->items[i].len,
				  t->src + t->items[i].start);
	if (d->where_from < t->len)
		d->where_from++;
	return 0;
}

/* UPDATE's SET list: its depth-0 comma-separated items, each `column = expression` as written. */
static int parse_set(dml_stmt *d, pl_err *err)
{
	const pl_toks *t = &d->st->toks;
	size_t i = d->set_from;
	while (i < d->set_to) {
		size_t end = i;
		int depth = 0;
		for (; end < d->set_to; end++) {
			int n = nesting(t, end);
			if (n)
				depth += n;
			else if (depth == 0 && pl_tok_is_punct(t, end, ","))
				break;
		}
		pl_assignment *a = realloc(d->set, (d->nset + 1) * sizeof(*a));
		if (!a)
			return pl_err_nomem(err);
		d->set = a;
		a = &a[d->nset++];
		*a = (pl_assignment){NULL, {NULL, 0}, end - i >= 3 && pl_tok_is_punct(t, i + 1, "=")};
		if (a->well_formed)
			a->expr = span(t, i + 2, end);
		if (end > i && !(a->column = pl_tok_ident(t, i)))
			return pl_err_nomem(err);
		i = end + 1;
	}
	return 0;
}

static int resolve(dml_stmt *d, size_t name_at, pl_err *err)
{
	char *parts[3] = {0};
	size_t n = 0, i = name_at;
	d->name_from = name_at;
	int rc = pl_parse_qname(&d->st->toks, &i, parts, &n, err);
	d->name_to = i;
	if (rc == 0)
		rc = pl_resolve_target(d->st, parts, n, &d->tgt, err);
	for (size_t k = 0; k < n; k++)
		free(parts[k]);
	if (rc)
		return rc;
	rc = pl_lake_check_writable(d->tgt.lake, err);
	d->model = pl_model_ref(d->tgt.lake->model);
	const pl_schema *s = pl_model_schema(d->model, d->tgt.schema);
	d->table = s ? pl_model_table(d->model, s->id, d->tgt.name) : NULL;
	if (rc == 0 && !d->table)
		rc = pl_err_set(err, PL_ENOTFOUND, "Catalog Error: Table with name %s does not exist!", d->tgt.name);
	if (rc == 0)
		rc = parse_clauses(d, i, err);
	if (rc == 0 && d->update)
		rc = parse_set(d, err);
	if (rc == 0 && !d->alias && !(d->alias = pl_strdup(d->tgt.name)))
		rc = pl_err_nomem(err);
	return rc;
}

static bool is_name(const pl_toks *t, size_t i)
{
	return i < t->len && (t->items[i].kind == PL_TOK_WORD || t->items[i].kind == PL_TOK_QIDENT);
}

static bool name_is(const pl_toks *t, size_t i, const char *want)
{
	char *v = pl_tok_ident(t, i);
	bool yes = v && pl_str_ieq(v, want);
	free(v);
	return yes;
}

/* Tokens of a reference to the target written with its lake and/or schema (lake.t.col,
 * lake.schema.t.col, schema.t.col) starting at i: the count up to the table's name, else 0. */
static size_t qualified_prefix(const dml_stmt *d, const pl_toks *t, size_t i, size_t to)
{
	size_t parts = 0;
	for (size_t k = i; k < to && is_name(t, k); k += 2) {
		parts++;
		if (k + 1 >= to || !pl_tok_is_punct(t, k + 1, "."))
			break;
	}
	const char *lake = pl_lake_name(d->tgt.lake);
	if (parts >= 4 && name_is(t, i, lake) && name_is(t, i + 2, d->tgt.schema) && name_is(t, i + 4, d->tgt.name))
		return 5;
	if (parts >= 3 && (name_is(t, i, lake) || name_is(t, i, d->tgt.schema)) && name_is(t, i + 2, d->tgt.name) &&
	    !name_is(t, i, d->tgt.name))
		return 3;
	return 0;
}

/* Whether token i is the row id pseudo-column (a bare, unquoted rowid that names no column of
 * the table): the scan of the statement Planar runs has it as a hidden column. */
static bool is_rowid(const dml_stmt *d, const pl_toks *t, size_t i)
{
	if (t->items[i].kind != PL_TOK_WORD || !name_is(t, i, "rowid") || !d->table)
		return false;
	if ((i > 0 && pl_tok_is_punct(t, i - 1, ".")) || (i + 1 < t->len && pl_tok_is_punct(t, i + 1, "(")))
		return false;
	for (size_t c = 0; c < d->table->ntop; c++)
		if (pl_str_ieq(d->table->top[c]->name, "rowid"))
			return false;
	return true;
}

/* The clause's text with the target's lake- or schema-qualified column references written as
 * table.column, which is how the statement Planar runs names the table (DuckDB accepts both),
 * and rowid written as the scan's row id column. */
static pl_text unqualify(dml_stmt *d, pl_buf *out, size_t from, size_t to)
{
	const pl_toks *t = &d->st->toks;
	pl_text whole = span(t, from, to);
	if (!whole.s)
		return whole;
	size_t copied = t->items[from].start;
	for (size_t i = from; i < to; i++) {
		if (is_rowid(d, t, i)) {
			pl_buf_put(out, t->src + copied, t->items[i].start - copied);
			pl_buf_puts(out, "__planar_rowid");
			copied = t->items[i].start + t->items[i].len;
			continue;
		}
		if (d->aliased || (i > from && pl_tok_is_punct(t, i - 1, ".")))
			continue;
		size_t n = qualified_prefix(d, t, i, to);
		if (n == 0)
			continue;
		pl_buf_put(out, t->src + copied, t->items[i].start - copied);
		pl_buf_put_ident(out, d->tgt.name);
		copied = t->items[i + n - 1].start + t->items[i + n - 1].len;
		i += n - 1;
	}
	if (out->len == 0)
		return whole;
	pl_buf_put(out, t->src + copied, whole.s + whole.len - (t->src + copied));
	return pl_buf_oom(out) ? whole : (pl_text){out->ptr, out->len};
}

/* unqualify() for each SET expression (left as written when out of memory). */
static void unqualify_set(dml_stmt *d)
{
	const pl_toks *t = &d->st->toks;
	if (d->nset == 0 || d->aliased || !(d->set_texts = calloc(d->nset, sizeof(*d->set_texts))))
		return;
	for (size_t i = 0; i < d->nset; i++) {
		pl_assignment *a = &d->set[i];
		size_t from = d->set_from, to;
		while (from < d->set_to && (!a->expr.s || t->src + t->items[from].start != a->expr.s))
			from++;
		for (to = from; to < d->set_to && t->src + t->items[to].start < a->expr.s + a->expr.len; to++)
			;
		pl_buf one = PL_BUF_INIT;
		pl_text e = from < d->set_to ? unqualify(d, &one, from, to) : a->expr;
		if (one.len && e.s == one.ptr) {
			a->expr = e;
			d->set_texts[i] = pl_buf_detach(&one);
		}
		pl_buf_dispose(&one);
	}
}

static int run_dml(dml_stmt *d, pl_dml *op, const pl_table_ctx *ctx, planar_result **out, pl_err *err)
{
	const pl_toks *t = &d->st->toks;
	static const pl_dml_explain explain[] = {
		[PL_EXPLAIN_NONE] = PL_DML_RUN, [PL_EXPLAIN_PLAN] = PL_DML_EXPLAIN, [PL_EXPLAIN_ANALYZE] = PL_DML_EXPLAIN_ANALYZE};
	unqualify_set(d);
	pl_dml_request req = {d->update, d->st->cte, explain[d->st->explain], d->alias, d->set, d->nset,
			      unqualify(d, &d->texts[0], d->from_from, d->from_to),
			      unqualify(d, &d->texts[1], d->where_from, d->where_to), d->ret_from < t->len,
			      !d->st->conn->in_txn, NULL};
	duckdb_result explained;
	bool have_explained = false;
	int64_t n = 0;
	int rc = pl_dml_plan(op, ctx, d->model, d->table, &req, &explained, &have_explained, &n, err);
	if (rc == 0 && n > 0 && req.explain != PL_DML_EXPLAIN)
		rc = pl_lake_commit_from(d->tgt.lake, d->st->conn, &op->txn, d->model->snapshot_id, err);
	if (rc)
		pl_txn_remove_written(&op->txn);
	if (rc == 0 && have_explained)
		return pl_result_wrap(out, d->st->conn, &explained, err);
	if (have_explained)
		duckdb_destroy_result(&explained);
	if (rc == 0 && req.returning) {
		pl_buf q = PL_BUF_INIT;
		rc = pl_dml_returning_sql(op, unqualify(d, &d->texts[2], d->ret_from + 1, t->len), &q, err);
		if (rc == 0)
			rc = pl_result_from_sql(out, d->st->conn, q.ptr, err);
		pl_buf_dispose(&q);
	} else if (rc == 0) {
		rc = pl_stmt_count_result(d->st, n, out, err);
	}
	return rc;
}

static int handle(pl_stmt *st, size_t name_at, bool update, planar_result **out, pl_err *err)
{
	dml_stmt d = {0};
	pl_dml op = {0};
	pl_lake_ctx ctx;
	d.st = st;
	d.update = update;
	int rc = resolve(&d, name_at, err);
	if (rc == 0) {
		pl_lake_table_ctx(&ctx, d.tgt.lake, st->conn);
		rc = run_dml(&d, &op, &ctx.table, out, err);
	}
	pl_dml_dispose(&op);
	pl_model_free(d.model);
	pl_target_dispose(&d.tgt);
	free(d.alias);
	for (size_t i = 0; i < d.nset; i++) {
		free(d.set[i].column);
		if (d.set_texts)
			free(d.set_texts[i]);
	}
	free(d.set_texts);
	free(d.set);
	for (size_t i = 0; i < sizeof(d.texts) / sizeof(d.texts[0]); i++)
		pl_buf_dispose(&d.texts[i]);
	return rc;
}

int pl_handle_delete(pl_stmt *st, size_t name_at, planar_result **out, pl_err *err)
{
	return handle(st, name_at, false, out, err);
}

int pl_handle_update(pl_stmt *st, size_t name_at, planar_result **out, pl_err *err)
{
	return handle(st, name_at, true, out, err);
}
