/*
 * ingest_rows.c -- a large JSON ingest body written through __planar_rows (sql/service.h)
 * instead of a spooled NDJSON file that DuckDB parses again.
 *
 * The records array is cut into parts (as ingest_bulk.c finds them: one per core); a thread per
 * part checks each record with the validating scanner and puts its values, converted to the
 * column's kind, into blocks of PL_ROWS_BLOCK rows, published one by one. The request is queued
 * for its commit at once: the committer's INSERT ... SELECT FROM __planar_rows('<partition_id>')
 * reads the blocks in record order while later records are still being checked, and writes the
 * Parquet files as they come. A record that does not fit (or is not valid JSON) stops its part;
 * when the INSERT reaches that point it fails, so the statement, its files and the whole request
 * are undone (the first misfit in record order is the one reported, as the spool path does).
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
	/* published blocks (under rs->lock) */
	pl_rows_block **blocks;
	size_t nblocks, cap;
	bool done; /* every block is published (rc: how it ended) */
	int rc;
	pl_srv_misfit bad; /* NDJSON: bad.rec counts from the part's first line */
	size_t byte;       /* NDJSON syntax errors: the byte of the line (from 1) */
	bool too_long;     /* NDJSON: a line over PL_SRV_MAX_LINE */
	size_t nrec;       /* NDJSON: the records (non-blank lines) checked */
	/* decoded strings (escapes): chunks that never move */
	char **arena;
	size_t narena, arena_cap, arena_used; /* used bytes of the last chunk */
	pthread_t tid;
	bool started;
} rows_part;

struct pl_srv_rows {
	pthread_mutex_t lock;
	pthread_cond_t cond;
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
	bool cancel; /* stop checking (the request is answered without its rows) */
	size_t failed; /* the first part that met a misfit (parts after it stop) */
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

static size_t kind_size(pl_rows_kind k)
{
	return k == PL_ROWS_VARCHAR ? sizeof(pl_rows_text) : k == PL_ROWS_BOOLEAN ? sizeof(bool) : 8;
}

#define ALIGN16(n) (((n) + 15) & ~(size_t)15)

/* A block with room for PL_ROWS_BLOCK rows, in one allocation. */
static pl_rows_block *block_new(const struct pl_srv_rows *rs)
{
	size_t head = ALIGN16(sizeof(pl_rows_block) + rs->ncols * sizeof(pl_rows_col)), size = head;
	for (size_t c = 0; c < rs->ncols; c++)
		size += ALIGN16(PL_ROWS_BLOCK * sizeof(bool)) + ALIGN16(PL_ROWS_BLOCK * kind_size(rs->kinds[c]));
	char *m = malloc(size);
	if (!m)
		return NULL;
	pl_rows_block *blk = (pl_rows_block *)m;
	blk->nrows = 0;
	blk->cols = (pl_rows_col *)(m + sizeof(pl_rows_block));
	size_t off = head;
	for (size_t c = 0; c < rs->ncols; c++) {
		blk->cols[c].null = (bool *)(m + off);
		off += ALIGN16(PL_ROWS_BLOCK * sizeof(bool));
		blk->cols[c].v.i64 = (int64_t *)(m + off); /* the union's members share the address */
		off += ALIGN16(PL_ROWS_BLOCK * kind_size(rs->kinds[c]));
	}
	return blk;
}

/* Room for n bytes of decoded text in the part's arena (NULL: out of memory). */
static char *arena_take(rows_part *t, size_t n)
{
	bool own = n > ARENA_CHUNK / 4; /* a long string gets a chunk of its own */
	if (own || t->narena == 0 || t->arena_used + n > ARENA_CHUNK) {
		if (t->narena == t->arena_cap) {
			size_t cap = t->arena_cap ? t->arena_cap * 2 : 16;
			char **a = realloc(t->arena, cap * sizeof *a);
			if (!a)
				return NULL;
			t->arena = a;
			t->arena_cap = cap;
		}
		char *chunk = malloc(own ? n : ARENA_CHUNK);
		if (!chunk)
			return NULL;
		if (own && t->narena > 0) { /* keep filling the current chunk afterwards */
			t->arena[t->narena] = t->arena[t->narena - 1];
			t->arena[t->narena - 1] = chunk;
			t->narena++;
			return chunk;
		}
		t->arena[t->narena++] = chunk;
		t->arena_used = own ? ARENA_CHUNK : 0;
		if (own)
			return chunk;
	}
	char *at = t->arena[t->narena - 1] + t->arena_used;
	t->arena_used += n;
	return at;
}

static bool publish(rows_part *t, pl_rows_block *blk)
{
	struct pl_srv_rows *rs = t->rs;
	bool ok = true;
	pthread_mutex_lock(&rs->lock);
	if (t->nblocks == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		pl_rows_block **v = realloc(t->blocks, cap * sizeof *v);
		if (v) {
			t->blocks = v;
			t->cap = cap;
		}
		ok = v != NULL;
	}
	if (ok) {
		t->blocks[t->nblocks++] = blk;
		pthread_cond_broadcast(&rs->cond);
	}
	pthread_mutex_unlock(&rs->lock);
	return ok;
}

static void set_bad(rows_part *t, size_t rec, bool syntax, const char *field, const char *reason)
{
	t->bad.rec = rec;
	t->bad.syntax = syntax;
	t->bad.field = pl_strdup(field);
	t->bad.reason = pl_strdup(reason);
}

/* Puts the values of the record the scanner just checked into row r of blk. */
static int put_row(rows_part *t, const pl_jscan *s, pl_rows_block *blk, size_t r)
{
	const struct pl_srv_rows *rs = t->rs;
	for (size_t c = 0; c < rs->ncols; c++) {
		const pl_jval *jv = &s->vals[c];
		pl_rows_col *col = &blk->cols[c];
		if (jv->rec != s->rec_no || jv->type == PL_JV_NULL) {
			col->null[r] = true;
			if (rs->kinds[c] == PL_ROWS_VARCHAR)
				col->v.t[r] = (pl_rows_text){"", 0};
			else if (rs->kinds[c] == PL_ROWS_BOOLEAN)
				col->v.b[r] = false;
			else
				col->v.i64[r] = 0;
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
				char *d = arena_take(t, jv->len ? jv->len : 1);
				if (!d)
					return PLANAR_ENOMEM;
				col->v.t[r] = (pl_rows_text){d, pl_jscan_decode(rs->p + jv->off, jv->len, d)};
			}
			break;
		}
	}
	return 0;
}

static void *part_run(void *arg)
{
	rows_part *t = arg;
	struct pl_srv_rows *rs = t->rs;
	const char *p = rs->p;
	const pl_srv_bulk *b = &rs->b;
	pl_jscan s;
	pl_jscan_init(&s);
	s.vals = calloc(rs->ncols, sizeof *s.vals);
	pl_rows_block *blk = NULL;
	int rc = s.vals ? 0 : PLANAR_ENOMEM;
	size_t i = t->from;
	for (size_t rec = t->rec0; rc == 0 && (rs->ndjson ? i < t->stop : rec < t->rec1); rec++) {
		if ((rec & 255) == 0 && (__atomic_load_n(&rs->cancel, __ATOMIC_RELAXED) ||
					 __atomic_load_n(&rs->failed, __ATOMIC_RELAXED) < (size_t)(t - rs->parts))) {
			rc = PLANAR_ECANCELED;
			break;
		}
		if (rs->ndjson) {
			/* the next non-blank line, without the blanks around it */
			size_t ls = i, le;
			const char *nl = memchr(p + i, '\n', t->stop - i);
			le = nl ? (size_t)(nl - p) : t->stop;
			i = nl ? le + 1 : t->stop;
			size_t a = ls, e = le;
			while (e > a && (p[e - 1] == '\r' || p[e - 1] == ' ' || p[e - 1] == '\t'))
				e--;
			while (a < e && (p[a] == ' ' || p[a] == '\t'))
				a++;
			if (a == e) {
				rec--; /* blank lines are skipped (and not counted) */
				continue;
			}
			t->nrec++;
			if (le - ls > PL_SRV_MAX_LINE) {
				set_bad(t, rec, false, "", "record too long");
				t->too_long = true;
				rc = PLANAR_EINVALID;
				break;
			}
			size_t pos = a;
			int r = pl_jscan_record(&s, rs->jc, rs->ncols, p, e, &pos, NULL);
			if (r == 0 && pos != e) {
				r = -1;
				snprintf(s.err, sizeof s.err, "end of line expected after the record");
				s.off = pos;
			}
			if (r != 0) {
				set_bad(t, rec, r < 0, r < 0 || !s.field ? "" : s.field, r < 0 ? s.err : s.reason);
				t->byte = s.off - ls + 1;
				rc = s.oom ? PLANAR_ENOMEM : PLANAR_EINVALID;
				break;
			}
		} else {
			i = pl_jscan_ws(p, b->end, i);
			int r = pl_jscan_record(&s, rs->jc, rs->ncols, p, b->end, &i, NULL);
			if (r != 0) {
				set_bad(t, rec, r < 0, r < 0 || !s.field ? "" : s.field, r < 0 ? s.err : s.reason);
				rc = s.oom ? PLANAR_ENOMEM : PLANAR_EINVALID;
				break;
			}
			i = pl_jscan_ws(p, b->end, i);
			bool last = rec + 1 == t->rec1;
			if (i >= b->end || p[i] != (rec + 1 < b->count ? ',' : ']') ||
			    (last && t->rec1 < b->count && i != t->stop)) {
				set_bad(t, rec, true, "", "expected ',' or ']' after a record");
				rc = PLANAR_EINVALID;
				break;
			}
			i++;
		}
		if (!blk && !(blk = block_new(rs))) {
			rc = PLANAR_ENOMEM;
			break;
		}
		if ((rc = put_row(t, &s, blk, blk->nrows)) != 0)
			break;
		if (++blk->nrows == PL_ROWS_BLOCK) {
			if (!publish(t, blk))
				rc = PLANAR_ENOMEM;
			else
				blk = NULL;
		}
	}
	if (rc == 0 && blk && blk->nrows > 0) {
		if (publish(t, blk))
			blk = NULL;
		else
			rc = PLANAR_ENOMEM;
	}
	free(blk);
	free(s.vals);
	s.vals = NULL;
	pl_jscan_dispose(&s);
	pthread_mutex_lock(&rs->lock);
	t->rc = rc;
	t->done = true;
	if (rc == PLANAR_EINVALID && rs->failed > (size_t)(t - rs->parts))
		__atomic_store_n(&rs->failed, (size_t)(t - rs->parts), __ATOMIC_RELAXED);
	pthread_cond_broadcast(&rs->cond);
	pthread_mutex_unlock(&rs->lock);
	return NULL;
}

/* The source's block k: from the parts in order, waiting for a part still being checked. */
static int source_block(void *user, size_t k, const pl_rows_block **out, const char **msg)
{
	struct pl_srv_rows *rs = user;
	int rc = 0;
	*out = NULL;
	pthread_mutex_lock(&rs->lock);
	for (;;) {
		size_t kk = k, i = 0;
		for (; i < rs->nparts; i++) {
			rows_part *t = &rs->parts[i];
			if (kk < t->nblocks) {
				*out = t->blocks[kk];
				break;
			}
			if (!t->done)
				break;
			if (t->rc) {
				*msg = t->rc == PLANAR_EINVALID ? "a record does not fit the table"
				       : t->rc == PLANAR_ENOMEM ? "out of memory checking the records"
								: "the ingest was stopped";
				rc = t->rc;
				break;
			}
			kk -= t->nblocks;
		}
		if (*out || rc || i == rs->nparts)
			break;
		if (rs->cancel) {
			*msg = "the ingest was stopped";
			rc = PLANAR_ECANCELED;
			break;
		}
		pthread_cond_wait(&rs->cond, &rs->lock);
	}
	pthread_mutex_unlock(&rs->lock);
	return rc;
}

/* The item's rows, with the columns as the scanner and __planar_rows see them. */
static int rows_new(pl_srv_item *it)
{
	struct pl_srv_rows *rs = calloc(1, sizeof *rs);
	if (!rs)
		return PLANAR_ENOMEM;
	pthread_mutex_init(&rs->lock, NULL);
	pthread_cond_init(&rs->cond, NULL);
	it->rows = rs;
	rs->failed = SIZE_MAX;
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

/* Registers the rows and starts a thread per part (a part whose thread cannot start is checked
 * here). */
static int rows_run(pl_srv_item *it)
{
	struct pl_srv_rows *rs = it->rows;
	pl_rows_source src = {rs->ncols, rs->names, rs->kinds, source_block, rs};
	pl_err err;
	pl_err_clear(&err);
	if (pl_service_rows_add(rs->id, &src, &err) != 0)
		return PLANAR_ENOMEM;
	rs->registered = true;
	for (size_t k = 0; k < rs->nparts; k++) {
		rows_part *t = &rs->parts[k];
		t->started = pthread_create(&t->tid, NULL, part_run, t) == 0;
		if (!t->started)
			part_run(t);
	}
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

bool pl_srv_rows_failure(pl_srv_item *it, pl_srv_err *e, char **msg, json_t **details)
{
	struct pl_srv_rows *rs = it->rows;
	if (!rs)
		return false;
	/* the first part that failed on a record (the parts before it are complete: the INSERT read
	 * them); NDJSON records count from the body's first line */
	rows_part *bad = NULL;
	size_t before = 0;
	pthread_mutex_lock(&rs->lock);
	for (size_t k = 0; k < rs->nparts && !bad; k++) {
		rows_part *t = &rs->parts[k];
		while (!t->done)
			pthread_cond_wait(&rs->cond, &rs->lock);
		if (t->rc == PLANAR_EINVALID)
			bad = t;
		else if (t->rc)
			break;
		else
			before += t->nrec;
	}
	pthread_mutex_unlock(&rs->lock);
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
	pthread_mutex_lock(&rs->lock);
	__atomic_store_n(&rs->cancel, true, __ATOMIC_RELAXED);
	pthread_cond_broadcast(&rs->cond);
	pthread_mutex_unlock(&rs->lock);
	for (size_t k = 0; k < rs->nparts; k++)
		if (rs->parts[k].started)
			pthread_join(rs->parts[k].tid, NULL);
	if (rs->registered)
		pl_service_rows_remove(rs->id);
	for (size_t k = 0; k < rs->nparts; k++) {
		rows_part *t = &rs->parts[k];
		for (size_t i = 0; i < t->nblocks; i++)
			free(t->blocks[i]);
		free(t->blocks);
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
	pthread_cond_destroy(&rs->cond);
	free(rs);
}
