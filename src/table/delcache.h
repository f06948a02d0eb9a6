/*
 * delcache.h -- deleted-row sets kept in memory for fast scans.
 *
 * A data file with deletes is read with its row positions and filtered by the scalar function
 * __planar_deleted(position, set_id): the set (loaded when the view is built) is the bitset of
 * the file's deleted positions at the view's snapshot. Bitsets are loaded once per delete file
 * (and snapshot, for delete files rewritten across snapshots) and kept for the life of the
 * planar_db: delete files never change. Thread-safe.
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
} pl_delset;

typedef struct pl_delcache {
	pthread_mutex_t lock;
	pl_delset **sets;
	size_t nsets, capsets;
} pl_delcache;

void pl_delcache_init(pl_delcache *c);
void pl_delcache_dispose(pl_delcache *c);

/* Loads the deleted positions of data file f (at m's snapshot); *set_id_out is the id to pass to
 * __planar_deleted(). */
int pl_delcache_prepare(pl_delcache *c, duckdb_connection con, const pl_model *m, const pl_data_file *f,
			int64_t *set_id_out, pl_err *err);
/* The set with that id (NULL if unknown). Sets are never freed while the cache lives. */
const pl_delset *pl_delcache_set(pl_delcache *c, int64_t id);

#endif
