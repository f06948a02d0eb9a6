/*
 * secret.c -- CREATE [OR REPLACE] [PERSISTENT | TEMPORARY] SECRET [IF NOT EXISTS] [name] (TYPE s3 | r2,
 * KEY_ID, SECRET, SESSION_TOKEN, ENDPOINT, REGION, URL_STYLE, USE_SSL, SCOPE [, PROVIDER config]),
 * DuckLake's (TYPE ducklake, METADATA_PATH, DATA_PATH, METADATA_SCHEMA, METADATA_CATALOG,
 * METADATA_PARAMETERS MAP {...}: where a lake is, for ATTACH 'ducklake:' and 'ducklake:name')
 * and DROP [PERSISTENT | TEMPORARY] SECRET [IF EXISTS] name for S3 secrets, kept by Planar
 * (storage/secrets.h: the engine has no S3 secret type); duckdb_secrets() shows them beside the
 * engine's own, with the secret key and session token redacted. Other secret types go to the
 * engine as they are.
 */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/str.h"
#include "sql/router.h"
#include "storage/secrets.h"

/* The value of an option: a string, a number, true/false or a bare word. NULL when missing. */
static char *option_value(const pl_toks *t, size_t *i)
{
	if (*i >= t->len)
		return NULL;
	const pl_tok *k = &t->items[*i];
	char *v = NULL;
	if (k->kind == PL_TOK_STRING)
		v = pl_tok_string(t, *i);
	else if (k->kind == PL_TOK_WORD || k->kind == PL_TOK_NUMBER || k->kind == PL_TOK_QIDENT)
		v = k->kind == PL_TOK_NUMBER ? pl_strndup(t->src + k->start, k->len) : pl_tok_ident(t, *i);
	else
		return NULL;
	(*i)++;
	return v;
}

static int bool_value(const char *name, const char *v, bool *out, pl_err *err)
{
	if (pl_str_ieq(v, "true") || strcmp(v, "1") == 0)
		*out = true;
	else if (pl_str_ieq(v, "false") || strcmp(v, "0") == 0)
		*out = false;
	else
		return pl_err_set(err, PL_EINVALID, "CREATE SECRET: %s needs true or false", name);
	return 0;
}

static int set_option(pl_secret_def *d, const char *name, char *v, pl_err *err)
{
	char **dst = NULL;
	int rc = 0;
	if (strchr(v, '\n') || strchr(v, '\r'))
		rc = pl_err_set(err, PL_EINVALID, "CREATE SECRET: %s may not contain a line break", name);
	else if (pl_str_ieq(name, "TYPE"))
		dst = &d->type;
	else if (pl_str_ieq(name, "KEY_ID"))
		dst = &d->cfg.key_id;
	else if (pl_str_ieq(name, "SECRET"))
		dst = &d->cfg.secret;
	else if (pl_str_ieq(name, "SESSION_TOKEN"))
		dst = &d->cfg.session_token;
	else if (pl_str_ieq(name, "ENDPOINT"))
		dst = &d->cfg.endpoint;
	else if (pl_str_ieq(name, "REGION"))
		dst = &d->cfg.region;
	else if (pl_str_ieq(name, "SCOPE"))
		dst = &d->scope;
	else if (pl_str_ieq(name, "METADATA_PATH"))
		dst = &d->lake.metadata_path;
	else if (pl_str_ieq(name, "DATA_PATH"))
		dst = &d->lake.data_path;
	else if (pl_str_ieq(name, "METADATA_SCHEMA"))
		dst = &d->lake.metadata_schema;
	else if (pl_str_ieq(name, "METADATA_CATALOG"))
		dst = &d->lake.metadata_catalog;
	else if (pl_str_ieq(name, "ENCRYPTED")) {
		bool on = false;
		rc = bool_value("ENCRYPTED", v, &on, err);
		if (rc == 0 && on)
			rc = pl_err_set(err, PL_EUNSUPPORTED, "CREATE SECRET: ENCRYPTED lakes are not supported");
	}
	else if (pl_str_ieq(name, "URL_STYLE")) {
		if (pl_str_ieq(v, "path") || pl_str_ieq(v, "vhost") || pl_str_ieq(v, "virtual"))
			d->cfg.path_style = pl_str_ieq(v, "path"), d->url_style_set = true;
		else
			rc = pl_err_set(err, PL_EINVALID, "CREATE SECRET: URL_STYLE must be 'path' or 'vhost'");
	} else if (pl_str_ieq(name, "USE_SSL")) {
		rc = bool_value("USE_SSL", v, &d->cfg.use_ssl, err);
		d->use_ssl_set = true;
	} else if (pl_str_ieq(name, "PROVIDER")) {
		if (!pl_str_ieq(v, "config"))
			rc = pl_err_set(err, PL_EUNSUPPORTED, "CREATE SECRET: PROVIDER %s is not supported for S3 "
					"(give KEY_ID and SECRET: PROVIDER config)", v);
	} else if (pl_str_ieq(name, "ACCOUNT_ID")) { /* r2: the endpoint from the account */
		pl_buf b = PL_BUF_INIT;
		pl_buf_printf(&b, "%s.r2.cloudflarestorage.com", v);
		free(d->cfg.endpoint);
		d->cfg.endpoint = pl_buf_detach(&b);
		rc = d->cfg.endpoint ? 0 : pl_err_nomem(err);
	} else {
		rc = pl_err_set(err, PL_EINVALID, "CREATE SECRET: unknown parameter '%s'", name);
	}
	if (dst) {
		free(*dst);
		*dst = v;
		v = NULL;
	}
	if (v)
		memset(v, 0, strlen(v));
	free(v);
	return rc;
}

/* METADATA_PARAMETERS MAP {'key': 'value', ...} of a DuckLake secret: the parameters of the
 * catalog database's ATTACH; TYPE names its kind, the others do not apply to Planar's drivers. */
static int metadata_parameters(const pl_toks *t, size_t *i, pl_secret_def *d, pl_err *err)
{
	if (pl_tok_is(t, *i, "MAP"))
		(*i)++;
	if (!pl_tok_is_punct(t, *i, "{"))
		return pl_err_set(err, PL_EINVALID, "CREATE SECRET: METADATA_PARAMETERS needs a MAP {'name': 'value', ...}");
	for ((*i)++; *i < t->len && !pl_tok_is_punct(t, *i, "}");) {
		if (t->items[*i].kind != PL_TOK_STRING || !pl_tok_is_punct(t, *i + 1, ":") ||
		    *i + 2 >= t->len || t->items[*i + 2].kind != PL_TOK_STRING)
			return pl_err_set(err, PL_EINVALID, "CREATE SECRET: METADATA_PARAMETERS needs a MAP of strings");
		char *key = pl_tok_string(t, *i), *v = pl_tok_string(t, *i + 2);
		int rc = !key || !v ? pl_err_nomem(err) : 0;
		if (rc == 0 && pl_str_ieq(key, "TYPE")) {
			for (char *c = v; *c; c++)
				*c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
			free(d->lake.meta_type);
			d->lake.meta_type = v;
			v = NULL;
		}
		free(key);
		free(v);
		if (rc)
			return rc;
		*i += 3;
		if (pl_tok_is_punct(t, *i, ","))
			(*i)++;
	}
	if (*i >= t->len)
		return pl_err_set(err, PL_EINVALID, "CREATE SECRET: METADATA_PARAMETERS: unterminated MAP");
	(*i)++;
	return 0;
}

/* Whether the statement is CREATE ... SECRET with TYPE s3, r2 or ducklake; i gets the '(' of its options. */
static bool is_s3_create(const pl_toks *t, size_t *open_at, bool *replace, bool *persistent, bool *if_not_exists,
			 size_t *name_at)
{
	size_t i = 1;
	*replace = *persistent = *if_not_exists = false;
	*name_at = 0;
	if (pl_tok_is(t, i, "OR") && pl_tok_is(t, i + 1, "REPLACE"))
		*replace = true, i += 2;
	if (pl_tok_is(t, i, "PERSISTENT"))
		*persistent = true, i++;
	else if (pl_tok_is(t, i, "TEMPORARY") || pl_tok_is(t, i, "TEMP"))
		i++;
	if (!pl_tok_is(t, i, "SECRET"))
		return false;
	i++;
	if (pl_tok_is(t, i, "IF") && pl_tok_is(t, i + 1, "NOT") && pl_tok_is(t, i + 2, "EXISTS"))
		*if_not_exists = true, i += 3;
	if (i < t->len && !pl_tok_is_punct(t, i, "(") && !pl_tok_is(t, i, "IN"))
		*name_at = i++;
	if (pl_tok_is(t, i, "IN"))
		i += 2;
	if (!pl_tok_is_punct(t, i, "("))
		return false;
	*open_at = i;
	size_t end = pl_tok_match_paren(t, i);
	for (size_t k = i + 1; k + 1 < end && k + 1 < t->len; k++)
		if (pl_tok_is(t, k, "TYPE") &&
		    (pl_tok_is(t, k + 1, "s3") || pl_tok_is(t, k + 1, "r2") || pl_tok_is(t, k + 1, "ducklake")))
			return true;
	return false;
}

static int create_secret(pl_stmt *st, planar_result **out, pl_err *err, bool *handled)
{
	const pl_toks *t = &st->toks;
	size_t open_at = 0, name_at = 0;
	bool replace, persistent, if_not_exists;
	if (!is_s3_create(t, &open_at, &replace, &persistent, &if_not_exists, &name_at))
		return 0;
	*handled = true;
	if (if_not_exists && replace)
		return pl_err_set(err, PL_EINVALID, "CREATE SECRET: OR REPLACE and IF NOT EXISTS cannot be combined");
	pl_secret_def d;
	pl_secret_def_init(&d);
	d.persistent = persistent;
	int rc = 0;
	if (name_at && !(d.name = pl_tok_ident(t, name_at)))
		rc = pl_err_nomem(err);
	if (rc == 0 && d.name)
		rc = pl_name_check("secret", d.name, err);
	size_t end = pl_tok_match_paren(t, open_at);
	if (rc == 0 && end >= t->len)
		rc = pl_err_set(err, PL_EINVALID, "syntax error in CREATE SECRET: unbalanced parentheses");
	for (size_t i = open_at + 1; rc == 0 && i < end;) {
		char *name = pl_tok_ident(t, i++);
		bool map = name && pl_str_ieq(name, "METADATA_PARAMETERS");
		char *v = name && !map ? option_value(t, &i) : NULL;
		if (!name)
			rc = pl_err_nomem(err);
		else if (map)
			rc = metadata_parameters(t, &i, &d, err);
		else if (!v)
			rc = pl_err_set(err, PL_EINVALID, "CREATE SECRET: parameter %s needs a value", name);
		else
			rc = set_option(&d, name, v, err);
		free(name);
		if (rc == 0 && pl_tok_is_punct(t, i, ","))
			i++;
		else if (rc == 0 && i != end)
			rc = pl_err_set(err, PL_EINVALID, "syntax error in CREATE SECRET near \"%.*s\"",
					(int)t->items[i].len, t->src + t->items[i].start);
	}
	if (rc == 0 && end + 1 < t->len && !pl_tok_is_punct(t, end + 1, ";"))
		rc = pl_err_set(err, PL_EINVALID, "syntax error after CREATE SECRET's parameters");
	if (rc == 0 && d.type) {
		for (char *c = d.type; *c; c++)
			*c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
		if (strcmp(d.type, "r2") == 0) {
			if (!d.cfg.region)
				d.cfg.region = pl_strdup("auto");
			if (!d.url_style_set)
				d.cfg.path_style = true;
		}
	}
	/* an endpoint other than AWS's is reached with path-style URLs unless told otherwise, as
	 * for AWS_ENDPOINT_URL; a scheme in the endpoint decides TLS */
	bool lake = rc == 0 && d.type && strcmp(d.type, "ducklake") == 0;
	bool lake_opts = d.lake.metadata_path || d.lake.data_path || d.lake.metadata_schema || d.lake.metadata_catalog ||
			 d.lake.meta_type;
	if (rc == 0 && lake && (d.scope || d.cfg.key_id || d.cfg.secret || d.cfg.session_token || d.cfg.endpoint ||
				d.cfg.region || d.url_style_set || d.use_ssl_set))
		rc = pl_err_set(err, PL_EINVALID, "CREATE SECRET: a DuckLake secret takes METADATA_PATH, DATA_PATH, "
				"METADATA_SCHEMA, METADATA_CATALOG and METADATA_PARAMETERS, not S3 parameters");
	else if (rc == 0 && !lake && lake_opts)
		rc = pl_err_set(err, PL_EINVALID, "CREATE SECRET: METADATA_PATH, DATA_PATH, METADATA_SCHEMA, "
				"METADATA_CATALOG and METADATA_PARAMETERS are parameters of a TYPE ducklake secret");
	else if (rc == 0 && lake && !d.lake.metadata_path)
		rc = pl_err_set(err, PL_EINVALID, "CREATE SECRET: metadata_path must be defined when creating a DuckLake "
				"secret");
	if (rc == 0 && lake) {
		rc = pl_secret_create(&d, replace, if_not_exists, err);
		pl_secret_def_dispose(&d);
		return rc ? rc : pl_stmt_passthrough(st, "SELECT true AS \"Success\"", out, err);
	}
	if (rc == 0 && d.cfg.endpoint && !d.url_style_set && !strstr(d.cfg.endpoint, "amazonaws.com"))
		d.cfg.path_style = true;
	if (rc == 0 && d.cfg.endpoint && !d.use_ssl_set && pl_str_has_prefix_i(d.cfg.endpoint, "http://"))
		d.cfg.use_ssl = false;
	if (rc == 0 && d.scope && !pl_str_has_prefix_i(d.scope, "s3://") && !pl_str_has_prefix_i(d.scope, "r2://"))
		rc = pl_err_set(err, PL_EINVALID, "CREATE SECRET: SCOPE must be an s3:// path");
	if (rc == 0 && (!d.cfg.key_id) != (!d.cfg.secret))
		rc = pl_err_set(err, PL_EINVALID, "CREATE SECRET: an S3 secret needs both KEY_ID and SECRET");
	if (rc == 0)
		rc = pl_secret_create(&d, replace, if_not_exists, err);
	pl_secret_def_dispose(&d);
	if (rc == 0)
		rc = pl_stmt_passthrough(st, "SELECT true AS \"Success\"", out, err);
	return rc;
}

static int drop_secret(pl_stmt *st, planar_result **out, pl_err *err, bool *handled)
{
	const pl_toks *t = &st->toks;
	size_t i = 1;
	if (pl_tok_is(t, i, "PERSISTENT") || pl_tok_is(t, i, "TEMPORARY") || pl_tok_is(t, i, "TEMP"))
		i++;
	if (!pl_tok_is(t, i, "SECRET"))
		return 0;
	i++;
	bool if_exists = pl_tok_is(t, i, "IF") && pl_tok_is(t, i + 1, "EXISTS");
	if (if_exists)
		i += 2;
	if (i >= t->len)
		return 0;
	char *name = pl_tok_ident(t, i);
	if (!name)
		return pl_err_nomem(err);
	/* a secret Planar does not know is the engine's */
	pl_err probe = {0};
	int rc = pl_secret_drop(name, false, &probe);
	free(name);
	if (rc == PL_ENOTFOUND)
		return 0;
	*handled = true;
	if (rc) {
		*err = probe;
		return rc;
	}
	return pl_stmt_passthrough(st, "SELECT true AS \"Success\"", out, err);
}

/* Literal text of Planar's secrets as rows of duckdb_secrets(). */
static int put_rows(pl_buf *b, pl_err *err)
{
	pl_secret_row *rows = NULL;
	size_t n = 0;
	int rc = pl_secret_list(&rows, &n, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		pl_buf_puts(b, " UNION ALL SELECT ");
		pl_buf_put_literal(b, rows[i].name);
		pl_buf_puts(b, ", ");
		pl_buf_put_literal(b, rows[i].type);
		pl_buf_puts(b, ", ");
		pl_buf_put_literal(b, rows[i].provider);
		pl_buf_printf(b, ", %s, ", rows[i].persistent ? "true" : "false");
		pl_buf_put_literal(b, rows[i].storage);
		pl_buf_puts(b, ", [");
		if (rows[i].scope[0])
			pl_buf_put_literal(b, rows[i].scope);
		pl_buf_puts(b, "]::VARCHAR[], ");
		pl_buf_put_literal(b, rows[i].secret_string);
	}
	pl_secret_rows_free(rows, n);
	return 0;
}

/* duckdb_secrets(...) anywhere in a statement: the engine's rows and Planar's. */
static int rewrite_secrets_fn(pl_stmt *st, planar_result **out, pl_err *err, bool *handled)
{
	const pl_toks *t = &st->toks;
	bool any = false;
	for (size_t i = 0; i + 1 < t->len && !any; i++)
		any = pl_tok_is(t, i, "duckdb_secrets") && pl_tok_is_punct(t, i + 1, "(");
	if (!any)
		return 0;
	pl_buf rows = PL_BUF_INIT, sql = PL_BUF_INIT;
	int rc = put_rows(&rows, err);
	if (rc || rows.len == 0) {
		pl_buf_dispose(&rows);
		return rc;
	}
	size_t copied = 0;
	for (size_t i = 0; rc == 0 && i + 1 < t->len; i++) {
		if (!pl_tok_is(t, i, "duckdb_secrets") || !pl_tok_is_punct(t, i + 1, "("))
			continue;
		size_t end = pl_tok_match_paren(t, i + 1);
		if (end >= t->len)
			break;
		pl_buf_put(&sql, t->src + copied, t->items[i].start - copied);
		pl_buf_puts(&sql, "(SELECT * FROM ");
		pl_buf_put(&sql, t->src + t->items[i].start, t->items[end].start + 1 - t->items[i].start);
		pl_buf_put(&sql, rows.ptr, rows.len);
		pl_buf_putc(&sql, ')');
		copied = t->items[end].start + 1;
		i = end;
	}
	pl_buf_puts(&sql, t->src + copied);
	pl_buf_dispose(&rows);
	if (pl_buf_oom(&sql)) {
		pl_buf_dispose(&sql);
		return pl_err_nomem(err);
	}
	*handled = true;
	rc = pl_stmt_passthrough(st, sql.ptr, out, err);
	pl_buf_dispose(&sql);
	return rc;
}

int pl_secret_route(pl_stmt *st, planar_result **out, pl_err *err, bool *handled)
{
	const pl_toks *t = &st->toks;
	*handled = false;
	if (t->len == 0)
		return 0;
	if (pl_tok_is(t, 0, "CREATE"))
		return create_secret(st, out, err, handled);
	if (pl_tok_is(t, 0, "DROP"))
		return drop_secret(st, out, err, handled);
	if (pl_tok_is(t, 0, "SELECT") || pl_tok_is(t, 0, "FROM") || pl_tok_is(t, 0, "WITH"))
		return rewrite_secrets_fn(st, out, err, handled);
	return 0;
}
