/*
 * maintenance.c -- snapshot expiry and file cleanup (see maintenance.h): the catalog side is
 * catalog/upkeep.c, the file side storage/sweep.c; this joins them under one catalog write
 * transaction.
 */
#include "table/maintenance.h"

#include <stdlib.h>
#include <string.h>

#include "catalog/upkeep.h"
#include "storage/sweep.h"

/* Ends the catalog transaction: commits when rc is 0 and commit is asked, else rolls back. */
static int finish(pl_catdb *db, int rc, bool commit, pl_err *err)
{
	if (rc == 0 && commit)
		rc = db->ops->commit(db, err);
	if (rc || !commit) {
		pl_err saved = *err, ignored = {0};
		db->ops->rollback(db, &ignored);
		*err = saved;
	}
	return rc;
}

int pl_maint_expire_snapshots(pl_catdb *db, const char *data_path, const pl_expire_request *req, pl_rows **out,
			      pl_err *err)
{
	*out = NULL;
	int rc = db->ops->begin(db, err);
	if (rc)
		return rc;
	pl_rows *rows = NULL;
	rc = pl_upkeep_expirable(db, req->older_than, req->versions, req->nversions, &rows, err);
	int64_t *ids = NULL;
	size_t n = rows ? rows->nrows : 0, scheduled = 0;
	if (rc == 0 && !req->dry_run && n > 0) {
		ids = malloc(n * sizeof(*ids));
		if (!ids)
			rc = pl_err_nomem(err);
		for (size_t i = 0; ids && i < n; i++)
			ids[i] = pl_rows_int(rows, i, 0, -1);
		if (rc == 0)
			rc = pl_upkeep_expire(db, ids, n, data_path, &scheduled, err);
	}
	free(ids);
	rc = finish(db, rc, !req->dry_run && n > 0, err);
	if (rc)
		pl_rows_free(rows);
	else
		*out = rows;
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The canonical forms of every path the catalog knows, sorted. */
static int known_set(pl_catdb *db, const char *data_path, bool with_scheduled, pl_sweep_dirs *dirs, pl_strv *out,
		     pl_err *err)
{
	pl_strv raw = PL_STRV_INIT;
	int rc = pl_upkeep_known_paths(db, data_path, with_scheduled, &raw, err);
	for (size_t i = 0; rc == 0 && i < raw.len; i++)
		rc = pl_strv_push_owned(out, pl_sweep_canonical(dirs, raw.items[i])) ? pl_err_nomem(err) : 0;
	pl_strv_dispose(&raw);
	if (rc == 0 && out->len > 1)
		qsort(out->items, out->len, sizeof(*out->items), cmp_str);
	return rc;
}

static bool in_set(const pl_strv *set, const char *s)
{
	return set->len && bsearch(&s, set->items, set->len, sizeof(*set->items), cmp_str) != NULL;
}

/* The kinds of file a lake has: Parquet data and delete files, Puffin deletion vectors. */
static const char *const lake_suffixes[] = {".parquet", ".puffin", NULL};

static bool lake_file_name(const char *path)
{
	for (const char *const *s = lake_suffixes; *s; s++)
		if (pl_str_has_suffix(path, *s))
			return true;
	return false;
}

int pl_maint_cleanup_old_files(pl_catdb *db, const char *data_path, const char *before, bool dry_run, pl_strv *out,
			       pl_err *err)
{
	pl_sweep_dirs *dirs = NULL;
	pl_strv known = PL_STRV_INIT;
	pl_rows *sched = NULL;
	size_t *done = NULL, ndone = 0;
	char *root = NULL;
	int rc = pl_sweep_dirs_new(&dirs, err);
	if (rc)
		return rc;
	if ((rc = db->ops->begin(db, err)) != 0) {
		pl_sweep_dirs_free(dirs);
		return rc;
	}
	rc = pl_upkeep_scheduled(db, before, data_path, &sched, err);
	if (rc == 0 && sched->nrows > 0) {
		rc = pl_sweep_root(data_path, &root, err);
		if (rc == 0)
			rc = known_set(db, data_path, false, dirs, &known, err);
		if (rc == 0 && !(done = calloc(sched->nrows, sizeof(*done))))
			rc = pl_err_nomem(err);
	}
	for (size_t i = 0; rc == 0 && sched && i < sched->nrows; i++) {
		const char *full = pl_rows_get(sched, i, 3);
		if (!full)
			continue;
		char *canon = pl_sweep_canonical(dirs, full);
		if (!canon) {
			rc = pl_err_nomem(err);
			break;
		}
		/* a path some file row still names is never removed, whatever the schedule says, nor
		 * anything but a lake's kind of file (not, say, a catalog file in the data path) */
		bool safe = !in_set(&known, canon) && pl_sweep_is_below(root, canon) && lake_file_name(canon);
		free(canon);
		if (!safe)
			continue;
		pl_sweep_outcome outcome = PL_SWEEP_REFUSED;
		rc = (dry_run ? pl_sweep_check : pl_sweep_remove)(dirs, root, full, &outcome, err);
		if (rc == 0 && outcome != PL_SWEEP_REFUSED) {
			done[ndone++] = i;
			rc = pl_strv_push(out, full) ? pl_err_nomem(err) : 0;
		}
	}
	if (rc == 0 && !dry_run && ndone)
		rc = pl_upkeep_unschedule(db, sched, done, ndone, err);
	rc = finish(db, rc, !dry_run && ndone > 0, err);
	free(done);
	free(root);
	pl_rows_free(sched);
	pl_strv_dispose(&known);
	pl_sweep_dirs_free(dirs);
	return rc;
}

/* The staging directory a writer puts its files in before publishing them. */
static bool in_staging_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return false;
	const char *start = slash;
	while (start > path && start[-1] != '/')
		start--;
	return strncmp(start, ".planar-write-", strlen(".planar-write-")) == 0;
}

int pl_maint_delete_orphans(pl_catdb *db, const char *data_path, int64_t modified_before, bool dry_run, pl_strv *out,
			    pl_err *err)
{
	pl_sweep_dirs *dirs = NULL;
	pl_strv known = PL_STRV_INIT;
	pl_sweep_list files = {0};
	char *root = NULL;
	int rc = pl_sweep_dirs_new(&dirs, err);
	if (rc)
		return rc;
	/* the write lock keeps commits out: a file registered meanwhile would look orphaned */
	if ((rc = db->ops->begin(db, err)) != 0) {
		pl_sweep_dirs_free(dirs);
		return rc;
	}
	rc = pl_sweep_walk(data_path, lake_suffixes, &files, err);
	if (rc == 0 && files.len > 0)
		rc = pl_sweep_root(data_path, &root, err);
	if (rc == 0 && files.len > 0)
		rc = known_set(db, data_path, true, dirs, &known, err);
	for (size_t i = 0; rc == 0 && i < files.len; i++) {
		const pl_sweep_entry *f = &files.items[i];
		if (f->mtime_us >= modified_before)
			continue;
		char *canon = pl_sweep_canonical(dirs, f->path);
		if (!canon) {
			rc = pl_err_nomem(err);
			break;
		}
		bool orphan = !in_set(&known, canon) && pl_sweep_is_below(root, canon);
		free(canon);
		if (!orphan)
			continue;
		pl_sweep_outcome outcome = PL_SWEEP_REFUSED;
		rc = (dry_run ? pl_sweep_check : pl_sweep_remove)(dirs, root, f->path, &outcome, err);
		if (rc == 0 && outcome == PL_SWEEP_REMOVED)
			rc = pl_strv_push(out, f->path) ? pl_err_nomem(err) : 0;
		if (rc == 0 && !dry_run && outcome == PL_SWEEP_REMOVED && in_staging_dir(f->path)) {
			char *dir = pl_strndup(f->path, (size_t)(strrchr(f->path, '/') - f->path));
			if (dir)
				pl_sweep_remove_empty_dir(dirs, root, dir);
			free(dir);
		}
	}
	rc = finish(db, rc, false, err);
	free(root);
	pl_sweep_list_dispose(&files);
	pl_strv_dispose(&known);
	pl_sweep_dirs_free(dirs);
	return rc;
}
