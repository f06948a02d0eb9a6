/*
 * timetravel.c -- `tbl AT (VERSION => n)` and `tbl AT (TIMESTAMP => ts)` anywhere a lake table
 * is referenced (joins, subqueries, CTEs, several versions of one table in one query).
 *
 * Each such reference is replaced in the statement text by a temporary view over the table's
 * files at that snapshot, created on the session's connection and dropped after the statement;
 * the reference keeps its alias (the table name when none was given).
 */
#include "sql/timetravel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "sql/lake.h"
#include "sql/rowid.h"
#include "table/timetravel.h"

typedef struct at_ref {
	size_t name_from, name_to; /* token range of the table name */
	size_t alias_from, alias_to; /* an alias written before AT: `t AS a AT (...)`, `t a AT (...)` */
	size_t at_end;             /* token index just past the AT (...) clause */
	bool by_timestamp;
	size_t expr_from, expr_to; /* token range of the expression */
} at_ref;

/* Words that end or join table references: never a table name or an alias before AT. */
static bool is_clause_word(const pl_toks *t, size_t i)
{
	static const char *const words[] = {"FROM", "JOIN", "SELECT", "WHERE", "ON", "USING", "AS", "AND", "OR",
					    "NOT", "IN", "BY", "GROUP", "ORDER", "HAVING", "UNION", "EXCEPT",
					    "INTERSECT", "LATERAL", "TABLE", "INTO", "UPDATE", "WITH", "DISTINCT",
					    "ALL", "CROSS", "NATURAL", "INNER", "LEFT", "RIGHT", "FULL", "OUTER",
					    "POSITIONAL", "ASOF", "SEMI", "ANTI", "LIMIT", "QUALIFY", "WINDOW", NULL};
	if (t->items[i].kind != PL_TOK_WORD)
		return false;
	for (const char *const *w = words; *w; w++)
		if (pl_tok_is(t, i, *w))
			return true;
	return false;
}

/* Recognizes `name [. name [. name]] [[AS] alias] AT ( VERSION|TIMESTAMP => expr )` starting at
 * token i (an alias after the clause stays where it is). */
static bool match_at(const pl_toks *t, size_t i, at_ref *r)
{
	size_t j = i;
	if (j > 0 && pl_tok_is_punct(t, j - 1, "."))
		return false;
	for (int parts = 0; parts < 3; parts++) {
		if (j >= t->len || (t->items[j].kind != PL_TOK_WORD && t->items[j].kind != PL_TOK_QIDENT))
			return false;
		j++;
		if (!pl_tok_is_punct(t, j, "."))
			break;
		j++;
	}
	size_t name_to = j, alias_from = j, alias_to = j;
	if (!pl_tok_is(t, j, "AT")) {
		size_t a = j + pl_tok_is(t, j, "AS");
		if (a >= t->len || (t->items[a].kind != PL_TOK_WORD && t->items[a].kind != PL_TOK_QIDENT) ||
		    is_clause_word(t, i) || is_clause_word(t, a))
			return false;
		alias_from = a;
		alias_to = j = a + 1;
	}
	if (!pl_tok_is(t, j, "AT") || !pl_tok_is_punct(t, j + 1, "("))
		return false;
	size_t close = pl_tok_match_paren(t, j + 1);
	bool version = pl_tok_is(t, j + 2, "VERSION"), ts = pl_tok_is(t, j + 2, "TIMESTAMP");
	if (close >= t->len || (!version && !ts) || !pl_tok_is_punct(t, j + 3, "=") ||
	    !pl_tok_is_punct(t, j + 4, ">"))
		return false;
	*r = (at_ref){i, name_to, alias_from, alias_to, close + 1, ts, j + 5, close};
	return r->expr_from < r->expr_to;
}

static char *span_text(const pl_toks *t, size_t from, size_t to)
{
	size_t a = t->items[from].start, b = t->items[to - 1].start + t->items[to - 1].len;
	return pl_strndup(t->src + a, b - a);
}

static int remember(planar_conn *conn, const char *view, pl_lake *lake, const pl_model *m, int64_t snap,
		    const char *schema, const char *name, pl_err *err)
{
	const pl_schema *s = pl_model_schema(m, schema);
	const pl_table *tab = s ? pl_model_table(m, s->id, name) : NULL;
	if (!tab || strlen(view) >= sizeof(conn->at_views->view))
		return 0;
	if (conn->nat_views == conn->capat_views) {
		size_t cap = conn->capat_views ? conn->capat_views * 2 : 4;
		pl_at_view *p = realloc(conn->at_views, cap * sizeof(*p));
		if (!p)
			return pl_err_nomem(err);
		conn->at_views = p;
		conn->capat_views = cap;
	}
	pl_at_view *v = &conn->at_views[conn->nat_views++];
	snprintf(v->view, sizeof(v->view), "%s", view);
	v->lake = lake;
	v->snapshot = snap;
	v->table_id = tab->id;
	return 0;
}

const pl_at_view *pl_timetravel_find(const planar_conn *conn, const char *view)
{
	for (size_t i = 0; i < conn->nat_views; i++)
		if (strcmp(conn->at_views[i].view, view) == 0)
			return &conn->at_views[i];
	return NULL;
}

void pl_timetravel_forget(planar_conn *conn)
{
	free(conn->at_views);
	conn->at_views = NULL;
	conn->nat_views = conn->capat_views = 0;
}

/* Creates the temporary view for one reference; *alias_out is the table's name. */
static int create_view(planar_conn *conn, const pl_toks *t, const at_ref *r, const char *view, bool lineage,
		       char **alias_out, pl_err *err)
{
	pl_stmt st = {conn, t->src, *t, NULL, PL_EXPLAIN_NONE};
	char *parts[3] = {0};
	size_t n = 0, i = r->name_from;
	pl_target tgt = {0};
	pl_lake_ctx ctx;
	const pl_model *m = NULL;
	int64_t snap = -1;
	char *expr = NULL;
	int rc = pl_parse_qname(t, &i, parts, &n, err);
	if (rc == 0)
		rc = pl_resolve_target(&st, parts, n, &tgt, err);
	if (rc == 0 && !tgt.lake)
		rc = pl_err_set(err, PL_EUNSUPPORTED, "time travel (AT) is only supported on lake tables");
	if (rc == 0) {
		pl_lake_table_ctx(&ctx, tgt.lake, conn);
		rc = (expr = span_text(t, r->expr_from, r->expr_to)) ? 0 : pl_err_nomem(err);
	}
	if (rc == 0)
		rc = pl_timetravel_snapshot(&ctx.table, expr, r->by_timestamp, &snap, err);
	/* the model at snap, from the lake's recent models (time travel to one version repeatedly
	 * loads it once) */
	if (rc == 0)
		rc = pl_lake_model_at(tgt.lake, snap, &m, err);
	if (rc == 0 && lineage) { /* with rowid and snapshot_id (sql/rowid.h) */
		const pl_schema *s = pl_model_schema(m, tgt.schema);
		const pl_table *tab = s ? pl_model_table(m, s->id, tgt.name) : NULL;
		rc = tab ? pl_rowid_view(conn, tgt.lake->name, m, tab, view, err)
			 : pl_err_set(err, PL_ENOTFOUND, "Catalog Error: table \"%s\" does not exist at version %lld",
				      tgt.name, (long long)snap);
	} else if (rc == 0) {
		rc = pl_timetravel_view(&ctx.table, m, snap, tgt.schema, tgt.name, view, err);
		if (rc == 0)
			rc = remember(conn, view, tgt.lake, m, snap, tgt.schema, tgt.name, err);
	}
	if (rc == 0 && !(*alias_out = pl_strdup(tgt.name)))
		rc = pl_err_nomem(err);
	free(expr);
	pl_target_dispose(&tgt);
	for (size_t k = 0; k < n; k++)
		free(parts[k]);
	return rc;
}

int pl_timetravel_rewrite(planar_conn *conn, const pl_toks *t, char **sql_out, pl_strv *views, pl_err *err)
{
	pl_buf out = PL_BUF_INIT;
	size_t copied = 0;
	int rc = 0;
	*sql_out = NULL;
	conn->nat_views = 0;
	for (size_t i = 0; rc == 0 && i < t->len; i++) {
		at_ref r;
		if (!match_at(t, i, &r))
			continue;
		char view[64], *alias = NULL;
		bool lineage = pl_rowid_wanted(t);
		snprintf(view, sizeof(view), "%s%lu", lineage ? PL_ROWID_AT_PREFIX : "__planar_at_", ++conn->tmp_seq);
		rc = create_view(conn, t, &r, view, lineage, &alias, err);
		if (rc == 0)
			rc = pl_strv_push(views, view);
		if (rc)
			break;
		pl_buf_put(&out, t->src + copied, t->items[r.name_from].start - copied);
		pl_buf_puts(&out, "temp.main.");
		pl_buf_put_ident(&out, view);
		if (r.alias_from < r.alias_to) {
			pl_buf_puts(&out, " AS ");
			pl_buf_put(&out, t->src + t->items[r.alias_from].start, t->items[r.alias_from].len);
		} else if (!pl_tok_has_alias(t, r.at_end)) {
			pl_buf_puts(&out, " AS ");
			pl_buf_put_ident(&out, alias);
		}
		free(alias);
		copied = t->items[r.at_end - 1].start + t->items[r.at_end - 1].len;
		i = r.at_end - 1;
	}
	return pl_rewrite_finish(&out, t, copied, rc == 0 && views->len > 0, rc, sql_out, err);
}

void pl_timetravel_cleanup(planar_conn *conn, pl_strv *views)
{
	for (size_t i = 0; i < views->len; i++) {
		pl_buf q = PL_BUF_INIT;
		pl_err ignored;
		pl_buf_puts(&q, "DROP VIEW IF EXISTS temp.main.");
		pl_buf_put_ident(&q, views->items[i]);
		if (!pl_buf_oom(&q))
			pl_engine_exec(conn->con, q.ptr, &ignored);
		pl_buf_dispose(&q);
	}
	pl_strv_dispose(views);
}
