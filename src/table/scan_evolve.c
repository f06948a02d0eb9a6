/*
 * scan_evolve.c -- inlined rows written under an older shape of a nested column. An inlined-data
 * table keeps the column types of its schema version: a STRUCT whose fields were since added,
 * dropped, renamed or widened reads back through its old type, and each field then moves to the
 * current field of the same column id (DuckLake maps nested fields by id, as for Parquet files):
 * a field the old rows lack reads as its initial default, a dropped one is left out.
 */
#include <stdio.h>
#include <string.h>

#include "catalog/inline.h"
#include "table/scan_internal.h"

static bool is_struct(const pl_column *c)
{
	return strcmp(c->type, "struct") == 0;
}

static bool is_list(const pl_column *c)
{
	return strcmp(c->type, "list") == 0;
}

static bool is_map(const pl_column *c)
{
	return strcmp(c->type, "map") == 0;
}

static bool is_nested(const pl_column *c)
{
	return is_struct(c) || is_list(c) || is_map(c);
}

/* The same column ids, names and types all the way down. */
static bool same_shape(const pl_column *a, const pl_column *b)
{
	if (a->id != b->id || strcmp(a->name, b->name) != 0 || strcmp(a->type, b->type) != 0 ||
	    a->nchildren != b->nchildren)
		return false;
	for (size_t i = 0; i < a->nchildren; i++)
		if (!same_shape(a->children[i], b->children[i]))
			return false;
	return true;
}

static const pl_column *child_by_id(const pl_column *c, int64_t id)
{
	for (size_t i = 0; i < c->nchildren; i++)
		if (c->children[i]->id == id)
			return c->children[i];
	return NULL;
}

static int put_cast(pl_buf *out, const char *expr, const pl_column *cur, pl_err *err)
{
	pl_buf type = PL_BUF_INIT;
	int rc = pl_scan_column_type(&type, cur, err);
	if (rc)
		return rc;
	pl_buf_printf(out, "CAST(%s AS %s)", expr, type.ptr);
	pl_buf_dispose(&type);
	return 0;
}

/* A field the old rows do not have: its initial default (NULL when none). */
static int put_missing(pl_buf *out, const pl_column *cur, pl_err *err)
{
	pl_buf lit = PL_BUF_INIT;
	const char *def = cur->initial_default;
	if (!def || strcmp(def, "NULL") == 0 || is_nested(cur))
		pl_buf_puts(&lit, "NULL");
	else
		pl_buf_put_literal(&lit, def);
	int rc = pl_buf_oom(&lit) ? pl_err_nomem(err) : put_cast(out, lit.ptr, cur, err);
	pl_buf_dispose(&lit);
	return rc;
}

static int put_evolved(pl_buf *out, const char *expr, const pl_column *old, const pl_column *cur, int depth,
		       pl_err *err);

/* (expr) of old's type, one of its fields: struct_extract(expr, 'name'). */
static int put_field(pl_buf *out, const char *expr, const pl_column *old_field, const pl_column *cur_field,
		     int depth, pl_err *err)
{
	pl_buf sub = PL_BUF_INIT;
	pl_buf_printf(&sub, "struct_extract(%s, ", expr);
	pl_buf_put_literal(&sub, old_field->name);
	pl_buf_putc(&sub, ')');
	int rc = pl_buf_oom(&sub) ? pl_err_nomem(err) : put_evolved(out, sub.ptr, old_field, cur_field, depth, err);
	pl_buf_dispose(&sub);
	return rc;
}

static int put_struct(pl_buf *out, const char *expr, const pl_column *old, const pl_column *cur, int depth,
		      pl_err *err)
{
	pl_buf_printf(out, "CASE WHEN %s IS NULL THEN NULL ELSE struct_pack(", expr);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < cur->nchildren; i++) {
		const pl_column *cc = cur->children[i];
		const pl_column *oc = child_by_id(old, cc->id);
		if (i)
			pl_buf_puts(out, ", ");
		pl_buf_put_ident(out, cc->name);
		pl_buf_puts(out, " := ");
		rc = oc ? put_field(out, expr, oc, cc, depth, err) : put_missing(out, cc, err);
	}
	pl_buf_puts(out, ") END");
	return rc;
}

/* list_transform(expr, lambda e: <e evolved>), the lambda's name unique per nesting depth. */
static int put_list(pl_buf *out, const char *expr, const pl_column *old, const pl_column *cur, int depth,
		    pl_err *err)
{
	char var[32];
	snprintf(var, sizeof(var), "__planar_e%d", depth);
	pl_buf_printf(out, "list_transform(%s, lambda %s: ", expr, var);
	int rc = put_evolved(out, var, old->children[0], cur->children[0], depth + 1, err);
	pl_buf_putc(out, ')');
	return rc;
}

static int put_map(pl_buf *out, const char *expr, const pl_column *old, const pl_column *cur, int depth, pl_err *err)
{
	char var[32], key[48], value[48];
	snprintf(var, sizeof(var), "__planar_e%d", depth);
	snprintf(key, sizeof(key), "%s.\"key\"", var);
	snprintf(value, sizeof(value), "%s.\"value\"", var);
	pl_buf_printf(out, "map_from_entries(list_transform(map_entries(%s), lambda %s: struct_pack(\"key\" := ", expr,
		      var);
	int rc = put_evolved(out, key, old->children[0], cur->children[0], depth + 1, err);
	pl_buf_puts(out, ", \"value\" := ");
	if (rc == 0)
		rc = put_evolved(out, value, old->children[1], cur->children[1], depth + 1, err);
	pl_buf_puts(out, ")))");
	return rc;
}

/* expr holds a value of old's type: the same value in cur's type. */
static int put_evolved(pl_buf *out, const char *expr, const pl_column *old, const pl_column *cur, int depth,
		       pl_err *err)
{
	if (same_shape(old, cur) || depth > 64)
		return put_cast(out, expr, cur, err);
	pl_buf body = PL_BUF_INIT;
	int rc;
	if (is_struct(old) && is_struct(cur))
		rc = put_struct(&body, expr, old, cur, depth, err);
	else if (is_list(old) && is_list(cur) && old->nchildren == 1 && cur->nchildren == 1)
		rc = put_list(&body, expr, old, cur, depth, err);
	else if (is_map(old) && is_map(cur) && old->nchildren == 2 && cur->nchildren == 2)
		rc = put_map(&body, expr, old, cur, depth, err);
	else
		rc = put_cast(&body, expr, cur, err);
	if (rc == 0)
		rc = pl_buf_oom(&body) ? pl_err_nomem(err) : put_cast(out, body.ptr, cur, err);
	pl_buf_dispose(&body);
	return rc;
}

int pl_scan_inlined_version(const pl_model *m, const pl_table *t, const pl_inlined_table *it, pl_table **old,
			    pl_err *err)
{
	*old = NULL;
	bool nested = false;
	for (size_t i = 0; !nested && i < t->ntop; i++)
		nested = is_nested(t->top[i]);
	if (!nested || !m->history)
		return 0;
	int64_t snap = -1;
	int rc = pl_inline_version_snapshot(m->history, t->id, it->schema_version, &snap, err);
	if (rc || snap < 0)
		return rc;
	return pl_model_columns_at(m->history, t->id, snap, old, err);
}

int pl_scan_put_inlined_value(pl_buf *out, const pl_table *old, const pl_column *c, pl_err *err)
{
	const pl_column *o = NULL;
	for (size_t i = 0; old && !o && i < old->ntop; i++)
		if (old->top[i]->id == c->id)
			o = old->top[i];
	pl_buf text = PL_BUF_INIT;
	pl_buf_put_ident(&text, c->name);
	int rc = pl_buf_oom(&text) ? pl_err_nomem(err) : 0;
	if (rc == 0 && (!o || same_shape(o, c) || !is_nested(o) || !is_nested(c))) {
		rc = put_cast(out, text.ptr, c, err);
	} else if (rc == 0) {
		pl_buf typed = PL_BUF_INIT;
		rc = put_cast(&typed, text.ptr, o, err);
		if (rc == 0)
			rc = pl_buf_oom(&typed) ? pl_err_nomem(err) : put_evolved(out, typed.ptr, o, c, 0, err);
		pl_buf_dispose(&typed);
	}
	pl_buf_dispose(&text);
	return rc;
}
