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
