#include "server/internal.h"
enum MHD_Result pl_srv_route_query(struct MHD_Connection *c, pl_req *r)
{
	return pl_srv_reply_error(c, r, PL_SRV_NOT_FOUND, "not yet", NULL);
}
