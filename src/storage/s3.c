/*
 * s3.c -- the S3 client of s3.h: configuration, URLs, one request with its retries, and the
 * object operations. Error bodies and listings are parsed by s3_xml.c (s3_internal.h).
 */
#include "storage/s3.h"

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
 * Configuration
 * ------------------------------------------------------------------------------------------- */

void pl_s3_config_init(pl_s3_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->use_ssl = true;
	cfg->multipart = true;
	cfg->multipart_threshold = 64 * (int64_t)MIB;
	cfg->part_size = 16 * (int64_t)MIB;
	cfg->part_parallel = 4;
	cfg->max_retries = 5;
	cfg->retry_base_ms = 200;
	cfg->connect_timeout_ms = 10000;
	cfg->timeout_ms = 60000;
	cfg->list_page_size = 1000;
}

static void wipe_free(char *s)
{
	if (!s)
		return;
	volatile char *p = s;
	while (*p)
		*p++ = 0;
	free(s);
}

void pl_s3_config_dispose(pl_s3_config *cfg)
{
	free(cfg->endpoint);
	free(cfg->region);
	free(cfg->key_id);
	wipe_free(cfg->secret);
	wipe_free(cfg->session_token);
	cfg->endpoint = cfg->region = cfg->key_id = cfg->secret = cfg->session_token = NULL;
}

static int dup_opt(char **dst, const char *src)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = pl_strdup(src);
	return *dst ? 0 : -1;
}

int pl_s3_config_copy(pl_s3_config *dst, const pl_s3_config *src, pl_err *err)
{
	*dst = *src;
	if (dup_opt(&dst->endpoint, src->endpoint) || dup_opt(&dst->region, src->region) ||
	    dup_opt(&dst->key_id, src->key_id) || dup_opt(&dst->secret, src->secret) ||
	    dup_opt(&dst->session_token, src->session_token)) {
		pl_s3_config_dispose(dst);
		return pl_err_nomem(err);
	}
	return 0;
}

static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

static int set_str(char **dst, const char *v)
{
	if (!v)
		return 0;
	char *s = pl_strdup(v);
	if (!s)
		return -1;
	free(*dst);
	*dst = s;
	return 0;
}

static bool parse_bool(const char *v, bool dflt)
{
	if (!v)
		return dflt;
	if (pl_str_ieq(v, "true") || pl_str_ieq(v, "1") || pl_str_ieq(v, "yes") || pl_str_ieq(v, "on"))
		return true;
	if (pl_str_ieq(v, "false") || pl_str_ieq(v, "0") || pl_str_ieq(v, "no") || pl_str_ieq(v, "off"))
		return false;
	return dflt;
}

int pl_s3_config_from_env(pl_s3_config *cfg, const char *which, pl_err *err)
{
	bool any = which == NULL;
	int rc = 0;
	if ((any || strcmp(which, "aws") == 0) && env("AWS_ACCESS_KEY_ID")) {
		const char *ep = env("AWS_ENDPOINT_URL_S3") ? env("AWS_ENDPOINT_URL_S3") : env("AWS_ENDPOINT_URL");
		const char *region = env("AWS_REGION") ? env("AWS_REGION") : env("AWS_DEFAULT_REGION");
		if (set_str(&cfg->key_id, env("AWS_ACCESS_KEY_ID")) ||
		    set_str(&cfg->secret, env("AWS_SECRET_ACCESS_KEY")) ||
		    set_str(&cfg->session_token, env("AWS_SESSION_TOKEN")) || set_str(&cfg->endpoint, ep) ||
		    set_str(&cfg->region, region))
			return pl_err_nomem(err);
		if (ep)
			cfg->path_style = true;
		cfg->source = "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_ENDPOINT_URL/AWS_REGION";
	} else if ((any || strcmp(which, "r2") == 0) && env("R2_ACCESS_KEY")) {
		if (set_str(&cfg->key_id, env("R2_ACCESS_KEY")) || set_str(&cfg->secret, env("R2_SECRET_KEY")) ||
		    set_str(&cfg->endpoint, env("R2_ENDPOINT")) || set_str(&cfg->region, "auto"))
			return pl_err_nomem(err);
		cfg->path_style = true;
		cfg->source = "R2_ENDPOINT/R2_ACCESS_KEY/R2_SECRET_KEY";
	} else if ((any || strcmp(which, "minio") == 0) && env("MINIO_ACCESS_KEY")) {
		const char *ep = env("MINIO_ENDPOINT");
		if (set_str(&cfg->key_id, env("MINIO_ACCESS_KEY")) ||
		    set_str(&cfg->secret, env("MINIO_SECRET_KEY")) || set_str(&cfg->endpoint, ep) ||
		    set_str(&cfg->region, env("MINIO_REGION")))
			return pl_err_nomem(err);
		cfg->path_style = true;
		cfg->use_ssl = parse_bool(env("MINIO_USE_SSL"), !(ep && pl_str_has_prefix_i(ep, "http://")));
		cfg->source = "MINIO_ENDPOINT/MINIO_ACCESS_KEY/MINIO_SECRET_KEY/MINIO_USE_SSL";
	} else {
		return pl_err_set(err, PL_ENOTFOUND,
				"no S3 credentials in the environment%s%s: set AWS_ACCESS_KEY_ID and "
				"AWS_SECRET_ACCESS_KEY (with AWS_ENDPOINT_URL and AWS_REGION for other stores), "
				"R2_ENDPOINT/R2_ACCESS_KEY/R2_SECRET_KEY, or "
				"MINIO_ENDPOINT/MINIO_ACCESS_KEY/MINIO_SECRET_KEY",
				which ? " for " : "", which ? which : "");
	}
	pl_s3_config_env_overrides(cfg);
	return rc;
}

void pl_s3_config_env_overrides(pl_s3_config *cfg)
{
	/* Upload and URL settings of Planar's own, whatever the store. */
	const char *v;
	int64_t n;
	if ((v = env("PLANAR_S3_MULTIPART")))
		cfg->multipart = parse_bool(v, cfg->multipart);
	if ((v = env("PLANAR_S3_MULTIPART_THRESHOLD")) && pl_parse_byte_size(v, &n))
		cfg->multipart_threshold = n;
	if ((v = env("PLANAR_S3_PART_SIZE")) && pl_parse_byte_size(v, &n))
		cfg->part_size = n;
	if ((v = env("PLANAR_S3_PART_PARALLEL")) && atoi(v) > 0)
		cfg->part_parallel = atoi(v);
	if ((v = env("PLANAR_S3_URL_STYLE")))
		cfg->path_style = !pl_str_ieq(v, "vhost") && !pl_str_ieq(v, "virtual");
	if ((v = env("PLANAR_S3_USE_SSL")))
		cfg->use_ssl = parse_bool(v, cfg->use_ssl);
	if ((v = env("PLANAR_S3_TIMEOUT_MS")) && atol(v) > 0)
		cfg->timeout_ms = atol(v);
	if ((v = env("PLANAR_S3_CONNECT_TIMEOUT_MS")) && atol(v) > 0)
		cfg->connect_timeout_ms = atol(v);
	if ((v = env("PLANAR_S3_MAX_RETRIES")) && atoi(v) >= 0 && (atoi(v) > 0 || strcmp(v, "0") == 0))
		cfg->max_retries = atoi(v);
	if ((v = env("PLANAR_S3_RETRY_BASE_MS")) && atol(v) > 0)
		cfg->retry_base_ms = atol(v);
}

bool pl_s3_is_uri(const char *uri)
{
	return uri && pl_str_has_prefix_i(uri, "s3://");
}

int pl_s3_parse_uri(const char *uri, char **bucket, char **prefix, pl_err *err)
{
	*bucket = *prefix = NULL;
	if (!pl_s3_is_uri(uri))
		return pl_err_set(err, PL_EINVALID, "'%s' is not an S3 URI (s3://bucket/prefix)", uri ? uri : "");
	const char *b = uri + 5, *slash = strchr(b, '/');
	size_t blen = slash ? (size_t)(slash - b) : strlen(b);
	if (blen == 0 || blen > 255)
		return pl_err_set(err, PL_EINVALID, "'%s' names no bucket (s3://bucket/prefix)", uri);
	for (size_t i = 0; i < blen; i++)
		if (!((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= '0' && b[i] <= '9') || b[i] == '-' ||
		      b[i] == '.' || b[i] == '_' || (b[i] >= 'A' && b[i] <= 'Z')))
			return pl_err_set(err, PL_EINVALID, "'%.*s' in '%s' is not a valid bucket name", (int)blen,
					  b, uri);
	*bucket = pl_strndup(b, blen);
	*prefix = pl_strdup(slash ? slash + 1 : "");
	if (!*bucket || !*prefix) {
		free(*bucket);
		free(*prefix);
		*bucket = *prefix = NULL;
		return pl_err_nomem(err);
	}
	return 0;
}

void pl_s3_encode(pl_buf *b, const char *s, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned char c = *p;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
		    c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
			pl_buf_putc(b, (char)c);
		} else {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};
			pl_buf_put(b, e, 3);
		}
	}
}

/* ---------------------------------------------------------------------------------------------
 * The client
 * ------------------------------------------------------------------------------------------- */


static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
	pl_s3_xml_init();
}

int pl_s3_open(pl_s3 **out, const pl_s3_config *cfg, pl_err *err)
{
	*out = NULL;
	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK)
		return pl_err_set(err, PL_EIO, "cannot initialize libcurl: %s", curl_easy_strerror(global_rc));
	if (!cfg->key_id || !cfg->secret || !*cfg->key_id || !*cfg->secret)
		return pl_err_set(err, PL_EINVALID,
				  "S3 access key id or secret key is missing: set AWS_ACCESS_KEY_ID and "
				  "AWS_SECRET_ACCESS_KEY (or R2_ACCESS_KEY/R2_SECRET_KEY, "
				  "MINIO_ACCESS_KEY/MINIO_SECRET_KEY)");
	pl_s3 *c = calloc(1, sizeof *c);
	if (!c)
		return pl_err_nomem(err);
	int rc = pl_s3_config_copy(&c->cfg, cfg, err);
	if (rc) {
		free(c);
		return rc;
	}
	if (!c->cfg.region && !(c->cfg.region = pl_strdup("us-east-1")))
		goto nomem;
	if (c->cfg.part_size < 1)
		c->cfg.part_size = 16 * (int64_t)MIB;
	if (c->cfg.multipart_threshold < 1)
		c->cfg.multipart_threshold = c->cfg.part_size;
	if (c->cfg.list_page_size < 1 || c->cfg.list_page_size > 1000)
		c->cfg.list_page_size = 1000;
	if (c->cfg.max_retries < 0)
		c->cfg.max_retries = 0;
	bool ssl = c->cfg.use_ssl;
	const char *ep = c->cfg.endpoint;
	pl_buf host = PL_BUF_INIT;
	if (ep && pl_str_has_prefix_i(ep, "https://")) {
		ssl = true;
		ep += 8;
	} else if (ep && pl_str_has_prefix_i(ep, "http://")) {
		ssl = false;
		ep += 7;
	}
	if (ep && *ep) {
		size_t n = strcspn(ep, "/?#");
		pl_buf_put(&host, ep, n);
		if (ep[n] && strspn(ep + n, "/") != strlen(ep + n)) {
			rc = pl_err_set(err, PL_EINVALID,
					"S3 endpoint '%s' has a path; give only [http[s]://]host[:port]",
					c->cfg.endpoint);
			pl_buf_dispose(&host);
			pl_s3_close(c);
			return rc;
		}
	} else {
		pl_buf_printf(&host, "s3.%s.amazonaws.com", c->cfg.region);
	}
	c->cfg.use_ssl = ssl;
	c->scheme = pl_strdup(ssl ? "https" : "http");
	c->host = pl_buf_detach(&host);
	pl_buf sig = PL_BUF_INIT;
	pl_buf_printf(&sig, "aws:amz:%s:s3", c->cfg.region);
	c->sigv4 = pl_buf_detach(&sig);
	c->h = curl_easy_init();
	if (!c->scheme || !c->host || !c->sigv4 || !c->h)
		goto nomem;
	c->seed = (unsigned)time(NULL) ^ (unsigned)getpid() ^ (unsigned)(uintptr_t)c;
	*out = c;
	return 0;
nomem:
	pl_s3_close(c);
	return pl_err_nomem(err);
}

void pl_s3_close(pl_s3 *c)
{
	if (!c)
		return;
	if (c->h)
		curl_easy_cleanup(c->h);
	free(c->scheme);
	free(c->host);
	free(c->sigv4);
	pl_s3_config_dispose(&c->cfg);
	free(c);
}

const pl_s3_config *pl_s3_get_config(const pl_s3 *c)
{
	return &c->cfg;
}

pl_s3_stats pl_s3_get_stats(const pl_s3 *c)
{
	return c->stats;
}

void pl_s3_object_dispose(pl_s3_object *o)
{
	free(o->key);
	free(o->etag);
	o->key = o->etag = NULL;
}

void pl_s3_list_dispose(pl_s3_listing *l)
{
	for (size_t i = 0; i < l->len; i++)
		pl_s3_object_dispose(&l->items[i]);
	free(l->items);
	l->items = NULL;
	l->len = l->cap = 0;
}

