/*
 * s3lake.c -- the mirror and read cache of S3 data paths (see s3lake.h).
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

#define META_SUFFIX ".plmeta"
#define POOL_MAX 16

typedef struct store {
	char *uri;       /* s3://bucket/prefix/ */
	char *bucket;
	char *prefix;    /* "" or ends in '/' */
	char *root;      /* mirror root, ends in '/' */
	char *real_root; /* its real path, without the final '/' */
	pl_s3_config cfg;
	unsigned gen;    /* bumped when cfg changes: pooled clients of older ones are closed */
	pl_s3 *pool[POOL_MAX];
	unsigned pool_gen[POOL_MAX];
	size_t npool;
} store;

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static store **stores;
static size_t nstores;
static int nstores_atomic; /* read without the lock by the fast paths */
static pl_s3lake_stats stats;

/* ---- settings ---- */

static char *cache_dir(void)
{
	pl_buf b = PL_BUF_INIT;
	const char *v = getenv("PLANAR_S3_CACHE_DIR");
	if (v && *v)
		pl_buf_puts(&b, v);
	else if ((v = getenv("XDG_CACHE_HOME")) && *v)
		pl_buf_printf(&b, "%s/planar/s3", v);
	else if ((v = getenv("HOME")) && *v)
		pl_buf_printf(&b, "%s/.cache/planar/s3", v);
	else
		pl_buf_puts(&b, "/tmp/planar-s3-cache");
	while (b.len > 1 && b.ptr[b.len - 1] == '/')
		pl_buf_truncate(&b, b.len - 1);
	return pl_buf_detach(&b);
}

static int64_t cache_limit(void)
{
	int64_t n;
	const char *v = getenv("PLANAR_S3_CACHE_SIZE");
	return v && pl_parse_byte_size(v, &n) && n >= 0 ? n : (int64_t)10 * 1000 * 1000 * 1000;
}

static bool validate_etag(void)
{
	const char *v = getenv("PLANAR_S3_CACHE_VALIDATE");
	return v && pl_str_ieq(v, "etag");
}

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
		char *dir = cache_dir();
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
		pthread_mutex_unlock(&reg_lock);
		store_free(s);
		return 0;
	}
	store **grown = realloc(stores, (nstores + 1) * sizeof(*stores));
	static const pl_objhooks hooks = {pl_s3lake_ensure_sql, pl_s3lake_upload, pl_s3lake_unlink};
	pl_objhooks_install(&hooks);
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

/* The store whose mirror holds path (stores are never freed). */
static store *find_store(const char *path)
{
	if (__atomic_load_n(&nstores_atomic, __ATOMIC_ACQUIRE) == 0 || !path)
		return NULL;
	store *found = NULL;
	pthread_mutex_lock(&reg_lock);
	for (size_t i = 0; !found && i < nstores; i++)
		if (strncmp(path, stores[i]->root, strlen(stores[i]->root)) == 0)
			found = stores[i];
	pthread_mutex_unlock(&reg_lock);
	return found;
}

bool pl_s3lake_owns(const char *path)
{
	return find_store(path) != NULL;
}

bool pl_s3lake_is_root(const char *real_root)
{
	if (__atomic_load_n(&nstores_atomic, __ATOMIC_ACQUIRE) == 0)
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
	store *s = find_store(path);
	if (!s)
		return NULL;
	pl_buf b = PL_BUF_INIT;
	pl_buf_printf(&b, "%s%s", s->uri, path + strlen(s->root));
	return pl_buf_detach(&b);
}

/* The object key of a mirror path of s. */
static char *key_of(const store *s, const char *path)
{
	pl_buf b = PL_BUF_INIT;
	pl_buf_printf(&b, "%s%s", s->prefix, path + strlen(s->root));
	return pl_buf_detach(&b);
}

static int client_get(store *s, pl_s3 **out, unsigned *gen, pl_err *err)
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

static void client_put(store *s, pl_s3 *c, unsigned gen)
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

static void count(int64_t *field, int64_t n)
{
	__atomic_add_fetch(field, n, __ATOMIC_RELAXED);
}

pl_s3lake_stats pl_s3lake_get_stats(void)
{
	pl_s3lake_stats s;
	s.hits = __atomic_load_n(&stats.hits, __ATOMIC_RELAXED);
	s.fetches = __atomic_load_n(&stats.fetches, __ATOMIC_RELAXED);
	s.uploads = __atomic_load_n(&stats.uploads, __ATOMIC_RELAXED);
	s.evictions = __atomic_load_n(&stats.evictions, __ATOMIC_RELAXED);
	s.bytes_fetched = __atomic_load_n(&stats.bytes_fetched, __ATOMIC_RELAXED);
	s.bytes_uploaded = __atomic_load_n(&stats.bytes_uploaded, __ATOMIC_RELAXED);
	return s;
}

/* ---- cache entries ---- */

static char *meta_path(const char *path)
{
	pl_buf b = PL_BUF_INIT;
	pl_buf_printf(&b, "%s%s", path, META_SUFFIX);
	return pl_buf_detach(&b);
}

/* Reads "<size> <etag>" of path's .plmeta; false when there is none. */
static bool meta_read(const char *path, int64_t *size, char etag[128])
{
	char *mp = meta_path(path);
	int fd = mp ? open(mp, O_RDONLY | O_CLOEXEC) : -1;
	free(mp);
	if (fd < 0)
		return false;
	char buf[256];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	long long sz = -1;
	etag[0] = '\0';
	if (sscanf(buf, "%lld %127s", &sz, etag) < 1 || sz < 0)
		return false;
	*size = sz;
	return true;
}

/* Writes path's .plmeta through a temporary file and a rename. */
static int meta_write(const char *path, int64_t size, const char *etag, pl_err *err)
{
	char *mp = meta_path(path);
	pl_buf tmp = PL_BUF_INIT, body = PL_BUF_INIT;
	pl_buf_printf(&tmp, "%s.tmp-%ld-%lx", mp ? mp : "", (long)getpid(), (unsigned long)pthread_self());
	pl_buf_printf(&body, "%lld %s\n", (long long)size, etag && *etag ? etag : "-");
	int rc = !mp || pl_buf_oom(&tmp) || pl_buf_oom(&body) ? pl_err_nomem(err) : 0;
	if (rc == 0) {
		int fd = open(tmp.ptr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		bool ok = fd >= 0 && write(fd, body.ptr, body.len) == (ssize_t)body.len;
		if (fd >= 0)
			close(fd);
		if (!ok || rename(tmp.ptr, mp) != 0) {
			rc = pl_err_set(err, PL_EIO, "cannot write the S3 cache entry '%s': %s", mp, strerror(errno));
			unlink(tmp.ptr);
		}
	}
	pl_buf_dispose(&tmp);
	pl_buf_dispose(&body);
	free(mp);
	return rc;
}

static void meta_remove(const char *path)
{
	char *mp = meta_path(path);
	if (mp)
		unlink(mp);
	free(mp);
}

/* ---- pins: files a thread's statement reads, held with a shared flock ---- */

typedef struct pins {
	int *fds;
	size_t n, cap;
} pins;

static pthread_key_t pins_key;
static pthread_once_t pins_once = PTHREAD_ONCE_INIT;

static void pins_free(void *p)
{
	pins *ps = p;
	for (size_t i = 0; ps && i < ps->n; i++)
		close(ps->fds[i]);
	if (ps)
		free(ps->fds);
	free(ps);
}

static void pins_init(void)
{
	(void)pthread_key_create(&pins_key, pins_free);
}

static pins *my_pins(void)
{
	pthread_once(&pins_once, pins_init);
	pins *ps = pthread_getspecific(pins_key);
	if (!ps && (ps = calloc(1, sizeof(*ps))) != NULL && pthread_setspecific(pins_key, ps) != 0) {
		free(ps);
		ps = NULL;
	}
	return ps;
}

void pl_s3lake_release_pins(void)
{
	if (__atomic_load_n(&nstores_atomic, __ATOMIC_ACQUIRE) == 0)
		return;
	pthread_once(&pins_once, pins_init);
	pins *ps = pthread_getspecific(pins_key);
	for (size_t i = 0; ps && i < ps->n; i++)
		close(ps->fds[i]);
	if (ps)
		ps->n = 0;
}

static void pin_fd(int fd)
{
	pins *ps = my_pins();
	if (ps && ps->n == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 16;
		int *grown = realloc(ps->fds, cap * sizeof(*grown));
		if (grown)
			ps->fds = grown, ps->cap = cap;
	}
	if (ps && ps->n < ps->cap)
		ps->fds[ps->n++] = fd;
	else
		close(fd); /* out of memory: the file is used unpinned */
}

/* Opens path and holds it with a shared flock; false when it is not there (or was evicted
 * between the open and the lock: then the name is gone or names another file). */
static bool pin_path(const char *path, int64_t *size_out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	struct stat a, b;
	if (flock(fd, LOCK_SH) != 0 || fstat(fd, &a) != 0 || stat(path, &b) != 0 || a.st_ino != b.st_ino ||
	    a.st_dev != b.st_dev) {
		close(fd);
		return false;
	}
	/* the access time orders eviction (least recently used first) */
	struct timespec ts[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};
	(void)futimens(fd, ts);
	if (size_out)
		*size_out = a.st_size;
	pin_fd(fd);
	return true;
}

/* ---- parallel transfers ---- */

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

static int do_job(job *j, pl_s3 *c)
{
	const char *b = j->s->bucket;
	pl_s3_object info = {0};
	int rc = 0;
	switch (j->kind) {
	case JOB_GET:
		rc = pl_s3_get_file(c, b, j->key, j->path, &info, &j->err);
		if (rc == 0)
			rc = meta_write(j->path, info.size, info.etag, &j->err);
		if (rc == 0) {
			count(&stats.fetches, 1);
			count(&stats.bytes_fetched, info.size);
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
			rc = meta_write(j->path, st.st_size, etag, &j->err);
			count(&stats.uploads, 1);
			count(&stats.bytes_uploaded, st.st_size);
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
			client_put(cs, c, gen);
			c = NULL;
		}
		if (!c && (j->rc = client_get(j->s, &c, &gen, &j->err)) != 0)
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
		client_put(cs, c, gen);
	return NULL;
}

/* Runs the jobs on up to parallelism() threads (this one included). */
static void run_jobs(job *jobs, size_t n, bool stop_on_error)
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

static void jobs_free(job *jobs, size_t n)
{
	for (size_t i = 0; jobs && i < n; i++) {
		free(jobs[i].path);
		free(jobs[i].key);
	}
	free(jobs);
}

static int add_job(job **jobs, size_t *n, size_t *cap, job_kind kind, store *s, const char *path, pl_err *err)
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
	j->key = key_of(s, path);
	if (!j->path || !j->key) {
		free(j->path);
		free(j->key);
		return pl_err_nomem(err);
	}
	(*n)++;
	return 0;
}

/* ---- eviction ---- */

typedef struct cached {
	char *path;
	int64_t size;
	int64_t atime_ns;
} cached;

typedef struct cached_list {
	cached *items;
	size_t n, cap;
	int64_t total;
} cached_list;

static void collect(const char *dir, cached_list *l, int depth)
{
	DIR *d = depth < 64 ? opendir(dir) : NULL;
	if (!d)
		return;
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		pl_buf p = PL_BUF_INIT;
		pl_buf_printf(&p, "%s/%s", dir, e->d_name);
		struct stat st;
		if (pl_buf_oom(&p) || lstat(p.ptr, &st) != 0) {
			pl_buf_dispose(&p);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			collect(p.ptr, l, depth + 1);
		} else if (S_ISREG(st.st_mode) && pl_str_has_suffix(e->d_name, META_SUFFIX)) {
			pl_buf_truncate(&p, p.len - strlen(META_SUFFIX));
			struct stat ds;
			if (stat(p.ptr, &ds) == 0 && S_ISREG(ds.st_mode)) {
				if (l->n == l->cap) {
					size_t cap = l->cap ? l->cap * 2 : 64;
					cached *grown = realloc(l->items, cap * sizeof(*grown));
					if (!grown) {
						pl_buf_dispose(&p);
						continue;
					}
					l->items = grown;
					l->cap = cap;
				}
				l->items[l->n++] = (cached){pl_buf_detach(&p), ds.st_size,
							    (int64_t)ds.st_atim.tv_sec * 1000000000 + ds.st_atim.tv_nsec};
				l->total += ds.st_size;
			}
		}
		pl_buf_dispose(&p);
	}
	closedir(d);
}

static int cmp_atime(const void *a, const void *b)
{
	const cached *x = a, *y = b;
	return x->atime_ns < y->atime_ns ? -1 : x->atime_ns > y->atime_ns;
}

/* Set when an eviction left the cache over its limit (files in use): the next statement tries
 * again even when it fetches nothing. */
static int over_limit;

/* Removes the least recently used copies until the cache fits its limit; one process at a time,
 * never a file some query holds. */
static void evict(void)
{
	int64_t limit = cache_limit();
	char *dir = cache_dir();
	pl_buf lockp = PL_BUF_INIT;
	pl_buf_printf(&lockp, "%s/.evict.lock", dir ? dir : "");
	int lfd = dir && !pl_buf_oom(&lockp) ? open(lockp.ptr, O_RDWR | O_CREAT | O_CLOEXEC, 0644) : -1;
	if (lfd >= 0 && flock(lfd, LOCK_EX) == 0) {
		cached_list l = {0};
		collect(dir, &l, 0);
		if (l.total > limit) {
			qsort(l.items, l.n, sizeof(*l.items), cmp_atime);
			for (size_t i = 0; i < l.n && l.total > limit; i++) {
				int fd = open(l.items[i].path, O_RDONLY | O_CLOEXEC);
				if (fd < 0)
					continue;
				if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
					meta_remove(l.items[i].path);
					if (unlink(l.items[i].path) == 0) {
						l.total -= l.items[i].size;
						count(&stats.evictions, 1);
					}
				}
				close(fd);
			}
		}
		__atomic_store_n(&over_limit, l.total > limit, __ATOMIC_RELAXED);
		for (size_t i = 0; i < l.n; i++)
			free(l.items[i].path);
		free(l.items);
	}
	if (lfd >= 0)
		close(lfd);
	pl_buf_dispose(&lockp);
	free(dir);
}

/* ---- reads ---- */

/* Whether a mirror path names a file a query reads (not a staging directory, a directory, or a
 * glob). */
static bool readable_name(const char *path)
{
	size_t n = strlen(path);
	return n && path[n - 1] != '/' && !strstr(path, "/.planar-write-") && !strpbrk(path, "*?[") &&
	       !pl_str_has_suffix(path, META_SUFFIX);
}

int pl_s3lake_ensure(const char *const *paths, size_t n, pl_err *err)
{
	if (__atomic_load_n(&nstores_atomic, __ATOMIC_ACQUIRE) == 0)
		return 0;
	job *jobs = NULL;
	size_t njobs = 0, cap = 0;
	int rc = 0;
	bool check_etag = validate_etag();
	for (size_t i = 0; rc == 0 && i < n; i++) {
		store *s = find_store(paths[i]);
		if (!s || !readable_name(paths[i]))
			continue;
		int64_t msize = -1, size = -1;
		char etag[128];
		bool meta = meta_read(paths[i], &msize, etag);
		if (!meta && pin_path(paths[i], NULL))
			continue; /* this process's own write, not uploaded yet: complete (renamed into place) */
		if (meta && pin_path(paths[i], &size)) {
			if (size == msize && !check_etag) {
				count(&stats.hits, 1);
				continue;
			}
			if (size == msize) { /* hit, if the object still has that ETag */
				size_t before = njobs;
				rc = add_job(&jobs, &njobs, &cap, JOB_HEAD, s, paths[i], err);
				if (rc == 0 && njobs > before)
					snprintf(jobs[before].etag, sizeof(jobs[before].etag), "%s", etag);
				continue;
			}
			meta_remove(paths[i]); /* wrong size: fetched again */
		}
		rc = pl_fs_mkdirs_parent(paths[i], err);
		if (rc == 0)
			rc = add_job(&jobs, &njobs, &cap, JOB_GET, s, paths[i], err);
	}
	if (rc == 0 && njobs > 0) {
		run_jobs(jobs, njobs, false);
		/* stale copies (ETag changed): fetched now */
		size_t nstale = 0;
		for (size_t i = 0; i < njobs; i++)
			if (jobs[i].kind == JOB_HEAD && jobs[i].rc == 0) {
				if (jobs[i].stale) {
					meta_remove(jobs[i].path);
					jobs[i].kind = JOB_GET;
					nstale++;
				} else {
					count(&stats.hits, 1);
					jobs[i].kind = JOB_DELETE; /* done: marks nothing to do */
					jobs[i].done = true;
				}
			}
		if (nstale) {
			job *again = calloc(nstale, sizeof(*again));
			size_t k = 0;
			for (size_t i = 0; again && i < njobs; i++)
				if (jobs[i].kind == JOB_GET && jobs[i].etag[0] && jobs[i].rc == 0)
					again[k++] = (job){.kind = JOB_GET, .s = jobs[i].s, .path = jobs[i].path,
							   .key = jobs[i].key};
			if (again) {
				run_jobs(again, k, false);
				for (size_t i = 0, m = 0; i < njobs && m < k; i++)
					if (jobs[i].kind == JOB_GET && jobs[i].etag[0] && jobs[i].rc == 0) {
						jobs[i].rc = again[m].rc;
						jobs[i].err = again[m].err;
						m++;
					}
			} else {
				rc = pl_err_nomem(err);
			}
			free(again);
		}
		bool fetched = false;
		for (size_t i = 0; rc == 0 && i < njobs; i++) {
			if (jobs[i].rc) {
				rc = jobs[i].rc;
				*err = jobs[i].err;
			} else if (jobs[i].kind == JOB_GET) {
				fetched = true;
				if (!pin_path(jobs[i].path, NULL))
					rc = pl_err_set(err, PL_EIO, "S3 cache: '%s' was removed right after it was fetched "
							"(a cache too small for one query? raise PLANAR_S3_CACHE_SIZE)",
							jobs[i].path);
			}
		}
		if (fetched)
			evict();
	}
	if (rc == 0 && njobs == 0 && n > 0 && __atomic_load_n(&over_limit, __ATOMIC_RELAXED))
		evict();
	jobs_free(jobs, njobs);
	return rc;
}

/* Whether the literal starting at q (just after its quote) is a COPY's target: "TO '...'". */
static bool after_to(const char *sql, const char *q)
{
	const char *p = q - 1; /* the quote */
	while (p > sql && (p[-1] == ' ' || p[-1] == '\n' || p[-1] == '\t'))
		p--;
	return p - sql >= 3 && (p[-1] == 'o' || p[-1] == 'O') && (p[-2] == 't' || p[-2] == 'T') &&
	       (p[-3] == ' ' || p[-3] == '\n' || p[-3] == ')' || p[-3] == '\t');
}

int pl_s3lake_ensure_sql(const char *sql, pl_err *err)
{
	if (__atomic_load_n(&nstores_atomic, __ATOMIC_ACQUIRE) == 0 || !sql)
		return 0;
	pl_strv roots = PL_STRV_INIT, paths = PL_STRV_INIT;
	pthread_mutex_lock(&reg_lock);
	bool oom = false;
	for (size_t i = 0; i < nstores; i++)
		oom = oom || pl_strv_push(&roots, stores[i]->root) != 0;
	pthread_mutex_unlock(&reg_lock);
	for (size_t r = 0; !oom && r < roots.len; r++) {
		const char *root = roots.items[r];
		for (const char *p = strstr(sql, root); p && !oom; p = strstr(p + 1, root)) {
			/* a path starts the literal or follows the list separator 0x1f */
			bool starts = p > sql && (p[-1] == '\'' || p[-1] == '\x1f');
			if (!starts)
				continue;
			const char *lit = p;
			while (lit > sql && lit[-1] != '\'')
				lit--;
			if (lit > sql && after_to(sql, lit))
				continue;
			size_t len = strcspn(p, "'\x1f");
			char *path = pl_strndup(p, len);
			oom = !path || pl_strv_push_owned(&paths, path) != 0;
		}
	}
	int rc = oom ? pl_err_nomem(err) : pl_s3lake_ensure((const char *const *)paths.items, paths.len, err);
	pl_strv_dispose(&roots);
	pl_strv_dispose(&paths);
	return rc;
}

/* ---- writes ---- */

int pl_s3lake_upload(const pl_strv *written, pl_err *err)
{
	if (__atomic_load_n(&nstores_atomic, __ATOMIC_ACQUIRE) == 0 || !written)
		return 0;
	job *jobs = NULL;
	size_t njobs = 0, cap = 0;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < written->len; i++) {
		const char *path = written->items[i];
		store *s = find_store(path);
		int64_t size;
		char etag[128];
		if (!s || meta_read(path, &size, etag)) /* not an S3 lake's, or uploaded already */
			continue;
		rc = add_job(&jobs, &njobs, &cap, JOB_PUT, s, path, err);
	}
	if (rc == 0 && njobs > 0) {
		run_jobs(jobs, njobs, true);
		for (size_t i = 0; rc == 0 && i < njobs; i++)
			if (jobs[i].rc) {
				rc = jobs[i].rc;
				*err = jobs[i].err;
			}
		if (rc) { /* nothing of a failed upload stays */
			size_t k = 0;
			for (size_t i = 0; i < njobs; i++)
				if (jobs[i].done) {
					meta_remove(jobs[i].path);
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
			run_jobs(jobs, k, false);
			njobs = k;
		} else {
			for (size_t i = 0; i < njobs; i++) /* held until the commit is done */
				(void)pin_path(jobs[i].path, NULL);
		}
	}
	jobs_free(jobs, njobs);
	return rc;
}

void pl_s3lake_unlink(const char *path)
{
	store *s = find_store(path);
	if (s) {
		int64_t size;
		char etag[128];
		if (meta_read(path, &size, etag)) { /* uploaded: the object goes too */
			job j = {.kind = JOB_DELETE, .s = s, .path = pl_strdup(path), .key = key_of(s, path)};
			if (j.path && j.key)
				run_jobs(&j, 1, false);
			free(j.path);
			free(j.key);
			meta_remove(path);
		}
	}
	unlink(path);
}

/* ---- upkeep ---- */

int pl_s3lake_list(const char *dir, const char *const *suffixes, pl_s3lake_entry **out, size_t *n, pl_err *err)
{
	*out = NULL;
	*n = 0;
	store *s = find_store(dir);
	if (!s)
		return pl_err_set(err, PL_EINVALID, "'%s' is not in the mirror of an S3 data path", dir);
	pl_s3 *c = NULL;
	unsigned gen = 0;
	char *prefix = key_of(s, dir);
	pl_s3_listing l = {0};
	int rc = prefix ? client_get(s, &c, &gen, err) : pl_err_nomem(err);
	if (rc == 0)
		rc = pl_s3_list(c, s->bucket, prefix, &l, err);
	if (c)
		client_put(s, c, gen);
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
	int rc = client_get(s, &c, &gen, err);
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
		meta_remove(local.ptr);
		unlink(local.ptr);
	}
	if (c)
		client_put(s, c, gen);
	pl_s3_object_dispose(&info);
	pl_buf_dispose(&key);
	pl_buf_dispose(&local);
	return rc;
}
