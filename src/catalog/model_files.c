/*
 * model_files.c -- a model's data files, loaded per table on first use, and what a table's view
 * needs of them without loading them (see model.h).
 *
 * A table's files are two indexed queries (its live data files, its live delete files); the
 * summary is one query of five small subqueries, each stopping at its first rows. All of it
 * runs under the model's lock, on the catalog connection the model was loaded from.
 */
#include "catalog/model.h"

#include "catalog/model_rows.h"
#include "catalog/inline.h"

#include <stdlib.h>
#include <string.h>

#include "core/objhooks.h"
#include "core/str.h"

#define STR_(x) #x
#define STR(x) STR_(x)

static void lock(const pl_model *m)
{
	pthread_mutex_lock((pthread_mutex_t *)&m->lock);
}

static void unlock(const pl_model *m)
{
	pthread_mutex_unlock((pthread_mutex_t *)&m->lock);
}

static void free_files(pl_data_file *files, size_t n)
{
	for (size_t i = 0; i < n; i++)
		pl_model__free_file(&files[i]);
	free(files);
}

/* Reads t's live files and their delete files at m's snapshot into t (under m's lock). */
static int load_table(pl_model *m, pl_table *t, pl_err *err)
{
	if (!m->cat)
		return pl_err_set(err, PL_ERROR, "internal error: the files of table \"%s\" were not loaded", t->name);
	pl_rows *r = NULL, *d = NULL;
	pl_val p[] = {PL_VINT(t->id), PL_VINT(m->snapshot_id), PL_VINT(m->snapshot_id)};
	int rc = pl_catdb_query(m->cat, PL_MODEL_FILE_COLUMNS " table_id = ? AND" PL_MODEL_LIVE_AT
			       " ORDER BY file_order, data_file_id", p, 3, &r, err);
	if (rc == 0)
		rc = pl_catdb_query(m->cat, PL_MODEL_DELETE_COLUMNS " table_id = ? AND" PL_MODEL_LIVE_AT
				    " ORDER BY data_file_id", p, 3, &d, err);
	pl_data_file *files = rc == 0 ? calloc(r->nrows + 1, sizeof(*files)) : NULL;
	size_t n = 0;
	if (rc == 0 && !files)
		rc = pl_err_nomem(err);
	for (size_t i = 0; rc == 0 && i < r->nrows; i++) {
		if (!pl_model__fill_file(t, &files[n], r, i))
			rc = pl_err_nomem(err);
		else
			n++;
	}
	if (rc == 0) {
		t->files = files;
		t->nfiles = n;
		t->files_cap = r->nrows + 1;
		t->files_snapshot = m->snapshot_id;
		t->files_deferred = false;
		t->summary_known = false;
		if (!pl_model__apply_table_deletes(t, d, 0, d->nrows, false)) {
			t->files = NULL;
			t->nfiles = t->files_cap = 0;
			t->files_deferred = true;
			rc = pl_err_nomem(err);
		} else if ((rc = pl_model__load_inlined_deletes(m, t, err)) != 0) {
			t->files = NULL;
			t->nfiles = t->files_cap = 0;
			t->files_deferred = true;
		}
	}
	if (rc)
		free_files(files, n);
	pl_rows_free(r);
	pl_rows_free(d);
	return rc;
}

int pl_model_table_files(const pl_model *m, const pl_table *t, const pl_data_file **files, size_t *n, pl_err *err)
{
	int rc = 0;
	lock(m);
	if (t->files_deferred)
		rc = load_table((pl_model *)m, (pl_table *)t, err);
	if (files)
		*files = rc ? NULL : t->files;
	if (n)
		*n = rc ? 0 : t->nfiles;
	unlock(m);
	return rc;
}

/* The files of every table not loaded yet, from one query over all tables (under m's lock). */
static int load_all(pl_model *m, pl_err *err)
{
	bool *fresh = calloc(m->ntables + 1, sizeof(*fresh));
	size_t *count = calloc(m->ntables + 1, sizeof(*count));
	pl_rows *r = NULL, *d = NULL;
	pl_val p[] = {PL_VINT(m->snapshot_id), PL_VINT(m->snapshot_id)};
	int rc = !fresh || !count ? pl_err_nomem(err) : 0;
	if (rc == 0)
		rc = pl_catdb_query(m->cat, PL_MODEL_FILE_COLUMNS PL_MODEL_LIVE_AT " ORDER BY table_id, file_order, data_file_id",
				    p, 2, &r, err);
	if (rc == 0)
		rc = pl_catdb_query(m->cat, PL_MODEL_DELETE_COLUMNS PL_MODEL_LIVE_AT " ORDER BY table_id, data_file_id", p,
				    2, &d, err);
	for (size_t i = 0; rc == 0 && i < r->nrows; i++) {
		pl_table *t = pl_model__table_mut(m, pl_rows_int(r, i, 0, -1));
		if (t && t->files_deferred)
			count[t - m->tables]++;
	}
	for (size_t k = 0; rc == 0 && k < m->ntables; k++) {
		pl_table *t = &m->tables[k];
		if (!t->files_deferred)
			continue;
		if (!(t->files = calloc(count[k] + 1, sizeof(*t->files)))) {
			rc = pl_err_nomem(err);
			break;
		}
		t->files_cap = count[k] + 1;
		t->files_snapshot = m->snapshot_id;
		t->nfiles = 0;
		t->files_deferred = false;
		t->summary_known = false;
		fresh[k] = true;
	}
	for (size_t i = 0; rc == 0 && i < r->nrows; i++) {
		pl_table *t = pl_model__table_mut(m, pl_rows_int(r, i, 0, -1));
		if (!t || !fresh[t - m->tables])
			continue;
		if (!pl_model__fill_file(t, &t->files[t->nfiles], r, i))
			rc = pl_err_nomem(err);
		else
			t->nfiles++;
	}
	for (size_t i = 0, j; rc == 0 && i < d->nrows; i = j) {
		int64_t id = pl_rows_int(d, i, 0, -1);
		for (j = i + 1; j < d->nrows && pl_rows_int(d, j, 0, -1) == id; j++)
			;
		pl_table *t = pl_model__table_mut(m, id);
		if (t && fresh[t - m->tables] && !pl_model__apply_table_deletes(t, d, i, j, false))
			rc = pl_err_nomem(err);
	}
	for (size_t k = 0; rc == 0 && k < m->ntables; k++)
		if (fresh[k])
			rc = pl_model__load_inlined_deletes(m, &m->tables[k], err);
	for (size_t k = 0; rc && fresh && k < m->ntables; k++) {
		if (!fresh[k])
			continue;
		pl_table *t = &m->tables[k];
		free_files(t->files, t->nfiles);
		t->files = NULL;
		t->nfiles = t->files_cap = 0;
		t->files_deferred = true;
	}
	pl_rows_free(r);
	pl_rows_free(d);
	free(fresh);
	free(count);
	return rc;
}

int pl_model_load_all_files(pl_model *m, pl_err *err)
{
	int rc = 0;
	lock(m);
	for (size_t k = 0; rc == 0 && k < m->ntables; k++)
		if (m->tables[k].files_deferred) {
			rc = load_all(m, err);
			break;
		}
	unlock(m);
	return rc;
}

static void summarize_files(const pl_table *t, pl_files_summary *s)
{
	memset(s, 0, sizeof(*s));
	s->nfiles = t->nfiles;
	for (size_t i = 0; i < t->nfiles; i++) {
		const pl_data_file *f = &t->files[i];
		if (f->begin_snapshot > t->schema_since) { /* as table/scan.c in_layout() */
			s->current = true;
			s->current_deletes = s->current_deletes || f->delete_path || f->ninlined_deletes;
		} else {
			s->older = true;
			s->older_deletes = s->older_deletes || f->delete_path || f->ninlined_deletes;
		}
	}
}

#define LIVE_F " ? >= f.begin_snapshot AND (f.end_snapshot IS NULL OR ? < f.end_snapshot)"
#define LIVE_D " ? >= d.begin_snapshot AND (d.end_snapshot IS NULL OR ? < d.end_snapshot)"
#define ANY_FILE(cond) \
	"(SELECT count(*) FROM (SELECT 1 AS x FROM ducklake_data_file f WHERE f.table_id = ? AND f.begin_snapshot " cond \
	" ? AND" LIVE_F " LIMIT 1) AS q)"
#define ANY_DELETE(cond) \
	"(SELECT count(*) FROM (SELECT 1 AS x FROM ducklake_delete_file d JOIN ducklake_data_file f ON " \
	"f.data_file_id = d.data_file_id WHERE d.table_id = ? AND f.begin_snapshot " cond " ? AND" LIVE_D " AND" LIVE_F \
	" LIMIT 1) AS q)"
/* a merged file with rows of snapshots after the model's: they read as deleted. Such a file was
 * written by a later commit, so its id is at least the model's next_file_id: the subquery walks
 * those ids only (the unary pluses keep the catalog from walking the table's files by the other
 * conditions instead, which grows with the table). */
#define ANY_PARTIAL(cond) \
	"(SELECT count(*) FROM (SELECT 1 AS x FROM ducklake_data_file f WHERE f.data_file_id >= ? AND +f.table_id = ? " \
	"AND +f.begin_snapshot " cond " ? AND ? >= +f.begin_snapshot AND (f.end_snapshot IS NULL OR ? < f.end_snapshot) " \
	"AND f.partial_max > ? LIMIT 1) AS q)"

/* Each subquery stops at its first rows (LIMIT) on the catalog's indexes (table_id, ...). */
static const char summary_sql[] =
	"SELECT (SELECT count(*) FROM (SELECT 1 AS x FROM ducklake_data_file f WHERE f.table_id = ? AND" LIVE_F
	" LIMIT " STR(PL_MODEL_SUMMARY_FILES) ") AS q), " ANY_FILE(">") ", " ANY_FILE("<=") ", " ANY_DELETE(">") ", "
	ANY_DELETE("<=") ", " ANY_PARTIAL(">") ", " ANY_PARTIAL("<=");

static int query_summary(const pl_model *m, const pl_table *t, pl_files_summary *s, pl_err *err)
{
	if (!m->cat)
		return pl_err_set(err, PL_ERROR, "internal error: the files of table \"%s\" were not loaded", t->name);
	pl_val id = PL_VINT(t->id), since = PL_VINT(t->schema_since), snap = PL_VINT(m->snapshot_id);
	pl_val later = PL_VINT(m->next_file_id);
	pl_val p[] = {id, snap, snap,
		      id, since, snap, snap,
		      id, since, snap, snap,
		      id, since, snap, snap, snap, snap,
		      id, since, snap, snap, snap, snap,
		      later, id, since, snap, snap, snap,
		      later, id, since, snap, snap, snap};
	pl_rows *r = NULL;
	int rc = pl_catdb_query(m->cat, summary_sql, p, sizeof(p) / sizeof(p[0]), &r, err);
	if (rc)
		return rc;
	s->nfiles = (size_t)pl_rows_int(r, 0, 0, 0);
	s->current = pl_rows_int(r, 0, 1, 0) > 0;
	s->older = pl_rows_int(r, 0, 2, 0) > 0;
	s->current_deletes = pl_rows_int(r, 0, 3, 0) > 0;
	s->older_deletes = pl_rows_int(r, 0, 4, 0) > 0;
	s->current_deletes = s->current_deletes || pl_rows_int(r, 0, 5, 0) > 0;
	s->older_deletes = s->older_deletes || pl_rows_int(r, 0, 6, 0) > 0;
	pl_rows_free(r);
	/* deletes kept in the catalog (ducklake_inlined_delete_<table>): either layout may have them */
	rc = pl_inline_file_deletes(m->cat, t->id, 0, m->snapshot_id, &r, err);
	if (rc == 0 && r && r->nrows > 0) {
		s->current_deletes = s->current_deletes || s->current;
		s->older_deletes = s->older_deletes || s->older;
	}
	pl_rows_free(r);
	return rc;
}

int pl_model_table_summary(const pl_model *m, const pl_table *t, pl_files_summary *out, pl_err *err)
{
	int rc = 0;
	lock(m);
	if (t->summary_known && (t->files_deferred || t->summary.nfiles == t->nfiles)) {
		*out = t->summary; /* (a copy of a table with a subset of its files has fewer) */
	} else {
		if (!t->files_deferred)
			summarize_files(t, out);
		else
			rc = query_summary(m, t, out, err);
		if (rc == 0) {
			((pl_table *)t)->summary = *out;
			((pl_table *)t)->summary_known = true;
		}
	}
	unlock(m);
	return rc;
}

int pl_model_table_some_file(const pl_model *m, const pl_table *t, bool current, char **path, pl_err *err)
{
	*path = NULL;
	lock(m);
	int rc = 0;
	/* a small one: on an S3 lake, binding a view fetches the whole file into the cache (the
	 * smallest of the loaded files; of the first few the catalog finds, else, so that the
	 * query does not grow with the table) */
	if (!t->files_deferred) {
		const pl_data_file *best = NULL;
		for (size_t i = 0; i < t->nfiles; i++)
			if ((t->files[i].begin_snapshot > t->schema_since) == current &&
			    (!best || (uint64_t)t->files[i].file_size < (uint64_t)best->file_size))
				best = &t->files[i];
		if (best && !(*path = pl_strdup(best->path)))
			rc = pl_err_nomem(err);
		unlock(m);
		return rc;
	}
	pl_rows *r = NULL;
	pl_val p[] = {PL_VINT(t->id), PL_VINT(t->schema_since), PL_VINT(m->snapshot_id), PL_VINT(m->snapshot_id)};
	if (!m->cat)
		rc = pl_err_set(err, PL_ERROR, "internal error: the files of table \"%s\" were not loaded", t->name);
	else
		rc = pl_catdb_query(m->cat,
				    current ? "SELECT path, path_is_relative FROM (SELECT path, path_is_relative, file_size_bytes "
					      "FROM ducklake_data_file f WHERE f.table_id = ? AND f.begin_snapshot > ? AND" LIVE_F
					      " LIMIT " STR(PL_MODEL_SUMMARY_FILES) ") AS q ORDER BY file_size_bytes LIMIT 1"
					    : "SELECT path, path_is_relative FROM (SELECT path, path_is_relative, file_size_bytes "
					      "FROM ducklake_data_file f WHERE f.table_id = ? AND f.begin_snapshot <= ? AND" LIVE_F
					      " LIMIT " STR(PL_MODEL_SUMMARY_FILES) ") AS q ORDER BY file_size_bytes LIMIT 1",
				    p, 4, &r, err);
	if (rc == 0 && r->nrows > 0) {
		if (!(*path = pl_objhook_file_path(t->dir, pl_rows_get(r, 0, 0), pl_rows_bool(r, 0, 1, true))))
			rc = pl_err_nomem(err);
	}
	pl_rows_free(r);
	unlock(m);
	return rc;
}

size_t pl_model_table_nfiles_hint(const pl_model *m, const pl_table *t)
{
	lock(m);
	size_t n = !t->files_deferred ? t->nfiles : t->summary_known ? t->summary.nfiles : SIZE_MAX;
	unlock(m);
	return n;
}
