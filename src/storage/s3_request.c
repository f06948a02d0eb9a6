/*
 * s3_request.c -- one signed S3 request with its retries and backoff, and the message of a
 * request that failed for good (see s3.h for what is retried and what messages say).
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
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
 * One request, with retries
 * ------------------------------------------------------------------------------------------- */


void pl_s3_req_init(s3_req *r, const char *op, const char *method, const char *bucket, const char *key)
{
	memset(r, 0, sizeof *r);
	r->op = op;
	r->method = method;
	r->bucket = bucket;
	r->key = key;
	r->src_fd = -1;
	r->out_fd = -1;
	r->content_length = -1;
	r->max_resp = MIB;
}

static size_t on_write(char *p, size_t size, size_t n, void *ud)
{
	s3_req *r = ud;
	size_t len = size * n;
	long status = 0;
	curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &status);
	if (r->out_fd >= 0 && status >= 200 && status < 300) {
		size_t done = 0;
		while (done < len) {
			ssize_t w = pwrite(r->out_fd, p + done, len - done, (off_t)(r->written + (int64_t)done));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return 0; /* CURLE_WRITE_ERROR */
			done += (size_t)w;
		}
		r->written += (int64_t)len;
		return len;
	}
	bool ok = status >= 200 && status < 300;
	size_t limit = ok ? r->max_resp : PL_S3_MAX_ERROR_BODY;
	if (r->resp.len + len > limit) {
		r->resp_too_big = true;
		r->body_too_big = ok;
		return 0;
	}
	pl_buf_put(&r->resp, p, len);
	return r->resp.oom ? 0 : len;
}

static void copy_header_value(char *dst, size_t cap, const char *v, size_t n)
{
	while (n > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
		n--;
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

static bool header_is(const char *line, size_t n, const char *name, const char **value, size_t *vlen)
{
	size_t k = strlen(name);
	if (n <= k || line[k] != ':' || strncasecmp(line, name, k) != 0)
		return false;
	*value = line + k + 1;
	*vlen = n - k - 1;
	return true;
}

static size_t on_header(char *line, size_t size, size_t n, void *ud)
{
	s3_req *r = ud;
	size_t len = size * n;
	const char *v;
	size_t vn;
	char tmp[64];
	if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) { /* a new response (after 100 Continue) */
		r->etag[0] = r->request_id[0] = '\0';
		r->content_length = -1;
		r->retry_after_s = 0;
	} else if (header_is(line, len, "ETag", &v, &vn)) {
		copy_header_value(r->etag, sizeof r->etag, v, vn);
	} else if (header_is(line, len, "x-amz-request-id", &v, &vn)) {
		copy_header_value(r->request_id, sizeof r->request_id, v, vn);
	} else if (header_is(line, len, "Content-Length", &v, &vn)) {
		copy_header_value(tmp, sizeof tmp, v, vn);
		r->content_length = strtoll(tmp, NULL, 10);
	} else if (header_is(line, len, "Retry-After", &v, &vn)) {
		copy_header_value(tmp, sizeof tmp, v, vn);
		r->retry_after_s = strtol(tmp, NULL, 10);
	}
	return len;
}

static size_t on_read(char *p, size_t size, size_t n, void *ud)
{
	s3_req *r = ud;
	size_t want = size * n;
	int64_t left = r->src_len - r->src_pos;
	if (left <= 0)
		return 0;
	if ((int64_t)want > left)
		want = (size_t)left;
	if (r->body) {
		memcpy(p, r->body + r->src_pos, want);
		r->src_pos += (int64_t)want;
		return want;
	}
	ssize_t got;
	do
		got = pread(r->src_fd, p, want, (off_t)(r->src_off + r->src_pos));
	while (got < 0 && errno == EINTR);
	if (got <= 0)
		return CURL_READFUNC_ABORT; /* the file shrank or failed: never send a short body */
	r->src_pos += got;
	return (size_t)got;
}

static int on_seek(void *ud, curl_off_t off, int origin)
{
	s3_req *r = ud;
	if (origin != SEEK_SET || off < 0 || off > r->src_len)
		return CURL_SEEKFUNC_CANTSEEK;
	r->src_pos = off;
	return CURL_SEEKFUNC_OK;
}

static void build_url(pl_s3 *c, const s3_req *r, pl_buf *url)
{
	pl_buf_printf(url, "%s://", c->scheme);
	if (c->cfg.path_style || !r->bucket) {
		pl_buf_puts(url, c->host);
		if (r->bucket) {
			pl_buf_putc(url, '/');
			pl_buf_puts(url, r->bucket);
		}
	} else {
		pl_buf_printf(url, "%s.%s", r->bucket, c->host);
	}
	pl_buf_putc(url, '/');
	if (r->key)
		pl_s3_encode(url, r->key, true);
	if (r->query) {
		pl_buf_putc(url, '?');
		pl_buf_puts(url, r->query);
	}
}

static bool accepted(const s3_req *r)
{
	if (r->status >= 200 && r->status < 300)
		return true;
	for (size_t i = 0; i < sizeof r->accept / sizeof r->accept[0]; i++)
		if (r->accept[i] && r->accept[i] == r->status)
			return true;
	return false;
}

static bool curl_retryable(CURLcode cc)
{
	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

static void backoff(pl_s3 *c, s3_req *r, int attempt)
{
	long ms = c->cfg.retry_base_ms > 0 ? c->cfg.retry_base_ms : 1;
	for (int i = 0; i < attempt && ms < 20000; i++)
		ms *= 2;
	if (ms > 20000)
		ms = 20000;
	ms = ms / 2 + (long)(rand_r(&c->seed) % (unsigned)(ms / 2 + 1)); /* equal jitter */
	if (r->retry_after_s > 0 && r->retry_after_s * 1000 > ms)
		ms = (r->retry_after_s > 30 ? 30 : r->retry_after_s) * 1000;
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

/* Sends the request, retrying what may succeed later. 0 when an accepted answer came. */
int pl_s3_perform(pl_s3 *c, s3_req *r, pl_err *err)
{
	pl_buf url = PL_BUF_INIT;
	struct curl_slist *hdrs = NULL;
	char line[512];
	build_url(c, r, &url);
	hdrs = curl_slist_append(hdrs, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
	if (c->cfg.session_token) {
		pl_buf t = PL_BUF_INIT;
		pl_buf_printf(&t, "x-amz-security-token: %s", c->cfg.session_token);
		if (!pl_buf_oom(&t))
			hdrs = curl_slist_append(hdrs, t.ptr);
		pl_buf_dispose(&t);
	}
	if (r->if_none_match) {
		snprintf(line, sizeof line, "If-None-Match: %s", r->if_none_match);
		hdrs = curl_slist_append(hdrs, line);
	}
	if (r->content_type) {
		snprintf(line, sizeof line, "Content-Type: %s", r->content_type);
		hdrs = curl_slist_append(hdrs, line);
	}
	if (pl_buf_oom(&url) || !hdrs) {
		pl_buf_dispose(&url);
		curl_slist_free_all(hdrs);
		return pl_err_nomem(err);
	}
	long low_speed_s = c->cfg.timeout_ms / 1000;
	if (low_speed_s < 1)
		low_speed_s = 1;
	bool has_body = r->body || r->src_fd >= 0;
	int rc = 0;
	for (int attempt = 0;; attempt++) {
		char ebuf[CURL_ERROR_SIZE] = "";
		CURL *h = c->h;
		curl_easy_reset(h);
		r->h = h;
		r->attempts = attempt + 1;
		r->status = 0;
		r->src_pos = 0;
		r->written = 0;
		r->resp_too_big = r->body_too_big = false;
		pl_buf_truncate(&r->resp, 0);
		r->resp.oom = false;
		if (r->out_fd >= 0 && ftruncate(r->out_fd, 0) != 0) {
			rc = pl_err_set(err, PL_EIO, "S3 %s of s3://%s/%s: cannot truncate the download file: %s",
					r->op, r->bucket, r->key ? r->key : "", strerror(errno));
			break;
		}
		curl_easy_setopt(h, CURLOPT_URL, url.ptr);
		curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
		curl_easy_setopt(h, CURLOPT_AWS_SIGV4, c->sigv4);
		curl_easy_setopt(h, CURLOPT_USERNAME, c->cfg.key_id);
		curl_easy_setopt(h, CURLOPT_PASSWORD, c->cfg.secret);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->cfg.connect_timeout_ms);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, low_speed_s);
		curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
		curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
		curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
		if (strcmp(r->method, "HEAD") == 0) {
			curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
		} else if (strcmp(r->method, "PUT") == 0) {
			curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
			curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->src_len);
			curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
			curl_easy_setopt(h, CURLOPT_READDATA, r);
			curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
			curl_easy_setopt(h, CURLOPT_SEEKDATA, r);
		} else if (strcmp(r->method, "POST") == 0) {
			curl_easy_setopt(h, CURLOPT_POST, 1L);
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, has_body ? r->body : "");
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(has_body ? r->body_len : 0));
		} else if (strcmp(r->method, "GET") != 0) {
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
		}
		CURLcode cc = curl_easy_perform(h);
		c->stats.requests++;
		if (attempt > 0)
			c->stats.retries++;
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
		curl_off_t up = 0;
		curl_easy_getinfo(h, CURLINFO_SIZE_UPLOAD_T, &up);
		c->stats.bytes_up += up;
		c->stats.bytes_down += r->written;
		if (cc == CURLE_WRITE_ERROR && r->body_too_big) {
			rc = pl_err_set(err, PL_EINVALID, "S3 %s of s3://%s/%s: the object is larger than %zu bytes",
					r->op, r->bucket, r->key ? r->key : "", r->max_resp);
			break;
		}
		if (cc == CURLE_WRITE_ERROR && r->resp_too_big)
			cc = CURLE_OK; /* an error body we only read the start of */
		bool retry = false;
		if (cc != CURLE_OK)
			retry = curl_retryable(cc);
		else if (!accepted(r))
			retry = r->status >= 500 || r->status == 429 ||
				(r->status == 400 && pl_s3_xml_error_code_is(r->resp.ptr, r->resp.len, "RequestTimeout"));
		if (cc == CURLE_OK && accepted(r))
			break;
		if (!retry || attempt >= c->cfg.max_retries) {
			rc = pl_s3_fail(c, r, (int)cc, ebuf[0] ? ebuf : curl_easy_strerror(cc), err);
			break;
		}
		backoff(c, r, attempt);
	}
	curl_easy_setopt(c->h, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, NULL);
	pl_buf_dispose(&url);
	curl_slist_free_all(hdrs);
	return rc;
}

/* The one message of a failed request: operation, object, what the server or network said,
 * and what to check. */
int pl_s3_fail(pl_s3 *c, s3_req *r, int cc_int, const char *curl_msg, pl_err *err)
{
	CURLcode cc = (CURLcode)cc_int;
	pl_buf m = PL_BUF_INIT;
	int code = PL_EIO;
	char *ecode = NULL, *emsg = NULL, *eregion = NULL;
	const char *hint = NULL;
	char endpoint[512];
	snprintf(endpoint, sizeof endpoint, "%s://%s", c->scheme, c->host);
	pl_buf_printf(&m, "S3 %s of s3://%s/%s failed", r->op, r->bucket ? r->bucket : "",
		      r->key ? r->key : r->shown_key ? r->shown_key : "");
	if (cc != CURLE_OK) {
		pl_buf_printf(&m, ": %s", curl_msg);
		switch (cc) {
		case CURLE_OPERATION_TIMEDOUT:
			pl_buf_printf(&m, " (timeout: no progress for %ld ms)", c->cfg.timeout_ms);
			hint = "check that the endpoint is reachable and not overloaded, or raise the timeout";
			break;
		case CURLE_COULDNT_CONNECT:
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_COULDNT_RESOLVE_PROXY:
			hint = "the endpoint is unreachable: check the endpoint URL (AWS_ENDPOINT_URL, "
			       "R2_ENDPOINT, MINIO_ENDPOINT), that the server is running, and the network";
			break;
		case CURLE_SSL_CONNECT_ERROR:
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CACERT_BADFILE:
			hint = "TLS failed: check that TLS on/off (e.g. MINIO_USE_SSL, http:// or https:// in the "
			       "endpoint) matches the server, and its certificate";
			break;
		case CURLE_SEND_ERROR:
		case CURLE_RECV_ERROR:
		case CURLE_GOT_NOTHING:
		case CURLE_PARTIAL_FILE:
			hint = "the connection broke: check the endpoint and the network; with plain HTTP make "
			       "sure the server does not expect TLS";
			break;
		case CURLE_ABORTED_BY_CALLBACK:
		case CURLE_READ_ERROR:
			hint = "the local file could not be read to the end (did it change during the upload?)";
			break;
		case CURLE_WRITE_ERROR:
			hint = "the local file could not be written (disk full or not writable?)";
			break;
		default:
			break;
		}
	} else {
		pl_s3_xml_error(r->resp.ptr, r->resp.len, &ecode, &emsg, &eregion);
		pl_buf_printf(&m, ": HTTP %ld", r->status);
		if (ecode)
			pl_buf_printf(&m, " %s", ecode);
		if (emsg)
			pl_buf_printf(&m, " (%s)", emsg);
		const char *ec = ecode ? ecode : "";
		if (strcmp(ec, "NoSuchBucket") == 0 || (r->status == 404 && !ecode && !r->key)) {
			code = PL_ENOTFOUND;
			pl_buf_printf(&m, "; bucket '%s' does not exist on %s", r->bucket, endpoint);
			hint = "check the bucket name and the endpoint, or create the bucket";
		} else if (strcmp(ec, "NoSuchKey") == 0 || r->status == 404) {
			code = PL_ENOTFOUND;
			hint = "the object does not exist (or its bucket does not): check the bucket and key";
		} else if (strcmp(ec, "NoSuchUpload") == 0) {
			code = PL_ENOTFOUND;
			hint = "the multipart upload was aborted or expired meanwhile";
		} else if (strcmp(ec, "InvalidAccessKeyId") == 0) {
			code = PL_EINVALID;
			hint = "the access key id is not known to the server: check the key id";
		} else if (strcmp(ec, "SignatureDoesNotMatch") == 0) {
			code = PL_EINVALID;
			hint = "the secret key does not match the key id (or the request was altered on the way): "
			       "check the secret key and the region";
		} else if (strcmp(ec, "AuthorizationHeaderMalformed") == 0 ||
			   strcmp(ec, "PermanentRedirect") == 0 || strcmp(ec, "IllegalLocationConstraintException") == 0 ||
			   r->status == 301) {
			code = PL_EINVALID;
			if (eregion)
				pl_buf_printf(&m, "; the bucket is in region '%s', not '%s'", eregion, c->cfg.region);
			hint = "wrong region or endpoint: set AWS_REGION (or the endpoint) to the bucket's";
		} else if (strcmp(ec, "AccessDenied") == 0 || r->status == 403) {
			code = PL_EINVALID;
			hint = "the key may not do this: check the key's permissions on the bucket, and the keys";
		} else if (strcmp(ec, "PreconditionFailed") == 0 || r->status == 412) {
			code = PL_EEXISTS;
			hint = "the object already exists";
		} else if (strstr(ec, "Quota") || strcmp(ec, "XMinioStorageFull") == 0 || r->status == 507 ||
			   strcmp(ec, "StorageFull") == 0 || strcmp(ec, "EntityTooLarge") == 0) {
			hint = "the store is full or the quota is reached: free space or raise the quota";
		} else if (strcmp(ec, "SlowDown") == 0 || r->status == 503 || r->status == 429) {
			hint = "the server kept throttling: lower the request rate or try later";
		} else if (r->status >= 500) {
			hint = "the server failed: try again later, and check its logs";
		} else if (r->status == 400 && strcmp(ec, "InvalidBucketName") == 0) {
			code = PL_EINVALID;
			hint = "the bucket name is not valid";
		} else if (r->status == 501) {
			code = PL_EUNSUPPORTED;
			hint = "the server does not implement this request";
		}
		if (r->request_id[0])
			pl_buf_printf(&m, " [request id %s]", r->request_id);
	}
	if (hint)
		pl_buf_printf(&m, "; %s", hint);
	pl_buf_printf(&m, " (endpoint %s, region %s, %s URLs, key id %.4s..., %d attempt%s)", endpoint,
		      c->cfg.region, c->cfg.path_style ? "path-style" : "virtual-host", c->cfg.key_id,
		      r->attempts, r->attempts == 1 ? "" : "s");
	free(ecode);
	free(emsg);
	free(eregion);
	int rc = pl_err_set(err, code, "%s", pl_buf_oom(&m) ? "S3 request failed (out of memory)" : m.ptr);
	pl_buf_dispose(&m);
	if (c->cfg.secret && strlen(c->cfg.secret) >= 6)
		pl_err_replace(err, c->cfg.secret, "<secret>");
	return rc;
}

