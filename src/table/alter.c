/*
 * alter.c -- ALTER TABLE on lake tables (see alter.h).
 */
#include "table/alter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/str.h"
#include "table/columns.h"
#include "table/partition.h"

typedef struct alter_ctx {
	const pl_table_ctx *ctx;
	const pl_model *model;
	const char *schema;
	const pl_table *table;
	const pl_alter_request *req;
	pl_alter *a;
	pl_txn *txn;
} alter_ctx;

/* The type changes DuckLake allows: those where DuckDB's common type of the old and the new type
 * is the new type (widening; never to or from strings). */
static const struct {
	const char *from, *to;
} promotions[] = {
	{"boolean", "int8"}, {"int8", "int16"}, {"uint8", "int16"}, {"boolean", "int16"}, {"int8", "int32"},
	{"int16", "int32"}, {"uint8", "int32"}, {"uint16", "int32"}, {"boolean", "int32"}, {"int8", "int64"},
	{"int16", "int64"}, {"int32", "int64"}, {"uint8", "int64"}, {"uint16", "int64"}, {"uint32", "int64"},
	{"boolean", "int64"}, {"int8", "int128"}, {"int16", "int128"}, {"int32", "int128"}, {"int64", "int128"},
	{"uint8", "int128"}, {"uint16", "int128"}, {"uint32", "int128"}, {"uint64", "int128"},
	{"boolean", "int128"}, {"boolean", "uint8"}, {"uint8", "uint16"}, {"boolean", "uint16"},
	{"uint8", "uint32"}, {"uint16", "uint32"}, {"boolean", "uint32"}, {"uint8", "uint64"}, {"uint16", "uint64"},
	{"uint32", "uint64"}, {"boolean", "uint64"}, {"uint8", "uint128"}, {"uint16", "uint128"},
	{"uint32", "uint128"}, {"uint64", "uint128"}, {"boolean", "uint128"}, {"int8", "float32"},
	{"int16", "float32"}, {"int32", "float32"}, {"int64", "float32"}, {"int128", "float32"},
	{"uint8", "float32"}, {"uint16", "float32"}, {"uint32", "float32"}, {"uint64", "float32"},
	{"uint128", "float32"}, {"int8", "float64"}, {"int16", "float64"}, {"int32", "float64"},
	{"int64", "float64"}, {"int128", "float64"}, {"uint8", "float64"}, {"uint16", "float64"},
	{"uint32", "float64"}, {"uint64", "float64"}, {"uint128", "float64"}, {"float32", "float64"},
	{"date", "timestamp"}, {"timestamp_s", "timestamp"}, {"timestamp_ms", "timestamp"}, {"date", "timestamp_s"},
	{"date", "timestamp_ms"}, {"timestamp_s", "timestamp_ms"}, {"date", "timestamp_ns"},
	{"timestamp", "timestamp_ns"}, {"timestamp_s", "timestamp_ns"}, {"timestamp_ms", "timestamp_ns"},
	{"date", "timestamptz"}, {"timestamp", "timestamptz"},
};

static bool is_promotion(const char *from, const char *to)
{
	for (size_t i = 0; i < sizeof(promotions) / sizeof(promotions[0]); i++)
		if (strcmp(promotions[i].from, from) == 0 && strcmp(promotions[i].to, to) == 0)
			return true;
	return false;
}

static const pl_column *child_named(pl_column *const *cols, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (pl_str_ieq(cols[i]->name, name))
			return cols[i];
	return NULL;
}

static const pl_column *find_path(const pl_table *t, char *const *parts, size_t n)
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

/* Column definition text -> columns, via a temporary DuckDB table. */
static int parse_definition(alter_ctx *c, const char *def, pl_new_column **cols, size_t *n, pl_err *err)
{
	char tmp[64];
	pl_buf q = PL_BUF_INIT;
	pl_table_temp_name(c->ctx, "alter", tmp);
	pl_buf_puts(&q, "CREATE TEMP TABLE ");
	pl_buf_put_ident(&q, tmp);
	pl_buf_printf(&q, " (__planar_col %s)", def);
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_exec(c->ctx->con, q.ptr, err);
	if (rc == 0)
		rc = pl_columns_from_temp_table(c->ctx->con, tmp, cols, n, err);
	pl_table_drop_temp(c->ctx, "TABLE", tmp);
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
				: pl_engine_query_value(c->ctx->con, q.ptr, &col->initial_default, err);
	pl_buf_dispose(&q);
	return rc;
}

/* The initial default as DuckLake's column statistics write a value of the column's type (DuckDB's
 * text of the value; TIMESTAMPTZ in UTC); left NULL for a type statistics do not describe. */
static int initial_stat(alter_ctx *c, pl_new_column *col, pl_err *err)
{
	const char *type = strncmp(col->type, "decimal(", 8) == 0 ? col->type : pl_ducklake_to_duckdb_type(col->type);
	if (!type)
		return 0;
	pl_buf q = PL_BUF_INIT;
	if (strcmp(col->type, "timestamptz") == 0) {
		pl_buf_puts(&q, "SELECT CAST(timezone('UTC', CAST(");
		pl_buf_put_literal(&q, col->initial_default);
		pl_buf_puts(&q, " AS TIMESTAMPTZ)) AS VARCHAR) || '+00'");
	} else {
		pl_buf_puts(&q, "SELECT CAST(CAST(");
		pl_buf_put_literal(&q, col->initial_default);
		pl_buf_printf(&q, " AS %s) AS VARCHAR)", type);
	}
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query_value(c->ctx->con, q.ptr, &col->initial_stat, err);
	pl_buf_dispose(&q);
	return rc;
}

static int add_column(alter_ctx *c, pl_err *err)
{
	char *const *parts = c->req->path;
	size_t n = c->req->npath;
	bool if_not_exists = c->req->if_exists;
	int rc = 0;
	const pl_column *parent = n > 1 ? find_path(c->table, parts, n - 1) : NULL;
	const pl_column *existing = find_path(c->table, parts, n);
	pl_new_column *cols = NULL;
	size_t ncols = 0;
	const char *def = c->req->text;
	if (n > 1 && !parent)
		rc = pl_err_set(err, PL_ENOTFOUND, "Binder Error: Column \"%s\" does not exist", parts[n - 2]);
	else if (n > 1 && strcmp(parent->type, "struct") != 0)
		rc = pl_err_set(err, PL_EINVALID, "Catalog Error: Fields can only be added to structs - %s is a %s",
				parent->name, parent->type);
	else if (existing)
		rc = if_not_exists ? 1 : pl_err_set(err, PL_EEXISTS, "Catalog Error: Column with name %s already exists!",
						    parts[n - 1]);
	else if (!def)
		rc = pl_err_nomem(err);
	else if ((rc = pl_name_check("column", parts[n - 1], err)) == 0 &&
		 (n > 1 || (rc = pl_table_check_column_name(c->ctx, c->table, -1, parts[0], err)) == 0))
		rc = parse_definition(c, def, &cols, &ncols, err);
	for (size_t k = 0; rc == 0 && k < ncols; k++) {
		pl_new_column *col = &cols[k];
		col->id += c->table->max_column_id;
		col->order = col->id;
		col->parent = col->parent < 0 ? (parent ? parent->id : -1) : col->parent + c->table->max_column_id;
		if (k == 0 && !(free(col->name), col->name = pl_strdup(parts[n - 1])))
			rc = pl_err_nomem(err);
		/* existing rows read the default as it is now, so it has to be a constant (DuckLake's rule) */
		if (rc == 0 && k == 0 && col->default_value_type && strcmp(col->default_value_type, "expression") == 0)
			rc = pl_err_set(err, PL_EUNSUPPORTED,
					"We cannot add a column with a non-literal default value. Add the column and then "
					"explicitly set the default for new values using \"ALTER ... SET DEFAULT\"");
		if (rc == 0 && k == 0 && col->default_value && !pl_str_ieq(col->default_value, "NULL"))
			rc = initial_default(c, col, err);
		if (rc == 0 && k == 0 && n == 1 && col->initial_default && !pl_str_ieq(col->initial_default, "NULL"))
			rc = initial_stat(c, col, err);
	}
	if (rc == 0) {
		c->a->columns = cols;
		c->a->ncolumns = ncols;
	} else {
		pl_columns_free(cols, ncols);
	}
	return rc;
}

static int count_top(const pl_table *t)
{
	return (int)t->ntop;
}

/* Whether a sort expression names column `name`: an identifier of it (bare or quoted, without
 * case) that is not a function's name; string literals are skipped. */
static bool expression_names(const char *e, const char *name)
{
	size_t nlen = strlen(name);
	for (const char *p = e; *p;) {
		if (*p == '\'') {
			for (p++; *p && !(*p == '\'' && p[1] != '\''); p += *p == '\'' ? 2 : 1)
				;
			p += *p ? 1 : 0;
		} else if (*p == '"') {
			char word[256];
			size_t len = 0;
			for (p++; *p && !(*p == '"' && p[1] != '"'); p += *p == '"' ? 2 : 1)
				if (len < sizeof(word) - 1)
					word[len++] = *p;
			word[len] = '\0';
			p += *p ? 1 : 0;
			if (len == nlen && strcmp(word, name) == 0 && *p != '(')
				return true;
		} else if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || *p == '_' || (unsigned char)*p >= 0x80) {
			const char *w = p;
			while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' ||
			       (unsigned char)*p >= 0x80)
				p++;
			const char *after = p + strspn(p, " \t\n");
			if ((size_t)(p - w) == nlen && strncasecmp(w, name, nlen) == 0 && *after != '(')
				return true;
		} else {
			p++;
		}
	}
	return false;
}

/* A top-level column the table's partitioning or sort order uses cannot be dropped. */
static int check_droppable(const pl_table *t, const pl_column *col, pl_err *err)
{
	for (size_t k = 0; k < t->npartition_keys; k++)
		if (t->partition_keys[k].column_id == col->id)
			return pl_err_set(err, PL_EINVALID, "Catalog Error: cannot drop column \"%s\": the table is partitioned by "
					  "this column; change the partitioning first (ALTER TABLE ... RESET PARTITIONED BY)",
					  col->name);
	for (size_t k = 0; k < t->nsort_keys; k++)
		if (expression_names(t->sort_keys[k].expression, col->name))
			return pl_err_set(err, PL_EINVALID, "Catalog Error: cannot drop column \"%s\": the table is sorted by "
					  "this column; change the sort order first (ALTER TABLE ... RESET SORTED BY)",
					  col->name);
	return 0;
}

static int drop_column(alter_ctx *c, pl_err *err)
{
	char *const *parts = c->req->path;
	size_t n = c->req->npath;
	bool if_exists = c->req->if_exists;
	int rc;
	const pl_column *col = find_path(c->table, parts, n);
	if (!col)
		rc = if_exists ? 1 : pl_err_set(err, PL_ENOTFOUND, "Catalog Error: Column with name %s does not exist!",
						parts[n - 1]);
	else if (n == 1 && count_top(c->table) == 1)
		rc = pl_err_set(err, PL_EINVALID, "Catalog Error: Cannot drop column: table only has one column remaining!");
	else if (n == 1 && (rc = check_droppable(c->table, col, err)) != 0)
		;
	else
		rc = end_tree(c, col, err);
	return rc;
}

/* After renaming top-level column `from` to `to`: the sort order names the column by its new
 * name, as DuckLake rewrites it (a new sort order; an unchanged one when no key names it). */
static int rename_in_sort_keys(alter_ctx *c, const char *from, const char *to, pl_err *err)
{
	const pl_table *t = c->table;
	if (t->nsort_keys == 0)
		return 0;
	pl_sort_spec *keys = calloc(t->nsort_keys, sizeof(*keys));
	char **exprs = calloc(t->nsort_keys + 1, sizeof(*exprs));
	int rc = keys && exprs ? 0 : pl_err_nomem(err);
	for (size_t k = 0; rc == 0 && k < t->nsort_keys; k++) {
		bool all_known;
		rc = pl_sort_rename(c->ctx->con, t->sort_keys[k].expression, &from, &to, 1, &exprs[k], &all_known, err);
		keys[k] = (pl_sort_spec){exprs[k], t->sort_keys[k].descending, t->sort_keys[k].nulls_first};
	}
	bool noop;
	if (rc == 0)
		rc = pl_sort_plan(t, keys, t->nsort_keys, c->txn, &noop, err);
	pl_strv_free(exprs);
	free(keys);
	return rc;
}

static int rename_column(alter_ctx *c, pl_err *err)
{
	char *const *parts = c->req->path;
	size_t n = c->req->npath;
	int rc = 0;
	const pl_column *col = find_path(c->table, parts, n);
	if (!col)
		rc = pl_err_set(err, PL_ENOTFOUND, "Catalog Error: Failed to rename column - column %s does not exist",
				parts[n - 1]);
	char *to = rc ? NULL : pl_strdup(c->req->text);
	if (rc == 0 && !to)
		rc = pl_err_nomem(err);
	if (rc == 0)
		rc = pl_name_check("column", to, err);
	if (rc == 0 && n == 1)
		rc = pl_table_check_column_name(c->ctx, c->table, -1, to, err);
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
		if (n == 1)
			rc = rename_in_sort_keys(c, col->name, v->name, err);
	}
	free(to);
	return rc;
}

static int rename_table(alter_ctx *c, pl_err *err)
{
	char *to = pl_strdup(c->req->text);
	if (!to)
		return pl_err_nomem(err);
	int checked = pl_name_check("table", to, err);
	if (checked) {
		free(to);
		return checked;
	}
	const pl_table *same_name = pl_model_table(c->model, c->table->schema_id, to);
	if (same_name && same_name->id != c->table->id) {
		int rc = pl_err_set(err, PL_EEXISTS, "Catalog Error: Table with name \"%s\" already exists!", to);
		free(to);
		return rc;
	}
	c->a->new_name = to;
	c->a->uuid = pl_strdup(c->table->uuid);
	c->a->path = pl_strdup(c->table->path);
	c->a->schema_id = c->table->schema_id;
	const pl_schema *s = pl_model_schema_by_id(c->model, c->table->schema_id);
	c->a->schema_name = s ? pl_strdup(s->name) : NULL;
	c->a->path_is_relative = c->table->path_is_relative;
	return c->a->uuid && c->a->schema_name ? 0 : pl_err_nomem(err);
}

/* Appends a copy of the parsed column src with the given id and parent. */
static int push_parsed(alter_ctx *c, const pl_new_column *src, int64_t id, int64_t parent, pl_err *err)
{
	pl_new_column *v = realloc(c->a->columns, (c->a->ncolumns + 1) * sizeof(*v));
	if (!v)
		return pl_err_nomem(err);
	c->a->columns = v;
	v = &v[c->a->ncolumns++];
	*v = (pl_new_column){.id = id, .order = id, .parent = parent, .nulls_allowed = src->nulls_allowed};
	v->name = pl_strdup(src->name);
	v->type = pl_strdup(src->type);
	v->default_value = src->default_value ? pl_strdup(src->default_value) : NULL;
	v->default_value_type = src->default_value_type ? pl_strdup(src->default_value_type) : NULL;
	return v->name && v->type ? 0 : pl_err_nomem(err);
}

/* The parsed type of a changed column: columns in depth-first order, ids from 1, so the subtree of
 * cols[k] is cols[k .. k + subtree_size(k) - 1]. */
typedef struct parsed_type {
	pl_new_column *cols;
	size_t n;
	int64_t next_id; /* the next column id of the table */
} parsed_type;

static bool descends_from(const parsed_type *p, size_t k, int64_t ancestor)
{
	for (int64_t id = p->cols[k].parent; id > 0 && (size_t)id <= p->n; id = p->cols[id - 1].parent)
		if (id == ancestor)
			return true;
	return false;
}

static size_t subtree_size(const parsed_type *p, size_t k)
{
	size_t e = k + 1;
	while (e < p->n && descends_from(p, e, p->cols[k].id))
		e++;
	return e - k;
}

static int evolve(alter_ctx *c, const pl_column *old, parsed_type *p, size_t k, pl_err *err);

/* A new field: the subtree of parsed column k gets fresh ids under `parent`. */
static int add_field(alter_ctx *c, parsed_type *p, size_t k, int64_t parent, pl_err *err)
{
	size_t size = subtree_size(p, k);
	int64_t shift = p->next_id - p->cols[k].id;
	int rc = push_parsed(c, &p->cols[k], p->next_id, parent, err);
	for (size_t j = k + 1; rc == 0 && j < k + size; j++)
		rc = push_parsed(c, &p->cols[j], p->cols[j].id + shift, p->cols[j].parent + shift, err);
	p->next_id += (int64_t)size;
	return rc;
}

/* DuckLake's evolution of a nested column: fields are matched by name (list "element", map "key"
 * and "value"); new ones are added with new ids, missing ones dropped, kept ones evolved. The
 * nested column itself keeps its row. */
static int evolve_nested(alter_ctx *c, const pl_column *old, parsed_type *p, size_t k, pl_err *err)
{
	if (strcmp(old->type, p->cols[k].type) != 0)
		return pl_err_set(err, PL_EUNSUPPORTED, "Not implemented Error: Type evolution is not supported from type %s to type %s",
				  old->type, p->cols[k].type);
	bool *kept = calloc(old->nchildren + 1, sizeof(*kept));
	if (!kept)
		return pl_err_nomem(err);
	int rc = 0;
	for (size_t j = k + 1; rc == 0 && j < p->n; j++) {
		if (p->cols[j].parent != p->cols[k].id)
			continue;
		size_t o = 0;
		while (o < old->nchildren && !pl_str_ieq(old->children[o]->name, p->cols[j].name))
			o++;
		if (o == old->nchildren) {
			rc = add_field(c, p, j, old->id, err);
		} else {
			kept[o] = true;
			rc = evolve(c, old->children[o], p, j, err);
		}
	}
	for (size_t o = 0; rc == 0 && o < old->nchildren; o++)
		if (!kept[o])
			rc = end_tree(c, old->children[o], err);
	free(kept);
	return rc;
}

/* Evolves the existing column `old` to parsed column k: a promotion of a primitive (a new version
 * of its row), or a nested evolution. */
static int evolve(alter_ctx *c, const pl_column *old, parsed_type *p, size_t k, pl_err *err)
{
	if (old->nchildren > 0)
		return evolve_nested(c, old, p, k, err);
	const char *to = p->cols[k].type;
	if (strcmp(to, old->type) == 0)
		return 0;
	if (!is_promotion(old->type, to))
		return pl_err_set(err, PL_EUNSUPPORTED,
				  "Cannot change type of column %s from %s to %s - only widening type promotions are allowed "
				  "(a lake never rewrites its files: e.g. int32->int64, int64->int128, float32->float64, "
				  "timestamp->timestamptz)",
				  old->name, old->type, to);
	pl_new_column *v = revise(c, old, err);
	if (!v)
		return err->code;
	free(v->type);
	return (v->type = pl_strdup(to)) ? 0 : pl_err_nomem(err);
}

static int change_type(alter_ctx *c, const pl_column *col, pl_err *err)
{
	parsed_type p = {NULL, 0, c->table->max_column_id + 1};
	if (c->req->using_clause)
		return pl_err_set(err, PL_EUNSUPPORTED, "ALTER ... TYPE ... USING would rewrite data; lakes only promote types");
	int rc = parse_definition(c, c->req->text, &p.cols, &p.n, err);
	if (rc == 0)
		rc = evolve(c, col, &p, 0, err);
	pl_columns_free(p.cols, p.n);
	return rc;
}

static int check_no_nulls(alter_ctx *c, const pl_column *col, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	char *v = NULL;
	pl_buf_puts(&q, "SELECT count(*) FROM ");
	pl_buf_put_ident(&q, c->ctx->lake);
	pl_buf_putc(&q, '.');
	pl_buf_put_ident(&q, c->schema);
	pl_buf_putc(&q, '.');
	pl_buf_put_ident(&q, c->table->name);
	pl_buf_puts(&q, " WHERE ");
	pl_buf_put_ident(&q, col->name);
	pl_buf_puts(&q, " IS NULL");
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query_value(c->ctx->con, q.ptr, &v, err);
	if (rc == 0 && v && strcmp(v, "0") != 0)
		rc = pl_err_set(err, PL_EINVALID,
				"Catalog Error: Cannot SET NOT NULL on column %s - the column has NULL values", col->name);
	free(v);
	pl_buf_dispose(&q);
	return rc;
}

/* SET DEFAULT expr (DuckDB parses it against the column's type, as in CREATE TABLE: a constant is
 * stored as a literal value, anything else as an expression) or DROP DEFAULT (expr NULL). */
static int set_default(alter_ctx *c, const pl_column *col, const char *expr, pl_err *err)
{
	pl_new_column *parsed = NULL;
	size_t n = 0;
	int rc = 0;
	if (expr) {
		pl_buf def = PL_BUF_INIT;
		rc = pl_column_duckdb_type(&def, col, err);
		pl_buf_printf(&def, " DEFAULT %s", expr);
		if (rc == 0)
			rc = pl_buf_oom(&def) ? pl_err_nomem(err) : parse_definition(c, def.ptr, &parsed, &n, err);
		pl_buf_dispose(&def);
	}
	pl_new_column *v = rc ? NULL : revise(c, col, err);
	if (rc == 0 && !v)
		rc = err->code;
	if (v) {
		free(v->default_value);
		free(v->default_value_type);
		v->default_value = pl_strdup(parsed && parsed[0].default_value ? parsed[0].default_value : "NULL");
		v->default_value_type =
			pl_strdup(parsed && parsed[0].default_value_type ? parsed[0].default_value_type : "literal");
		if (!v->default_value || !v->default_value_type)
			rc = pl_err_nomem(err);
	}
	pl_columns_free(parsed, n);
	return rc;
}

static int alter_column(alter_ctx *c, pl_err *err)
{
	const pl_alter_request *req = c->req;
	const pl_column *col = find_path(c->table, req->path, req->npath);
	if (!col)
		return pl_err_set(err, PL_ENOTFOUND, "Catalog Error: Failed to alter column - column %s does not exist",
				  req->path[req->npath - 1]);
	if (req->kind == PL_ALTER_SET_TYPE)
		return change_type(c, col, err);
	bool set = req->kind == PL_ALTER_SET_NOT_NULL || req->kind == PL_ALTER_SET_DEFAULT;
	if (req->kind == PL_ALTER_SET_NOT_NULL || req->kind == PL_ALTER_DROP_NOT_NULL) {
		if (set && !col->nulls_allowed)
			return pl_err_set(err, PL_EINVALID,
					  "Catalog Error: Cannot SET NOT NULL on column %s - it already has a NOT NULL constraint",
					  col->name);
		if (!set && col->nulls_allowed)
			return pl_err_set(err, PL_EINVALID,
					  "Catalog Error: Cannot DROP NULL on column %s - it has no NOT NULL constraint defined",
					  col->name);
		int rc = set ? check_no_nulls(c, col, err) : 0;
		pl_new_column *v = rc ? NULL : revise(c, col, err);
		if (v)
			v->nulls_allowed = !set;
		return rc ? rc : v ? 0 : err->code;
	}
	if (req->kind == PL_ALTER_SET_DEFAULT || req->kind == PL_ALTER_DROP_DEFAULT) {
		if (!req->well_formed)
			return pl_err_set(err, PL_EINVALID, "syntax error in ALTER ... DEFAULT");
		return set_default(c, col, set ? req->text : NULL, err);
	}
	return pl_err_set(err, PL_EUNSUPPORTED, "unsupported ALTER COLUMN action");
}

int pl_alter_plan(const pl_table_ctx *ctx, const pl_model *m, const char *schema, const pl_table *t,
		  const pl_alter_request *req, pl_txn *txn, bool *noop, pl_err *err)
{
	alter_ctx c = {ctx, m, schema, t, req, pl_txn_add_alter(txn), txn};
	*noop = false;
	if (!c.a)
		return pl_err_nomem(err);
	c.a->table_id = t->id;
	int rc;
	switch (req->kind) {
	case PL_ALTER_ADD_COLUMN:
		rc = add_column(&c, err);
		break;
	case PL_ALTER_DROP_COLUMN:
		rc = drop_column(&c, err);
		break;
	case PL_ALTER_RENAME_TABLE:
		rc = rename_table(&c, err);
		break;
	case PL_ALTER_RENAME_COLUMN:
		rc = rename_column(&c, err);
		break;
	default:
		rc = alter_column(&c, err);
		break;
	}
	/* 1: IF [NOT] EXISTS made it a no-op */
	*noop = rc == 1;
	return rc == 1 ? 0 : rc;
}
