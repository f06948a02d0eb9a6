/*
 * router.c -- classifying statements and dispatching them (see router.h). Before any statement
 * the attached lakes are refreshed if another session or process committed since.
 */
#include "sql/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/str.h"
#include "sql/lake.h"
#include "sql/changefeed.h"
#include "sql/flush.h"
#include "sql/lakefn.h"
#include "sql/maintenance.h"
#include "sql/metadata.h"
#include "sql/rowid.h"
#include "sql/search.h"
#include "sql/prune.h"
#include "sql/timetravel.h"
#include "sql/transaction.h"
#include "storage/s3lake.h"
#include "storage/secrets.h"

/* Statement kinds that write to their target; handled when the target is in a lake. */
static bool targets_lake(pl_stmt *st, size_t name_at, pl_err *err, bool *is_lake)
{
	char *parts[3] = {0};
	size_t n = 0, i = name_at;
	pl_target tgt;
	*is_lake = false;
	if (pl_parse_qname(&st->toks, &i, parts, &n, err) == 0 &&
	    pl_resolve_target(st, parts, n, &tgt, err) == 0) {
		*is_lake = tgt.lake != NULL;
		pl_target_dispose(&tgt);
	}
	for (size_t k = 0; k < n; k++)
		free(parts[k]);
	return *is_lake;
}

static size_t skip_words(const pl_toks *t, size_t i, const char *const *words)
{
	for (bool again = true; again;) {
		again = false;
		for (const char *const *w = words; *w; w++)
			if (pl_tok_is(t, i, *w)) {
				i++;
				again = true;
			}
	}
	return i;
}

static int unsupported(pl_stmt *st, const char *what, pl_err *err)
{
	(void)st;
	return pl_err_set(err, PL_EUNSUPPORTED, "%s on lake tables is not supported yet", what);
}

static int route_create(pl_stmt *st, planar_result **out, pl_err *err, bool *handled)
{
	static const char *const mods[] = {"OR", "REPLACE", "TEMP", "TEMPORARY", "PERSISTENT", NULL};
	static const char *const ifne[] = {"IF", "NOT", "EXISTS", NULL};
	const pl_toks *t = &st->toks;
	size_t i = skip_words(t, 1, mods);
	bool lake = false;
	if (pl_tok_is(t, i, "SCHEMA")) {
		size_t at = skip_words(t, i + 1, ifne);
		char *parts[3] = {0};
		size_t n = 0, j = at;
		int rc = pl_parse_qname(t, &j, parts, &n, err);
		if (rc == 0) {
			char *cur_db = NULL, *cur_schema = NULL;
			rc = pl_session_location(st, &cur_db, &cur_schema, err);
			lake = (n == 2 && pl_db_find_lake(st->conn->db, parts[0])) ||
			       (n == 1 && cur_db && pl_db_find_lake(st->conn->db, cur_db));
			free(cur_db);
			free(cur_schema);
		}
		for (size_t k = 0; k < n; k++)
			free(parts[k]);
		if (rc)
			return rc;
		*handled = lake;
		return lake ? pl_handle_create_schema(st, at, out, err) : 0;
	}
	if (pl_tok_is(t, i, "TABLE")) {
		size_t at = skip_words(t, i + 1, ifne);
		*handled = targets_lake(st, at, err, &lake);
		return lake ? pl_handle_create_table(st, at, out, err) : 0;
	}
	if (pl_tok_is(t, i, "VIEW")) {
		size_t at = skip_words(t, i + 1, ifne);
		*handled = targets_lake(st, at, err, &lake);
		return lake ? pl_handle_create_view(st, at, out, err) : 0;
	}
	bool temp = false;
	for (size_t k = 1; k < i; k++)
		temp = temp || pl_tok_is(t, k, "TEMP") || pl_tok_is(t, k, "TEMPORARY");
	if (!temp && (pl_tok_is(t, i, "MACRO") || pl_tok_is(t, i, "FUNCTION"))) {
		size_t at = skip_words(t, i + 1, ifne);
		*handled = targets_lake(st, at, err, &lake);
		return lake ? pl_handle_create_macro(st, at, out, err) : 0;
	}
	static const char *const others[] = {"MACRO", "FUNCTION", "SEQUENCE", "INDEX", "TYPE", NULL};
	for (const char *const *o = others; *o; o++) {
		if (!pl_tok_is(t, i, *o))
			continue;
		size_t at = skip_words(t, i + 1, ifne);
		if (pl_tok_is(t, i, "INDEX")) /* CREATE INDEX name ON table */
			for (; at < t->len && !pl_tok_is(t, at, "ON"); at++)
				;
		if (pl_tok_is(t, at, "ON"))
			at++;
		if (targets_lake(st, at, err, &lake)) {
			*handled = true;
			char what[64];
			snprintf(what, sizeof(what), "CREATE %s", *o);
			return unsupported(st, what, err);
		}
	}
	return 0;
}

static int route_drop(pl_stmt *st, planar_result **out, pl_err *err, bool *handled)
{
	static const char *const ife[] = {"IF", "EXISTS", NULL};
	const pl_toks *t = &st->toks;
	size_t at = skip_words(t, 2, ife);
	bool lake = false;
	if (pl_tok_is(t, 1, "SCHEMA")) {
		char *parts[3] = {0};
		size_t n = 0, j = at;
		int rc = pl_parse_qname(t, &j, parts, &n, err);
		if (rc == 0) {
			char *cur_db = NULL, *cur_schema = NULL;
			rc = pl_session_location(st, &cur_db, &cur_schema, err);
			lake = (n == 2 && pl_db_find_lake(st->conn->db, parts[0])) ||
			       (n == 1 && cur_db && pl_db_find_lake(st->conn->db, cur_db) &&
				strcmp(parts[0], cur_db) != 0);
			free(cur_db);
			free(cur_schema);
		}
		for (size_t k = 0; k < n; k++)
			free(parts[k]);
		*handled = lake;
		return rc ? rc : lake ? pl_handle_drop(st, 1, out, err) : 0;
	}
	if (pl_tok_is(t, 1, "TABLE")) {
		*handled = targets_lake(st, at, err, &lake);
		return lake ? pl_handle_drop(st, 1, out, err) : 0;
	}
	if (pl_tok_is(t, 1, "VIEW")) {
		*handled = targets_lake(st, at, err, &lake);
		return lake ? pl_handle_drop_view(st, at, at > 2, err) : 0;
	}
	if (pl_tok_is(t, 1, "MACRO") || pl_tok_is(t, 1, "FUNCTION")) {
		bool table_kind = pl_tok_is(t, 1, "MACRO") && pl_tok_is(t, 2, "TABLE");
		size_t from = table_kind ? 3 : 2;
		size_t name_at = skip_words(t, from, ife);
		*handled = targets_lake(st, name_at, err, &lake);
		return lake ? pl_handle_drop_macro(st, name_at, table_kind, name_at > from, out, err) : 0;
	}
	if (targets_lake(st, at, err, &lake)) {
		*handled = true;
		return unsupported(st, "DROP of this kind", err);
	}
	return 0;
}

static int route_detach(pl_stmt *st, planar_result **out, pl_err *err, bool *handled)
{
	static const char *const words[] = {"DATABASE", "IF", "EXISTS", NULL};
	size_t i = skip_words(&st->toks, 1, words);
	if (i >= st->toks.len)
		return 0;
	char *name = pl_tok_ident(&st->toks, i);
	if (!name)
		return pl_err_nomem(err);
	pl_lake *lake = pl_db_find_lake(st->conn->db, name);
	planar_db *db = st->conn->db;
	for (size_t k = 0; !lake && k < db->nlakes; k++) {
		pl_lake *l = db->lakes[k];
		if (!l->meta_detached && pl_str_ieq(l->meta_name, name)) {
			/* DETACH of a lake's metadata catalog: as with DuckDB's extension, the lake has no
			 * catalog to read any more; the mirror database goes too when it was attached */
			l->meta_detached = true;
			*handled = !l->meta_attached;
			l->meta_attached = false;
		}
	}
	free(name);
	if (!lake)
		return 0;
	*handled = true;
	return pl_handle_detach(st, lake, out, err);
}

static bool is_ducklake_attach(const pl_stmt *st)
{
	const pl_toks *t = &st->toks;
	size_t i = 1;
	static const char *const words[] = {"DATABASE", "IF", "NOT", "EXISTS", "OR", "REPLACE", NULL};
	i = skip_words(t, i, words);
	if (i >= t->len || t->items[i].kind != PL_TOK_STRING)
		return false;
	return pl_str_has_prefix_i(t->src + t->items[i].start + 1, "ducklake:");
}

/* COMMENT ON TABLE|VIEW|COLUMN: a lake object when the name (less the column) is in a lake. */
static int route_comment(pl_stmt *st, planar_result **out, pl_err *err, bool *handled)
{
	const pl_toks *t = &st->toks;
	bool column = pl_tok_is(t, 2, "COLUMN");
	if (!column && !pl_tok_is(t, 2, "TABLE") && !pl_tok_is(t, 2, "VIEW"))
		return 0;
	char *parts[4] = {0};
	size_t n = 0;
	for (size_t i = 3; i < t->len && n < 4; i += 2) {
		if (t->items[i].kind != PL_TOK_WORD && t->items[i].kind != PL_TOK_QIDENT)
			break;
		parts[n++] = pl_tok_ident(t, i);
		if (!pl_tok_is_punct(t, i + 1, "."))
			break;
	}
	pl_target tgt = {0};
	size_t len = column ? n - 1 : n;
	bool lake = len >= 1 && len <= 3 && pl_resolve_target(st, parts, len, &tgt, err) == 0 && tgt.lake;
	pl_target_dispose(&tgt);
	for (size_t k = 0; k < n; k++)
		free(parts[k]);
	*handled = lake;
	return lake ? pl_handle_comment(st, out, err) : 0;
}

static int route_write(pl_stmt *st, planar_result **out, pl_err *err, bool *handled)
{
	const pl_toks *t = &st->toks;
	bool lake = false;
	if (pl_tok_is(t, 0, "INSERT")) {
		size_t i = 1;
		static const char *const words[] = {"OR", "REPLACE", "IGNORE", NULL};
		i = skip_words(t, i, words);
		if (!pl_tok_is(t, i, "INTO"))
			return 0;
		*handled = targets_lake(st, i + 1, err, &lake);
		return lake ? pl_handle_insert(st, i + 1, out, err) : 0;
	}
	size_t at = 1;
	const char *what = NULL;
	int (*handler)(pl_stmt *, size_t, planar_result **, pl_err *) = NULL;
	if (pl_tok_is(t, 0, "UPDATE"))
		handler = pl_handle_update;
	else if (pl_tok_is(t, 0, "MERGE") && pl_tok_is(t, 1, "INTO"))
		handler = pl_handle_merge, at = 2;
	else if (pl_tok_is(t, 0, "DELETE") && pl_tok_is(t, 1, "FROM"))
		handler = pl_handle_delete, at = 2;
	else if (pl_tok_is(t, 0, "TRUNCATE"))
		handler = pl_handle_delete, at = pl_tok_is(t, 1, "TABLE") ? 2 : 1;
	else if (pl_tok_is(t, 0, "ALTER") && pl_tok_is(t, 1, "TABLE"))
		handler = pl_handle_alter, at = 2 + (pl_tok_is(t, 2, "IF") ? 2 : 0);
	else if (pl_tok_is(t, 0, "ALTER") && pl_tok_is(t, 1, "VIEW")) {
		at = 2 + (pl_tok_is(t, 2, "IF") ? 2 : 0);
		return targets_lake(st, at, err, &lake) ? (*handled = true, pl_handle_alter_view(st, at, at > 2, err)) : 0;
	} else if (pl_tok_is(t, 0, "ALTER"))
		what = "ALTER", at = 2 + (pl_tok_is(t, 2, "IF") ? 2 : 0);
	else if (pl_tok_is(t, 0, "COMMENT") && pl_tok_is(t, 1, "ON"))
		return route_comment(st, out, err, handled);
	else if (pl_tok_is(t, 0, "COPY"))
		what = "COPY ... FROM", at = 1;
	if (!what && !handler)
		return 0;
	if (pl_tok_is(t, 0, "COPY")) {
		size_t j = 1;
		char *parts[3] = {0};
		size_t n = 0;
		pl_err ignored;
		bool from = false;
		if (pl_parse_qname(t, &j, parts, &n, &ignored) == 0)
			from = pl_tok_is(t, j, "FROM") || (pl_tok_is_punct(t, j, "(") &&
							    pl_tok_is(t, pl_tok_match_paren(t, j) + 1, "FROM"));
		for (size_t k = 0; k < n; k++)
			free(parts[k]);
		if (!from)
			return 0;
	}
	if (targets_lake(st, at, err, &lake)) {
		*handled = true;
		return handler ? handler(st, at, out, err) : unsupported(st, what, err);
	}
	return 0;
}

/* Whether a statement may read or write lake: it names the lake, or the lake is the session's
 * current database. */
static bool may_touch(pl_stmt *st, const pl_lake *lake)
{
	for (size_t i = 0; i < st->toks.len; i++) {
		char *w = st->toks.items[i].kind == PL_TOK_WORD || st->toks.items[i].kind == PL_TOK_QIDENT
				  ? pl_tok_ident(&st->toks, i)
				  : NULL;
		bool same = w && pl_str_ieq(w, lake->name);
		free(w);
		if (same)
			return true;
	}
	char *cur_db = NULL, *cur_schema = NULL;
	pl_err ignored = {0};
	bool current = pl_session_location(st, &cur_db, &cur_schema, &ignored) != 0 ||
		       (cur_db && pl_str_ieq(cur_db, lake->name));
	free(cur_db);
	free(cur_schema);
	return current;
}

/* Brings every attached lake up to its catalog's latest snapshot. A lake whose catalog cannot
 * be reached fails only statements that may touch it: the rest of the session keeps working. */
static int refresh_lakes(pl_stmt *st, pl_err *err)
{
	planar_conn *conn = st->conn;
	planar_db *db = conn->db;
	for (size_t i = 0; i < db->nlakes; i++) {
		pl_err lake_err = {0};
		if (db->lakes[i]->meta_detached && may_touch(st, db->lakes[i]) && !pl_tok_is(&st->toks, 0, "DETACH"))
			return pl_err_set(err, PL_ENOTFOUND, "Catalog Error: Catalog \"%s\" does not exist!",
					  db->lakes[i]->meta_name);
		int rc = pl_lake_refresh(db->lakes[i], db, false, &lake_err);
		if (rc && may_touch(st, db->lakes[i])) {
			*err = lake_err;
			return rc;
		}
	}
	return 0;
}

/* Token index after a `WITH [RECURSIVE] name [(cols)] AS [[NOT] MATERIALIZED] (...) [, ...]`
 * list starting at i, or i when there is none or it is malformed. */
static size_t skip_cte_list(const pl_toks *t, size_t i)
{
	if (!pl_tok_is(t, i, "WITH"))
		return i;
	size_t j = i + 1 + pl_tok_is(t, i + 1, "RECURSIVE");
	for (;;) {
		if (j >= t->len || (t->items[j].kind != PL_TOK_WORD && t->items[j].kind != PL_TOK_QIDENT))
			return i;
		j++;
		if (pl_tok_is_punct(t, j, "("))
			j = pl_tok_match_paren(t, j) + 1;
		if (!pl_tok_is(t, j, "AS"))
			return i;
		j++;
		j += pl_tok_is(t, j, "NOT");
		j += pl_tok_is(t, j, "MATERIALIZED");
		if (!pl_tok_is_punct(t, j, "("))
			return i;
		j = pl_tok_match_paren(t, j) + 1;
		if (j > t->len)
			return i;
		if (!pl_tok_is_punct(t, j, ","))
			return j;
		j++;
	}
}

/* `EXPLAIN [ANALYZE] [WITH ...] INSERT|UPDATE|DELETE ...` and `WITH ... INSERT|UPDATE|DELETE`:
 * dispatches the statement itself with its prefix in inner->cte / inner->explain. *handled stays
 * false when there is no such prefix or the statement is not lake DML (DuckDB runs it as it is). */
static int dispatch_prefixed(pl_stmt *st, planar_result **out, pl_err *err, bool *handled)
{
	const pl_toks *t = &st->toks;
	size_t i = 0;
	pl_explain explain = PL_EXPLAIN_NONE;
	if (pl_tok_is(t, 0, "EXPLAIN")) {
		explain = pl_tok_is(t, 1, "ANALYZE") ? PL_EXPLAIN_ANALYZE : PL_EXPLAIN_PLAN;
		i = explain == PL_EXPLAIN_ANALYZE ? 2 : 1;
	}
	size_t body = skip_cte_list(t, i);
	if ((body == i && explain == PL_EXPLAIN_NONE) || body >= t->len)
		return 0;
	if (!pl_tok_is(t, body, "INSERT") && !pl_tok_is(t, body, "UPDATE") && !pl_tok_is(t, body, "DELETE") &&
	    !pl_tok_is(t, body, "MERGE"))
		return 0;
	char *cte = body > i ? pl_strndup(t->src + t->items[i].start, t->items[body].start - t->items[i].start)
			     : NULL;
	if (body > i && !cte)
		return pl_err_nomem(err);
	pl_stmt inner = {st->conn, t->src + t->items[body].start, {0}, cte, explain, NULL};
	int rc = pl_lex(&inner.toks, inner.sql, err);
	if (rc == 0)
		rc = route_write(&inner, out, err, handled);
	pl_toks_dispose(&inner.toks);
	free(cte);
	return rc;
}

static int dispatch(pl_stmt *st, planar_result **out, pl_err *err, bool *handled)
{
	const pl_toks *t = &st->toks;
	int rc = pl_txn_route(st, out, err, handled);
	if (rc || *handled)
		return rc;
	if (pl_tok_is(t, 0, "ATTACH") && is_ducklake_attach(st)) {
		*handled = true;
		return pl_handle_attach(st, out, err);
	}
	if (pl_tok_is(t, 0, "ATTACH"))
		return pl_attach_check_plain(st, err);
	if (pl_tok_is(t, 0, "DETACH"))
		return route_detach(st, out, err, handled);
	if (pl_tok_is(t, 0, "CREATE"))
		return route_create(st, out, err, handled);
	if (pl_tok_is(t, 0, "DROP"))
		return route_drop(st, out, err, handled);
	if (pl_tok_is(t, 0, "CALL"))
		return pl_handle_call(st, out, err, handled);
	if (pl_tok_is(t, 0, "SET") || pl_tok_is(t, 0, "RESET"))
		return pl_handle_set(st, out, err, handled);
	if (pl_tok_is(t, 0, "EXPLAIN") || pl_tok_is(t, 0, "WITH"))
		return dispatch_prefixed(st, out, err, handled);
	if (pl_tok_is(t, 0, "DESCRIBE"))
		return pl_metadata_describe(st, out, err, handled);
	return route_write(st, out, err, handled);
}

int pl_rewrite_finish(pl_buf *out, const pl_toks *t, size_t copied, bool changed, int rc, char **sql_out,
		      pl_err *err)
{
	if (changed) {
		pl_buf_puts(out, t->src + copied);
		*sql_out = pl_buf_detach(out);
		if (!*sql_out)
			rc = pl_err_nomem(err);
	}
	pl_buf_dispose(out);
	return rc;
}

typedef int (*rewrite_fn)(planar_conn *, const pl_toks *, char **, pl_strv *, pl_err *);

/* Replaces AT (...) references and change-feed calls by temporary views; st then holds the
 * rewritten statement (texts kept in `texts` until the statement ends). */
static int rewrite_views(pl_stmt *st, pl_strv *texts, pl_strv *views, pl_err *err)
{
	static const rewrite_fn steps[] = {pl_settings_rewrite,   pl_lakefn_rewrite, pl_flush_rewrite, pl_search_rewrite,
					   pl_timetravel_rewrite, pl_changefeed_rewrite, pl_rowid_rewrite,
					   pl_metadata_rewrite,   pl_prune_rewrite,  pl_compact_rewrite};
	for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
		char *sql = NULL;
		int rc = steps[k](st->conn, &st->toks, &sql, views, err);
		if (rc)
			return rc;
		if (!sql)
			continue;
		if (pl_strv_push_owned(texts, sql))
			return pl_err_nomem(err);
		pl_toks_dispose(&st->toks);
		st->sql = sql;
		rc = pl_lex(&st->toks, sql, err);
		if (rc)
			return rc;
	}
	return 0;
}

/* Planar's internal objects (functions, views, temporary tables) are named __planar_*: a user
 * statement naming one is refused, so it can neither call them nor create objects they would
 * collide with. __planar_cat exists only for the test scripts (see functions.c); __planar_rows
 * reads only row sources `planar serve` registers under ids it never shows before removing them
 * (service_rows.c), and its query route refuses every __ name itself. */
static int check_reserved_names(const pl_toks *t, pl_err *err)
{
	for (size_t i = 0; i < t->len; i++) {
		if (t->items[i].kind != PL_TOK_WORD && t->items[i].kind != PL_TOK_QIDENT)
			continue;
		/* a bare word is its own text: only quoted names need unquoting to be checked */
		if (t->items[i].kind == PL_TOK_WORD &&
		    (t->items[i].len < 9 || strncasecmp(t->src + t->items[i].start, "__planar_", 9) != 0))
			continue;
		char *w = pl_tok_ident(t, i);
		if (!w)
			return pl_err_nomem(err);
		bool reserved = pl_name_is_reserved(w) && !pl_str_ieq(w, "__planar_cat") && !pl_str_ieq(w, "__planar_rows");
		int rc = reserved ? pl_err_set(err, PL_EINVALID,
					       "Catalog Error: \"%s\": names starting with \"__planar_\" are reserved for "
					       "Planar's internal objects", w)
				  : 0;
		free(w);
		if (rc)
			return rc;
	}
	return 0;
}

/* Errors DuckDB raised on statements Planar rewrote may quote the rewritten text or name internal
 * objects: the quoted text goes, and an internal name becomes a neutral one. */
static void scrub_internal_names(pl_err *err)
{
	char *at = strstr(err->msg, "__planar_");
	if (!at)
		return;
	char *line = strstr(err->msg, "\nLINE ");
	if (line) {
		*line = '\0';
		while (line > err->msg && line[-1] == '\n')
			*--line = '\0';
	}
	/* lines after the first that name internal objects (candidate bindings and the like) go */
	for (char *nl = strchr(err->msg, '\n'); nl;) {
		char *next = strchr(nl + 1, '\n');
		size_t len = next ? (size_t)(next - nl) : strlen(nl);
		char saved = nl[len];
		nl[len] = '\0';
		bool internal = strstr(nl, "__planar_") != NULL;
		nl[len] = saved;
		if (internal)
			memmove(nl, nl + len, strlen(nl + len) + 1);
		else
			nl = next;
	}
	while ((at = strstr(err->msg, "__planar_")) != NULL) {
		char *end = at + strlen("__planar_");
		while (*end == '_' || (*end >= 'a' && *end <= 'z') || (*end >= '0' && *end <= '9'))
			end++;
		char name[PL_ERR_MSG_MAX];
		snprintf(name, sizeof(name), "%.*s", (int)(end - at), at);
		pl_err_replace(err, name, "(internal)");
	}
}

/* A lake's files load when DuckDB binds its view; an error of the catalog database there comes
 * back with DuckDB's "Binder Error: " in front, which would hide that the catalog is the cause. */
static void unwrap_catalog_error(pl_err *err)
{
	static const char prefix[] = "Binder Error: ";
	size_t n = sizeof(prefix) - 1;
	if (strncmp(err->msg, prefix, n) != 0)
		return;
	const char *rest = err->msg + n;
	if (strncmp(rest, "catalog database ", 17) == 0 || strncmp(rest, "cannot connect to catalog database ", 35) == 0)
		memmove(err->msg, rest, strlen(rest) + 1);
}

/* A statement that only reads and names no lake: while another session holds the lakes (a long
 * write), it runs at once on the lakes' views as they are, without waiting to refresh them. */
static bool may_skip_lakes(pl_stmt *st)
{
	static const char *const reads[] = {"SELECT", "FROM", "VALUES", "WITH", "SHOW", "DESCRIBE", "SUMMARIZE",
					    "EXPLAIN", NULL};
	static const char *const catalog_fns[] = {"duckdb_tables", "duckdb_views", "rowid", NULL};
	const pl_toks *t = &st->toks;
	bool read = false;
	if (st->conn->in_txn || t->len == 0)
		return false;
	for (const char *const *w = reads; *w; w++)
		read = read || pl_tok_is(t, 0, *w);
	size_t body = skip_cte_list(t, pl_tok_is(t, 0, "EXPLAIN") ? 1 + pl_tok_is(t, 1, "ANALYZE") : 0);
	if (!read || pl_tok_is(t, body, "INSERT") || pl_tok_is(t, body, "UPDATE") || pl_tok_is(t, body, "DELETE") ||
	    pl_tok_is(t, body, "MERGE"))
		return false;
	for (size_t i = 0; i < t->len; i++)
		for (const char *const *w = catalog_fns; *w; w++)
			if (pl_tok_is(t, i, *w))
				return false;
	char *cur_db = NULL, *cur_schema = NULL;
	pl_err ignored = {0};
	bool skip = pl_session_location(st, &cur_db, &cur_schema, &ignored) == 0 &&
		    !pl_db_statement_names_lake(st->conn->db, t, cur_db);
	free(cur_db);
	free(cur_schema);
	return skip;
}

/* Runs the lexed statement st. */
static int run_statement(pl_stmt *stp, planar_result **out, pl_err *err)
{
	pl_stmt st = *stp; /* (the view rewrite may replace its tokens: given back at the end) */
	planar_conn *conn = st.conn;
	pl_strv views = PL_STRV_INIT, texts = PL_STRV_INIT;
	bool handled = false;
	planar_db *db = conn->db;
	int rc;
	pl_s3lake_release_pins(); /* the S3 cache files the thread's previous statement read */
	/* S3 secrets (CREATE/DROP SECRET, duckdb_secrets()): Planar keeps them */
	rc = pl_secret_route(&st, out, err, &handled);
	if (rc || handled) {
		if (rc)
			pl_secret_scrub(err->msg);
		*stp = st;
		return rc;
	}
	/* CHECKPOINT of a lake: its upkeep functions, each a statement of its own (sql/checkpoint.c) */
	rc = pl_checkpoint_route(&st, out, err, &handled);
	if (rc || handled) {
		if (rc)
			scrub_internal_names(err);
		*stp = st;
		return rc;
	}
	if (pthread_mutex_trylock(&db->lock) != 0) {
		if (may_skip_lakes(&st)) {
			rc = pl_exec_passthrough(conn, st.sql, out, err);
			if (rc)
				scrub_internal_names(err);
			*stp = st;
			return rc;
		}
		/* while another statement holds the lock: a query's parse tree for file pruning
		 * (sql/prune.c) */
		pl_prune_preparse(conn, &st.toks);
		pthread_mutex_lock(&db->lock);
	}
	__atomic_store_n(&db->lock_holder, conn, __ATOMIC_RELEASE);
	rc = pl_txn_check_usable(conn, &st, err);
	if (rc == 0)
		rc = refresh_lakes(&st, err);
	if (rc == 0 && db->nlakes > 0)
		rc = pl_metadata_catalogs(&st, out, err, &handled);
	if (rc == 0 && !handled)
		rc = pl_txn_enter(conn, &st.toks, err);
	if (rc == 0 && !handled && st.toks.len > 0) /* PREPARE / EXECUTE / DEALLOCATE of lake DML */
		rc = pl_sqlprep_route(&st, &texts, out, err, &handled);
	if (rc == 0 && !handled && db->nlakes > 0) {
		st.original = st.sql;
		/* a query goes to DuckDB as it is: its pruned views are made after the lock */
		conn->views_later = pl_tok_is(&st.toks, 0, "SELECT") || pl_tok_is(&st.toks, 0, "FROM");
		rc = rewrite_views(&st, &texts, &views, err);
	}
	if (rc == 0 && !handled && st.toks.len > 0)
		rc = dispatch(&st, out, err, &handled);
	pl_txn_leave(conn);
	__atomic_store_n(&db->lock_holder, NULL, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&db->lock);
	pl_prune_preparse_clear(conn);
	int vrc = pl_prune_make_views(conn, rc == 0 && !handled, err);
	rc = rc ? rc : vrc;
	if (rc == 0 && !handled)
		rc = pl_exec_passthrough(conn, st.sql, out, err);
	else if (rc == 0 && !*out && pl_tok_is(&st.toks, 0, "CREATE")) /* DuckDB's CREATE answers "Count", no row */
		rc = pl_result_from_sql(out, conn, "SELECT CAST(NULL AS BIGINT) AS \"Count\" WHERE false", err);
	else if (rc == 0 && !*out &&
		 (pl_tok_is(&st.toks, 0, "DROP") || pl_tok_is(&st.toks, 0, "ALTER") || pl_tok_is(&st.toks, 0, "COMMENT")))
		/* and its DROP, ALTER and COMMENT ON "Success", no row */
		rc = pl_result_from_sql(out, conn, "SELECT CAST(NULL AS BOOLEAN) AS \"Success\" WHERE false", err);
	if (rc && conn->in_txn)
		pl_txn_statement_failed(conn, err);
	if (rc) {
		scrub_internal_names(err);
		unwrap_catalog_error(err);
	}
	if (rc == 0) /* a stream reads its views until it is freed */
		pl_result_adopt_views(*out, &views);
	pl_timetravel_cleanup(conn, &views);
	pl_strv_dispose(&texts);
	*stp = st;
	return rc;
}

int pl_router_run(planar_conn *conn, const char *sql, planar_result **out, pl_err *err)
{
	pl_stmt st = {conn, sql, {0}, NULL, PL_EXPLAIN_NONE, NULL};
	int rc = pl_lex(&st.toks, sql, err);
	if (rc == 0)
		rc = check_reserved_names(&st.toks, err);
	bool keeps = rc == 0 && pl_stmt_keeps_location(&st.toks);
	if (rc == 0 && !keeps)
		conn->loc_known = false;
	if (rc == 0)
		rc = run_statement(&st, out, err);
	if (!keeps) /* USE, SET schema, ...: read the location again next time */
		conn->loc_known = false;
	pl_toks_dispose(&st.toks);
	return rc;
}
