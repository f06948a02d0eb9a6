/*
 * upkeep.c -- the catalog SQL of snapshot expiry and file cleanup (see upkeep.h). The rows an
 * expiry removes are those DuckLake's own expiry removes, chosen by the same conditions: an
 * object (table, schema, view, tag, macro, data or delete file) goes when it ended and no
 * remaining snapshot lies in [begin_snapshot, end_snapshot).
 */
#include "catalog/upkeep.h"
#include "catalog/model_rows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/batch.h"
#include "core/buf.h"
#include "core/ids.h"
#include "core/objhooks.h"

/* Ids per IN (...) list. */
#define IN_CHUNK 500

/* The row ended and no remaining snapshot lies in its [begin_snapshot, end_snapshot). */
#define ENDED_UNREFERENCED(tbl)                                                                         \
	tbl ".end_snapshot IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ducklake_snapshot s WHERE s.snapshot_id " \
	    ">= " tbl ".begin_snapshot AND s.snapshot_id < " tbl ".end_snapshot)"

static bool typed_times(const pl_catdb *db)
{
	/* DuckDB and PostgreSQL store TIMESTAMPTZ; SQLite stores UTC text, which orders as text */
	return strcmp(db->ops->name, "sqlite") != 0;
}

/* ---- id sets ---- */

typedef struct idvec {
	int64_t *v;
	size_t n, cap;
} idvec;

static int idvec_push(idvec *s, int64_t id)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		int64_t *v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return PL_ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = id;
	return 0;
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static void idvec_sort_unique(idvec *s)
{
	if (s->n < 2)
		return;
	qsort(s->v, s->n, sizeof(*s->v), cmp_id);
	size_t k = 1;
	for (size_t i = 1; i < s->n; i++)
		if (s->v[i] != s->v[k - 1])
			s->v[k++] = s->v[i];
	s->n = k;
}

static bool idvec_has(const idvec *s, int64_t id)
{
	return s->n && bsearch(&id, s->v, s->n, sizeof(*s->v), cmp_id) != NULL;
}

static void idvec_dispose(idvec *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static void put_id_list(pl_buf *b, const int64_t *ids, size_t n)
{
	pl_buf_putc(b, '(');
	for (size_t i = 0; i < n; i++)
		pl_buf_printf(b, "%s%lld", i ? ", " : "", (long long)ids[i]);
	pl_buf_putc(b, ')');
}

/* Runs `head (ids...) tail` for every chunk of ids. */
static int exec_in(pl_catdb *db, const char *head, const char *tail, const idvec *ids, pl_err *err)
{
	int rc = 0;
	for (size_t at = 0; rc == 0 && at < ids->n; at += IN_CHUNK) {
		size_t n = ids->n - at < IN_CHUNK ? ids->n - at : IN_CHUNK;
		pl_buf q = PL_BUF_INIT;
		pl_buf_puts(&q, head);
		put_id_list(&q, ids->v + at, n);
		pl_buf_puts(&q, tail);
		rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_catdb_exec(db, q.ptr, NULL, 0, err);
		pl_buf_dispose(&q);
	}
	return rc;
}

/* Moves the rows of `from` to the end of `to` (same columns); frees from. */
static int rows_move(pl_rows *to, pl_rows *from)
{
	int rc = 0;
	for (size_t r = 0; rc == 0 && r < from->nrows; r++) {
		char **cells = calloc(from->ncols, sizeof(*cells));
		if (!cells) {
			rc = PL_ENOMEM;
			break;
		}
		for (size_t c = 0; c < from->ncols; c++) {
			cells[c] = from->cells[r * from->ncols + c];
			from->cells[r * from->ncols + c] = NULL;
		}
		rc = pl_rows_append(to, cells);
		free(cells);
	}
	pl_rows_free(from);
	return rc;
}

/* Runs `head (ids...) tail` as queries for every chunk of ids, all rows into *out. */
static int query_in(pl_catdb *db, const char *head, const char *tail, const idvec *ids, pl_rows **out, pl_err *err)
{
	int rc = 0;
	for (size_t at = 0; rc == 0 && at < ids->n; at += IN_CHUNK) {
		size_t n = ids->n - at < IN_CHUNK ? ids->n - at : IN_CHUNK;
		pl_buf q = PL_BUF_INIT;
		pl_rows *r = NULL;
		pl_buf_puts(&q, head);
		put_id_list(&q, ids->v + at, n);
		pl_buf_puts(&q, tail);
		rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_catdb_query(db, q.ptr, NULL, 0, &r, err);
		pl_buf_dispose(&q);
		if (rc == 0 && !*out)
			*out = r;
		else if (rc == 0 && rows_move(*out, r) != 0)
			rc = pl_err_nomem(err);
	}
	return rc;
}

/* ---- snapshots ---- */

#define SNAPSHOT_SELECT                                                                                   \
	"SELECT s.snapshot_id, CAST(s.snapshot_time AS VARCHAR) AS snapshot_time, s.schema_version, "         \
	"c.changes_made, c.author, c.commit_message, c.commit_extra_info FROM ducklake_snapshot s LEFT JOIN " \
	"ducklake_snapshot_changes c ON s.snapshot_id = c.snapshot_id WHERE s.snapshot_id <> "                \
	"(SELECT max(snapshot_id) FROM ducklake_snapshot) AND "

int pl_upkeep_expirable(pl_catdb *db, const char *before, const int64_t *ids, size_t nids, pl_rows **out,
			pl_err *err)
{
	*out = NULL;
	if (before) {
		pl_val p = PL_VTEXT(before);
		return pl_catdb_query(db,
				      typed_times(db)
					      ? SNAPSHOT_SELECT "s.snapshot_time < CAST(? AS TIMESTAMP WITH TIME ZONE) ORDER BY s.snapshot_id"
					      : SNAPSHOT_SELECT "s.snapshot_time < ? ORDER BY s.snapshot_id",
				      &p, 1, out, err);
	}
	idvec set = {0};
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < nids; i++)
		rc = idvec_push(&set, ids[i]) ? pl_err_nomem(err) : 0;
	idvec_sort_unique(&set);
	if (rc == 0 && set.n == 0) /* nothing asked for: an empty listing */
		rc = pl_catdb_query(db, SNAPSHOT_SELECT "1 = 0", NULL, 0, out, err);
	else if (rc == 0)
		rc = query_in(db, SNAPSHOT_SELECT "s.snapshot_id IN ", " ORDER BY s.snapshot_id", &set, out, err);
	idvec_dispose(&set);
	if (rc) {
		pl_rows_free(*out);
		*out = NULL;
	}
	return rc;
}

/* ---- directories of tables (as the model resolves them) ---- */

typedef struct table_dirs {
	pl_rows *schemas; /* schema_id, path, path_is_relative, begin_snapshot */
	pl_rows *tables;  /* table_id, schema_id, path, path_is_relative, begin_snapshot */
	const char *data_path;
} table_dirs;

static int dirs_load(pl_catdb *db, const char *data_path, table_dirs *d, pl_err *err)
{
	memset(d, 0, sizeof(*d));
	d->data_path = data_path;
	int rc = pl_catdb_query(db, "SELECT schema_id, path, path_is_relative, begin_snapshot FROM ducklake_schema",
				NULL, 0, &d->schemas, err);
	if (rc == 0)
		rc = pl_catdb_query(db,
				    "SELECT table_id, schema_id, path, path_is_relative, begin_snapshot FROM ducklake_table",
				    NULL, 0, &d->tables, err);
	return rc;
}

static void dirs_dispose(table_dirs *d)
{
	pl_rows_free(d->schemas);
	pl_rows_free(d->tables);
	memset(d, 0, sizeof(*d));
}

/* The row of rows (id in column 0) with that id and the highest begin_snapshot (column
 * `begin_col`); -1 when none. */
static long latest_row(const pl_rows *rows, int64_t id, size_t begin_col)
{
	long best = -1;
	for (size_t i = 0; i < rows->nrows; i++)
		if (!pl_rows_is_null(rows, i, 0) && pl_rows_int(rows, i, 0, -1) == id &&
		    (best < 0 || pl_rows_int(rows, i, begin_col, 0) > pl_rows_int(rows, (size_t)best, begin_col, 0)))
			best = (long)i;
	return best;
}

static char *schema_dir(const table_dirs *d, size_t srow)
{
	return pl_model__resolve_dir(d->data_path, pl_rows_get(d->schemas, srow, 1), pl_rows_bool(d->schemas, srow, 2, true));
}

/* The directory of table id as its latest rows give it (the data path when unknown). */
static char *table_dir_latest(const table_dirs *d, int64_t id)
{
	long t = latest_row(d->tables, id, 4);
	if (t < 0)
		return pl_strdup(d->data_path);
	long s = latest_row(d->schemas, pl_rows_int(d->tables, (size_t)t, 1, -1), 3);
	char *sdir = s < 0 ? pl_strdup(d->data_path) : schema_dir(d, (size_t)s);
	char *dir = sdir ? pl_model__resolve_dir(sdir, pl_rows_get(d->tables, (size_t)t, 2), pl_rows_bool(d->tables, (size_t)t, 3, true))
			 : NULL;
	free(sdir);
	return dir;
}

static bool strv_has(const pl_strv *v, const char *s)
{
	for (size_t i = 0; i < v->len; i++)
		if (strcmp(v->items[i], s) == 0)
			return true;
	return false;
}

static int push_unique(pl_strv *v, char *s)
{
	if (!s)
		return PL_ENOMEM;
	if (strv_has(v, s)) {
		free(s);
		return 0;
	}
	return pl_strv_push_owned(v, s) ? PL_ENOMEM : 0;
}

/* Every directory table id has had: each of its rows under each row of its schema. */
static int table_dirs_all(const table_dirs *d, int64_t id, pl_strv *out)
{
	int rc = push_unique(out, table_dir_latest(d, id));
	for (size_t t = 0; rc == 0 && t < d->tables->nrows; t++) {
		if (pl_rows_int(d->tables, t, 0, -1) != id)
			continue;
		int64_t sid = pl_rows_int(d->tables, t, 1, -1);
		for (size_t s = 0; rc == 0 && s < d->schemas->nrows; s++) {
			if (pl_rows_int(d->schemas, s, 0, -2) != sid)
				continue;
			char *sdir = schema_dir(d, s);
			rc = sdir ? push_unique(out, pl_model__resolve_dir(sdir, pl_rows_get(d->tables, t, 2),
								 pl_rows_bool(d->tables, t, 3, true)))
				  : PL_ENOMEM;
			free(sdir);
		}
	}
	return rc;
}

static char *file_path(const char *dir, const char *path, bool relative)
{
	pl_buf b = PL_BUF_INIT;
	if (relative)
		pl_buf_puts(&b, dir);
	pl_buf_puts(&b, path ? path : "");
	return pl_buf_detach(&b);
}

/* ---- expiry ---- */

static int table_exists(pl_catdb *db, const char *name, bool *out, pl_err *err)
{
	return db->ops->table_exists(db, name, out, err);
}

/* Deletes from each existing table of `tables` the rows `column IN (ids)`. */
static int delete_by_ids(pl_catdb *db, const char *const *tables, size_t ntables, const char *column,
			 const idvec *ids, pl_err *err)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < ntables && ids->n; i++) {
		bool exists = false;
		rc = table_exists(db, tables[i], &exists, err);
		if (rc || !exists)
			continue;
		pl_buf head = PL_BUF_INIT;
		pl_buf_printf(&head, "DELETE FROM %s WHERE %s IN ", tables[i], column);
		rc = pl_buf_oom(&head) ? pl_err_nomem(err) : exec_in(db, head.ptr, "", ids, err);
		pl_buf_dispose(&head);
	}
	return rc;
}

/* Files (data or delete: rows id, table_id, path, path_is_relative) to schedule: unique by id. */
typedef struct doomed {
	idvec ids;
	pl_rows *rows;
} doomed;

static int doomed_add(doomed *f, pl_rows *r, pl_err *err)
{
	/* rows of one query are unique (ids are primary keys, chunks disjoint): only ids seen in
	 * earlier queries repeat */
	idvec seen = {0};
	int rc = 0;
	if (f->ids.n) {
		seen.v = malloc(f->ids.n * sizeof(*seen.v));
		if (!seen.v)
			rc = pl_err_nomem(err);
		else
			memcpy(seen.v, f->ids.v, f->ids.n * sizeof(*seen.v));
		seen.n = seen.cap = f->ids.n;
		idvec_sort_unique(&seen);
	}
	for (size_t i = 0; rc == 0 && i < r->nrows; i++) {
		int64_t id = pl_rows_int(r, i, 0, -1);
		if (idvec_has(&seen, id))
			continue;
		char *cells[4];
		bool oom = false;
		for (int c = 0; c < 4; c++) {
			const char *v = pl_rows_get(r, i, (size_t)c);
			cells[c] = v ? pl_strdup(v) : NULL;
			oom = oom || (v && !cells[c]);
		}
		if (oom || idvec_push(&f->ids, id) != 0) {
			for (int c = 0; c < 4; c++)
				free(cells[c]);
			rc = pl_err_nomem(err);
		} else if (pl_rows_append(f->rows, cells) != 0) {
			rc = pl_err_nomem(err);
		}
	}
	idvec_dispose(&seen);
	pl_rows_free(r);
	return rc;
}

static int doomed_query(pl_catdb *db, doomed *f, const char *sql, pl_err *err)
{
	pl_rows *r = NULL;
	int rc = pl_catdb_query(db, sql, NULL, 0, &r, err);
	return rc ? rc : doomed_add(f, r, err);
}

static int doomed_query_in(pl_catdb *db, doomed *f, const char *head, const idvec *ids, pl_err *err)
{
	pl_rows *r = NULL;
	int rc = query_in(db, head, "", ids, &r, err);
	return rc || !r ? rc : doomed_add(f, r, err);
}

/* Inserts the files into ducklake_files_scheduled_for_deletion. */
static int schedule(pl_catdb *db, const doomed *f, const table_dirs *d, const char *now, pl_err *err)
{
	pl_batch b;
	pl_batch_init(&b, db,
		      "INSERT INTO ducklake_files_scheduled_for_deletion (data_file_id, path, path_is_relative, "
		      "schedule_start) VALUES ",
		      "(?, ?, ?, ?)", 4);
	pl_strv keep = PL_STRV_INIT; /* paths stay alive until the batch is flushed */
	size_t dl = strlen(d->data_path);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < f->rows->nrows; i++) {
		char *dir = table_dir_latest(d, pl_rows_int(f->rows, i, 1, -1));
		char *full = dir ? file_path(dir, pl_rows_get(f->rows, i, 2), pl_rows_bool(f->rows, i, 3, true)) : NULL;
		free(dir);
		if (!full || pl_strv_push_owned(&keep, full)) {
			rc = pl_err_nomem(err);
			break;
		}
		bool below = strncmp(full, d->data_path, dl) == 0 && full[dl] != '\0';
		pl_val row[] = {PL_VINT(pl_rows_int(f->rows, i, 0, -1)), PL_VTEXT(below ? full + dl : full),
				PL_VBOOL(below), PL_VTEXT(now)};
		rc = pl_batch_add(&b, row, err);
	}
	if (rc == 0)
		rc = pl_batch_flush(&b, err);
	pl_batch_dispose(&b);
	pl_strv_dispose(&keep);
	return rc;
}

static void doomed_dispose(doomed *f)
{
	idvec_dispose(&f->ids);
	pl_rows_free(f->rows);
}

static int doomed_init(doomed *f, pl_err *err)
{
	memset(f, 0, sizeof(*f));
	return pl_rows_new(&f->rows, 4) ? pl_err_nomem(err) : 0;
}

/* Only names this module builds or the spec's inlined-data table names may be dropped. */
static bool inlined_table_name(const char *name)
{
	static const char *const prefixes[] = {"ducklake_inlined_data_", "ducklake_inlined_delete_"};
	for (size_t k = 0; k < 2; k++) {
		size_t n = strlen(prefixes[k]);
		if (strncmp(name, prefixes[k], n) != 0)
			continue;
		const char *p = name + n;
		size_t digits = 0, seps = 0;
		for (; *p; p++) {
			if (*p >= '0' && *p <= '9')
				digits++;
			else if (*p == '_' && digits && p[1] >= '0' && p[1] <= '9')
				seps++;
			else
				return false;
		}
		return digits > 0 && seps <= 1;
	}
	return false;
}

static int drop_tables_data(pl_catdb *db, const idvec *tables, pl_err *err)
{
	if (!tables->n)
		return 0;
	pl_strv inlined = PL_STRV_INIT;
	pl_rows *r = NULL;
	int rc = query_in(db, "SELECT table_name FROM ducklake_inlined_data_tables WHERE table_id IN ", "", tables, &r, err);
	for (size_t i = 0; rc == 0 && r && i < r->nrows; i++) {
		const char *name = pl_rows_get(r, i, 0);
		if (name && inlined_table_name(name))
			rc = push_unique(&inlined, pl_strdup(name)) ? pl_err_nomem(err) : 0;
	}
	pl_rows_free(r);
	for (size_t i = 0; rc == 0 && i < tables->n; i++) {
		char name[64];
		snprintf(name, sizeof(name), "ducklake_inlined_delete_%lld", (long long)tables->v[i]);
		rc = push_unique(&inlined, pl_strdup(name)) ? pl_err_nomem(err) : 0;
	}
	static const char *const by_table[] = {
		"ducklake_table",           "ducklake_table_stats",         "ducklake_table_column_stats",
		"ducklake_partition_info",  "ducklake_partition_column",    "ducklake_column",
		"ducklake_column_tag",      "ducklake_sort_info",           "ducklake_sort_expression",
		"ducklake_schema_versions", "ducklake_inlined_data_tables", "ducklake_column_mapping",
	};
	if (rc == 0)
		rc = delete_by_ids(db, by_table, sizeof(by_table) / sizeof(by_table[0]), "table_id", tables, err);
	for (size_t i = 0; rc == 0 && i < inlined.len; i++) {
		bool exists = false;
		rc = table_exists(db, inlined.items[i], &exists, err);
		if (rc || !exists)
			continue;
		pl_buf q = PL_BUF_INIT;
		pl_buf_puts(&q, "DROP TABLE ");
		pl_buf_put_ident(&q, inlined.items[i]);
		rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_catdb_exec(db, q.ptr, NULL, 0, err);
		pl_buf_dispose(&q);
	}
	pl_strv_dispose(&inlined);
	return rc;
}

/* Schemas, views, tags and macros no remaining snapshot sees; macro bodies and name mappings
 * whose owner went. */
static int delete_ended_objects(pl_catdb *db, pl_err *err)
{
	static const char *const ended[] = {"ducklake_schema", "ducklake_view", "ducklake_tag", "ducklake_macro"};
	static const char *const orphaned[][2] = {
		{"ducklake_macro_impl", "DELETE FROM ducklake_macro_impl WHERE NOT EXISTS (SELECT 1 FROM ducklake_macro m "
					"WHERE m.macro_id = ducklake_macro_impl.macro_id)"},
		{"ducklake_macro_parameters", "DELETE FROM ducklake_macro_parameters WHERE NOT EXISTS (SELECT 1 FROM "
					      "ducklake_macro m WHERE m.macro_id = ducklake_macro_parameters.macro_id)"},
		{"ducklake_name_mapping", "DELETE FROM ducklake_name_mapping WHERE NOT EXISTS (SELECT 1 FROM "
					  "ducklake_column_mapping m WHERE m.mapping_id = ducklake_name_mapping.mapping_id)"},
	};
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < sizeof(ended) / sizeof(ended[0]); i++) {
		bool exists = false;
		rc = table_exists(db, ended[i], &exists, err);
		if (rc || !exists)
			continue;
		pl_buf q = PL_BUF_INIT;
		pl_buf_printf(&q,
			      "DELETE FROM %s WHERE %s.end_snapshot IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "
			      "ducklake_snapshot s WHERE s.snapshot_id >= %s.begin_snapshot AND s.snapshot_id < "
			      "%s.end_snapshot)",
			      ended[i], ended[i], ended[i], ended[i]);
		rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_catdb_exec(db, q.ptr, NULL, 0, err);
		pl_buf_dispose(&q);
	}
	for (size_t i = 0; rc == 0 && i < sizeof(orphaned) / sizeof(orphaned[0]); i++) {
		bool exists = false;
		rc = table_exists(db, orphaned[i][0], &exists, err);
		if (rc == 0 && exists)
			rc = pl_catdb_exec(db, orphaned[i][1], NULL, 0, err);
	}
	return rc;
}

int pl_upkeep_expire(pl_catdb *db, const int64_t *snapshot_ids, size_t n, const char *data_path, size_t *nscheduled,
		     pl_err *err)
{
	*nscheduled = 0;
	idvec snaps = {0}, tables = {0};
	doomed files, deletes;
	table_dirs dirs = {0};
	char now[32];
	pl_now_timestamptz(now);
	int rc = doomed_init(&files, err);
	if (rc)
		return rc;
	if ((rc = doomed_init(&deletes, err)) != 0) {
		doomed_dispose(&files);
		return rc;
	}
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = idvec_push(&snaps, snapshot_ids[i]) ? pl_err_nomem(err) : 0;
	idvec_sort_unique(&snaps);
	static const char *const snapshot_tables[] = {"ducklake_snapshot", "ducklake_snapshot_changes"};
	if (rc == 0)
		rc = delete_by_ids(db, snapshot_tables, 2, "snapshot_id", &snaps, err);

	/* tables every row of which ended before any remaining snapshot */
	pl_rows *r = NULL;
	if (rc == 0)
		rc = pl_catdb_query(db,
				    "SELECT DISTINCT t.table_id FROM ducklake_table t WHERE " ENDED_UNREFERENCED("t")
				    " AND NOT EXISTS (SELECT 1 FROM ducklake_table t2 WHERE t2.table_id = t.table_id AND "
				    "(t2.end_snapshot IS NULL OR EXISTS (SELECT 1 FROM ducklake_snapshot s2 WHERE "
				    "s2.snapshot_id >= t2.begin_snapshot AND s2.snapshot_id < t2.end_snapshot)))",
				    NULL, 0, &r, err);
	for (size_t i = 0; rc == 0 && i < r->nrows; i++)
		rc = idvec_push(&tables, pl_rows_int(r, i, 0, -1)) ? pl_err_nomem(err) : 0;
	pl_rows_free(r);
	idvec_sort_unique(&tables);
	if (rc == 0)
		rc = dirs_load(db, data_path, &dirs, err);

	/* data files: of those tables, or ended before any remaining snapshot */
	if (rc == 0)
		rc = doomed_query(db, &files,
				  "SELECT f.data_file_id, f.table_id, f.path, f.path_is_relative FROM ducklake_data_file f "
				  "WHERE " ENDED_UNREFERENCED("f"), err);
	if (rc == 0)
		rc = doomed_query_in(db, &files, "SELECT data_file_id, table_id, path, path_is_relative FROM "
					       "ducklake_data_file WHERE table_id IN ", &tables, err);
	idvec_sort_unique(&files.ids);
	static const char *const file_tables[] = {"ducklake_data_file", "ducklake_file_column_stats",
						  "ducklake_file_variant_stats", "ducklake_file_partition_value"};
	if (rc == 0)
		rc = schedule(db, &files, &dirs, now, err);
	if (rc == 0)
		rc = delete_by_ids(db, file_tables, 4, "data_file_id", &files.ids, err);

	/* delete files: of those tables or data files, or ended before any remaining snapshot */
	if (rc == 0)
		rc = doomed_query(db, &deletes,
				  "SELECT f.delete_file_id, f.table_id, f.path, f.path_is_relative FROM ducklake_delete_file f "
				  "WHERE " ENDED_UNREFERENCED("f"), err);
	if (rc == 0)
		rc = doomed_query_in(db, &deletes, "SELECT delete_file_id, table_id, path, path_is_relative FROM "
						 "ducklake_delete_file WHERE table_id IN ", &tables, err);
	if (rc == 0)
		rc = doomed_query_in(db, &deletes, "SELECT delete_file_id, table_id, path, path_is_relative FROM "
						 "ducklake_delete_file WHERE data_file_id IN ", &files.ids, err);
	idvec_sort_unique(&deletes.ids);
	static const char *const delete_tables[] = {"ducklake_delete_file"};
	if (rc == 0)
		rc = schedule(db, &deletes, &dirs, now, err);
	if (rc == 0)
		rc = delete_by_ids(db, delete_tables, 1, "delete_file_id", &deletes.ids, err);

	if (rc == 0)
		rc = drop_tables_data(db, &tables, err);
	if (rc == 0)
		rc = delete_ended_objects(db, err);
	if (rc == 0)
		*nscheduled = files.rows->nrows + deletes.rows->nrows;
	dirs_dispose(&dirs);
	doomed_dispose(&files);
	doomed_dispose(&deletes);
	idvec_dispose(&snaps);
	idvec_dispose(&tables);
	return rc;
}

/* ---- files scheduled for deletion ---- */

int pl_upkeep_scheduled(pl_catdb *db, const char *before, const char *data_path, pl_rows **out, pl_err *err)
{
	*out = NULL;
	pl_rows *r = NULL;
	pl_val p = PL_VTEXT(before);
	const char *sql =
		!before ? "SELECT data_file_id, path, path_is_relative FROM ducklake_files_scheduled_for_deletion "
			  "ORDER BY data_file_id"
		: typed_times(db) ? "SELECT data_file_id, path, path_is_relative FROM ducklake_files_scheduled_for_deletion "
				    "WHERE schedule_start < CAST(? AS TIMESTAMP WITH TIME ZONE) ORDER BY data_file_id"
				  : "SELECT data_file_id, path, path_is_relative FROM ducklake_files_scheduled_for_deletion "
				    "WHERE schedule_start < ? ORDER BY data_file_id";
	int rc = pl_catdb_query(db, sql, &p, before ? 1 : 0, &r, err);
	pl_rows *o = NULL;
	if (rc == 0 && pl_rows_new(&o, 4))
		rc = pl_err_nomem(err);
	static const char *const names[] = {"data_file_id", "path", "path_is_relative", "full_path"};
	for (size_t c = 0; rc == 0 && c < 4; c++)
		rc = (o->names[c] = pl_strdup(names[c])) ? 0 : pl_err_nomem(err);
	for (size_t i = 0; rc == 0 && i < r->nrows; i++) {
		const char *path = pl_rows_get(r, i, 1);
		bool relative = pl_rows_bool(r, i, 2, true);
		char *cells[4] = {NULL, NULL, NULL, NULL};
		bool oom = false;
		for (size_t c = 0; c < 3; c++) {
			const char *v = pl_rows_get(r, i, c);
			cells[c] = v ? pl_strdup(v) : NULL;
			oom = oom || (v && !cells[c]);
		}
		/* s3://: its path in the read cache, which removal finds outside the data path unless
		 * it is one of the data path's own objects */
		cells[3] = path ? pl_objhook_file_path(data_path, path, relative) : NULL;
		oom = oom || (path && !cells[3]);
		if (oom) {
			for (size_t c = 0; c < 4; c++)
				free(cells[c]);
			rc = pl_err_nomem(err);
		} else if (pl_rows_append(o, cells) != 0) {
			rc = pl_err_nomem(err);
		}
	}
	pl_rows_free(r);
	if (rc)
		pl_rows_free(o);
	else
		*out = o;
	return rc;
}

int pl_upkeep_unschedule(pl_catdb *db, const pl_rows *rows, const size_t *which, size_t n, pl_err *err)
{
	int rc = 0;
	const size_t per = 200;
	for (size_t at = 0; rc == 0 && at < n; at += per) {
		size_t end = at + per < n ? at + per : n, np = 0;
		pl_val *params = calloc(2 * (end - at), sizeof(*params));
		pl_buf q = PL_BUF_INIT;
		pl_buf_puts(&q, "DELETE FROM ducklake_files_scheduled_for_deletion WHERE ");
		for (size_t k = at; params && k < end; k++) {
			size_t i = which[k];
			pl_buf_puts(&q, k > at ? " OR (" : "(");
			if (pl_rows_is_null(rows, i, 0)) {
				pl_buf_puts(&q, "data_file_id IS NULL");
			} else {
				pl_buf_puts(&q, "data_file_id = ?");
				params[np++] = PL_VINT(pl_rows_int(rows, i, 0, 0));
			}
			if (pl_rows_is_null(rows, i, 1)) {
				pl_buf_puts(&q, " AND path IS NULL)");
			} else {
				pl_buf_puts(&q, " AND path = ?)");
				params[np++] = PL_VTEXT(pl_rows_get(rows, i, 1));
			}
		}
		rc = !params || pl_buf_oom(&q) ? pl_err_nomem(err) : pl_catdb_exec(db, q.ptr, params, np, err);
		free(params);
		pl_buf_dispose(&q);
	}
	return rc;
}

/* ---- every path the catalog knows ---- */

typedef struct table_dir_set {
	int64_t table_id;
	pl_strv dirs;
} table_dir_set;

static int cmp_dir_set(const void *a, const void *b)
{
	return cmp_id(&((const table_dir_set *)a)->table_id, &((const table_dir_set *)b)->table_id);
}

static int add_files(pl_catdb *db, const char *sql, const table_dir_set *sets, size_t nsets, pl_strv *out, pl_err *err)
{
	pl_rows *r = NULL;
	int rc = pl_catdb_query(db, sql, NULL, 0, &r, err);
	for (size_t i = 0; rc == 0 && i < r->nrows; i++) {
		bool relative = pl_rows_bool(r, i, 2, true);
		const char *path = pl_rows_get(r, i, 1);
		if (!relative) { /* s3://: its path in the read cache, as the data path's listing names it */
			rc = pl_strv_push_owned(out, pl_objhook_file_path(NULL, path, false)) ? pl_err_nomem(err) : 0;
			continue;
		}
		table_dir_set key = {pl_rows_int(r, i, 0, -1), PL_STRV_INIT};
		const table_dir_set *s = bsearch(&key, sets, nsets, sizeof(*sets), cmp_dir_set);
		for (size_t k = 0; rc == 0 && s && k < s->dirs.len; k++)
			rc = pl_strv_push_owned(out, file_path(s->dirs.items[k], path, true)) ? pl_err_nomem(err) : 0;
	}
	pl_rows_free(r);
	return rc;
}

int pl_upkeep_known_paths(pl_catdb *db, const char *data_path, bool with_scheduled, pl_strv *out, pl_err *err)
{
	table_dirs d;
	idvec ids = {0};
	table_dir_set *sets = NULL;
	int rc = dirs_load(db, data_path, &d, err);
	pl_rows *r = NULL;
	/* every table a file row names, even one whose table rows are gone */
	if (rc == 0)
		rc = pl_catdb_query(db, "SELECT DISTINCT table_id FROM ducklake_data_file UNION SELECT DISTINCT table_id "
					"FROM ducklake_delete_file UNION SELECT DISTINCT table_id FROM ducklake_table",
				    NULL, 0, &r, err);
	for (size_t i = 0; rc == 0 && i < r->nrows; i++)
		if (!pl_rows_is_null(r, i, 0))
			rc = idvec_push(&ids, pl_rows_int(r, i, 0, -1)) ? pl_err_nomem(err) : 0;
	pl_rows_free(r);
	idvec_sort_unique(&ids);
	if (rc == 0 && ids.n && !(sets = calloc(ids.n, sizeof(*sets))))
		rc = pl_err_nomem(err);
	for (size_t i = 0; rc == 0 && i < ids.n; i++) {
		sets[i].table_id = ids.v[i];
		rc = table_dirs_all(&d, ids.v[i], &sets[i].dirs) ? pl_err_nomem(err) : 0;
	}
	if (rc == 0)
		rc = add_files(db, "SELECT table_id, path, path_is_relative FROM ducklake_data_file", sets, ids.n, out, err);
	if (rc == 0)
		rc = add_files(db, "SELECT table_id, path, path_is_relative FROM ducklake_delete_file", sets, ids.n, out, err);
	pl_rows *s = NULL;
	if (rc == 0 && with_scheduled)
		rc = pl_upkeep_scheduled(db, NULL, data_path, &s, err);
	for (size_t i = 0; rc == 0 && s && i < s->nrows; i++)
		if (pl_rows_get(s, i, 3))
			rc = pl_strv_push(out, pl_rows_get(s, i, 3)) ? pl_err_nomem(err) : 0;
	pl_rows_free(s);
	for (size_t i = 0; sets && i < ids.n; i++)
		pl_strv_dispose(&sets[i].dirs);
	free(sets);
	idvec_dispose(&ids);
	dirs_dispose(&d);
	return rc;
}
