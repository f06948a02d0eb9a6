/*
 * txn.c -- the pl_txn container: the pending changes of one commit (see commit.h), appended to
 * by the statement handlers and released at the end of the statement.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog/commit.h"
#include "catalog/compact.h"
#include "core/objhooks.h"

static void *grow(void **items, size_t *n, size_t elem)
{
	void *p = realloc(*items, (*n + 1) * elem);
	if (!p)
		return NULL;
	*items = p;
	void *e = (char *)p + *n * elem;
	memset(e, 0, elem);
	(*n)++;
	return e;
}

pl_new_schema *pl_txn_add_schema(pl_txn *t)
{
	return grow((void **)&t->schemas, &t->nschemas, sizeof(pl_new_schema));
}
pl_new_table *pl_txn_add_table(pl_txn *t)
{
	return grow((void **)&t->tables, &t->ntables, sizeof(pl_new_table));
}
void pl_new_delete_clear(pl_new_delete *d)
{
	free(d->path);
	free(d->format);
	free(d->replaced_path);
	d->path = d->format = d->replaced_path = NULL;
}

void pl_new_file_clear(pl_new_file *f)
{
	for (size_t s = 0; s < f->nstats; s++) {
		free(f->stats[s].min);
		free(f->stats[s].max);
		free(f->stats[s].type);
	}
	free(f->stats);
	free(f->path);
	for (size_t k = 0; k < f->npartition_values; k++)
		free(f->partition_values[k]);
	free(f->partition_values);
	f->stats = NULL;
	f->path = NULL;
	f->partition_values = NULL;
	f->nstats = f->npartition_values = 0;
}

pl_new_file *pl_txn_add_file(pl_txn *t)
{
	return grow((void **)&t->files, &t->nfiles, sizeof(pl_new_file));
}
pl_new_namemap *pl_txn_add_namemap(pl_txn *t)
{
	pl_new_namemap *m = grow((void **)&t->namemaps, &t->nnamemaps, sizeof(pl_new_namemap));
	if (m)
		m->assigned_id = PL_LOCAL_ID_BASE + ((int64_t)1 << 50) + (int64_t)t->nnamemaps;
	return m;
}
pl_dropped *pl_txn_add_dropped_table(pl_txn *t)
{
	return grow((void **)&t->dropped_tables, &t->ndropped_tables, sizeof(pl_dropped));
}
pl_dropped *pl_txn_add_dropped_schema(pl_txn *t)
{
	return grow((void **)&t->dropped_schemas, &t->ndropped_schemas, sizeof(pl_dropped));
}

pl_new_delete *pl_txn_add_delete(pl_txn *t)
{
	return grow((void **)&t->deletes, &t->ndeletes, sizeof(pl_new_delete));
}
pl_ended_file *pl_txn_add_ended_file(pl_txn *t)
{
	return grow((void **)&t->ended_files, &t->nended_files, sizeof(pl_ended_file));
}
pl_inlined_insert *pl_txn_add_inlined_insert(pl_txn *t)
{
	return grow((void **)&t->inlined_inserts, &t->ninlined_inserts, sizeof(pl_inlined_insert));
}

pl_inlined_flush *pl_txn_add_flush(pl_txn *t)
{
	return grow((void **)&t->flushes, &t->nflushes, sizeof(pl_inlined_flush));
}

pl_inlined_file_delete *pl_txn_add_file_delete(pl_txn *t)
{
	return grow((void **)&t->file_deletes, &t->nfile_deletes, sizeof(pl_inlined_file_delete));
}

void pl_inlined_insert_dispose(pl_inlined_insert *ins)
{
	for (size_t c = 0; c < ins->ncols; c++) {
		free(ins->names ? ins->names[c] : NULL);
		free(ins->types ? ins->types[c] : NULL);
	}
	for (size_t i = 0; ins->cells && i < ins->nrows * ins->ncols; i++)
		free(ins->cells[i]);
	free(ins->names);
	free(ins->types);
	free(ins->column_ids);
	free(ins->cells);
	free(ins->columns_ddl);
	free(ins->row_ids);
	memset(ins, 0, sizeof(*ins));
}

pl_alter *pl_txn_add_alter(pl_txn *t)
{
	return grow((void **)&t->alters, &t->nalters, sizeof(pl_alter));
}
pl_new_view *pl_txn_add_view(pl_txn *t)
{
	return grow((void **)&t->views, &t->nviews, sizeof(pl_new_view));
}
pl_dropped *pl_txn_add_dropped_view(pl_txn *t)
{
	return grow((void **)&t->dropped_views, &t->ndropped_views, sizeof(pl_dropped));
}
pl_new_macro *pl_txn_add_macro(pl_txn *t)
{
	return grow((void **)&t->macros, &t->nmacros, sizeof(pl_new_macro));
}
pl_dropped_macro *pl_txn_add_dropped_macro(pl_txn *t)
{
	return grow((void **)&t->dropped_macros, &t->ndropped_macros, sizeof(pl_dropped_macro));
}
pl_tag *pl_txn_add_tag(pl_txn *t)
{
	return grow((void **)&t->tags, &t->ntags, sizeof(pl_tag));
}
pl_new_partition *pl_txn_add_partition(pl_txn *t)
{
	return grow((void **)&t->partitions, &t->npartitions, sizeof(pl_new_partition));
}

pl_new_sort *pl_txn_add_sort(pl_txn *t)
{
	return grow((void **)&t->sorts, &t->nsorts, sizeof(pl_new_sort));
}

pl_inlined_delete *pl_txn_add_inlined_delete(pl_txn *t)
{
	return grow((void **)&t->inlined_deletes, &t->ninlined_deletes, sizeof(pl_inlined_delete));
}

void pl_new_columns_free(pl_new_column *cols, size_t n)
{
	for (size_t c = 0; c < n; c++) {
		free(cols[c].name);
		free(cols[c].type);
		free(cols[c].default_value);
		free(cols[c].default_value_type);
		free(cols[c].initial_default);
		free(cols[c].initial_stat);
	}
	free(cols);
}

bool pl_txn_touches_table(const pl_txn *t, int64_t id)
{
	for (size_t i = 0; i < t->nfiles; i++)
		if (t->files[i].table_ref == id)
			return true;
	for (size_t i = 0; i < t->ndropped_tables; i++)
		if (t->dropped_tables[i].id == id)
			return true;
	for (size_t i = 0; i < t->nalters; i++)
		if (t->alters[i].table_id == id)
			return true;
	for (size_t i = 0; i < t->npartitions; i++)
		if (t->partitions[i].table_id == id)
			return true;
	for (size_t i = 0; i < t->nsorts; i++)
		if (t->sorts[i].table_id == id)
			return true;
	for (size_t i = 0; i < t->ntags; i++)
		if (t->tags[i].table_id == id)
			return true;
	for (size_t i = 0; i < t->ndeletes; i++)
		if (t->deletes[i].table_id == id)
			return true;
	for (size_t i = 0; i < t->nended_files; i++)
		if (t->ended_files[i].table_id == id)
			return true;
	for (size_t i = 0; i < t->ninlined_inserts; i++)
		if (t->inlined_inserts[i].table_id == id)
			return true;
	for (size_t i = 0; i < t->ninlined_deletes; i++)
		if (t->inlined_deletes[i].table_id == id)
			return true;
	for (size_t i = 0; i < t->nflushes; i++)
		if (t->flushes[i].table_id == id)
			return true;
	for (size_t i = 0; i < t->nfile_deletes; i++)
		if (t->file_deletes[i].table_id == id)
			return true;
	for (size_t i = 0; i < t->ncompactions; i++)
		if (t->compactions[i].table_id == id)
			return true;
	return false;
}

bool pl_txn_is_empty(const pl_txn *t)
{
	return !t->nschemas && !t->ntables && !t->nfiles && !t->ndropped_tables && !t->ndropped_schemas &&
	       !t->ndeletes && !t->nended_files && !t->ninlined_deletes && !t->ninlined_inserts && !t->nalters &&
	       !t->nviews && !t->ndropped_views && !t->ntags && !t->npartitions && !t->nsorts && !t->nflushes &&
	       !t->nfile_deletes && !t->nmacros && !t->ndropped_macros && !t->ncompactions;
}

int pl_txn_finish_pending(pl_txn *t, pl_err *err)
{
	if (!t->pending.wait)
		return 0;
	int (*wait)(void *, pl_err *) = t->pending.wait;
	t->pending.wait = NULL;
	return wait(t->pending.ctx, err);
}

void pl_txn_remove_written(pl_txn *t)
{
	pl_err ignored;
	pl_txn_finish_pending(t, &ignored);
	for (size_t i = 0; !t->outcome_unknown && i < t->written.len; i++)
		pl_objhook_unlink(t->written.items[i]); /* unlink(), and an S3 lake's object */
	pl_strv_dispose(&t->written);
}

void pl_txn_dispose(pl_txn *t)
{
	pl_err ignored;
	pl_txn_finish_pending(t, &ignored);
	for (size_t i = 0; i < t->nschemas; i++)
		free(t->schemas[i].name);
	for (size_t i = 0; i < t->ntables; i++) {
		pl_new_table *nt = &t->tables[i];
		pl_new_columns_free(nt->columns, nt->ncolumns);
		free(nt->name);
		free(nt->schema_name);
	}
	for (size_t i = 0; i < t->nfiles; i++)
		pl_new_file_clear(&t->files[i]);
	for (size_t i = 0; i < t->npartitions; i++) {
		for (size_t k = 0; k < t->partitions[i].nkeys; k++)
			free(t->partitions[i].transforms[k]);
		free(t->partitions[i].transforms);
		free(t->partitions[i].column_ids);
	}
	free(t->partitions);
	for (size_t i = 0; i < t->nsorts; i++) {
		for (size_t k = 0; k < t->sorts[i].nkeys; k++)
			free(t->sorts[i].expressions[k]);
		free(t->sorts[i].expressions);
		free(t->sorts[i].descending);
		free(t->sorts[i].nulls_first);
	}
	free(t->sorts);
	for (size_t i = 0; i < t->nnamemaps; i++)
		pl_namemap_dispose(&t->namemaps[i].map);
	free(t->namemaps);
	pl_txn_drop_compactions(t, NULL);
	for (size_t i = 0; i < t->ndropped_tables; i++)
		free(t->dropped_tables[i].name);
	for (size_t i = 0; i < t->ndropped_schemas; i++)
		free(t->dropped_schemas[i].name);
	for (size_t i = 0; i < t->ndeletes; i++)
		pl_new_delete_clear(&t->deletes[i]);
	for (size_t i = 0; i < t->ninlined_deletes; i++) {
		free(t->inlined_deletes[i].inlined_table);
		free(t->inlined_deletes[i].row_ids);
	}
	for (size_t i = 0; i < t->ninlined_inserts; i++)
		pl_inlined_insert_dispose(&t->inlined_inserts[i]);
	free(t->inlined_inserts);
	for (size_t i = 0; i < t->nflushes; i++)
		free(t->flushes[i].inlined_table);
	free(t->flushes);
	for (size_t i = 0; i < t->nfile_deletes; i++)
		free(t->file_deletes[i].positions);
	free(t->file_deletes);
	for (size_t i = 0; i < t->nalters; i++) {
		pl_alter *a = &t->alters[i];
		free(a->end_columns);
		pl_new_columns_free(a->columns, a->ncolumns);
		free(a->new_name);
		free(a->schema_name);
		free(a->uuid);
		free(a->path);
	}
	free(t->alters);
	for (size_t i = 0; i < t->nviews; i++) {
		free(t->views[i].schema_name);
		free(t->views[i].name);
		free(t->views[i].sql);
		free(t->views[i].column_aliases);
	}
	free(t->views);
	for (size_t i = 0; i < t->ndropped_views; i++)
		free(t->dropped_views[i].name);
	free(t->dropped_views);
	for (size_t i = 0; i < t->nmacros; i++) {
		pl_macro_dispose(&t->macros[i].macro);
		free(t->macros[i].schema_name);
	}
	free(t->macros);
	free(t->dropped_macros);
	for (size_t i = 0; i < t->ntags; i++) {
		free(t->tags[i].key);
		free(t->tags[i].value);
	}
	free(t->tags);
	free(t->deletes);
	free(t->ended_files);
	free(t->inlined_deletes);
	free(t->schemas);
	free(t->tables);
	free(t->files);
	free(t->dropped_tables);
	free(t->dropped_schemas);
	pl_strv_dispose(&t->written);
	free(t->author);
	free(t->commit_message);
	free(t->commit_extra_info);
	memset(t, 0, sizeof(*t));
}

void pl_txn_drop_compaction(pl_txn *t, size_t i, bool remove_file)
{
	pl_compaction *c = &t->compactions[i];
	if (c->file && remove_file) {
		size_t dl = strlen(t->compaction_dirs[i]), pl = strlen(c->file->path);
		char *full = malloc(dl + pl + 1);
		if (full) {
			memcpy(full, t->compaction_dirs[i], dl);
			memcpy(full + dl, c->file->path, pl + 1);
			for (size_t k = 0; k < t->written.len; k++)
				if (strcmp(t->written.items[k], full) == 0) {
					free(t->written.items[k]);
					memmove(&t->written.items[k], &t->written.items[k + 1],
						(t->written.len - k - 1) * sizeof(char *));
					t->written.len--;
					break;
				}
			pl_objhook_unlink(full);
			free(full);
		}
	}
	if (c->file) {
		pl_new_file_clear(c->file);
		free(c->file);
	}
	pl_compaction_dispose(c);
	free(t->compaction_dirs[i]);
	memmove(&t->compactions[i], &t->compactions[i + 1], (t->ncompactions - i - 1) * sizeof(*c));
	memmove(&t->compaction_dirs[i], &t->compaction_dirs[i + 1], (t->ncompactions - i - 1) * sizeof(char *));
	t->ncompactions--;
}

size_t pl_txn_drop_compactions(pl_txn *t, const pl_txn *by)
{
	size_t dropped = 0;
	for (size_t i = t->ncompactions; i-- > 0;)
		if (!by || pl_txn_touches_table(by, t->compactions[i].table_id)) {
			pl_txn_drop_compaction(t, i, by != NULL);
			dropped++;
		}
	if (!by || t->ncompactions == 0) {
		free(t->compactions);
		free(t->compaction_dirs);
		free(t->compaction_data_path);
		t->compactions = NULL;
		t->compaction_dirs = NULL;
		t->compaction_data_path = NULL;
		t->ncompactions = 0;
	}
	return dropped;
}
