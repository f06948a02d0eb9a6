/*
 * fs.h -- local file-system operations for the data path: creating directories, making written
 * files durable (fsync of file and directory), and removing files of failed writes.
 */
#ifndef PL_STORAGE_FS_H
#define PL_STORAGE_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* mkdir -p; a path ending in '/' is a directory. */
int pl_fs_mkdirs(const char *dir, pl_err *err);
/* Creates the directories above a file path. */
int pl_fs_mkdirs_parent(const char *file, pl_err *err);
/* fsyncs a file and then its directory, so a crash after commit cannot lose it. */
int pl_fs_sync_file(const char *path, pl_err *err);
/* fsyncs the files paths[0..n), then each of their directories and the directories
 * dirs[0..ndirs) (a trailing '/' or not), each directory once: what pl_fs_sync_file does for one
 * file, with one fsync per directory instead of one per file. */
int pl_fs_sync_files(char *const *paths, size_t n, char *const *dirs, size_t ndirs, pl_err *err);
/* Removes a file; a missing file is not an error. */
int pl_fs_remove(const char *path, pl_err *err);
/* Renames a file (same file system). */
int pl_fs_rename(const char *from, const char *to, pl_err *err);
/* Removes a directory and everything in it (symbolic links are removed, not followed); errors
 * are ignored. */
void pl_fs_remove_dir(const char *dir);
/* Fails with PL_EIO naming the directory when it cannot be written. */
int pl_fs_check_writable_dir(const char *dir, pl_err *err);

/* SHA-256 of a file's content as 64 lowercase hex digits, and its size. */
int pl_fs_sha256_file(const char *path, char hex[65], int64_t *size, pl_err *err);
/* Copies a file: written to a temporary file beside `to`, fsync'd and renamed over it; with
 * exclusive, fails with PL_EEXISTS when `to` exists. hex (may be NULL) gets the SHA-256 of
 * what was copied. */
int pl_fs_copy_file(const char *from, const char *to, bool exclusive, char hex[65], pl_err *err);

#endif
