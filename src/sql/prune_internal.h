/*
 * prune_internal.h -- the pieces of statement-level file pruning (prune.h) shared by prune.c (the
 * walk over the statement, the rewrite) and prune_where.c (which WHERE conjuncts prune what).
 */
#ifndef PL_SQL_PRUNE_INTERNAL_H
#define PL_SQL_PRUNE_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>

#include "sql/lake.h"
#include "sql/router.h"
#include "table/prune.h"

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
	const pl_column *order_by; /* a Top-N on this column: its files are read leading bounds first */
	bool order_desc;
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

/* The relations of one FROM clause. A WHERE conjunct that is false or NULL on a NULL column can
 * be pushed into any of them; IS NULL is true there, so it prunes only without outer joins (the
 * NULL side of a join would gain rows that lost their match). */
typedef struct from_rels {
	rel *items;
	size_t n, cap;
	bool outer;
} from_rels;

bool pl_prune_grow(void **items, size_t *cap, size_t len, size_t size);
/* o's string member key, "" when it has none. */
const char *pl_prune_member(json_t *o, const char *key);
bool pl_prune_member_is(json_t *o, const char *key, const char *value);
/* Resolves a COLUMN_REF to a pruned reference and its column (NULL when it is not one). */
ref *pl_prune_resolve_column(analysis *a, json_t *cr, rel *rels, size_t n, const pl_column **col);
/* Keeps the conditions of WHERE clause e that prune the references of fr. */
void pl_prune_conjuncts(analysis *a, json_t *e, from_rels *fr);

#endif
