/*
 * buf.c -- growable string buffer with latched out-of-memory (see buf.h).
 */
#include "core/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool reserve(pl_buf *b, size_t extra)
{
	if (b->oom)
		return false;
	if (b->len + extra + 1 <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + extra + 1) {
		if (cap > ((size_t)-1) / 2) {
			b->oom = true;
			return false;
		}
		cap *= 2;
	}
	char *p = realloc(b->ptr, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->ptr = p;
	b->cap = cap;
	p[b->len] = '\0';
	return true;
}

bool pl_buf_reserve(pl_buf *b, size_t n)
{
	return reserve(b, n);
}

void pl_buf_put(pl_buf *b, const char *s, size_t n)
{
	if (!reserve(b, n))
		return;
	memcpy(b->ptr + b->len, s, n);
	b->len += n;
	b->ptr[b->len] = '\0';
}

void pl_buf_puts(pl_buf *b, const char *s)
{
	pl_buf_put(b, s, strlen(s));
}

void pl_buf_putc(pl_buf *b, char c)
{
	pl_buf_put(b, &c, 1);
}

void pl_buf_printf(pl_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static void put_quoted(pl_buf *b, const char *s, char q)
{
	pl_buf_putc(b, q);
	for (const char *p = s; *p; p++) {
		if (*p == q)
			pl_buf_putc(b, q);
		pl_buf_putc(b, *p);
	}
	pl_buf_putc(b, q);
}

void pl_buf_put_literal(pl_buf *b, const char *s)
{
	if (!s)
		pl_buf_puts(b, "NULL");
	else
		put_quoted(b, s, '\'');
}

void pl_buf_put_ident(pl_buf *b, const char *s)
{
	put_quoted(b, s, '"');
}

void pl_buf_truncate(pl_buf *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		b->ptr[len] = '\0';
	}
}

void pl_buf_insert_before_last(pl_buf *b, const char *s)
{
	if (b->oom || b->len == 0)
		return;
	char last = b->ptr[b->len - 1];
	b->len--;
	pl_buf_puts(b, s);
	pl_buf_putc(b, last);
}

bool pl_buf_oom(const pl_buf *b)
{
	return b->oom;
}

const char *pl_buf_cstr(pl_buf *b)
{
	if (!b->ptr && !reserve(b, 0))
		return NULL;
	return b->ptr;
}

char *pl_buf_detach(pl_buf *b)
{
	if (!b->ptr && !reserve(b, 0))
		return NULL;
	char *p = b->oom ? NULL : b->ptr;
	if (b->oom)
		free(b->ptr);
	b->ptr = NULL;
	b->len = b->cap = 0;
	b->oom = false;
	return p;
}

void pl_buf_dispose(pl_buf *b)
{
	free(b->ptr);
	b->ptr = NULL;
	b->len = b->cap = 0;
	b->oom = false;
}
