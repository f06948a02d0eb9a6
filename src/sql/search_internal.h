/*
 * search_internal.h -- the parts of search indexes as SQL (search.h) shared by search.c (the
 * CALLs, planar_search() and the cache of built indexes), search_args.c (names, arguments and
 * the filter) and search_store.c (segments on the lake).
 */
#ifndef PL_SQL_SEARCH_INTERNAL_H
#define PL_SQL_SEARCH_INTERNAL_H

#include "catalog/search.h"
#include "sql/lake.h"
#include "sql/lexer.h"
#include "text/index.h"

/* Where segments live, below the lake's data path. */
#define PL_SEARCH_DIR "__planar_search/"

static inline const char *pl_sx_lake_identity(const pl_lake *lake)
{
	return lake->identity ? lake->identity : lake->location;
}

/* The lake's committed model (not a transaction's pending one). */
static inline pl_model *pl_sx_committed_model(pl_lake *lake)
{
	return lake->shared_model ? lake->shared_model : lake->model;
}

/* ---- names and arguments (search_args.c) ---- */

/* 'schema.table' or 'table' (schema main) as in the lake's committed model. */
int pl_sx_find_table(pl_lake *lake, const char *name, const pl_table **out, pl_err *err);
const char *pl_sx_schema_name(pl_lake *lake, const pl_table *t);
/* The session's queries that read lake views find the session by their DuckDB connection:
 * registered before the first one. */
int pl_sx_register_conn(planar_conn *conn, pl_err *err);

#define MAX_ARGS 12

typedef struct args {
	char *pos[MAX_ARGS];
	size_t npos;
	char *keys[MAX_ARGS], *vals[MAX_ARGS];
	size_t nnamed;
} args;

void pl_sx_args_dispose(args *a);
/* A named argument's value (NULL: absent or SQL NULL). */
const char *pl_sx_named(const args *a, const char *key);
bool pl_sx_has_named(const args *a, const char *key);
/* Splits the arguments between the parentheses at open and close and evaluates them. */
int pl_sx_parse_args(planar_conn *conn, const pl_toks *t, size_t open, size_t close, const char *fn, args *a,
		     pl_err *err);
/* Fails naming the first named argument not among known (NULL-terminated). */
int pl_sx_check_known(const args *a, const char *fn, const char *const *known, pl_err *err);
/* The ids of the table's rows (as of snap, or now when snap < 0) that satisfy filter. */
int pl_sx_filter_ids(planar_conn *conn, pl_lake *lake, const pl_table *t, const pl_search_def *def, const char *filter,
		     int64_t snap, pl_strv *ids, pl_err *err);
int pl_sx_parse_vector(const char *s, float **out, size_t *n, pl_err *err);
bool pl_sx_parse_int(const char *s, int64_t *out);

/* ---- segments (search_store.c) ---- */

/* Whether this attachment may write segments (not read-only, not pinned). */
bool pl_search_can_store(const pl_lake *lake);
/* Saves x (caught up to snapshot) as a new segment of def's index and registers it. */
int pl_search_store(pl_lake *lake, const pl_search_def *def, pl_tindex *x, int64_t snapshot, pl_err *err);
/* The newest readable segment of def's index at or before snapshot latest, loaded (*out NULL
 * when there is none; *snapshot: the snapshot it covers). */
int pl_search_load(pl_lake *lake, const pl_search_def *def, int64_t latest, pl_tindex **out, int64_t *snapshot,
		   pl_err *err);
/* Removes segment files (paths relative to the data path) the catalog no longer names. */
void pl_search_remove_segments(const pl_lake *lake, const pl_strv *rel);

#endif
