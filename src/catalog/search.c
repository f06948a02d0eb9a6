/*
 * search.c -- the SQL of search index definitions (search.h), the same on SQLite, DuckDB and
 * PostgreSQL.
 */
#include "catalog/search.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/str.h"

void pl_search_def_dispose(pl_search_def *d)
{
	free(d->schema);
	free(d->table);
	free(d->text_column);
	free(d->id_column);
	free(d->vector_column);
	free(d->embedder);
	free(d->created_at);
	for (size_t i = 0; i < d->nmetadata; i++)
		free(d->metadata_columns[i]);
	free(d->metadata_columns);
	memset(d, 0, sizeof(*d));
}

void pl_search_defs_free(pl_search_def *defs, size_t n)
{
	for (size_t i = 0; defs && i < n; i++)
		pl_search_def_dispose(&defs[i]);
	free(defs);
}

void pl_search_now(char out[64])
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(out, 64, "%04d-%02d-%02d %02d:%02d:%02d.%06ld+00", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000);
}

static const char create_sql[] =
	"CREATE TABLE planar_search_index (table_id BIGINT NOT NULL PRIMARY KEY, schema_name VARCHAR NOT NULL, "
	"table_name VARCHAR NOT NULL, text_column VARCHAR NOT NULL, id_column VARCHAR NOT NULL, "
	"metadata_columns VARCHAR NOT NULL, vector_column VARCHAR, embedder VARCHAR NOT NULL, "
	"created_snapshot BIGINT NOT NULL, created_at VARCHAR NOT NULL)";

static int ensure(pl_catdb *db, pl_err *err)
{
	bool exists = false;
	int rc = db->ops->table_exists(db, "planar_search_index", &exists, err);
	if (rc || exists)
		return rc;
	if (db->read_only)
		return pl_err_set(err, PL_EINVALID, "the lake is read-only: it cannot record a search index");
	if ((rc = db->ops->begin(db, err)) != 0)
		return rc;
	rc = pl_catdb_exec(db, create_sql, NULL, 0, err);
	if (rc == 0)
		rc = db->ops->commit(db, err);
	if (rc) {
		pl_err ignored = {0, ""};
		db->ops->rollback(db, &ignored);
		if (db->ops->table_exists(db, "planar_search_index", &exists, &ignored) == 0 && exists)
			return 0; /* another writer created it first */
		pl_err_wrap(err, "cannot create the search index table in the lake's catalog");
	}
	return rc;
}

static char *columns_json(const pl_search_def *d)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < d->nmetadata; i++)
		if (json_array_append_new(a, json_string(d->metadata_columns[i]))) {
			json_decref(a);
			return NULL;
		}
	char *s = a ? json_dumps(a, JSON_COMPACT) : NULL;
	json_decref(a);
	return s;
}

int pl_search_def_insert(pl_catdb *db, const pl_search_def *d, pl_err *err)
{
	int rc = ensure(db, err);
	if (rc)
		return rc;
	char *cols = columns_json(d);
	if (!cols)
		return pl_err_nomem(err);
	pl_rows *rows = NULL;
	if ((rc = db->ops->begin(db, err)) != 0) {
		free(cols);
		return rc;
	}
	rc = pl_catdb_query(db, "SELECT count(*) FROM planar_search_index WHERE table_id = ?",
			    (pl_val[]){PL_VINT(d->table_id)}, 1, &rows, err);
	if (rc == 0 && pl_rows_int(rows, 0, 0, 0) > 0)
		rc = pl_err_set(err, PL_EEXISTS, "table \"%s.%s\" already has a search index (drop it first)", d->schema,
				d->table);
	pl_rows_free(rows);
	if (rc == 0)
		rc = pl_catdb_exec(db,
				   "INSERT INTO planar_search_index (table_id, schema_name, table_name, text_column, id_column, "
				   "metadata_columns, vector_column, embedder, created_snapshot, created_at) "
				   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
				   (pl_val[]){PL_VINT(d->table_id), PL_VTEXT(d->schema), PL_VTEXT(d->table),
					      PL_VTEXT(d->text_column), PL_VTEXT(d->id_column), PL_VTEXT(cols),
					      PL_VTEXT(d->vector_column), PL_VTEXT(d->embedder), PL_VINT(d->created_snapshot),
					      PL_VTEXT(d->created_at)},
				   10, err);
	free(cols);
	if (rc == 0)
		return db->ops->commit(db, err);
	pl_err ignored = {0, ""};
	db->ops->rollback(db, &ignored);
	return rc;
}

static int segment_drop(pl_catdb *db, int64_t table_id, pl_strv *removed, pl_err *err);

int pl_search_def_delete(pl_catdb *db, int64_t table_id, bool *found, pl_strv *removed, pl_err *err)
{
	*found = false;
	bool exists = false;
	int rc = db->ops->table_exists(db, "planar_search_index", &exists, err);
	if (rc || !exists)
		return rc;
	pl_rows *rows = NULL;
	if ((rc = db->ops->begin(db, err)) != 0)
		return rc;
	rc = pl_catdb_query(db, "SELECT count(*) FROM planar_search_index WHERE table_id = ?",
			    (pl_val[]){PL_VINT(table_id)}, 1, &rows, err);
	*found = rc == 0 && pl_rows_int(rows, 0, 0, 0) > 0;
	pl_rows_free(rows);
	if (rc == 0 && *found)
		rc = pl_catdb_exec(db, "DELETE FROM planar_search_index WHERE table_id = ?", (pl_val[]){PL_VINT(table_id)},
				   1, err);
	size_t before = removed->len;
	if (rc == 0 && *found)
		rc = segment_drop(db, table_id, removed, err);
	if (rc)
		while (removed->len > before)
			free(removed->items[--removed->len]);
	if (rc == 0)
		return db->ops->commit(db, err);
	pl_err ignored = {0, ""};
	db->ops->rollback(db, &ignored);
	return rc;
}

static char *dup_cell(const pl_rows *r, size_t row, size_t col, bool *oom)
{
	const char *s = pl_rows_get(r, row, col);
	char *d = s ? pl_strdup(s) : NULL;
	if (s && !d)
		*oom = true;
	return d;
}

static int read_def(const pl_rows *r, size_t i, pl_search_def *d, pl_err *err)
{
	bool oom = false;
	memset(d, 0, sizeof(*d));
	d->table_id = pl_rows_int(r, i, 0, -1);
	d->schema = dup_cell(r, i, 1, &oom);
	d->table = dup_cell(r, i, 2, &oom);
	d->text_column = dup_cell(r, i, 3, &oom);
	d->id_column = dup_cell(r, i, 4, &oom);
	d->vector_column = dup_cell(r, i, 6, &oom);
	d->embedder = dup_cell(r, i, 7, &oom);
	d->created_snapshot = pl_rows_int(r, i, 8, 0);
	d->created_at = dup_cell(r, i, 9, &oom);
	const char *cols = pl_rows_get(r, i, 5);
	json_t *a = cols ? json_loads(cols, 0, NULL) : NULL;
	size_t n = json_is_array(a) ? json_array_size(a) : 0;
	if (n && !(d->metadata_columns = calloc(n, sizeof(char *))))
		oom = true;
	for (size_t k = 0; !oom && k < n; k++) {
		const char *s = json_string_value(json_array_get(a, k));
		if (!s)
			continue;
		if (!(d->metadata_columns[d->nmetadata++] = pl_strdup(s)))
			oom = true;
	}
	json_decref(a);
	if (oom) {
		pl_search_def_dispose(d);
		return pl_err_nomem(err);
	}
	return 0;
}

#define SELECT_DEFS                                                                                         \
	"SELECT table_id, schema_name, table_name, text_column, id_column, metadata_columns, vector_column, " \
	"embedder, created_snapshot, created_at FROM planar_search_index"

/* Whether planar_search_index exists; once it has been seen, without asking the catalog again
 * (every search reads a definition, and the check costs as much as the read). */
static int index_table_exists(pl_catdb *db, bool *exists, pl_err *err)
{
	*exists = db->search_index_table;
	if (*exists)
		return 0;
	int rc = db->ops->table_exists(db, "planar_search_index", exists, err);
	if (rc == 0 && *exists)
		db->search_index_table = true;
	return rc;
}

int pl_search_def_get(pl_catdb *db, int64_t table_id, pl_search_def *out, bool *found, pl_err *err)
{
	*found = false;
	memset(out, 0, sizeof(*out));
	bool exists = false;
	int rc = index_table_exists(db, &exists, err);
	if (rc || !exists)
		return rc;
	pl_rows *rows = NULL;
	rc = pl_catdb_query(db, SELECT_DEFS " WHERE table_id = ?", (pl_val[]){PL_VINT(table_id)}, 1, &rows, err);
	if (rc == 0 && rows->nrows > 0) {
		rc = read_def(rows, 0, out, err);
		*found = rc == 0;
	}
	pl_rows_free(rows);
	return rc;
}

int pl_search_def_list(pl_catdb *db, pl_search_def **out, size_t *n, pl_err *err)
{
	*out = NULL;
	*n = 0;
	bool exists = false;
	int rc = index_table_exists(db, &exists, err);
	if (rc || !exists)
		return rc;
	pl_rows *rows = NULL;
	rc = pl_catdb_query(db, SELECT_DEFS " ORDER BY table_id", NULL, 0, &rows, err);
	if (rc == 0 && rows->nrows > 0 && !(*out = calloc(rows->nrows, sizeof(**out))))
		rc = pl_err_nomem(err);
	for (size_t i = 0; rc == 0 && i < rows->nrows; i++) {
		rc = read_def(rows, i, &(*out)[i], err);
		if (rc == 0)
			(*n)++;
	}
	pl_rows_free(rows);
	if (rc) {
		pl_search_defs_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

/* ---- segments ---- */

static const char create_segments_sql[] =
	"CREATE TABLE planar_search_segment (table_id BIGINT NOT NULL, index_created_at VARCHAR NOT NULL, "
	"path VARCHAR NOT NULL, begin_snapshot BIGINT NOT NULL, end_snapshot BIGINT NOT NULL, versions BIGINT NOT NULL, "
	"size_bytes BIGINT NOT NULL, created_at VARCHAR NOT NULL)";

static int ensure_segments(pl_catdb *db, pl_err *err)
{
	bool exists = false;
	int rc = db->ops->table_exists(db, "planar_search_segment", &exists, err);
	if (rc || exists)
		return rc;
	if (db->read_only)
		return pl_err_set(err, PL_EINVALID, "the lake is read-only: it cannot record a search index segment");
	if ((rc = db->ops->begin(db, err)) != 0)
		return rc;
	rc = pl_catdb_exec(db, create_segments_sql, NULL, 0, err);
	if (rc == 0)
		rc = db->ops->commit(db, err);
	if (rc) {
		pl_err ignored = {0, ""};
		db->ops->rollback(db, &ignored);
		if (db->ops->table_exists(db, "planar_search_segment", &exists, &ignored) == 0 && exists)
			return 0; /* another writer created it first */
		pl_err_wrap(err, "cannot create the search segment table in the lake's catalog");
	}
	return rc;
}

void pl_search_segments_free(pl_search_segment *s, size_t n)
{
	for (size_t i = 0; s && i < n; i++)
		free(s[i].path);
	free(s);
}

int pl_search_segment_list(pl_catdb *db, int64_t table_id, const char *index_created_at, pl_search_segment **out,
			   size_t *n, pl_err *err)
{
	*out = NULL;
	*n = 0;
	bool exists = false;
	int rc = db->ops->table_exists(db, "planar_search_segment", &exists, err);
	if (rc || !exists)
		return rc;
	pl_rows *rows = NULL;
	rc = pl_catdb_query(db,
			    "SELECT path, begin_snapshot, end_snapshot, versions, size_bytes FROM planar_search_segment "
			    "WHERE table_id = ? AND index_created_at = ? ORDER BY end_snapshot DESC, created_at DESC",
			    (pl_val[]){PL_VINT(table_id), PL_VTEXT(index_created_at)}, 2, &rows, err);
	if (rc == 0 && rows->nrows > 0 && !(*out = calloc(rows->nrows, sizeof(**out))))
		rc = pl_err_nomem(err);
	for (size_t i = 0; rc == 0 && i < rows->nrows; i++) {
		bool oom = false;
		pl_search_segment *s = &(*out)[i];
		s->path = dup_cell(rows, i, 0, &oom);
		s->begin_snapshot = pl_rows_int(rows, i, 1, 0);
		s->end_snapshot = pl_rows_int(rows, i, 2, 0);
		s->versions = pl_rows_int(rows, i, 3, 0);
		s->size_bytes = pl_rows_int(rows, i, 4, 0);
		(*n)++;
		if (oom)
			rc = pl_err_nomem(err);
	}
	pl_rows_free(rows);
	if (rc) {
		pl_search_segments_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

/* Moves the paths of rows (column 0) to out. */
static int take_paths(const pl_rows *rows, size_t from, pl_strv *out, pl_err *err)
{
	for (size_t i = from; i < rows->nrows; i++) {
		const char *p = pl_rows_get(rows, i, 0);
		if (p && pl_strv_push(out, p))
			return pl_err_nomem(err);
	}
	return 0;
}

int pl_search_segment_register(pl_catdb *db, int64_t table_id, const char *index_created_at,
			       const pl_search_segment *s, size_t keep, bool *registered, pl_strv *superseded,
			       pl_err *err)
{
	*registered = false;
	int rc = ensure_segments(db, err);
	if (rc)
		return rc;
	char now[64];
	pl_search_now(now);
	if ((rc = db->ops->begin(db, err)) != 0)
		return rc;
	pl_rows *rows = NULL;
	rc = pl_catdb_query(db, "SELECT count(*) FROM planar_search_index WHERE table_id = ? AND created_at = ?",
			    (pl_val[]){PL_VINT(table_id), PL_VTEXT(index_created_at)}, 2, &rows, err);
	bool live = rc == 0 && pl_rows_int(rows, 0, 0, 0) > 0;
	pl_rows_free(rows);
	rows = NULL;
	if (rc == 0 && live)
		rc = pl_catdb_exec(db,
				   "INSERT INTO planar_search_segment (table_id, index_created_at, path, begin_snapshot, "
				   "end_snapshot, versions, size_bytes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
				   (pl_val[]){PL_VINT(table_id), PL_VTEXT(index_created_at), PL_VTEXT(s->path),
					      PL_VINT(s->begin_snapshot), PL_VINT(s->end_snapshot), PL_VINT(s->versions),
					      PL_VINT(s->size_bytes), PL_VTEXT(now)},
				   8, err);
	if (rc == 0 && live)
		rc = pl_catdb_query(db,
				    "SELECT path FROM planar_search_segment WHERE table_id = ? AND index_created_at = ? "
				    "ORDER BY end_snapshot DESC, created_at DESC",
				    (pl_val[]){PL_VINT(table_id), PL_VTEXT(index_created_at)}, 2, &rows, err);
	size_t before = superseded->len;
	if (rc == 0 && live)
		rc = take_paths(rows, keep + 1, superseded, err);
	for (size_t i = keep + 1; rc == 0 && live && i < rows->nrows; i++)
		rc = pl_catdb_exec(db, "DELETE FROM planar_search_segment WHERE table_id = ? AND path = ?",
				   (pl_val[]){PL_VINT(table_id), PL_VTEXT(pl_rows_get(rows, i, 0))}, 2, err);
	pl_rows_free(rows);
	if (rc == 0 && (rc = db->ops->commit(db, err)) == 0) {
		*registered = live;
		return 0;
	}
	pl_err ignored = {0, ""};
	db->ops->rollback(db, &ignored);
	while (superseded->len > before)
		free(superseded->items[--superseded->len]);
	return rc;
}

/* Unregisters every segment of table_id (paths to *removed), in the caller's transaction. */
static int segment_drop(pl_catdb *db, int64_t table_id, pl_strv *removed, pl_err *err)
{
	bool exists = false;
	int rc = db->ops->table_exists(db, "planar_search_segment", &exists, err);
	if (rc || !exists)
		return rc;
	pl_rows *rows = NULL;
	rc = pl_catdb_query(db, "SELECT path FROM planar_search_segment WHERE table_id = ?",
			    (pl_val[]){PL_VINT(table_id)}, 1, &rows, err);
	if (rc == 0)
		rc = take_paths(rows, 0, removed, err);
	pl_rows_free(rows);
	if (rc == 0)
		rc = pl_catdb_exec(db, "DELETE FROM planar_search_segment WHERE table_id = ?", (pl_val[]){PL_VINT(table_id)},
				   1, err);
	return rc;
}
