/*
 * snapshots.c -- world-model snapshots (the control plane's WorldModelSnapshot at a decision
 * point), stored as rows of the lake table world_model.snapshots:
 *
 *   POST /data/snapshots {snapshot_id: UUID, intent_id: UUID, timestamp: ISO 8601,
 *        agents_active: [{role, status, tool_call_count}], user_plane: {...},
 *        causal_chain: [{intent_id, job_id, outcome}], tenant_id (admin tokens; a tenant
 *        token's own otherwise)} -> 201 {snapshot_id, lake_snapshot_id, tenant_id}
 *     Invalid input: 422 naming the field. The row is pinned to the lake snapshot current when
 *     it is stored (lake_snapshot_id), is written in its own lake commit with lineage (commit
 *     message "snapshot <id>", a planar_service_ingest row: retention applies to it) and counts
 *     toward the tenant's usage. The same snapshot_id again: the same answer when the body is
 *     the same and the tenant too (idempotent), else 409.
 *   GET /data/snapshots/{id} -> the snapshot (404 when it is not the caller's tenant's).
 *   GET /data/snapshots?intent_id=&from=&to=&limit= -> {"snapshots": [...]} by time.
 *   as_of=<snapshot_id> on /data/query answers with every table as it was at that decision
 *   point (pl_srv_resolve_as_of).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/service.h"
#include "core/ids.h"
#include "core/str.h"
#include "server/policy.h"

#define SNAP_TABLE "world_model.snapshots"
#define SNAP_COLS                                                                                                    \
	"snapshot_id, tenant_id, intent_id, epoch_us(\"timestamp\"), CAST(agents_active AS VARCHAR), "                    \
	"CAST(user_plane AS VARCHAR), CAST(causal_chain AS VARCHAR), lake_snapshot_id"

static bool uuid_ok(const char *s)
{
	if (!s || strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

static bool digits(const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* YYYY-MM-DD[T ]HH:MM[:SS[.f]][Z|+HH[:MM]|-HH[:MM]] */
static bool iso_ok(const char *s)
{
	if (!s || strlen(s) < 16 || strlen(s) > 40)
		return false;
	if (!digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' || !digits(s + 8, 2) ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s + 11, 2) || s[13] != ':' || !digits(s + 14, 2))
		return false;
	int mo = atoi(s + 5), d = atoi(s + 8), h = atoi(s + 11), mi = atoi(s + 14);
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59)
		return false;
	const char *p = s + 16;
	if (*p == ':') {
		if (!digits(p + 1, 2) || atoi(p + 1) > 60)
			return false;
		p += 3;
		if (*p == '.') {
			p++;
			if (!isdigit((unsigned char)*p))
				return false;
			while (isdigit((unsigned char)*p))
				p++;
		}
	}
	if (*p == 'Z' || *p == 'z')
		return p[1] == '\0';
	if (*p == '+' || *p == '-') {
		if (!digits(p + 1, 2))
			return false;
		p += 3;
		if (*p == ':')
			p++;
		if (*p && (!digits(p, 2) || p[2]))
			return false;
		return true;
	}
	return *p == '\0';
}

static enum MHD_Result bad_field(struct MHD_Connection *c, pl_req *r, const char *field, const char *reason)
{
	char m[300];
	snprintf(m, sizeof m, "field \"%s\": %s", field, reason);
	return pl_srv_reply_error(c, r, PL_SRV_INVALID, m, json_pack("{s:s,s:s}", "field", field, "reason", reason));
}

/* The first invalid field of a WorldModelSnapshot (field/reason; field in buf), or false. */
static bool validate(json_t *b, char *field, size_t fsz, const char **reason)
{
	static const char *const known[] = {"snapshot_id", "intent_id", "timestamp", "agents_active", "user_plane",
					    "causal_chain", "tenant_id"};
	const char *k;
	json_t *v;
	json_object_foreach(b, k, v)
	{
		bool ok = false;
		for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
			ok = ok || strcmp(k, known[i]) == 0;
		if (!ok) {
			snprintf(field, fsz, "%.60s", k);
			*reason = "unknown field";
			return true;
		}
	}
#define BAD(f, why)                                                                                                  \
	do {                                                                                                             \
		snprintf(field, fsz, "%s", f);                                                                               \
		*reason = why;                                                                                               \
		return true;                                                                                                 \
	} while (0)
	if (!uuid_ok(json_string_value(json_object_get(b, "snapshot_id"))))
		BAD("snapshot_id", "a UUID (8-4-4-4-12 hex digits) is required");
	if (!uuid_ok(json_string_value(json_object_get(b, "intent_id"))))
		BAD("intent_id", "a UUID (8-4-4-4-12 hex digits) is required");
	if (!iso_ok(json_string_value(json_object_get(b, "timestamp"))))
		BAD("timestamp", "an ISO 8601 date and time is required (e.g. 2026-03-12T10:00:00Z)");
	json_t *t = json_object_get(b, "tenant_id");
	if (t && !json_is_null(t) && (!json_is_string(t) || json_string_length(t) == 0))
		BAD("tenant_id", "expected a non-empty string");
	json_t *aa = json_object_get(b, "agents_active");
	if (!json_is_array(aa))
		BAD("agents_active", "an array of {role, status, tool_call_count} is required");
	for (size_t i = 0; i < json_array_size(aa); i++) {
		json_t *e = json_array_get(aa, i);
		const char *sub = NULL, *why = NULL;
		if (!json_is_object(e))
			sub = "", why = "expected an object {role, status, tool_call_count}";
		else if (!json_is_string(json_object_get(e, "role")))
			sub = ".role", why = "a string is required";
		else if (!json_is_string(json_object_get(e, "status")))
			sub = ".status", why = "a string is required";
		else if (!json_is_integer(json_object_get(e, "tool_call_count")) ||
			 json_integer_value(json_object_get(e, "tool_call_count")) < 0)
			sub = ".tool_call_count", why = "a non-negative integer is required";
		if (sub) {
			snprintf(field, fsz, "agents_active[%zu]%s", i, sub);
			*reason = why;
			return true;
		}
	}
	json_t *up = json_object_get(b, "user_plane");
	if (!json_is_object(up))
		BAD("user_plane", "an object is required (e.g. {\"torch\": {\"jobs_in_flight\", \"gpu_util\"}})");
	json_object_foreach(up, k, v)
	{
		const char *sub = NULL, *why = NULL;
		json_t *j = json_object_get(v, "jobs_in_flight"), *g = json_object_get(v, "gpu_util");
		if (!json_is_object(v))
			sub = "", why = "expected an object {jobs_in_flight, gpu_util}";
		else if (j && (!json_is_integer(j) || json_integer_value(j) < 0))
			sub = ".jobs_in_flight", why = "a non-negative integer is required";
		else if (g && !json_is_number(g))
			sub = ".gpu_util", why = "a number is required";
		if (sub) {
			snprintf(field, fsz, "user_plane.%.60s%s", k, sub);
			*reason = why;
			return true;
		}
	}
	json_t *cc = json_object_get(b, "causal_chain");
	if (!json_is_array(cc))
		BAD("causal_chain", "an array of {intent_id, job_id, outcome} is required");
	for (size_t i = 0; i < json_array_size(cc); i++) {
		json_t *e = json_array_get(cc, i);
		const char *sub = NULL, *why = NULL;
		if (!json_is_object(e))
			sub = "", why = "expected an object {intent_id, job_id, outcome}";
		else if (!uuid_ok(json_string_value(json_object_get(e, "intent_id"))))
			sub = ".intent_id", why = "a UUID is required";
		else if (json_object_get(e, "job_id") && !json_is_string(json_object_get(e, "job_id")) &&
			 !json_is_null(json_object_get(e, "job_id")))
			sub = ".job_id", why = "a string is required";
		else if (json_object_get(e, "outcome") && !json_is_string(json_object_get(e, "outcome")) &&
			 !json_is_null(json_object_get(e, "outcome")))
			sub = ".outcome", why = "a string is required";
		if (sub) {
			snprintf(field, fsz, "causal_chain[%zu]%s", i, sub);
			*reason = why;
			return true;
		}
	}
#undef BAD
	return false;
}

static json_t *parse_or_null(const char *s)
{
	json_t *v = s ? json_loads(s, JSON_DECODE_ANY, NULL) : NULL;
	return v ? v : json_null();
}

/* One row of SNAP_COLS as the API's object. */
static json_t *row_json(planar_result *res, uint64_t i)
{
	char *v[8];
	for (size_t k = 0; k < 8; k++)
		v[k] = planar_result_value_string(res, k, i);
	char iso[40] = "";
	if (v[3])
		pl_srv_timestamp_iso(strtoll(v[3], NULL, 10), true, iso);
	json_t *o = json_pack("{s:s?,s:s?,s:s?,s:s,s:o,s:o,s:o,s:o}", "snapshot_id", v[0], "tenant_id", v[1], "intent_id",
			      v[2], "timestamp", iso, "agents_active", parse_or_null(v[4]), "user_plane",
			      parse_or_null(v[5]), "causal_chain", parse_or_null(v[6]), "lake_snapshot_id",
			      v[7] ? json_integer(strtoll(v[7], NULL, 10)) : json_null());
	for (size_t k = 0; k < 8; k++)
		planar_free(v[k]);
	return o;
}

static bool same_json(const char *stored, json_t *given)
{
	json_t *v = stored ? json_loads(stored, JSON_DECODE_ANY, NULL) : NULL;
	bool eq = v && json_equal(v, given);
	json_decref(v);
	return eq;
}

static enum MHD_Result snap_post(struct MHD_Connection *c, pl_req *r)
{
	enum MHD_Result ret;
	if (!r->role || (strcmp(r->role, "writer") != 0 && strcmp(r->role, "admin") != 0))
		return pl_srv_reply_error(c, r, PL_SRV_FORBIDDEN, "this token may not write (role reader)", NULL);
	json_t *body = pl_srv_body_object(c, r, &ret);
	if (!body)
		return ret;
	char field[96];
	const char *why = NULL;
	if (validate(body, field, sizeof field, &why)) {
		ret = bad_field(c, r, field, why);
		json_decref(body);
		return ret;
	}
	const char *tenant = json_string_value(json_object_get(body, "tenant_id"));
	if (!tenant)
		tenant = r->tenant_id;
	if (!tenant) {
		json_decref(body);
		return bad_field(c, r, "tenant_id", "required with an admin token (it has no tenant of its own)");
	}
	if (!pl_srv_authorize_tenant(c, r, tenant, &ret)) {
		json_decref(body);
		return ret;
	}
	const char *sid = json_string_value(json_object_get(body, "snapshot_id"));
	r->target = pl_strdup(sid);
	int64_t bytes = (int64_t)r->body.len;
	if (!pl_srv_policy_admit(c, r, tenant, SNAP_TABLE, "snapshots", bytes, &ret)) {
		json_decref(body);
		return ret;
	}
	char *aa = json_dumps(json_object_get(body, "agents_active"), JSON_COMPACT | JSON_SORT_KEYS);
	char *up = json_dumps(json_object_get(body, "user_plane"), JSON_COMPACT | JSON_SORT_KEYS);
	char *cc = json_dumps(json_object_get(body, "causal_chain"), JSON_COMPACT | JSON_SORT_KEYS);
	const char *intent = json_string_value(json_object_get(body, "intent_id"));
	const char *ts = json_string_value(json_object_get(body, "timestamp"));
	pl_srv_lake *l = &r->srv->lake;
	planar_conn *conn = NULL;
	planar_result *res = NULL;
	planar_stmt *st = NULL;
	char *msg = NULL;
	bool conn_ok = true;
	pthread_mutex_lock(&l->ingest_lock);
	int rc = (!aa || !up || !cc) ? PLANAR_ENOMEM : pl_srv_conn_get(l, &conn, &msg);
	if (rc) {
		ret = pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, msg ? msg : "out of memory", NULL);
		goto out;
	}
	/* the same snapshot_id already stored: the same answer for the same body, else 409 */
	const char *p1[] = {sid, ts};
	rc = pl_srv_query_texts(conn,
			  "SELECT " SNAP_COLS ", epoch_us(CAST($2 AS TIMESTAMPTZ)) FROM " PL_SRV_LAKE "." SNAP_TABLE
			  " WHERE snapshot_id = $1",
			  p1, 2, &res);
	if (rc) {
		const char *m = planar_conn_errmsg(conn);
		bool conv = m && (strstr(m, "onversion") || strstr(m, "timestamp"));
		ret = conv ? bad_field(c, r, "timestamp", "not a valid date and time")
			   : pl_srv_reply_error(c, r, pl_srv_err_of_planar(rc), m, NULL);
		goto out;
	}
	if (planar_result_row_count(res) > 0) {
		char *t = planar_result_value_string(res, 1, 0), *in = planar_result_value_string(res, 2, 0);
		char *us = planar_result_value_string(res, 3, 0), *given_us = planar_result_value_string(res, 8, 0);
		char *a = planar_result_value_string(res, 4, 0), *u = planar_result_value_string(res, 5, 0),
		     *ch = planar_result_value_string(res, 6, 0), *ls = planar_result_value_string(res, 7, 0);
		bool same = t && strcmp(t, tenant) == 0 && in && strcmp(in, intent) == 0 && us && given_us &&
			    strcmp(us, given_us) == 0 && same_json(a, json_object_get(body, "agents_active")) &&
			    same_json(u, json_object_get(body, "user_plane")) &&
			    same_json(ch, json_object_get(body, "causal_chain"));
		if (same)
			ret = pl_srv_reply_json(c, r, 201,
						json_pack("{s:s,s:I,s:s}", "snapshot_id", sid, "lake_snapshot_id",
							  (json_int_t)(ls ? strtoll(ls, NULL, 10) : -1), "tenant_id", tenant));
		else
			ret = pl_srv_reply_error(c, r, PL_SRV_CONFLICT, "a different snapshot with this snapshot_id exists",
						 json_pack("{s:s}", "snapshot_id", sid));
		planar_free(t), planar_free(in), planar_free(us), planar_free(given_us);
		planar_free(a), planar_free(u), planar_free(ch), planar_free(ls);
		goto out;
	}
	planar_result_free(res);
	res = NULL;
	int64_t cur = -1, ver = -1;
	pl_err err;
	pl_err_clear(&err);
	pthread_mutex_lock(&l->svc_lock);
	rc = pl_service_current(l->svc, &cur, &ver, &err);
	pthread_mutex_unlock(&l->svc_lock);
	if (rc) {
		ret = pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, "the catalog cannot be reached",
					 json_pack("{s:s}", "reason", err.msg));
		goto out;
	}
	char pid[PL_UUID_STRLEN + 1], now[32], cmsg[80];
	pl_uuid_v7(pid, &err);
	pl_now_timestamptz(now);
	snprintf(cmsg, sizeof cmsg, "snapshot %s", sid);
	json_t *extra = json_pack("{s:s,s:s,s:s,s:s,s:I,s:s}", "partition_id", pid, "tenant_id", tenant, "snapshot_id", sid,
				  "table", SNAP_TABLE, "row_count", (json_int_t)1, "ingested_at", now);
	char *extra_text = extra ? json_dumps(extra, JSON_COMPACT) : NULL;
	json_decref(extra);
	rc = extra_text ? planar_prepare(conn, "CALL " PL_SRV_LAKE ".set_commit_message('planar serve', $1, extra_info => $2)",
					 &st)
			: PLANAR_ENOMEM;
	if (rc == 0)
		rc = planar_stmt_bind_text(st, 1, cmsg, strlen(cmsg));
	if (rc == 0)
		rc = planar_stmt_bind_text(st, 2, extra_text, strlen(extra_text));
	if (rc == 0)
		rc = planar_stmt_execute(st, NULL);
	planar_stmt_free(st);
	st = NULL;
	free(extra_text);
	if (rc == 0)
		rc = planar_prepare(conn,
				    "INSERT INTO " PL_SRV_LAKE "." SNAP_TABLE " (snapshot_id, tenant_id, intent_id, \"timestamp\", "
				    "agents_active, user_plane, causal_chain, lake_snapshot_id) VALUES ($1, $2, $3, "
				    "CAST($4 AS TIMESTAMPTZ), CAST($5 AS JSON), CAST($6 AS JSON), CAST($7 AS JSON), $8)",
				    &st);
	const char *vals[] = {sid, tenant, intent, ts, aa, up, cc};
	for (size_t i = 0; rc == 0 && i < 7; i++)
		rc = planar_stmt_bind_text(st, i + 1, vals[i], strlen(vals[i]));
	if (rc == 0)
		rc = planar_stmt_bind_int64(st, 8, cur);
	if (rc == 0)
		rc = planar_stmt_execute(st, NULL);
	if (rc) {
		conn_ok = false; /* its pending commit message must not reach another commit */
		const char *m = planar_conn_errmsg(conn);
		if (m && (strstr(m, "onversion") || strstr(m, "imestamp")))
			ret = bad_field(c, r, "timestamp", "not a valid date and time");
		else
			ret = pl_srv_reply_error(c, r, pl_srv_err_of_planar(rc), m ? m : "cannot store the snapshot", NULL);
		goto out;
	}
	int64_t written = pl_srv_last_committed(conn);
	json_t *answer = json_pack("{s:s,s:I,s:s}", "snapshot_id", sid, "lake_snapshot_id", (json_int_t)cur, "tenant_id",
				   tenant);
	char *text = answer ? json_dumps(answer, JSON_COMPACT) : NULL;
	pl_service_ingest in = {pid, tenant, intent, SNAP_TABLE, NULL, now, text, 1, written};
	pthread_mutex_lock(&l->svc_lock);
	rc = text ? pl_service_ingest_add(l->svc, &in, &err) : PLANAR_ENOMEM;
	pthread_mutex_unlock(&l->svc_lock);
	free(text);
	if (rc)
		fprintf(stderr, "{\"event\":\"lineage_write_failed\",\"partition_id\":\"%s\",\"snapshot_id\":%lld}\n", pid,
			(long long)written);
	pl_srv_policy_written(r->srv, tenant, SNAP_TABLE, pid, bytes, written);
	r->rows = 1;
	ret = pl_srv_reply_json(c, r, 201, answer);
out:
	pthread_mutex_unlock(&l->ingest_lock);
	planar_result_free(res);
	planar_stmt_free(st);
	pl_srv_conn_put(l, conn, conn_ok);
	free(msg);
	free(aa);
	free(up);
	free(cc);
	json_decref(body);
	return ret;
}

/* The tenant whose snapshots a GET reads: the token's, or for an admin tenant_id (NULL: all). */
static bool read_tenant(struct MHD_Connection *c, pl_req *r, const char **tenant, enum MHD_Result *ret)
{
	const char *t = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "tenant_id");
	if (t && !*t)
		t = NULL;
	if (!t)
		t = r->tenant_id;
	if (t && !pl_srv_authorize_tenant(c, r, t, ret))
		return false;
	*tenant = t;
	return true;
}

static enum MHD_Result snap_get(struct MHD_Connection *c, pl_req *r, const char *id)
{
	enum MHD_Result ret;
	if (!uuid_ok(id))
		return pl_srv_reply_error(c, r, PL_SRV_BAD_REQUEST, "the snapshot id must be a UUID", NULL);
	r->target = pl_strdup(id);
	const char *tenant = NULL;
	if (!read_tenant(c, r, &tenant, &ret))
		return ret;
	if (!pl_srv_policy_admit(c, r, tenant, SNAP_TABLE, "snapshots", 0, &ret))
		return ret;
	pl_srv_lake *l = &r->srv->lake;
	planar_conn *conn = NULL;
	char *msg = NULL;
	if (pl_srv_conn_get(l, &conn, &msg) != 0) {
		ret = pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, msg ? msg : "no session", NULL);
		free(msg);
		return ret;
	}
	planar_result *res = NULL;
	const char *p[] = {id, tenant};
	int rc = pl_srv_query_texts(conn,
			      "SELECT " SNAP_COLS " FROM " PL_SRV_LAKE "." SNAP_TABLE
			      " WHERE snapshot_id = $1 AND (CAST($2 AS VARCHAR) IS NULL OR tenant_id = $2)",
			      p, 2, &res);
	if (rc)
		ret = pl_srv_reply_error(c, r, pl_srv_err_of_planar(rc), planar_conn_errmsg(conn), NULL);
	else if (planar_result_row_count(res) == 0)
		ret = pl_srv_reply_error(c, r, PL_SRV_NOT_FOUND, "no such snapshot", json_pack("{s:s}", "snapshot_id", id));
	else
		ret = pl_srv_reply_json(c, r, 200, row_json(res, 0));
	planar_result_free(res);
	pl_srv_conn_put(l, conn, true);
	return ret;
}

static enum MHD_Result snap_list(struct MHD_Connection *c, pl_req *r)
{
	enum MHD_Result ret;
	const char *tenant = NULL;
	if (!read_tenant(c, r, &tenant, &ret))
		return ret;
	const char *intent = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "intent_id");
	const char *from = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "from");
	const char *to = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "to");
	const char *lim = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
	if (intent && !uuid_ok(intent))
		return bad_field(c, r, "intent_id", "a UUID is required");
	if (from && !iso_ok(from))
		return bad_field(c, r, "from", "an ISO 8601 date and time is required");
	if (to && !iso_ok(to))
		return bad_field(c, r, "to", "an ISO 8601 date and time is required");
	long long limit = 100;
	if (lim) {
		char *end = NULL;
		limit = strtoll(lim, &end, 10);
		if (!*lim || *end || limit < 1 || limit > 10000)
			return bad_field(c, r, "limit", "an integer from 1 to 10000 is required");
	}
	if (!pl_srv_policy_admit(c, r, tenant, SNAP_TABLE, "snapshots", 0, &ret))
		return ret;
	pl_srv_lake *l = &r->srv->lake;
	planar_conn *conn = NULL;
	char *msg = NULL;
	if (pl_srv_conn_get(l, &conn, &msg) != 0) {
		ret = pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, msg ? msg : "no session", NULL);
		free(msg);
		return ret;
	}
	char sql[1024];
	snprintf(sql, sizeof sql,
		 "SELECT " SNAP_COLS " FROM " PL_SRV_LAKE "." SNAP_TABLE
		 " WHERE (CAST($1 AS VARCHAR) IS NULL OR tenant_id = $1) AND (CAST($2 AS VARCHAR) IS NULL OR intent_id = $2) "
		 "AND (CAST($3 AS VARCHAR) IS NULL OR \"timestamp\" >= CAST($3 AS TIMESTAMPTZ)) "
		 "AND (CAST($4 AS VARCHAR) IS NULL OR \"timestamp\" <= CAST($4 AS TIMESTAMPTZ)) "
		 "ORDER BY \"timestamp\", snapshot_id LIMIT %lld",
		 limit);
	planar_result *res = NULL;
	const char *p[] = {tenant, intent, from, to};
	int rc = pl_srv_query_texts(conn, sql, p, 4, &res);
	if (rc) {
		ret = pl_srv_reply_error(c, r, pl_srv_err_of_planar(rc), planar_conn_errmsg(conn), NULL);
	} else {
		json_t *arr = json_array();
		uint64_t n = planar_result_row_count(res);
		for (uint64_t i = 0; i < n; i++)
			json_array_append_new(arr, row_json(res, i));
		r->rows = (int64_t)n;
		ret = pl_srv_reply_json(c, r, 200, json_pack("{s:o,s:I}", "snapshots", arr, "count", (json_int_t)n));
	}
	planar_result_free(res);
	pl_srv_conn_put(l, conn, rc == 0);
	return ret;
}

enum MHD_Result pl_srv_route_snapshots(struct MHD_Connection *c, pl_req *r)
{
	const char *p = r->path + strlen("/data/snapshots");
	bool get = strcmp(r->method, "GET") == 0;
	if (*p == '/' && p[1]) {
		if (!get)
			return pl_srv_reply_error(c, r, PL_SRV_METHOD, "use GET", NULL);
		return snap_get(c, r, p + 1);
	}
	if (strcmp(r->method, "POST") == 0)
		return snap_post(c, r);
	if (!get)
		return pl_srv_reply_error(c, r, PL_SRV_METHOD, "use GET or POST", NULL);
	return snap_list(c, r);
}

int pl_srv_resolve_as_of(pl_srv *s, planar_conn *conn, const char *as_of, const char *tenant, int64_t *id,
			 char **errmsg)
{
	(void)s;
	*errmsg = NULL;
	size_t n = strlen(as_of);
	if (n > 0 && n <= 18 && strspn(as_of, "0123456789") == n) {
		*id = strtoll(as_of, NULL, 10);
		return 0;
	}
	planar_result *res = NULL;
	int rc;
	bool world = uuid_ok(as_of);
	if (world) {
		const char *p[] = {as_of, tenant};
		rc = pl_srv_query_texts(conn,
				  "SELECT lake_snapshot_id FROM " PL_SRV_LAKE "." SNAP_TABLE
				  " WHERE snapshot_id = $1 AND (CAST($2 AS VARCHAR) IS NULL OR tenant_id = $2)",
				  p, 2, &res);
	} else if (iso_ok(as_of)) {
		const char *p[] = {as_of};
		rc = pl_srv_query_texts(conn,
				  "SELECT max(snapshot_id) FROM " PL_SRV_LAKE ".snapshots() WHERE snapshot_time <= "
				  "CAST($1 AS TIMESTAMPTZ)",
				  p, 1, &res);
	} else {
		*errmsg = pl_strdup("\"as_of\" must be a lake snapshot id, an ISO 8601 timestamp or a world-model snapshot id");
		return PLANAR_EINVALID;
	}
	if (rc) {
		*errmsg = pl_strdup(planar_conn_errmsg(conn));
		return world ? rc : PLANAR_EINVALID;
	}
	char *v = planar_result_row_count(res) > 0 ? planar_result_value_string(res, 0, 0) : NULL;
	planar_result_free(res);
	if (!v) {
		*errmsg = pl_strdup(world ? "no world-model snapshot with that id" : "the lake has no snapshot that old");
		return PLANAR_ENOTFOUND;
	}
	*id = strtoll(v, NULL, 10);
	planar_free(v);
	return 0;
}
