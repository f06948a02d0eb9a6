/*
 * objhooks.c -- the object storage hooks (see objhooks.h).
 */
#include "core/objhooks.h"

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
