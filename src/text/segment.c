/*
 * segment.c -- saving a search index to a file and loading it back (index.h).
 *
 * The file holds everything the index is: interned words and terms, postings, and every
 * version (row id, snapshots, length, id, text, metadata, vector), so loading costs reading
 * the arrays back, not tokenizing, stemming and embedding again. Layout: a header (magic,
 * format, byte-order mark, the embedder and counts), the sections in a fixed order, then a
 * 64-bit checksum of everything before it. Loading checks the checksum and every index into
 * another section, so a damaged or foreign file is refused with an error, never trusted.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "core/fault.h"
#include "text/index_internal.h"

#define SEG_MAGIC "PLSRCH01"
#define SEG_ENDIAN 0x01020304u
#define NULL_LEN UINT32_MAX

/* ---- checksum: 64-bit words folded with a multiply-rotate ---- */

typedef struct csum {
	uint64_t h;
	uint8_t tail[8];
	size_t ntail;
} csum;

static uint64_t mix(uint64_t h, uint64_t w)
{
	h ^= w * 0x9E3779B97F4A7C15ULL;
	h = (h << 31) | (h >> 33);
	return h * 0xBF58476D1CE4E5B9ULL;
}

static void csum_add(csum *c, const uint8_t *p, size_t n)
{
	if (c->ntail) { /* complete the word begun by the last call */
		size_t take = 8 - c->ntail < n ? 8 - c->ntail : n;
		memcpy(c->tail + c->ntail, p, take);
		c->ntail += take;
		p += take;
		n -= take;
		if (c->ntail < 8)
			return;
		uint64_t w;
		memcpy(&w, c->tail, 8);
		c->h = mix(c->h, w);
		c->ntail = 0;
	}
	for (; n >= 8; n -= 8, p += 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		c->h = mix(c->h, w);
	}
	memcpy(c->tail, p, n);
	c->ntail = n;
}

static uint64_t csum_end(csum *c)
{
	uint64_t w = 0;
	memcpy(&w, c->tail, c->ntail);
	return mix(mix(c->h, w), c->ntail);
}

/* ---- writing ---- */

typedef struct writer {
	FILE *f;
	csum c;
	bool failed;
} writer;

static void put(writer *w, const void *p, size_t n)
{
	if (w->failed || n == 0)
		return;
	csum_add(&w->c, p, n);
	if (fwrite(p, 1, n, w->f) != n)
		w->failed = true;
}

static void put_u32(writer *w, uint32_t v)
{
	put(w, &v, sizeof(v));
}

static void put_u64(writer *w, uint64_t v)
{
	put(w, &v, sizeof(v));
}

static void put_str(writer *w, const char *s)
{
	if (!s) {
		put_u32(w, NULL_LEN);
		return;
	}
	size_t n = strlen(s);
	put_u32(w, (uint32_t)n);
	put(w, s, n);
}

int pl_tindex_save(const pl_tindex *x, const char *path, int64_t snapshot, pl_err *err)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return pl_err_set(err, PL_EIO, "cannot write the search index file %s: %s", path, strerror(errno));
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	writer w = {f, {0x5EED, {0}, 0}, false};
	put(&w, SEG_MAGIC, 8);
	put_u32(&w, SEG_ENDIAN);
	put_u32(&w, (x->client_vectors ? 1u : 0u) | (x->builtin ? 2u : 0u));
	put_str(&w, x->embedder.name);
	put_u64(&w, (uint64_t)snapshot);
	put_u64(&w, x->dim);
	put_u64(&w, x->nwords);
	put_u64(&w, x->nterms);
	put_u64(&w, x->nfeats);
	put_u64(&w, x->n);
	put_u64(&w, x->live);
	put_u64(&w, x->total_len);
	put_u64(&w, x->live_len);
	put_u64(&w, (uint64_t)x->last_change);
	/* words: key, term, features */
	for (size_t i = 0; i < x->nwords; i++) {
		put_u32(&w, x->word_keys[i].len);
		put(&w, x->word_keys[i].s, x->word_keys[i].len);
		put_u32(&w, x->words[i].term);
		put_u32(&w, x->words[i].feat);
		put(&w, &x->words[i].nfeat, 1);
	}
	for (size_t i = 0; i < x->nfeats; i++) {
		put(&w, &x->feats[i].dim, sizeof(uint16_t));
		put(&w, &x->feats[i].w, sizeof(float));
	}
	/* terms: key, postings */
	for (size_t i = 0; i < x->nterms; i++) {
		const postings *p = &x->terms[i];
		put_u32(&w, x->term_keys[i].len);
		put(&w, x->term_keys[i].s, x->term_keys[i].len);
		put_u32(&w, p->n);
		put(&w, p->docs, (size_t)p->n * sizeof(uint32_t));
		put(&w, p->tfs, (size_t)p->n * sizeof(uint16_t));
	}
	/* versions */
	put(&w, x->rowid, x->n * sizeof(int64_t));
	put(&w, x->begin, x->n * sizeof(int64_t));
	put(&w, x->end, x->n * sizeof(int64_t));
	put(&w, x->len, x->n * sizeof(uint32_t));
	put(&w, x->has_vec, x->n);
	if (x->dim) {
		put(&w, x->vecs, x->n * x->dim);
		put(&w, x->signs, x->n * x->swords * sizeof(uint64_t));
	}
	if (!w.failed && fflush(f) == 0)
		pl_fault_point("search:mid-segment-file"); /* half the file written */
	for (size_t i = 0; i < x->n; i++) {
		put_str(&w, x->id[i]);
		put_str(&w, x->text[i]);
		put_str(&w, x->meta[i]);
	}
	uint64_t sum = csum_end(&w.c);
	if (!w.failed && fwrite(&sum, 1, sizeof(sum), f) != sizeof(sum))
		w.failed = true;
	if (!w.failed && (fflush(f) != 0 || fsync(fileno(f)) != 0))
		w.failed = true;
	int saved = errno;
	if (fclose(f) != 0)
		w.failed = true;
	if (w.failed) {
		unlink(path);
		return pl_err_set(err, PL_EIO, "cannot write the search index file %s: %s", path,
				  strerror(saved ? saved : EIO));
	}
	return 0;
}

/* ---- reading ---- */

typedef struct reader {
	const uint8_t *p, *end;
	bool bad;
} reader;

static const void *take(reader *r, size_t n)
{
	if (r->bad || (size_t)(r->end - r->p) < n) {
		r->bad = true;
		return NULL;
	}
	const void *p = r->p;
	r->p += n;
	return p;
}

static uint32_t get_u32(reader *r)
{
	const void *p = take(r, 4);
	uint32_t v = 0;
	if (p)
		memcpy(&v, p, 4);
	return v;
}

static uint64_t get_u64(reader *r)
{
	const void *p = take(r, 8);
	uint64_t v = 0;
	if (p)
		memcpy(&v, p, 8);
	return v;
}

/* An array of n items of size bytes, copied into a new allocation (*ok false on failure). */
static void *get_array(reader *r, size_t n, size_t size, bool *oom)
{
	if (n && size > SIZE_MAX / n) {
		r->bad = true;
		return NULL;
	}
	const void *p = take(r, n * size);
	if (!p)
		return NULL;
	void *d = malloc(n * size > 0 ? n * size : 1);
	if (!d) {
		*oom = true;
		return NULL;
	}
	memcpy(d, p, n * size);
	return d;
}

static const char *get_str(reader *r, arena *a, bool *oom)
{
	uint32_t n = get_u32(r);
	if (r->bad || n == NULL_LEN)
		return NULL;
	const char *s = take(r, n);
	if (!s)
		return NULL;
	const char *d = arena_dup(a, s, n);
	if (!d)
		*oom = true;
	return d;
}

static int read_file(const char *path, uint8_t **out, size_t *size, pl_err *err)
{
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f)
		return pl_err_set(err, PL_EIO, "cannot read the search index file %s: %s", path, strerror(errno));
	int rc = 0;
	long len = 0;
	if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		rc = pl_err_set(err, PL_EIO, "cannot read the search index file %s: %s", path, strerror(errno));
	uint8_t *b = rc == 0 ? malloc(len ? (size_t)len : 1) : NULL;
	if (rc == 0 && !b)
		rc = pl_err_nomem(err);
	if (rc == 0 && fread(b, 1, (size_t)len, f) != (size_t)len)
		rc = pl_err_set(err, PL_EIO, "cannot read the search index file %s: it is shorter than it was", path);
	fclose(f);
	if (rc) {
		free(b);
		return rc;
	}
	*out = b;
	*size = (size_t)len;
	return 0;
}

/* Puts key i (of keys) into map m. */
static int map_insert(smap *m, const skey *keys, size_t i)
{
	if (smap_grow(m, keys))
		return -1;
	size_t slot = 0;
	uint32_t h = str_hash(keys[i].s, keys[i].len);
	if (smap_find(m, keys, keys[i].s, keys[i].len, h, &slot) >= 0)
		return -2; /* a key twice: not a file this code wrote */
	m->slots[slot] = ((uint64_t)h << 32) | (uint64_t)(i + 1);
	m->n++;
	return 0;
}

static int parse(pl_tindex *x, reader *r, int64_t *snapshot, pl_err *err)
{
	bool oom = false;
	const char *magic = take(r, 8);
	if (!magic || memcmp(magic, SEG_MAGIC, 8) != 0 || get_u32(r) != SEG_ENDIAN)
		return pl_err_set(err, PL_EINVALID, "not a search index file of this format");
	uint32_t flags = get_u32(r);
	uint32_t elen = get_u32(r);
	const char *ename = take(r, elen == NULL_LEN ? 0 : elen);
	if (r->bad || ((flags & 1u) != 0) != x->client_vectors || ((flags & 2u) != 0) != x->builtin ||
	    !ename || elen != strlen(x->embedder.name) || memcmp(ename, x->embedder.name, elen) != 0)
		return pl_err_set(err, PL_EINVALID, "the search index file was written for another embedder");
	*snapshot = (int64_t)get_u64(r);
	uint64_t dim = get_u64(r), nwords = get_u64(r), nterms = get_u64(r), nfeats = get_u64(r), n = get_u64(r);
	x->live = get_u64(r);
	x->total_len = get_u64(r);
	x->live_len = get_u64(r);
	x->last_change = (int64_t)get_u64(r);
	size_t avail = (size_t)(r->end - r->p);
	if (r->bad || dim > PL_EMBED_MAX_DIM || (!x->client_vectors && dim != x->dim) || nwords > avail ||
	    nterms > avail || nfeats > avail || n > avail || n >= UINT32_MAX || x->live > n)
		return pl_err_set(err, PL_EINVALID, "the search index file is damaged (its counts)");
	if (x->client_vectors && dim) {
		x->dim = dim;
		x->swords = (dim + 63) / 64;
		free(x->scratch);
		if (!(x->scratch = malloc(dim * sizeof(float))))
			return pl_err_nomem(err);
	}
	/* words */
	x->words = malloc((nwords ? nwords : 1) * sizeof(*x->words));
	x->word_keys = malloc((nwords ? nwords : 1) * sizeof(*x->word_keys));
	if (!x->words || !x->word_keys)
		return pl_err_nomem(err);
	x->words_cap = nwords ? nwords : 1;
	for (size_t i = 0; i < nwords && !r->bad && !oom; i++) {
		uint32_t len = get_u32(r);
		const char *k = take(r, len);
		const char *d = k ? arena_dup(&x->strings, k, len) : NULL;
		if (k && !d)
			oom = true;
		x->word_keys[i] = (skey){d, len};
		x->words[i].term = get_u32(r);
		x->words[i].feat = get_u32(r);
		const uint8_t *nf = take(r, 1);
		x->words[i].nfeat = nf ? *nf : 0;
		if (!r->bad && (x->words[i].term >= nterms || (uint64_t)x->words[i].feat + x->words[i].nfeat > nfeats))
			r->bad = true;
		x->nwords = i + 1;
	}
	/* features */
	if (!r->bad && !oom && nfeats) {
		if (!(x->feats = malloc(nfeats * sizeof(*x->feats))))
			return pl_err_nomem(err);
		x->feats_cap = nfeats;
		for (size_t i = 0; i < nfeats && !r->bad; i++) {
			const void *d = take(r, sizeof(uint16_t)), *w = take(r, sizeof(float));
			if (d && w) {
				memcpy(&x->feats[i].dim, d, sizeof(uint16_t));
				memcpy(&x->feats[i].w, w, sizeof(float));
				if (x->feats[i].dim >= PL_EMBED_DIM)
					r->bad = true;
			}
		}
		x->nfeats = nfeats;
	}
	/* terms */
	if (!r->bad && !oom) {
		x->terms = calloc(nterms ? nterms : 1, sizeof(*x->terms));
		x->term_keys = malloc((nterms ? nterms : 1) * sizeof(*x->term_keys));
		if (!x->terms || !x->term_keys)
			return pl_err_nomem(err);
		x->terms_cap = nterms ? nterms : 1;
	}
	for (size_t i = 0; i < nterms && !r->bad && !oom; i++) {
		uint32_t len = get_u32(r);
		const char *k = take(r, len);
		const char *d = k ? arena_dup(&x->strings, k, len) : NULL;
		if (k && !d)
			oom = true;
		x->term_keys[i] = (skey){d, len};
		postings *p = &x->terms[i];
		x->nterms = i + 1;
		uint32_t pn = get_u32(r);
		if (r->bad || pn > n) {
			r->bad = true;
			break;
		}
		p->docs = get_array(r, pn, sizeof(uint32_t), &oom);
		p->tfs = get_array(r, pn, sizeof(uint16_t), &oom);
		if (!p->docs || !p->tfs)
			break;
		p->n = p->cap = pn;
		x->postings_bytes += (size_t)pn * 6;
		for (uint32_t j = 0; j < pn && !r->bad; j++)
			if (p->docs[j] >= n || (j && p->docs[j] <= p->docs[j - 1]))
				r->bad = true;
	}
	if (oom)
		return pl_err_nomem(err);
	if (r->bad)
		return pl_err_set(err, PL_EINVALID, "the search index file is damaged (its words and terms)");
	/* versions */
	size_t cap = n ? n : 1;
	x->rowid = get_array(r, n, sizeof(int64_t), &oom);
	x->begin = get_array(r, n, sizeof(int64_t), &oom);
	x->end = get_array(r, n, sizeof(int64_t), &oom);
	x->len = get_array(r, n, sizeof(uint32_t), &oom);
	x->has_vec = get_array(r, n, 1, &oom);
	if (x->dim) {
		x->vecs = get_array(r, n, x->dim, &oom);
		x->signs = get_array(r, n, x->swords * sizeof(uint64_t), &oom);
	}
	x->id = malloc(cap * sizeof(char *));
	x->text = malloc(cap * sizeof(char *));
	x->meta = malloc(cap * sizeof(char *));
	if (oom || !x->id || !x->text || !x->meta)
		return pl_err_nomem(err);
	if (r->bad)
		return pl_err_set(err, PL_EINVALID, "the search index file is damaged (its versions)");
	x->cap = cap;
	for (size_t i = 0; i < n && !r->bad && !oom; i++) {
		x->id[i] = get_str(r, &x->strings, &oom);
		x->text[i] = get_str(r, &x->strings, &oom);
		x->meta[i] = get_str(r, &x->strings, &oom);
		if (!x->text[i])
			x->text[i] = arena_dup(&x->strings, "", 0);
	}
	x->n = n;
	if (oom)
		return pl_err_nomem(err);
	if (r->bad || r->p != r->end)
		return pl_err_set(err, PL_EINVALID, "the search index file is damaged (its texts)");
	/* the maps */
	for (size_t i = 0; i < x->nwords; i++)
		if (map_insert(&x->word_map, x->word_keys, i))
			return pl_err_set(err, PL_EINVALID, "the search index file is damaged (a word twice)");
	for (size_t i = 0; i < x->nterms; i++)
		if (map_insert(&x->term_map, x->term_keys, i))
			return pl_err_set(err, PL_EINVALID, "the search index file is damaged (a term twice)");
	for (size_t d = 0; d < n; d++)
		if (rmap_put(&x->rows, x->rowid[d], (uint32_t)d))
			return pl_err_nomem(err);
	return 0;
}

int pl_tindex_load(pl_tindex **out, const char *path, const char *embedder, bool client_vectors, int64_t *snapshot,
		   pl_err *err)
{
	*out = NULL;
	uint8_t *b = NULL;
	size_t size = 0;
	int rc = read_file(path, &b, &size, err);
	if (rc)
		return rc;
	if (size < 16) {
		free(b);
		return pl_err_set(err, PL_EINVALID, "the search index file %s is damaged (too short)", path);
	}
	csum c = {0x5EED, {0}, 0};
	csum_add(&c, b, size - 8);
	uint64_t want;
	memcpy(&want, b + size - 8, 8);
	if (csum_end(&c) != want) {
		free(b);
		return pl_err_set(err, PL_EINVALID, "the search index file %s is damaged (its checksum)", path);
	}
	pl_tindex *x = NULL;
	rc = pl_tindex_new(&x, embedder, client_vectors, err);
	if (rc == 0) {
		reader r = {b, b + size - 8, false};
		rc = parse(x, &r, snapshot, err);
		if (rc)
			pl_err_wrap(err, "cannot load the search index file %s", path);
	}
	free(b);
	if (rc) {
		pl_tindex_free(x);
		return rc;
	}
	*out = x;
	return 0;
}
