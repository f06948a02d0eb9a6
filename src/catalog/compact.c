/*
 * compact.c -- the catalog rows of compaction (see compact.h): candidate files, and the commit
 * that swaps source files for the file written from them, with the conflict checks that make a
 * compaction racing a writer either land whole or change nothing.
 */
#include "catalog/compact.h"

#include <stdlib.h>
#include <string.h>

#include "catalog/batch.h"
#include "catalog/inline.h"
#include "catalog/upkeep.h"
#include "core/buf.h"
#include "core/ids.h"
#include "core/str.h"
#include "core/objhooks.h"

#define COMMIT_ATTEMPTS 20

int pl_compact_files(pl_catdb *db, int64_t table_id, pl_rows **out, pl_err *err)
{
	pl_val p = PL_VINT(table_id);
	return pl_catdb_query(
		db,
		"SELECT d.data_file_id, d.record_count, d.row_id_start, d.begin_snapshot, d.mapping_id, d.partial_max, "
		"d.partition_id, d.file_size_bytes, d.path, d.path_is_relative, "
		"(SELECT max(v.schema_version) FROM ducklake_schema_versions v WHERE v.table_id = d.table_id AND "
		"v.begin_snapshot <= d.begin_snapshot), "
		"(SELECT count(*) FROM ducklake_delete_file x WHERE x.data_file_id = d.data_file_id), "
		"(SELECT max(l.delete_file_id) FROM ducklake_delete_file l WHERE l.data_file_id = d.data_file_id AND "
		"l.end_snapshot IS NULL), "
		"(SELECT max(l.delete_count) FROM ducklake_delete_file l WHERE l.data_file_id = d.data_file_id AND "
		"l.end_snapshot IS NULL) "
		"FROM ducklake_data_file d WHERE d.table_id = ? AND d.end_snapshot IS NULL "
		"ORDER BY d.begin_snapshot, coalesce(d.row_id_start, -1), d.data_file_id",
		&p, 1, out, err);
}

int pl_compact_inlined_deletes(pl_catdb *db, int64_t table_id, const int64_t *files, size_t n, int64_t *counts,
			       pl_err *err)
{
	pl_rows *r = NULL;
	memset(counts, 0, n * sizeof(*counts));
	int rc = pl_inline_file_deletes(db, table_id, 0, INT64_MAX, &r, err);
	/* rows by file and position: a position deleted twice counts once */
	for (size_t i = 0; rc == 0 && r && i < r->nrows; i++) {
		int64_t file = pl_rows_int(r, i, 0, -1), pos = pl_rows_int(r, i, 1, -1);
		if (i > 0 && pl_rows_int(r, i - 1, 0, -1) == file && pl_rows_int(r, i - 1, 1, -1) == pos)
			continue;
		for (size_t k = 0; k < n; k++)
			if (files[k] == file)
				counts[k]++;
	}
	pl_rows_free(r);
	return rc;
}

int pl_compact_partition_values(pl_catdb *db, int64_t table_id, pl_rows **out, pl_err *err)
{
	pl_val p[] = {PL_VINT(table_id), PL_VINT(table_id)};
	return pl_catdb_query(db,
			      "SELECT v.data_file_id, v.partition_key_index, v.partition_value FROM "
			      "ducklake_file_partition_value v JOIN ducklake_data_file d ON d.data_file_id = v.data_file_id "
			      "WHERE v.table_id = ? AND d.table_id = ? AND d.end_snapshot IS NULL "
			      "ORDER BY v.data_file_id, v.partition_key_index",
			      p, 2, out, err);
}

int pl_compact_columns_snapshot(pl_catdb *db, int64_t table_id, int64_t begin, int64_t schema_version,
				int64_t *out, pl_err *err)
{
	pl_rows *r = NULL;
	pl_val p[] = {PL_VINT(begin), PL_VINT(table_id), PL_VINT(schema_version)};
	int rc = pl_catdb_query(db,
				"SELECT min(s.snapshot_id) FROM ducklake_snapshot s WHERE s.snapshot_id >= ? AND "
				"coalesce((SELECT max(v.schema_version) FROM ducklake_schema_versions v WHERE v.table_id = ? AND "
				"v.begin_snapshot <= s.snapshot_id), -1) = ?",
				p, 3, &r, err);
	if (rc == 0)
		*out = pl_rows_int(r, 0, 0, -1);
	pl_rows_free(r);
	return rc;
}

void pl_compaction_dispose(pl_compaction *c)
{
	free(c->sources);
	free(c->source_deletes);
	free(c->source_inlined);
	c->sources = c->source_deletes = c->source_inlined = NULL;
	c->nsources = 0;
}

static int conflict(pl_err *err, const pl_compaction *c, const char *what, int64_t file)
{
	return pl_err_set(err, PL_ECONFLICT,
			  "Transaction conflict: cannot compact table %lld: a concurrent commit %s (data file %lld); "
			  "nothing was changed, retry the compaction",
			  (long long)c->table_id, what, (long long)file);
}

#define IDS_PER_STATEMENT 800

/* Runs `head IN (?, ...)` over ids[0..n) in chunks, after the lead values; with out, a query
 * whose rows are appended to *out (the first chunk's result, further chunks' rows added). */
static int run_in(pl_catdb *db, const char *head, const pl_val *lead, size_t nlead, const int64_t *ids, size_t n,
		  pl_rows **out, pl_err *err)
{
	int rc = 0;
	pl_val *p = calloc(nlead + IDS_PER_STATEMENT + 1, sizeof(*p));
	if (!p)
		return pl_err_nomem(err);
	for (size_t i = 0; i < nlead; i++)
		p[i] = lead[i];
	for (size_t from = 0; rc == 0 && from < n; from += IDS_PER_STATEMENT) {
		size_t k = n - from < IDS_PER_STATEMENT ? n - from : IDS_PER_STATEMENT;
		pl_buf q = PL_BUF_INIT;
		pl_buf_printf(&q, "%s IN (", head);
		for (size_t i = 0; i < k; i++) {
			pl_buf_puts(&q, i ? ", ?" : "?");
			p[nlead + i] = PL_VINT(ids[from + i]);
		}
		pl_buf_putc(&q, ')');
		if (pl_buf_oom(&q)) {
			rc = pl_err_nomem(err);
		} else if (!out) {
			rc = pl_catdb_exec(db, q.ptr, p, nlead + k, err);
		} else {
			pl_rows *r = NULL;
			rc = pl_catdb_query(db, q.ptr, p, nlead + k, &r, err);
			if (rc == 0 && !*out) {
				*out = r;
			} else if (rc == 0) {
				for (size_t i = 0; rc == 0 && i < r->nrows; i++) {
					char **cells = calloc(r->ncols + 1, sizeof(*cells));
					bool oom = !cells;
					for (size_t c = 0; !oom && c < r->ncols; c++)
						oom = pl_rows_get(r, i, c) && !(cells[c] = pl_strdup(pl_rows_get(r, i, c)));
					if (oom || pl_rows_append(*out, cells)) {
						for (size_t c = 0; cells && c < r->ncols; c++)
							free(cells[c]);
						rc = pl_err_nomem(err);
					}
					free(cells);
				}
				pl_rows_free(r);
			}
		}
		pl_buf_dispose(&q);
	}
	free(p);
	return rc;
}

/* The sources are as planned: each still live, with no delete file (merge) or the same live
 * delete file (rewrite); the table is not dropped. *paths receives each source's path and
 * whether it is relative (path, "1"/"0" pairs, in source order). */
static int check_sources(pl_catdb *db, const pl_compaction *c, pl_strv *paths, pl_err *err)
{
	pl_rows *r = NULL;
	pl_val t = PL_VINT(c->table_id);
	int rc = pl_catdb_query(db, "SELECT count(*) FROM ducklake_table WHERE table_id = ? AND end_snapshot IS NULL", &t,
				1, &r, err);
	if (rc == 0 && pl_rows_int(r, 0, 0, 0) == 0)
		rc = pl_err_set(err, PL_ECONFLICT,
				"Transaction conflict: cannot compact table %lld: a concurrent commit dropped it",
				(long long)c->table_id);
	pl_rows_free(r);
	r = NULL;
	if (rc == 0)
		rc = run_in(db,
			    "SELECT d.data_file_id, d.end_snapshot, d.path, d.path_is_relative, "
			    "(SELECT count(*) FROM ducklake_delete_file x WHERE x.data_file_id = d.data_file_id), "
			    "(SELECT max(l.delete_file_id) FROM ducklake_delete_file l WHERE l.data_file_id = d.data_file_id "
			    "AND l.end_snapshot IS NULL) FROM ducklake_data_file d WHERE d.data_file_id",
			    NULL, 0, c->sources, c->nsources, &r, err);
	int64_t *inlined = rc == 0 ? calloc(c->nsources + 1, sizeof(*inlined)) : NULL;
	if (rc == 0 && !inlined)
		rc = pl_err_nomem(err);
	if (rc == 0)
		rc = pl_compact_inlined_deletes(db, c->table_id, c->sources, c->nsources, inlined, err);
	for (size_t i = 0; rc == 0 && i < c->nsources; i++) {
		size_t k = 0;
		while (k < r->nrows && pl_rows_int(r, k, 0, -1) != c->sources[i])
			k++;
		if (k == r->nrows)
			rc = conflict(err, c, "compacted or removed the file", c->sources[i]);
		else if (!pl_rows_is_null(r, k, 1))
			rc = conflict(err, c, "deleted every row of the file", c->sources[i]);
		else if (!c->rewrite && pl_rows_int(r, k, 4, 0) > 0)
			rc = conflict(err, c, "deleted rows of the file", c->sources[i]);
		else if (c->rewrite && pl_rows_int(r, k, 5, -1) != c->source_deletes[i])
			rc = conflict(err, c, "deleted rows of the file", c->sources[i]);
		else if (inlined[i] != (c->source_inlined ? c->source_inlined[i] : 0))
			rc = conflict(err, c, "deleted rows of the file", c->sources[i]);
		if (rc == 0 && (pl_strv_push(paths, pl_rows_get(r, k, 2) ? pl_rows_get(r, k, 2) : "") ||
				pl_strv_push(paths, pl_rows_bool(r, k, 3, true) ? "1" : "0")))
			rc = pl_err_nomem(err);
	}
	free(inlined);
	pl_rows_free(r);
	return rc;
}

/* The new file's rows: data file, column statistics, partition values. */
static int write_new_file(pl_catdb *db, const pl_compaction *c, pl_commit_state *st, pl_err *err)
{
	pl_new_file *f = c->file;
	f->assigned_id = st->next_file_id++;
	int64_t begin = c->rewrite ? st->snapshot : c->begin_snapshot;
	pl_val p[] = {PL_VINT(f->assigned_id), PL_VINT(c->table_id), PL_VINT(begin), PL_VINT(f->assigned_id),
		      PL_VTEXT(f->path), PL_VINT(f->record_count), PL_VINT(f->file_size), PL_VOPTINT(f->footer_size),
		      PL_VOPTINT(c->row_id_start), f->partitioned ? PL_VINT(f->partition_id) : PL_VNULL,
		      PL_VOPTINT(c->partial_max)};
	int rc = pl_catdb_exec(db,
			       "INSERT INTO ducklake_data_file (data_file_id, table_id, begin_snapshot, end_snapshot, "
			       "file_order, path, path_is_relative, file_format, record_count, file_size_bytes, footer_size, "
			       "row_id_start, partition_id, mapping_id, partial_max) VALUES (?, ?, ?, NULL, ?, ?, true, "
			       "'parquet', ?, ?, ?, ?, ?, NULL, ?)",
			       p, 11, err);
	for (size_t k = 0; rc == 0 && k < f->npartition_values; k++) {
		pl_val v[] = {PL_VINT(f->assigned_id), PL_VINT(c->table_id), PL_VINT((int64_t)k),
			      PL_VTEXT(f->partition_values[k])};
		rc = pl_catdb_exec(db, "INSERT INTO ducklake_file_partition_value VALUES (?, ?, ?, ?)", v, 4, err);
	}
	for (size_t s = 0; rc == 0 && s < f->nstats; s++) {
		const pl_column_stats *cs = &f->stats[s];
		/* value_count: the non-NULL values, as a commit records it (see commit_files.c) */
		bool counts = cs->value_count >= 0 && cs->null_count >= 0 && cs->null_count <= cs->value_count;
		pl_val v[] = {PL_VINT(f->assigned_id), PL_VINT(c->table_id), PL_VINT(cs->column_id),
			      PL_VOPTINT(cs->column_size), counts ? PL_VINT(cs->value_count - cs->null_count) : PL_VNULL,
			      counts ? PL_VINT(cs->null_count) : PL_VNULL,
			      PL_VTEXT(cs->min), PL_VTEXT(cs->max), cs->contains_nan < 0 ? PL_VNULL : PL_VBOOL(cs->contains_nan)};
		rc = pl_catdb_exec(db, "INSERT INTO ducklake_file_column_stats VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)", v, 9,
				   err);
	}
	return rc;
}

/* Merge: the sources' rows go and their files are scheduled for deletion. */
static int drop_sources(pl_catdb *db, const pl_compaction *c, const pl_strv *paths, const char *table_dir,
			const char *data_path, pl_err *err)
{
	static const char *const deletes[] = {
		"DELETE FROM ducklake_data_file WHERE data_file_id", "DELETE FROM ducklake_file_column_stats WHERE data_file_id",
		"DELETE FROM ducklake_delete_file WHERE data_file_id",
		"DELETE FROM ducklake_file_partition_value WHERE data_file_id"};
	int rc = 0;
	for (size_t k = 0; rc == 0 && k < sizeof(deletes) / sizeof(deletes[0]); k++)
		rc = run_in(db, deletes[k], NULL, 0, c->sources, c->nsources, NULL, err);
	char now[32];
	pl_now_timestamptz(now);
	size_t dl = strlen(data_path);
	pl_batch b;
	pl_batch_init(&b, db,
		      "INSERT INTO ducklake_files_scheduled_for_deletion (data_file_id, path, path_is_relative, "
		      "schedule_start) VALUES ",
		      "(?, ?, ?, ?)", 4);
	pl_strv keep = PL_STRV_INIT; /* the paths stay alive until the batch is flushed */
	for (size_t i = 0; rc == 0 && i < c->nsources; i++) {
		pl_buf full = PL_BUF_INIT;
		if (strcmp(paths->items[2 * i + 1], "1") == 0)
			pl_buf_puts(&full, table_dir);
		pl_buf_puts(&full, paths->items[2 * i]);
		char *f = pl_buf_detach(&full);
		if (!f || pl_strv_push_owned(&keep, f)) {
			rc = pl_err_nomem(err);
			break;
		}
		bool below = strncmp(f, data_path, dl) == 0 && f[dl] != '\0';
		pl_val row[] = {PL_VINT(c->sources[i]), PL_VTEXT(below ? f + dl : f), PL_VBOOL(below), PL_VTEXT(now)};
		rc = pl_batch_add(&b, row, err);
	}
	if (rc == 0)
		rc = pl_batch_flush(&b, err);
	pl_batch_dispose(&b);
	pl_strv_dispose(&keep);
	return rc;
}

/* Rewrite: the sources and their delete files end at the new snapshot. */
static int end_sources(pl_catdb *db, const pl_compaction *c, int64_t snap, pl_err *err)
{
	pl_val s = PL_VINT(snap);
	int rc = run_in(db, "UPDATE ducklake_data_file SET end_snapshot = ? WHERE data_file_id", &s, 1, c->sources,
			c->nsources, NULL, err);
	int64_t *dels = calloc(c->nsources + 1, sizeof(*dels));
	size_t n = 0;
	if (rc == 0 && !dels)
		rc = pl_err_nomem(err);
	for (size_t i = 0; rc == 0 && i < c->nsources; i++)
		if (c->source_deletes[i] >= 0)
			dels[n++] = c->source_deletes[i];
	if (rc == 0 && n > 0)
		rc = run_in(db, "UPDATE ducklake_delete_file SET end_snapshot = ? WHERE delete_file_id", &s, 1, dels, n, NULL,
			    err);
	free(dels);
	return rc;
}

int pl_compact_write(pl_catdb *db, pl_compaction *cs, size_t n, const char *const *dirs, const char *data_path,
		     pl_commit_state *st, pl_err *err)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		pl_compaction *c = &cs[i];
		pl_strv paths = PL_STRV_INIT;
		rc = check_sources(db, c, &paths, err);
		if (rc == 0 && c->file)
			rc = write_new_file(db, c, st, err);
		if (rc == 0)
			rc = c->rewrite ? end_sources(db, c, st->snapshot, err)
					: drop_sources(db, c, &paths, dirs[i], data_path, err);
		pl_strv_dispose(&paths);
		if (rc == 0)
			pl_commit_note_change(st, c->rewrite ? "rewrite_delete" : "merge_adjacent", c->table_id);
	}
	return rc;
}

static int commit_once(pl_catdb *db, int64_t base, pl_compaction *cs, size_t n, const char *const *dirs,
		       const char *data_path, const pl_strv *written, int64_t *snap_out, bool *unknown, pl_err *err)
{
	pl_commit_state st;
	*unknown = false;
	int rc = pl_objhook_upload(written, err); /* an S3 lake's new files, before the catalog names them */
	if (rc == 0)
		rc = pl_commit_begin(db, base, &st, err);
	if (rc)
		return rc;
	rc = pl_compact_write(db, cs, n, dirs, data_path, &st, err);
	/* the snapshot row, after the history check every commit makes; the new files must exist */
	pl_txn none = {0};
	bool real = false;
	if (rc == 0)
		for (size_t i = 0; rc == 0 && written && i < written->len; i++)
			rc = pl_strv_push(&none.written, written->items[i]) ? pl_err_nomem(err) : 0;
	if (rc == 0)
		rc = pl_commit_apply(db, &none, &st, &real, err);
	pl_strv_dispose(&none.written);
	if (rc) {
		pl_err saved = *err;
		pl_commit_abort(db, &st);
		*err = saved;
		return rc;
	}
	rc = pl_commit_finish(db, &st, NULL, NULL, NULL, err);
	if (rc == 0)
		*snap_out = st.snapshot;
	*unknown = st.outcome_unknown;
	return rc;
}

int pl_compact_commit(pl_catdb *db, int64_t base, pl_compaction *c, size_t n, const char *const *table_dirs,
		      const char *data_path, const pl_strv *written, int64_t *snapshot_out, bool *outcome_unknown,
		      pl_err *err)
{
	int rc = 0;
	*outcome_unknown = false;
	for (int attempt = 0; attempt < COMMIT_ATTEMPTS && !*outcome_unknown; attempt++) {
		rc = commit_once(db, base, c, n, table_dirs, data_path, written, snapshot_out, outcome_unknown, err);
		if (rc != PL_EBUSY)
			return rc;
	}
	return pl_err_wrap(err, "compaction commit failed after %d attempts", COMMIT_ATTEMPTS);
}
