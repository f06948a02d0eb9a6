/*
 * ingest_stream.c -- POST /data/ingest bodies consumed as they arrive.
 */
#include "server/ingest.h"

bool pl_srv_stream_begin(struct MHD_Connection *c, pl_req *r)
{
	(void)c;
	(void)r;
	return false;
}

enum MHD_Result pl_srv_stream_end(struct MHD_Connection *c, pl_req *r)
{
	return pl_srv_reply_error(c, r, PL_SRV_INTERNAL, "no stream", NULL);
}
