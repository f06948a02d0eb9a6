/*
 * buf.h -- growable NUL-terminated string buffer.
 *
 * The struct stays where the caller put it; only `ptr` moves. Allocation failure is latched
 * (`oom`), so a sequence of appends is checked once with pl_buf_oom() at the end.
 */
#ifndef PL_CORE_BUF_H
#define PL_CORE_BUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct pl_buf {
	char *ptr;
	size_t len;
	size_t cap;
	bool oom;
} pl_buf;

#define PL_BUF_INIT {NULL, 0, 0, false}

void pl_buf_put(pl_buf *b, const char *s, size_t n);
/* Makes room for n more bytes at once (a body of known size: no copies while it grows). */
bool pl_buf_reserve(pl_buf *b, size_t n);
void pl_buf_puts(pl_buf *b, const char *s);
void pl_buf_putc(pl_buf *b, char c);
void pl_buf_printf(pl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as an SQL string literal: 'it''s'. NULL appends NULL. */
void pl_buf_put_literal(pl_buf *b, const char *s);
/* Appends s as a double-quoted SQL identifier: "a""b". */
void pl_buf_put_ident(pl_buf *b, const char *s);
void pl_buf_truncate(pl_buf *b, size_t len);
/* Inserts s before the buffer's last character (e.g. inside a closing brace). */
void pl_buf_insert_before_last(pl_buf *b, const char *s);
bool pl_buf_oom(const pl_buf *b);
/* Returns the string ("" when empty, never NULL unless OOM). */
const char *pl_buf_cstr(pl_buf *b);
/* Hands the string to the caller (malloc'd) and resets the buffer. */
char *pl_buf_detach(pl_buf *b);
void pl_buf_dispose(pl_buf *b);

#endif
