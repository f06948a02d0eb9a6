/*
 * policy.h -- tenant policies of the HTTP service (policy.c): which tables a tenant may use,
 * how long its rows are kept (retention.c) and how much it may store; world-model snapshots
 * (snapshots.c); the data-plane tables (dataplane.c).
 */
#ifndef PL_SERVER_POLICY_H
#define PL_SERVER_POLICY_H

#include "server/internal.h"

typedef struct pl_srv_policy {
	bool found;
	int64_t retention_days; /* -1: keep forever */
	int64_t max_bytes;      /* -1: no quota */
	json_t *allowed;        /* array of "schema.table" / "schema.*"; NULL: every table */
} pl_srv_policy;

/* The tenant's policy (found = false, no limits, when it has none or tenant is NULL). */
int pl_srv_policy_load(pl_srv *s, const char *tenant, pl_srv_policy *out, pl_err *err);
/* Forgets the policies kept for lake l (when the server stops). */
void pl_srv_policy_dispose(const pl_srv_lake *l);
void pl_srv_policy_free(pl_srv_policy *p);
/* Whether the policy lets its tenant use schema.table. */
bool pl_srv_policy_allows(const pl_srv_policy *p, const char *schema, const char *table);
/* Whether tenant may use table ("t" or "schema.t") for op ("ingest", "query", "snapshots"):
 * 0, PL_EINVALID with a message naming the table when the policy does not allow it, or the
 * catalog's error. A NULL tenant (an admin acting for no tenant) may use every table. */
int pl_srv_policy_check(pl_srv *s, const char *tenant, const char *table, const char *op, pl_err *err);
/* The tenant's usage in bytes and its quota (-1: none). */
int pl_srv_usage_get(pl_srv *s, const char *tenant, int64_t *bytes, int64_t *writes, int64_t *max_bytes, pl_err *err);

/* For a write of bytes (its request body's size) into table by tenant: checks allowed_tables
 * (403) and the quota (507 with the usage); on refusal queues the reply and returns false. */
bool pl_srv_policy_admit(struct MHD_Connection *c, pl_req *r, const char *tenant, const char *table, const char *op,
			 int64_t bytes, enum MHD_Result *ret);
/* Records an accepted write's bytes for the tenant's usage (logged, not failed, on error). */
void pl_srv_policy_written(pl_srv *s, const char *tenant, const char *table, const char *partition_id, int64_t bytes,
			   int64_t snapshot_id);

/* The OpenAPI "paths" entries of the routes below (no enclosing braces). */
extern const char pl_srv_policy_openapi_paths[];
/* Serves the routes below when the path is one of theirs (sets *ret, returns true). */
bool pl_srv_policy_dispatch(struct MHD_Connection *c, pl_req *r, enum MHD_Result *ret);
/* PUT/GET /data/policy, GET /data/usage, POST /data/retention, /data/snapshots[/{id}] */
enum MHD_Result pl_srv_route_policy(struct MHD_Connection *c, pl_req *r);
enum MHD_Result pl_srv_route_usage(struct MHD_Connection *c, pl_req *r);
enum MHD_Result pl_srv_route_retention(struct MHD_Connection *c, pl_req *r);
enum MHD_Result pl_srv_route_snapshots(struct MHD_Connection *c, pl_req *r);

/* The data-plane tables and policy catalog tables (created when missing), and the retention
 * thread (every cfg.retention_interval_s seconds; 0: never). */
int pl_srv_dataplane_start(pl_srv *s, char **errmsg);
void pl_srv_dataplane_stop(pl_srv *s);

typedef struct pl_srv_retention_stats {
	int64_t tenants, ingests, rows, snapshots_expired, files_deleted;
} pl_srv_retention_stats;
/* One retention pass over every tenant with a retention (all tenants' passes one at a time). */
int pl_srv_retention_run(pl_srv *s, pl_srv_retention_stats *st, char **errmsg);

/* as_of of the query API: a lake snapshot id, a timestamp (the last snapshot at or before it)
 * or a world-model snapshot id (its pinned lake snapshot; only the tenant's own). Sets *id;
 * on failure a PLANAR_E* code and *errmsg (caller frees): ENOTFOUND, EINVALID. */
int pl_srv_resolve_as_of(pl_srv *s, planar_conn *conn, const char *as_of, const char *tenant, int64_t *id,
			 char **errmsg);

/* For a tenant's query (tenant NULL: none) already admitted by the sandbox (parsed: its parse
 * tree and db's tables with a tenant_id column): the SQL that reads only the tenant's rows of
 * those tables in *out (NULL: the query reads none, run it as it is; free with planar_free). On
 * failure PLANAR_EINVALID and *why. */
int pl_srv_rowfilter(planar_conn *conn, const char *db, const pl_srv_parsed *parsed, const char *tenant, char **out,
		     char **why);

#endif
