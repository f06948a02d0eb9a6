/*
 * search.h -- search indexes over lake tables, as SQL:
 *
 *   CALL lake.create_search_index('schema.table', text_column => 'c', id_column => 'id'
 *        [, metadata_columns => ['a', 'b']] [, vector_column => 'v'] [, embedder => 'name'])
 *   CALL lake.drop_search_index('schema.table')
 *   FROM lake.search_indexes()
 *   FROM planar_search('lake', 'schema.table', 'query text' [, top_k => 10]
 *        [, mode => 'hybrid' | 'bm25' | 'vector'] [, filter => 'SQL predicate']
 *        [, as_of => snapshot] [, query_vector => [...]])
 *        -> id VARCHAR, text VARCHAR, score DOUBLE, metadata JSON
 *
 * (the CALLs also as ducklake_create_search_index('lake', ...) and so on). The definitions live
 * in the lake's catalog (catalog/search.h); the index itself is built in memory from the
 * table's change feed on the first search of a process and brought up to the lake's latest
 * snapshot before each search (table/search.h), so it sees every writer's commits and answers
 * as of any snapshot. planar_search is replaced, before DuckDB sees the statement, by a
 * subquery of its hits, so it composes with the rest of SQL (joins back to the table, ...).
 */
#ifndef PL_SQL_SEARCH_H
#define PL_SQL_SEARCH_H

#include "sql/router.h"

/* CALL ...create_search_index / ...drop_search_index: sets *handled when it is one. */
int pl_search_call(pl_stmt *st, planar_result **out, pl_err *err, bool *handled);
/* Replaces planar_search(...) and lake.search_indexes() calls (like pl_timetravel_rewrite). */
int pl_search_rewrite(planar_conn *conn, const pl_toks *t, char **sql_out, pl_strv *views, pl_err *err);
/* Forgets the process's indexes of a lake's catalog (identity NULL: all). */
void pl_search_forget(const char *identity);

#endif
