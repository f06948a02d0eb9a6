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

#include "catalog/upkeep.h"
#include "core/str.h"
#include "sql/lake.h"
#include "table/scan.h"

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

/* Evaluates the AT expression in DuckDB: a snapshot id, or a timestamp resolved in the catalog. */
static int resolve_snapshot(planar_conn *conn, pl_lake *lake, const pl_toks *t, const at_ref *r,
			    int64_t *snap, pl_err *err)
{
	char *expr = span_text(t, r->expr_from, r->expr_to), *val = NULL;
	pl_buf q = PL_BUF_INIT;
	if (!expr)
		return pl_err_nomem(err);
	pl_buf_printf(&q, "SELECT CAST((%s) AS BIGINT)", expr);
	int rc = r->by_timestamp ? pl_engine_utc_timestamp(conn->con, expr, &val, err)
		 : pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query_value(conn->con, q.ptr, &val, err);
	pl_buf_dispose(&q);
	if (rc == 0 && !val)
		rc = pl_err_set(err, PL_EINVALID, "AT (%s => %s) is NULL", r->by_timestamp ? "TIMESTAMP" : "VERSION", expr);
	if (rc == 0 && !r->by_timestamp)
		*snap = strtoll(val, NULL, 10);
	if (rc == 0 && r->by_timestamp) {
		rc = pl_catalog_snapshot_at_time(lake->cat, val, true, snap, err);
		if (rc == 0 && *snap < 0)
			rc = pl_err_set(err, PL_ENOTFOUND, "no snapshot at or before %s", val);
	}
	free(expr);
	free(val);
	return rc;
}

/* The model at snap, from the lake's recent models (time travel to one version repeatedly
 * loads it once). */
static int model_at(pl_lake *lake, int64_t snap, const pl_model **out, pl_err *err)
{
	int64_t latest = -1;
	int rc = pl_catalog_latest_snapshot(lake->cat, &latest, err);
	if (rc)
		return rc;
	if (snap < 0 || snap > latest)
		return pl_err_set(err, PL_ENOTFOUND, "no snapshot at version %lld (the latest is %lld)", (long long)snap,
				  (long long)latest);
	bool exists = true; /* a model kept from before an expiry must not answer for it */
	rc = pl_upkeep_snapshot_exists(lake->cat, snap, &exists, err);
	if (rc == 0 && !exists)
		rc = pl_err_set(err, PL_ENOTFOUND, "no snapshot at version %lld (it was expired)", (long long)snap);
	return rc ? rc : pl_lake_model_at(lake, snap, out, err);
}

/* Creates the temporary view for one reference; *alias_out is the table's name. */
static int create_view(planar_conn *conn, const pl_toks *t, const at_ref *r, const char *view,
		       char **alias_out, pl_err *err)
{
	pl_stmt st = {conn, t->src, *t, NULL, PL_EXPLAIN_NONE};
	char *parts[3] = {0};
	size_t n = 0, i = r->name_from;
	pl_target tgt = {0};
	const pl_model *m = NULL;
	int64_t snap = -1;
	int rc = pl_parse_qname(t, &i, parts, &n, err);
	if (rc == 0)
		rc = pl_resolve_target(&st, parts, n, &tgt, err);
	if (rc == 0 && !tgt.lake)
		rc = pl_err_set(err, PL_EUNSUPPORTED, "time travel (AT) is only supported on lake tables");
	if (rc == 0)
		rc = resolve_snapshot(conn, tgt.lake, t, r, &snap, err);
	if (rc == 0)
		rc = model_at(tgt.lake, snap, &m, err);
	const pl_schema *s = rc ? NULL : pl_model_schema(m, tgt.schema);
	const pl_table *tab = s ? pl_model_table(m, s->id, tgt.name) : NULL;
	if (rc == 0 && !tab)
		rc = pl_err_set(err, PL_ENOTFOUND, "Catalog Error: table \"%s\" does not exist at version %lld", tgt.name,
				(long long)snap);
	pl_buf q = PL_BUF_INIT;
	if (rc == 0) {
		pl_buf_puts(&q, "CREATE OR REPLACE TEMP VIEW ");
		pl_buf_put_ident(&q, view);
		pl_buf_puts(&q, " AS ");
		int64_t sets[2];
		rc = pl_scan_prepare_deletes(&conn->db->deletes, conn->db->admin, m, tab, sets, err);
		if (rc == 0)
			rc = pl_scan_sql(&q, tgt.lake->name, m, tab, sets, err);
	}
	if (rc == 0)
		rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_exec(conn->con, q.ptr, err);
	if (rc == 0 && !(*alias_out = pl_strdup(tgt.name)))
		rc = pl_err_nomem(err);
	pl_buf_dispose(&q);
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
	for (size_t i = 0; rc == 0 && i < t->len; i++) {
		at_ref r;
		if (!match_at(t, i, &r))
			continue;
		char view[64], *alias = NULL;
		snprintf(view, sizeof(view), "__planar_at_%lu", ++conn->tmp_seq);
		rc = create_view(conn, t, &r, view, &alias, err);
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
