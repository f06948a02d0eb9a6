/*
 * str.h -- small string helpers: duplication, case-insensitive comparison, string vectors.
 */
#ifndef PL_CORE_STR_H
#define PL_CORE_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

char *pl_strdup(const char *s);
char *pl_strndup(const char *s, size_t n);
bool pl_str_ieq(const char *a, const char *b);
bool pl_str_has_prefix_i(const char *s, const char *prefix);
bool pl_str_has_suffix(const char *s, const char *suffix);
/* 64-bit FNV-1a: pl_fnv1a continues hash h (start from PL_FNV1A_SEED) over n bytes;
 * pl_str_hash is the hash of a NUL-terminated string. For hash tables and change checks, not
 * for anything an attacker must not collide. */
#define PL_FNV1A_SEED 1469598103934665603ULL
uint64_t pl_fnv1a(uint64_t h, const void *p, size_t n);
uint64_t pl_str_hash(const char *s);
/* Longest name of a lake object, in bytes, and longest path component it may become (the file
 * systems' NAME_MAX). */
#define PL_NAME_MAX 255

/* Whether name can name a lake object of the given kind ("schema", "table", "view", "column"):
 * not empty, at most PL_NAME_MAX bytes, no control characters, not starting with the prefix
 * reserved for Planar's own objects ("__planar_"), and for schemas and tables short enough to be
 * a directory name once escaped (pl_buf_put_path_name). PL_EINVALID with a message otherwise. */
int pl_name_check(const char *kind, const char *name, pl_err *err);
/* Whether name starts with the prefix of Planar's internal object names (any case). */
bool pl_name_is_reserved(const char *name);
/* Appends name as one path component: letters, digits, '_' and '-' as they are, every other
 * byte as %XX, so no name can climb out of its parent directory or hold glob characters. */
void pl_buf_put_path_name(pl_buf *b, const char *name);

/* A positive size in bytes written as DuckDB writes them: "512MB", "10 KiB", "1000" (KB = 1000
 * bytes, KiB = 1024). False when s is not one. */
bool pl_parse_byte_size(const char *s, int64_t *out);

/* Frees a NULL-terminated array of strings and the array. */
void pl_strv_free(char **v);

/* A growable array of owned strings. */
typedef struct pl_strv {
	char **items;
	size_t len, cap;
} pl_strv;
#define PL_STRV_INIT {NULL, 0, 0}
/* Takes ownership of s (also on failure). Returns 0 or PL_ENOMEM. */
int pl_strv_push_owned(pl_strv *v, char *s);
int pl_strv_push(pl_strv *v, const char *s);
void pl_strv_dispose(pl_strv *v);

#endif
