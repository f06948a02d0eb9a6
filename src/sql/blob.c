/*
 * blob.c -- the public API of versioned blobs (planar.h): finds the attached lake, takes a
 * connection of its own to the lake's catalog (so a long upload holds no lock of the process),
 * resolves the default root and runs the table layer's operation (table/blob.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/str.h"
#include "sql/lake.h"
#include "sql/session.h"
#include "table/blob.h"

/* A second connection to the catalog of lake `name`, and its data path. */
static int open_catalog(planar_conn *conn, const char *name, bool write, pl_catdb **cat, char **data_path)
{
	planar_db *db = conn->db;
	pl_err *err = &conn->err;
	int rc = 0;
	*cat = NULL;
	*data_path = NULL;
	if (!name)
		name = "lake";
	pthread_mutex_lock(&db->lock);
	pl_lake *lake = pl_db_find_lake(db, name);
	if (!lake)
		rc = pl_err_set(err, PL_ENOTFOUND, "no lake named '%s' is attached (ATTACH it, or give --lake)", name);
	else if (write && (rc = pl_lake_check_writable(lake, err)) != 0)
		;
	else if ((rc = lake->cat->ops->clone(lake->cat, cat, err)) != 0)
		pl_err_wrap(err, "cannot open a second connection to the catalog of lake '%s'", name);
	else if (!(*data_path = pl_strdup(lake->data_path ? lake->data_path : "")))
		rc = pl_err_nomem(err);
	pthread_mutex_unlock(&db->lock);
	if (rc && *cat) {
		pl_catdb_close(*cat);
		*cat = NULL;
	}
	return rc;
}

/* $PLANAR_BLOB_ROOT, else "blobs/" in the directory holding the data path (never below the data
 * path, whose unregistered files ducklake_delete_orphaned_files may remove). */
static char *default_root(const char *data_path)
{
	const char *env = getenv("PLANAR_BLOB_ROOT");
	if (env && *env)
		return pl_strdup(env);
	size_t n = strlen(data_path);
	while (n > 0 && data_path[n - 1] == '/')
		n--;
	while (n > 0 && data_path[n - 1] != '/')
		n--;
	pl_buf b = PL_BUF_INIT;
	pl_buf_put(&b, data_path, n);
	pl_buf_puts(&b, "blobs/");
	return pl_buf_detach(&b);
}

static void give_summary(const pl_blob_version *v, const char *what, char **summary)
{
	if (!summary)
		return;
	pl_buf b = PL_BUF_INIT;
	pl_buf_printf(&b, "%s %s:v%lld (%s, %lld files, %lld bytes) %s", what, v->name, (long long)v->version,
		      v->kind, (long long)v->file_count, (long long)v->total_bytes, v->location);
	*summary = pl_buf_detach(&b);
}

int planar_blob_put(planar_conn *conn, const planar_blob_put_opts *opts, int64_t *version, char **summary)
{
	pl_catdb *cat;
	char *data_path, *root = NULL;
	pl_err_clear(&conn->err);
	if (summary)
		*summary = NULL;
	if (!opts || !opts->dir || !opts->name || !opts->kind)
		return pl_err_set(&conn->err, PL_EINVALID, "blob put needs a folder, a name and a kind");
	int rc = open_catalog(conn, opts->lake, true, &cat, &data_path);
	if (rc)
		return rc;
	root = opts->root ? pl_strdup(opts->root) : default_root(data_path);
	pl_blob_put_req req = {opts->dir, opts->name, opts->kind, opts->metadata, opts->job_id, root};
	pl_blob_version v;
	rc = root ? pl_blob_put(cat, &req, &v, &conn->err) : pl_err_nomem(&conn->err);
	if (rc == 0) {
		if (version)
			*version = v.version;
		give_summary(&v, "put", summary);
		pl_blob_version_dispose(&v);
	}
	pl_catdb_close(cat);
	free(data_path);
	free(root);
	return rc;
}

int planar_blob_get(planar_conn *conn, const char *lake, const char *ref, const char *dir, char **summary)
{
	pl_catdb *cat;
	char *data_path;
	pl_err_clear(&conn->err);
	if (summary)
		*summary = NULL;
	if (!ref || !dir)
		return pl_err_set(&conn->err, PL_EINVALID, "blob get needs a reference and a folder");
	int rc = open_catalog(conn, lake, false, &cat, &data_path);
	if (rc)
		return rc;
	pl_blob_version v;
	rc = pl_blob_get(cat, ref, dir, &v, &conn->err);
	if (rc == 0) {
		give_summary(&v, "got", summary);
		pl_blob_version_dispose(&v);
	}
	pl_catdb_close(cat);
	free(data_path);
	return rc;
}

int planar_blob_alias(planar_conn *conn, const char *lake, const char *ref, const char *alias, char **summary)
{
	pl_catdb *cat;
	char *data_path;
	pl_err_clear(&conn->err);
	if (summary)
		*summary = NULL;
	if (!ref || !alias)
		return pl_err_set(&conn->err, PL_EINVALID, "blob alias needs a reference and an alias");
	int rc = open_catalog(conn, lake, true, &cat, &data_path);
	if (rc)
		return rc;
	pl_blob_version v;
	rc = pl_blob_alias(cat, ref, alias, &v, &conn->err);
	if (rc == 0) {
		char what[300];
		snprintf(what, sizeof what, "alias %s ->", alias);
		give_summary(&v, what, summary);
		pl_blob_version_dispose(&v);
	}
	pl_catdb_close(cat);
	free(data_path);
	return rc;
}

int planar_blob_list(planar_conn *conn, const char *lake, const char *name, char **text)
{
	pl_catdb *cat;
	char *data_path;
	pl_rows *rows = NULL;
	pl_err_clear(&conn->err);
	*text = NULL;
	int rc = open_catalog(conn, lake, false, &cat, &data_path);
	if (rc)
		return rc;
	rc = pl_blobs_list(cat, name, &rows, &conn->err);
	if (rc == 0) {
		pl_buf b = PL_BUF_INIT;
		for (size_t c = 0; c < rows->ncols; c++)
			pl_buf_printf(&b, "%s%s", c ? "\t" : "", rows->names[c]);
		pl_buf_putc(&b, '\n');
		for (size_t r = 0; r < rows->nrows; r++) {
			for (size_t c = 0; c < rows->ncols; c++) {
				const char *v = pl_rows_get(rows, r, c);
				pl_buf_printf(&b, "%s%s", c ? "\t" : "", v ? v : "");
			}
			pl_buf_putc(&b, '\n');
		}
		if (pl_buf_oom(&b))
			rc = pl_err_nomem(&conn->err);
		else
			*text = pl_buf_detach(&b);
		pl_buf_dispose(&b);
		pl_rows_free(rows);
	}
	pl_catdb_close(cat);
	free(data_path);
	return rc;
}

int planar_blob_verify(planar_conn *conn, const char *lake, const char *ref, char **report, int64_t *problems)
{
	pl_catdb *cat;
	char *data_path;
	pl_err_clear(&conn->err);
	*report = NULL;
	*problems = 0;
	int rc = open_catalog(conn, lake, false, &cat, &data_path);
	if (rc)
		return rc;
	pl_blob_version v;
	rc = pl_blob_verify(cat, ref, report, problems, &v, &conn->err);
	if (rc == 0)
		pl_blob_version_dispose(&v);
	pl_catdb_close(cat);
	free(data_path);
	return rc;
}
