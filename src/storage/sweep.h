/*
 * sweep.h -- finding and removing files below a lake's data path without ever touching anything
 * outside it: canonical paths (the real directory as the kernel resolves it, plus the file name),
 * a walk of the data path that never follows symbolic links, and removal that re-checks every
 * path and opens each directory on the way with O_NOFOLLOW, so a path read from a catalog (or a
 * directory swapped for a link meanwhile) cannot make a removal escape the data path.
 */
#ifndef PL_STORAGE_SWEEP_H
#define PL_STORAGE_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* Resolved directories, so that canonicalizing many files of few directories costs one
 * realpath() per directory. */
typedef struct pl_sweep_dirs pl_sweep_dirs;

int pl_sweep_dirs_new(pl_sweep_dirs **out, pl_err *err);
void pl_sweep_dirs_free(pl_sweep_dirs *d);

/* The canonical form of path: the real path of its directory joined with its name; for a
 * directory that does not exist, the real path of its nearest existing ancestor followed by the
 * rest with "." and ".." applied. NULL when out of memory. */
char *pl_sweep_canonical(pl_sweep_dirs *d, const char *path);

/* The real path of an existing directory (the data path), without a trailing '/'. */
int pl_sweep_root(const char *dir, char **out, pl_err *err);
/* Whether a canonical path lies strictly below the real root directory. */
bool pl_sweep_is_below(const char *real_root, const char *canonical);

typedef struct pl_sweep_entry {
	char *path;       /* dir + the path below it */
	int64_t mtime_us; /* last modification, microseconds since the epoch */
} pl_sweep_entry;

typedef struct pl_sweep_list {
	pl_sweep_entry *items;
	size_t len, cap;
} pl_sweep_list;

/* Appends the regular files below dir (which ends in '/') whose names end in one of the
 * suffixes (NULL-terminated), recursively; symbolic links (to files or directories) are
 * neither listed nor followed. A missing dir lists nothing. */
int pl_sweep_walk(const char *dir, const char *const *suffixes, pl_sweep_list *out, pl_err *err);
void pl_sweep_list_dispose(pl_sweep_list *l);

typedef enum pl_sweep_outcome {
	PL_SWEEP_REMOVED, /* the file was removed */
	PL_SWEEP_MISSING, /* there was no such file */
	PL_SWEEP_REFUSED, /* not removed: outside the root, not a regular file, or a link on the way */
} pl_sweep_outcome;

/* Removes the regular file at path when its canonical form lies below real_root (from
 * pl_sweep_root). Anything else is left alone and reported as PL_SWEEP_REFUSED; an error is
 * returned only when a file that may be removed could not be. */
int pl_sweep_remove(pl_sweep_dirs *d, const char *real_root, const char *path, pl_sweep_outcome *out, pl_err *err);
/* What pl_sweep_remove would do, without removing anything (PL_SWEEP_REMOVED: it would). */
int pl_sweep_check(pl_sweep_dirs *d, const char *real_root, const char *path, pl_sweep_outcome *out, pl_err *err);
/* Removes the directory dir when it is empty and lies below real_root; anything else (not
 * empty, missing, outside) is left as it is. */
void pl_sweep_remove_empty_dir(pl_sweep_dirs *d, const char *real_root, const char *dir);

#endif
