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

#include "text/index_internal.h"

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
	x->last_change = -1;
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
	free(x->bm25_scores);
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
int64_t pl_tix_term_of(pl_tindex *x, const char *stem, size_t slen, bool add)
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
int64_t pl_tix_word_of(pl_tindex *x, const char *w, size_t n, bool add, pl_err *err)
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
	int64_t term = pl_tix_term_of(x, stem, slen, true);
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
	int64_t e = pl_tix_word_of(l->x, w, n, l->add, l->err);
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

int pl_tix_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Sorts a document's word list: insertion sort for the usual short one, Shell sort (Ciura's
 * gaps) for a longer one, qsort past a few thousand words. */
static void sort_u32(uint32_t *v, size_t n)
{
	static const size_t gaps[] = {701, 301, 132, 57, 23, 10, 4, 1};
	if (n > 4096) {
		qsort(v, n, sizeof(*v), pl_tix_cmp_u32);
		return;
	}
	for (size_t g = n > 48 ? 0 : 7; g < sizeof(gaps) / sizeof(gaps[0]); g++) {
		size_t gap = gaps[g];
		for (size_t i = gap; i < n; i++) {
			uint32_t k = v[i];
			size_t j = i;
			for (; j >= gap && v[j - gap] > k; j -= gap)
				v[j] = v[j - gap];
			v[j] = k;
		}
	}
}

int pl_tix_grow_versions(pl_tindex *x, pl_err *err)
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

void pl_tix_quantize(const float *v, size_t dim, int8_t *out)
{
	for (size_t i = 0; i < dim; i++) {
		float q = v[i] * 127.0f;
		out[i] = (int8_t)(q > 127.0f ? 127 : q < -127.0f ? -127 : lrintf(q));
	}
}

/* Bit i set where component i is positive. */
void pl_tix_sign_bits(const int8_t *v, size_t dim, uint64_t *out)
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
	int rc = pl_tix_grow_versions(x, err);
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
		sort_u32(l.w, l.n);
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
			pl_tix_quantize(v, x->dim, x->vecs + (size_t)doc * x->dim);
			pl_tix_sign_bits(x->vecs + (size_t)doc * x->dim, x->dim, x->signs + (size_t)doc * x->swords);
		} else if (x->vecs) {
			memset(x->vecs + (size_t)doc * x->dim, 0, x->dim);
			memset(x->signs + (size_t)doc * x->swords, 0, x->swords * sizeof(uint64_t));
		}
	}
	/* postings: one per distinct term (different words may share a stem: the words are
	 * sorted, and a term's posting for doc is the last of its list once added); on failure
	 * the postings already added for doc are taken back */
	uint32_t *terms = NULL;
	if (rc == 0 && l.n && !(terms = malloc(l.n * sizeof(*terms))))
		rc = pl_err_nomem(err);
	size_t added = 0;
	for (size_t i = 0; rc == 0 && i < l.n;) {
		size_t j = i;
		while (j < l.n && l.w[j] == l.w[i])
			j++;
		uint32_t term = x->words[l.w[i]].term, tf = (uint32_t)(j - i);
		postings *p = &x->terms[term];
		if (p->n && p->docs[p->n - 1] == doc) {
			uint32_t sum = p->tfs[p->n - 1] + tf;
			p->tfs[p->n - 1] = (uint16_t)(sum > UINT16_MAX ? UINT16_MAX : sum);
		} else if ((rc = add_posting(x, term, doc, tf, err)) == 0) {
			terms[added++] = term;
		}
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
		x->live_len -= x->len[prev];
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
	x->live_len += l.n;
	if (d->begin > x->last_change)
		x->last_change = d->begin;
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
		x->live_len -= x->len[doc];
		if (end > x->last_change)
			x->last_change = end;
	}
}
