/*
 * service.c -- a catalog connection of an attached lake for the HTTP service (see service.h).
 */
#include "sql/service.h"

#include <pthread.h>

#include "sql/lake.h"
#include "sql/session.h"

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
