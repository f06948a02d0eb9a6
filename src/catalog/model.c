/*
 * model.c -- loading a pl_model (see model.h) from the catalog tables at one snapshot.
 */
#include "catalog/model.h"
#include "catalog/namemap.h"

#include "catalog/model_rows.h"
#include "catalog/inline.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/objhooks.h"
#include "core/str.h"

#define LIVE_AT PL_MODEL_LIVE_AT

static int query_at(pl_catdb *db, const char *sql, int64_t snap, pl_rows **out, pl_err *err)
{
	pl_val p[2] = {PL_VINT(snap), PL_VINT(snap)};
	return pl_catdb_query(db, sql, p, 2, out, err);
}

static char *dup_or_null(const char *s, bool *oom)
{
	if (!s)
		return NULL;
	char *d = pl_strdup(s);
	if (!d)
		*oom = true;
	return d;
}

char *pl_model__resolve_dir(const char *parent_dir, const char *path, bool relative)
{
	pl_buf b = PL_BUF_INIT;
	if (!path || !*path) {
		pl_buf_puts(&b, parent_dir);
	} else {
		if (relative)
			pl_buf_puts(&b, parent_dir);
		pl_buf_puts(&b, path);
		if (!pl_str_has_suffix(path, "/"))
			pl_buf_putc(&b, '/');
	}
	if (!relative && path && strncmp(path, "s3://", 5) == 0 && !pl_buf_oom(&b)) { /* its path in the read cache */
		char *local = pl_objhook_file_path(NULL, b.ptr, false);
		pl_buf_dispose(&b);
		return local;
	}
	return pl_buf_detach(&b);
}

int pl_model__load_snapshot(pl_model *m, pl_catdb *db, int64_t snap, pl_err *err)
{
	pl_rows *r = NULL;
	pl_val p = PL_VINT(snap);
	int rc = pl_catdb_query(db,
				"SELECT snapshot_id, schema_version, next_catalog_id, next_file_id, "
				"CAST(snapshot_time AS VARCHAR) FROM ducklake_snapshot WHERE snapshot_id = ?",
				&p, 1, &r, err);
	if (rc)
		return rc;
	if (r->nrows == 0) {
		pl_rows_free(r);
		return pl_err_set(err, PL_ENOTFOUND, "No snapshot found at version %lld", (long long)snap);
	}
	m->snapshot_id = pl_rows_int(r, 0, 0, 0);
	m->schema_version = pl_rows_int(r, 0, 1, 0);
	m->next_catalog_id = pl_rows_int(r, 0, 2, 0);
	m->next_file_id = pl_rows_int(r, 0, 3, 0);
	bool oom = false;
	m->snapshot_time = dup_or_null(pl_rows_get(r, 0, 4), &oom);
	pl_rows_free(r);
	return oom ? pl_err_nomem(err) : 0;
}

static int load_schemas(pl_model *m, pl_catdb *db, const char *data_path, pl_err *err)
{
	pl_rows *r = NULL;
	int rc = query_at(db,
			  "SELECT schema_id, CAST(schema_uuid AS VARCHAR), schema_name, path, path_is_relative "
			  "FROM ducklake_schema WHERE" LIVE_AT " ORDER BY schema_id",
			  m->snapshot_id, &r, err);
	if (rc)
		return rc;
	m->schemas = calloc(r->nrows + 1, sizeof(*m->schemas));
	bool oom = !m->schemas;
	for (size_t i = 0; !oom && i < r->nrows; i++) {
		pl_schema *s = &m->schemas[m->nschemas++];
		s->id = pl_rows_int(r, i, 0, 0);
		s->uuid = dup_or_null(pl_rows_get(r, i, 1), &oom);
		s->name = dup_or_null(pl_rows_get(r, i, 2), &oom);
		s->path = dup_or_null(pl_rows_get(r, i, 3), &oom);
		s->path_is_relative = pl_rows_bool(r, i, 4, true);
		s->dir = pl_model__resolve_dir(data_path, s->path, s->path_is_relative);
		oom = oom || !s->dir || !s->name;
	}
	pl_rows_free(r);
	return oom ? pl_err_nomem(err) : 0;
}

static int load_tables(pl_model *m, pl_catdb *db, pl_err *err)
{
	pl_rows *r = NULL;
	int rc = query_at(db,
			  "SELECT table_id, CAST(table_uuid AS VARCHAR), schema_id, table_name, path, "
			  "path_is_relative, begin_snapshot FROM ducklake_table WHERE" LIVE_AT
			  " ORDER BY table_id",
			  m->snapshot_id, &r, err);
	if (rc)
		return rc;
	m->tables = calloc(r->nrows + 1, sizeof(*m->tables));
	bool oom = !m->tables;
	for (size_t i = 0; !oom && i < r->nrows; i++) {
		pl_table *t = &m->tables[m->ntables++];
		t->id = pl_rows_int(r, i, 0, 0);
		t->uuid = dup_or_null(pl_rows_get(r, i, 1), &oom);
		t->schema_id = pl_rows_int(r, i, 2, 0);
		t->name = dup_or_null(pl_rows_get(r, i, 3), &oom);
		t->path = dup_or_null(pl_rows_get(r, i, 4), &oom);
		t->path_is_relative = pl_rows_bool(r, i, 5, true);
		t->begin_snapshot = pl_rows_int(r, i, 6, 0);
		t->partition_id = -1;
		t->sort_id = -1;
		t->files_deferred = true; /* loaded on first use: model_files.c */
		const pl_schema *s = pl_model_schema_by_id(m, t->schema_id);
		t->dir = pl_model__resolve_dir(s ? s->dir : "", t->path, t->path_is_relative);
		oom = oom || !t->dir || !t->name;
	}
	pl_rows_free(r);
	return oom ? pl_err_nomem(err) : 0;
}

pl_table *pl_model__table_mut(pl_model *m, int64_t id)
{
	return (pl_table *)pl_model_table_by_id(m, id);
}

#define table_mut pl_model__table_mut

/* Counts rows per table so each table gets one allocation. */
static int alloc_per_table(pl_model *m, pl_rows *r, size_t elem, size_t off_ptr, size_t off_n)
{
	for (size_t i = 0; i < r->nrows; i++) {
		pl_table *t = table_mut(m, pl_rows_int(r, i, 0, -1));
		if (t)
			(*(size_t *)((char *)t + off_n))++;
	}
	for (size_t i = 0; i < m->ntables; i++) {
		pl_table *t = &m->tables[i];
		size_t n = *(size_t *)((char *)t + off_n);
		void *p = calloc(n + 1, elem);
		if (!p)
			return PL_ENOMEM;
		*(void **)((char *)t + off_ptr) = p;
		*(size_t *)((char *)t + off_n) = 0;
	}
	return 0;
}

int pl_model__link_columns(pl_table *t)
{
	t->top = calloc(t->ncolumns + 1, sizeof(*t->top));
	if (!t->top)
		return PL_ENOMEM;
	for (size_t i = 0; i < t->ncolumns; i++) {
		pl_column *c = &t->columns[i];
		if (c->id > t->max_column_id)
			t->max_column_id = c->id;
		if (c->parent < 0) {
			t->top[t->ntop++] = c;
			continue;
		}
		for (size_t j = 0; j < t->ncolumns; j++) {
			pl_column *p = &t->columns[j];
			if (p->id != c->parent)
				continue;
			pl_column **ch = realloc(p->children, (p->nchildren + 1) * sizeof(*ch));
			if (!ch)
				return PL_ENOMEM;
			p->children = ch;
			p->children[p->nchildren++] = c;
			break;
		}
	}
	return 0;
}

#define COLUMN_ROWS                                                                                           \
	"SELECT table_id, column_id, column_order, column_name, column_type, initial_default, "             \
	"default_value, nulls_allowed, parent_column, default_value_type, begin_snapshot FROM ducklake_column " \
	"WHERE" LIVE_AT

/* Fills the next column of t from row i of a COLUMN_ROWS query. */
static void fill_column(pl_table *t, const pl_rows *r, size_t i, bool *oom_out)
{
	bool oom = false;
	pl_column *c = &t->columns[t->ncolumns++];
	c->id = pl_rows_int(r, i, 1, 0);
	c->order = pl_rows_int(r, i, 2, 0);
	c->name = dup_or_null(pl_rows_get(r, i, 3), &oom);
	c->type = dup_or_null(pl_rows_get(r, i, 4), &oom);
	c->initial_default = dup_or_null(pl_rows_get(r, i, 5), &oom);
	c->default_value = dup_or_null(pl_rows_get(r, i, 6), &oom);
	c->nulls_allowed = pl_rows_bool(r, i, 7, true);
	c->parent = pl_rows_int(r, i, 8, -1);
	c->default_value_type = dup_or_null(pl_rows_get(r, i, 9), &oom);
	c->begin_snapshot = pl_rows_int(r, i, 10, 0);
	if (c->begin_snapshot > t->schema_since)
		t->schema_since = c->begin_snapshot;
	*oom_out = *oom_out || oom || !c->name || !c->type;
}

static int load_columns(pl_model *m, pl_catdb *db, pl_err *err)
{
	pl_rows *r = NULL;
	int rc = query_at(db, COLUMN_ROWS " ORDER BY table_id, column_order, column_id", m->snapshot_id, &r, err);
	if (rc)
		return rc;
	bool oom = alloc_per_table(m, r, sizeof(pl_column), offsetof(pl_table, columns),
				   offsetof(pl_table, ncolumns)) != 0;
	for (size_t i = 0; !oom && i < r->nrows; i++) {
		pl_table *t = table_mut(m, pl_rows_int(r, i, 0, -1));
		if (t)
			fill_column(t, r, i, &oom);
	}
	pl_rows_free(r);
	r = NULL;
	/* a new column id must be new across the table's whole history (old files carry the ids of
	 * dropped columns), so the highest id of any version counts, not only the live ones */
	rc = oom ? 0 : pl_catdb_query(db, "SELECT table_id, max(column_id) FROM ducklake_column GROUP BY table_id", NULL, 0,
				      &r, err);
	if (rc)
		return rc;
	for (size_t i = 0; r && i < r->nrows; i++) {
		pl_table *t = table_mut(m, pl_rows_int(r, i, 0, -1));
		if (t)
			t->max_column_id = pl_rows_int(r, i, 1, 0);
	}
	pl_rows_free(r);
	for (size_t i = 0; !oom && i < m->ntables; i++)
		oom = pl_model__link_columns(&m->tables[i]) != 0;
	return oom ? pl_err_nomem(err) : 0;
}

/* Fills f from row i of a PL_MODEL_FILE_COLUMNS query; false when out of memory. */
bool pl_model__fill_file(const pl_table *t, pl_data_file *f, const pl_rows *r, size_t i)
{
	memset(f, 0, sizeof(*f));
	f->id = pl_rows_int(r, i, 1, 0);
	f->delete_id = -1;
	/* the table's directory + path, or an absolute path (s3://: its path in the read cache) */
	f->path = pl_objhook_file_path(t->dir, pl_rows_get(r, i, 2), pl_rows_bool(r, i, 3, true));
	f->record_count = pl_rows_int(r, i, 4, 0);
	f->file_size = pl_rows_int(r, i, 5, -1);
	f->footer_size = pl_rows_int(r, i, 6, -1);
	f->row_id_start = pl_rows_int(r, i, 7, 0);
	f->file_order = pl_rows_int(r, i, 8, -1);
	f->partition_id = pl_rows_int(r, i, 9, -1);
	f->begin_snapshot = pl_rows_int(r, i, 10, 0);
	f->mapped = !pl_rows_is_null(r, i, 11);
	f->mapping_id = pl_rows_int(r, i, 11, -1);
	f->partial_max = pl_rows_int(r, i, 12, -1);
	return f->path != NULL;
}

static int cmp_file_id(const void *a, const void *b)
{
	int64_t x = (*(pl_data_file *const *)a)->id, y = (*(pl_data_file *const *)b)->id;
	return x < y ? -1 : x > y;
}

int pl_model__index_files(pl_file_index *ix, pl_table *t)
{
	ix->n = t->nfiles;
	ix->by_id = malloc((t->nfiles ? t->nfiles : 1) * sizeof(*ix->by_id));
	if (!ix->by_id)
		return PL_ENOMEM;
	for (size_t i = 0; i < t->nfiles; i++)
		ix->by_id[i] = &t->files[i];
	qsort(ix->by_id, ix->n, sizeof(*ix->by_id), cmp_file_id);
	return 0;
}

pl_data_file *pl_model__find_file(const pl_file_index *ix, int64_t id)
{
	size_t lo = 0, hi = ix->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ix->by_id[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < ix->n && ix->by_id[lo]->id == id ? ix->by_id[lo] : NULL;
}

static void clear_delete(pl_data_file *f)
{
	free(f->delete_path);
	free(f->delete_format);
	f->delete_path = f->delete_format = NULL;
	f->delete_id = -1;
	f->delete_count = 0;
}

void pl_model__free_file(pl_data_file *f)
{
	free(f->path);
	f->path = NULL;
	free(f->inlined_deletes);
	f->inlined_deletes = NULL;
	f->ninlined_deletes = 0;
	clear_delete(f);
}

/* Sets f's live delete file from row i of a PL_MODEL_DELETE_COLUMNS query; false when out of memory
 * (f unchanged). */
static bool set_delete(const pl_table *t, pl_data_file *f, const pl_rows *r, size_t i)
{
	const char *format = pl_rows_get(r, i, 5);
	char *p = pl_objhook_file_path(t->dir, pl_rows_get(r, i, 3), pl_rows_bool(r, i, 4, true));
	char *fmt = pl_strdup(format ? format : "parquet");
	if (!p || !fmt) {
		free(p);
		free(fmt);
		return false;
	}
	clear_delete(f);
	f->delete_path = p;
	f->delete_format = fmt;
	f->delete_id = pl_rows_int(r, i, 2, -1);
	f->delete_count = pl_rows_int(r, i, 6, 0);
	f->delete_size = pl_rows_int(r, i, 7, -1);
	f->delete_footer = pl_rows_int(r, i, 8, -1);
	f->delete_begin = pl_rows_int(r, i, 9, 0);
	f->delete_partial_max = pl_rows_int(r, i, 10, -1);
	return true;
}

bool pl_model__apply_table_deletes(pl_table *t, const pl_rows *r, size_t from, size_t to, bool clear)
{
	pl_file_index ix = {0};
	if (from >= to)
		return true;
	if (pl_model__index_files(&ix, t))
		return false;
	bool ok = true;
	for (size_t i = from; ok && i < to; i++) {
		pl_data_file *f = pl_model__find_file(&ix, pl_rows_int(r, i, 1, -1));
		if (!f)
			continue;
		if (!clear) {
			ok = set_delete(t, f, r, i);
			if (f->begin_snapshot >= t->schema_since) /* a remembered summary stays right */
				t->summary.current_deletes = true;
			else
				t->summary.older_deletes = true;
		} else if (f->delete_id == pl_rows_int(r, i, 2, -1)) {
			clear_delete(f);
			t->summary_known = false;
		}
	}
	free(ix.by_id);
	return ok;
}

/* Applies delete rows (grouped by table) to the files they name: a row with a path sets the
 * file's delete file; with `clear`, rows name delete files that ended (cleared unless the file
 * has another one by now). Tables whose files are not loaded are left alone. */
bool pl_model__apply_deletes(pl_model *m, const pl_rows *r, bool clear)
{
	bool ok = true;
	for (size_t i = 0, j; ok && i < r->nrows; i = j) {
		int64_t id = pl_rows_int(r, i, 0, -1);
		for (j = i + 1; j < r->nrows && pl_rows_int(r, j, 0, -1) == id; j++)
			;
		pl_table *t = table_mut(m, id);
		if (t && !t->files_deferred)
			ok = pl_model__apply_table_deletes(t, r, i, j, clear);
	}
	return ok;
}

static int load_views(pl_model *m, pl_catdb *db, pl_err *err)
{
	pl_rows *r = NULL;
	int rc = query_at(db, "SELECT view_id, schema_id, view_name, \"sql\", column_aliases FROM ducklake_view WHERE"
			  LIVE_AT " ORDER BY view_id", m->snapshot_id, &r, err);
	if (rc)
		return rc;
	m->views = calloc(r->nrows + 1, sizeof(*m->views));
	bool oom = !m->views;
	for (size_t i = 0; !oom && i < r->nrows; i++) {
		pl_view *v = &m->views[m->nviews++];
		v->id = pl_rows_int(r, i, 0, 0);
		v->schema_id = pl_rows_int(r, i, 1, 0);
		v->name = dup_or_null(pl_rows_get(r, i, 2), &oom);
		v->sql = dup_or_null(pl_rows_get(r, i, 3), &oom);
		v->column_aliases = dup_or_null(pl_rows_get(r, i, 4), &oom);
		oom = oom || !v->name || !v->sql;
	}
	pl_rows_free(r);
	return oom ? pl_err_nomem(err) : 0;
}

static int load_comments(pl_model *m, pl_catdb *db, pl_err *err)
{
	pl_rows *r = NULL;
	int rc = query_at(db, "SELECT object_id, \"value\" FROM ducklake_tag WHERE \"key\" = 'comment' AND" LIVE_AT,
			  m->snapshot_id, &r, err);
	bool oom = false;
	for (size_t i = 0; rc == 0 && !oom && i < r->nrows; i++) {
		int64_t id = pl_rows_int(r, i, 0, -1);
		pl_table *t = table_mut(m, id);
		if (t && !t->comment)
			t->comment = dup_or_null(pl_rows_get(r, i, 1), &oom);
		for (size_t v = 0; !t && v < m->nviews; v++)
			if (m->views[v].id == id && !m->views[v].comment)
				m->views[v].comment = dup_or_null(pl_rows_get(r, i, 1), &oom);
	}
	pl_rows_free(r);
	r = NULL;
	if (rc == 0 && !oom)
		rc = query_at(db, "SELECT table_id, column_id, \"value\" FROM ducklake_column_tag WHERE \"key\" = 'comment' AND"
			      LIVE_AT, m->snapshot_id, &r, err);
	for (size_t i = 0; rc == 0 && !oom && r && i < r->nrows; i++) {
		pl_table *t = table_mut(m, pl_rows_int(r, i, 0, -1));
		for (size_t c = 0; t && c < t->ncolumns; c++)
			if (t->columns[c].id == pl_rows_int(r, i, 1, -1) && !t->columns[c].comment)
				t->columns[c].comment = dup_or_null(pl_rows_get(r, i, 2), &oom);
	}
	pl_rows_free(r);
	return rc ? rc : oom ? pl_err_nomem(err) : 0;
}

static int load_inlined(pl_model *m, pl_catdb *db, pl_err *err)
{
	pl_rows *r = NULL;
	pl_val p = PL_VINT(m->schema_version);
	int rc = pl_catdb_query(db,
				"SELECT table_id, table_name, schema_version FROM ducklake_inlined_data_tables "
				"WHERE schema_version <= ? ORDER BY table_id, schema_version",
				&p, 1, &r, err);
	if (rc)
		return rc;
	bool oom = alloc_per_table(m, r, sizeof(pl_inlined_table), offsetof(pl_table, inlined),
				   offsetof(pl_table, ninlined)) != 0;
	for (size_t i = 0; !oom && i < r->nrows; i++) {
		pl_table *t = table_mut(m, pl_rows_int(r, i, 0, -1));
		if (!t)
			continue;
		pl_inlined_table *it = &t->inlined[t->ninlined++];
		it->name = dup_or_null(pl_rows_get(r, i, 1), &oom);
		it->schema_version = pl_rows_int(r, i, 2, 0);
		oom = oom || !it->name;
	}
	pl_rows_free(r);
	return oom ? pl_err_nomem(err) : 0;
}

int pl_model__load_stats(pl_model *m, pl_catdb *db, pl_err *err)
{
	pl_rows *r = NULL;
	int rc = pl_catdb_query(db, "SELECT table_id, record_count, next_row_id, file_size_bytes "
				    "FROM ducklake_table_stats",
				NULL, 0, &r, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < r->nrows; i++) {
		pl_table *t = table_mut(m, pl_rows_int(r, i, 0, -1));
		if (!t)
			continue;
		t->has_stats = true;
		t->record_count = pl_rows_int(r, i, 1, 0);
		t->next_row_id = pl_rows_int(r, i, 2, 0);
		t->file_size_bytes = pl_rows_int(r, i, 3, 0);
	}
	pl_rows_free(r);
	return 0;
}

int pl_model_load(pl_model **out, pl_catdb *db, int64_t snapshot_id, const char *data_path,
		  pl_err *err)
{
	pl_model *m = calloc(1, sizeof(*m));
	if (!m)
		return pl_err_nomem(err);
	m->refs = 1;
	m->cat = db;
	m->history = db;
	pthread_mutex_init(&m->lock, NULL);
	int rc = pl_model__load_snapshot(m, db, snapshot_id, err);
	if (!rc)
		rc = load_schemas(m, db, data_path, err);
	if (!rc)
		rc = load_tables(m, db, err);
	if (!rc)
		rc = load_columns(m, db, err);
	if (!rc)
		rc = load_inlined(m, db, err);
	if (!rc)
		rc = pl_model__load_stats(m, db, err);
	if (!rc)
		rc = load_views(m, db, err);
	if (!rc)
		rc = pl_model__load_macros(m, db, err);
	if (!rc)
		rc = load_comments(m, db, err);
	if (!rc)
		rc = pl_model__load_partitions(m, db, err);
	if (!rc)
		rc = pl_model__load_namemaps(m, db, NULL, err);
	if (rc) {
		pl_model_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

static void free_columns(pl_table *t)
{
	for (size_t i = 0; i < t->ncolumns; i++) {
		pl_column *c = &t->columns[i];
		free(c->name);
		free(c->type);
		free(c->initial_default);
		free(c->default_value);
		free(c->default_value_type);
		free(c->comment);
		free(c->children);
	}
	free(t->columns);
	free(t->top);
}

int pl_model_columns_at(pl_catdb *db, int64_t table_id, int64_t snapshot_id, pl_table **out, pl_err *err)
{
	*out = NULL;
	pl_rows *r = NULL;
	pl_val p[] = {PL_VINT(snapshot_id), PL_VINT(snapshot_id), PL_VINT(table_id)};
	int rc = pl_catdb_query(db, COLUMN_ROWS " AND table_id = ? ORDER BY column_order, column_id", p, 3, &r, err);
	if (rc)
		return rc;
	pl_table *t = calloc(1, sizeof(*t));
	bool oom = !t || !(t->columns = calloc(r->nrows + 1, sizeof(pl_column)));
	if (t)
		t->id = table_id;
	for (size_t i = 0; !oom && i < r->nrows; i++)
		fill_column(t, r, i, &oom);
	pl_rows_free(r);
	oom = oom || pl_model__link_columns(t) != 0;
	if (oom) {
		pl_model_columns_free(t);
		return pl_err_nomem(err);
	}
	*out = t;
	return 0;
}

void pl_model_columns_free(pl_table *t)
{
	if (!t)
		return;
	free_columns(t);
	free(t);
}

static void free_table(pl_table *t)
{
	if (t->owner) {
		pl_model_free(t->owner);
		return;
	}
	free_columns(t);
	for (size_t i = 0; i < t->nfiles; i++) {
		pl_model__free_file(&t->files[i]);
	}
	free(t->files);
	for (size_t i = 0; i < t->ninlined; i++) {
		free(t->inlined[i].name);
		free(t->inlined[i].deleted);
	}
	free(t->inlined);
	pl_model__free_partition_keys(t->partition_keys, t->npartition_keys);
	pl_model__free_sort_keys(t->sort_keys, t->nsort_keys);
	free(t->uuid);
	free(t->name);
	free(t->comment);
	free(t->dir);
	free(t->path);
}

pl_model *pl_model_ref(pl_model *m)
{
	m->refs++;
	return m;
}

void pl_model_free(pl_model *m)
{
	if (!m || --m->refs > 0)
		return;
	for (size_t i = 0; i < m->nschemas; i++) {
		free(m->schemas[i].uuid);
		free(m->schemas[i].name);
		free(m->schemas[i].dir);
		free(m->schemas[i].path);
	}
	free(m->schemas);
	for (size_t i = 0; i < m->ntables; i++)
		free_table(&m->tables[i]);
	free(m->tables);
	for (size_t i = 0; i < m->nviews; i++) {
		free(m->views[i].name);
		free(m->views[i].sql);
		free(m->views[i].column_aliases);
		free(m->views[i].comment);
	}
	free(m->views);
	for (size_t i = 0; i < m->nmacros; i++)
		pl_macro_dispose(&m->macros[i]);
	free(m->macros);
	free(m->snapshot_time);
	pl_namemaps_release(m->namemaps);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

const pl_schema *pl_model_schema(const pl_model *m, const char *name)
{
	for (size_t i = 0; i < m->nschemas; i++)
		if (pl_str_ieq(m->schemas[i].name, name))
			return &m->schemas[i];
	return NULL;
}

const pl_schema *pl_model_schema_by_id(const pl_model *m, int64_t id)
{
	for (size_t i = 0; i < m->nschemas; i++)
		if (m->schemas[i].id == id)
			return &m->schemas[i];
	return NULL;
}

const pl_table *pl_model_table(const pl_model *m, int64_t schema_id, const char *name)
{
	for (size_t i = 0; i < m->ntables; i++)
		if (m->tables[i].schema_id == schema_id && pl_str_ieq(m->tables[i].name, name))
			return &m->tables[i];
	return NULL;
}

const pl_macro *pl_model_macro(const pl_model *m, int64_t schema_id, const char *name, int kind)
{
	for (size_t i = 0; i < m->nmacros; i++)
		if (m->macros[i].schema_id == schema_id && pl_str_ieq(m->macros[i].name, name) &&
		    (kind < 0 || m->macros[i].table == (kind == 1)))
			return &m->macros[i];
	return NULL;
}

const pl_view *pl_model_view(const pl_model *m, int64_t schema_id, const char *name)
{
	for (size_t i = 0; i < m->nviews; i++)
		if (m->views[i].schema_id == schema_id && pl_str_ieq(m->views[i].name, name))
			return &m->views[i];
	return NULL;
}

const pl_table *pl_model_table_by_id(const pl_model *m, int64_t id)
{
	for (size_t i = 0; i < m->ntables; i++)
		if (m->tables[i].id == id)
			return &m->tables[i];
	return NULL;
}

int pl_catalog_latest_snapshot(pl_catdb *db, int64_t *out, pl_err *err)
{
	/* kept while nothing was written since (a catalog whose writers the driver sees) */
	uint64_t gen = pl_catdb_generation(db);
	if (gen && gen == db->latest_gen) {
		*out = db->latest;
		return 0;
	}
	pl_rows *r = NULL;
	int rc = pl_catdb_query(db, "SELECT max(snapshot_id) FROM ducklake_snapshot", NULL, 0, &r, err);
	if (rc)
		return rc;
	*out = pl_rows_int(r, 0, 0, -1);
	pl_rows_free(r);
	db->latest = *out;
	db->latest_gen = gen;
	return 0;
}

int pl_catalog_snapshot_at_time(pl_catdb *db, const char *utc_ts, bool at_or_before, int64_t *out, pl_err *err)
{
	/* DuckDB and PostgreSQL catalogs store TIMESTAMPTZ; SQLite stores UTC text ("YYYY-MM-DD HH:MM:SS.ffffff+00"),
	 * which orders correctly as text. */
	bool typed = strcmp(db->ops->name, "sqlite") != 0;
	const char *sql = at_or_before
		? (typed ? "SELECT max(snapshot_id) FROM ducklake_snapshot WHERE snapshot_time <= CAST(? AS TIMESTAMP WITH TIME ZONE)"
			 : "SELECT max(snapshot_id) FROM ducklake_snapshot WHERE snapshot_time <= ?")
		: (typed ? "SELECT min(snapshot_id) FROM ducklake_snapshot WHERE snapshot_time >= CAST(? AS TIMESTAMP WITH TIME ZONE)"
			 : "SELECT min(snapshot_id) FROM ducklake_snapshot WHERE snapshot_time >= ?");
	pl_rows *r = NULL;
	pl_val p = PL_VTEXT(utc_ts);
	int rc = pl_catdb_query(db, sql, &p, 1, &r, err);
	if (rc)
		return rc;
	*out = pl_rows_int(r, 0, 0, -1);
	pl_rows_free(r);
	return 0;
}

static int cmp_pos(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

int pl_model__add_inlined_deletes(pl_data_file *f, const int64_t *pos, size_t n)
{
	if (n == 0)
		return 0;
	int64_t *p = realloc(f->inlined_deletes, (f->ninlined_deletes + n) * sizeof(*p));
	if (!p)
		return -1;
	memcpy(p + f->ninlined_deletes, pos, n * sizeof(*p));
	size_t total = f->ninlined_deletes + n, k = 0;
	qsort(p, total, sizeof(*p), cmp_pos);
	for (size_t i = 0; i < total; i++)
		if (k == 0 || p[k - 1] != p[i])
			p[k++] = p[i];
	f->inlined_deletes = p;
	f->ninlined_deletes = k;
	return 0;
}

int pl_model__load_inlined_deletes(pl_model *m, pl_table *t, pl_err *err)
{
	if (t->nfiles == 0 || !m->cat)
		return 0;
	pl_rows *r = NULL;
	int rc = pl_inline_file_deletes(m->cat, t->id, 0, m->snapshot_id, &r, err);
	pl_file_index ix = {0};
	if (rc == 0 && r && r->nrows > 0 && pl_model__index_files(&ix, t))
		rc = pl_err_nomem(err);
	for (size_t i = 0; rc == 0 && r && i < r->nrows; i++) {
		pl_data_file *f = pl_model__find_file(&ix, pl_rows_int(r, i, 0, -1));
		int64_t pos = pl_rows_int(r, i, 1, -1);
		if (f && pos >= 0 && pl_model__add_inlined_deletes(f, &pos, 1))
			rc = pl_err_nomem(err);
	}
	free(ix.by_id);
	pl_rows_free(r);
	return rc;
}
