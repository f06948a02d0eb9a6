/*
 * s3lake_internal.h -- what s3lake.c (registry, transfers, writes, upkeep) and s3cache.c (the read
 * cache) share; not for other modules.
 */
#ifndef PL_STORAGE_S3LAKE_INTERNAL_H
#define PL_STORAGE_S3LAKE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/s3lake.h"

#define META_SUFFIX ".plmeta"
#define POOL_MAX 16

typedef struct store {
	char *uri;       /* s3://bucket/prefix/ */
	char *bucket;
	char *prefix;    /* "" or ends in '/' */
	char *root;      /* mirror root, ends in '/' */
	char *real_root; /* its real path, without the final '/' ("" for an external store) */
	bool external;   /* registered for absolute s3:// files, not a data path (no upkeep there) */
	pl_s3_config cfg;
	unsigned gen;    /* bumped when cfg changes: pooled clients of older ones are closed */
	pl_s3 *pool[POOL_MAX];
	unsigned pool_gen[POOL_MAX];
	size_t npool;
} store;

typedef enum job_kind { JOB_GET, JOB_PUT, JOB_HEAD, JOB_DELETE } job_kind;

typedef struct job {
	job_kind kind;
	store *s;
	char *path, *key;
	char etag[128]; /* JOB_HEAD: the cached ETag; after: whether it matched (etag[0] != 0) */
	bool done, stale;
	int rc;
	pl_err err;
} job;

typedef struct job_run {
	job *jobs;
	size_t n, next;
	pthread_mutex_t lock;
	bool stop; /* uploads: stop at the first failure */
} job_run;

/* Counters (pl_s3lake_get_stats), added to with pl_s3l_count. */
extern pl_s3lake_stats pl_s3l_stats;
void pl_s3l_count(int64_t *field, int64_t n);

/* Whether any S3 data path is registered (the fast paths return at once when none is). */
bool pl_s3l_active(void);
/* The mirror roots of the registered data paths (copied into out). */
int pl_s3l_roots(pl_strv *out);
/* The store whose mirror holds path, or NULL; stores are never freed. */
store *pl_s3l_find_store(const char *path);
/* The object key of a mirror path of s (malloc'd). */
char *pl_s3l_key_of(const store *s, const char *path);
/* A client of s from its pool (or a new one), and its return. */
int pl_s3l_client_get(store *s, pl_s3 **out, unsigned *gen, pl_err *err);
void pl_s3l_client_put(store *s, pl_s3 *c, unsigned gen);

/* Runs jobs on up to PLANAR_S3_PARALLEL threads (this one included); uploads stop at the first
 * failure. */
void pl_s3l_run_jobs(job *jobs, size_t n, bool stop_on_error);
/* Appends a job (nothing when one for path is there). */
int pl_s3l_add_job(job **jobs, size_t *n, size_t *cap, job_kind kind, store *s, const char *path, pl_err *err);
void pl_s3l_jobs_free(job *jobs, size_t n);

/* The cache directory (malloc'd, without a final '/'). */
char *pl_s3l_cache_dir(void);
/* A cache entry's "<size> <etag>" beside path: read (false when none), written (temporary file
 * and rename), removed. */
bool pl_s3l_meta_read(const char *path, int64_t *size, char etag[128]);
int pl_s3l_meta_write(const char *path, int64_t size, const char *etag, pl_err *err);
void pl_s3l_meta_remove(const char *path);
/* Opens path and holds it for the calling thread with a shared flock; false when it is not
 * there. size_out (may be NULL) gets its size. */
bool pl_s3l_pin_path(const char *path, int64_t *size_out);

#endif
