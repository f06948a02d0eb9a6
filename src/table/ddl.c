/*
 * ddl.c -- creating and dropping lake schemas and tables (see ddl.h).
 */
#include "table/ddl.h"

#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "catalog/pending.h"
#include "table/columns.h"
#include "table/insert.h"
#include "table/writer.h"

int pl_ddl_create_schema(pl_txn *txn, const char *name, pl_err *err)
{
	pl_new_schema *s = pl_txn_add_schema(txn);
	return !s || !(s->name = pl_strdup(name)) ? pl_err_nomem(err) : 0;
}

/* CREATE TEMP TABLE <tmp> <definition>; for AS query only the columns (WITH NO DATA): the rows
 * stream from the query into the data files. */
static int create_temp_from(const pl_table_ctx *ctx, const char *definition, const char *tmp, bool no_data,
			    pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	pl_buf_puts(&q, "CREATE TEMP TABLE ");
	pl_buf_put_ident(&q, tmp);
	pl_buf_putc(&q, ' ');
	if (definition)
		pl_buf_puts(&q, definition);
	if (no_data)
		pl_buf_puts(&q, " WITH NO DATA");
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_exec(ctx->con, q.ptr, err);
	pl_buf_dispose(&q);
	return rc;
}

static int add_new_table(pl_txn *txn, const pl_create_table *c, pl_new_column *cols, size_t ncols, pl_err *err)
{
	pl_new_table *nt = pl_txn_add_table(txn);
	if (!nt) {
		pl_columns_free(cols, ncols);
		return pl_err_nomem(err);
	}
	nt->schema_ref = c->schema->id;
	nt->schema_name = pl_strdup(c->schema->name);
	nt->name = pl_strdup(c->name);
	nt->columns = cols;
	nt->ncolumns = ncols;
	return nt->schema_name && nt->name ? 0 : pl_err_nomem(err);
}

/* The query, its columns named as the table's (top-level) columns; with the user's own
 * WITH [NO] DATA, the temporary table's rows. */
/* The rows of a CREATE TABLE AS that commits on its own, written as an INSERT into the new table
 * writes them (inlined when few enough): the table as the commit will make it comes from applying
 * txn to c->model; what the insert adds names it by its local id, which becomes the reference to
 * the txn's new table (-(k + 1)) that the commit resolves once the table has its id. */
static int inline_ctas_rows(const pl_table_ctx *ctx, const pl_create_table *c, const char *src, pl_txn *txn,
			    pl_err *err)
{
	int64_t next_local = 0;
	pl_model *m = NULL;
	int rc = pl_model_apply_txn(c->model, txn, c->data_path, &next_local, &m, err);
	const pl_table *t = rc == 0 ? pl_model_table(m, c->schema->id, c->name) : NULL;
	if (rc == 0 && !t)
		rc = pl_err_set(err, PL_ERROR, "internal error: the new table \"%s\" is missing", c->name);
	size_t files = txn->nfiles, inserts = txn->ninlined_inserts;
	int64_t local = t ? t->id : 0, ref = -(int64_t)txn->ntables, rows = 0;
	if (rc == 0)
		rc = pl_insert_write_rows(ctx, t, src, -1, true, false, txn, &rows, err);
	for (size_t i = files; i < txn->nfiles; i++)
		if (txn->files[i].table_ref == local)
			txn->files[i].table_ref = ref;
	for (size_t i = inserts; i < txn->ninlined_inserts; i++)
		if (txn->inlined_inserts[i].table_id == local)
			txn->inlined_inserts[i].table_id = ref;
	pl_model_free(m);
	return rc;
}

static int write_ctas_rows(const pl_table_ctx *ctx, const pl_create_table *c, const char *tmp, int64_t inline_limit,
			   pl_txn *txn, pl_err *err)
{
	pl_buf dir = PL_BUF_INIT, src = PL_BUF_INIT;
	const pl_new_table *nt = &txn->tables[txn->ntables - 1];
	int64_t rows = 0;
	pl_buf_puts(&dir, c->schema->dir);
	pl_buf_put_path_name(&dir, c->name);
	pl_buf_putc(&dir, '/');
	if (c->with_data_clause) {
		pl_buf_puts(&src, "SELECT * FROM temp.main.");
		pl_buf_put_ident(&src, tmp);
	} else {
		pl_buf_puts(&src, "SELECT * FROM (");
		pl_buf_puts(&src, c->query);
		pl_buf_puts(&src, ") AS __planar_q(");
		for (size_t i = 0, n = 0; i < nt->ncolumns; i++) {
			if (nt->columns[i].parent >= 0)
				continue;
			pl_buf_puts(&src, n++ ? ", " : "");
			pl_buf_put_ident(&src, nt->columns[i].name);
		}
		pl_buf_putc(&src, ')');
	}
	if (inline_limit > 0 && c->may_inline && c->model) {
		int rc = pl_buf_oom(&dir) || pl_buf_oom(&src) ? pl_err_nomem(err) : inline_ctas_rows(ctx, c, src.ptr, txn, err);
		pl_buf_dispose(&src);
		pl_buf_dispose(&dir);
		return rc;
	}
	pl_write_request req = {.con = ctx->con, .source_sql = src.ptr, .dir = dir.ptr,
				.columns = {nt->columns, nt->ncolumns, NULL}, .table_ref = -(int64_t)txn->ntables,
				.target_file_size = PL_DEFAULT_TARGET_FILE_SIZE};
	int rc = pl_buf_oom(&dir) || pl_buf_oom(&src) ? pl_err_nomem(err) : pl_table_write_sizes(ctx, NULL, &req, err);
	/* the rows are written without holding the lakes: c->schema may change under us from here on */
	bool released = rc == 0 && pl_table_release(ctx);
	if (rc == 0)
		rc = pl_writer_write(&req, txn, &rows, err);
	pl_table_reacquire(ctx, released);
	pl_buf_dispose(&src);
	pl_buf_dispose(&dir);
	return rc;
}

int pl_ddl_create_table(const pl_table_ctx *ctx, const pl_create_table *c, pl_txn *txn, pl_err *err)
{
	char tmp[64];
	int rc = 0;
	if (c->replaced) {
		pl_dropped *d = pl_txn_add_dropped_table(txn);
		rc = d ? (d->id = c->replaced->id, 0) : pl_err_nomem(err);
	}
	pl_table_temp_name(ctx, "ddl", tmp);
	if (rc == 0)
		rc = create_temp_from(ctx, c->definition, tmp, c->query && !c->with_data_clause, err);
	pl_new_column *cols = NULL;
	size_t ncols = 0;
	if (rc == 0)
		rc = pl_columns_from_temp_table(ctx->con, tmp, &cols, &ncols, err);
	for (size_t k = 0; rc == 0 && k < ncols; k++)
		rc = pl_name_check("column", cols[k].name, err);
	for (size_t k = 0; rc == 0 && k < ncols; k++)
		if (cols[k].parent < 0)
			rc = pl_table_check_column_name(ctx, NULL, c->schema->id, cols[k].name, err);
	if (rc == 0)
		rc = add_new_table(txn, c, cols, ncols, err);
	else
		pl_columns_free(cols, ncols);
	int64_t limit = 0; /* with data inlining on, the table gets its inlined-data table at once */
	if (rc == 0)
		rc = pl_table_inline_limit(ctx, c->schema->id, &limit, err);
	if (rc == 0)
		txn->tables[txn->ntables - 1].inlined_table = limit > 0;
	if (rc == 0 && c->query)
		rc = write_ctas_rows(ctx, c, tmp, limit, txn, err);
	pl_table_drop_temp(ctx, "TABLE", tmp);
	return rc;
}

/* Without CASCADE a schema that still holds objects stays, as DuckLake says (a Catalog Error:
 * the transaction goes on): each dependent on a line of its own. */
static int check_no_dependents(const pl_model *m, const pl_schema *s, pl_err *err)
{
	pl_buf msg = PL_BUF_INIT;
	size_t n = 0;
	pl_buf_printf(&msg, "Catalog Error: Cannot drop schema \"%s\" because there are entries that depend on it\n",
		      s->name);
	for (size_t i = 0; i < m->ntables; i++)
		if (m->tables[i].schema_id == s->id && ++n)
			pl_buf_printf(&msg, "table \"%s\" depends on schema \"%s\".\n", m->tables[i].name, s->name);
	for (size_t i = 0; i < m->nviews; i++)
		if (m->views[i].schema_id == s->id && ++n)
			pl_buf_printf(&msg, "view \"%s\" depends on schema \"%s\".\n", m->views[i].name, s->name);
	for (size_t i = 0; i < m->nmacros; i++)
		if (m->macros[i].schema_id == s->id && ++n)
			pl_buf_printf(&msg, "macro \"%s\" depends on schema \"%s\".\n", m->macros[i].name, s->name);
	pl_buf_puts(&msg, "Use DROP...CASCADE to drop all dependents.");
	int rc = n == 0 ? 0 : pl_buf_oom(&msg) ? pl_err_nomem(err) : pl_err_set(err, PL_EINVALID, "%s", msg.ptr);
	pl_buf_dispose(&msg);
	return rc;
}

int pl_ddl_drop_schema(const pl_model *m, const pl_schema *s, bool cascade, pl_txn *txn, pl_err *err)
{
	int rc = cascade ? 0 : check_no_dependents(m, s, err);
	for (size_t i = 0; rc == 0 && i < m->ntables; i++) {
		if (m->tables[i].schema_id != s->id)
			continue;
		pl_dropped *d = pl_txn_add_dropped_table(txn);
		if (rc == 0 && !d)
			rc = pl_err_nomem(err);
		if (d)
			d->id = m->tables[i].id;
	}
	for (size_t i = 0; rc == 0 && i < m->nviews; i++) {
		if (m->views[i].schema_id != s->id)
			continue;
		rc = pl_ddl_drop_view(&m->views[i], txn, err);
	}
	for (size_t i = 0; rc == 0 && i < m->nmacros; i++) {
		if (m->macros[i].schema_id != s->id)
			continue;
		rc = pl_ddl_drop_macro(&m->macros[i], txn, err);
	}
	pl_dropped *d = rc ? NULL : pl_txn_add_dropped_schema(txn);
	if (rc == 0 && !d)
		rc = pl_err_nomem(err);
	if (rc == 0) {
		d->id = s->id;
		if (!(d->name = pl_strdup(s->name))) /* a concurrent commit's table in it names it */
			rc = pl_err_nomem(err);
	}
	return rc;
}

int pl_ddl_drop_table(const pl_table *t, pl_txn *txn, pl_err *err)
{
	pl_dropped *d = pl_txn_add_dropped_table(txn);
	return d ? (d->id = t->id, 0) : pl_err_nomem(err);
}

/* DuckDB binds the query once, so a view that cannot work is refused up front: the view's query
 * binds, as seen from the session or else from the view's own schema. */
static int check_query(const pl_table_ctx *ctx, const char *schema, const char *query, pl_err *err)
{
	char tmp[64];
	pl_buf q = PL_BUF_INIT;
	pl_table_temp_name(ctx, "view", tmp);
	pl_buf_puts(&q, "CREATE TEMP VIEW ");
	pl_buf_put_ident(&q, tmp);
	pl_buf_puts(&q, " AS ");
	pl_buf_puts(&q, query);
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_exec(ctx->con, q.ptr, err);
	if (rc && rc != PL_ENOMEM) {
		pl_err second = {0};
		if (pl_engine_exec_in_schema(ctx->con, ctx->lake, schema, q.ptr, &second) == 0) {
			*err = (pl_err){0};
			rc = 0;
		}
	}
	if (rc == 0)
		pl_table_drop_temp(ctx, "VIEW", tmp);
	pl_buf_dispose(&q);
	return rc;
}

int pl_ddl_create_view(const pl_table_ctx *ctx, const pl_schema *s, const char *name, const pl_view *replaced,
		       const char *query, const char *stored_sql, pl_txn *txn, pl_err *err)
{
	int rc = check_query(ctx, s->name, query, err);
	if (rc == 0 && replaced) {
		pl_dropped *d = pl_txn_add_dropped_view(txn);
		rc = d ? (d->id = replaced->id, 0) : pl_err_nomem(err);
	}
	pl_new_view *v = rc ? NULL : pl_txn_add_view(txn);
	if (rc == 0 && !v)
		rc = pl_err_nomem(err);
	if (v) {
		v->schema_id = s->id;
		v->schema_name = pl_strdup(s->name);
		v->name = pl_strdup(name);
		v->sql = pl_strdup(stored_sql);
		rc = v->schema_name && v->name && v->sql ? 0 : pl_err_nomem(err);
	}
	return rc;
}

int pl_ddl_rename_view(const pl_schema *s, const pl_view *v, const char *new_name, pl_txn *txn, pl_err *err)
{
	pl_new_view *n = pl_txn_add_view(txn);
	if (!n)
		return pl_err_nomem(err);
	n->schema_id = s->id;
	n->rename = true;
	n->renamed_id = v->id;
	n->schema_name = pl_strdup(s->name);
	n->name = pl_strdup(new_name);
	return n->schema_name && n->name ? 0 : pl_err_nomem(err);
}

int pl_ddl_drop_view(const pl_view *v, pl_txn *txn, pl_err *err)
{
	pl_dropped *d = pl_txn_add_dropped_view(txn);
	return d ? (d->id = v->id, 0) : pl_err_nomem(err);
}

int pl_ddl_comment(int64_t object_id, bool view, int64_t column_id, const char *value, pl_txn *txn, pl_err *err)
{
	pl_tag *g = pl_txn_add_tag(txn);
	if (!g)
		return pl_err_nomem(err);
	*g = (pl_tag){object_id, column_id, pl_strdup("comment"), value ? pl_strdup(value) : NULL, view};
	return g->key && (!value || g->value) ? 0 : pl_err_nomem(err);
}
