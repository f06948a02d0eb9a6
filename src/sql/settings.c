/*
 * settings.c -- DuckLake's DuckDB settings, which Planar keeps itself (DuckDB's C API cannot
 * register settings):
 *   ducklake_max_retry_count (UBIGINT, 10)     attempts of a commit that lost a race
 *   ducklake_retry_wait_ms (UBIGINT, 100)      first wait between attempts (random factor 0.5-1)
 *   ducklake_retry_backoff (DOUBLE, 1.5)       factor of each later wait
 *   ducklake_default_data_inlining_row_limit (UBIGINT, 10)  inlining limit when no lake option
 *                                              or ATTACH option gives one
 *   ducklake_target_file_size (VARCHAR, NULL)  a size that overrides the lake's target_file_size
 *   ducklake_write_deletion_vectors (BOOLEAN, false)  the WRITE_DELETION_VECTORS of lakes
 *                                              attached afterwards that do not give it
 * `SET [GLOBAL] name = value` sets the global value (as DuckLake's settings are global by
 * default), `SET SESSION name = value` the session's, which wins; `RESET [GLOBAL] name` clears
 * the global value, `RESET SESSION name` the session's. Values are checked when set.
 * current_setting('ducklake_...') is rewritten into the value it has for the session.
 */
#include "sql/settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "sql/lake.h"
#include "sql/router.h"

typedef enum value_kind { KIND_UBIGINT, KIND_DOUBLE, KIND_SIZE, KIND_BOOL } value_kind;

static const struct {
	const char *name;
	value_kind kind;
	const char *fallback; /* NULL: NULL */
} settings[PL_SET_COUNT] = {
	[PL_SET_MAX_RETRY_COUNT] = {"ducklake_max_retry_count", KIND_UBIGINT, "10"},
	[PL_SET_RETRY_WAIT_MS] = {"ducklake_retry_wait_ms", KIND_UBIGINT, "100"},
	[PL_SET_RETRY_BACKOFF] = {"ducklake_retry_backoff", KIND_DOUBLE, "1.5"},
	[PL_SET_DEFAULT_INLINE_LIMIT] = {"ducklake_default_data_inlining_row_limit", KIND_UBIGINT, "10"},
	[PL_SET_TARGET_FILE_SIZE] = {"ducklake_target_file_size", KIND_SIZE, NULL},
	[PL_SET_WRITE_DELETION_VECTORS] = {"ducklake_write_deletion_vectors", KIND_BOOL, "false"},
};

static const char *const sql_types[] = {[KIND_UBIGINT] = "UBIGINT", [KIND_DOUBLE] = "DOUBLE",
					[KIND_SIZE] = "VARCHAR", [KIND_BOOL] = "BOOLEAN"};

static int find_setting(const char *name)
{
	for (int i = 0; i < PL_SET_COUNT; i++)
		if (pl_str_ieq(settings[i].name, name))
			return i;
	return -1;
}

const char *pl_setting_value(planar_conn *conn, pl_setting_id id)
{
	unsigned bit = 1u << id;
	if (conn->settings.set & bit)
		return conn->settings.text[id];
	if (conn->db->settings.set & bit)
		return conn->db->settings.text[id];
	return settings[id].fallback;
}

bool pl_setting_is_set(planar_conn *conn, pl_setting_id id)
{
	return ((conn->settings.set | conn->db->settings.set) & (1u << id)) != 0;
}

static int64_t value_int(planar_conn *conn, pl_setting_id id)
{
	const char *v = pl_setting_value(conn, id);
	return v ? strtoll(v, NULL, 10) : 0;
}

void pl_setting_retry(planar_conn *conn, pl_retry_policy *out)
{
	*out = (pl_retry_policy){0};
	if (!pl_setting_is_set(conn, PL_SET_MAX_RETRY_COUNT) && !pl_setting_is_set(conn, PL_SET_RETRY_WAIT_MS) &&
	    !pl_setting_is_set(conn, PL_SET_RETRY_BACKOFF))
		return; /* Planar's own policy */
	out->set = true;
	out->max_retry_count = value_int(conn, PL_SET_MAX_RETRY_COUNT);
	out->wait_ms = value_int(conn, PL_SET_RETRY_WAIT_MS);
	const char *b = pl_setting_value(conn, PL_SET_RETRY_BACKOFF);
	out->backoff = b ? strtod(b, NULL) : 1.5;
}

/* Evaluates the value expression of a SET in DuckDB as the setting's type; *text receives it as
 * current_setting shows it. */
static int evaluate(planar_conn *conn, int id, const char *expr, size_t len, char text[32], pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	char *v = NULL;
	value_kind kind = settings[id].kind;
	pl_buf_printf(&q, "SELECT CAST(CAST((%.*s) AS %s) AS VARCHAR)", (int)len, expr, sql_types[kind]);
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query_value(conn->con, q.ptr, &v, err);
	pl_buf_dispose(&q);
	if (rc)
		return rc;
	int64_t size = 0;
	if (!v)
		rc = pl_err_set(err, PL_EINVALID, "Invalid Input Error: %s cannot be NULL", settings[id].name);
	else if (kind == KIND_DOUBLE && !(strtod(v, NULL) >= 1.0))
		rc = pl_err_set(err, PL_EINVALID, "Invalid Input Error: %s must be at least 1, not %s", settings[id].name, v);
	else if (kind == KIND_SIZE && *v && !pl_parse_byte_size(v, &size))
		rc = pl_err_set(err, PL_EINVALID, "Invalid Input Error: %s takes a size above 0 such as '128MB', not '%s'",
				settings[id].name, v);
	else if (strlen(v) >= 32)
		rc = pl_err_set(err, PL_EINVALID, "Invalid Input Error: value of %s is too long", settings[id].name);
	else
		snprintf(text, 32, "%s", v);
	free(v);
	return rc;
}

/* SET [GLOBAL|SESSION|LOCAL] ducklake_... (=|TO) value, RESET [GLOBAL|SESSION|LOCAL] ducklake_... */
int pl_handle_set(pl_stmt *st, planar_result **out, pl_err *err, bool *handled)
{
	const pl_toks *t = &st->toks;
	bool reset = pl_tok_is(t, 0, "RESET");
	size_t i = 1;
	bool session = false;
	if (pl_tok_is(t, i, "SESSION") || pl_tok_is(t, i, "LOCAL"))
		session = true, i++;
	else if (pl_tok_is(t, i, "GLOBAL"))
		i++;
	if (i >= t->len || (t->items[i].kind != PL_TOK_WORD && t->items[i].kind != PL_TOK_QIDENT))
		return 0;
	char *name = pl_tok_ident(t, i);
	if (!name)
		return pl_err_nomem(err);
	int id = find_setting(name);
	free(name);
	if (id < 0)
		return 0;
	*handled = true;
	pl_settings *scope = session ? &st->conn->settings : &st->conn->db->settings;
	i++;
	if (reset) {
		if (i != t->len)
			return pl_err_set(err, PL_EINVALID, "Parser Error: syntax error after RESET %s", settings[id].name);
		scope->set &= ~(1u << id);
	} else {
		if (pl_tok_is_punct(t, i, "=") || pl_tok_is(t, i, "TO"))
			i++;
		if (i >= t->len)
			return pl_err_set(err, PL_EINVALID, "Parser Error: SET %s needs a value", settings[id].name);
		if (pl_tok_is(t, i, "DEFAULT") && i + 1 == t->len) {
			scope->set &= ~(1u << id);
		} else {
			size_t a = t->items[i].start, b = t->items[t->len - 1].start + t->items[t->len - 1].len;
			char text[32];
			int rc = evaluate(st->conn, id, t->src + a, b - a, text, err);
			if (rc)
				return rc;
			memcpy(scope->text[id], text, sizeof(text));
			scope->set |= 1u << id;
		}
	}
	(void)out; /* like DuckDB's SET: no result */
	return 0;
}

/* current_setting('ducklake_...') -> the value, typed as DuckDB's extension types it. */
int pl_settings_rewrite(planar_conn *conn, const pl_toks *t, char **sql_out, pl_strv *views, pl_err *err)
{
	(void)views;
	pl_buf out = PL_BUF_INIT;
	size_t copied = 0;
	bool changed = false;
	*sql_out = NULL;
	for (size_t i = 0; i + 3 < t->len; i++) {
		if (!pl_tok_is(t, i, "current_setting") || !pl_tok_is_punct(t, i + 1, "(") ||
		    t->items[i + 2].kind != PL_TOK_STRING || !pl_tok_is_punct(t, i + 3, ")"))
			continue;
		char *name = pl_tok_string(t, i + 2);
		if (!name)
			return pl_err_nomem(err);
		int id = find_setting(name);
		free(name);
		if (id < 0)
			continue;
		const char *v = pl_setting_value(conn, (pl_setting_id)id);
		pl_buf_put(&out, t->src + copied, t->items[i].start - copied);
		pl_buf_puts(&out, "CAST(");
		if (v)
			pl_buf_put_literal(&out, v);
		else
			pl_buf_puts(&out, "NULL");
		pl_buf_printf(&out, " AS %s)", sql_types[settings[id].kind]);
		copied = t->items[i + 3].start + 1;
		changed = true;
		i += 3;
	}
	return pl_rewrite_finish(&out, t, copied, changed, 0, sql_out, err);
}
