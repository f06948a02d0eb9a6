/*
 * create.c -- "create": true on POST /data/ingest: when the table does not exist, it is created
 * from the records before they are written. Writer tokens (for their tenant) and admin tokens
 * may ask for it; without "create": true a missing table is 404.
 *
 * Columns: every field any record has, in the order they first appear; types from the JSON
 * values: integers BIGINT, other numbers DOUBLE (a field with both: DOUBLE), true/false
 * BOOLEAN, strings VARCHAR, strings that all look like ISO 8601 timestamps
 * ("2026-12-01T10:00:00", "2026-12-01 10:00:00.5") TIMESTAMP and with a zone ("...Z",
 * "...+02:00") TIMESTAMPTZ, arrays and objects JSON; a field that is null in every record
 * VARCHAR. Every column is nullable. A field with values of incompatible kinds (a number in one
 * record, a string in another) or a record that is not an object gives 422 naming the record
 * and field, and nothing is created. Two requests creating one table at once: one creates it,
 * the other writes into it.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "server/ingest.h"

typedef enum kind { K_NULL, K_BOOL, K_INT, K_DOUBLE, K_TS, K_TSTZ, K_TEXT, K_JSON } kind;

static const char *const kind_type[] = {"VARCHAR", "BOOLEAN", "BIGINT", "DOUBLE", "TIMESTAMP", "TIMESTAMPTZ", "VARCHAR", "JSON"};
static const char *const kind_name[] = {"null", "true/false", "an integer", "a number", "a timestamp",
					"a timestamp with a zone", "a string", "an array or object"};

static bool digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* 0: not a timestamp; 1: without a zone; 2: with a zone. */
static int iso_timestamp(const char *s)
{
	size_t n = strlen(s);
	if (n < 16 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' || !digits(s + 8, 2) ||
	    (s[10] != 'T' && s[10] != ' ') || !digits(s + 11, 2) || s[13] != ':' || !digits(s + 14, 2))
		return 0;
	const char *p = s + 16;
	if (*p == ':') {
		if (!digits(p + 1, 2))
			return 0;
		p += 3;
		if (*p == '.') {
			p++;
			const char *q = p;
			while (isdigit((unsigned char)*p))
				p++;
			if (p == q || p - q > 9)
				return 0;
		}
	}
	if (*p == '\0')
		return 1;
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
		return 2;
	if ((*p == '+' || *p == '-') && digits(p + 1, 2) && (p[3] == '\0' || (p[3] == ':' && digits(p + 4, 2) && p[6] == '\0')))
		return 2;
	return 0;
}

static kind kind_of(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_TRUE:
	case JSON_FALSE:
		return K_BOOL;
	case JSON_INTEGER:
		return K_INT;
	case JSON_REAL:
		return K_DOUBLE;
	case JSON_STRING: {
		int t = iso_timestamp(json_string_value(v));
		return t == 1 ? K_TS : t == 2 ? K_TSTZ : K_TEXT;
	}
	case JSON_ARRAY:
	case JSON_OBJECT:
		return K_JSON;
	default:
		return K_NULL;
	}
}

/* The kind of a field with values of kinds a and b, or -1 when they cannot share a column. */
static int merge(kind a, kind b)
{
	if (a == b || b == K_NULL)
		return (int)a;
	if (a == K_NULL)
		return (int)b;
	if ((a == K_INT && b == K_DOUBLE) || (a == K_DOUBLE && b == K_INT))
		return K_DOUBLE;
	bool as = a == K_TS || a == K_TSTZ || a == K_TEXT, bs = b == K_TS || b == K_TSTZ || b == K_TEXT;
	if (as && bs)
		return K_TEXT;
	return -1;
}

static enum MHD_Result unprocessable(struct MHD_Connection *c, pl_req *r, size_t rec, const char *field,
				     const char *reason)
{
	char m[512];
	snprintf(m, sizeof m, "record %zu, field \"%.200s\": %s", rec, field, reason);
	return pl_srv_reply_error(c, r, PL_SRV_INVALID, m,
				  json_pack("{s:I,s:s,s:s}", "record", (json_int_t)rec, "field", field, "reason", reason));
}

int pl_srv_ingest_create(struct MHD_Connection *c, pl_req *r, planar_conn *conn, const char *schema,
			 const char *name, json_t *records, enum MHD_Result *ret)
{
	json_t *kinds = json_object(); /* field -> kind (ordered by first appearance) */
	json_t *order = json_array();
	if (!kinds || !order) {
		json_decref(kinds);
		json_decref(order);
		*ret = pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, "out of memory", NULL);
		return PLANAR_ENOMEM;
	}
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < json_array_size(records); i++) {
		json_t *rec = json_array_get(records, i);
		if (!json_is_object(rec)) {
			*ret = unprocessable(c, r, i, "", "a record must be a JSON object");
			rc = PLANAR_EINVALID;
			break;
		}
		const char *k;
		json_t *v;
		json_object_foreach(rec, k, v)
		{
			json_t *prev = json_object_get(kinds, k);
			kind now = kind_of(v);
			if (!*k || strlen(k) > 255) {
				*ret = unprocessable(c, r, i, k, "a field name must be 1 to 255 bytes");
				rc = PLANAR_EINVALID;
				break;
			}
			if (!prev) {
				json_object_set_new(kinds, k, json_integer(now));
				json_array_append_new(order, json_string(k));
				continue;
			}
			int m = merge((kind)json_integer_value(prev), now);
			if (m < 0) {
				char why[160];
				snprintf(why, sizeof why, "%s here, %s in an earlier record: the column's type cannot be inferred",
					 kind_name[now], kind_name[json_integer_value(prev)]);
				*ret = unprocessable(c, r, i, k, why);
				rc = PLANAR_EINVALID;
				break;
			}
			json_integer_set(prev, m);
		}
	}
	if (rc == 0 && json_array_size(order) == 0) {
		*ret = unprocessable(c, r, 0, "", "the records have no fields");
		rc = PLANAR_EINVALID;
	}
	size_t n = rc == 0 ? json_array_size(order) : 0;
	const char **names = n ? calloc(n, sizeof(*names)) : NULL, **types = n ? calloc(n, sizeof(*types)) : NULL;
	if (rc == 0 && (!names || !types)) {
		*ret = pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, "out of memory", NULL);
		rc = PLANAR_ENOMEM;
	}
	for (size_t j = 0; rc == 0 && j < n; j++) {
		names[j] = json_string_value(json_array_get(order, j));
		types[j] = kind_type[json_integer_value(json_object_get(kinds, names[j]))];
	}
	char *msg = NULL;
	if (rc == 0 && (rc = pl_srv_create_table(conn, schema, name, names, types, n, NULL, false, &msg)) != 0) {
		pl_srv_err e = pl_srv_err_of_planar(rc);
		*ret = pl_srv_reply_error(c, r, e == PL_SRV_BAD_REQUEST ? PL_SRV_INVALID : e, msg, NULL);
	}
	free(msg);
	free(names);
	free(types);
	json_decref(kinds);
	json_decref(order);
	return rc;
}

int pl_srv_create_table(planar_conn *conn, const char *schema, const char *name, const char *const *cols,
			const char *const *types, size_t n, const char *partition, bool exclusive, char **errmsg)
{
	*errmsg = NULL;
	pl_buf sql = PL_BUF_INIT;
	if (strcmp(schema, "main") != 0) {
		pl_buf_puts(&sql, "CREATE SCHEMA IF NOT EXISTS " PL_SRV_LAKE ".");
		pl_buf_put_ident(&sql, schema);
		pl_buf_puts(&sql, "; ");
	}
	size_t table_at = sql.len;
	pl_buf_puts(&sql, exclusive ? "CREATE TABLE " PL_SRV_LAKE "." : "CREATE TABLE IF NOT EXISTS " PL_SRV_LAKE ".");
	pl_buf_put_ident(&sql, schema);
	pl_buf_putc(&sql, '.');
	pl_buf_put_ident(&sql, name);
	pl_buf_puts(&sql, " (");
	for (size_t j = 0; j < n; j++) {
		pl_buf_puts(&sql, j ? ", " : "");
		pl_buf_put_ident(&sql, cols[j]);
		pl_buf_printf(&sql, " %s", types[j]);
	}
	pl_buf_putc(&sql, ')');
	size_t alter_at = sql.len;
	if (partition) {
		pl_buf_puts(&sql, "; ALTER TABLE " PL_SRV_LAKE ".");
		pl_buf_put_ident(&sql, schema);
		pl_buf_putc(&sql, '.');
		pl_buf_put_ident(&sql, name);
		pl_buf_printf(&sql, " SET PARTITIONED BY (%s)", partition);
	}
	if (pl_buf_oom(&sql)) {
		pl_buf_dispose(&sql);
		*errmsg = pl_strdup("out of memory");
		return PLANAR_ENOMEM;
	}
	/* the statements, one at a time (each its own snapshot; exclusive: one transaction) */
	char *stmts[3] = {NULL, NULL, NULL};
	size_t k = 0;
	if (table_at > 0) {
		sql.ptr[table_at - 2] = '\0';
		stmts[k++] = sql.ptr;
	}
	stmts[k++] = sql.ptr + table_at;
	if (partition) {
		sql.ptr[alter_at] = '\0';
		stmts[k++] = sql.ptr + alter_at + 2;
	}
	int rc = exclusive ? planar_conn_query(conn, "BEGIN TRANSACTION", NULL) : 0;
	for (size_t i = 0; rc == 0 && i < k; i++) {
		rc = planar_conn_query(conn, stmts[i], NULL);
		if (!exclusive && (rc == PLANAR_ECONFLICT || rc == PLANAR_EEXISTS))
			rc = 0; /* created meanwhile by another request */
	}
	if (rc == 0 && exclusive)
		rc = planar_conn_query(conn, "COMMIT", NULL);
	if (rc) {
		*errmsg = pl_strdup(planar_conn_errmsg(conn));
		if (exclusive)
			(void)planar_conn_query(conn, "ROLLBACK", NULL);
	}
	pl_buf_dispose(&sql);
	return rc;
}
