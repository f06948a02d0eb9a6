/*
 * s3.h -- a client for S3-compatible object storage (AWS S3, Cloudflare R2, MinIO, RustFS, ...)
 * on libcurl, which signs every request with AWS Signature Version 4.
 *
 * A client (pl_s3) is made from a configuration (endpoint, region, URL style, TLS, keys, upload
 * and retry settings), usually filled from the environment by pl_s3_config_from_env(). It keeps
 * one connection alive between requests and is used by one thread at a time.
 *
 * Every operation retries with exponential backoff and jitter on 5xx answers, throttling (503
 * SlowDown, 429), S3's RequestTimeout and network failures or timeouts (no progress for
 * `timeout_ms`). A failure fills pl_err with one message naming the operation, the object
 * (s3://bucket/key) and what to check: missing bucket or object, wrong key id or secret, wrong
 * region, unreachable endpoint, TLS mismatch, timeout, full quota. The code is PL_ENOTFOUND
 * (bucket or object missing), PL_EEXISTS (create-only put of an existing object), PL_EINVALID
 * (credentials, region, configuration), else PL_EIO. The secret key never appears in a
 * message: nothing logs requests, and every message is scrubbed of it.
 *
 * Keys are any byte string (UTF-8 in practice): they are percent-encoded in URLs exactly as
 * SigV4 canonicalizes them (every byte but A-Z a-z 0-9 - _ . ~ and '/'), and sent with the path
 * as-is, so "a/../b", "%", spaces and non-ASCII keys reach the server unchanged.
 */
#ifndef PL_STORAGE_S3_H
#define PL_STORAGE_S3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct pl_s3_config {
	char *endpoint;   /* "host[:port]" or "http[s]://host[:port]"; NULL: AWS (s3.<region>.amazonaws.com) */
	char *region;     /* NULL: "us-east-1" */
	bool path_style;  /* URLs host/bucket/key (else bucket.host/key) */
	bool use_ssl;     /* https (a scheme in `endpoint` overrides it) */
	char *key_id;
	char *secret;
	char *session_token; /* optional (x-amz-security-token) */
	const char *source;  /* where the settings came from, for messages ("AWS_*", "R2_*", ...) */
	/* Uploads: a file of at least multipart_threshold bytes goes up in parts of part_size
	 * bytes (raised when needed to stay within 10,000 parts); multipart=false always sends one
	 * PUT (for gateways that reject multipart or chunked uploads). */
	bool multipart;
	int64_t multipart_threshold; /* default 64 MiB */
	int64_t part_size;           /* default 16 MiB */
	int part_parallel;           /* parts sent at once, each on its own connection; default 4 */
	/* Retries and timeouts. */
	int max_retries;        /* retries after the first attempt; default 5 */
	long retry_base_ms;     /* first backoff; doubled each retry, capped at 20 s; default 200 */
	long connect_timeout_ms; /* default 10 s */
	long timeout_ms;        /* a transfer with no progress for this long fails; default 60 s */
	int list_page_size;     /* max-keys of one LIST request; default 1000 */
} pl_s3_config;

/* Defaults: no endpoint (AWS), us-east-1, virtual-host URLs, TLS, multipart on. */
void pl_s3_config_init(pl_s3_config *cfg);
void pl_s3_config_dispose(pl_s3_config *cfg);
/* Copies strings too. */
int pl_s3_config_copy(pl_s3_config *dst, const pl_s3_config *src, pl_err *err);

/* Fills endpoint, region, URL style, TLS and keys from the environment, from the first set that
 * has keys, unless `which` names one ("aws", "r2", "minio"; NULL: the first found):
 *   aws:   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_ENDPOINT_URL (path-style
 *          URLs when set, else AWS's virtual-host URLs), AWS_REGION or AWS_DEFAULT_REGION;
 *   r2:    R2_ENDPOINT, R2_ACCESS_KEY, R2_SECRET_KEY (region "auto", path-style);
 *   minio: MINIO_ENDPOINT, MINIO_ACCESS_KEY, MINIO_SECRET_KEY, MINIO_USE_SSL (true/false/1/0;
 *          default true unless the endpoint says http://), MINIO_REGION (default us-east-1),
 *          path-style.
 * Then, whatever the store: PLANAR_S3_MULTIPART (true/false), PLANAR_S3_MULTIPART_THRESHOLD and
 * PLANAR_S3_PART_SIZE (sizes such as 8MB or 8MiB), PLANAR_S3_PART_PARALLEL, PLANAR_S3_URL_STYLE (path or vhost),
 * PLANAR_S3_USE_SSL (true/false), PLANAR_S3_TIMEOUT_MS, PLANAR_S3_CONNECT_TIMEOUT_MS,
 * PLANAR_S3_MAX_RETRIES, PLANAR_S3_RETRY_BASE_MS.
 * PL_ENOTFOUND naming the variables when none is set; settings the environment does not give
 * keep their values. */
int pl_s3_config_from_env(pl_s3_config *cfg, const char *which, pl_err *err);
/* Applies only the PLANAR_S3_* settings of the environment (multipart, part size, URL style,
 * TLS) to cfg: for configurations that come from elsewhere (CREATE SECRET). */
void pl_s3_config_env_overrides(pl_s3_config *cfg);

/* Splits "s3://bucket/prefix..." into bucket and key prefix (without the leading '/'; "" when
 * none). PL_EINVALID when uri is not one. */
int pl_s3_parse_uri(const char *uri, char **bucket, char **prefix, pl_err *err);
bool pl_s3_is_uri(const char *uri);

typedef struct pl_s3 pl_s3;

int pl_s3_open(pl_s3 **out, const pl_s3_config *cfg, pl_err *err);
void pl_s3_close(pl_s3 *s3);
const pl_s3_config *pl_s3_get_config(const pl_s3 *s3);

/* An object as LIST and HEAD describe it. etag is without quotes. */
typedef struct pl_s3_object {
	char *key;
	int64_t size;
	char *etag;
	int64_t mtime_us; /* LIST: LastModified, microseconds since the epoch (0: unknown) */
} pl_s3_object;

void pl_s3_object_dispose(pl_s3_object *obj);

typedef struct pl_s3_listing {
	pl_s3_object *items;
	size_t len, cap;
} pl_s3_listing;

void pl_s3_list_dispose(pl_s3_listing *l);

/* Flags of a put. */
enum {
	/* Fail with PL_EEXISTS when the object exists. Sent as `If-None-Match: *`, which S3, R2 and
	 * MinIO check atomically; a server that answers 501 gets the fallback, a HEAD just before the
	 * PUT, and so does a server that ignores the header (it is always preceded by that HEAD):
	 * there, two writers racing on one key may both succeed, so callers that need exclusivity
	 * also take it elsewhere (blob versions are reserved in the catalog). */
	PL_S3_CREATE_ONLY = 1,
};

/* Uploads a local file (single PUT below the multipart threshold, multipart above; a failed
 * multipart upload is aborted). etag_out (may be NULL) gets the object's ETag (malloc'd). */
int pl_s3_put_file(pl_s3 *s3, const char *bucket, const char *key, const char *path, int flags,
		   char **etag_out, pl_err *err);
/* Uploads bytes from memory (one PUT). */
int pl_s3_put_mem(pl_s3 *s3, const char *bucket, const char *key, const void *data, size_t len,
		  int flags, char **etag_out, pl_err *err);
/* Downloads an object to a local file, streamed: written to a temporary file beside `path`
 * and renamed over it once complete (never a partial file at `path`). info (may be NULL) gets
 * the size and ETag. */
int pl_s3_get_file(pl_s3 *s3, const char *bucket, const char *key, const char *path,
		   pl_s3_object *info, pl_err *err);
/* Downloads a small object into memory (at most max_len bytes, else PL_EINVALID). */
int pl_s3_get_mem(pl_s3 *s3, const char *bucket, const char *key, size_t max_len, char **data,
		  size_t *len, pl_err *err);
/* Size and ETag of an object; PL_ENOTFOUND when it (or its bucket) does not exist. */
int pl_s3_head(pl_s3 *s3, const char *bucket, const char *key, pl_s3_object *info, pl_err *err);
/* Removes an object; a missing object is not an error (S3 semantics). */
int pl_s3_delete(pl_s3 *s3, const char *bucket, const char *key, pl_err *err);
/* Appends every object whose key starts with prefix to out, page by page (ListObjectsV2). */
int pl_s3_list(pl_s3 *s3, const char *bucket, const char *prefix, pl_s3_listing *out, pl_err *err);

/* One small LIST request: whether the bucket exists and the keys may read it (the errors of
 * pl_s3_list), before anything is written. */
int pl_s3_probe(pl_s3 *s3, const char *bucket, const char *prefix, pl_err *err);

/* Appends key percent-encoded as SigV4 wants it in a path (keep_slash) or a query value. */
struct pl_buf;
void pl_s3_encode(struct pl_buf *b, const char *s, bool keep_slash);

/* Counters of the requests a client sent (for tests and benchmarks). */
typedef struct pl_s3_stats {
	int64_t requests, retries, bytes_up, bytes_down;
} pl_s3_stats;
pl_s3_stats pl_s3_get_stats(const pl_s3 *s3);

#endif
