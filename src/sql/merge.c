/*
 * merge.c -- MERGE INTO a lake table: the statement side. The target is resolved; the rest of
 * the statement (USING source, ON / USING join, WHEN clauses) is kept as written except that
 * every UPDATE action becomes an explicit SET list that also marks the row (__planar_upd) and
 * every INSERT action gets an explicit column list (UPDATE / INSERT without a list, `SET *`,
 * `INSERT *`, BY NAME, INSERT VALUES), since DuckDB runs it on a copy of the table's rows that
 * carries three more columns. The table layer plans the deletes and new files (table/dml.h),
 * and they commit as one snapshot, as UPDATE and DELETE do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "sql/lake.h"
#include "sql/router.h"
#include "sql/session.h"
#include "table/dml.h"

typedef struct merge_stmt {
	pl_stmt *st;
	pl_target tgt;
	pl_model *model;
	const pl_table *table;
	char *alias;     /* the target's alias, else its name */
	char *src_alias; /* how the source's columns are qualified (NULL: unqualified) */
	pl_strv src_cols;
	bool have_src_cols;
	size_t src_from, src_to; /* the source's tokens */
} merge_stmt;

static bool is_ident(const pl_toks *t, size_t i)
{
	return i < t->len && (t->items[i].kind == PL_TOK_WORD || t->items[i].kind == PL_TOK_QIDENT);
}

/* Next depth-0 token at or after i that is one of the words (NULL-terminated), else t->len. */
static size_t find_top_any(const pl_toks *t, size_t i, const char *const *words)
{
	int depth = 0;
	for (; i < t->len; i++) {
		if (pl_tok_is_punct(t, i, "("))
			depth++;
		else if (pl_tok_is_punct(t, i, ")"))
			depth--;
		else if (depth == 0)
			for (const char *const *w = words; *w; w++)
				if (pl_tok_is(t, i, *w))
					return i;
	}
	return t->len;
}

static size_t end_of(const pl_toks *t, size_t i)
{
	return t->items[i].start + t->items[i].len;
}

/* The source's column names, from DuckDB (prepared, not run). */
static int source_columns(merge_stmt *m, pl_err *err)
{
	if (m->have_src_cols)
		return 0;
	const pl_toks *t = &m->st->toks;
	pl_buf q = PL_BUF_INIT;
	if (m->st->cte) {
		pl_buf_puts(&q, m->st->cte);
		pl_buf_putc(&q, ' ');
	}
	pl_buf_puts(&q, "SELECT * FROM ");
	pl_buf_put(&q, t->src + t->items[m->src_from].start, end_of(t, m->src_to - 1) - t->items[m->src_from].start);
	pl_buf_puts(&q, " LIMIT 0");
	duckdb_result res;
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query(m->st->conn->con, q.ptr, &res, err);
	pl_buf_dispose(&q);
	if (rc)
		return rc;
	for (idx_t c = 0; rc == 0 && c < duckdb_column_count(&res); c++)
		if (pl_strv_push(&m->src_cols, duckdb_column_name(&res, c)))
			rc = pl_err_nomem(err);
	duckdb_destroy_result(&res);
	m->have_src_cols = rc == 0;
	return rc;
}

static void put_src_ref(merge_stmt *m, pl_buf *b, const char *col)
{
	if (m->src_alias) {
		pl_buf_put_ident(b, m->src_alias);
		pl_buf_putc(b, '.');
	}
	pl_buf_put_ident(b, col);
}

static bool table_has(const pl_table *t, const char *name)
{
	for (size_t c = 0; c < t->ntop; c++)
		if (pl_str_ieq(t->top[c]->name, name))
			return true;
	return false;
}

/* UPDATE / INSERT taking the source's columns: by position, or (by_name) those whose names the
 * table has. */
static int put_from_source(merge_stmt *m, pl_buf *b, bool update, bool by_name, pl_err *err)
{
	int rc = source_columns(m, err);
	if (rc)
		return rc;
	const pl_table *t = m->table;
	size_t nsrc = m->src_cols.len;
	if (!by_name && nsrc != t->ntop)
		return pl_err_set(err, PL_EINVALID, "Binder Error: table %s has %zu columns but %zu values were supplied",
				  t->name, t->ntop, nsrc);
	size_t n = 0;
	if (update) {
		pl_buf_puts(b, "UPDATE SET ");
		for (size_t i = 0; i < nsrc; i++) {
			const char *to = by_name ? m->src_cols.items[i] : t->top[i]->name;
			if (by_name && !table_has(t, to))
				continue;
			pl_buf_puts(b, n++ ? ", " : "");
			pl_buf_put_ident(b, to);
			pl_buf_puts(b, " = ");
			put_src_ref(m, b, m->src_cols.items[i]);
		}
		pl_buf_puts(b, n ? ", __planar_upd = true " : "__planar_upd = true ");
		return 0;
	}
	pl_buf_puts(b, "INSERT (");
	for (size_t i = 0; i < nsrc; i++) {
		const char *to = by_name ? m->src_cols.items[i] : t->top[i]->name;
		if (by_name && !table_has(t, to))
			continue;
		pl_buf_puts(b, n++ ? ", " : "");
		pl_buf_put_ident(b, to);
	}
	if (n == 0)
		return pl_err_set(err, PL_EINVALID, "Binder Error: INSERT BY NAME: the source has no column of table %s",
				  t->name);
	pl_buf_puts(b, ") VALUES (");
	n = 0;
	for (size_t i = 0; i < nsrc; i++) {
		if (by_name && !table_has(t, m->src_cols.items[i]))
			continue;
		pl_buf_puts(b, n++ ? ", " : "");
		put_src_ref(m, b, m->src_cols.items[i]);
	}
	pl_buf_puts(b, ") ");
	return 0;
}

/* One WHEN clause's action, tokens [a, end): appended to b as DuckDB runs it on the copy. */
static int put_action(merge_stmt *m, pl_buf *b, size_t a, size_t end, pl_err *err)
{
	const pl_toks *t = &m->st->toks;
	const char *text = t->src + t->items[a].start;
	size_t len = end_of(t, end - 1) - t->items[a].start;
	bool update = pl_tok_is(t, a, "UPDATE"), insert = pl_tok_is(t, a, "INSERT");
	bool by_name = pl_tok_is(t, a + 1, "BY") && pl_tok_is(t, a + 2, "NAME") && a + 3 == end;
	if (update) {
		bool star = a + 1 == end || (pl_tok_is(t, a + 1, "SET") && pl_tok_is_punct(t, a + 2, "*") && a + 3 == end);
		if (star || by_name)
			return put_from_source(m, b, true, by_name, err);
		pl_buf_put(b, text, len);
		pl_buf_puts(b, ", __planar_upd = true ");
		return 0;
	}
	if (insert) {
		bool star = a + 1 == end || (pl_tok_is_punct(t, a + 1, "*") && a + 2 == end);
		if (star || by_name)
			return put_from_source(m, b, false, by_name, err);
		if (pl_tok_is(t, a + 1, "VALUES")) {
			pl_buf_puts(b, "INSERT (");
			for (size_t c = 0; c < m->table->ntop; c++) {
				pl_buf_puts(b, c ? ", " : "");
				pl_buf_put_ident(b, m->table->top[c]->name);
			}
			pl_buf_puts(b, ") ");
			pl_buf_put(b, t->src + t->items[a + 1].start, end_of(t, end - 1) - t->items[a + 1].start);
			pl_buf_putc(b, ' ');
			return 0;
		}
	}
	pl_buf_put(b, text, len);
	pl_buf_putc(b, ' ');
	return 0;
}

/* The text after the target: `USING ...` up to the first WHEN as written, then each WHEN clause
 * with its action rewritten. */
static int build_rest(merge_stmt *m, size_t using_at, pl_buf *b, pl_err *err)
{
	const pl_toks *t = &m->st->toks;
	static const char *const when[] = {"WHEN", NULL};
	static const char *const then[] = {"THEN", NULL};
	size_t w = find_top_any(t, using_at, when);
	if (w >= t->len)
		return pl_err_set(err, PL_EINVALID, "Parser Error: MERGE INTO needs at least one WHEN clause");
	pl_buf_put(b, t->src + t->items[using_at].start, t->items[w].start - t->items[using_at].start);
	while (w < t->len) {
		size_t next = find_top_any(t, w + 1, when);
		size_t end = next;
		while (end > w && pl_tok_is_punct(t, end - 1, ";"))
			end--;
		size_t th = find_top_any(t, w, then);
		if (th >= end || th + 1 >= end)
			return pl_err_set(err, PL_EINVALID, "Parser Error: syntax error in MERGE INTO: WHEN needs THEN and an action");
		pl_buf_put(b, t->src + t->items[w].start, end_of(t, th) - t->items[w].start);
		pl_buf_putc(b, ' ');
		int rc = put_action(m, b, th + 1, end, err);
		if (rc)
			return rc;
		w = next;
	}
	return pl_buf_oom(b) ? pl_err_nomem(err) : 0;
}

static int resolve(merge_stmt *m, size_t name_at, size_t *after, pl_err *err)
{
	char *parts[3] = {0};
	size_t n = 0, i = name_at;
	int rc = pl_parse_qname(&m->st->toks, &i, parts, &n, err);
	if (rc == 0)
		rc = pl_resolve_target(m->st, parts, n, &m->tgt, err);
	for (size_t k = 0; k < n; k++)
		free(parts[k]);
	if (rc)
		return rc;
	rc = pl_lake_check_writable(m->tgt.lake, err);
	m->model = pl_model_ref(m->tgt.lake->model);
	const pl_schema *s = pl_model_schema(m->model, m->tgt.schema);
	m->table = s ? pl_model_table(m->model, s->id, m->tgt.name) : NULL;
	if (rc == 0 && !m->table)
		rc = pl_err_set(err, PL_ENOTFOUND, "Catalog Error: Table with name %s does not exist!", m->tgt.name);
	if (rc)
		return rc;
	const pl_toks *t = &m->st->toks;
	bool as = pl_tok_is(t, i, "AS");
	if (as || (is_ident(t, i) && !pl_tok_is(t, i, "USING"))) {
		i += as;
		if (!is_ident(t, i))
			return pl_err_set(err, PL_EINVALID, "syntax error: AS needs an alias");
		if (!(m->alias = pl_tok_ident(t, i)))
			return pl_err_nomem(err);
		i++;
	} else if (!(m->alias = pl_strdup(m->tgt.name))) {
		return pl_err_nomem(err);
	}
	*after = i;
	return 0;
}

/* The source's tokens (after USING, up to the join's ON / USING) and its name for column
 * references: its alias or last name part; none for an unaliased subquery or function. */
static int find_source(merge_stmt *m, size_t using_at, pl_err *err)
{
	const pl_toks *t = &m->st->toks;
	static const char *const join[] = {"ON", "USING", NULL};
	m->src_from = using_at + 1;
	m->src_to = find_top_any(t, m->src_from, join);
	if (m->src_to >= t->len || m->src_to == m->src_from)
		return pl_err_set(err, PL_EINVALID, "Parser Error: MERGE INTO needs USING source ON condition");
	size_t last = m->src_to - 1;
	if (is_ident(t, last) && !(m->src_alias = pl_tok_ident(t, last)))
		return pl_err_nomem(err);
	return 0;
}

int pl_handle_merge(pl_stmt *st, size_t name_at, planar_result **out, pl_err *err)
{
	merge_stmt m = {.st = st};
	pl_dml op = {0};
	pl_buf rest = PL_BUF_INIT;
	pl_lake_ctx ctx;
	pl_dml_request req = {.update = true, .cte = st->cte, .may_inline = !st->conn->in_txn};
	size_t i = 0;
	static const char *const ret[] = {"RETURNING", NULL};
	int rc = resolve(&m, name_at, &i, err);
	if (rc == 0 && !pl_tok_is(&st->toks, i, "USING"))
		rc = pl_err_set(err, PL_EINVALID, "Parser Error: syntax error in MERGE INTO: expected USING after the table");
	if (rc == 0 && find_top_any(&st->toks, i, ret) < st->toks.len)
		rc = pl_err_set(err, PL_EUNSUPPORTED,
				"Not implemented Error: MERGE INTO a lake table with RETURNING is not supported yet");
	if (rc == 0 && st->explain != PL_EXPLAIN_NONE)
		rc = pl_err_set(err, PL_EUNSUPPORTED, "Not implemented Error: EXPLAIN of MERGE INTO a lake table is not supported yet");
	if (rc == 0)
		rc = find_source(&m, i, err);
	if (rc == 0)
		rc = build_rest(&m, i, &rest, err);
	if (rc == 0) {
		pl_lake_table_ctx(&ctx, m.tgt.lake, st->conn);
		req.alias = m.alias;
		req.merge = rest.ptr;
		duckdb_result explained;
		bool have_explained = false;
		int64_t n = 0;
		rc = pl_dml_plan(&op, &ctx.table, m.model, m.table, &req, &explained, &have_explained, &n, err);
		if (have_explained)
			duckdb_destroy_result(&explained);
		if (rc == 0 && n > 0)
			rc = pl_lake_commit_from(m.tgt.lake, st->conn, &op.txn, m.model->snapshot_id, err);
		if (rc)
			pl_txn_remove_written(&op.txn);
		if (rc == 0)
			rc = pl_stmt_count_result(st, n, out, err);
	}
	pl_dml_dispose(&op);
	pl_buf_dispose(&rest);
	pl_model_free(m.model);
	pl_target_dispose(&m.tgt);
	pl_strv_dispose(&m.src_cols);
	free(m.alias);
	free(m.src_alias);
	return rc;
}
