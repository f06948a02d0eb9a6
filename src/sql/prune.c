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

#include "sql/countstar.h"
#include "sql/lake.h"
#include "sql/timetravel.h"
#include "table/prune.h"
#include "table/scan.h"

/* A constant expression found in the statement; its SQL text once deserialized. */
typedef struct expr_slot {
	json_t *node;
	char *sql;
} expr_slot;

/* `column op <expression slot>` (slot -1: IS [NOT] NULL). */
typedef struct atom {
	pl_prune_op op;
	long slot;
} atom;

/* A disjunction of atoms over one column: atoms first .. first+n-1 of the analysis. */
typedef struct cond {
	const pl_column *column;
	size_t first, n;
} cond;

/* One reference to a lake table in a FROM clause. */
typedef struct ref {
	size_t location; /* byte offset of its name in the statement */
	bool has_alias;
	const char *table_name;
	pl_lake *lake;
	const pl_model *model; /* the lake's, or its model at snapshot (a time-travel view) */
	int64_t snapshot;      /* -1: the lake's current state */
	const pl_table *table;
	cond *conds;
	size_t nconds, cap;
} ref;

/* A relation of one FROM clause: a lake table reference (ref >= 0) or something whose columns
 * are unknown here. */
typedef struct rel {
	const char *name; /* alias, or table name */
	long ref;
} rel;

typedef struct names {
	const char **items;
	size_t len, cap;
} names;

typedef struct analysis {
	pl_stmt *st;
	size_t base; /* offset of the analysed text in the statement */
	bool located; /* the session's location below was read (once per statement) */
	char *cur_db, *cur_schema;
	ref *refs;
	size_t nrefs, capref;
	expr_slot *exprs;
	size_t nexprs, capexpr;
	atom *atoms;
	size_t natoms, capatom;
	size_t min_files; /* tables with fewer files are read whole */
	bool oom;
} analysis;

static bool grow(void **items, size_t *cap, size_t len, size_t size)
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

static const char *str_member(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static bool is_type(json_t *o, const char *key, const char *value)
{
	return strcmp(str_member(o, key), value) == 0;
}

/* ---- constant expressions ------------------------------------------------------------------ */

static const char *const pure_functions[] = {
	"+", "-", "*", "/", "//", "%", "to_years", "to_months", "to_weeks", "to_days", "to_hours",
	"to_minutes", "to_seconds", "to_milliseconds", "to_microseconds", "trunc", "date_trunc",
	"make_date", "make_time", "make_timestamp", "make_timestamptz", "to_timestamp", "epoch_ms",
	"strptime", "abs", "round", "lower", "upper", "concat", "||",
};
static const char *const clock_functions[] = {
	"now", "current_timestamp", "get_current_timestamp", "transaction_timestamp", "current_date",
	"today", "current_localtimestamp",
};

static bool in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (pl_str_ieq(s, list[i]))
			return true;
	return false;
}

/* True when e is a constant: literals, casts and pure functions of constants. *clock is set
 * when it reads the clock. */
static bool is_constant(json_t *e, bool *clock)
{
	const char *cls = str_member(e, "class");
	if (strcmp(cls, "CONSTANT") == 0)
		return true;
	if (strcmp(cls, "CAST") == 0)
		return is_constant(json_object_get(e, "child"), clock);
	if (strcmp(cls, "FUNCTION") != 0 || strlen(str_member(e, "schema")) > 0 ||
	    !json_is_null(json_object_get(e, "filter")) || json_is_true(json_object_get(e, "distinct")))
		return false;
	const char *fn = str_member(e, "function_name");
	bool reads_clock = in_list(fn, clock_functions, sizeof(clock_functions) / sizeof(clock_functions[0]));
	if (!reads_clock && !in_list(fn, pure_functions, sizeof(pure_functions) / sizeof(pure_functions[0])))
		return false;
	*clock = *clock || reads_clock;
	json_t *kids = json_object_get(e, "children");
	size_t i;
	json_t *k;
	json_array_foreach(kids, i, k)
	{
		if (!is_constant(k, clock))
			return false;
	}
	return true;
}

static long add_expr(analysis *a, json_t *e)
{
	if (!grow((void **)&a->exprs, &a->capexpr, a->nexprs, sizeof(*a->exprs))) {
		a->oom = true;
		return -1;
	}
	a->exprs[a->nexprs] = (expr_slot){e, NULL};
	return (long)a->nexprs++;
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
	const char *cat = str_member(bt, "catalog_name"), *sch = str_member(bt, "schema_name"),
		   *tab = str_member(bt, "table_name");
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
	if (!pl_str_ieq(str_member(bt, "catalog_name"), "temp") || !pl_str_ieq(str_member(bt, "schema_name"), "main"))
		return NULL;
	pl_err err = {0};
	const planar_conn *conn = a->st->conn;
	*v = pl_timetravel_find(conn, str_member(bt, "table_name"));
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
	if (!grow((void **)&a->refs, &a->capref, a->nrefs, sizeof(*a->refs))) {
		a->oom = true;
		return -1;
	}
	const char *alias = str_member(bt, "alias");
	a->refs[a->nrefs] = (ref){a->base + (size_t)json_integer_value(loc), *alias != '\0',
				  str_member(bt, "table_name"), lake, m, snap, t, NULL, 0, 0};
	return (long)a->nrefs++;
}

static void add_rel(analysis *a, rel **rels, size_t *n, size_t *cap, const char *name, long r)
{
	if (!grow((void **)rels, cap, *n, sizeof(**rels))) {
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
	const char *type = str_member(from, "type");
	const char *alias = str_member(from, "alias");
	if (strcmp(type, "JOIN") == 0) {
		const char *ref_type = str_member(from, "ref_type");
		opaque = opaque || strcmp(ref_type, "POSITIONAL") == 0 || strcmp(ref_type, "ASOF") == 0;
		*outer = *outer || !is_type(from, "join_type", "INNER");
		gather(a, json_object_get(from, "left"), ctes, rels, n, cap, outer, opaque);
		gather(a, json_object_get(from, "right"), ctes, rels, n, cap, outer, opaque);
		return;
	}
	if (strcmp(type, "EMPTY") == 0 || strcmp(type, "EMPTY_FROM") == 0 || !*type)
		return;
	if (strcmp(type, "BASE_TABLE") != 0 || opaque) {
		add_rel(a, rels, n, cap, *alias ? alias : str_member(from, "table_name"), -1);
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
	add_rel(a, rels, n, cap, *alias ? alias : str_member(from, "table_name"), r);
}

static const pl_column *find_column(const pl_table *t, const char *name)
{
	for (size_t i = 0; i < t->ntop; i++)
		if (pl_str_ieq(t->top[i]->name, name))
			return t->top[i];
	return NULL;
}

/* Resolves a COLUMN_REF to a pruned reference and its column (NULL when it is not one). */
static ref *resolve_column(analysis *a, json_t *cr, rel *rels, size_t n, const pl_column **col)
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

/* ---- WHERE conjuncts ----------------------------------------------------------------------- */

/* The relations of one FROM clause. A WHERE conjunct that is false or NULL on a NULL column can
 * be pushed into any of them; IS NULL is true there, so it prunes only without outer joins (the
 * NULL side of a join would gain rows that lost their match). */
typedef struct from_rels {
	rel *items;
	size_t n, cap;
	bool outer;
} from_rels;

static const struct {
	const char *type;
	pl_prune_op op, flipped;
} comparisons[] = {
	{"COMPARE_EQUAL", PL_PRUNE_EQ, PL_PRUNE_EQ},
	{"COMPARE_NOTEQUAL", PL_PRUNE_NE, PL_PRUNE_NE},
	{"COMPARE_LESSTHAN", PL_PRUNE_LT, PL_PRUNE_GT},
	{"COMPARE_LESSTHANOREQUALTO", PL_PRUNE_LE, PL_PRUNE_GE},
	{"COMPARE_GREATERTHAN", PL_PRUNE_GT, PL_PRUNE_LT},
	{"COMPARE_GREATERTHANOREQUALTO", PL_PRUNE_GE, PL_PRUNE_LE},
};

/* Atoms gathered for one condition before it is kept: all on one column of one reference. */
typedef struct pending {
	ref *target;
	const pl_column *column;
	pl_prune_op ops[1024];
	json_t *exprs[1024];
	size_t n;
} pending;

static bool is_lower_bound(pl_prune_op op)
{
	return op == PL_PRUNE_GT || op == PL_PRUNE_GE;
}

/* Adds `col op e` to p; false when col is not a column of a pruned reference, or not the one p
 * is about. */
static bool pend(analysis *a, pending *p, json_t *col, pl_prune_op op, json_t *e, from_rels *fr)
{
	const pl_column *c = NULL;
	ref *target = resolve_column(a, col, fr->items, fr->n, &c);
	if (!target || !pl_prune_column_is_usable(c) || p->n == sizeof(p->ops) / sizeof(p->ops[0]) ||
	    (p->n > 0 && (target != p->target || c != p->column)))
		return false;
	p->target = target;
	p->column = c;
	p->ops[p->n] = op;
	p->exprs[p->n++] = e;
	return true;
}

static bool comparison_atom(analysis *a, json_t *e, pending *p, from_rels *fr)
{
	const char *type = str_member(e, "type");
	for (size_t k = 0; k < sizeof(comparisons) / sizeof(comparisons[0]); k++) {
		if (strcmp(type, comparisons[k].type) != 0)
			continue;
		json_t *l = json_object_get(e, "left"), *r = json_object_get(e, "right");
		bool left_col = is_type(l, "class", "COLUMN_REF");
		json_t *col = left_col ? l : r, *val = left_col ? r : l;
		pl_prune_op op = left_col ? comparisons[k].op : comparisons[k].flipped;
		bool clock = false;
		/* the query runs after pruning, with a later clock: a clock expression only bounds below */
		if (!is_type(col, "class", "COLUMN_REF") || !is_constant(val, &clock) || (clock && !is_lower_bound(op)))
			return false;
		return pend(a, p, col, op, val, fr);
	}
	return false;
}

static bool in_atoms(analysis *a, json_t *e, pending *p, from_rels *fr)
{
	json_t *kids = json_object_get(e, "children");
	size_t nk = json_array_size(kids);
	json_t *col = json_array_get(kids, 0);
	if (nk < 2 || !is_type(col, "class", "COLUMN_REF"))
		return false;
	for (size_t i = 1; i < nk; i++) {
		bool clock = false;
		json_t *v = json_array_get(kids, i);
		if (!is_constant(v, &clock) || clock || !pend(a, p, col, PL_PRUNE_EQ, v, fr))
			return false;
	}
	return true;
}

/* The atoms of e, a disjunct: a comparison, IN, IS [NOT] NULL or an OR of those. */
static bool atoms_of(analysis *a, json_t *e, pending *p, from_rels *fr)
{
	const char *cls = str_member(e, "class"), *type = str_member(e, "type");
	if (strcmp(cls, "COMPARISON") == 0)
		return comparison_atom(a, e, p, fr);
	if (strcmp(cls, "OPERATOR") == 0 && strcmp(type, "COMPARE_IN") == 0)
		return in_atoms(a, e, p, fr);
	if (strcmp(cls, "OPERATOR") == 0 &&
	    (strcmp(type, "OPERATOR_IS_NULL") == 0 || strcmp(type, "OPERATOR_IS_NOT_NULL") == 0)) {
		json_t *kids = json_object_get(e, "children");
		bool is_null = strcmp(type, "OPERATOR_IS_NULL") == 0;
		if (json_array_size(kids) != 1 || !is_type(json_array_get(kids, 0), "class", "COLUMN_REF") ||
		    (is_null && fr->outer))
			return false;
		return pend(a, p, json_array_get(kids, 0), is_null ? PL_PRUNE_IS_NULL : PL_PRUNE_NOT_NULL, NULL, fr);
	}
	if (strcmp(cls, "CONJUNCTION") == 0 && strcmp(type, "CONJUNCTION_OR") == 0) {
		size_t i;
		json_t *k;
		json_array_foreach(json_object_get(e, "children"), i, k)
		{
			if (!atoms_of(a, k, p, fr))
				return false;
		}
		return p->n > 0;
	}
	return false;
}

/* Keeps p as a condition of its reference. */
static void add_cond(analysis *a, const pending *p)
{
	ref *r = p->target;
	if (!grow((void **)&r->conds, &r->cap, r->nconds, sizeof(*r->conds))) {
		a->oom = true;
		return;
	}
	size_t first = a->natoms;
	for (size_t i = 0; i < p->n; i++) {
		if (!grow((void **)&a->atoms, &a->capatom, a->natoms, sizeof(*a->atoms))) {
			a->oom = true;
			return;
		}
		long slot = p->exprs[i] ? add_expr(a, p->exprs[i]) : -1;
		if (a->oom)
			return;
		a->atoms[a->natoms++] = (atom){p->ops[i], slot};
	}
	r->conds[r->nconds++] = (cond){p->column, first, p->n};
}

static void try_between(analysis *a, json_t *e, from_rels *fr)
{
	json_t *col = json_object_get(e, "input"), *lo = json_object_get(e, "lower"), *hi = json_object_get(e, "upper");
	bool lo_clock = false, hi_clock = false;
	pending p = {0};
	if (!is_type(col, "class", "COLUMN_REF") || !is_constant(lo, &lo_clock) || !is_constant(hi, &hi_clock) ||
	    !pend(a, &p, col, PL_PRUNE_GE, lo, fr))
		return;
	add_cond(a, &p);
	if (!hi_clock) {
		p.ops[0] = PL_PRUNE_LE;
		p.exprs[0] = hi;
		add_cond(a, &p);
	}
}

static void conjuncts(analysis *a, json_t *e, from_rels *fr)
{
	const char *cls = str_member(e, "class"), *type = str_member(e, "type");
	if (strcmp(cls, "CONJUNCTION") == 0 && strcmp(type, "CONJUNCTION_AND") == 0) {
		size_t i;
		json_t *k;
		json_array_foreach(json_object_get(e, "children"), i, k)
		{
			conjuncts(a, k, fr);
		}
	} else if (strcmp(cls, "BETWEEN") == 0 && strcmp(type, "COMPARE_BETWEEN") == 0) {
		try_between(a, e, fr);
	} else {
		pending p = {0};
		if (atoms_of(a, e, &p, fr))
			add_cond(a, &p);
	}
}

/* ---- walking the tree ---------------------------------------------------------------------- */

static void walk(analysis *a, json_t *v, names *ctes);

static void push_ctes(analysis *a, json_t *node, names *ctes)
{
	size_t i;
	json_t *entry;
	json_array_foreach(json_object_get(json_object_get(node, "cte_map"), "map"), i, entry)
	{
		if (!grow((void **)&ctes->items, &ctes->cap, ctes->len, sizeof(*ctes->items))) {
			a->oom = true;
			return;
		}
		ctes->items[ctes->len++] = str_member(entry, "key");
	}
}

static void select_node(analysis *a, json_t *node, names *ctes)
{
	from_rels fr = {0};
	gather(a, json_object_get(node, "from_table"), ctes, &fr.items, &fr.n, &fr.cap, &fr.outer, false);
	json_t *where = json_object_get(node, "where_clause");
	if (where && !json_is_null(where) && !a->oom)
		conjuncts(a, where, &fr);
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
	if (is_type(v, "class", "COLUMN_REF") && json_array_size(json_object_get(v, "column_names")) > 2)
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
		if (is_type(v, "type", "SELECT_NODE"))
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

/* Fills a->exprs[*].sql with one query. */
static int expressions_to_sql(analysis *a, duckdb_connection con, json_t *tmpl)
{
	pl_buf q = PL_BUF_INIT;
	pl_buf_puts(&q, "SELECT k, json_deserialize_sql(j) FROM (VALUES ");
	for (size_t i = 0; i < a->nexprs; i++) {
		char *js = expr_statement(tmpl, a->exprs[i].node);
		if (!js) {
			pl_buf_dispose(&q);
			return -1;
		}
		pl_buf_printf(&q, "%s(%zu, ", i ? ", " : "", i);
		pl_buf_put_literal(&q, js);
		pl_buf_putc(&q, ')');
		free(js);
	}
	pl_buf_puts(&q, ") AS v(k, j) ORDER BY k");
	duckdb_result res;
	pl_err err = {0};
	int rc = pl_buf_oom(&q) ? -1 : pl_engine_query(con, q.ptr, &res, &err);
	pl_buf_dispose(&q);
	if (rc)
		return -1;
	bool oom = false;
	for (size_t i = 0; i < a->nexprs && i < duckdb_row_count(&res); i++) {
		char *s = pl_engine_value_str(&res, 1, i, &oom);
		if (s && pl_str_has_prefix_i(s, "SELECT "))
			a->exprs[i].sql = pl_strdup(s + 7);
		free(s);
		if (!a->exprs[i].sql)
			rc = -1;
	}
	duckdb_destroy_result(&res);
	return rc;
}

/* ---- rewriting ----------------------------------------------------------------------------- */

/* Keeps the files of t marked in keep: a shallow copy sharing the model's strings. */
static int subset_table(const pl_table *t, const bool *keep, size_t nkept, pl_table *out, pl_data_file **files)
{
	*out = *t;
	*files = malloc((nkept ? nkept : 1) * sizeof(**files));
	if (!*files)
		return -1;
	size_t n = 0;
	for (size_t i = 0; i < t->nfiles; i++)
		if (keep[i])
			(*files)[n++] = t->files[i];
	out->files = *files;
	out->nfiles = n;
	return 0;
}

static int create_pruned_view(planar_conn *conn, ref *r, const bool *keep, size_t nkept, const char *view,
			      pl_err *err)
{
	pl_table sub;
	pl_data_file *files = NULL;
	if (subset_table(r->table, keep, nkept, &sub, &files))
		return pl_err_nomem(err);
	pl_buf q = PL_BUF_INIT;
	pl_buf_puts(&q, "CREATE OR REPLACE TEMP VIEW ");
	pl_buf_put_ident(&q, view);
	pl_buf_puts(&q, " AS ");
	int64_t sets[2];
	int rc = pl_scan_prepare_deletes(&conn->db->deletes, conn->db->admin, r->model, &sub, sets, err);
	if (rc == 0)
		rc = pl_scan_sql(&q, r->lake->name, r->model, &sub, sets, err);
	if (rc == 0)
		rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_exec(conn->con, q.ptr, err);
	free(files);
	pl_buf_dispose(&q);
	return rc;
}

/* The files of r's table that may match; *pruned false when that is all of them. */
static int prune_ref(planar_conn *conn, analysis *a, ref *r, bool **keep, size_t *nkept, pl_err *err)
{
	pl_prune_cond *pc = calloc(r->nconds, sizeof(*pc));
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
		if (r->nconds == 0 || !ref_tokens(t, r, &from, &to) || t->items[from].start < copied)
			continue;
		pl_err perr = {0};
		if (prune_ref(conn, a, r, &keep, &nkept, &perr) != 0 || nkept == r->table->nfiles) {
			free(keep);
			if (perr.code == PL_ENOMEM)
				rc = pl_err_nomem(err);
			continue;
		}
		char view[64];
		snprintf(view, sizeof(view), "__planar_prune_%lu", ++conn->tmp_seq);
		rc = create_pruned_view(conn, r, keep, nkept, view, err);
		free(keep);
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
	rc = pl_count_star_rewrite(conn, t, sql_out, err);
	if (rc || *sql_out)
		return rc;
	size_t start = query_start(t);
	/* Pruning costs a parse of the statement, more than reading a few small files whole; under
	 * EXPLAIN the plan shows the files pruning keeps whatever the table's size. */
	size_t min_files = pl_tok_is(t, 0, "EXPLAIN") ? 2 : PL_PRUNE_MIN_FILES;
	if (start >= t->len || (!any_large_table(conn->db, min_files) && conn->nat_views == 0))
		return 0;
	pl_stmt st = {conn, t->src, *t, NULL, PL_EXPLAIN_NONE};
	analysis a = {.st = &st, .base = t->items[start].start, .min_files = min_files};
	json_t *stmt = NULL, *tmpl = NULL;
	if (parse_statement(conn->con, t->src + a.base, &stmt, &tmpl) != 0)
		return 0;
	names ctes = {0};
	if (!has_long_column_ref(stmt))
		walk(&a, stmt, &ctes);
	free(ctes.items);
	if (a.oom)
		rc = pl_err_nomem(err);
	else if (a.natoms > 0 && (a.nexprs == 0 || expressions_to_sql(&a, conn->con, tmpl) == 0))
		rc = rewrite(conn, &a, t, sql_out, views, err);
	analysis_dispose(&a);
	json_decref(stmt);
	json_decref(tmpl);
	return rc;
}
