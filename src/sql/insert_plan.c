/*
 * insert_plan.c -- the streaming SELECT of a lake INSERT (see insert.h).
 *
 * The SELECT has the shape
 *   [WITH ...] SELECT <checks> FROM (SELECT <values> FROM <source> AS __planar_src(c1..ck)) AS __planar_row
 * where <source> is the user's query or VALUES list, <values> gives every table column in order
 * its source column cast to the column's type (DuckDB's INSERT casts a SELECT's columns, and
 * each VALUES entry, to the target type) or its default, and <checks> raises DuckDB's NOT NULL
 * error for NULLs in NOT NULL columns.
 */
#include "sql/insert.h"

#include <stdlib.h>
#include <string.h>

#include "core/str.h"

typedef enum src_kind { SRC_QUERY, SRC_VALUES, SRC_DEFAULTS } src_kind;

typedef struct plan {
	const pl_toks *toks;
	const pl_table *t;
	const pl_column **targets; /* the table column each source column fills, in source order */
	size_t ntargets;
	bool by_name, column_list;
	src_kind kind;
	size_t src_at; /* first token of the source */
	char **names;  /* a query's column names (NULL: positional names), so that DuckDB's cast
			* errors name the user's column */
	size_t nnames;
} plan;

static const pl_column *find_column(const pl_table *t, const char *name)
{
	for (size_t i = 0; i < t->ntop; i++)
		if (pl_str_ieq(t->top[i]->name, name))
			return t->top[i];
	return NULL;
}

static bool add_target(plan *p, const pl_column *c)
{
	if (!c)
		return false;
	for (size_t i = 0; i < p->ntargets; i++)
		if (p->targets[i] == c)
			return false; /* DuckDB rejects a column named twice */
	p->targets[p->ntargets++] = c;
	return true;
}

static bool starts_query(const pl_toks *t, size_t i)
{
	return pl_tok_is(t, i, "SELECT") || pl_tok_is(t, i, "WITH") || pl_tok_is(t, i, "FROM") ||
	       pl_tok_is(t, i, "VALUES") || pl_tok_is_punct(t, i, "(");
}

/* (a, "b", c) at token i: the target columns, by name. */
static bool parse_column_list(plan *p, size_t *i)
{
	const pl_toks *t = p->toks;
	size_t close = pl_tok_match_paren(t, *i);
	if (close >= t->len)
		return false;
	for (size_t k = *i + 1; k < close; k += 2) {
		pl_tok_kind kind = t->items[k].kind;
		if (kind != PL_TOK_WORD && kind != PL_TOK_QIDENT)
			return false;
		char *name = pl_tok_ident(t, k);
		bool ok = name && add_target(p, find_column(p->t, name));
		free(name);
		if (!ok || !(k + 1 == close || pl_tok_is_punct(t, k + 1, ",")))
			return false;
	}
	p->column_list = true;
	*i = close + 1;
	return p->ntargets > 0;
}

/* RETURNING, ON CONFLICT (at the top level) and parameters need DuckDB's own INSERT. */
static bool plain_tail(const pl_toks *t, size_t from)
{
	int depth = 0;
	for (size_t i = from; i < t->len; i++) {
		if (t->items[i].kind == PL_TOK_PARAM)
			return false;
		if (pl_tok_is_punct(t, i, "("))
			depth++;
		else if (pl_tok_is_punct(t, i, ")"))
			depth--;
		else if (depth == 0 && (pl_tok_is(t, i, "RETURNING") || (pl_tok_is(t, i, "ON") && pl_tok_is(t, i + 1, "CONFLICT"))))
			return false;
		else if (pl_tok_is_punct(t, i, ";"))
			return false;
	}
	return true;
}

static bool parse_head(plan *p, size_t after)
{
	const pl_toks *t = p->toks;
	size_t i = after;
	if (!pl_tok_is(t, 0, "INSERT") || !pl_tok_is(t, 1, "INTO"))
		return false; /* INSERT OR REPLACE / OR IGNORE */
	if (pl_tok_is(t, i, "BY") && (pl_tok_is(t, i + 1, "NAME") || pl_tok_is(t, i + 1, "POSITION"))) {
		p->by_name = pl_tok_is(t, i + 1, "NAME");
		i += 2;
	}
	if (pl_tok_is_punct(t, i, "(") && !starts_query(t, i + 1)) {
		if (p->by_name || !parse_column_list(p, &i))
			return false;
	}
	p->src_at = i;
	if (pl_tok_is(t, i, "DEFAULT") && pl_tok_is(t, i + 1, "VALUES")) {
		p->kind = SRC_DEFAULTS;
		return i + 2 == t->len && !p->by_name && !p->column_list;
	}
	if (pl_tok_is(t, i, "VALUES")) {
		p->kind = SRC_VALUES;
		return !p->by_name && plain_tail(t, i);
	}
	p->kind = SRC_QUERY;
	return starts_query(t, i) && plain_tail(t, i);
}

static void put_span(pl_buf *b, const pl_toks *t, size_t from, size_t to)
{
	size_t a = t->items[from].start, e = t->items[to - 1].start + t->items[to - 1].len;
	pl_buf_put(b, t->src + a, e - a);
}

/* The default of column c cast to its type (NULL when it has none), as DuckDB fills it in. */
static int put_default(pl_buf *b, const pl_column *c, pl_err *err)
{
	bool expression = c->default_value_type && strcmp(c->default_value_type, "expression") == 0;
	pl_buf_puts(b, "CAST(");
	if (c->default_value && expression) {
		pl_buf_printf(b, "(%s)", c->default_value);
	} else if (c->default_value && !pl_str_ieq(c->default_value, "NULL")) {
		pl_buf_put_literal(b, c->default_value);
	} else {
		pl_buf_puts(b, "NULL");
	}
	pl_buf_puts(b, " AS ");
	int rc = pl_column_duckdb_type(b, c, err);
	pl_buf_putc(b, ')');
	return rc;
}

/* VALUES (e, ...), ...: every entry cast to its target column's type, DEFAULT replaced by the
 * column's default (as DuckDB binds an INSERT's VALUES list). */
static int put_values(pl_buf *b, const plan *p, bool *ok, pl_err *err)
{
	const pl_toks *t = p->toks;
	size_t i = p->src_at + 1;
	*ok = false;
	pl_buf_puts(b, "(VALUES ");
	for (bool first = true;; first = false) {
		if (!pl_tok_is_punct(t, i, "("))
			return 0;
		size_t close = pl_tok_match_paren(t, i);
		if (close >= t->len)
			return 0;
		pl_buf_puts(b, first ? "(" : ", (");
		size_t item = i + 1, col = 0;
		while (item < close) {
			size_t end = item;
			int depth = 0;
			while (end < close && !(depth == 0 && pl_tok_is_punct(t, end, ","))) {
				depth += pl_tok_is_punct(t, end, "(") ? 1 : pl_tok_is_punct(t, end, ")") ? -1 : 0;
				end++;
			}
			if (end == item || col >= p->ntargets)
				return 0;
			const pl_column *c = p->targets[col];
			if (col++)
				pl_buf_puts(b, ", ");
			if (end == item + 1 && pl_tok_is(t, item, "DEFAULT")) {
				int rc = put_default(b, c, err);
				if (rc)
					return rc;
			} else {
				pl_buf_puts(b, "CAST((");
				put_span(b, t, item, end);
				pl_buf_puts(b, ") AS ");
				int rc = pl_column_duckdb_type(b, c, err);
				if (rc)
					return rc;
				pl_buf_putc(b, ')');
			}
			item = end + (end < close);
			if (end < close && item == close)
				return 0; /* trailing comma */
		}
		if (col != p->ntargets)
			return 0; /* DuckDB reports the mismatch */
		pl_buf_putc(b, ')');
		i = close + 1;
		if (i == t->len)
			break;
		if (!pl_tok_is_punct(t, i, ","))
			return 0;
		i++;
	}
	pl_buf_puts(b, ")");
	*ok = true;
	return 0;
}

/* Prepares the user's query to learn its columns; false when DuckDB rejects it (the staging
 * path then reports DuckDB's own error) or it does not fit the table. */
static bool bind_query(plan *p, pl_stmt *st, const pl_buf *query)
{
	pl_buf q = PL_BUF_INIT;
	duckdb_prepared_statement ps = NULL;
	if (st->cte) {
		pl_buf_puts(&q, st->cte);
		pl_buf_putc(&q, ' ');
	}
	pl_buf_puts(&q, "SELECT * FROM ");
	pl_buf_put(&q, query->ptr, query->len);
	bool ok = !pl_buf_oom(&q) && duckdb_prepare(st->conn->con, q.ptr, &ps) == DuckDBSuccess;
	pl_buf_dispose(&q);
	idx_t n = ok ? duckdb_prepared_statement_column_count(ps) : 0;
	ok = ok && (p->names = calloc(n + 1, sizeof(char *))) != NULL;
	for (idx_t i = 0; ok && i < n; i++) {
		const char *name = duckdb_prepared_statement_column_name(ps, i);
		ok = name && (p->names[p->nnames++] = pl_strdup(name)) != NULL;
		if (name)
			duckdb_free((void *)name);
		if (ok && p->by_name)
			ok = add_target(p, find_column(p->t, p->names[i]));
	}
	if (ok && !p->by_name)
		ok = n == p->ntargets;
	duckdb_destroy_prepare(&ps);
	/* Names the alias list cannot take as they are: all positional. */
	for (size_t i = 0; ok && i < p->nnames; i++) {
		bool usable = p->names[i][0] && strncmp(p->names[i], "__planar_", 9) != 0;
		for (size_t k = 0; usable && k < i; k++)
			usable = !pl_str_ieq(p->names[k], p->names[i]);
		if (!usable) {
			for (size_t k = 0; k < p->nnames; k++)
				free(p->names[k]);
			free(p->names);
			p->names = NULL;
			p->nnames = 0;
		}
	}
	return ok;
}

static void put_src_col(pl_buf *b, const plan *p, size_t j)
{
	if (p->names)
		pl_buf_put_ident(b, p->names[j]);
	else
		pl_buf_printf(b, "__planar_c%zu", j + 1);
}

static int source_index(const plan *p, const pl_column *c)
{
	for (size_t i = 0; i < p->ntargets; i++)
		if (p->targets[i] == c)
			return (int)i;
	return -1;
}

static void put_source_alias(pl_buf *b, const plan *p)
{
	pl_buf_puts(b, " AS __planar_src(");
	for (size_t i = 0; i < p->ntargets; i++) {
		if (i)
			pl_buf_puts(b, ", ");
		put_src_col(b, p, i);
	}
	pl_buf_putc(b, ')');
}

static bool any_not_null(const pl_table *t)
{
	for (size_t i = 0; i < t->ntop; i++)
		if (!t->top[i]->nulls_allowed)
			return true;
	return false;
}

/* SELECT <every column's value> [FROM <source>] */
static int put_values_select(pl_buf *b, const plan *p, const pl_buf *source, bool checked, pl_err *err)
{
	const pl_table *t = p->t;
	pl_buf_puts(b, "SELECT ");
	for (size_t i = 0; i < t->ntop; i++) {
		const pl_column *c = t->top[i];
		int j = source_index(p, c), rc = 0;
		if (i)
			pl_buf_puts(b, ", ");
		if (j < 0) {
			rc = put_default(b, c, err);
		} else if (p->kind == SRC_VALUES) {
			pl_buf_puts(b, "__planar_src.");
			put_src_col(b, p, (size_t)j); /* cast in the list */
		} else {
			pl_buf_puts(b, "CAST(__planar_src.");
			put_src_col(b, p, (size_t)j);
			pl_buf_puts(b, " AS ");
			rc = pl_column_duckdb_type(b, c, err);
			pl_buf_putc(b, ')');
		}
		if (rc)
			return rc;
		pl_buf_puts(b, " AS ");
		if (checked)
			pl_buf_printf(b, "__planar_v%zu", i + 1);
		else
			pl_buf_put_ident(b, c->name);
	}
	if (p->kind != SRC_DEFAULTS) {
		pl_buf_puts(b, " FROM ");
		pl_buf_put(b, source->ptr, source->len);
		put_source_alias(b, p);
	}
	return 0;
}

/* SELECT <values, NOT NULL columns checked> FROM (<values select>) */
static void put_checks(pl_buf *b, const pl_table *t, const pl_buf *inner)
{
	pl_buf_puts(b, "SELECT ");
	for (size_t i = 0; i < t->ntop; i++) {
		const pl_column *c = t->top[i];
		if (i)
			pl_buf_puts(b, ", ");
		if (c->nulls_allowed) {
			pl_buf_printf(b, "__planar_v%zu", i + 1);
		} else {
			pl_buf msg = PL_BUF_INIT;
			pl_buf_printf(&msg, "Constraint Error: NOT NULL constraint failed: %s.%s", t->name, c->name);
			pl_buf_printf(b, "CASE WHEN __planar_v%zu IS NULL THEN error(", i + 1);
			pl_buf_put_literal(b, pl_buf_cstr(&msg));
			pl_buf_printf(b, ") ELSE __planar_v%zu END", i + 1);
			pl_buf_dispose(&msg);
		}
		pl_buf_puts(b, " AS ");
		pl_buf_put_ident(b, c->name);
	}
	pl_buf_puts(b, " FROM (");
	pl_buf_put(b, inner->ptr, inner->len);
	pl_buf_puts(b, ") AS __planar_row");
}

int pl_insert_stream_select(pl_stmt *st, size_t after, const pl_table *t, pl_buf *out, bool *streamable,
			    pl_err *err)
{
	plan p = {&st->toks, t, NULL, 0, false, false, SRC_QUERY, 0, NULL, 0};
	pl_buf source = PL_BUF_INIT, inner = PL_BUF_INIT;
	int rc = 0;
	*streamable = false;
	if (st->explain != PL_EXPLAIN_NONE || t->ntop == 0)
		return 0;
	p.targets = calloc(t->ntop, sizeof(*p.targets));
	if (!p.targets)
		return pl_err_nomem(err);
	bool ok = parse_head(&p, after);
	if (ok && !p.column_list && !p.by_name && p.kind != SRC_DEFAULTS)
		for (size_t i = 0; i < t->ntop; i++)
			p.targets[p.ntargets++] = t->top[i];
	if (ok && p.kind == SRC_VALUES) {
		rc = put_values(&source, &p, &ok, err);
	} else if (ok && p.kind == SRC_QUERY) {
		pl_buf_putc(&source, '(');
		put_span(&source, p.toks, p.src_at, p.toks->len);
		pl_buf_putc(&source, ')');
		if (p.by_name)
			p.ntargets = 0;
		ok = !pl_buf_oom(&source) && bind_query(&p, st, &source);
	}
	bool checked = any_not_null(t);
	if (rc == 0 && ok)
		rc = put_values_select(&inner, &p, &source, checked, err);
	if (rc == 0 && ok) {
		if (st->cte) {
			pl_buf_puts(out, st->cte);
			pl_buf_putc(out, ' ');
		}
		if (checked)
			put_checks(out, t, &inner);
		else
			pl_buf_put(out, inner.ptr, inner.len);
		if (pl_buf_oom(out) || pl_buf_oom(&inner) || pl_buf_oom(&source))
			rc = pl_err_nomem(err);
		*streamable = rc == 0;
	}
	if (!*streamable)
		pl_buf_dispose(out);
	pl_buf_dispose(&source);
	pl_buf_dispose(&inner);
	free(p.targets);
	for (size_t i = 0; i < p.nnames; i++)
		free(p.names[i]);
	free(p.names);
	return rc;
}

void pl_insert_fix_error(pl_err *err)
{
	static const char prefix[] = "Invalid Input Error: ";
	char *at = strstr(err->msg, "Invalid Input Error: Constraint Error: NOT NULL constraint failed: ");
	if (at)
		memmove(at, at + sizeof(prefix) - 1, strlen(at + sizeof(prefix) - 1) + 1);
	/* DuckDB's pointer into the query text would show the generated query, not the user's */
	char *line = strstr(err->msg, "\n\nLINE ");
	if (line && strstr(line, "__planar_"))
		*line = '\0';
}
