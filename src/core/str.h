/*
 * str.h -- small string helpers: duplication, case-insensitive comparison, string vectors.
 */
#ifndef PL_CORE_STR_H
#define PL_CORE_STR_H

#include <stdbool.h>
#include <stddef.h>

char *pl_strdup(const char *s);
char *pl_strndup(const char *s, size_t n);
bool pl_str_ieq(const char *a, const char *b);
bool pl_str_has_prefix_i(const char *s, const char *prefix);
bool pl_str_has_suffix(const char *s, const char *suffix);
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
