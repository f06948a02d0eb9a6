/*
 * str.c -- string helpers (see str.h).
 */
#include "core/str.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

char *pl_strdup(const char *s)
{
	return s ? pl_strndup(s, strlen(s)) : NULL;
}

char *pl_strndup(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

bool pl_str_ieq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return false;
	return *a == *b;
}

bool pl_str_has_prefix_i(const char *s, const char *prefix)
{
	for (; *prefix; s++, prefix++)
		if (tolower((unsigned char)*s) != tolower((unsigned char)*prefix))
			return false;
	return true;
}

bool pl_str_has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

void pl_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

int pl_strv_push_owned(pl_strv *v, char *s)
{
	if (!s)
		return PL_ENOMEM;
	if (v->len + 2 > v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 8;
		char **p = realloc(v->items, cap * sizeof(*p));
		if (!p) {
			free(s);
			return PL_ENOMEM;
		}
		v->items = p;
		v->cap = cap;
	}
	v->items[v->len++] = s;
	v->items[v->len] = NULL;
	return 0;
}

int pl_strv_push(pl_strv *v, const char *s)
{
	return pl_strv_push_owned(v, pl_strdup(s));
}

void pl_strv_dispose(pl_strv *v)
{
	for (size_t i = 0; i < v->len; i++)
		free(v->items[i]);
	free(v->items);
	v->items = NULL;
	v->len = v->cap = 0;
}
