/*
 * commit_files.c -- the data-file side of a commit (see commit.h): new data files with their
 * column statistics merged into the table's, name maps of registered files, partition values,
 * new delete files, ended files and deleted inlined rows.
 */
#include "catalog/commit.h"
#include "catalog/commit_rows.h"
#include "catalog/batch.h"
#include "catalog/inline.h"
#include "catalog/namemap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/ids.h"
#include "core/str.h"

int64_t pl_commit__resolve_table(const pl_txn *t, int64_t ref)
{
	return ref >= 0 ? ref : t->tables[-ref - 1].assigned_id;
}

/* The table's statistics row (next_row_id, record_count, file_size_bytes; zeros when it has no
 * stats row yet, then *exists is false) and, with `columns`, its column statistics rows, in one
 * query. *out holds the rows (column_id, contains_null, contains_nan, min_value, max_value,
 * extra_stats, next_row_id, record_count, file_size_bytes): the table's stats row has a NULL
 * column_id, so it matches no column. */
typedef struct table_stats_row {
	bool exists;
	int64_t next_row_id, record_count, file_size_bytes;
} table_stats_row;

static int copy_rows(const pl_rows *from, pl_rows **out)
{
	pl_rows *r = NULL;
	int rc = pl_rows_new(&r, from->ncols) ? PL_ENOMEM : 0;
	for (size_t c = 0; rc == 0 && c < from->ncols; c++)
		if (from->names[c] && !(r->names[c] = pl_strdup(from->names[c])))
			rc = PL_ENOMEM;
	for (size_t i = 0; rc == 0 && i < from->nrows; i++) {
		char **cells = calloc(from->ncols ? from->ncols : 1, sizeof(char *));
		bool oom = !cells;
		for (size_t c = 0; !oom && c < from->ncols; c++) {
			const char *v = pl_rows_get(from, i, c);
			oom = v && !(cells[c] = pl_strdup(v));
		}
		if (oom) {
			for (size_t c = 0; cells && c < from->ncols; c++)
				free(cells[c]);
			free(cells);
			rc = PL_ENOMEM;
		} else {
			rc = pl_rows_append(r, cells) ? PL_ENOMEM : 0;
			free(cells);
		}
	}
	if (rc)
		pl_rows_free(r);
	*out = rc ? NULL : r;
	return rc;
}

/* The rows the statistics query would read, from the note of the connection's last commit when
 * that commit made the latest snapshot (nothing changed them since) and this commit has not
 * written the table's statistics yet; NULL when not known. */
static const pl_rows *noted_rows(const pl_catdb *db, const pl_commit_state *st, int64_t table_id)
{
	if (!db->note.changes || db->note.snapshot != st->snapshot - 1)
		return NULL;
	for (size_t i = 0; i < st->nstats; i++)
		if (st->stats[i].table_id == table_id)
			return NULL;
	for (size_t i = 0; i < db->note.nstats; i++)
		if (db->note.stats[i].table_id == table_id)
			return db->note.stats[i].rows;
	return NULL;
}

static int read_table_stats(pl_catdb *db, const pl_commit_state *st, int64_t table_id, bool columns,
			    table_stats_row *ts, pl_rows **out, pl_err *err)
{
	pl_rows *r = NULL;
	pl_val p[] = {PL_VINT(table_id), PL_VINT(table_id)};
	const pl_rows *noted = noted_rows(db, st, table_id);
	*out = NULL;
	int rc = noted ? (copy_rows(noted, &r) ? pl_err_nomem(err) : 0) : columns ? pl_catdb_query(db, "SELECT NULL AS column_id, NULL AS contains_null, NULL AS contains_nan, "
					      "NULL AS min_value, NULL AS max_value, NULL AS extra_stats, next_row_id, "
					      "record_count, file_size_bytes FROM ducklake_table_stats WHERE table_id = ? "
					      "UNION ALL SELECT column_id, contains_null, contains_nan, min_value, max_value, "
					      "extra_stats, NULL, NULL, NULL FROM ducklake_table_column_stats WHERE table_id = ?",
					  p, 2, &r, err)
			 : pl_catdb_query(db, "SELECT NULL, NULL, NULL, NULL, NULL, NULL, next_row_id, record_count, "
					      "file_size_bytes FROM ducklake_table_stats WHERE table_id = ?", p, 1, &r, err);
	if (rc)
		return rc;
	*ts = (table_stats_row){0};
	for (size_t i = 0; i < r->nrows; i++)
		if (pl_rows_is_null(r, i, 0)) {
			ts->exists = true;
			ts->next_row_id = pl_rows_int(r, i, 6, 0);
			ts->record_count = pl_rows_int(r, i, 7, 0);
			ts->file_size_bytes = pl_rows_int(r, i, 8, 0);
		}
	*out = r;
	return 0;
}

/* Notes the table's statistics row as this commit leaves it, taking `rows` (a later write of the
 * same table in the commit replaces the entry). */
static void note_table_stats(pl_commit_state *st, int64_t table_id, int64_t record_count, int64_t next_row_id,
			     int64_t file_size_bytes, pl_rows *rows)
{
	pl_noted_stats n = {table_id, record_count, next_row_id, file_size_bytes, rows};
	for (size_t i = 0; i < st->nstats; i++)
		if (st->stats[i].table_id == table_id) {
			pl_rows_free(st->stats[i].rows);
			st->stats[i] = n;
			return;
		}
	if (st->nstats == st->capstats) {
		size_t cap = st->capstats ? st->capstats * 2 : 4;
		pl_noted_stats *p = realloc(st->stats, cap * sizeof(*p));
		if (!p) {
			pl_rows_free(rows);
			st->stats_oom = true;
			return;
		}
		st->stats = p;
		st->capstats = cap;
	}
	st->stats[st->nstats++] = n;
}

/* Notes the data file row p (the values of the INSERT into ducklake_data_file below) as a model
 * reads it (PL_MODEL_FILE_COLUMNS); without memory, nothing is noted. */
static void note_file(pl_commit_state *st, const pl_val *p)
{
	static const int order[] = {1, 0, 4, 5, 6, 7, 8, 9, 3, 10, 2, 11, 12};
	enum { NCOLS = sizeof(order) / sizeof(order[0]) };
	char *cells[NCOLS] = {0};
	bool oom = st->stats_oom || (!st->files && pl_rows_new(&st->files, NCOLS) != 0);
	for (int i = 0; !oom && i < NCOLS; i++) {
		const pl_val *v = &p[order[i]];
		switch (v->kind) {
		case PL_V_NULL: continue;
		case PL_V_TEXT: cells[i] = pl_strdup(v->s); break;
		case PL_V_BOOL: cells[i] = pl_strdup(v->i ? "true" : "false"); break;
		case PL_V_INT: {
			char num[24];
			snprintf(num, sizeof(num), "%lld", (long long)v->i);
			cells[i] = pl_strdup(num);
			break;
		}
		}
		oom = !cells[i];
	}
	if (!oom && pl_rows_append(st->files, cells) == 0)
		return;
	if (oom)
		for (int i = 0; i < NCOLS; i++)
			free(cells[i]);
	st->stats_oom = true; /* no note: the next model reads the catalog */
}

static int write_table_stats(pl_catdb *db, pl_commit_state *st, int64_t table_id, const table_stats_row *ts,
			     int64_t next_row_id, int64_t rows, int64_t bytes, pl_rows *after, pl_err *err)
{
	pl_val p[] = {PL_VINT(rows), PL_VINT(next_row_id), PL_VINT(bytes), PL_VINT(table_id)};
	const char *insert = "INSERT INTO ducklake_table_stats (record_count, next_row_id, file_size_bytes, table_id) "
			     "VALUES (?, ?, ?, ?)";
	int rc;
	if (ts->exists && db->ids_in_text) { /* the row replaced: a DELETE whose text each commit repeats */
		char del[96];
		snprintf(del, sizeof(del), "DELETE FROM ducklake_table_stats WHERE table_id = %lld", (long long)table_id);
		p[0] = (pl_val)PL_VINT(ts->record_count + rows);
		p[2] = (pl_val)PL_VINT(ts->file_size_bytes + bytes);
		rc = pl_catdb_exec(db, del, NULL, 0, err);
		if (rc == 0)
			rc = pl_catdb_exec(db, insert, p, 4, err);
	} else {
		rc = pl_catdb_exec(db,
				   ts->exists ? "UPDATE ducklake_table_stats SET record_count = record_count + ?, "
						"next_row_id = ?, file_size_bytes = file_size_bytes + ? WHERE table_id = ?"
					      : insert,
				   p, 4, err);
	}
	if (rc == 0)
		note_table_stats(st, table_id, ts->record_count + rows, next_row_id, ts->file_size_bytes + bytes, after);
	else
		pl_rows_free(after);
	return rc;
}

static char *int_text(int64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	return pl_strdup(buf);
}

static char *opt_text(const char *v, bool *oom)
{
	char *s = v ? pl_strdup(v) : NULL;
	*oom = *oom || (v && !s);
	return s;
}
static bool table_listed_before(const pl_txn *t, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (pl_commit__resolve_table(t, t->files[k].table_ref) == pl_commit__resolve_table(t, t->files[i].table_ref))
			return true;
	return false;
}

/* A table column's statistics while the files of one commit are merged into them (in file
 * order, as if each file were committed on its own). min/max point into the catalog's rows or
 * the files' statistics, both alive until the table's rows are written. */
typedef struct col_merge {
	int64_t column_id;
	const char *type;
	bool in_catalog; /* a ducklake_table_column_stats row exists (it is replaced) */
	bool exists, has_null;
	int has_nan;     /* -1 unknown */
	const char *min, *max, *extra;
	struct {         /* the catalog's row as it was (with in_catalog) */
		bool has_null;
		int has_nan;
		const char *min, *max;
	} was;
} col_merge;

static bool same_text(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* A column whose catalog row the merge left as it was needs no write. */
static bool unchanged(const col_merge *m)
{
	return m->in_catalog && m->has_null == m->was.has_null && m->has_nan == m->was.has_nan &&
	       same_text(m->min, m->was.min) && same_text(m->max, m->was.max);
}

static void merge_file_stats(col_merge *m, const pl_column_stats *cs)
{
	bool has_null = cs->null_count > 0;
	int has_nan = cs->contains_nan;
	const char *min = cs->min, *max = cs->max;
	/* A file whose values are all NULL (or NULL and NaN) has no bounds and says nothing. */
	bool all_null = cs->null_count >= cs->value_count || (!cs->min && !cs->max && cs->contains_nan > 0);
	if (m->exists) {
		has_null = has_null || m->has_null;
		if (m->has_nan >= 0)
			has_nan = (has_nan > 0 || m->has_nan > 0) ? 1 : 0;
		/* Otherwise a NULL bound is unknown (some writers omit bounds, e.g. of long strings),
		 * and an unknown bound on either side makes the table's bound unknown. */
		min = all_null ? m->min : (!m->min || !min) ? NULL : pl_stats_compare(cs->type, m->min, min) <= 0 ? m->min : min;
		max = all_null ? m->max : (!m->max || !max) ? NULL : pl_stats_compare(cs->type, m->max, max) >= 0 ? m->max : max;
	}
	m->exists = true;
	m->has_null = has_null;
	m->has_nan = has_nan;
	m->min = min;
	m->max = max;
}

typedef struct col_merges {
	col_merge *items;
	size_t n, cap;
} col_merges;

/* Appends a row of 9 cells (or frees them when *oom is set already); frees the array. */
static void append_cells(pl_rows *r, char **cells, bool *oom)
{
	if (!*oom)
		*oom = pl_rows_append(r, cells) != 0; /* (which frees the strings when it fails) */
	else
		for (int c = 0; cells && c < 9; c++)
			free(cells[c]);
	free(cells);
}

/* The rows the statistics query reads after the table's statistics were written: the table's row
 * and the column rows, the merged ones as merged (NULL when out of memory: nothing is noted). */
static pl_rows *stats_after(const pl_rows *catalog, const col_merges *ms, int64_t next_row_id, int64_t record_count,
			    int64_t file_size_bytes)
{
	pl_rows *r = NULL;
	if (pl_rows_new(&r, 9))
		return NULL;
	bool oom = false;
	char **cells = calloc(9, sizeof(char *));
	if (!cells || !(cells[6] = int_text(next_row_id)) || !(cells[7] = int_text(record_count)) ||
	    !(cells[8] = int_text(file_size_bytes))) {
		oom = true;
		for (int c = 0; cells && c < 9; c++)
			free(cells[c]);
	} else if (pl_rows_append(r, cells)) { /* (which frees the strings) */
		oom = true;
	}
	free(cells);
	for (size_t i = 0; !oom && i < catalog->nrows; i++) {
		int64_t id = pl_rows_int(catalog, i, 0, -1);
		bool merged = pl_rows_is_null(catalog, i, 0);
		for (size_t k = 0; !merged && k < ms->n; k++)
			merged = ms->items[k].column_id == id;
		if (merged)
			continue;
		cells = calloc(9, sizeof(char *));
		oom = !cells;
		for (int c = 0; !oom && c < 6; c++)
			cells[c] = opt_text(pl_rows_get(catalog, i, (size_t)c), &oom);
		append_cells(r, cells, &oom);
	}
	for (size_t k = 0; !oom && k < ms->n; k++) {
		const col_merge *m = &ms->items[k];
		cells = calloc(9, sizeof(char *));
		oom = !cells || !(cells[0] = int_text(m->column_id)) || !(cells[1] = pl_strdup(m->has_null ? "1" : "0"));
		if (!oom && m->has_nan >= 0)
			oom = !(cells[2] = pl_strdup(m->has_nan ? "1" : "0"));
		if (!oom) {
			cells[3] = opt_text(m->min, &oom);
			cells[4] = opt_text(m->max, &oom);
			cells[5] = opt_text(m->extra, &oom);
		}
		append_cells(r, cells, &oom);
	}
	if (oom) {
		pl_rows_free(r);
		return NULL;
	}
	return r;
}

/* The merge state of a column, added from the catalog's row (or empty) on first use; `hint` is
 * where it probably is (files list their columns in the same order). */
static col_merge *merge_of(col_merges *ms, const pl_rows *catalog, const pl_column_stats *cs, size_t hint)
{
	if (hint < ms->n && ms->items[hint].column_id == cs->column_id)
		return &ms->items[hint];
	for (size_t i = 0; i < ms->n; i++)
		if (ms->items[i].column_id == cs->column_id)
			return &ms->items[i];
	if (ms->n == ms->cap) {
		size_t cap = ms->cap ? ms->cap * 2 : 16;
		col_merge *p = realloc(ms->items, cap * sizeof(*p));
		if (!p)
			return NULL;
		ms->items = p;
		ms->cap = cap;
	}
	col_merge *m = &ms->items[ms->n++];
	memset(m, 0, sizeof(*m));
	m->column_id = cs->column_id;
	m->type = cs->type;
	m->has_nan = -1;
	for (size_t r = 0; catalog && r < catalog->nrows; r++) {
		if (pl_rows_int(catalog, r, 0, -1) != cs->column_id)
			continue;
		m->in_catalog = m->exists = true;
		m->has_null = pl_rows_bool(catalog, r, 1, false);
		m->has_nan = pl_rows_is_null(catalog, r, 2) ? -1 : pl_rows_bool(catalog, r, 2, false);
		m->min = pl_rows_get(catalog, r, 3);
		m->max = pl_rows_get(catalog, r, 4);
		m->extra = pl_rows_get(catalog, r, 5);
		m->was.has_null = m->has_null;
		m->was.has_nan = m->has_nan;
		m->was.min = m->min;
		m->was.max = m->max;
		break;
	}
	return m;
}

/* Replaces the table's column statistics rows of the merged columns the merge changed: one
 * DELETE of those that existed, then multi-row INSERTs. */
static int write_column_stats(pl_catdb *db, int64_t table_id, const col_merges *ms, pl_err *err)
{
	int rc = 0;
	size_t per = pl_batch_rows_per_statement(1) - 1;
	for (size_t from = 0; rc == 0 && from < ms->n; from += per) {
		pl_buf q = PL_BUF_INIT;
		pl_val *p = calloc(per + 1, sizeof(*p));
		size_t np = 0;
		if (!p)
			return pl_err_nomem(err);
		p[np++] = PL_VINT(table_id);
		/* (the ids in the text: the same columns change from one commit to the next) */
		if (db->ids_in_text)
			pl_buf_printf(&q, "DELETE FROM ducklake_table_column_stats WHERE table_id = %lld AND column_id IN (",
				      (long long)table_id);
		else
			pl_buf_puts(&q, "DELETE FROM ducklake_table_column_stats WHERE table_id = ? AND column_id IN (");
		for (size_t i = from; i < ms->n && i < from + per; i++) {
			if (!ms->items[i].in_catalog || unchanged(&ms->items[i]))
				continue;
			if (db->ids_in_text)
				pl_buf_printf(&q, np > 1 ? ", %lld" : "%lld", (long long)ms->items[i].column_id);
			else
				pl_buf_puts(&q, np > 1 ? ", ?" : "?");
			p[np++] = PL_VINT(ms->items[i].column_id);
		}
		pl_buf_putc(&q, ')');
		if (np > 1)
			rc = pl_buf_oom(&q) ? pl_err_nomem(err)
					    : pl_catdb_exec(db, q.ptr, p, db->ids_in_text ? 0 : np, err);
		pl_buf_dispose(&q);
		free(p);
	}
	pl_batch b;
	pl_batch_init(&b, db, "INSERT INTO ducklake_table_column_stats (table_id, column_id, contains_null, contains_nan, "
			      "min_value, max_value, extra_stats) VALUES ", "(?, ?, ?, ?, ?, ?, ?)", 7);
	for (size_t i = 0; rc == 0 && i < ms->n; i++) {
		const col_merge *m = &ms->items[i];
		if (unchanged(m))
			continue;
		pl_val row[] = {PL_VINT(table_id), PL_VINT(m->column_id), PL_VBOOL(m->has_null),
				m->has_nan < 0 ? PL_VNULL : PL_VBOOL(m->has_nan), PL_VTEXT(m->min), PL_VTEXT(m->max),
				PL_VTEXT(m->extra)};
		rc = pl_batch_add(&b, row, err);
	}
	if (rc == 0)
		rc = pl_batch_flush(&b, err);
	pl_batch_dispose(&b);
	return rc;
}

/* The catalog id of an external file's name map: an equal map of the table, or the map written
 * now (once per commit attempt: an abort restores the local id). */
static int store_namemap(pl_catdb *db, pl_txn *t, const pl_new_file *f, int64_t table_id, pl_commit_state *st,
			 int64_t *out, pl_err *err)
{
	if (f->namemap > t->nnamemaps)
		return pl_err_set(err, PL_ERROR, "a registered file names a name map that does not exist");
	pl_new_namemap *nm = &t->namemaps[f->namemap - 1];
	if (nm->assigned_id < PL_LOCAL_ID_BASE) {
		*out = nm->assigned_id;
		return 0;
	}
	int64_t id = -1;
	int rc = pl_namemap_store(db, &nm->map, table_id, &st->next_file_id, &id, err);
	if (rc == 0)
		rc = pl_commit__fix_id(st, &nm->assigned_id, id, true, err);
	*out = id;
	return rc;
}

/* Writes all files of one table (those from index `first` on with the same table): their
 * ducklake_data_file and ducklake_file_column_stats rows as multi-row INSERTs, the table's
 * column statistics merged over all of them, and its table statistics. */
static int write_table_files(pl_catdb *db, pl_txn *t, size_t first, pl_commit_state *st, pl_err *err)
{
	int64_t table_id = pl_commit__resolve_table(t, t->files[first].table_ref), next_row = 0, rows = 0, bytes = 0;
	table_stats_row ts = {0};
	pl_rows *catalog = NULL;
	col_merges ms = {0};
	pl_batch files, stats;
	pl_batch_init(&files, db,
		      "INSERT INTO ducklake_data_file (data_file_id, table_id, begin_snapshot, end_snapshot, file_order, "
		      "path, path_is_relative, file_format, record_count, file_size_bytes, footer_size, row_id_start, "
		      "partition_id, mapping_id, partial_max) VALUES ",
		      "(?, ?, ?, NULL, ?, ?, ?, 'parquet', ?, ?, ?, ?, ?, ?, ?)", 13);
	bool inserted = false, flushed = false;
	pl_batch values;
	pl_batch_init(&values, db, "INSERT INTO ducklake_file_partition_value VALUES ", "(?, ?, ?, ?)", 4);
	pl_batch_init(&stats, db, "INSERT INTO ducklake_file_column_stats VALUES ", "(?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)", 9);
	int rc = read_table_stats(db, st, table_id, true, &ts, &catalog, err);
	next_row = ts.next_row_id;
	for (size_t i = first; rc == 0 && i < t->nfiles; i++) {
		pl_new_file *f = &t->files[i];
		if (pl_commit__resolve_table(t, f->table_ref) != table_id)
			continue;
		int64_t mapping = -1;
		if (f->namemap && (rc = store_namemap(db, t, f, table_id, st, &mapping, err)))
			break;
		if ((rc = pl_commit__fix_id(st, &f->assigned_id, st->next_file_id++, true, err)))
			break;
		pl_val p[] = {PL_VINT(f->assigned_id), PL_VINT(table_id), PL_VINT(f->flushed ? f->flush_begin : st->snapshot),
			      PL_VINT(f->assigned_id), PL_VTEXT(f->path), PL_VBOOL(!f->external), PL_VINT(f->record_count),
			      PL_VINT(f->file_size), PL_VOPTINT(f->footer_size),
			      PL_VINT(f->flushed ? f->flush_row_id_start : next_row),
			      f->partitioned ? PL_VINT(f->partition_id) : PL_VNULL, PL_VOPTINT(mapping),
			      f->flushed ? PL_VINT(f->flush_max) : PL_VNULL};
		rc = pl_batch_add(&files, p, err);
		if (rc == 0 && !f->flushed)
			note_file(st, p);
		for (size_t k = 0; rc == 0 && k < f->npartition_values; k++) {
			pl_val v[] = {PL_VINT(f->assigned_id), PL_VINT(table_id), PL_VINT((int64_t)k),
				      PL_VTEXT(f->partition_values[k])};
			rc = pl_batch_add(&values, v, err);
		}
		for (size_t s = 0; rc == 0 && s < f->nstats; s++) {
			const pl_column_stats *cs = &f->stats[s];
			/* DuckLake records value_count as the non-NULL values (Parquet's num_values holds
			 * the NULLs too); counts that contradict each other are recorded as unknown */
			bool counts = cs->value_count >= 0 && cs->null_count >= 0 && cs->null_count <= cs->value_count;
			pl_val v[] = {PL_VINT(f->assigned_id), PL_VINT(table_id), PL_VINT(cs->column_id),
				      PL_VOPTINT(cs->column_size),
				      counts ? PL_VINT(cs->value_count - cs->null_count) : PL_VNULL,
				      counts ? PL_VINT(cs->null_count) : PL_VNULL,
				      PL_VTEXT(cs->min), PL_VTEXT(cs->max),
				      cs->contains_nan < 0 ? PL_VNULL : PL_VBOOL(cs->contains_nan)};
			rc = pl_batch_add(&stats, v, err);
			col_merge *m = rc ? NULL : merge_of(&ms, catalog, cs, s);
			if (rc == 0 && !m)
				rc = pl_err_nomem(err);
			if (m)
				merge_file_stats(m, cs);
		}
		/* flushed rows were counted when they were inlined, and keep their row ids */
		if (!f->flushed) {
			next_row += f->record_count;
			rows += f->record_count;
		}
		inserted = inserted || !f->flushed;
		flushed = flushed || f->flushed;
		bytes += f->file_size;
	}
	if (rc == 0)
		rc = pl_batch_flush(&files, err);
	if (rc == 0)
		rc = pl_batch_flush(&stats, err);
	if (rc == 0)
		rc = pl_batch_flush(&values, err);
	if (rc == 0)
		rc = write_column_stats(db, table_id, &ms, err);
	if (rc == 0)
		rc = write_table_stats(db, st, table_id, &ts, next_row, rows, bytes,
				       stats_after(catalog, &ms, next_row, ts.record_count + rows, ts.file_size_bytes + bytes),
				       err);
	if (inserted)
		pl_commit_note_change(st, "inserted_into_table", table_id);
	if (flushed)
		pl_commit_note_change(st, "inline_flush", table_id);
	pl_batch_dispose(&files);
	pl_batch_dispose(&stats);
	pl_batch_dispose(&values);
	free(ms.items);
	pl_rows_free(catalog);
	return rc;
}

static int add_rows(pl_catdb *db, pl_commit_state *st, int64_t table_id, const pl_column_stats *stats, size_t nstats,
		    int64_t rows, bool new_ids, int64_t *row_id_start, pl_err *err);

int pl_commit_add_table_rows(pl_catdb *db, pl_commit_state *st, int64_t table_id, const pl_column_stats *stats,
			     size_t nstats, int64_t rows, int64_t *row_id_start, pl_err *err)
{
	return add_rows(db, st, table_id, stats, nstats, rows, true, row_id_start, err);
}

int pl_commit_add_table_versions(pl_catdb *db, pl_commit_state *st, int64_t table_id, const pl_column_stats *stats,
				 size_t nstats, int64_t rows, pl_err *err)
{
	int64_t ignored = 0;
	return add_rows(db, st, table_id, stats, nstats, rows, false, &ignored, err);
}

static int add_rows(pl_catdb *db, pl_commit_state *st, int64_t table_id, const pl_column_stats *stats, size_t nstats,
		    int64_t rows, bool new_ids, int64_t *row_id_start, pl_err *err)
{
	table_stats_row ts = {0};
	pl_rows *catalog = NULL;
	col_merges ms = {0};
	int rc = read_table_stats(db, st, table_id, nstats > 0, &ts, &catalog, err);
	int64_t next_row = ts.next_row_id;
	for (size_t s = 0; rc == 0 && s < nstats; s++) {
		col_merge *m = merge_of(&ms, catalog, &stats[s], s);
		if (!m)
			rc = pl_err_nomem(err);
		else
			merge_file_stats(m, &stats[s]);
	}
	if (rc == 0)
		rc = write_column_stats(db, table_id, &ms, err);
	*row_id_start = next_row;
	int64_t next = next_row + (new_ids ? rows : 0);
	/* without column statistics the query read the table's row only: the columns' are not known */
	if (rc == 0)
		rc = write_table_stats(db, st, table_id, &ts, next, rows, 0,
				       nstats > 0 ? stats_after(catalog, &ms, next, ts.record_count + rows, ts.file_size_bytes)
						  : NULL,
				       err);
	free(ms.items);
	pl_rows_free(catalog);
	return rc;
}

int pl_commit__added_column_stats(pl_catdb *db, int64_t table_id, const pl_new_column *col, pl_commit_state *st,
				  pl_err *err)
{
	pl_rows *r = NULL;
	pl_val p[] = {PL_VINT(table_id), PL_VINT(st->snapshot)};
	int rc = pl_catdb_query(db, "SELECT coalesce(sum(record_count), 0) FROM ducklake_data_file WHERE table_id = ? AND "
				    "begin_snapshot = ? AND end_snapshot IS NULL",
				p, 2, &r, err);
	int64_t rows = rc == 0 ? pl_rows_int(r, 0, 0, 0) : 0;
	pl_rows_free(r);
	bool has_default = col->initial_default && strcmp(col->initial_default, "NULL") != 0;
	/* a default whose statistics form is unknown (nested types) leaves the statistics alone */
	if (rc || rows <= 0 || (has_default && !col->initial_stat))
		return rc;
	pl_column_stats cs = {.column_id = col->id, .value_count = rows, .null_count = has_default ? 0 : rows,
			      .column_size = -1, .min = has_default ? col->initial_stat : NULL,
			      .max = has_default ? col->initial_stat : NULL, .contains_nan = -1, .type = col->type};
	return pl_commit_add_table_versions(db, st, table_id, &cs, 1, 0, err);
}

int pl_commit__write_files(pl_catdb *db, pl_txn *t, pl_commit_state *st, pl_err *err)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < t->nfiles; i++)
		if (!table_listed_before(t, i))
			rc = write_table_files(db, t, i, st, err);
	return rc;
}

static bool table_in_deletes(const pl_txn *t, int64_t id, size_t before_delete, size_t before_ended,
			     size_t before_inlined)
{
	for (size_t i = 0; i < before_delete; i++)
		if (t->deletes[i].table_id == id)
			return true;
	for (size_t i = 0; i < before_ended; i++)
		if (t->ended_files[i].table_id == id)
			return true;
	for (size_t i = 0; i < before_inlined; i++)
		if (t->inlined_deletes[i].table_id == id)
			return true;
	return false;
}

static int end_delete_file(pl_catdb *db, int64_t delete_id, int64_t snap, pl_err *err)
{
	pl_val p[] = {PL_VINT(snap), PL_VINT(delete_id)};
	return pl_catdb_exec(db, "UPDATE ducklake_delete_file SET end_snapshot = ? WHERE delete_file_id = ? "
				 "AND end_snapshot IS NULL", p, 2, err);
}

/* Schedules the file of delete file delete_id for deletion, as the compactions schedule theirs:
 * its path relative to the data path when it and its table's and schema's paths are relative,
 * else the absolute path. Nothing when its table is gone (the orphan sweep finds the file). */
static int schedule_delete_file(pl_catdb *db, int64_t delete_id, pl_err *err)
{
	pl_rows *r = NULL;
	pl_val p = PL_VINT(delete_id);
	int rc = pl_catdb_query(db,
				"SELECT d.path, d.path_is_relative, t.path, t.path_is_relative, s.path, s.path_is_relative "
				"FROM ducklake_delete_file d JOIN ducklake_table t ON t.table_id = d.table_id AND "
				"t.end_snapshot IS NULL JOIN ducklake_schema s ON s.schema_id = t.schema_id AND "
				"s.end_snapshot IS NULL WHERE d.delete_file_id = ?",
				&p, 1, &r, err);
	if (rc || r->nrows == 0) {
		pl_rows_free(r);
		return rc;
	}
	/* the file's path, under its table's if relative, under its schema's if that is relative too */
	pl_buf path = PL_BUF_INIT;
	size_t from = !pl_rows_bool(r, 0, 1, true) ? 0 : !pl_rows_bool(r, 0, 3, true) ? 2 : 4;
	bool relative = from == 4 && pl_rows_bool(r, 0, 5, true);
	for (size_t c = from + 1; c-- > 0;)
		if (c % 2 == 0)
			pl_buf_puts(&path, pl_rows_get(r, 0, c) ? pl_rows_get(r, 0, c) : "");
	char now[32];
	pl_now_timestamptz(now);
	pl_val row[] = {PL_VINT(delete_id), PL_VTEXT(pl_buf_cstr(&path)), PL_VBOOL(relative), PL_VTEXT(now)};
	rc = pl_buf_oom(&path) ? pl_err_nomem(err)
			       : pl_catdb_exec(db, "INSERT INTO ducklake_files_scheduled_for_deletion (data_file_id, path, "
						   "path_is_relative, schedule_start) VALUES (?, ?, ?, ?)",
					       row, 4, err);
	pl_buf_dispose(&path);
	pl_rows_free(r);
	return rc;
}

int pl_commit__write_new_deletes(pl_catdb *db, pl_txn *t, pl_commit_state *st, pl_err *err)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < t->ndeletes; i++) {
		pl_new_delete *d = &t->deletes[i];
		if ((rc = pl_commit__fix_id(st, &d->assigned_id, st->next_file_id++, true, err)))
			break;
		if (d->replaces >= 0 && d->drop_replaced) {
			/* its positions live on, with their snapshots, in the new file; the old file is
			 * scheduled for deletion, as DuckDB's extension does */
			pl_val r = PL_VINT(d->replaces);
			rc = schedule_delete_file(db, d->replaces, err);
			if (rc == 0)
				rc = pl_catdb_exec(db, "DELETE FROM ducklake_delete_file WHERE delete_file_id = ?", &r, 1, err);
		} else if (d->replaces >= 0) {
			rc = end_delete_file(db, d->replaces, st->snapshot, err);
		}
		if (d->new_file > t->nfiles)
			rc = pl_err_set(err, PL_ERROR, "a delete file names a data file that does not exist");
		int64_t data_file = d->new_file && rc == 0 ? t->files[d->new_file - 1].assigned_id : d->data_file_id;
		pl_val p[] = {PL_VINT(d->assigned_id), PL_VINT(d->table_id),
			      PL_VINT(d->flushed ? d->flush_begin : st->snapshot), PL_VINT(data_file), PL_VTEXT(d->path),
			      PL_VBOOL(true), PL_VTEXT(d->format), PL_VINT(d->delete_count), PL_VINT(d->file_size),
			      PL_VOPTINT(d->footer_size), d->flushed ? PL_VOPTINT(d->flush_max) : PL_VNULL};
		st->delete_files++;
		if (rc == 0)
			rc = pl_catdb_exec(db,
					   "INSERT INTO ducklake_delete_file (delete_file_id, table_id, begin_snapshot, "
					   "end_snapshot, data_file_id, path, path_is_relative, format, delete_count, "
					   "file_size_bytes, footer_size, partial_max) VALUES (?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?)",
					   p, 11, err);
		/* the delete file of a flushed file is part of the flush */
		if (!d->new_file && !table_in_deletes(t, d->table_id, i, 0, 0))
			pl_commit_note_change(st, "deleted_from_table", d->table_id);
	}
	return rc;
}

int pl_commit__write_ended_files(pl_catdb *db, pl_txn *t, pl_commit_state *st, pl_err *err)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < t->nended_files; i++) {
		pl_ended_file *e = &t->ended_files[i];
		pl_val p[] = {PL_VINT(st->snapshot), PL_VINT(e->data_file_id)};
		rc = pl_catdb_exec(db, "UPDATE ducklake_data_file SET end_snapshot = ? WHERE data_file_id = ? AND "
				       "end_snapshot IS NULL", p, 2, err);
		if (rc == 0 && e->delete_id >= 0)
			rc = end_delete_file(db, e->delete_id, st->snapshot, err);
		if (!table_in_deletes(t, e->table_id, t->ndeletes, i, 0))
			pl_commit_note_change(st, "deleted_from_table", e->table_id);
	}
	for (size_t i = 0; rc == 0 && i < t->ninlined_deletes; i++) {
		pl_inlined_delete *d = &t->inlined_deletes[i];
		pl_buf q = PL_BUF_INIT;
		pl_buf_puts(&q, "UPDATE ");
		pl_buf_put_ident(&q, d->inlined_table);
		/* (not the new version an UPDATE inlined in this snapshot under the same row id) */
		pl_buf_puts(&q, " SET end_snapshot = ? WHERE end_snapshot IS NULL AND row_id = ? AND begin_snapshot <> ?");
		for (size_t k = 0; rc == 0 && k < d->n; k++) {
			pl_val p[] = {PL_VINT(st->snapshot), PL_VINT(d->row_ids[k]), PL_VINT(st->snapshot)};
			rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_catdb_exec(db, q.ptr, p, 3, err);
		}
		pl_buf_dispose(&q);
		pl_commit_note_change(st, "inlined_delete", d->table_id);
	}
	return rc;
}
