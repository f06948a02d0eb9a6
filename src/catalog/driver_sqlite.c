/*
 * driver_sqlite.c -- catalog driver for SQLite (the embedded default). WAL journal, a busy
 * timeout, and BEGIN IMMEDIATE for writers so concurrent committers queue instead of failing
 * half-way. Native errors map to PL_E* codes: BUSY/LOCKED -> PL_EBUSY, constraint -> PL_ECONFLICT.
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/driver.h"
#include "core/str.h"

typedef struct sqlite_catdb {
	pl_catdb base;
	sqlite3 *db;
	char *path;
	pl_stmt_cache cache;
} sqlite_catdb;

static void finalize_stmt(void *st)
{
	sqlite3_finalize(st);
}

/* Gives a statement that ran to its end back to the cache (a failed one is finalized). */
static void give_back(sqlite_catdb *s, const char *sql, sqlite3_stmt *st, bool ok)
{
	if (ok && sqlite3_reset(st) == SQLITE_OK && sqlite3_clear_bindings(st) == SQLITE_OK)
		pl_stmt_cache_give(&s->cache, sql, st);
	else
		sqlite3_finalize(st);
}

static int map_error(sqlite_catdb *s, int rc, const char *what, pl_err *err)
{
	int code = PL_ECATALOG;
	int primary = rc & 0xff;
	if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
		code = PL_EBUSY;
	else if (primary == SQLITE_CONSTRAINT)
		code = PL_ECONFLICT;
	else if (primary == SQLITE_NOMEM)
		code = PL_ENOMEM;
	else if (primary == SQLITE_READONLY)
		code = PL_EIO;
	return pl_err_set(err, code, "catalog database '%s': %s: %s", s->path, what,
			  s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
}

static int prepare_bind(sqlite_catdb *s, const char *sql, const pl_val *params, size_t n,
			sqlite3_stmt **out, pl_err *err)
{
	/* prepare_v2 statements are prepared again by SQLite itself after a schema change */
	int rc = SQLITE_OK;
	if (!(*out = pl_stmt_cache_take(&s->cache, sql)) &&
	    (rc = sqlite3_prepare_v2(s->db, sql, -1, out, NULL)) != SQLITE_OK)
		return map_error(s, rc, "prepare", err);
	for (size_t i = 0; i < n && rc == SQLITE_OK; i++) {
		int idx = (int)i + 1;
		switch (params[i].kind) {
		case PL_V_NULL: rc = sqlite3_bind_null(*out, idx); break;
		case PL_V_INT:
		case PL_V_BOOL: rc = sqlite3_bind_int64(*out, idx, params[i].i); break;
		case PL_V_TEXT: rc = sqlite3_bind_text(*out, idx, params[i].s, -1, SQLITE_TRANSIENT); break;
		}
	}
	if (rc != SQLITE_OK) {
		sqlite3_finalize(*out);
		*out = NULL;
		return map_error(s, rc, "bind", err);
	}
	return 0;
}

static int s_exec(pl_catdb *db, const char *sql, const pl_val *params, size_t n, pl_err *err)
{
	sqlite_catdb *s = (sqlite_catdb *)db;
	sqlite3_stmt *st = NULL;
	int rc = prepare_bind(s, sql, params, n, &st, err);
	if (rc)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	int out = rc == SQLITE_DONE ? 0 : map_error(s, rc, "execute", err);
	give_back(s, sql, st, out == 0);
	return out;
}

static int read_row(sqlite3_stmt *st, pl_rows *rows)
{
	char **cells = calloc(rows->ncols ? rows->ncols : 1, sizeof(char *));
	if (!cells)
		return PL_ENOMEM;
	for (size_t c = 0; c < rows->ncols; c++) {
		if (sqlite3_column_type(st, (int)c) == SQLITE_NULL)
			continue;
		const unsigned char *v = sqlite3_column_text(st, (int)c);
		cells[c] = pl_strndup((const char *)v, (size_t)sqlite3_column_bytes(st, (int)c));
		if (!cells[c]) {
			for (size_t k = 0; k < c; k++)
				free(cells[k]);
			free(cells);
			return PL_ENOMEM;
		}
	}
	int rc = pl_rows_append(rows, cells);
	free(cells);
	return rc;
}

static int s_query(pl_catdb *db, const char *sql, const pl_val *params, size_t n, pl_rows **out,
		   pl_err *err)
{
	sqlite_catdb *s = (sqlite_catdb *)db;
	sqlite3_stmt *st = NULL;
	pl_rows *rows = NULL;
	int rc = prepare_bind(s, sql, params, n, &st, err);
	if (rc)
		return rc;
	/* the columns are read after the first step: a kept statement is prepared again there
	 * when the schema changed since */
	rc = sqlite3_step(st);
	size_t ncols = (size_t)sqlite3_column_count(st);
	if (pl_rows_new(&rows, ncols)) {
		sqlite3_finalize(st);
		return pl_err_nomem(err);
	}
	for (size_t c = 0; c < ncols; c++)
		if (!(rows->names[c] = pl_strdup(sqlite3_column_name(st, (int)c))))
			goto nomem;
	for (; rc == SQLITE_ROW; rc = sqlite3_step(st))
		if (read_row(st, rows))
			goto nomem;
	if (rc != SQLITE_DONE) {
		rc = map_error(s, rc, "query", err);
		pl_rows_free(rows);
		sqlite3_finalize(st);
		return rc;
	}
	give_back(s, sql, st, true);
	*out = rows;
	return 0;
nomem:
	pl_rows_free(rows);
	sqlite3_finalize(st);
	return pl_err_nomem(err);
}

static int s_simple(pl_catdb *db, const char *sql, pl_err *err)
{
	return s_exec(db, sql, NULL, 0, err);
}

static int s_begin(pl_catdb *db, pl_err *err)
{
	return s_simple(db, db->read_only ? "BEGIN" : "BEGIN IMMEDIATE", err);
}

static int s_commit(pl_catdb *db, pl_err *err)
{
	return s_simple(db, "COMMIT", err);
}

static int s_rollback(pl_catdb *db, pl_err *err)
{
	sqlite_catdb *s = (sqlite_catdb *)db;
	if (sqlite3_get_autocommit(s->db))
		return 0;
	return s_simple(db, "ROLLBACK", err);
}

static int s_table_exists(pl_catdb *db, const char *table, bool *out, pl_err *err)
{
	pl_rows *rows = NULL;
	pl_val p = PL_VTEXT(table);
	int rc = s_query(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", &p, 1,
			 &rows, err);
	if (rc)
		return rc;
	*out = rows->nrows > 0;
	pl_rows_free(rows);
	return 0;
}

static void s_close(pl_catdb *db)
{
	sqlite_catdb *s = (sqlite_catdb *)db;
	pl_stmt_cache_clear(&s->cache);
	sqlite3_close_v2(s->db);
	free(s->path);
	free(s);
}

static int s_clone(pl_catdb *db, pl_catdb **out, pl_err *err)
{
	sqlite_catdb *s = (sqlite_catdb *)db;
	pl_catdb_options o = {"sqlite", s->path, db->read_only, false, NULL, NULL};
	return pl_catdb_sqlite_open(out, &o, err);
}

static const pl_catdb_ops sqlite_ops = {
	"sqlite", s_exec, s_query, s_begin, s_commit, s_rollback, s_table_exists, s_clone, s_close, NULL,
};

int pl_catdb_sqlite_open(pl_catdb **out, const pl_catdb_options *opts, pl_err *err)
{
	sqlite_catdb *s = calloc(1, sizeof(*s));
	if (!s || !(s->path = pl_strdup(opts->location))) {
		free(s);
		return pl_err_nomem(err);
	}
	s->base.ops = &sqlite_ops;
	s->base.read_only = opts->read_only;
	s->cache.finalize = finalize_stmt;
	int flags = opts->read_only ? SQLITE_OPEN_READONLY
				    : SQLITE_OPEN_READWRITE | (opts->create ? SQLITE_OPEN_CREATE : 0);
	int rc = sqlite3_open_v2(opts->location, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		rc = pl_err_set(err, rc == SQLITE_CANTOPEN ? PL_ENOTFOUND : PL_ECATALOG,
				"cannot open catalog database '%s': %s", opts->location,
				s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		s_close(&s->base);
		return rc;
	}
	sqlite3_busy_timeout(s->db, 10000);
	sqlite3_extended_result_codes(s->db, 1);
	/* Touch the file so "not a database" shows up here, then switch to WAL for writers. */
	rc = s_simple(&s->base, "SELECT count(*) FROM sqlite_master", err);
	if (rc == 0 && !opts->read_only)
		rc = s_simple(&s->base, "PRAGMA journal_mode=WAL", err);
	if (rc == 0)
		rc = s_simple(&s->base, "PRAGMA synchronous=FULL", err);
	if (rc) {
		s_close(&s->base);
		return rc;
	}
	*out = &s->base;
	return 0;
}
