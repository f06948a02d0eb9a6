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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <strings.h>
#include <unistd.h>

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

/* The first '"' or '\\' of u[i..n) (n when none), eight bytes at a time. */
static size_t quote_or_backslash(const unsigned char *u, size_t i, size_t n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	while (i + 8 <= n) {
		uint64_t w;
		memcpy(&w, u + i, 8);
		uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
		/* a byte's high bit set where it is zero (the lowest such bit is exact) */
		uint64_t t = (((q - ones) & ~q) | ((b - ones) & ~b)) & highs;
		if (t)
			return i + ((size_t)__builtin_ctzll(t) >> 3);
		i += 8;
	}
#endif
	while (i < n && u[i] != '"' && u[i] != '\\')
		i++;
	return i;
}

/* Moves *pos (at a '[') past the array's closing bracket, counting its elements by the commas
 * at its top level: strings and brackets are followed, nothing else is checked (the second pass
 * checks every byte of the array). false: the array does not end. */
static bool skip_array(const char *p, size_t n, size_t *pos, size_t *count, pl_srv_bulk *b)
{
	static const unsigned char special[256] = {['"'] = 1, ['['] = 1, [']'] = 1, ['{'] = 1, ['}'] = 1, [','] = 1};
	const unsigned char *u = (const unsigned char *)p;
	size_t depth = 0, commas = 0, first = pl_jscan_ws(p, n, *pos + 1);
	bool any = first < n && p[first] != ']';
	size_t span = n - *pos, t = 1; /* split t is the first comma at or past span * t / (splits + 1) */
	b->nsplit = 0;
	for (size_t i = *pos; i < n; i++) {
		while (i < n && !special[u[i]])
			i++;
		if (i >= n)
			break;
		char c = p[i];
		if (c == '"') {
			for (i = quote_or_backslash(u, i + 1, n); i < n && p[i] != '"'; i = quote_or_backslash(u, i + 2, n))
				;
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
			if (t <= PL_SRV_BULK_SPLITS && i - *pos >= span / (PL_SRV_BULK_SPLITS + 1) * t) {
				b->split_pos[b->nsplit] = i;
				b->split_rec[b->nsplit++] = commas + 1;
				while (t <= PL_SRV_BULK_SPLITS && i - *pos >= span / (PL_SRV_BULK_SPLITS + 1) * t)
					t++;
			}
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
			if (i >= n || p[i] != '[' || !skip_array(p, n, &i, &b->count, b) || p[i - 1] != ']') {
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

/* A spool file written through a buffer of its own (no stdio locking per record). */
typedef struct spool_out {
	int fd;
	char *buf;
	size_t n, cap;
	bool failed;
} spool_out;

static void out_flush(spool_out *o)
{
	size_t off = 0;
	while (!o->failed && off < o->n) {
		ssize_t w = write(o->fd, o->buf + off, o->n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			o->failed = true;
		else
			off += (size_t)w;
	}
	o->n = 0;
}

static void out_put(spool_out *o, const char *p, size_t n)
{
	while (n > 0 && !o->failed) {
		if (o->n == o->cap)
			out_flush(o);
		size_t take = o->cap - o->n < n ? o->cap - o->n : n;
		memcpy(o->buf + o->n, p, take);
		o->n += take;
		p += take;
		n -= take;
	}
}

/* Writes p[0..n) with its newlines as spaces, then a newline. */
static void put_line(spool_out *o, const char *p, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t take = nl ? (size_t)(nl - p) : n;
		out_put(o, p, take);
		if (nl)
			out_put(o, " ", 1);
		p += take + (nl ? 1 : 0);
		n -= take + (nl ? 1 : 0);
	}
	out_put(o, "\n", 1);
}

/* One part of the records: records rec0..rec1-1 from byte from, the last one followed by the
 * comma at byte stop (or, the last part, the array's ']'), checked and written to path. */
typedef struct spool_part {
	const char *p;
	const pl_srv_bulk *b;
	const pl_jscan_col *jc;
	size_t ncols;
	size_t from, stop, rec0, rec1;
	const char *path;
	bool *used;
	size_t maxline;
	int rc;
	pl_srv_misfit bad;
} spool_part;

static void *spool_run(void *arg)
{
	spool_part *t = arg;
	const char *p = t->p;
	const pl_srv_bulk *b = t->b;
	spool_out o = {open(t->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600), malloc(1 << 20), 0, 1 << 20, false};
	if (o.fd < 0 || !o.buf) {
		if (o.fd >= 0)
			close(o.fd);
		free(o.buf);
		t->rc = PLANAR_EIO;
		return NULL;
	}
	pl_jscan s;
	pl_jscan_init(&s);
	int rc = 0;
	size_t i = t->from;
	for (size_t rec = t->rec0; rc == 0 && rec < t->rec1; rec++) {
		i = pl_jscan_ws(p, b->end, i);
		size_t start = i;
		int r = pl_jscan_record(&s, t->jc, t->ncols, p, b->end, &i, t->used);
		if (r != 0) {
			t->bad.rec = rec;
			t->bad.syntax = r < 0;
			t->bad.field = pl_strdup(r < 0 || !s.field ? "" : s.field);
			t->bad.reason = pl_strdup(r < 0 ? s.err : s.reason);
			rc = s.oom ? PLANAR_ENOMEM : PLANAR_EINVALID;
			break;
		}
		put_line(&o, p + start, i - start);
		if (i - start > t->maxline)
			t->maxline = i - start;
		i = pl_jscan_ws(p, b->end, i);
		bool last = rec + 1 == t->rec1;
		if (i >= b->end || p[i] != (rec + 1 < b->count ? ',' : ']') || (last && t->rec1 < b->count && i != t->stop)) {
			t->bad.rec = rec;
			t->bad.syntax = true;
			t->bad.field = pl_strdup("");
			t->bad.reason = pl_strdup("expected ',' or ']' after a record");
			rc = PLANAR_EINVALID;
			break;
		}
		i++;
	}
	pl_jscan_dispose(&s);
	if (rc == 0)
		out_flush(&o);
	if (close(o.fd) != 0 || o.failed)
		rc = rc ? rc : PLANAR_EIO;
	free(o.buf);
	t->rc = rc;
	return NULL;
}

int pl_srv_bulk_spool(pl_srv_item *it, const char *p, const pl_srv_bulk *b, pl_srv_misfit *bad)
{
	memset(bad, 0, sizeof *bad);
	const char *tmp = getenv("TMPDIR");
	pl_buf path = PL_BUF_INIT;
	pl_buf_printf(&path, "%s/planar-ingest-%s.ndjson", tmp && *tmp ? tmp : "/tmp", it->pid);
	pl_jscan_col *jc = NULL;
	it->spool_used = calloc(it->cols.n ? it->cols.n : 1, sizeof *it->spool_used);
	if (pl_buf_oom(&path) || !it->spool_used || pl_srv_jscan_cols(&it->cols, &jc) != 0) {
		pl_buf_dispose(&path);
		return PLANAR_EIO;
	}
	it->spool = pl_buf_detach(&path);
	it->spool_kind = 1;
	/* one part per core (at most PL_SRV_BULK_SPLITS + 1), each checked and spooled by a thread of
	 * its own; bodies under 4 MiB in one part */
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	size_t nparts = b->end - b->start < (4u << 20) || cores < 2 ? 1 : (size_t)cores;
	if (nparts > b->nsplit + 1)
		nparts = b->nsplit + 1;
	spool_part parts[PL_SRV_BULK_SPLITS + 1];
	char names[PL_SRV_BULK_SPLITS + 1][4096]; /* parts 1.. */
	if (strlen(it->spool) + 24 >= sizeof names[0]) /* a part's name would not fit: one part */
		nparts = 1;
	pthread_t tids[PL_SRV_BULK_SPLITS + 1];
	bool started[PL_SRV_BULK_SPLITS + 1] = {false};
	for (size_t k = 0; k < nparts; k++) {
		/* parts end at splits evenly spread over the ones found */
		size_t sk = k + 1 < nparts ? (k + 1) * (b->nsplit + 1) / nparts - 1 : 0;
		size_t prev = k ? k * (b->nsplit + 1) / nparts - 1 : 0;
		if (k > 0)
			snprintf(names[k], sizeof names[k], "%s.%zu", it->spool, k);
		parts[k] = (spool_part){.p = p, .b = b, .jc = jc, .ncols = it->cols.n,
					.from = k ? b->split_pos[prev] + 1 : b->start + 1,
					.stop = k + 1 < nparts ? b->split_pos[sk] : b->end - 1,
					.rec0 = k ? b->split_rec[prev] : 0,
					.rec1 = k + 1 < nparts ? b->split_rec[sk] : b->count,
					.path = k ? names[k] : it->spool,
					.used = k ? calloc(it->cols.n ? it->cols.n : 1, sizeof(bool)) : it->spool_used};
	}
	it->spool_parts = (int)nparts; /* every part's file is removed with the item */
	for (size_t k = 1; k < nparts; k++)
		started[k] = parts[k].used && pthread_create(&tids[k], NULL, spool_run, &parts[k]) == 0;
	spool_run(&parts[0]);
	int rc = parts[0].rc;
	*bad = parts[0].bad;
	size_t maxline = parts[0].maxline;
	for (size_t k = 1; k < nparts; k++) {
		if (started[k])
			pthread_join(tids[k], NULL);
		else if (parts[k].used)
			spool_run(&parts[k]);
		else
			parts[k].rc = PLANAR_ENOMEM;
		/* the first part that failed has the first record that does not fit */
		if (rc == 0 && parts[k].rc != 0) {
			rc = parts[k].rc;
			*bad = parts[k].bad;
		} else {
			free(parts[k].bad.field);
			free(parts[k].bad.reason);
		}
		for (size_t j = 0; parts[k].used && j < it->cols.n; j++)
			it->spool_used[j] = it->spool_used[j] || parts[k].used[j];
		if (parts[k].maxline > maxline)
			maxline = parts[k].maxline;
		free(parts[k].used);
	}
	free(jc);
	it->spool_maxline = maxline;
	if (rc == 0)
		it->nrec = b->count;
	return rc;
}
