/*
 * http.c -- the HTTP side of `planar serve` (libmicrohttpd): a thread pool of polling threads,
 * keep-alive, an idle timeout, a body size limit checked before the body is read (413), one
 * JSON log line per request on stderr, routing, and draining on SIGTERM.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "core/ids.h"
#include "core/str.h"
#include "server/internal.h"
#include "server/mcp.h"
#include "server/policy.h"
#include "server/resources.h"

static void req_free(pl_req *r)
{
	free(r->path);
	free(r->target);
	free(r->token_id);
	free(r->tenant_id);
	free(r->role);
	if (r->sink_free)
		r->sink_free(r);
	pl_buf_dispose(&r->body);
	free(r);
}

static void log_json_str(FILE *f, const char *key, const char *v)
{
	if (!v)
		return;
	json_t *s = json_string(v);
	char *t = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
	if (t)
		fprintf(f, ",\"%s\":%s", key, t);
	free(t);
	json_decref(s);
}

static void log_request(const pl_req *r, double ms)
{
	char now[32];
	pl_now_timestamptz(now);
	flockfile(stderr);
	fprintf(stderr, "{\"ts\":\"%s\",\"request_id\":\"%s\",\"method\":\"%s\"", now, r->id, r->method);
	log_json_str(stderr, "path", r->path);
	fprintf(stderr, ",\"route\":\"%s\",\"status\":%d,\"ms\":%.3f,\"rows\":%lld", r->route ? r->route : "?", r->status,
		ms, (long long)r->rows);
	log_json_str(stderr, "token_id", r->token_id);
	log_json_str(stderr, "tenant_id", r->tenant_id);
	log_json_str(stderr, "target", r->target);
	if (r->error_code[0])
		fprintf(stderr, ",\"error\":\"%s\"", r->error_code);
	fputs("}\n", stderr);
	funlockfile(stderr);
	fflush(stderr);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	pl_srv *s = cls;
	pl_req *r = *con_cls;
	(void)c;
	if (!r)
		return;
	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && r->status == 0)
		r->status = 499; /* the client went away or timed out before a reply */
	struct timespec end;
	clock_gettime(CLOCK_MONOTONIC, &end);
	double ms = (double)(end.tv_sec - r->start.tv_sec) * 1e3 + (double)(end.tv_nsec - r->start.tv_nsec) / 1e6;
	log_request(r, ms);
	pl_srv_metrics_observe(s, r, ms / 1e3);
	if (r->route && strcmp(r->route, "health") != 0 && strcmp(r->route, "metrics") != 0 &&
	    strcmp(r->route, "openapi") != 0)
		pl_srv_audit_push(s, r);
	if (r->counted)
		atomic_fetch_sub(&s->data_inflight, 1);
	req_free(r);
	*con_cls = NULL;
	atomic_fetch_sub(&s->inflight, 1);
}

static enum MHD_Result route_health(struct MHD_Connection *c, pl_req *r, bool ready)
{
	if (!ready)
		return pl_srv_reply_json(c, r, 200, json_pack("{s:s}", "status", "ok"));
	pl_srv_lake *l = &r->srv->lake;
	int64_t snap = -1, ver = -1;
	pl_err err;
	pl_err_clear(&err);
	pthread_mutex_lock(&l->svc_lock);
	int rc = pl_service_current(l->svc, &snap, &ver, &err);
	pthread_mutex_unlock(&l->svc_lock);
	if (rc)
		return pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, "the catalog is not reachable",
					  json_pack("{s:s}", "reason", err.msg));
	if (atomic_load(&r->srv->draining))
		return pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, "the server is shutting down", NULL);
	return pl_srv_reply_json(c, r, 200,
				 json_pack("{s:s,s:I,s:I}", "status", "ready", "snapshot_id", (json_int_t)snap,
					   "schema_version", (json_int_t)ver));
}

static enum MHD_Result dispatch(struct MHD_Connection *c, pl_req *r)
{
	const char *p = r->path;
	bool get = strcmp(r->method, "GET") == 0, post = strcmp(r->method, "POST") == 0;
	if (strcmp(p, "/healthz") == 0 || strcmp(p, "/readyz") == 0) {
		r->route = "health";
		if (!get)
			return pl_srv_reply_error(c, r, PL_SRV_METHOD, "use GET", NULL);
		return route_health(c, r, p[1] == 'r');
	}
	if (strcmp(p, "/metrics") == 0 || strcmp(p, "/openapi.json") == 0) {
		r->route = p[1] == 'm' ? "metrics" : "openapi";
		if (!get)
			return pl_srv_reply_error(c, r, PL_SRV_METHOD, "use GET", NULL);
		return p[1] == 'm' ? pl_srv_route_metrics(c, r) : pl_srv_route_openapi(c, r);
	}
	enum MHD_Result ret;
	if (strncmp(p, "/data/", 6) == 0) {
		r->counted = true;
		if (atomic_fetch_add(&r->srv->data_inflight, 1) >= (long)r->srv->cfg.max_in_flight) {
			r->route = strcmp(p, "/data/ingest") == 0 ? "ingest" : strcmp(p, "/data/query") == 0 ? "query" : "unknown";
			return pl_srv_reply_error(c, r, PL_SRV_TOO_MANY, "too many requests in flight; retry later",
						  json_pack("{s:i}", "max_in_flight", (int)r->srv->cfg.max_in_flight));
		}
	}
	if (strcmp(p, "/data/ingest") == 0) {
		r->route = "ingest";
		if (!post)
			return pl_srv_reply_error(c, r, PL_SRV_METHOD, "use POST", NULL);
		if (!pl_srv_authenticate(c, r, &ret))
			return ret;
		return pl_srv_route_ingest(c, r);
	}
	if (strcmp(p, "/data/query") == 0) {
		r->route = "query";
		if (!get && !post)
			return pl_srv_reply_error(c, r, PL_SRV_METHOD, "use GET or POST", NULL);
		if (!pl_srv_authenticate(c, r, &ret))
			return ret;
		return pl_srv_route_query(c, r);
	}
	if (strcmp(p, "/data/retrieve") == 0) {
		r->route = "retrieve";
		if (!get && !post)
			return pl_srv_reply_error(c, r, PL_SRV_METHOD, "use GET or POST", NULL);
		if (!pl_srv_authenticate(c, r, &ret))
			return ret;
		return pl_srv_route_retrieve(c, r);
	}
	if (strcmp(p, "/mcp") == 0) {
		r->route = "mcp";
		if (!post)
			return pl_srv_reply_error(c, r, PL_SRV_METHOD, "use POST (this server offers no event stream)", NULL);
		if (!pl_srv_authenticate(c, r, &ret))
			return ret;
		return pl_srv_route_mcp(c, r);
	}
	if (pl_srv_policy_dispatch(c, r, &ret)) /* /data/policy, /data/usage, /data/retention, /data/snapshots */
		return ret;
	if (pl_srv_resources_dispatch(c, r, &ret)) /* /data/tables, /data/blobs[/...] */
		return ret;
	r->route = "unknown";
	if (!pl_srv_authenticate(c, r, &ret))
		return ret;
	return pl_srv_reply_error(c, r, PL_SRV_NOT_FOUND, "no such route", json_pack("{s:s}", "path", p));
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				      const char *version, const char *upload_data, size_t *upload_data_size,
				      void **con_cls)
{
	pl_srv *s = cls;
	pl_req *r = *con_cls;
	(void)version;
	if (!r) {
		r = calloc(1, sizeof *r);
		if (!r)
			return MHD_NO;
		r->srv = s;
		clock_gettime(CLOCK_MONOTONIC, &r->start);
		pl_err ignored;
		if (pl_uuid_v7(r->id, &ignored) != 0)
			snprintf(r->id, sizeof r->id, "unknown");
		snprintf(r->method, sizeof r->method, "%s", method);
		r->path = pl_strdup(url);
		*con_cls = r;
		atomic_fetch_add(&s->inflight, 1);
		if (!r->path)
			return MHD_NO;
		if (atomic_load(&s->draining)) {
			r->route = "health";
			return pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, "the server is shutting down", NULL);
		}
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
		if (pl_srv_stream_begin(c, r)) /* a streamed body (NDJSON, Parquet): no size limit */
			cl = NULL;
		if (cl) {
			char *end = NULL;
			unsigned long long n = strtoull(cl, &end, 10);
			if (end == cl || *end != '\0' || n > s->cfg.max_body) {
				r->route = "limit";
				return pl_srv_reply_error(c, r, PL_SRV_TOO_LARGE, "the request body is over the size limit",
							  json_pack("{s:I}", "max_body_bytes", (json_int_t)s->cfg.max_body));
			}
			/* room for the body at once (up to 1 GiB; pages are touched only as it arrives): a
			 * large body is not copied as its buffer grows. When that much is not to be had, the
			 * buffer grows as the body arrives. */
			if (n > 0 && !pl_buf_reserve(&r->body, (size_t)(n < (1ull << 30) ? n : 1ull << 30)))
				pl_buf_dispose(&r->body);
		}
		return MHD_YES;
	}
	if (r->resume) /* a suspended request whose work is done */
		return r->resume(c, r);
	if (r->status != 0) { /* already answered (413, 503): drop the rest of the body */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->sink) { /* a body consumed as it arrives (ingest_stream.c) */
		if (*upload_data_size > 0 && !r->sink(r, upload_data, *upload_data_size))
			r->sink = NULL;
		if (*upload_data_size > 0) {
			*upload_data_size = 0;
			return MHD_YES;
		}
	}
	if (*upload_data_size > 0) {
		if (!r->too_large && r->body.len + *upload_data_size <= s->cfg.max_body)
			pl_buf_put(&r->body, upload_data, *upload_data_size);
		else
			r->too_large = true;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->too_large) {
		r->route = "limit";
		return pl_srv_reply_error(c, r, PL_SRV_TOO_LARGE, "the request body is over the size limit",
					  json_pack("{s:I}", "max_body_bytes", (json_int_t)s->cfg.max_body));
	}
	if (pl_buf_oom(&r->body))
		return pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, "out of memory", NULL);
	if (r->sink_arg)
		return pl_srv_stream_end(c, r);
	return dispatch(c, r);
}

static char *read_file(const char *path, char **errmsg)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0;
	if (f) {
		buf = malloc(1 << 20);
		if (buf) {
			n = fread(buf, 1, (1 << 20) - 1, f);
			buf[n] = '\0';
		}
		fclose(f);
	}
	if (!buf || n == 0) {
		char m[512];
		snprintf(m, sizeof m, "cannot read the PEM file %s", path);
		*errmsg = pl_strdup(m);
		free(buf);
		return NULL;
	}
	return buf;
}

int pl_srv_http_start(pl_srv *s, char **errmsg)
{
	char *cert = NULL, *key = NULL;
	if (s->cfg.tls_cert) {
		if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
			*errmsg = pl_strdup("this libmicrohttpd has no TLS support");
			return PLANAR_EUNSUPPORTED;
		}
		if (!(cert = read_file(s->cfg.tls_cert, errmsg)))
			return PLANAR_EIO;
		if (!(key = read_file(s->cfg.tls_key, errmsg))) {
			free(cert);
			return PLANAR_EIO;
		}
	}
	struct sockaddr_in addr;
	memset(&addr, 0, sizeof addr);
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)s->cfg.port);
	if (inet_pton(AF_INET, s->cfg.host, &addr.sin_addr) != 1) {
		*errmsg = pl_strdup("--listen needs an IPv4 address and a port, e.g. 127.0.0.1:8080");
		return PLANAR_EINVALID;
	}
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG |
			 MHD_ALLOW_SUSPEND_RESUME;
	if (cert)
		flags |= MHD_USE_TLS;
	struct MHD_OptionItem tls[] = {
		{cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, cert},
		{MHD_OPTION_HTTPS_MEM_KEY, 0, key},
		{MHD_OPTION_END, 0, NULL},
	};
	s->tls_pem[0] = cert; /* kept until the daemon stops */
	s->tls_pem[1] = key;
	s->daemon = MHD_start_daemon(flags, (uint16_t)s->cfg.port, NULL, NULL, access_handler, s,
				     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
				     MHD_OPTION_THREAD_POOL_SIZE, s->cfg.threads,
				     MHD_OPTION_CONNECTION_TIMEOUT, s->cfg.timeout_s,
				     MHD_OPTION_CONNECTION_LIMIT, s->cfg.max_conns,
				     MHD_OPTION_NOTIFY_COMPLETED, completed, s,
				     MHD_OPTION_LISTENING_ADDRESS_REUSE, 1,
				     MHD_OPTION_ARRAY, tls,
				     MHD_OPTION_END);
	if (!s->daemon) {
		char m[256];
		snprintf(m, sizeof m, "cannot listen on %s:%d (in use, or not an address of this machine)", s->cfg.host,
			 s->cfg.port);
		*errmsg = pl_strdup(m);
		return PLANAR_EIO;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	if (info)
		s->cfg.port = info->port;
	return 0;
}

void pl_srv_http_drain(pl_srv *s)
{
	atomic_store(&s->draining, true);
	MHD_quiesce_daemon(s->daemon);
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (atomic_load(&s->inflight) <= 0)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec >= (time_t)s->cfg.drain_s)
			break;
		struct timespec d = {0, 10 * 1000000L};
		nanosleep(&d, NULL);
	}
	MHD_stop_daemon(s->daemon);
	s->daemon = NULL;
}
