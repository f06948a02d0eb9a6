/*
 * stmtcache.h -- prepared statements kept by their SQL text, for any database whose statements
 * are prepared once and run many times: the catalog drivers (SQLite, DuckDB file) and DuckDB
 * session connections. The cache only holds pointers; its owner says how to finalize one.
 */
#ifndef PL_CORE_STMTCACHE_H
#define PL_CORE_STMTCACHE_H

#include <stdint.h>

/* A connection's prepared statements kept by their SQL text, so that the statements a commit runs
 * every time are parsed and planned once per connection. A statement is taken out while
 * it runs and given back after; the least recently used one is finalized when the cache is full. */
#define PL_STMT_CACHE_SIZE 64
typedef struct pl_stmt_cache_entry {
	char *sql; /* NULL: free slot */
	uint64_t hash, used;
	void *stmt;
} pl_stmt_cache_entry;

typedef struct pl_stmt_cache {
	pl_stmt_cache_entry e[PL_STMT_CACHE_SIZE];
	uint64_t clock;
	void (*finalize)(void *stmt);
} pl_stmt_cache;

/* Takes the cached statement of sql out of the cache; NULL when there is none. */
void *pl_stmt_cache_take(pl_stmt_cache *c, const char *sql);
/* Gives stmt (prepared from sql) to the cache: kept when sql is a short SELECT, INSERT, UPDATE,
 * DELETE or COPY, or BEGIN TRANSACTION or COMMIT; finalized otherwise (also when memory runs
 * out). */
void pl_stmt_cache_give(pl_stmt_cache *c, const char *sql, void *stmt);
/* Finalizes every cached statement. */
void pl_stmt_cache_clear(pl_stmt_cache *c);

#endif
