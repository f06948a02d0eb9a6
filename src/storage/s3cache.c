/*
 * s3cache.c -- the read cache of S3 data paths: cache entries (.plmeta), pins (shared flocks held
 * until the thread's next statement), LRU eviction, and making the files a query reads local
 * (see s3lake.h).
 */
#include "storage/s3lake.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "storage/fs.h"
#include "storage/s3lake_internal.h"

/* ---- settings ---- */

char *pl_s3l_cache_dir(void)
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

/* ---- cache entries ---- */

static char *meta_path(const char *path)
{
	pl_buf b = PL_BUF_INIT;
	pl_buf_printf(&b, "%s%s", path, META_SUFFIX);
	return pl_buf_detach(&b);
}

/* Reads "<size> <etag>" of path's .plmeta; false when there is none. */
bool pl_s3l_meta_read(const char *path, int64_t *size, char etag[128])
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
int pl_s3l_meta_write(const char *path, int64_t size, const char *etag, pl_err *err)
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

void pl_s3l_meta_remove(const char *path)
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
	if (!pl_s3l_active())
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
bool pl_s3l_pin_path(const char *path, int64_t *size_out)
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
	char *dir = pl_s3l_cache_dir();
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
					pl_s3l_meta_remove(l.items[i].path);
					if (unlink(l.items[i].path) == 0) {
						l.total -= l.items[i].size;
						pl_s3l_count(&pl_s3l_stats.evictions, 1);
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
	if (!pl_s3l_active())
		return 0;
	job *jobs = NULL;
	size_t njobs = 0, cap = 0;
	int rc = 0;
	bool check_etag = validate_etag();
	for (size_t i = 0; rc == 0 && i < n; i++) {
		store *s = pl_s3l_find_store(paths[i]);
		if (!s || !readable_name(paths[i]))
			continue;
		int64_t msize = -1, size = -1;
		char etag[128];
		bool meta = pl_s3l_meta_read(paths[i], &msize, etag);
		if (!meta && pl_s3l_pin_path(paths[i], NULL))
			continue; /* this process's own write, not uploaded yet: complete (renamed into place) */
		if (meta && pl_s3l_pin_path(paths[i], &size)) {
			if (size == msize && !check_etag) {
				pl_s3l_count(&pl_s3l_stats.hits, 1);
				continue;
			}
			if (size == msize) { /* hit, if the object still has that ETag */
				size_t before = njobs;
				rc = pl_s3l_add_job(&jobs, &njobs, &cap, JOB_HEAD, s, paths[i], err);
				if (rc == 0 && njobs > before)
					snprintf(jobs[before].etag, sizeof(jobs[before].etag), "%s", etag);
				continue;
			}
			pl_s3l_meta_remove(paths[i]); /* wrong size: fetched again */
		}
		rc = pl_fs_mkdirs_parent(paths[i], err);
		if (rc == 0)
			rc = pl_s3l_add_job(&jobs, &njobs, &cap, JOB_GET, s, paths[i], err);
	}
	if (rc == 0 && njobs > 0) {
		pl_s3l_run_jobs(jobs, njobs, false);
		/* stale copies (ETag changed): fetched now */
		size_t nstale = 0;
		for (size_t i = 0; i < njobs; i++)
			if (jobs[i].kind == JOB_HEAD && jobs[i].rc == 0) {
				if (jobs[i].stale) {
					pl_s3l_meta_remove(jobs[i].path);
					jobs[i].kind = JOB_GET;
					nstale++;
				} else {
					pl_s3l_count(&pl_s3l_stats.hits, 1);
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
				pl_s3l_run_jobs(again, k, false);
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
				if (pl_s3l_pin_path(jobs[i].path, NULL))
					continue;
				/* evicted by another process between the download and the lock: once more */
				jobs[i].rc = 0;
				pl_s3l_run_jobs(&jobs[i], 1, false);
				if (jobs[i].rc) {
					rc = jobs[i].rc;
					*err = jobs[i].err;
				} else if (!pl_s3l_pin_path(jobs[i].path, NULL)) {
					rc = pl_err_set(err, PL_EIO, "S3 cache: '%s' was removed right after it was fetched "
							"(a cache too small for one query? raise PLANAR_S3_CACHE_SIZE)",
							jobs[i].path);
				}
			}
		}
		if (fetched)
			evict();
	}
	if (rc == 0 && njobs == 0 && n > 0 && __atomic_load_n(&over_limit, __ATOMIC_RELAXED))
		evict();
	pl_s3l_jobs_free(jobs, njobs);
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
	if (!pl_s3l_active() || !sql)
		return 0;
	pl_strv roots = PL_STRV_INIT, paths = PL_STRV_INIT;
	bool oom = pl_s3l_roots(&roots) != 0;
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

