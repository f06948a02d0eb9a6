/*
 * call.c -- CALL statements that manage a lake:
 *   CALL lake.set_option('name', value [, schema => 's'] [, table_name => 't'])
 *   CALL ducklake_set_option('lake', 'name', value [, ...])
 * Options live in ducklake_metadata with the spec's global, schema and table scopes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "sql/lake.h"
#include "sql/router.h"
#include "sql/transaction.h"

#define MAX_ARGS 8

typedef struct call_args {
	char *pos[MAX_ARGS];
	size_t npos;
	char *named_keys[MAX_ARGS], *named_vals[MAX_ARGS];
	size_t nnamed;
} call_args;

static void args_dispose(call_args *a)
{
	for (size_t i = 0; i < a->npos; i++)
		free(a->pos[i]);
	for (size_t i = 0; i < a->nnamed; i++) {
		free(a->named_keys[i]);
		free(a->named_vals[i]);
	}
}

static char *literal_value(const pl_toks *t, size_t i)
{
	if (t->items[i].kind == PL_TOK_STRING)
		return pl_tok_string(t, i);
	return pl_strndup(t->src + t->items[i].start, t->items[i].len);
}

/* Arguments between the parentheses at `open`: literals, and name => literal. */
static int parse_args(const pl_toks *t, size_t open, call_args *a, pl_err *err)
{
	size_t close = pl_tok_match_paren(t, open);
	if (close >= t->len || close + 1 != t->len)
		return pl_err_set(err, PL_EINVALID, "syntax error in CALL arguments");
	for (size_t i = open + 1; i < close;) {
		bool named = i + 3 < close + 1 && pl_tok_is_punct(t, i + 1, "=") && pl_tok_is_punct(t, i + 2, ">");
		size_t v = named ? i + 3 : i;
		if (v >= close || (a->npos >= MAX_ARGS || a->nnamed >= MAX_ARGS))
			return pl_err_set(err, PL_EINVALID, "syntax error in CALL arguments");
		char *val = literal_value(t, v);
		if (!val)
			return pl_err_nomem(err);
		if (named) {
			a->named_keys[a->nnamed] = pl_tok_ident(t, i);
			a->named_vals[a->nnamed++] = val;
		} else {
			a->pos[a->npos++] = val;
		}
		i = v + 1;
		if (i < close && !pl_tok_is_punct(t, i++, ","))
			return pl_err_set(err, PL_EINVALID, "CALL arguments must be literals");
	}
	return 0;
}

static const char *named(const call_args *a, const char *key)
{
	for (size_t i = 0; i < a->nnamed; i++)
		if (a->named_keys[i] && pl_str_ieq(a->named_keys[i], key))
			return a->named_vals[i];
	return NULL;
}

static int set_option(pl_lake *lake, const char *key, const char *value, const call_args *a, pl_err *err)
{
	const char *schema = named(a, "schema"), *table = named(a, "table_name");
	const char *scope = NULL;
	int64_t scope_id = -1;
	const pl_schema *s = pl_model_schema(lake->model, schema ? schema : "main");
	if (table) {
		const pl_table *t = s ? pl_model_table(lake->model, s->id, table) : NULL;
		if (!t)
			return pl_err_set(err, PL_ENOTFOUND, "Catalog Error: Table with name %s does not exist!", table);
		scope = "table", scope_id = t->id;
	} else if (schema) {
		if (!s)
			return pl_err_set(err, PL_ENOTFOUND, "Catalog Error: Schema with name %s does not exist!", schema);
		scope = "schema", scope_id = s->id;
	}
	pl_catdb *db = lake->cat;
	pl_val del[] = {PL_VTEXT(key), PL_VTEXT(scope), PL_VTEXT(scope), PL_VOPTINT(scope_id)};
	pl_val ins[] = {PL_VTEXT(key), PL_VTEXT(value), PL_VTEXT(scope), PL_VOPTINT(scope_id)};
	int rc = db->ops->begin(db, err);
	if (rc == 0)
		rc = pl_catdb_exec(db, "DELETE FROM ducklake_metadata WHERE \"key\" = ? AND ((CAST(? AS VARCHAR) IS NULL AND \"scope\" IS NULL) "
				       "OR (\"scope\" = ? AND scope_id = ?))", del, 4, err);
	if (rc == 0)
		rc = pl_catdb_exec(db, "INSERT INTO ducklake_metadata (\"key\", \"value\", \"scope\", scope_id) VALUES (?, ?, ?, ?)",
				   ins, 4, err);
	if (rc == 0)
		rc = db->ops->commit(db, err);
	if (rc) {
		pl_err saved = *err;
		db->ops->rollback(db, err);
		*err = saved;
	}
	return rc;
}

/* Which procedure a CALL names: `ducklake_<proc>('lake', ...)` or `lake.<proc>(...)`. */
static bool names_proc(const pl_toks *t, const char *proc, bool *qualified)
{
	char full[64];
	snprintf(full, sizeof(full), "ducklake_%s", proc);
	if (pl_tok_is(t, 1, full) && pl_tok_is_punct(t, 2, "(")) {
		*qualified = false;
		return true;
	}
	*qualified = true;
	return t->len > 4 && pl_tok_is_punct(t, 2, ".") && pl_tok_is(t, 3, proc) && pl_tok_is_punct(t, 4, "(");
}

/* CALL ...set_option / ...set_commit_message. Sets *handled. */
int pl_handle_call(pl_stmt *st, planar_result **out, pl_err *err, bool *handled)
{
	const pl_toks *t = &st->toks;
	planar_db *db = st->conn->db;
	call_args a = {0};
	pl_lake *lake = NULL;
	size_t open = 0, first = 0;
	bool qualified = false, message = false;
	(void)out;
	if (names_proc(t, "set_commit_message", &qualified))
		message = true;
	else if (!names_proc(t, "set_option", &qualified))
		return 0;
	if (!qualified) {
		open = 2, first = 1;
	} else {
		char *name = pl_tok_ident(t, 1);
		lake = name ? pl_db_find_lake(db, name) : NULL;
		free(name);
		if (!lake)
			return 0;
		open = 4;
	}
	*handled = true;
	int rc = parse_args(t, open, &a, err);
	if (rc == 0 && first && a.npos > 0 && !(lake = pl_db_find_lake(db, a.pos[0])))
		rc = pl_err_set(err, PL_ENOTFOUND, "no lake named \"%s\" is attached", a.pos[0]);
	if (rc == 0 && message) {
		if (a.npos != first + 2)
			rc = pl_err_set(err, PL_EINVALID, "set_commit_message takes an author and a message");
		else
			rc = pl_txn_set_commit_message(st->conn, a.pos[first], a.pos[first + 1], named(&a, "extra_info"), err);
		args_dispose(&a);
		return rc;
	}
	if (rc == 0 && a.npos != first + 2)
		rc = pl_err_set(err, PL_EINVALID, "set_option takes an option name and a value");
	if (rc == 0)
		rc = pl_lake_check_writable(lake, err);
	if (rc == 0)
		rc = set_option(lake, a.pos[first], a.pos[first + 1], &a, err);
	args_dispose(&a);
	return rc;
}
