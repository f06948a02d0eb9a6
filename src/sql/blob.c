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
#include "sql/router.h"
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

/* ---------------------------------------------------------------------------------------------
 * SQL: __planar_blobs(lake, 'versions' | 'files') reads the blob tables of an attached lake (a
 * fixed catalog read) as VARCHAR columns; the table macros planar_blob_versions(lake) and
 * planar_blob_files(lake) give them their types, so a query can pin a training run to a blob
 * version and a table snapshot at once.
 * ------------------------------------------------------------------------------------------- */

typedef struct blobs_scan {
	idx_t next;
} blobs_scan;

static void rows_destroy(void *p)
{
	pl_rows_free(p);
}

static void blobs_bind(duckdb_bind_info info)
{
	planar_db *db = duckdb_bind_get_extra_info(info);
	char *lake_name = pl_engine_param_text(info, 0), *what = pl_engine_param_text(info, 1);
	pl_rows *rows = NULL;
	pl_err err = {0, ""};
	int rc = 0;
	bool files = what && strcmp(what, "files") == 0;
	if (!what || (!files && strcmp(what, "versions") != 0))
		rc = pl_err_set(&err, PL_EINVALID, "__planar_blobs: unknown listing");
	if (rc == 0) {
		pthread_mutex_lock(&db->lock);
		pl_lake *lake = lake_name ? pl_db_find_lake(db, lake_name) : NULL;
		if (!lake)
			rc = pl_err_set(&err, PL_ENOTFOUND, "no lake named \"%s\" is attached", lake_name ? lake_name : "NULL");
		else
			rc = files ? pl_blobs_all_files(lake->cat, &rows, &err) : pl_blobs_list(lake->cat, NULL, &rows, &err);
		pthread_mutex_unlock(&db->lock);
	}
	if (rc) {
		duckdb_bind_set_error(info, err.msg);
		pl_rows_free(rows);
	} else {
		duckdb_logical_type vt = duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR);
		for (size_t c = 0; c < rows->ncols; c++)
			duckdb_bind_add_result_column(info, rows->names[c], vt);
		duckdb_destroy_logical_type(&vt);
		duckdb_bind_set_bind_data(info, rows, rows_destroy);
	}
	free(lake_name);
	free(what);
}

static void blobs_init(duckdb_init_info info)
{
	blobs_scan *st = calloc(1, sizeof *st);
	if (!st) {
		duckdb_init_set_error(info, "out of memory");
		return;
	}
	duckdb_init_set_init_data(info, st, free);
}

static void blobs_scan_fn(duckdb_function_info info, duckdb_data_chunk out)
{
	pl_rows *rows = duckdb_function_get_bind_data(info);
	blobs_scan *st = duckdb_function_get_init_data(info);
	idx_t n = 0, cap = duckdb_vector_size();
	for (; n < cap && st->next < rows->nrows; n++, st->next++)
		for (size_t c = 0; c < rows->ncols; c++)
			pl_engine_vector_put_text(duckdb_data_chunk_get_vector(out, c), n, pl_rows_get(rows, st->next, c));
	duckdb_data_chunk_set_size(out, n);
}

int pl_blob_functions_register(planar_db *db, pl_err *err)
{
	duckdb_table_function f = duckdb_create_table_function();
	duckdb_logical_type vt = duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR);
	duckdb_table_function_set_name(f, "__planar_blobs");
	duckdb_table_function_add_parameter(f, vt);
	duckdb_table_function_add_parameter(f, vt);
	duckdb_table_function_set_extra_info(f, db, NULL);
	duckdb_table_function_set_bind(f, blobs_bind);
	duckdb_table_function_set_init(f, blobs_init);
	duckdb_table_function_set_function(f, blobs_scan_fn);
	duckdb_state s = duckdb_register_table_function(db->admin, f);
	duckdb_destroy_logical_type(&vt);
	duckdb_destroy_table_function(&f);
	return s == DuckDBError ? pl_err_set(err, PL_ERROR, "cannot register the table function __planar_blobs") : 0;
}

static const char *const blob_macros[] = {
	"CREATE OR REPLACE TEMP MACRO planar_blob_versions(catalog) AS TABLE "
	"SELECT name, CAST(version AS BIGINT) AS version, kind, "
	"CAST(created_at AS TIMESTAMP WITH TIME ZONE) AS created_at, CAST(file_count AS BIGINT) AS file_count, "
	"CAST(total_bytes AS BIGINT) AS total_bytes, "
	"CASE WHEN aliases = '' THEN CAST([] AS VARCHAR[]) ELSE string_split(aliases, ',') END AS aliases, "
	"job_id, metadata, location FROM __planar_blobs(catalog, 'versions')",

	"CREATE OR REPLACE TEMP MACRO planar_blob_files(catalog) AS TABLE "
	"SELECT name, CAST(version AS BIGINT) AS version, path, CAST(size AS BIGINT) AS size, etag, sha256 "
	"FROM __planar_blobs(catalog, 'files')",
};

int pl_blob_install_macros(duckdb_connection con, pl_err *err)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < sizeof blob_macros / sizeof blob_macros[0]; i++)
		rc = pl_engine_exec(con, blob_macros[i], err);
	return rc;
}
