/*
 * pending.c -- applying a statement's changes to a model in memory (see pending.h).
 *
 * Tables the changes touch are copied and changed; the others are shared with the base model
 * (pl_table.owner). Schemas and views, few and small, are copied.
 */
#include "catalog/pending.h"

#include "catalog/model_rows.h"

#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "core/objhooks.h"
#include "core/str.h"

typedef struct apply_ctx {
	pl_model *m;    /* being built */
	pl_txn *t;
	int64_t *next_local;
	int64_t begin;  /* begin_snapshot of the rows the changes add */
	bool oom;
} apply_ctx;

static char *dup(apply_ctx *c, const char *s)
{
	if (!s)
		return NULL;
	char *d = pl_strdup(s);
	if (!d)
		c->oom = true;
	return d;
}

static int64_t new_local(apply_ctx *c)
{
	return PL_LOCAL_ID_BASE + (*c->next_local)++;
}

static char *child_dir(apply_ctx *c, const char *parent_dir, const char *name, char **path_out)
{
	pl_buf path = PL_BUF_INIT, dir = PL_BUF_INIT;
	pl_buf_put_path_name(&path, name);
	pl_buf_putc(&path, '/');
	pl_buf_puts(&dir, parent_dir);
	pl_buf_puts(&dir, pl_buf_cstr(&path));
	*path_out = pl_buf_detach(&path);
	char *d = pl_buf_detach(&dir);
	if (!*path_out || !d)
		c->oom = true;
	return d;
}

/* ---- schemas and views ------------------------------------------------------------------- */

static bool dropped(const pl_dropped *d, size_t n, int64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (d[i].id == id)
			return true;
	return false;
}

static int apply_schemas(apply_ctx *c, const pl_model *base, const char *data_path)
{
	pl_model *m = c->m;
	pl_txn *t = c->t;
	m->schemas = calloc(base->nschemas + t->nschemas + 1, sizeof(*m->schemas));
	if (!m->schemas)
		return PL_ENOMEM;
	for (size_t i = 0; i < base->nschemas; i++) {
		const pl_schema *s = &base->schemas[i];
		if (dropped(t->dropped_schemas, t->ndropped_schemas, s->id))
			continue;
		pl_schema *d = &m->schemas[m->nschemas++];
		*d = (pl_schema){s->id, dup(c, s->uuid), dup(c, s->name), dup(c, s->dir), dup(c, s->path),
				 s->path_is_relative};
	}
	for (size_t i = 0; i < t->nschemas; i++) {
		pl_schema *d = &m->schemas[m->nschemas++];
		char uuid[PL_UUID_STRLEN + 1];
		pl_err ignored;
		d->id = t->schemas[i].assigned_id = new_local(c);
		d->uuid = pl_uuid_v7(uuid, &ignored) == 0 ? dup(c, uuid) : NULL;
		d->name = dup(c, t->schemas[i].name);
		d->dir = child_dir(c, data_path, t->schemas[i].name, &d->path);
		d->path_is_relative = true;
	}
	return c->oom ? PL_ENOMEM : 0;
}

static int apply_views(apply_ctx *c, const pl_model *base)
{
	pl_model *m = c->m;
	pl_txn *t = c->t;
	m->views = calloc(base->nviews + t->nviews + 1, sizeof(*m->views));
	if (!m->views)
		return PL_ENOMEM;
	for (size_t i = 0; i < base->nviews; i++) {
		const pl_view *v = &base->views[i];
		if (dropped(t->dropped_views, t->ndropped_views, v->id) || !pl_model_schema_by_id(m, v->schema_id))
			continue;
		const char *name = v->name;
		for (size_t k = 0; k < t->nviews; k++)
			if (t->views[k].rename && t->views[k].renamed_id == v->id)
				name = t->views[k].name;
		m->views[m->nviews++] = (pl_view){v->id, v->schema_id, dup(c, name), dup(c, v->sql),
						  dup(c, v->column_aliases), dup(c, v->comment)};
	}
	for (size_t i = 0; i < t->nviews; i++) {
		const pl_new_view *v = &t->views[i];
		if (v->rename)
			continue;
		t->views[i].assigned_id = new_local(c);
		m->views[m->nviews++] = (pl_view){v->assigned_id, v->schema_id, dup(c, v->name), dup(c, v->sql),
						  dup(c, v->column_aliases), NULL};
	}
	for (size_t i = 0; i < t->ntags; i++) { /* COMMENT ON VIEW */
		const pl_tag *g = &t->tags[i];
		for (size_t k = 0; g->column_id < 0 && strcmp(g->key, "comment") == 0 && k < m->nviews; k++) {
			if (m->views[k].id != g->table_id)
				continue;
			free(m->views[k].comment);
			m->views[k].comment = dup(c, g->value);
		}
	}
	return c->oom ? PL_ENOMEM : 0;
}

static int apply_macros(apply_ctx *c, const pl_model *base)
{
	pl_model *m = c->m;
	pl_txn *t = c->t;
	m->macros = calloc(base->nmacros + t->nmacros + 1, sizeof(*m->macros));
	if (!m->macros)
		return PL_ENOMEM;
	for (size_t i = 0; i < base->nmacros; i++) {
		const pl_macro *v = &base->macros[i];
		bool gone = !pl_model_schema_by_id(m, v->schema_id);
		for (size_t k = 0; !gone && k < t->ndropped_macros; k++)
			gone = t->dropped_macros[k].id == v->id;
		if (gone)
			continue;
		if (!pl_macro_copy(&m->macros[m->nmacros], v))
			return PL_ENOMEM;
		m->nmacros++;
	}
	for (size_t i = 0; i < t->nmacros; i++) {
		t->macros[i].assigned_id = new_local(c);
		if (!pl_macro_copy(&m->macros[m->nmacros], &t->macros[i].macro))
			return PL_ENOMEM;
		m->macros[m->nmacros++].id = t->macros[i].assigned_id;
	}
	return c->oom ? PL_ENOMEM : 0;
}

/* ---- tables ------------------------------------------------------------------------------- */

static int64_t table_of_file_ref(const pl_txn *t, int64_t ref)
{
	return ref >= 0 ? ref : t->tables[-ref - 1].assigned_id;
}


static void copy_column(apply_ctx *c, pl_column *d, const pl_column *s)
{
	*d = *s;
	d->name = dup(c, s->name);
	d->type = dup(c, s->type);
	d->initial_default = dup(c, s->initial_default);
	d->default_value = dup(c, s->default_value);
	d->default_value_type = dup(c, s->default_value_type);
	d->comment = dup(c, s->comment);
	d->children = NULL;
	d->nchildren = 0;
}

static void copy_new_column(apply_ctx *c, pl_column *d, const pl_new_column *s)
{
	memset(d, 0, sizeof(*d));
	d->id = s->id;
	d->order = s->order;
	d->parent = s->parent;
	d->begin_snapshot = c->begin;
	d->name = dup(c, s->name);
	d->type = dup(c, s->type);
	d->initial_default = dup(c, s->initial_default);
	d->default_value = dup(c, s->default_value);
	d->default_value_type = dup(c, s->default_value_type);
	d->nulls_allowed = s->nulls_allowed;
}

static int cmp_column(const void *a, const void *b)
{
	const pl_column *x = a, *y = b;
	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Sets d's columns: src's except the ids in `end`, plus `add`; then links the tree. */
static int set_columns(apply_ctx *c, pl_table *d, const pl_column *src, size_t nsrc, const int64_t *end,
		       size_t nend, const pl_new_column *add, size_t nadd)
{
	pl_column *cols = calloc(nsrc + nadd + 1, sizeof(*cols));
	if (!cols)
		return PL_ENOMEM;
	size_t n = 0;
	for (size_t i = 0; i < nsrc; i++) {
		bool ended = false;
		for (size_t k = 0; k < nend && !ended; k++)
			ended = end[k] == src[i].id;
		if (!ended)
			copy_column(c, &cols[n++], &src[i]);
	}
	for (size_t i = 0; i < nadd; i++)
		copy_new_column(c, &cols[n++], &add[i]);
	qsort(cols, n, sizeof(*cols), cmp_column);
	pl_column *old = d->columns;
	size_t nold = d->ncolumns;
	d->columns = cols;
	d->ncolumns = n;
	free(d->top);
	d->top = NULL;
	d->ntop = 0;
	d->schema_since = 0;
	for (size_t i = 0; i < n; i++)
		if (cols[i].begin_snapshot > d->schema_since)
			d->schema_since = cols[i].begin_snapshot;
	for (size_t i = 0; old && i < nold; i++) { /* the previous copy of this table's columns */
		pl_column *o = &old[i];
		free(o->name);
		free(o->type);
		free(o->initial_default);
		free(o->default_value);
		free(o->default_value_type);
		free(o->comment);
		free(o->children);
	}
	free(old);
	return c->oom ? PL_ENOMEM : pl_model__link_columns(d);
}

static bool copy_file(pl_data_file *d, const pl_data_file *s)
{
	*d = *s;
	d->path = pl_strdup(s->path);
	d->delete_path = s->delete_path ? pl_strdup(s->delete_path) : NULL;
	d->delete_format = s->delete_format ? pl_strdup(s->delete_format) : NULL;
	d->inlined_deletes = NULL;
	if (s->ninlined_deletes && (d->inlined_deletes = malloc(s->ninlined_deletes * sizeof(int64_t))) != NULL)
		memcpy(d->inlined_deletes, s->inlined_deletes, s->ninlined_deletes * sizeof(int64_t));
	return d->path && (!s->delete_path || d->delete_path) && (!s->delete_format || d->delete_format) &&
	       (!s->ninlined_deletes || d->inlined_deletes);
}

/* A copy of s that d owns, with room for `extra` more files. */
static int copy_table(apply_ctx *c, pl_table *d, const pl_table *s, size_t extra)
{
	memset(d, 0, sizeof(*d));
	d->id = s->id;
	d->schema_id = s->schema_id;
	d->begin_snapshot = s->begin_snapshot;
	d->uuid = dup(c, s->uuid);
	d->name = dup(c, s->name);
	d->dir = dup(c, s->dir);
	d->path = dup(c, s->path);
	d->path_is_relative = s->path_is_relative;
	d->max_column_id = s->max_column_id;
	d->record_count = s->record_count;
	d->next_row_id = s->next_row_id;
	d->file_size_bytes = s->file_size_bytes;
	d->has_stats = s->has_stats;
	d->comment = dup(c, s->comment);
	d->partition_id = s->partition_id;
	d->npartition_keys = s->npartition_keys;
	d->partition_keys = pl_model__copy_partition_keys(s->partition_keys, s->npartition_keys, &c->oom);
	d->sort_id = s->sort_id;
	d->nsort_keys = s->nsort_keys;
	d->sort_keys = pl_model__copy_sort_keys(s->sort_keys, s->nsort_keys, &c->oom);
	d->files = calloc(s->nfiles + extra + 1, sizeof(*d->files));
	d->inlined = calloc(s->ninlined + 1, sizeof(*d->inlined));
	if (!d->files || !d->inlined)
		return PL_ENOMEM;
	for (size_t i = 0; i < s->nfiles; i++, d->nfiles++)
		if (!copy_file(&d->files[i], &s->files[i])) {
			pl_model__free_file(&d->files[i]);
			return PL_ENOMEM;
		}
	for (size_t i = 0; i < s->ninlined; i++, d->ninlined++) {
		const pl_inlined_table *it = &s->inlined[i];
		d->inlined[i] = (pl_inlined_table){dup(c, it->name), it->schema_version, NULL, 0};
		if (it->ndeleted && !(d->inlined[i].deleted = malloc(it->ndeleted * sizeof(int64_t))))
			return PL_ENOMEM;
		if (it->ndeleted)
			memcpy(d->inlined[i].deleted, it->deleted, it->ndeleted * sizeof(int64_t));
		d->inlined[i].ndeleted = it->ndeleted;
	}
	int rc = c->oom ? PL_ENOMEM : 0;
	if (rc == 0)
		rc = set_columns(c, d, s->columns, s->ncolumns, NULL, 0, NULL, 0);
	return rc;
}

static int new_table(apply_ctx *c, pl_table *d, pl_new_table *nt)
{
	memset(d, 0, sizeof(*d));
	d->id = nt->assigned_id = new_local(c);
	d->schema_id = nt->schema_ref >= 0 ? nt->schema_ref : c->t->schemas[-nt->schema_ref - 1].assigned_id;
	const pl_schema *s = pl_model_schema_by_id(c->m, d->schema_id);
	if (!s)
		return PL_EINVALID;
	char uuid[PL_UUID_STRLEN + 1];
	pl_err ignored;
	d->begin_snapshot = c->begin;
	d->partition_id = -1;
	d->sort_id = -1;
	d->uuid = pl_uuid_v7(uuid, &ignored) == 0 ? dup(c, uuid) : NULL;
	d->name = dup(c, nt->name);
	d->dir = child_dir(c, s->dir, nt->name, &d->path);
	d->path_is_relative = true;
	d->files = calloc(1, sizeof(*d->files));
	d->inlined = calloc(1, sizeof(*d->inlined));
	if (!d->files || !d->inlined || c->oom)
		return PL_ENOMEM;
	return set_columns(c, d, NULL, 0, NULL, 0, nt->columns, nt->ncolumns);
}

static size_t files_for(const pl_txn *t, int64_t table_id)
{
	size_t n = 0;
	for (size_t i = 0; i < t->nfiles; i++)
		n += table_of_file_ref(t, t->files[i].table_ref) == table_id;
	return n;
}

static int apply_tables(apply_ctx *c, pl_model *base)
{
	pl_model *m = c->m;
	pl_txn *t = c->t;
	m->tables = calloc(base->ntables + t->ntables + 1, sizeof(*m->tables));
	if (!m->tables)
		return PL_ENOMEM;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < base->ntables; i++) {
		const pl_table *s = &base->tables[i];
		if (dropped(t->dropped_tables, t->ndropped_tables, s->id) || !pl_model_schema_by_id(m, s->schema_id))
			continue;
		pl_table *d = &m->tables[m->ntables++];
		if (pl_txn_touches_table(t, s->id)) {
			rc = copy_table(c, d, s, files_for(t, s->id));
			continue;
		}
		*d = *s;
		d->owner = pl_model_ref(s->owner ? s->owner : base);
	}
	for (size_t i = 0; rc == 0 && i < t->ntables; i++) {
		pl_table *d = &m->tables[m->ntables++];
		rc = new_table(c, d, &t->tables[i]);
		/* files come from later statements, or from this one: room for them */
		size_t n = rc ? 0 : files_for(t, d->id);
		pl_data_file *f = n ? calloc(n + 1, sizeof(*f)) : NULL;
		if (n && !f)
			rc = PL_ENOMEM;
		if (f) {
			free(d->files);
			d->files = f;
		}
	}
	return rc;
}

static pl_table *table_mut(pl_model *m, int64_t id)
{
	return (pl_table *)pl_model_table_by_id(m, id);
}

static int apply_alters(apply_ctx *c)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < c->t->nalters; i++) {
		const pl_alter *a = &c->t->alters[i];
		pl_table *d = table_mut(c->m, a->table_id);
		if (!d)
			return PL_EINVALID;
		if (a->nend || a->ncolumns)
			rc = set_columns(c, d, d->columns, d->ncolumns, a->end_columns, a->nend, a->columns, a->ncolumns);
		if (rc == 0 && a->new_name) {
			const pl_schema *s = pl_model_schema_by_id(c->m, a->schema_id);
			free(d->name);
			d->name = dup(c, a->new_name);
			d->schema_id = a->schema_id;
			if (a->path) {
				free(d->path);
				free(d->dir);
				d->path = dup(c, a->path);
				d->path_is_relative = a->path_is_relative;
				d->dir = pl_model__resolve_dir(s ? s->dir : "", a->path, a->path_is_relative);
				c->oom = c->oom || !d->dir;
			}
		}
	}
	return rc ? rc : c->oom ? PL_ENOMEM : 0;
}

static int apply_tags(apply_ctx *c)
{
	for (size_t i = 0; i < c->t->ntags; i++) {
		const pl_tag *g = &c->t->tags[i];
		pl_table *d = table_mut(c->m, g->table_id);
		if (!d || strcmp(g->key, "comment") != 0)
			continue; /* a view's or schema's tag: the model keeps no comments of those */
		char **slot = &d->comment;
		for (size_t k = 0; g->column_id >= 0 && k < d->ncolumns; k++)
			if (d->columns[k].id == g->column_id)
				slot = &d->columns[k].comment;
		if (g->column_id >= 0 && slot == &d->comment)
			continue; /* the column is gone */
		free(*slot);
		*slot = dup(c, g->value);
	}
	return c->oom ? PL_ENOMEM : 0;
}

static int apply_partitions(apply_ctx *c)
{
	for (size_t i = 0; i < c->t->npartitions; i++) {
		pl_new_partition *np = &c->t->partitions[i];
		pl_table *d = table_mut(c->m, np->table_id);
		if (!d || d->owner)
			return PL_EINVALID;
		pl_model__free_partition_keys(d->partition_keys, d->npartition_keys);
		d->partition_keys = NULL;
		d->npartition_keys = 0;
		d->partition_id = -1;
		if (np->nkeys == 0)
			continue;
		if (!(d->partition_keys = calloc(np->nkeys, sizeof(*d->partition_keys))))
			return PL_ENOMEM;
		for (size_t k = 0; k < np->nkeys; k++, d->npartition_keys++)
			d->partition_keys[k] = (pl_partition_key){np->column_ids[k], dup(c, np->transforms[k])};
		d->partition_id = np->assigned_id = new_local(c);
	}
	return c->oom ? PL_ENOMEM : 0;
}

static int apply_sorts(apply_ctx *c)
{
	for (size_t i = 0; i < c->t->nsorts; i++) {
		pl_new_sort *ns = &c->t->sorts[i];
		pl_table *d = table_mut(c->m, ns->table_id);
		if (!d || d->owner)
			return PL_EINVALID;
		if (ns->unchanged)
			continue;
		pl_model__free_sort_keys(d->sort_keys, d->nsort_keys);
		d->sort_keys = NULL;
		d->nsort_keys = 0;
		d->sort_id = -1;
		if (ns->nkeys == 0)
			continue;
		if (!(d->sort_keys = calloc(ns->nkeys, sizeof(*d->sort_keys))))
			return PL_ENOMEM;
		for (size_t k = 0; k < ns->nkeys; k++, d->nsort_keys++)
			d->sort_keys[k] = (pl_sort_key){dup(c, ns->expressions[k]), ns->descending[k], ns->nulls_first[k]};
		d->sort_id = ns->assigned_id = new_local(c);
	}
	return c->oom ? PL_ENOMEM : 0;
}

static int apply_files(apply_ctx *c)
{
	for (size_t i = 0; i < c->t->nfiles; i++) {
		pl_new_file *nf = &c->t->files[i];
		pl_table *d = table_mut(c->m, table_of_file_ref(c->t, nf->table_ref));
		if (!d || d->owner)
			return PL_EINVALID;
		pl_data_file *f = &d->files[d->nfiles];
		memset(f, 0, sizeof(*f));
		f->mapped = nf->namemap && nf->namemap <= c->t->nnamemaps;
		f->mapping_id = f->mapped ? c->t->namemaps[nf->namemap - 1].assigned_id : -1;
		if (!(f->path = pl_objhook_file_path(d->dir, nf->path, !nf->external)))
			return PL_ENOMEM;
		d->nfiles++;
		f->id = f->file_order = nf->assigned_id = new_local(c);
		f->record_count = nf->record_count;
		f->file_size = nf->file_size;
		f->footer_size = nf->footer_size;
		f->partition_id = nf->partitioned ? nf->partition_id : -1;
		f->delete_id = -1;
		f->delete_partial_max = -1;
		if (nf->flushed) { /* rows that were the table's already, with their row ids */
			f->row_id_start = nf->flush_row_id_start;
			f->begin_snapshot = nf->flush_begin;
			f->partial_max = nf->flush_max;
			f->file_size = nf->file_size;
			d->file_size_bytes += nf->file_size;
			d->has_stats = true;
			continue;
		}
		/* rows of the transaction: its own row ids until COMMIT numbers them */
		f->row_id_start = PL_TXN_ROW_ID_BASE;
		for (size_t k = 0; k + 1 < d->nfiles; k++)
			if (d->files[k].row_id_start >= PL_TXN_ROW_ID_BASE &&
			    d->files[k].row_id_start + d->files[k].record_count > f->row_id_start)
				f->row_id_start = d->files[k].row_id_start + d->files[k].record_count;
		f->begin_snapshot = c->begin;
		f->partial_max = -1;
		d->next_row_id += nf->record_count;
		d->record_count += nf->record_count;
		d->file_size_bytes += nf->file_size;
		d->has_stats = true;
	}
	return 0;
}

static pl_data_file *file_mut(pl_table *d, int64_t id, size_t *index)
{
	for (size_t i = 0; d && i < d->nfiles; i++)
		if (d->files[i].id == id) {
			if (index)
				*index = i;
			return &d->files[i];
		}
	return NULL;
}

static int apply_deletes(apply_ctx *c)
{
	for (size_t i = 0; i < c->t->ndeletes; i++) {
		pl_new_delete *nd = &c->t->deletes[i];
		pl_table *d = table_mut(c->m, nd->table_id);
		/* the delete file of a file of the same write (a flush's deleted rows) */
		int64_t file_id = nd->new_file && nd->new_file <= c->t->nfiles ? c->t->files[nd->new_file - 1].assigned_id
									       : nd->data_file_id;
		pl_data_file *f = d && !d->owner ? file_mut(d, file_id, NULL) : NULL;
		if (!f)
			return PL_EINVALID;
		pl_buf path = PL_BUF_INIT;
		pl_buf_puts(&path, d->dir);
		pl_buf_puts(&path, nd->path);
		char *p = pl_buf_detach(&path), *fmt = pl_strdup(nd->format ? nd->format : "parquet");
		if (!p || !fmt) {
			free(p);
			free(fmt);
			return PL_ENOMEM;
		}
		free(f->delete_path);
		free(f->delete_format);
		f->delete_path = p;
		f->delete_format = fmt;
		f->delete_id = nd->assigned_id = new_local(c);
		f->delete_count = nd->delete_count;
		f->delete_size = nd->file_size;
		f->delete_footer = nd->footer_size;
		f->delete_begin = c->begin;
		f->delete_partial_max = -1;
	}
	for (size_t i = 0; i < c->t->nfile_deletes; i++) {
		const pl_inlined_file_delete *fd = &c->t->file_deletes[i];
		pl_table *d = table_mut(c->m, fd->table_id);
		pl_data_file *f = d && !d->owner ? file_mut(d, fd->data_file_id, NULL) : NULL;
		if (!f)
			return PL_EINVALID;
		if (pl_model__add_inlined_deletes(f, fd->positions, fd->n))
			return PL_ENOMEM;
	}
	for (size_t i = 0; i < c->t->ninlined_deletes; i++) { /* rows of an inlined-data table */
		const pl_inlined_delete *del = &c->t->inlined_deletes[i];
		pl_table *d = table_mut(c->m, del->table_id);
		pl_inlined_table *it = NULL;
		for (size_t k = 0; d && !d->owner && k < d->ninlined; k++)
			if (del->inlined_table && strcmp(d->inlined[k].name, del->inlined_table) == 0)
				it = &d->inlined[k];
		if (!it)
			return PL_EINVALID;
		int64_t *p = realloc(it->deleted, (it->ndeleted + del->n + 1) * sizeof(*p));
		if (!p)
			return PL_ENOMEM;
		memcpy(p + it->ndeleted, del->row_ids, del->n * sizeof(*p));
		it->deleted = p;
		it->ndeleted += del->n;
	}
	for (size_t i = 0; i < c->t->nended_files; i++) {
		const pl_ended_file *e = &c->t->ended_files[i];
		pl_table *d = table_mut(c->m, e->table_id);
		size_t k = 0;
		pl_data_file *f = d && !d->owner ? file_mut(d, e->data_file_id, &k) : NULL;
		if (!f)
			return PL_EINVALID;
		pl_model__free_file(f);
		memmove(&d->files[k], &d->files[k + 1], (d->nfiles - k - 1) * sizeof(*f));
		d->nfiles--;
	}
	return 0;
}

/* A flush inside a transaction: the table's inlined rows it wrote to files leave the table's
 * inlined-data tables (the pending model no longer reads them). */
static int apply_flushes(apply_ctx *c)
{
	for (size_t i = 0; i < c->t->nflushes; i++) {
		const pl_inlined_flush *fl = &c->t->flushes[i];
		pl_table *d = table_mut(c->m, fl->table_id);
		if (!d || d->owner)
			return PL_EINVALID;
		for (size_t k = 0; fl->inlined_table && k < d->ninlined; k++) {
			if (strcmp(d->inlined[k].name, fl->inlined_table) != 0)
				continue;
			free(d->inlined[k].name);
			free(d->inlined[k].deleted);
			memmove(&d->inlined[k], &d->inlined[k + 1], (d->ninlined - k - 1) * sizeof(d->inlined[0]));
			d->ninlined--;
			break;
		}
	}
	return 0;
}

int pl_model_apply_txn(pl_model *base, pl_txn *txn, const char *data_path, int64_t *next_local,
		       pl_model **out, pl_err *err)
{
	/* The pending model holds changes the catalog does not have: it never loads files itself
	 * (cat NULL), so every table it copies or shares has its files loaded first. */
	int rc = pl_model_load_all_files(base, err);
	if (rc)
		return rc;
	pl_model *m = calloc(1, sizeof(*m));
	if (!m)
		return pl_err_nomem(err);
	m->refs = 1;
	m->cat = NULL;
	m->history = base->history;
	pthread_mutex_init(&m->lock, NULL);
	m->snapshot_id = base->snapshot_id;
	m->schema_version = base->schema_version;
	m->next_catalog_id = base->next_catalog_id;
	m->next_file_id = base->next_file_id;
	apply_ctx c = {m, txn, next_local, base->snapshot_id + 1, false};
	m->snapshot_time = dup(&c, base->snapshot_time);
	rc = c.oom ? PL_ENOMEM : apply_schemas(&c, base, data_path);
	if (rc == 0)
		rc = apply_tables(&c, base);
	if (rc == 0)
		rc = apply_alters(&c);
	if (rc == 0)
		rc = apply_tags(&c);
	if (rc == 0)
		rc = apply_views(&c, base);
	if (rc == 0)
		rc = apply_macros(&c, base);
	/* a file whose map equals one the table already has (committed, or made by an earlier
	 * statement of the transaction) shares it, as DuckLake's maps are shared */
	for (size_t i = 0; rc == 0 && i < txn->nnamemaps; i++) {
		int64_t same = pl_namemaps_equal_id(base->namemaps, &txn->namemaps[i].map);
		txn->namemaps[i].assigned_id = same >= 0 ? same : new_local(&c);
	}
	if (rc == 0)
		rc = pl_namemaps_extend(base->namemaps, txn->namemaps, txn->nnamemaps, &m->namemaps);
	if (rc == 0)
		rc = apply_partitions(&c);
	if (rc == 0)
		rc = apply_sorts(&c);
	if (rc == 0)
		rc = apply_files(&c);
	if (rc == 0)
		rc = apply_deletes(&c);
	if (rc == 0)
		rc = apply_flushes(&c);
	if (rc) {
		pl_model_free(m);
		return rc == PL_ENOMEM ? pl_err_nomem(err)
				       : pl_err_set(err, PL_EINVALID, "the statement changes an object its transaction "
							"no longer sees; ROLLBACK and retry");
	}
	*out = m;
	return 0;
}
