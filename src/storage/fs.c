/*
 * fs.c -- POSIX implementation of fs.h.
 */
#include "storage/fs.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/str.h"

int pl_fs_mkdirs(const char *dir, pl_err *err)
{
	struct stat sb;
	if (stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode)) /* there already: one call, not one per level */
		return 0;
	char *p = pl_strdup(dir);
	if (!p)
		return pl_err_nomem(err);
	size_t n = strlen(p);
	for (size_t i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		char c = p[i];
		p[i] = '\0';
		if (mkdir(p, 0777) != 0 && errno != EEXIST) {
			int rc = pl_err_set(err, PL_EIO, "cannot create directory '%s': %s", p, strerror(errno));
			free(p);
			return rc;
		}
		p[i] = c;
	}
	free(p);
	return 0;
}

int pl_fs_mkdirs_parent(const char *file, pl_err *err)
{
	const char *slash = strrchr(file, '/');
	if (!slash || slash == file)
		return 0;
	char *dir = pl_strndup(file, (size_t)(slash - file));
	if (!dir)
		return pl_err_nomem(err);
	int rc = pl_fs_mkdirs(dir, err);
	free(dir);
	return rc;
}

static int sync_path(const char *path, int flags, pl_err *err)
{
	int fd = open(path, flags);
	if (fd < 0)
		return pl_err_set(err, PL_EIO, "cannot open '%s': %s", path, strerror(errno));
	int rc = 0;
	if (fsync(fd) != 0 && errno != EINVAL)
		rc = pl_err_set(err, PL_EIO, "cannot sync '%s': %s", path, strerror(errno));
	close(fd);
	return rc;
}

/* The directory of a file path ("." for a bare name); NULL when out of memory. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? pl_strndup(path, slash == path ? 1 : (size_t)(slash - path)) : pl_strdup(".");
}

int pl_fs_sync_file(const char *path, pl_err *err)
{
	return pl_fs_sync_files((char *const *)&path, 1, NULL, 0, err);
}

/* Syncs directory dir (owned, freed here) unless it is in synced already, then lists it there. */
static int sync_dir_once(pl_strv *synced, char *dir, pl_err *err)
{
	if (!dir)
		return pl_err_nomem(err);
	for (size_t k = 0; k < synced->len; k++)
		if (strcmp(synced->items[k], dir) == 0) {
			free(dir);
			return 0;
		}
	int rc = sync_path(dir, O_RDONLY | O_DIRECTORY, err);
	if (rc) {
		free(dir);
		return rc;
	}
	return pl_strv_push_owned(synced, dir) ? pl_err_nomem(err) : 0;
}

/* Syncing many files: a file's fsync mostly waits for the device, so several threads keep
 * several in flight at once (2,000 small files: 0.6 s one by one, 0.2 s with eight threads on
 * one virtual disk). */
#define SYNC_THREADS 8
#define SYNC_FILES_PER_THREAD 16

typedef struct sync_share {
	char *const *paths;
	size_t n, stride, first;
	int *failed; /* set by any worker once one fails: the others stop */
	int rc;
	pl_err err;
} sync_share;

static void *sync_worker(void *arg)
{
	sync_share *s = arg;
	for (size_t i = s->first; s->rc == 0 && i < s->n; i += s->stride) {
		if (__atomic_load_n(s->failed, __ATOMIC_RELAXED))
			break;
		s->rc = sync_path(s->paths[i], O_RDONLY, &s->err);
		if (s->rc)
			__atomic_store_n(s->failed, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static int sync_data(char *const *paths, size_t n, pl_err *err)
{
	size_t nt = n / SYNC_FILES_PER_THREAD;
	nt = nt < 1 ? 1 : nt > SYNC_THREADS ? SYNC_THREADS : nt;
	sync_share share[SYNC_THREADS];
	pthread_t th[SYNC_THREADS];
	bool started[SYNC_THREADS] = {false};
	int failed = 0;
	for (size_t k = 0; k < nt; k++)
		share[k] = (sync_share){paths, n, nt, k, &failed, 0, {0}};
	for (size_t k = 1; k < nt; k++)
		started[k] = pthread_create(&th[k], NULL, sync_worker, &share[k]) == 0;
	for (size_t k = 0; k < nt; k++) /* this thread's share, and those of threads that did not start */
		if (!started[k])
			sync_worker(&share[k]);
	int rc = 0;
	for (size_t k = 0; k < nt; k++) {
		if (started[k])
			pthread_join(th[k], NULL);
		if (rc == 0 && share[k].rc) {
			rc = share[k].rc;
			*err = share[k].err;
		}
	}
	return rc;
}

int pl_fs_sync_files(char *const *paths, size_t n, char *const *dirs, size_t ndirs, pl_err *err)
{
	int rc = sync_data(paths, n, err);
	pl_strv synced = PL_STRV_INIT; /* the directories, each synced once */
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = sync_dir_once(&synced, dir_of(paths[i]), err);
	for (size_t i = 0; rc == 0 && i < ndirs; i++) {
		size_t len = strlen(dirs[i]);
		rc = sync_dir_once(&synced, pl_strndup(dirs[i], len > 1 && dirs[i][len - 1] == '/' ? len - 1 : len), err);
	}
	pl_strv_dispose(&synced);
	return rc;
}

int pl_fs_remove(const char *path, pl_err *err)
{
	if (unlink(path) != 0 && errno != ENOENT)
		return pl_err_set(err, PL_EIO, "cannot remove '%s': %s", path, strerror(errno));
	return 0;
}

int pl_fs_check_writable_dir(const char *dir, pl_err *err)
{
	if (access(dir, W_OK | X_OK) != 0)
		return pl_err_set(err, PL_EIO, "data path '%s' is not writable: %s", dir, strerror(errno));
	return 0;
}

int pl_fs_rename(const char *from, const char *to, pl_err *err)
{
	if (rename(from, to) != 0)
		return pl_err_set(err, PL_EIO, "cannot move '%s' to '%s': %s", from, to, strerror(errno));
	return 0;
}

static void remove_tree(const char *dir, int depth)
{
	DIR *d = depth < 64 ? opendir(dir) : NULL;
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			char *p = NULL;
			struct stat st;
			if (asprintf(&p, "%s/%s", dir, e->d_name) < 0)
				continue;
			if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) /* links are removed, never followed */
				remove_tree(p, depth + 1);
			else
				unlink(p);
			free(p);
		}
		closedir(d);
	}
	rmdir(dir);
}

void pl_fs_remove_dir(const char *dir)
{
	remove_tree(dir, 0);
}
