/*
 * strbuf.c -- pl_cli_buf, the growable string of the `planar` command (see strbuf.h).
 *
 * Owns growing the buffer (doubling, with overflow and allocation failure latched in `oom`),
 * appending plain, formatted, escaped and SQL-quoted text, and handing the string over.
 */
#include "cli/strbuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool buf_reserve(pl_cli_buf *b, size_t extra)
{
	if (b->oom)
		return false;
	if (b->len + extra + 1 <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + extra + 1) {
		if (cap > SIZE_MAX / 2) {
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
	return true;
}

void pl_cli_buf_put(pl_cli_buf *b, const char *s, size_t n)
{
	if (!buf_reserve(b, n))
		return;
	if (n)
		memcpy(b->ptr + b->len, s, n);
	b->len += n;
	b->ptr[b->len] = '\0';
}

void pl_cli_buf_puts(pl_cli_buf *b, const char *s)
{
	pl_cli_buf_put(b, s, strlen(s));
}

void pl_cli_buf_putc(pl_cli_buf *b, char c)
{
	pl_cli_buf_put(b, &c, 1);
}

void pl_cli_buf_printf(pl_cli_buf *b, const char *fmt, ...)
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

void pl_cli_buf_put_escaped(pl_cli_buf *b, const char *s, size_t max)
{
	size_t i = 0;
	for (; s[i] && i < max; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\n')
			pl_cli_buf_puts(b, "\\n");
		else if (c == '\t')
			pl_cli_buf_puts(b, "\\t");
		else if (c == '\r')
			pl_cli_buf_puts(b, "\\r");
		else if (c < 0x20)
			pl_cli_buf_printf(b, "\\x%02x", c);
		else
			pl_cli_buf_putc(b, (char)c);
	}
	if (s[i])
		pl_cli_buf_puts(b, "...");
}

void pl_cli_buf_put_quoted(pl_cli_buf *b, const char *s, char quote)
{
	pl_cli_buf_putc(b, quote);
	for (; *s; s++) {
		if (*s == quote)
			pl_cli_buf_putc(b, quote);
		pl_cli_buf_putc(b, *s);
	}
	pl_cli_buf_putc(b, quote);
}

void pl_cli_buf_clear(pl_cli_buf *b)
{
	b->len = 0;
	b->oom = false;
	if (b->ptr)
		b->ptr[0] = '\0';
}

char *pl_cli_buf_detach(pl_cli_buf *b)
{
	char *p = NULL;
	if (!b->oom)
		p = b->ptr ? b->ptr : strdup("");
	else
		free(b->ptr);
	b->ptr = NULL;
	b->len = b->cap = 0;
	b->oom = false;
	return p;
}

void pl_cli_buf_dispose(pl_cli_buf *b)
{
	free(b->ptr);
	b->ptr = NULL;
	b->len = b->cap = 0;
	b->oom = false;
}
