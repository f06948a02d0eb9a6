/*
 * columns.c -- DuckDB logical types <-> DuckLake column rows (see columns.h).
 */
#include "table/columns.h"

#include <stdlib.h>
#include <string.h>

#include "core/str.h"

typedef struct col_list {
	pl_new_column *items;
	size_t len;
	int64_t next_id;
} col_list;

static pl_new_column *push_col(col_list *l)
{
	pl_new_column *p = realloc(l->items, (l->len + 1) * sizeof(*p));
	if (!p)
		return NULL;
	l->items = p;
	memset(&p[l->len], 0, sizeof(*p));
	return &p[l->len++];
}

static int ducklake_type_of(duckdb_logical_type t, const char *colname, char **out, pl_err *err)
{
	char *alias = duckdb_logical_type_get_alias(t);
	if (alias) {
		bool json = pl_str_ieq(alias, "JSON");
		duckdb_free(alias);
		if (json)
			return (*out = pl_strdup("json")) ? 0 : pl_err_nomem(err);
	}
	duckdb_type id = duckdb_get_type_id(t);
	switch (id) {
	case DUCKDB_TYPE_STRUCT: *out = pl_strdup("struct"); break;
	case DUCKDB_TYPE_LIST: *out = pl_strdup("list"); break;
	case DUCKDB_TYPE_MAP: *out = pl_strdup("map"); break;
	case DUCKDB_TYPE_DECIMAL: {
		pl_buf b = PL_BUF_INIT;
		pl_buf_printf(&b, "decimal(%u,%u)", duckdb_decimal_width(t), duckdb_decimal_scale(t));
		*out = pl_buf_detach(&b);
		break;
	}
	default: {
		pl_buf b = PL_BUF_INIT;
		pl_engine_type_sql(&b, t);
		const char *dl = b.ptr ? pl_duckdb_to_ducklake_type(b.ptr) : NULL;
		if (!dl) {
			int rc = pl_err_set(err, PL_EUNSUPPORTED,
					    "Not implemented Error: column \"%s\" has unsupported type %s (a lake table cannot store it)",
					    colname,
					    b.ptr ? b.ptr : "?");
			pl_buf_dispose(&b);
			return rc;
		}
		*out = pl_strdup(dl);
		pl_buf_dispose(&b);
	}
	}
	return *out ? 0 : pl_err_nomem(err);
}

static int add_type(col_list *l, const char *name, duckdb_logical_type t, int64_t parent, pl_err *err);

static int add_children(col_list *l, duckdb_logical_type t, int64_t id, pl_err *err)
{
	int rc = 0;
	duckdb_type tid = duckdb_get_type_id(t);
	if (tid == DUCKDB_TYPE_STRUCT) {
		for (idx_t i = 0; rc == 0 && i < duckdb_struct_type_child_count(t); i++) {
			char *n = duckdb_struct_type_child_name(t, i);
			duckdb_logical_type ct = duckdb_struct_type_child_type(t, i);
			rc = add_type(l, n ? n : "", ct, id, err);
			duckdb_destroy_logical_type(&ct);
			duckdb_free(n);
		}
	} else if (tid == DUCKDB_TYPE_LIST) {
		duckdb_logical_type ct = duckdb_list_type_child_type(t);
		rc = add_type(l, "element", ct, id, err);
		duckdb_destroy_logical_type(&ct);
	} else if (tid == DUCKDB_TYPE_MAP) {
		duckdb_logical_type k = duckdb_map_type_key_type(t), v = duckdb_map_type_value_type(t);
		rc = add_type(l, "key", k, id, err);
		if (rc == 0)
			rc = add_type(l, "value", v, id, err);
		duckdb_destroy_logical_type(&k);
		duckdb_destroy_logical_type(&v);
	}
	return rc;
}

static int add_type(col_list *l, const char *name, duckdb_logical_type t, int64_t parent, pl_err *err)
{
	pl_new_column *c = push_col(l);
	if (!c)
		return pl_err_nomem(err);
	c->id = c->order = l->next_id++;
	c->parent = parent;
	c->nulls_allowed = true;
	c->name = pl_strdup(name);
	int rc = c->name ? ducklake_type_of(t, name, &c->type, err) : pl_err_nomem(err);
	if (rc)
		return rc;
	bool nested = strcmp(c->type, "struct") == 0 || strcmp(c->type, "list") == 0 || strcmp(c->type, "map") == 0;
	c->default_value = pl_strdup("NULL");
	c->default_value_type = pl_strdup(nested ? "" : "literal");
	if (!c->default_value || !c->default_value_type)
		return pl_err_nomem(err);
	int64_t id = c->id; /* c moves when the list grows */
	return nested ? add_children(l, t, id, err) : 0;
}

static bool is_literal(const char *s)
{
	if (pl_str_ieq(s, "NULL") || pl_str_ieq(s, "true") || pl_str_ieq(s, "false"))
		return true;
	const char *p = s;
	if (*p == '-')
		p++;
	if (*p >= '0' && *p <= '9')
		return strspn(p, "0123456789.eE+-") == strlen(p);
	if (*p == '\'') {
		const char *end = strrchr(p, '\'');
		return end && end != p && (end[1] == '\0' || strncmp(end + 1, "::", 2) == 0);
	}
	return strncmp(s, "CAST('", 6) == 0;
}

/* Replaces a literal default's SQL text by its value as text. */
static int literal_value(duckdb_connection con, pl_new_column *c, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	char *v = NULL;
	pl_buf_printf(&q, "SELECT CAST((%s) AS VARCHAR)", c->default_value);
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query_value(con, q.ptr, &v, err);
	pl_buf_dispose(&q);
	if (rc)
		return rc;
	free(c->default_value);
	c->default_value = v ? v : pl_strdup("NULL");
	return c->default_value ? 0 : pl_err_nomem(err);
}

/* Fills default/NOT NULL of the top-level columns from duckdb_columns(). */
static int read_column_info(duckdb_connection con, const char *name, col_list *l, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	duckdb_result res;
	pl_buf_puts(&q, "SELECT column_default, is_nullable FROM duckdb_columns() WHERE database_name = 'temp' "
			"AND schema_name = 'main' AND table_name = ");
	pl_buf_put_literal(&q, name);
	pl_buf_puts(&q, " ORDER BY column_index");
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query(con, q.ptr, &res, err);
	pl_buf_dispose(&q);
	if (rc)
		return rc;
	size_t top = 0;
	for (size_t i = 0; rc == 0 && i < l->len; i++) {
		pl_new_column *c = &l->items[i];
		if (c->parent >= 0 || top >= duckdb_row_count(&res))
			continue;
		bool oom = false;
		char *def = pl_engine_value_str(&res, 0, top, &oom);
		c->nulls_allowed = duckdb_value_boolean(&res, 1, top);
		top++;
		if (oom)
			rc = pl_err_nomem(err);
		else if (def) {
			bool literal = is_literal(def);
			free(c->default_value);
			free(c->default_value_type);
			c->default_value = def;
			c->default_value_type = pl_strdup(literal ? "literal" : "expression");
			/* DuckLake stores a literal default as its value text ('x' -> x) */
			if (c->default_value_type && literal)
				rc = literal_value(con, c, err);
			else if (!c->default_value_type)
				rc = pl_err_nomem(err);
		}
	}
	duckdb_destroy_result(&res);
	return rc;
}

static int check_constraints(duckdb_connection con, const char *name, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	char *kind = NULL;
	pl_buf_puts(&q, "SELECT constraint_type FROM duckdb_constraints() WHERE database_name = 'temp' AND "
			"table_name = ");
	pl_buf_put_literal(&q, name);
	pl_buf_puts(&q, " AND constraint_type <> 'NOT NULL' LIMIT 1");
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query_value(con, q.ptr, &kind, err);
	pl_buf_dispose(&q);
	if (rc == 0 && kind)
		rc = pl_err_set(err, PL_EUNSUPPORTED,
				"%s constraints are not supported on lake tables (only NOT NULL is)", kind);
	free(kind);
	return rc;
}

int pl_columns_from_temp_table(duckdb_connection con, const char *name, pl_new_column **out,
			       size_t *nout, pl_err *err)
{
	col_list l = {NULL, 0, 1};
	pl_buf q = PL_BUF_INIT;
	duckdb_result res;
	int rc = check_constraints(con, name, err);
	if (rc)
		return rc;
	pl_buf_puts(&q, "SELECT * FROM temp.main.");
	pl_buf_put_ident(&q, name);
	pl_buf_puts(&q, " LIMIT 0");
	rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query(con, q.ptr, &res, err);
	pl_buf_dispose(&q);
	if (rc)
		return rc;
	for (idx_t i = 0; rc == 0 && i < duckdb_column_count(&res); i++) {
		duckdb_logical_type t = duckdb_column_logical_type(&res, i);
		rc = add_type(&l, duckdb_column_name(&res, i), t, -1, err);
		duckdb_destroy_logical_type(&t);
	}
	duckdb_destroy_result(&res);
	if (rc == 0)
		rc = read_column_info(con, name, &l, err);
	if (rc) {
		pl_columns_free(l.items, l.len);
		return rc;
	}
	*out = l.items;
	*nout = l.len;
	return 0;
}

void pl_columns_free(pl_new_column *cols, size_t n)
{
	pl_new_columns_free(cols, n);
}

int pl_columns_copy(const pl_table *t, pl_new_column **out, size_t *nout, pl_err *err)
{
	pl_new_column *cols = calloc(t->ncolumns ? t->ncolumns : 1, sizeof(*cols));
	bool oom = !cols;
	for (size_t i = 0; !oom && i < t->ncolumns; i++) {
		const pl_column *c = &t->columns[i];
		cols[i] = (pl_new_column){.id = c->id, .order = c->order, .parent = c->parent, .name = pl_strdup(c->name),
					  .type = pl_strdup(c->type), .nulls_allowed = c->nulls_allowed};
		oom = !cols[i].name || !cols[i].type;
	}
	if (oom) {
		if (cols)
			pl_new_columns_free(cols, t->ncolumns);
		return pl_err_nomem(err);
	}
	*out = cols;
	*nout = t->ncolumns;
	return 0;
}

int pl_columns_table_def(pl_buf *out, const pl_table *t, pl_err *err)
{
	pl_buf_putc(out, '(');
	for (size_t i = 0; i < t->ntop; i++) {
		const pl_column *c = t->top[i];
		if (i)
			pl_buf_puts(out, ", ");
		pl_buf_put_ident(out, c->name);
		pl_buf_putc(out, ' ');
		int rc = pl_column_duckdb_type(out, c, err);
		if (rc)
			return rc;
		bool expression = c->default_value_type && strcmp(c->default_value_type, "expression") == 0;
		if (c->default_value && expression) {
			pl_buf_printf(out, " DEFAULT (%s)", c->default_value);
		} else if (c->default_value && !pl_str_ieq(c->default_value, "NULL")) {
			pl_buf_puts(out, " DEFAULT CAST(");
			pl_buf_put_literal(out, c->default_value);
			pl_buf_puts(out, " AS ");
			int rc = pl_column_duckdb_type(out, c, err);
			if (rc)
				return rc;
			pl_buf_putc(out, ')');
		}
		if (!c->nulls_allowed)
			pl_buf_puts(out, " NOT NULL");
	}
	pl_buf_putc(out, ')');
	return pl_buf_oom(out) ? pl_err_nomem(err) : 0;
}

void pl_columns_put_nul_check(pl_buf *out, const pl_table *t)
{
	pl_buf_puts(out, "(false");
	for (size_t i = 0; i < t->ntop; i++) {
		pl_buf_puts(out, " OR coalesce(contains(CAST(");
		pl_buf_put_ident(out, t->top[i]->name);
		pl_buf_puts(out, " AS VARCHAR), chr(0)), false)");
	}
	pl_buf_putc(out, ')');
}
