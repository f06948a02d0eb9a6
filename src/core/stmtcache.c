/*
 * stmtcache.c -- prepared statements kept by their SQL text (see stmtcache.h).
 */
#include "core/stmtcache.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"

/* Statements worth keeping: those that read or write rows (a COPY: the one-file write of a few
 * bound rows), and the transaction control every commit runs (not DDL or SET), when short (a
 * generated INSERT of thousands of rows is not run twice). */
static bool cacheable(const char *sql)
{
	static const char *const control[] = {"BEGIN", "BEGIN TRANSACTION", "BEGIN IMMEDIATE", "COMMIT"};
	for (size_t i = 0; i < sizeof(control) / sizeof(control[0]); i++)
		if (strcmp(sql, control[i]) == 0)
			return true;
	static const char *const kinds[] = {"SELECT ", "INSERT ", "UPDATE ", "DELETE ", "COPY "};
	if (strlen(sql) > 8192)
		return false;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strncmp(sql, kinds[i], strlen(kinds[i])) == 0)
			return true;
	return false;
}

void *pl_stmt_cache_take(pl_stmt_cache *c, const char *sql)
{
	uint64_t h = pl_str_hash(sql);
	for (size_t i = 0; i < PL_STMT_CACHE_SIZE; i++) {
		pl_stmt_cache_entry *e = &c->e[i];
		if (e->sql && e->hash == h && strcmp(e->sql, sql) == 0) {
			void *stmt = e->stmt;
			free(e->sql);
			*e = (pl_stmt_cache_entry){0};
			return stmt;
		}
	}
	return NULL;
}

void pl_stmt_cache_give(pl_stmt_cache *c, const char *sql, void *stmt)
{
	if (!stmt)
		return;
	char *copy = cacheable(sql) ? pl_strdup(sql) : NULL;
	if (!copy) {
		c->finalize(stmt);
		return;
	}
	pl_stmt_cache_entry *slot = &c->e[0];
	for (size_t i = 0; i < PL_STMT_CACHE_SIZE && slot->sql; i++)
		if (!c->e[i].sql || c->e[i].used < slot->used)
			slot = &c->e[i];
	if (slot->sql) {
		c->finalize(slot->stmt);
		free(slot->sql);
	}
	*slot = (pl_stmt_cache_entry){copy, pl_str_hash(sql), ++c->clock, stmt};
}

void pl_stmt_cache_clear(pl_stmt_cache *c)
{
	for (size_t i = 0; i < PL_STMT_CACHE_SIZE; i++) {
		if (c->e[i].sql) {
			c->finalize(c->e[i].stmt);
			free(c->e[i].sql);
		}
		c->e[i] = (pl_stmt_cache_entry){0};
	}
}
