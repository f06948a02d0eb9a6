/*
 * err.c -- setting and wrapping pl_err messages (see err.h).
 */
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int pl_err_set(pl_err *err, int code, const char *fmt, ...)
{
	if (!err)
		return code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	err->code = code;
	return code;
}

int pl_err_wrap(pl_err *err, const char *fmt, ...)
{
	if (!err)
		return PL_ERROR;
	char prefix[PL_ERR_MSG_MAX], old[PL_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	size_t n = strlen(prefix);
	if (n > sizeof(err->msg) - 3)
		n = sizeof(err->msg) - 3;
	memcpy(err->msg, prefix, n);
	memcpy(err->msg + n, ": ", 2);
	size_t room = sizeof(err->msg) - n - 3, m = strlen(old);
	if (m > room)
		m = room;
	memcpy(err->msg + n + 2, old, m);
	err->msg[n + 2 + m] = '\0';
	return err->code ? err->code : PL_ERROR;
}

int pl_err_nomem(pl_err *err)
{
	return pl_err_set(err, PL_ENOMEM, "out of memory");
}

void pl_err_clear(pl_err *err)
{
	if (!err)
		return;
	err->code = 0;
	err->msg[0] = '\0';
}

void pl_err_replace(pl_err *err, const char *from, const char *to)
{
	if (!err || !*from)
		return;
	char out[PL_ERR_MSG_MAX];
	size_t n = 0, flen = strlen(from), tlen = strlen(to);
	for (const char *p = err->msg; *p && n + 1 < sizeof(out);) {
		if (strncmp(p, from, flen) == 0 && n + tlen + 1 < sizeof(out)) {
			memcpy(out + n, to, tlen);
			n += tlen;
			p += flen;
		} else {
			out[n++] = *p++;
		}
	}
	out[n] = '\0';
	memcpy(err->msg, out, n + 1);
}
