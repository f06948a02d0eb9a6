/*
 * ingest_bulk.c -- the fast path of large JSON ingest bodies and the record checks of NDJSON
 * bodies, on the validating scanner (jscan.c) instead of a tree of every record.
 *
 * A JSON body whose "records" array has more elements than a group commit inlines (and no
 * "create": true) is read in two passes over the body as it was received: the first checks the
 * syntax of the body's other members and keeps them (small) as a JSON object, and only finds the
 * end of the records array and counts its elements; the second checks every byte of each record
 * (syntax, then the fields against the table's columns) and writes it, as it is, as one line of
 * a temporary NDJSON file (newlines between tokens become spaces), which the committer reads
 * with read_json and the columns' types. A record that is not valid JSON gives 400 naming it.
 * Any other body (a syntax error outside the records included, so its message is the usual
 * one) goes the general way: the whole body parsed by jansson.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/str.h"
#include "server/ingest.h"

int pl_srv_jscan_cols(const pl_srv_cols *cl, pl_jscan_col **out)
{
	static const char *const ints[] = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT",
					   "UINTEGER", "UBIGINT", "HUGEINT", "UHUGEINT"};
	static const int64_t lo[] = {-128, -32768, -2147483648LL, INT64_MIN, 0, 0, 0, 0, INT64_MIN, 0};
	static const int64_t hi[] = {127, 32767, 2147483647LL, INT64_MAX, 255, 65535, 4294967295LL,
				     INT64_MAX, INT64_MAX, INT64_MAX};
	pl_jscan_col *v = calloc(cl->n ? cl->n : 1, sizeof *v);
	if (!v)
		return PLANAR_ENOMEM;
	for (size_t j = 0; j < cl->n; j++) {
		const char *t = cl->v[j].type;
		pl_jscan_col *c = &v[j];
		c->name = cl->v[j].name;
		c->len = strlen(c->name);
		c->type = t;
		c->nullable = cl->v[j].nullable;
		c->required = !cl->v[j].nullable && !cl->v[j].has_default;
		c->kind = PL_JK_STR;
		if (strcasecmp(t, "JSON") == 0) {
			c->kind = PL_JK_ANY;
		} else if (pl_srv_type_nested(t)) {
			c->kind = PL_JK_NESTED;
		} else if (strcasecmp(t, "BOOLEAN") == 0) {
			c->kind = PL_JK_BOOL;
		} else if (strcasecmp(t, "FLOAT") == 0 || strcasecmp(t, "DOUBLE") == 0 || strncasecmp(t, "DECIMAL", 7) == 0) {
			c->kind = PL_JK_NUM;
		} else {
			for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
				if (strcasecmp(t, ints[i]) == 0) {
					c->kind = PL_JK_INT;
					c->lo = lo[i];
					c->hi = hi[i];
				}
			}
		}
	}
	*out = v;
	return 0;
}

/* Moves *pos (at a '[') past the array's closing bracket, counting its elements by the commas
 * at its top level: strings and brackets are followed, nothing else is checked (the second pass
 * checks every byte of the array). false: the array does not end. */
static bool skip_array(const char *p, size_t n, size_t *pos, size_t *count)
{
	static const unsigned char special[256] = {['"'] = 1, ['['] = 1, [']'] = 1, ['{'] = 1, ['}'] = 1, [','] = 1};
	const unsigned char *u = (const unsigned char *)p;
	size_t depth = 0, commas = 0, first = pl_jscan_ws(p, n, *pos + 1);
	bool any = first < n && p[first] != ']';
	for (size_t i = *pos; i < n; i++) {
		while (i < n && !special[u[i]])
			i++;
		if (i >= n)
			break;
		char c = p[i];
		if (c == '"') {
			for (i++; i < n && p[i] != '"'; i++)
				if (p[i] == '\\')
					i++;
			if (i >= n)
				return false;
		} else if (c == '[' || c == '{') {
			depth++;
		} else if (c == ']' || c == '}') {
			if (depth == 0)
				return false;
			if (--depth == 0) {
				*pos = i + 1;
				*count = any ? commas + 1 : 0;
				return true;
			}
		} else if (depth == 1) { /* a comma between elements */
			commas++;
		}
	}
	return false;
}

/* The decoded text of the key p[a..b) (a checked JSON string), or NULL. */
static json_t *key_of(const char *p, size_t a, size_t b)
{
	json_t *k = json_loadb(p + a, b - a, JSON_DECODE_ANY, NULL);
	if (k && !json_is_string(k)) {
		json_decref(k);
		k = NULL;
	}
	return k;
}

json_t *pl_srv_bulk_body(const char *p, size_t n, size_t min_records, pl_srv_bulk *b)
{
	pl_jscan s;
	pl_jscan_init(&s);
	json_t *obj = json_object();
	bool have = false, ok = false;
	size_t i = pl_jscan_ws(p, n, 0);
	if (!obj || i >= n || p[i] != '{')
		goto out;
	i = pl_jscan_ws(p, n, i + 1);
	if (i < n && p[i] == '}')
		goto out;
	for (;;) {
		size_t ks = pl_jscan_ws(p, n, i), ke = ks;
		if (ks >= n || p[ks] != '"' || pl_jscan_value(&s, p, n, &ke, 1))
			goto out;
		json_t *key = key_of(p, ks, ke);
		if (!key)
			goto out;
		const char *k = json_string_value(key);
		bool dup = (strcmp(k, "records") == 0 && have) || json_object_get(obj, k);
		bool records = strcmp(k, "records") == 0;
		i = pl_jscan_ws(p, n, ke);
		if (dup || i >= n || p[i] != ':') {
			json_decref(key);
			goto out;
		}
		i = pl_jscan_ws(p, n, i + 1);
		if (records) {
			have = true;
			b->start = i;
			if (i >= n || p[i] != '[' || !skip_array(p, n, &i, &b->count) || p[i - 1] != ']') {
				json_decref(key);
				goto out;
			}
			b->end = i;
		} else {
			size_t vs = i;
			if (pl_jscan_value(&s, p, n, &i, 1)) {
				json_decref(key);
				goto out;
			}
			json_t *v = json_loadb(p + vs, i - vs, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
			if (!v || json_object_set_new(obj, k, v) != 0) {
				json_decref(key);
				goto out;
			}
		}
		json_decref(key);
		i = pl_jscan_ws(p, n, i);
		if (i < n && p[i] == ',') {
			i++;
			continue;
		}
		if (i < n && p[i] == '}') {
			i++;
			break;
		}
		goto out;
	}
	json_t *create = json_object_get(obj, "create");
	ok = pl_jscan_ws(p, n, i) == n && have && b->count > min_records && (!create || json_is_false(create));
out:
	pl_jscan_dispose(&s);
	if (!ok) {
		json_decref(obj);
		obj = NULL;
	}
	return obj;
}

/* Writes p[0..n) with its newlines as spaces, then a newline. */
static bool put_line(FILE *f, const char *p, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t take = nl ? (size_t)(nl - p) : n;
		if (fwrite(p, 1, take, f) != take)
			return false;
		if (nl && fputc(' ', f) == EOF)
			return false;
		p += take + (nl ? 1 : 0);
		n -= take + (nl ? 1 : 0);
	}
	return fputc('\n', f) != EOF;
}

int pl_srv_bulk_spool(pl_srv_item *it, const char *p, const pl_srv_bulk *b, pl_srv_misfit *bad)
{
	memset(bad, 0, sizeof *bad);
	const char *tmp = getenv("TMPDIR");
	pl_buf path = PL_BUF_INIT;
	pl_buf_printf(&path, "%s/planar-ingest-%s.ndjson", tmp && *tmp ? tmp : "/tmp", it->pid);
	pl_jscan_col *jc = NULL;
	it->spool_used = calloc(it->cols.n ? it->cols.n : 1, sizeof *it->spool_used);
	FILE *f = !pl_buf_oom(&path) && it->spool_used && pl_srv_jscan_cols(&it->cols, &jc) == 0 ? fopen(path.ptr, "wbx")
												 : NULL;
	if (!f) {
		pl_buf_dispose(&path);
		free(jc);
		return PLANAR_EIO;
	}
	it->spool = pl_buf_detach(&path);
	it->spool_kind = 1;
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	pl_jscan s;
	pl_jscan_init(&s);
	int rc = 0;
	size_t i = b->start + 1;
	for (size_t rec = 0; rc == 0 && rec < b->count; rec++) {
		i = pl_jscan_ws(p, b->end, i);
		size_t start = i;
		int r = pl_jscan_record(&s, jc, it->cols.n, p, b->end, &i, it->spool_used);
		if (r != 0) {
			bad->rec = rec;
			bad->syntax = r < 0;
			bad->field = pl_strdup(r < 0 || !s.field ? "" : s.field);
			bad->reason = pl_strdup(r < 0 ? s.err : s.reason);
			rc = s.oom ? PLANAR_ENOMEM : PLANAR_EINVALID;
			break;
		}
		if (!put_line(f, p + start, i - start))
			rc = PLANAR_EIO;
		if (i - start > it->spool_maxline)
			it->spool_maxline = i - start;
		i = pl_jscan_ws(p, b->end, i);
		if (i >= b->end || p[i] != (rec + 1 < b->count ? ',' : ']')) {
			bad->rec = rec;
			bad->syntax = true;
			bad->field = pl_strdup("");
			bad->reason = pl_strdup("expected ',' or ']' after a record");
			rc = PLANAR_EINVALID;
			break;
		}
		i++;
	}
	pl_jscan_dispose(&s);
	free(jc);
	if (fclose(f) != 0 && rc == 0)
		rc = PLANAR_EIO;
	if (rc == 0)
		it->nrec = b->count;
	return rc;
}
