/*
 * insert.c -- INSERT into a lake table (see insert.h): the streaming SELECT, the staging table
 * and writing the rows.
 *
 * The SELECT has the shape
 *   [WITH ...] SELECT <checks> FROM (SELECT <values> FROM <source> AS __planar_src(c1..ck)) AS __planar_row
 * where <source> is the user's query or VALUES list, <values> gives every table column in order
 * its source column cast to the column's type (DuckDB's INSERT casts a SELECT's columns, and
 * each VALUES entry, to the target type) or its default, and <checks> raises DuckDB's NOT NULL
 * error for NULLs in NOT NULL columns.
 */
#include "table/insert.h"

#include <stdlib.h>
#include <string.h>

#include "catalog/inline.h"
#include "core/str.h"
#include "storage/fs.h"
#include "storage/s3lake.h"
#include "table/columns.h"

typedef struct plan {
	const pl_insert_source *src;
	const pl_table *t;
	const pl_column **targets; /* the table column each source column fills, in source order */
	size_t ntargets;
	char **names;  /* a query's column names (NULL: positional names), so that DuckDB's cast
			* errors name the user's column */
	size_t nnames;
} plan;

static const pl_column *find_column(const pl_table *t, const char *name)
{
	for (size_t i = 0; i < t->ntop; i++)
		if (pl_str_ieq(t->top[i]->name, name))
			return t->top[i];
	return NULL;
}

static bool add_target(plan *p, const pl_column *c)
{
	if (!c)
		return false;
	for (size_t i = 0; i < p->ntargets; i++)
		if (p->targets[i] == c)
			return false; /* DuckDB rejects a column named twice */
	p->targets[p->ntargets++] = c;
	return true;
}

/* The column list: the target columns, by name (an unknown or repeated name: DuckDB reports it). */
static bool resolve_column_list(plan *p)
{
	for (size_t k = 0; k < p->src->ncolumns; k++)
		if (!add_target(p, find_column(p->t, p->src->columns[k])))
			return false;
	return p->ntargets > 0;
}

/* Whether the source's form can stream (DuckDB rejects the others, or they need its INSERT). */
static bool check_form(plan *p)
{
	const pl_insert_source *src = p->src;
	if (src->ncolumns > 0 && (src->by_name || !resolve_column_list(p)))
		return false;
	if (src->kind == PL_INSERT_DEFAULTS)
		return !src->by_name && src->ncolumns == 0;
	if (src->kind == PL_INSERT_VALUES)
		return !src->by_name;
	return true;
}

/* The default of column c cast to its type (NULL when it has none), as DuckDB fills it in. */
static int put_default(pl_buf *b, const pl_column *c, pl_err *err)
{
	bool expression = c->default_value_type && strcmp(c->default_value_type, "expression") == 0;
	pl_buf_puts(b, "CAST(");
	if (c->default_value && expression) {
		pl_buf_printf(b, "(%s)", c->default_value);
	} else if (c->default_value && !pl_str_ieq(c->default_value, "NULL")) {
		pl_buf_put_literal(b, c->default_value);
	} else {
		pl_buf_puts(b, "NULL");
	}
	pl_buf_puts(b, " AS ");
	int rc = pl_column_duckdb_type(b, c, err);
	pl_buf_putc(b, ')');
	return rc;
}

/* Entry e of a VALUES list for column c, cast to c's type; with `bound`, a literal becomes a
 * placeholder bound to its text (*ok false when e is not such a literal). */
static int put_entry(pl_buf *b, const pl_column *c, const pl_text *e, pl_insert_bound *bound, bool *ok, pl_err *err)
{
	pl_buf type = PL_BUF_INIT;
	int rc = pl_column_duckdb_type(&type, c, err);
	if (rc == 0 && pl_buf_oom(&type))
		rc = pl_err_nomem(err);
	char *value = NULL;
	bool keep = false;
	int lit = rc == 0 && bound ? pl_insert_literal_arg(e, type.ptr, &value, &keep) : 1;
	if (lit < 0) {
		rc = pl_err_nomem(err);
	} else if (rc == 0 && bound && lit > 0) {
		*ok = false;
	} else if (rc == 0 && value) {
		char **v = realloc(bound->values, (bound->nvalues + 1) * sizeof(*v));
		if (!v) {
			free(value);
			rc = pl_err_nomem(err);
		} else {
			bound->values = v;
			v[bound->nvalues++] = value;
			/* (|| '': a placeholder cast twice would take the outer type and be planned again) */
			pl_buf_printf(b, "CAST((CAST($%zu AS VARCHAR) || '') AS %s)", bound->nvalues, type.ptr);
		}
	} else if (rc == 0) {
		pl_buf_puts(b, "CAST((");
		pl_buf_put(b, e->s, e->len);
		pl_buf_printf(b, ") AS %s)", type.ptr);
	}
	pl_buf_dispose(&type);
	return rc;
}

/* VALUES (e, ...), ...: every entry cast to its target column's type, DEFAULT replaced by the
 * column's default (as DuckDB binds an INSERT's VALUES list). With `bound`, literals are
 * placeholders, and *ok is false when an entry is not a literal. */
static int put_values(pl_buf *b, const plan *p, pl_insert_bound *bound, bool *ok, pl_err *err)
{
	const pl_insert_source *src = p->src;
	*ok = false;
	if (src->nrows == 0 || src->width != p->ntargets)
		return 0; /* DuckDB reports the mismatch */
	*ok = true;
	pl_buf_puts(b, "(VALUES ");
	for (size_t r = 0; *ok && r < src->nrows; r++) {
		pl_buf_puts(b, r == 0 ? "(" : ", (");
		for (size_t col = 0; *ok && col < src->width; col++) {
			const pl_column *c = p->targets[col];
			const pl_text *e = &src->values[r * src->width + col];
			if (col)
				pl_buf_puts(b, ", ");
			int rc = !e->s ? put_default(b, c, err) : put_entry(b, c, e, bound, ok, err);
			if (rc)
				return rc;
		}
		pl_buf_putc(b, ')');
	}
	pl_buf_puts(b, ")");
	return 0;
}

void pl_insert_bound_dispose(pl_insert_bound *b)
{
	pl_buf_dispose(&b->sql);
	for (size_t i = 0; i < b->nvalues; i++)
		free(b->values[i]);
	free(b->values);
	memset(b, 0, sizeof(*b));
}

/* Prepares the user's query to learn its columns; false when DuckDB rejects it (the staging
 * path then reports DuckDB's own error) or it does not fit the table. */
static bool bind_query(plan *p, duckdb_connection con, const pl_buf *query)
{
	pl_buf q = PL_BUF_INIT;
	duckdb_prepared_statement ps = NULL;
	if (p->src->cte) {
		pl_buf_puts(&q, p->src->cte);
		pl_buf_putc(&q, ' ');
	}
	pl_buf_puts(&q, "SELECT * FROM ");
	pl_buf_put(&q, query->ptr, query->len);
	pl_err ignored; /* an S3 lake's files the query reads: cached first (else the prepare fails) */
	bool ok = !pl_buf_oom(&q) && pl_s3lake_ensure_sql(q.ptr, &ignored) == 0 &&
		  duckdb_prepare(con, q.ptr, &ps) == DuckDBSuccess;
	pl_buf_dispose(&q);
	idx_t n = ok ? duckdb_prepared_statement_column_count(ps) : 0;
	ok = ok && (p->names = calloc(n + 1, sizeof(char *))) != NULL;
	for (idx_t i = 0; ok && i < n; i++) {
		const char *name = duckdb_prepared_statement_column_name(ps, i);
		ok = name && (p->names[p->nnames++] = pl_strdup(name)) != NULL;
		if (name)
			duckdb_free((void *)name);
		if (ok && p->src->by_name)
			ok = add_target(p, find_column(p->t, p->names[i]));
	}
	if (ok && !p->src->by_name)
		ok = n == p->ntargets;
	duckdb_destroy_prepare(&ps);
	/* Names the alias list cannot take as they are: all positional. */
	for (size_t i = 0; ok && i < p->nnames; i++) {
		bool usable = p->names[i][0] && strncmp(p->names[i], "__planar_", 9) != 0;
		for (size_t k = 0; usable && k < i; k++)
			usable = !pl_str_ieq(p->names[k], p->names[i]);
		if (!usable) {
			for (size_t k = 0; k < p->nnames; k++)
				free(p->names[k]);
			free(p->names);
			p->names = NULL;
			p->nnames = 0;
		}
	}
	return ok;
}

static void put_src_col(pl_buf *b, const plan *p, size_t j)
{
	if (p->names)
		pl_buf_put_ident(b, p->names[j]);
	else
		pl_buf_printf(b, "__planar_c%zu", j + 1);
}

static int source_index(const plan *p, const pl_column *c)
{
	for (size_t i = 0; i < p->ntargets; i++)
		if (p->targets[i] == c)
			return (int)i;
	return -1;
}

static void put_source_alias(pl_buf *b, const plan *p)
{
	pl_buf_puts(b, " AS __planar_src(");
	for (size_t i = 0; i < p->ntargets; i++) {
		if (i)
			pl_buf_puts(b, ", ");
		put_src_col(b, p, i);
	}
	pl_buf_putc(b, ')');
}

static bool any_not_null(const pl_table *t)
{
	for (size_t i = 0; i < t->ntop; i++)
		if (!t->top[i]->nulls_allowed)
			return true;
	return false;
}

/* SELECT <every column's value> [FROM <source>] */
static int put_values_select(pl_buf *b, const plan *p, const pl_buf *source, bool checked, pl_err *err)
{
	const pl_table *t = p->t;
	pl_buf_puts(b, "SELECT ");
	for (size_t i = 0; i < t->ntop; i++) {
		const pl_column *c = t->top[i];
		int j = source_index(p, c), rc = 0;
		if (i)
			pl_buf_puts(b, ", ");
		if (j < 0) {
			rc = put_default(b, c, err);
		} else if (p->src->kind == PL_INSERT_VALUES) {
			pl_buf_puts(b, "__planar_src.");
			put_src_col(b, p, (size_t)j); /* cast in the list */
		} else {
			pl_buf_puts(b, "CAST(__planar_src.");
			put_src_col(b, p, (size_t)j);
			pl_buf_puts(b, " AS ");
			rc = pl_column_duckdb_type(b, c, err);
			pl_buf_putc(b, ')');
		}
		if (rc)
			return rc;
		pl_buf_puts(b, " AS ");
		if (checked)
			pl_buf_printf(b, "__planar_v%zu", i + 1);
		else
			pl_buf_put_ident(b, c->name);
	}
	if (p->src->kind != PL_INSERT_DEFAULTS) {
		pl_buf_puts(b, " FROM ");
		pl_buf_put(b, source->ptr, source->len);
		put_source_alias(b, p);
	}
	return 0;
}

/* SELECT <values, NOT NULL columns checked> FROM (<values select>) */
static void put_checks(pl_buf *b, const pl_table *t, const pl_buf *inner)
{
	pl_buf_puts(b, "SELECT ");
	for (size_t i = 0; i < t->ntop; i++) {
		const pl_column *c = t->top[i];
		if (i)
			pl_buf_puts(b, ", ");
		if (c->nulls_allowed) {
			pl_buf_printf(b, "__planar_v%zu", i + 1);
		} else {
			pl_buf msg = PL_BUF_INIT;
			pl_buf_printf(&msg, "Constraint Error: NOT NULL constraint failed: %s.%s", t->name, c->name);
			pl_buf_printf(b, "CASE WHEN __planar_v%zu IS NULL THEN error(", i + 1);
			pl_buf_put_literal(b, pl_buf_cstr(&msg));
			pl_buf_printf(b, ") ELSE __planar_v%zu END", i + 1);
			pl_buf_dispose(&msg);
		}
		pl_buf_puts(b, " AS ");
		pl_buf_put_ident(b, c->name);
	}
	pl_buf_puts(b, " FROM (");
	pl_buf_put(b, inner->ptr, inner->len);
	pl_buf_puts(b, ") AS __planar_row");
}

/* The whole streaming SELECT into out, given its source. */
static int put_select(pl_buf *out, const plan *p, const pl_buf *source, pl_err *err)
{
	pl_buf inner = PL_BUF_INIT;
	bool checked = any_not_null(p->t);
	int rc = put_values_select(&inner, p, source, checked, err);
	if (rc == 0) {
		if (p->src->cte) {
			pl_buf_puts(out, p->src->cte);
			pl_buf_putc(out, ' ');
		}
		if (checked)
			put_checks(out, p->t, &inner);
		else
			pl_buf_put(out, inner.ptr, inner.len);
		if (pl_buf_oom(out) || pl_buf_oom(&inner) || pl_buf_oom(source))
			rc = pl_err_nomem(err);
	}
	pl_buf_dispose(&inner);
	return rc;
}

/* Most placeholders a bound VALUES list may have (longer lists are not run again alike). */
#define MAX_BOUND_VALUES 256

int pl_insert_stream_select(duckdb_connection con, const pl_table *t, const pl_insert_source *src, pl_buf *out,
			    pl_insert_bound *bound, bool *streamable, pl_err *err)
{
	plan p = {src, t, NULL, 0, NULL, 0};
	pl_buf source = PL_BUF_INIT;
	int rc = 0;
	*streamable = false;
	if (t->ntop == 0)
		return 0;
	p.targets = calloc(t->ntop, sizeof(*p.targets));
	if (!p.targets)
		return pl_err_nomem(err);
	bool ok = check_form(&p);
	if (ok && src->ncolumns == 0 && !src->by_name && src->kind != PL_INSERT_DEFAULTS)
		for (size_t i = 0; i < t->ntop; i++)
			p.targets[p.ntargets++] = t->top[i];
	if (ok && src->kind == PL_INSERT_VALUES) {
		rc = put_values(&source, &p, NULL, &ok, err);
	} else if (ok && src->kind == PL_INSERT_QUERY) {
		pl_buf_putc(&source, '(');
		pl_buf_put(&source, src->query.s, src->query.len);
		pl_buf_putc(&source, ')');
		if (src->by_name)
			p.ntargets = 0;
		ok = !pl_buf_oom(&source) && bind_query(&p, con, &source);
	}
	if (rc == 0 && ok)
		rc = put_select(out, &p, &source, err);
	*streamable = rc == 0 && ok;
	if (!*streamable)
		pl_buf_dispose(out);
	if (*streamable && bound && src->kind == PL_INSERT_VALUES && !src->cte &&
	    src->nrows * src->width <= MAX_BOUND_VALUES) {
		pl_buf values = PL_BUF_INIT;
		bool literals = false;
		rc = put_values(&values, &p, bound, &literals, err);
		if (rc == 0 && literals)
			rc = put_select(&bound->sql, &p, &values, err);
		if (rc || !literals)
			pl_insert_bound_dispose(bound);
		pl_buf_dispose(&values);
	}
	pl_buf_dispose(&source);
	free(p.targets);
	for (size_t i = 0; i < p.nnames; i++)
		free(p.names[i]);
	free(p.names);
	return rc;
}

void pl_insert_fix_error(pl_err *err)
{
	static const char prefix[] = "Invalid Input Error: ";
	char *at = strstr(err->msg, "Invalid Input Error: Constraint Error: NOT NULL constraint failed: ");
	if (at)
		memmove(at, at + sizeof(prefix) - 1, strlen(at + sizeof(prefix) - 1) + 1);
	/* DuckDB's pointer into the query text would show the generated query, not the user's */
	char *line = strstr(err->msg, "\n\nLINE ");
	if (line && strstr(line, "__planar_"))
		*line = '\0';
}

int pl_insert_create_staging(const pl_table_ctx *ctx, const pl_table *t, const char *tmp, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	pl_buf_puts(&q, "CREATE TEMP TABLE ");
	pl_buf_put_ident(&q, tmp);
	pl_buf_putc(&q, ' ');
	int rc = pl_columns_table_def(&q, t, err);
	if (rc == 0)
		rc = pl_engine_exec(ctx->con, q.ptr, err);
	pl_buf_dispose(&q);
	return rc;
}

/* Runs `from` (a SELECT with t's columns by name, or a FROM item) and keeps its rows, every
 * value as text, in a new inlined insert of txn. A value with a NUL byte cannot be kept as
 * text in every catalog: then *rows_out is -1, nothing is kept, and the rows belong in a file. */
static void put_fetch(pl_buf *q, const pl_table *t, const char *from)
{
	pl_buf_puts(q, "SELECT ");
	for (size_t i = 0; i < t->ntop; i++) {
		pl_buf_puts(q, i ? ", CAST(" : "CAST(");
		pl_buf_put_ident(q, t->top[i]->name);
		pl_buf_puts(q, " AS VARCHAR)");
	}
	pl_buf_puts(q, ", ");
	pl_columns_put_nul_check(q, t);
	pl_buf_puts(q, " FROM ");
	pl_buf_puts(q, from);
}

/* Runs the fetch of the bound form of the rows (see pl_insert_bound): false when there is none
 * or it failed (the query as written then gives DuckDB's own error, if any). */
static bool fetch_bound(const pl_table_ctx *ctx, const pl_table *t, const pl_insert_bound *bound, duckdb_result *res)
{
	if (!bound || !bound->sql.len || !ctx->prepared)
		return false;
	pl_buf q = PL_BUF_INIT, from = PL_BUF_INIT;
	pl_buf_printf(&from, "(%s) AS __planar_inline", bound->sql.ptr);
	put_fetch(&q, t, pl_buf_cstr(&from));
	pl_engine_arg *args = calloc(bound->nvalues + 1, sizeof(*args));
	pl_err ignored = {0};
	bool ok = args && !pl_buf_oom(&q) && !pl_buf_oom(&from);
	for (size_t i = 0; ok && i < bound->nvalues; i++)
		args[i].text = bound->values[i];
	ok = ok && pl_engine_query_args(ctx->con, ctx->prepared, q.ptr, args, bound->nvalues, res, &ignored) == 0;
	free(args);
	pl_buf_dispose(&q);
	pl_buf_dispose(&from);
	return ok;
}

static int fetch_inlined(const pl_table_ctx *ctx, const pl_table *t, const char *from, const pl_insert_bound *bound,
			 pl_txn *txn, int64_t *rows_out, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	pl_inlined_insert *ins = pl_txn_add_inlined_insert(txn);
	int rc = !ins ? pl_err_nomem(err) : pl_inline_prepare(ins, ctx->cat, t, err);
	duckdb_result res;
	bool have = rc == 0 && fetch_bound(ctx, t, bound, &res);
	if (rc == 0 && !have) {
		put_fetch(&q, t, from);
		have = (rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query(ctx->con, q.ptr, &res, err)) == 0;
	}
	pl_buf_dispose(&q);
	if (!have)
		return rc;
	idx_t n = duckdb_row_count(&res), nc = ins->ncols;
	for (idx_t r = 0; r < n; r++) {
		if (duckdb_value_boolean(&res, nc, r)) {
			duckdb_destroy_result(&res);
			pl_inlined_insert_dispose(&txn->inlined_inserts[--txn->ninlined_inserts]);
			*rows_out = -1;
			return 0;
		}
	}
	bool oom = !(ins->cells = calloc(n * nc + 1, sizeof(char *)));
	for (idx_t r = 0; !oom && r < n; r++)
		for (idx_t c = 0; c < nc; c++)
			ins->cells[r * nc + c] = pl_engine_value_str(&res, c, r, &oom);
	ins->nrows = oom ? 0 : n;
	duckdb_destroy_result(&res);
	*rows_out = (int64_t)ins->nrows;
	return oom ? pl_err_nomem(err) : 0;
}

/* Forgets the files of txn (written for this statement only) and removes them. */
static void drop_files(pl_txn *txn)
{
	pl_txn_remove_written(txn);
	for (size_t i = 0; i < txn->nfiles; i++)
		pl_new_file_clear(&txn->files[i]);
	txn->nfiles = 0;
}

static int write_files(const pl_table_ctx *ctx, const pl_table *t, const char *source, const pl_insert_bound *bound,
		       int64_t known_rows, bool sync_later, pl_txn *txn, int64_t limit_or_none, bool to_files,
		       const pl_write_request *sizes, int64_t *rows_out, pl_err *err);

/* SET SORTED BY: the source's rows in the table's sort order unless its option sort_on_insert is
 * false (as in DuckLake, that option spares only rows that are inlined: with inlining on, rows
 * that go to files (to_files) are sorted all the same); *out NULL when they go as they come. */
static int sorted_source(const pl_table_ctx *ctx, const pl_table *t, const char *source, bool to_files, char **out,
			 pl_err *err)
{
	char *opt = NULL;
	*out = NULL;
	int rc = t->nsort_keys > 0 && !to_files ? pl_table_option(ctx, t, "sort_on_insert", &opt, err) : 0;
	bool sort = rc == 0 && t->nsort_keys > 0 && !(opt && pl_str_ieq(opt, "false"));
	if (sort && !(*out = pl_sort_source(t, source)))
		rc = pl_err_nomem(err);
	free(opt);
	return rc;
}

int pl_insert_write_rows(const pl_table_ctx *ctx, const pl_table *t, const char *source, int64_t known_rows,
			 bool may_inline, bool sync_later, pl_txn *txn, int64_t *rows_out, pl_err *err)
{
	return pl_insert_write_bound(ctx, t, source, NULL, known_rows, may_inline, sync_later, txn, rows_out, err);
}

int pl_insert_write_bound(const pl_table_ctx *ctx, const pl_table *t, const char *source,
			  const pl_insert_bound *bound, int64_t known_rows, bool may_inline, bool sync_later, pl_txn *txn,
			  int64_t *rows_out, pl_err *err)
{
	int64_t limit = 0;
	*rows_out = 0;
	pl_write_request opts = {0}; /* the file options, read with the inlining limit */
	const pl_write_request *sizes = NULL;
	if (may_inline && pl_inline_supported(ctx->cat, t)) {
		int rc = pl_table_write_options(ctx, t, &opts, &limit, err);
		if (rc)
			return rc;
		sizes = &opts;
	}
	if (limit > 0 && known_rows >= 0 && known_rows <= limit) {
		/* as DuckDB's extension does, an insert makes the table's directory even when its rows
		 * stay in the catalog (a failure here is not the insert's: the rows need no file) */
		pl_err ignored;
		if (t->dir && !strstr(t->dir, "://"))
			pl_fs_mkdirs(t->dir, &ignored);
		pl_buf from = PL_BUF_INIT;
		char *sorted = NULL;
		int rc = sorted_source(ctx, t, source, false, &sorted, err);
		pl_buf_printf(&from, "(%s) AS __planar_inline", sorted ? sorted : source);
		if (rc == 0)
			rc = pl_buf_oom(&from) ? pl_err_nomem(err)
							: fetch_inlined(ctx, t, from.ptr, sorted ? NULL : bound, txn, rows_out, err);
		pl_buf_dispose(&from);
		free(sorted);
		if (rc == 0 && *rows_out < 0) /* a value with a NUL byte: a file */
			return write_files(ctx, t, source, NULL, known_rows, sync_later, txn, -1, true, sizes, rows_out, err);
		return rc;
	}
	if (limit > 0 && known_rows < 0 && txn->nfiles == 0 && txn->written.len == 0)
		return write_files(ctx, t, source, NULL, known_rows, sync_later, txn, limit, true, sizes, rows_out, err);
	return write_files(ctx, t, source, bound, known_rows, sync_later, txn, -1, limit > 0, sizes, rows_out, err);
}

int pl_insert_write(const pl_table_ctx *ctx, const pl_table *t, const char *source, bool sync_later, pl_txn *txn,
		    int64_t *rows_out, pl_err *err)
{
	return write_files(ctx, t, source, NULL, -1, sync_later, txn, -1, false, NULL, rows_out, err);
}

/* The most rows a write knows it has for it to go to one file without a staging directory. */
#define PL_ONE_FILE_ROWS 2048

/* The source of each part (*out NULL when source is not to be split: no parts, or not one
 * place that reads them all). */
static int split_source(const pl_source_parts *p, const char *source, char ***out, pl_err *err)
{
	*out = NULL;
	const char *at = p && p->n > 1 && *p->whole ? strstr(source, p->whole) : NULL;
	size_t wl = at ? strlen(p->whole) : 0;
	if (!at || strstr(at + wl, p->whole))
		return 0;
	char **v = calloc(p->n + 1, sizeof *v); /* NULL-terminated */
	if (!v)
		return pl_err_nomem(err);
	for (size_t k = 0; k < p->n; k++) {
		pl_buf b = PL_BUF_INIT;
		pl_buf_put(&b, source, (size_t)(at - source));
		pl_buf_puts(&b, p->part[k]);
		pl_buf_puts(&b, at + wl);
		if (pl_buf_oom(&b)) {
			pl_strv_free(v);
			return pl_err_nomem(err);
		}
		v[k] = pl_buf_detach(&b);
	}
	*out = v;
	return 0;
}

/* Writes the rows into files; with a limit (>= 0; txn held nothing before), files of at most
 * that many rows in all are read back into an inlined insert and removed. to_files: the rows go
 * to files past an inlining limit (sorted whatever sort_on_insert says). `sizes`: the table's
 * file options when the caller has read them (pl_table_write_options), else NULL. bound: the
 * rows' bound form (pl_insert_bound; NULL: none), known_rows their number when known, else -1. */
static int write_files(const pl_table_ctx *ctx, const pl_table *t, const char *source, const pl_insert_bound *bound,
		       int64_t known_rows, bool sync_later, pl_txn *txn, int64_t limit, bool to_files,
		       const pl_write_request *sizes, int64_t *rows_out, pl_err *err)
{
	int64_t rows = 0;
	char *dir = pl_strdup(t->dir);
	pl_new_column *cols = NULL;
	size_t ncols = 0;
	pl_partition_write part = {0};
	char *sorted = NULL;
	int rc = !dir ? pl_err_nomem(err) : pl_columns_copy(t, &cols, &ncols, err);
	if (rc == 0)
		rc = pl_partition_write_plan(t, &part, err);
	if (rc == 0)
		rc = sorted_source(ctx, t, source, to_files, &sorted, err);
	pl_write_request req = {.con = ctx->con, .source_sql = sorted ? sorted : source, .dir = dir,
				.columns = {cols, ncols, NULL}, .table_ref = t->id,
				.target_file_size = PL_DEFAULT_TARGET_FILE_SIZE, .partition = &part};
	if (rc == 0 && sizes) {
		req.target_file_size = sizes->target_file_size;
		req.row_group_size = sizes->row_group_size;
		memcpy(req.copy_options, sizes->copy_options, sizeof(req.copy_options));
		req.flat_partitions = sizes->flat_partitions;
	} else if (rc == 0) {
		rc = pl_table_write_sizes(ctx, t, &req, err);
	}
	/* a few rows (a VALUES list) are one row group, which no file splits: one file at most */
	req.one_file = known_rows >= 0 && known_rows <= PL_ONE_FILE_ROWS;
	if (req.one_file && bound && bound->sql.len && !sorted) { /* its COPY is prepared once */
		req.bound.sql = bound->sql.ptr;
		req.bound.values = bound->values;
		req.bound.nvalues = bound->nvalues;
		req.bound.prepared = ctx->prepared;
		req.bound.scratch = ctx->scratch;
	}
	char **parts = NULL;
	if (rc == 0 && !sorted && !part.options)
		rc = split_source(ctx->parts, source, &parts, err);
	if (rc == 0 && parts) {
		req.part_sql = parts;
		req.part_cons = ctx->parts->cons;
		req.nparts = ctx->parts->n;
	}
	/* the files are written without holding the lakes: t may change under us from here on */
	bool released = rc == 0 && pl_table_release(ctx);
	if (rc == 0)
		rc = sync_later ? pl_writer_write_deferred(&req, txn, &rows, err) : pl_writer_write(&req, txn, &rows, err);
	pl_table_reacquire(ctx, released);
	/* (a partitioned table's rows may be in several files, one per partition value) */
	if (rc == 0 && limit >= 0 && rows > 0 && rows <= limit && txn->nfiles >= 1 && txn->written.len == txn->nfiles) {
		pl_buf from = PL_BUF_INIT;
		pl_buf_puts(&from, "read_parquet([");
		for (size_t i = 0; i < txn->written.len; i++) {
			if (i)
				pl_buf_puts(&from, ", ");
			pl_buf_put_literal(&from, txn->written.items[i]);
		}
		pl_buf_puts(&from, "], hive_partitioning = false)");
		int64_t n = 0;
		rc = pl_buf_oom(&from) ? pl_err_nomem(err) : fetch_inlined(ctx, t, from.ptr, NULL, txn, &n, err);
		if (rc == 0 && n == rows)
			drop_files(txn);
		else if (rc == 0 && n >= 0) /* not the rows just written: keep the file */
			pl_inlined_insert_dispose(&txn->inlined_inserts[--txn->ninlined_inserts]);
		pl_buf_dispose(&from);
	}
	if (cols)
		pl_columns_free(cols, ncols);
	pl_partition_write_dispose(&part);
	pl_strv_free(parts);
	free(sorted);
	free(dir);
	*rows_out = rows;
	return rc;
}
