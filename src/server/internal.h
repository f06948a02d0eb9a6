/*
 * internal.h -- shared state of the HTTP service: configuration, the open lake (one planar_db,
 * a pool of sessions, a catalog connection for the service tables), requests and replies.
 */
#ifndef PL_SERVER_INTERNAL_H
#define PL_SERVER_INTERNAL_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "catalog/driver.h"
#include "catalog/service.h"
#include "core/buf.h"
#include "core/err.h"
#include "planar/planar.h"

#define PL_SRV_LAKE "lake"

typedef struct pl_srv_config {
	const char *lake, *data_path;
	char *host; /* listen address */
	int port;   /* 0: any free port (logged at start) */
	unsigned threads;
	uint64_t max_body;     /* bytes; larger bodies get 413 */
	unsigned timeout_s;    /* idle connection timeout */
	unsigned drain_s;      /* SIGTERM: longest wait for requests in flight */
	unsigned max_conns;
	int64_t row_cap;       /* most rows a query returns */
	unsigned audit_flush_ms;
	unsigned query_timeout_ms; /* 0: none */
	const char *tls_cert, *tls_key; /* PEM files: serve HTTPS */
	unsigned max_in_flight; /* more data requests at once get 429 */
	unsigned retention_interval_s; /* retention passes; 0: none */
	unsigned inline_rows;   /* the lake's inlining limit for the service (ATTACH option) */
	uint64_t flush_rows;    /* inlined rows of a table that start a flush to Parquet; 0: never */
	unsigned flush_secs;    /* longest inlined rows wait for a flush, s */
	bool flush_on_stop;     /* SIGTERM flushes inlined rows */
} pl_srv_config;

/* The lake and its sessions (lake.c). */
typedef struct pl_srv_lake {
	planar_db *db;
	pthread_mutex_t pool_lock;
	planar_conn **pool;
	size_t npool, cappool;
	pl_catdb *svc; /* service tables; guarded by svc_lock */
	pl_catdb *audit_svc; /* the audit writer's own connection (its writes never block svc) */
	pthread_mutex_t svc_lock;
	pthread_mutex_t ingest_lock; /* one ingest commit at a time: its snapshot id is exact */
	char *uri, *data_path;
	/* as_of: snapshots attached read-only as lake_at_<id> (at most PL_SRV_MAX_ASOF) */
	pthread_mutex_t asof_lock;
	int64_t asof[64];
	int asof_refs[64]; /* sessions using each; an unused one is detached when a new one needs room */
	size_t nasof;
	/* the sandbox's list of tables per database ("schema\ttable", lower case), kept while the
	 * lake's schema version is the same (pinned attachments never change) */
	pthread_mutex_t tables_lock;
	struct pl_srv_tables {
		char db[64];
		int64_t version;
		char **names;
		size_t n;
		char **tenant; /* those with a tenant_id column (rowfilter.c) */
		size_t ntenant;
	} tables[8];
	size_t ntables_next;
	/* DuckDB's parse trees of recent query texts (json_serialize_sql depends on the text only),
	 * least recently used replaced; under tables_lock */
	struct pl_srv_parse {
		char *sql, *tree;
		uint64_t used;
	} parses[64];
	uint64_t parse_tick;
	/* ingest: each table's columns, kept while the lake's schema version is unchanged */
	pthread_mutex_t cols_lock;
	struct pl_srv_colcache {
		char *key; /* "schema\ttable" */
		int64_t version;
		void *cols;
	} cols[16];
	size_t ncols_next;
} pl_srv_lake;
#define PL_SRV_MAX_ASOF 64

/* Attaches (once) the lake at snapshot id as a pinned read-only database and counts one use
 * of it; its name in db_out (64 bytes). On failure a PLANAR_E* code and *errmsg (caller frees). */
int pl_srv_lake_at(pl_srv_lake *l, int64_t id, char *db_out, char **errmsg);
/* Ends one use of pl_srv_lake_at(id) (after the session left that database). */
void pl_srv_lake_at_done(pl_srv_lake *l, int64_t id);

/* inline_rows: the lake's data inlining limit for this service (0: the lake's own). */
int pl_srv_lake_open(pl_srv_lake *l, const char *uri, const char *data_path, unsigned inline_rows, char **errmsg);
void pl_srv_lake_close(pl_srv_lake *l);
/* Runs sql with its text parameters $1..$n bound to args[0..n) (NULL binds NULL) on conn; the
 * result in *res. */
int pl_srv_query_texts(planar_conn *conn, const char *sql, const char *const *args, size_t n, planar_result **res);
/* The id of the snapshot this process committed last on the lake (-1 when unknown). */
int64_t pl_srv_last_committed(planar_conn *conn);
/* A session with the lake as its current database (from the pool, or new). */
int pl_srv_conn_get(pl_srv_lake *l, planar_conn **out, char **errmsg);
/* Back to the pool (broken sessions: pass ok = false to close it). */
void pl_srv_conn_put(pl_srv_lake *l, planar_conn *c, bool ok);

typedef struct pl_srv pl_srv;
typedef struct pl_srv_metrics pl_srv_metrics;

/* One request, from its first byte to its log line. */
typedef struct pl_req {
	pl_srv *srv;
	char id[40];
	struct timespec start;
	char method[16];
	char *path;
	pl_buf body;
	bool started, too_large;
	int status;
	const char *route;
	char *target; /* what the request touched (table, token id) */
	char *token_id, *tenant_id, *role; /* authenticated caller */
	int64_t rows;
	char error_code[32];
	bool counted; /* counted in data_inflight */
	bool audited; /* its audit row is written already (with its group commit) */
	/* a suspended request: called when its connection is resumed (queues the reply) */
	enum MHD_Result (*resume)(struct MHD_Connection *c, struct pl_req *r);
	void *resume_arg;
	/* a body consumed as it arrives instead of being kept (NDJSON, Parquet): returns false to
	 * stop reading (then the reply is queued when the body ends) */
	bool (*sink)(struct pl_req *r, const char *data, size_t n);
	void *sink_arg;
	void (*sink_free)(struct pl_req *r);
} pl_req;

/* Audit buffer, flushed by a background thread (audit.c). */
typedef struct pl_srv_audit_buf {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pl_service_audit *rows;
	size_t n, cap;
	bool stop;
	pthread_t thread;
	bool started;
} pl_srv_audit_buf;

typedef struct pl_srv_watch_slot {
	planar_conn *conn; /* NULL: free slot */
	struct timespec deadline;
	bool fired;
} pl_srv_watch_slot;

typedef struct pl_srv_watchdog {
	pthread_mutex_t lock;
	pl_srv_watch_slot *slots;
	size_t n;
	bool stop, started;
	pthread_t thread;
} pl_srv_watchdog;

struct pl_srv {
	pl_srv_config cfg;
	pl_srv_metrics *metrics;
	char *tls_pem[2]; /* certificate and key texts while the daemon runs */
	pl_srv_watchdog watch;
	pl_srv_lake lake;
	pl_srv_audit_buf audit;
	struct MHD_Daemon *daemon;
	atomic_long inflight;
	atomic_long data_inflight; /* requests of the /data routes being served */
	atomic_bool draining;
	struct pl_srv_retention *retention; /* retention.c */
	struct pl_srv_batcher *batch; /* group commit and background flush (batcher.c) */
};

/* ---- replies (reply.c) ---- */
typedef enum pl_srv_err {
	PL_SRV_BAD_REQUEST,   /* 400 */
	PL_SRV_UNAUTHORIZED,  /* 401 */
	PL_SRV_FORBIDDEN,     /* 403 */
	PL_SRV_NOT_FOUND,     /* 404 */
	PL_SRV_METHOD,        /* 405 */
	PL_SRV_CONFLICT,      /* 409 */
	PL_SRV_TOO_LARGE,     /* 413 */
	PL_SRV_MEDIA_TYPE,    /* 415 */
	PL_SRV_INVALID,       /* 422 */
	PL_SRV_TOO_MANY,      /* 429 */
	PL_SRV_UNAVAILABLE,   /* 503 + Retry-After */
	PL_SRV_INTERNAL,      /* 500 */
	PL_SRV_STORAGE,       /* 507: a tenant's storage quota */
} pl_srv_err;

int pl_srv_err_status(pl_srv_err e);
const char *pl_srv_err_code(pl_srv_err e);
/* The error kind of a failed planar call (PLANAR_E* code). */
pl_srv_err pl_srv_err_of_planar(int code);
/* Queues a JSON reply (takes the reference of body). */
enum MHD_Result pl_srv_reply_json(struct MHD_Connection *c, pl_req *r, int status, json_t *body);
/* Queues {"error": {code, message, details}} (takes the reference of details, may be NULL). */
enum MHD_Result pl_srv_reply_error(struct MHD_Connection *c, pl_req *r, pl_srv_err e, const char *message,
				   json_t *details);
/* Whether the request's Content-Type is application/json (parameters allowed). */
bool pl_srv_is_json(struct MHD_Connection *c);
/* Parses the body as a JSON object; on failure queues the error reply and returns NULL
 * (*ret set). */
json_t *pl_srv_body_object(struct MHD_Connection *c, pl_req *r, enum MHD_Result *ret);
bool pl_srv_utf8_valid(const char *s, size_t n);

/* ---- tokens (auth.c) ---- */
/* Authenticates the request's bearer token (sets r->token_id/tenant_id/role); on failure queues
 * 401/503 and returns false. */
bool pl_srv_authenticate(struct MHD_Connection *c, pl_req *r, enum MHD_Result *ret);
/* Whether the caller may act for tenant (admin: any; else only its own); queues 403 if not. */
bool pl_srv_authorize_tenant(struct MHD_Connection *c, pl_req *r, const char *tenant, enum MHD_Result *ret);
void pl_srv_sha256_hex(const char *s, size_t n, char out[65]);
/* The catalog's data version (changes with every commit of another connection), -1 when the
 * catalog has none; what is kept with it is valid while it is the same (auth.c). */
int64_t pl_srv_catalog_gen(pl_srv_lake *l);
/* The lake's latest snapshot and schema version (pl_service_current), kept while the catalog's
 * data version is the same. */
int pl_srv_current(pl_srv_lake *l, int64_t *snapshot_id, int64_t *schema_version, pl_err *err);
/* Drops what auth.c keeps for l (at the lake's close). */
void pl_srv_auth_dispose(pl_srv_lake *l);

/* ---- audit (audit.c) ---- */
int pl_srv_audit_start(pl_srv *s);
void pl_srv_audit_push(pl_srv *s, const pl_req *r);
/* The audit row of r as it is now, answered with status (strings owned by *out). */
void pl_srv_audit_row(const pl_req *r, int status, int64_t rows, pl_service_audit *out);
void pl_srv_audit_row_free(pl_service_audit *a);
/* Queues a row made by pl_srv_audit_row for the background writer (takes its strings). */
void pl_srv_audit_push_row(pl_srv *s, pl_service_audit *a);
/* Stops the flusher after writing every buffered row. */
void pl_srv_audit_stop(pl_srv *s);

/* ---- HTTP (http.c) ---- */
int pl_srv_http_start(pl_srv *s, char **errmsg);
/* Stops accepting, waits for requests in flight (at most drain_s), stops the daemon. */
void pl_srv_http_drain(pl_srv *s);

/* ---- query time limits (watchdog.c) ---- */
int pl_srv_watch_start(pl_srv *s);
void pl_srv_watch_stop(pl_srv *s);
/* Registers conn with a deadline ms from now: a slot, or -1 (no limit). */
int pl_srv_watch_add(pl_srv *s, planar_conn *conn, unsigned ms);
bool pl_srv_watch_fired(pl_srv *s, int slot);
/* Unregisters; returns whether the deadline passed (the query was interrupted). */
bool pl_srv_watch_remove(pl_srv *s, int slot);

/* ---- streamed bodies (ingest_stream.c) ---- */
/* At a request's first call: whether its body is consumed as it arrives (POST /data/ingest
 * with an NDJSON or Parquet body); sets r->sink. */
bool pl_srv_stream_begin(struct MHD_Connection *c, pl_req *r);
/* The reply of a streamed ingest once its body has ended. */
enum MHD_Result pl_srv_stream_end(struct MHD_Connection *c, pl_req *r);

/* ---- group commit (batcher.c) ---- */
int pl_srv_batch_start(pl_srv *s);
void pl_srv_batch_stop(pl_srv *s);

/* ---- routes ---- */
enum MHD_Result pl_srv_route_ingest(struct MHD_Connection *c, pl_req *r);
void pl_srv_ingest_dispose(pl_srv_lake *l);
enum MHD_Result pl_srv_route_metrics(struct MHD_Connection *c, pl_req *r);
enum MHD_Result pl_srv_route_openapi(struct MHD_Connection *c, pl_req *r);

/* ---- metrics (metrics.c) ---- */
int pl_srv_metrics_init(pl_srv *s);
void pl_srv_metrics_free(pl_srv *s);
void pl_srv_metrics_observe(pl_srv *s, const pl_req *r, double seconds);
enum MHD_Result pl_srv_route_query(struct MHD_Connection *c, pl_req *r);

/* ---- sandbox (sandbox.c) ---- */
/* Checks that sql is one read-only SELECT over the tables of database db (the lake or a pinned
 * attachment of it) only; on refusal returns PLANAR_EINVALID with a message in *why (caller
 * frees). conn has db as its current database. */
struct pl_srv_policy;
/* What the sandbox admitted, for the row filter: DuckDB's parse tree of the query as JSON text
 * (json_serialize_sql; free with planar_free) and the tables of db with a tenant_id column
 * ("schema\ttable", lower case). */
typedef struct pl_srv_parsed {
	char *tree;
	char **tenant_tables;
	size_t ntenant;
} pl_srv_parsed;
void pl_srv_parsed_free(pl_srv_parsed *p);
/* pol (NULL: none): only the tables its allowed_tables names are tables of the lake. parsed
 * (NULL: not wanted) is set when the query is admitted; free it with pl_srv_parsed_free. */
int pl_srv_sandbox_check(pl_srv_lake *l, planar_conn *conn, const char *db, const char *sql,
			 const struct pl_srv_policy *pol, pl_srv_parsed *parsed, char **why);
void pl_srv_sandbox_dispose(pl_srv_lake *l);

void pl_srv_timestamp_iso(int64_t micros, bool tz, char out[40]);

#endif
