/*
 * tables.c -- POST /data/tables (admin tokens only): creates a lake table.
 *
 *   {"schema": "main", "table": "ev", "columns": [{"name": "id", "type": "BIGINT", "nullable": false}, ...],
 *    "partitioned_by": ["day(ts)", "region"]}
 *
 * -> 201 {"schema", "table", "columns", "partitioned_by", "snapshot_id"}. 403 for any other
 * token, 409 when the table exists, 422 naming the field for anything else that is wrong. Names
 * (1 to 255 bytes of UTF-8 without control characters) are always quoted; a type is read by a
 * small grammar (DuckDB's scalar types, DECIMAL(p, s), T[] lists) and written back in its
 * canonical spelling, and a partition key is a column name or year|month|day|hour(column): no
 * text of the request reaches SQL unquoted. The schema (created when missing), the table and its
 * partitioning are one transaction, so a failure leaves the lake as it was.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/str.h"
#include "server/ingest.h"
#include "server/resources.h"

static enum MHD_Result invalid(struct MHD_Connection *c, pl_req *r, const char *field, const char *why)
{
	char m[512];
	snprintf(m, sizeof m, "\"%.200s\": %s", field, why);
	return pl_srv_reply_error(c, r, PL_SRV_INVALID, m, json_pack("{s:s,s:s}", "field", field, "reason", why));
}

/* A name: 1 to 255 bytes of valid UTF-8 without control characters (JSON may carry a NUL). */
static bool name_ok(const json_t *v)
{
	if (!json_is_string(v))
		return false;
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	if (n == 0 || n > 255 || strlen(s) != n || !pl_srv_utf8_valid(s, n))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static const struct {
	const char *in, *out;
} scalar_types[] = {
	{"BOOLEAN", "BOOLEAN"},   {"BOOL", "BOOLEAN"},       {"TINYINT", "TINYINT"},     {"SMALLINT", "SMALLINT"},
	{"INTEGER", "INTEGER"},   {"INT", "INTEGER"},        {"BIGINT", "BIGINT"},       {"HUGEINT", "HUGEINT"},
	{"UTINYINT", "UTINYINT"}, {"USMALLINT", "USMALLINT"}, {"UINTEGER", "UINTEGER"},  {"UBIGINT", "UBIGINT"},
	{"FLOAT", "FLOAT"},       {"REAL", "FLOAT"},         {"DOUBLE", "DOUBLE"},       {"VARCHAR", "VARCHAR"},
	{"TEXT", "VARCHAR"},      {"STRING", "VARCHAR"},     {"BLOB", "BLOB"},           {"DATE", "DATE"},
	{"TIME", "TIME"},         {"TIMESTAMP", "TIMESTAMP"}, {"TIMESTAMPTZ", "TIMESTAMPTZ"},
	{"TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"},         {"UUID", "UUID"},           {"JSON", "JSON"},
	{"INTERVAL", "INTERVAL"},
};

/* The canonical text of a column type (written to out, 64 bytes), or false when the grammar does
 * not accept it. */
static bool parse_type(const char *in, char out[64])
{
	char t[96];
	size_t n = 0;
	bool space = false;
	for (const char *p = in; *p; p++) { /* upper case, single spaces, none around punctuation */
		if (n + 2 >= sizeof t)
			return false;
		if (*p == ' ' || *p == '\t') {
			space = n > 0;
			continue;
		}
		bool punct = *p == '(' || *p == ')' || *p == ',' || *p == '[' || *p == ']';
		if (space && !punct && n > 0 && t[n - 1] != '(' && t[n - 1] != ',' && t[n - 1] != '[')
			t[n++] = ' ';
		space = false;
		t[n++] = (char)toupper((unsigned char)*p);
	}
	t[n] = '\0';
	int lists = 0; /* trailing [] pairs */
	while (n >= 2 && t[n - 2] == '[' && t[n - 1] == ']' && lists < 8) {
		n -= 2;
		t[n] = '\0';
		lists++;
	}
	char base[48];
	int p = 0, s = 0;
	char extra;
	if (strncmp(t, "DECIMAL(", 8) == 0 || strncmp(t, "NUMERIC(", 8) == 0) {
		int got = sscanf(t + 8, "%2d,%2d)%c", &p, &s, &extra);
		if (got != 2) {
			got = sscanf(t + 8, "%2d)%c", &p, &extra);
			if (got != 1)
				return false;
			s = 0;
		}
		if (p < 1 || p > 38 || s < 0 || s > p)
			return false;
		/* sscanf accepts a sign or spaces; the canonical text must be what was given */
		char again[48];
		snprintf(again, sizeof again, "%d,%d)", p, s);
		char again1[48];
		snprintf(again1, sizeof again1, "%d)", p);
		if (strcmp(t + 8, again) != 0 && strcmp(t + 8, again1) != 0)
			return false;
		snprintf(base, sizeof base, "DECIMAL(%d, %d)", p, s);
	} else {
		const char *found = NULL;
		for (size_t i = 0; !found && i < sizeof scalar_types / sizeof scalar_types[0]; i++)
			if (strcmp(t, scalar_types[i].in) == 0)
				found = scalar_types[i].out;
		if (!found)
			return false;
		snprintf(base, sizeof base, "%s", found);
	}
	int w = snprintf(out, 64, "%s", base);
	for (int i = 0; i < lists && w + 2 < 64; i++)
		w += snprintf(out + w, (size_t)(64 - w), "[]");
	return w < 64;
}

/* Index of column name among names[0..n) (case-insensitive, as DuckDB compares them), or -1. */
static long column_index(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (pl_str_ieq(names[i], name))
			return (long)i;
	return -1;
}

enum MHD_Result pl_srv_route_tables(struct MHD_Connection *c, pl_req *r)
{
	if (!r->role || strcmp(r->role, "admin") != 0)
		return pl_srv_reply_error(c, r, PL_SRV_FORBIDDEN, "only an admin token may create a table", NULL);
	if (!pl_srv_is_json(c))
		return pl_srv_reply_error(c, r, PL_SRV_MEDIA_TYPE, "the body must be application/json", NULL);
	enum MHD_Result ret;
	json_t *body = pl_srv_body_object(c, r, &ret);
	if (!body)
		return ret;
	const char *k;
	json_t *v;
	json_object_foreach(body, k, v)
	{
		(void)v;
		if (strcmp(k, "schema") != 0 && strcmp(k, "table") != 0 && strcmp(k, "columns") != 0 &&
		    strcmp(k, "partitioned_by") != 0) {
			ret = invalid(c, r, k, "unknown field (expected schema, table, columns, partitioned_by)");
			json_decref(body);
			return ret;
		}
	}
	json_t *js = json_object_get(body, "schema"), *jt = json_object_get(body, "table"),
	       *jc = json_object_get(body, "columns"), *jp = json_object_get(body, "partitioned_by");
	const char *bad = NULL, *why = NULL;
	char fieldbuf[64];
	if (js && !json_is_null(js) && !name_ok(js))
		bad = "schema", why = "a name of 1 to 255 bytes of UTF-8 without control characters is required";
	else if (!name_ok(jt))
		bad = "table", why = "a name of 1 to 255 bytes of UTF-8 without control characters is required";
	else if (!json_is_array(jc) || json_array_size(jc) == 0 || json_array_size(jc) > 4096)
		bad = "columns", why = "an array of 1 to 4096 {\"name\", \"type\"} objects is required";
	else if (jp && !json_is_null(jp) && (!json_is_array(jp) || json_array_size(jp) > 64))
		bad = "partitioned_by", why = "an array of at most 64 partition keys (\"col\" or \"day(col)\") is expected";
	size_t n = bad ? 0 : json_array_size(jc);
	const char **names = calloc(n + 1, sizeof(*names));
	char(*types)[64] = calloc(n + 1, sizeof(*types));
	const char **typep = calloc(n + 1, sizeof(*typep));
	if (!names || !types || !typep) {
		free(names);
		free(types);
		free(typep);
		json_decref(body);
		return pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, "out of memory", NULL);
	}
	for (size_t i = 0; !bad && i < n; i++) {
		json_t *col = json_array_get(jc, i), *cn = json_object_get(col, "name"), *ct = json_object_get(col, "type"),
		       *nl = json_object_get(col, "nullable");
		const char *ck;
		json_t *cv;
		bool unknown = false;
		if (json_is_object(col)) {
			json_object_foreach(col, ck, cv)
			{
				(void)cv;
				if (strcmp(ck, "name") != 0 && strcmp(ck, "type") != 0 && strcmp(ck, "nullable") != 0)
					unknown = true;
			}
		}
		if (!json_is_object(col) || unknown) {
			snprintf(fieldbuf, sizeof fieldbuf, "columns[%zu]", i);
			bad = fieldbuf, why = "an object {\"name\", \"type\", \"nullable\"?} is expected";
		} else if (!name_ok(cn)) {
			snprintf(fieldbuf, sizeof fieldbuf, "columns[%zu].name", i);
			bad = fieldbuf, why = "a name of 1 to 255 bytes of UTF-8 without control characters is required";
		} else if (column_index(names, i, json_string_value(cn)) >= 0) {
			snprintf(fieldbuf, sizeof fieldbuf, "columns[%zu].name", i);
			bad = fieldbuf, why = "a column of that name comes earlier";
		} else if (!json_is_string(ct) || strlen(json_string_value(ct)) != json_string_length(ct) ||
			   !parse_type(json_string_value(ct), types[i])) {
			snprintf(fieldbuf, sizeof fieldbuf, "columns[%zu].type", i);
			bad = fieldbuf, why = "not a supported type (BOOLEAN, TINYINT .. HUGEINT, UTINYINT .. UBIGINT, FLOAT, "
					      "DOUBLE, DECIMAL(p, s), VARCHAR, BLOB, DATE, TIME, TIMESTAMP, TIMESTAMPTZ, "
					      "INTERVAL, UUID, JSON, or any of them followed by [])";
		} else if (nl && !json_is_boolean(nl)) {
			snprintf(fieldbuf, sizeof fieldbuf, "columns[%zu].nullable", i);
			bad = fieldbuf, why = "true or false is expected";
		} else {
			names[i] = json_string_value(cn);
			if (nl && json_is_false(nl)) {
				size_t w = strlen(types[i]);
				if (w + 9 < 64)
					memcpy(types[i] + w, " NOT NULL", 10);
			}
			typep[i] = types[i];
		}
	}
	/* partition keys: "col" or "year|month|day|hour(col)", composed from the column's own name */
	pl_buf part = PL_BUF_INIT;
	json_t *keys = json_array();
	for (size_t i = 0; !bad && jp && json_is_array(jp) && i < json_array_size(jp); i++) {
		json_t *e = json_array_get(jp, i);
		snprintf(fieldbuf, sizeof fieldbuf, "partitioned_by[%zu]", i);
		const char *s = json_is_string(e) && strlen(json_string_value(e)) == json_string_length(e)
					? json_string_value(e)
					: NULL;
		static const char *const fns[] = {"year", "month", "day", "hour"};
		const char *fn = NULL, *col = s;
		char inner[256];
		for (size_t f = 0; s && !fn && f < 4; f++) {
			size_t fl = strlen(fns[f]), sl = strlen(s);
			if (sl > fl + 2 && sl - fl - 2 < sizeof inner && strncasecmp(s, fns[f], fl) == 0 && s[fl] == '(' &&
			    s[sl - 1] == ')') {
				memcpy(inner, s + fl + 1, sl - fl - 2);
				inner[sl - fl - 2] = '\0';
				fn = fns[f];
				col = inner;
			}
		}
		long ci = col ? column_index(names, n, col) : -1;
		if (ci < 0) {
			bad = fieldbuf, why = "a column of the table, or year|month|day|hour(column), is expected";
			break;
		}
		pl_buf_puts(&part, i ? ", " : "");
		if (fn)
			pl_buf_printf(&part, "%s(", fn);
		pl_buf_put_ident(&part, names[ci]);
		if (fn)
			pl_buf_putc(&part, ')');
		char key[300];
		if (fn)
			snprintf(key, sizeof key, "%s(%s)", fn, names[ci]);
		else
			snprintf(key, sizeof key, "%s", names[ci]);
		json_array_append_new(keys, json_string(key));
	}
	if (bad) {
		ret = invalid(c, r, bad, why);
	} else if (pl_buf_oom(&part) || !keys) {
		ret = pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, "out of memory", NULL);
	} else {
		const char *schema = js && json_is_string(js) ? json_string_value(js) : "main";
		const char *table = json_string_value(jt);
		free(r->target);
		pl_buf tg = PL_BUF_INIT;
		pl_buf_printf(&tg, "%s.%s", schema, table);
		r->target = pl_buf_detach(&tg);
		planar_conn *conn = NULL;
		char *msg = NULL;
		int rc = pl_srv_conn_get(&r->srv->lake, &conn, &msg);
		if (rc == 0) {
			rc = pl_srv_create_table(conn, schema, table, names, typep, n, part.len ? part.ptr : NULL, true, &msg);
			int64_t snap = rc == 0 ? pl_srv_last_committed(conn) : -1;
			pl_srv_conn_put(&r->srv->lake, conn, true);
			if (rc == 0) {
				json_t *cols = json_array();
				for (size_t i = 0; i < n; i++) {
					char *nn = strstr(types[i], " NOT NULL");
					if (nn)
						*nn = '\0';
					json_array_append_new(cols, json_pack("{s:s,s:s,s:b}", "name", names[i], "type", types[i],
									      "nullable", !nn));
				}
				ret = pl_srv_reply_json(c, r, 201,
							json_pack("{s:s,s:s,s:o,s:O,s:I}", "schema", schema, "table", table,
								  "columns", cols, "partitioned_by", keys, "snapshot_id",
								  (json_int_t)snap));
			}
		}
		if (rc) {
			pl_srv_err e = pl_srv_err_of_planar(rc);
			if (rc == PLANAR_EEXISTS || rc == PLANAR_ECONFLICT)
				ret = pl_srv_reply_error(c, r, PL_SRV_CONFLICT, msg ? msg : "the table exists",
							 json_pack("{s:s,s:s}", "schema", schema, "table", table));
			else
				ret = pl_srv_reply_error(c, r, e == PL_SRV_BAD_REQUEST ? PL_SRV_INVALID : e,
							 msg ? msg : "cannot create the table", NULL);
		}
		free(msg);
	}
	json_decref(keys);
	pl_buf_dispose(&part);
	free(names);
	free(types);
	free(typep);
	json_decref(body);
	return ret;
}
