/*
 * rank.c -- ranking with the search index (index.h): BM25 over the postings, cosine
 * similarity over the quantized vectors, their fusion, and the filter's allowed versions.
 */
#include <math.h>

#include "text/index_internal.h"

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
	int64_t e = pl_tix_word_of(l->x, w, n, false, l->err), term = -1;
	if (e >= 0) {
		term = l->x->words[e].term;
	} else {
		const char *stem;
		size_t slen;
		if ((l->rc = pl_stem(l->x->tok, w, n, &stem, &slen, l->err)) != 0)
			return 1;
		term = pl_tix_term_of(l->x, stem, slen, false);
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

/* The number of versions visible at snapshot s and their total length: kept up to date for
 * the latest snapshot, counted for an older one. */
static void visible_stats(const pl_tindex *x, int64_t s, double *n, double *total)
{
	if (s >= x->last_change) {
		*n = (double)x->live;
		*total = (double)x->live_len;
		return;
	}
	uint64_t c = 0, len = 0;
	for (size_t d = 0; d < x->n; d++)
		if (x->begin[d] <= s && s < x->end[d]) {
			c++;
			len += x->len[d];
		}
	*n = (double)c;
	*total = (double)len;
}

/* The number of versions of a term's postings visible at snapshot s. */
static uint32_t visible_df(const pl_tindex *x, const postings *p, int64_t s)
{
	if (s >= x->last_change && x->live == x->n)
		return p->n;
	uint32_t c = 0;
	for (uint32_t i = 0; i < p->n; i++) {
		uint32_t d = p->docs[i];
		c += x->begin[d] <= s && s < x->end[d];
	}
	return c;
}

/* ---- BM25 top k by MaxScore ---- */

/* Document at a time over the query terms' postings (each sorted by version), skipping what
 * cannot reach the top k: every term's contribution is below idf x (k1 + 1), so once the heap is
 * full, the terms whose bounds add up to less than its worst score (the non-essential ones)
 * cannot bring a version in alone; only versions of the other terms are candidates, and a
 * candidate's non-essential terms are looked up (galloping) only while its bound can still beat
 * the heap. A candidate's score is the sum of its terms' contributions in term order, as the
 * term-at-a-time ranking adds them (the same floats, so the same scores and ties). Bounds are
 * compared with a margin above float rounding. */
#define MAXSCORE_TERMS 32
#define MAXSCORE_MAX_K 1000
#define BOUND_MARGIN 1.0001

typedef struct cursor {
	const postings *p;
	uint32_t i;     /* the next posting */
	uint32_t order; /* the term's place in term order */
	float num;      /* idf x (k1 + 1): the bound of one contribution */
} cursor;

static int cmp_cursor_bound(const void *a, const void *b)
{
	const cursor *x = a, *y = b;
	return x->num < y->num ? -1 : x->num > y->num ? 1 : (x->order > y->order) - (x->order < y->order);
}

/* The first posting at or after i whose version is >= d. */
static uint32_t seek(const postings *p, uint32_t i, uint32_t d)
{
	if (i >= p->n || p->docs[i] >= d)
		return i;
	uint32_t lo = i, step = 1; /* docs[lo] < d */
	while (lo + step < p->n && p->docs[lo + step] < d) {
		lo += step;
		step *= 2;
	}
	uint32_t hi = lo + step < p->n ? lo + step : p->n;
	lo++;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (p->docs[mid] < d)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* BM25's contribution of one posting, as the term-at-a-time ranking computes it. */
static inline float contribution(const pl_tindex *x, float num, float ka, float kb, uint16_t tfs, uint32_t d)
{
	float tf = tfs;
	return num * tf / (tf + ka + kb * (float)x->len[d]);
}

/* The number of non-essential terms (the smallest bounds, c sorted by bound) for threshold t. */
static size_t non_essential(const double *prefix, size_t nt, double t)
{
	size_t ne = 0;
	while (ne < nt && prefix[ne] * BOUND_MARGIN < t)
		ne++;
	return ne;
}

static void maxscore(const pl_tindex *x, const pl_tquery *q, cursor *c, size_t nt, float ka, float kb, heap *hp)
{
	qsort(c, nt, sizeof(*c), cmp_cursor_bound);
	double prefix[MAXSCORE_TERMS]; /* prefix[i]: the bounds of c[0..i] */
	for (size_t i = 0; i < nt; i++)
		prefix[i] = (i ? prefix[i - 1] : 0.0) + c[i].num;
	float contrib[MAXSCORE_TERMS];
	bool has[MAXSCORE_TERMS];
	size_t ne = 0;
	double theta = 0;
	for (;;) {
		uint32_t d = UINT32_MAX;
		for (size_t j = ne; j < nt; j++)
			if (c[j].i < c[j].p->n && c[j].p->docs[c[j].i] < d)
				d = c[j].p->docs[c[j].i];
		if (d == UINT32_MAX)
			break;
		memset(has, 0, nt * sizeof(bool));
		double partial = 0;
		for (size_t j = ne; j < nt; j++)
			if (c[j].i < c[j].p->n && c[j].p->docs[c[j].i] == d) {
				float v = contribution(x, c[j].num, ka, kb, c[j].p->tfs[c[j].i], d);
				contrib[c[j].order] = v;
				has[c[j].order] = true;
				partial += v;
				c[j].i++;
			}
		bool full = hp->n == hp->k;
		bool out = false;
		for (size_t j = ne; j-- > 0 && !out;) { /* non-essential terms, largest bound first */
			if (full && (partial + prefix[j]) * BOUND_MARGIN < theta) {
				out = true;
				break;
			}
			c[j].i = seek(c[j].p, c[j].i, d);
			if (c[j].i < c[j].p->n && c[j].p->docs[c[j].i] == d) {
				float v = contribution(x, c[j].num, ka, kb, c[j].p->tfs[c[j].i], d);
				contrib[c[j].order] = v;
				has[c[j].order] = true;
				partial += v;
			}
		}
		if (out)
			continue;
		float sc = 0.0f;
		for (size_t o = 0; o < nt; o++)
			if (has[o])
				sc += contrib[o];
		pl_thit cand = {d, sc};
		if (full && !better(&cand, &hp->h[0]))
			continue;
		if (!eligible(x, q, d))
			continue;
		heap_push(hp, d, cand.score);
		if (hp->n == hp->k) {
			theta = hp->h[0].score;
			ne = non_essential(prefix, nt, theta);
			if (ne == nt)
				break; /* no term set left can beat the heap */
		}
	}
}

/* BM25 ranking with the statistics of the searched snapshot (its visible versions, their
 * lengths, and each term's visible versions). Scores accumulate in x->bm25_scores, which the
 * caller clears with clear_bm25 once it has read them (*touched: the versions scored). */
static int rank_bm25(pl_tindex *x, const pl_tquery *q, size_t k, pl_thit *out, size_t *nout, uint32_t **touched_out,
		     size_t *ntouched_out, pl_err *err)
{
	*nout = 0;
	*touched_out = NULL;
	*ntouched_out = 0;
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
		qsort(terms, nterms, sizeof(*terms), pl_tix_cmp_u32);
	size_t u = 0;
	for (size_t i = 0; i < nterms; i++)
		if (u == 0 || terms[u - 1] != terms[i])
			terms[u++] = terms[i];
	nterms = u;
	if (nterms == 0 || x->n == 0) {
		free(terms);
		return 0;
	}
	if (x->bm25_cap < x->n) {
		size_t cap = x->n + x->n / 4 + 1024;
		float *sc = realloc(x->bm25_scores, cap * sizeof(float));
		if (!sc) {
			free(terms);
			return pl_err_nomem(err);
		}
		memset(sc + x->bm25_cap, 0, (cap - x->bm25_cap) * sizeof(float));
		x->bm25_scores = sc;
		x->bm25_cap = cap;
	}
	float *scores = x->bm25_scores;
	uint32_t *touched = NULL;
	size_t ntouched = 0, cap = 0;
	const int64_t s = q->snapshot;
	double nvis = 0, total = 0;
	visible_stats(x, s, &nvis, &total);
	double avgdl = nvis > 0 ? total / nvis : 1.0;
	if (avgdl <= 0)
		avgdl = 1.0;
	float kb = BM25_K1 * BM25_B / (float)avgdl, ka = BM25_K1 * (1.0f - BM25_B);
	if (k <= MAXSCORE_MAX_K && nterms <= MAXSCORE_TERMS) {
		cursor c[MAXSCORE_TERMS];
		size_t nc = 0;
		for (size_t t = 0; t < nterms; t++) {
			const postings *p = &x->terms[terms[t]];
			uint32_t df = p->n ? visible_df(x, p, s) : 0;
			if (df == 0)
				continue;
			float idf = (float)log(1.0 + (nvis - df + 0.5) / (df + 0.5));
			c[nc] = (cursor){p, 0, (uint32_t)nc, idf * (BM25_K1 + 1.0f)};
			nc++;
		}
		heap hp = {out, 0, k};
		if (nc)
			maxscore(x, q, c, nc, ka, kb, &hp);
		qsort(out, hp.n, sizeof(*out), cmp_hit);
		*nout = hp.n;
		/* the scores of the versions found, for the hybrid fusion (as the other way leaves them) */
		if (hp.n && !(touched = malloc(hp.n * sizeof(*touched)))) {
			free(terms);
			return pl_err_nomem(err);
		}
		for (size_t i = 0; i < hp.n; i++) {
			touched[i] = out[i].doc;
			scores[out[i].doc] = (float)out[i].score;
		}
		*touched_out = touched;
		*ntouched_out = hp.n;
		free(terms);
		return 0;
	}
	for (size_t t = 0; rc == 0 && t < nterms; t++) {
		const postings *p = &x->terms[terms[t]];
		uint32_t df = p->n ? visible_df(x, p, s) : 0;
		if (df == 0)
			continue;
		float idf = (float)log(1.0 + (nvis - df + 0.5) / (df + 0.5));
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
		const float num = idf * (BM25_K1 + 1.0f);
		for (uint32_t i = 0; i < p->n; i++) {
			uint32_t d = p->docs[i];
			float tf = p->tfs[i];
			if (scores[d] == 0.0f)
				touched[ntouched++] = d;
			scores[d] += num * tf / (tf + ka + kb * (float)x->len[d]);
		}
	}
	if (rc == 0) {
		/* a version that could not enter the full heap is not looked up: the snapshot test
		 * reads two arrays at random places, the score is already at hand */
		heap hp = {out, 0, k};
		for (size_t i = 0; i < ntouched; i++) {
			uint32_t d = touched[i];
			pl_thit c = {d, scores[d]};
			if (hp.n == hp.k && !better(&c, &hp.h[0]))
				continue;
			if (eligible(x, q, d))
				heap_push(&hp, d, c.score);
		}
		qsort(out, hp.n, sizeof(*out), cmp_hit);
		*nout = hp.n;
	}
	*touched_out = touched;
	*ntouched_out = ntouched;
	free(terms);
	return rc;
}

static void clear_bm25(pl_tindex *x, uint32_t *touched, size_t n)
{
	for (size_t i = 0; i < n; i++)
		x->bm25_scores[touched[i]] = 0.0f;
	free(touched);
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
	int64_t term = pl_tix_term_of(x, stem, slen, false);
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
	pl_tix_quantize(v, x->dim, out);
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
	pl_tix_sign_bits(qv, x->dim, qs);
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

/* Fusion into the best k of BM25's candidates a (and, when BM25 found fewer than k, the vector
 * ranking's b): bm25 / best bm25 + w x cosine (see index_internal.h). Scores, not ranks, are
 * combined: when BM25 is sure (one document far ahead) it stays ahead, and the vector side
 * reorders the close calls. */
static size_t fuse(const pl_tindex *x, const pl_thit *a, size_t na, const pl_thit *b, size_t nb, const float *bm25,
		   const int8_t *qv, size_t k, pl_thit *out)
{
	size_t n = 0;
	double bmax = na ? a[0].score : 0, cmax = nb ? b[0].score : 0;
	for (size_t i = 0; nb == 0 && i < na; i++) { /* BM25's candidates only: their best cosine */
		double c = cosine_of(x, qv, a[i].doc);
		if (c > cmax)
			cmax = c;
	}
	double gap = na > 1 && bmax > 0 ? (bmax - a[1].score) / bmax : 1.0;
	double w = HYBRID_W0 + HYBRID_W1 * (1.0 - gap);
	for (size_t i = 0; i < na; i++)
		out[n++] = (pl_thit){a[i].doc, 0};
	for (size_t i = 0; i < nb; i++) {
		size_t j = 0;
		while (j < na && a[j].doc != b[i].doc)
			j++;
		if (j == na)
			out[n++] = (pl_thit){b[i].doc, 0};
	}
	double floor = 0; /* the lowest score of a document with a query word */
	for (size_t i = 0; i < n; i++) {
		uint32_t d = out[i].doc;
		double bm = bm25 && bmax > 0 ? bm25[d] / bmax : 0;
		double c = cosine_of(x, qv, d);
		double cs = HYBRID_RELATIVE ? (cmax > 0 ? c / cmax : 0) : c;
		out[i].score = bm + w * (cs > 0 ? cs : 0);
		if (bm > 0 && (floor == 0 || out[i].score < floor))
			floor = out[i].score;
	}
	/* words first: a document sharing no word with the query ranks after every one that
	 * does (its score scaled below theirs), so the vector side adds to BM25's matches and
	 * never pushes one out */
	for (size_t i = 0; HYBRID_WORDS_FIRST && floor > 0 && i < n; i++) {
		double bm = bm25 && bmax > 0 ? bm25[out[i].doc] / bmax : 0;
		if (bm == 0)
			out[i].score = floor * out[i].score / (1.0 + w) * 0.999;
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
	/* BM25 first, top k only: the fusion reads BM25's best k when it found k or more, and every
	 * version it found when fewer, so BM25 need not rank deeper than k */
	size_t bm25_depth = HYBRID_BM25_FIRST && HYBRID_TOP_K_ONLY ? k : depth;
	pl_thit *a = malloc(depth * sizeof(*a)), *b = malloc(depth * sizeof(*b));
	pl_thit *out = malloc(2 * depth * sizeof(*out));
	size_t na = 0, nb = 0;
	bool have = false;
	uint32_t *touched = NULL;
	size_t ntouched = 0;
	int8_t qv[PL_EMBED_MAX_DIM];
	int rc = !a || !b || !out ? pl_err_nomem(err) : 0;
	if (rc == 0 && q->mode != PL_SEARCH_VECTOR)
		rc = rank_bm25(x, q, bm25_depth, a, &na, &touched, &ntouched, err);
	/* hybrid with enough word matches: the vector side reorders BM25's candidates (no scan of
	 * every vector); with fewer, the vector ranking brings in documents that share no word */
	bool rerank = q->mode == PL_SEARCH_HYBRID && HYBRID_BM25_FIRST && na >= k;
	if (rc == 0 && rerank) {
		rc = query_vector(x, q, qv, &have, err);
	} else if (rc == 0 && q->mode != PL_SEARCH_BM25) {
		rc = rank_vector(x, q, depth, b, &nb, &have, qv, err);
	}
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
		m = fuse(x, a, rerank && HYBRID_TOP_K_ONLY ? k : na, b, nb, ntouched ? x->bm25_scores : NULL, qv, k, out);
	} else if (rc == 0) { /* no query vector: BM25 alone, with its own scores */
		memcpy(out, a, na * sizeof(*a));
		m = na;
	}
	free(a);
	free(b);
	clear_bm25(x, touched, ntouched);
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
