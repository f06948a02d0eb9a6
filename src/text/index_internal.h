/*
 * index_internal.h -- the in-memory search index's representation, shared by its parts:
 * index.c (building), rank.c (ranking) and segment.c (saving and loading). Not a public header.
 */
#ifndef PL_TEXT_INDEX_INTERNAL_H
#define PL_TEXT_INDEX_INTERNAL_H

#include <stdlib.h>
#include <string.h>

#include "text/embed.h"
#include "text/index.h"
#include "text/tokenize.h"

#define BM25_K1 1.2f
#define BM25_B 0.75f
/* The hybrid fusion (rank.c), weighed on Debian's package descriptions with a held-out half
 * (bench/retrieval_tune.sh), where the built-in embedder is much weaker than BM25: BM25 first,
 * its top k reordered by bm25 / best + HYBRID_W0 x cosine (HYBRID_RELATIVE: cosine / best
 * cosine; HYBRID_W1 adds weight when BM25's best two are close), documents sharing no word
 * with the query after every one that does. */
#ifdef PL_TEXT_TUNE /* bench/retrieval_tune.c sets these at run time */
extern double pl_text_tune[6];
#define HYBRID_W0 pl_text_tune[0]
#define HYBRID_W1 pl_text_tune[1]
#define HYBRID_RELATIVE (pl_text_tune[2] != 0)
#define HYBRID_WORDS_FIRST (pl_text_tune[3] != 0)
#define HYBRID_BM25_FIRST (pl_text_tune[4] != 0)
#define HYBRID_TOP_K_ONLY (pl_text_tune[5] != 0)
#else
#define HYBRID_W0 0.05
#define HYBRID_W1 0.0
#define HYBRID_RELATIVE 0
#define HYBRID_WORDS_FIRST 1
#define HYBRID_BM25_FIRST 1
#define HYBRID_TOP_K_ONLY 1
#endif
#define NO_END INT64_MAX
#define ARENA_CHUNK (8u << 20)

/* ---- arena ---- */

typedef struct arena {
	char **chunks;
	size_t nchunks, used, cap; /* used/cap of the last chunk */
	size_t bytes;
} arena;

static inline char *arena_dup(arena *a, const char *s, size_t n)
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

static inline void arena_free(arena *a)
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

static inline uint32_t str_hash(const char *s, size_t n)
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
static inline int64_t smap_find(const smap *m, const skey *keys, const char *s, size_t n, uint32_t h, size_t *slot)
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

static inline int smap_grow(smap *m, const skey *keys)
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

static inline size_t rhash(int64_t k, size_t mask)
{
	uint64_t x = (uint64_t)k * 0x9E3779B97F4A7C15ULL;
	return (size_t)(x >> 20) & mask;
}

static inline int64_t rmap_get(const rmap *m, int64_t k)
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

static inline int rmap_put(rmap *m, int64_t k, uint32_t v)
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
	uint64_t total_len; /* words of every version */
	uint64_t live_len;  /* words of the versions with no end */
	int64_t last_change; /* the latest snapshot any version began or ended in (-1: none) */
	float *bm25_scores; /* per-version scratch of BM25 ranking (n floats, kept zero between searches) */
	size_t bm25_cap;
	rmap rows;
	float *scratch; /* dim floats */
	size_t postings_bytes;
};

/* The term of a stem, interned when add (else -1 when unknown; -2: out of memory). */
int64_t pl_tix_term_of(pl_tindex *x, const char *stem, size_t slen, bool add);
/* The word entry of a normalized word: interned (with its stem's term and built-in features)
 * when add, else -1 when the word was never seen; -2 on failure (err set). */
int64_t pl_tix_word_of(pl_tindex *x, const char *w, size_t n, bool add, pl_err *err);
/* Makes room for one more version. */
int pl_tix_grow_versions(pl_tindex *x, pl_err *err);
int pl_tix_cmp_u32(const void *a, const void *b);
void pl_tix_quantize(const float *v, size_t dim, int8_t *out);
/* Bit i set where component i is positive. */
void pl_tix_sign_bits(const int8_t *v, size_t dim, uint64_t *out);

#endif
