/*
 * model_advance.c -- bringing a loaded model forward to a newer snapshot when only data changed
 * (see pl_model_advance in model.h).
 *
 * Every snapshot since the model's must have a changes row naming only inserted_into_table /
 * deleted_from_table / inlined_insert, and the schema version must be the same; then up to four
 * indexed queries fetch the data files and delete files that began or ended since (only those
 * the change kinds can produce: none for rows inlined into the catalog), and the table
 * statistics are re-read. Applying the rows is idempotent, so a model left half-advanced by a failure is
 * completed by advancing it again.
 */
#include "catalog/model.h"

#include <stdlib.h>
#include <string.h>

#include "catalog/model_rows.h"
#include "core/str.h"

/* What the snapshots in (from, to] changed, from their changes rows. */
typedef struct data_changes {
	bool data_only;   /* every snapshot has a changes row naming only the kinds below */
	bool files_added; /* inserted_into_table: data files (and delete files of them) began */
	bool deleted;     /* deleted_from_table: delete files began or ended, data files ended */
} data_changes;

/* The note of db's last commit when it made exactly the snapshots (from, to], else NULL. */
static const pl_commit_note *own_commit(const pl_catdb *db, int64_t from, int64_t to)
{
	const pl_commit_note *n = &db->note;
	return n->changes && n->base == from && n->snapshot == to ? n : NULL;
}

/* Fills *out from the changes rows of the snapshots in (from, to] (the commit's note when db made
 * them). */
static int only_data_changes(pl_catdb *db, int64_t from, int64_t to, data_changes *out, pl_err *err)
{
	pl_rows *r = NULL;
	const pl_commit_note *own = own_commit(db, from, to);
	if (own) {
		char *cells[1] = {pl_strdup(own->changes)};
		if (!cells[0] || pl_rows_new(&r, 1) || pl_rows_append(r, cells)) {
			free(cells[0]);
			pl_rows_free(r);
			return pl_err_nomem(err);
		}
	} else {
		pl_val p[] = {PL_VINT(from), PL_VINT(to)};
		int rc = pl_catdb_query(db, "SELECT changes_made FROM ducklake_snapshot_changes WHERE snapshot_id > ? AND "
					    "snapshot_id <= ?",
					p, 2, &r, err);
		if (rc)
			return rc;
	}
	*out = (data_changes){(int64_t)r->nrows == to - from, false, false};
	bool *yes = &out->data_only;
	for (size_t i = 0; *yes && i < r->nrows; i++) {
		const char *c = pl_rows_get(r, i, 0);
		while (*yes && c && *c) {
			/* rows inlined into the catalog change no object either; deletes kept in the catalog
			 * (inlined rows' or data files' rows) and flushes (files that begin at their rows'
			 * snapshots, before the snapshot that adds them) need a full load */
			bool added = strncmp(c, "inserted_into_table:", 20) == 0, deleted = strncmp(c, "deleted_from_table:", 19) == 0;
			*yes = added || deleted || strncmp(c, "inlined_insert:", 15) == 0;
			out->files_added = out->files_added || added;
			out->deleted = out->deleted || deleted;
			c = strchr(c, ',');
			c = c ? c + 1 : NULL;
		}
		*yes = *yes && c == NULL;
	}
	pl_rows_free(r);
	return 0;
}

static int cmp_int64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* ids ascending */
static bool has_id(const int64_t *ids, size_t n, int64_t id)
{
	return n > 0 && bsearch(&id, ids, n, sizeof(*ids), cmp_int64) != NULL;
}

static int cmp_file_order(const void *a, const void *b)
{
	const pl_data_file *x = a, *y = b;
	if (x->file_order != y->file_order)
		return x->file_order < y->file_order ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Appends the added rows of t to its files and drops the gone ones, in place (the array grows
 * by doubling, so a commit of a few files costs a few files, not the table's size); false when
 * out of memory (t's files unchanged). Files already present are not added twice. */
static bool advance_table_files(pl_table *t, const pl_rows *added, const int64_t *gone, size_t ngone, int64_t snap)
{
	size_t nadd = 0;
	for (size_t i = 0; i < added->nrows; i++)
		nadd += pl_rows_int(added, i, 0, -1) == t->id;
	if (nadd == 0 && ngone == 0) {
		t->files_snapshot = snap;
		return true;
	}
	if (t->nfiles + nadd + 1 > t->files_cap) {
		size_t cap = t->files_cap * 2 > t->nfiles + nadd + 1 ? t->files_cap * 2 : t->nfiles + nadd + 1;
		pl_data_file *p = realloc(t->files, cap * sizeof(*p));
		if (!p)
			return false;
		t->files = p;
		t->files_cap = cap;
	}
	size_t n = t->nfiles;
	bool ok = true, sorted = true;
	for (size_t i = 0; ok && i < added->nrows; i++) {
		/* files the table has (a failed advance applied them) are not added twice */
		if (pl_rows_int(added, i, 0, -1) != t->id || pl_rows_int(added, i, 10, 0) <= t->files_snapshot)
			continue;
		ok = pl_model__fill_file(t, &t->files[n], added, i);
		sorted = sorted && (n == 0 || cmp_file_order(&t->files[n - 1], &t->files[n]) <= 0);
		n += ok;
	}
	if (!ok) {
		for (size_t i = t->nfiles; i < n; i++)
			free(t->files[i].path);
		return false;
	}
	/* a remembered summary: new files are of the current layout (the columns did not change) */
	t->summary.current = t->summary.current || n > t->nfiles;
	t->summary.nfiles += n - t->nfiles;
	t->summary_known = t->summary_known && ngone == 0;
	if (ngone > 0) {
		size_t kept = 0;
		for (size_t i = 0; i < n; i++) {
			if (has_id(gone, ngone, t->files[i].id))
				pl_model__free_file(&t->files[i]);
			else
				t->files[kept++] = t->files[i];
		}
		n = kept;
	}
	t->nfiles = n;
	t->files_snapshot = snap;
	if (!sorted)
		qsort(t->files, t->nfiles, sizeof(*t->files), cmp_file_order);
	return true;
}

static bool advance_files(pl_model *m, const pl_rows *added, const pl_rows *gone, int64_t snap)
{
	int64_t *ids = malloc((gone->nrows + 1) * sizeof(*ids));
	bool ok = ids != NULL;
	for (size_t k = 0; ok && k < m->ntables; k++) {
		pl_table *t = &m->tables[k];
		if (t->files_deferred) /* loads at the new snapshot when first used */
			continue;
		size_t n = 0;
		for (size_t i = 0; i < gone->nrows; i++)
			if (pl_rows_int(gone, i, 0, -1) == t->id)
				ids[n++] = pl_rows_int(gone, i, 1, -1);
		qsort(ids, n, sizeof(*ids), cmp_int64);
		ok = advance_table_files(t, added, ids, n, snap);
	}
	free(ids);
	return ok;
}

/* Replaces *r (an empty row set) with the rows of sql over (a, b, c). */
static int refill(pl_rows **r, pl_catdb *db, const char *sql, int64_t a, int64_t b, int64_t c, pl_err *err)
{
	pl_val p[] = {PL_VINT(a), PL_VINT(b), PL_VINT(c)};
	pl_rows *out = NULL;
	int rc = pl_catdb_query(db, sql, p, 3, &out, err);
	if (rc == 0) {
		pl_rows_free(*r);
		*r = out;
	}
	return rc;
}

/* A table whose files are not loaded forgets its summary when any of the rows names it. */
static void forget_summaries(pl_model *m, const pl_rows *r)
{
	for (size_t i = 0; i < r->nrows; i++) {
		pl_table *t = pl_model__table_mut(m, pl_rows_int(r, i, 0, -1));
		if (t && t->files_deferred)
			t->summary_known = false;
	}
}

/* A table whose files are not loaded keeps its summary over snapshots that only added files
 * (no deletes): the new files are of its current layout (the columns did not change) and have no
 * deleted rows. Kept only when no file had deleted rows before (files whose rows of later
 * snapshots read as deleted may no longer count as such at the new snapshot). Run once the
 * advance succeeded: counting the files twice is what a second run would do. */
static void add_to_summaries(pl_model *m, const pl_rows *added)
{
	for (size_t i = 0; i < added->nrows; i++) {
		pl_table *t = pl_model__table_mut(m, pl_rows_int(added, i, 0, -1));
		if (!t || !t->files_deferred || !t->summary_known)
			continue;
		pl_files_summary *s = &t->summary;
		if (s->current_deletes || s->older_deletes || !pl_rows_is_null(added, i, 12)) {
			t->summary_known = false;
			continue;
		}
		s->current = true;
		if (s->nfiles < PL_MODEL_SUMMARY_FILES)
			s->nfiles++;
	}
}

/* The statistics rows a commit of m's tables wrote (the others did not change). */
static void apply_noted_stats(pl_model *m, const pl_commit_note *own)
{
	for (size_t i = 0; i < own->nstats; i++) {
		pl_table *t = pl_model__table_mut(m, own->stats[i].table_id);
		if (!t)
			continue;
		t->has_stats = true;
		t->record_count = own->stats[i].record_count;
		t->next_row_id = own->stats[i].next_row_id;
		t->file_size_bytes = own->stats[i].file_size_bytes;
	}
}

#define BEGAN_SINCE " begin_snapshot > ? AND begin_snapshot <= ? AND (end_snapshot IS NULL OR end_snapshot > ?)"
#define ENDED_SINCE " end_snapshot > ? AND end_snapshot <= ? AND begin_snapshot <= ?"

static int advance(pl_model *m, pl_catdb *db, int64_t snap, bool *advanced, pl_err *err)
{
	pl_model next = {0};
	pl_rows *r[4] = {0};
	int64_t from = m->snapshot_id;
	data_changes ch = {0};
	*advanced = false;
	if (m->refs > 1) /* someone still reads this state: the caller loads a new model */
		return 0;
	int rc = only_data_changes(db, from, snap, &ch, err);
	bool data_only = ch.data_only;
	/* Only rows inlined into the catalog: no data or delete file began or ended. */
	bool files = ch.files_added || ch.deleted;
	/* a snapshot this connection just made on top of m's: what it wrote is known */
	const pl_commit_note *own = own_commit(db, from, snap);
	if (rc == 0 && data_only && own) {
		next.schema_version = own->schema_version;
		next.next_catalog_id = own->next_catalog_id;
		next.next_file_id = own->next_file_id;
		if (!(next.snapshot_time = pl_strdup(own->time)))
			rc = pl_err_nomem(err);
	} else if (rc == 0 && data_only)
		rc = pl_model__load_snapshot(&next, db, snap, err);
	/* a commit of this connection that wrote no delete file began none before its snapshot */
	bool own_deletes = !own || own->delete_files > 0;
	if (rc == 0 && data_only && files && own_deletes) {
		/* files committed since that begin at or before m's snapshot (a flush of deletes kept
		 * in the catalog rewrites a data file's delete file with its history) need a full load */
		pl_rows *old = NULL;
		pl_val p[] = {PL_VINT(m->next_file_id), PL_VINT(from)};
		rc = pl_catdb_query(db, "SELECT count(*) FROM ducklake_delete_file WHERE delete_file_id >= ? AND "
					"begin_snapshot <= ?", p, 2, &old, err);
		data_only = rc == 0 && pl_rows_int(old, 0, 0, 0) == 0;
		pl_rows_free(old);
	}
	if (rc || !data_only || next.schema_version != m->schema_version) {
		free(next.snapshot_time);
		return rc;
	}
	/* Each query runs only when a change kind of the range can produce its rows (an empty row
	 * set stands for one that cannot): files begin with inserted_into_table, data files and
	 * delete files end only with deleted_from_table, and delete files begin with either (those
	 * of data files the same snapshot added are listed under its insert). */
	for (int i = 0; rc == 0 && i < 4; i++)
		if (!(r[i] = calloc(1, sizeof(pl_rows))))
			rc = pl_err_nomem(err);
	/* the data files this connection's commit just wrote are known, unless it also ended some */
	bool noted = own && own->files && !ch.deleted;
	if (rc == 0 && ch.files_added && !noted)
		rc = refill(&r[0], db, PL_MODEL_FILE_COLUMNS BEGAN_SINCE " ORDER BY table_id, file_order, data_file_id",
			    from, snap, snap, err);
	const pl_rows *added = noted && ch.files_added ? own->files : r[0];
	if (rc == 0 && ch.deleted)
		rc = refill(&r[1], db, "SELECT table_id, data_file_id FROM ducklake_data_file WHERE" ENDED_SINCE, from,
			    snap, from, err);
	if (rc == 0 && ch.deleted)
		rc = refill(&r[2], db, "SELECT table_id, data_file_id, delete_file_id FROM ducklake_delete_file WHERE"
			    ENDED_SINCE " ORDER BY table_id", from, snap, from, err);
	if (rc == 0 && files && own_deletes)
		rc = refill(&r[3], db, PL_MODEL_DELETE_COLUMNS BEGAN_SINCE " ORDER BY table_id, data_file_id", from, snap,
			    snap, err);
	if (rc == 0)
		rc = pl_model__load_namemaps(m, db, added, err);
	/* From here only memory can fail; a failure leaves m at its snapshot id with some of the
	 * changes applied, which applying them again completes. */
	if (rc == 0 && (!advance_files(m, added, r[1], snap) || !pl_model__apply_deletes(m, r[2], true) || !pl_model__apply_deletes(m, r[3], false)))
		rc = pl_err_nomem(err);
	/* summaries of tables that only gained files are brought forward below */
	for (int i = ch.deleted ? 0 : 1; rc == 0 && i < 4; i++)
		forget_summaries(m, i == 0 ? added : r[i]);
	if (rc == 0 && own)
		apply_noted_stats(m, own);
	else if (rc == 0)
		rc = pl_model__load_stats(m, db, err);
	if (rc == 0 && !ch.deleted)
		add_to_summaries(m, added);
	for (int i = 0; i < 4; i++)
		pl_rows_free(r[i]);
	if (rc) {
		free(next.snapshot_time);
		return rc;
	}
	free(m->snapshot_time);
	m->snapshot_time = next.snapshot_time;
	m->next_catalog_id = next.next_catalog_id;
	m->next_file_id = next.next_file_id;
	m->snapshot_id = snap;
	*advanced = true;
	return 0;
}


int pl_model_advance(pl_model *m, pl_catdb *db, int64_t snap, bool *advanced, pl_err *err)
{
	pthread_mutex_lock(&m->lock);
	int rc = advance(m, db, snap, advanced, err);
	pthread_mutex_unlock(&m->lock);
	return rc;
}
