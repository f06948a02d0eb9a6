/*
 * dml.c -- DELETE and UPDATE of a lake table's rows (see dml.h).
 */
#include "table/dml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/inline.h"
#include "core/str.h"
#include "storage/fs.h"
#include "table/columns.h"
#include "table/deletes.h"
#include "table/emptyfile.h"
#include "table/scan.h"
#include "table/writer.h"

#define HIDDEN_COLUMNS "__planar_file, __planar_pos, __planar_rowid"

typedef pl_dml dml;

static void put_text(pl_buf *b, pl_text t)
{
	pl_buf_put(b, t.s, t.len);
}

static int exec_buf(dml *d, pl_buf *q, pl_err *err)
{
	return pl_buf_oom(q) ? pl_err_nomem(err) : pl_engine_exec(d->ctx->con, q->ptr, err);
}

/* exec_buf for the long part, finding the rows: the lakes are released meanwhile (ctx->release;
 * the caller keeps its own reference to the model the statement planned on). */
static int exec_matching(dml *d, pl_buf *q, pl_err *err)
{
	bool released = pl_table_release(d->ctx);
	int rc = exec_buf(d, q, err);
	pl_table_reacquire(d->ctx, released);
	return rc;
}

/* exec_matching for a CREATE TABLE AS whose rows are a set (positions, sorted where they are
 * used): DuckDB keeps such a table in the order of its source unless told otherwise, and a source
 * with Planar's inlined-rows function (which has no batch index) then inserts on one thread. So
 * on a table of more than one row group's rows, the session's preserve_insertion_order is off
 * for the statement (and back on after, when it was on). */
static int exec_matching_set(dml *d, pl_buf *q, pl_err *err)
{
	const pl_data_file *files = NULL;
	size_t n = 0;
	int64_t rows = 0;
	pl_err ignored = {0};
	if (pl_model_table_files(d->model, d->table, &files, &n, &ignored) == 0)
		for (size_t i = 0; i < n; i++)
			rows += files[i].record_count > 0 ? files[i].record_count : 0;
	char *v = NULL;
	bool ordered = rows > PL_EMPTY_COMPANION_MIN_ROWS &&
		       pl_engine_query_value(d->ctx->con, "SELECT current_setting('preserve_insertion_order')", &v,
					     &ignored) == 0 &&
		       v && strcmp(v, "true") == 0 &&
		       pl_engine_exec(d->ctx->con, "SET preserve_insertion_order = false", &ignored) == 0;
	free(v);
	int rc = exec_matching(d, q, err);
	if (ordered)
		pl_engine_exec(d->ctx->con, "SET preserve_insertion_order = true", &ignored);
	return rc;
}

/* A temporary view of table t's rows with their file, position and row id. */
static int create_positions_view(dml *d, const pl_table *t, char name[64], bool *have, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	pl_table_temp_name(d->ctx, "dml", name);
	pl_buf_puts(&q, "CREATE TEMP VIEW ");
	pl_buf_put_ident(&q, name);
	pl_buf_puts(&q, " AS ");
	char *companion = NULL;
	pl_scan_companion(d->ctx->empty, d->model, t, &companion);
	int rc = pl_scan_positions_sql(&q, d->ctx->lake, d->model, t, d->ctx->deletes, d->ctx->admin, companion, err);
	free(companion);
	if (rc == 0)
		rc = exec_buf(d, &q, err);
	*have = rc == 0;
	pl_buf_dispose(&q);
	return rc;
}

static int create_view(dml *d, pl_err *err)
{
	return create_positions_view(d, d->table, d->view, &d->have_view, err);
}

/* Appends `(assigned expression)` for column c, or the alias's column. */
static int put_new_value(dml *d, pl_buf *q, const char *col, pl_err *err)
{
	for (size_t i = 0; i < d->req->nset; i++) {
		const pl_assignment *a = &d->req->set[i];
		if (!a->well_formed)
			return pl_err_set(err, PL_EINVALID, "syntax error in SET: expected column = expression");
		if (a->column && pl_str_ieq(a->column, col)) {
			pl_buf_putc(q, '(');
			put_text(q, a->expr);
			pl_buf_putc(q, ')');
			return 1;
		}
	}
	pl_buf_put_ident(q, d->req->alias);
	pl_buf_putc(q, '.');
	pl_buf_put_ident(q, col);
	return 0;
}

static int check_set_columns(dml *d, pl_err *err)
{
	for (size_t i = 0; i < d->req->nset; i++) {
		const char *name = d->req->set[i].column;
		bool found = false;
		for (size_t c = 0; name && c < d->table->ntop; c++)
			found = found || pl_str_ieq(d->table->top[c]->name, name);
		if (name && !found)
			return pl_err_set(err, PL_EINVALID, "Binder Error: Referenced update column %s not found in table!",
					  name);
	}
	return 0;
}

/* UPDATE without a FROM list, run for real: first the matched positions (reading only the
 * WHERE's columns), then the new row versions from the files that hold matches only. */
static bool two_pass_update(const dml *d)
{
	return d->req->update && !d->req->from.s && d->req->explain == PL_DML_RUN;
}

static void put_from_where(dml *d, pl_buf *q, const char *view)
{
	pl_buf_puts(q, " FROM temp.main.");
	pl_buf_put_ident(q, view);
	pl_buf_puts(q, " AS ");
	pl_buf_put_ident(q, d->req->alias);
	if (d->req->from.s) {
		pl_buf_puts(q, ", ");
		put_text(q, d->req->from);
	}
	if (d->req->where.s) {
		pl_buf_puts(q, " WHERE ");
		put_text(q, d->req->where);
	}
}

/* Pass 1 of a two-pass UPDATE: CREATE TEMP TABLE pos AS SELECT file, pos ... WHERE ...; then a
 * view over the files (and inlined tables) that hold matches, and pos2 (__planar_file: the
 * file's index in that view, __planar_orig: in the table, __planar_pos). */
static int collect_positions(dml *d, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	duckdb_result res;
	pl_table_temp_name(d->ctx, "pos", d->pos);
	pl_buf_puts(&q, "CREATE TEMP TABLE ");
	pl_buf_put_ident(&q, d->pos);
	pl_buf_puts(&q, " AS ");
	if (d->req->cte) {
		pl_buf_puts(&q, d->req->cte);
		pl_buf_putc(&q, ' ');
	}
	pl_buf_puts(&q, "SELECT ");
	pl_buf_put_ident(&q, d->req->alias);
	pl_buf_puts(&q, ".__planar_file, ");
	pl_buf_put_ident(&q, d->req->alias);
	pl_buf_puts(&q, ".__planar_pos");
	put_from_where(d, &q, d->view);
	int rc = exec_matching_set(d, &q, err);
	d->have_pos = rc == 0;
	pl_buf_truncate(&q, 0);
	pl_buf_puts(&q, "SELECT DISTINCT __planar_file FROM temp.main.");
	pl_buf_put_ident(&q, d->pos);
	pl_buf_puts(&q, " WHERE __planar_file >= 0");
	if (rc == 0)
		rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query(d->ctx->con, q.ptr, &res, err);
	if (rc) {
		pl_buf_dispose(&q);
		return rc;
	}
	/* the table with only those files (a shallow copy sharing the model's strings) */
	size_t nfiles = d->table->nfiles;
	pl_table sub = *d->table;
	pl_data_file *files = malloc((nfiles ? nfiles : 1) * sizeof(*files));
	bool *keep = calloc(nfiles ? nfiles : 1, sizeof(*keep));
	rc = files && keep ? 0 : pl_err_nomem(err);
	for (idx_t r = 0; rc == 0 && r < duckdb_row_count(&res); r++) {
		int64_t i = duckdb_value_int64(&res, 0, r);
		if (i >= 0 && (size_t)i < nfiles)
			keep[i] = true;
	}
	duckdb_destroy_result(&res);
	pl_buf_truncate(&q, 0);
	pl_table_temp_name(d->ctx, "pos", d->pos2);
	pl_buf_puts(&q, "CREATE TEMP TABLE ");
	pl_buf_put_ident(&q, d->pos2);
	pl_buf_puts(&q, " AS SELECT coalesce(m.s, p.__planar_file) AS __planar_file, p.__planar_file AS __planar_orig, "
			 "p.__planar_pos FROM temp.main.");
	pl_buf_put_ident(&q, d->pos);
	pl_buf_puts(&q, " AS p LEFT JOIN (VALUES (CAST(NULL AS BIGINT), CAST(NULL AS BIGINT))");
	sub.nfiles = 0;
	for (size_t i = 0; rc == 0 && i < nfiles; i++) {
		if (!keep[i])
			continue;
		pl_buf_printf(&q, ", (%zu, %zu)", i, sub.nfiles);
		files[sub.nfiles++] = d->table->files[i];
	}
	pl_buf_puts(&q, ") AS m(o, s) ON p.__planar_file = m.o");
	sub.files = files;
	if (rc == 0)
		rc = exec_buf(d, &q, err);
	d->have_pos2 = rc == 0;
	if (rc == 0)
		rc = create_positions_view(d, &sub, d->rows_view, &d->have_rows_view, err);
	pl_buf_dispose(&q);
	free(files);
	free(keep);
	return rc;
}

/* CREATE TEMP TABLE match AS [WITH ...] SELECT [DISTINCT ON (file, pos)] ... FROM view AS alias,
 * ... WHERE ...; under EXPLAIN the plan of that SELECT (nothing is collected), under EXPLAIN
 * ANALYZE its profile, in *explained. A two-pass UPDATE computes the new versions of the rows
 * found by collect_positions only. */
static int collect_matches(dml *d, duckdb_result *explained, bool *have_explained, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	int rc = 0;
	pl_table_temp_name(d->ctx, "match", d->match);
	if (d->req->explain == PL_DML_EXPLAIN) {
		pl_buf_puts(&q, "EXPLAIN ");
	} else {
		if (d->req->explain == PL_DML_EXPLAIN_ANALYZE)
			pl_buf_puts(&q, "EXPLAIN ANALYZE ");
		pl_buf_puts(&q, "CREATE TEMP TABLE ");
		pl_buf_put_ident(&q, d->match);
		pl_buf_puts(&q, " AS ");
	}
	if (d->req->cte) {
		pl_buf_puts(&q, d->req->cte);
		pl_buf_putc(&q, ' ');
	}
	pl_buf_puts(&q, "SELECT ");
	if (d->req->from.s) { /* a join may match a row more than once */
		pl_buf_puts(&q, "DISTINCT ON (");
		pl_buf_put_ident(&q, d->req->alias);
		pl_buf_puts(&q, ".__planar_file, ");
		pl_buf_put_ident(&q, d->req->alias);
		pl_buf_puts(&q, ".__planar_pos) ");
	}
	if (!d->req->update && d->req->returning) { /* RETURNING: the whole rows */
		pl_buf_put_ident(&q, d->req->alias);
		pl_buf_puts(&q, ".*");
	} else if (!d->req->update) { /* only positions: the scan reads just the WHERE's columns */
		pl_buf_put_ident(&q, d->req->alias);
		pl_buf_puts(&q, ".__planar_file, ");
		pl_buf_put_ident(&q, d->req->alias);
		pl_buf_puts(&q, ".__planar_pos");
	} else {
		for (size_t c = 0; rc >= 0 && c < d->table->ntop; c++) {
			rc = put_new_value(d, &q, d->table->top[c]->name, err);
			pl_buf_puts(&q, " AS ");
			pl_buf_put_ident(&q, d->table->top[c]->name);
			pl_buf_puts(&q, ", ");
		}
		if (rc < 0)
			goto cleanup;
		for (int k = 0; k < 3; k++) {
			static const char *const hidden[] = {"__planar_file", "__planar_pos", "__planar_rowid"};
			pl_buf_printf(&q, "%s", k ? ", " : "");
			if (k == 0 && two_pass_update(d)) { /* the file's index in the table, not the subset */
				pl_buf_puts(&q, "__planar_p.__planar_orig AS __planar_file");
				continue;
			}
			pl_buf_put_ident(&q, d->req->alias);
			pl_buf_printf(&q, ".%s", hidden[k]);
		}
	}
	if (two_pass_update(d)) {
		pl_buf_puts(&q, " FROM temp.main.");
		pl_buf_put_ident(&q, d->rows_view);
		pl_buf_puts(&q, " AS ");
		pl_buf_put_ident(&q, d->req->alias);
		pl_buf_puts(&q, " JOIN temp.main.");
		pl_buf_put_ident(&q, d->pos2);
		pl_buf_puts(&q, " AS __planar_p ON ");
		pl_buf_put_ident(&q, d->req->alias);
		pl_buf_puts(&q, ".__planar_file = __planar_p.__planar_file AND ");
		pl_buf_put_ident(&q, d->req->alias);
		pl_buf_puts(&q, ".__planar_pos = __planar_p.__planar_pos");
	} else {
		put_from_where(d, &q, d->view);
	}
	if (d->req->explain == PL_DML_RUN) { /* a DELETE's positions are a set */
		bool set = !d->req->update && !d->req->returning;
		rc = set ? exec_matching_set(d, &q, err) : exec_matching(d, &q, err);
	} else {
		rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query(d->ctx->con, q.ptr, explained, err);
		*have_explained = rc == 0;
	}
	d->have_match = rc == 0 && d->req->explain != PL_DML_EXPLAIN;
cleanup:
	pl_buf_dispose(&q);
	return rc;
}

static int delete_inlined(dml *d, int64_t index, const char *name, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	duckdb_result res;
	pl_buf_puts(&q, "SELECT __planar_pos FROM temp.main.");
	pl_buf_put_ident(&q, d->match);
	pl_buf_printf(&q, " WHERE __planar_file = %lld", (long long)index);
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query(d->ctx->con, q.ptr, &res, err);
	pl_buf_dispose(&q);
	if (rc)
		return rc;
	pl_inlined_delete *del = pl_txn_add_inlined_delete(&d->txn);
	idx_t n = duckdb_row_count(&res);
	if (del) {
		del->table_id = d->table->id;
		del->inlined_table = pl_strdup(name);
		del->row_ids = malloc((n ? n : 1) * sizeof(int64_t));
		for (idx_t i = 0; del->row_ids && i < n; i++)
			del->row_ids[del->n++] = duckdb_value_int64(&res, 0, i);
	}
	duckdb_destroy_result(&res);
	return del && del->inlined_table && del->row_ids ? 0 : pl_err_nomem(err);
}

/* A small delete of a committed file's rows is kept in the catalog, as DuckLake 1.0 does:
 * ducklake_inlined_delete_<table> (file, position, snapshot) instead of a delete file. */
static int delete_inline(dml *d, int64_t index, const pl_data_file *f, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	duckdb_result res;
	pl_buf_puts(&q, "SELECT DISTINCT __planar_pos FROM temp.main.");
	pl_buf_put_ident(&q, d->match);
	pl_buf_printf(&q, " WHERE __planar_file = %lld ORDER BY 1", (long long)index);
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query(d->ctx->con, q.ptr, &res, err);
	pl_buf_dispose(&q);
	if (rc)
		return rc;
	pl_inlined_file_delete *del = pl_txn_add_file_delete(&d->txn);
	idx_t n = duckdb_row_count(&res);
	if (del) {
		del->table_id = d->table->id;
		del->data_file_id = f->id;
		del->positions = malloc((n ? n : 1) * sizeof(int64_t));
		for (idx_t i = 0; del->positions && i < n; i++)
			del->positions[del->n++] = duckdb_value_int64(&res, 0, i);
	}
	duckdb_destroy_result(&res);
	return del && del->positions ? 0 : pl_err_nomem(err);
}

/* dv_pos: the file's matched positions, sorted, for a deletion vector (NULL: a Parquet delete file,
 * whose COPY reads them from the matches) */
static int delete_from_file(dml *d, int64_t index, const pl_data_file *f, int64_t count, const uint64_t *dv_pos,
			    int64_t limit, pl_err *err)
{
	if (limit > 0 && count <= limit && f->id < PL_LOCAL_ID_BASE)
		return delete_inline(d, index, f, err);
	if (f->delete_count + (int64_t)f->ninlined_deletes + count >= f->record_count) { /* every row is gone */
		pl_ended_file *e = pl_txn_add_ended_file(&d->txn);
		if (!e)
			return pl_err_nomem(err);
		*e = (pl_ended_file){d->table->id, f->id, f->delete_path ? f->delete_id : -1};
		return 0;
	}
	pl_buf q = PL_BUF_INIT;
	if (!dv_pos) {
		pl_buf_puts(&q, "SELECT __planar_pos AS pos FROM temp.main.");
		pl_buf_put_ident(&q, d->match);
		pl_buf_printf(&q, " WHERE __planar_file = %lld", (long long)index);
	}
	pl_new_delete *nd = pl_txn_add_delete(&d->txn);
	pl_delete_request req = {.con = d->ctx->con, .model = d->model, .table = d->table, .file = f,
				 .new_positions_sql = dv_pos ? NULL : q.ptr, .new_positions = dv_pos, .nnew = (size_t)count,
				 .deletion_vector = dv_pos != NULL, .written = &d->txn.written};
	int rc = !nd || pl_buf_oom(&q) ? pl_err_nomem(err) : pl_deletes_write(&req, nd, err);
	pl_buf_dispose(&q);
	return rc;
}

/* For deletion vectors: the matched positions of every data file, sorted by file and position,
 * from one query (one query per file cost more than writing its vector). */
static int matched_file_positions(dml *d, uint64_t **pos, size_t *n, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	duckdb_result res;
	pl_buf_puts(&q, "SELECT CAST(__planar_pos AS UBIGINT) FROM temp.main.");
	pl_buf_put_ident(&q, d->match);
	pl_buf_puts(&q, " WHERE __planar_file >= 0 ORDER BY __planar_file, __planar_pos");
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query(d->ctx->con, q.ptr, &res, err);
	pl_buf_dispose(&q);
	if (rc)
		return rc;
	size_t total = (size_t)duckdb_row_count(&res), k = 0;
	*pos = malloc((total ? total : 1) * sizeof(**pos));
	idx_t chunks = duckdb_result_chunk_count(res);
	for (idx_t c = 0; *pos && c < chunks; c++) {
		duckdb_data_chunk chunk = duckdb_result_get_chunk(res, c);
		idx_t rows = duckdb_data_chunk_get_size(chunk);
		const uint64_t *v = duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk, 0));
		for (idx_t r = 0; r < rows && k < total; r++)
			(*pos)[k++] = v[r];
		duckdb_destroy_data_chunk(&chunk);
	}
	duckdb_destroy_result(&res);
	*n = k;
	return *pos ? 0 : pl_err_nomem(err);
}

static int plan_deletes(dml *d, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	duckdb_result res;
	char *dv_opt = NULL;
	int rc = pl_table_option(d->ctx, d->table, "write_deletion_vectors", &dv_opt, err);
	bool dv = dv_opt ? pl_str_ieq(dv_opt, "true") : d->ctx->write_dv_default;
	free(dv_opt);
	pl_write_request sizes = {0};
	int64_t limit = 0;
	if (rc == 0)
		rc = pl_table_write_options(d->ctx, d->table, &sizes, &limit, err);
	if (rc)
		return rc;
	pl_buf_puts(&q, "SELECT __planar_file, count(*) FROM temp.main.");
	pl_buf_put_ident(&q, d->match);
	pl_buf_puts(&q, " GROUP BY 1 ORDER BY 1");
	rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query(d->ctx->con, q.ptr, &res, err);
	pl_buf_dispose(&q);
	if (rc)
		return rc;
	const pl_table *t = d->table;
	size_t first = d->txn.written.len, npos = 0, at = 0;
	uint64_t *pos = NULL;
	if (dv)
		rc = matched_file_positions(d, &pos, &npos, err);
	for (idx_t r = 0; rc == 0 && r < duckdb_row_count(&res); r++) {
		int64_t i = duckdb_value_int64(&res, 0, r), count = duckdb_value_int64(&res, 1, r);
		if (i >= 0 && (size_t)i < t->nfiles && dv && (count < 0 || (size_t)count > npos - at))
			rc = pl_err_set(err, PL_ERROR, "internal error: the matched positions of file %lld changed",
					(long long)i);
		else if (i >= 0 && (size_t)i < t->nfiles) {
			rc = delete_from_file(d, i, &t->files[i], count, dv ? pos + at : NULL, limit, err);
			at += dv ? (size_t)count : 0;
		} else if (i < 0 && (size_t)(-i - 1) < t->ninlined)
			rc = delete_inlined(d, i, t->inlined[-i - 1].name, err);
		else
			rc = pl_err_set(err, PL_ERROR, "internal error: a matched row of no file (%lld)", (long long)i);
	}
	duckdb_destroy_result(&res);
	free(pos);
	/* the delete files: each one, then the table's directory once */
	if (rc == 0 && d->txn.written.len > first)
		rc = pl_fs_sync_files(d->txn.written.items + first, d->txn.written.len - first, NULL, 0, err);
	return rc;
}

/* UPDATE's new row versions in the staging table, when they are at most the table's inlining
 * limit: stored in the catalog with their row ids (*done), as DuckLake 1.0 inlines them. */
static int inline_new_versions(dml *d, bool *done, pl_err *err)
{
	*done = false;
	pl_write_request sizes = {0};
	int64_t limit = 0;
	int rc = pl_table_write_options(d->ctx, d->table, &sizes, &limit, err);
	if (rc || limit <= 0 || !pl_inline_supported(d->ctx->cat, d->table))
		return rc;
	const pl_table *t = d->table;
	pl_buf q = PL_BUF_INIT;
	pl_buf_puts(&q, "SELECT ");
	for (size_t i = 0; i < t->ntop; i++) {
		pl_buf_puts(&q, "CAST(");
		pl_buf_put_ident(&q, t->top[i]->name);
		pl_buf_puts(&q, " AS VARCHAR), ");
	}
	pl_buf_puts(&q, "_ducklake_internal_row_id, ");
	pl_columns_put_nul_check(&q, t);
	pl_buf_puts(&q, " FROM temp.main.");
	pl_buf_put_ident(&q, d->stage);
	pl_buf_printf(&q, " LIMIT %lld", (long long)limit + 1);
	duckdb_result res;
	rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query(d->ctx->con, q.ptr, &res, err);
	pl_buf_dispose(&q);
	if (rc)
		return rc;
	idx_t n = duckdb_row_count(&res), nc = t->ntop;
	bool nul = false; /* a value with a NUL byte is not kept as text: the rows go to a file */
	for (idx_t r = 0; n <= (idx_t)limit && !nul && r < n; r++)
		nul = duckdb_value_boolean(&res, nc + 1, r);
	if (n == 0 || n > (idx_t)limit || nul) {
		duckdb_destroy_result(&res);
		return 0;
	}
	pl_inlined_insert *ins = pl_txn_add_inlined_insert(&d->txn);
	rc = !ins ? pl_err_nomem(err) : pl_inline_prepare(ins, d->ctx->cat, t, err);
	bool oom = rc == 0 && (!(ins->cells = calloc(n * nc + 1, sizeof(char *))) ||
			       !(ins->row_ids = calloc(n + 1, sizeof(int64_t))));
	for (idx_t r = 0; rc == 0 && !oom && r < n; r++) {
		for (idx_t c = 0; c < nc; c++)
			ins->cells[r * nc + c] = pl_engine_value_str(&res, c, r, &oom);
		ins->row_ids[r] = duckdb_value_int64(&res, nc, r);
	}
	duckdb_destroy_result(&res);
	if (rc == 0 && oom)
		rc = pl_err_nomem(err);
	if (ins)
		ins->nrows = rc ? 0 : n;
	*done = rc == 0;
	return rc;
}

/* UPDATE: the new row versions (the table `from`: the columns, then the hidden ones), typed
 * and checked by a staging table, become data files. */
static int write_new_versions(dml *d, const char *from, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	pl_table_temp_name(d->ctx, "stage", d->stage);
	pl_buf_puts(&q, "CREATE TEMP TABLE ");
	pl_buf_put_ident(&q, d->stage);
	pl_buf_putc(&q, ' ');
	int rc = pl_columns_table_def(&q, d->table, err);
	if (rc == 0) {
		pl_buf_insert_before_last(&q, ", _ducklake_internal_row_id BIGINT");
		rc = exec_buf(d, &q, err);
	}
	d->have_stage = rc == 0;
	pl_buf_truncate(&q, 0);
	pl_buf_puts(&q, "INSERT INTO temp.main.");
	pl_buf_put_ident(&q, d->stage);
	/* a row the transaction inserted has no row id of the table yet: its new version gets one
	 * at COMMIT, as the rows inserted with it */
	pl_buf_printf(&q, " SELECT * EXCLUDE (__planar_file, __planar_pos, __planar_rowid), CASE WHEN __planar_rowid < "
			  "%lld THEN __planar_rowid END FROM temp.main.",
		      (long long)PL_TXN_ROW_ID_BASE);
	pl_buf_put_ident(&q, from);
	if (rc == 0)
		rc = exec_buf(d, &q, err);
	bool inlined = false;
	if (rc == 0 && d->req->may_inline)
		rc = inline_new_versions(d, &inlined, err);
	if (rc || inlined) {
		pl_buf_dispose(&q);
		return rc;
	}
	pl_buf_truncate(&q, 0);
	pl_buf_puts(&q, "SELECT * FROM temp.main.");
	pl_buf_put_ident(&q, d->stage);
	int64_t rows = 0;
	pl_partition_write part = {0};
	pl_write_request req = {.con = d->ctx->con, .source_sql = q.ptr, .dir = d->table->dir,
				.columns = {NULL, 0, d->table}, .table_ref = d->table->id,
				.target_file_size = PL_DEFAULT_TARGET_FILE_SIZE, .with_row_ids = true, .partition = &part};
	if (rc == 0)
		rc = pl_partition_write_plan(d->table, &part, err);
	if (rc == 0)
		rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_table_write_sizes(d->ctx, d->table, &req, err);
	if (rc == 0)
		rc = pl_writer_write(&req, &d->txn, &rows, err);
	pl_partition_write_dispose(&part);
	pl_buf_dispose(&q);
	return rc;
}

int pl_dml_returning_sql(const pl_dml *d, pl_text list, pl_buf *out, pl_err *err)
{
	pl_buf_puts(out, "SELECT ");
	put_text(out, list);
	/* an UPDATE that matched no row has no staged rows: its (empty) matches give the columns */
	bool staged = d->req->update && d->stage[0];
	pl_buf_puts(out, " FROM (SELECT * EXCLUDE (");
	pl_buf_puts(out, staged ? "_ducklake_internal_row_id" : HIDDEN_COLUMNS);
	pl_buf_puts(out, ") FROM temp.main.");
	pl_buf_put_ident(out, staged ? d->stage : d->match);
	pl_buf_puts(out, ") AS ");
	pl_buf_put_ident(out, d->req->alias);
	return pl_buf_oom(out) ? pl_err_nomem(err) : 0;
}

static int64_t match_count(dml *d, pl_err *err, int *rc)
{
	pl_buf q = PL_BUF_INIT;
	char *v = NULL;
	pl_buf_puts(&q, "SELECT count(*) FROM temp.main.");
	pl_buf_put_ident(&q, d->match);
	*rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query_value(d->ctx->con, q.ptr, &v, err);
	pl_buf_dispose(&q);
	int64_t n = v ? strtoll(v, NULL, 10) : 0;
	free(v);
	return n;
}

/* The table's columns, comma-separated. */
static void put_columns(dml *d, pl_buf *q)
{
	for (size_t c = 0; c < d->table->ntop; c++) {
		if (c)
			pl_buf_puts(q, ", ");
		pl_buf_put_ident(q, d->table->top[c]->name);
	}
}

static int64_t count_of(dml *d, const char *sql, pl_err *err, int *rc)
{
	char *v = NULL;
	*rc = pl_engine_query_value(d->ctx->con, sql, &v, err);
	int64_t n = v ? strtoll(v, NULL, 10) : 0;
	free(v);
	return n;
}

/* An error about the copy reads as one about the table. */
static void name_table_in_error(dml *d, pl_err *err)
{
	char *at = strstr(err->msg, d->copy);
	if (!at)
		return;
	pl_buf b = PL_BUF_INIT;
	pl_buf_put(&b, err->msg, (size_t)(at - err->msg));
	pl_buf_puts(&b, d->table->name);
	pl_buf_puts(&b, at + strlen(d->copy));
	if (!pl_buf_oom(&b))
		snprintf(err->msg, sizeof(err->msg), "%s", b.ptr);
	pl_buf_dispose(&b);
}

/* MERGE INTO (see pl_dml_plan). */
static int plan_merge(dml *d, int64_t *count, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	pl_table_temp_name(d->ctx, "merge", d->copy);
	pl_buf_puts(&q, "CREATE TEMP TABLE ");
	pl_buf_put_ident(&q, d->copy);
	pl_buf_putc(&q, ' ');
	int rc = pl_columns_table_def(&q, d->table, err);
	if (rc == 0) {
		pl_buf_insert_before_last(&q, ", __planar_file BIGINT, __planar_pos BIGINT, __planar_rowid BIGINT, "
					      "__planar_upd BOOLEAN");
		rc = exec_buf(d, &q, err);
	}
	d->have_copy = rc == 0;
	pl_buf_truncate(&q, 0);
	pl_buf_puts(&q, "INSERT INTO temp.main.");
	pl_buf_put_ident(&q, d->copy);
	pl_buf_puts(&q, " SELECT ");
	put_columns(d, &q);
	pl_buf_puts(&q, ", " HIDDEN_COLUMNS ", NULL FROM temp.main.");
	pl_buf_put_ident(&q, d->view);
	if (rc == 0)
		rc = exec_matching(d, &q, err);
	/* the positions before the merge */
	pl_table_temp_name(d->ctx, "pos", d->pos);
	pl_buf_truncate(&q, 0);
	pl_buf_puts(&q, "CREATE TEMP TABLE ");
	pl_buf_put_ident(&q, d->pos);
	pl_buf_puts(&q, " AS SELECT __planar_file, __planar_pos FROM temp.main.");
	pl_buf_put_ident(&q, d->copy);
	if (rc == 0)
		rc = exec_buf(d, &q, err);
	d->have_pos = rc == 0;
	pl_buf_truncate(&q, 0);
	if (d->req->cte) {
		pl_buf_puts(&q, d->req->cte);
		pl_buf_putc(&q, ' ');
	}
	pl_buf_puts(&q, "MERGE INTO temp.main.");
	pl_buf_put_ident(&q, d->copy);
	pl_buf_puts(&q, " AS ");
	pl_buf_put_ident(&q, d->req->alias);
	pl_buf_putc(&q, ' ');
	pl_buf_puts(&q, d->req->merge);
	if (rc == 0) {
		rc = exec_matching(d, &q, err);
		if (rc)
			name_table_in_error(d, err);
	}
	/* positions to delete: rows gone from the copy, and the old versions of updated rows */
	pl_table_temp_name(d->ctx, "match", d->match);
	pl_buf_truncate(&q, 0);
	pl_buf_puts(&q, "CREATE TEMP TABLE ");
	pl_buf_put_ident(&q, d->match);
	pl_buf_puts(&q, " AS SELECT p.__planar_file, p.__planar_pos FROM temp.main.");
	pl_buf_put_ident(&q, d->pos);
	pl_buf_puts(&q, " AS p ANTI JOIN temp.main.");
	pl_buf_put_ident(&q, d->copy);
	pl_buf_puts(&q, " AS c ON p.__planar_file = c.__planar_file AND p.__planar_pos = c.__planar_pos "
			 "UNION ALL SELECT __planar_file, __planar_pos FROM temp.main.");
	pl_buf_put_ident(&q, d->copy);
	pl_buf_puts(&q, " WHERE __planar_upd AND __planar_file IS NOT NULL");
	if (rc == 0)
		rc = exec_buf(d, &q, err);
	d->have_match = rc == 0;
	pl_table_temp_name(d->ctx, "updated", d->updated);
	pl_buf_truncate(&q, 0);
	pl_buf_puts(&q, "CREATE TEMP TABLE ");
	pl_buf_put_ident(&q, d->updated);
	pl_buf_puts(&q, " AS SELECT ");
	put_columns(d, &q);
	pl_buf_puts(&q, ", " HIDDEN_COLUMNS " FROM temp.main.");
	pl_buf_put_ident(&q, d->copy);
	pl_buf_puts(&q, " WHERE __planar_upd AND __planar_file IS NOT NULL");
	if (rc == 0)
		rc = exec_buf(d, &q, err);
	d->have_updated = rc == 0;
	int64_t deleted = 0, updated = 0, inserted = 0;
	if (rc == 0)
		deleted = match_count(d, err, &rc);
	pl_buf_truncate(&q, 0);
	pl_buf_puts(&q, "SELECT count(*) FROM temp.main.");
	pl_buf_put_ident(&q, d->updated);
	if (rc == 0)
		updated = pl_buf_oom(&q) ? (rc = pl_err_nomem(err), 0) : count_of(d, q.ptr, err, &rc);
	if (rc == 0 && deleted > 0)
		rc = plan_deletes(d, err);
	if (rc == 0 && updated > 0)
		rc = write_new_versions(d, d->updated, err);
	/* the inserted rows: no file of the table (written as files, as DuckLake's MERGE does) */
	pl_buf_truncate(&q, 0);
	pl_buf_puts(&q, "SELECT ");
	put_columns(d, &q);
	pl_buf_puts(&q, " FROM temp.main.");
	pl_buf_put_ident(&q, d->copy);
	pl_buf_puts(&q, " WHERE __planar_file IS NULL");
	if (rc == 0)
		rc = pl_buf_oom(&q) ? pl_err_nomem(err)
				    : pl_insert_write_rows(d->ctx, d->table, q.ptr, -1, false, false, &d->txn,
							   &inserted, err);
	pl_buf_dispose(&q);
	*count = deleted + inserted; /* an updated row's old version is among the deleted */
	return rc;
}

static int plan(dml *d, duckdb_result *explained, bool *have_explained, int64_t *count, pl_err *err)
{
	const pl_dml_request *req = d->req;
	int rc = create_view(d, err);
	if (rc == 0 && req->merge)
		return plan_merge(d, count, err);
	if (rc == 0 && req->update)
		rc = check_set_columns(d, err);
	if (rc == 0 && two_pass_update(d))
		rc = collect_positions(d, err);
	if (rc == 0)
		rc = collect_matches(d, explained, have_explained, err);
	if (rc || req->explain == PL_DML_EXPLAIN)
		return rc;
	int64_t n = match_count(d, err, &rc);
	if (rc == 0 && n > 0)
		rc = plan_deletes(d, err);
	if (rc == 0 && n > 0 && req->update)
		rc = write_new_versions(d, d->match, err);
	*count = n;
	return rc;
}

int pl_dml_plan(pl_dml *d, const pl_table_ctx *ctx, const pl_model *model, const pl_table *table,
		const pl_dml_request *req, duckdb_result *explained, bool *have_explained, int64_t *count, pl_err *err)
{
	memset(d, 0, sizeof(*d));
	d->ctx = ctx;
	d->req = req;
	d->model = model;
	d->table = table;
	*have_explained = false;
	*count = 0;
	int rc = plan(d, explained, have_explained, count, err);
	/* a concurrent cleanup may have taken files it read */
	return rc ? pl_table_read_failed(ctx, model->snapshot_id, rc, err) : 0;
}

static void drop_temp(dml *d, const char *kind, const char *name, bool have)
{
	if (have)
		pl_table_drop_temp(d->ctx, kind, name);
}

void pl_dml_dispose(pl_dml *d)
{
	if (!d->ctx)
		return;
	drop_temp(d, "TABLE", d->stage, d->have_stage);
	drop_temp(d, "TABLE", d->match, d->have_match);
	drop_temp(d, "VIEW", d->view, d->have_view);
	drop_temp(d, "TABLE", d->pos, d->have_pos);
	drop_temp(d, "TABLE", d->pos2, d->have_pos2);
	drop_temp(d, "VIEW", d->rows_view, d->have_rows_view);
	drop_temp(d, "TABLE", d->updated, d->have_updated);
	drop_temp(d, "TABLE", d->copy, d->have_copy);
	pl_txn_dispose(&d->txn);
}
