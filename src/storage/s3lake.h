/*
 * s3lake.h -- lakes whose data path is s3://bucket/prefix/: a local mirror of the data path that
 * is both the write area and a bounded read cache of the lake's immutable files.
 *
 * An S3 lake's files have two names: the object s3://bucket/prefix/<rel> (what the catalog
 * records: data_path 's3://bucket/prefix/' and paths relative to it, as DuckDB's extension
 * writes them) and the mirror file <cache>/<endpoint>/<bucket>/<prefix>/<rel>. Everything in
 * Planar works on mirror paths: the lake's resolved data path is the mirror root, DuckDB writes
 * new files there (then pl_s3lake_upload sends them before the catalog commit) and reads cached
 * copies there (pl_s3lake_ensure fetches the files a query needs first, in parallel).
 *
 * The cache (<cache> = $PLANAR_S3_CACHE_DIR, else $XDG_CACHE_HOME/planar/s3, else
 * ~/.cache/planar/s3) holds, beside each complete copy, a small "<file>.plmeta" (size and ETag
 * of the object). A copy is used when its size matches (and, with PLANAR_S3_CACHE_VALIDATE=etag,
 * when a HEAD returns the same ETag); otherwise it is fetched again. Downloads go to a temporary
 * file renamed into place, so processes sharing the directory never see partial files. When the
 * cache passes $PLANAR_S3_CACHE_SIZE (default 10GB), the least recently used copies are removed,
 * one process at a time (flock on <cache>/.evict.lock), never a file in use: a query holds a
 * shared flock on every file it reads until the session's next statement, and eviction takes an
 * exclusive one without waiting, skipping files it cannot lock. Files of uncommitted writes have
 * no .plmeta and are never evicted.
 */
#ifndef PL_STORAGE_S3LAKE_H
#define PL_STORAGE_S3LAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/str.h"
#include "storage/s3.h"

/* Registers the data path uri ("s3://bucket/prefix/") with the client configuration cfg (copied;
 * a later registration of the same uri replaces it), checks that the bucket can be listed (a
 * clear error otherwise: missing bucket, wrong keys or region, unreachable endpoint), creates
 * the mirror root and returns it (malloc'd, ends in '/'). */
int pl_s3lake_attach(const char *uri, const pl_s3_config *cfg, char **mirror_out, pl_err *err);

/* An absolute s3://bucket/key a catalog row names (a file outside the data path, added by
 * ducklake_add_data_files or written by another DuckLake client) as a path in the read cache,
 * <cache>/<endpoint>/<bucket>/<key> (malloc'd), so that pl_s3lake_ensure fetches it like a data
 * path's file. Its endpoint and keys are those of the secret whose scope is the longest prefix of
 * uri (else the environment): a store is registered, without any request, per endpoint, bucket
 * and secret scope (a later secret for the same scope replaces the keys). A file inside a
 * registered data path maps to that data path's mirror. NULL when no secret or environment
 * covers uri, or its key has an empty, "." or ".." part (the path is then read as it is). */
char *pl_s3lake_local_of(const char *uri);
/* Installs the object storage hooks (core/objhooks.h): done when a database opens, so that
 * absolute s3:// files are read through the cache in any lake. */
void pl_s3lake_install_hooks(void);

/* Whether path lies in the mirror of a registered S3 data path. */
bool pl_s3lake_owns(const char *path);
/* The s3:// name of a mirror path (malloc'd), or NULL when path is not one. */
char *pl_s3lake_uri_of(const char *path);

/* Makes every mirror path among paths[0..n) a complete local copy (fetching the missing ones in
 * parallel) and holds it for the calling thread until pl_s3lake_release_pins. Paths that are not
 * mirror paths are left alone. */
int pl_s3lake_ensure(const char *const *paths, size_t n, pl_err *err);
/* The same for every mirror path quoted in a SQL text (the files it reads; a COPY's target
 * after TO, staging directories and globs are skipped). Costs one substring search per
 * registered data path when there is nothing to do. */
int pl_s3lake_ensure_sql(const char *sql, pl_err *err);
/* Releases the files held by the calling thread (at the start of its next statement). */
void pl_s3lake_release_pins(void);

/* Uploads the mirror files among written that are not uploaded yet, in parallel (single PUT
 * or multipart by the client's threshold). On failure, removes the objects this call uploaded
 * and returns the error (naming the operation, s3://bucket/key and what to check). */
int pl_s3lake_upload(const pl_strv *written, pl_err *err);
/* Removes a written file: the local file and, when it was uploaded, its object. */
void pl_s3lake_unlink(const char *path);

/* For sweep.c: the objects below the mirror directory dir (a mirror path ending in '/') whose
 * names end in one of suffixes, as mirror paths with their LastModified time. */
typedef struct pl_s3lake_entry {
	char *path;
	int64_t mtime_us;
} pl_s3lake_entry;
int pl_s3lake_list(const char *dir, const char *const *suffixes, pl_s3lake_entry **out, size_t *n, pl_err *err);
/* Removes (really) or checks the object of a canonical mirror path below the canonical mirror
 * root real_root; *exists tells whether it was there. The local copy goes too. */
int pl_s3lake_remove(const char *real_root, const char *canonical, bool really, bool *exists, pl_err *err);
/* Whether real_root (a canonical directory) is the mirror root of a registered data path. */
bool pl_s3lake_is_root(const char *real_root);

/* Counters of this process's S3 lake traffic (tests and benchmarks). */
typedef struct pl_s3lake_stats {
	int64_t hits, fetches, uploads, evictions, bytes_fetched, bytes_uploaded;
} pl_s3lake_stats;
pl_s3lake_stats pl_s3lake_get_stats(void);

#endif
