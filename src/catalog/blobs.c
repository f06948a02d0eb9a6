/*
 * blobs.c -- the SQL of versioned blobs (blobs.h), the same on SQLite, DuckDB and PostgreSQL.
 */
#include "catalog/blobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/str.h"

void pl_blob_version_dispose(pl_blob_version *v)
{
	free(v->name);
	free(v->kind);
	free(v->location);
	free(v->metadata);
	free(v->job_id);
	free(v->created_at);
	memset(v, 0, sizeof *v);
}

void pl_blob_files_free(pl_blob_file *files, size_t n)
{
	for (size_t i = 0; files && i < n; i++) {
		free(files[i].path);
		free(files[i].etag);
		free(files[i].sha256);
	}
	free(files);
}

static const char *const create_sql[] = {
	"CREATE TABLE planar_blob_version (name VARCHAR NOT NULL, version BIGINT NOT NULL, "
	"kind VARCHAR NOT NULL, state VARCHAR NOT NULL, location VARCHAR NOT NULL, file_count BIGINT, "
	"total_bytes BIGINT, metadata VARCHAR, job_id VARCHAR, created_at VARCHAR NOT NULL, committed_at VARCHAR, "
	"PRIMARY KEY (name, version))",
	"CREATE TABLE planar_blob_file (name VARCHAR NOT NULL, version BIGINT NOT NULL, "
	"path VARCHAR NOT NULL, size BIGINT NOT NULL, etag VARCHAR, sha256 VARCHAR NOT NULL, "
	"PRIMARY KEY (name, version, path))",
	"CREATE TABLE planar_blob_alias (name VARCHAR NOT NULL, alias VARCHAR NOT NULL, "
	"version BIGINT NOT NULL, PRIMARY KEY (name, alias))",
};

int pl_blobs_ensure(pl_catdb *db, pl_err *err)
{
	bool exists = false;
	int rc = db->ops->table_exists(db, "planar_blob_alias", &exists, err);
	if (rc || exists)
		return rc;
	if (db->read_only)
		return pl_err_set(err, PL_EINVALID, "the lake is read-only and has no blob versions yet");
	/* In one transaction, so the tables appear together; a writer that loses the race to create
	 * them (PostgreSQL's CREATE TABLE IF NOT EXISTS is not safe against a concurrent one) finds
	 * them made by the winner. */
	if ((rc = db->ops->begin(db, err)) != 0)
		return rc;
	for (size_t i = 0; rc == 0 && i < sizeof create_sql / sizeof create_sql[0]; i++)
		rc = pl_catdb_exec(db, create_sql[i], NULL, 0, err);
	if (rc == 0)
		rc = db->ops->commit(db, err);
	if (rc) {
		pl_err ignored = {0, ""};
		db->ops->rollback(db, &ignored);
		if (db->ops->table_exists(db, "planar_blob_alias", &exists, &ignored) == 0 && exists)
			return 0;
		pl_err_wrap(err, "cannot create the blob tables in the lake's catalog");
	}
	return rc;
}

static char *dup_cell(const pl_rows *r, size_t row, size_t col)
{
	const char *s = pl_rows_get(r, row, col);
	return s ? pl_strdup(s) : NULL;
}

int pl_blobs_reserve(pl_catdb *db, const char *name, const char *kind, const char *location_base,
		     const char *metadata, const char *job_id, const char *created_at, int64_t *version,
		     char **location, pl_err *err)
{
	*location = NULL;
	int rc = 0;
	/* Under the catalog's write transaction the next number is ours; where the catalog lets two
	 * writers read the same maximum (PostgreSQL at READ COMMITTED), the primary key refuses the
	 * second INSERT and it tries the next number. */
	for (int attempt = 0; attempt < 20; attempt++) {
		pl_rows *rows = NULL;
		pl_val pname = PL_VTEXT(name);
		if ((rc = db->ops->begin(db, err)) != 0)
			return rc;
		rc = pl_catdb_query(db,
				    "SELECT (SELECT kind FROM planar_blob_version WHERE name = ? ORDER BY version LIMIT 1), "
				    "(SELECT COALESCE(MAX(version), 0) FROM planar_blob_version WHERE name = ?)",
				    (pl_val[]){pname, pname}, 2, &rows, err);
		if (rc == 0 && pl_rows_get(rows, 0, 0) && strcmp(pl_rows_get(rows, 0, 0), kind) != 0)
			rc = pl_err_set(err, PL_EINVALID, "blob '%s' is a %s, not a %s", name, pl_rows_get(rows, 0, 0),
					kind);
		int64_t v = rc == 0 ? pl_rows_int(rows, 0, 1, 0) + 1 : 0;
		pl_rows_free(rows);
		pl_buf loc = PL_BUF_INIT;
		pl_buf_printf(&loc, "%sv%lld/", location_base, (long long)v);
		if (rc == 0 && pl_buf_oom(&loc))
			rc = pl_err_nomem(err);
		if (rc == 0)
			rc = pl_catdb_exec(db,
					   "INSERT INTO planar_blob_version (name, version, kind, state, location, metadata, "
					   "job_id, created_at) VALUES (?, ?, ?, 'uploading', ?, ?, ?, ?)",
					   (pl_val[]){pname, PL_VINT(v), PL_VTEXT(kind), PL_VTEXT(loc.ptr),
						      PL_VTEXT(metadata), PL_VTEXT(job_id), PL_VTEXT(created_at)},
					   7, err);
		bool insert_failed = rc != 0 && rc != PL_EINVALID && v > 0;
		if (rc == 0)
			rc = db->ops->commit(db, err);
		if (rc == 0) {
			*version = v;
			*location = pl_buf_detach(&loc);
			return *location ? 0 : pl_err_nomem(err);
		}
		pl_buf_dispose(&loc);
		pl_err ignored = {0, ""};
		db->ops->rollback(db, &ignored);
		if (!insert_failed)
			return rc;
	}
	return pl_err_wrap(err, "cannot reserve a version of blob '%s'", name);
}

int pl_blobs_commit(pl_catdb *db, const char *name, int64_t version, const pl_blob_file *files, size_t n,
		    const char *committed_at, pl_err *err)
{
	int rc = db->ops->begin(db, err);
	if (rc)
		return rc;
	int64_t total = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		total += files[i].size;
		rc = pl_catdb_exec(db,
				   "INSERT INTO planar_blob_file (name, version, path, size, etag, sha256) "
				   "VALUES (?, ?, ?, ?, ?, ?)",
				   (pl_val[]){PL_VTEXT(name), PL_VINT(version), PL_VTEXT(files[i].path),
					      PL_VINT(files[i].size), PL_VTEXT(files[i].etag), PL_VTEXT(files[i].sha256)},
				   6, err);
	}
	if (rc == 0)
		rc = pl_catdb_exec(db,
				   "UPDATE planar_blob_version SET state = 'committed', file_count = ?, total_bytes = ?, "
				   "committed_at = ? WHERE name = ? AND version = ? AND state = 'uploading'",
				   (pl_val[]){PL_VINT((int64_t)n), PL_VINT(total), PL_VTEXT(committed_at), PL_VTEXT(name),
					      PL_VINT(version)},
				   5, err);
	if (rc == 0)
		rc = db->ops->commit(db, err);
	if (rc) {
		pl_err ignored = {0, ""};
		db->ops->rollback(db, &ignored);
		pl_err_wrap(err, "cannot record version %lld of blob '%s'", (long long)version, name);
	}
	return rc;
}

int pl_blobs_fail(pl_catdb *db, const char *name, int64_t version, pl_err *err)
{
	return pl_catdb_exec(db, "UPDATE planar_blob_version SET state = 'failed' WHERE name = ? AND version = ?",
			     (pl_val[]){PL_VTEXT(name), PL_VINT(version)}, 2, err);
}

static const char *version_cols =
	"SELECT name, version, kind, location, metadata, job_id, created_at, file_count, total_bytes "
	"FROM planar_blob_version ";

static int read_version(pl_rows *rows, pl_blob_version *out, pl_err *err)
{
	memset(out, 0, sizeof *out);
	out->name = dup_cell(rows, 0, 0);
	out->version = pl_rows_int(rows, 0, 1, 0);
	out->kind = dup_cell(rows, 0, 2);
	out->location = dup_cell(rows, 0, 3);
	out->metadata = dup_cell(rows, 0, 4);
	out->job_id = dup_cell(rows, 0, 5);
	out->created_at = dup_cell(rows, 0, 6);
	out->file_count = pl_rows_int(rows, 0, 7, 0);
	out->total_bytes = pl_rows_int(rows, 0, 8, 0);
	if (!out->name || !out->kind || !out->location || !out->created_at) {
		pl_blob_version_dispose(out);
		return pl_err_nomem(err);
	}
	return 0;
}

static bool parse_version(const char *sel, int64_t *v)
{
	const char *p = sel[0] == 'v' || sel[0] == 'V' ? sel + 1 : sel;
	char *end;
	if (!*p || strspn(p, "0123456789") != strlen(p) || strlen(p) > 18)
		return false;
	*v = strtoll(p, &end, 10);
	return *v > 0;
}

int pl_blobs_resolve(pl_catdb *db, const char *name, const char *sel, pl_blob_version *out, pl_err *err)
{
	memset(out, 0, sizeof *out);
	bool exists = false;
	int rc = db->ops->table_exists(db, "planar_blob_alias", &exists, err);
	if (rc)
		return rc;
	if (!exists)
		return pl_err_set(err, PL_ENOTFOUND, "blob '%s' has no version (the lake has no blobs)", name);
	pl_rows *rows = NULL;
	pl_buf q = PL_BUF_INIT;
	pl_buf_puts(&q, version_cols);
	int64_t v = 0;
	if (!sel || strcmp(sel, "latest") == 0) {
		pl_buf_puts(&q, "WHERE name = ? AND state = 'committed' ORDER BY version DESC LIMIT 1");
		rc = pl_catdb_query(db, q.ptr, (pl_val[]){PL_VTEXT(name)}, 1, &rows, err);
	} else if (parse_version(sel, &v)) {
		pl_buf_puts(&q, "WHERE name = ? AND version = ? AND state = 'committed'");
		rc = pl_catdb_query(db, q.ptr, (pl_val[]){PL_VTEXT(name), PL_VINT(v)}, 2, &rows, err);
	} else {
		pl_buf_puts(&q, "WHERE name = ? AND state = 'committed' AND version = (SELECT version FROM "
				"planar_blob_alias WHERE name = ? AND alias = ?)");
		rc = pl_catdb_query(db, q.ptr, (pl_val[]){PL_VTEXT(name), PL_VTEXT(name), PL_VTEXT(sel)}, 3, &rows, err);
	}
	pl_buf_dispose(&q);
	if (rc == 0 && rows->nrows == 0) {
		if (!sel || strcmp(sel, "latest") == 0)
			rc = pl_err_set(err, PL_ENOTFOUND, "blob '%s' has no version", name);
		else if (v > 0)
			rc = pl_err_set(err, PL_ENOTFOUND, "blob '%s' has no version %lld", name, (long long)v);
		else
			rc = pl_err_set(err, PL_ENOTFOUND, "blob '%s' has no alias '%s'", name, sel);
	}
	if (rc == 0)
		rc = read_version(rows, out, err);
	pl_rows_free(rows);
	return rc;
}

int pl_blobs_files(pl_catdb *db, const char *name, int64_t version, pl_blob_file **files, size_t *n, pl_err *err)
{
	*files = NULL;
	*n = 0;
	pl_rows *rows = NULL;
	int rc = pl_catdb_query(db,
				"SELECT path, size, etag, sha256 FROM planar_blob_file WHERE name = ? AND version = ? "
				"ORDER BY path",
				(pl_val[]){PL_VTEXT(name), PL_VINT(version)}, 2, &rows, err);
	if (rc)
		return rc;
	pl_blob_file *f = calloc(rows->nrows ? rows->nrows : 1, sizeof *f);
	if (!f) {
		pl_rows_free(rows);
		return pl_err_nomem(err);
	}
	for (size_t i = 0; i < rows->nrows; i++) {
		f[i].path = dup_cell(rows, i, 0);
		f[i].size = pl_rows_int(rows, i, 1, 0);
		f[i].etag = dup_cell(rows, i, 2);
		f[i].sha256 = dup_cell(rows, i, 3);
		if (!f[i].path || !f[i].sha256) {
			pl_blob_files_free(f, rows->nrows);
			pl_rows_free(rows);
			return pl_err_nomem(err);
		}
	}
	*files = f;
	*n = rows->nrows;
	pl_rows_free(rows);
	return 0;
}

int pl_blobs_set_alias(pl_catdb *db, const char *name, const char *alias, int64_t version, pl_err *err)
{
	int64_t v;
	if (!*alias || strcmp(alias, "latest") == 0 || parse_version(alias, &v) || strchr(alias, ':'))
		return pl_err_set(err, PL_EINVALID,
				  "'%s' cannot be an alias: 'latest', version numbers and names with ':' are reserved",
				  alias);
	int rc = db->ops->begin(db, err);
	if (rc)
		return rc;
	rc = pl_catdb_exec(db, "DELETE FROM planar_blob_alias WHERE name = ? AND alias = ?",
			   (pl_val[]){PL_VTEXT(name), PL_VTEXT(alias)}, 2, err);
	if (rc == 0)
		rc = pl_catdb_exec(db, "INSERT INTO planar_blob_alias (name, alias, version) VALUES (?, ?, ?)",
				   (pl_val[]){PL_VTEXT(name), PL_VTEXT(alias), PL_VINT(version)}, 3, err);
	if (rc == 0)
		rc = db->ops->commit(db, err);
	if (rc) {
		pl_err ignored = {0, ""};
		db->ops->rollback(db, &ignored);
	}
	return rc;
}

int pl_blobs_list(pl_catdb *db, const char *name, pl_rows **out, pl_err *err)
{
	*out = NULL;
	bool exists = false;
	int rc = db->ops->table_exists(db, "planar_blob_alias", &exists, err);
	pl_rows *vers = NULL, *aliases = NULL, *res = NULL;
	pl_val p = PL_VTEXT(name);
	if (rc == 0 && !exists)
		rc = pl_catdb_query(db, "SELECT 1 WHERE 1 = 0", NULL, 0, &vers, err);
	if (rc == 0 && !exists)
		rc = pl_catdb_query(db, "SELECT 1 WHERE 1 = 0", NULL, 0, &aliases, err);
	else if (rc == 0)
		rc = pl_catdb_query(db,
				    name ? "SELECT name, version, kind, created_at, file_count, total_bytes, job_id, "
					   "metadata, location, (SELECT MAX(version) FROM planar_blob_version m WHERE "
					   "m.name = v.name AND m.state = 'committed') FROM planar_blob_version v WHERE "
					   "state = 'committed' AND name = ? ORDER BY name, version"
					 : "SELECT name, version, kind, created_at, file_count, total_bytes, job_id, "
					   "metadata, location, (SELECT MAX(version) FROM planar_blob_version m WHERE "
					   "m.name = v.name AND m.state = 'committed') FROM planar_blob_version v WHERE "
					   "state = 'committed' ORDER BY name, version",
				    &p, name ? 1 : 0, &vers, err);
	if (rc == 0 && exists)
		rc = pl_catdb_query(db, "SELECT name, version, alias FROM planar_blob_alias ORDER BY alias", NULL, 0,
				    &aliases, err);
	if (rc == 0 && pl_rows_new(&res, 10) != 0)
		rc = pl_err_nomem(err);
	if (rc == 0) {
		static const char *names[] = {"name", "version", "kind", "created_at", "file_count", "total_bytes",
					      "aliases", "job_id", "metadata", "location"};
		for (size_t c = 0; c < 10 && rc == 0; c++)
			if (!(res->names[c] = pl_strdup(names[c])))
				rc = pl_err_nomem(err);
	}
	for (size_t i = 0; rc == 0 && i < vers->nrows; i++) {
		pl_buf al = PL_BUF_INIT;
		const char *vname = pl_rows_get(vers, i, 0), *ver = pl_rows_get(vers, i, 1);
		if (pl_rows_int(vers, i, 1, 0) == pl_rows_int(vers, i, 9, -1))
			pl_buf_puts(&al, "latest");
		for (size_t k = 0; k < aliases->nrows; k++)
			if (strcmp(pl_rows_get(aliases, k, 0), vname) == 0 &&
			    pl_rows_int(aliases, k, 1, 0) == pl_rows_int(vers, i, 1, 0)) {
				if (al.len)
					pl_buf_putc(&al, ',');
				pl_buf_puts(&al, pl_rows_get(aliases, k, 2));
			}
		char **cells = calloc(10, sizeof *cells);
		if (!cells) {
			pl_buf_dispose(&al);
			rc = pl_err_nomem(err);
			break;
		}
		cells[0] = pl_strdup(vname);
		cells[1] = pl_strdup(ver);
		cells[2] = dup_cell(vers, i, 2);
		cells[3] = dup_cell(vers, i, 3);
		cells[4] = dup_cell(vers, i, 4);
		cells[5] = dup_cell(vers, i, 5);
		cells[6] = pl_strdup(pl_buf_cstr(&al));
		cells[7] = dup_cell(vers, i, 6);
		cells[8] = dup_cell(vers, i, 7);
		cells[9] = dup_cell(vers, i, 8);
		pl_buf_dispose(&al);
		rc = pl_rows_append(res, cells);
		free(cells);
		if (rc)
			pl_err_nomem(err);
	}
	pl_rows_free(vers);
	pl_rows_free(aliases);
	if (rc) {
		if (res)
			pl_rows_free(res);
		return rc;
	}
	*out = res;
	return 0;
}

int pl_blobs_all_files(pl_catdb *db, pl_rows **out, pl_err *err)
{
	*out = NULL;
	bool exists = false;
	int rc = db->ops->table_exists(db, "planar_blob_alias", &exists, err);
	if (rc == 0)
		rc = pl_catdb_query(db,
				    exists ? "SELECT f.name, f.version, f.path, f.size, f.etag, f.sha256 FROM planar_blob_file f "
					     "JOIN planar_blob_version v ON v.name = f.name AND v.version = f.version "
					     "WHERE v.state = 'committed' ORDER BY f.name, f.version, f.path"
					   : "SELECT NULL AS name, NULL AS version, NULL AS path, NULL AS size, NULL AS etag, "
					     "NULL AS sha256 WHERE 1 = 0",
				    NULL, 0, out, err);
	return rc;
}
