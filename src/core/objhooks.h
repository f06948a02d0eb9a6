/*
 * objhooks.h -- how the lower layers (engine, catalog) reach a lake's object storage without
 * depending on it: storage/s3lake.c installs the hooks when the first S3 data path is attached.
 * Until then every call does what a local lake needs (nothing, or unlink()).
 */
#ifndef PL_CORE_OBJHOOKS_H
#define PL_CORE_OBJHOOKS_H

#include "core/err.h"
#include "core/str.h"

typedef struct pl_objhooks {
	int (*ensure_sql)(const char *sql, pl_err *err);      /* files a query reads: local first */
	int (*upload)(const pl_strv *written, pl_err *err);   /* new files: uploaded before commit */
	void (*unlink_written)(const char *path);             /* a failed write's file (and object) */
} pl_objhooks;

void pl_objhooks_install(const pl_objhooks *hooks);

int pl_objhook_ensure_sql(const char *sql, pl_err *err);
int pl_objhook_upload(const pl_strv *written, pl_err *err);
void pl_objhook_unlink(const char *path);

#endif
