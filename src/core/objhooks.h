/*
 * objhooks.h -- how the lower layers (engine, catalog) reach a lake's object storage without
 * depending on it: storage/s3lake.c installs the hooks when the first S3 data path is attached.
 * Until then every call does what a local lake needs (nothing, or unlink()).
 */
#ifndef PL_CORE_OBJHOOKS_H
#define PL_CORE_OBJHOOKS_H

#include <stdbool.h>

#include "core/err.h"
#include "core/str.h"

typedef struct pl_objhooks {
	int (*ensure_sql)(const char *sql, pl_err *err);      /* files a query reads: local first */
	int (*upload)(const pl_strv *written, pl_err *err);   /* new files: uploaded before commit */
	void (*unlink_written)(const char *path);             /* a failed write's file (and object) */
	char *(*local_of)(const char *uri);                   /* an s3:// file's cache path, or NULL */
} pl_objhooks;

void pl_objhooks_install(const pl_objhooks *hooks);

int pl_objhook_ensure_sql(const char *sql, pl_err *err);
int pl_objhook_upload(const pl_strv *written, pl_err *err);
void pl_objhook_unlink(const char *path);

/* The path a catalog row names, as Planar reads it: dir + path when relative; else path, except
 * that an absolute s3://bucket/key becomes its path in the S3 read cache (the secret whose scope
 * is the longest prefix of it gives the endpoint and keys), so that every reader fetches it
 * through the cache like a file of an S3 data path. An s3:// path no secret or environment
 * covers stays as it is. NULL only when out of memory. */
char *pl_objhook_file_path(const char *dir, const char *path, bool relative);

#endif
