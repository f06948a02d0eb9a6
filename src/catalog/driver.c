/*
 * driver.c -- choosing a catalog driver by name, and the text row sets drivers return.
 */
#include "catalog/driver.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/str.h"

static const struct {
	const char *kind;
	int (*open)(pl_catdb **out, const pl_catdb_options *opts, pl_err *err);
} drivers[] = {
	{"duckdb", pl_catdb_duckdb_open},
	{"sqlite", pl_catdb_sqlite_open},
	{"postgres", pl_catdb_postgres_open},
	{"postgresql", pl_catdb_postgres_open},
};

bool pl_catdb_kind_is_file(const char *kind)
{
	return strcmp(kind, "duckdb") == 0 || strcmp(kind, "sqlite") == 0;
}

int pl_catdb_open(pl_catdb **out, const pl_catdb_options *opts, pl_err *err)
{
	for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++)
		if (strcmp(drivers[i].kind, opts->kind) == 0)
			return drivers[i].open(out, opts, err);
	return pl_err_set(err, PL_EUNSUPPORTED, "unknown catalog database kind '%s' (use duckdb, sqlite or postgres)",
			  opts->kind);
}

void pl_catdb_forget_kept(pl_catdb *db)
{
	pl_rows_free(db->options);
	db->options = NULL;
	db->latest_gen = db->options_gen = db->committed_gen = 0;
	for (size_t i = 0; i < PL_CATDB_INLINED_KEPT; i++) {
		free(db->inlined[i].name);
		db->inlined[i].name = NULL;
	}
	db->inlined_next = 0;
	pl_catdb_forget_note(db);
}

void pl_catdb_forget_note(pl_catdb *db)
{
	free(db->note.changes);
	for (size_t i = 0; i < db->note.nstats; i++)
		pl_rows_free(db->note.stats[i].rows);
	free(db->note.stats);
	pl_rows_free(db->note.files);
	memset(&db->note, 0, sizeof(db->note));
}

void pl_catdb_close(pl_catdb *db)
{
	if (db) {
		pl_catdb_forget_kept(db);
		db->ops->close(db);
	}
}

uint64_t pl_catdb_generation(pl_catdb *db)
{
	return db->ops->generation ? db->ops->generation(db) : 0;
}

int pl_catdb_exec(pl_catdb *db, const char *sql, const pl_val *params, size_t n, pl_err *err)
{
	return db->ops->exec(db, sql, params, n, err);
}

int pl_catdb_query(pl_catdb *db, const char *sql, const pl_val *params, size_t n, pl_rows **out,
		   pl_err *err)
{
	return db->ops->query(db, sql, params, n, out, err);
}

const char *pl_rows_get(const pl_rows *r, size_t row, size_t col)
{
	if (!r || row >= r->nrows || col >= r->ncols)
		return NULL;
	return r->cells[row * r->ncols + col];
}

bool pl_rows_is_null(const pl_rows *r, size_t row, size_t col)
{
	return pl_rows_get(r, row, col) == NULL;
}

int64_t pl_rows_int(const pl_rows *r, size_t row, size_t col, int64_t if_null)
{
	const char *v = pl_rows_get(r, row, col);
	return v ? strtoll(v, NULL, 10) : if_null;
}

bool pl_rows_bool(const pl_rows *r, size_t row, size_t col, bool if_null)
{
	const char *v = pl_rows_get(r, row, col);
	if (!v)
		return if_null;
	return strcmp(v, "1") == 0 || pl_str_ieq(v, "true") || pl_str_ieq(v, "t");
}

char *pl_catdb_rewrite_placeholders(const char *sql, void (*put)(pl_buf *b, size_t k, void *arg), void *arg)
{
	pl_buf b = PL_BUF_INIT;
	size_t k = 0;
	char q = 0;
	for (const char *s = sql; *s; s++) {
		if (q) {
			if (*s == q)
				q = 0;
		} else if (*s == '\'' || *s == '"') {
			q = *s;
		} else if (*s == '?') {
			put(&b, k++, arg);
			continue;
		}
		pl_buf_putc(&b, *s);
	}
	if (pl_buf_oom(&b)) {
		pl_buf_dispose(&b);
		return NULL;
	}
	return pl_buf_detach(&b);
}

int pl_rows_new(pl_rows **out, size_t ncols)
{
	pl_rows *r = calloc(1, sizeof(*r));
	if (!r)
		return PL_ENOMEM;
	r->ncols = ncols;
	r->names = calloc(ncols + 1, sizeof(char *));
	if (!r->names) {
		free(r);
		return PL_ENOMEM;
	}
	*out = r;
	return 0;
}

int pl_rows_append(pl_rows *r, char **cells)
{
	/* Grow by doubling: capacity is the next power of two above nrows. */
	size_t n = r->nrows;
	if ((n & (n - 1)) == 0) {
		size_t cap = n ? n * 2 : 1;
		char **p = realloc(r->cells, cap * (r->ncols ? r->ncols : 1) * sizeof(char *));
		if (!p) {
			for (size_t i = 0; i < r->ncols; i++)
				free(cells[i]);
			return PL_ENOMEM;
		}
		r->cells = p;
	}
	memcpy(r->cells + n * r->ncols, cells, r->ncols * sizeof(char *));
	r->nrows++;
	return 0;
}

void pl_rows_free(pl_rows *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nrows * r->ncols; i++)
		free(r->cells[i]);
	free(r->cells);
	for (size_t i = 0; i < r->ncols; i++)
		free(r->names[i]);
	free(r->names);
	free(r);
}

int pl_catdb_file_identity(const char *path, char **out, pl_err *err)
{
	struct stat sb;
	*out = NULL;
	if (stat(path, &sb) != 0)
		return errno == ENOENT || errno == ENOTDIR ? 0
							   : pl_err_set(err, PL_EIO, "cannot stat '%s': %s", path, strerror(errno));
	char buf[96];
	snprintf(buf, sizeof(buf), "file:%llu:%llu", (unsigned long long)sb.st_dev, (unsigned long long)sb.st_ino);
	return (*out = pl_strdup(buf)) ? 0 : pl_err_nomem(err);
}

int pl_catdb_identity(pl_catdb *db, const char *location, char **out, pl_err *err)
{
	*out = NULL;
	if (strcmp(db->ops->name, "postgres") != 0) {
		int rc = pl_catdb_file_identity(location, out, err);
		return rc || *out ? rc : pl_err_set(err, PL_ENOTFOUND, "catalog file '%s' does not exist", location);
	}
	pl_rows *rows = NULL;
	int rc = pl_catdb_query(db,
				"SELECT 'postgres:' || coalesce(host(inet_server_addr()), 'local') || ':' || "
				"coalesce(CAST(inet_server_port() AS text), current_setting('port')) || ':' || "
				"current_database() || ':' || current_schema() AS id",
				NULL, 0, &rows, err);
	if (rc == 0 && !(*out = pl_strdup(pl_rows_get(rows, 0, 0))))
		rc = pl_err_nomem(err);
	pl_rows_free(rows);
	return rc;
}
