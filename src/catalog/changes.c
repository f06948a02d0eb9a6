/*
 * changes.c -- changes_made entries and commit conflicts (see changes.h).
 */
#include "catalog/changes.h"
#include "catalog/inline.h"
#include "catalog/upkeep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"

/* Reads the next "kind:value" entry of a changes_made list; values keep their quoting. */
bool pl_changes_next(const char **s, pl_change *out)
{
	const char *p = *s, *colon = p ? strchr(p, ':') : NULL;
	if (!p || !*p || !colon)
		return false;
	snprintf(out->kind, sizeof(out->kind), "%.*s", (int)(colon - p), p);
	const char *v = colon + 1, *e = v;
	bool q = false;
	for (; *e && (q || *e != ','); e++)
		if (*e == '"')
			q = !q;
	out->value = v;
	out->len = (size_t)(e - v);
	*s = *e ? e + 1 : e;
	return true;
}

static bool change_is(const pl_change *c, const char *kind, const char *value)
{
	return strcmp(c->kind, kind) == 0 && strlen(value) == c->len && strncmp(c->value, value, c->len) == 0;
}


/* Deleting inlined rows conflicts with a concurrent delete of inlined rows of the same table or
 * a flush of its inlined rows (as in DuckDB's extension). */
static bool deletes_inlined_of(const pl_txn *t, int64_t id)
{
	for (size_t i = 0; i < t->ninlined_deletes; i++)
		if (t->inlined_deletes[i].table_id == id)
			return true;
	for (size_t i = 0; i < t->nflushes; i++) /* a flush moves inlined rows as they were at its base */
		if (t->flushes[i].table_id == id)
			return true;
	for (size_t i = 0; i < t->nfile_deletes; i++)
		if (t->file_deletes[i].table_id == id)
			return true;
	return false;
}

void pl_changes_quoted_name(pl_buf *b, const char *schema, const char *name)
{
	if (schema) {
		pl_buf_put_ident(b, schema);
		pl_buf_putc(b, '.');
	}
	pl_buf_put_ident(b, name);
}

/* Whether change c names the object schema.name (as changes_made quotes it). */
static bool change_names(const pl_change *c, const char *kind, const char *schema, const char *name)
{
	pl_buf b = PL_BUF_INIT;
	pl_changes_quoted_name(&b, schema, name);
	bool same = b.ptr && change_is(c, kind, b.ptr);
	pl_buf_dispose(&b);
	return same;
}

static bool change_drops(const pl_change *c, const char *kind, int64_t id)
{
	return strcmp(c->kind, kind) == 0 && strtoll(c->value, NULL, 10) == id;
}

/* Creating or dropping the same view or macro as a concurrent commit (tables and views share
 * their names, as in DuckLake). */
static int check_view_macro_change(const pl_txn *t, const pl_change *c, int64_t snap, pl_err *err)
{
	for (size_t i = 0; i < t->nviews; i++) {
		const pl_new_view *v = &t->views[i];
		if (!v->rename && (change_names(c, "created_view", v->schema_name, v->name) ||
				   change_names(c, "created_table", v->schema_name, v->name)))
			return pl_err_set(err, PL_ECONFLICT,
					  "Transaction conflict: cannot create view \"%s\": another transaction has created "
					  "an object of that name (snapshot %lld)",
					  v->name, (long long)snap);
	}
	for (size_t i = 0; i < t->ntables; i++)
		if (change_names(c, "created_view", t->tables[i].schema_name, t->tables[i].name))
			return pl_err_set(err, PL_ECONFLICT,
					  "Transaction conflict: cannot create table \"%s\": another transaction has created "
					  "a view of that name (snapshot %lld)",
					  t->tables[i].name, (long long)snap);
	for (size_t i = 0; i < t->nmacros; i++) {
		const pl_new_macro *m = &t->macros[i];
		if (change_names(c, m->macro.table ? "created_table_macro" : "created_scalar_macro", m->schema_name,
				 m->macro.name))
			return pl_err_set(err, PL_ECONFLICT,
					  "Transaction conflict: cannot create macro \"%s\": another transaction has created it "
					  "(snapshot %lld)",
					  m->macro.name, (long long)snap);
	}
	for (size_t i = 0; i < t->ndropped_views; i++)
		if (change_drops(c, "dropped_view", t->dropped_views[i].id))
			return pl_err_set(err, PL_ECONFLICT,
					  "Transaction conflict: cannot drop view %s: another transaction has dropped it "
					  "already (snapshot %lld)",
					  t->dropped_views[i].name ? t->dropped_views[i].name : "", (long long)snap);
	for (size_t i = 0; i < t->ndropped_schemas; i++)
		if (change_drops(c, "dropped_schema", t->dropped_schemas[i].id))
			return pl_err_set(err, PL_ECONFLICT,
					  "Transaction conflict: cannot drop schema \"%s\": another transaction has dropped it "
					  "already (snapshot %lld)",
					  t->dropped_schemas[i].name ? t->dropped_schemas[i].name : "", (long long)snap);
	for (size_t i = 0; i < t->ndropped_macros; i++)
		if (change_drops(c, t->dropped_macros[i].table ? "dropped_table_macro" : "dropped_scalar_macro",
				 t->dropped_macros[i].id))
			return pl_err_set(err, PL_ECONFLICT,
					  "Transaction conflict: cannot drop macro %lld: another transaction has dropped it "
					  "already (snapshot %lld)",
					  (long long)t->dropped_macros[i].id, (long long)snap);
	return 0;
}

static int check_change(const pl_txn *t, const pl_change *c, int64_t snap, pl_err *err)
{
	int64_t id = strtoll(c->value, NULL, 10);
	int rc = check_view_macro_change(t, c, snap, err);
	if (rc)
		return rc;
	if ((strcmp(c->kind, "dropped_table") == 0 || strcmp(c->kind, "altered_table") == 0 ||
	     strcmp(c->kind, "altered_view") == 0) &&
	    pl_txn_touches_table(t, id))
		return pl_err_set(err, PL_ECONFLICT,
				  "Transaction conflict: cannot change %s %lld: another transaction has %s it "
				  "(snapshot %lld)",
				  strcmp(c->kind, "altered_view") == 0 ? "view" : "table", (long long)id,
				  c->kind[0] == 'd' ? "dropped" : "altered", (long long)snap);
	if ((strcmp(c->kind, "inlined_delete") == 0 || strcmp(c->kind, "inline_flush") == 0) &&
	    deletes_inlined_of(t, id))
		return pl_err_set(err, PL_ECONFLICT,
				  "conflict: a concurrent commit (snapshot %lld) %s inlined rows of table %lld; retry the "
				  "statement",
				  (long long)snap, c->kind[6] == 'd' ? "deleted" : "flushed", (long long)id);
	for (size_t i = 0; rc == 0 && i < t->ntables; i++) {
		const pl_new_table *nt = &t->tables[i];
		pl_buf b = PL_BUF_INIT;
		pl_changes_quoted_name(&b, nt->schema_name, nt->name);
		if (b.ptr && change_is(c, "created_table", b.ptr))
			rc = pl_err_set(err, PL_ECONFLICT,
					"Transaction conflict: cannot create table \"%s\": another transaction has created it "
					"(snapshot %lld)",
					nt->name, (long long)snap);
		else if (strcmp(c->kind, "dropped_schema") == 0 && nt->schema_ref == id)
			rc = pl_err_set(err, PL_ECONFLICT,
					"Transaction conflict: cannot create in schema \"%s\": another transaction has dropped "
					"it (snapshot %lld)",
					nt->schema_name, (long long)snap);
		pl_buf_dispose(&b);
	}
	for (size_t i = 0; rc == 0 && i < t->nschemas; i++) {
		pl_buf b = PL_BUF_INIT;
		pl_changes_quoted_name(&b, NULL, t->schemas[i].name);
		if (b.ptr && change_is(c, "created_schema", b.ptr))
			rc = pl_err_set(err, PL_ECONFLICT,
					"Transaction conflict: cannot create schema \"%s\": another transaction has created it "
					"(snapshot %lld)",
					t->schemas[i].name, (long long)snap);
		pl_buf_dispose(&b);
	}
	for (size_t i = 0; rc == 0 && i < t->ndropped_schemas; i++) {
		const pl_dropped *d = &t->dropped_schemas[i];
		pl_buf b = PL_BUF_INIT;
		if (d->name) {
			pl_changes_quoted_name(&b, NULL, d->name);
			pl_buf_putc(&b, '.');
		}
		if (b.ptr && strcmp(c->kind, "created_table") == 0 && c->len > b.len &&
		    strncmp(c->value, b.ptr, b.len) == 0)
			rc = pl_err_set(err, PL_ECONFLICT,
					"Transaction conflict: cannot drop schema: another transaction (snapshot %lld) has "
					"created a table in schema \"%s\"",
					(long long)snap, d->name);
		pl_buf_dispose(&b);
	}
	return rc;
}

/* Deletes conflict when a concurrent commit deleted rows of, or removed, the same data file, or
 * merged it into another one (ducklake_merge_adjacent_files: its row is gone). */
static int check_file_conflict(pl_catdb *db, int64_t data_file_id, int64_t base, int64_t own, pl_err *err)
{
	pl_rows *r = NULL;
	pl_val p[] = {PL_VINT(data_file_id), PL_VINT(base), PL_VINT(own), PL_VINT(data_file_id), PL_VINT(base),
		      PL_VINT(own), PL_VINT(data_file_id)};
	int rc = pl_catdb_query(db,
				"SELECT (SELECT count(*) FROM ducklake_delete_file WHERE data_file_id = ? AND begin_snapshot > ? "
				"AND begin_snapshot < ?) + (SELECT count(*) FROM ducklake_data_file WHERE data_file_id = ? AND "
				"end_snapshot > ? AND end_snapshot < ?), (SELECT count(*) FROM ducklake_data_file WHERE "
				"data_file_id = ?)",
				p, 7, &r, err);
	if (rc == 0 && pl_rows_int(r, 0, 1, 1) == 0)
		rc = pl_err_set(err, PL_ECONFLICT,
				"conflict: a concurrent commit compacted the data file the statement deletes from (data file "
				"%lld); retry the statement",
				(long long)data_file_id);
	else if (rc == 0 && pl_rows_int(r, 0, 0, 0) > 0)
		rc = pl_err_set(err, PL_ECONFLICT,
				"conflict: a concurrent commit deleted rows of the same data file (data file %lld); "
				"retry the statement",
				(long long)data_file_id);
	pl_rows_free(r);
	return rc;
}

int pl_changes_check_conflicts(pl_catdb *db, const pl_txn *t, int64_t base, int64_t own, pl_err *err)
{
	if (pl_upkeep_check_history(db, base, err) != 0)
		return err->code;
	/* the objects first (a dropped or altered table says more than its files' rows) */
	pl_rows *r = NULL;
	pl_val p[] = {PL_VINT(base), PL_VINT(own)};
	int rc = pl_catdb_query(db, "SELECT snapshot_id, changes_made FROM ducklake_snapshot_changes "
				    "WHERE snapshot_id > ? AND snapshot_id < ? ORDER BY snapshot_id",
				p, 2, &r, err);
	for (size_t i = 0; rc == 0 && i < r->nrows; i++) {
		const char *text = pl_rows_get(r, i, 1);
		pl_change ch;
		while (rc == 0 && pl_changes_next(&text, &ch))
			rc = check_change(t, &ch, pl_rows_int(r, i, 0, 0), err);
	}
	pl_rows_free(r);
	for (size_t i = 0; rc == 0 && i < t->ndeletes; i++)
		rc = check_file_conflict(db, t->deletes[i].data_file_id, base, own, err);
	for (size_t i = 0; rc == 0 && i < t->nended_files; i++)
		rc = check_file_conflict(db, t->ended_files[i].data_file_id, base, own, err);
	for (size_t i = 0; rc == 0 && i < t->nfile_deletes; i++)
		rc = check_file_conflict(db, t->file_deletes[i].data_file_id, base, own, err);
	if (rc == 0 && t->nfile_deletes)
		rc = pl_inline_check_file_deletes(db, t, base, own, err);
	return rc;
}
