/*
 * sweep.c -- POSIX implementation of sweep.h.
 */
#include "storage/sweep.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/str.h"
#include "storage/s3lake.h"

#define MAX_DEPTH 256

typedef struct dir_slot {
	char *key, *val;
} dir_slot;

struct pl_sweep_dirs {
	dir_slot *slots;
	size_t cap, n;
};

int pl_sweep_dirs_new(pl_sweep_dirs **out, pl_err *err)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : pl_err_nomem(err);
}

void pl_sweep_dirs_free(pl_sweep_dirs *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->cap; i++) {
		free(d->slots[i].key);
		free(d->slots[i].val);
	}
	free(d->slots);
	free(d);
}

static const char *dirs_get(const pl_sweep_dirs *d, const char *key)
{
	if (!d->cap)
		return NULL;
	for (size_t i = pl_str_hash(key) & (d->cap - 1);; i = (i + 1) & (d->cap - 1)) {
		if (!d->slots[i].key)
			return NULL;
		if (strcmp(d->slots[i].key, key) == 0)
			return d->slots[i].val;
	}
}

static void slot_insert(dir_slot *slots, size_t cap, char *key, char *val)
{
	size_t i = pl_str_hash(key) & (cap - 1);
	while (slots[i].key)
		i = (i + 1) & (cap - 1);
	slots[i].key = key;
	slots[i].val = val;
}

/* Takes ownership of key and val (freed on failure); returns the stored value or NULL. */
static const char *dirs_put(pl_sweep_dirs *d, char *key, char *val)
{
	if (!key || !val)
		goto fail;
	if ((d->n + 1) * 2 > d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		dir_slot *slots = calloc(cap, sizeof(*slots));
		if (!slots)
			goto fail;
		for (size_t i = 0; i < d->cap; i++)
			if (d->slots[i].key)
				slot_insert(slots, cap, d->slots[i].key, d->slots[i].val);
		free(d->slots);
		d->slots = slots;
		d->cap = cap;
	}
	slot_insert(d->slots, d->cap, key, val);
	d->n++;
	return val;
fail:
	free(key);
	free(val);
	return NULL;
}

/* "a/b/" -> "a/b"; "/" stays. */
static char *strip_slashes(const char *dir)
{
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	return pl_strndup(dir, n);
}

/* parent + "/" + name, without doubling the slash after "/". */
static char *join(const char *parent, const char *name)
{
	pl_buf b = PL_BUF_INIT;
	pl_buf_puts(&b, parent);
	if (!pl_str_has_suffix(parent, "/"))
		pl_buf_putc(&b, '/');
	pl_buf_puts(&b, name);
	return pl_buf_detach(&b);
}

/* The canonical form of a directory (no trailing '/'), owned by the cache. */
static const char *canonical_dir(pl_sweep_dirs *d, const char *dir_in, int depth)
{
	char *dir = strip_slashes(*dir_in ? dir_in : ".");
	if (!dir)
		return NULL;
	const char *hit = dirs_get(d, dir);
	if (hit) {
		free(dir);
		return hit;
	}
	char *real = realpath(dir, NULL);
	if (!real && depth < MAX_DEPTH) {
		/* does not exist (or cannot be resolved): the parent's canonical form, then the name */
		const char *slash = strrchr(dir, '/');
		char *parent = !slash ? pl_strdup(".") : slash == dir ? pl_strdup("/") : pl_strndup(dir, (size_t)(slash - dir));
		const char *name = slash ? slash + 1 : dir;
		const char *p = parent ? canonical_dir(d, parent, depth + 1) : NULL;
		free(parent);
		if (!p) {
			free(dir);
			return NULL;
		}
		if (strcmp(name, ".") == 0 || !*name) {
			real = pl_strdup(p);
		} else if (strcmp(name, "..") == 0) {
			const char *last = strrchr(p, '/');
			real = !last || last == p ? pl_strdup("/") : pl_strndup(p, (size_t)(last - p));
		} else {
			real = join(p, name);
		}
	}
	return dirs_put(d, dir, real);
}

char *pl_sweep_canonical(pl_sweep_dirs *d, const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = !slash ? pl_strdup(".") : slash == path ? pl_strdup("/") : pl_strndup(path, (size_t)(slash - path));
	const char *cdir = dir ? canonical_dir(d, dir, 0) : NULL;
	free(dir);
	return cdir ? join(cdir, slash ? slash + 1 : path) : NULL;
}

int pl_sweep_root(const char *dir, char **out, pl_err *err)
{
	*out = realpath(dir, NULL);
	if (!*out)
		return errno == ENOMEM ? pl_err_nomem(err)
				       : pl_err_set(err, PL_EIO, "cannot resolve the data path '%s': %s", dir, strerror(errno));
	return 0;
}

bool pl_sweep_is_below(const char *real_root, const char *canonical)
{
	size_t n = strlen(real_root);
	if (n == 1 && real_root[0] == '/')
		return canonical[0] == '/' && canonical[1] != '\0';
	return strncmp(canonical, real_root, n) == 0 && canonical[n] == '/' && canonical[n + 1] != '\0';
}

/* ---- walking ---- */

static bool has_suffix_in(const char *name, const char *const *suffixes)
{
	for (const char *const *s = suffixes; *s; s++)
		if (pl_str_has_suffix(name, *s) && strlen(name) > strlen(*s))
			return true;
	return false;
}

static int list_push(pl_sweep_list *l, char *path, int64_t mtime_us)
{
	if (!path)
		return PL_ENOMEM;
	if (l->len == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		pl_sweep_entry *items = realloc(l->items, cap * sizeof(*items));
		if (!items) {
			free(path);
			return PL_ENOMEM;
		}
		l->items = items;
		l->cap = cap;
	}
	l->items[l->len++] = (pl_sweep_entry){path, mtime_us};
	return 0;
}

/* fd: an open directory (taken over: closed here); prefix: its path, ending in '/'. */
static int walk_fd(int fd, const char *prefix, const char *const *suffixes, pl_sweep_list *out, int depth,
		   pl_err *err)
{
	DIR *dp = fdopendir(fd);
	if (!dp) {
		close(fd);
		return 0; /* unreadable: nothing listed below it */
	}
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (e = readdir(dp)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		struct stat st;
		if (fstatat(dirfd(dp), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (S_ISDIR(st.st_mode) && depth < MAX_DEPTH) {
			int sub = openat(dirfd(dp), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				continue;
			pl_buf p = PL_BUF_INIT;
			pl_buf_printf(&p, "%s%s/", prefix, e->d_name);
			if (pl_buf_oom(&p)) {
				close(sub);
				rc = pl_err_nomem(err);
			} else {
				rc = walk_fd(sub, p.ptr, suffixes, out, depth + 1, err);
			}
			pl_buf_dispose(&p);
		} else if (S_ISREG(st.st_mode) && has_suffix_in(e->d_name, suffixes)) {
			int64_t mtime = (int64_t)st.st_mtim.tv_sec * 1000000 + st.st_mtim.tv_nsec / 1000;
			pl_buf p = PL_BUF_INIT;
			pl_buf_printf(&p, "%s%s", prefix, e->d_name);
			if (pl_buf_oom(&p) || list_push(out, pl_buf_detach(&p), mtime) != 0)
				rc = pl_err_nomem(err);
			pl_buf_dispose(&p);
		}
	}
	closedir(dp);
	return rc;
}

/* The data path of an S3 lake: its objects, listed. */
static int walk_s3(const char *dir, const char *const *suffixes, pl_sweep_list *out, pl_err *err)
{
	pl_s3lake_entry *items = NULL;
	size_t n = 0;
	int rc = pl_s3lake_list(dir, suffixes, &items, &n, err);
	for (size_t i = 0; i < n; i++) {
		if (rc == 0 && out->len == out->cap) {
			size_t cap = out->cap ? out->cap * 2 : 64;
			pl_sweep_entry *grown = realloc(out->items, cap * sizeof(*grown));
			if (!grown)
				rc = pl_err_nomem(err);
			else
				out->items = grown, out->cap = cap;
		}
		if (rc == 0)
			out->items[out->len++] = (pl_sweep_entry){items[i].path, items[i].mtime_us};
		else
			free(items[i].path);
	}
	free(items);
	return rc;
}

int pl_sweep_walk(const char *dir, const char *const *suffixes, pl_sweep_list *out, pl_err *err)
{
	if (pl_s3lake_owns(dir))
		return walk_s3(dir, suffixes, out, err);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return pl_err_set(err, PL_EIO, "cannot list the data path '%s': %s", dir, strerror(errno));
	}
	return walk_fd(fd, dir, suffixes, out, 0, err);
}

void pl_sweep_list_dispose(pl_sweep_list *l)
{
	for (size_t i = 0; i < l->len; i++)
		free(l->items[i].path);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

/* ---- removing ---- */

/* Opens the directory holding canonical path c (below real_root) one component at a time,
 * never following a link; *name_out points at the last component of c. Returns the directory
 * fd, or -1 with *outcome set. */
static int open_parent(const char *real_root, const char *c, const char **name_out, pl_sweep_outcome *outcome)
{
	*outcome = PL_SWEEP_REFUSED;
	const char *name = strrchr(c, '/') + 1;
	*name_out = name;
	if (!pl_sweep_is_below(real_root, c) || !*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -1;
	int fd = open(real_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			*outcome = PL_SWEEP_MISSING;
		return -1;
	}
	const char *p = c + strlen(real_root);
	while (*p == '/')
		p++;
	while (p < name) {
		const char *end = strchr(p, '/');
		char comp[NAME_MAX + 1];
		size_t len = (size_t)(end - p);
		if (len == 0) {
			p = end + 1;
			continue;
		}
		if (len > NAME_MAX || (len == 2 && p[0] == '.' && p[1] == '.') || (len == 1 && p[0] == '.')) {
			close(fd);
			return -1;
		}
		memcpy(comp, p, len);
		comp[len] = '\0';
		int sub = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int saved = errno;
		close(fd);
		if (sub < 0) {
			if (saved == ENOENT)
				*outcome = PL_SWEEP_MISSING;
			return -1;
		}
		fd = sub;
		p = end + 1;
	}
	return fd;
}

static int remove_file(pl_sweep_dirs *d, const char *real_root, const char *path, bool really, pl_sweep_outcome *out,
		       pl_err *err)
{
	*out = PL_SWEEP_REFUSED;
	char *c = pl_sweep_canonical(d, path);
	if (!c)
		return pl_err_nomem(err);
	if (pl_s3lake_is_root(real_root)) { /* an S3 lake's object (and its cached copy) */
		bool exists = false;
		const char *base = strrchr(c, '/');
		int src = 0;
		if (pl_sweep_is_below(real_root, c) && base && strcmp(base, "/.") != 0 && strcmp(base, "/..") != 0 &&
		    (src = pl_s3lake_remove(real_root, c, really, &exists, err)) == 0)
			*out = exists ? PL_SWEEP_REMOVED : PL_SWEEP_MISSING;
		free(c);
		return src;
	}
	const char *name = NULL;
	int fd = open_parent(real_root, c, &name, out);
	int rc = 0;
	if (fd >= 0) {
		struct stat st;
		if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			*out = errno == ENOENT ? PL_SWEEP_MISSING : PL_SWEEP_REFUSED;
		else if (!S_ISREG(st.st_mode))
			*out = PL_SWEEP_REFUSED;
		else if (!really || unlinkat(fd, name, 0) == 0)
			*out = PL_SWEEP_REMOVED;
		else if (errno == ENOENT)
			*out = PL_SWEEP_MISSING;
		else
			rc = pl_err_set(err, PL_EIO, "cannot remove '%s': %s", path, strerror(errno));
		close(fd);
	}
	free(c);
	return rc;
}

int pl_sweep_remove(pl_sweep_dirs *d, const char *real_root, const char *path, pl_sweep_outcome *out, pl_err *err)
{
	return remove_file(d, real_root, path, true, out, err);
}

int pl_sweep_check(pl_sweep_dirs *d, const char *real_root, const char *path, pl_sweep_outcome *out, pl_err *err)
{
	return remove_file(d, real_root, path, false, out, err);
}

void pl_sweep_remove_empty_dir(pl_sweep_dirs *d, const char *real_root, const char *dir)
{
	char *stripped = strip_slashes(dir);
	char *c = stripped ? pl_sweep_canonical(d, stripped) : NULL;
	const char *name = NULL;
	pl_sweep_outcome ignored;
	int fd = c ? open_parent(real_root, c, &name, &ignored) : -1;
	if (fd >= 0) {
		(void)unlinkat(fd, name, AT_REMOVEDIR);
		close(fd);
	}
	free(c);
	free(stripped);
}
