/*
 * service.c -- a catalog connection of an attached lake for the HTTP service (see service.h).
 */
#include "sql/service.h"

#include <pthread.h>

#include "sql/lake.h"
#include "sql/session.h"
#include "table/blob.h"

int pl_service_catalog_open(planar_db *db, const char *lake_name, pl_catdb **out, pl_err *err)
{
	*out = NULL;
	pthread_mutex_lock(&db->lock);
	pl_lake *lake = pl_db_find_lake(db, lake_name);
	int rc;
	if (!lake)
		rc = pl_err_set(err, PL_ENOTFOUND, "no lake named \"%s\" is attached", lake_name);
	else
		rc = lake->cat->ops->clone(lake->cat, out, err);
	pthread_mutex_unlock(&db->lock);
	return rc;
}

int pl_service_blob_open(const char *location, const char *path, int64_t size, const char *sha256, int *fd_out,
			 pl_err *err)
{
	return pl_blob_open_object(location, path, size, sha256, fd_out, err);
}

bool pl_service_blob_path_ok(const char *path)
{
	return pl_blob_safe_path(path);
}
