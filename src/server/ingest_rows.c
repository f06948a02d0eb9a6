/*
 * ingest_rows.c -- a large JSON ingest body written through __planar_rows (sql/service.h)
 * instead of a spooled NDJSON file that DuckDB parses again.
 *
 * The records array is cut into parts (as ingest_bulk.c finds them: one per core), registered
 * as the parts of a row source, and the request is queued for its commit at once. The
 * committer's INSERT ... SELECT FROM __planar_rows('<partition_id>') reads the parts, each on
 * a thread of the engine's (the insert writes the parts' files at the same time, the files of
 * part k after those of part k-1); a part's records are checked with the validating scanner as
 * they are read, and their values, converted to the column's kind, go straight into the
 * engine's vectors. A record that does not fit (or is not valid JSON) fails the INSERT, so the
 * statement, its files and the whole request are undone; the reply names the first misfit in
 * record order (parts the INSERT did not read to their end are checked then).
 *
 * An NDJSON body (ingest_stream.c) goes the same way once it has arrived: its bytes are written
 * to a temporary file as they come (only its non-blank lines are counted), and the file, mapped
 * into memory, is cut into parts at line ends and checked line by line like the array's records.
 *
 * Tables whose columns are all integers, FLOAT/DOUBLE, BOOLEAN or VARCHAR without defaults take
 * this path (the INSERT names every column: a field missing from a record is NULL, as in the
 * spool path, where a column no record names keeps its default); any other goes the spool way.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/str.h"
#include "server/ingest.h"

#define ARENA_CHUNK (1u << 20)

typedef struct rows_part {
	struct pl_srv_rows *rs;
	size_t from, stop, rec0, rec1;
	/* what reading it found (under rs->lock) */
	bool complete;     /* read to its end without a misfit (nrec: its records) */
	bool failed;       /* bad: its first misfit */
	pl_srv_misfit bad; /* NDJSON: bad.rec counts from the part's first line */
	size_t byte;       /* NDJSON syntax errors: the byte of the line (from 1) */
	bool too_long;     /* NDJSON: a line over PL_SRV_MAX_LINE */
	size_t nrec;       /* NDJSON: the records (non-blank lines) */
	/* decoded strings (escapes): chunks that never move, kept until the rows are freed */
	char **arena;
	size_t narena, arena_cap;
} rows_part;

/* A reading of one part (pl_rows_source's cursor). */
typedef struct rows_cursor {
	rows_part *t;
	pl_jscan s;
	size_t i, rec, nrec;
	bool end;
	char *chunk; /* the arena chunk being filled, and its bytes used */
	size_t used;
} rows_cursor;

struct pl_srv_rows {
	pthread_mutex_t lock;
	const char *p; /* the request body (or the NDJSON file, mapped) */
	pl_srv_bulk b; /* NDJSON: only end (the file's size) */
	bool ndjson;
	void *map;
	size_t maplen;
	pl_jscan_col *jc;
	size_t ncols;
	const char **names;
	pl_rows_kind *kinds;
	rows_part parts[PL_SRV_BULK_SPLITS + 1];
	size_t nparts;
	bool cancel; /* stop reading (the request is answered without its rows) */
	char id[PL_UUID_STRLEN + 1];
	bool registered;
};

bool pl_srv_rows_fit(const pl_srv_cols *cl)
{
	static const char *const ints[] = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT",
					   "UINTEGER", "UBIGINT", "HUGEINT", "UHUGEINT"};
	if (cl->n == 0)
		return false;
	for (size_t j = 0; j < cl->n; j++) {
		const char *t = cl->v[j].type;
		bool ok = strcasecmp(t, "VARCHAR") == 0 || strcasecmp(t, "BOOLEAN") == 0 || strcasecmp(t, "DOUBLE") == 0 ||
			  strcasecmp(t, "FLOAT") == 0;
		for (size_t i = 0; !ok && i < sizeof ints / sizeof ints[0]; i++)
			ok = strcasecmp(t, ints[i]) == 0;
		if (!ok || cl->v[j].has_default)
			return false;
	}
	return true;
}

/* A JSON number's value as a double, correctly rounded (as strtod). */
static double num_value(const char *p, size_t len)
{
	static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
				       1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
	/* exact when the digits make an integer m <= 2^53 and the power of ten is at most 22: one
	 * rounding of exact operands */
	size_t i = 0;
	bool neg = len > 0 && p[0] == '-', ok = true;
	i += neg;
	uint64_t m = 0;
	int digits = 0, scale = 0;
	for (; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
		if (m || p[i] != '0')
			digits++;
		m = digits <= 19 ? m * 10 + (uint64_t)(p[i] - '0') : m;
		ok = ok && digits <= 19;
	}
	if (i < len && p[i] == '.') {
		for (i++; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
			if (m || p[i] != '0')
				digits++;
			m = digits <= 19 ? m * 10 + (uint64_t)(p[i] - '0') : m;
			ok = ok && digits <= 19;
			scale--;
		}
	}
	if (i < len && (p[i] == 'e' || p[i] == 'E')) {
		i++;
		bool eneg = i < len && p[i] == '-';
		if (i < len && (p[i] == '-' || p[i] == '+'))
			i++;
		int e = 0;
		for (; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
			e = e < 10000 ? e * 10 + (p[i] - '0') : e;
			ok = ok && e < 10000;
		}
		scale += eneg ? -e : e;
	}
	if (ok && m <= (1ull << 53) && scale >= -22 && scale <= 22) {
		double r = scale < 0 ? (double)m / pow10[-scale] : (double)m * pow10[scale];
		return neg ? -r : r;
	}
	char small[64], *t = len < sizeof small ? small : malloc(len + 1);
	if (!t)
		return 0; /* not reached in practice: the scanner checked the number */
	memcpy(t, p, len);
	t[len] = 0;
	double r = strtod(t, NULL);
	if (t != small)
		free(t);
	return r;
}

/* Room for n bytes of decoded text (NULL: out of memory). */
static char *arena_take(rows_cursor *cu, size_t n)
{
	rows_part *t = cu->t;
	bool own = n > ARENA_CHUNK / 4; /* a long string gets a chunk of its own */
	if (!own && cu->chunk && cu->used + n <= ARENA_CHUNK) {
		char *at = cu->chunk + cu->used;
		cu->used += n;
		return at;
	}
	char *chunk = malloc(own ? n : ARENA_CHUNK);
	if (!chunk)
		return NULL;
	pthread_mutex_lock(&t->rs->lock);
	bool ok = t->narena < t->arena_cap;
	if (!ok) {
		size_t cap = t->arena_cap ? t->arena_cap * 2 : 16;
		char **a = realloc(t->arena, cap * sizeof *a);
		if (a) {
			t->arena = a;
			t->arena_cap = cap;
			ok = true;
		}
	}
	if (ok)
		t->arena[t->narena++] = chunk;
	pthread_mutex_unlock(&t->rs->lock);
	if (!ok) {
		free(chunk);
		return NULL;
	}
	if (!own) {
		cu->chunk = chunk;
		cu->used = n;
	}
	return chunk;
}

/* Records the part's misfit (the first one found; a part read again finds the same). */
static void set_bad(rows_cursor *cu, bool syntax, const char *field, const char *reason, size_t byte, bool too_long)
{
	rows_part *t = cu->t;
	pthread_mutex_lock(&t->rs->lock);
	if (!t->failed) {
		t->failed = true;
		t->bad.rec = cu->rec;
		t->bad.syntax = syntax;
		t->bad.field = pl_strdup(field);
		t->bad.reason = pl_strdup(reason);
		t->byte = byte;
		t->too_long = too_long;
	}
	pthread_mutex_unlock(&t->rs->lock);
}

/* Puts the values of the record the scanner just checked into row r of blk. */
static int put_row(rows_cursor *cu, pl_rows_block *blk, size_t r)
{
	const struct pl_srv_rows *rs = cu->t->rs;
	const pl_jscan *s = &cu->s;
	for (size_t c = 0; c < rs->ncols; c++) {
		const pl_jval *jv = &s->vals[c];
		pl_rows_col *col = &blk->cols[c];
		if (jv->rec != s->rec_no || jv->type == PL_JV_NULL) {
			col->null[r] = true;
			continue;
		}
		col->null[r] = false;
		switch (rs->kinds[c]) {
		case PL_ROWS_BIGINT: col->v.i64[r] = jv->v; break;
		case PL_ROWS_DOUBLE:
			col->v.f64[r] = jv->type == PL_JV_INT ? (double)jv->v : num_value(rs->p + jv->off, jv->len);
			break;
		case PL_ROWS_BOOLEAN: col->v.b[r] = jv->type == PL_JV_TRUE; break;
		case PL_ROWS_VARCHAR:
			if (!jv->esc) {
				col->v.t[r] = (pl_rows_text){rs->p + jv->off, jv->len};
			} else {
				char *d = arena_take(cu, jv->len ? jv->len : 1);
				if (!d)
					return PLANAR_ENOMEM;
				col->v.t[r] = (pl_rows_text){d, pl_jscan_decode(rs->p + jv->off, jv->len, d)};
			}
			break;
		}
	}
	return 0;
}

static void *cursor_open(void *user, size_t part)
{
	struct pl_srv_rows *rs = user;
	rows_cursor *cu = calloc(1, sizeof *cu);
	if (!cu)
		return NULL;
	cu->t = &rs->parts[part];
	cu->i = cu->t->from;
	cu->rec = cu->t->rec0;
	pl_jscan_init(&cu->s);
	cu->s.vals = calloc(rs->ncols ? rs->ncols : 1, sizeof *cu->s.vals);
	if (!cu->s.vals) {
		pl_jscan_dispose(&cu->s);
		free(cu);
		return NULL;
	}
	return cu;
}

static void cursor_close(void *cursor)
{
	rows_cursor *cu = cursor;
	free(cu->s.vals);
	cu->s.vals = NULL;
	pl_jscan_dispose(&cu->s);
	free(cu);
}

/* Checks the next record of an NDJSON part (the next non-blank line) into the scanner: 0, 1 at
 * the part's end, or an error (the misfit recorded). */
static int next_line(rows_cursor *cu)
{
	rows_part *t = cu->t;
	const struct pl_srv_rows *rs = t->rs;
	const char *p = rs->p;
	for (;;) {
		if (cu->i >= t->stop)
			return 1;
		size_t ls = cu->i, le;
		const char *nl = memchr(p + ls, '\n', t->stop - ls);
		le = nl ? (size_t)(nl - p) : t->stop;
		cu->i = nl ? le + 1 : t->stop;
		size_t a = ls, e = le;
		while (e > a && (p[e - 1] == '\r' || p[e - 1] == ' ' || p[e - 1] == '\t'))
			e--;
		while (a < e && (p[a] == ' ' || p[a] == '\t'))
			a++;
		if (a == e)
			continue; /* blank lines are skipped (and not counted) */
		if (le - ls > PL_SRV_MAX_LINE) {
			set_bad(cu, false, "", "record too long", 0, true);
			return PLANAR_EINVALID;
		}
		size_t pos = a;
		int r = pl_jscan_record(&cu->s, rs->jc, rs->ncols, p, e, &pos, NULL);
		if (r == 0 && pos != e) {
			r = -1;
			snprintf(cu->s.err, sizeof cu->s.err, "end of line expected after the record");
			cu->s.off = pos;
		}
		if (r != 0) {
			set_bad(cu, r < 0, r < 0 || !cu->s.field ? "" : cu->s.field, r < 0 ? cu->s.err : cu->s.reason,
				cu->s.off - ls + 1, false);
			return cu->s.oom ? PLANAR_ENOMEM : PLANAR_EINVALID;
		}
		return 0;
	}
}

/* The same for a part of a JSON array's records. */
static int next_record(rows_cursor *cu)
{
	rows_part *t = cu->t;
	const struct pl_srv_rows *rs = t->rs;
	const char *p = rs->p;
	const pl_srv_bulk *b = &rs->b;
	if (cu->rec >= t->rec1)
		return 1;
	cu->i = pl_jscan_ws(p, b->end, cu->i);
	int r = pl_jscan_record(&cu->s, rs->jc, rs->ncols, p, b->end, &cu->i, NULL);
	if (r != 0) {
		set_bad(cu, r < 0, r < 0 || !cu->s.field ? "" : cu->s.field, r < 0 ? cu->s.err : cu->s.reason, 0, false);
		return cu->s.oom ? PLANAR_ENOMEM : PLANAR_EINVALID;
	}
	cu->i = pl_jscan_ws(p, b->end, cu->i);
	bool last = cu->rec + 1 == t->rec1;
	if (cu->i >= b->end || p[cu->i] != (cu->rec + 1 < b->count ? ',' : ']') ||
	    (last && t->rec1 < b->count && cu->i != t->stop)) {
		set_bad(cu, true, "", "expected ',' or ']' after a record", 0, false);
		return PLANAR_EINVALID;
	}
	cu->i++;
	return 0;
}

static int cursor_next(void *cursor, pl_rows_block *blk, const char **msg)
{
	rows_cursor *cu = cursor;
	rows_part *t = cu->t;
	struct pl_srv_rows *rs = t->rs;
	blk->nrows = 0;
	if (__atomic_load_n(&rs->cancel, __ATOMIC_RELAXED)) {
		*msg = "the ingest was stopped";
		return PLANAR_ECANCELED;
	}
	while (!cu->end && blk->nrows < PL_ROWS_BLOCK) {
		int rc = rs->ndjson ? next_line(cu) : next_record(cu);
		if (rc == 1) {
			cu->end = true;
			pthread_mutex_lock(&rs->lock);
			t->complete = true;
			t->nrec = cu->nrec;
			pthread_mutex_unlock(&rs->lock);
			break;
		}
		if (rc == 0)
			rc = put_row(cu, blk, blk->nrows);
		if (rc) {
			*msg = rc == PLANAR_EINVALID ? "a record does not fit the table" : "out of memory checking the records";
			return rc;
		}
		blk->nrows++;
		cu->rec++;
		cu->nrec++;
	}
	return 0;
}

/* The item's rows, with the columns as the scanner and __planar_rows see them. */
static int rows_new(pl_srv_item *it)
{
	struct pl_srv_rows *rs = calloc(1, sizeof *rs);
	if (!rs)
		return PLANAR_ENOMEM;
	pthread_mutex_init(&rs->lock, NULL);
	it->rows = rs;
	rs->ncols = it->cols.n;
	snprintf(rs->id, sizeof rs->id, "%s", it->pid);
	rs->names = calloc(rs->ncols, sizeof *rs->names);
	rs->kinds = calloc(rs->ncols, sizeof *rs->kinds);
	if (!it->spool_used)
		it->spool_used = calloc(rs->ncols ? rs->ncols : 1, sizeof *it->spool_used);
	if (!rs->names || !rs->kinds || !it->spool_used || pl_srv_jscan_cols(&it->cols, &rs->jc) != 0)
		return PLANAR_ENOMEM;
	for (size_t j = 0; j < rs->ncols; j++) {
		rs->names[j] = it->cols.v[j].name;
		const char *t = it->cols.v[j].type;
		rs->kinds[j] = strcasecmp(t, "VARCHAR") == 0   ? PL_ROWS_VARCHAR
			       : strcasecmp(t, "BOOLEAN") == 0 ? PL_ROWS_BOOLEAN
			       : strcasecmp(t, "DOUBLE") == 0 || strcasecmp(t, "FLOAT") == 0 ? PL_ROWS_DOUBLE
											   : PL_ROWS_BIGINT;
	}
	return 0;
}

/* One part per core (bodies under 4 MiB in one). */
static size_t part_count(size_t bytes)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	size_t n = bytes < (4u << 20) || cores < 2 ? 1 : (size_t)cores;
	return n > PL_SRV_BULK_SPLITS + 1 ? PL_SRV_BULK_SPLITS + 1 : n;
}

/* Registers the rows as the source it->pid. */
static int rows_run(pl_srv_item *it)
{
	struct pl_srv_rows *rs = it->rows;
	pl_rows_source src = {rs->ncols, rs->names, rs->kinds, rs->nparts, cursor_open, cursor_next, cursor_close, rs};
	pl_err err;
	pl_err_clear(&err);
	if (rs->nparts == 0 || pl_service_rows_add(rs->id, &src, &err) != 0)
		return PLANAR_ENOMEM;
	rs->registered = true;
	for (size_t j = 0; j < it->cols.n; j++)
		it->spool_used[j] = true; /* the INSERT names every column */
	it->spool_kind = 3;
	return 0;
}

int pl_srv_rows_start(pl_srv_item *it, const char *p, const pl_srv_bulk *b)
{
	int rc = rows_new(it);
	if (rc)
		return rc;
	struct pl_srv_rows *rs = it->rows;
	rs->p = p;
	rs->b = *b;
	/* the parts: as the spool path cuts them */
	size_t nparts = part_count(b->end - b->start);
	if (nparts > b->nsplit + 1)
		nparts = b->nsplit + 1;
	rs->nparts = nparts;
	for (size_t k = 0; k < nparts; k++) {
		size_t sk = k + 1 < nparts ? (k + 1) * (b->nsplit + 1) / nparts - 1 : 0;
		size_t prev = k ? k * (b->nsplit + 1) / nparts - 1 : 0;
		rs->parts[k] = (rows_part){.rs = rs,
					   .from = k ? b->split_pos[prev] + 1 : b->start + 1,
					   .stop = k + 1 < nparts ? b->split_pos[sk] : b->end - 1,
					   .rec0 = k ? b->split_rec[prev] : 0,
					   .rec1 = k + 1 < nparts ? b->split_rec[sk] : b->count};
	}
	return rows_run(it);
}

int pl_srv_rows_start_ndjson(pl_srv_item *it, const char *path)
{
	int rc = rows_new(it);
	if (rc)
		return rc;
	struct pl_srv_rows *rs = it->rows;
	rs->ndjson = true;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0 || st.st_size <= 0) {
		if (fd >= 0)
			close(fd);
		return PLANAR_EIO;
	}
	rs->maplen = (size_t)st.st_size;
	rs->map = mmap(NULL, rs->maplen, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (rs->map == MAP_FAILED) {
		rs->map = NULL;
		return PLANAR_EIO;
	}
	rs->p = rs->map;
	rs->b.end = rs->maplen;
	/* parts cut after the newline nearest past each share of the file */
	size_t nparts = part_count(rs->maplen), from = 0;
	for (size_t k = 0; k < nparts && from < rs->maplen; k++) {
		size_t stop = rs->maplen;
		if (k + 1 < nparts) {
			size_t at = rs->maplen / nparts * (k + 1);
			const char *nl = at > from ? memchr(rs->p + at, '\n', rs->maplen - at) : NULL;
			stop = nl ? (size_t)(nl - rs->p) + 1 : rs->maplen;
		}
		rs->parts[rs->nparts++] = (rows_part){.rs = rs, .from = from, .stop = stop};
		from = stop;
	}
	return rows_run(it);
}

/* Reads part t to its end or its first misfit, as the INSERT would have (a part the INSERT
 * left before its end: another part failed first). false when it cannot be read. */
static bool check_part(rows_part *t)
{
	rows_cursor *cu = cursor_open(t->rs, (size_t)(t - t->rs->parts));
	if (!cu)
		return false;
	pl_rows_block blk;
	pl_rows_col *cols = calloc(t->rs->ncols ? t->rs->ncols : 1, sizeof *cols);
	bool *nulls = malloc(PL_ROWS_BLOCK);
	int64_t *vals = malloc(PL_ROWS_BLOCK * sizeof(pl_rows_text));
	int rc = cols && nulls && vals ? 0 : PLANAR_ENOMEM;
	const char *msg = NULL;
	for (size_t c = 0; rc == 0 && c < t->rs->ncols; c++) { /* one scratch row set for every column */
		cols[c].null = nulls;
		cols[c].v.i64 = vals;
	}
	blk.cols = cols;
	while (rc == 0 && (rc = cursor_next(cu, &blk, &msg)) == 0 && blk.nrows > 0)
		;
	cursor_close(cu);
	free(cols);
	free(nulls);
	free(vals);
	return rc == 0 || rc == PLANAR_EINVALID;
}

bool pl_srv_rows_failure(pl_srv_item *it, pl_srv_err *e, char **msg, json_t **details)
{
	struct pl_srv_rows *rs = it->rows;
	if (!rs)
		return false;
	/* the first part with a misfit, the parts before it read to their end (NDJSON records count
	 * from the body's first line) */
	rows_part *bad = NULL;
	size_t before = 0;
	for (size_t k = 0; k < rs->nparts && !bad; k++) {
		rows_part *t = &rs->parts[k];
		pthread_mutex_lock(&rs->lock);
		bool known = t->failed || t->complete;
		pthread_mutex_unlock(&rs->lock);
		if (!known && !check_part(t))
			return false;
		pthread_mutex_lock(&rs->lock);
		if (t->failed)
			bad = t;
		else
			before += t->nrec;
		known = t->failed || t->complete;
		pthread_mutex_unlock(&rs->lock);
		if (!known)
			return false;
	}
	if (!bad)
		return false;
	size_t rec = bad->bad.rec + (rs->ndjson ? before : 0);
	const char *field = bad->bad.field ? bad->bad.field : "", *why = bad->bad.reason ? bad->bad.reason : "?";
	char m[700];
	*e = PL_SRV_INVALID;
	if (rs->ndjson && bad->too_long) {
		snprintf(m, sizeof m, "record %zu is longer than %u bytes", rec, PL_SRV_MAX_LINE);
		*details = json_pack("{s:I,s:s,s:s}", "record", (json_int_t)rec, "field", "", "reason", "record too long");
	} else if (rs->ndjson && bad->bad.syntax) {
		snprintf(m, sizeof m, "record %zu: not valid JSON: %.300s (byte %zu of the line)", rec, why, bad->byte);
		*details = json_pack("{s:I,s:s,s:s}", "record", (json_int_t)rec, "field", "", "reason", why);
	} else if (bad->bad.syntax) {
		*e = PL_SRV_BAD_REQUEST;
		snprintf(m, sizeof m, "the body is not valid JSON");
		*details = json_pack("{s:s,s:I}", "reason", why, "record", (json_int_t)rec);
	} else {
		snprintf(m, sizeof m, "record %zu, field \"%.200s\": %.300s", rec, field, why);
		*details = json_pack("{s:I,s:s,s:s}", "record", (json_int_t)rec, "field", field, "reason", why);
	}
	*msg = pl_strdup(m);
	return true;
}

void pl_srv_rows_free(struct pl_srv_rows *rs)
{
	if (!rs)
		return;
	__atomic_store_n(&rs->cancel, true, __ATOMIC_RELAXED);
	if (rs->registered)
		pl_service_rows_remove(rs->id);
	for (size_t k = 0; k < rs->nparts; k++) {
		rows_part *t = &rs->parts[k];
		for (size_t i = 0; i < t->narena; i++)
			free(t->arena[i]);
		free(t->arena);
		free(t->bad.field);
		free(t->bad.reason);
	}
	if (rs->map)
		munmap(rs->map, rs->maplen);
	free(rs->jc);
	free(rs->names);
	free(rs->kinds);
	pthread_mutex_destroy(&rs->lock);
	free(rs);
}
