/*
 * policy.c -- tenant policies: PUT /data/policy {tenant_id, retention_days, allowed_tables,
 * max_storage_gb} (admin tokens only) -> 200 with the stored policy; GET /data/policy?tenant_id=
 * (an admin: any tenant; a tenant token: its own); GET /data/usage?tenant_id=.
 *
 * A tenant without a policy may use every table, keeps its rows forever and has no quota.
 * allowed_tables holds "table" (schema main), "schema.table", "schema.*" or "*"; it applies to
 * ingest, to every table a query reads (the sandbox sees only allowed tables, so the refusal
 * of a table that exists and of one that does not read alike) and to world-model snapshots
 * (the table world_model.snapshots). Usage is the size of the request bodies whose rows a
 * tenant wrote and retention has not removed yet; a write that would pass max_storage_gb (10^9 bytes) gets 507
 * with the usage in its details.
 */
#include "server/policy.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/policy.h"
#include "core/ids.h"
#include "core/str.h"

void pl_srv_policy_free(pl_srv_policy *p)
{
	json_decref(p->allowed);
	memset(p, 0, sizeof *p);
}

/* Policies read from the catalog, kept while its generation (pl_srv_catalog_gen: a commit by
 * any other connection moves it) and this server's own count of policy writes are unchanged. */
#define POLICY_SLOTS 32
static pthread_mutex_t pol_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_long pol_writes;
static struct pol_slot {
	const pl_srv_lake *l;
	char *tenant;
	int64_t gen;
	long writes;
	bool found;
	int64_t retention_days, max_bytes;
	char *allowed; /* the stored JSON text, NULL: none */
	uint64_t used;
} pols[POLICY_SLOTS];
static uint64_t pol_tick;

static void policy_fill(pl_srv_policy *out, bool found, int64_t days, int64_t max_bytes, const char *allowed)
{
	out->found = found;
	out->retention_days = days;
	out->max_bytes = max_bytes;
	if (allowed) {
		out->allowed = json_loads(allowed, 0, NULL);
		if (!json_is_array(out->allowed)) { /* unreadable: allow nothing rather than everything */
			json_decref(out->allowed);
			out->allowed = json_array();
		}
	}
}

static bool policy_kept(const pl_srv_lake *l, const char *tenant, int64_t gen, long writes, pl_srv_policy *out)
{
	bool hit = false;
	pthread_mutex_lock(&pol_lock);
	for (size_t i = 0; i < POLICY_SLOTS && !hit; i++) {
		struct pol_slot *p = &pols[i];
		if (p->l == l && p->gen == gen && p->writes == writes && p->tenant && strcmp(p->tenant, tenant) == 0) {
			p->used = ++pol_tick;
			policy_fill(out, p->found, p->retention_days, p->max_bytes, p->allowed);
			hit = true;
		}
	}
	pthread_mutex_unlock(&pol_lock);
	return hit;
}

static void policy_keep(const pl_srv_lake *l, const char *tenant, int64_t gen, long writes, bool found, int64_t days,
			int64_t max_bytes, const char *allowed)
{
	char *t = pl_strdup(tenant), *a = allowed ? pl_strdup(allowed) : NULL;
	if (!t || (allowed && !a)) {
		free(t);
		free(a);
		return;
	}
	pthread_mutex_lock(&pol_lock);
	struct pol_slot *p = &pols[0];
	for (size_t i = 0; i < POLICY_SLOTS; i++) {
		struct pol_slot *c = &pols[i];
		if (c->l == l && c->tenant && strcmp(c->tenant, tenant) == 0) { /* the tenant's older entry */
			p = c;
			break;
		}
		if (c->used < p->used)
			p = c;
	}
	free(p->tenant);
	free(p->allowed);
	*p = (struct pol_slot){l, t, gen, writes, found, days, max_bytes, a, ++pol_tick};
	pthread_mutex_unlock(&pol_lock);
}

void pl_srv_policy_dispose(const pl_srv_lake *l)
{
	pthread_mutex_lock(&pol_lock);
	for (size_t i = 0; i < POLICY_SLOTS; i++) {
		if (pols[i].l != l)
			continue;
		free(pols[i].tenant);
		free(pols[i].allowed);
		memset(&pols[i], 0, sizeof pols[i]);
	}
	pthread_mutex_unlock(&pol_lock);
}

int pl_srv_policy_load(pl_srv *s, const char *tenant, pl_srv_policy *out, pl_err *err)
{
	memset(out, 0, sizeof *out);
	out->retention_days = out->max_bytes = -1;
	if (!tenant)
		return 0;
	pl_srv_lake *l = &s->lake;
	long writes = atomic_load(&pol_writes);
	int64_t gen = pl_srv_catalog_gen(l); /* read before the policy: the policy is at least as new */
	if (gen >= 0 && policy_kept(l, tenant, gen, writes, out))
		return 0;
	pl_rows *rows = NULL;
	pthread_mutex_lock(&l->svc_lock);
	int rc = pl_policy_get(l->svc, tenant, &rows, err);
	pthread_mutex_unlock(&l->svc_lock);
	if (rc)
		return rc;
	bool found = rows->nrows > 0;
	int64_t days = found ? pl_rows_int(rows, 0, 1, -1) : -1, max_bytes = found ? pl_rows_int(rows, 0, 4, -1) : -1;
	const char *a = found ? pl_rows_get(rows, 0, 2) : NULL;
	policy_fill(out, found, days, max_bytes, a);
	if (gen >= 0)
		policy_keep(l, tenant, gen, writes, found, days, max_bytes, a);
	pl_rows_free(rows);
	return 0;
}

static bool ieq_n(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char x = a[i], y = b[i];
		if (x >= 'A' && x <= 'Z')
			x = (char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (char)(y - 'A' + 'a');
		if (x != y)
			return false;
		if (!x)
			return true;
	}
	return true;
}

bool pl_srv_policy_allows(const pl_srv_policy *p, const char *schema, const char *table)
{
	if (!p || !p->allowed)
		return true;
	for (size_t i = 0; i < json_array_size(p->allowed); i++) {
		const char *e = json_string_value(json_array_get(p->allowed, i));
		if (!e)
			continue;
		if (strcmp(e, "*") == 0)
			return true;
		const char *dot = strchr(e, '.');
		if (!dot) {
			if (pl_str_ieq(schema, "main") && pl_str_ieq(e, table))
				return true;
			continue;
		}
		size_t sl = (size_t)(dot - e);
		if (strlen(schema) != sl || !ieq_n(e, schema, sl))
			continue;
		if (strcmp(dot + 1, "*") == 0 || pl_str_ieq(dot + 1, table))
			return true;
	}
	return false;
}

int pl_srv_policy_check(pl_srv *s, const char *tenant, const char *table, const char *op, pl_err *err)
{
	if (!tenant)
		return 0;
	pl_srv_policy p;
	int rc = pl_srv_policy_load(s, tenant, &p, err);
	if (rc)
		return rc;
	const char *dot = strchr(table, '.');
	char schema[PL_NAME_MAX + 1];
	snprintf(schema, sizeof schema, "%.*s", dot ? (int)(dot - table) : 4, dot ? table : "main");
	bool ok = pl_srv_policy_allows(&p, schema, dot ? dot + 1 : table);
	pl_srv_policy_free(&p);
	if (!ok)
		return pl_err_set(err, PL_EINVALID, "the policy of tenant \"%.100s\" does not allow %s on the table \"%.200s\"",
				  tenant, op, table);
	return 0;
}

int pl_srv_usage_get(pl_srv *s, const char *tenant, int64_t *bytes, int64_t *writes, int64_t *max_bytes, pl_err *err)
{
	pl_srv_policy p;
	int rc = pl_srv_policy_load(s, tenant, &p, err);
	if (rc)
		return rc;
	*max_bytes = p.max_bytes;
	pl_srv_policy_free(&p);
	pl_rows *rows = NULL;
	pthread_mutex_lock(&s->lake.svc_lock);
	rc = pl_policy_usage(s->lake.svc, tenant, &rows, err);
	pthread_mutex_unlock(&s->lake.svc_lock);
	if (rc)
		return rc;
	*bytes = pl_rows_int(rows, 0, 0, 0);
	*writes = pl_rows_int(rows, 0, 1, 0);
	pl_rows_free(rows);
	return 0;
}

static json_t *usage_json(const char *tenant, int64_t bytes, int64_t writes, int64_t max_bytes)
{
	json_t *o = json_pack("{s:s,s:I,s:I,s:f}", "tenant_id", tenant, "usage_bytes", (json_int_t)bytes, "writes",
			      (json_int_t)writes, "usage_gb", (double)bytes / 1e9);
	if (o) {
		json_object_set_new(o, "max_storage_bytes", max_bytes < 0 ? json_null() : json_integer(max_bytes));
		json_object_set_new(o, "max_storage_gb", max_bytes < 0 ? json_null() : json_real((double)max_bytes / 1e9));
	}
	return o;
}

bool pl_srv_policy_admit(struct MHD_Connection *c, pl_req *r, const char *tenant, const char *table, const char *op,
			 int64_t bytes, enum MHD_Result *ret)
{
	pl_err err;
	pl_err_clear(&err);
	/* one policy read; the usage sum only for a tenant with a quota */
	pl_srv_policy p;
	int rc = pl_srv_policy_load(r->srv, tenant, &p, &err);
	int64_t quota = p.max_bytes;
	if (rc == 0) {
		const char *dot = strchr(table, '.');
		char schema[PL_NAME_MAX + 1];
		snprintf(schema, sizeof schema, "%.*s", dot ? (int)(dot - table) : 4, dot ? table : "main");
		if (tenant && !pl_srv_policy_allows(&p, schema, dot ? dot + 1 : table))
			rc = pl_err_set(&err, PL_EINVALID,
					"the policy of tenant \"%.100s\" does not allow %s on the table \"%.200s\"", tenant, op,
					table);
	}
	pl_srv_policy_free(&p);
	if (rc == PL_EINVALID) {
		*ret = pl_srv_reply_error(c, r, PL_SRV_FORBIDDEN, err.msg,
					  json_pack("{s:s,s:s,s:s}", "reason", "allowed_tables", "tenant_id", tenant, "table", table));
		return false;
	}
	if (rc == 0 && bytes > 0 && quota >= 0) {
		int64_t used = 0, writes = 0, max = -1;
		rc = pl_srv_usage_get(r->srv, tenant, &used, &writes, &max, &err);
		if (rc == 0 && max >= 0 && used + bytes > max) {
			json_t *d = usage_json(tenant, used, writes, max);
			json_object_set_new(d, "request_bytes", json_integer(bytes));
			json_object_set_new(d, "reason", json_string("max_storage_gb"));
			*ret = pl_srv_reply_error(c, r, PL_SRV_STORAGE,
						  "the tenant's storage quota (max_storage_gb) would be exceeded; see GET "
						  "/data/usage",
						  d);
			return false;
		}
	}
	if (rc) {
		*ret = pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, "the catalog cannot be reached to check the policy",
					  json_pack("{s:s}", "reason", err.msg));
		return false;
	}
	return true;
}

void pl_srv_policy_written(pl_srv *s, const char *tenant, const char *table, const char *partition_id, int64_t bytes,
			   int64_t snapshot_id)
{
	char now[32];
	pl_now_timestamptz(now);
	pl_err err;
	pl_err_clear(&err);
	pthread_mutex_lock(&s->lake.svc_lock);
	int rc = pl_policy_usage_add(s->lake.svc, partition_id, tenant, table, bytes, snapshot_id, now, &err);
	pthread_mutex_unlock(&s->lake.svc_lock);
	if (rc)
		fprintf(stderr, "{\"event\":\"usage_write_failed\",\"partition_id\":\"%s\"}\n", partition_id);
}

/* ---- routes ---- */

static json_t *policy_json(const char *tenant, pl_rows *rows)
{
	bool found = rows && rows->nrows > 0;
	json_t *o = json_pack("{s:s,s:b}", "tenant_id", tenant, "configured", found);
	int64_t days = found ? pl_rows_int(rows, 0, 1, -1) : -1, maxb = found ? pl_rows_int(rows, 0, 4, -1) : -1;
	const char *allowed = found ? pl_rows_get(rows, 0, 2) : NULL, *gb = found ? pl_rows_get(rows, 0, 3) : NULL;
	json_object_set_new(o, "retention_days", days < 0 ? json_null() : json_integer(days));
	json_t *a = allowed ? json_loads(allowed, 0, NULL) : NULL;
	json_object_set_new(o, "allowed_tables", a ? a : json_null());
	json_t *g = gb ? json_loads(gb, JSON_DECODE_ANY, NULL) : NULL;
	json_object_set_new(o, "max_storage_gb", g ? g : json_null());
	json_object_set_new(o, "max_storage_bytes", maxb < 0 ? json_null() : json_integer(maxb));
	if (found) {
		json_object_set_new(o, "updated_at", json_string(pl_rows_get(rows, 0, 5) ? pl_rows_get(rows, 0, 5) : ""));
		json_object_set_new(o, "updated_by", json_string(pl_rows_get(rows, 0, 6) ? pl_rows_get(rows, 0, 6) : ""));
	}
	return o;
}

static enum MHD_Result invalid_field(struct MHD_Connection *c, pl_req *r, const char *field, const char *reason)
{
	char m[300];
	snprintf(m, sizeof m, "field \"%s\": %s", field, reason);
	return pl_srv_reply_error(c, r, PL_SRV_INVALID, m, json_pack("{s:s,s:s}", "field", field, "reason", reason));
}

static bool table_pattern_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 2 * PL_NAME_MAX + 1 || !pl_srv_utf8_valid(s, n))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20)
			return false;
	const char *dot = strchr(s, '.');
	if (!dot)
		return strlen(s) <= PL_NAME_MAX;
	return dot > s && dot[1] && !strchr(dot + 1, '.') && (size_t)(dot - s) <= PL_NAME_MAX &&
	       strlen(dot + 1) <= PL_NAME_MAX;
}

static enum MHD_Result policy_put(struct MHD_Connection *c, pl_req *r)
{
	enum MHD_Result ret;
	if (!r->role || strcmp(r->role, "admin") != 0)
		return pl_srv_reply_error(c, r, PL_SRV_FORBIDDEN, "only an admin token may set a policy", NULL);
	json_t *body = pl_srv_body_object(c, r, &ret);
	if (!body)
		return ret;
	const char *k;
	json_t *v;
	json_object_foreach(body, k, v)
	{
		if (strcmp(k, "tenant_id") != 0 && strcmp(k, "retention_days") != 0 && strcmp(k, "allowed_tables") != 0 &&
		    strcmp(k, "max_storage_gb") != 0) {
			ret = invalid_field(c, r, k, "unknown field (expected tenant_id, retention_days, allowed_tables, "
						     "max_storage_gb)");
			json_decref(body);
			return ret;
		}
	}
	json_t *t = json_object_get(body, "tenant_id"), *rd = json_object_get(body, "retention_days"),
	       *at = json_object_get(body, "allowed_tables"), *mg = json_object_get(body, "max_storage_gb");
	const char *bad_field = NULL, *why = NULL;
	if (!json_is_string(t) || json_string_length(t) == 0 || json_string_length(t) > 200)
		bad_field = "tenant_id", why = "a non-empty string of at most 200 bytes is required";
	else if (rd && !json_is_null(rd) && (!json_is_integer(rd) || json_integer_value(rd) < 0 ||
					     json_integer_value(rd) > 1000000))
		bad_field = "retention_days", why = "expected null or an integer from 0 to 1000000";
	else if (at && !json_is_null(at) && !json_is_array(at))
		bad_field = "allowed_tables", why = "expected null or an array of \"table\", \"schema.table\" or \"schema.*\"";
	else if (mg && !json_is_null(mg) &&
		 (!json_is_number(mg) || !(json_number_value(mg) > 0) || !isfinite(json_number_value(mg)) ||
		  json_number_value(mg) > 1e9))
		bad_field = "max_storage_gb", why = "expected null or a positive number (gigabytes, 10^9 bytes)";
	char elem[64];
	for (size_t i = 0; !bad_field && json_is_array(at) && i < json_array_size(at); i++) {
		json_t *e = json_array_get(at, i);
		if (!json_is_string(e) || !table_pattern_ok(json_string_value(e))) {
			snprintf(elem, sizeof elem, "allowed_tables[%zu]", i);
			bad_field = elem, why = "expected \"table\", \"schema.table\", \"schema.*\" or \"*\"";
		}
	}
	if (bad_field) {
		ret = invalid_field(c, r, bad_field, why);
		json_decref(body);
		return ret;
	}
	const char *tenant = json_string_value(t);
	r->target = pl_strdup(tenant);
	char *allowed = json_is_array(at) ? json_dumps(at, JSON_COMPACT) : NULL;
	char *gb = json_is_number(mg) ? json_dumps(mg, JSON_ENCODE_ANY) : NULL;
	char now[32];
	pl_now_timestamptz(now);
	pl_policy_row row = {tenant,
			     json_is_integer(rd) ? json_integer_value(rd) : -1,
			     allowed,
			     gb,
			     json_is_number(mg) ? (int64_t)llround(json_number_value(mg) * 1e9) : -1,
			     now,
			     r->token_id};
	pl_err err;
	pl_err_clear(&err);
	pl_rows *rows = NULL;
	pl_srv_lake *l = &r->srv->lake;
	pthread_mutex_lock(&l->svc_lock);
	int rc = pl_policy_put(l->svc, &row, &err);
	atomic_fetch_add(&pol_writes, 1); /* this connection's own write does not move the generation */
	if (rc == 0)
		rc = pl_policy_get(l->svc, tenant, &rows, &err);
	pthread_mutex_unlock(&l->svc_lock);
	free(allowed);
	free(gb);
	if (rc)
		ret = pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, "cannot store the policy in the catalog",
					 json_pack("{s:s}", "reason", err.msg));
	else
		ret = pl_srv_reply_json(c, r, 200, policy_json(tenant, rows));
	pl_rows_free(rows);
	json_decref(body);
	return ret;
}

/* The tenant a GET names: tenant_id, or the token's own; NULL when a reply was queued. */
static const char *query_tenant(struct MHD_Connection *c, pl_req *r, enum MHD_Result *ret)
{
	const char *tenant = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "tenant_id");
	if (tenant && (!*tenant || !pl_srv_utf8_valid(tenant, strlen(tenant)))) {
		*ret = pl_srv_reply_error(c, r, PL_SRV_BAD_REQUEST, "\"tenant_id\" must be non-empty UTF-8 text", NULL);
		return NULL;
	}
	if (!tenant)
		tenant = r->tenant_id;
	if (!tenant) {
		*ret = pl_srv_reply_error(c, r, PL_SRV_BAD_REQUEST, "\"tenant_id\" is required (an admin token has no tenant)",
					  NULL);
		return NULL;
	}
	if (!pl_srv_authorize_tenant(c, r, tenant, ret))
		return NULL;
	return tenant;
}

enum MHD_Result pl_srv_route_policy(struct MHD_Connection *c, pl_req *r)
{
	if (strcmp(r->method, "PUT") == 0)
		return policy_put(c, r);
	enum MHD_Result ret;
	const char *tenant = query_tenant(c, r, &ret);
	if (!tenant)
		return ret;
	pl_err err;
	pl_err_clear(&err);
	pl_rows *rows = NULL;
	pl_srv_lake *l = &r->srv->lake;
	pthread_mutex_lock(&l->svc_lock);
	int rc = pl_policy_get(l->svc, tenant, &rows, &err);
	pthread_mutex_unlock(&l->svc_lock);
	if (rc)
		return pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, "the catalog cannot be reached",
					  json_pack("{s:s}", "reason", err.msg));
	ret = pl_srv_reply_json(c, r, 200, policy_json(tenant, rows));
	pl_rows_free(rows);
	return ret;
}

enum MHD_Result pl_srv_route_usage(struct MHD_Connection *c, pl_req *r)
{
	enum MHD_Result ret;
	const char *tenant = query_tenant(c, r, &ret);
	if (!tenant)
		return ret;
	pl_err err;
	pl_err_clear(&err);
	int64_t bytes = 0, writes = 0, max = -1;
	if (pl_srv_usage_get(r->srv, tenant, &bytes, &writes, &max, &err) != 0)
		return pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, "the catalog cannot be reached",
					  json_pack("{s:s}", "reason", err.msg));
	return pl_srv_reply_json(c, r, 200, usage_json(tenant, bytes, writes, max));
}

bool pl_srv_policy_dispatch(struct MHD_Connection *c, pl_req *r, enum MHD_Result *ret)
{
	static const struct {
		const char *path, *route, *methods;
		enum MHD_Result (*fn)(struct MHD_Connection *, pl_req *);
	} routes[] = {
		{"/data/policy", "policy", "GET PUT", pl_srv_route_policy},
		{"/data/usage", "usage", "GET", pl_srv_route_usage},
		{"/data/retention", "retention", "POST", pl_srv_route_retention},
		{"/data/snapshots", "snapshots", "GET POST", pl_srv_route_snapshots},
	};
	const char *p = r->path;
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		size_t n = strlen(routes[i].path);
		bool sub = i == 3 && strncmp(p, routes[i].path, n) == 0 && p[n] == '/' && p[n + 1];
		if (strcmp(p, routes[i].path) != 0 && !sub)
			continue;
		r->route = routes[i].route;
		const char *m = strstr(routes[i].methods, r->method);
		if (!m || (m[strlen(r->method)] != ' ' && m[strlen(r->method)] != '\0') || (sub && strcmp(r->method, "GET") != 0)) {
			char msg[64];
			snprintf(msg, sizeof msg, "use %s", sub ? "GET" : routes[i].methods);
			*ret = pl_srv_reply_error(c, r, PL_SRV_METHOD, msg, NULL);
			return true;
		}
		if (!pl_srv_authenticate(c, r, ret))
			return true;
		*ret = routes[i].fn(c, r);
		return true;
	}
	return false;
}

/* The OpenAPI entries of these routes (metrics.c puts them into /openapi.json). */
const char pl_srv_policy_openapi_paths[] =
	"\"/data/policy\":{\"get\":{\"summary\":\"a tenant's policy (admins: any tenant)\",\"security\":[{\"bearer\":[]}]"
	",\"parameters\":[{\"name\":\"tenant_id\",\"in\":\"query\",\"schema\":{\"type\":\"string\"}}],\"responses\":{\"200\":{\"de"
	"scription\":\"the policy (configured: false when none)\",\"content\":{\"application/json\":{\"schema\":{\"type"
	"\":\"object\",\"required\":[\"tenant_id\"],\"properties\":{\"tenant_id\":{\"type\":\"string\"},\"retention_days\":{\"t"
	"ype\":[\"integer\",\"null\"],\"minimum\":0},\"allowed_tables\":{\"type\":[\"array\",\"null\"],\"items\":{\"type\":\"stri"
	"ng\"},\"description\":\"\\\"table\\\" (schema main), \\\"schema.table\\\", \\\"schema.*\\\" or \\\"*\\\"\"},\"max_storage_"
	"gb\":{\"type\":[\"number\",\"null\"],\"exclusiveMinimum\":0}}}}}},\"400\":{\"description\":\"bad request\"},\"401\":{"
	"\"description\":\"no token\"},\"403\":{\"description\":\"forbidden\"},\"503\":{\"description\":\"unavailable\"}}},\"p"
	"ut\":{\"summary\":\"set a tenant's policy (admin only)\",\"security\":[{\"bearer\":[]}],\"requestBody\":{\"requi"
	"red\":true,\"content\":{\"application/json\":{\"schema\":{\"type\":\"object\",\"required\":[\"tenant_id\"],\"propert"
	"ies\":{\"tenant_id\":{\"type\":\"string\"},\"retention_days\":{\"type\":[\"integer\",\"null\"],\"minimum\":0},\"allowe"
	"d_tables\":{\"type\":[\"array\",\"null\"],\"items\":{\"type\":\"string\"},\"description\":\"\\\"table\\\" (schema main),"
	" \\\"schema.table\\\", \\\"schema.*\\\" or \\\"*\\\"\"},\"max_storage_gb\":{\"type\":[\"number\",\"null\"],\"exclusiveMini"
	"mum\":0}}}}}},\"responses\":{\"200\":{\"description\":\"stored\",\"content\":{\"application/json\":{\"schema\":{\"ty"
	"pe\":\"object\",\"required\":[\"tenant_id\"],\"properties\":{\"tenant_id\":{\"type\":\"string\"},\"retention_days\":{"
	"\"type\":[\"integer\",\"null\"],\"minimum\":0},\"allowed_tables\":{\"type\":[\"array\",\"null\"],\"items\":{\"type\":\"st"
	"ring\"},\"description\":\"\\\"table\\\" (schema main), \\\"schema.table\\\", \\\"schema.*\\\" or \\\"*\\\"\"},\"max_storag"
	"e_gb\":{\"type\":[\"number\",\"null\"],\"exclusiveMinimum\":0}}}}}},\"401\":{\"description\":\"no token\"},\"403\":{\""
	"description\":\"forbidden\"},\"415\":{\"description\":\"not JSON\"},\"422\":{\"description\":\"invalid field (deta"
	"ils name it)\"},\"503\":{\"description\":\"unavailable\"}}}},\"/data/usage\":{\"get\":{\"summary\":\"a tenant's st"
	"orage usage and quota\",\"security\":[{\"bearer\":[]}],\"parameters\":[{\"name\":\"tenant_id\",\"in\":\"query\",\"sc"
	"hema\":{\"type\":\"string\"}}],\"responses\":{\"200\":{\"description\":\"usage\",\"content\":{\"application/json\":{\""
	"schema\":{\"type\":\"object\",\"properties\":{\"tenant_id\":{\"type\":\"string\"},\"usage_bytes\":{\"type\":\"integer\""
	"},\"writes\":{\"type\":\"integer\"},\"usage_gb\":{\"type\":\"number\"},\"max_storage_bytes\":{\"type\":[\"integer\",\"n"
	"ull\"]},\"max_storage_gb\":{\"type\":[\"number\",\"null\"]}}}}}},\"400\":{\"description\":\"bad request\"},\"401\":{\""
	"description\":\"no token\"},\"403\":{\"description\":\"forbidden\"},\"503\":{\"description\":\"unavailable\"}}}},\"/"
	"data/retention\":{\"post\":{\"summary\":\"run one retention pass now (admin only)\",\"security\":[{\"bearer\":["
	"]}],\"responses\":{\"200\":{\"description\":\"what the pass removed\",\"content\":{\"application/json\":{\"schema"
	"\":{\"type\":\"object\",\"properties\":{\"tenants\":{\"type\":\"integer\"},\"ingests\":{\"type\":\"integer\"},\"rows_del"
	"eted\":{\"type\":\"integer\"},\"snapshots_expired\":{\"type\":\"integer\"},\"files_deleted\":{\"type\":\"integer\"}}}"
	"}}},\"401\":{\"description\":\"no token\"},\"403\":{\"description\":\"forbidden\"},\"409\":{\"description\":\"conflic"
	"t\"},\"503\":{\"description\":\"unavailable\"}}}},\"/data/snapshots\":{\"post\":{\"summary\":\"store a world-model"
	" snapshot (WorldModelSnapshot)\",\"security\":[{\"bearer\":[]}],\"requestBody\":{\"required\":true,\"content\":"
	"{\"application/json\":{\"schema\":{\"type\":\"object\",\"required\":[\"snapshot_id\",\"intent_id\",\"timestamp\",\"ag"
	"ents_active\",\"user_plane\",\"causal_chain\"],\"properties\":{\"snapshot_id\":{\"type\":\"string\",\"format\":\"uui"
	"d\"},\"intent_id\":{\"type\":\"string\",\"format\":\"uuid\"},\"timestamp\":{\"type\":\"string\",\"format\":\"date-time\"}"
	",\"agents_active\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"required\":[\"role\",\"status\",\"tool_call_cou"
	"nt\"],\"properties\":{\"role\":{\"type\":\"string\"},\"status\":{\"type\":\"string\"},\"tool_call_count\":{\"type\":\"in"
	"teger\",\"minimum\":0}}}},\"user_plane\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"object\",\"proper"
	"ties\":{\"jobs_in_flight\":{\"type\":\"integer\"},\"gpu_util\":{\"type\":\"number\"}}}},\"causal_chain\":{\"type\":\"a"
	"rray\",\"items\":{\"type\":\"object\",\"required\":[\"intent_id\"],\"properties\":{\"intent_id\":{\"type\":\"string\",\""
	"format\":\"uuid\"},\"job_id\":{\"type\":\"string\"},\"outcome\":{\"type\":\"string\"}}}},\"tenant_id\":{\"type\":\"strin"
	"g\",\"description\":\"admin tokens only\"},\"lake_snapshot_id\":{\"type\":\"integer\",\"readOnly\":true}}}}}},\"re"
	"sponses\":{\"201\":{\"description\":\"stored (or the same snapshot again)\",\"content\":{\"application/json\":{"
	"\"schema\":{\"type\":\"object\",\"properties\":{\"snapshot_id\":{\"type\":\"string\"},\"lake_snapshot_id\":{\"type\":\""
	"integer\"},\"tenant_id\":{\"type\":\"string\"}}}}}},\"401\":{\"description\":\"no token\"},\"403\":{\"description\":\""
	"forbidden\"},\"409\":{\"description\":\"conflict\"},\"415\":{\"description\":\"not JSON\"},\"422\":{\"description\":\""
	"invalid field (details name it)\"},\"503\":{\"description\":\"unavailable\"},\"507\":{\"description\":\"storage "
	"quota exceeded (details hold the usage)\"}}},\"get\":{\"summary\":\"the caller's snapshots by time\",\"secur"
	"ity\":[{\"bearer\":[]}],\"parameters\":[{\"name\":\"intent_id\",\"in\":\"query\",\"schema\":{\"type\":\"string\",\"forma"
	"t\":\"uuid\"}},{\"name\":\"from\",\"in\":\"query\",\"schema\":{\"type\":\"string\",\"format\":\"date-time\"}},{\"name\":\"to"
	"\",\"in\":\"query\",\"schema\":{\"type\":\"string\",\"format\":\"date-time\"}},{\"name\":\"limit\",\"in\":\"query\",\"schema"
	"\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":10000}},{\"name\":\"tenant_id\",\"in\":\"query\",\"schema\":{\"type\":"
	"\"string\"}}],\"responses\":{\"200\":{\"description\":\"snapshots\",\"content\":{\"application/json\":{\"schema\":{\""
	"type\":\"object\",\"properties\":{\"snapshots\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"required\":[\"snaps"
	"hot_id\",\"intent_id\",\"timestamp\",\"agents_active\",\"user_plane\",\"causal_chain\"],\"properties\":{\"snapshot"
	"_id\":{\"type\":\"string\",\"format\":\"uuid\"},\"intent_id\":{\"type\":\"string\",\"format\":\"uuid\"},\"timestamp\":{\"t"
	"ype\":\"string\",\"format\":\"date-time\"},\"agents_active\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"requir"
	"ed\":[\"role\",\"status\",\"tool_call_count\"],\"properties\":{\"role\":{\"type\":\"string\"},\"status\":{\"type\":\"str"
	"ing\"},\"tool_call_count\":{\"type\":\"integer\",\"minimum\":0}}}},\"user_plane\":{\"type\":\"object\",\"additionalP"
	"roperties\":{\"type\":\"object\",\"properties\":{\"jobs_in_flight\":{\"type\":\"integer\"},\"gpu_util\":{\"type\":\"nu"
	"mber\"}}}},\"causal_chain\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"required\":[\"intent_id\"],\"properti"
	"es\":{\"intent_id\":{\"type\":\"string\",\"format\":\"uuid\"},\"job_id\":{\"type\":\"string\"},\"outcome\":{\"type\":\"str"
	"ing\"}}}},\"tenant_id\":{\"type\":\"string\",\"description\":\"admin tokens only\"},\"lake_snapshot_id\":{\"type\":"
	"\"integer\",\"readOnly\":true}}}},\"count\":{\"type\":\"integer\"}}}}}},\"401\":{\"description\":\"no token\"},\"403\""
	":{\"description\":\"forbidden\"},\"422\":{\"description\":\"invalid field (details name it)\"},\"503\":{\"descrip"
	"tion\":\"unavailable\"}}}},\"/data/snapshots/{snapshot_id}\":{\"get\":{\"summary\":\"one snapshot (only the ca"
	"ller's tenant's)\",\"security\":[{\"bearer\":[]}],\"parameters\":[{\"name\":\"snapshot_id\",\"in\":\"path\",\"requir"
	"ed\":true,\"schema\":{\"type\":\"string\",\"format\":\"uuid\"}}],\"responses\":{\"200\":{\"description\":\"the snapsho"
	"t\",\"content\":{\"application/json\":{\"schema\":{\"type\":\"object\",\"required\":[\"snapshot_id\",\"intent_id\",\"t"
	"imestamp\",\"agents_active\",\"user_plane\",\"causal_chain\"],\"properties\":{\"snapshot_id\":{\"type\":\"string\","
	"\"format\":\"uuid\"},\"intent_id\":{\"type\":\"string\",\"format\":\"uuid\"},\"timestamp\":{\"type\":\"string\",\"format\""
	":\"date-time\"},\"agents_active\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"required\":[\"role\",\"status\",\""
	"tool_call_count\"],\"properties\":{\"role\":{\"type\":\"string\"},\"status\":{\"type\":\"string\"},\"tool_call_count"
	"\":{\"type\":\"integer\",\"minimum\":0}}}},\"user_plane\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"ob"
	"ject\",\"properties\":{\"jobs_in_flight\":{\"type\":\"integer\"},\"gpu_util\":{\"type\":\"number\"}}}},\"causal_chai"
	"n\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"required\":[\"intent_id\"],\"properties\":{\"intent_id\":{\"typ"
	"e\":\"string\",\"format\":\"uuid\"},\"job_id\":{\"type\":\"string\"},\"outcome\":{\"type\":\"string\"}}}},\"tenant_id\":{"
	"\"type\":\"string\",\"description\":\"admin tokens only\"},\"lake_snapshot_id\":{\"type\":\"integer\",\"readOnly\":t"
	"rue}}}}}},\"400\":{\"description\":\"bad request\"},\"401\":{\"description\":\"no token\"},\"403\":{\"description\":"
	"\"forbidden\"},\"404\":{\"description\":\"not found\"},\"503\":{\"description\":\"unavailable\"}}}}";
