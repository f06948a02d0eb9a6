/*
 * ingest_stream.c -- POST /data/ingest with a body that is consumed as it arrives, never held in
 * memory (and not limited by --max-body):
 *
 *   Content-Type: application/x-ndjson   one JSON object (a record) per line
 *   Content-Type: application/vnd.apache.parquet (or application/x-parquet)   a Parquet file
 *
 * The other fields of the JSON form come from the query string: ?table=ev&tenant_id=t1&
 * job_id=j&schema_version=3 (schema_version optional here); Idempotency-Key as for JSON bodies.
 * The token, tenant, table and schema version are checked before the body is read.
 *
 * NDJSON: each line is checked as it arrives, by the validating scanner (jscan.c) (422 names the line, counted from 0,
 * as "record", and the field), written to a temporary file, and the whole body is written by
 * one INSERT ... SELECT FROM read_json of that file: one lake snapshot, all lines or none. A
 * table of integers, doubles, booleans and text without defaults takes the columns path
 * instead (ingest_rows.c): the body goes to the file unchecked, then is checked in parts and
 * read by the INSERT as columns, with the same answers. A
 * line may be at most 16 MiB. A field missing from a line is NULL (column defaults apply to JSON
 * bodies only; a column no line names keeps its default).
 *
 * Parquet: the file is written into <data path>/ingest/<partition_id>.parquet and registered in
 * the table with ducklake_add_data_files (columns matched by name, DuckLake's type rules: a file
 * that does not fit the table gives 422 and is removed); the file is not copied or rewritten.
 *
 * Both are committed through the group committer (alone, never grouped), with the same lineage
 * and idempotency as JSON bodies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/str.h"
#include "server/ingest.h"
#include "server/policy.h"

#define MAX_LINE PL_SRV_MAX_LINE

typedef struct stream {
	int kind; /* 1 NDJSON, 2 Parquet */
	pl_srv_item *it;
	FILE *f;
	pl_buf line;
	size_t lineno;
	bool failed;
	pl_srv_err err;
	char *errmsg;
	json_t *details;
	pl_jscan js;      /* checks each line against the columns */
	pl_jscan_col *jc; /* the columns as the scanner sees them */
	bool rows;        /* NDJSON checked after it arrived, into columns (ingest_rows.c) */
	bool line_has;    /* rows: the line being received has a non-blank byte */
} stream;

static int content_kind(struct MHD_Connection *c)
{
	const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
	if (!ct)
		return 0;
	size_t n = strcspn(ct, ";");
	while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	static const char *const nd[] = {"application/x-ndjson", "application/ndjson", "application/jsonl"};
	static const char *const pq[] = {"application/vnd.apache.parquet", "application/x-parquet"};
	for (size_t i = 0; i < 3; i++)
		if (n == strlen(nd[i]) && strncasecmp(ct, nd[i], n) == 0)
			return 1;
	for (size_t i = 0; i < 2; i++)
		if (n == strlen(pq[i]) && strncasecmp(ct, pq[i], n) == 0)
			return 2;
	return 0;
}

static void stream_fail(stream *st, pl_srv_err e, const char *msg, json_t *details)
{
	if (st->failed) {
		json_decref(details);
		return;
	}
	st->failed = true;
	st->err = e;
	st->errmsg = pl_strdup(msg);
	st->details = details;
}

static void stream_free(pl_req *r)
{
	stream *st = r->sink_arg;
	if (!st)
		return;
	if (st->f)
		fclose(st->f);
	pl_srv_item_free(st->it); /* not submitted: its file is removed */
	pl_buf_dispose(&st->line);
	free(st->errmsg);
	json_decref(st->details);
	pl_jscan_dispose(&st->js);
	free(st->jc);
	free(st);
	r->sink_arg = NULL;
}

/* Checks one line; write: also writes it to the spool file (else the caller writes it as it
 * came, with the lines around it). */
static void ndjson_line(stream *st, const char *p, size_t n, bool write)
{
	while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	size_t lead = 0;
	while (lead < n && (p[lead] == ' ' || p[lead] == '\t'))
		lead++;
	if (lead == n)
		return; /* blank lines are skipped (and not counted) */
	size_t rec = st->lineno++;
	size_t end = lead;
	int fit = pl_jscan_record(&st->js, st->jc, st->it->cols.n, p, n, &end, st->it->spool_used);
	if (fit == 0 && end != n)
		fit = -1, snprintf(st->js.err, sizeof st->js.err, "end of line expected after the record"), st->js.off = end;
	if (st->js.oom) {
		stream_fail(st, PL_SRV_UNAVAILABLE, "out of memory", NULL);
		return;
	}
	if (fit < 0) {
		char m[300];
		snprintf(m, sizeof m, "record %zu: not valid JSON: %s (byte %zu of the line)", rec, st->js.err, st->js.off + 1);
		stream_fail(st, PL_SRV_INVALID, m, json_pack("{s:I,s:s,s:s}", "record", (json_int_t)rec, "field", "", "reason", st->js.err));
		return;
	}
	if (fit > 0) {
		const char *field = st->js.field ? st->js.field : "", *why = st->js.reason;
		char m[512];
		snprintf(m, sizeof m, "record %zu, field \"%.200s\": %s", rec, field, why);
		stream_fail(st, PL_SRV_INVALID, m,
			    json_pack("{s:I,s:s,s:s}", "record", (json_int_t)rec, "field", field, "reason", why));
		return;
	}
	if (n > st->it->spool_maxline)
		st->it->spool_maxline = n;
	if (write && (fwrite(p + lead, 1, n - lead, st->f) != n - lead || fputc('\n', st->f) == EOF))
		stream_fail(st, PL_SRV_UNAVAILABLE, "cannot write the body to a temporary file (disk full?)", NULL);
	st->it->nrec++;
}

/* Writes the lines from a to b, checked in place, as they came. */
static void span_write(stream *st, const char *a, const char *b)
{
	if (st->failed || b <= a)
		return;
	if (fwrite(a, 1, (size_t)(b - a), st->f) != (size_t)(b - a))
		stream_fail(st, PL_SRV_UNAVAILABLE, "cannot write the body to a temporary file (disk full?)", NULL);
}

static bool sink(pl_req *r, const char *data, size_t n)
{
	stream *st = r->sink_arg;
	if (st->failed)
		return true; /* read (and drop) the rest of the body; the error is the reply */
	if (st->it)
		st->it->bytes += (int64_t)n;
	if (st->kind == 2) {
		if (fwrite(data, 1, n, st->f) != n)
			stream_fail(st, PL_SRV_UNAVAILABLE, "cannot write the Parquet body (disk full?)", NULL);
		return true;
	}
	if (st->rows) {
		/* written as it comes; only the non-blank lines are counted (the records) */
		if (fwrite(data, 1, n, st->f) != n)
			stream_fail(st, PL_SRV_UNAVAILABLE, "cannot write the body to a temporary file (disk full?)", NULL);
		const char *end = data + n;
		while (data < end) {
			if (!st->line_has) {
				while (data < end && (*data == ' ' || *data == '\t' || *data == '\r'))
					data++;
				if (data < end && *data != '\n')
					st->line_has = true;
			}
			const char *nl = data < end ? memchr(data, '\n', (size_t)(end - data)) : NULL;
			if (!nl)
				break;
			st->it->nrec += st->line_has;
			st->line_has = false;
			data = nl + 1;
		}
		return true;
	}
	/* checked lines that arrived whole in this chunk are written as they came (blank lines,
	 * spaces and CR included: read_json skips them), as one span */
	const char *span = data;
	while (n > 0 && !st->failed) {
		const char *nl = memchr(data, '\n', n);
		size_t take = nl ? (size_t)(nl - data) : n;
		if (st->line.len + take > MAX_LINE) {
			char m[120];
			snprintf(m, sizeof m, "record %zu is longer than %u bytes", st->lineno, MAX_LINE);
			stream_fail(st, PL_SRV_INVALID, m, json_pack("{s:I,s:s,s:s}", "record", (json_int_t)st->lineno, "field", "", "reason", "record too long"));
			break;
		}
		if (nl && st->line.len == 0) {
			ndjson_line(st, data, take, false);
		} else {
			span_write(st, span, data);
			pl_buf_put(&st->line, data, take);
			if (nl) {
				if (pl_buf_oom(&st->line))
					stream_fail(st, PL_SRV_UNAVAILABLE, "out of memory", NULL);
				else
					ndjson_line(st, st->line.ptr, st->line.len, true);
				st->line.len = 0;
			}
			span = data + take + (nl ? 1 : 0); /* the span starts after a line that was held */
		}
		data += take + (nl ? 1 : 0);
		n -= take + (nl ? 1 : 0);
	}
	span_write(st, span, data);
	return true;
}

static const char *arg(struct MHD_Connection *c, const char *k)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, k);
}

/* The lake's data path (the server's --data-path, or the lake's own option). */
static char *data_path(pl_srv_lake *l, planar_conn *conn)
{
	if (l->data_path)
		return pl_strdup(l->data_path);
	planar_result *res = NULL;
	char *v = NULL;
	if (planar_conn_query(conn, "SELECT value FROM " PL_SRV_LAKE ".options() WHERE option_name = 'data_path'",
			      &res) == 0 && planar_result_row_count(res) > 0) {
		char *t = planar_result_value_string(res, 0, 0);
		v = t ? pl_strdup(t) : NULL;
		planar_free(t);
	}
	planar_result_free(res);
	return v;
}

/* The checks of the request before its body: on failure the reply is queued. */
static bool begin_checks(struct MHD_Connection *c, pl_req *r, stream *st)
{
	enum MHD_Result ret;
	pl_srv_lake *l = &r->srv->lake;
	if (!pl_srv_authenticate(c, r, &ret))
		return false;
	if (!r->role || (strcmp(r->role, "writer") != 0 && strcmp(r->role, "admin") != 0)) {
		pl_srv_reply_error(c, r, PL_SRV_FORBIDDEN, "this token may not write (role reader)", NULL);
		return false;
	}
	const char *table = arg(c, "table"), *tenant = arg(c, "tenant_id"), *job = arg(c, "job_id");
	const char *sv = arg(c, "schema_version"), *key = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Idempotency-Key");
	const char *bad = !table || !*table ? "the query parameter table is required"
			  : !tenant || !*tenant ? "the query parameter tenant_id is required"
			  : !job || !*job ? "the query parameter job_id is required"
			  : key && (strlen(key) > 200 || !pl_srv_utf8_valid(key, strlen(key))) ? "Idempotency-Key must be UTF-8 text of at most 200 bytes"
			  : NULL;
	if (bad) {
		pl_srv_reply_error(c, r, PL_SRV_BAD_REQUEST, bad, NULL);
		return false;
	}
	if (!pl_srv_authorize_tenant(c, r, tenant, &ret))
		return false;
	/* allowed_tables, and a tenant already at its quota (the body's size is not known yet) */
	if (!pl_srv_policy_admit(c, r, tenant, table, "ingest", 0, &ret))
		return false;
	r->target = pl_strdup(table);
	int64_t snap = -1, version = -1;
	pl_err err;
	pl_err_clear(&err);
	pthread_mutex_lock(&l->svc_lock);
	int rc = pl_service_current(l->svc, &snap, &version, &err);
	pthread_mutex_unlock(&l->svc_lock);
	if (rc) {
		pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, "the catalog cannot be reached", json_pack("{s:s}", "reason", err.msg));
		return false;
	}
	char cur[32];
	snprintf(cur, sizeof cur, "%lld", (long long)version);
	if (sv && strcmp(sv, cur) != 0) {
		pl_srv_reply_error(c, r, PL_SRV_CONFLICT, "stale schema_version: the lake's schema changed",
				   json_pack("{s:I}", "current_schema_version", (json_int_t)version));
		return false;
	}
	pl_srv_item *it = calloc(1, sizeof *it);
	st->it = it;
	const char *dot = strchr(table, '.');
	if (it) {
		it->r = r;
		it->schema = dot ? pl_strndup(table, (size_t)(dot - table)) : pl_strdup("main");
		it->name = pl_strdup(dot ? dot + 1 : table);
		it->table = pl_strdup(table);
		it->tenant = pl_strdup(tenant);
		it->job = pl_strdup(job);
		it->key = key ? pl_strdup(key) : NULL;
		it->spool_kind = st->kind;
		pl_now_timestamptz(it->now);
	}
	if (!it || !it->schema || !it->name || !it->table || !it->tenant || !it->job || (key && !it->key) ||
	    pl_uuid_v7(it->pid, &err) != 0) {
		pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, "out of memory", NULL);
		return false;
	}
	planar_conn *conn = NULL;
	char *msg = NULL;
	rc = pl_srv_conn_get(l, &conn, &msg);
	if (rc == 0)
		rc = pl_srv_cols_load(l, conn, it->schema, it->name, version, &it->cols, &msg);
	char *dir = rc == 0 && st->kind == 2 ? data_path(l, conn) : NULL;
	pl_srv_conn_put(l, conn, true);
	if (rc) {
		pl_srv_reply_error(c, r, pl_srv_err_of_planar(rc), msg ? msg : "cannot read the table's columns", NULL);
		free(msg);
		free(dir);
		return false;
	}
	free(msg);
	if (it->cols.n == 0) {
		free(dir);
		pl_srv_reply_error(c, r, PL_SRV_NOT_FOUND, "no such table in the lake (\"create\" needs a JSON body)",
				   json_pack("{s:s}", "table", table));
		return false;
	}
	it->spool_used = calloc(it->cols.n, sizeof *it->spool_used);
	st->rows = st->kind == 1 && pl_srv_rows_fit(&it->cols);
	if (st->kind == 1 && pl_srv_jscan_cols(&it->cols, &st->jc) != 0) {
		pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, "out of memory", NULL);
		return false;
	}
	pl_buf path = PL_BUF_INIT;
	if (st->kind == 1) {
		const char *tmp = getenv("TMPDIR");
		pl_buf_printf(&path, "%s/planar-ingest-%s.ndjson", tmp && *tmp ? tmp : "/tmp", it->pid);
	} else if (dir) {
		size_t dl = strlen(dir);
		pl_buf_printf(&path, "%s%singest", dir, dl && dir[dl - 1] == '/' ? "" : "/");
		mkdir(pl_buf_cstr(&path), 0755);
		pl_buf_printf(&path, "/%s.parquet", it->pid);
	}
	free(dir);
	if (st->kind == 2 && path.len == 0) {
		pl_buf_dispose(&path);
		pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, "the lake's data path is not known; start the server with --data-path",
				   NULL);
		return false;
	}
	it->spool = pl_buf_oom(&path) ? NULL : pl_buf_detach(&path);
	pl_buf_dispose(&path);
	st->f = it->spool && it->spool_used ? fopen(it->spool, "wbx") : NULL;
	if (st->f)
		setvbuf(st->f, NULL, _IOFBF, 1 << 20);
	if (!st->f) {
		free(it->spool);
		it->spool = NULL;
		pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, "cannot create the file the body is written to", NULL);
		return false;
	}
	return true;
}

bool pl_srv_stream_begin(struct MHD_Connection *c, pl_req *r)
{
	if (strcmp(r->method, "POST") != 0 || !r->path || strcmp(r->path, "/data/ingest") != 0)
		return false;
	int kind = content_kind(c);
	if (!kind)
		return false;
	r->route = "ingest";
	stream *st = calloc(1, sizeof *st);
	if (!st) {
		pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, "out of memory", NULL);
		return true;
	}
	st->kind = kind;
	pl_jscan_init(&st->js);
	r->sink_arg = st;
	r->sink_free = stream_free;
	if (begin_checks(c, r, st))
		r->sink = sink;
	return true;
}

enum MHD_Result pl_srv_stream_end(struct MHD_Connection *c, pl_req *r)
{
	stream *st = r->sink_arg;
	if (st->rows && st->line_has) { /* the last line without its newline */
		st->it->nrec++;
		st->line_has = false;
	}
	if (st->kind == 1 && st->line.len > 0 && !st->failed) { /* the last line without its newline */
		ndjson_line(st, st->line.ptr, st->line.len, true);
		st->line.len = 0;
	}
	if (st->f && fclose(st->f) != 0)
		stream_fail(st, PL_SRV_UNAVAILABLE, "cannot write the body to a file (disk full?)", NULL);
	st->f = NULL;
	if (st->failed) {
		json_t *d = st->details;
		st->details = NULL;
		return pl_srv_reply_error(c, r, st->err, st->errmsg, d);
	}
	pl_srv_item *it = st->it;
	if (st->kind == 2) {
		/* the row count, and a first check that the body is a Parquet file */
		planar_conn *conn = NULL;
		char *msg = NULL;
		planar_result *res = NULL;
		pl_buf q = PL_BUF_INIT;
		pl_buf_puts(&q, "SELECT count(*) FROM read_parquet(");
		pl_buf_put_literal(&q, it->spool);
		pl_buf_putc(&q, ')');
		int rc = pl_srv_conn_get(&r->srv->lake, &conn, &msg);
		if (rc == 0)
			rc = pl_buf_oom(&q) ? PLANAR_ENOMEM : planar_conn_query(conn, q.ptr, &res);
		if (rc == 0) {
			char *n = planar_result_value_string(res, 0, 0);
			it->nrec = n ? (size_t)strtoull(n, NULL, 10) : 0;
			planar_free(n);
		}
		char *why = rc && conn ? pl_strdup(planar_conn_errmsg(conn)) : NULL;
		planar_result_free(res);
		pl_buf_dispose(&q);
		pl_srv_conn_put(&r->srv->lake, conn, true);
		if (rc) {
			enum MHD_Result ret = pl_srv_reply_error(c, r, PL_SRV_INVALID, "the body is not a readable Parquet file",
								 json_pack("{s:s}", "reason", why ? why : msg ? msg : "?"));
			free(why);
			free(msg);
			return ret;
		}
		free(msg);
	}
	if (it->nrec == 0)
		return pl_srv_reply_error(c, r, PL_SRV_BAD_REQUEST, "the body has no records", NULL);
	/* a retry of an answered request */
	if (it->key) {
		bool unavailable = false;
		char *why = NULL;
		json_t *prev = pl_srv_replay_find(&r->srv->lake, r->srv->lake.svc, it->tenant, it->key, &unavailable, &why);
		if (unavailable || prev) {
			enum MHD_Result ret = unavailable ? pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, "the catalog cannot be reached",
									       json_pack("{s:s}", "reason", why ? why : "?"))
							  : pl_srv_reply_json(c, r, 201, prev);
			free(why);
			return ret;
		}
	}
	if (st->rows && pl_srv_rows_start_ndjson(it, it->spool) != 0)
		return pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, "cannot read back the body's temporary file", NULL);
	st->it = NULL; /* the committer's now */
	it->c = c;
	r->sink = NULL;
	pl_srv_batch_submit(r->srv, it);
	return MHD_YES;
}
