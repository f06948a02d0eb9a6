/*
 * emptyfile.c -- empty Parquet files of a table's columns (see emptyfile.h).
 */
#include "table/emptyfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/str.h"
#include "storage/fs.h"
#include "table/scan.h"
#include "table/writer.h"

void pl_empty_files_init(pl_empty_files *e, duckdb_database duck)
{
	memset(e, 0, sizeof(*e));
	pthread_mutex_init(&e->lock, NULL);
	e->duck = duck;
}

void pl_empty_files_dispose(pl_empty_files *e)
{
	if (e->dir)
		pl_fs_remove_dir(e->dir);
	free(e->dir);
	pthread_mutex_destroy(&e->lock);
}

/* The SELECT of no row with t's columns (as text with as_text), then the COPY options. */
static int put_select(pl_buf *q, pl_buf *opts, const pl_table *t, bool as_text, bool field_ids, pl_err *err)
{
	int rc = 0;
	pl_buf_truncate(q, 0);
	pl_buf_puts(q, "SELECT ");
	for (size_t i = 0; rc == 0 && i < t->ntop; i++) {
		pl_buf type = PL_BUF_INIT;
		rc = as_text ? 0 : pl_scan_column_type(&type, t->top[i], err);
		pl_buf_printf(q, "%sCAST(NULL AS %s) AS ", i ? ", " : "", as_text ? "VARCHAR" : pl_buf_cstr(&type));
		pl_buf_put_ident(q, t->top[i]->name);
		pl_buf_dispose(&type);
	}
	pl_buf_puts(q, " WHERE false");
	pl_buf_truncate(opts, 0);
	pl_buf_puts(opts, " (FORMAT parquet");
	if (field_ids) {
		pl_buf_puts(opts, ", FIELD_IDS ");
		pl_writer_put_field_ids(opts, t);
	}
	pl_buf_putc(opts, ')');
	return rc == 0 && (pl_buf_oom(q) || pl_buf_oom(opts)) ? pl_err_nomem(err) : rc;
}

/* Under e->lock: the directory, made on first use. */
static int ensure_dir(pl_empty_files *e, pl_err *err)
{
	if (e->dir)
		return 0;
	const char *tmp = getenv("TMPDIR");
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/planar-empty-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		return pl_err_set(err, PL_EIO, "cannot create a temporary directory in %s (set TMPDIR)",
				  tmp && *tmp ? tmp : "/tmp");
	return (e->dir = pl_strdup(dir)) ? 0 : pl_err_nomem(err);
}

/* Under e->lock: writes `COPY (q minus opts) TO path opts` to a temporary name, renamed into
 * place (a reader never sees a partial file). */
static int write_file(pl_empty_files *e, const pl_buf *q, const pl_buf *opts, const char *path, pl_err *err)
{
	pl_buf copy = PL_BUF_INIT, tmp = PL_BUF_INIT;
	pl_buf_printf(&tmp, "%s.tmp", path); /* the directory is this process's, the lock held */
	pl_buf_puts(&copy, "COPY (");
	pl_buf_put(&copy, q->ptr, q->len - opts->len);
	pl_buf_puts(&copy, ") TO ");
	pl_buf_put_literal(&copy, pl_buf_cstr(&tmp));
	pl_buf_put(&copy, opts->ptr, opts->len);
	duckdb_connection con = NULL;
	int rc = pl_buf_oom(&copy) || pl_buf_oom(&tmp) ? pl_err_nomem(err) : 0;
	if (rc == 0 && duckdb_connect(e->duck, &con) == DuckDBError)
		rc = pl_err_set(err, PL_ERROR, "cannot open a connection to write an empty data file");
	if (rc == 0) {
		rc = pl_engine_exec(con, copy.ptr, err);
		duckdb_disconnect(&con);
	}
	if (rc == 0 && rename(tmp.ptr, path) != 0)
		rc = pl_err_set(err, PL_EIO, "cannot move %s to %s", tmp.ptr, path);
	if (rc && tmp.ptr)
		unlink(tmp.ptr);
	pl_buf_dispose(&copy);
	pl_buf_dispose(&tmp);
	return rc;
}

/* The file for t (see pl_empty_file; with field_ids pl_empty_companion, which gives no file
 * rather than the text form when a type cannot be written). */
static int empty_file(pl_empty_files *e, const pl_table *t, bool field_ids, char **out, pl_err *err)
{
	pl_buf q = PL_BUF_INIT, opts = PL_BUF_INIT;
	char *path = NULL;
	int rc = 0;
	*out = NULL;
	pthread_mutex_lock(&e->lock);
	for (int as_text = 0; as_text < 2; as_text++) {
		rc = put_select(&q, &opts, t, as_text, field_ids, err);
		pl_buf_puts(&q, pl_buf_cstr(&opts)); /* the file is named by its whole COPY */
		if (rc == 0 && pl_buf_oom(&q))
			rc = pl_err_nomem(err);
		if (rc == 0)
			rc = ensure_dir(e, err);
		free(path);
		path = NULL;
		if (rc == 0) {
			pl_buf p = PL_BUF_INIT;
			pl_buf_printf(&p, "%s/%016llx.parquet", e->dir, (unsigned long long)pl_str_hash(q.ptr));
			path = pl_buf_oom(&p) ? NULL : pl_buf_detach(&p);
			pl_buf_dispose(&p);
			rc = path ? 0 : pl_err_nomem(err);
		}
		if (rc || access(path, F_OK) == 0)
			break;
		char none[4200]; /* marks a column list whose companion file cannot be written */
		snprintf(none, sizeof(none), "%s.none", path);
		if (field_ids && access(none, F_OK) == 0) {
			free(path);
			path = NULL;
			break;
		}
		pl_err write_err = {0};
		rc = write_file(e, &q, &opts, path, &write_err);
		if (rc && rc != PL_ENOMEM && field_ids) { /* no companion file: not an error */
			FILE *f = fopen(none, "w");
			if (f)
				fclose(f);
			free(path);
			path = NULL;
			rc = 0;
			break;
		}
		if (rc == 0 || rc == PL_ENOMEM || as_text) {
			if (rc)
				*err = write_err;
			break;
		}
		rc = 0; /* a type Parquet cannot hold: the columns as text (every value is NULL) */
	}
	pthread_mutex_unlock(&e->lock);
	pl_buf_dispose(&q);
	pl_buf_dispose(&opts);
	if (rc)
		free(path);
	else
		*out = path;
	return rc;
}

int pl_empty_file(pl_empty_files *e, const pl_table *t, char **out, pl_err *err)
{
	return empty_file(e, t, false, out, err);
}

void pl_empty_companion(pl_empty_files *e, const pl_table *t, char **out)
{
	pl_err ignored = {0};
	*out = NULL;
	if (e && empty_file(e, t, true, out, &ignored) != 0)
		*out = NULL;
}
