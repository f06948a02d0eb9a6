/*
 * delcache.h -- deleted-row sets kept in memory for fast scans.
 *
 * The files of a table are read by one read_parquet() and filtered by the scalar function
 * __planar_kept(file_index, file_row_number, map_id): the map (built when the view is built)
 * gives, for each file of that read_parquet() list, the bitset of its deleted positions at the
 * view's snapshot, or none. Bitsets are loaded once per delete file (and snapshot, for delete
 * files rewritten across snapshots) and kept for the life of the planar_db: delete files never
 * change. Maps are shared by content (a view rebuilt over the same files and delete files reuses
 * its map) and, like the sets, kept while the cache lives. Thread-safe.
 */
#ifndef PL_TABLE_DELCACHE_H
#define PL_TABLE_DELCACHE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "catalog/model.h"
#include "engine/engine.h"

typedef struct pl_delset {
	char *key;       /* delete file path @ snapshot */
	uint64_t *bits;  /* bit i set: position i deleted */
	uint64_t nbits;
	/* Answers about the live rows of its data file, remembered (both never change); under the
	 * cache's lock (pl_delcache_memo_get/put). */
	struct pl_delset_memo {
		char *what;
		bool yes;
	} *memo;
	size_t nmemo;
} pl_delset;

/* For each file of one read_parquet() list (by file_index), its deleted rows or NULL. */
typedef struct pl_delmap {
	uint64_t hash;
	size_t n;
	const pl_delset **sets;
} pl_delmap;

typedef struct pl_delcache {
	pthread_mutex_t lock;
	pl_delset **sets;
	size_t nsets, capsets;
	size_t *index, capindex; /* hash index of sets by key */
	pl_delmap **maps;
	size_t nmaps, capmaps;
	/* Sessions by DuckDB connection id, so that functions bound in a query know whose it is. */
	struct pl_delcache_conn {
		uint64_t id;
		void *conn;
	} *conns;
	size_t nconns, capconns;
} pl_delcache;

void pl_delcache_init(pl_delcache *c);
void pl_delcache_dispose(pl_delcache *c);

/* Loads the deleted positions of data file f (at m's snapshot) into *out (owned by the cache).
 * con runs the query that reads a Parquet delete file; with con NULL such a file not loaded
 * before fails with PL_EBUSY. */
int pl_delcache_load(pl_delcache *c, duckdb_connection con, const pl_model *m, const pl_data_file *f,
		     const pl_delset **out, pl_err *err);
/* A remembered answer about set s's data file: true with *yes when `what` was put before. */
bool pl_delcache_memo_get(pl_delcache *c, const pl_delset *s, const char *what, bool *yes);
/* Remembers an answer (at most PL_DELSET_MEMO per set; beyond, nothing is kept). */
void pl_delcache_memo_put(pl_delcache *c, const pl_delset *s, const char *what, bool yes);
#define PL_DELSET_MEMO 32

/* Registers the map of n files (sets[i] NULL: file i has no deletes); *map_id_out is the id to
 * pass to __planar_kept(). The same content gives the same id. */
int pl_delcache_map(pl_delcache *c, const pl_delset *const *sets, size_t n, int64_t *map_id_out, pl_err *err);
/* The map with that id (NULL if unknown). Maps are never freed while the cache lives. */
const pl_delmap *pl_delcache_get_map(pl_delcache *c, int64_t id);
/* Remembers that DuckDB connection id belongs to session conn (an opaque pointer). */
int pl_delcache_conn_put(pl_delcache *c, uint64_t id, void *conn);
/* The session of a DuckDB connection id, NULL when not a session's. */
void *pl_delcache_conn_get(pl_delcache *c, uint64_t id);
/* Forgets a session (its connection is closing). */
void pl_delcache_conn_forget(pl_delcache *c, void *conn);

/* True when position pos is deleted in set s (NULL: nothing deleted). */
static inline bool pl_delset_has(const pl_delset *s, uint64_t pos)
{
	return s && pos < s->nbits && (s->bits[pos / 64] >> (pos % 64)) & 1;
}

#endif
