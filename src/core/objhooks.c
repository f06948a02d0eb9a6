/*
 * objhooks.c -- the object storage hooks (see objhooks.h).
 */
#include "core/objhooks.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const pl_objhooks *installed;

void pl_objhooks_install(const pl_objhooks *hooks)
{
	__atomic_store_n(&installed, hooks, __ATOMIC_RELEASE);
}

int pl_objhook_ensure_sql(const char *sql, pl_err *err)
{
	const pl_objhooks *h = __atomic_load_n(&installed, __ATOMIC_ACQUIRE);
	return h ? h->ensure_sql(sql, err) : 0;
}

int pl_objhook_upload(const pl_strv *written, pl_err *err)
{
	const pl_objhooks *h = __atomic_load_n(&installed, __ATOMIC_ACQUIRE);
	return h ? h->upload(written, err) : 0;
}

void pl_objhook_unlink(const char *path)
{
	const pl_objhooks *h = __atomic_load_n(&installed, __ATOMIC_ACQUIRE);
	if (h)
		h->unlink_written(path);
	else
		unlink(path);
}

char *pl_objhook_file_path(const char *dir, const char *path, bool relative)
{
	path = path ? path : "";
	if (!relative && strncmp(path, "s3://", 5) == 0) {
		const pl_objhooks *h = __atomic_load_n(&installed, __ATOMIC_ACQUIRE);
		char *local = h && h->local_of ? h->local_of(path) : NULL;
		if (local)
			return local;
	}
	size_t nd = relative && dir ? strlen(dir) : 0, np = strlen(path);
	char *out = malloc(nd + np + 1); /* one allocation: a table may have many files */
	if (out) {
		if (nd)
			memcpy(out, dir, nd);
		memcpy(out + nd, path, np + 1);
	}
	return out;
}
