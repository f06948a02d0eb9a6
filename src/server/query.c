/*
 * query.c -- GET /data/query?sql=...&tenant_id=...[&limit=N] and POST /data/query with
 * {"sql", "tenant_id", "limit"}: one sandboxed SELECT (sandbox.c) run on the lake, answered as
 * {"columns": [{"name", "type"}], "rows": [[...]], "row_count": n, "truncated": bool}
 * streamed with chunked transfer encoding straight from Planar's streaming result, chunk by
 * chunk, so memory stays bounded. Values are typed JSON: numbers, booleans, strings, nested
 * LIST/STRUCT/MAP as arrays and objects, timestamps in ISO 8601 (UTC with "Z" for TIMESTAMPTZ).
 * At most min(limit, row cap) rows are sent; "truncated" tells when more were left. An error
 * after the first rows were sent ends the body with "error": {...} instead.
 *
 * as_of: a lake snapshot id, an ISO 8601 timestamp (the last snapshot at or before it) or a
 * world-model snapshot id (the lake snapshot it was pinned to: the state of every table at that
 * decision point). Paging: a request with "limit" (or "cursor") runs on a pinned, read-only
 * attachment of one lake snapshot (as_of, else the latest) and a truncated page carries
 * "next_cursor", an opaque text naming that snapshot, the offset and the query (with the
 * tenant); the next page passes it as "cursor" with the same sql, so every page reads the same
 * snapshot. Pages are stable when the query has an ORDER BY. The tenant's policy limits the
 * tables the query may read (sandbox.c), and a tenant reads only its own rows of tables with a
 * tenant_id column (rowfilter.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "server/internal.h"
#include "server/mcp.h"
#include "server/policy.h"

typedef struct qstream {
	pl_srv *srv;
	pl_req *req;
	planar_conn *conn;
	planar_result *res;
	size_t ncols;
	planar_type *types;
	pl_buf out;
	size_t off;
	size_t nrows, row;
	int64_t sent, cap;
	bool any, failed, done;
	int watch; /* watchdog slot, -1: none */
	bool switched; /* the session's current database is an as_of attachment */
	int64_t skip, skipped; /* rows of earlier pages */
	int64_t pinned;        /* the lake snapshot read (-1: the live lake) */
	char hash[17];         /* of the query and tenant, for the next cursor */
} qstream;

/* "c1" + hex of "<snapshot>.<offset>.<hash>" */
static void cursor_make(int64_t snap, int64_t offset, const char *hash, char out[160])
{
	char plain[80];
	int n = snprintf(plain, sizeof plain, "%lld.%lld.%s", (long long)snap, (long long)offset, hash);
	static const char hex[] = "0123456789abcdef";
	out[0] = 'c', out[1] = '1';
	for (int i = 0; i < n && 2 + 2 * i + 2 < 160; i++) {
		out[2 + 2 * i] = hex[(unsigned char)plain[i] >> 4];
		out[3 + 2 * i] = hex[(unsigned char)plain[i] & 15];
		out[4 + 2 * i] = '\0';
	}
}

static bool cursor_parse(const char *c, int64_t *snap, int64_t *offset, char hash[17])
{
	size_t n = strlen(c);
	if (n < 4 || n > 160 || c[0] != 'c' || c[1] != '1' || n % 2 != 0)
		return false;
	char plain[80];
	size_t k = 0;
	for (size_t i = 2; i + 1 < n && k + 1 < sizeof plain; i += 2) {
		int v = 0;
		for (int j = 0; j < 2; j++) {
			char ch = c[i + (size_t)j];
			int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
			if (d < 0)
				return false;
			v = v * 16 + d;
		}
		plain[k++] = (char)v;
	}
	plain[k] = '\0';
	long long a = -1, b = -1;
	char h[17] = "";
	if (sscanf(plain, "%lld.%lld.%16[0-9a-f]", &a, &b, h) != 3 || a < 0 || b < 0 || strlen(h) != 16)
		return false;
	*snap = a;
	*offset = b;
	memcpy(hash, h, 17);
	return true;
}

static void query_hash(const char *tenant, const char *sql, char out[17])
{
	pl_buf b = PL_BUF_INIT;
	pl_buf_printf(&b, "%s\n%s", tenant ? tenant : "", sql);
	char full[65] = "0000000000000000";
	if (!pl_buf_oom(&b))
		pl_srv_sha256_hex(b.ptr, b.len, full);
	pl_buf_dispose(&b);
	memcpy(out, full, 16);
	out[16] = '\0';
}

/* Returns a session to the pool with the lake as its current database again. */
static void release(pl_srv_lake *l, planar_conn *conn, bool ok, int64_t pinned)
{
	if (ok && pinned >= 0 && planar_conn_query(conn, "USE " PL_SRV_LAKE, NULL) != 0)
		ok = false;
	pl_srv_conn_put(l, conn, ok);
	if (pinned >= 0) /* after the session left it */
		pl_srv_lake_at_done(l, pinned);
}

static void put_json_string(pl_buf *b, const char *s, size_t n)
{
	bool valid = pl_srv_utf8_valid(s, n);
	pl_buf_putc(b, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			pl_buf_putc(b, '\\');
			pl_buf_putc(b, (char)c);
		} else if (c < 0x20) {
			static const char hex[] = "0123456789abcdef";
			char e[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
			pl_buf_puts(b, c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r" : e);
		} else if (c >= 0x80 && !valid) {
			pl_buf_puts(b, "\\ufffd");
		} else {
			pl_buf_putc(b, (char)c);
		}
	}
	pl_buf_putc(b, '"');
}

static void put_value(qstream *q, size_t col, size_t row)
{
	pl_srv_put_value(&q->out, q->res, q->types[col], col, row);
}

void pl_srv_put_value(pl_buf *b, planar_result *res, planar_type type, size_t col, size_t row)
{
	if (planar_result_chunk_is_null(res, col, row)) {
		pl_buf_puts(b, "null");
		return;
	}
	const char *text = NULL;
	size_t len = 0;
	int64_t i64;
	double d;
	bool bv;
	switch (type) {
	case PLANAR_TYPE_BOOLEAN:
		if (planar_result_get_bool(res, col, row, &bv) == 0) {
			pl_buf_puts(b, bv ? "true" : "false");
			return;
		}
		break;
	case PLANAR_TYPE_TINYINT:
	case PLANAR_TYPE_SMALLINT:
	case PLANAR_TYPE_INTEGER:
	case PLANAR_TYPE_BIGINT:
	case PLANAR_TYPE_UTINYINT:
	case PLANAR_TYPE_USMALLINT:
	case PLANAR_TYPE_UINTEGER:
	case PLANAR_TYPE_HUGEINT:
	case PLANAR_TYPE_UBIGINT:
	case PLANAR_TYPE_UHUGEINT:
		if (planar_result_get_int64(res, col, row, &i64) == 0) {
			pl_buf_printf(b, "%lld", (long long)i64);
			return;
		}
		if (planar_result_get_text(res, col, row, &text, &len) == 0) { /* beyond int64: the digits */
			pl_buf_put(b, text, len);
			return;
		}
		break;
	case PLANAR_TYPE_DECIMAL:
		if (planar_result_get_text(res, col, row, &text, &len) == 0) {
			pl_buf_put(b, text, len);
			return;
		}
		break;
	case PLANAR_TYPE_FLOAT:
	case PLANAR_TYPE_DOUBLE:
		if (planar_result_get_double(res, col, row, &d) == 0) {
			if (isfinite(d))
				pl_buf_printf(b, "%.17g", d);
			else
				pl_buf_puts(b, isnan(d) ? "\"NaN\"" : d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
			return;
		}
		break;
	case PLANAR_TYPE_TIMESTAMP:
	case PLANAR_TYPE_TIMESTAMP_S:
	case PLANAR_TYPE_TIMESTAMP_MS:
	case PLANAR_TYPE_TIMESTAMP_NS:
	case PLANAR_TYPE_TIMESTAMP_TZ:
		if (planar_result_get_timestamp(res, col, row, &i64) == 0 && i64 != INT64_MAX && i64 != INT64_MIN) {
			char iso[40];
			pl_srv_timestamp_iso(i64, type == PLANAR_TYPE_TIMESTAMP_TZ, iso);
			pl_buf_printf(b, "\"%s\"", iso);
			return;
		}
		break;
	case PLANAR_TYPE_LIST:
	case PLANAR_TYPE_STRUCT:
	case PLANAR_TYPE_MAP:
	case PLANAR_TYPE_ARRAY:
		if (planar_result_get_json(res, col, row, &text, &len) == 0) {
			pl_buf_put(b, text, len);
			return;
		}
		break;
	default:
		break;
	}
	if (planar_result_get_text(res, col, row, &text, &len) == 0)
		put_json_string(b, text, len);
	else
		pl_buf_puts(b, "null");
}

static void put_trailer(qstream *q, const char *error)
{
	bool truncated = !error && q->sent >= q->cap && q->nrows > q->row;
	pl_buf_printf(&q->out, "],\"row_count\":%lld,\"truncated\":%s", (long long)q->sent, truncated ? "true" : "false");
	if (q->pinned >= 0) {
		pl_buf_printf(&q->out, ",\"snapshot_id\":%lld,\"offset\":%lld", (long long)q->pinned, (long long)q->skip);
		if (truncated) {
			char cur[160];
			cursor_make(q->pinned, q->skip + q->sent, q->hash, cur);
			pl_buf_printf(&q->out, ",\"next_cursor\":\"%s\"", cur);
		} else {
			pl_buf_puts(&q->out, ",\"next_cursor\":null");
		}
	}
	if (error) {
		pl_buf_puts(&q->out, ",\"error\":{\"code\":\"internal\",\"message\":");
		put_json_string(&q->out, error, strlen(error));
		pl_buf_puts(&q->out, ",\"details\":{}}");
	}
	pl_buf_puts(&q->out, "}\n");
	q->done = true;
}

/* Renders rows until out holds at least want bytes or the result ends. */
static void produce(qstream *q, size_t want)
{
	while (!q->done && q->out.len - q->off < want) {
		if (q->row < q->nrows && q->skipped < q->skip) { /* rows of earlier pages */
			int64_t k = (int64_t)(q->nrows - q->row);
			if (k > q->skip - q->skipped)
				k = q->skip - q->skipped;
			q->row += (size_t)k;
			q->skipped += k;
			continue;
		}
		if (q->row < q->nrows) {
			if (q->sent >= q->cap) {
				put_trailer(q, NULL);
				break;
			}
			pl_buf_puts(&q->out, q->any ? ",[" : "[");
			q->any = true;
			for (size_t c = 0; c < q->ncols; c++) {
				if (c)
					pl_buf_putc(&q->out, ',');
				put_value(q, c, q->row);
			}
			pl_buf_putc(&q->out, ']');
			q->row++;
			q->sent++;
			q->req->rows = q->sent;
			continue;
		}
		size_t n = 0;
		if (planar_result_next_chunk(q->res, &n) != 0) {
			q->failed = true;
			put_trailer(q, pl_srv_watch_fired(q->srv, q->watch) ? "the query ran longer than its time limit"
									    : planar_result_errmsg(q->res));
			break;
		}
		q->nrows = n;
		q->row = 0;
		if (n == 0)
			put_trailer(q, NULL);
	}
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	qstream *q = cls;
	(void)pos;
	if (q->off > 0 && q->off == q->out.len) {
		pl_buf_truncate(&q->out, 0);
		q->off = 0;
	}
	produce(q, max);
	if (pl_buf_oom(&q->out))
		return MHD_CONTENT_READER_END_WITH_ERROR;
	size_t avail = q->out.len - q->off;
	if (avail == 0)
		return q->done ? MHD_CONTENT_READER_END_OF_STREAM : 0;
	size_t n = avail < max ? avail : max;
	memcpy(buf, q->out.ptr + q->off, n);
	q->off += n;
	return (ssize_t)n;
}

static void qstream_free(void *cls)
{
	qstream *q = cls;
	planar_result_free(q->res);
	bool fired = pl_srv_watch_remove(q->srv, q->watch);
	release(&q->srv->lake, q->conn, !q->failed && !fired, q->switched ? q->pinned : -1);
	free(q->types);
	pl_buf_dispose(&q->out);
	free(q);
}

static const char *arg(struct MHD_Connection *c, json_t *body, const char *k, enum MHD_Result *ret, pl_req *r,
		       bool *bad)
{
	if (body) {
		json_t *v = json_object_get(body, k);
		if (!v || json_is_null(v))
			return NULL;
		if (!json_is_string(v)) {
			char m[80];
			snprintf(m, sizeof m, "\"%s\" must be a string", k);
			*ret = pl_srv_reply_error(c, r, PL_SRV_BAD_REQUEST, m, NULL);
			*bad = true;
			return NULL;
		}
		return json_string_value(v);
	}
	const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, k);
	if (v && !pl_srv_utf8_valid(v, strlen(v))) {
		char m[80];
		snprintf(m, sizeof m, "the parameter \"%s\" is not UTF-8 text", k);
		*ret = pl_srv_reply_error(c, r, PL_SRV_BAD_REQUEST, m, NULL);
		*bad = true;
		return NULL;
	}
	return v;
}

enum MHD_Result pl_srv_route_query(struct MHD_Connection *c, pl_req *r)
{
	enum MHD_Result ret = MHD_NO;
	json_t *body = NULL;
	if (strcmp(r->method, "POST") == 0 && !(body = pl_srv_body_object(c, r, &ret)))
		return ret;
	bool bad = false;
	const char *sql = arg(c, body, "sql", &ret, r, &bad);
	const char *tenant = bad ? NULL : arg(c, body, "tenant_id", &ret, r, &bad);
	int64_t limit = r->srv->cfg.row_cap;
	if (!bad) {
		json_t *lv = body ? json_object_get(body, "limit") : NULL;
		const char *ls = body ? NULL : MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
		long long n = -1;
		if (lv && json_is_integer(lv))
			n = json_integer_value(lv);
		else if (ls) {
			char *end = NULL;
			n = strtoll(ls, &end, 10);
			if (!*ls || *end)
				n = -1;
		}
		if ((lv || ls) && n < 0) {
			ret = pl_srv_reply_error(c, r, PL_SRV_BAD_REQUEST, "\"limit\" must be a non-negative integer", NULL);
			bad = true;
		} else if ((lv || ls) && n < limit) {
			limit = n;
		}
	}
	int64_t as_of = -1;
	char as_of_text[80] = "";
	const char *cursor = NULL;
	if (!bad) {
		json_t *av = body ? json_object_get(body, "as_of") : NULL;
		const char *as = body ? (json_is_string(av) ? json_string_value(av) : NULL)
				      : MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "as_of");
		if (av && json_is_integer(av) && json_integer_value(av) >= 0)
			as_of = json_integer_value(av);
		else if (as && *as && strlen(as) < sizeof as_of_text)
			snprintf(as_of_text, sizeof as_of_text, "%s", as);
		else if ((av && !json_is_null(av)) || as)
			as_of = -2;
		if (as_of < -1) {
			ret = pl_srv_reply_error(c, r, PL_SRV_BAD_REQUEST,
						 "\"as_of\" must be a lake snapshot id, an ISO 8601 timestamp or a world-model "
						 "snapshot id",
						 NULL);
			bad = true;
		}
	}
	if (!bad)
		cursor = arg(c, body, "cursor", &ret, r, &bad);
	if (!bad && cursor && (as_of >= 0 || as_of_text[0])) {
		ret = pl_srv_reply_error(c, r, PL_SRV_BAD_REQUEST, "\"cursor\" already names the snapshot; drop \"as_of\"",
					 NULL);
		bad = true;
	}
	if (!bad && (!sql || !*sql)) {
		ret = pl_srv_reply_error(c, r, PL_SRV_BAD_REQUEST, "\"sql\" is required", NULL);
		bad = true;
	}
	if (!bad && !tenant && (!r->role || strcmp(r->role, "admin") != 0))
		tenant = r->tenant_id;
	if (!bad && !pl_srv_authorize_tenant(c, r, tenant, &ret))
		bad = true;
	if (bad) {
		json_decref(body);
		return ret;
	}
	pl_srv_lake *l = &r->srv->lake;
	planar_conn *conn = NULL;
	char *msg = NULL, *why = NULL;
	int rc = pl_srv_conn_get(l, &conn, &msg);
	if (rc) {
		ret = pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, msg ? msg : "no session", NULL);
		planar_free(msg);
		json_decref(body);
		return ret;
	}
	char db[64] = PL_SRV_LAKE;
	bool switched = false;
	bool paging = cursor || (body ? json_object_get(body, "limit") != NULL
				      : MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit") != NULL);
	int64_t skip = 0;
	char hash[17];
	query_hash(tenant, sql, hash);
	if (cursor) {
		char chash[17];
		if (!cursor_parse(cursor, &as_of, &skip, chash) || strcmp(chash, hash) != 0) {
			ret = pl_srv_reply_error(c, r, PL_SRV_BAD_REQUEST,
						 "\"cursor\" is not a cursor of this query (pass the same sql and tenant_id)", NULL);
			release(l, conn, true, -1);
			json_decref(body);
			return ret;
		}
	} else if (as_of_text[0]) {
		rc = pl_srv_resolve_as_of(r->srv, conn, as_of_text, tenant, &as_of, &msg);
		if (rc) {
			ret = pl_srv_reply_error(c, r, rc == PLANAR_ENOTFOUND ? PL_SRV_NOT_FOUND : PL_SRV_BAD_REQUEST,
						 msg ? msg : "unknown as_of", json_pack("{s:s}", "as_of", as_of_text));
			free(msg);
			release(l, conn, true, -1);
			json_decref(body);
			return ret;
		}
	} else if (paging && as_of < 0) { /* pages of one snapshot: the latest */
		int64_t ver = -1;
		pl_err err;
		pl_err_clear(&err);
		pthread_mutex_lock(&l->svc_lock);
		rc = pl_service_current(l->svc, &as_of, &ver, &err);
		pthread_mutex_unlock(&l->svc_lock);
		if (rc) {
			ret = pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, "the catalog cannot be reached",
						 json_pack("{s:s}", "reason", err.msg));
			release(l, conn, true, -1);
			json_decref(body);
			return ret;
		}
	}
	pl_srv_policy pol;
	{
		pl_err err;
		pl_err_clear(&err);
		if (pl_srv_policy_load(r->srv, tenant, &pol, &err) != 0) {
			ret = pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, "the catalog cannot be reached to read the policy",
						 json_pack("{s:s}", "reason", err.msg));
			release(l, conn, true, -1);
			json_decref(body);
			return ret;
		}
	}
	if (as_of >= 0) {
		rc = pl_srv_lake_at(l, as_of, db, &msg);
		if (rc == 0) {
			char use[96];
			snprintf(use, sizeof use, "USE %s", db);
			rc = planar_conn_query(conn, use, NULL);
			switched = true;
			if (rc)
				msg = pl_strdup(planar_conn_errmsg(conn));
		}
		if (rc) {
			ret = pl_srv_reply_error(c, r, rc == PLANAR_EBUSY ? PL_SRV_UNAVAILABLE : PL_SRV_NOT_FOUND,
						 msg ? msg : "cannot open the lake at that snapshot",
						 json_pack("{s:I}", "as_of", (json_int_t)as_of));
			free(msg);
			release(l, conn, true, switched ? as_of : -1);
			pl_srv_policy_free(&pol);
			json_decref(body);
			return ret;
		}
	}
	int watch = pl_srv_watch_add(r->srv, conn, r->srv->cfg.query_timeout_ms);
	pl_srv_parsed parsed;
	rc = pl_srv_sandbox_check(l, conn, db, sql, &pol, &parsed, &why);
	pl_srv_policy_free(&pol);
	if (rc) {
		pl_srv_watch_remove(r->srv, watch);
		ret = pl_srv_reply_error(c, r, rc == PLANAR_EINVALID ? PL_SRV_BAD_REQUEST : pl_srv_err_of_planar(rc),
					 why ? why : "the query is not allowed", json_pack("{s:s}", "reason", "sandbox"));
		free(why);
		release(l, conn, true, switched ? as_of : -1);
		json_decref(body);
		return ret;
	}
	char *filtered = NULL;
	rc = pl_srv_rowfilter(conn, db, &parsed, tenant, &filtered, &why);
	pl_srv_parsed_free(&parsed);
	if (rc) {
		pl_srv_watch_remove(r->srv, watch);
		ret = pl_srv_reply_error(c, r, PL_SRV_BAD_REQUEST, why ? why : "the query is not allowed",
					 json_pack("{s:s}", "reason", "tenant_rows"));
		free(why);
		release(l, conn, true, switched ? as_of : -1);
		json_decref(body);
		return ret;
	}
	planar_result *res = NULL;
	rc = planar_conn_query_stream(conn, filtered ? filtered : sql, &res);
	planar_free(filtered);
	json_decref(body);
	body = NULL;
	if (rc) {
		bool fired = pl_srv_watch_remove(r->srv, watch);
		ret = fired ? pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, "the query ran longer than its time limit",
						 json_pack("{s:I}", "query_timeout_ms", (json_int_t)r->srv->cfg.query_timeout_ms))
			    : pl_srv_reply_error(c, r, pl_srv_err_of_planar(rc), planar_conn_errmsg(conn), NULL);
		release(l, conn, !fired, switched ? as_of : -1);
		return ret;
	}
	qstream *q = calloc(1, sizeof *q);
	size_t ncols = planar_result_column_count(res);
	if (q)
		q->types = calloc(ncols ? ncols : 1, sizeof *q->types);
	if (!q || !q->types) {
		pl_srv_watch_remove(r->srv, watch);
		planar_result_free(res);
		release(l, conn, true, switched ? as_of : -1);
		if (q)
			free(q);
		return pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, "out of memory", NULL);
	}
	*q = (qstream){.srv = r->srv, .req = r, .conn = conn, .res = res, .ncols = ncols, .types = q->types, .cap = limit,
		      .watch = watch, .switched = switched, .skip = skip, .pinned = as_of};
	memcpy(q->hash, hash, sizeof hash);
	/* The first chunk before the status line: most errors still get their own status. */
	size_t n = 0;
	rc = planar_result_next_chunk(res, &n);
	if (rc) {
		ret = pl_srv_watch_fired(r->srv, watch)
			      ? pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, "the query ran longer than its time limit",
						   json_pack("{s:I}", "query_timeout_ms", (json_int_t)r->srv->cfg.query_timeout_ms))
			      : pl_srv_reply_error(c, r, pl_srv_err_of_planar(rc), planar_result_errmsg(res), NULL);
		qstream_free(q);
		return ret;
	}
	q->nrows = n;
	q->done = false;
	pl_buf_puts(&q->out, "{\"columns\":[");
	for (size_t i = 0; i < ncols; i++) {
		q->types[i] = planar_result_column_type_id(res, i);
		const char *name = planar_result_column_name(res, i), *type = planar_result_column_type(res, i);
		pl_buf_puts(&q->out, i ? ",{\"name\":" : "{\"name\":");
		put_json_string(&q->out, name ? name : "", name ? strlen(name) : 0);
		pl_buf_puts(&q->out, ",\"type\":");
		put_json_string(&q->out, type ? type : "", type ? strlen(type) : 0);
		pl_buf_putc(&q->out, '}');
	}
	pl_buf_puts(&q->out, "],\"rows\":[");
	if (n == 0)
		put_trailer(q, NULL);
	struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, reader, q, qstream_free);
	if (!resp) {
		qstream_free(q);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	MHD_add_response_header(resp, "X-Request-Id", r->id);
	r->status = 200;
	ret = MHD_queue_response(c, 200, resp);
	MHD_destroy_response(resp);
	return ret;
}

void pl_srv_put_json_string(pl_buf *b, const char *s, size_t n)
{
	put_json_string(b, s, n);
}
