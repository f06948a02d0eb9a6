/*
 * views.c -- CREATE VIEW / DROP VIEW in a lake (stored in the catalog with the lake's own name
 * written {DUCKLAKE_CATALOG} as DuckLake does) and COMMENT ON TABLE / VIEW / COLUMN (tags with the
 * key 'comment'): the statement side; the table layer plans the changes (table/ddl.h). Each
 * statement is one snapshot; all of it is time-travelable in the catalog.
 */
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "sql/lake.h"
#include "sql/router.h"
#include "table/ddl.h"

/* The view's query with references to its own lake written {DUCKLAKE_CATALOG}. */
static char *portable_sql(const pl_toks *t, size_t from, const char *lake)
{
	pl_buf b = PL_BUF_INIT;
	size_t copied = t->items[from].start;
	for (size_t i = from; i < t->len; i++) {
		if (!pl_tok_is_punct(t, i + 1, ".") || (i > 0 && pl_tok_is_punct(t, i - 1, ".")))
			continue;
		char *name = (t->items[i].kind == PL_TOK_WORD || t->items[i].kind == PL_TOK_QIDENT) ? pl_tok_ident(t, i) : NULL;
		bool own = name && pl_str_ieq(name, lake);
		free(name);
		if (!own)
			continue;
		pl_buf_put(&b, t->src + copied, t->items[i].start - copied);
		pl_buf_puts(&b, "{DUCKLAKE_CATALOG}");
		copied = t->items[i].start + t->items[i].len;
	}
	pl_buf_puts(&b, t->src + copied);
	return pl_buf_detach(&b);
}

static int resolve_in_lake(pl_stmt *st, size_t *i, pl_target *tgt, const pl_schema **schema, pl_err *err)
{
	char *parts[3] = {0};
	size_t n = 0;
	int rc = pl_parse_qname(&st->toks, i, parts, &n, err);
	if (rc == 0)
		rc = pl_resolve_target(st, parts, n, tgt, err);
	for (size_t k = 0; k < n; k++)
		free(parts[k]);
	if (rc == 0)
		rc = pl_lake_check_writable(tgt->lake, err);
	*schema = rc ? NULL : pl_model_schema(tgt->lake->model, tgt->schema);
	if (rc == 0 && !*schema)
		rc = pl_err_set(err, PL_ENOTFOUND, "Catalog Error: Schema with name \"%s\" does not exist! (not found in lake "
				"\"%s\")", tgt->schema, tgt->lake->name);
	return rc;
}

/* CREATE VIEW v(a, b) AS ...: the column aliases as DuckLake stores them, each name quoted
 * ("a","b"); *i moves past the list. */
static int parse_aliases(const pl_toks *t, size_t *i, char **out, pl_err *err)
{
	size_t close = pl_tok_match_paren(t, *i);
	if (close >= t->len)
		return pl_err_set(err, PL_EINVALID, "syntax error: unbalanced parentheses in CREATE VIEW");
	pl_buf b = PL_BUF_INIT;
	for (size_t k = *i + 1; k < close; k++) {
		if (t->items[k].kind != PL_TOK_WORD && t->items[k].kind != PL_TOK_QIDENT) {
			pl_buf_dispose(&b);
			return pl_err_set(err, PL_EINVALID, "syntax error: CREATE VIEW column aliases must be names");
		}
		char *name = pl_tok_ident(t, k);
		if (!name) {
			pl_buf_dispose(&b);
			return pl_err_nomem(err);
		}
		if (b.len)
			pl_buf_putc(&b, ',');
		pl_buf_put_ident(&b, name);
		free(name);
		if (k + 1 < close && !pl_tok_is_punct(t, ++k, ",")) {
			pl_buf_dispose(&b);
			return pl_err_set(err, PL_EINVALID, "syntax error in CREATE VIEW column aliases");
		}
	}
	*i = close + 1;
	if (b.len == 0)
		return pl_err_set(err, PL_EINVALID, "syntax error: CREATE VIEW column alias list is empty");
	return (*out = pl_buf_detach(&b)) ? 0 : pl_err_nomem(err);
}

int pl_handle_create_view(pl_stmt *st, size_t name_at, planar_result **out, pl_err *err)
{
	const pl_toks *t = &st->toks;
	pl_target tgt = {0};
	const pl_schema *s = NULL;
	pl_txn txn = {0};
	size_t i = name_at;
	bool or_replace = pl_tok_is(t, 1, "OR"), if_not_exists = pl_tok_is(t, name_at - 1, "EXISTS");
	(void)out;
	int rc = resolve_in_lake(st, &i, &tgt, &s, err);
	if (rc == 0)
		rc = pl_name_check("view", tgt.name, err);
	char *aliases = NULL;
	if (rc == 0 && pl_tok_is_punct(t, i, "("))
		rc = parse_aliases(t, &i, &aliases, err);
	if (rc == 0 && !pl_tok_is(t, i, "AS"))
		rc = pl_err_set(err, PL_EINVALID, "syntax error: CREATE VIEW needs AS query");
	const pl_view *old = rc ? NULL : pl_model_view(tgt.lake->model, s->id, tgt.name);
	if (rc == 0 && pl_model_table(tgt.lake->model, s->id, tgt.name))
		rc = pl_err_set(err, PL_EEXISTS, "Catalog Error: a table named \"%s\" already exists", tgt.name);
	if (rc == 0 && old && if_not_exists) {
		pl_target_dispose(&tgt);
		return 0;
	}
	if (rc == 0 && old && !or_replace)
		rc = pl_err_set(err, PL_EEXISTS, "Catalog Error: View with name \"%s\" already exists!", tgt.name);
	/* a query holding AT clauses is stored as written (they were rewritten for the check) */
	pl_toks orig = {0};
	const pl_toks *body = t;
	if (rc == 0 && st->original && st->original != st->sql && strstr(st->sql, "__planar_") &&
	    pl_lex(&orig, st->original, err) == 0 && orig.len > i + 1 && pl_tok_is(&orig, i, "AS"))
		body = &orig;
	char *stored = rc ? NULL : portable_sql(body, i + 1, tgt.lake->name);
	pl_toks_dispose(&orig);
	if (rc == 0 && !stored)
		rc = pl_err_nomem(err);
	if (rc == 0) {
		pl_lake_ctx ctx;
		pl_lake_table_ctx(&ctx, tgt.lake, st->conn);
		rc = pl_ddl_create_view(&ctx.table, s, tgt.name, old, st->sql + t->items[i + 1].start, stored, &txn, err);
	}
	if (rc == 0 && aliases) { /* stored as DuckLake stores them: "a","b" */
		txn.views[txn.nviews - 1].column_aliases = aliases;
		aliases = NULL;
	}
	free(aliases);
	if (rc == 0)
		rc = pl_lake_commit(tgt.lake, st->conn, &txn, err);
	free(stored);
	pl_txn_dispose(&txn);
	pl_target_dispose(&tgt);
	return rc;
}

int pl_handle_drop_view(pl_stmt *st, size_t name_at, bool if_exists, pl_err *err)
{
	pl_target tgt = {0};
	const pl_schema *s = NULL;
	pl_txn txn = {0};
	size_t i = name_at;
	int rc = resolve_in_lake(st, &i, &tgt, &s, err);
	const pl_view *v = rc ? NULL : pl_model_view(tgt.lake->model, s->id, tgt.name);
	if (rc == 0 && !v && !if_exists)
		rc = pl_err_set(err, PL_ENOTFOUND, "Catalog Error: View with name %s does not exist!", tgt.name);
	if (rc == 0 && v) {
		rc = pl_ddl_drop_view(v, &txn, err);
		if (rc == 0)
			rc = pl_lake_commit(tgt.lake, st->conn, &txn, err);
	}
	pl_txn_dispose(&txn);
	pl_target_dispose(&tgt);
	return rc;
}

/* ALTER VIEW [IF EXISTS] name RENAME TO new_name (name_at: the name's token). */
int pl_handle_alter_view(pl_stmt *st, size_t name_at, bool if_exists, pl_err *err)
{
	const pl_toks *t = &st->toks;
	pl_target tgt = {0};
	const pl_schema *s = NULL;
	pl_txn txn = {0};
	size_t i = name_at;
	char *new_name = NULL;
	int rc = resolve_in_lake(st, &i, &tgt, &s, err);
	if (rc == 0 && !(pl_tok_is(t, i, "RENAME") && pl_tok_is(t, i + 1, "TO") && i + 3 == t->len))
		rc = pl_err_set(err, PL_EUNSUPPORTED, "ALTER VIEW on lake views supports only RENAME TO");
	if (rc == 0 && !(new_name = pl_tok_ident(t, i + 2)))
		rc = pl_err_nomem(err);
	if (rc == 0)
		rc = pl_name_check("view", new_name, err);
	const pl_view *v = rc ? NULL : pl_model_view(tgt.lake->model, s->id, tgt.name);
	if (rc == 0 && !v && !if_exists)
		rc = pl_err_set(err, PL_ENOTFOUND, "Catalog Error: View with name %s does not exist!", tgt.name);
	const pl_view *other = rc || !v ? NULL : pl_model_view(tgt.lake->model, s->id, new_name);
	if (rc == 0 && v && ((other && other != v) || pl_model_table(tgt.lake->model, s->id, new_name)))
		rc = pl_err_set(err, PL_EEXISTS,
				"Catalog Error: Could not rename \"%s\" to \"%s\": another entry with this name already exists!",
				tgt.name, new_name);
	if (rc == 0 && v && strcmp(v->name, new_name) != 0) {
		rc = pl_ddl_rename_view(s, v, new_name, &txn, err);
		if (rc == 0)
			rc = pl_lake_commit(tgt.lake, st->conn, &txn, err);
	}
	free(new_name);
	pl_txn_dispose(&txn);
	pl_target_dispose(&tgt);
	return rc;
}

/* COMMENT ON TABLE|VIEW name IS 'text' | NULL;  COMMENT ON COLUMN [lake.][schema.]table.column IS ... */
int pl_handle_comment(pl_stmt *st, planar_result **out, pl_err *err)
{
	const pl_toks *t = &st->toks;
	bool column = pl_tok_is(t, 2, "COLUMN");
	size_t i = 3, n = 0;
	char *parts[4] = {0};
	(void)out;
	/* names of up to 4 parts (the column's) */
	for (; i < t->len && n < 4; i += 2) { /* a name, then a '.' */
		if (t->items[i].kind != PL_TOK_WORD && t->items[i].kind != PL_TOK_QIDENT)
			break;
		parts[n++] = pl_tok_ident(t, i);
		if (!pl_tok_is_punct(t, i + 1, ".")) {
			i++;
			break;
		}
	}
	int rc = 0;
	if (!pl_tok_is(t, i, "IS") || i + 2 != t->len || (column && n < 2))
		rc = pl_err_set(err, PL_EINVALID, "syntax error: COMMENT ON ... IS 'text'");
	char *value = rc ? NULL : t->items[i + 1].kind == PL_TOK_STRING ? pl_tok_string(t, i + 1) : NULL;
	if (rc == 0 && !value && !pl_tok_is(t, i + 1, "NULL"))
		rc = pl_err_set(err, PL_EINVALID, "COMMENT ON needs a string or NULL");
	pl_target tgt = {0};
	if (rc == 0)
		rc = pl_resolve_target(st, parts, column ? n - 1 : n, &tgt, err);
	if (rc == 0)
		rc = pl_lake_check_writable(tgt.lake, err);
	const pl_schema *s = rc ? NULL : pl_model_schema(tgt.lake->model, tgt.schema);
	const pl_table *tab = s ? pl_model_table(tgt.lake->model, s->id, tgt.name) : NULL;
	const pl_view *view = s && !tab ? pl_model_view(tgt.lake->model, s->id, tgt.name) : NULL;
	int64_t column_id = -1;
	for (size_t c = 0; column && tab && c < tab->ntop; c++)
		if (pl_str_ieq(tab->top[c]->name, parts[n - 1]))
			column_id = tab->top[c]->id;
	if (rc == 0 && !tab && !view)
		rc = pl_err_set(err, PL_ENOTFOUND, "Catalog Error: Table with name %s does not exist!", tgt.name);
	else if (rc == 0 && pl_tok_is(t, 2, "VIEW") && tab)
		rc = pl_err_set(err, PL_EINVALID, "Catalog Error: %s is not a view", tgt.name);
	else if (rc == 0 && pl_tok_is(t, 2, "TABLE") && view)
		rc = pl_err_set(err, PL_EINVALID, "Catalog Error: %s is not a table", tgt.name);
	else if (rc == 0 && column && column_id < 0)
		rc = pl_err_set(err, PL_ENOTFOUND, "Catalog Error: Column with name %s does not exist!", parts[n - 1]);
	pl_txn txn = {0};
	if (rc == 0)
		rc = pl_ddl_comment(tab ? tab->id : view->id, !tab, column_id, value, &txn, err);
	if (rc == 0)
		rc = pl_lake_commit(tgt.lake, st->conn, &txn, err);
	free(value);
	pl_txn_dispose(&txn);
	pl_target_dispose(&tgt);
	for (size_t k = 0; k < n; k++)
		free(parts[k]);
	return rc;
}
