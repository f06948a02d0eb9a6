/*
 * metrics.c -- GET /metrics in the Prometheus text format (requests and latency histograms by
 * route and status, rows ingested and queried, ingest commits, snapshots stored, quota refusals,
 * rows removed by retention, requests in flight) and GET
 * /openapi.json (OpenAPI 3.1 description of the routes this server has). Both need no token,
 * like the health checks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "server/internal.h"
#include "server/mcp.h"
#include "server/policy.h"
#include "server/resources.h"

static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define NBUCKETS (sizeof buckets / sizeof buckets[0])

typedef struct series {
	const char *route;
	int status;
	uint64_t count;
	double sum;
	uint64_t le[NBUCKETS];
} series;

struct pl_srv_metrics {
	pthread_mutex_t lock;
	series *s;
	size_t n, cap;
	uint64_t ingest_rows, ingest_commits, query_rows;
	uint64_t snapshots_stored, quota_refusals, retention_rows;
};

int pl_srv_metrics_init(pl_srv *s)
{
	s->metrics = calloc(1, sizeof *s->metrics);
	if (!s->metrics)
		return PLANAR_ENOMEM;
	pthread_mutex_init(&s->metrics->lock, NULL);
	return 0;
}

void pl_srv_metrics_free(pl_srv *s)
{
	if (!s->metrics)
		return;
	free(s->metrics->s);
	free(s->metrics);
	s->metrics = NULL;
}

void pl_srv_metrics_observe(pl_srv *s, const pl_req *r, double seconds)
{
	pl_srv_metrics *m = s->metrics;
	if (!m)
		return;
	const char *route = r->route ? r->route : "unknown"; /* routes are static strings */
	pthread_mutex_lock(&m->lock);
	series *e = NULL;
	for (size_t i = 0; i < m->n && !e; i++)
		if (m->s[i].status == r->status && strcmp(m->s[i].route, route) == 0)
			e = &m->s[i];
	if (!e && m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		series *p = realloc(m->s, cap * sizeof *p);
		if (p) {
			m->s = p;
			m->cap = cap;
		}
	}
	if (!e && m->n < m->cap) {
		e = &m->s[m->n++];
		memset(e, 0, sizeof *e);
		e->route = route;
		e->status = r->status;
	}
	if (e) {
		e->count++;
		e->sum += seconds;
		for (size_t b = 0; b < NBUCKETS; b++)
			if (seconds <= buckets[b])
				e->le[b]++;
	}
	if (r->status == 201 && r->rows > 0 && strcmp(route, "ingest") == 0) { /* replays write nothing */
		m->ingest_rows += (uint64_t)r->rows;
		m->ingest_commits++;
	} else if (strcmp(route, "query") == 0) {
		m->query_rows += (uint64_t)(r->rows > 0 ? r->rows : 0);
	} else if (strcmp(route, "snapshots") == 0 && r->status == 201 && r->rows > 0) {
		m->snapshots_stored++;
	} else if (strcmp(route, "retention") == 0 && r->status == 200 && r->rows > 0) {
		m->retention_rows += (uint64_t)r->rows;
	}
	if (r->status == 507)
		m->quota_refusals++;

	pthread_mutex_unlock(&m->lock);
}

static enum MHD_Result reply_text(struct MHD_Connection *c, pl_req *r, const char *type, char *text)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", type);
	MHD_add_response_header(resp, "X-Request-Id", r->id);
	r->status = 200;
	enum MHD_Result ret = MHD_queue_response(c, 200, resp);
	MHD_destroy_response(resp);
	return ret;
}

enum MHD_Result pl_srv_route_metrics(struct MHD_Connection *c, pl_req *r)
{
	pl_srv_metrics *m = r->srv->metrics;
	pl_buf b = PL_BUF_INIT;
	pl_buf_puts(&b, "# HELP planar_serve_requests_total Requests answered, by route and status.\n"
			"# TYPE planar_serve_requests_total counter\n");
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->n; i++)
		pl_buf_printf(&b, "planar_serve_requests_total{route=\"%s\",status=\"%d\"} %llu\n", m->s[i].route,
			      m->s[i].status, (unsigned long long)m->s[i].count);
	pl_buf_puts(&b, "# HELP planar_serve_request_seconds Time from the first byte of a request to its last reply "
			"byte.\n# TYPE planar_serve_request_seconds histogram\n");
	for (size_t i = 0; i < m->n; i++) {
		const series *e = &m->s[i];
		for (size_t k = 0; k < NBUCKETS; k++)
			pl_buf_printf(&b, "planar_serve_request_seconds_bucket{route=\"%s\",status=\"%d\",le=\"%g\"} %llu\n",
				      e->route, e->status, buckets[k], (unsigned long long)e->le[k]);
		pl_buf_printf(&b, "planar_serve_request_seconds_bucket{route=\"%s\",status=\"%d\",le=\"+Inf\"} %llu\n",
			      e->route, e->status, (unsigned long long)e->count);
		pl_buf_printf(&b, "planar_serve_request_seconds_sum{route=\"%s\",status=\"%d\"} %.6f\n", e->route, e->status,
			      e->sum);
		pl_buf_printf(&b, "planar_serve_request_seconds_count{route=\"%s\",status=\"%d\"} %llu\n", e->route,
			      e->status, (unsigned long long)e->count);
	}
	pl_buf_printf(&b,
		      "# HELP planar_serve_ingested_rows_total Rows written by accepted ingests.\n"
		      "# TYPE planar_serve_ingested_rows_total counter\nplanar_serve_ingested_rows_total %llu\n"
		      "# HELP planar_serve_ingest_commits_total Lake commits made by ingests.\n"
		      "# TYPE planar_serve_ingest_commits_total counter\nplanar_serve_ingest_commits_total %llu\n"
		      "# HELP planar_serve_query_rows_total Rows sent by queries.\n"
		      "# TYPE planar_serve_query_rows_total counter\nplanar_serve_query_rows_total %llu\n",
		      (unsigned long long)m->ingest_rows, (unsigned long long)m->ingest_commits,
		      (unsigned long long)m->query_rows);
	pl_buf_printf(&b,
		      "# HELP planar_serve_snapshots_stored_total World-model snapshots stored.\n"
		      "# TYPE planar_serve_snapshots_stored_total counter\nplanar_serve_snapshots_stored_total %llu\n"
		      "# HELP planar_serve_quota_refusals_total Writes refused by a tenant's max_storage_gb (507).\n"
		      "# TYPE planar_serve_quota_refusals_total counter\nplanar_serve_quota_refusals_total %llu\n"
		      "# HELP planar_serve_retention_rows_total Rows removed by retention passes run over HTTP.\n"
		      "# TYPE planar_serve_retention_rows_total counter\nplanar_serve_retention_rows_total %llu\n",
		      (unsigned long long)m->snapshots_stored, (unsigned long long)m->quota_refusals,
		      (unsigned long long)m->retention_rows);
	pthread_mutex_unlock(&m->lock);
	pl_mcp_metrics(&b);
	pl_buf_printf(&b,
		      "# HELP planar_serve_requests_in_flight Requests being served.\n"
		      "# TYPE planar_serve_requests_in_flight gauge\nplanar_serve_requests_in_flight %ld\n",
		      (long)atomic_load(&r->srv->inflight));
	if (pl_buf_oom(&b)) {
		pl_buf_dispose(&b);
		return pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, "out of memory", NULL);
	}
	return reply_text(c, r, "text/plain; version=0.0.4", pl_buf_detach(&b));
}

/* The routes of this server; tests/server/serve.sh checks each one answers. */
static const char openapi[] =
	"{\"openapi\":\"3.1.0\",\"info\":{\"title\":\"planar serve\",\"version\":\"1\","
	"\"description\":\"The data-plane HTTP service of a Planar lake. Every route but /healthz, /readyz, /metrics "
	"and /openapi.json needs Authorization: Bearer <token>. Errors are {error: {code, message, details}}.\"},"
	"\"components\":{\"securitySchemes\":{\"bearer\":{\"type\":\"http\",\"scheme\":\"bearer\"}},"
	"\"schemas\":{\"Error\":{\"type\":\"object\",\"required\":[\"error\"],\"properties\":{\"error\":{\"type\":\"object\","
	"\"required\":[\"code\",\"message\",\"details\"],\"properties\":{\"code\":{\"type\":\"string\"},\"message\":{\"type\":"
	"\"string\"},\"details\":{\"type\":\"object\"}}}}},"
	"\"IngestRequest\":{\"type\":\"object\",\"required\":[\"table\",\"records\",\"schema_version\",\"job_id\",\"tenant_id\"],"
	"\"properties\":{\"table\":{\"type\":\"string\"},\"records\":{\"type\":\"array\",\"items\":{\"type\":\"object\"}},"
	"\"schema_version\":{\"type\":[\"integer\",\"string\"]},\"job_id\":{\"type\":\"string\"},\"tenant_id\":{\"type\":"
	"\"string\"}}},"
	"\"IngestResponse\":{\"type\":\"object\",\"properties\":{\"partition_id\":{\"type\":\"string\"},\"row_count\":{\"type\":"
	"\"integer\"},\"snapshot_id\":{\"type\":\"integer\"},\"table\":{\"type\":\"string\"},\"job_id\":{\"type\":\"string\"}}},"
	"\"QueryRequest\":{\"type\":\"object\",\"required\":[\"sql\"],\"properties\":{\"sql\":{\"type\":\"string\"},"
	"\"tenant_id\":{\"type\":\"string\"},\"limit\":{\"type\":\"integer\"},\"as_of\":{\"type\":[\"integer\",\"string\"]},"
	"\"cursor\":{\"type\":\"string\"}}},"
	"\"QueryResponse\":{\"type\":\"object\",\"properties\":{\"columns\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
	"\"properties\":{\"name\":{\"type\":\"string\"},\"type\":{\"type\":\"string\"}}}},\"rows\":{\"type\":\"array\","
	"\"items\":{\"type\":\"array\"}},\"row_count\":{\"type\":\"integer\"},\"truncated\":{\"type\":\"boolean\"},"
	"\"snapshot_id\":{\"type\":\"integer\"},\"offset\":{\"type\":\"integer\"},\"next_cursor\":{\"type\":[\"string\",\"null\"]},"
	"\"error\":{\"type\":\"object\"}}},"
	"\"RetrieveResponse\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"required\":[\"id\",\"text\",\"score\","
	"\"metadata\"],\"properties\":{\"id\":{\"type\":[\"string\",\"null\"]},\"text\":{\"type\":[\"string\",\"null\"]},"
	"\"score\":{\"type\":\"number\"},\"metadata\":{},\"table\":{\"type\":\"string\"}}}}}},"
	"\"paths\":{"
	"\"/healthz\":{\"get\":{\"summary\":\"the process answers\",\"responses\":{\"200\":{\"description\":\"ok\"}}}},"
	"\"/readyz\":{\"get\":{\"summary\":\"the catalog answers\",\"responses\":{\"200\":{\"description\":\"ready\"},"
	"\"503\":{\"description\":\"catalog unreachable or draining\"}}}},"
	"\"/metrics\":{\"get\":{\"summary\":\"Prometheus text format\",\"responses\":{\"200\":{\"description\":\"metrics\"}}}},"
	"\"/openapi.json\":{\"get\":{\"summary\":\"this document\",\"responses\":{\"200\":{\"description\":\"OpenAPI 3.1\"}}}},"
	"\"/data/ingest\":{\"post\":{\"summary\":\"append records to a lake table\",\"security\":[{\"bearer\":[]}],"
	"\"parameters\":[{\"name\":\"Idempotency-Key\",\"in\":\"header\",\"schema\":{\"type\":\"string\"}}],"
	"\"requestBody\":{\"required\":true,\"content\":{\"application/json\":{\"schema\":{\"$ref\":"
	"\"#/components/schemas/IngestRequest\"}}}},\"responses\":{\"201\":{\"description\":\"written\",\"content\":{"
	"\"application/json\":{\"schema\":{\"$ref\":\"#/components/schemas/IngestResponse\"}}}},"
	"\"400\":{\"description\":\"bad request\"},\"401\":{\"description\":\"no token\"},\"403\":{\"description\":"
	"\"forbidden\"},\"404\":{\"description\":\"no such table\"},\"409\":{\"description\":\"stale schema_version\"},"
	"\"413\":{\"description\":\"body too large\"},\"415\":{\"description\":\"not JSON\"},\"422\":{\"description\":"
	"\"invalid records\"},\"503\":{\"description\":\"unavailable\"}}}},"
	"\"/data/query\":{\"get\":{\"summary\":\"run one read-only SELECT\",\"security\":[{\"bearer\":[]}],"
	"\"parameters\":[{\"name\":\"sql\",\"in\":\"query\",\"required\":true,\"schema\":{\"type\":\"string\"}},"
	"{\"name\":\"tenant_id\",\"in\":\"query\",\"schema\":{\"type\":\"string\"}},{\"name\":\"limit\",\"in\":\"query\","
	"\"schema\":{\"type\":\"integer\"}},{\"name\":\"as_of\",\"in\":\"query\",\"description\":\"lake snapshot id, ISO 8601 timestamp or "
	"world-model snapshot id\",\"schema\":{\"type\":\"string\"}},{\"name\":\"cursor\",\"in\":\"query\",\"description\":"
	"\"next_cursor of the previous page\",\"schema\":{\"type\":\"string\"}}],"
	"\"responses\":{\"200\":{\"description\":\"rows\",\"content\":{\"application/json\":{\"schema\":{\"$ref\":"
	"\"#/components/schemas/QueryResponse\"}}}},\"400\":{\"description\":\"refused or invalid SQL\"},\"401\":{"
	"\"description\":\"no token\"},\"403\":{\"description\":\"other tenant\"},\"404\":{\"description\":\"unknown "
	"snapshot\"},\"503\":{\"description\":\"time limit or unavailable\"}}},"
	"\"post\":{\"summary\":\"run one read-only SELECT\",\"security\":[{\"bearer\":[]}],\"requestBody\":{\"required\":true,"
	"\"content\":{\"application/json\":{\"schema\":{\"$ref\":\"#/components/schemas/QueryRequest\"}}}},"
	"\"responses\":{\"200\":{\"description\":\"rows\",\"content\":{\"application/json\":{\"schema\":{\"$ref\":"
	"\"#/components/schemas/QueryResponse\"}}}}}}},"
	"\"/data/retrieve\":{\"get\":{\"summary\":\"semantic retrieval over the lake's search indexes\",\"security\":"
	"[{\"bearer\":[]}],\"parameters\":[{\"name\":\"query\",\"in\":\"query\",\"required\":true,\"schema\":{\"type\":"
	"\"string\"}},{\"name\":\"top_k\",\"in\":\"query\",\"schema\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":1000,"
	"\"default\":5}},{\"name\":\"tenant_id\",\"in\":\"query\",\"schema\":{\"type\":\"string\"}},{\"name\":\"table\","
	"\"in\":\"query\",\"schema\":{\"type\":\"string\"}},{\"name\":\"since\",\"in\":\"query\",\"schema\":{\"type\":"
	"\"string\",\"format\":\"date-time\"}},{\"name\":\"until\",\"in\":\"query\",\"schema\":{\"type\":\"string\","
	"\"format\":\"date-time\"}},{\"name\":\"time_column\",\"in\":\"query\",\"schema\":{\"type\":\"string\"}},{\"name\":"
	"\"filter\",\"in\":\"query\",\"schema\":{\"type\":\"string\"}},{\"name\":\"mode\",\"in\":\"query\",\"schema\":{"
	"\"type\":\"string\",\"enum\":[\"hybrid\",\"bm25\",\"vector\"]}},{\"name\":\"as_of\",\"in\":\"query\",\"schema\":{"
	"\"type\":[\"integer\",\"string\"]}}],\"responses\":{\"200\":{\"description\":\"results, best first\",\"content\":{"
	"\"application/json\":{\"schema\":{\"$ref\":\"#/components/schemas/RetrieveResponse\"}}}},\"400\":{\"description\":"
	"\"bad parameters or a refused filter\"},\"401\":{\"description\":\"no token\"},\"403\":{\"description\":\"other "
	"tenant\"},\"404\":{\"description\":\"no such table or index\"},\"503\":{\"description\":\"time limit or "
	"unavailable\"}}},\"post\":{\"summary\":\"semantic retrieval (the same fields as a JSON object)\",\"security\":[{"
	"\"bearer\":[]}],\"requestBody\":{\"required\":true,\"content\":{\"application/json\":{\"schema\":{\"type\":"
	"\"object\",\"required\":[\"query\"]}}}},\"responses\":{\"200\":{\"description\":\"results, best first\",\"content\":"
	"{\"application/json\":{\"schema\":{\"$ref\":\"#/components/schemas/RetrieveResponse\"}}}}}}},"
	"\"/mcp\":{\"post\":{\"summary\":\"Model Context Protocol (JSON-RPC 2.0, Streamable HTTP, stateless): initialize, "
	"ping, tools/list, tools/call\",\"security\":[{\"bearer\":[]}],\"parameters\":[{\"name\":\"MCP-Protocol-Version\","
	"\"in\":\"header\",\"schema\":{\"type\":\"string\"}}],\"requestBody\":{\"required\":true,\"content\":{"
	"\"application/json\":{\"schema\":{\"type\":\"object\",\"required\":[\"jsonrpc\"]}}}},\"responses\":{\"200\":{"
	"\"description\":\"the JSON-RPC response\"},\"202\":{\"description\":\"a notification, accepted\"},\"400\":{"
	"\"description\":\"not a JSON-RPC message (body: the JSON-RPC error)\"},\"401\":{\"description\":\"no token\"},"
	"\"403\":{\"description\":\"foreign Origin\"},\"415\":{\"description\":\"not JSON\"}}}}}}\n";

enum MHD_Result pl_srv_route_openapi(struct MHD_Connection *c, pl_req *r)
{
	/* the paths of policy.c's routes go at the end of "paths" (before the closing "}}\n") */
	pl_buf b = PL_BUF_INIT;
	pl_buf_put(&b, openapi, sizeof openapi - 4);
	pl_buf_putc(&b, ',');
	pl_buf_puts(&b, pl_srv_policy_openapi_paths);
	pl_buf_putc(&b, ',');
	pl_buf_puts(&b, pl_srv_resources_openapi_paths);
	pl_buf_puts(&b, "}}\n");
	if (pl_buf_oom(&b)) {
		pl_buf_dispose(&b);
		return pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, "out of memory", NULL);
	}
	return reply_text(c, r, "application/json", pl_buf_detach(&b));
}
