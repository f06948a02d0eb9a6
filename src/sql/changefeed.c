/*
 * changefeed.c -- the change-feed table functions, rewritten into the statement like time
 * travel: ducklake_table_changes('lake', 'schema', 'table', start, end) and lake.table_changes(
 * 'table', start, end), and their _insertions / _deletions variants. Bounds are snapshot ids or
 * timestamps (any expression DuckDB evaluates). Each call becomes a temporary view, created by
 * the table layer (table/changes.h).
 */
#include "sql/changefeed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "sql/lake.h"
#include "table/changes.h"

typedef struct feed_call {
	size_t from, to;     /* tokens of the whole call */
	bool qualified;      /* lake.table_changes(...) */
	pl_change_kind kind;
	size_t open, close;  /* parentheses */
} feed_call;

static const struct {
	const char *name;
	pl_change_kind kind;
} feeds[] = {
	{"table_changes", PL_CHANGES_ALL},
	{"table_insertions", PL_CHANGES_INSERTIONS},
	{"table_deletions", PL_CHANGES_DELETIONS},
};

static bool match_call(const pl_toks *t, size_t i, feed_call *c)
{
	for (size_t k = 0; k < sizeof(feeds) / sizeof(feeds[0]); k++) {
		char full[64];
		snprintf(full, sizeof(full), "ducklake_%s", feeds[k].name);
		if (pl_tok_is(t, i, full) && pl_tok_is_punct(t, i + 1, "(") && !(i > 0 && pl_tok_is_punct(t, i - 1, "."))) {
			*c = (feed_call){i, 0, false, feeds[k].kind, i + 1, pl_tok_match_paren(t, i + 1)};
		} else if (pl_tok_is_punct(t, i + 1, ".") && pl_tok_is(t, i + 2, feeds[k].name) && pl_tok_is_punct(t, i + 3, "(")) {
			*c = (feed_call){i, 0, true, feeds[k].kind, i + 3, pl_tok_match_paren(t, i + 3)};
		} else {
			continue;
		}
		if (c->close >= t->len)
			return false;
		c->to = c->close + 1;
		return true;
	}
	return false;
}

/* Splits the arguments at depth-0 commas into token ranges. */
static size_t split_args(const pl_toks *t, const feed_call *c, size_t from[8], size_t to[8])
{
	size_t n = 0, start = c->open + 1;
	int depth = 0;
	for (size_t i = c->open + 1; i <= c->close && n < 8; i++) {
		if (i == c->close || (depth == 0 && pl_tok_is_punct(t, i, ","))) {
			from[n] = start, to[n] = i, n++;
			start = i + 1;
		} else if (pl_tok_is_punct(t, i, "(")) {
			depth++;
		} else if (pl_tok_is_punct(t, i, ")")) {
			depth--;
		}
	}
	return n;
}

/* Evaluates one argument in DuckDB: its text and whether it is a timestamp. */
static int eval_arg(planar_conn *conn, const pl_toks *t, size_t from, size_t to, char **text, bool *is_time,
		    pl_err *err)
{
	if (from >= to)
		return pl_err_set(err, PL_EINVALID, "empty argument to a change-feed function");
	size_t a = t->items[from].start, b = t->items[to - 1].start + t->items[to - 1].len;
	pl_buf q = PL_BUF_INIT;
	duckdb_result res;
	pl_buf_printf(&q, "SELECT CASE WHEN typeof(%.*s) LIKE 'TIMESTAMP%%' OR typeof(%.*s) = 'DATE' THEN "
			  "strftime(CAST((%.*s) AS TIMESTAMP WITH TIME ZONE) AT TIME ZONE 'UTC', '%%Y-%%m-%%d %%H:%%M:%%S.%%f') "
			  "|| '+00' ELSE CAST((%.*s) AS VARCHAR) END, typeof(%.*s)",
		      (int)(b - a), t->src + a, (int)(b - a), t->src + a, (int)(b - a), t->src + a, (int)(b - a),
		      t->src + a, (int)(b - a), t->src + a);
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query(conn->con, q.ptr, &res, err);
	pl_buf_dispose(&q);
	if (rc)
		return rc;
	bool oom = false;
	*text = pl_engine_value_str(&res, 0, 0, &oom);
	char *type = pl_engine_value_str(&res, 1, 0, &oom);
	*is_time = type && (strncmp(type, "TIMESTAMP", 9) == 0 || strcmp(type, "DATE") == 0);
	free(type);
	duckdb_destroy_result(&res);
	if (!oom && !*text)
		return pl_err_set(err, PL_EINVALID, "a change-feed bound is NULL");
	return oom ? pl_err_nomem(err) : 0;
}

static int create_feed_view(planar_conn *conn, const pl_toks *t, const feed_call *c, const char *view, pl_err *err)
{
	size_t af[8], at[8];
	size_t n = split_args(t, c, af, at);
	size_t want = c->qualified ? 3 : 5;
	char *vals[5] = {0};
	bool is_time[5] = {0};
	if (n != want)
		return pl_err_set(err, PL_EINVALID, "%s takes %zu arguments", c->qualified ? "table_changes" : "ducklake_table_changes",
				  want);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = eval_arg(conn, t, af[i], at[i], &vals[c->qualified ? i + 2 : i], &is_time[c->qualified ? i + 2 : i], err);
	char *lake_name = c->qualified ? pl_tok_ident(t, c->from) : vals[0];
	pl_lake *lake = rc || !lake_name ? NULL : pl_db_find_lake(conn->db, lake_name);
	if (rc == 0 && !lake)
		rc = pl_err_set(err, PL_ENOTFOUND, "no lake named \"%s\" is attached", lake_name ? lake_name : "?");
	const char *schema = c->qualified ? "main" : vals[1], *table = vals[2];
	pl_changes_bound start = {vals[3], is_time[3]}, end = {vals[4], is_time[4]};
	if (rc == 0) {
		pl_lake_ctx ctx;
		pl_lake_table_ctx(&ctx, lake, conn);
		rc = pl_changes_view(&ctx.table, lake->data_path, schema, table, &start, &end, c->kind, view, err);
	}
	if (c->qualified)
		free(lake_name);
	for (int i = 0; i < 5; i++)
		free(vals[i]);
	return rc;
}

/* ---- rowid and snapshot_id: addressable, not part of * ---------------------------------------
 * As in DuckLake, the _insertions and _deletions functions return the table's columns; rowid and
 * snapshot_id are virtual columns: named, they are there, but a * leaves them out. The view has
 * them as plain columns, so every * of the SELECT whose FROM holds the call (an unqualified one,
 * or one qualified by the call's alias) gets EXCLUDE (alias.rowid, alias.snapshot_id). */

typedef struct edit {
	size_t pos, del;  /* bytes of the source replaced */
	pl_buf text;
	const char *tail; /* an EXCLUDE list Planar opened: the text after its last name, else NULL */
} edit;

typedef struct edits {
	edit *v;
	size_t n, cap;
} edits;

static edit *add_edit(edits *e, size_t pos, size_t del)
{
	if (e->n == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 8;
		edit *v = realloc(e->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		e->v = v, e->cap = cap;
	}
	e->v[e->n] = (edit){pos, del, PL_BUF_INIT, NULL};
	return &e->v[e->n++];
}

static void edits_dispose(edits *e)
{
	for (size_t i = 0; i < e->n; i++)
		pl_buf_dispose(&e->v[i].text);
	free(e->v);
}

/* Adds alias.rowid, alias.snapshot_id to an EXCLUDE list at byte pos: the user's own list opened
 * just before pos (head NULL), or a list Planar writes as head, the names, tail. One edit per
 * position, shared by every call of the query. */
static int exclude_at(edits *e, size_t pos, const char *head, const char *tail, const char *alias)
{
	edit *x = NULL;
	for (size_t i = 0; i < e->n && !x; i++)
		if (e->v[i].pos == pos && e->v[i].del == 0)
			x = &e->v[i];
	if (!x && !(x = add_edit(e, pos, 0)))
		return -1;
	if (x->tail) {
		pl_buf_truncate(&x->text, x->text.len - strlen(x->tail));
		pl_buf_puts(&x->text, ", ");
	} else if (head) {
		pl_buf_puts(&x->text, head);
		x->tail = tail;
	}
	pl_buf_put_ident(&x->text, alias);
	pl_buf_puts(&x->text, ".rowid, ");
	pl_buf_put_ident(&x->text, alias);
	pl_buf_puts(&x->text, ".snapshot_id");
	pl_buf_puts(&x->text, x->tail ? x->tail : ", ");
	return pl_buf_oom(&x->text) ? -1 : 0;
}

static size_t tok_end(const pl_toks *t, size_t i)
{
	return t->items[i].start + t->items[i].len;
}

/* The stars of the select list between tokens from and to (exclusive), at the list's own depth. */
static int exclude_stars(const pl_toks *t, size_t from, size_t to, const char *alias, edits *e)
{
	int depth = 0;
	for (size_t i = from; i < to; i++) {
		if (pl_tok_is_punct(t, i, "(")) {
			depth++;
			continue;
		}
		if (pl_tok_is_punct(t, i, ")")) {
			depth--;
			continue;
		}
		if (depth != 0 || !pl_tok_is_punct(t, i, "*"))
			continue;
		bool bare = i == from || pl_tok_is_punct(t, i - 1, ",") || pl_tok_is(t, i - 1, "DISTINCT") ||
			    pl_tok_is(t, i - 1, "ALL");
		bool ours = false;
		if (!bare && i >= from + 2 && pl_tok_is_punct(t, i - 1, ".") &&
		    (t->items[i - 2].kind == PL_TOK_WORD || t->items[i - 2].kind == PL_TOK_QIDENT) &&
		    (i - 2 == from || !pl_tok_is_punct(t, i - 3, "."))) {
			char *q = pl_tok_ident(t, i - 2);
			if (!q)
				return -1;
			ours = pl_str_ieq(q, alias);
			free(q);
		}
		if (!bare && !ours)
			continue;
		int rc;
		if (pl_tok_is(t, i + 1, "EXCLUDE") && pl_tok_is_punct(t, i + 2, "("))
			rc = exclude_at(e, tok_end(t, i + 2), NULL, NULL, alias);
		else if (pl_tok_is(t, i + 1, "EXCLUDE"))
			rc = 0; /* EXCLUDE name without parentheses: left as written */
		else
			rc = exclude_at(e, tok_end(t, i), " EXCLUDE (", ")", alias);
		if (rc)
			return rc;
	}
	return 0;
}

/* Finds the select list of the query whose FROM holds the call at token `at` and has its stars
 * leave the virtual columns out; a FROM-first query without SELECT gets SELECT * EXCLUDE (...). */
static int hide_virtual(const pl_toks *t, size_t at, const char *alias, edits *e)
{
	static const char *const set_ops[] = {"UNION", "EXCEPT", "INTERSECT", NULL};
	int depth = 0;
	size_t from_kw = SIZE_MAX, select_kw = SIZE_MAX;
	for (size_t i = at; i-- > 0;) {
		if (pl_tok_is_punct(t, i, ")")) {
			depth++;
			continue;
		}
		if (pl_tok_is_punct(t, i, "(")) {
			if (depth-- == 0)
				break;
			continue;
		}
		if (depth != 0)
			continue;
		bool set_op = false;
		for (const char *const *w = set_ops; *w; w++)
			set_op = set_op || pl_tok_is(t, i, *w);
		if (set_op)
			break;
		if (from_kw == SIZE_MAX && pl_tok_is(t, i, "FROM"))
			from_kw = i;
		else if (from_kw != SIZE_MAX && pl_tok_is(t, i, "SELECT")) {
			select_kw = i;
			break;
		}
	}
	if (from_kw == SIZE_MAX)
		return 0;
	if (select_kw != SIZE_MAX)
		return exclude_stars(t, select_kw + 1, from_kw, alias, e);
	/* FROM first: an explicit SELECT later in the same query is left as written */
	depth = 0;
	for (size_t i = at; i < t->len; i++) {
		if (pl_tok_is_punct(t, i, "("))
			depth++;
		else if (pl_tok_is_punct(t, i, ")") && depth-- == 0)
			break;
		else if (depth == 0 && pl_tok_is(t, i, "SELECT"))
			return 0;
	}
	return exclude_at(e, t->items[from_kw].start, "SELECT * EXCLUDE (", ") ", alias);
}

static int cmp_edit(const void *a, const void *b)
{
	const edit *x = a, *y = b;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

bool pl_changefeed_present(const pl_toks *t)
{
	feed_call c;
	for (size_t i = 0; i < t->len; i++)
		if (match_call(t, i, &c))
			return true;
	return false;
}

int pl_changefeed_rewrite(planar_conn *conn, const pl_toks *t, char **sql_out, pl_strv *views, pl_err *err)
{
	pl_buf out = PL_BUF_INIT;
	edits e = {0};
	size_t copied = 0, made = 0;
	int rc = 0;
	*sql_out = NULL;
	for (size_t i = 0; rc == 0 && i < t->len; i++) {
		feed_call c;
		if (!match_call(t, i, &c))
			continue;
		char view[64];
		snprintf(view, sizeof(view), "__planar_feed_%lu", ++conn->tmp_seq);
		rc = create_feed_view(conn, t, &c, view, err);
		if (rc == 0)
			rc = pl_strv_push(views, view);
		if (rc)
			break;
		made++;
		edit *x = add_edit(&e, t->items[c.from].start, tok_end(t, c.to - 1) - t->items[c.from].start);
		if (!x) {
			rc = pl_err_nomem(err);
			break;
		}
		pl_buf_puts(&x->text, "temp.main.");
		pl_buf_put_ident(&x->text, view);
		if (c.kind != PL_CHANGES_ALL) {
			/* the call's alias, or (as DuckDB names a table function) the function's name */
			char *alias = NULL;
			if (pl_tok_has_alias(t, c.to)) {
				alias = pl_tok_ident(t, c.to + pl_tok_is(t, c.to, "AS"));
			} else {
				alias = pl_tok_ident(t, c.open - 1);
				pl_buf_puts(&x->text, " AS ");
				pl_buf_put_ident(&x->text, alias ? alias : "");
			}
			if (!alias || hide_virtual(t, c.from, alias, &e))
				rc = pl_err_nomem(err);
			free(alias);
		}
		i = c.to - 1;
	}
	if (rc == 0 && made > 0) {
		qsort(e.v, e.n, sizeof(*e.v), cmp_edit);
		for (size_t k = 0; k < e.n; k++) {
			pl_buf_put(&out, t->src + copied, e.v[k].pos - copied);
			pl_buf_put(&out, e.v[k].text.ptr ? e.v[k].text.ptr : "", e.v[k].text.len);
			copied = e.v[k].pos + e.v[k].del;
		}
	}
	edits_dispose(&e);
	return pl_rewrite_finish(&out, t, copied, rc == 0 && made > 0, rc, sql_out, err);
}
