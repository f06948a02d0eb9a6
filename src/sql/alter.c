/*
 * alter.c -- ALTER TABLE on lake tables: schema evolution without rewriting data files.
 *
 *   ADD [COLUMN] [IF NOT EXISTS] name|struct.field type [DEFAULT x] [NOT NULL]
 *   DROP [COLUMN] [IF EXISTS] name|struct.field
 *   RENAME [COLUMN] name|struct.field TO new     RENAME TO new_table_name
 *   ALTER [COLUMN] name [SET DATA] TYPE t        (lossless promotions only)
 *   ALTER [COLUMN] name SET DEFAULT x | DROP DEFAULT | SET NOT NULL | DROP NOT NULL
 *
 * Each change ends the affected ducklake_column rows and inserts new versions with the same
 * column ids (new ids for added columns), so old files keep being read through field ids.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "sql/lake.h"
#include "sql/router.h"
#include "table/columns.h"

typedef struct alter_ctx {
	pl_stmt *st;
	pl_target tgt;
	const pl_table *table;
	pl_txn txn;
	pl_alter *a;
} alter_ctx;

static const struct {
	const char *from, *to;
} promotions[] = {
	{"int8", "int16"},   {"int8", "int32"},   {"int8", "int64"},    {"int16", "int32"},
	{"int16", "int64"},  {"int32", "int64"},  {"uint8", "uint16"},  {"uint8", "uint32"},
	{"uint8", "uint64"}, {"uint16", "uint32"}, {"uint16", "uint64"}, {"uint32", "uint64"},
	{"float32", "float64"},
};

static bool is_promotion(const char *from, const char *to)
{
	for (size_t i = 0; i < sizeof(promotions) / sizeof(promotions[0]); i++)
		if (strcmp(promotions[i].from, from) == 0 && strcmp(promotions[i].to, to) == 0)
			return true;
	return false;
}

/* Parses a dotted column path at *i into parts (up to 8). */
static int parse_path(const pl_toks *t, size_t *i, char *parts[8], size_t *n, pl_err *err)
{
	*n = 0;
	for (;;) {
		if (*i >= t->len || (t->items[*i].kind != PL_TOK_WORD && t->items[*i].kind != PL_TOK_QIDENT) || *n == 8)
			return pl_err_set(err, PL_EINVALID, "syntax error: expected a column name");
		if (!(parts[(*n)++] = pl_tok_ident(t, *i)))
			return pl_err_nomem(err);
		(*i)++;
		if (!pl_tok_is_punct(t, *i, "."))
			return 0;
		(*i)++;
	}
}

static void free_path(char *parts[8], size_t n)
{
	for (size_t k = 0; k < n; k++)
		free(parts[k]);
}

static const pl_column *child_named(pl_column *const *cols, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (pl_str_ieq(cols[i]->name, name))
			return cols[i];
	return NULL;
}

static const pl_column *find_path(const pl_table *t, char *parts[8], size_t n)
{
	const pl_column *c = child_named(t->top, t->ntop, parts[0]);
	for (size_t k = 1; c && k < n; k++)
		c = child_named(c->children, c->nchildren, parts[k]);
	return c;
}

static pl_new_column *new_version(alter_ctx *c, const pl_column *col, pl_err *err)
{
	pl_new_column *v = realloc(c->a->columns, (c->a->ncolumns + 1) * sizeof(*v));
	if (!v) {
		pl_err_nomem(err);
		return NULL;
	}
	c->a->columns = v;
	v = &v[c->a->ncolumns++];
	memset(v, 0, sizeof(*v));
	v->id = col->id, v->order = col->order, v->parent = col->parent;
	v->nulls_allowed = col->nulls_allowed;
	v->name = pl_strdup(col->name);
	v->type = pl_strdup(col->type);
	v->default_value = col->default_value ? pl_strdup(col->default_value) : NULL;
	v->default_value_type = col->default_value_type ? pl_strdup(col->default_value_type) : NULL;
	v->initial_default = col->initial_default ? pl_strdup(col->initial_default) : NULL;
	if (!v->name || !v->type) {
		pl_err_nomem(err);
		return NULL;
	}
	return v;
}

static int end_column(alter_ctx *c, int64_t id, pl_err *err)
{
	int64_t *p = realloc(c->a->end_columns, (c->a->nend + 1) * sizeof(*p));
	if (!p)
		return pl_err_nomem(err);
	c->a->end_columns = p;
	p[c->a->nend++] = id;
	return 0;
}

static int end_tree(alter_ctx *c, const pl_column *col, pl_err *err)
{
	int rc = end_column(c, col->id, err);
	for (size_t i = 0; rc == 0 && i < col->nchildren; i++)
		rc = end_tree(c, col->children[i], err);
	return rc;
}

/* Ends col and inserts its new version: the change `edit` is applied to the copy. */
static pl_new_column *revise(alter_ctx *c, const pl_column *col, pl_err *err)
{
	return end_column(c, col->id, err) ? NULL : new_version(c, col, err);
}

static char *span(const pl_toks *t, size_t from, size_t to)
{
	if (from >= to)
		return pl_strdup("");
	size_t a = t->items[from].start, b = t->items[to - 1].start + t->items[to - 1].len;
	return pl_strndup(t->src + a, b - a);
}

/* Column definition text -> columns, via a temporary DuckDB table. */
static int parse_definition(alter_ctx *c, const char *def, pl_new_column **cols, size_t *n, pl_err *err)
{
	char tmp[64];
	pl_buf q = PL_BUF_INIT;
	pl_stmt_temp_name(c->st, "alter", tmp);
	pl_buf_puts(&q, "CREATE TEMP TABLE ");
	pl_buf_put_ident(&q, tmp);
	pl_buf_printf(&q, " (__planar_col %s)", def);
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_exec(c->st->conn->con, q.ptr, err);
	if (rc == 0)
		rc = pl_columns_from_temp_table(c->st->conn->con, tmp, cols, n, err);
	pl_buf_truncate(&q, 0);
	pl_buf_puts(&q, "DROP TABLE IF EXISTS temp.main.");
	pl_buf_put_ident(&q, tmp);
	pl_err ignored;
	if (!pl_buf_oom(&q))
		pl_engine_exec(c->st->conn->con, q.ptr, &ignored);
	pl_buf_dispose(&q);
	return rc;
}

static int initial_default(alter_ctx *c, pl_new_column *col, pl_err *err)
{
	if (strcmp(col->default_value_type, "expression") != 0)
		return (col->initial_default = pl_strdup(col->default_value)) ? 0 : pl_err_nomem(err);
	pl_buf q = PL_BUF_INIT;
	pl_buf_printf(&q, "SELECT CAST((%s) AS VARCHAR)", col->default_value);
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err)
				: pl_engine_query_value(c->st->conn->con, q.ptr, &col->initial_default, err);
	pl_buf_dispose(&q);
	return rc;
}

static int add_column(alter_ctx *c, size_t i, pl_err *err)
{
	const pl_toks *t = &c->st->toks;
	bool if_not_exists = pl_tok_is(t, i, "IF") && pl_tok_is(t, i + 1, "NOT") && pl_tok_is(t, i + 2, "EXISTS");
	char *parts[8];
	size_t n = 0;
	i += if_not_exists ? 3 : 0;
	int rc = parse_path(t, &i, parts, &n, err);
	if (rc)
		return rc;
	const pl_column *parent = n > 1 ? find_path(c->table, parts, n - 1) : NULL;
	const pl_column *existing = find_path(c->table, parts, n);
	pl_new_column *cols = NULL;
	size_t ncols = 0;
	char *def = span(t, i, t->len);
	if (n > 1 && (!parent || strcmp(parent->type, "struct") != 0))
		rc = pl_err_set(err, PL_EINVALID, "Binder Error: column \"%s\" is not a struct column", parts[0]);
	else if (existing)
		rc = if_not_exists ? 1 : pl_err_set(err, PL_EEXISTS, "Catalog Error: Column with name %s already exists!",
						    parts[n - 1]);
	else if (!def)
		rc = pl_err_nomem(err);
	else if ((rc = pl_name_check("column", parts[n - 1], err)) == 0)
		rc = parse_definition(c, def, &cols, &ncols, err);
	for (size_t k = 0; rc == 0 && k < ncols; k++) {
		pl_new_column *col = &cols[k];
		col->id += c->table->max_column_id;
		col->order = col->id;
		col->parent = col->parent < 0 ? (parent ? parent->id : -1) : col->parent + c->table->max_column_id;
		if (k == 0 && !(free(col->name), col->name = pl_strdup(parts[n - 1])))
			rc = pl_err_nomem(err);
		/* existing rows read the default as it is now */
		if (rc == 0 && k == 0 && col->default_value && !pl_str_ieq(col->default_value, "NULL"))
			rc = initial_default(c, col, err);
	}
	if (rc == 0) {
		c->a->columns = cols;
		c->a->ncolumns = ncols;
	} else {
		pl_columns_free(cols, ncols);
	}
	free(def);
	free_path(parts, n);
	return rc;
}

static int count_top(const pl_table *t)
{
	return (int)t->ntop;
}

static int drop_column(alter_ctx *c, size_t i, pl_err *err)
{
	const pl_toks *t = &c->st->toks;
	bool if_exists = pl_tok_is(t, i, "IF") && pl_tok_is(t, i + 1, "EXISTS");
	char *parts[8];
	size_t n = 0;
	i += if_exists ? 2 : 0;
	int rc = parse_path(t, &i, parts, &n, err);
	if (rc)
		return rc;
	const pl_column *col = find_path(c->table, parts, n);
	if (!col)
		rc = if_exists ? 1 : pl_err_set(err, PL_ENOTFOUND, "Catalog Error: Column with name %s does not exist!",
						parts[n - 1]);
	else if (n == 1 && count_top(c->table) == 1)
		rc = pl_err_set(err, PL_EINVALID, "Catalog Error: Cannot drop column: table only has one column remaining!");
	else
		rc = end_tree(c, col, err);
	free_path(parts, n);
	return rc;
}

static int rename_column(alter_ctx *c, size_t i, pl_err *err)
{
	const pl_toks *t = &c->st->toks;
	char *parts[8];
	size_t n = 0;
	int rc = parse_path(t, &i, parts, &n, err);
	if (rc)
		return rc;
	const pl_column *col = find_path(c->table, parts, n);
	if (!pl_tok_is(t, i, "TO") || i + 2 != t->len)
		rc = pl_err_set(err, PL_EINVALID, "syntax error: expected RENAME column TO new_name");
	else if (!col)
		rc = pl_err_set(err, PL_ENOTFOUND, "Catalog Error: Column with name %s does not exist!", parts[n - 1]);
	char *to = rc ? NULL : pl_tok_ident(t, i + 1);
	if (rc == 0 && !to)
		rc = pl_err_nomem(err);
	if (rc == 0)
		rc = pl_name_check("column", to, err);
	const pl_column *siblings_owner = n > 1 ? find_path(c->table, parts, n - 1) : NULL;
	if (rc == 0 && (n > 1 ? child_named(siblings_owner->children, siblings_owner->nchildren, to)
			      : child_named(c->table->top, c->table->ntop, to)))
		rc = pl_err_set(err, PL_EEXISTS, "Catalog Error: Column with name %s already exists!", to);
	pl_new_column *v = rc ? NULL : revise(c, col, err);
	if (rc == 0 && !v)
		rc = err->code;
	if (v) {
		free(v->name);
		v->name = to;
		to = NULL;
	}
	free(to);
	free_path(parts, n);
	return rc;
}

static int rename_table(alter_ctx *c, size_t i, pl_err *err)
{
	const pl_toks *t = &c->st->toks;
	if (i + 1 != t->len)
		return pl_err_set(err, PL_EINVALID, "syntax error: expected RENAME TO new_name");
	char *to = pl_tok_ident(t, i);
	if (!to)
		return pl_err_nomem(err);
	int checked = pl_name_check("table", to, err);
	if (checked) {
		free(to);
		return checked;
	}
	if (pl_model_table(c->tgt.lake->model, c->table->schema_id, to)) {
		int rc = pl_err_set(err, PL_EEXISTS, "Catalog Error: Table with name \"%s\" already exists!", to);
		free(to);
		return rc;
	}
	c->a->new_name = to;
	c->a->uuid = pl_strdup(c->table->uuid);
	c->a->path = pl_strdup(c->table->path);
	c->a->schema_id = c->table->schema_id;
	c->a->path_is_relative = c->table->path_is_relative;
	return c->a->uuid ? 0 : pl_err_nomem(err);
}

static bool find_using(const pl_toks *t, size_t i)
{
	for (; i < t->len; i++)
		if (pl_tok_is(t, i, "USING"))
			return true;
	return false;
}

static int change_type(alter_ctx *c, const pl_column *col, size_t i, pl_err *err)
{
	const pl_toks *t = &c->st->toks;
	pl_new_column *cols = NULL;
	size_t n = 0;
	if (find_using(t, i))
		return pl_err_set(err, PL_EUNSUPPORTED, "ALTER ... TYPE ... USING would rewrite data; lakes only promote types");
	char *def = span(t, i, t->len);
	int rc = def ? parse_definition(c, def, &cols, &n, err) : pl_err_nomem(err);
	if (rc == 0 && strcmp(cols[0].type, col->type) != 0 && !is_promotion(col->type, cols[0].type))
		rc = pl_err_set(err, PL_EUNSUPPORTED,
				"cannot change the type of column \"%s\" from %s to %s: lakes allow only lossless promotions "
				"(int8->int16->int32->int64, uint8->...->uint64, float32->float64)",
				col->name, col->type, cols[0].type);
	pl_new_column *v = rc ? NULL : revise(c, col, err);
	if (rc == 0 && !v)
		rc = err->code;
	if (v) {
		free(v->type);
		v->type = cols[0].type;
		cols[0].type = NULL;
	}
	pl_columns_free(cols, n);
	free(def);
	return rc;
}

static int check_no_nulls(alter_ctx *c, const pl_column *col, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	char *v = NULL;
	pl_buf_puts(&q, "SELECT count(*) FROM ");
	pl_buf_put_ident(&q, c->tgt.lake->name);
	pl_buf_putc(&q, '.');
	pl_buf_put_ident(&q, c->tgt.schema);
	pl_buf_putc(&q, '.');
	pl_buf_put_ident(&q, c->table->name);
	pl_buf_puts(&q, " WHERE ");
	pl_buf_put_ident(&q, col->name);
	pl_buf_puts(&q, " IS NULL");
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query_value(c->st->conn->con, q.ptr, &v, err);
	if (rc == 0 && v && strcmp(v, "0") != 0)
		rc = pl_err_set(err, PL_EINVALID, "Constraint Error: column \"%s\" contains NULL values", col->name);
	free(v);
	pl_buf_dispose(&q);
	return rc;
}

static int alter_column(alter_ctx *c, size_t i, pl_err *err)
{
	const pl_toks *t = &c->st->toks;
	char *parts[8];
	size_t n = 0;
	int rc = parse_path(t, &i, parts, &n, err);
	if (rc)
		return rc;
	const pl_column *col = find_path(c->table, parts, n);
	free_path(parts, n);
	if (!col)
		return pl_err_set(err, PL_ENOTFOUND, "Catalog Error: Column does not exist!");
	if (pl_tok_is(t, i, "TYPE"))
		return change_type(c, col, i + 1, err);
	if (pl_tok_is(t, i, "SET") && pl_tok_is(t, i + 1, "DATA") && pl_tok_is(t, i + 2, "TYPE"))
		return change_type(c, col, i + 3, err);
	if (pl_tok_is(t, i, "SET") && pl_tok_is(t, i + 1, "TYPE"))
		return change_type(c, col, i + 2, err);
	bool set = pl_tok_is(t, i, "SET"), drop = pl_tok_is(t, i, "DROP");
	if ((set || drop) && pl_tok_is(t, i + 1, "NOT") && pl_tok_is(t, i + 2, "NULL") && i + 3 == t->len) {
		rc = set ? check_no_nulls(c, col, err) : 0;
		pl_new_column *v = rc ? NULL : revise(c, col, err);
		if (v)
			v->nulls_allowed = drop;
		return rc ? rc : v ? 0 : err->code;
	}
	if ((set || drop) && pl_tok_is(t, i + 1, "DEFAULT")) {
		char *expr = set ? span(t, i + 2, t->len) : pl_strdup("NULL");
		pl_new_column *v = expr && (set ? i + 2 < t->len : i + 2 == t->len) ? revise(c, col, err) : NULL;
		if (v) {
			free(v->default_value);
			free(v->default_value_type);
			v->default_value = expr;
			v->default_value_type = pl_strdup("expression");
			expr = NULL;
		}
		free(expr);
		return v ? 0 : err->code ? err->code : pl_err_set(err, PL_EINVALID, "syntax error in ALTER ... DEFAULT");
	}
	return pl_err_set(err, PL_EUNSUPPORTED, "unsupported ALTER COLUMN action");
}

static int dispatch(alter_ctx *c, size_t i, pl_err *err)
{
	const pl_toks *t = &c->st->toks;
	if (pl_tok_is(t, i, "ADD"))
		return add_column(c, i + 1 + pl_tok_is(t, i + 1, "COLUMN"), err);
	if (pl_tok_is(t, i, "DROP"))
		return drop_column(c, i + 1 + pl_tok_is(t, i + 1, "COLUMN"), err);
	if (pl_tok_is(t, i, "RENAME") && pl_tok_is(t, i + 1, "TO"))
		return rename_table(c, i + 2, err);
	if (pl_tok_is(t, i, "RENAME"))
		return rename_column(c, i + 1 + pl_tok_is(t, i + 1, "COLUMN"), err);
	if (pl_tok_is(t, i, "ALTER"))
		return alter_column(c, i + 1 + pl_tok_is(t, i + 1, "COLUMN"), err);
	return pl_err_set(err, PL_EUNSUPPORTED, "this ALTER TABLE action is not supported on lake tables");
}

int pl_handle_alter(pl_stmt *st, size_t name_at, planar_result **out, pl_err *err)
{
	alter_ctx c = {0};
	char *parts[3] = {0};
	size_t n = 0, i = name_at;
	bool if_exists = pl_tok_is(&st->toks, 2, "IF");
	(void)out;
	c.st = st;
	int rc = pl_parse_qname(&st->toks, &i, parts, &n, err);
	if (rc == 0)
		rc = pl_resolve_target(st, parts, n, &c.tgt, err);
	for (size_t k = 0; k < n; k++)
		free(parts[k]);
	if (rc == 0)
		rc = pl_lake_check_writable(c.tgt.lake, err);
	const pl_schema *s = rc ? NULL : pl_model_schema(c.tgt.lake->model, c.tgt.schema);
	c.table = s ? pl_model_table(c.tgt.lake->model, s->id, c.tgt.name) : NULL;
	if (rc == 0 && !c.table && !if_exists)
		rc = pl_err_set(err, PL_ENOTFOUND, "Catalog Error: Table with name %s does not exist!", c.tgt.name);
	if (rc == 0 && c.table && !(c.a = pl_txn_add_alter(&c.txn)))
		rc = pl_err_nomem(err);
	if (rc == 0 && c.table) {
		c.a->table_id = c.table->id;
		rc = dispatch(&c, i, err);
		/* 1: IF [NOT] EXISTS made it a no-op */
		if (rc == 0)
			rc = pl_lake_commit(c.tgt.lake, st->conn, &c.txn, err);
		else if (rc == 1)
			rc = 0;
	}
	pl_txn_dispose(&c.txn);
	pl_target_dispose(&c.tgt);
	return rc;
}
