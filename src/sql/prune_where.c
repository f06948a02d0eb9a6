/*
 * prune_where.c -- which WHERE conjuncts of a SELECT prune which of its lake table references
 * (see prune.h): comparisons of a column with a constant expression, BETWEEN, IN, IS [NOT] NULL
 * and ORs of those over one column, turned into conditions on the files' statistics.
 */
#include "sql/prune_internal.h"

#include <stdlib.h>
#include <string.h>

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
	const char *cls = pl_prune_member(e, "class");
	if (strcmp(cls, "CONSTANT") == 0)
		return true;
	if (strcmp(cls, "CAST") == 0)
		return is_constant(json_object_get(e, "child"), clock);
	if (strcmp(cls, "FUNCTION") != 0 || strlen(pl_prune_member(e, "schema")) > 0 ||
	    !json_is_null(json_object_get(e, "filter")) || json_is_true(json_object_get(e, "distinct")))
		return false;
	const char *fn = pl_prune_member(e, "function_name");
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
	if (!pl_prune_grow((void **)&a->exprs, &a->capexpr, a->nexprs, sizeof(*a->exprs))) {
		a->oom = true;
		return -1;
	}
	a->exprs[a->nexprs] = (expr_slot){e, NULL};
	return (long)a->nexprs++;
}

/* ---- WHERE conjuncts ----------------------------------------------------------------------- */


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
	ref *target = pl_prune_resolve_column(a, col, fr->items, fr->n, &c);
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
	const char *type = pl_prune_member(e, "type");
	for (size_t k = 0; k < sizeof(comparisons) / sizeof(comparisons[0]); k++) {
		if (strcmp(type, comparisons[k].type) != 0)
			continue;
		json_t *l = json_object_get(e, "left"), *r = json_object_get(e, "right");
		bool left_col = pl_prune_member_is(l, "class", "COLUMN_REF");
		json_t *col = left_col ? l : r, *val = left_col ? r : l;
		pl_prune_op op = left_col ? comparisons[k].op : comparisons[k].flipped;
		bool clock = false;
		/* the query runs after pruning, with a later clock: a clock expression only bounds below */
		if (!pl_prune_member_is(col, "class", "COLUMN_REF") || !is_constant(val, &clock) || (clock && !is_lower_bound(op)))
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
	if (nk < 2 || !pl_prune_member_is(col, "class", "COLUMN_REF"))
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
	const char *cls = pl_prune_member(e, "class"), *type = pl_prune_member(e, "type");
	if (strcmp(cls, "COMPARISON") == 0)
		return comparison_atom(a, e, p, fr);
	if (strcmp(cls, "OPERATOR") == 0 && strcmp(type, "COMPARE_IN") == 0)
		return in_atoms(a, e, p, fr);
	if (strcmp(cls, "OPERATOR") == 0 &&
	    (strcmp(type, "OPERATOR_IS_NULL") == 0 || strcmp(type, "OPERATOR_IS_NOT_NULL") == 0)) {
		json_t *kids = json_object_get(e, "children");
		bool is_null = strcmp(type, "OPERATOR_IS_NULL") == 0;
		if (json_array_size(kids) != 1 || !pl_prune_member_is(json_array_get(kids, 0), "class", "COLUMN_REF") ||
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
	if (!pl_prune_grow((void **)&r->conds, &r->cap, r->nconds, sizeof(*r->conds))) {
		a->oom = true;
		return;
	}
	size_t first = a->natoms;
	for (size_t i = 0; i < p->n; i++) {
		if (!pl_prune_grow((void **)&a->atoms, &a->capatom, a->natoms, sizeof(*a->atoms))) {
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
	if (!pl_prune_member_is(col, "class", "COLUMN_REF") || !is_constant(lo, &lo_clock) || !is_constant(hi, &hi_clock) ||
	    !pend(a, &p, col, PL_PRUNE_GE, lo, fr))
		return;
	add_cond(a, &p);
	if (!hi_clock) {
		p.ops[0] = PL_PRUNE_LE;
		p.exprs[0] = hi;
		add_cond(a, &p);
	}
}

void pl_prune_conjuncts(analysis *a, json_t *e, from_rels *fr)
{
	const char *cls = pl_prune_member(e, "class"), *type = pl_prune_member(e, "type");
	if (strcmp(cls, "CONJUNCTION") == 0 && strcmp(type, "CONJUNCTION_AND") == 0) {
		size_t i;
		json_t *k;
		json_array_foreach(json_object_get(e, "children"), i, k)
		{
			pl_prune_conjuncts(a, k, fr);
		}
	} else if (strcmp(cls, "BETWEEN") == 0 && strcmp(type, "COMPARE_BETWEEN") == 0) {
		try_between(a, e, fr);
	} else {
		pending p = {0};
		if (atoms_of(a, e, &p, fr))
			add_cond(a, &p);
	}
}
