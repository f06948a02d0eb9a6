/*
 * strbuf.h -- the growable string of the `planar` command (shell and `planar test` alike).
 *
 * Owns pl_cli_buf: a NUL-terminated string that grows as text is appended and latches an
 * allocation failure in `oom`, so a run of appends is checked once; plus the escaping the CLI
 * needs while building text (control characters shown as \n, \t, \xNN; SQL quoting).
 * A zeroed pl_cli_buf is an empty buffer. Nothing here knows about the shell or tests.
 */
#ifndef PL_CLI_STRBUF_H
#define PL_CLI_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

/* A NUL-terminated growable string; allocation failure is latched in `oom`. */
typedef struct pl_cli_buf {
	char *ptr;  /* NULL until something was appended */
	size_t len;
	size_t cap;
	bool oom;
} pl_cli_buf;

void pl_cli_buf_put(pl_cli_buf *b, const char *s, size_t n);
void pl_cli_buf_puts(pl_cli_buf *b, const char *s);
void pl_cli_buf_putc(pl_cli_buf *b, char c);
void pl_cli_buf_printf(pl_cli_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s with newlines, tabs and control characters escaped, at most `max` bytes of it. */
void pl_cli_buf_put_escaped(pl_cli_buf *b, const char *s, size_t max);
/* Appends s between two `quote` characters, embedded ones doubled: a SQL string literal with
 * '\'', a quoted SQL identifier with '"'. */
void pl_cli_buf_put_quoted(pl_cli_buf *b, const char *s, char quote);
/* Empties the string but keeps its memory; forgets an allocation failure. */
void pl_cli_buf_clear(pl_cli_buf *b);
/* Hands over the string (never NULL unless out of memory, then the buffer is freed). */
char *pl_cli_buf_detach(pl_cli_buf *b);
void pl_cli_buf_dispose(pl_cli_buf *b);

#endif
