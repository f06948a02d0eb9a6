/*
 * ingest.c -- POST /data/ingest {table, records, schema_version, job_id, tenant_id}
 *   -> 201 {partition_id, row_count, snapshot_id, table, job_id}.
 *
 * - table: "name" (schema main) or "schema.name", a table of the lake (404 otherwise).
 * - records: a non-empty array of objects, checked against the table's columns before anything
 *   is written: an unknown field, a missing field of a NOT NULL column without default, or a
 *   value of the wrong JSON type gives 422 with details {record, field, reason}.
 * - schema_version: the lake's schema version the client built the records for (a number, or
 *   its text); another one gives 409 with the current one in details.
 * - tenant_id: the tenant the rows belong to; a tenant token may write only its own (403);
 *   reader tokens may not ingest (403).
 * - A field missing from a record takes the column's default (NULL when it has none).
 * - All records are written by one prepared INSERT (one lake snapshot; small batches are
 *   inlined into the catalog by the lake's data inlining).
 * - Lineage: every accepted request gets a partition_id (UUIDv7). Its INSERT is one lake
 *   snapshot committed with author "planar serve", message "ingest <partition_id>" (or, with an
 *   Idempotency-Key, "ingest <sha256 of tenant and key>") and extra info {partition_id,
 *   tenant_id, job_id, table, idempotency_key, row_count, ingested_at}, in the same catalog
 *   transaction as the rows; then a row of planar_service_ingest keeps the answer. The rows of
 *   a request are exactly those its snapshot inserted into the table
 *   (ducklake_table_insertions(lake, schema, table, snapshot_id, snapshot_id)).
 * - Idempotency-Key header: a retry with the same key (per tenant) gets the first answer again
 *   (201, the same body) and writes nothing, also after a crash between the commit and the
 *   lineage row (the answer is rebuilt from the commit). Records are checked in parallel; the commits of one
 *   server run one at a time (key lookup, INSERT, lineage row), so two concurrent retries cannot
 *   both write.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/str.h"
#include "server/ingest.h"
#include "server/policy.h"

typedef pl_srv_col col;
typedef pl_srv_cols cols;

void pl_srv_cols_free(pl_srv_cols *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].name);
		free(c->v[i].type);
	}
	free(c->v);
	c->v = NULL;
	c->n = 0;
}
#define cols_free pl_srv_cols_free

static int cols_copy(const cols *from, cols *to)
{
	to->v = calloc(from->n ? from->n : 1, sizeof *to->v);
	to->n = 0;
	if (!to->v)
		return PLANAR_ENOMEM;
	for (size_t i = 0; i < from->n; i++) {
		col c = from->v[i];
		c.name = pl_strdup(from->v[i].name);
		c.type = pl_strdup(from->v[i].type);
		to->v[to->n++] = c;
		if (!c.name || !c.type) {
			cols_free(to);
			to->v = NULL;
			to->n = 0;
			return PLANAR_ENOMEM;
		}
	}
	return 0;
}

void pl_srv_ingest_dispose(pl_srv_lake *l)
{
	for (size_t i = 0; i < sizeof l->cols / sizeof l->cols[0]; i++) {
		if (l->cols[i].cols) {
			cols_free(l->cols[i].cols);
			free(l->cols[i].cols);
		}
		free(l->cols[i].key);
		l->cols[i].cols = NULL;
		l->cols[i].key = NULL;
	}
}

static enum MHD_Result invalid(struct MHD_Connection *c, pl_req *r, size_t rec, const char *field, const char *reason)
{
	char m[512];
	snprintf(m, sizeof m, "record %zu, field \"%.200s\": %s", rec, field, reason);
	return pl_srv_reply_error(c, r, PL_SRV_INVALID, m,
				  json_pack("{s:I,s:s,s:s}", "record", (json_int_t)rec, "field", field, "reason", reason));
}

/* The table's columns: names and DuckDB types from the engine, nullability and defaults from
 * the catalog. */
static int load_columns(pl_srv_lake *l, planar_conn *conn, const char *schema, const char *table, cols *out,
			char **msg)
{
	memset(out, 0, sizeof *out);
	planar_result *res = NULL;
	const char *args[] = {schema, table};
	int rc = pl_srv_query_texts(conn,
				    "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = '" PL_SRV_LAKE
				    "' AND schema_name = $1 AND table_name = $2 ORDER BY column_index",
				    args, 2, &res);
	if (rc) {
		*msg = pl_strdup(planar_conn_errmsg(conn));
		return rc;
	}
	uint64_t n = planar_result_row_count(res);
	out->v = calloc(n ? n : 1, sizeof *out->v);
	for (uint64_t i = 0; out->v && i < n; i++) {
		out->v[i].name = planar_result_value_string(res, 0, i);
		out->v[i].type = planar_result_value_string(res, 1, i);
		out->v[i].nullable = true;
		out->n++;
	}
	planar_result_free(res);
	if (!out->v)
		return PLANAR_ENOMEM;
	pl_rows *rows = NULL;
	pl_err err;
	pl_err_clear(&err);
	pthread_mutex_lock(&l->svc_lock);
	rc = pl_service_table_columns(l->svc, schema, table, &rows, &err);
	pthread_mutex_unlock(&l->svc_lock);
	if (rc) {
		*msg = pl_strdup(err.msg);
		return rc;
	}
	for (size_t i = 0; i < rows->nrows; i++) {
		const char *name = pl_rows_get(rows, i, 0), *def = pl_rows_get(rows, i, 3);
		for (size_t k = 0; k < out->n; k++) {
			if (name && out->v[k].name && strcmp(out->v[k].name, name) == 0) {
				out->v[k].nullable = pl_rows_bool(rows, i, 2, true);
				out->v[k].has_default = def && strcasecmp(def, "NULL") != 0;
			}
		}
	}
	pl_rows_free(rows);
	return 0;
}

/* load_columns, from the cache while the lake's schema version is the same. */
int pl_srv_cols_load(pl_srv_lake *l, planar_conn *conn, const char *schema, const char *table, int64_t version,
		     pl_srv_cols *out, char **msg)
{
	size_t klen = strlen(schema) + strlen(table) + 2;
	char *key = malloc(klen);
	if (!key)
		return PLANAR_ENOMEM;
	snprintf(key, klen, "%s\t%s", schema, table);
	size_t nslots = sizeof l->cols / sizeof l->cols[0];
	pthread_mutex_lock(&l->cols_lock);
	for (size_t i = 0; i < nslots; i++) {
		if (l->cols[i].key && l->cols[i].version == version && strcmp(l->cols[i].key, key) == 0) {
			int rc = cols_copy(l->cols[i].cols, out);
			pthread_mutex_unlock(&l->cols_lock);
			free(key);
			return rc;
		}
	}
	pthread_mutex_unlock(&l->cols_lock);
	int rc = load_columns(l, conn, schema, table, out, msg);
	cols *copy = rc == 0 && out->n > 0 ? calloc(1, sizeof *copy) : NULL;
	if (!copy || cols_copy(out, copy) != 0) {
		free(copy);
		free(key);
		return rc;
	}
	pthread_mutex_lock(&l->cols_lock);
	struct pl_srv_colcache *e = &l->cols[l->ncols_next++ % nslots];
	if (e->cols) {
		cols_free(e->cols);
		free(e->cols);
	}
	free(e->key);
	e->key = key;
	e->version = version;
	e->cols = copy;
	pthread_mutex_unlock(&l->cols_lock);
	return 0;
}

static bool type_is(const char *t, const char *name)
{
	return strcasecmp(t, name) == 0;
}

bool pl_srv_type_nested(const char *t)
{
	return strchr(t, '[') || strncasecmp(t, "STRUCT", 6) == 0 || strncasecmp(t, "MAP", 3) == 0 ||
	       strncasecmp(t, "UNION", 5) == 0;
}

/* Why v cannot go into a column of type t, or NULL when it can. */
static const char *type_mismatch(const char *t, const json_t *v)
{
	static const char *const ints[] = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT",
					   "UINTEGER", "UBIGINT", "HUGEINT", "UHUGEINT"};
	static const json_int_t lo[] = {-128, -32768, -2147483648LL, INT64_MIN, 0, 0, 0, 0, INT64_MIN, 0};
	static const json_int_t hi[] = {127, 32767, 2147483647LL, INT64_MAX, 255, 65535, 4294967295LL,
					INT64_MAX, INT64_MAX, INT64_MAX};
	if (type_is(t, "JSON"))
		return NULL;
	if (pl_srv_type_nested(t))
		return json_is_array(v) || json_is_object(v) ? NULL : "expected a JSON array or object";
	if (type_is(t, "BOOLEAN"))
		return json_is_boolean(v) ? NULL : "expected true or false";
	for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
		if (type_is(t, ints[i])) {
			if (!json_is_integer(v))
				return "expected an integer";
			json_int_t x = json_integer_value(v);
			return x < lo[i] || x > hi[i] ? "integer out of the column's range" : NULL;
		}
	}
	if (type_is(t, "FLOAT") || type_is(t, "DOUBLE") || strncasecmp(t, "DECIMAL", 7) == 0)
		return json_is_number(v) ? NULL : "expected a number";
	if (!json_is_string(v))
		return "expected a string";
	return strlen(json_string_value(v)) != json_string_length(v) ? "text must not contain NUL characters" : NULL;
}

int pl_srv_bind_json(planar_stmt *st, size_t idx, const char *type, const json_t *v)
{
	if (!v || json_is_null(v))
		return planar_stmt_bind_null(st, idx);
	if (json_is_boolean(v))
		return planar_stmt_bind_bool(st, idx, json_is_true(v));
	if (json_is_integer(v))
		return planar_stmt_bind_int64(st, idx, json_integer_value(v));
	if (json_is_real(v) && strncasecmp(type, "DECIMAL", 7) != 0)
		return planar_stmt_bind_double(st, idx, json_real_value(v));
	if (json_is_string(v))
		return planar_stmt_bind_text(st, idx, json_string_value(v), json_string_length(v));
	char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!text)
		return PLANAR_ENOMEM;
	int rc = planar_stmt_bind_text(st, idx, text, strlen(text));
	free(text);
	return rc;
}

/* The commit message of an ingest written before group commit: "ingest " and the SHA-256 of
 * tenant and key. out: 80 bytes. */
static void legacy_message(const char *tenant, const char *key, char out[80])
{
	size_t n = strlen(tenant) + strlen(key) + 2;
	char *both = malloc(n);
	char hex[65] = "";
	if (both) {
		snprintf(both, n, "%s\n%s", tenant, key);
		pl_srv_sha256_hex(both, n - 1, hex);
		free(both);
	}
	snprintf(out, 80, "ingest %s", hex);
}

/* The answer of the commit with this message: extra info holds the requests it wrote. */
static json_t *answer_of_commit(pl_catdb *db, const char *msg, const char *pid, bool *unavailable, char **why)
{
	pl_rows *rows = NULL;
	pl_err err;
	pl_err_clear(&err);
	if (pl_service_ingest_find_commit(db, PL_SRV_INGEST_AUTHOR, msg, &rows, &err) != 0) {
		*unavailable = true;
		*why = pl_strdup(err.msg);
		return NULL;
	}
	json_t *extra = rows->nrows > 0 && pl_rows_get(rows, 0, 1) ? json_loads(pl_rows_get(rows, 0, 1), 0, NULL) : NULL;
	int64_t snap = rows->nrows > 0 ? pl_rows_int(rows, 0, 0, -1) : -1;
	pl_rows_free(rows);
	json_t *found = NULL, *reqs = json_object_get(extra, "requests");
	if (!reqs && extra)
		found = extra; /* one request per commit */
	for (size_t i = 0; i < json_array_size(reqs) && !found; i++) {
		const char *p = json_string_value(json_object_get(json_array_get(reqs, i), "partition_id"));
		if (p && pid && strcmp(p, pid) == 0)
			found = json_array_get(reqs, i);
	}
	json_t *prev = NULL;
	if (found)
		prev = json_pack("{s:O,s:O,s:I,s:O,s:O}", "partition_id", json_object_get(found, "partition_id"),
				 "row_count", json_object_get(found, "row_count"), "snapshot_id", (json_int_t)snap, "table",
				 json_object_get(found, "table"), "job_id", json_object_get(found, "job_id"));
	json_decref(extra);
	return prev;
}

json_t *pl_srv_replay_find(pl_srv_lake *l, pl_catdb *db, const char *tenant, const char *key, bool *unavailable,
			   char **why)
{
	bool own = db == l->svc;
	pl_rows *rows = NULL;
	pl_err err;
	pl_err_clear(&err);
	*unavailable = false;
	if (own)
		pthread_mutex_lock(&l->svc_lock);
	json_t *prev = NULL;
	int rc = pl_service_ingest_find(db, tenant, key, &rows, &err);
	if (rc) {
		*unavailable = true;
		*why = pl_strdup(err.msg);
		goto out;
	}
	for (size_t i = 0; i < rows->nrows && !prev && !*unavailable; i++) {
		json_t *resp = pl_rows_get(rows, i, 0) ? json_loads(pl_rows_get(rows, i, 0), 0, NULL) : NULL;
		const char *pending = json_string_value(json_object_get(resp, "pending_commit"));
		if (!pl_rows_is_null(rows, i, 1)) {
			prev = resp;
			resp = NULL;
		} else if (pending) {
			/* written before its lake commit: answered only when the commit happened */
			prev = answer_of_commit(db, pending, json_string_value(json_object_get(resp, "partition_id")),
						unavailable, why);
		}
		json_decref(resp);
	}
	if (!prev && !*unavailable) {
		/* a commit of a request answered before group commit, whose lineage row is missing */
		char msg[80];
		legacy_message(tenant, key, msg);
		prev = answer_of_commit(db, msg, NULL, unavailable, why);
	}
out:
	if (own)
		pthread_mutex_unlock(&l->svc_lock);
	pl_rows_free(rows);
	return prev;
}

static const char *get_str(json_t *body, const char *k)
{
	return json_string_value(json_object_get(body, k));
}

void pl_srv_item_free(pl_srv_item *it)
{
	if (!it)
		return;
	pl_srv_rows_free(it->rows); /* first: its source points into the request's body */
	free(it->schema);
	free(it->name);
	free(it->table);
	free(it->tenant);
	free(it->job);
	free(it->key);
	json_decref(it->records);
	if (it->spool && (it->spool_kind != 2 || !it->committed))
		remove(it->spool); /* NDJSON spool files are temporary; a Parquet file stays once registered */
	for (int k = 1; it->spool && k < it->spool_parts; k++) {
		char part[4096];
		if ((size_t)snprintf(part, sizeof part, "%s.%d", it->spool, k) < sizeof part)
			remove(part);
	}
	free(it->spool);
	free(it->spool_used);
	cols_free(&it->cols);
	json_decref(it->reply);
	free(it->errmsg);
	free(it);
}

const char *pl_srv_check_record(const pl_srv_cols *cl, json_t *rec, const char **field, char *buf, size_t bufn)
{
	*field = "";
	if (!json_is_object(rec))
		return "a record must be a JSON object";
	if (json_object_size(rec) == 0)
		return "the record has no fields";
	const char *k;
	json_t *v;
	json_object_foreach(rec, k, v)
	{
		size_t j = 0;
		while (j < cl->n && strcmp(cl->v[j].name, k) != 0)
			j++;
		*field = k;
		if (j == cl->n)
			return "unknown field (not a column of the table)";
		const char *why = json_is_null(v) ? (cl->v[j].nullable ? NULL : "the column is NOT NULL")
						  : type_mismatch(cl->v[j].type, v);
		if (why) {
			snprintf(buf, bufn, "%s (column type %.100s)", why, cl->v[j].type);
			return buf;
		}
	}
	for (size_t j = 0; j < cl->n; j++) {
		if (!cl->v[j].nullable && !cl->v[j].has_default && !json_object_get(rec, cl->v[j].name)) {
			*field = cl->v[j].name;
			return "missing required field (NOT NULL column)";
		}
	}
	*field = "";
	return NULL;
}

/* Checks every record against the table's columns; on failure queues the 422 and returns false. */
static bool check_records(struct MHD_Connection *c, pl_req *r, const cols *cl, json_t *records, enum MHD_Result *ret)
{
	char buf[200];
	for (size_t i = 0; i < json_array_size(records); i++) {
		const char *field = "";
		const char *why = pl_srv_check_record(cl, json_array_get(records, i), &field, buf, sizeof buf);
		if (why) {
			*ret = invalid(c, r, i, field, why);
			return false;
		}
	}
	return true;
}

/* A bulk request (more records than a group commit inlines) is written like an NDJSON body:
 * its records go to a temporary file, read by one INSERT ... SELECT FROM read_json (much faster
 * than binding every value). A field missing from a record is then NULL; a column no record
 * names keeps its default. */
static int spool_records(pl_srv_item *it)
{
	const char *tmp = getenv("TMPDIR");
	pl_buf path = PL_BUF_INIT;
	pl_buf_printf(&path, "%s/planar-ingest-%s.ndjson", tmp && *tmp ? tmp : "/tmp", it->pid);
	it->spool_used = calloc(it->cols.n ? it->cols.n : 1, sizeof *it->spool_used);
	FILE *f = !pl_buf_oom(&path) && it->spool_used ? fopen(path.ptr, "wbx") : NULL;
	if (!f) {
		pl_buf_dispose(&path);
		return PLANAR_EIO;
	}
	it->spool = pl_buf_detach(&path);
	it->spool_kind = 1;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < it->nrec; i++) {
		json_t *rec = json_array_get(it->records, i);
		for (size_t j = 0; j < it->cols.n; j++)
			if (!it->spool_used[j] && json_object_get(rec, it->cols.v[j].name))
				it->spool_used[j] = true;
		if (json_dumpf(rec, f, JSON_COMPACT) != 0 || fputc('\n', f) == EOF)
			rc = PLANAR_EIO;
	}
	if (fclose(f) != 0)
		rc = PLANAR_EIO;
	json_decref(it->records);
	it->records = NULL;
	return rc;
}

enum MHD_Result pl_srv_route_ingest(struct MHD_Connection *c, pl_req *r)
{
	enum MHD_Result ret;
	pl_srv_lake *l = &r->srv->lake;
	if (!r->role || (strcmp(r->role, "writer") != 0 && strcmp(r->role, "admin") != 0))
		return pl_srv_reply_error(c, r, PL_SRV_FORBIDDEN, "this token may not write (role reader)", NULL);
	/* a bulk body: its records are checked and spooled by the scanner, never parsed into a tree
	 * (a record is at least 8 bytes: {"a":1},) */
	pl_srv_bulk bulk;
	memset(&bulk, 0, sizeof bulk);
	json_t *body = NULL;
	if (r->body.len >= 8 * ((size_t)r->srv->cfg.inline_rows + 1) && pl_srv_is_json(c))
		body = pl_srv_bulk_body(r->body.ptr, r->body.len, r->srv->cfg.inline_rows, &bulk);
	if (!body && !(body = pl_srv_body_object(c, r, &ret)))
		return ret;
	const char *table = get_str(body, "table"), *tenant = get_str(body, "tenant_id"), *job = get_str(body, "job_id");
	json_t *records = json_object_get(body, "records"), *sv = json_object_get(body, "schema_version");
	json_t *create = json_object_get(body, "create");
	const char *key = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Idempotency-Key");
	const char *bad = !table || !*table ? "\"table\" (a string) is required"
			  : !tenant || !*tenant ? "\"tenant_id\" (a string) is required"
			  : !job || !*job ? "\"job_id\" (a string) is required"
			  : !bulk.count && (!json_is_array(records) || json_array_size(records) == 0) ? "\"records\" must be a non-empty array"
			  : create && !json_is_boolean(create) ? "\"create\" must be true or false"
			  : !json_is_true(create) && !(json_is_integer(sv) || json_is_string(sv)) ? "\"schema_version\" (a number or its text) is required"
			  : sv && !json_is_null(sv) && !(json_is_integer(sv) || json_is_string(sv)) ? "\"schema_version\" must be a number or its text"
			  : key && (strlen(key) > 200 || !pl_srv_utf8_valid(key, strlen(key))) ? "Idempotency-Key must be UTF-8 text of at most 200 bytes"
			  : NULL;
	if (bad) {
		json_decref(body);
		return pl_srv_reply_error(c, r, PL_SRV_BAD_REQUEST, bad, NULL);
	}
	if (!pl_srv_authorize_tenant(c, r, tenant, &ret)) {
		json_decref(body);
		return ret;
	}
	r->target = pl_strdup(table);
	/* schema.table */
	char *schema = NULL, *name = NULL;
	const char *dot = strchr(table, '.');
	schema = dot ? pl_strndup(table, (size_t)(dot - table)) : pl_strdup("main");
	name = pl_strdup(dot ? dot + 1 : table);
	planar_conn *conn = NULL;
	char *msg = NULL;
	cols cl = {NULL, 0};
	pl_err err;
	pl_err_clear(&err);
	int rc;
	if (!schema || !name) {
		ret = pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, "out of memory", NULL);
		goto out;
	}
	/* A retry of an answered request (the committer looks again before it writes). */
	if (key) {
		bool unavailable = false;
		json_t *prev = pl_srv_replay_find(l, l->svc, tenant, key, &unavailable, &msg);
		if (unavailable) {
			ret = pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, "the catalog cannot be reached",
						 json_pack("{s:s}", "reason", msg ? msg : "?"));
			goto out;
		}
		if (prev) {
			ret = pl_srv_reply_json(c, r, 201, prev);
			goto out;
		}
	}
	if (!pl_srv_policy_admit(c, r, tenant, table, "ingest", (int64_t)r->body.len, &ret)) /* allowed_tables, quota */
		goto out;
	int64_t snap = -1, cur_version = -1;
	rc = pl_srv_current(l, &snap, &cur_version, &err);
	if (rc) {
		ret = pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, "the catalog cannot be reached", json_pack("{s:s}", "reason", err.msg));
		goto out;
	}
	char cur[32];
	snprintf(cur, sizeof cur, "%lld", (long long)cur_version);
	bool same = !sv || json_is_null(sv) ? true
		    : json_is_integer(sv) ? json_integer_value(sv) == cur_version
					  : strcmp(json_string_value(sv), cur) == 0;
	if (!same) {
		ret = pl_srv_reply_error(c, r, PL_SRV_CONFLICT, "stale schema_version: the lake's schema changed",
					 json_pack("{s:I}", "current_schema_version", (json_int_t)cur_version));
		goto out;
	}
	rc = pl_srv_conn_get(l, &conn, &msg);
	if (rc) {
		ret = pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, msg ? msg : "no session", NULL);
		goto out;
	}
	rc = pl_srv_cols_load(l, conn, schema, name, cur_version, &cl, &msg);
	if (rc) {
		ret = pl_srv_reply_error(c, r, pl_srv_err_of_planar(rc), msg ? msg : "cannot read the table's columns", NULL);
		goto out;
	}
	if (cl.n == 0 && json_is_true(create)) {
		/* the table is created from the records' fields and types */
		rc = pl_srv_ingest_create(c, r, conn, schema, name, records, &ret);
		if (rc)
			goto out;
		pthread_mutex_lock(&l->svc_lock);
		rc = pl_service_current(l->svc, &snap, &cur_version, &err);
		pthread_mutex_unlock(&l->svc_lock);
		cols_free(&cl);
		if (rc == 0)
			rc = pl_srv_cols_load(l, conn, schema, name, cur_version, &cl, &msg);
		if (rc) {
			ret = pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, msg ? msg : err.msg, NULL);
			goto out;
		}
	}
	if (cl.n == 0) {
		ret = pl_srv_reply_error(c, r, PL_SRV_NOT_FOUND, "no such table in the lake", json_pack("{s:s}", "table", table));
		goto out;
	}
	if (!bulk.count && !check_records(c, r, &cl, records, &ret))
		goto out;
	pl_srv_item *it = calloc(1, sizeof *it);
	if (!it) {
		ret = pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, "out of memory", NULL);
		goto out;
	}
	it->r = r;
	it->c = c;
	it->schema = schema;
	it->name = name;
	schema = name = NULL;
	it->table = pl_strdup(table);
	it->tenant = pl_strdup(tenant);
	it->job = pl_strdup(job);
	it->key = key ? pl_strdup(key) : NULL;
	it->records = bulk.count ? NULL : json_incref(records);
	it->nrec = bulk.count ? bulk.count : json_array_size(records);
	it->cols = cl;
	cl.v = NULL;
	cl.n = 0;
	if (!it->table || !it->tenant || !it->job || (key && !it->key) || pl_uuid_v7(it->pid, &err) != 0) {
		pl_srv_item_free(it);
		ret = pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, "out of memory", NULL);
		goto out;
	}
	pl_now_timestamptz(it->now);
	it->bytes = (int64_t)r->body.len;
	if (bulk.count) {
		pl_srv_misfit bad;
		memset(&bad, 0, sizeof bad);
		if (pl_srv_rows_fit(&it->cols))
			rc = pl_srv_rows_start(it, r->body.ptr, &bulk) == 0 ? 0 : PLANAR_ENOMEM;
		else
			rc = pl_srv_bulk_spool(it, r->body.ptr, &bulk, &bad);
		if (rc) {
			pl_srv_item_free(it);
			ret = rc != PLANAR_EINVALID ? pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, "cannot write the records to a temporary file", NULL)
			      : bad.syntax ? pl_srv_reply_error(c, r, PL_SRV_BAD_REQUEST, "the body is not valid JSON",
								json_pack("{s:s,s:I}", "reason", bad.reason ? bad.reason : "?", "record", (json_int_t)bad.rec))
					   : invalid(c, r, bad.rec, bad.field ? bad.field : "", bad.reason ? bad.reason : "?");
			free(bad.field);
			free(bad.reason);
			goto out;
		}
	} else if (it->nrec > r->srv->cfg.inline_rows && spool_records(it) != 0) {
		pl_srv_item_free(it);
		ret = pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, "cannot write the records to a temporary file", NULL);
		goto out;
	}
	pl_srv_batch_submit(r->srv, it); /* suspends the connection; the committer answers */
	ret = MHD_YES;
out:
	pl_srv_conn_put(l, conn, true);
	cols_free(&cl);
	free(msg);
	free(schema);
	free(name);
	json_decref(body);
	return ret;
}
