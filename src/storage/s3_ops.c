/*
 * s3_ops.c -- the object operations of s3.h: PUT (single, multipart, create-only), GET to a
 * file or to memory, HEAD, DELETE and paginated LIST, each made of pl_s3_perform() requests.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/str.h"
#include "storage/s3_internal.h"

#define MIB (1024 * 1024)
/* ---------------------------------------------------------------------------------------------
 * Operations
 * ------------------------------------------------------------------------------------------- */

static char *unquote(const char *etag)
{
	size_t n = strlen(etag);
	if (n >= 2 && etag[0] == '"' && etag[n - 1] == '"')
		return pl_strndup(etag + 1, n - 2);
	return pl_strdup(etag);
}

/* *info for object key of size bytes and the ETag a response gave (quotes removed). */
static int fill_object(pl_s3_object *info, const char *key, int64_t size, const char *etag, pl_err *err)
{
	memset(info, 0, sizeof *info);
	info->size = size;
	info->key = pl_strdup(key);
	info->etag = unquote(etag);
	if (info->key && info->etag)
		return 0;
	pl_s3_object_dispose(info);
	return pl_err_nomem(err);
}

static int give_etag(const s3_req *r, char **etag_out, pl_err *err)
{
	if (!etag_out)
		return 0;
	*etag_out = unquote(r->etag);
	return *etag_out ? 0 : pl_err_nomem(err);
}

int pl_s3_head(pl_s3 *c, const char *bucket, const char *key, pl_s3_object *info, pl_err *err)
{
	s3_req r;
	pl_s3_req_init(&r, "HEAD", "HEAD", bucket, key);
	int rc = pl_s3_perform(c, &r, err);
	if (rc == 0 && info)
		rc = fill_object(info, key, r.content_length, r.etag, err);
	pl_buf_dispose(&r.resp);
	return rc;
}

int pl_s3_delete(pl_s3 *c, const char *bucket, const char *key, pl_err *err)
{
	s3_req r;
	pl_s3_req_init(&r, "delete", "DELETE", bucket, key);
	r.accept[0] = 404; /* NoSuchKey: already gone (S3 itself answers 204) */
	int rc = pl_s3_perform(c, &r, err);
	if (rc == 0 && r.status == 404 && pl_s3_xml_error_code_is(r.resp.ptr, r.resp.len, "NoSuchBucket")) {
		r.accept[0] = 0;
		rc = pl_s3_fail(c, &r, 0, "", err);
	}
	pl_buf_dispose(&r.resp);
	return rc;
}

/* HEAD before a create-only put: PL_EEXISTS when the object is there. */
static int check_absent(pl_s3 *c, const char *bucket, const char *key, pl_err *err)
{
	s3_req r;
	pl_s3_req_init(&r, "upload (existence check)", "HEAD", bucket, key);
	r.accept[0] = 404;
	int rc = pl_s3_perform(c, &r, err);
	if (rc == 0 && r.status != 404)
		rc = pl_err_set(err, PL_EEXISTS, "S3 upload of s3://%s/%s refused: the object already exists",
				bucket, key);
	pl_buf_dispose(&r.resp);
	return rc;
}

/* One PUT of a body (file range or memory), create-only when asked. */
static int put_single(pl_s3 *c, const char *bucket, const char *key, int fd, int64_t len, const void *mem,
		      int flags, char **etag_out, pl_err *err)
{
	s3_req r;
	int rc;
	if ((flags & PL_S3_CREATE_ONLY) && (rc = check_absent(c, bucket, key, err)) != 0)
		return rc;
	pl_s3_req_init(&r, "upload (PUT)", "PUT", bucket, key);
	r.src_fd = fd;
	r.body = mem;
	r.src_len = len;
	r.body_len = (size_t)len;
	if (flags & PL_S3_CREATE_ONLY) {
		r.if_none_match = "*";
		r.accept[0] = 501;
	}
	rc = pl_s3_perform(c, &r, err);
	if (rc == 0 && r.status == 501) { /* If-None-Match not implemented: the HEAD above was the check */
		r.if_none_match = NULL;
		r.accept[0] = 0;
		rc = pl_s3_perform(c, &r, err);
	}
	if (rc == PL_EEXISTS)
		rc = pl_err_set(err, PL_EEXISTS, "S3 upload of s3://%s/%s refused: the object already exists",
				bucket, key);
	if (rc == 0)
		rc = give_etag(&r, etag_out, err);
	pl_buf_dispose(&r.resp);
	return rc;
}

int pl_s3_put_mem(pl_s3 *c, const char *bucket, const char *key, const void *data, size_t len, int flags,
		  char **etag_out, pl_err *err)
{
	return put_single(c, bucket, key, -1, (int64_t)len, data ? data : "", flags, etag_out, err);
}

static void abort_upload(pl_s3 *c, const char *bucket, const char *key, const char *upload_id)
{
	pl_buf q = PL_BUF_INIT;
	pl_buf_puts(&q, "uploadId=");
	pl_s3_encode(&q, upload_id, false);
	s3_req r;
	pl_s3_req_init(&r, "abort of multipart upload", "DELETE", bucket, key);
	r.query = q.ptr;
	r.accept[0] = 404;
	pl_err ignored = {0, ""};
	if (!pl_buf_oom(&q))
		pl_s3_perform(c, &r, &ignored);
	pl_buf_dispose(&r.resp);
	pl_buf_dispose(&q);
}

static void xml_text(pl_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '&')
			pl_buf_puts(b, "&amp;");
		else if (*s == '<')
			pl_buf_puts(b, "&lt;");
		else if (*s == '>')
			pl_buf_puts(b, "&gt;");
		else
			pl_buf_putc(b, *s);
	}
}

/* The parts of a multipart upload, on up to cfg.part_parallel threads (each its own client and
 * connection; this thread is one of them). etags[i] gets part i+1's ETag. */
typedef struct parts_job {
	pl_s3 *c;
	const char *bucket, *key, *upload_id;
	int fd;
	int64_t size, part, nparts, next;
	char **etags;
	pthread_mutex_t mu;
	int rc;
	pl_err err;
} parts_job;

static int put_part(parts_job *j, pl_s3 *c, int64_t i, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	pl_buf_printf(&q, "partNumber=%lld&uploadId=", (long long)(i + 1));
	pl_s3_encode(&q, j->upload_id, false);
	s3_req r;
	pl_s3_req_init(&r, "multipart upload (part)", "PUT", j->bucket, j->key);
	r.query = q.ptr;
	r.src_fd = j->fd;
	r.src_off = i * j->part;
	r.src_len = (i + 1) * j->part > j->size ? j->size - i * j->part : j->part;
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_s3_perform(c, &r, err);
	if (rc == 0 && !(j->etags[i] = pl_strdup(r.etag[0] ? r.etag : "\"\"")))
		rc = pl_err_nomem(err);
	pl_buf_dispose(&r.resp);
	pl_buf_dispose(&q);
	return rc;
}

static void *parts_worker(void *arg)
{
	parts_job *j = arg;
	pl_err err = {0, ""};
	pl_s3 *own = NULL;
	int rc = 0;
	bool main_thread = pthread_equal(pthread_self(), j->c->owner);
	if (!main_thread)
		rc = pl_s3_open(&own, &j->c->cfg, &err);
	pl_s3 *c = main_thread ? j->c : own;
	for (;;) {
		pthread_mutex_lock(&j->mu);
		if (rc != 0 && j->rc == 0) {
			j->rc = rc;
			j->err = err;
		}
		int64_t i = j->next;
		bool stop = j->rc != 0 || i >= j->nparts;
		if (!stop)
			j->next++;
		pthread_mutex_unlock(&j->mu);
		if (stop)
			break;
		rc = put_part(j, c, i, &err);
	}
	if (own) {
		pthread_mutex_lock(&j->mu);
		j->c->stats.requests += own->stats.requests;
		j->c->stats.retries += own->stats.retries;
		j->c->stats.bytes_up += own->stats.bytes_up;
		j->c->stats.bytes_down += own->stats.bytes_down;
		pthread_mutex_unlock(&j->mu);
		pl_s3_close(own);
	}
	return NULL;
}

static int put_parts(pl_s3 *c, const char *bucket, const char *key, int fd, int64_t size, int64_t part,
		     int64_t nparts, const char *upload_id, char **etags, pl_err *err)
{
	parts_job j = {c, bucket, key, upload_id, fd, size, part, nparts, 0, etags, PTHREAD_MUTEX_INITIALIZER, 0,
		       {0, ""}};
	int64_t nthreads = c->cfg.part_parallel < 1 ? 1 : c->cfg.part_parallel;
	if (nthreads > nparts)
		nthreads = nparts;
	if (nthreads > 32)
		nthreads = 32;
	pthread_t threads[32];
	int64_t started = 0;
	c->owner = pthread_self();
	for (; started + 1 < nthreads; started++)
		if (pthread_create(&threads[started], NULL, parts_worker, &j) != 0)
			break;
	parts_worker(&j);
	for (int64_t t = 0; t < started; t++)
		pthread_join(threads[t], NULL);
	pthread_mutex_destroy(&j.mu);
	if (j.rc)
		pl_err_set(err, j.rc, "%s", j.err.msg);
	return j.rc;
}

static int put_multipart(pl_s3 *c, const char *bucket, const char *key, int fd, int64_t size, int flags,
			 char **etag_out, pl_err *err)
{
	int rc;
	if ((flags & PL_S3_CREATE_ONLY) && (rc = check_absent(c, bucket, key, err)) != 0)
		return rc;
	int64_t part = c->cfg.part_size;
	if ((size + part - 1) / part > 10000)
		part = (size + 9999) / 10000;
	int64_t nparts = size == 0 ? 1 : (size + part - 1) / part;
	char **etags = calloc((size_t)nparts, sizeof *etags);
	char *upload_id = NULL;
	pl_buf q = PL_BUF_INIT, body = PL_BUF_INIT;
	s3_req r;
	if (!etags)
		return pl_err_nomem(err);
	pl_s3_req_init(&r, "multipart upload (initiate)", "POST", bucket, key);
	r.query = "uploads=";
	rc = pl_s3_perform(c, &r, err);
	if (rc == 0 && !(upload_id = pl_s3_xml_text(r.resp.ptr, r.resp.len, "UploadId")))
		rc = pl_err_set(err, PL_EIO, "S3 multipart upload of s3://%s/%s: the server's answer has no UploadId",
				bucket, key);
	pl_buf_dispose(&r.resp);
	if (rc == 0)
		rc = put_parts(c, bucket, key, fd, size, part, nparts, upload_id, etags, err);
	if (rc == 0) {
		pl_buf_puts(&body, "<CompleteMultipartUpload>");
		for (int64_t i = 0; i < nparts; i++) {
			pl_buf_printf(&body, "<Part><PartNumber>%lld</PartNumber><ETag>", (long long)(i + 1));
			xml_text(&body, etags[i]);
			pl_buf_puts(&body, "</ETag></Part>");
		}
		pl_buf_puts(&body, "</CompleteMultipartUpload>");
		pl_buf_truncate(&q, 0);
		pl_buf_puts(&q, "uploadId=");
		pl_s3_encode(&q, upload_id, false);
		pl_s3_req_init(&r, "multipart upload (complete)", "POST", bucket, key);
		r.query = q.ptr;
		r.body = body.ptr;
		r.body_len = body.len;
		r.content_type = "application/xml";
		if (flags & PL_S3_CREATE_ONLY)
			r.if_none_match = "*";
		if (pl_buf_oom(&q) || pl_buf_oom(&body))
			rc = pl_err_nomem(err);
		else
			rc = pl_s3_perform(c, &r, err);
		/* CompleteMultipartUpload may answer 200 and report an error in the body. */
		if (rc == 0 && pl_s3_xml_is_error(r.resp.ptr, r.resp.len)) {
			r.status = 500;
			rc = pl_s3_fail(c, &r, 0, "", err);
		}
		if (rc == 0 && etag_out) {
			char *e = pl_s3_xml_text(r.resp.ptr, r.resp.len, "ETag");
			if (e) {
				*etag_out = unquote(e);
				free(e);
			} else {
				*etag_out = unquote(r.etag);
			}
			if (!*etag_out)
				rc = pl_err_nomem(err);
		}
		pl_buf_dispose(&r.resp);
	}
	if (rc != 0 && upload_id)
		abort_upload(c, bucket, key, upload_id);
	if (rc == PL_EEXISTS)
		rc = pl_err_set(err, PL_EEXISTS, "S3 upload of s3://%s/%s refused: the object already exists",
				bucket, key);
	for (int64_t i = 0; i < nparts; i++)
		free(etags[i]);
	free(etags);
	free(upload_id);
	pl_buf_dispose(&q);
	pl_buf_dispose(&body);
	return rc;
}

int pl_s3_put_file(pl_s3 *c, const char *bucket, const char *key, const char *path, int flags,
		   char **etag_out, pl_err *err)
{
	if (etag_out)
		*etag_out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pl_err_set(err, PL_EIO, "S3 upload of s3://%s/%s: cannot open '%s': %s", bucket, key, path,
				  strerror(errno));
	struct stat st;
	int rc;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		rc = pl_err_set(err, PL_EIO, "S3 upload of s3://%s/%s: '%s' is not a readable regular file", bucket,
				key, path);
	else if (c->cfg.multipart && st.st_size >= c->cfg.multipart_threshold)
		rc = put_multipart(c, bucket, key, fd, (int64_t)st.st_size, flags, etag_out, err);
	else
		rc = put_single(c, bucket, key, fd, (int64_t)st.st_size, NULL, flags, etag_out, err);
	close(fd);
	return rc;
}

int pl_s3_get_file(pl_s3 *c, const char *bucket, const char *key, const char *path, pl_s3_object *info,
		   pl_err *err)
{
	pl_buf tmp = PL_BUF_INIT;
	pl_buf_printf(&tmp, "%s.planar-tmp-XXXXXX", path);
	if (pl_buf_oom(&tmp))
		return pl_err_nomem(err);
	int fd = mkstemp(tmp.ptr);
	if (fd < 0) {
		int rc = pl_err_set(err, PL_EIO, "S3 download of s3://%s/%s: cannot create '%s': %s", bucket, key,
				    tmp.ptr, strerror(errno));
		pl_buf_dispose(&tmp);
		return rc;
	}
	fchmod(fd, 0644); /* mkstemp's 0600 is for the temporary name only */
	s3_req r;
	pl_s3_req_init(&r, "download (GET)", "GET", bucket, key);
	r.out_fd = fd;
	int rc = pl_s3_perform(c, &r, err);
	if (rc == 0 && r.content_length >= 0 && r.written != r.content_length)
		rc = pl_err_set(err, PL_EIO, "S3 download of s3://%s/%s: got %lld of %lld bytes", bucket, key,
				(long long)r.written, (long long)r.content_length);
	if (close(fd) != 0 && rc == 0)
		rc = pl_err_set(err, PL_EIO, "S3 download of s3://%s/%s: cannot write '%s': %s", bucket, key,
				tmp.ptr, strerror(errno));
	if (rc == 0 && rename(tmp.ptr, path) != 0)
		rc = pl_err_set(err, PL_EIO, "S3 download of s3://%s/%s: cannot rename to '%s': %s", bucket, key,
				path, strerror(errno));
	if (rc != 0)
		unlink(tmp.ptr);
	if (rc == 0 && info)
		rc = fill_object(info, key, r.written, r.etag, err);
	pl_buf_dispose(&r.resp);
	pl_buf_dispose(&tmp);
	return rc;
}

int pl_s3_get_mem(pl_s3 *c, const char *bucket, const char *key, size_t max_len, char **data, size_t *len,
		  pl_err *err)
{
	*data = NULL;
	*len = 0;
	s3_req r;
	pl_s3_req_init(&r, "download (GET)", "GET", bucket, key);
	r.max_resp = max_len;
	int rc = pl_s3_perform(c, &r, err);
	if (rc == 0) {
		*len = r.resp.len;
		*data = r.resp.ptr ? pl_buf_detach(&r.resp) : pl_strdup("");
		if (!*data)
			rc = pl_err_nomem(err);
	}
	pl_buf_dispose(&r.resp);
	return rc;
}

int pl_s3_list(pl_s3 *c, const char *bucket, const char *prefix, pl_s3_listing *out, pl_err *err)
{
	char *token = NULL;
	int rc = 0;
	pl_buf q = PL_BUF_INIT;
	for (int page = 0;; page++) {
		pl_buf_truncate(&q, 0);
		if (token) {
			pl_buf_puts(&q, "continuation-token=");
			pl_s3_encode(&q, token, false);
			pl_buf_putc(&q, '&');
		}
		pl_buf_printf(&q, "list-type=2&max-keys=%d&prefix=", c->cfg.list_page_size);
		pl_s3_encode(&q, prefix ? prefix : "", false);
		if (pl_buf_oom(&q)) {
			rc = pl_err_nomem(err);
			break;
		}
		s3_req r;
		pl_s3_req_init(&r, "list", "GET", bucket, NULL);
		r.shown_key = prefix;
		r.query = q.ptr;
		r.max_resp = 64 * MIB;
		rc = pl_s3_perform(c, &r, err);
		if (rc == 0) {
			bool truncated = false;
			free(token);
			token = NULL;
			rc = pl_s3_xml_list(r.resp.ptr, r.resp.len, out, &truncated, &token, err);
			if (rc == 0 && truncated && !token)
				rc = pl_err_set(err, PL_EIO,
						"S3 list of s3://%s/%s: the server said the listing goes on but gave no "
						"continuation token",
						bucket, prefix ? prefix : "");
			if (rc == 0 && !truncated) {
				pl_buf_dispose(&r.resp);
				break;
			}
		}
		pl_buf_dispose(&r.resp);
		if (rc != 0)
			break;
	}
	free(token);
	pl_buf_dispose(&q);
	return rc;
}

int pl_s3_probe(pl_s3 *c, const char *bucket, const char *prefix, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	pl_buf_puts(&q, "list-type=2&max-keys=1&prefix=");
	pl_s3_encode(&q, prefix ? prefix : "", false);
	if (pl_buf_oom(&q))
		return pl_err_nomem(err);
	s3_req r;
	pl_s3_req_init(&r, "access check (list)", "GET", bucket, NULL);
	r.shown_key = prefix;
	r.query = q.ptr;
	int rc = pl_s3_perform(c, &r, err);
	pl_buf_dispose(&r.resp);
	pl_buf_dispose(&q);
	return rc;
}
