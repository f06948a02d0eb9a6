/*
 * embed.c -- the built-in hashing embedder and the registry of plugged embedders (embed.h).
 */
#include "text/embed.h"

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "planar/embed.h"

/* 64-bit FNV-1a of a tag byte and the bytes: the dimension comes from its low bits, the sign
 * from a high bit. */
static uint64_t feature_hash(char tag, const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	h = (h ^ (uint8_t)tag) * 1099511628211ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 1099511628211ULL;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return h;
}

static void add_feature(pl_embed_feature *out, size_t *n, uint64_t h, float w)
{
	if (*n >= PL_EMBED_MAX_FEATURES)
		return;
	out[*n].dim = (uint16_t)(h % PL_EMBED_DIM);
	out[*n].w = (h >> 63) ? -w : w;
	(*n)++;
}

/* Byte length of the UTF-8 character starting with byte c (1 for stray bytes). */
static size_t char_len(unsigned char c)
{
	return c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
}

size_t pl_embed_word_features(const char *word, size_t len, const char *stem, size_t slen, pl_embed_feature *out)
{
	size_t n = 0;
	add_feature(out, &n, feature_hash('w', stem, slen), 1.0f);
	/* character offsets of "^word$" */
	size_t starts[72], nchars = 0;
	char buf[4 + 64 * 4 + 4];
	if (len > 64 * 4)
		len = 64 * 4;
	buf[0] = '^';
	memcpy(buf + 1, word, len);
	buf[1 + len] = '$';
	size_t total = len + 2;
	for (size_t i = 0; i < total && nchars < 70; i += char_len((unsigned char)buf[i]))
		starts[nchars++] = i;
	starts[nchars] = total;
	if (nchars < 3)
		return n;
	size_t ngrams = nchars - 2;
	float w = 1.5f / sqrtf((float)ngrams);
	for (size_t g = 0; g < ngrams; g++)
		add_feature(out, &n, feature_hash('t', buf + starts[g], starts[g + 3] - starts[g]), w);
	return n;
}

int pl_vec_normalize(float *v, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += (double)v[i] * v[i];
	if (!(s > 0) || !isfinite(s))
		return false;
	float k = (float)(1.0 / sqrt(s));
	for (size_t i = 0; i < n; i++)
		v[i] *= k;
	return true;
}

/* Words of a text with their counts, for the built-in embedding. */
typedef struct bag {
	pl_tokenizer *tok;
	char **words;
	size_t *lens;
	unsigned *counts;
	size_t n, cap;
	bool oom;
} bag;

static int bag_add(const char *w, size_t len, void *arg)
{
	bag *b = arg;
	for (size_t i = 0; i < b->n; i++)
		if (b->lens[i] == len && memcmp(b->words[i], w, len) == 0) {
			b->counts[i]++;
			return 0;
		}
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 32;
		char **words = realloc(b->words, cap * sizeof(*words));
		if (words)
			b->words = words;
		size_t *lens = realloc(b->lens, cap * sizeof(*lens));
		if (lens)
			b->lens = lens;
		unsigned *counts = realloc(b->counts, cap * sizeof(*counts));
		if (counts)
			b->counts = counts;
		if (!words || !lens || !counts)
			return b->oom = true, 1;
		b->cap = cap;
	}
	if (!(b->words[b->n] = malloc(len ? len : 1)))
		return b->oom = true, 1;
	memcpy(b->words[b->n], w, len);
	b->lens[b->n] = len;
	b->counts[b->n++] = 1;
	return 0;
}

int pl_embed_builtin(pl_tokenizer *tok, const char *text, size_t len, float *out, pl_err *err)
{
	memset(out, 0, PL_EMBED_DIM * sizeof(float));
	bag b = {.tok = tok};
	int rc = pl_tokenize(tok, text, len, bag_add, &b, err);
	if (b.oom)
		rc = pl_err_nomem(err);
	for (size_t i = 0; rc == 0 && i < b.n; i++) {
		const char *stem;
		size_t slen;
		rc = pl_stem(tok, b.words[i], b.lens[i], &stem, &slen, err);
		if (rc)
			break;
		pl_embed_feature f[PL_EMBED_MAX_FEATURES];
		size_t nf = pl_embed_word_features(b.words[i], b.lens[i], stem, slen, f);
		float scale = 1.0f + logf((float)b.counts[i]);
		for (size_t k = 0; k < nf; k++)
			out[f[k].dim] += f[k].w * scale;
	}
	for (size_t i = 0; i < b.n; i++)
		free(b.words[i]);
	free(b.words);
	free(b.lens);
	free(b.counts);
	if (rc == 0)
		pl_vec_normalize(out, PL_EMBED_DIM);
	return rc;
}

/* ---- the registry ---- */

#define MAX_EMBEDDERS 16

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static pl_embedder registry[MAX_EMBEDDERS];
static size_t nregistry;

int planar_register_embedder(const char *name, size_t dim, planar_embed_fn fn, void *user)
{
	if (!name || !*name || strlen(name) >= sizeof(registry[0].name) || strcmp(name, "builtin") == 0 || !fn ||
	    dim == 0 || dim > PL_EMBED_MAX_DIM)
		return PLANAR_EINVALID;
	pthread_mutex_lock(&registry_lock);
	size_t i = 0;
	while (i < nregistry && strcmp(registry[i].name, name) != 0)
		i++;
	int rc = PLANAR_OK;
	if (i == MAX_EMBEDDERS) {
		rc = PLANAR_EINVALID;
	} else {
		if (i == nregistry)
			nregistry++;
		strcpy(registry[i].name, name);
		registry[i].dim = dim;
		registry[i].fn = fn;
		registry[i].user = user;
	}
	pthread_mutex_unlock(&registry_lock);
	return rc;
}

int pl_embedder_find(const char *name, pl_embedder *out, pl_err *err)
{
	memset(out, 0, sizeof(*out));
	if (strcmp(name, "builtin") == 0) {
		strcpy(out->name, "builtin");
		out->dim = PL_EMBED_DIM;
		return 0;
	}
	pthread_mutex_lock(&registry_lock);
	bool found = false;
	for (size_t i = 0; i < nregistry && !found; i++)
		if (strcmp(registry[i].name, name) == 0) {
			*out = registry[i];
			found = true;
		}
	pthread_mutex_unlock(&registry_lock);
	return found ? 0
		     : pl_err_set(err, PL_ENOTFOUND,
				  "no embedder named \"%s\" is registered in this process (planar_register_embedder)", name);
}

int pl_embedder_run(const pl_embedder *e, const char *text, size_t len, float *out, pl_err *err)
{
	if (e->fn(e->user, text, len, out) != 0)
		return pl_err_set(err, PL_ERROR, "the embedder \"%s\" failed on a text of %zu bytes", e->name, len);
	pl_vec_normalize(out, e->dim);
	return 0;
}
