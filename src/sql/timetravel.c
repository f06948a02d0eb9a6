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

/* ---- views at a version --------------------------------------------------------------------
 * A lake view read AT a version is its query as it was then, with every lake table or view it
 * reads without an AT of its own read at that version too (as in DuckLake: an explicit AT in the
 * view wins). Its names are resolved as from the view's own schema. */

typedef struct view_at {
	const pl_lake *lake;
	const pl_model *m;
	const pl_schema *home; /* the view's schema */
	int64_t snap;          /* -1: the view read now (its own AT clauses only) */
} view_at;

/* Whether name is a CTE of the query (`name AS (`, `name AS [NOT] MATERIALIZED (`). */
static bool is_cte(const pl_toks *t, const char *name)
{
	bool found = false;
	for (size_t i = 0; !found && i + 2 < t->len; i++) {
		if ((t->items[i].kind != PL_TOK_WORD && t->items[i].kind != PL_TOK_QIDENT) || !pl_tok_is(t, i + 1, "AS"))
			continue;
		size_t k = i + 2 + pl_tok_is(t, i + 2, "NOT");
		k += pl_tok_is(t, k, "MATERIALIZED");
		if (!pl_tok_is_punct(t, k, "("))
			continue;
		char *n = pl_tok_ident(t, i);
		found = n && pl_str_ieq(n, name);
		free(n);
	}
	return found;
}

/* The schema and object a FROM item of `parts` names in the lake, or NULL. */
static const pl_schema *lake_object(const view_at *va, const pl_toks *t, char *const *parts, size_t n,
				    const char **name)
{
	const pl_schema *s = NULL;
	*name = parts[n - 1];
	if (n == 1 && is_cte(t, parts[0]))
		return NULL;
	if (n == 1)
		s = va->home;
	else if (n == 2)
		s = pl_model_schema(va->m, parts[0]) ? pl_model_schema(va->m, parts[0])
		    : pl_str_ieq(parts[0], va->lake->name) ? pl_model_schema(va->m, "main") : NULL;
	else if (pl_str_ieq(parts[0], va->lake->name))
		s = pl_model_schema(va->m, parts[1]);
	if (!s)
		return NULL;
	/* an unqualified name that is not the lake's is left to DuckDB (a CTE, a table of its own) */
	if (n == 1 && !pl_model_table(va->m, s->id, *name) && !pl_model_view(va->m, s->id, *name))
		return NULL;
	return s;
}

/* Puts the view's query with its lake references made explicit and read at va->snap. */
static int put_view_at(pl_buf *out, const view_at *va, const char *sql, pl_err *err)
{
	static const char *const ends[] = {"WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "QUALIFY", "WINDOW", "UNION",
					   "EXCEPT", "INTERSECT", "SELECT", "ON", "USING", "OFFSET", NULL};
	pl_toks t = {0};
	int rc = pl_lex(&t, sql, err);
	bool in_from[64] = {0};
	int depth = 0;
	size_t copied = 0;
	for (size_t i = 0; rc == 0 && i < t.len; i++) {
		if (pl_tok_is_punct(&t, i, "(") || pl_tok_is_punct(&t, i, ")")) {
			depth += pl_tok_is_punct(&t, i, "(") ? 1 : -1;
			if (depth >= 0 && depth < 64 && pl_tok_is_punct(&t, i, "("))
				in_from[depth] = false;
			continue;
		}
		if (depth < 0 || depth >= 64)
			continue;
		if (pl_tok_is(&t, i, "FROM") || pl_tok_is(&t, i, "JOIN")) {
			in_from[depth] = true;
			continue;
		}
		for (const char *const *w = ends; *w; w++)
			if (pl_tok_is(&t, i, *w))
				in_from[depth] = false;
		bool item = in_from[depth] && i > 0 &&
			    (pl_tok_is(&t, i - 1, "FROM") || pl_tok_is(&t, i - 1, "JOIN") || pl_tok_is_punct(&t, i - 1, ","));
		if (!item || (t.items[i].kind != PL_TOK_WORD && t.items[i].kind != PL_TOK_QIDENT))
			continue;
		char *parts[3] = {0};
		size_t n = 0, j = i;
		rc = pl_parse_qname(&t, &j, parts, &n, err);
		const char *name = NULL;
		const pl_schema *s = rc == 0 && n > 0 && !pl_tok_is_punct(&t, j, "(") ? lake_object(va, &t, parts, n, &name)
										      : NULL;
		if (s) {
			pl_buf_put(out, t.src + copied, t.items[i].start - copied);
			pl_buf_put_ident(out, va->lake->name);
			pl_buf_putc(out, '.');
			pl_buf_put_ident(out, s->name);
			pl_buf_putc(out, '.');
			pl_buf_put_ident(out, name);
			/* the name alone is the reference's alias, as before */
			if (!pl_tok_has_alias(&t, j) && !pl_tok_is(&t, j, "AT")) {
				pl_buf_puts(out, " AS ");
				pl_buf_put_ident(out, name);
			}
			copied = t.items[j - 1].start + t.items[j - 1].len;
			size_t k = j + pl_tok_is(&t, j, "AS");
			bool own_at = pl_tok_is(&t, j, "AT") || (k > j && pl_tok_is(&t, k + 1, "AT")) ||
				      (k == j && pl_tok_has_alias(&t, j) && pl_tok_is(&t, j + 1, "AT"));
			if (!own_at && va->snap >= 0)
				pl_buf_printf(out, " AT (VERSION => %lld)", (long long)va->snap);
		}
		for (size_t k = 0; k < n; k++)
			free(parts[k]);
		if (j > i)
			i = j - 1;
	}
	if (rc == 0)
		pl_buf_puts(out, t.src + copied);
	pl_toks_dispose(&t);
	return rc == 0 && pl_buf_oom(out) ? pl_err_nomem(err) : rc;
}

/* The view v of the model at snap as a temporary view: its query at that version, rewritten for
 * the AT clauses it then holds (their temporary views go to `views`). */
static int view_at_version(planar_conn *conn, const view_at *va, const pl_view *v, const char *view, pl_strv *views,
			   pl_err *err)
{
	static _Thread_local int depth; /* views of views: a view naming itself would never end */
	if (depth >= 32)
		return pl_err_set(err, PL_EINVALID, "view \"%s\" nests views more than 32 deep (does it read itself?)",
				  v->name);
	pl_buf lake_sql = PL_BUF_INIT, at_sql = PL_BUF_INIT, q = PL_BUF_INIT;
	static const char marker[] = "{DUCKLAKE_CATALOG}";
	const char *p = v->sql, *mk;
	while ((mk = strstr(p, marker)) != NULL) {
		pl_buf_put(&lake_sql, p, (size_t)(mk - p));
		pl_buf_put_ident(&lake_sql, va->lake->name);
		p = mk + sizeof(marker) - 1;
	}
	pl_buf_puts(&lake_sql, p);
	int rc = pl_buf_oom(&lake_sql) ? pl_err_nomem(err) : put_view_at(&at_sql, va, lake_sql.ptr, err);
	pl_toks t = {0};
	char *rewritten = NULL;
	if (rc == 0)
		rc = pl_lex(&t, at_sql.ptr, err);
	if (rc == 0) {
		depth++;
		rc = pl_timetravel_rewrite(conn, &t, &rewritten, views, err);
		depth--;
	}
	pl_buf_puts(&q, "CREATE OR REPLACE TEMP VIEW ");
	pl_buf_put_ident(&q, view);
	if (v->column_aliases && *v->column_aliases)
		pl_buf_printf(&q, " (%s)", v->column_aliases);
	pl_buf_puts(&q, " AS ");
	pl_buf_puts(&q, rewritten ? rewritten : at_sql.ptr ? at_sql.ptr : "");
	if (rc == 0)
		rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_exec(conn->con, q.ptr, err);
	free(rewritten);
	pl_toks_dispose(&t);
	pl_buf_dispose(&lake_sql);
	pl_buf_dispose(&at_sql);
	pl_buf_dispose(&q);
	return rc;
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
		       pl_strv *views, char **alias_out, pl_err *err)
{
	pl_stmt st = {conn, t->src, *t, NULL, PL_EXPLAIN_NONE, NULL};
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
	const pl_schema *vs = rc == 0 ? pl_model_schema(m, tgt.schema) : NULL;
	const pl_view *v = vs && !pl_model_table(m, vs->id, tgt.name) ? pl_model_view(m, vs->id, tgt.name) : NULL;
	if (v) {
		view_at va = {tgt.lake, m, vs, snap};
		rc = view_at_version(conn, &va, v, view, views, err);
	} else if (rc == 0 && lineage) { /* with rowid and snapshot_id (sql/rowid.h) */
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

/* ---- views whose query holds AT clauses ----------------------------------------------------
 * DuckDB cannot take such a view's query: a reference to it is replaced, like an AT reference,
 * by a temporary view of its query with the AT clauses rewritten. */

static bool has_at_clause(const char *sql)
{
	if (!strstr(sql, "=>"))
		return false;
	pl_toks t = {0};
	pl_err ignored;
	bool found = false;
	if (pl_lex(&t, sql, &ignored) == 0) {
		for (size_t i = 0; !found && i + 2 < t.len; i++)
			found = pl_tok_is(&t, i, "AT") && pl_tok_is_punct(&t, i + 1, "(") &&
				(pl_tok_is(&t, i + 2, "VERSION") || pl_tok_is(&t, i + 2, "TIMESTAMP"));
	}
	pl_toks_dispose(&t);
	return found;
}

/* Whether the query names (as a word) one of the model's views flagged. */
static bool names_flagged(const pl_model *m, const bool *flag, const char *sql)
{
	pl_toks t = {0};
	pl_err ignored;
	bool found = false;
	if (pl_lex(&t, sql, &ignored) == 0) {
		for (size_t i = 0; !found && i < t.len; i++) {
			if (t.items[i].kind != PL_TOK_WORD && t.items[i].kind != PL_TOK_QIDENT)
				continue;
			char *w = pl_tok_ident(&t, i);
			for (size_t v = 0; w && !found && v < m->nviews; v++)
				found = flag[v] && pl_str_ieq(w, m->views[v].name);
			free(w);
		}
	}
	pl_toks_dispose(&t);
	return found;
}

/* The lakes' views to expand (flags[lake][view]): those whose query holds AT clauses and those
 * that read one (DuckDB has neither as a view of its own). NULL when there is none. */
static bool **views_to_expand(const planar_db *db, pl_err *err, int *rc)
{
	bool **flags = calloc(db->nlakes + 1, sizeof(bool *)), any = false;
	*rc = flags ? 0 : pl_err_nomem(err);
	for (size_t l = 0; *rc == 0 && l < db->nlakes; l++) {
		const pl_model *m = db->lakes[l]->model;
		if (!m || m->nviews == 0)
			continue;
		if (!(flags[l] = calloc(m->nviews, sizeof(bool)))) {
			*rc = pl_err_nomem(err);
			break;
		}
		bool lake_any = false;
		for (size_t v = 0; v < m->nviews; v++)
			lake_any |= flags[l][v] = has_at_clause(m->views[v].sql);
		for (bool grew = lake_any; grew;) {
			grew = false;
			for (size_t v = 0; v < m->nviews; v++)
				if (!flags[l][v] && names_flagged(m, flags[l], m->views[v].sql))
					grew = flags[l][v] = true;
		}
		any |= lake_any;
	}
	if (*rc == 0 && any)
		return flags;
	for (size_t l = 0; flags && l < db->nlakes; l++)
		free(flags[l]);
	free(flags);
	return NULL;
}

static void free_flags(bool **flags, size_t n)
{
	for (size_t l = 0; flags && l < n; l++)
		free(flags[l]);
	free(flags);
}

/* A FROM item at token i naming a lake view whose query holds AT clauses: its lake, schema and
 * view, and the token just past its name. */
static int match_at_view(pl_stmt *st, bool *const *flags, const pl_target *home, size_t i, const pl_lake **lake,
			 const pl_schema **schema, const pl_view **view, size_t *end, pl_err *err)
{
	const pl_toks *t = &st->toks;
	*view = NULL;
	if (i == 0 || (t->items[i].kind != PL_TOK_WORD && t->items[i].kind != PL_TOK_QIDENT) ||
	    !(pl_tok_is(t, i - 1, "FROM") || pl_tok_is(t, i - 1, "JOIN") || pl_tok_is_punct(t, i - 1, ",")))
		return 0;
	char *parts[3] = {0};
	size_t n = 0, j = i;
	pl_target tgt = {0};
	int rc = pl_parse_qname(t, &j, parts, &n, err);
	if (rc == 0 && n > 0 && !pl_tok_is_punct(t, j, "(") && !pl_tok_is(t, j, "AT"))
		rc = home->lake ? pl_resolve_target_in(st->conn->db, home->lake->name, home->schema, parts, n, &tgt, err)
				: pl_resolve_target(st, parts, n, &tgt, err);
	const pl_schema *s = tgt.lake ? pl_model_schema(tgt.lake->model, tgt.schema) : NULL;
	const pl_view *v = s && !pl_model_table(tgt.lake->model, s->id, tgt.name) ? pl_model_view(tgt.lake->model, s->id,
												  tgt.name)
										   : NULL;
	size_t l = 0;
	while (v && l < st->conn->db->nlakes && st->conn->db->lakes[l] != tgt.lake)
		l++;
	if (rc == 0 && v && l < st->conn->db->nlakes && flags[l] && flags[l][v - tgt.lake->model->views]) {
		*lake = tgt.lake, *schema = s, *view = v, *end = j;
	}
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
	bool **flags = views_to_expand(conn->db, err, &rc), at_views = flags != NULL;
	pl_stmt st = {conn, t->src, *t, NULL, PL_EXPLAIN_NONE, NULL};
	/* CREATE VIEW in a lake: its query's names are seen from the view's schema */
	pl_target home = {0};
	size_t k = 1;
	k += 2 * (pl_tok_is(t, k, "OR") && pl_tok_is(t, k + 1, "REPLACE"));
	if (rc == 0 && at_views && pl_tok_is(t, 0, "CREATE") && pl_tok_is(t, k, "VIEW")) {
		k += 1 + 3 * (pl_tok_is(t, k + 1, "IF") && pl_tok_is(t, k + 2, "NOT") && pl_tok_is(t, k + 3, "EXISTS"));
		char *parts[3] = {0};
		size_t n = 0;
		rc = pl_parse_qname(t, &k, parts, &n, err);
		if (rc == 0 && n > 1)
			rc = pl_resolve_target(&st, parts, n, &home, err);
		for (size_t p = 0; p < n; p++)
			free(parts[p]);
	}
	conn->nat_views = 0;
	for (size_t i = 0; rc == 0 && i < t->len; i++) {
		at_ref r;
		const pl_lake *vl = NULL;
		const pl_schema *vs = NULL;
		const pl_view *vv = NULL;
		size_t vend = 0;
		if (at_views && !match_at(t, i, &r) && (rc = match_at_view(&st, flags, &home, i, &vl, &vs, &vv, &vend, err)) == 0 && vv) {
			char view[64];
			snprintf(view, sizeof(view), "__planar_at_%lu", ++conn->tmp_seq);
			view_at va = {vl, vl->model, vs, -1};
			rc = view_at_version(conn, &va, vv, view, views, err);
			if (rc == 0)
				rc = pl_strv_push(views, view);
			if (rc)
				break;
			pl_buf_put(&out, t->src + copied, t->items[i].start - copied);
			pl_buf_puts(&out, "temp.main.");
			pl_buf_put_ident(&out, view);
			if (!pl_tok_has_alias(t, vend)) {
				pl_buf_puts(&out, " AS ");
				pl_buf_put_ident(&out, vv->name);
			}
			copied = t->items[vend - 1].start + t->items[vend - 1].len;
			i = vend - 1;
			continue;
		}
		if (rc || !match_at(t, i, &r))
			continue;
		char view[64], *alias = NULL;
		bool lineage = pl_rowid_wanted(t);
		snprintf(view, sizeof(view), "%s%lu", lineage ? PL_ROWID_AT_PREFIX : "__planar_at_", ++conn->tmp_seq);
		rc = create_view(conn, t, &r, view, lineage, views, &alias, err);
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
	pl_target_dispose(&home);
	free_flags(flags, conn->db->nlakes);
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
