/*
 * blob.h -- versioned blobs: folders of files (datasets, checkpoints) uploaded under
 * <root>/datasets|checkpoints/<NAME>/v<N>/ and recorded in the lake's catalog (catalog/blobs.h).
 *
 * The root is a local directory or an S3 URI (s3://bucket/prefix); S3 credentials and endpoint
 * come from the environment (storage/s3.h, pl_s3_config_from_env). A put reserves the next
 * version in the catalog (two puts of one name at once get two numbers), uploads every file
 * (local roots: copied, fsync'd, never over an existing file), writes the manifest beside them
 * as .planar-manifest.json (create-only) and only then records the version: a put that fails
 * anywhere records nothing visible, removes what it uploaded, and its number is not reused.
 * A reference is NAME, NAME:vN, NAME:N, NAME:latest or NAME:<alias>.
 */
#ifndef PL_TABLE_BLOB_H
#define PL_TABLE_BLOB_H

#include <stdbool.h>
#include <stdint.h>

#include "catalog/blobs.h"
#include "catalog/driver.h"
#include "core/err.h"

#define PL_BLOB_MANIFEST ".planar-manifest.json"

typedef struct pl_blob_put_req {
	const char *dir;      /* the local folder to upload */
	const char *name;     /* letters, digits, '.', '_', '-'; not starting with '.' */
	const char *kind;     /* "dataset" | "checkpoint" */
	const char *metadata; /* JSON text, or NULL */
	const char *job_id;   /* or NULL */
	const char *root;     /* local directory or s3://bucket/prefix */
} pl_blob_put_req;

int pl_blob_put(pl_catdb *cat, const pl_blob_put_req *req, pl_blob_version *out, pl_err *err);
/* Downloads a version into dir (created when missing; files of the same paths replaced), each
 * file checked against its recorded size and SHA-256. */
int pl_blob_get(pl_catdb *cat, const char *ref, const char *dir, pl_blob_version *out, pl_err *err);
/* Points alias at the version ref names. */
int pl_blob_alias(pl_catdb *cat, const char *ref, const char *alias, pl_blob_version *out, pl_err *err);
/* Re-checks every object of a version against its manifest (S3: size and ETag; local: size and
 * SHA-256). *report gets one line per object that changed or vanished ("" when none) and
 * *problems their count. */
int pl_blob_verify(pl_catdb *cat, const char *ref, char **report, int64_t *problems, pl_blob_version *out,
		   pl_err *err);
/* Opens the object path of a version stored at location, checked against its manifest entry
 * (size; S3 objects also SHA-256): *fd_out reads it from the start, *size_out is its size. A
 * local object is opened without following a link at its name; an S3 object is downloaded to an
 * unlinked temporary file first ($TMPDIR). path must be a manifest path (no empty, '.' or '..'
 * part): PL_EINVALID otherwise, PL_ENOTFOUND when the object is gone. */
int pl_blob_open_object(const char *location, const char *path, int64_t size, const char *sha256, int *fd_out,
			pl_err *err);
/* Whether rel is a relative path that stays inside its folder (no empty, '.' or '..' part). */
bool pl_blob_safe_path(const char *rel);
/* Splits NAME[:SEL]. */
int pl_blob_parse_ref(const char *ref, char **name, char **sel, pl_err *err);

#endif
