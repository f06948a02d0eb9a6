/*
 * err.h -- error state passed explicitly through the library.
 *
 * Every fallible internal function takes a `pl_err *` last and returns 0 or a negative PL_E*
 * code (the PLANAR_E* codes of include/planar/errors.h). The message is set once, at the lowest
 * level that knows the facts (table, snapshot, path); callers pass the code up unchanged.
 * There is no global error state: a connection owns the pl_err of its current statement.
 */
#ifndef PL_CORE_ERR_H
#define PL_CORE_ERR_H

#include "planar/errors.h"

#define PL_OK PLANAR_OK
#define PL_ERROR PLANAR_ERROR
#define PL_ENOTFOUND PLANAR_ENOTFOUND
#define PL_EEXISTS PLANAR_EEXISTS
#define PL_EINVALID PLANAR_EINVALID
#define PL_ECONFLICT PLANAR_ECONFLICT
#define PL_EBUSY PLANAR_EBUSY
#define PL_EIO PLANAR_EIO
#define PL_ENOMEM PLANAR_ENOMEM
#define PL_EUNSUPPORTED PLANAR_EUNSUPPORTED
#define PL_ECANCELED PLANAR_ECANCELED
#define PL_ECATALOG PLANAR_ECATALOG

#define PL_ERR_MSG_MAX 2048

typedef struct pl_err {
	int code;
	char msg[PL_ERR_MSG_MAX];
} pl_err;

/* Sets code and printf-style message; returns code so callers can `return pl_err_set(...)`. */
int pl_err_set(pl_err *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prefixes the existing message with context ("while X: <old>"), keeps the code. */
int pl_err_wrap(pl_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int pl_err_nomem(pl_err *err);
/* Replaces every occurrence of `from` in the message by `to` (e.g. an internal name). */
void pl_err_replace(pl_err *err, const char *from, const char *to);
void pl_err_clear(pl_err *err);

#endif
