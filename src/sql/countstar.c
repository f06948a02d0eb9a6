/*
 * countstar.c -- count(*) of a lake table from the catalog (see countstar.h).
 */
#include "sql/countstar.h"

#include <stdlib.h>
#include <string.h>

#include "sql/lake.h"

/* The table's row count at the model's snapshot: each live file's records minus its deleted
 * rows. False when the catalog cannot tell exactly (inlined rows, a delete file shared across
 * snapshots). */
static bool catalog_count(const pl_model *m, const pl_table *t, int64_t *out)
{
	int64_t n = 0;
	const pl_data_file *files = NULL;
	size_t nfiles = 0;
	pl_err ignored = {0};
	if (t->ninlined > 0 || pl_model_table_files(m, t, &files, &nfiles, &ignored) != 0)
		return false;
	for (size_t i = 0; i < nfiles; i++) {
		const pl_data_file *f = &files[i];
		if (f->record_count < 0 || (f->delete_path && (f->delete_partial_max >= 0 || f->delete_count < 0)) ||
		    f->ninlined_deletes || (f->partial_max >= 0 && f->partial_max > m->snapshot_id))
			return false;
		n += f->record_count - (f->delete_path ? f->delete_count : 0);
	}
	*out = n;
	return true;
}

/* Whether the session has a temporary table or view of that name (it would shadow a lake's). */
static bool temp_object(planar_conn *conn, const char *name)
{
	pl_buf q = PL_BUF_INIT;
	char *v = NULL;
	pl_err ignored;
	pl_buf_puts(&q, "SELECT count(*) FROM (SELECT table_name AS n FROM duckdb_tables() WHERE temporary UNION ALL "
			"SELECT view_name FROM duckdb_views() WHERE temporary) WHERE lower(n) = lower(");
	pl_buf_put_literal(&q, name);
	pl_buf_putc(&q, ')');
	bool found = pl_buf_oom(&q) || pl_engine_query_value(conn->con, q.ptr, &v, &ignored) != 0 || !v ||
		     strcmp(v, "0") != 0;
	free(v);
	pl_buf_dispose(&q);
	return found;
}

/* `SELECT count(*) [AS name] FROM [lake.][schema.]table [[AS] alias] [;]` on a lake table (named
 * without its lake: in the session's current lake, not shadowed by a temporary object), outside
 * a transaction that pins an older state: the answer is a constant. */
int pl_count_star_rewrite(planar_conn *conn, const pl_toks *t, char **sql_out, pl_err *err)
{
	size_t i = 0;
	if (!pl_tok_is(t, 0, "SELECT") || !pl_tok_is(t, 1, "count") || !pl_tok_is_punct(t, 2, "(") ||
	    !pl_tok_is_punct(t, 3, "*") || !pl_tok_is_punct(t, 4, ")"))
		return 0;
	i = 5;
	char *name = NULL;
	if (pl_tok_is(t, i, "AS") && i + 1 < t->len &&
	    (t->items[i + 1].kind == PL_TOK_WORD || t->items[i + 1].kind == PL_TOK_QIDENT)) {
		if (!(name = pl_tok_ident(t, i + 1)))
			return pl_err_nomem(err);
		i += 2;
	}
	int rc = 0;
	char *parts[3] = {0};
	size_t n = 0;
	pl_err ignored = {0};
	bool ok = pl_tok_is(t, i, "FROM") && (i++, pl_parse_qname(t, &i, parts, &n, &ignored) == 0) && n >= 2;
	if (ok && pl_tok_is(t, i, "AS"))
		i++;
	if (ok && i < t->len && t->items[i].kind == PL_TOK_WORD && !pl_tok_is_punct(t, i, ";") &&
	    !pl_tok_is(t, i, "WHERE") && !pl_tok_is(t, i, "GROUP") && !pl_tok_is(t, i, "LIMIT"))
		i++;
	else if (ok && i < t->len && t->items[i].kind == PL_TOK_QIDENT)
		i++;
	if (ok && pl_tok_is_punct(t, i, ";"))
		i++;
	ok = ok && i == t->len;
	/* a name without its lake: the session's current lake, unless a temporary object shadows it */
	char *cur_db = NULL, *cur_schema = NULL;
	bool qualified = ok && n >= 2 && pl_db_find_lake(conn->db, parts[0]) != NULL;
	if (ok && !qualified) {
		pl_stmt st = {conn, t->src, *t, NULL, PL_EXPLAIN_NONE, NULL};
		ok = pl_session_location(&st, &cur_db, &cur_schema, &ignored) == 0 && cur_db &&
		     pl_db_find_lake(conn->db, cur_db) != NULL && !temp_object(conn, parts[n - 1]);
	}
	pl_target tgt = {0};
	int64_t count = 0;
	if (ok && pl_resolve_target_in(conn->db, cur_db, cur_schema, parts, n, &tgt, &ignored) == 0 && tgt.lake) {
		const pl_model *m = tgt.lake->model;
		const pl_schema *sc = pl_model_schema(m, tgt.schema);
		const pl_table *tab = sc ? pl_model_table(m, sc->id, tgt.name) : NULL;
		/* inside a transaction the model is the one the transaction sees (pl_txn_enter) */
		if (tab && catalog_count(m, tab, &count)) {
			pl_buf q = PL_BUF_INIT;
			pl_buf_printf(&q, "SELECT CAST(%lld AS BIGINT) AS ", (long long)count);
			pl_buf_put_ident(&q, name ? name : "count_star()");
			*sql_out = pl_buf_detach(&q);
			if (!*sql_out)
				rc = pl_err_nomem(err);
		}
	}
	pl_target_dispose(&tgt);
	for (size_t k = 0; k < n; k++)
		free(parts[k]);
	free(name);
	free(cur_db);
	free(cur_schema);
	return rc;
}
