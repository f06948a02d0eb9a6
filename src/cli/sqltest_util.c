/*
 * sqltest_util.c -- string helpers of the sqllogictest runner.
 *
 * Owns pl_sqltest_strv (a vector of owned strings), plus strdup and integer parsing that every
 * other sqltest part uses; the growable string they build text in is pl_cli_buf (strbuf.c).
 * Nothing here knows about tests.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/sqltest.h"
#include "planar/errors.h"

char *pl_sqltest_strndup(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *pl_sqltest_strdup(const char *s)
{
	return pl_sqltest_strndup(s, strlen(s));
}

int pl_sqltest_strv_push_owned(pl_sqltest_strv *sv, char *s)
{
	if (!s)
		return PLANAR_ENOMEM;
	if (sv->n == sv->cap) {
		size_t cap = sv->cap ? sv->cap * 2 : 8;
		char **v = realloc(sv->v, cap * sizeof *v);
		if (!v) {
			free(s);
			return PLANAR_ENOMEM;
		}
		sv->v = v;
		sv->cap = cap;
	}
	sv->v[sv->n++] = s;
	return 0;
}

int pl_sqltest_strv_pushn(pl_sqltest_strv *sv, const char *s, size_t n)
{
	return pl_sqltest_strv_push_owned(sv, pl_sqltest_strndup(s, n));
}

int pl_sqltest_strv_push(pl_sqltest_strv *sv, const char *s)
{
	return pl_sqltest_strv_pushn(sv, s, strlen(s));
}

void pl_sqltest_strv_pop(pl_sqltest_strv *sv, size_t count)
{
	while (count-- > 0 && sv->n > 0)
		free(sv->v[--sv->n]);
}

int pl_sqltest_strv_split(pl_sqltest_strv *out, const char *s, char sep)
{
	for (;;) {
		const char *end = strchr(s, sep);
		size_t n = end ? (size_t)(end - s) : strlen(s);
		if (pl_sqltest_strv_pushn(out, s, n) != 0)
			return PLANAR_ENOMEM;
		if (!end)
			return 0;
		s = end + 1;
	}
}

void pl_sqltest_strv_free(pl_sqltest_strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

bool pl_sqltest_starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool pl_sqltest_parse_long(const char *s, long long *out)
{
	char *end;
	while (isspace((unsigned char)*s))
		s++;
	if (!*s)
		return false;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || end == s)
		return false;
	while (isspace((unsigned char)*end))
		end++;
	if (*end)
		return false;
	*out = v;
	return true;
}
