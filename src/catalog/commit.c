/*
 * commit.c -- writing a pl_txn as one DuckLake snapshot (see commit.h and the spec's
 * "Queries: Writing Data"): snapshot + snapshot_changes rows, then the rows of every change,
 * then statistics, all in one catalog transaction with conflict checks and retries.
 */
#include "catalog/commit.h"
#include "catalog/compact.h"
#include "catalog/commit_rows.h"
#include "catalog/changes.h"
#include "catalog/upkeep.h"
#include "catalog/inline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/fault.h"
#include "core/ids.h"
#include "core/str.h"
#include "core/objhooks.h"

#define COMMIT_ATTEMPTS 20

/* ---- writing ------------------------------------------------------------------------------ */


static void add_change(pl_commit_state *st, const char *kind, const char *schema, const char *name,
		       int64_t id)
{
	pl_buf entry = PL_BUF_INIT;
	pl_buf_puts(&entry, kind);
	pl_buf_putc(&entry, ':');
	if (name)
		pl_changes_quoted_name(&entry, schema, name);
	else
		pl_buf_printf(&entry, "%lld", (long long)id);
	/* A transaction's statements may repeat a change: list it once. */
	const char *p = pl_buf_cstr(&st->changes), *e = pl_buf_cstr(&entry);
	bool seen = false;
	pl_change c;
	while (p && e && !seen && pl_changes_next(&p, &c)) {
		size_t klen = strlen(c.kind);
		seen = strncmp(e, c.kind, klen) == 0 && e[klen] == ':' && strlen(e + klen + 1) == c.len &&
		       strncmp(e + klen + 1, c.value, c.len) == 0;
	}
	if (!seen && e) {
		if (st->changes.len)
			pl_buf_putc(&st->changes, ',');
		pl_buf_puts(&st->changes, e);
	}
	pl_buf_dispose(&entry);
}

void pl_commit_note_change(pl_commit_state *st, const char *kind, int64_t id)
{
	add_change(st, kind, NULL, NULL, id);
}

/* Sets *field to real, remembering a local id it held (see pl_id_fix). */
int pl_commit__fix_id(pl_commit_state *st, int64_t *field, int64_t real, bool defines, pl_err *err)
{
	if (*field < PL_LOCAL_ID_BASE) {
		if (defines)
			*field = real;
		return 0;
	}
	if (st->nfixes == st->capfixes) {
		size_t cap = st->capfixes ? st->capfixes * 2 : 32;
		pl_id_fix *p = realloc(st->fixes, cap * sizeof(*p));
		if (!p)
			return pl_err_nomem(err);
		st->fixes = p;
		st->capfixes = cap;
	}
	st->fixes[st->nfixes++] = (pl_id_fix){field, *field, real, defines};
	*field = real;
	return 0;
}

/* Replaces a reference to an object an earlier statement of the transaction created. */
static int map_local(pl_commit_state *st, int64_t *field, pl_err *err)
{
	if (*field < PL_LOCAL_ID_BASE)
		return 0;
	for (size_t i = st->nfixes; i-- > 0;)
		if (st->fixes[i].defines && st->fixes[i].local == *field)
			return pl_commit__fix_id(st, field, st->fixes[i].real, false, err);
	return pl_err_set(err, PL_ERROR, "the transaction refers to an object (local id %lld) none of its statements "
			  "created", (long long)(*field - PL_LOCAL_ID_BASE));
}

int pl_commit_map_local(pl_commit_state *st, int64_t *field, pl_err *err)
{
	return map_local(st, field, err);
}

static int map_txn_refs(pl_commit_state *st, pl_txn *t, pl_err *err)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < t->ntables; i++)
		rc = map_local(st, &t->tables[i].schema_ref, err);
	for (size_t i = 0; rc == 0 && i < t->nfiles; i++)
		rc = map_local(st, &t->files[i].table_ref, err);
	for (size_t i = 0; rc == 0 && i < t->ndropped_tables; i++)
		rc = map_local(st, &t->dropped_tables[i].id, err);
	for (size_t i = 0; rc == 0 && i < t->ndropped_schemas; i++)
		rc = map_local(st, &t->dropped_schemas[i].id, err);
	for (size_t i = 0; rc == 0 && i < t->ndropped_views; i++)
		rc = map_local(st, &t->dropped_views[i].id, err);
	for (size_t i = 0; rc == 0 && i < t->ndeletes; i++) {
		rc = map_local(st, &t->deletes[i].table_id, err);
		if (rc == 0)
			rc = map_local(st, &t->deletes[i].data_file_id, err);
		if (rc == 0)
			rc = map_local(st, &t->deletes[i].replaces, err);
	}
	for (size_t i = 0; rc == 0 && i < t->nended_files; i++) {
		rc = map_local(st, &t->ended_files[i].table_id, err);
		if (rc == 0)
			rc = map_local(st, &t->ended_files[i].data_file_id, err);
		if (rc == 0)
			rc = map_local(st, &t->ended_files[i].delete_id, err);
	}
	for (size_t i = 0; rc == 0 && i < t->ninlined_deletes; i++)
		rc = map_local(st, &t->inlined_deletes[i].table_id, err);
	for (size_t i = 0; rc == 0 && i < t->ninlined_inserts; i++)
		rc = map_local(st, &t->inlined_inserts[i].table_id, err);
	for (size_t i = 0; rc == 0 && i < t->nalters; i++) {
		rc = map_local(st, &t->alters[i].table_id, err);
		if (rc == 0)
			rc = map_local(st, &t->alters[i].schema_id, err);
	}
	for (size_t i = 0; rc == 0 && i < t->nviews; i++) {
		rc = map_local(st, &t->views[i].schema_id, err);
		if (rc == 0 && t->views[i].rename)
			rc = map_local(st, &t->views[i].renamed_id, err);
	}
	for (size_t i = 0; rc == 0 && i < t->nmacros; i++)
		rc = map_local(st, &t->macros[i].macro.schema_id, err);
	for (size_t i = 0; rc == 0 && i < t->ndropped_macros; i++)
		rc = map_local(st, &t->dropped_macros[i].id, err);
	for (size_t i = 0; rc == 0 && i < t->ntags; i++)
		rc = map_local(st, &t->tags[i].table_id, err);
	for (size_t i = 0; rc == 0 && i < t->npartitions; i++)
		rc = map_local(st, &t->partitions[i].table_id, err);
	for (size_t i = 0; rc == 0 && i < t->nsorts; i++)
		rc = map_local(st, &t->sorts[i].table_id, err);
	for (size_t i = 0; rc == 0 && i < t->nfiles; i++)
		if (t->files[i].partitioned)
			rc = map_local(st, &t->files[i].partition_id, err);
	return rc;
}

static int read_latest(pl_catdb *db, pl_commit_state *st, pl_err *err)
{
	pl_rows *r = NULL;
	int rc = pl_catdb_query(db,
				"SELECT snapshot_id, schema_version, next_catalog_id, next_file_id "
				"FROM ducklake_snapshot WHERE snapshot_id = (SELECT max(snapshot_id) FROM ducklake_snapshot)",
				NULL, 0, &r, err);
	if (rc)
		return rc;
	if (r->nrows == 0) {
		pl_rows_free(r);
		return pl_err_set(err, PL_ECATALOG, "the catalog has no snapshot");
	}
	st->snapshot = pl_rows_int(r, 0, 0, 0) + 1;
	st->schema_version = st->latest_schema_version = pl_rows_int(r, 0, 1, 0);
	st->next_catalog_id = pl_rows_int(r, 0, 2, 0);
	st->next_file_id = pl_rows_int(r, 0, 3, 0);
	pl_rows_free(r);
	return 0;
}

static int write_schemas(pl_catdb *db, pl_txn *t, pl_commit_state *st, pl_err *err)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < t->nschemas; i++) {
		pl_new_schema *s = &t->schemas[i];
		char uuid[PL_UUID_STRLEN + 1];
		if ((rc = pl_uuid_v7(uuid, err)))
			break;
		if ((rc = pl_commit__fix_id(st, &s->assigned_id, st->next_catalog_id++, true, err)))
			break;
		pl_buf path = PL_BUF_INIT;
		pl_buf_put_path_name(&path, s->name);
		pl_buf_putc(&path, '/');
		pl_val p[] = {PL_VINT(s->assigned_id), PL_VTEXT(uuid), PL_VINT(st->snapshot), PL_VTEXT(s->name),
			      PL_VTEXT(pl_buf_cstr(&path)), PL_VBOOL(true)};
		rc = pl_catdb_exec(db, "INSERT INTO ducklake_schema VALUES (?, ?, ?, NULL, ?, ?, ?)", p, 6, err);
		pl_buf_dispose(&path);
		add_change(st, "created_schema", NULL, s->name, 0);
	}
	return rc;
}

static int64_t resolve_schema(const pl_txn *t, int64_t ref)
{
	return ref >= 0 ? ref : t->schemas[-ref - 1].assigned_id;
}


static int write_columns(pl_catdb *db, int64_t table_id, const pl_new_column *cols, size_t n, int64_t snap,
			 pl_err *err)
{
	int rc = 0;
	for (size_t c = 0; rc == 0 && c < n; c++) {
		const pl_new_column *col = &cols[c];
		pl_val p[] = {PL_VINT(col->id), PL_VINT(snap), PL_VINT(table_id), PL_VINT(col->order),
			      PL_VTEXT(col->name), PL_VTEXT(col->type), PL_VTEXT(col->initial_default),
			      PL_VTEXT(col->default_value), PL_VBOOL(col->nulls_allowed), PL_VOPTINT(col->parent),
			      PL_VTEXT(col->default_value_type)};
		rc = pl_catdb_exec(db,
				   "INSERT INTO ducklake_column (column_id, begin_snapshot, end_snapshot, table_id, "
				   "column_order, column_name, column_type, initial_default, default_value, "
				   "nulls_allowed, parent_column, default_value_type, default_value_dialect) "
				   "VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'duckdb')",
				   p, 11, err);
	}
	return rc;
}

static int write_tables(pl_catdb *db, pl_txn *t, pl_commit_state *st, pl_err *err)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < t->ntables; i++) {
		pl_new_table *nt = &t->tables[i];
		char uuid[PL_UUID_STRLEN + 1];
		if ((rc = pl_uuid_v7(uuid, err)))
			break;
		if ((rc = pl_commit__fix_id(st, &nt->assigned_id, st->next_catalog_id++, true, err)))
			break;
		pl_buf path = PL_BUF_INIT;
		pl_buf_put_path_name(&path, nt->name);
		pl_buf_putc(&path, '/');
		pl_val p[] = {PL_VINT(nt->assigned_id), PL_VTEXT(uuid), PL_VINT(st->snapshot),
			      PL_VINT(resolve_schema(t, nt->schema_ref)), PL_VTEXT(nt->name),
			      PL_VTEXT(pl_buf_cstr(&path)), PL_VBOOL(true)};
		rc = pl_catdb_exec(db, "INSERT INTO ducklake_table VALUES (?, ?, ?, NULL, ?, ?, ?, ?)", p, 7, err);
		pl_buf_dispose(&path);
		if (rc == 0)
			rc = write_columns(db, nt->assigned_id, nt->columns, nt->ncolumns, st->snapshot, err);
		pl_val sv[] = {PL_VINT(st->snapshot), PL_VINT(st->schema_version), PL_VINT(nt->assigned_id)};
		if (rc == 0)
			rc = pl_catdb_exec(db, "INSERT INTO ducklake_schema_versions VALUES (?, ?, ?)", sv, 3, err);
		if (rc == 0 && nt->inlined_table)
			rc = pl_inline_create_for_new_table(db, nt, st, err);
		add_change(st, "created_table", nt->schema_name, nt->name, 0);
	}
	return rc;
}

static const char *const drop_table_sql[] = {
	"UPDATE ducklake_table SET end_snapshot = ? WHERE table_id = ? AND end_snapshot IS NULL",
	"UPDATE ducklake_partition_info SET end_snapshot = ? WHERE table_id = ? AND end_snapshot IS NULL",
	"UPDATE ducklake_column SET end_snapshot = ? WHERE table_id = ? AND end_snapshot IS NULL",
	"UPDATE ducklake_column_tag SET end_snapshot = ? WHERE table_id = ? AND end_snapshot IS NULL",
	"UPDATE ducklake_data_file SET end_snapshot = ? WHERE table_id = ? AND end_snapshot IS NULL",
	"UPDATE ducklake_delete_file SET end_snapshot = ? WHERE table_id = ? AND end_snapshot IS NULL",
	"UPDATE ducklake_tag SET end_snapshot = ? WHERE object_id = ? AND end_snapshot IS NULL",
};

static int write_drops(pl_catdb *db, pl_txn *t, pl_commit_state *st, pl_err *err)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < t->ndropped_tables; i++) {
		pl_val p[] = {PL_VINT(st->snapshot), PL_VINT(t->dropped_tables[i].id)};
		for (size_t k = 0; rc == 0 && k < sizeof(drop_table_sql) / sizeof(drop_table_sql[0]); k++)
			rc = pl_catdb_exec(db, drop_table_sql[k], p, 2, err);
		add_change(st, "dropped_table", NULL, NULL, t->dropped_tables[i].id);
	}
	for (size_t i = 0; rc == 0 && i < t->ndropped_schemas; i++) {
		pl_val p[] = {PL_VINT(st->snapshot), PL_VINT(t->dropped_schemas[i].id)};
		rc = pl_catdb_exec(db, "UPDATE ducklake_schema SET end_snapshot = ? WHERE schema_id = ? AND "
				       "end_snapshot IS NULL", p, 2, err);
		add_change(st, "dropped_schema", NULL, NULL, t->dropped_schemas[i].id);
	}
	return rc;
}

static int write_alter(pl_catdb *db, const pl_alter *a, pl_commit_state *st, pl_err *err)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < a->nend; i++) {
		pl_val p[] = {PL_VINT(st->snapshot), PL_VINT(a->table_id), PL_VINT(a->end_columns[i])};
		rc = pl_catdb_exec(db, "UPDATE ducklake_column SET end_snapshot = ? WHERE table_id = ? AND column_id = ? "
				       "AND end_snapshot IS NULL", p, 3, err);
	}
	if (rc == 0)
		rc = write_columns(db, a->table_id, a->columns, a->ncolumns, st->snapshot, err);
	for (size_t i = 0; rc == 0 && i < a->ncolumns; i++) {
		bool added = a->columns[i].parent < 0;
		for (size_t k = 0; added && k < a->nend; k++)
			added = a->end_columns[k] != a->columns[i].id;
		if (added)
			rc = pl_commit__added_column_stats(db, a->table_id, &a->columns[i], st, err);
	}
	if (rc == 0 && a->new_name) {
		pl_val e[] = {PL_VINT(st->snapshot), PL_VINT(a->table_id)};
		pl_val n[] = {PL_VINT(a->table_id), PL_VTEXT(a->uuid), PL_VINT(st->snapshot), PL_VINT(a->schema_id),
			      PL_VTEXT(a->new_name), PL_VTEXT(a->path), PL_VBOOL(a->path_is_relative)};
		rc = pl_catdb_exec(db, "UPDATE ducklake_table SET end_snapshot = ? WHERE table_id = ? AND end_snapshot IS NULL",
				   e, 2, err);
		if (rc == 0)
			rc = pl_catdb_exec(db, "INSERT INTO ducklake_table VALUES (?, ?, ?, NULL, ?, ?, ?, ?)", n, 7, err);
	}
	pl_val sv[] = {PL_VINT(st->snapshot), PL_VINT(st->schema_version), PL_VINT(a->table_id)};
	if (rc == 0)
		rc = pl_catdb_exec(db, "INSERT INTO ducklake_schema_versions VALUES (?, ?, ?)", sv, 3, err);
	if (rc == 0)
		rc = pl_inline_alter(db, a->table_id, st, err);
	/* a rename also goes under the new name, as DuckLake records it: its conflict checks see it */
	if (a->new_name && a->schema_name)
		add_change(st, "created_table", a->schema_name, a->new_name, 0);
	add_change(st, "altered_table", NULL, NULL, a->table_id);
	return rc;
}

static int write_alters(pl_catdb *db, pl_txn *t, pl_commit_state *st, pl_err *err)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < t->nalters; i++)
		rc = write_alter(db, &t->alters[i], st, err);
	return rc;
}

/* CREATE / DROP MACRO: the macro row, one implementation row per overload and one parameter row
 * per parameter, as DuckLake writes them (a parameter without a default: 'NULL', 'unknown'). */
static int write_macros(pl_catdb *db, pl_txn *t, pl_commit_state *st, pl_err *err)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < t->nmacros; i++) {
		pl_new_macro *nm = &t->macros[i];
		pl_macro *m = &nm->macro;
		if ((rc = pl_commit__fix_id(st, &nm->assigned_id, st->next_catalog_id++, true, err)))
			break;
		pl_val p[] = {PL_VINT(m->schema_id), PL_VINT(nm->assigned_id), PL_VTEXT(m->name), PL_VINT(st->snapshot)};
		rc = pl_catdb_exec(db, "INSERT INTO ducklake_macro VALUES (?, ?, ?, ?, NULL)", p, 4, err);
		for (size_t k = 0; rc == 0 && k < m->nimpls; k++) {
			pl_macro_impl *im = &m->impls[k];
			pl_val pi[] = {PL_VINT(nm->assigned_id), PL_VINT((int64_t)k), PL_VTEXT(im->sql),
				       PL_VTEXT(m->table ? "table" : "scalar")};
			rc = pl_catdb_exec(db, "INSERT INTO ducklake_macro_impl VALUES (?, ?, 'duckdb', ?, ?)", pi, 4, err);
			for (size_t j = 0; rc == 0 && j < im->nparams; j++) {
				pl_macro_param *pp = &im->params[j];
				pl_val pv[] = {PL_VINT(nm->assigned_id), PL_VINT((int64_t)k), PL_VINT((int64_t)j),
					       PL_VTEXT(pp->name), PL_VTEXT(pp->type ? pp->type : "unknown"),
					       PL_VTEXT(pp->default_value ? pp->default_value : "NULL"),
					       PL_VTEXT(pp->default_value && pp->default_type ? pp->default_type : "unknown")};
				rc = pl_catdb_exec(db, "INSERT INTO ducklake_macro_parameters VALUES (?, ?, ?, ?, ?, ?, ?)", pv,
						   7, err);
			}
		}
		add_change(st, m->table ? "created_table_macro" : "created_scalar_macro", nm->schema_name, m->name, 0);
	}
	for (size_t i = 0; rc == 0 && i < t->ndropped_macros; i++) {
		pl_val p[] = {PL_VINT(st->snapshot), PL_VINT(t->dropped_macros[i].id)};
		rc = pl_catdb_exec(db, "UPDATE ducklake_macro SET end_snapshot = ? WHERE macro_id = ? AND end_snapshot IS NULL",
				   p, 2, err);
		add_change(st, t->dropped_macros[i].table ? "dropped_table_macro" : "dropped_scalar_macro", NULL, NULL,
			   t->dropped_macros[i].id);
	}
	return rc;
}

/* Inserts the snapshot rows on the first apply, updates them on later ones: a transaction's
 * statements all land in one snapshot. */
static int write_views(pl_catdb *db, pl_txn *t, pl_commit_state *st, pl_err *err)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < t->nviews; i++) {
		pl_new_view *v = &t->views[i];
		if (v->rename) { /* the view's row ends; a copy with the new name begins */
			pl_val pe[] = {PL_VINT(st->snapshot), PL_VINT(v->renamed_id)};
			rc = pl_catdb_exec(db, "UPDATE ducklake_view SET end_snapshot = ? WHERE view_id = ? AND end_snapshot "
					       "IS NULL", pe, 2, err);
			pl_val pc[] = {PL_VINT(st->snapshot), PL_VTEXT(v->name), PL_VINT(v->renamed_id), PL_VINT(st->snapshot)};
			if (rc == 0)
				rc = pl_catdb_exec(db, "INSERT INTO ducklake_view SELECT view_id, view_uuid, ?, NULL, schema_id, ?, "
						       "dialect, \"sql\", column_aliases FROM ducklake_view WHERE view_id = ? AND "
						       "end_snapshot = ?", pc, 4, err);
			/* under the new name, as DuckLake records a rename (see write_alter) */
			add_change(st, "created_view", v->schema_name, v->name, 0);
			add_change(st, "altered_view", NULL, NULL, v->renamed_id);
			continue;
		}
		char uuid[PL_UUID_STRLEN + 1];
		if ((rc = pl_uuid_v7(uuid, err)))
			break;
		if ((rc = pl_commit__fix_id(st, &v->assigned_id, st->next_catalog_id++, true, err)))
			break;
		pl_val p[] = {PL_VINT(v->assigned_id), PL_VTEXT(uuid), PL_VINT(st->snapshot), PL_VINT(v->schema_id),
			      PL_VTEXT(v->name), PL_VTEXT(v->sql), PL_VTEXT(v->column_aliases ? v->column_aliases : "")};
		rc = pl_catdb_exec(db, "INSERT INTO ducklake_view VALUES (?, ?, ?, NULL, ?, ?, 'duckdb', ?, ?)", p, 7, err);
		add_change(st, "created_view", v->schema_name, v->name, 0);
	}
	for (size_t i = 0; rc == 0 && i < t->ndropped_views; i++) {
		pl_val p[] = {PL_VINT(st->snapshot), PL_VINT(t->dropped_views[i].id)};
		rc = pl_catdb_exec(db, "UPDATE ducklake_view SET end_snapshot = ? WHERE view_id = ? AND end_snapshot IS NULL",
				   p, 2, err);
		if (rc == 0) /* its tags (comment) end with it */
			rc = pl_catdb_exec(db, "UPDATE ducklake_tag SET end_snapshot = ? WHERE object_id = ? AND end_snapshot "
					       "IS NULL", p, 2, err);
		add_change(st, "dropped_view", NULL, NULL, t->dropped_views[i].id);
	}
	return rc;
}

static int write_tag(pl_catdb *db, const pl_tag *g, pl_commit_state *st, pl_err *err)
{
	bool column = g->column_id >= 0;
	pl_val e_col[] = {PL_VINT(st->snapshot), PL_VINT(g->table_id), PL_VINT(g->column_id), PL_VTEXT(g->key)};
	pl_val e_tab[] = {PL_VINT(st->snapshot), PL_VINT(g->table_id), PL_VTEXT(g->key)};
	int rc = column ? pl_catdb_exec(db, "UPDATE ducklake_column_tag SET end_snapshot = ? WHERE table_id = ? AND "
					    "column_id = ? AND \"key\" = ? AND end_snapshot IS NULL", e_col, 4, err)
			: pl_catdb_exec(db, "UPDATE ducklake_tag SET end_snapshot = ? WHERE object_id = ? AND \"key\" = ? "
					    "AND end_snapshot IS NULL", e_tab, 3, err);
	if (rc == 0 && g->value) {
		pl_val n_col[] = {PL_VINT(g->table_id), PL_VINT(g->column_id), PL_VINT(st->snapshot), PL_VTEXT(g->key),
				  PL_VTEXT(g->value)};
		pl_val n_tab[] = {PL_VINT(g->table_id), PL_VINT(st->snapshot), PL_VTEXT(g->key), PL_VTEXT(g->value)};
		rc = column ? pl_catdb_exec(db, "INSERT INTO ducklake_column_tag VALUES (?, ?, ?, NULL, ?, ?)", n_col, 5, err)
			    : pl_catdb_exec(db, "INSERT INTO ducklake_tag VALUES (?, ?, NULL, ?, ?)", n_tab, 4, err);
	}
	add_change(st, g->view ? "altered_view" : "altered_table", NULL, NULL, g->table_id);
	return rc;
}

/* SET / RESET PARTITIONED BY: the table's live partitioning ends; a new one begins. */
static int write_partitions(pl_catdb *db, pl_txn *t, pl_commit_state *st, pl_err *err)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < t->npartitions; i++) {
		pl_new_partition *np = &t->partitions[i];
		pl_val e[] = {PL_VINT(st->snapshot), PL_VINT(np->table_id)};
		rc = pl_catdb_exec(db, "UPDATE ducklake_partition_info SET end_snapshot = ? WHERE table_id = ? AND "
				       "end_snapshot IS NULL", e, 2, err);
		/* RESET too begins a partitioning (of no keys), as DuckLake records it */
		if (rc == 0)
			rc = pl_commit__fix_id(st, &np->assigned_id, st->next_catalog_id++, true, err);
		pl_val n[] = {PL_VINT(np->assigned_id), PL_VINT(np->table_id), PL_VINT(st->snapshot)};
		if (rc == 0)
			rc = pl_catdb_exec(db, "INSERT INTO ducklake_partition_info VALUES (?, ?, ?, NULL)", n, 3, err);
		/* a new partitioning is a new schema version of the table (files of different ones are
		 * not compacted together), recorded once even when the commit also alters its columns */
		bool recorded = false;
		for (size_t a = 0; a < t->nalters && !recorded; a++)
			recorded = t->alters[a].table_id == np->table_id;
		for (size_t j = 0; j < i && !recorded; j++)
			recorded = t->partitions[j].table_id == np->table_id;
		for (size_t j = 0; j < t->ntables && !recorded; j++)
			recorded = t->tables[j].assigned_id == np->table_id;
		pl_val sv[] = {PL_VINT(st->snapshot), PL_VINT(st->schema_version), PL_VINT(np->table_id)};
		if (rc == 0 && !recorded)
			rc = pl_catdb_exec(db, "INSERT INTO ducklake_schema_versions VALUES (?, ?, ?)", sv, 3, err);
		for (size_t k = 0; rc == 0 && k < np->nkeys; k++) {
			pl_val c[] = {PL_VINT(np->assigned_id), PL_VINT(np->table_id), PL_VINT((int64_t)k),
				      PL_VINT(np->column_ids[k]), PL_VTEXT(np->transforms[k])};
			rc = pl_catdb_exec(db, "INSERT INTO ducklake_partition_column VALUES (?, ?, ?, ?, ?)", c, 5, err);
		}
		add_change(st, "altered_table", NULL, NULL, np->table_id);
	}
	return rc;
}

/* SET / RESET SORTED BY: the table's live sort order ends; a new one begins. */
static int write_sorts(pl_catdb *db, pl_txn *t, pl_commit_state *st, pl_err *err)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < t->nsorts; i++) {
		pl_new_sort *ns = &t->sorts[i];
		if (ns->unchanged) {
			if (ns->nkeys > 0)
				st->next_catalog_id++;
			add_change(st, "altered_table", NULL, NULL, ns->table_id);
			continue;
		}
		pl_val e[] = {PL_VINT(st->snapshot), PL_VINT(ns->table_id)};
		rc = pl_catdb_exec(db, "UPDATE ducklake_sort_info SET end_snapshot = ? WHERE table_id = ? AND end_snapshot IS NULL",
				   e, 2, err);
		if (rc == 0 && ns->nkeys > 0)
			rc = pl_commit__fix_id(st, &ns->assigned_id, st->next_catalog_id++, true, err);
		pl_val n[] = {PL_VINT(ns->assigned_id), PL_VINT(ns->table_id), PL_VINT(st->snapshot)};
		if (rc == 0 && ns->nkeys > 0)
			rc = pl_catdb_exec(db, "INSERT INTO ducklake_sort_info VALUES (?, ?, ?, NULL)", n, 3, err);
		for (size_t k = 0; rc == 0 && k < ns->nkeys; k++) {
			pl_val c[] = {PL_VINT(ns->assigned_id), PL_VINT(ns->table_id), PL_VINT((int64_t)k),
				      PL_VTEXT(ns->expressions[k]), PL_VTEXT("duckdb"),
				      PL_VTEXT(ns->descending[k] ? "DESC" : "ASC"),
				      PL_VTEXT(ns->nulls_first[k] ? "NULLS_FIRST" : "NULLS_LAST")};
			rc = pl_catdb_exec(db, "INSERT INTO ducklake_sort_expression VALUES (?, ?, ?, ?, ?, ?, ?)", c, 7, err);
		}
		add_change(st, "altered_table", NULL, NULL, ns->table_id);
	}
	return rc;
}

static int write_tags(pl_catdb *db, pl_txn *t, pl_commit_state *st, pl_err *err)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < t->ntags; i++)
		rc = write_tag(db, &t->tags[i], st, err);
	return rc;
}

static int write_snapshot(pl_catdb *db, pl_commit_state *st, pl_err *err)
{
	if (pl_buf_oom(&st->changes))
		return pl_err_nomem(err);
	if (!st->snapshot_written) {
		pl_now_timestamptz(st->time);
		pl_val s[] = {PL_VINT(st->snapshot), PL_VTEXT(st->time), PL_VINT(st->schema_version),
			      PL_VINT(st->next_catalog_id), PL_VINT(st->next_file_id)};
		int rc = pl_catdb_exec(db, "INSERT INTO ducklake_snapshot VALUES (?, ?, ?, ?, ?)", s, 5, err);
		pl_val c[] = {PL_VINT(st->snapshot), PL_VTEXT(pl_buf_cstr(&st->changes))};
		if (rc == 0)
			rc = pl_catdb_exec(db, "INSERT INTO ducklake_snapshot_changes VALUES (?, ?, NULL, NULL, NULL)", c, 2,
					   err);
		st->snapshot_written = rc == 0;
		return rc;
	}
	pl_val s[] = {PL_VINT(st->schema_version), PL_VINT(st->next_catalog_id), PL_VINT(st->next_file_id),
		      PL_VINT(st->snapshot)};
	int rc = pl_catdb_exec(db, "UPDATE ducklake_snapshot SET schema_version = ?, next_catalog_id = ?, "
				   "next_file_id = ? WHERE snapshot_id = ?", s, 4, err);
	pl_val c[] = {PL_VTEXT(pl_buf_cstr(&st->changes)), PL_VINT(st->snapshot)};
	if (rc == 0)
		rc = pl_catdb_exec(db, "UPDATE ducklake_snapshot_changes SET changes_made = ? WHERE snapshot_id = ?", c, 2,
				   err);
	return rc;
}

int pl_commit_begin(pl_catdb *db, int64_t base, pl_commit_state *st, pl_err *err)
{
	memset(st, 0, sizeof(*st));
	st->base = base;
	st->gen_before = pl_catdb_generation(db);
	int rc = db->ops->begin(db, err);
	/* On a catalog whose writers the driver sees, when nothing was written since this
	 * connection's last commit, that commit's snapshot is the latest. Should another commit
	 * land before this one after all, both take the same snapshot id and the catalog refuses
	 * the second (its key): a lost race, retried, that reads the latest again. */
	const pl_commit_note *n = &db->note;
	if (rc == 0 && st->gen_before && st->gen_before == db->latest_gen && n->changes && n->snapshot == db->latest) {
		st->snapshot = n->snapshot + 1;
		st->schema_version = st->latest_schema_version = n->schema_version;
		st->next_catalog_id = n->next_catalog_id;
		st->next_file_id = n->next_file_id;
	} else if (rc == 0 && (rc = read_latest(db, st, err)) != 0) {
		pl_commit_abort(db, st);
	}
	return rc;
}

int pl_commit_apply(pl_catdb *db, pl_txn *t, pl_commit_state *st, bool *real_conflict, pl_err *err)
{
	int rc = pl_upkeep_check_written(&t->written, err);
	*real_conflict = false;
	if (rc == 0)
		rc = map_txn_refs(st, t, err);
	if (rc == 0 && st->snapshot - 1 > st->base) {
		rc = pl_changes_check_conflicts(db, t, st->base, st->snapshot, err);
		*real_conflict = rc == PL_ECONFLICT;
	}
	bool ddl = t->nschemas || t->ntables || t->ndropped_tables || t->ndropped_schemas || t->nalters ||
		   t->nviews || t->ndropped_views || t->ntags || t->npartitions || t->nsorts || t->nmacros ||
		   t->ndropped_macros;
	if (ddl && !st->ddl) {
		st->schema_version++;
		st->ddl = true;
	}
	if (rc == 0)
		rc = write_schemas(db, t, st, err);
	if (rc == 0)
		rc = write_tables(db, t, st, err);
	if (rc == 0)
		rc = write_drops(db, t, st, err);
	if (rc == 0)
		rc = write_alters(db, t, st, err);
	if (rc == 0)
		rc = write_views(db, t, st, err);
	if (rc == 0)
		rc = write_macros(db, t, st, err);
	if (rc == 0)
		rc = write_tags(db, t, st, err);
	if (rc == 0)
		rc = write_partitions(db, t, st, err);
	if (rc == 0)
		rc = write_sorts(db, t, st, err);
	if (rc == 0)
		rc = pl_commit__write_files(db, t, st, err);
	if (rc == 0)
		rc = pl_inline_write_inserts(db, t, st, err);
	if (rc == 0)
		rc = pl_commit__write_new_deletes(db, t, st, err);
	if (rc == 0)
		rc = pl_commit__write_ended_files(db, t, st, err);
	if (rc == 0)
		rc = pl_inline_write_file_deletes(db, t, st, err);
	if (rc == 0)
		rc = pl_inline_write_flushes(db, t, st, err);
	if (rc == 0 && t->ncompactions) /* compactions run inside the transaction */
		rc = pl_compact_write(db, t->compactions, t->ncompactions, (const char *const *)t->compaction_dirs,
				      t->compaction_data_path, st, err);
	/* Ids are final now: the snapshot row records the counters after these changes. */
	if (rc == 0)
		rc = write_snapshot(db, st, err);
	return rc;
}

/* Leaves in db what the commit just made (see pl_commit_note), taking st's statistics rows. */
static void note_commit(pl_catdb *db, pl_commit_state *st)
{
	pl_catdb_forget_note(db);
	const char *changes = pl_buf_cstr(&st->changes);
	if (!st->stats_oom && changes && (db->note.changes = pl_strdup(changes)) != NULL) {
		db->note.base = st->snapshot - 1;
		db->note.snapshot = st->snapshot;
		db->note.schema_version = st->schema_version;
		db->note.next_catalog_id = st->next_catalog_id;
		db->note.next_file_id = st->next_file_id;
		memcpy(db->note.time, st->time, sizeof(db->note.time));
		db->note.stats = st->stats;
		db->note.nstats = st->nstats;
		db->note.delete_files = st->delete_files;
		db->note.files = st->files;
		st->stats = NULL;
		st->files = NULL;
	}
	pl_rows_free(st->files);
	st->files = NULL;
	for (size_t i = 0; st->stats && i < st->nstats; i++)
		pl_rows_free(st->stats[i].rows);
	free(st->stats);
	st->stats = NULL;
	st->nstats = st->capstats = 0;
}

/* After a lost COMMIT reply, asks the catalog (reconnecting) whether the snapshot exists. */
static int commit_outcome(pl_catdb *db, pl_commit_state *st, pl_err *err)
{
	pl_err probe = {0};
	pl_rows *r = NULL;
	pl_val p = PL_VINT(st->snapshot);
	if (pl_catdb_query(db, "SELECT count(*) FROM ducklake_snapshot WHERE snapshot_id = ?", &p, 1, &r, &probe) != 0) {
		char cause[PL_ERR_MSG_MAX];
		memcpy(cause, err->msg, sizeof(cause));
		st->outcome_unknown = true;
		return pl_err_set(err, PL_EIO, "%s; the commit of snapshot %lld may or may not have landed (its files are "
				  "kept; check ducklake_snapshots before retrying)", cause, (long long)st->snapshot);
	}
	bool landed = pl_rows_int(r, 0, 0, 0) > 0;
	pl_rows_free(r);
	/* Another writer may have taken the id since; then ours did not land. */
	return landed ? 0 : PL_EIO;
}

int pl_commit_finish(pl_catdb *db, pl_commit_state *st, const char *author, const char *message,
		     const char *extra, pl_err *err)
{
	int rc = 0;
	if (author || message || extra) {
		pl_val p[] = {PL_VTEXT(author), PL_VTEXT(message), PL_VTEXT(extra), PL_VINT(st->snapshot)};
		rc = pl_catdb_exec(db, "UPDATE ducklake_snapshot_changes SET author = ?, commit_message = ?, "
				       "commit_extra_info = ? WHERE snapshot_id = ?", p, 4, err);
	}
	pl_fault_point("commit:before-commit");
	if (rc == 0)
		rc = db->ops->commit(db, err);
	if (rc == PL_EIO) /* the connection died during COMMIT: did it land? */
		rc = commit_outcome(db, st, err);
	if (rc == 0)
		pl_fault_point("commit:after-commit");
	if (rc) {
		pl_commit_abort(db, st);
	} else {
		/* On a catalog whose writers the driver sees, the snapshot just committed is the latest
		 * at the generation the commit ended on; options kept from just before (a commit never
		 * writes them) stay true when no other write came in between. */
		uint64_t gen = db->committed_gen;
		if (gen) {
			db->latest = st->snapshot;
			db->latest_gen = gen;
			if (st->gen_before && db->options_gen == st->gen_before && gen == st->gen_before + 1)
				db->options_gen = gen;
		}
		note_commit(db, st);
		pl_buf_dispose(&st->changes);
		free(st->fixes);
		st->fixes = NULL;
		st->nfixes = st->capfixes = 0;
	}
	return rc;
}

void pl_commit_abort(pl_catdb *db, pl_commit_state *st)
{
	pl_err ignored;
	db->ops->rollback(db, &ignored);
	db->latest_gen = 0; /* a retry reads the latest snapshot */
	for (size_t i = 0; i < st->nstats; i++)
		pl_rows_free(st->stats[i].rows);
	free(st->stats);
	st->stats = NULL;
	st->nstats = st->capstats = 0;
	pl_rows_free(st->files);
	st->files = NULL;
	pl_buf_dispose(&st->changes);
	for (size_t i = st->nfixes; i-- > 0;)
		*st->fixes[i].field = st->fixes[i].local;
	free(st->fixes);
	st->fixes = NULL;
	st->nfixes = st->capfixes = 0;
}

static int commit_once(pl_catdb *db, pl_txn *txns, size_t n, int64_t base, const char *author,
		       const char *message, const char *extra, int64_t *snap_out, bool *real_conflict,
		       bool *outcome_unknown, pl_err *err)
{
	pl_commit_state st;
	int rc = 0;
	/* an S3 lake's new files are uploaded before the catalog names them (once: a retry finds
	 * them uploaded) */
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = pl_objhook_upload(&txns[i].written, err);
	if (rc == 0)
		rc = pl_commit_begin(db, base, &st, err);
	if (rc)
		return rc;
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = pl_commit_apply(db, &txns[i], &st, real_conflict, err);
	for (size_t i = 0; rc == 0 && i < n; i++) /* the files are durable before the catalog names them */
		rc = pl_txn_finish_pending(&txns[i], err);
	if (rc) {
		pl_err saved = *err;
		pl_commit_abort(db, &st);
		*err = saved;
		return rc;
	}
	rc = pl_commit_finish(db, &st, author, message, extra, err);
	if (rc == 0)
		*snap_out = st.snapshot;
	*outcome_unknown = st.outcome_unknown;
	return rc;
}

static void sleep_ms(double ms)
{
	if (ms <= 0)
		return;
	struct timespec ts = {(time_t)(ms / 1000), (long)((ms - 1000.0 * (double)(time_t)(ms / 1000)) * 1000000.0)};
	nanosleep(&ts, NULL);
}

/* The wait before attempt+1: Planar's (1 + attempt^2 ms), or the policy's wait_ms * backoff^attempt
 * times a random factor in [0.5, 1] (so that writers that lost together do not retry together). */
static void backoff(const pl_retry_policy *p, int attempt)
{
	if (!p->set) {
		sleep_ms(1.0 + (double)attempt * attempt);
		return;
	}
	double wait = (double)p->wait_ms * (0.5 + 0.5 * ((double)(rand() % 1000) / 999.0));
	for (int i = 0; i < attempt && wait < 60000.0; i++)
		wait *= p->backoff;
	sleep_ms(wait < 60000.0 ? wait : 60000.0);
}

int pl_commit_many(pl_catdb *db, pl_txn *txns, size_t n, int64_t base, const char *author,
		   const char *message, const char *extra, int64_t *snap_out, bool *outcome_unknown,
		   pl_err *err)
{
	int rc = 0;
	const pl_retry_policy *policy = &txns[0].retry;
	int64_t attempts = policy->set ? (policy->max_retry_count > 1 ? policy->max_retry_count : 1) : COMMIT_ATTEMPTS;
	*outcome_unknown = false;
	for (int64_t attempt = 0; attempt < attempts; attempt++) {
		bool real_conflict = false;
		rc = commit_once(db, txns, n, base, author, message, extra, snap_out, &real_conflict, outcome_unknown,
				 err);
		if (rc == 0 || real_conflict || *outcome_unknown || (rc != PL_EBUSY && rc != PL_ECONFLICT))
			return rc;
		if (attempt + 1 < attempts)
			backoff(policy, (int)(attempt < 64 ? attempt : 64));
	}
	if (policy->set)
		return pl_err_wrap(err, "Failed to commit DuckLake transaction. Exceeded the maximum retry count of %lld "
				   "set by the ducklake_max_retry_count setting. Consider increasing the value with: "
				   "e.g., \"SET ducklake_max_retry_count = %lld;\"", (long long)policy->max_retry_count,
				   (long long)(policy->max_retry_count > 0 ? policy->max_retry_count * 10 : 10));
	return pl_err_wrap(err, "commit failed after %d attempts", COMMIT_ATTEMPTS);
}

int pl_commit(pl_catdb *db, pl_txn *t, int64_t base, int64_t *snap_out, pl_err *err)
{
	return pl_commit_many(db, t, 1, base, t->author, t->commit_message, t->commit_extra_info, snap_out,
			      &t->outcome_unknown, err);
}
