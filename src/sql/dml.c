/*
 * dml.c -- DELETE, UPDATE and TRUNCATE on lake tables.
 *
 * DuckDB evaluates the user's own WHERE / USING / FROM / SET / RETURNING text against a
 * temporary view of the table that also carries each row's data file, position and row id.
 * The matching rows are collected in a temporary table; their positions become delete files
 * (or end whole data files, or end inlined rows) and, for UPDATE, the new row versions become
 * data files that keep the rows' ids. Everything commits as one snapshot.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "sql/lake.h"
#include "sql/router.h"
#include "table/columns.h"
#include "table/deletes.h"
#include "table/scan.h"
#include "table/writer.h"

#define HIDDEN_COLUMNS "__planar_file, __planar_pos, __planar_rowid"

typedef struct dml {
	pl_stmt *st;
	bool update;
	pl_target tgt;
	pl_model *model;  /* the lake's model when the statement began, held for the whole statement */
	const pl_table *table; /* in model */
	char *alias;
	size_t name_from, name_to;          /* target name tokens */
	size_t set_from, set_to;            /* UPDATE assignments */
	size_t from_from, from_to;          /* USING / FROM list */
	size_t where_from, where_to;        /* WHERE condition */
	size_t ret_from;                    /* RETURNING list (ret_from == len: none) */
	char view[64], match[64], stage[64], pos[64], pos2[64], rows_view[64];
	bool have_view, have_match, have_stage, have_pos, have_pos2, have_rows_view;
	pl_txn txn;
} dml;

/* First depth-0 occurrence of kw at or after i, else t->len. */
static size_t find_top(const pl_toks *t, size_t i, const char *kw)
{
	int depth = 0;
	for (; i < t->len; i++) {
		if (pl_tok_is_punct(t, i, "("))
			depth++;
		else if (pl_tok_is_punct(t, i, ")"))
			depth--;
		else if (depth == 0 && pl_tok_is(t, i, kw))
			return i;
	}
	return t->len;
}

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

static void put_span(pl_buf *b, const pl_toks *t, size_t from, size_t to)
{
	if (from >= to)
		return;
	size_t a = t->items[from].start, e = t->items[to - 1].start + t->items[to - 1].len;
	pl_buf_put(b, t->src + a, e - a);
}

static bool is_clause_word(const pl_toks *t, size_t i)
{
	static const char *const words[] = {"USING", "WHERE", "RETURNING", "SET", "FROM", NULL};
	for (const char *const *w = words; *w; w++)
		if (pl_tok_is(t, i, *w))
			return true;
	return false;
}

/* Parses the clauses after the target name; fills the token ranges. */
static int parse_clauses(dml *d, size_t i, pl_err *err)
{
	const pl_toks *t = &d->st->toks;
	bool as = pl_tok_is(t, i, "AS");
	if (as)
		i++;
	bool ident = i < t->len && (t->items[i].kind == PL_TOK_WORD || t->items[i].kind == PL_TOK_QIDENT);
	if (as && !ident)
		return pl_err_set(err, PL_EINVALID, "syntax error: AS needs an alias");
	if (ident && (as || !is_clause_word(t, i))) {
		if (!(d->alias = pl_tok_ident(t, i)))
			return pl_err_nomem(err);
		i++;
	}
	d->ret_from = find_top(t, i, "RETURNING");
	d->where_from = find_top(t, i, "WHERE");
	if (d->where_from > d->ret_from)
		d->where_from = t->len;
	d->where_to = d->ret_from;
	const char *list_kw = d->update ? "FROM" : "USING";
	size_t stop = min_size(d->where_from, d->ret_from);
	size_t set = d->update ? find_top(t, i, "SET") : i;
	if (d->update && set != i)
		return pl_err_set(err, PL_EINVALID, "syntax error: UPDATE needs SET after the table name");
	size_t list = find_top(t, d->update ? set : i, list_kw);
	if (list > stop)
		list = stop;
	d->set_from = set + 1;
	d->set_to = list;
	d->from_from = list < stop ? list + 1 : stop;
	d->from_to = stop;
	if (!d->update && list != i && list != stop)
		return pl_err_set(err, PL_EINVALID, "syntax error near \"%.*s\"", (int)t->items[i].len,
				  t->src + t->items[i].start);
	if (d->where_from < t->len)
		d->where_from++;
	return 0;
}

static int resolve(dml *d, size_t name_at, pl_err *err)
{
	char *parts[3] = {0};
	size_t n = 0, i = name_at;
	d->name_from = name_at;
	int rc = pl_parse_qname(&d->st->toks, &i, parts, &n, err);
	d->name_to = i;
	if (rc == 0)
		rc = pl_resolve_target(d->st, parts, n, &d->tgt, err);
	for (size_t k = 0; k < n; k++)
		free(parts[k]);
	if (rc)
		return rc;
	rc = pl_lake_check_writable(d->tgt.lake, err);
	d->model = pl_model_ref(d->tgt.lake->model);
	const pl_schema *s = pl_model_schema(d->model, d->tgt.schema);
	d->table = s ? pl_model_table(d->model, s->id, d->tgt.name) : NULL;
	if (rc == 0 && !d->table)
		rc = pl_err_set(err, PL_ENOTFOUND, "Catalog Error: Table with name %s does not exist!", d->tgt.name);
	if (rc == 0)
		rc = parse_clauses(d, i, err);
	if (rc == 0 && !d->alias && !(d->alias = pl_strdup(d->tgt.name)))
		rc = pl_err_nomem(err);
	return rc;
}

static int exec_buf(dml *d, pl_buf *q, pl_err *err)
{
	return pl_buf_oom(q) ? pl_err_nomem(err) : pl_engine_exec(d->st->conn->con, q->ptr, err);
}

/* exec_buf for the long part, finding the rows: outside a transaction other sessions go on
 * meanwhile (the statement keeps its own reference to the model it planned on). */
static int exec_matching(dml *d, pl_buf *q, pl_err *err)
{
	bool released = pl_lake_release_for_io(d->tgt.lake, d->st->conn);
	int rc = exec_buf(d, q, err);
	pl_lake_reacquire(d->tgt.lake, d->st->conn, released);
	return rc;
}

/* A temporary view of table t's rows with their file, position and row id. */
static int create_positions_view(dml *d, const pl_table *t, char name[64], bool *have, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	pl_stmt_temp_name(d->st, "dml", name);
	pl_buf_puts(&q, "CREATE TEMP VIEW ");
	pl_buf_put_ident(&q, name);
	pl_buf_puts(&q, " AS ");
	int rc = pl_scan_positions_sql(&q, d->tgt.lake->name, d->model, t, &d->st->conn->db->deletes,
				       d->st->conn->db->admin, err);
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
	const pl_toks *t = &d->st->toks;
	size_t i = d->set_from;
	while (i < d->set_to) {
		size_t end = i;
		int depth = 0;
		for (; end < d->set_to; end++) {
			if (pl_tok_is_punct(t, end, "("))
				depth++;
			else if (pl_tok_is_punct(t, end, ")"))
				depth--;
			else if (depth == 0 && pl_tok_is_punct(t, end, ","))
				break;
		}
		if (end - i < 3 || !pl_tok_is_punct(t, i + 1, "="))
			return pl_err_set(err, PL_EINVALID, "syntax error in SET: expected column = expression");
		char *name = pl_tok_ident(t, i);
		bool same = name && pl_str_ieq(name, col);
		free(name);
		if (same) {
			pl_buf_putc(q, '(');
			put_span(q, t, i + 2, end);
			pl_buf_putc(q, ')');
			return 1;
		}
		i = end + 1;
	}
	pl_buf_put_ident(q, d->alias);
	pl_buf_putc(q, '.');
	pl_buf_put_ident(q, col);
	return 0;
}

static int check_set_columns(dml *d, pl_err *err)
{
	const pl_toks *t = &d->st->toks;
	int depth = 0;
	bool expect_name = true;
	for (size_t i = d->set_from; i < d->set_to; i++) {
		if (pl_tok_is_punct(t, i, "("))
			depth++;
		else if (pl_tok_is_punct(t, i, ")"))
			depth--;
		else if (depth == 0 && pl_tok_is_punct(t, i, ","))
			expect_name = true;
		else if (expect_name) {
			expect_name = false;
			char *name = pl_tok_ident(t, i);
			bool found = false;
			for (size_t c = 0; name && c < d->table->ntop; c++)
				found = found || pl_str_ieq(d->table->top[c]->name, name);
			int rc = found ? 0 : name ? pl_err_set(err, PL_EINVALID,
				"Binder Error: Referenced update column %s not found in table!", name) : pl_err_nomem(err);
			free(name);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* UPDATE without a FROM list, run for real: first the matched positions (reading only the
 * WHERE's columns), then the new row versions from the files that hold matches only. */
static bool two_pass_update(const dml *d)
{
	return d->update && d->from_from >= d->from_to && d->st->explain == PL_EXPLAIN_NONE;
}

static void put_from_where(dml *d, pl_buf *q, const char *view)
{
	const pl_toks *t = &d->st->toks;
	pl_buf_puts(q, " FROM temp.main.");
	pl_buf_put_ident(q, view);
	pl_buf_puts(q, " AS ");
	pl_buf_put_ident(q, d->alias);
	if (d->from_from < d->from_to) {
		pl_buf_puts(q, ", ");
		put_span(q, t, d->from_from, d->from_to);
	}
	if (d->where_from < d->where_to) {
		pl_buf_puts(q, " WHERE ");
		put_span(q, t, d->where_from, d->where_to);
	}
}

/* Pass 1 of a two-pass UPDATE: CREATE TEMP TABLE pos AS SELECT file, pos ... WHERE ...; then a
 * view over the files (and inlined tables) that hold matches, and pos2 (__planar_file: the
 * file's index in that view, __planar_orig: in the table, __planar_pos). */
static int collect_positions(dml *d, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	duckdb_result res;
	pl_stmt_temp_name(d->st, "pos", d->pos);
	pl_buf_puts(&q, "CREATE TEMP TABLE ");
	pl_buf_put_ident(&q, d->pos);
	pl_buf_puts(&q, " AS ");
	if (d->st->cte) {
		pl_buf_puts(&q, d->st->cte);
		pl_buf_putc(&q, ' ');
	}
	pl_buf_puts(&q, "SELECT ");
	pl_buf_put_ident(&q, d->alias);
	pl_buf_puts(&q, ".__planar_file, ");
	pl_buf_put_ident(&q, d->alias);
	pl_buf_puts(&q, ".__planar_pos");
	put_from_where(d, &q, d->view);
	int rc = exec_matching(d, &q, err);
	d->have_pos = rc == 0;
	pl_buf_truncate(&q, 0);
	pl_buf_puts(&q, "SELECT DISTINCT __planar_file FROM temp.main.");
	pl_buf_put_ident(&q, d->pos);
	pl_buf_puts(&q, " WHERE __planar_file >= 0");
	if (rc == 0)
		rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query(d->st->conn->con, q.ptr, &res, err);
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
	pl_stmt_temp_name(d->st, "pos", d->pos2);
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
static int collect_matches(dml *d, planar_result **explained, pl_err *err)
{
	const pl_toks *t = &d->st->toks;
	pl_buf q = PL_BUF_INIT;
	int rc = 0;
	pl_stmt_temp_name(d->st, "match", d->match);
	if (d->st->explain == PL_EXPLAIN_PLAN) {
		pl_buf_puts(&q, "EXPLAIN ");
	} else {
		if (d->st->explain == PL_EXPLAIN_ANALYZE)
			pl_buf_puts(&q, "EXPLAIN ANALYZE ");
		pl_buf_puts(&q, "CREATE TEMP TABLE ");
		pl_buf_put_ident(&q, d->match);
		pl_buf_puts(&q, " AS ");
	}
	if (d->st->cte) {
		pl_buf_puts(&q, d->st->cte);
		pl_buf_putc(&q, ' ');
	}
	pl_buf_puts(&q, "SELECT ");
	if (d->from_from < d->from_to) { /* a join may match a row more than once */
		pl_buf_puts(&q, "DISTINCT ON (");
		pl_buf_put_ident(&q, d->alias);
		pl_buf_puts(&q, ".__planar_file, ");
		pl_buf_put_ident(&q, d->alias);
		pl_buf_puts(&q, ".__planar_pos) ");
	}
	if (!d->update && d->ret_from < t->len) { /* RETURNING: the whole rows */
		pl_buf_put_ident(&q, d->alias);
		pl_buf_puts(&q, ".*");
	} else if (!d->update) { /* only positions: the scan reads just the WHERE's columns */
		pl_buf_put_ident(&q, d->alias);
		pl_buf_puts(&q, ".__planar_file, ");
		pl_buf_put_ident(&q, d->alias);
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
			pl_buf_put_ident(&q, d->alias);
			pl_buf_printf(&q, ".%s", hidden[k]);
		}
	}
	if (two_pass_update(d)) {
		pl_buf_puts(&q, " FROM temp.main.");
		pl_buf_put_ident(&q, d->rows_view);
		pl_buf_puts(&q, " AS ");
		pl_buf_put_ident(&q, d->alias);
		pl_buf_puts(&q, " JOIN temp.main.");
		pl_buf_put_ident(&q, d->pos2);
		pl_buf_puts(&q, " AS __planar_p ON ");
		pl_buf_put_ident(&q, d->alias);
		pl_buf_puts(&q, ".__planar_file = __planar_p.__planar_file AND ");
		pl_buf_put_ident(&q, d->alias);
		pl_buf_puts(&q, ".__planar_pos = __planar_p.__planar_pos");
	} else {
		put_from_where(d, &q, d->view);
	}
	if (d->st->explain == PL_EXPLAIN_NONE) {
		rc = exec_matching(d, &q, err);
	} else {
		rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_result_from_sql(explained, d->st->conn, q.ptr, err);
	}
	d->have_match = rc == 0 && d->st->explain != PL_EXPLAIN_PLAN;
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
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query(d->st->conn->con, q.ptr, &res, err);
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

static int delete_from_file(dml *d, int64_t index, const pl_data_file *f, int64_t count, bool dv, pl_err *err)
{
	if (f->delete_count + count >= f->record_count) { /* every row is gone: end the file */
		pl_ended_file *e = pl_txn_add_ended_file(&d->txn);
		if (!e)
			return pl_err_nomem(err);
		*e = (pl_ended_file){d->table->id, f->id, f->delete_path ? f->delete_id : -1};
		return 0;
	}
	pl_buf q = PL_BUF_INIT;
	pl_buf_puts(&q, "SELECT __planar_pos AS pos FROM temp.main.");
	pl_buf_put_ident(&q, d->match);
	pl_buf_printf(&q, " WHERE __planar_file = %lld", (long long)index);
	pl_new_delete *nd = pl_txn_add_delete(&d->txn);
	pl_delete_request req = {d->st->conn->con, d->model, d->table, f, q.ptr, dv, &d->txn.written};
	int rc = !nd || pl_buf_oom(&q) ? pl_err_nomem(err) : pl_deletes_write(&req, nd, err);
	pl_buf_dispose(&q);
	return rc;
}

static int plan_deletes(dml *d, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	duckdb_result res;
	char *dv_opt = NULL;
	pl_lake_ctx ctx;
	pl_lake_table_ctx(&ctx, d->tgt.lake, d->st->conn);
	int rc = pl_table_option(&ctx.table, d->table, "write_deletion_vectors", &dv_opt, err);
	bool dv = dv_opt && pl_str_ieq(dv_opt, "true");
	free(dv_opt);
	if (rc)
		return rc;
	pl_buf_puts(&q, "SELECT __planar_file, count(*) FROM temp.main.");
	pl_buf_put_ident(&q, d->match);
	pl_buf_puts(&q, " GROUP BY 1 ORDER BY 1");
	rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query(d->st->conn->con, q.ptr, &res, err);
	pl_buf_dispose(&q);
	if (rc)
		return rc;
	const pl_table *t = d->table;
	for (idx_t r = 0; rc == 0 && r < duckdb_row_count(&res); r++) {
		int64_t i = duckdb_value_int64(&res, 0, r), count = duckdb_value_int64(&res, 1, r);
		if (i >= 0 && (size_t)i < t->nfiles)
			rc = delete_from_file(d, i, &t->files[i], count, dv, err);
		else if (i < 0 && (size_t)(-i - 1) < t->ninlined)
			rc = delete_inlined(d, i, t->inlined[-i - 1].name, err);
		else
			rc = pl_err_set(err, PL_ERROR, "internal error: a matched row of no file (%lld)", (long long)i);
	}
	duckdb_destroy_result(&res);
	return rc;
}

/* UPDATE: the new row versions, typed and checked by a staging table, become data files. */
static int write_new_versions(dml *d, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	pl_stmt_temp_name(d->st, "stage", d->stage);
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
	pl_buf_puts(&q, " SELECT * EXCLUDE (__planar_file, __planar_pos) FROM temp.main.");
	pl_buf_put_ident(&q, d->match);
	if (rc == 0)
		rc = exec_buf(d, &q, err);
	pl_buf_truncate(&q, 0);
	pl_buf_puts(&q, "SELECT * FROM temp.main.");
	pl_buf_put_ident(&q, d->stage);
	int64_t rows = 0;
	pl_write_request req = {d->st->conn->con, q.ptr, d->table->dir, {NULL, 0, d->table}, d->table->id,
				PL_DEFAULT_TARGET_FILE_SIZE, true, 0};
	if (rc == 0)
	{
		pl_lake_ctx ctx;
		pl_lake_table_ctx(&ctx, d->tgt.lake, d->st->conn);
		rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_table_write_sizes(&ctx.table, d->table, &req, err);
	}
	if (rc == 0)
		rc = pl_writer_write(&req, &d->txn, &rows, err);
	pl_buf_dispose(&q);
	return rc;
}

static int returning(dml *d, planar_result **out, pl_err *err)
{
	const pl_toks *t = &d->st->toks;
	pl_buf q = PL_BUF_INIT;
	pl_buf_puts(&q, "SELECT ");
	put_span(&q, t, d->ret_from + 1, t->len);
	pl_buf_puts(&q, " FROM (SELECT * EXCLUDE (");
	pl_buf_puts(&q, d->update ? "_ducklake_internal_row_id" : HIDDEN_COLUMNS);
	pl_buf_puts(&q, ") FROM temp.main.");
	pl_buf_put_ident(&q, d->update ? d->stage : d->match);
	pl_buf_puts(&q, ") AS ");
	pl_buf_put_ident(&q, d->alias);
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_result_from_sql(out, d->st->conn, q.ptr, err);
	pl_buf_dispose(&q);
	return rc;
}

static int64_t match_count(dml *d, pl_err *err, int *rc)
{
	pl_buf q = PL_BUF_INIT;
	char *v = NULL;
	pl_buf_puts(&q, "SELECT count(*) FROM temp.main.");
	pl_buf_put_ident(&q, d->match);
	*rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query_value(d->st->conn->con, q.ptr, &v, err);
	pl_buf_dispose(&q);
	int64_t n = v ? strtoll(v, NULL, 10) : 0;
	free(v);
	return n;
}

static void drop_temp(dml *d, const char *kind, const char *name, bool have)
{
	if (!have)
		return;
	pl_buf q = PL_BUF_INIT;
	pl_err ignored;
	pl_buf_printf(&q, "DROP %s IF EXISTS temp.main.", kind);
	pl_buf_put_ident(&q, name);
	if (!pl_buf_oom(&q))
		pl_engine_exec(d->st->conn->con, q.ptr, &ignored);
	pl_buf_dispose(&q);
}

static int run_dml(dml *d, planar_result **out, pl_err *err)
{
	planar_result *explained = NULL;
	int rc = create_view(d, err);
	if (rc == 0 && d->update)
		rc = check_set_columns(d, err);
	if (rc == 0 && two_pass_update(d))
		rc = collect_positions(d, err);
	if (rc == 0)
		rc = collect_matches(d, &explained, err);
	if (rc == 0 && d->st->explain == PL_EXPLAIN_PLAN) {
		*out = explained;
		return 0;
	}
	int64_t n = rc ? 0 : match_count(d, err, &rc);
	if (rc == 0 && n > 0)
		rc = plan_deletes(d, err);
	if (rc == 0 && n > 0 && d->update)
		rc = write_new_versions(d, err);
	if (rc == 0 && n > 0)
		rc = pl_lake_commit_from(d->tgt.lake, d->st->conn, &d->txn, d->model->snapshot_id, err);
	if (rc)
		pl_txn_remove_written(&d->txn);
	if (rc == 0 && explained) {
		*out = explained;
		return 0;
	}
	planar_result_free(explained);
	if (rc == 0)
		rc = d->ret_from < d->st->toks.len ? returning(d, out, err) : pl_stmt_count_result(d->st, n, out, err);
	return rc;
}

static int handle(pl_stmt *st, size_t name_at, bool update, planar_result **out, pl_err *err)
{
	dml d = {0};
	d.st = st;
	d.update = update;
	int rc = resolve(&d, name_at, err);
	/* the table model may be replaced by the commit: keep the directory for cleanup */
	if (rc == 0)
		rc = run_dml(&d, out, err);
	drop_temp(&d, "TABLE", d.stage, d.have_stage);
	drop_temp(&d, "TABLE", d.match, d.have_match);
	drop_temp(&d, "VIEW", d.view, d.have_view);
	drop_temp(&d, "TABLE", d.pos, d.have_pos);
	drop_temp(&d, "TABLE", d.pos2, d.have_pos2);
	drop_temp(&d, "VIEW", d.rows_view, d.have_rows_view);
	pl_txn_dispose(&d.txn);
	pl_model_free(d.model);
	pl_target_dispose(&d.tgt);
	free(d.alias);
	return rc;
}

int pl_handle_delete(pl_stmt *st, size_t name_at, planar_result **out, pl_err *err)
{
	return handle(st, name_at, false, out, err);
}

int pl_handle_update(pl_stmt *st, size_t name_at, planar_result **out, pl_err *err)
{
	return handle(st, name_at, true, out, err);
}
