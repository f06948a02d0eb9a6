/*
 * tests/unit/storage/s3.c -- cmocka tests of the S3 client (src/storage/s3.c) against a real
 * S3-compatible server that tests/s3/with-server.sh starts on loopback (s3rver), with a
 * fault-injecting proxy in front of it (tests/s3/faultproxy.js) and a port nothing listens on:
 *
 * put/get/head/delete, paginated list with a prefix, multipart uploads (small threshold) and
 * multipart turned off, create-only puts, keys with spaces, '%', '+', '?', '#', unicode; virtual-host
 * URLs; configuration from the environment and s3:// URIs; errors: wrong key id, missing bucket,
 * missing object, unreachable endpoint, a stalled server (timeout), throttling and server
 * errors retried (and given up on), and no secret in any message; every kind of request's SigV4
 * signature checked by an independent signer (botocore, tests/s3/sigv4check.py).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "storage/fs.h"
#include "storage/s3.h"

/* A call that must succeed; shows the error message when it does not. */
#define OK(call)                                                                                   \
	do {                                                                                       \
		int rc_ = (call);                                                                  \
		if (rc_ != 0)                                                                      \
			fail_msg("%s -> %d: %s", #call, rc_, err.msg);                             \
	} while (0)

#define SECRET "S3RVER" /* the test server's secret; messages must never show it */

typedef struct fixture {
	char dir[64];
	const char *bucket;
	pl_s3_config cfg;
	pl_s3 *s3;
} fixture;

static int setup(void **state)
{
	if (!getenv("PLANAR_S3_ENDPOINT")) {
		fprintf(stderr, "PLANAR_S3_ENDPOINT is not set: run through tests/s3/with-server.sh\n");
		return -1;
	}
	fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	strcpy(f->dir, "/tmp/planar-s3-test-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->bucket = getenv("PLANAR_S3_BUCKET");
	pl_s3_config_init(&f->cfg);
	pl_err err = {0, ""};
	OK(pl_s3_config_from_env(&f->cfg, "aws", &err));
	f->cfg.retry_base_ms = 10;
	f->cfg.timeout_ms = 1000;
	f->cfg.connect_timeout_ms = 2000;
	OK(pl_s3_open(&f->s3, &f->cfg, &err));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	pl_s3_close(f->s3);
	pl_s3_config_dispose(&f->cfg);
	pl_fs_remove_dir(f->dir);
	free(f);
	return 0;
}

static void write_file(const char *path, size_t n, unsigned seed)
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	for (size_t i = 0; i < n; i++)
		fputc((int)((i * 131 + seed * 7 + i / 1000) & 0xff), fp);
	fclose(fp);
}

static char *read_all(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	long len = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	char *p = malloc((size_t)len + 1);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)len, fp), (size_t)len);
	fclose(fp);
	*n = (size_t)len;
	return p;
}

static void assert_same_files(const char *a, const char *b)
{
	size_t na, nb;
	char *pa = read_all(a, &na), *pb = read_all(b, &nb);
	assert_non_null(pa);
	assert_non_null(pb);
	assert_int_equal(na, nb);
	assert_memory_equal(pa, pb, na);
	free(pa);
	free(pb);
}

static void path_in(const fixture *f, const char *name, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s", f->dir, name);
}

/* No secret and no key beyond its first characters in a message. */
static void assert_clean(const pl_err *err)
{
	assert_null(strstr(err->msg, "S3RVERS3RVER"));
	const char *p = err->msg;
	/* the key id is shown as its first 4 characters followed by "..." */
	while ((p = strstr(p, SECRET)) != NULL) {
		assert_true(p[6] == '\0' || p[6] != 'X');
		p += 6;
	}
}

static void s3__put_get_head_delete(void **state)
{
	fixture *f = *state;
	pl_err err = {0, ""};
	char src[256], dst[256];
	path_in(f, "src.bin", src, sizeof src);
	path_in(f, "dst.bin", dst, sizeof dst);
	write_file(src, 100000, 1);
	char *etag = NULL;
	OK(pl_s3_put_file(f->s3, f->bucket, "basic/one.bin", src, 0, &etag, &err));
	assert_non_null(etag);
	assert_true(strlen(etag) > 0);
	assert_null(strchr(etag, '"'));

	pl_s3_object info;
	OK(pl_s3_head(f->s3, f->bucket, "basic/one.bin", &info, &err));
	assert_int_equal(info.size, 100000);
	assert_string_equal(info.etag, etag);
	pl_s3_object_dispose(&info);

	OK(pl_s3_get_file(f->s3, f->bucket, "basic/one.bin", dst, &info, &err));
	assert_int_equal(info.size, 100000);
	assert_string_equal(info.etag, etag);
	pl_s3_object_dispose(&info);
	assert_same_files(src, dst);

	char *data;
	size_t len;
	OK(pl_s3_get_mem(f->s3, f->bucket, "basic/one.bin", 200000, &data, &len, &err));
	assert_int_equal(len, 100000);
	free(data);
	assert_int_equal(pl_s3_get_mem(f->s3, f->bucket, "basic/one.bin", 1000, &data, &len, &err), PL_EINVALID);
	assert_non_null(strstr(err.msg, "larger than 1000 bytes"));

	OK(pl_s3_delete(f->s3, f->bucket, "basic/one.bin", &err));
	assert_int_equal(pl_s3_head(f->s3, f->bucket, "basic/one.bin", &info, &err), PL_ENOTFOUND);
	assert_non_null(strstr(err.msg, "HEAD of s3://planar-test/basic/one.bin"));
	/* deleting what is gone is not an error */
	OK(pl_s3_delete(f->s3, f->bucket, "basic/one.bin", &err));
	/* a download of a missing object leaves nothing behind */
	unlink(dst);
	assert_int_equal(pl_s3_get_file(f->s3, f->bucket, "basic/one.bin", dst, NULL, &err), PL_ENOTFOUND);
	assert_non_null(strstr(err.msg, "download (GET) of s3://planar-test/basic/one.bin"));
	assert_non_null(strstr(err.msg, "NoSuchKey"));
	assert_int_equal(access(dst, F_OK), -1);
	DIR *d = opendir(f->dir);
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		assert_null(strstr(e->d_name, "planar-tmp"));
	closedir(d);
	free(etag);

	/* an empty object */
	OK(pl_s3_put_mem(f->s3, f->bucket, "basic/empty", "", 0, 0, NULL, &err));
	OK(pl_s3_get_mem(f->s3, f->bucket, "basic/empty", 10, &data, &len, &err));
	assert_int_equal(len, 0);
	free(data);
}

static void s3__list_paginated_with_prefix(void **state)
{
	fixture *f = *state;
	pl_err err = {0, ""};
	pl_s3_config cfg;
	pl_s3 *s3;
	OK(pl_s3_config_copy(&cfg, &f->cfg, &err));
	cfg.list_page_size = 2;
	OK(pl_s3_open(&s3, &cfg, &err));
	char key[64], body[16];
	for (int i = 0; i < 7; i++) {
		snprintf(key, sizeof key, "list/p/k%02d", i);
		snprintf(body, sizeof body, "v%d", i);
		OK(pl_s3_put_mem(s3, f->bucket, key, body, strlen(body), 0, NULL, &err));
	}
	OK(pl_s3_put_mem(s3, f->bucket, "list/q/other", "x", 1, 0, NULL, &err));
	OK(pl_s3_put_mem(s3, f->bucket, "list/pp", "x", 1, 0, NULL, &err));
	pl_s3_listing l = {0};
	pl_s3_stats before = pl_s3_get_stats(s3);
	OK(pl_s3_list(s3, f->bucket, "list/p/", &l, &err));
	assert_int_equal(l.len, 7);
	for (int i = 0; i < 7; i++) {
		snprintf(key, sizeof key, "list/p/k%02d", i);
		assert_string_equal(l.items[i].key, key);
		assert_int_equal(l.items[i].size, 2);
		assert_true(strlen(l.items[i].etag) > 0);
	}
	assert_int_equal(pl_s3_get_stats(s3).requests - before.requests, 4); /* pages of 2 */
	pl_s3_list_dispose(&l);
	OK(pl_s3_list(s3, f->bucket, "list/nothing/", &l, &err));
	assert_int_equal(l.len, 0);
	pl_s3_list_dispose(&l);
	pl_s3_close(s3);
	pl_s3_config_dispose(&cfg);
}

static void s3__multipart_and_single(void **state)
{
	fixture *f = *state;
	pl_err err = {0, ""};
	pl_s3_config cfg;
	pl_s3 *s3;
	char src[256], dst[256];
	path_in(f, "big.bin", src, sizeof src);
	path_in(f, "big.out", dst, sizeof dst);
	write_file(src, 300000, 3);
	OK(pl_s3_config_copy(&cfg, &f->cfg, &err));
	cfg.multipart_threshold = 100000;
	cfg.part_size = 64 * 1024;
	OK(pl_s3_open(&s3, &cfg, &err));
	pl_s3_stats before = pl_s3_get_stats(s3);
	char *etag = NULL;
	OK(pl_s3_put_file(s3, f->bucket, "mp/big.bin", src, 0, &etag, &err));
	/* initiate + 5 parts + complete */
	assert_int_equal(pl_s3_get_stats(s3).requests - before.requests, 7);
	pl_s3_object info;
	OK(pl_s3_head(s3, f->bucket, "mp/big.bin", &info, &err));
	assert_int_equal(info.size, 300000);
	pl_s3_object_dispose(&info);
	OK(pl_s3_get_file(s3, f->bucket, "mp/big.bin", dst, NULL, &err));
	assert_same_files(src, dst);
	free(etag);
	pl_s3_close(s3);

	/* multipart off: one PUT whatever the size */
	cfg.multipart = false;
	OK(pl_s3_open(&s3, &cfg, &err));
	before = pl_s3_get_stats(s3);
	OK(pl_s3_put_file(s3, f->bucket, "mp/single.bin", src, 0, &etag, &err));
	assert_int_equal(pl_s3_get_stats(s3).requests - before.requests, 1);
	free(etag);
	unlink(dst);
	OK(pl_s3_get_file(s3, f->bucket, "mp/single.bin", dst, NULL, &err));
	assert_same_files(src, dst);
	pl_s3_close(s3);

	/* a multipart upload that fails is aborted and leaves no object */
	pl_s3_config_dispose(&cfg);
	OK(pl_s3_config_copy(&cfg, &f->cfg, &err));
	free(cfg.endpoint);
	cfg.endpoint = strdup(getenv("PLANAR_S3_PROXY"));
	cfg.multipart_threshold = 100000;
	cfg.part_size = 64 * 1024;
	cfg.max_retries = 1;
	OK(pl_s3_open(&s3, &cfg, &err));
	assert_int_not_equal(pl_s3_put_file(s3, f->bucket, "mp/fault-500always.bin", src, 0, NULL, &err), 0);
	assert_non_null(strstr(err.msg, "InternalError"));
	pl_s3_close(s3);
	pl_s3_config_dispose(&cfg);
}

static void s3__special_keys(void **state)
{
	fixture *f = *state;
	pl_err err = {0, ""};
	const char *keys[] = {
		"sp/with space and+plus.txt",
		"sp/100% sure%2F%zz",
		"sp/\xc3\xbcnic\xc3\xb6" "de/\xe6\x97\xa5\xe6\x9c\xac.bin",
		"sp/a/.hidden/..b",
		"sp/q?x=1&y=2#frag;semi:colon,comma'quote\"dq",
		"sp/tilde~star*paren()[brackets]{braces}@at!bang$dollar",
	};
	size_t n = sizeof keys / sizeof keys[0];
	char dst[256];
	path_in(f, "sp.out", dst, sizeof dst);
	for (size_t i = 0; i < n; i++) {
		OK(pl_s3_put_mem(f->s3, f->bucket, keys[i], keys[i], strlen(keys[i]), 0, NULL, &err));
		pl_s3_object info;
		OK(pl_s3_head(f->s3, f->bucket, keys[i], &info, &err));
		assert_int_equal(info.size, (int64_t)strlen(keys[i]));
		pl_s3_object_dispose(&info);
		char *data;
		size_t len;
		OK(pl_s3_get_mem(f->s3, f->bucket, keys[i], 1000, &data, &len, &err));
		assert_int_equal(len, strlen(keys[i]));
		assert_memory_equal(data, keys[i], len);
		free(data);
	}
	pl_s3_listing l = {0};
	OK(pl_s3_list(f->s3, f->bucket, "sp/", &l, &err));
	assert_int_equal(l.len, n);
	for (size_t i = 0; i < n; i++) {
		bool found = false;
		for (size_t k = 0; k < l.len; k++)
			found = found || strcmp(l.items[k].key, keys[i]) == 0;
		if (!found)
			fail_msg("key '%s' not listed", keys[i]);
	}
	pl_s3_list_dispose(&l);
	/* a prefix with special characters */
	OK(pl_s3_list(f->s3, f->bucket, "sp/100% ", &l, &err));
	assert_int_equal(l.len, 1);
	assert_string_equal(l.items[0].key, keys[1]);
	pl_s3_list_dispose(&l);
	for (size_t i = 0; i < n; i++)
		OK(pl_s3_delete(f->s3, f->bucket, keys[i], &err));
	OK(pl_s3_list(f->s3, f->bucket, "sp/", &l, &err));
	assert_int_equal(l.len, 0);
	pl_s3_list_dispose(&l);
}

static void s3__encode(void **state)
{
	(void)state;
	pl_buf b = PL_BUF_INIT;
	pl_s3_encode(&b, "a b/c%d+e~f\xc3\xbc", true);
	assert_string_equal(pl_buf_cstr(&b), "a%20b/c%25d%2Be~f%C3%BC");
	pl_buf_truncate(&b, 0);
	pl_s3_encode(&b, "a/b=c&d", false);
	assert_string_equal(pl_buf_cstr(&b), "a%2Fb%3Dc%26d");
	pl_buf_dispose(&b);
}

static void s3__create_only(void **state)
{
	fixture *f = *state;
	pl_err err = {0, ""};
	OK(pl_s3_put_mem(f->s3, f->bucket, "co/once", "1", 1, PL_S3_CREATE_ONLY, NULL, &err));
	assert_int_equal(pl_s3_put_mem(f->s3, f->bucket, "co/once", "2", 1, PL_S3_CREATE_ONLY, NULL, &err),
			 PL_EEXISTS);
	assert_non_null(strstr(err.msg, "s3://planar-test/co/once"));
	assert_non_null(strstr(err.msg, "already exists"));
	char *data;
	size_t len;
	OK(pl_s3_get_mem(f->s3, f->bucket, "co/once", 10, &data, &len, &err));
	assert_memory_equal(data, "1", 1);
	free(data);
}

static void s3__virtual_host_urls(void **state)
{
	fixture *f = *state;
	pl_err err = {0, ""};
	pl_s3_config cfg;
	pl_s3 *s3;
	OK(pl_s3_config_copy(&cfg, &f->cfg, &err));
	free(cfg.endpoint);
	cfg.endpoint = strdup(getenv("PLANAR_S3_VHOST_ENDPOINT"));
	cfg.path_style = false;
	OK(pl_s3_open(&s3, &cfg, &err));
	OK(pl_s3_put_mem(s3, f->bucket, "vh/a b", "vhost", 5, 0, NULL, &err));
	pl_s3_listing l = {0};
	OK(pl_s3_list(s3, f->bucket, "vh/", &l, &err));
	assert_int_equal(l.len, 1);
	pl_s3_list_dispose(&l);
	pl_s3_close(s3);
	/* the object is the same seen through path-style URLs */
	pl_s3_object info;
	OK(pl_s3_head(f->s3, f->bucket, "vh/a b", &info, &err));
	assert_int_equal(info.size, 5);
	pl_s3_object_dispose(&info);
	pl_s3_config_dispose(&cfg);
}

static void s3__wrong_key_missing_bucket(void **state)
{
	fixture *f = *state;
	pl_err err = {0, ""};
	pl_s3_config cfg;
	pl_s3 *s3;
	OK(pl_s3_config_copy(&cfg, &f->cfg, &err));
	free(cfg.key_id);
	cfg.key_id = strdup("WRONGKEYID");
	free(cfg.secret);
	cfg.secret = strdup("a-very-secret-value-42");
	OK(pl_s3_open(&s3, &cfg, &err));
	assert_int_equal(pl_s3_put_mem(s3, f->bucket, "wk/x", "x", 1, 0, NULL, &err), PL_EINVALID);
	assert_non_null(strstr(err.msg, "upload (PUT) of s3://planar-test/wk/x failed"));
	assert_non_null(strstr(err.msg, "InvalidAccessKeyId"));
	assert_non_null(strstr(err.msg, "check the key id"));
	assert_null(strstr(err.msg, "a-very-secret-value-42"));
	assert_null(strstr(err.msg, "WRONGKEYID")); /* only its first characters */
	assert_non_null(strstr(err.msg, "WRON..."));
	pl_s3_listing l = {0};
	assert_int_equal(pl_s3_list(s3, f->bucket, "", &l, &err), PL_EINVALID);
	assert_null(strstr(err.msg, "a-very-secret-value-42"));
	pl_s3_list_dispose(&l);
	pl_s3_close(s3);
	pl_s3_config_dispose(&cfg);

	assert_int_equal(pl_s3_put_mem(f->s3, "no-such-bucket", "k", "x", 1, 0, NULL, &err), PL_ENOTFOUND);
	assert_non_null(strstr(err.msg, "s3://no-such-bucket/k"));
	assert_non_null(strstr(err.msg, "NoSuchBucket"));
	assert_non_null(strstr(err.msg, "bucket 'no-such-bucket' does not exist"));
	assert_clean(&err);
	assert_int_equal(pl_s3_list(f->s3, "no-such-bucket", "p/", &l, &err), PL_ENOTFOUND);
	assert_non_null(strstr(err.msg, "list of s3://no-such-bucket/"));
	pl_s3_list_dispose(&l);
	char dst[256];
	path_in(f, "nb.out", dst, sizeof dst);
	assert_int_equal(pl_s3_get_file(f->s3, "no-such-bucket", "k", dst, NULL, &err), PL_ENOTFOUND);
	assert_int_equal(access(dst, F_OK), -1);
}

static void s3__unreachable_endpoint(void **state)
{
	fixture *f = *state;
	pl_err err = {0, ""};
	pl_s3_config cfg;
	pl_s3 *s3;
	OK(pl_s3_config_copy(&cfg, &f->cfg, &err));
	free(cfg.endpoint);
	cfg.endpoint = strdup(getenv("PLANAR_S3_DEAD"));
	cfg.max_retries = 2;
	OK(pl_s3_open(&s3, &cfg, &err));
	assert_int_equal(pl_s3_put_mem(s3, f->bucket, "k", "x", 1, 0, NULL, &err), PL_EIO);
	assert_non_null(strstr(err.msg, "upload (PUT) of s3://planar-test/k failed"));
	assert_non_null(strstr(err.msg, "unreachable"));
	assert_non_null(strstr(err.msg, getenv("PLANAR_S3_DEAD")));
	assert_non_null(strstr(err.msg, "3 attempts"));
	assert_int_equal(pl_s3_get_stats(s3).retries, 2);
	pl_s3_close(s3);
	pl_s3_config_dispose(&cfg);
}

static pl_s3 *open_proxy(const fixture *f, pl_s3_config *cfg, int retries)
{
	pl_err err = {0, ""};
	pl_s3 *s3;
	OK(pl_s3_config_copy(cfg, &f->cfg, &err));
	free(cfg->endpoint);
	cfg->endpoint = strdup(getenv("PLANAR_S3_PROXY"));
	cfg->max_retries = retries;
	OK(pl_s3_open(&s3, cfg, &err));
	return s3;
}

static void s3__retries_throttling_and_errors(void **state)
{
	fixture *f = *state;
	pl_err err = {0, ""};
	pl_s3_config cfg;
	pl_s3 *s3 = open_proxy(f, &cfg, 3);
	/* throttled twice, then accepted */
	OK(pl_s3_put_mem(s3, f->bucket, "rt/fault-503x2", "ok", 2, 0, NULL, &err));
	assert_int_equal(pl_s3_get_stats(s3).retries, 2);
	char *data;
	size_t len;
	assert_int_equal(pl_s3_get_mem(s3, f->bucket, "rt/fault-500x1", 10, &data, &len, &err), PL_ENOTFOUND);
	assert_int_equal(pl_s3_get_stats(s3).retries, 3); /* a 500, then the real answer: NoSuchKey */
	/* the object was stored through the proxy */
	OK(pl_s3_get_mem(f->s3, f->bucket, "rt/fault-503x2", 10, &data, &len, &err));
	assert_memory_equal(data, "ok", 2);
	free(data);
	/* a server that keeps failing: given up after the retries, with a message saying so */
	assert_int_equal(pl_s3_put_mem(s3, f->bucket, "rt/fault-500always", "x", 1, 0, NULL, &err), PL_EIO);
	assert_non_null(strstr(err.msg, "upload (PUT) of s3://planar-test/rt/fault-500always failed: HTTP 500"));
	assert_non_null(strstr(err.msg, "InternalError"));
	assert_non_null(strstr(err.msg, "4 attempts"));
	/* throttled more often than the retries allow */
	assert_int_equal(pl_s3_put_mem(s3, f->bucket, "rt/fault-503x9", "x", 1, 0, NULL, &err), PL_EIO);
	assert_non_null(strstr(err.msg, "SlowDown"));
	assert_non_null(strstr(err.msg, "throttling"));
	/* a dropped connection is retried like a 5xx */
	pl_s3_stats before = pl_s3_get_stats(s3);
	assert_int_equal(pl_s3_put_mem(s3, f->bucket, "rt/fault-reset", "x", 1, 0, NULL, &err), PL_EIO);
	assert_int_equal(pl_s3_get_stats(s3).retries - before.retries, 3);
	assert_non_null(strstr(err.msg, "connection"));
	pl_s3_close(s3);
	pl_s3_config_dispose(&cfg);
}

static void s3__timeout(void **state)
{
	fixture *f = *state;
	pl_err err = {0, ""};
	pl_s3_config cfg;
	pl_s3 *s3 = open_proxy(f, &cfg, 1);
	char dst[256];
	path_in(f, "stall.out", dst, sizeof dst);
	assert_int_equal(pl_s3_get_file(s3, f->bucket, "rt/fault-stall", dst, NULL, &err), PL_EIO);
	assert_non_null(strstr(err.msg, "download (GET) of s3://planar-test/rt/fault-stall failed"));
	assert_non_null(strstr(err.msg, "timeout"));
	assert_non_null(strstr(err.msg, "2 attempts"));
	assert_int_equal(access(dst, F_OK), -1);
	pl_s3_close(s3);
	pl_s3_config_dispose(&cfg);
}

static void s3__config_from_env_and_uris(void **state)
{
	(void)state;
	pl_err err = {0, ""};
	pl_s3_config cfg;
	pl_s3_config_init(&cfg);
	setenv("MINIO_ENDPOINT", "http://minio.local:9000", 1);
	setenv("MINIO_ACCESS_KEY", "mkey", 1);
	setenv("MINIO_SECRET_KEY", "msecret", 1);
	unsetenv("MINIO_USE_SSL");
	OK(pl_s3_config_from_env(&cfg, "minio", &err));
	assert_string_equal(cfg.endpoint, "http://minio.local:9000");
	assert_string_equal(cfg.key_id, "mkey");
	assert_string_equal(cfg.secret, "msecret");
	assert_true(cfg.path_style);
	assert_false(cfg.use_ssl);
	setenv("MINIO_ENDPOINT", "minio.local:9000", 1);
	setenv("MINIO_USE_SSL", "true", 1);
	OK(pl_s3_config_from_env(&cfg, "minio", &err));
	assert_true(cfg.use_ssl);
	setenv("R2_ENDPOINT", "https://acct.r2.cloudflarestorage.com", 1);
	setenv("R2_ACCESS_KEY", "rkey", 1);
	setenv("R2_SECRET_KEY", "rsecret", 1);
	OK(pl_s3_config_from_env(&cfg, "r2", &err));
	assert_string_equal(cfg.region, "auto");
	assert_string_equal(cfg.key_id, "rkey");
	pl_s3_config_dispose(&cfg);
	pl_s3_config_init(&cfg);
	assert_int_equal(pl_s3_config_from_env(&cfg, "gcs", &err), PL_ENOTFOUND);
	assert_non_null(strstr(err.msg, "AWS_ACCESS_KEY_ID"));
	pl_s3_config_dispose(&cfg);

	char *bucket, *prefix;
	OK(pl_s3_parse_uri("s3://bkt/a/b/", &bucket, &prefix, &err));
	assert_string_equal(bucket, "bkt");
	assert_string_equal(prefix, "a/b/");
	free(bucket);
	free(prefix);
	OK(pl_s3_parse_uri("s3://bkt", &bucket, &prefix, &err));
	assert_string_equal(prefix, "");
	free(bucket);
	free(prefix);
	assert_int_equal(pl_s3_parse_uri("s3:///x", &bucket, &prefix, &err), PL_EINVALID);
	assert_int_equal(pl_s3_parse_uri("/local/dir", &bucket, &prefix, &err), PL_EINVALID);
	assert_int_equal(pl_s3_parse_uri("s3://b@d/x", &bucket, &prefix, &err), PL_EINVALID);

	/* an endpoint with a path is refused; missing keys are named */
	pl_s3 *s3;
	pl_s3_config_init(&cfg);
	cfg.key_id = strdup("k");
	cfg.secret = strdup("s");
	cfg.endpoint = strdup("http://host:9000/path");
	assert_int_equal(pl_s3_open(&s3, &cfg, &err), PL_EINVALID);
	assert_non_null(strstr(err.msg, "has a path"));
	pl_s3_config_dispose(&cfg);
	pl_s3_config_init(&cfg);
	assert_int_equal(pl_s3_open(&s3, &cfg, &err), PL_EINVALID);
	assert_non_null(strstr(err.msg, "AWS_SECRET_ACCESS_KEY"));
	pl_s3_config_dispose(&cfg);
}

/* Every kind of request, signed by libcurl, checked by an independent signer (botocore) in
 * front of the server: path-style and virtual-host URLs, query strings (paginated listing with
 * an encoded prefix, multipart parameters), special keys, conditional headers. */
static void sigv4_round(const fixture *f, const char *endpoint, bool path_style)
{
	pl_err err = {0, ""};
	pl_s3_config cfg;
	pl_s3 *s3;
	char src[256], dst[256];
	path_in(f, "sig.bin", src, sizeof src);
	path_in(f, "sig.out", dst, sizeof dst);
	write_file(src, 150000, 5);
	OK(pl_s3_config_copy(&cfg, &f->cfg, &err));
	free(cfg.endpoint);
	cfg.endpoint = strdup(endpoint);
	cfg.path_style = path_style;
	cfg.list_page_size = 2;
	cfg.multipart_threshold = 100000;
	cfg.part_size = 64 * 1024;
	cfg.max_retries = 0;
	OK(pl_s3_open(&s3, &cfg, &err));
	const char *keys[] = {"sig/a b+c%d", "sig/\xc3\xbc/=&?x", "sig/plain", "sig/~tilde*"};
	for (size_t i = 0; i < 4; i++)
		OK(pl_s3_put_mem(s3, f->bucket, keys[i], "x", 1, 0, NULL, &err));
	OK(pl_s3_put_file(s3, f->bucket, "sig/multi part", src, PL_S3_CREATE_ONLY, NULL, &err));
	pl_s3_object info;
	OK(pl_s3_head(s3, f->bucket, "sig/multi part", &info, &err));
	assert_int_equal(info.size, 150000);
	pl_s3_object_dispose(&info);
	OK(pl_s3_get_file(s3, f->bucket, "sig/multi part", dst, NULL, &err));
	assert_same_files(src, dst);
	pl_s3_listing l = {0};
	OK(pl_s3_list(s3, f->bucket, "sig/", &l, &err));
	assert_int_equal(l.len, 5);
	pl_s3_list_dispose(&l);
	OK(pl_s3_list(s3, f->bucket, "sig/a b+", &l, &err));
	assert_int_equal(l.len, 1);
	pl_s3_list_dispose(&l);
	for (size_t i = 0; i < 4; i++)
		OK(pl_s3_delete(s3, f->bucket, keys[i], &err));
	OK(pl_s3_delete(s3, f->bucket, "sig/multi part", &err));
	pl_s3_close(s3);
	/* the checker does check: a wrong secret is refused */
	free(cfg.secret);
	cfg.secret = strdup("not-the-secret");
	OK(pl_s3_open(&s3, &cfg, &err));
	assert_int_equal(pl_s3_put_mem(s3, f->bucket, "sig/x", "x", 1, 0, NULL, &err), PL_EINVALID);
	assert_non_null(strstr(err.msg, "SignatureDoesNotMatch"));
	assert_null(strstr(err.msg, "not-the-secret"));
	pl_s3_close(s3);
	pl_s3_config_dispose(&cfg);
}

static void s3__sigv4_checked_independently(void **state)
{
	fixture *f = *state;
	const char *ep = getenv("PLANAR_S3_SIGCHECK");
	if (!ep) {
		fprintf(stderr, "no SigV4 checker (python3-botocore is not installed)\n");
		skip();
	}
	sigv4_round(f, ep, true);
	char vhost[128];
	snprintf(vhost, sizeof vhost, "http://s3.localhost:%s", strrchr(ep, ':') + 1);
	sigv4_round(f, vhost, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(s3__encode),
		cmocka_unit_test(s3__config_from_env_and_uris),
		cmocka_unit_test_setup_teardown(s3__put_get_head_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(s3__list_paginated_with_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(s3__multipart_and_single, setup, teardown),
		cmocka_unit_test_setup_teardown(s3__special_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(s3__create_only, setup, teardown),
		cmocka_unit_test_setup_teardown(s3__virtual_host_urls, setup, teardown),
		cmocka_unit_test_setup_teardown(s3__wrong_key_missing_bucket, setup, teardown),
		cmocka_unit_test_setup_teardown(s3__unreachable_endpoint, setup, teardown),
		cmocka_unit_test_setup_teardown(s3__retries_throttling_and_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(s3__timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(s3__sigv4_checked_independently, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
