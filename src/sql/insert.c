/*
 * insert.c -- INSERT INTO a lake table, committed as one snapshot. Most statements stream: one
 * SELECT yields the rows DuckDB's INSERT would store (insert_plan.c) and is copied straight into
 * Parquet files. The rest (RETURNING, ON CONFLICT, EXPLAIN, statements DuckDB rejects) run
 * unchanged against a temporary table with the lake table's columns, whose rows then become
 * Parquet files.
 */
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "sql/insert.h"
#include "sql/lake.h"
#include "sql/router.h"
#include "table/columns.h"
#include "table/writer.h"

static int create_staging(pl_stmt *st, const pl_table *t, const char *tmp, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	pl_buf_puts(&q, "CREATE TEMP TABLE ");
	pl_buf_put_ident(&q, tmp);
	pl_buf_putc(&q, ' ');
	int rc = pl_columns_table_def(&q, t, err);
	if (rc == 0)
		rc = pl_engine_exec(st->conn->con, q.ptr, err);
	pl_buf_dispose(&q);
	return rc;
}

/* The user's statement with the target name replaced by the staging table. */
static int run_rewritten(pl_stmt *st, size_t name_from, size_t name_to, const char *tmp,
			 planar_result **out, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	size_t a = st->toks.items[name_from].start;
	if (st->explain != PL_EXPLAIN_NONE)
		pl_buf_puts(&q, st->explain == PL_EXPLAIN_ANALYZE ? "EXPLAIN ANALYZE " : "EXPLAIN ");
	if (st->cte) {
		pl_buf_puts(&q, st->cte);
		pl_buf_putc(&q, ' ');
	}
	size_t b = st->toks.items[name_to - 1].start + st->toks.items[name_to - 1].len;
	pl_buf_put(&q, st->sql, a);
	pl_buf_puts(&q, "temp.main.");
	pl_buf_put_ident(&q, tmp);
	pl_buf_puts(&q, st->sql + b);
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_result_from_sql(out, st->conn, q.ptr, err);
	pl_buf_dispose(&q);
	return rc;
}

/* Writes the rows of `source` (a SELECT in table column order) and commits them. */
static int write_and_commit(pl_stmt *st, pl_lake *lake, const pl_table *t, const char *source, int64_t *rows_out,
			    pl_err *err)
{
	pl_txn txn = {0};
	int64_t rows = 0, base = lake->model->snapshot_id;
	char *dir = pl_strdup(t->dir);
	pl_new_column *cols = NULL;
	size_t ncols = 0;
	int rc = !dir ? pl_err_nomem(err) : pl_columns_copy(t, &cols, &ncols, err);
	pl_write_request req = {st->conn->con, source, dir, {cols, ncols, NULL}, t->id, PL_DEFAULT_TARGET_FILE_SIZE,
				false, 0};
	if (rc == 0)
		rc = pl_lake_write_sizes(lake, t, &req, err);
	/* a statement of its own commits at once: its files sync while the catalog rows go in */
	bool own_commit = !st->conn->in_txn;
	/* the files are written without holding the lakes: t may change under us from here on */
	bool released = rc == 0 && pl_lake_release_for_io(lake, st->conn);
	if (rc == 0)
		rc = own_commit ? pl_writer_write_deferred(&req, &txn, &rows, err) : pl_writer_write(&req, &txn, &rows, err);
	pl_lake_reacquire(lake, st->conn, released);
	if (rc == 0 && txn.nfiles > 0)
		rc = pl_lake_commit_from(lake, st->conn, &txn, base, err);
	if (rc)
		pl_txn_remove_written(&txn);
	pl_txn_dispose(&txn);
	if (cols)
		pl_columns_free(cols, ncols);
	free(dir);
	*rows_out = rows;
	return rc;
}

/* The staging path: DuckDB runs the statement into a temporary table, whose rows are written. */
static int insert_staged(pl_stmt *st, size_t name_at, size_t after, pl_lake *lake, const pl_table *t,
			 planar_result **res, pl_err *err)
{
	char tmp[64];
	pl_buf src = PL_BUF_INIT;
	int64_t rows = 0;
	pl_stmt_temp_name(st, "ins", tmp);
	int rc = create_staging(st, t, tmp, err);
	bool created = rc == 0;
	if (rc == 0 && (rc = run_rewritten(st, name_at, after, tmp, res, err)) != 0)
		pl_err_replace(err, tmp, t->name); /* DuckDB names the staging table */
	pl_buf_puts(&src, "SELECT * FROM temp.main.");
	pl_buf_put_ident(&src, tmp);
	if (rc == 0 && pl_buf_oom(&src))
		rc = pl_err_nomem(err);
	if (rc == 0 && st->explain != PL_EXPLAIN_PLAN) /* EXPLAIN alone writes nothing */
		rc = write_and_commit(st, lake, t, src.ptr, &rows, err);
	if (created) {
		pl_buf q = PL_BUF_INIT;
		pl_err ignored;
		pl_buf_puts(&q, "DROP TABLE IF EXISTS temp.main.");
		pl_buf_put_ident(&q, tmp);
		if (!pl_buf_oom(&q))
			pl_engine_exec(st->conn->con, q.ptr, &ignored);
		pl_buf_dispose(&q);
	}
	pl_buf_dispose(&src);
	return rc;
}

/* The streaming path; *streamed false when the statement needs the staging path. */
static int insert_streamed(pl_stmt *st, size_t after, pl_lake *lake, const pl_table *t, int64_t *rows,
			   bool *streamed, pl_err *err)
{
	pl_buf select = PL_BUF_INIT;
	int rc = pl_insert_stream_select(st, after, t, &select, streamed, err);
	if (rc == 0 && *streamed) {
		rc = write_and_commit(st, lake, t, select.ptr, rows, err);
		if (rc)
			pl_insert_fix_error(err);
	}
	pl_buf_dispose(&select);
	return rc;
}

int pl_handle_insert(pl_stmt *st, size_t name_at, planar_result **out, pl_err *err)
{
	char *parts[3] = {0};
	size_t n = 0, after = name_at;
	pl_target tgt = {0};
	planar_result *res = NULL;
	int rc = pl_parse_qname(&st->toks, &after, parts, &n, err);
	if (rc == 0)
		rc = pl_resolve_target(st, parts, n, &tgt, err);
	for (size_t k = 0; k < n; k++)
		free(parts[k]);
	if (rc)
		return rc;
	pl_lake *lake = tgt.lake;
	const pl_schema *s = pl_model_schema(lake->model, tgt.schema);
	const pl_table *t = s ? pl_model_table(lake->model, s->id, tgt.name) : NULL;
	rc = pl_lake_check_writable(lake, err);
	if (rc == 0 && !t)
		rc = pl_err_set(err, PL_ENOTFOUND, "Catalog Error: Table with name %s does not exist!", tgt.name);
	bool streamed = false;
	int64_t count = 0;
	if (rc == 0)
		rc = insert_streamed(st, after, lake, t, &count, &streamed, err);
	if (rc == 0 && streamed)
		rc = pl_stmt_count_result(st, count, &res, err);
	else if (rc == 0)
		rc = insert_staged(st, name_at, after, lake, t, &res, err);
	pl_target_dispose(&tgt);
	if (rc) {
		planar_result_free(res);
		return rc;
	}
	*out = res;
	return 0;
}
