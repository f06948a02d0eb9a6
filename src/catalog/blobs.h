/*
 * blobs.h -- the catalog side of versioned blobs (datasets and checkpoints kept as folders of
 * objects beside a lake): three Planar-owned tables in the lake's catalog, which a DuckLake
 * reader ignores, created on first use:
 *
 *   planar_blob_version (name, version, kind, state, location, file_count, total_bytes,
 *                        metadata, job_id, created_at, committed_at)   one row per version;
 *   planar_blob_file    (name, version, path, size, etag, sha256)      its manifest;
 *   planar_blob_alias   (name, alias, version)                         custom aliases.
 *
 * A version is reserved first (state 'uploading', under the catalog's write transaction, so
 * two writers never get the same number; a reserved number is never given again), its objects
 * are uploaded, and then its manifest and state 'committed' are written in one transaction.
 * Only committed versions are ever visible; a failed upload is marked 'failed'. Timestamps are
 * ISO 8601 UTC text, the same on every catalog kind. Reads of a catalog without the tables find
 * nothing (only a put creates them).
 */
#ifndef PL_CATALOG_BLOBS_H
#define PL_CATALOG_BLOBS_H

#include <stddef.h>
#include <stdint.h>

#include "catalog/driver.h"
#include "core/err.h"

typedef struct pl_blob_version {
	char *name, *kind, *location, *metadata, *job_id, *created_at;
	int64_t version, file_count, total_bytes;
} pl_blob_version;

typedef struct pl_blob_file {
	char *path; /* relative to the version's folder, '/'-separated */
	int64_t size;
	char *etag;   /* the object's ETag (S3), NULL for local roots */
	char *sha256; /* hex */
} pl_blob_file;

void pl_blob_version_dispose(pl_blob_version *v);
void pl_blob_files_free(pl_blob_file *files, size_t n);

/* Creates the tables when missing. */
int pl_blobs_ensure(pl_catdb *db, pl_err *err);
/* Reserves the next version of name (1 for a new name) under location_base + "v<N>/"; the
 * name's kind is fixed by its first version (PL_EINVALID naming both kinds otherwise). */
int pl_blobs_reserve(pl_catdb *db, const char *name, const char *kind, const char *location_base,
		     const char *metadata, const char *job_id, const char *created_at, int64_t *version,
		     char **location, pl_err *err);
/* Records the manifest and makes the version visible, in one transaction. */
int pl_blobs_commit(pl_catdb *db, const char *name, int64_t version, const pl_blob_file *files, size_t n,
		    const char *committed_at, pl_err *err);
/* Marks a reserved version failed (it stays invisible and its number is not given again). */
int pl_blobs_fail(pl_catdb *db, const char *name, int64_t version, pl_err *err);
/* The committed version a reference names: sel NULL or "latest" (the newest), "v<N>" or "<N>",
 * else a custom alias. PL_ENOTFOUND naming what is missing. */
int pl_blobs_resolve(pl_catdb *db, const char *name, const char *sel, pl_blob_version *out, pl_err *err);
int pl_blobs_files(pl_catdb *db, const char *name, int64_t version, pl_blob_file **files, size_t *n,
		   pl_err *err);
/* Points alias at a committed version ("latest" and "v<N>" are reserved). */
int pl_blobs_set_alias(pl_catdb *db, const char *name, const char *alias, int64_t version, pl_err *err);
/* Committed versions of name (NULL: of every name), oldest first, with columns name, version,
 * kind, created_at, file_count, total_bytes, aliases (comma-separated, "latest" included),
 * job_id, metadata, location. */
int pl_blobs_list(pl_catdb *db, const char *name, pl_rows **out, pl_err *err);
/* Every file of every committed version: name, version, path, size, etag, sha256. */
int pl_blobs_all_files(pl_catdb *db, pl_rows **out, pl_err *err);

#endif
