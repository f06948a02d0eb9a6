/*
 * sqltest_util.c -- string helpers of the sqllogictest runner.
 *
 * Owns pl_sqltest_buf (a growable string whose allocation failure is latched, so a run of
 * appends is checked once) and pl_sqltest_strv (a vector of owned strings), plus strdup and
 * integer parsing that every other sqltest part uses. Nothing here knows about tests.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/sqltest.h"
#include "planar/errors.h"

static bool buf_reserve(pl_sqltest_buf *b, size_t extra)
{
	if (b->oom)
		return false;
	if (b->len + extra + 1 <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + extra + 1)
		cap *= 2;
	char *p = realloc(b->ptr, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->ptr = p;
	b->cap = cap;
	return true;
}

void pl_sqltest_buf_put(pl_sqltest_buf *b, const char *s, size_t n)
{
	if (!buf_reserve(b, n))
		return;
	if (n)
		memcpy(b->ptr + b->len, s, n);
	b->len += n;
	b->ptr[b->len] = '\0';
}

void pl_sqltest_buf_puts(pl_sqltest_buf *b, const char *s)
{
	pl_sqltest_buf_put(b, s, strlen(s));
}

void pl_sqltest_buf_putc(pl_sqltest_buf *b, char c)
{
	pl_sqltest_buf_put(b, &c, 1);
}

void pl_sqltest_buf_printf(pl_sqltest_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !buf_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void pl_sqltest_buf_put_escaped(pl_sqltest_buf *b, const char *s, size_t max)
{
	size_t i = 0;
	for (; s[i] && i < max; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\n')
			pl_sqltest_buf_puts(b, "\\n");
		else if (c == '\t')
			pl_sqltest_buf_puts(b, "\\t");
		else if (c == '\r')
			pl_sqltest_buf_puts(b, "\\r");
		else if (c < 0x20)
			pl_sqltest_buf_printf(b, "\\x%02x", c);
		else
			pl_sqltest_buf_putc(b, (char)c);
	}
	if (s[i])
		pl_sqltest_buf_puts(b, "...");
}

char *pl_sqltest_buf_detach(pl_sqltest_buf *b)
{
	char *p = NULL;
	if (!b->oom)
		p = b->ptr ? b->ptr : pl_sqltest_strdup("");
	else
		free(b->ptr);
	b->ptr = NULL;
	b->len = b->cap = 0;
	b->oom = false;
	return p;
}

void pl_sqltest_buf_dispose(pl_sqltest_buf *b)
{
	free(b->ptr);
	b->ptr = NULL;
	b->len = b->cap = 0;
	b->oom = false;
}

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
