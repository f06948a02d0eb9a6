/*
 * prepare.c -- prepared statements: planar_stmt of the C API, and the SQL statements PREPARE /
 * EXECUTE / DEALLOCATE for statements Planar executes itself (lake DML), which DuckDB cannot
 * prepare because lake tables are views in DuckDB.
 *
 * Queries are prepared by DuckDB at execute time (after the router brought the lakes up to date
 * and applied its rewrites), the statement being kept while its text stays the same, so DuckDB
 * rebinds it when the lake's views change. Every other statement is run through the router with
 * the parameter tokens replaced by SQL literals: a bound text becomes one escaped string
 * literal token, so values are never parsed as SQL.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "sql/changefeed.h"
#include "sql/lexer.h"
#include "sql/router.h"
#include "sql/session.h"

struct planar_stmt {
	planar_conn *conn;
	char *sql;
	pl_toks toks;
	bool render; /* run with literals in place of the parameters */
	size_t nparams;
	pl_param *params;
	pl_prep_cache cache;
};

typedef struct pl_sqlprep {
	char *name;
	char *body;
} pl_sqlprep;

/* ---- statement shapes -------------------------------------------------------------------------- */

/* Statements the engine prepares: queries that Planar passes through unchanged. */
static bool is_query(const pl_toks *t, size_t i)
{
	static const char *const kinds[] = {"SELECT", "FROM", "VALUES", "TABLE", "SHOW", "DESCRIBE",
					    "SUMMARIZE", "PIVOT", "UNPIVOT", NULL};
	if (pl_tok_is(t, i, "EXPLAIN"))
		i += 1 + pl_tok_is(t, i + 1, "ANALYZE");
	if (pl_tok_is_punct(t, i, "("))
		return true;
	if (pl_tok_is(t, i, "WITH")) {
		for (size_t k = i; k < t->len; k++) {
			if (pl_tok_is(t, k, "INSERT") || pl_tok_is(t, k, "UPDATE") || pl_tok_is(t, k, "DELETE") ||
			    pl_tok_is(t, k, "MERGE"))
				return false;
		}
		return true;
	}
	for (const char *const *k = kinds; *k; k++) {
		if (pl_tok_is(t, i, *k))
			return true;
	}
	return false;
}

/* Number of positional parameters of the tokens from `from` ($1.. or ?, not both, no names). */
static int count_params(const pl_toks *t, size_t from, size_t *out, pl_err *err)
{
	size_t max = 0, nq = 0;
	bool dollar = false;
	for (size_t i = from; i < t->len; i++) {
		if (t->items[i].kind != PL_TOK_PARAM)
			continue;
		const char *p = t->src + t->items[i].start;
		size_t len = t->items[i].len;
		if (len == 1 && p[0] == '?') {
			nq++;
			continue;
		}
		bool digits = len > 1 && p[0] == '$' && len < 8;
		for (size_t k = 1; digits && k < len; k++)
			digits = p[k] >= '0' && p[k] <= '9';
		if (!digits)
			return pl_err_set(err, PL_EUNSUPPORTED,
					  "parameter %.*s: only positional parameters ($1, $2, ... or ?) are supported",
					  (int)len, p);
		size_t n = (size_t)strtoul(p + 1, NULL, 10);
		if (n == 0)
			return pl_err_set(err, PL_EINVALID, "parameter $0: parameters are numbered from $1");
		dollar = true;
		max = n > max ? n : max;
	}
	if (dollar && nq)
		return pl_err_set(err, PL_EINVALID, "cannot mix ? and $n parameters in one statement");
	*out = dollar ? max : nq;
	return 0;
}

/* The statement text from token `from`, each parameter replaced by lits[n - 1]. */
static char *substitute(const pl_toks *t, size_t from, char *const *lits)
{
	pl_buf b = PL_BUF_INIT;
	size_t copied = from < t->len ? t->items[from].start : strlen(t->src), nq = 0;
	for (size_t i = from; i < t->len; i++) {
		const pl_tok *k = &t->items[i];
		if (k->kind != PL_TOK_PARAM)
			continue;
		const char *p = t->src + k->start;
		size_t n = p[0] == '?' ? ++nq : (size_t)strtoul(p + 1, NULL, 10);
		pl_buf_put(&b, t->src + copied, k->start - copied);
		pl_buf_putc(&b, ' ');
		pl_buf_puts(&b, lits[n - 1]);
		pl_buf_putc(&b, ' ');
		copied = k->start + k->len;
	}
	pl_buf_puts(&b, t->src + copied);
	return pl_buf_detach(&b);
}

/* ---- literals ----------------------------------------------------------------------------------- */

static char *render_param(const pl_param *p)
{
	pl_buf b = PL_BUF_INIT;
	char num[64];
	switch (p->kind) {
	case PL_PARAM_UNSET:
	case PL_PARAM_NULL: pl_buf_puts(&b, "NULL"); break;
	case PL_PARAM_BOOL: pl_buf_puts(&b, p->b ? "true" : "false"); break;
	case PL_PARAM_INT64: pl_buf_printf(&b, "CAST(%" PRId64 " AS BIGINT)", p->i); break;
	case PL_PARAM_DOUBLE:
		if (isnan(p->d))
			snprintf(num, sizeof(num), "nan");
		else if (isinf(p->d))
			snprintf(num, sizeof(num), "%sinf", p->d < 0 ? "-" : "");
		else
			snprintf(num, sizeof(num), "%.17g", p->d);
		pl_buf_printf(&b, "CAST('%s' AS DOUBLE)", num);
		break;
	case PL_PARAM_TEXT: pl_buf_put_literal(&b, p->text); break;
	case PL_PARAM_TIMESTAMP: pl_buf_printf(&b, "make_timestamp(CAST(%" PRId64 " AS BIGINT))", p->i); break;
	}
	return pl_buf_detach(&b);
}

static char *render_sql(planar_stmt *s)
{
	char **lits = calloc(s->nparams + 1, sizeof(char *));
	char *out = NULL;
	bool oom = !lits;
	for (size_t i = 0; !oom && i < s->nparams; i++)
		oom = !(lits[i] = render_param(&s->params[i]));
	if (!oom)
		out = substitute(&s->toks, 0, lits);
	for (size_t i = 0; lits && i < s->nparams; i++)
		free(lits[i]);
	free(lits);
	return out;
}

/* ---- planar_stmt --------------------------------------------------------------------------------- */

int planar_prepare(planar_conn *conn, const char *sql, planar_stmt **out)
{
	char **stmts = NULL;
	*out = NULL;
	pl_err_clear(&conn->err);
	int rc = pl_sql_split_script(&stmts, sql, &conn->err);
	size_t n = 0;
	while (rc == 0 && stmts[n])
		n++;
	if (rc == 0 && n != 1)
		rc = pl_err_set(&conn->err, PL_EINVALID, "a prepared statement is exactly one statement (got %zu)", n);
	planar_stmt *s = rc == 0 ? calloc(1, sizeof(*s)) : NULL;
	if (rc == 0 && !s)
		rc = pl_err_nomem(&conn->err);
	if (rc == 0) {
		s->conn = conn;
		s->sql = stmts[0];
		stmts[0] = NULL;
		rc = pl_lex(&s->toks, s->sql, &conn->err);
	}
	pl_strv_free(stmts);
	if (rc == 0)
		rc = count_params(&s->toks, 0, &s->nparams, &conn->err);
	if (rc == 0 && !(s->params = calloc(s->nparams + 1, sizeof(pl_param))))
		rc = pl_err_nomem(&conn->err);
	if (rc) {
		planar_stmt_free(s);
		return rc;
	}
	s->render = !is_query(&s->toks, 0) || pl_changefeed_present(&s->toks);
	*out = s;
	return 0;
}

size_t planar_stmt_param_count(const planar_stmt *stmt)
{
	return stmt ? stmt->nparams : 0;
}

static pl_param *param_at(planar_stmt *s, size_t idx)
{
	if (!s)
		return NULL;
	if (idx == 0 || idx > s->nparams) {
		pl_err_set(&s->conn->err, PL_EINVALID, "parameter index %zu out of range: the statement has %zu parameters%s",
			   idx, s->nparams, idx == 0 ? " (numbered from 1)" : "");
		return NULL;
	}
	pl_param *p = &s->params[idx - 1];
	free(p->text);
	memset(p, 0, sizeof(*p));
	pl_err_clear(&s->conn->err);
	return p;
}

int planar_stmt_bind_null(planar_stmt *stmt, size_t idx)
{
	pl_param *p = param_at(stmt, idx);
	if (!p)
		return PLANAR_EINVALID;
	p->kind = PL_PARAM_NULL;
	return 0;
}

int planar_stmt_bind_bool(planar_stmt *stmt, size_t idx, bool value)
{
	pl_param *p = param_at(stmt, idx);
	if (!p)
		return PLANAR_EINVALID;
	p->kind = PL_PARAM_BOOL;
	p->b = value;
	return 0;
}

int planar_stmt_bind_int64(planar_stmt *stmt, size_t idx, int64_t value)
{
	pl_param *p = param_at(stmt, idx);
	if (!p)
		return PLANAR_EINVALID;
	p->kind = PL_PARAM_INT64;
	p->i = value;
	return 0;
}

int planar_stmt_bind_double(planar_stmt *stmt, size_t idx, double value)
{
	pl_param *p = param_at(stmt, idx);
	if (!p)
		return PLANAR_EINVALID;
	p->kind = PL_PARAM_DOUBLE;
	p->d = value;
	return 0;
}

int planar_stmt_bind_timestamp(planar_stmt *stmt, size_t idx, int64_t micros)
{
	pl_param *p = param_at(stmt, idx);
	if (!p)
		return PLANAR_EINVALID;
	p->kind = PL_PARAM_TIMESTAMP;
	p->i = micros;
	return 0;
}

static bool valid_utf8(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		unsigned char c = s[i];
		size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
		if (n == 0 || i + n > len || (n == 2 && c < 0xC2))
			return false;
		uint32_t cp = n == 1 ? c : n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 0x07;
		for (size_t k = 1; k < n; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
			return false;
		i += n;
	}
	return true;
}

int planar_stmt_bind_text(planar_stmt *stmt, size_t idx, const char *text, size_t len)
{
	pl_param *p = param_at(stmt, idx);
	if (!p)
		return PLANAR_EINVALID;
	if (!text)
		return pl_err_set(&stmt->conn->err, PL_EINVALID, "parameter $%zu: text is NULL (bind NULL instead)", idx);
	if (memchr(text, '\0', len))
		return pl_err_set(&stmt->conn->err, PL_EINVALID, "parameter $%zu: text holds a NUL byte", idx);
	if (!valid_utf8((const unsigned char *)text, len))
		return pl_err_set(&stmt->conn->err, PL_EINVALID, "parameter $%zu: text is not valid UTF-8", idx);
	if (!(p->text = pl_strndup(text, len)))
		return pl_err_nomem(&stmt->conn->err);
	p->kind = PL_PARAM_TEXT;
	p->len = len;
	return 0;
}

int planar_stmt_clear_bindings(planar_stmt *stmt)
{
	if (!stmt)
		return PLANAR_EINVALID;
	for (size_t i = 0; i < stmt->nparams; i++) {
		free(stmt->params[i].text);
		memset(&stmt->params[i], 0, sizeof(pl_param));
	}
	return 0;
}

static int execute(planar_stmt *s, bool stream, planar_result **out)
{
	if (out)
		*out = NULL;
	if (!s)
		return PLANAR_EINVALID;
	planar_conn *conn = s->conn;
	pl_err_clear(&conn->err);
	for (size_t i = 0; i < s->nparams; i++) {
		if (s->params[i].kind == PL_PARAM_UNSET)
			return pl_err_set(&conn->err, PL_EINVALID, "parameter $%zu is not bound", i + 1);
	}
	pl_exec x = {.stream = stream};
	char *text = NULL;
	if (s->render) {
		if (!(text = render_sql(s)))
			return pl_err_nomem(&conn->err);
	} else {
		x.params = s->params;
		x.nparams = s->nparams;
		x.cache = &s->cache;
	}
	planar_result *res = NULL;
	pl_conn_begin_statement(conn);
	conn->exec = &x;
	int rc = pl_router_run(conn, text ? text : s->sql, &res, &conn->err);
	conn->exec = NULL;
	free(text);
	if (rc) {
		planar_result_free(res);
		if (!conn->err.msg[0])
			pl_err_set(&conn->err, rc, "statement failed");
		return rc;
	}
	if (out)
		*out = res;
	else
		planar_result_free(res);
	return 0;
}

int planar_stmt_execute(planar_stmt *stmt, planar_result **out)
{
	return execute(stmt, false, out);
}

int planar_stmt_execute_stream(planar_stmt *stmt, planar_result **out)
{
	return execute(stmt, true, out);
}

void planar_stmt_free(planar_stmt *stmt)
{
	if (!stmt)
		return;
	planar_stmt_clear_bindings(stmt);
	free(stmt->params);
	if (stmt->cache.prep)
		duckdb_destroy_prepare(&stmt->cache.prep);
	free(stmt->cache.sql);
	pl_toks_dispose(&stmt->toks);
	free(stmt->sql);
	free(stmt);
}

/* ---- PREPARE / EXECUTE / DEALLOCATE in SQL -------------------------------------------------------- */

static pl_sqlprep *find_sqlprep(planar_conn *conn, const char *name)
{
	for (size_t i = 0; i < conn->nsqlprep; i++) {
		if (pl_str_ieq(conn->sqlprep[i].name, name))
			return &conn->sqlprep[i];
	}
	return NULL;
}

static void remove_sqlprep(planar_conn *conn, pl_sqlprep *p)
{
	free(p->name);
	free(p->body);
	size_t i = (size_t)(p - conn->sqlprep);
	memmove(p, p + 1, (conn->nsqlprep - i - 1) * sizeof(*p));
	conn->nsqlprep--;
}

void pl_sqlprep_dispose(planar_conn *conn)
{
	while (conn->nsqlprep)
		remove_sqlprep(conn, &conn->sqlprep[conn->nsqlprep - 1]);
	free(conn->sqlprep);
	conn->sqlprep = NULL;
}

static int success(pl_stmt *st, planar_result **out, pl_err *err)
{
	return pl_result_from_sql(out, st->conn, "SELECT true AS \"Success\" LIMIT 0", err);
}

static int route_prepare(pl_stmt *st, planar_result **out, pl_err *err, bool *handled)
{
	const pl_toks *t = &st->toks;
	size_t i = 2;
	if (t->len < 2 || (t->items[1].kind != PL_TOK_WORD && t->items[1].kind != PL_TOK_QIDENT))
		return 0;
	if (pl_tok_is_punct(t, i, "(")) /* PREPARE name(types) AS ... */
		i = pl_tok_match_paren(t, i) + 1;
	if (!pl_tok_is(t, i, "AS") || i + 1 >= t->len)
		return 0;
	char *name = pl_tok_ident(t, 1);
	pl_toks body = {0};
	if (!name)
		return pl_err_nomem(err);
	int rc = pl_lex(&body, t->src + t->items[i + 1].start, err);
	size_t n = 0;
	pl_sqlprep *old = rc == 0 ? find_sqlprep(st->conn, name) : NULL;
	/* a query is prepared by DuckDB, unless it calls a change-feed function: Planar evaluates its
	 * bounds (which may be parameters) to make the feed, so it runs with the values in place */
	if (rc == 0 && is_query(&body, 0) && !pl_changefeed_present(&body)) {
		if (old) /* DuckDB's own PREPARE replaces it */
			remove_sqlprep(st->conn, old);
	} else if (rc == 0 && (rc = count_params(&body, 0, &n, err)) == 0) {
		char *text = pl_strdup(body.src);
		if (!text) {
			rc = pl_err_nomem(err);
		} else if (old) {
			free(old->body);
			old->body = text;
		} else {
			pl_sqlprep *p = realloc(st->conn->sqlprep, (st->conn->nsqlprep + 1) * sizeof(*p));
			if (!p) {
				free(text);
				rc = pl_err_nomem(err);
			} else {
				st->conn->sqlprep = p;
				p[st->conn->nsqlprep++] = (pl_sqlprep){name, text};
				name = NULL;
			}
		}
		*handled = true;
		if (rc == 0)
			rc = success(st, out, err);
	}
	pl_toks_dispose(&body);
	free(name);
	return rc;
}

/* Evaluates EXECUTE's argument expressions to literals: CAST('text' AS type), NULL, or a string
 * literal for VARCHAR (which DuckDB casts to the type the statement needs, as for parameters). */
static int eval_args(pl_stmt *st, size_t open, size_t close, char ***lits_out, size_t *n_out, pl_err *err)
{
	const pl_toks *t = &st->toks;
	pl_buf q = PL_BUF_INIT;
	size_t n = 0, start = open + 1;
	pl_buf_puts(&q, "SELECT ");
	int depth = 0;
	for (size_t i = open + 1; i <= close && close > open + 1; i++) {
		if (i < close && (pl_tok_is_punct(t, i, "(") || pl_tok_is_punct(t, i, "[") || pl_tok_is_punct(t, i, "{")))
			depth++;
		else if (i < close && (pl_tok_is_punct(t, i, ")") || pl_tok_is_punct(t, i, "]") || pl_tok_is_punct(t, i, "}")))
			depth--;
		else if (i == close || (depth == 0 && pl_tok_is_punct(t, i, ","))) {
			if (i == start)
				return pl_err_set(err, PL_EINVALID, "EXECUTE: empty argument");
			size_t a = t->items[start].start, e = t->items[i - 1].start + t->items[i - 1].len;
			pl_buf_printf(&q, "%sCAST((%.*s) AS VARCHAR), typeof((%.*s))", n ? ", " : "", (int)(e - a),
				      t->src + a, (int)(e - a), t->src + a);
			n++;
			start = i + 1;
		}
	}
	*n_out = n;
	*lits_out = NULL;
	if (n == 0) {
		pl_buf_dispose(&q);
		return 0;
	}
	duckdb_result res;
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query(st->conn->con, q.ptr, &res, err);
	pl_buf_dispose(&q);
	if (rc)
		return rc;
	char **lits = calloc(n + 1, sizeof(char *));
	bool oom = !lits;
	for (size_t k = 0; !oom && k < n; k++) {
		char *v = pl_engine_value_str(&res, 2 * k, 0, &oom);
		char *type = pl_engine_value_str(&res, 2 * k + 1, 0, &oom);
		pl_buf b = PL_BUF_INIT;
		if (!v)
			pl_buf_puts(&b, "NULL");
		else if (type && strcmp(type, "VARCHAR") == 0)
			pl_buf_put_literal(&b, v);
		else {
			pl_buf_puts(&b, "CAST(");
			pl_buf_put_literal(&b, v);
			pl_buf_printf(&b, " AS %s)", type ? type : "VARCHAR");
		}
		free(v);
		free(type);
		oom = oom || !(lits[k] = pl_buf_detach(&b));
	}
	duckdb_destroy_result(&res);
	if (oom) {
		pl_strv_free(lits);
		return pl_err_nomem(err);
	}
	*lits_out = lits;
	return 0;
}

static int route_execute(pl_stmt *st, pl_strv *texts, pl_err *err)
{
	const pl_toks *t = &st->toks;
	if (t->len < 2 || (t->items[1].kind != PL_TOK_WORD && t->items[1].kind != PL_TOK_QIDENT))
		return 0;
	char *name = pl_tok_ident(t, 1);
	if (!name)
		return pl_err_nomem(err);
	pl_sqlprep *p = find_sqlprep(st->conn, name);
	free(name);
	if (!p)
		return 0;
	size_t open = 2, close = 2;
	if (pl_tok_is_punct(t, 2, "(")) {
		close = pl_tok_match_paren(t, 2);
		if (close >= t->len || close + 1 != t->len)
			return pl_err_set(err, PL_EINVALID, "syntax error in EXECUTE: expected EXECUTE name(arguments)");
	} else if (t->len != 2) {
		return pl_err_set(err, PL_EINVALID, "syntax error in EXECUTE: expected EXECUTE name(arguments)");
	}
	pl_toks body = {0};
	size_t want = 0, n = 0;
	char **lits = NULL;
	int rc = pl_lex(&body, p->body, err);
	if (rc == 0)
		rc = count_params(&body, 0, &want, err);
	if (rc == 0)
		rc = open == close ? 0 : eval_args(st, open, close, &lits, &n, err);
	if (rc == 0 && n != want)
		rc = pl_err_set(err, PL_EINVALID, "EXECUTE %s: the statement has %zu parameters, %zu arguments were given",
				p->name, want, n);
	char *sql = NULL;
	if (rc == 0 && !(sql = substitute(&body, 0, lits)))
		rc = pl_err_nomem(err);
	pl_strv_free(lits);
	pl_toks_dispose(&body);
	if (rc)
		return rc;
	if (pl_strv_push_owned(texts, sql))
		return pl_err_nomem(err);
	pl_toks_dispose(&st->toks);
	st->sql = sql;
	return pl_lex(&st->toks, sql, err);
}

int pl_sqlprep_route(pl_stmt *st, pl_strv *texts, planar_result **out, pl_err *err, bool *handled)
{
	const pl_toks *t = &st->toks;
	if (pl_tok_is(t, 0, "PREPARE"))
		return route_prepare(st, out, err, handled);
	if (pl_tok_is(t, 0, "EXECUTE"))
		return route_execute(st, texts, err);
	if (!pl_tok_is(t, 0, "DEALLOCATE") || st->conn->nsqlprep == 0)
		return 0;
	size_t i = 1 + pl_tok_is(t, 1, "PREPARE");
	if (i + 1 != t->len)
		return 0;
	char *name = pl_tok_ident(t, i);
	if (!name)
		return pl_err_nomem(err);
	pl_sqlprep *p = find_sqlprep(st->conn, name);
	free(name);
	if (!p)
		return 0;
	remove_sqlprep(st->conn, p);
	*handled = true;
	return success(st, out, err);
}
