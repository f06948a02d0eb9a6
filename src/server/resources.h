/*
 * resources.h -- the routes over a lake's tables and blobs that are not ingest or query:
 * POST /data/tables (tables.c) and GET /data/blobs... (blobs.c).
 */
#ifndef PL_SERVER_RESOURCES_H
#define PL_SERVER_RESOURCES_H

#include "server/internal.h"

/* POST /data/tables: an admin creates a table. */
enum MHD_Result pl_srv_route_tables(struct MHD_Connection *c, pl_req *r);
/* GET /data/blobs, /data/blobs/{name}/{version}, /data/blobs/{name}/{version}/objects/{path}. */
enum MHD_Result pl_srv_route_blobs(struct MHD_Connection *c, pl_req *r);

/* Routes /data/tables and /data/blobs[/...] (sets r->route, checks the method, authenticates);
 * false when the path is neither. */
bool pl_srv_resources_dispatch(struct MHD_Connection *c, pl_req *r, enum MHD_Result *ret);

/* Their OpenAPI "paths" entries (metrics.c puts them into /openapi.json). */
extern const char pl_srv_resources_openapi_paths[];

#endif
