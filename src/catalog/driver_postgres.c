/*
 * driver_postgres.c -- catalog driver for PostgreSQL over libpq: many processes and machines on
 * one lake. Writers serialize on a transaction-scoped advisory lock keyed by the catalog schema,
 * so a commit reads the latest snapshot and writes the next one without losing races; readers
 * never wait. A lost connection is re-established before the next statement (PQreset); the
 * statement in flight fails with PL_EIO. SQLSTATEs map to codes: 40001/40P01/23505 ->
 * PL_ECONFLICT, 55P03/57014 -> PL_EBUSY, class 08 -> PL_EIO.
 *
 * Location: a libpq connection string or postgresql:// URI; Planar also reads its own keyword
 * `metadata_schema=NAME` (the schema holding the catalog tables, created when missing) and
 * `password_env=VAR` (take the password from that environment variable).
 */
#include <ctype.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/driver.h"
#include "core/buf.h"
#include "core/str.h"

#define PG_BOOL_OID 16

typedef struct pg_catdb {
	pl_catdb base;
	PGconn *conn;
	char *conninfo; /* without Planar's own keywords */
	char *schema;   /* catalog schema */
	char *display;  /* for messages, no password */
} pg_catdb;

static int map_sqlstate(const char *state)
{
	if (!state)
		return PL_ECATALOG;
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 || strcmp(state, "23505") == 0)
		return PL_ECONFLICT;
	if (strcmp(state, "55P03") == 0 || strcmp(state, "57014") == 0)
		return PL_EBUSY;
	if (strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0)
		return PL_EIO;
	return PL_ECATALOG;
}

/* libpq messages span lines ("...\n\tThis probably means..."): one line, no trailing space. */
static void one_line(pl_err *err)
{
	char *w = err->msg;
	for (const char *r = err->msg; *r; r++) {
		char c = (*r == '\n' || *r == '\t') ? ' ' : *r;
		if (c == ' ' && (w == err->msg || w[-1] == ' '))
			continue;
		*w++ = c;
	}
	while (w > err->msg && w[-1] == ' ')
		w--;
	*w = '\0';
}

static int fail(pg_catdb *p, PGresult *res, const char *what, pl_err *err)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	int code = PQstatus(p->conn) != CONNECTION_OK ? PL_EIO : map_sqlstate(state);
	const char *msg = res && PQresultErrorMessage(res)[0] ? PQresultErrorMessage(res) : PQerrorMessage(p->conn);
	int rc = pl_err_set(err, code, "catalog database %s: %s%s%s", p->display, what, msg && *msg ? ": " : "",
			    msg ? msg : "");
	one_line(err);
	PQclear(res);
	return rc;
}

static void put_number(pl_buf *b, size_t k, void *arg)
{
	(void)arg;
	pl_buf_printf(b, "$%zu", k + 1);
}

/* '?' placeholders (outside quotes) become $1, $2, ... */
static char *numbered(const char *sql)
{
	return pl_catdb_rewrite_placeholders(sql, put_number, NULL);
}

static int ensure_connected(pg_catdb *p, pl_err *err)
{
	if (PQstatus(p->conn) == CONNECTION_OK)
		return 0;
	PQreset(p->conn);
	if (PQstatus(p->conn) != CONNECTION_OK) {
		pl_err_set(err, PL_EIO, "catalog database %s is unreachable: %s", p->display, PQerrorMessage(p->conn));
		one_line(err);
		return PL_EIO;
	}
	/* a new session: the catalog schema again */
	pl_buf q = PL_BUF_INIT;
	pl_buf_puts(&q, "SET search_path TO ");
	pl_buf_put_ident(&q, p->schema);
	PGresult *res = pl_buf_oom(&q) ? NULL : PQexec(p->conn, q.ptr);
	pl_buf_dispose(&q);
	int rc = res && PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : fail(p, res, "set search_path", err);
	if (rc == 0)
		PQclear(res);
	return rc;
}

static PGresult *run(pg_catdb *p, const char *sql, const pl_val *params, size_t n, pl_err *err, int *rc)
{
	char *text = numbered(sql);
	char **vals = calloc(n + 1, sizeof(char *));
	*rc = !text || !vals ? pl_err_nomem(err) : ensure_connected(p, err);
	for (size_t i = 0; *rc == 0 && i < n; i++) {
		char num[32];
		switch (params[i].kind) {
		case PL_V_NULL: break;
		case PL_V_INT:
			snprintf(num, sizeof(num), "%lld", (long long)params[i].i);
			vals[i] = pl_strdup(num);
			break;
		case PL_V_BOOL: vals[i] = pl_strdup(params[i].i ? "t" : "f"); break;
		case PL_V_TEXT: vals[i] = pl_strdup(params[i].s); break;
		}
		if (params[i].kind != PL_V_NULL && !vals[i])
			*rc = pl_err_nomem(err);
	}
	PGresult *res = NULL;
	if (*rc == 0)
		res = PQexecParams(p->conn, text, (int)n, NULL, (const char *const *)vals, NULL, NULL, 0);
	for (size_t i = 0; vals && i < n; i++)
		free(vals[i]);
	free(vals);
	free(text);
	if (*rc == 0) {
		ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
		if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
			*rc = fail(p, res, "query failed", err);
			res = NULL;
		}
	}
	return res;
}

static int p_exec(pl_catdb *db, const char *sql, const pl_val *params, size_t n, pl_err *err)
{
	int rc;
	PQclear(run((pg_catdb *)db, sql, params, n, err, &rc));
	return rc;
}

static int p_query(pl_catdb *db, const char *sql, const pl_val *params, size_t n, pl_rows **out, pl_err *err)
{
	int rc;
	PGresult *res = run((pg_catdb *)db, sql, params, n, err, &rc);
	if (rc)
		return rc;
	pl_rows *rows = NULL;
	size_t ncols = (size_t)PQnfields(res);
	bool oom = pl_rows_new(&rows, ncols) != 0;
	for (size_t c = 0; !oom && c < ncols; c++)
		oom = !(rows->names[c] = pl_strdup(PQfname(res, (int)c)));
	for (int r = 0; !oom && r < PQntuples(res); r++) {
		char **cells = calloc(ncols + 1, sizeof(char *));
		oom = !cells;
		for (size_t c = 0; !oom && c < ncols; c++) {
			if (PQgetisnull(res, r, (int)c))
				continue;
			const char *v = PQgetvalue(res, r, (int)c);
			if (PQftype(res, (int)c) == PG_BOOL_OID) /* as the other drivers: 1 / 0 */
				v = strcmp(v, "t") == 0 ? "1" : "0";
			oom = !(cells[c] = pl_strdup(v));
		}
		if (oom && cells)
			for (size_t c = 0; c < ncols; c++)
				free(cells[c]);
		oom = oom || pl_rows_append(rows, cells) != 0;
		free(cells);
	}
	PQclear(res);
	if (oom) {
		pl_rows_free(rows);
		return pl_err_nomem(err);
	}
	*out = rows;
	return 0;
}

static int p_begin(pl_catdb *db, pl_err *err)
{
	pg_catdb *p = (pg_catdb *)db;
	int rc = p_exec(db, "BEGIN", NULL, 0, err);
	if (rc || db->read_only)
		return rc;
	/* one writer per catalog at a time, across processes and machines */
	pl_val key = PL_VTEXT(p->schema);
	rc = p_exec(db, "SELECT pg_advisory_xact_lock(hashtext('planar.' || CAST(? AS text)))", &key, 1, err);
	if (rc) {
		pl_err ignored;
		p_exec(db, "ROLLBACK", NULL, 0, &ignored);
	}
	return rc;
}

static int p_commit(pl_catdb *db, pl_err *err)
{
	return p_exec(db, "COMMIT", NULL, 0, err);
}

static int p_rollback(pl_catdb *db, pl_err *err)
{
	pg_catdb *p = (pg_catdb *)db;
	(void)err;
	if (PQstatus(p->conn) == CONNECTION_OK && PQtransactionStatus(p->conn) != PQTRANS_IDLE) {
		PGresult *res = PQexec(p->conn, "ROLLBACK");
		PQclear(res);
	}
	return 0;
}

static int p_table_exists(pl_catdb *db, const char *table, bool *out, pl_err *err)
{
	pl_rows *rows = NULL;
	pl_val p[] = {PL_VTEXT(((pg_catdb *)db)->schema), PL_VTEXT(table)};
	int rc = p_query(db, "SELECT 1 FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", p, 2,
			 &rows, err);
	if (rc)
		return rc;
	*out = rows->nrows > 0;
	pl_rows_free(rows);
	return 0;
}

static void p_close(pl_catdb *db)
{
	pg_catdb *p = (pg_catdb *)db;
	if (p->conn)
		PQfinish(p->conn);
	free(p->conninfo);
	free(p->schema);
	free(p->display);
	free(p);
}

static int connect_pg(pg_catdb *p, bool create, bool read_only, pl_err *err);

static int p_clone(pl_catdb *db, pl_catdb **out, pl_err *err)
{
	pg_catdb *src = (pg_catdb *)db, *p = calloc(1, sizeof(*p));
	if (!p)
		return pl_err_nomem(err);
	/* a clone starts without the original's kept answers and commit note (they are its own) */
	p->base.ops = src->base.ops;
	p->base.read_only = src->base.read_only;
	p->base.search_index_table = src->base.search_index_table;
	p->conninfo = pl_strdup(src->conninfo);
	p->schema = pl_strdup(src->schema);
	p->display = pl_strdup(src->display);
	int rc = !p->conninfo || !p->schema || !p->display ? pl_err_nomem(err) : connect_pg(p, false, db->read_only, err);
	if (rc) {
		p_close(&p->base);
		return rc;
	}
	*out = &p->base;
	return 0;
}

static const pl_catdb_ops postgres_ops = {
	"postgres", p_exec, p_query, p_begin, p_commit, p_rollback, p_table_exists, p_clone, p_close, NULL,
};

/* Takes Planar's keywords (metadata_schema=, password_env=) out of a key=value conninfo. */
static int split_location(pg_catdb *p, const char *loc, char **password_env, pl_buf *display, pl_err *err)
{
	pl_buf info = PL_BUF_INIT;
	const char *s = loc;
	if (strncmp(loc, "postgres://", 11) == 0 || strncmp(loc, "postgresql://", 13) == 0) {
		p->conninfo = pl_strdup(loc);
		/* show the URI without its user:password@ part */
		const char *at = strchr(loc, '@'), *scheme = strstr(loc, "://");
		pl_buf_put(display, loc, (size_t)(scheme - loc) + 3);
		pl_buf_puts(display, at ? at + 1 : scheme + 3);
		return p->conninfo ? 0 : pl_err_nomem(err);
	}
	while (*s) {
		while (isspace((unsigned char)*s))
			s++;
		const char *start = s;
		bool q = false;
		for (; *s && (q || !isspace((unsigned char)*s)); s++)
			if (*s == '\'')
				q = !q;
		size_t len = (size_t)(s - start);
		if (len > 16 && strncmp(start, "metadata_schema=", 16) == 0) {
			free(p->schema);
			p->schema = pl_strndup(start + 16, len - 16);
		} else if (len > 13 && strncmp(start, "password_env=", 13) == 0) {
			free(*password_env);
			*password_env = pl_strndup(start + 13, len - 13);
		} else if (len) {
			pl_buf_put(&info, start, len);
			pl_buf_putc(&info, ' ');
			if (strncmp(start, "password=", 9) != 0) {
				pl_buf_put(display, start, len);
				pl_buf_putc(display, ' ');
			}
		}
	}
	p->conninfo = pl_buf_detach(&info);
	return p->conninfo ? 0 : pl_err_nomem(err);
}

static int create_schema(pg_catdb *p, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	pl_buf_puts(&q, "CREATE SCHEMA IF NOT EXISTS ");
	pl_buf_put_ident(&q, p->schema);
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : p_exec(&p->base, q.ptr, NULL, 0, err);
	pl_buf_dispose(&q);
	return rc;
}

static int schema_exists(pg_catdb *p, bool *out, pl_err *err)
{
	pl_rows *rows = NULL;
	pl_val v = PL_VTEXT(p->schema);
	int rc = p_query(&p->base, "SELECT 1 FROM information_schema.schemata WHERE schema_name = ?", &v, 1, &rows, err);
	if (rc == 0)
		*out = rows->nrows > 0;
	pl_rows_free(rows);
	return rc;
}

static int connect_pg(pg_catdb *p, bool create, bool read_only, pl_err *err)
{
	p->conn = PQconnectdb(p->conninfo);
	if (!p->conn)
		return pl_err_nomem(err);
	if (PQstatus(p->conn) != CONNECTION_OK) {
		int rc = pl_err_set(err, PL_EIO, "cannot connect to catalog database %s: %s", p->display,
				    PQerrorMessage(p->conn));
		one_line(err);
		return rc;
	}
	bool exists = true;
	int rc = schema_exists(p, &exists, err);
	if (rc == 0 && !exists && (read_only || !create))
		rc = pl_err_set(err, PL_ENOTFOUND, "catalog schema \"%s\" does not exist in %s", p->schema, p->display);
	if (rc == 0 && !exists)
		rc = create_schema(p, err);
	/* ensure_connected sets the search path for this and every later session */
	if (rc == 0) {
		pl_buf q = PL_BUF_INIT;
		pl_buf_puts(&q, "SET search_path TO ");
		pl_buf_put_ident(&q, p->schema);
		rc = pl_buf_oom(&q) ? pl_err_nomem(err) : p_exec(&p->base, q.ptr, NULL, 0, err);
		pl_buf_dispose(&q);
	}
	return rc;
}

int pl_catdb_postgres_open(pl_catdb **out, const pl_catdb_options *opts, pl_err *err)
{
	pg_catdb *p = calloc(1, sizeof(*p));
	char *password_env = NULL;
	if (!p)
		return pl_err_nomem(err);
	p->base.ops = &postgres_ops;
	p->base.read_only = opts->read_only;
	pl_buf d = PL_BUF_INIT;
	int rc = split_location(p, opts->location, &password_env, &d, err);
	if (rc == 0 && opts->schema) {
		free(p->schema);
		p->schema = pl_strdup(opts->schema);
	}
	if (rc == 0 && !p->schema)
		p->schema = pl_strdup("public");
	if (rc == 0 && opts->password_env) {
		free(password_env);
		password_env = pl_strdup(opts->password_env);
	}
	if (rc == 0 && password_env) {
		const char *pw = getenv(password_env);
		pl_buf info = PL_BUF_INIT;
		pl_buf_puts(&info, p->conninfo);
		if (pw) {
			pl_buf_puts(&info, " password=");
			pl_buf_put_literal(&info, pw);
		}
		free(p->conninfo);
		p->conninfo = pl_buf_detach(&info);
		if (!pw)
			rc = pl_err_set(err, PL_EINVALID, "environment variable %s (password_env) is not set", password_env);
	}
	pl_buf_truncate(&d, d.len && d.ptr[d.len - 1] == ' ' ? d.len - 1 : d.len);
	pl_buf_printf(&d, " (schema %s)", p->schema ? p->schema : "?");
	p->display = pl_buf_detach(&d);
	if (rc == 0 && (!p->schema || !p->conninfo || !p->display))
		rc = pl_err_nomem(err);
	if (rc == 0)
		rc = connect_pg(p, opts->create, opts->read_only, err);
	free(password_env);
	if (rc) {
		p_close(&p->base);
		return rc;
	}
	*out = &p->base;
	return 0;
}
