/*
 * rowid.c -- the `rowid` and `snapshot_id` pseudo-columns of lake tables (DuckLake row lineage):
 * in a statement that names them, each lake table read in a FROM clause becomes a temporary view
 * that also carries the row id (as __planar_rowid) and the snapshot that inserted the row (as
 * __planar_snapshot: its data file's or inlined row's begin snapshot, NULL for rows the session's
 * open transaction wrote), references point to them, and `*` leaves them out, so
 * `SELECT rowid, snapshot_id, * FROM lake.t` reads as it does in DuckDB's ducklake extension.
 * `snapshot_id` is left alone in statements that name a ducklake_ function or table (their own
 * snapshot_id columns). DuckLake's virtual columns `file_row_number` and `filename` (a row's
 * position in its data file, the file's path; NULL for inlined rows) come the same way, unless
 * the statement reads files itself. DELETE and UPDATE read rowid of their target from the scan of the
 * statement (dml.c).
 */
#include "sql/rowid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/str.h"
#include "sql/lake.h"
#include "table/scan.h"

static bool mentions(const pl_toks *t, const char *word)
{
	for (size_t i = 0; i < t->len; i++)
		if (pl_tok_is(t, i, word))
			return true;
	return false;
}

/* snapshot_id means the pseudo-column: named, and no ducklake_ function or table is. */
static bool wants_snapshot_id(const pl_toks *t)
{
	if (!mentions(t, "snapshot_id"))
		return false;
	for (size_t i = 0; i < t->len; i++) {
		char *w = t->items[i].kind == PL_TOK_WORD || t->items[i].kind == PL_TOK_QIDENT ? pl_tok_ident(t, i) : NULL;
		bool catalog = w && (strncmp(w, "ducklake_", 9) == 0 || strncmp(w, "__ducklake", 10) == 0);
		free(w);
		if (catalog)
			return false;
	}
	return true;
}

/* A lake table named at token i in FROM position: its name range and the table. */
static bool lake_table_at(planar_conn *conn, const pl_toks *t, size_t i, size_t *end, pl_target *tgt,
			  const pl_table **table)
{
	memset(tgt, 0, sizeof(*tgt)); /* disposed below whatever fails */
	if (i == 0 || !(pl_tok_is(t, i - 1, "FROM") || pl_tok_is(t, i - 1, "JOIN") || pl_tok_is_punct(t, i - 1, ",")))
		return false;
	char *parts[3] = {0};
	size_t n = 0, j = i;
	pl_err ignored;
	pl_stmt st = {conn, t->src, *t, NULL, PL_EXPLAIN_NONE, NULL};
	bool ok = pl_parse_qname(t, &j, parts, &n, &ignored) == 0 && !pl_tok_is_punct(t, j, "(") &&
		  pl_resolve_target(&st, parts, n, tgt, &ignored) == 0 && tgt->lake;
	for (size_t k = 0; k < n; k++)
		free(parts[k]);
	const pl_schema *s = ok ? pl_model_schema(tgt->lake->model, tgt->schema) : NULL;
	*table = s ? pl_model_table(tgt->lake->model, s->id, tgt->name) : NULL;
	if (!*table) {
		pl_target_dispose(tgt);
		return false;
	}
	*end = j;
	return true;
}

/* Whether a lake table the statement reads has a column of that name: a real column wins over
 * the pseudo-column, as in DuckDB's ducklake extension. */
static bool table_has_column(planar_conn *conn, const pl_toks *t, const char *name)
{
	for (size_t i = 0; i < t->len; i++) {
		size_t end = i;
		pl_target tgt;
		const pl_table *table = NULL;
		if (!lake_table_at(conn, t, i, &end, &tgt, &table))
			continue;
		bool has = false;
		for (size_t k = 0; k < table->ntop && !has; k++)
			has = strcasecmp(table->top[k]->name, name) == 0;
		pl_target_dispose(&tgt);
		if (has)
			return true;
	}
	return false;
}

/* file_row_number and filename mean DuckLake's virtual columns of a table read from files,
 * unless the statement also reads files itself (read_parquet(..., filename = true) and the like:
 * their own columns of those names). */
static bool wants_file_columns(const pl_toks *t)
{
	if (!mentions(t, "file_row_number") && !mentions(t, "filename"))
		return false;
	for (size_t i = 0; i < t->len; i++) {
		char *w = t->items[i].kind == PL_TOK_WORD || t->items[i].kind == PL_TOK_QIDENT ? pl_tok_ident(t, i) : NULL;
		bool reader = w && (strncasecmp(w, "read_", 5) == 0 || strncasecmp(w, "parquet_", 8) == 0 ||
				    strcasecmp(w, "glob") == 0 || strcasecmp(w, "COPY") == 0);
		free(w);
		if (reader)
			return false;
	}
	return true;
}

bool pl_rowid_wanted(const pl_toks *t)
{
	bool dml = t->len > 0 && (pl_tok_is(t, 0, "DELETE") || pl_tok_is(t, 0, "UPDATE"));
	return (mentions(t, "rowid") && !dml) || wants_snapshot_id(t) || (wants_file_columns(t) && !dml);
}

static int create_rowid_view(planar_conn *conn, pl_target *tgt, const pl_table *t, const char *view, pl_err *err)
{
	return pl_rowid_view(conn, tgt->lake->name, tgt->lake->model, t, view, err);
}

int pl_rowid_view(planar_conn *conn, const char *lake, const pl_model *m, const pl_table *t, const char *view,
		  pl_err *err)
{
	int rc = pl_model_table_files(m, t, NULL, NULL, err); /* (loaded on first use) */
	if (rc)
		return rc;
	pl_buf q = PL_BUF_INIT;
	pl_buf_puts(&q, "CREATE OR REPLACE TEMP VIEW ");
	pl_buf_put_ident(&q, view);
	/* a row's snapshot: the one it carries (flushed and inlined rows), else its committed file's
	 * begin snapshot, looked up by the file's index (no join: the rows keep the scan's order) */
	pl_buf_puts(&q, " AS SELECT v.* EXCLUDE (__planar_file, __planar_pos, __planar_snap), coalesce(v.__planar_snap, "
			 "CASE WHEN v.__planar_file >= 0 THEN (CAST([NULL");
	for (size_t i = 0; i < t->nfiles; i++) {
		if (t->files[i].id < PL_LOCAL_ID_BASE)
			pl_buf_printf(&q, ", %lld", (long long)t->files[i].begin_snapshot);
		else
			pl_buf_puts(&q, ", NULL");
	}
	pl_buf_puts(&q, "] AS BIGINT[]))[v.__planar_file + 2] END) AS __planar_snapshot, ");
	/* DuckLake's virtual columns of rows read from files: the row's position in its data file
	 * and the file's path (NULL for rows kept in the catalog) */
	pl_buf_puts(&q, "CASE WHEN v.__planar_file >= 0 THEN v.__planar_pos END AS __planar_file_row_number, "
			 "CASE WHEN v.__planar_file >= 0 THEN (CAST([NULL");
	for (size_t i = 0; i < t->nfiles; i++) {
		pl_buf_puts(&q, ", ");
		pl_buf_put_literal(&q, t->files[i].path);
	}
	pl_buf_puts(&q, "] AS VARCHAR[]))[v.__planar_file + 2] END AS __planar_filename FROM (");
	char *companion = NULL;
	pl_scan_companion(&conn->db->empty, m, t, &companion);
	rc = pl_scan_positions_snap_sql(&q, lake, m, t, &conn->db->deletes, conn->db->admin, true, companion, err);
	free(companion);
	pl_buf_puts(&q, ") AS v");
	if (rc == 0)
		rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_exec(conn->con, q.ptr, err);
	pl_buf_dispose(&q);
	return rc;
}

static bool is_lineage_view(const pl_toks *t, size_t i)
{
	if (t->items[i].kind != PL_TOK_WORD && t->items[i].kind != PL_TOK_QIDENT)
		return false;
	char *w = pl_tok_ident(t, i);
	bool yes = w && strncmp(w, PL_ROWID_AT_PREFIX, strlen(PL_ROWID_AT_PREFIX)) == 0;
	free(w);
	return yes;
}

static bool star_in_select_list(const pl_toks *t, size_t i)
{
	if (!pl_tok_is_punct(t, i, "*") || i == 0)
		return false;
	return pl_tok_is(t, i - 1, "SELECT") || pl_tok_is(t, i - 1, "DISTINCT") || pl_tok_is_punct(t, i - 1, ",") ||
	       pl_tok_is_punct(t, i - 1, ".");
}

int pl_rowid_rewrite(planar_conn *conn, const pl_toks *t, char **sql_out, pl_strv *views, pl_err *err)
{
	*sql_out = NULL;
	bool snap = wants_snapshot_id(t);
	/* DELETE and UPDATE read rowid of their target from the scan of the statement (dml.c) */
	bool dml = t->len > 0 && (pl_tok_is(t, 0, "DELETE") || pl_tok_is(t, 0, "UPDATE"));
	bool rowid = mentions(t, "rowid") && !dml;
	bool files = wants_file_columns(t) && !dml;
	bool row_number = files && mentions(t, "file_row_number"), filename = files && mentions(t, "filename");
	if (!rowid && !snap && !row_number && !filename)
		return 0;
	if (snap && table_has_column(conn, t, "snapshot_id"))
		snap = false;
	if (rowid && table_has_column(conn, t, "rowid"))
		rowid = false;
	if (row_number && table_has_column(conn, t, "file_row_number"))
		row_number = false;
	if (filename && table_has_column(conn, t, "filename"))
		filename = false;
	if (!rowid && !snap && !row_number && !filename)
		return 0;
	pl_buf out = PL_BUF_INIT;
	size_t copied = 0, made = 0;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < t->len; i++) {
		size_t end = i;
		pl_target tgt;
		const pl_table *table = NULL;
		const char *replacement = NULL;
		char view[64];
		if (rowid && pl_tok_is(t, i, "rowid") && !(i > 0 && pl_tok_is(t, i - 1, "AS"))) {
			/* a bare select-list item keeps its name */
			bool item = i > 0 && (pl_tok_is(t, i - 1, "SELECT") || pl_tok_is_punct(t, i - 1, ",")) &&
				    (i + 1 == t->len || pl_tok_is_punct(t, i + 1, ",") || pl_tok_is(t, i + 1, "FROM"));
			replacement = item ? "__planar_rowid AS rowid" : "__planar_rowid";
			end = i + 1;
		} else if (snap && pl_tok_is(t, i, "snapshot_id") && !(i > 0 && pl_tok_is(t, i - 1, "AS"))) {
			bool item = i > 0 && (pl_tok_is(t, i - 1, "SELECT") || pl_tok_is_punct(t, i - 1, ",")) &&
				    (i + 1 == t->len || pl_tok_is_punct(t, i + 1, ",") || pl_tok_is(t, i + 1, "FROM"));
			replacement = item ? "__planar_snapshot AS snapshot_id" : "__planar_snapshot";
			end = i + 1;
		} else if ((row_number && pl_tok_is(t, i, "file_row_number")) || (filename && pl_tok_is(t, i, "filename"))) {
			if (i > 0 && pl_tok_is(t, i - 1, "AS"))
				continue;
			bool rn = pl_tok_is(t, i, "file_row_number");
			bool item = i > 0 && (pl_tok_is(t, i - 1, "SELECT") || pl_tok_is_punct(t, i - 1, ",")) &&
				    (i + 1 == t->len || pl_tok_is_punct(t, i + 1, ",") || pl_tok_is(t, i + 1, "FROM"));
			replacement = rn ? (item ? "__planar_file_row_number AS file_row_number" : "__planar_file_row_number")
					 : (item ? "__planar_filename AS filename" : "__planar_filename");
			end = i + 1;
		} else if (is_lineage_view(t, i)) {
			made++; /* a time travel view with the pseudo-columns (sql/timetravel.c) */
			continue;
		} else if (star_in_select_list(t, i)) {
			replacement = "* EXCLUDE (__planar_rowid, __planar_snapshot, __planar_file_row_number, "
				      "__planar_filename)";
			end = i + 1;
		} else if (lake_table_at(conn, t, i, &end, &tgt, &table)) {
			snprintf(view, sizeof(view), "__planar_rowid_%lu", ++conn->tmp_seq);
			rc = create_rowid_view(conn, &tgt, table, view, err);
			if (rc == 0)
				rc = pl_strv_push(views, view) ? pl_err_nomem(err) : 0;
			pl_buf_put(&out, t->src + copied, t->items[i].start - copied);
			pl_buf_puts(&out, "temp.main.");
			pl_buf_put_ident(&out, view);
			if (!pl_tok_has_alias(t, end)) {
				pl_buf_puts(&out, " AS ");
				pl_buf_put_ident(&out, table->name);
			}
			pl_target_dispose(&tgt);
			copied = t->items[end - 1].start + t->items[end - 1].len;
			made++;
			i = end - 1;
			continue;
		}
		if (!replacement)
			continue;
		pl_buf_put(&out, t->src + copied, t->items[i].start - copied);
		pl_buf_puts(&out, replacement);
		copied = t->items[end - 1].start + t->items[end - 1].len;
	}
	return pl_rewrite_finish(&out, t, copied, rc == 0 && made > 0, rc, sql_out, err);
}
