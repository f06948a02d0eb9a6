/*
 * insert.c -- INSERT INTO a lake table, committed as one snapshot. The statement is read into
 * its source (VALUES rows, a query, DEFAULT VALUES; column list, BY NAME) and handed to the
 * table layer (table/insert.h). Most statements stream: one SELECT yields the rows DuckDB's
 * INSERT would store and is copied straight into Parquet files. The rest (RETURNING, ON
 * CONFLICT, EXPLAIN, statements DuckDB rejects) run unchanged against a temporary table with
 * the lake table's columns, whose rows then become Parquet files.
 */
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "sql/lake.h"
#include "sql/router.h"
#include "table/insert.h"

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

/* Writes the rows of `source` (a SELECT in table column order; known_rows of them, -1 when not
 * known) and commits them; a statement committed on its own may store them in the catalog. */
static int write_and_commit(pl_stmt *st, pl_lake *lake, const pl_table *t, const char *source,
			    const pl_insert_bound *bound, const pl_source_parts *parts, int64_t known_rows, int64_t *rows_out,
			    pl_err *err)
{
	pl_txn txn = {0};
	int64_t base = lake->model->snapshot_id;
	pl_lake_ctx ctx;
	pl_lake_table_ctx(&ctx, lake, st->conn);
	ctx.table.parts = parts;
	/* a statement of its own commits at once: its files sync while the catalog rows go in */
	bool own_commit = !st->conn->in_txn;
	int rc = pl_insert_write_bound(&ctx.table, t, source, bound, known_rows, own_commit, own_commit, &txn, rows_out,
				       err);
	if (rc == 0 && (txn.nfiles > 0 || txn.ninlined_inserts > 0))
		rc = pl_lake_commit_from(lake, st->conn, &txn, base, err);
	if (rc)
		pl_txn_remove_written(&txn);
	pl_txn_dispose(&txn);
	return rc;
}

/* The staging path: DuckDB runs the statement into a temporary table, whose rows are written. */
static int insert_staged(pl_stmt *st, size_t name_at, size_t after, pl_lake *lake, const pl_table *t,
			 planar_result **res, pl_err *err)
{
	char tmp[64];
	pl_buf src = PL_BUF_INIT;
	int64_t rows = 0;
	pl_lake_ctx ctx;
	pl_lake_table_ctx(&ctx, lake, st->conn);
	pl_stmt_temp_name(st, "ins", tmp);
	int rc = pl_insert_create_staging(&ctx.table, t, tmp, err);
	bool created = rc == 0;
	if (rc == 0 && (rc = run_rewritten(st, name_at, after, tmp, res, err)) != 0)
		pl_err_replace(err, tmp, t->name); /* DuckDB names the staging table */
	pl_buf_puts(&src, "SELECT * FROM temp.main.");
	pl_buf_put_ident(&src, tmp);
	if (rc == 0 && pl_buf_oom(&src))
		rc = pl_err_nomem(err);
	if (rc == 0 && st->explain != PL_EXPLAIN_PLAN) /* EXPLAIN alone writes nothing */
		rc = write_and_commit(st, lake, t, src.ptr, NULL, NULL, -1, &rows, err);
	if (created)
		pl_table_drop_temp(&ctx.table, "TABLE", tmp);
	pl_buf_dispose(&src);
	return rc;
}

static bool starts_query(const pl_toks *t, size_t i)
{
	return pl_tok_is(t, i, "SELECT") || pl_tok_is(t, i, "WITH") || pl_tok_is(t, i, "FROM") ||
	       pl_tok_is(t, i, "VALUES") || pl_tok_is_punct(t, i, "(");
}

/* RETURNING, ON CONFLICT (at the top level) and parameters need DuckDB's own INSERT. */
static bool plain_tail(const pl_toks *t, size_t from)
{
	int depth = 0;
	for (size_t i = from; i < t->len; i++) {
		if (t->items[i].kind == PL_TOK_PARAM)
			return false;
		if (pl_tok_is_punct(t, i, "("))
			depth++;
		else if (pl_tok_is_punct(t, i, ")"))
			depth--;
		else if (depth == 0 && (pl_tok_is(t, i, "RETURNING") || (pl_tok_is(t, i, "ON") && pl_tok_is(t, i + 1, "CONFLICT"))))
			return false;
		else if (pl_tok_is_punct(t, i, ";"))
			return false;
	}
	return true;
}

/* The statement's source, read for the table layer (insert_source_dispose frees it). */
typedef struct insert_source {
	pl_insert_source src;
	pl_strv columns;
	pl_text *values;
} insert_source;

static void insert_source_dispose(insert_source *s)
{
	pl_strv_dispose(&s->columns);
	free(s->values);
}

static pl_text text_of(const pl_toks *t, size_t from, size_t to)
{
	size_t a = t->items[from].start, e = t->items[to - 1].start + t->items[to - 1].len;
	return (pl_text){t->src + a, e - a};
}

/* (a, "b", c) at token *i: the column list's names. */
static bool read_column_list(insert_source *s, const pl_toks *t, size_t *i, bool *oom)
{
	size_t close = pl_tok_match_paren(t, *i);
	if (close >= t->len)
		return false;
	for (size_t k = *i + 1; k < close; k += 2) {
		pl_tok_kind kind = t->items[k].kind;
		if (kind != PL_TOK_WORD && kind != PL_TOK_QIDENT)
			return false;
		char *name = pl_tok_ident(t, k);
		if (!name || pl_strv_push_owned(&s->columns, name)) {
			*oom = true;
			return false;
		}
		if (!(k + 1 == close || pl_tok_is_punct(t, k + 1, ",")))
			return false;
	}
	*i = close + 1;
	return s->columns.len > 0;
}

/* VALUES (e, ...), ... from token i: each entry's text (DEFAULT: no text); rows of one width. */
static bool read_values(insert_source *s, const pl_toks *t, size_t i, bool *oom)
{
	size_t cap = 0, n = 0, width = 0, rows = 0;
	for (;;) {
		if (!pl_tok_is_punct(t, i, "("))
			return false;
		size_t close = pl_tok_match_paren(t, i);
		if (close >= t->len)
			return false;
		size_t item = i + 1, col = 0;
		while (item < close) {
			size_t end = item;
			int depth = 0;
			while (end < close && !(depth == 0 && pl_tok_is_punct(t, end, ","))) {
				depth += pl_tok_is_punct(t, end, "(") ? 1 : pl_tok_is_punct(t, end, ")") ? -1 : 0;
				end++;
			}
			if (end == item)
				return false;
			if (n == cap) {
				pl_text *v = realloc(s->values, (cap = cap ? 2 * cap : 16) * sizeof(*v));
				if (!v) {
					*oom = true;
					return false;
				}
				s->values = v;
			}
			bool dflt = end == item + 1 && pl_tok_is(t, item, "DEFAULT");
			s->values[n++] = dflt ? (pl_text){NULL, 0} : text_of(t, item, end);
			col++;
			item = end + (end < close);
			if (end < close && item == close)
				return false; /* trailing comma */
		}
		if (col == 0 || (rows > 0 && col != width))
			return false; /* DuckDB reports the mismatch */
		width = col;
		rows++;
		i = close + 1;
		if (i == t->len)
			break;
		if (!pl_tok_is_punct(t, i, ","))
			return false;
		i++;
	}
	s->src.values = s->values;
	s->src.nrows = rows;
	s->src.width = width;
	return true;
}

/* Reads the INSERT whose target name ends before token `after`; false when it needs the staging
 * path. */
static bool read_source(pl_stmt *st, size_t after, insert_source *s, bool *oom)
{
	const pl_toks *t = &st->toks;
	size_t i = after;
	s->src.cte = st->cte;
	if (st->explain != PL_EXPLAIN_NONE || !pl_tok_is(t, 0, "INSERT") || !pl_tok_is(t, 1, "INTO"))
		return false; /* INSERT OR REPLACE / OR IGNORE */
	if (pl_tok_is(t, i, "BY") && (pl_tok_is(t, i + 1, "NAME") || pl_tok_is(t, i + 1, "POSITION"))) {
		s->src.by_name = pl_tok_is(t, i + 1, "NAME");
		i += 2;
	}
	if (pl_tok_is_punct(t, i, "(") && !starts_query(t, i + 1)) {
		if (s->src.by_name || !read_column_list(s, t, &i, oom))
			return false;
		s->src.columns = s->columns.items;
		s->src.ncolumns = s->columns.len;
	}
	if (pl_tok_is(t, i, "DEFAULT") && pl_tok_is(t, i + 1, "VALUES")) {
		s->src.kind = PL_INSERT_DEFAULTS;
		return i + 2 == t->len;
	}
	if (pl_tok_is(t, i, "VALUES")) {
		s->src.kind = PL_INSERT_VALUES;
		return plain_tail(t, i) && read_values(s, t, i + 1, oom);
	}
	s->src.kind = PL_INSERT_QUERY;
	if (!starts_query(t, i) || !plain_tail(t, i))
		return false;
	s->src.query = text_of(t, i, t->len);
	return true;
}

/* The streaming path; *streamed false when the statement needs the staging path. */
static int insert_streamed(pl_stmt *st, size_t after, pl_lake *lake, const pl_table *t, int64_t *rows,
			   bool *streamed, pl_err *err)
{
	pl_buf select = PL_BUF_INIT;
	pl_insert_bound bound = {0};
	insert_source s = {0};
	bool oom = false;
	*streamed = false;
	int rc = 0;
	/* the bound form serves rows kept in the catalog, which only a statement committed on its
	 * own keeps (see write_and_commit) */
	if (read_source(st, after, &s, &oom))
		rc = pl_insert_stream_select(st->conn->con, t, &s.src, &select, st->conn->in_txn ? NULL : &bound, streamed,
					     err);
	else if (oom)
		rc = pl_err_nomem(err);
	if (rc == 0 && *streamed) {
		int64_t known = s.src.kind == PL_INSERT_VALUES ? (int64_t)s.src.nrows
				: s.src.kind == PL_INSERT_DEFAULTS ? 1 : -1;
		/* rows of the service that come in parts are written part by part at the same time */
		pl_source_parts parts = {0};
		if (s.src.kind == PL_INSERT_QUERY)
			rc = pl_service_rows_split(st->conn->db, select.ptr, &parts, err);
		if (rc == 0)
			rc = write_and_commit(st, lake, t, select.ptr, &bound, parts.n ? &parts : NULL, known, rows, err);
		pl_service_rows_split_dispose(&parts);
		if (rc)
			pl_insert_fix_error(err);
	}
	insert_source_dispose(&s);
	pl_buf_dispose(&select);
	pl_insert_bound_dispose(&bound);
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
