/*
 * index.c -- the in-memory search index (index.h).
 *
 * Words seen in documents are interned once (a map from the normalized word to its term and
 * its built-in embedding features), so tokenizing a document costs one hash lookup per word and
 * stemming happens once per distinct word. Postings are appended in version order (version
 * numbers only grow), so each term's list is sorted. Strings live in an arena of large chunks.
 */
#include "text/index.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "text/embed.h"
#include "text/tokenize.h"

#define BM25_K1 1.2f
#define BM25_B 0.75f
/* Weighed on Debian's package descriptions (bench/retrieval.sh), where the built-in embedder
 * is much weaker than BM25: a larger weight lets its mistakes through. */
#ifndef HYBRID_VECTOR_WEIGHT
#define HYBRID_VECTOR_WEIGHT 0.1
#endif
#define NO_END INT64_MAX
#define ARENA_CHUNK (8u << 20)

/* ---- arena ---- */

typedef struct arena {
	char **chunks;
	size_t nchunks, used, cap; /* used/cap of the last chunk */
	size_t bytes;
} arena;

static char *arena_dup(arena *a, const char *s, size_t n)
{
	if (a->nchunks == 0 || a->used + n + 1 > a->cap) {
		size_t cap = n + 1 > ARENA_CHUNK ? n + 1 : ARENA_CHUNK;
		char **chunks = realloc(a->chunks, (a->nchunks + 1) * sizeof(*chunks));
		if (!chunks)
			return NULL;
		a->chunks = chunks;
		if (!(a->chunks[a->nchunks] = malloc(cap)))
			return NULL;
		a->nchunks++;
		a->used = 0;
		a->cap = cap;
		a->bytes += cap;
	}
	char *p = a->chunks[a->nchunks - 1] + a->used;
	memcpy(p, s, n);
	p[n] = '\0';
	a->used += n + 1;
	return p;
}

static void arena_free(arena *a)
{
	for (size_t i = 0; i < a->nchunks; i++)
		free(a->chunks[i]);
	free(a->chunks);
	memset(a, 0, sizeof(*a));
}

/* ---- string map: open addressing over entries that keep their key ---- */

typedef struct smap {
	uint64_t *slots; /* (hash << 32) | (entry + 1); 0 = empty */
	size_t cap, n;
} smap;

static uint32_t str_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h;
}

typedef struct skey {
	const char *s;
	uint32_t len;
} skey;

/* The entry with key (s, n), or -1; *slot is where it is or would go. */
static int64_t smap_find(const smap *m, const skey *keys, const char *s, size_t n, uint32_t h, size_t *slot)
{
	if (m->cap == 0)
		return -1;
	size_t mask = m->cap - 1, i = h & mask;
	for (;; i = (i + 1) & mask) {
		uint64_t v = m->slots[i];
		if (v == 0) {
			*slot = i;
			return -1;
		}
		uint32_t e = (uint32_t)v - 1;
		if ((uint32_t)(v >> 32) == h && keys[e].len == n && memcmp(keys[e].s, s, n) == 0) {
			*slot = i;
			return e;
		}
	}
}

static int smap_grow(smap *m, const skey *keys)
{
	if ((m->n + 1) * 4 < m->cap * 3)
		return 0;
	size_t cap = m->cap ? m->cap * 2 : 1024;
	uint64_t *slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -1;
	for (size_t i = 0; i < m->cap; i++) {
		uint64_t v = m->slots[i];
		if (!v)
			continue;
		(void)keys;
		size_t j = (uint32_t)(v >> 32) & (cap - 1);
		while (slots[j])
			j = (j + 1) & (cap - 1);
		slots[j] = v;
	}
	free(m->slots);
	m->slots = slots;
	m->cap = cap;
	return 0;
}

/* ---- row id map (row id -> its latest version) ---- */

typedef struct rmap {
	int64_t *keys;
	uint32_t *vals; /* version + 1; 0 = empty */
	size_t cap, n;
} rmap;

static size_t rhash(int64_t k, size_t mask)
{
	uint64_t x = (uint64_t)k * 0x9E3779B97F4A7C15ULL;
	return (size_t)(x >> 20) & mask;
}

static int64_t rmap_get(const rmap *m, int64_t k)
{
	if (m->cap == 0)
		return -1;
	for (size_t i = rhash(k, m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (m->vals[i] == 0)
			return -1;
		if (m->keys[i] == k)
			return (int64_t)m->vals[i] - 1;
	}
}

static int rmap_put(rmap *m, int64_t k, uint32_t v)
{
	if ((m->n + 1) * 4 >= m->cap * 3) {
		size_t cap = m->cap ? m->cap * 2 : 1024;
		int64_t *keys = malloc(cap * sizeof(*keys));
		uint32_t *vals = calloc(cap, sizeof(*vals));
		if (!keys || !vals) {
			free(keys);
			free(vals);
			return -1;
		}
		for (size_t i = 0; i < m->cap; i++) {
			if (!m->vals[i])
				continue;
			size_t j = rhash(m->keys[i], cap - 1);
			while (vals[j])
				j = (j + 1) & (cap - 1);
			keys[j] = m->keys[i];
			vals[j] = m->vals[i];
		}
		free(m->keys);
		free(m->vals);
		m->keys = keys;
		m->vals = vals;
		m->cap = cap;
	}
	size_t i = rhash(k, m->cap - 1);
	while (m->vals[i] && m->keys[i] != k)
		i = (i + 1) & (m->cap - 1);
	if (!m->vals[i])
		m->n++;
	m->keys[i] = k;
	m->vals[i] = v + 1;
	return 0;
}

/* ---- the index ---- */

typedef struct postings {
	uint32_t *docs;
	uint16_t *tfs;
	uint32_t n, cap;
} postings;

typedef struct word {
	uint32_t term;
	uint32_t feat;  /* first of its built-in embedding features in x->feats */
	uint8_t nfeat;
} word;

struct pl_tindex {
	pl_tokenizer *tok;
	pl_embedder embedder;
	bool builtin, client_vectors;
	size_t dim; /* vector length; 0 until known (client vectors) */
	arena strings;
	/* words and terms */
	smap word_map, term_map;
	skey *word_keys, *term_keys;
	word *words;
	postings *terms;
	size_t nwords, nterms, words_cap, terms_cap;
	pl_embed_feature *feats;
	size_t nfeats, feats_cap;
	/* versions */
	int64_t *rowid, *begin, *end;
	uint32_t *len;
	const char **id, **text, **meta;
	int8_t *vecs; /* dim per version, quantized: component * 127 */
	uint8_t *has_vec;
	uint64_t *signs; /* sign bits of each vector, swords words per version (coarse first pass) */
	size_t swords;
	size_t n, cap, live;
	uint64_t total_len;
	rmap rows;
	float *scratch; /* dim floats */
	size_t postings_bytes;
};

int pl_tindex_new(pl_tindex **out, const char *embedder, bool client_vectors, pl_err *err)
{
	*out = NULL;
	pl_tindex *x = calloc(1, sizeof(*x));
	if (!x)
		return pl_err_nomem(err);
	int rc = pl_tokenizer_new(&x->tok, NULL, err);
	if (rc == 0 && !client_vectors)
		rc = pl_embedder_find(embedder ? embedder : "builtin", &x->embedder, err);
	if (rc) {
		pl_tindex_free(x);
		return rc;
	}
	x->client_vectors = client_vectors;
	x->builtin = !client_vectors && strcmp(x->embedder.name, "builtin") == 0;
	x->dim = client_vectors ? 0 : x->embedder.dim;
	x->swords = (x->dim + 63) / 64;
	if (x->dim && !(x->scratch = malloc(x->dim * sizeof(float)))) {
		pl_tindex_free(x);
		return pl_err_nomem(err);
	}
	*out = x;
	return 0;
}

void pl_tindex_free(pl_tindex *x)
{
	if (!x)
		return;
	pl_tokenizer_free(x->tok);
	arena_free(&x->strings);
	free(x->word_map.slots);
	free(x->term_map.slots);
	free(x->word_keys);
	free(x->term_keys);
	free(x->words);
	for (size_t i = 0; i < x->nterms; i++) {
		free(x->terms[i].docs);
		free(x->terms[i].tfs);
	}
	free(x->terms);
	free(x->feats);
	free(x->rowid);
	free(x->begin);
	free(x->end);
	free(x->len);
	free(x->id);
	free(x->text);
	free(x->meta);
	free(x->vecs);
	free(x->has_vec);
	free(x->signs);
	free(x->rows.keys);
	free(x->rows.vals);
	free(x->scratch);
	free(x);
}

size_t pl_tindex_count(const pl_tindex *x)
{
	return x->n;
}

size_t pl_tindex_live(const pl_tindex *x)
{
	return x->live;
}

size_t pl_tindex_terms(const pl_tindex *x)
{
	return x->nterms;
}

size_t pl_tindex_bytes(const pl_tindex *x)
{
	return x->strings.bytes + x->postings_bytes + x->cap * (3 * 8 + 4 + 3 * sizeof(char *) + 1 + x->dim) +
	       x->rows.cap * 12 + x->word_map.cap * 8 + x->term_map.cap * 8 + x->nfeats * sizeof(pl_embed_feature);
}

const char *pl_tindex_id(const pl_tindex *x, uint32_t doc)
{
	return doc < x->n ? x->id[doc] : NULL;
}

const char *pl_tindex_text(const pl_tindex *x, uint32_t doc)
{
	return doc < x->n ? x->text[doc] : NULL;
}

const char *pl_tindex_metadata(const pl_tindex *x, uint32_t doc)
{
	return doc < x->n ? x->meta[doc] : NULL;
}

bool pl_tindex_visible(const pl_tindex *x, uint32_t doc, int64_t snapshot)
{
	return doc < x->n && x->begin[doc] <= snapshot && snapshot < x->end[doc];
}

/* The term of a stem, interned when add (else -1 when unknown). */
static int64_t term_of(pl_tindex *x, const char *stem, size_t slen, bool add)
{
	uint32_t h = str_hash(stem, slen);
	size_t slot = 0;
	int64_t e = smap_find(&x->term_map, x->term_keys, stem, slen, h, &slot);
	if (e >= 0 || !add)
		return e;
	if (x->nterms == x->terms_cap) {
		size_t cap = x->terms_cap ? x->terms_cap * 2 : 1024;
		postings *terms = realloc(x->terms, cap * sizeof(*terms));
		if (terms)
			x->terms = terms;
		skey *keys = realloc(x->term_keys, cap * sizeof(*keys));
		if (keys)
			x->term_keys = keys;
		if (!terms || !keys)
			return -2;
		x->terms_cap = cap;
	}
	const char *k = arena_dup(&x->strings, stem, slen);
	if (!k || smap_grow(&x->term_map, x->term_keys))
		return -2;
	smap_find(&x->term_map, x->term_keys, stem, slen, h, &slot);
	x->term_keys[x->nterms] = (skey){k, (uint32_t)slen};
	x->terms[x->nterms] = (postings){0};
	x->term_map.slots[slot] = ((uint64_t)h << 32) | (uint64_t)(x->nterms + 1);
	x->term_map.n++;
	return (int64_t)x->nterms++;
}

/* The word entry of a normalized word: interned (with its stem's term and built-in features)
 * when add, else -1 when the word was never seen; -2 on failure (err set). */
static int64_t word_of(pl_tindex *x, const char *w, size_t n, bool add, pl_err *err)
{
	uint32_t h = str_hash(w, n);
	size_t slot = 0;
	int64_t e = smap_find(&x->word_map, x->word_keys, w, n, h, &slot);
	if (e >= 0 || !add)
		return e;
	const char *stem;
	size_t slen;
	if (pl_stem(x->tok, w, n, &stem, &slen, err))
		return -2;
	int64_t term = term_of(x, stem, slen, true);
	pl_embed_feature f[PL_EMBED_MAX_FEATURES];
	size_t nf = x->builtin ? pl_embed_word_features(w, n, stem, slen, f) : 0;
	if (x->nwords == x->words_cap) {
		size_t cap = x->words_cap ? x->words_cap * 2 : 1024;
		word *words = realloc(x->words, cap * sizeof(*words));
		if (words)
			x->words = words;
		skey *keys = realloc(x->word_keys, cap * sizeof(*keys));
		if (keys)
			x->word_keys = keys;
		if (!words || !keys)
			return pl_err_nomem(err), -2;
		x->words_cap = cap;
	}
	if (x->nfeats + nf > x->feats_cap) {
		size_t cap = x->feats_cap ? x->feats_cap * 2 : 16384;
		pl_embed_feature *feats = realloc(x->feats, cap * sizeof(*feats));
		if (!feats)
			return pl_err_nomem(err), -2;
		x->feats = feats;
		x->feats_cap = cap;
	}
	const char *k = arena_dup(&x->strings, w, n);
	if (term < 0 || !k || smap_grow(&x->word_map, x->word_keys))
		return pl_err_nomem(err), -2;
	smap_find(&x->word_map, x->word_keys, w, n, h, &slot);
	if (nf)
		memcpy(x->feats + x->nfeats, f, nf * sizeof(*f));
	x->word_keys[x->nwords] = (skey){k, (uint32_t)n};
	x->words[x->nwords] = (word){(uint32_t)term, (uint32_t)x->nfeats, (uint8_t)nf};
	x->nfeats += nf;
	x->word_map.slots[slot] = ((uint64_t)h << 32) | (uint64_t)(x->nwords + 1);
	x->word_map.n++;
	return (int64_t)x->nwords++;
}

/* The words of one text, as word entries in order (growing buffer). */
typedef struct wordlist {
	pl_tindex *x;
	bool add;
	uint32_t *w;
	size_t n, cap;
	pl_err *err;
	int rc;
} wordlist;

static int collect_word(const char *w, size_t n, void *arg)
{
	wordlist *l = arg;
	int64_t e = word_of(l->x, w, n, l->add, l->err);
	if (e == -2)
		return l->rc = PL_ENOMEM, 1;
	if (e < 0)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		uint32_t *p = realloc(l->w, cap * sizeof(*p));
		if (!p)
			return l->rc = pl_err_nomem(l->err), 1;
		l->w = p;
		l->cap = cap;
	}
	l->w[l->n++] = (uint32_t)e;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static int grow_versions(pl_tindex *x, pl_err *err)
{
	if (x->n < x->cap)
		return 0;
	if (x->n >= UINT32_MAX - 1)
		return pl_err_set(err, PL_EINVALID, "a search index holds at most 4294967294 row versions");
	size_t cap = x->cap ? x->cap * 2 : 1024;
#define GROW(field)                                                                      \
	do {                                                                             \
		void *p = realloc(x->field, cap * sizeof(*x->field));                  \
		if (!p)                                                                  \
			return pl_err_nomem(err);                                        \
		x->field = p;                                                            \
	} while (0)
	GROW(rowid);
	GROW(begin);
	GROW(end);
	GROW(len);
	GROW(id);
	GROW(text);
	GROW(meta);
	GROW(has_vec);
#undef GROW
	if (x->dim) {
		int8_t *v = realloc(x->vecs, cap * x->dim);
		if (!v)
			return pl_err_nomem(err);
		x->vecs = v;
		uint64_t *sg = realloc(x->signs, cap * x->swords * sizeof(uint64_t));
		if (!sg)
			return pl_err_nomem(err);
		x->signs = sg;
	}
	x->cap = cap;
	return 0;
}

static void quantize(const float *v, size_t dim, int8_t *out)
{
	for (size_t i = 0; i < dim; i++) {
		float q = v[i] * 127.0f;
		out[i] = (int8_t)(q > 127.0f ? 127 : q < -127.0f ? -127 : lrintf(q));
	}
}

/* Bit i set where component i is positive. */
static void sign_bits(const int8_t *v, size_t dim, uint64_t *out)
{
	memset(out, 0, ((dim + 63) / 64) * sizeof(uint64_t));
	for (size_t i = 0; i < dim; i++)
		if (v[i] > 0)
			out[i / 64] |= 1ULL << (i % 64);
}

static int add_posting(pl_tindex *x, uint32_t term, uint32_t doc, uint32_t tf, pl_err *err)
{
	postings *p = &x->terms[term];
	if (p->n == p->cap) {
		uint32_t cap = p->cap ? p->cap * 2 : 4;
		uint32_t *docs = realloc(p->docs, cap * sizeof(*docs));
		if (docs)
			p->docs = docs;
		uint16_t *tfs = realloc(p->tfs, cap * sizeof(*tfs));
		if (tfs)
			p->tfs = tfs;
		if (!docs || !tfs)
			return pl_err_nomem(err);
		x->postings_bytes += (size_t)(cap - p->cap) * 6;
		p->cap = cap;
	}
	p->docs[p->n] = doc;
	p->tfs[p->n++] = (uint16_t)(tf > UINT16_MAX ? UINT16_MAX : tf);
	return 0;
}

/* Sums the built-in features of a text's words (w, sorted by word) into out, L2-normalized. */
static void builtin_vector(const pl_tindex *x, const uint32_t *w, size_t n, float *out)
{
	memset(out, 0, PL_EMBED_DIM * sizeof(float));
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && w[j] == w[i])
			j++;
		const word *e = &x->words[w[i]];
		float scale = 1.0f + logf((float)(j - i));

		for (size_t k = 0; k < e->nfeat; k++)
			out[x->feats[e->feat + k].dim] += x->feats[e->feat + k].w * scale;
		i = j;
	}
	pl_vec_normalize(out, PL_EMBED_DIM);
}

int pl_tindex_add(pl_tindex *x, const pl_tdoc *d, pl_err *err)
{
	int rc = grow_versions(x, err);
	if (rc)
		return rc;
	if (x->client_vectors && d->vec && d->vec_len > 0) {
		if (x->dim == 0) {
			if (d->vec_len > PL_EMBED_MAX_DIM)
				return pl_err_set(err, PL_EINVALID, "vectors have at most %d dimensions (this one has %zu)",
						  PL_EMBED_MAX_DIM, d->vec_len);
			x->dim = d->vec_len;
			free(x->scratch);
			x->swords = (x->dim + 63) / 64;
			x->vecs = malloc(x->cap * x->dim);
			x->signs = malloc(x->cap * x->swords * sizeof(uint64_t));
			x->scratch = malloc(x->dim * sizeof(float));
			if (!x->vecs || !x->signs || !x->scratch)
				return pl_err_nomem(err);
		} else if (d->vec_len != x->dim) {
			return pl_err_set(err, PL_EINVALID,
					  "the vector of row %lld has %zu dimensions; the index's vectors have %zu",
					  (long long)d->rowid, d->vec_len, x->dim);
		}
	}
	const char *text = d->text ? d->text : "";
	wordlist l = {x, true, NULL, 0, 0, err, 0};
	rc = pl_tokenize(x->tok, text, strlen(text), collect_word, &l, err);
	if (rc == 0)
		rc = l.rc;
	uint32_t doc = (uint32_t)x->n;
	if (rc == 0 && l.n)
		qsort(l.w, l.n, sizeof(*l.w), cmp_u32);
	bool has_vec = false;
	if (rc == 0 && x->dim) { /* first: an embedder that fails leaves nothing behind */
		float *v = x->scratch;
		if (x->client_vectors) {
			if (d->vec && d->vec_len == x->dim) {
				memcpy(v, d->vec, x->dim * sizeof(float));
				has_vec = pl_vec_normalize(v, x->dim);
			}
		} else if (x->builtin) {
			builtin_vector(x, l.w, l.n, v);
			has_vec = true;
		} else {
			rc = pl_embedder_run(&x->embedder, text, strlen(text), v, err);
			has_vec = rc == 0;
		}
		if (has_vec) {
			quantize(v, x->dim, x->vecs + (size_t)doc * x->dim);
			sign_bits(x->vecs + (size_t)doc * x->dim, x->dim, x->signs + (size_t)doc * x->swords);
		} else if (x->vecs) {
			memset(x->vecs + (size_t)doc * x->dim, 0, x->dim);
			memset(x->signs + (size_t)doc * x->swords, 0, x->swords * sizeof(uint64_t));
		}
	}
	/* postings: one per distinct term (different words may share a stem); on failure the
	 * postings already added for doc are taken back */
	uint32_t *terms = NULL;
	if (rc == 0 && l.n && !(terms = malloc(l.n * sizeof(*terms))))
		rc = pl_err_nomem(err);
	for (size_t i = 0; rc == 0 && i < l.n; i++)
		terms[i] = x->words[l.w[i]].term;
	if (rc == 0 && l.n)
		qsort(terms, l.n, sizeof(*terms), cmp_u32);
	size_t added = 0;
	for (size_t i = 0; rc == 0 && i < l.n;) {
		size_t j = i;
		while (j < l.n && terms[j] == terms[i])
			j++;
		rc = add_posting(x, terms[i], doc, (uint32_t)(j - i), err);
		if (rc == 0)
			terms[added++] = terms[i];
		i = j;
	}
	free(l.w);
	const char *id = rc == 0 && d->id ? arena_dup(&x->strings, d->id, strlen(d->id)) : NULL;
	const char *t = rc == 0 ? arena_dup(&x->strings, text, strlen(text)) : NULL;
	const char *m = rc == 0 && d->metadata ? arena_dup(&x->strings, d->metadata, strlen(d->metadata)) : NULL;
	if (rc == 0 && ((d->id && !id) || !t || (d->metadata && !m)))
		rc = pl_err_nomem(err);
	int64_t prev = rc == 0 ? rmap_get(&x->rows, d->rowid) : -1;
	if (rc == 0 && rmap_put(&x->rows, d->rowid, doc))
		rc = pl_err_nomem(err);
	if (rc) {
		for (size_t i = 0; i < added; i++)
			x->terms[terms[i]].n--;
		free(terms);
		return rc;
	}
	free(terms);
	if (prev >= 0 && x->end[prev] == NO_END) {
		x->end[prev] = d->begin;
		x->live--;
	}
	x->rowid[doc] = d->rowid;
	x->begin[doc] = d->begin;
	x->end[doc] = NO_END;
	x->len[doc] = (uint32_t)l.n;
	x->id[doc] = id;
	x->text[doc] = t;
	x->meta[doc] = m;
	x->has_vec[doc] = has_vec;
	x->total_len += l.n;
	x->n++;
	x->live++;
	return 0;
}

void pl_tindex_delete(pl_tindex *x, int64_t rowid, int64_t end)
{
	int64_t doc = rmap_get(&x->rows, rowid);
	if (doc >= 0 && x->end[doc] == NO_END && x->begin[doc] <= end) {
		x->end[doc] = end;
		x->live--;
	}
}

/* ---- top-k ---- */

/* Whether a ranks before b: higher score, then older version. */
static bool better(const pl_thit *a, const pl_thit *b)
{
	return a->score > b->score || (a->score == b->score && a->doc < b->doc);
}

typedef struct heap {
	pl_thit *h; /* the worst at h[0] */
	size_t n, k;
} heap;

static void heap_push(heap *hp, uint32_t doc, double score)
{
	pl_thit c = {doc, score};
	if (hp->n == hp->k) {
		if (!better(&c, &hp->h[0]))
			return;
		hp->h[0] = c;
		for (size_t i = 0;;) {
			size_t l = 2 * i + 1, r = l + 1, w = i;
			if (l < hp->n && better(&hp->h[w], &hp->h[l]))
				w = l;
			if (r < hp->n && better(&hp->h[w], &hp->h[r]))
				w = r;
			if (w == i)
				break;
			pl_thit t = hp->h[i];
			hp->h[i] = hp->h[w];
			hp->h[w] = t;
			i = w;
		}
		return;
	}
	size_t i = hp->n++;
	hp->h[i] = c;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!better(&hp->h[p], &hp->h[i]))
			break;
		pl_thit t = hp->h[i];
		hp->h[i] = hp->h[p];
		hp->h[p] = t;
		i = p;
	}
}

static int cmp_hit(const void *a, const void *b)
{
	const pl_thit *x = a, *y = b;
	return better(x, y) ? -1 : better(y, x) ? 1 : 0;
}

static bool eligible(const pl_tindex *x, const pl_tquery *q, uint32_t doc)
{
	return x->begin[doc] <= q->snapshot && q->snapshot < x->end[doc] && (!q->allowed || q->allowed[doc]);
}

/* ---- rankings ---- */

/* The terms of a query's words: a word never seen in a document may still share its stem with
 * one that was. */
typedef struct termlist {
	pl_tindex *x;
	uint32_t *t;
	size_t n, cap;
	pl_err *err;
	int rc;
} termlist;

static int collect_term(const char *w, size_t n, void *arg)
{
	termlist *l = arg;
	int64_t e = word_of(l->x, w, n, false, l->err), term = -1;
	if (e >= 0) {
		term = l->x->words[e].term;
	} else {
		const char *stem;
		size_t slen;
		if ((l->rc = pl_stem(l->x->tok, w, n, &stem, &slen, l->err)) != 0)
			return 1;
		term = term_of(l->x, stem, slen, false);
	}
	if (term < 0)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		uint32_t *p = realloc(l->t, cap * sizeof(*p));
		if (!p)
			return l->rc = pl_err_nomem(l->err), 1;
		l->t = p;
		l->cap = cap;
	}
	l->t[l->n++] = (uint32_t)term;
	return 0;
}

/* BM25 ranking; with keep, *keep receives every version's score (caller frees; NULL when no
 * query term is in the index). */
static int rank_bm25(pl_tindex *x, const pl_tquery *q, size_t k, pl_thit *out, size_t *nout, float **keep,
		     pl_err *err)
{
	*nout = 0;
	if (keep)
		*keep = NULL;
	const char *text = q->text ? q->text : "";
	termlist l = {x, NULL, 0, 0, err, 0};
	int rc = pl_tokenize(x->tok, text, strlen(text), collect_term, &l, err);
	if (rc == 0)
		rc = l.rc;
	uint32_t *terms = l.t;
	size_t nterms = l.n;
	if (rc) {
		free(terms);
		return rc;
	}
	if (nterms)
		qsort(terms, nterms, sizeof(*terms), cmp_u32);
	size_t u = 0;
	for (size_t i = 0; i < nterms; i++)
		if (u == 0 || terms[u - 1] != terms[i])
			terms[u++] = terms[i];
	nterms = u;
	if (nterms == 0 || x->n == 0) {
		free(terms);
		return 0;
	}
	float *scores = calloc(x->n, sizeof(*scores));
	uint32_t *touched = NULL;
	size_t ntouched = 0, cap = 0;
	if (!scores) {
		free(terms);
		return pl_err_nomem(err);
	}
	double avgdl = x->n ? (double)x->total_len / (double)x->n : 1.0;
	if (avgdl <= 0)
		avgdl = 1.0;
	float kb = BM25_K1 * BM25_B / (float)avgdl, ka = BM25_K1 * (1.0f - BM25_B);
	for (size_t t = 0; rc == 0 && t < nterms; t++) {
		const postings *p = &x->terms[terms[t]];
		if (p->n == 0)
			continue;
		float idf = (float)log(1.0 + ((double)x->n - p->n + 0.5) / (p->n + 0.5));
		if (ntouched + p->n > cap) {
			size_t ncap = cap ? cap : 1024;
			while (ncap < ntouched + p->n)
				ncap *= 2;
			uint32_t *nt = realloc(touched, ncap * sizeof(*nt));
			if (!nt) {
				rc = pl_err_nomem(err);
				break;
			}
			touched = nt;
			cap = ncap;
		}
		for (uint32_t i = 0; i < p->n; i++) {
			uint32_t d = p->docs[i];
			float tf = p->tfs[i];
			if (scores[d] == 0.0f)
				touched[ntouched++] = d;
			scores[d] += idf * tf * (BM25_K1 + 1.0f) / (tf + ka + kb * (float)x->len[d]);
		}
	}
	if (rc == 0) {
		heap hp = {out, 0, k};
		for (size_t i = 0; i < ntouched; i++)
			if (eligible(x, q, touched[i]))
				heap_push(&hp, touched[i], scores[touched[i]]);
		qsort(out, hp.n, sizeof(*out), cmp_hit);
		*nout = hp.n;
	}
	if (rc == 0 && keep) {
		*keep = scores;
		scores = NULL;
	}
	free(scores);
	free(touched);
	free(terms);
	return rc;
}

/* The built-in embedding of a query, each word weighted by its term's inverse document
 * frequency in the index (a word that occurs everywhere says little about what is wanted;
 * documents are embedded without it, as their frequencies change with every commit). */
typedef struct qembed {
	pl_tindex *x;
	float *v;
	int rc;
	pl_err *err;
} qembed;

static int qembed_word(const char *w, size_t n, void *arg)
{
	qembed *e = arg;
	pl_tindex *x = e->x;
	const char *stem;
	size_t slen;
	if ((e->rc = pl_stem(x->tok, w, n, &stem, &slen, e->err)) != 0)
		return 1;
	int64_t term = term_of(x, stem, slen, false);
	double df = term >= 0 ? x->terms[term].n : 0;
	double idf = log(1.0 + ((double)x->n - df + 0.5) / (df + 0.5));
	pl_embed_feature f[PL_EMBED_MAX_FEATURES];
	size_t nf = pl_embed_word_features(w, n, stem, slen, f);
	for (size_t k = 0; k < nf; k++)
		e->v[f[k].dim] += f[k].w * (float)idf;
	return 0;
}

/* The query's vector as the index's vectors are: the client's, or the embedder's of the text. */
static int query_vector(pl_tindex *x, const pl_tquery *q, int8_t *out, bool *have, pl_err *err)
{
	*have = false;
	if (x->dim == 0)
		return 0;
	float *v = x->scratch;
	int rc = 0;
	if (q->vec) {
		if (q->vec_len != x->dim)
			return pl_err_set(err, PL_EINVALID, "the query vector has %zu dimensions; the index's vectors have %zu",
					  q->vec_len, x->dim);
		memcpy(v, q->vec, x->dim * sizeof(float));
	} else if (x->client_vectors) {
		return 0;
	} else if (x->builtin) {
		memset(v, 0, x->dim * sizeof(float));
		qembed e = {x, v, 0, err};
		rc = pl_tokenize(x->tok, q->text ? q->text : "", q->text ? strlen(q->text) : 0, qembed_word, &e, err);
		if (rc == 0)
			rc = e.rc;
	} else {
		rc = pl_embedder_run(&x->embedder, q->text ? q->text : "", q->text ? strlen(q->text) : 0, v, err);
	}
	if (rc)
		return rc;
	if (!pl_vec_normalize(v, x->dim))
		return 0;
	quantize(v, x->dim, out);
	*have = true;
	return 0;
}

/* The dot product of two quantized vectors: the hot loop of vector search, written so that
 * compilers vectorize it (sixteen independent lanes, then the tail). */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("O3")))
#endif
static int32_t dot8(const int8_t *restrict a, const int8_t *restrict b, size_t n)
{
	int32_t lane[16] = {0};
	size_t i = 0;
	for (; i + 16 <= n; i += 16)
		for (size_t j = 0; j < 16; j++)
			lane[j] += (int32_t)a[i + j] * (int32_t)b[i + j];
	int32_t s = 0;
	for (size_t j = 0; j < 16; j++)
		s += lane[j];
	for (; i < n; i++)
		s += (int32_t)a[i] * (int32_t)b[i];
	return s;
}

/* The cosine similarity of the (quantized) query vector qv with version d's. */
static double cosine_of(const pl_tindex *x, const int8_t *qv, uint32_t d)
{
	if (!x->has_vec[d])
		return 0;
	return dot8(qv, x->vecs + (size_t)d * x->dim, x->dim) / (127.0 * 127.0);
}

/* Large indexes: a first pass over the vectors' sign bits (Hamming distance to the query's,
 * 32 bytes a version instead of 256, counted where the query's component is not zero) keeps
 * PREFILTER_KEEP candidates, whose exact cosine then
 * decides. An approximation: a version whose signs differ unusually from its cosine may be
 * missed. */
#ifndef PREFILTER_MIN
#define PREFILTER_MIN 200000
#endif
#define PREFILTER_MAX_K 1000
#define PREFILTER_KEEP 4000

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("popcnt"))) static void hamming_popcnt(const pl_tindex *x, const pl_tquery *q,
							    const uint64_t *qs, const uint64_t *mask, heap *hp)
{
	for (uint32_t d = 0; d < x->n; d++) {
		if (!x->has_vec[d] || !eligible(x, q, d))
			continue;
		const uint64_t *s = x->signs + (size_t)d * x->swords;
		int h = 0;
		for (size_t w = 0; w < x->swords; w++)
			h += __builtin_popcountll((qs[w] ^ s[w]) & mask[w]);
		heap_push(hp, d, -(double)h);
	}
}
#endif

static void hamming_plain(const pl_tindex *x, const pl_tquery *q, const uint64_t *qs, const uint64_t *mask, heap *hp)
{
	for (uint32_t d = 0; d < x->n; d++) {
		if (!x->has_vec[d] || !eligible(x, q, d))
			continue;
		const uint64_t *s = x->signs + (size_t)d * x->swords;
		int h = 0;
		for (size_t w = 0; w < x->swords; w++)
			h += __builtin_popcountll((qs[w] ^ s[w]) & mask[w]);
		heap_push(hp, d, -(double)h);
	}
}

static int rank_vector_coarse(pl_tindex *x, const pl_tquery *q, size_t k, const int8_t *qv, pl_thit *out, size_t *nout,
			      pl_err *err)
{
	pl_thit *cand = malloc(PREFILTER_KEEP * sizeof(*cand));
	uint64_t *qs = malloc(2 * x->swords * sizeof(uint64_t));
	if (!cand || !qs) {
		free(cand);
		free(qs);
		return pl_err_nomem(err);
	}
	/* only the query's nonzero components count: the others add nothing to the cosine */
	uint64_t *mask = qs + x->swords;
	sign_bits(qv, x->dim, qs);
	memset(mask, 0, x->swords * sizeof(uint64_t));
	for (size_t i = 0; i < x->dim; i++)
		if (qv[i] != 0)
			mask[i / 64] |= 1ULL << (i % 64);
	heap coarse = {cand, 0, PREFILTER_KEEP};
#if defined(__x86_64__) && defined(__GNUC__)
	if (__builtin_cpu_supports("popcnt"))
		hamming_popcnt(x, q, qs, mask, &coarse);
	else
#endif
		hamming_plain(x, q, qs, mask, &coarse);
	heap hp = {out, 0, k};
	for (size_t i = 0; i < coarse.n; i++) {
		uint32_t d = cand[i].doc;
		int32_t dot = dot8(qv, x->vecs + (size_t)d * x->dim, x->dim);
		if (dot > 0)
			heap_push(&hp, d, dot / (127.0 * 127.0));
	}
	qsort(out, hp.n, sizeof(*out), cmp_hit);
	*nout = hp.n;
	free(cand);
	free(qs);
	return 0;
}

static int rank_vector(pl_tindex *x, const pl_tquery *q, size_t k, pl_thit *out, size_t *nout, bool *have,
		       int8_t *qv, pl_err *err)
{
	*nout = 0;
	int rc = query_vector(x, q, qv, have, err);
	if (rc || !*have)
		return rc;
	heap hp = {out, 0, k};
	const size_t dim = x->dim;
	const double scale = 1.0 / (127.0 * 127.0);
	if (x->n >= PREFILTER_MIN && k <= PREFILTER_MAX_K)
		return rank_vector_coarse(x, q, k, qv, out, nout, err);
	for (uint32_t d = 0; d < x->n; d++) {
		if (!x->has_vec[d] || !eligible(x, q, d))
			continue;
		int32_t dot = dot8(qv, x->vecs + (size_t)d * dim, dim);
		if (dot <= 0)
			continue; /* nothing in common */
		heap_push(&hp, d, dot * scale);
	}
	qsort(out, hp.n, sizeof(*out), cmp_hit);
	*nout = hp.n;
	return 0;
}

/* Fusion of the two rankings into the best k: every candidate of either (a: BM25, b: vector)
 * scores its BM25 score relative to the best one plus HYBRID_VECTOR_WEIGHT times its cosine
 * similarity relative to the best one. Scores, not ranks, are combined: when BM25 is sure (one
 * document far ahead) it stays ahead, and the vector side reorders the close calls and brings
 * in documents that share no word with the query. */
static size_t fuse(const pl_tindex *x, const pl_thit *a, size_t na, const pl_thit *b, size_t nb, const float *bm25,
		   const int8_t *qv, size_t k, pl_thit *out)
{
	size_t n = 0;
	double bmax = na ? a[0].score : 0, cmax = nb ? b[0].score : 0;
	for (size_t i = 0; i < na; i++)
		out[n++] = (pl_thit){a[i].doc, 0};
	for (size_t i = 0; i < nb; i++) {
		size_t j = 0;
		while (j < na && a[j].doc != b[i].doc)
			j++;
		if (j == na)
			out[n++] = (pl_thit){b[i].doc, 0};
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t d = out[i].doc;
		double bm = bm25 && bmax > 0 ? bm25[d] / bmax : 0;
		double cs = cmax > 0 ? cosine_of(x, qv, d) / cmax : 0;
		out[i].score = bm + HYBRID_VECTOR_WEIGHT * (cs > 0 ? cs : 0);
	}
	if (n)
		qsort(out, n, sizeof(*out), cmp_hit);
	return n < k ? n : k;
}

int pl_tindex_search(pl_tindex *x, const pl_tquery *q, pl_thit **hits, size_t *n, pl_err *err)
{
	*hits = NULL;
	*n = 0;
	size_t k = q->top_k;
	if (k == 0)
		return 0;
	if (k > x->n)
		k = x->n ? x->n : 1;
	/* hybrid: each ranking contributes its best candidates (at least 100) */
	size_t depth = q->mode == PL_SEARCH_HYBRID ? (k * 4 > 100 ? k * 4 : 100) : k;
	pl_thit *a = malloc(depth * sizeof(*a)), *b = malloc(depth * sizeof(*b));
	pl_thit *out = malloc(2 * depth * sizeof(*out));
	size_t na = 0, nb = 0;
	bool have = false;
	float *bm25 = NULL;
	int8_t qv[PL_EMBED_MAX_DIM];
	int rc = !a || !b || !out ? pl_err_nomem(err) : 0;
	if (rc == 0 && q->mode != PL_SEARCH_VECTOR)
		rc = rank_bm25(x, q, depth, a, &na, q->mode == PL_SEARCH_HYBRID ? &bm25 : NULL, err);
	if (rc == 0 && q->mode != PL_SEARCH_BM25)
		rc = rank_vector(x, q, depth, b, &nb, &have, qv, err);
	if (rc == 0 && q->mode == PL_SEARCH_VECTOR && !have && x->client_vectors)
		rc = pl_err_set(err, PL_EINVALID,
				"this index ranks by the client's vectors: vector search needs a query vector (query_vector => [...])");
	size_t m = 0;
	if (rc == 0 && q->mode == PL_SEARCH_BM25) {
		memcpy(out, a, na * sizeof(*a));
		m = na;
	} else if (rc == 0 && q->mode == PL_SEARCH_VECTOR) {
		memcpy(out, b, nb * sizeof(*b));
		m = nb;
	} else if (rc == 0 && have) {
		m = fuse(x, a, na, b, nb, bm25, qv, k, out);
	} else if (rc == 0) { /* no query vector: BM25 alone, with its own scores */
		memcpy(out, a, na * sizeof(*a));
		m = na;
	}
	free(a);
	free(b);
	free(bm25);
	if (rc) {
		free(out);
		return rc;
	}
	*hits = out;
	*n = m < k ? m : k;
	return 0;
}

int pl_tindex_allow_ids(const pl_tindex *x, char *const *ids, size_t n, uint8_t **out, pl_err *err)
{
	*out = calloc(x->n ? x->n : 1, 1);
	if (!*out)
		return pl_err_nomem(err);
	smap m = {0};
	skey *keys = malloc((n ? n : 1) * sizeof(*keys));
	if (!keys) {
		free(*out);
		*out = NULL;
		return pl_err_nomem(err);
	}
	size_t nk = 0;
	for (size_t i = 0; i < n; i++) {
		if (!ids[i])
			continue;
		size_t len = strlen(ids[i]), slot = 0;
		uint32_t h = str_hash(ids[i], len);
		if (smap_find(&m, keys, ids[i], len, h, &slot) >= 0)
			continue;
		if (smap_grow(&m, keys)) {
			free(m.slots);
			free(keys);
			free(*out);
			*out = NULL;
			return pl_err_nomem(err);
		}
		smap_find(&m, keys, ids[i], len, h, &slot);
		keys[nk] = (skey){ids[i], (uint32_t)len};
		m.slots[slot] = ((uint64_t)h << 32) | (uint64_t)(nk + 1);
		m.n++;
		nk++;
	}
	for (size_t d = 0; d < x->n; d++) {
		if (!x->id[d])
			continue;
		size_t len = strlen(x->id[d]), slot = 0;
		(*out)[d] = smap_find(&m, keys, x->id[d], len, str_hash(x->id[d], len), &slot) >= 0;
	}
	free(m.slots);
	free(keys);
	return 0;
}
