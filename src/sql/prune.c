/*
 * prune.c -- statement-level file pruning (see prune.h).
 *
 * Steps: parse the statement into DuckDB's JSON syntax tree; walk every SELECT node with the
 * CTE names in scope; list the relations of its FROM clause (lake tables with their columns,
 * anything else as unknown); keep the WHERE conjuncts that compare one column of a lake table
 * with a constant expression, test it for NULL, or OR such tests of one column; turn those expressions back into SQL in one round trip; run the
 * drop query per reference; and replace each reference that loses files by a temporary view
 * over the rest, keeping its alias.
 *
 * Why WHERE conjuncts are safe to push into any relation of the FROM clause, outer joins
 * included: each kept comparison is false or NULL when its column is NULL, so a row whose
 * column fails it never reaches the result, whichever side of a join it came from. IS NULL is
 * the exception (true on the NULL side of an outer join): it is kept only when the FROM clause
 * has no outer join. Joins that pair rows by position or nearest match (POSITIONAL, ASOF) would
 * pair other rows once some are gone: their relations are not pruned.
 * Expressions that read the clock (now(), current_date, ...) are used only as lower bounds:
 * the query runs after the pruning, with a later clock, which can only narrow it.
 */
#include "sql/prune.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/aggfold.h"
#include "sql/prune_internal.h"
#include "sql/lake.h"
#include "sql/timetravel.h"
#include "table/prune.h"
#include "table/scan.h"

bool pl_prune_grow(void **items, size_t *cap, size_t len, size_t size)
{
	if (len < *cap)
		return true;
	size_t n = *cap ? *cap * 2 : 8;
	void *p = realloc(*items, n * size);
	if (!p)
		return false;
	*items = p;
	*cap = n;
	return true;
}

const char *pl_prune_member(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

bool pl_prune_member_is(json_t *o, const char *key, const char *value)
{
	return strcmp(pl_prune_member(o, key), value) == 0;
}

/* ---- relations and columns ----------------------------------------------------------------- */

static bool is_cte(const names *ctes, const char *name)
{
	for (size_t i = 0; i < ctes->len; i++)
		if (pl_str_ieq(ctes->items[i], name))
			return true;
	return false;
}

/* The lake table a BASE_TABLE node names, or NULL. */
static const pl_table *lake_table(analysis *a, json_t *bt, const names *ctes, pl_lake **lake)
{
	const char *cat = pl_prune_member(bt, "catalog_name"), *sch = pl_prune_member(bt, "schema_name"),
		   *tab = pl_prune_member(bt, "table_name");
	if (!*cat && !*sch && is_cte(ctes, tab))
		return NULL;
	char *parts[3] = {0};
	size_t n = 0;
	if (*cat)
		parts[n++] = (char *)cat;
	if (*sch)
		parts[n++] = (char *)sch;
	parts[n++] = (char *)tab;
	pl_target tgt = {0};
	pl_err err = {0};
	if (!a->located && pl_session_location(a->st, &a->cur_db, &a->cur_schema, &err) != 0)
		return NULL;
	a->located = true;
	if (pl_resolve_target_in(a->st->conn->db, a->cur_db, a->cur_schema, parts, n, &tgt, &err) != 0 || !tgt.lake) {
		pl_target_dispose(&tgt);
		return NULL;
	}
	const pl_schema *s = pl_model_schema(tgt.lake->model, tgt.schema);
	const pl_table *t = s ? pl_model_table(tgt.lake->model, s->id, tgt.name) : NULL;
	*lake = tgt.lake;
	pl_target_dispose(&tgt);
	return t;
}

/* The table a time-travel view of the statement reads (timetravel.h), or NULL. */
static const pl_table *at_view_table(analysis *a, json_t *bt, const pl_at_view **v, const pl_model **m)
{
	if (!pl_str_ieq(pl_prune_member(bt, "catalog_name"), "temp") || !pl_str_ieq(pl_prune_member(bt, "schema_name"), "main"))
		return NULL;
	pl_err err = {0};
	const planar_conn *conn = a->st->conn;
	*v = pl_timetravel_find(conn, pl_prune_member(bt, "table_name"));
	if (!*v)
		return NULL;
	/* the models stay loaded while the statement is planned when the lake keeps them all (it
	 * keeps its last few: the time travel loaded them) */
	size_t distinct = 0;
	for (size_t i = 0; i < conn->nat_views; i++) {
		const pl_at_view *x = &conn->at_views[i];
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = conn->at_views[j].lake == x->lake && conn->at_views[j].snapshot == x->snapshot;
		distinct += x->lake == (*v)->lake && !seen;
	}
	if (distinct > sizeof((*v)->lake->snap_models) / sizeof((*v)->lake->snap_models[0]) ||
	    pl_lake_model_at((*v)->lake, (*v)->snapshot, m, &err) != 0) {
		*v = NULL;
		return NULL;
	}
	return pl_model_table_by_id(*m, (*v)->table_id);
}

static long add_ref(analysis *a, json_t *bt, pl_lake *lake, const pl_model *m, int64_t snap, const pl_table *t)
{
	json_t *loc = json_object_get(bt, "query_location");
	if (!json_is_integer(loc) || json_integer_value(loc) < 0)
		return -1;
	if (!pl_prune_grow((void **)&a->refs, &a->capref, a->nrefs, sizeof(*a->refs))) {
		a->oom = true;
		return -1;
	}
	const char *alias = pl_prune_member(bt, "alias");
	a->refs[a->nrefs] = (ref){a->base + (size_t)json_integer_value(loc), *alias != '\0',
				  pl_prune_member(bt, "table_name"), lake, m, snap, t, NULL, 0, 0, NULL, false};
	return (long)a->nrefs++;
}

static void add_rel(analysis *a, rel **rels, size_t *n, size_t *cap, const char *name, long r)
{
	if (!pl_prune_grow((void **)rels, cap, *n, sizeof(**rels))) {
		a->oom = true;
		return;
	}
	(*rels)[(*n)++] = (rel){name, r};
}

/* Lists the relations of a FROM clause. Under a join that pairs rows by position or by the
 * nearest match (POSITIONAL, ASOF) removing rows changes the pairs: nothing there is pruned. */
static void gather(analysis *a, json_t *from, const names *ctes, rel **rels, size_t *n, size_t *cap, bool *outer,
		   bool opaque)
{
	const char *type = pl_prune_member(from, "type");
	const char *alias = pl_prune_member(from, "alias");
	if (strcmp(type, "JOIN") == 0) {
		const char *ref_type = pl_prune_member(from, "ref_type");
		opaque = opaque || strcmp(ref_type, "POSITIONAL") == 0 || strcmp(ref_type, "ASOF") == 0;
		*outer = *outer || !pl_prune_member_is(from, "join_type", "INNER");
		gather(a, json_object_get(from, "left"), ctes, rels, n, cap, outer, opaque);
		gather(a, json_object_get(from, "right"), ctes, rels, n, cap, outer, opaque);
		return;
	}
	if (strcmp(type, "EMPTY") == 0 || strcmp(type, "EMPTY_FROM") == 0 || !*type)
		return;
	if (strcmp(type, "BASE_TABLE") != 0 || opaque) {
		add_rel(a, rels, n, cap, *alias ? alias : pl_prune_member(from, "table_name"), -1);
		return;
	}
	pl_lake *lake = NULL;
	const pl_at_view *at = NULL;
	const pl_model *m = NULL;
	const pl_table *t = at_view_table(a, from, &at, &m);
	if (at)
		lake = at->lake;
	else if ((t = lake_table(a, from, ctes, &lake)) != NULL)
		m = lake->model;
	bool plain = json_is_null(json_object_get(from, "sample")) &&
		     json_array_size(json_object_get(from, "column_name_alias")) == 0 &&
		     json_is_null(json_object_get(from, "at_clause"));
	bool large = t && pl_model_table_nfiles_hint(m, t) >= a->min_files;
	long r = plain && large ? add_ref(a, from, lake, m, at ? at->snapshot : -1, t) : -1;
	add_rel(a, rels, n, cap, *alias ? alias : pl_prune_member(from, "table_name"), r);
}

static const pl_column *find_column(const pl_table *t, const char *name)
{
	for (size_t i = 0; i < t->ntop; i++)
		if (pl_str_ieq(t->top[i]->name, name))
			return t->top[i];
	return NULL;
}

/* Resolves a COLUMN_REF to a pruned reference and its column (NULL when it is not one). */
ref *pl_prune_resolve_column(analysis *a, json_t *cr, rel *rels, size_t n, const pl_column **col)
{
	json_t *parts = json_object_get(cr, "column_names");
	size_t np = json_array_size(parts);
	const char *first = json_string_value(json_array_get(parts, 0));
	if (np == 2) {
		for (size_t i = 0; i < n; i++) {
			if (!pl_str_ieq(rels[i].name, first))
				continue;
			if (rels[i].ref < 0)
				return NULL;
			ref *r = &a->refs[rels[i].ref];
			*col = find_column(r->table, json_string_value(json_array_get(parts, 1)));
			return *col ? r : NULL;
		}
		return NULL;
	}
	if (np != 1 || n != 1 || rels[0].ref < 0)
		return NULL; /* unqualified names are resolved only against a single relation */
	ref *r = &a->refs[rels[0].ref];
	*col = find_column(r->table, first);
	return *col ? r : NULL;
}

/* ---- walking the tree ---------------------------------------------------------------------- */

static void walk(analysis *a, json_t *v, names *ctes);

static void push_ctes(analysis *a, json_t *node, names *ctes)
{
	size_t i;
	json_t *entry;
	json_array_foreach(json_object_get(json_object_get(node, "cte_map"), "map"), i, entry)
	{
		if (!pl_prune_grow((void **)&ctes->items, &ctes->cap, ctes->len, sizeof(*ctes->items))) {
			a->oom = true;
			return;
		}
		ctes->items[ctes->len++] = pl_prune_member(entry, "key");
	}
}

/* `SELECT <columns> FROM <one lake table> ... ORDER BY c ... LIMIT n`: the rows kept are the
 * first in that order whatever order the files are read in, and reading first the files whose
 * bounds lead lets DuckDB's Top-N filter skip the others' row groups. Only plain column lists (no
 * grouping, aggregates or DISTINCT, whose results could depend on the reading order). */
static void top_n(analysis *a, json_t *node, from_rels *fr)
{
	if (fr->n != 1 || fr->items[0].ref < 0 || json_array_size(json_object_get(node, "group_expressions")) > 0 ||
	    !json_is_null(json_object_get(node, "having")) || !json_is_null(json_object_get(node, "qualify")) ||
	    !json_is_null(json_object_get(node, "sample")))
		return;
	size_t i;
	json_t *e, *order = NULL;
	bool limit = false;
	json_array_foreach(json_object_get(node, "select_list"), i, e)
	{
		bool star = pl_prune_member_is(e, "class", "STAR") &&
			    json_array_size(json_object_get(e, "replace_list")) == 0 &&
			    !json_is_true(json_object_get(e, "columns")) && json_is_null(json_object_get(e, "expr"));
		if (!star && !pl_prune_member_is(e, "class", "COLUMN_REF"))
			return; /* an expression might see the reading order (a window over no order) */
	}
	json_array_foreach(json_object_get(node, "modifiers"), i, e)
	{
		if (pl_prune_member_is(e, "type", "ORDER_MODIFIER") && !order)
			order = json_array_get(json_object_get(e, "orders"), 0);
		else if (pl_prune_member_is(e, "type", "LIMIT_MODIFIER"))
			limit = pl_prune_member_is(json_object_get(e, "limit"), "class", "CONSTANT");
		else
			return; /* DISTINCT, a second ORDER BY, ... */
	}
	const pl_column *c = NULL;
	ref *r = order && limit ? pl_prune_resolve_column(a, json_object_get(order, "expression"), fr->items, fr->n, &c)
				: NULL;
	/* NULLS FIRST leads with the NULLs, which the bounds do not rank: files stay in their order */
	if (!r || !pl_prune_column_is_usable(c) || pl_prune_member_is(order, "null_order", "NULLS FIRST"))
		return;
	r->order_by = c;
	r->order_desc = pl_prune_member_is(order, "type", "DESCENDING");
}

static void select_node(analysis *a, json_t *node, names *ctes)
{
	from_rels fr = {0};
	gather(a, json_object_get(node, "from_table"), ctes, &fr.items, &fr.n, &fr.cap, &fr.outer, false);
	json_t *where = json_object_get(node, "where_clause");
	if (where && !json_is_null(where) && !a->oom)
		pl_prune_conjuncts(a, where, &fr);
	if (!a->oom)
		top_n(a, node, &fr);
	free(fr.items);
}

/* Column references of three or more parts may name a table by its full name, which the
 * rewrite would break. */
static bool has_long_column_ref(json_t *v)
{
	if (json_is_array(v)) {
		size_t i;
		json_t *k;
		json_array_foreach(v, i, k)
		{
			if (has_long_column_ref(k))
				return true;
		}
		return false;
	}
	if (!json_is_object(v))
		return false;
	if (pl_prune_member_is(v, "class", "COLUMN_REF") && json_array_size(json_object_get(v, "column_names")) > 2)
		return true;
	const char *key;
	json_t *k;
	json_object_foreach(v, key, k)
	{
		if (has_long_column_ref(k))
			return true;
	}
	return false;
}

static void walk(analysis *a, json_t *v, names *ctes)
{
	if (a->oom)
		return;
	size_t saved = ctes->len;
	if (json_is_object(v)) {
		if (json_object_get(v, "cte_map"))
			push_ctes(a, v, ctes);
		if (pl_prune_member_is(v, "type", "SELECT_NODE"))
			select_node(a, v, ctes);
		const char *key;
		json_t *k;
		json_object_foreach(v, key, k)
		{
			walk(a, k, ctes);
		}
	} else if (json_is_array(v)) {
		size_t i;
		json_t *k;
		json_array_foreach(v, i, k)
		{
			walk(a, k, ctes);
		}
	}
	ctes->len = saved;
}

/* ---- DuckDB round trips -------------------------------------------------------------------- */

/* DuckDB writes "no location" as 2^64-1, which jansson cannot hold: read it as -1 and write it
 * back the same way. */
static const char unknown_loc[] = "\"query_location\":18446744073709551615";
static const char unknown_loc_short[] = "\"query_location\":-1";

static char *replace_all(const char *s, const char *from, const char *to)
{
	pl_buf b = PL_BUF_INIT;
	size_t nf = strlen(from);
	for (const char *p; (p = strstr(s, from)) != NULL; s = p + nf) {
		pl_buf_put(&b, s, (size_t)(p - s));
		pl_buf_puts(&b, to);
	}
	pl_buf_puts(&b, s);
	return pl_buf_detach(&b);
}

/* The statement (and `SELECT 1`, the template for expressions) as syntax trees. */
static int parse_statement(duckdb_connection con, const char *sql, json_t **stmt, json_t **tmpl)
{
	pl_buf q = PL_BUF_INIT;
	duckdb_result res;
	pl_err err = {0};
	pl_buf_puts(&q, "SELECT json_serialize_sql(");
	pl_buf_put_literal(&q, sql);
	pl_buf_puts(&q, "), json_serialize_sql('SELECT 1')");
	int rc = pl_buf_oom(&q) ? -1 : pl_engine_query(con, q.ptr, &res, &err);
	pl_buf_dispose(&q);
	if (rc)
		return -1;
	bool oom = false;
	char *text[2] = {pl_engine_value_str(&res, 0, 0, &oom), pl_engine_value_str(&res, 1, 0, &oom)};
	duckdb_destroy_result(&res);
	json_t *trees[2] = {NULL, NULL};
	for (int i = 0; i < 2; i++) {
		char *fixed = text[i] ? replace_all(text[i], unknown_loc, unknown_loc_short) : NULL;
		trees[i] = fixed ? json_loads(fixed, 0, NULL) : NULL;
		free(fixed);
		free(text[i]);
	}
	if (!trees[0] || !trees[1] || json_is_true(json_object_get(trees[0], "error"))) {
		json_decref(trees[0]);
		json_decref(trees[1]);
		return -1;
	}
	*stmt = trees[0];
	*tmpl = trees[1];
	return 0;
}

/* `SELECT <e>` as JSON text for json_deserialize_sql. */
static char *expr_statement(json_t *tmpl, json_t *e)
{
	json_t *node = json_object_get(json_object_get(json_array_get(json_object_get(tmpl, "statements"), 0), "node"),
				       "select_list");
	if (!json_is_array(node) || json_array_set(node, 0, e) != 0)
		return NULL;
	char *dumped = json_dumps(tmpl, JSON_COMPACT);
	char *fixed = dumped ? replace_all(dumped, unknown_loc_short, unknown_loc) : NULL;
	free(dumped);
	return fixed;
}

/* A constant integer or text literal as SQL, written here (NULL: any other expression, for
 * DuckDB to write). */
static char *simple_constant(json_t *e)
{
	json_t *v = json_object_get(e, "value");
	const char *id = json_string_value(json_object_get(json_object_get(v, "type"), "id"));
	json_t *x = json_object_get(v, "value");
	if (!pl_prune_member_is(e, "type", "VALUE_CONSTANT") || !id || json_is_true(json_object_get(v, "is_null")))
		return NULL;
	pl_buf b = PL_BUF_INIT;
	if ((strcmp(id, "INTEGER") == 0 || strcmp(id, "BIGINT") == 0) && json_is_integer(x)) {
		pl_buf_printf(&b, "%lld", (long long)json_integer_value(x));
	} else if (strcmp(id, "VARCHAR") == 0 && json_is_string(x) &&
		   !memchr(json_string_value(x), '\0', json_string_length(x))) {
		pl_buf_put_literal(&b, json_string_value(x));
	} else {
		return NULL;
	}
	return pl_buf_detach(&b);
}

/* Fills a->exprs[*].sql: integer and text constants here, the others with one query. */
static int expressions_to_sql(analysis *a, duckdb_connection con, json_t *tmpl)
{
	pl_buf q = PL_BUF_INIT;
	size_t asked = 0;
	pl_buf_puts(&q, "SELECT k, json_deserialize_sql(j) FROM (VALUES ");
	for (size_t i = 0; i < a->nexprs; i++) {
		if ((a->exprs[i].sql = simple_constant(a->exprs[i].node)) != NULL)
			continue;
		char *js = expr_statement(tmpl, a->exprs[i].node);
		if (!js) {
			pl_buf_dispose(&q);
			return -1;
		}
		pl_buf_printf(&q, "%s(%zu, ", asked++ ? ", " : "", i);
		pl_buf_put_literal(&q, js);
		pl_buf_putc(&q, ')');
		free(js);
	}
	if (asked == 0) {
		pl_buf_dispose(&q);
		return 0;
	}
	pl_buf_puts(&q, ") AS v(k, j) ORDER BY k");
	duckdb_result res;
	pl_err err = {0};
	int rc = pl_buf_oom(&q) ? -1 : pl_engine_query(con, q.ptr, &res, &err);
	pl_buf_dispose(&q);
	if (rc)
		return -1;
	bool oom = false;
	for (idx_t r = 0; r < duckdb_row_count(&res); r++) {
		int64_t k = duckdb_value_int64(&res, 0, r);
		char *s = pl_engine_value_str(&res, 1, r, &oom);
		if (k >= 0 && (size_t)k < a->nexprs && !a->exprs[k].sql && s && pl_str_has_prefix_i(s, "SELECT "))
			a->exprs[k].sql = pl_strdup(s + 7);
		free(s);
	}
	for (size_t i = 0; i < a->nexprs; i++)
		if (!a->exprs[i].sql)
			rc = -1;
	duckdb_destroy_result(&res);
	return rc;
}

/* ---- rewriting ----------------------------------------------------------------------------- */

/* Keeps the files of t marked in keep (in order[], when given): a shallow copy sharing the
 * model's strings. */
static int subset_table(const pl_table *t, const bool *keep, const size_t *order, size_t nkept, pl_table *out,
			pl_data_file **files)
{
	*out = *t;
	*files = malloc((nkept ? nkept : 1) * sizeof(**files));
	if (!*files)
		return -1;
	size_t n = 0;
	for (size_t k = 0; k < t->nfiles; k++) {
		size_t i = order ? order[k] : k;
		if (keep[i])
			(*files)[n++] = t->files[i];
	}
	out->files = *files;
	out->nfiles = n;
	return 0;
}

static int create_pruned_view(planar_conn *conn, ref *r, const bool *keep, const size_t *order, size_t nkept,
			      const char *view, pl_err *err)
{
	pl_table sub;
	pl_data_file *files = NULL;
	if (subset_table(r->table, keep, order, nkept, &sub, &files))
		return pl_err_nomem(err);
	pl_buf q = PL_BUF_INIT;
	pl_buf_puts(&q, "CREATE OR REPLACE TEMP VIEW ");
	pl_buf_put_ident(&q, view);
	pl_buf_puts(&q, " AS ");
	int64_t sets[2];
	int rc = pl_scan_prepare_deletes(&conn->db->deletes, conn->db->admin, r->model, &sub, sets, err);
	char *companion = NULL;
	if (rc == 0)
		pl_scan_companion(&conn->db->empty, r->model, &sub, &companion);
	if (rc == 0)
		rc = pl_scan_sql(&q, r->lake->name, r->model, &sub, sets, companion, err);
	free(companion);
	if (rc == 0 && pl_buf_oom(&q))
		rc = pl_err_nomem(err);
	/* a query's view is made after the lock: the statement holds the files chosen now */
	if (rc == 0 && conn->views_later)
		rc = pl_strv_push_owned(&conn->later, pl_buf_detach(&q)) ? pl_err_nomem(err) : 0;
	else if (rc == 0)
		rc = pl_engine_exec(conn->con, q.ptr, err);
	free(files);
	pl_buf_dispose(&q);
	return rc;
}

int pl_prune_make_views(planar_conn *conn, bool run, pl_err *err)
{
	int rc = 0;
	for (size_t i = 0; i < conn->later.len; i++)
		if (run && rc == 0)
			rc = pl_engine_exec(conn->con, conn->later.items[i], err);
	pl_strv_dispose(&conn->later);
	conn->views_later = false;
	return rc;
}

/* The files of r's table that may match; *pruned false when that is all of them. */
static int prune_ref(planar_conn *conn, analysis *a, ref *r, bool **keep, size_t *nkept, pl_err *err)
{
	pl_prune_cond *pc = calloc(r->nconds ? r->nconds : 1, sizeof(*pc));
	pl_prune_atom *atoms = calloc(a->natoms ? a->natoms : 1, sizeof(*atoms));
	size_t nfiles = 0;
	int rc = pl_model_table_files(r->model, r->table, NULL, &nfiles, err);
	*keep = malloc((nfiles ? nfiles : 1) * sizeof(**keep));
	if (rc == 0 && (!pc || !atoms || !*keep))
		rc = pl_err_nomem(err);
	for (size_t i = 0; rc == 0 && i < a->natoms; i++)
		atoms[i] = (pl_prune_atom){a->atoms[i].op, a->atoms[i].slot >= 0 ? a->exprs[a->atoms[i].slot].sql : NULL};
	for (size_t i = 0; rc == 0 && i < r->nconds; i++)
		pc[i] = (pl_prune_cond){r->conds[i].column, atoms + r->conds[i].first, r->conds[i].n};
	if (rc == 0)
		rc = pl_prune_files(conn->con, r->lake->name, r->snapshot, r->table, pc, r->nconds, *keep, nkept, err);
	free(pc);
	free(atoms);
	return rc;
}

/* Token index whose text starts at byte offset loc. */
static size_t token_at(const pl_toks *t, size_t loc)
{
	for (size_t i = 0; i < t->len; i++)
		if (t->items[i].start == loc)
			return i;
	return t->len;
}

/* Token range [*from, *to) of the reference's name; false when the text does not match. */
static bool ref_tokens(const pl_toks *t, const ref *r, size_t *from, size_t *to)
{
	size_t i = token_at(t, r->location);
	char *parts[3] = {0};
	size_t n = 0;
	pl_err err = {0};
	*from = i;
	if (i >= t->len || pl_parse_qname(t, &i, parts, &n, &err) != 0)
		return false;
	bool ok = n > 0 && pl_str_ieq(parts[n - 1], r->table_name);
	for (size_t k = 0; k < n; k++)
		free(parts[k]);
	*to = i;
	return ok;
}

static int cmp_ref(const void *x, const void *y)
{
	const ref *a = x, *b = y;
	return a->location < b->location ? -1 : a->location > b->location;
}

static int rewrite(planar_conn *conn, analysis *a, const pl_toks *t, char **sql_out, pl_strv *views, pl_err *err)
{
	pl_buf out = PL_BUF_INIT;
	size_t copied = 0, rewritten = 0;
	int rc = 0;
	qsort(a->refs, a->nrefs, sizeof(*a->refs), cmp_ref);
	for (size_t i = 0; rc == 0 && i < a->nrefs; i++) {
		ref *r = &a->refs[i];
		size_t from, to, nkept = 0;
		bool *keep = NULL;
		size_t *order = NULL;
		if ((r->nconds == 0 && !r->order_by) || !ref_tokens(t, r, &from, &to) || t->items[from].start < copied)
			continue;
		pl_err perr = {0};
		int prc = prune_ref(conn, a, r, &keep, &nkept, &perr);
		if (prc == 0 && r->order_by && (order = malloc((r->table->nfiles ? r->table->nfiles : 1) * sizeof(*order))))
			prc = pl_prune_order(conn->con, r->lake->name, r->snapshot, r->table, r->order_by, r->order_desc, order,
					     &perr);
		else if (prc == 0 && r->order_by)
			prc = pl_err_nomem(&perr);
		bool reordered = false;
		for (size_t k = 0; prc == 0 && order && k < r->table->nfiles; k++)
			reordered = reordered || order[k] != k;
		if (prc != 0 || (nkept == r->table->nfiles && !reordered)) {
			free(keep);
			free(order);
			if (perr.code == PL_ENOMEM)
				rc = pl_err_nomem(err);
			continue;
		}
		char view[64];
		snprintf(view, sizeof(view), "__planar_prune_%lu", ++conn->tmp_seq);
		rc = create_pruned_view(conn, r, keep, prc == 0 ? order : NULL, nkept, view, err);
		free(keep);
		free(order);
		if (rc == 0)
			rc = pl_strv_push(views, view) ? pl_err_nomem(err) : 0;
		if (rc)
			break;
		pl_buf_put(&out, t->src + copied, t->items[from].start - copied);
		pl_buf_puts(&out, "temp.main.");
		pl_buf_put_ident(&out, view);
		if (!r->has_alias) {
			pl_buf_puts(&out, " AS ");
			pl_buf_put_ident(&out, r->table_name);
		}
		copied = t->items[to - 1].start + t->items[to - 1].len;
		rewritten++;
	}
	return pl_rewrite_finish(&out, t, copied, rc == 0 && rewritten > 0, rc, sql_out, err);
}

/* ---- entry --------------------------------------------------------------------------------- */

static bool any_large_table(const planar_db *db, size_t min_files)
{
	for (size_t i = 0; i < db->nlakes; i++) {
		const pl_model *m = db->lakes[i]->model;
		for (size_t k = 0; m && k < m->ntables; k++)
			if (pl_model_table_nfiles_hint(m, &m->tables[k]) >= min_files)
				return true;
	}
	return false;
}

/* Index of the first token of the query: after EXPLAIN [ANALYZE]; t->len when not a query. */
static size_t query_start(const pl_toks *t)
{
	size_t i = 0;
	if (pl_tok_is(t, i, "EXPLAIN"))
		i += pl_tok_is(t, i + 1, "ANALYZE") ? 2 : 1;
	if (pl_tok_is(t, i, "SELECT") || pl_tok_is(t, i, "WITH") || pl_tok_is(t, i, "FROM") ||
	    pl_tok_is_punct(t, i, "("))
		return i;
	return t->len;
}

static void analysis_dispose(analysis *a)
{
	for (size_t i = 0; i < a->nrefs; i++)
		free(a->refs[i].conds);
	free(a->refs);
	for (size_t i = 0; i < a->nexprs; i++)
		free(a->exprs[i].sql);
	free(a->exprs);
	free(a->atoms);
	free(a->cur_db);
	free(a->cur_schema);
}

void pl_prune_preparse_clear(planar_conn *conn)
{
	free(conn->pre_sql);
	json_decref(conn->pre_stmt);
	json_decref(conn->pre_tmpl);
	conn->pre_sql = NULL;
	conn->pre_stmt = conn->pre_tmpl = NULL;
}

void pl_prune_preparse(planar_conn *conn, const pl_toks *t)
{
	pl_prune_preparse_clear(conn);
	size_t start = query_start(t);
	if (start >= t->len || pl_tok_is(t, 0, "EXPLAIN") || !__atomic_load_n(&conn->db->prune_hint, __ATOMIC_RELAXED))
		return;
	const char *sql = t->src + t->items[start].start;
	json_t *stmt = NULL, *tmpl = NULL;
	if (parse_statement(conn->con, sql, &stmt, &tmpl) != 0)
		return;
	conn->pre_sql = pl_strdup(sql);
	if (!conn->pre_sql) {
		json_decref(stmt);
		json_decref(tmpl);
		return;
	}
	conn->pre_stmt = stmt;
	conn->pre_tmpl = tmpl;
}

int pl_prune_rewrite(planar_conn *conn, const pl_toks *t, char **sql_out, pl_strv *views, pl_err *err)
{
	*sql_out = NULL;
	/* the session's views resolve their files by the DuckDB connection binding them */
	duckdb_client_context ctx = NULL;
	duckdb_connection_get_client_context(conn->con, &ctx);
	int rc = ctx ? pl_delcache_conn_put(&conn->db->deletes, duckdb_client_context_get_connection_id(ctx), conn) : 0;
	if (ctx)
		duckdb_destroy_client_context(&ctx);
	if (rc)
		return pl_err_nomem(err);
	rc = pl_agg_fold_rewrite(conn, t, sql_out, err);
	if (rc || *sql_out)
		return rc;
	size_t start = query_start(t);
	/* Pruning costs a parse of the statement, more than reading a few small files whole; under
	 * EXPLAIN the plan shows the files pruning keeps whatever the table's size. */
	size_t min_files = pl_tok_is(t, 0, "EXPLAIN") ? 2 : PL_PRUNE_MIN_FILES;
	bool large = start < t->len && any_large_table(conn->db, min_files);
	if (min_files == PL_PRUNE_MIN_FILES && __atomic_load_n(&conn->db->prune_hint, __ATOMIC_RELAXED) != large)
		__atomic_store_n(&conn->db->prune_hint, large, __ATOMIC_RELAXED);
	if (start >= t->len || (!large && conn->nat_views == 0))
		return 0;
	pl_stmt st = {conn, t->src, *t, NULL, PL_EXPLAIN_NONE, NULL};
	analysis a = {.st = &st, .base = t->items[start].start, .min_files = min_files};
	json_t *stmt = NULL, *tmpl = NULL;
	if (conn->pre_sql && strcmp(conn->pre_sql, t->src + a.base) == 0) { /* parsed before the lock */
		stmt = conn->pre_stmt;
		tmpl = conn->pre_tmpl;
		conn->pre_stmt = conn->pre_tmpl = NULL;
	} else if (parse_statement(conn->con, t->src + a.base, &stmt, &tmpl) != 0) {
		return 0;
	}
	names ctes = {0};
	if (!has_long_column_ref(stmt))
		walk(&a, stmt, &ctes);
	free(ctes.items);
	bool any = a.natoms > 0;
	for (size_t i = 0; i < a.nrefs && !any; i++)
		any = a.refs[i].order_by != NULL;
	if (a.oom)
		rc = pl_err_nomem(err);
	else if (any && (a.nexprs == 0 || expressions_to_sql(&a, conn->con, tmpl) == 0))
		rc = rewrite(conn, &a, t, sql_out, views, err);
	analysis_dispose(&a);
	json_decref(stmt);
	json_decref(tmpl);
	return rc;
}
