/*
 * s3lake.c -- S3 data paths: their registry and clients, parallel transfers, uploads of new files and
 * removals (see s3lake.h; the read cache is s3cache.c).
 */
#include "storage/s3lake.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/objhooks.h"
#include "storage/fs.h"
#include "storage/secrets.h"
#include "storage/s3lake_internal.h"

#define POOL_MAX 16

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static store **stores;
static size_t nstores;
static int nstores_atomic; /* read without the lock by the fast paths */
pl_s3lake_stats pl_s3l_stats;

/* ---- settings ---- */

static int parallelism(void)
{
	const char *v = getenv("PLANAR_S3_PARALLEL");
	int n = v ? atoi(v) : 0;
	return n > 0 && n <= 64 ? n : 8;
}

/* ---- registry ---- */

static void store_free(store *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->npool; i++)
		pl_s3_close(s->pool[i]);
	pl_s3_config_dispose(&s->cfg);
	free(s->uri);
	free(s->bucket);
	free(s->prefix);
	free(s->root);
	free(s->real_root);
	free(s);
}

/* The endpoint as a directory name: host[:port] with anything but [A-Za-z0-9.-] as '_'. */
static void put_endpoint_dir(pl_buf *b, const pl_s3_config *cfg)
{
	const char *ep = cfg->endpoint;
	if (!ep) {
		pl_buf_printf(b, "aws-%s", cfg->region ? cfg->region : "us-east-1");
		return;
	}
	const char *p = strstr(ep, "://");
	p = p ? p + 3 : ep;
	for (; *p && *p != '/'; p++)
		pl_buf_putc(b, (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
					       *p == '.' || *p == '-'
				       ? *p
				       : '_');
}

/* A prefix is used as directories: no empty, "." or ".." component. */
static bool prefix_ok(const char *prefix)
{
	for (const char *p = prefix; *p;) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += n + (e ? 1 : 0);
	}
	return true;
}

int pl_s3lake_attach(const char *uri, const pl_s3_config *cfg, char **mirror_out, pl_err *err)
{
	*mirror_out = NULL;
	store *s = calloc(1, sizeof(*s));
	if (!s)
		return pl_err_nomem(err);
	pl_s3_config_init(&s->cfg);
	char *prefix = NULL;
	int rc = pl_s3_parse_uri(uri, &s->bucket, &prefix, err);
	if (rc == 0 && !prefix_ok(prefix))
		rc = pl_err_set(err, PL_EINVALID, "DATA_PATH '%s': a prefix may not have empty, '.' or '..' parts", uri);
	pl_buf b = PL_BUF_INIT, u = PL_BUF_INIT;
	if (rc == 0) {
		pl_buf_puts(&b, prefix);
		if (b.len && b.ptr[b.len - 1] != '/')
			pl_buf_putc(&b, '/');
		s->prefix = pl_buf_detach(&b);
		pl_buf_printf(&u, "s3://%s/%s", s->bucket, s->prefix ? s->prefix : "");
		s->uri = pl_buf_detach(&u);
		char *dir = pl_s3l_cache_dir();
		pl_buf_printf(&b, "%s/", dir ? dir : "");
		put_endpoint_dir(&b, cfg);
		pl_buf_printf(&b, "/%s/%s", s->bucket, s->prefix ? s->prefix : "");
		free(dir);
		s->root = pl_buf_detach(&b);
		rc = !s->prefix || !s->uri || !s->root ? pl_err_nomem(err) : pl_s3_config_copy(&s->cfg, cfg, err);
	}
	free(prefix);
	pl_s3 *c = NULL;
	if (rc == 0)
		rc = pl_s3_open(&c, &s->cfg, err);
	if (rc == 0)
		rc = pl_s3_probe(c, s->bucket, s->prefix, err);
	if (c)
		pl_s3_close(c);
	if (rc == 0)
		rc = pl_fs_mkdirs(s->root, err);
	char real[PATH_MAX];
	if (rc == 0 && !realpath(s->root, real))
		rc = pl_err_set(err, PL_EIO, "cannot resolve the S3 cache directory '%s': %s", s->root, strerror(errno));
	if (rc == 0 && !(s->real_root = pl_strdup(real)))
		rc = pl_err_nomem(err);
	if (rc == 0 && !(*mirror_out = pl_strdup(s->root)))
		rc = pl_err_nomem(err);
	if (rc) {
		store_free(s);
		return rc;
	}
	pthread_mutex_lock(&reg_lock);
	for (size_t i = 0; i < nstores; i++) {
		store *o = stores[i];
		if (strcmp(o->root, s->root) != 0)
			continue;
		/* known: take the new configuration (a new secret), keep the store */
		pl_s3_config tmp = o->cfg;
		o->cfg = s->cfg;
		s->cfg = tmp;
		o->gen++;
		for (size_t k = 0; k < o->npool; k++)
			pl_s3_close(o->pool[k]);
		o->npool = 0;
		if (o->external) { /* registered for absolute paths first: now a data path too */
			char *t = o->real_root;
			o->real_root = s->real_root;
			s->real_root = t;
			o->external = false;
		}
		pthread_mutex_unlock(&reg_lock);
		store_free(s);
		return 0;
	}
	store **grown = realloc(stores, (nstores + 1) * sizeof(*stores));
	pl_s3lake_install_hooks();
	if (grown) {
		stores = grown;
		stores[nstores++] = s;
		__atomic_store_n(&nstores_atomic, (int)nstores, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&reg_lock);
	if (!grown) {
		store_free(s);
		free(*mirror_out);
		*mirror_out = NULL;
		return pl_err_nomem(err);
	}
	return 0;
}

/* The store with the longest mirror root that is a prefix of path; under reg_lock. */
static store *find_locked(const char *path)
{
	store *found = NULL;
	size_t best = 0;
	for (size_t i = 0; i < nstores; i++) {
		size_t n = strlen(stores[i]->root);
		if (n > best && strncmp(path, stores[i]->root, n) == 0)
			found = stores[i], best = n;
	}
	return found;
}

/* The store whose mirror holds path (stores are never freed). */
store *pl_s3l_find_store(const char *path)
{
	if (!pl_s3l_active() || !path)
		return NULL;
	pthread_mutex_lock(&reg_lock);
	store *found = find_locked(path);
	pthread_mutex_unlock(&reg_lock);
	return found;
}

/* ---- absolute s3:// files ---- */

static bool same_text(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool same_config(const pl_s3_config *a, const pl_s3_config *b)
{
	return same_text(a->endpoint, b->endpoint) && same_text(a->region, b->region) &&
	       same_text(a->key_id, b->key_id) && same_text(a->secret, b->secret) &&
	       same_text(a->session_token, b->session_token) && a->path_style == b->path_style &&
	       a->use_ssl == b->use_ssl;
}

/* An external store for uri "s3://bucket/prefix" (prefix: "" or the key part of a secret's
 * scope) with root, taking cfg; NULL when out of memory. */
static store *external_new(const char *bucket, const char *prefix, const char *root, pl_s3_config *cfg)
{
	store *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	pl_s3_config_init(&s->cfg);
	pl_buf u = PL_BUF_INIT;
	pl_buf_printf(&u, "s3://%s/%s", bucket, prefix);
	s->uri = pl_buf_detach(&u);
	s->bucket = pl_strdup(bucket);
	s->prefix = pl_strdup(prefix);
	s->root = pl_strdup(root);
	s->real_root = pl_strdup("");
	s->external = true;
	pl_s3_config tmp = s->cfg;
	s->cfg = *cfg;
	*cfg = tmp;
	if (!s->uri || !s->bucket || !s->prefix || !s->root || !s->real_root) {
		store_free(s);
		return NULL;
	}
	return s;
}

char *pl_s3lake_local_of(const char *uri)
{
	char *bucket = NULL, *key = NULL, *scope = NULL, *dir = NULL;
	pl_err e = {0};
	pl_s3_config cfg;
	pl_s3_config_init(&cfg);
	char *local = NULL;
	/* a key with an empty, "." or ".." part cannot be a path in the cache */
	if (pl_s3_parse_uri(uri, &bucket, &key, &e) || strcmp(bucket, ".") == 0 || strcmp(bucket, "..") == 0 ||
	    !*key || !prefix_ok(key) || pl_secret_config_for(uri, &cfg, &e) || pl_secret_scope_for(uri, &scope) ||
	    !(dir = pl_s3l_cache_dir()))
		goto done;
	/* the secret's scope within the bucket is the store's prefix: files below a narrower scope
	 * get a store (and keys) of their own */
	pl_buf sb = PL_BUF_INIT;
	pl_buf_printf(&sb, "s3://%s/", bucket);
	const char *prefix = "";
	if (scope && sb.ptr && strncmp(scope, sb.ptr, sb.len) == 0)
		prefix = scope + sb.len;
	pl_buf_dispose(&sb);
	pl_buf root = PL_BUF_INIT, path = PL_BUF_INIT;
	pl_buf_printf(&root, "%s/", dir);
	put_endpoint_dir(&root, &cfg);
	pl_buf_printf(&root, "/%s/", bucket);
	pl_buf_puts(&path, pl_buf_cstr(&root));
	pl_buf_puts(&path, key);
	pl_buf_puts(&root, prefix);
	if (!pl_buf_oom(&root) && !pl_buf_oom(&path)) {
		pthread_mutex_lock(&reg_lock);
		store *s = find_locked(path.ptr);
		if (s && strlen(s->root) >= root.len) { /* a data path's store, or this one */
			if (s->external && strcmp(s->root, root.ptr) == 0 && !same_config(&s->cfg, &cfg)) {
				pl_s3_config tmp = s->cfg; /* the secret changed: the new one applies */
				s->cfg = cfg;
				cfg = tmp;
				s->gen++;
				for (size_t k = 0; k < s->npool; k++)
					pl_s3_close(s->pool[k]);
				s->npool = 0;
			}
			local = pl_buf_detach(&path);
		} else {
			store **grown = realloc(stores, (nstores + 1) * sizeof(*stores));
			if (grown)
				stores = grown;
			store *n = grown ? external_new(bucket, prefix, root.ptr, &cfg) : NULL;
			if (n) {
				stores[nstores++] = n;
				__atomic_store_n(&nstores_atomic, (int)nstores, __ATOMIC_RELEASE);
				local = pl_buf_detach(&path);
			}
		}
		pthread_mutex_unlock(&reg_lock);
	}
	pl_buf_dispose(&root);
	pl_buf_dispose(&path);
done:
	pl_s3_config_dispose(&cfg);
	free(bucket);
	free(key);
	free(scope);
	free(dir);
	return local;
}

void pl_s3lake_install_hooks(void)
{
	static const pl_objhooks hooks = {pl_s3lake_ensure_sql, pl_s3lake_upload, pl_s3lake_unlink, pl_s3lake_local_of};
	pl_objhooks_install(&hooks);
}

bool pl_s3lake_owns(const char *path)
{
	return pl_s3l_find_store(path) != NULL;
}

bool pl_s3lake_is_root(const char *real_root)
{
	if (!pl_s3l_active())
		return false;
	bool found = false;
	pthread_mutex_lock(&reg_lock);
	for (size_t i = 0; !found && i < nstores; i++)
		found = strcmp(stores[i]->real_root, real_root) == 0;
	pthread_mutex_unlock(&reg_lock);
	return found;
}

char *pl_s3lake_uri_of(const char *path)
{
	store *s = pl_s3l_find_store(path);
	if (!s)
		return NULL;
	pl_buf b = PL_BUF_INIT;
	pl_buf_printf(&b, "%s%s", s->uri, path + strlen(s->root));
	return pl_buf_detach(&b);
}

/* The object key of a mirror path of s. */
char *pl_s3l_key_of(const store *s, const char *path)
{
	pl_buf b = PL_BUF_INIT;
	pl_buf_printf(&b, "%s%s", s->prefix, path + strlen(s->root));
	return pl_buf_detach(&b);
}

int pl_s3l_client_get(store *s, pl_s3 **out, unsigned *gen, pl_err *err)
{
	pl_s3_config cfg;
	pl_s3_config_init(&cfg);
	pthread_mutex_lock(&reg_lock);
	*out = NULL;
	while (s->npool > 0 && !*out) {
		s->npool--;
		if (s->pool_gen[s->npool] == s->gen)
			*out = s->pool[s->npool];
		else
			pl_s3_close(s->pool[s->npool]);
	}
	*gen = s->gen;
	int rc = *out ? 0 : pl_s3_config_copy(&cfg, &s->cfg, err);
	pthread_mutex_unlock(&reg_lock);
	if (rc == 0 && !*out)
		rc = pl_s3_open(out, &cfg, err);
	pl_s3_config_dispose(&cfg);
	return rc;
}

void pl_s3l_client_put(store *s, pl_s3 *c, unsigned gen)
{
	pthread_mutex_lock(&reg_lock);
	if (gen == s->gen && s->npool < POOL_MAX) {
		s->pool_gen[s->npool] = gen;
		s->pool[s->npool++] = c;
		c = NULL;
	}
	pthread_mutex_unlock(&reg_lock);
	if (c)
		pl_s3_close(c);
}

void pl_s3l_count(int64_t *field, int64_t n)
{
	__atomic_add_fetch(field, n, __ATOMIC_RELAXED);
}

pl_s3lake_stats pl_s3lake_get_stats(void)
{
	pl_s3lake_stats s;
	s.hits = __atomic_load_n(&pl_s3l_stats.hits, __ATOMIC_RELAXED);
	s.fetches = __atomic_load_n(&pl_s3l_stats.fetches, __ATOMIC_RELAXED);
	s.uploads = __atomic_load_n(&pl_s3l_stats.uploads, __ATOMIC_RELAXED);
	s.evictions = __atomic_load_n(&pl_s3l_stats.evictions, __ATOMIC_RELAXED);
	s.bytes_fetched = __atomic_load_n(&pl_s3l_stats.bytes_fetched, __ATOMIC_RELAXED);
	s.bytes_uploaded = __atomic_load_n(&pl_s3l_stats.bytes_uploaded, __ATOMIC_RELAXED);
	return s;
}


bool pl_s3l_active(void)
{
	return __atomic_load_n(&nstores_atomic, __ATOMIC_ACQUIRE) != 0;
}

int pl_s3l_roots(pl_strv *out)
{
	int rc = 0;
	pthread_mutex_lock(&reg_lock);
	for (size_t i = 0; rc == 0 && i < nstores; i++)
		rc = pl_strv_push(out, stores[i]->root);
	pthread_mutex_unlock(&reg_lock);
	return rc;
}

/* ---- parallel transfers ---- */

static int do_job(job *j, pl_s3 *c)
{
	const char *b = j->s->bucket;
	pl_s3_object info = {0};
	int rc = 0;
	switch (j->kind) {
	case JOB_GET:
		rc = pl_s3_get_file(c, b, j->key, j->path, &info, &j->err);
		if (rc == 0)
			rc = pl_s3l_meta_write(j->path, info.size, info.etag, &j->err);
		if (rc == 0) {
			pl_s3l_count(&pl_s3l_stats.fetches, 1);
			pl_s3l_count(&pl_s3l_stats.bytes_fetched, info.size);
		}
		break;
	case JOB_PUT: {
		char *etag = NULL;
		struct stat st;
		rc = stat(j->path, &st) == 0 ? 0
					      : pl_err_set(&j->err, PL_EIO, "cannot upload '%s': %s", j->path, strerror(errno));
		if (rc == 0)
			rc = pl_s3_put_file(c, b, j->key, j->path, 0, &etag, &j->err);
		if (rc == 0) {
			j->done = true;
			rc = pl_s3l_meta_write(j->path, st.st_size, etag, &j->err);
			pl_s3l_count(&pl_s3l_stats.uploads, 1);
			pl_s3l_count(&pl_s3l_stats.bytes_uploaded, st.st_size);
		}
		free(etag);
		break;
	}
	case JOB_HEAD:
		rc = pl_s3_head(c, b, j->key, &info, &j->err);
		j->stale = rc == PL_ENOTFOUND || (rc == 0 && strcmp(info.etag ? info.etag : "", j->etag) != 0);
		if (rc == PL_ENOTFOUND)
			rc = 0;
		break;
	case JOB_DELETE:
		rc = pl_s3_delete(c, b, j->key, &j->err);
		break;
	}
	pl_s3_object_dispose(&info);
	return rc;
}

static void *job_worker(void *arg)
{
	job_run *r = arg;
	pl_s3 *c = NULL;
	store *cs = NULL;
	unsigned gen = 0;
	for (;;) {
		pthread_mutex_lock(&r->lock);
		job *j = r->stop || r->next >= r->n ? NULL : &r->jobs[r->next++];
		pthread_mutex_unlock(&r->lock);
		if (!j)
			break;
		if (c && cs != j->s) {
			pl_s3l_client_put(cs, c, gen);
			c = NULL;
		}
		if (!c && (j->rc = pl_s3l_client_get(j->s, &c, &gen, &j->err)) != 0)
			continue;
		cs = j->s;
		j->rc = do_job(j, c);
		if (j->rc && j->kind == JOB_PUT) {
			pthread_mutex_lock(&r->lock);
			r->stop = true;
			pthread_mutex_unlock(&r->lock);
		}
	}
	if (c)
		pl_s3l_client_put(cs, c, gen);
	return NULL;
}

/* Runs the jobs on up to parallelism() threads (this one included). */
void pl_s3l_run_jobs(job *jobs, size_t n, bool stop_on_error)
{
	job_run r = {jobs, n, 0, PTHREAD_MUTEX_INITIALIZER, false};
	(void)stop_on_error;
	size_t want = (size_t)parallelism();
	if (want > n)
		want = n;
	pthread_t th[64];
	size_t started = 0;
	for (size_t i = 1; i < want; i++)
		if (pthread_create(&th[started], NULL, job_worker, &r) == 0)
			started++;
	job_worker(&r);
	for (size_t i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&r.lock);
}

void pl_s3l_jobs_free(job *jobs, size_t n)
{
	for (size_t i = 0; jobs && i < n; i++) {
		free(jobs[i].path);
		free(jobs[i].key);
	}
	free(jobs);
}

int pl_s3l_add_job(job **jobs, size_t *n, size_t *cap, job_kind kind, store *s, const char *path, pl_err *err)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*jobs)[i].path, path) == 0)
			return 0;
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		job *grown = realloc(*jobs, c * sizeof(*grown));
		if (!grown)
			return pl_err_nomem(err);
		*jobs = grown;
		*cap = c;
	}
	job *j = &(*jobs)[*n];
	memset(j, 0, sizeof(*j));
	j->kind = kind;
	j->s = s;
	j->path = pl_strdup(path);
	j->key = pl_s3l_key_of(s, path);
	if (!j->path || !j->key) {
		free(j->path);
		free(j->key);
		return pl_err_nomem(err);
	}
	(*n)++;
	return 0;
}

/* ---- writes ---- */

int pl_s3lake_upload(const pl_strv *written, pl_err *err)
{
	if (!pl_s3l_active() || !written)
		return 0;
	job *jobs = NULL;
	size_t njobs = 0, cap = 0;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < written->len; i++) {
		const char *path = written->items[i];
		store *s = pl_s3l_find_store(path);
		int64_t size;
		char etag[128];
		if (!s || pl_s3l_meta_read(path, &size, etag)) /* not an S3 lake's, or uploaded already */
			continue;
		rc = pl_s3l_add_job(&jobs, &njobs, &cap, JOB_PUT, s, path, err);
	}
	if (rc == 0 && njobs > 0) {
		pl_s3l_run_jobs(jobs, njobs, true);
		for (size_t i = 0; rc == 0 && i < njobs; i++)
			if (jobs[i].rc) {
				rc = jobs[i].rc;
				*err = jobs[i].err;
			}
		if (rc) { /* nothing of a failed upload stays */
			size_t k = 0;
			for (size_t i = 0; i < njobs; i++)
				if (jobs[i].done) {
					pl_s3l_meta_remove(jobs[i].path);
					jobs[k] = jobs[i];
					jobs[k].kind = JOB_DELETE;
					jobs[k].rc = 0;
					if (k != i)
						jobs[i].path = jobs[i].key = NULL;
					k++;
				} else {
					free(jobs[i].path);
					free(jobs[i].key);
					jobs[i].path = jobs[i].key = NULL;
				}
			pl_s3l_run_jobs(jobs, k, false);
			njobs = k;
		} else {
			for (size_t i = 0; i < njobs; i++) /* held until the commit is done */
				(void)pl_s3l_pin_path(jobs[i].path, NULL);
		}
	}
	pl_s3l_jobs_free(jobs, njobs);
	return rc;
}

void pl_s3lake_unlink(const char *path)
{
	store *s = pl_s3l_find_store(path);
	if (s) {
		int64_t size;
		char etag[128];
		if (pl_s3l_meta_read(path, &size, etag)) { /* uploaded: the object goes too */
			job j = {.kind = JOB_DELETE, .s = s, .path = pl_strdup(path), .key = pl_s3l_key_of(s, path)};
			if (j.path && j.key)
				pl_s3l_run_jobs(&j, 1, false);
			free(j.path);
			free(j.key);
			pl_s3l_meta_remove(path);
		}
	}
	unlink(path);
}

/* ---- upkeep ---- */

int pl_s3lake_list(const char *dir, const char *const *suffixes, pl_s3lake_entry **out, size_t *n, pl_err *err)
{
	*out = NULL;
	*n = 0;
	store *s = pl_s3l_find_store(dir);
	if (!s)
		return pl_err_set(err, PL_EINVALID, "'%s' is not in the mirror of an S3 data path", dir);
	pl_s3 *c = NULL;
	unsigned gen = 0;
	char *prefix = pl_s3l_key_of(s, dir);
	pl_s3_listing l = {0};
	int rc = prefix ? pl_s3l_client_get(s, &c, &gen, err) : pl_err_nomem(err);
	if (rc == 0)
		rc = pl_s3_list(c, s->bucket, prefix, &l, err);
	if (c)
		pl_s3l_client_put(s, c, gen);
	pl_s3lake_entry *items = rc == 0 ? calloc(l.len ? l.len : 1, sizeof(*items)) : NULL;
	if (rc == 0 && !items)
		rc = pl_err_nomem(err);
	size_t k = 0;
	for (size_t i = 0; rc == 0 && i < l.len; i++) {
		const char *key = l.items[i].key;
		bool want = false;
		for (const char *const *sfx = suffixes; *sfx && !want; sfx++)
			want = pl_str_has_suffix(key, *sfx);
		if (!want || strncmp(key, s->prefix, strlen(s->prefix)) != 0)
			continue;
		pl_buf p = PL_BUF_INIT;
		pl_buf_printf(&p, "%s%s", s->root, key + strlen(s->prefix));
		if (pl_buf_oom(&p)) {
			rc = pl_err_nomem(err);
			break;
		}
		items[k++] = (pl_s3lake_entry){pl_buf_detach(&p), l.items[i].mtime_us};
	}
	pl_s3_list_dispose(&l);
	free(prefix);
	if (rc) {
		for (size_t i = 0; i < k; i++)
			free(items[i].path);
		free(items);
		return rc;
	}
	*out = items;
	*n = k;
	return 0;
}

int pl_s3lake_remove(const char *real_root, const char *canonical, bool really, bool *exists, pl_err *err)
{
	*exists = false;
	store *s = NULL;
	pthread_mutex_lock(&reg_lock);
	for (size_t i = 0; !s && i < nstores; i++)
		if (strcmp(stores[i]->real_root, real_root) == 0)
			s = stores[i];
	pthread_mutex_unlock(&reg_lock);
	size_t rl = strlen(real_root);
	if (!s || strncmp(canonical, real_root, rl) != 0 || canonical[rl] != '/' || !canonical[rl + 1])
		return 0;
	pl_buf key = PL_BUF_INIT, local = PL_BUF_INIT;
	pl_buf_printf(&key, "%s%s", s->prefix, canonical + rl + 1);
	pl_buf_printf(&local, "%s%s", s->root, canonical + rl + 1);
	if (pl_buf_oom(&key) || pl_buf_oom(&local)) {
		pl_buf_dispose(&key);
		pl_buf_dispose(&local);
		return pl_err_nomem(err);
	}
	pl_s3 *c = NULL;
	unsigned gen = 0;
	pl_s3_object info = {0};
	int rc = pl_s3l_client_get(s, &c, &gen, err);
	if (rc == 0) {
		rc = pl_s3_head(c, s->bucket, key.ptr, &info, err);
		*exists = rc == 0;
		if (rc == PL_ENOTFOUND) {
			pl_err_clear(err);
			rc = 0;
		}
	}
	if (rc == 0 && really && *exists)
		rc = pl_s3_delete(c, s->bucket, key.ptr, err);
	if (rc == 0 && really) {
		pl_s3l_meta_remove(local.ptr);
		unlink(local.ptr);
	}
	if (c)
		pl_s3l_client_put(s, c, gen);
	pl_s3_object_dispose(&info);
	pl_buf_dispose(&key);
	pl_buf_dispose(&local);
	return rc;
}
