/*
 * embed.h -- embedders: the built-in one (feature hashing, no model files) and those a program
 * registers through planar_register_embedder() (include/planar/embed.h). Vectors are compared
 * by cosine similarity, so every vector is L2-normalized before use.
 *
 * The built-in embedder maps a text to PL_EMBED_DIM floats: each word adds its stem (weight 1)
 * and the character trigrams of the word with boundary marks ("^ne", "net", ..., "rk$"; weight
 * 1.5 spread over them: trigrams match a word's other forms and near spellings) at dimensions
 * chosen by a hash, with a sign chosen by another bit of the
 * hash (so unrelated features cancel out on average instead of piling up), scaled by
 * 1 + log(term frequency); the sum is L2-normalized.
 */
#ifndef PL_TEXT_EMBED_H
#define PL_TEXT_EMBED_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "text/tokenize.h"

#define PL_EMBED_DIM 256
#define PL_EMBED_MAX_DIM 4096
#define PL_EMBED_MAX_FEATURES 48

/* One hashed feature: a dimension and a signed weight. */
typedef struct pl_embed_feature {
	uint16_t dim;
	float w;
} pl_embed_feature;

/* The built-in features of one normalized word and its stem; returns how many (at most
 * PL_EMBED_MAX_FEATURES). */
size_t pl_embed_word_features(const char *word, size_t len, const char *stem, size_t slen, pl_embed_feature *out);

/* The built-in embedding of a text (PL_EMBED_DIM floats, L2-normalized; all zero for a text
 * without words). */
int pl_embed_builtin(pl_tokenizer *tok, const char *text, size_t len, float *out, pl_err *err);

/* A registered embedder (name "builtin" is the built-in one, found without registering). */
typedef struct pl_embedder {
	char name[64];
	size_t dim;
	int (*fn)(void *user, const char *text, size_t len, float *out);
	void *user;
} pl_embedder;

/* The embedder registered as name (PL_ENOTFOUND naming it when there is none). */
int pl_embedder_find(const char *name, pl_embedder *out, pl_err *err);
/* Runs a registered (not built-in) embedder on text, L2-normalizing its vector. */
int pl_embedder_run(const pl_embedder *e, const char *text, size_t len, float *out, pl_err *err);

/* Scales v (n floats) to unit length; false when it is all zero (or not finite). */
int pl_vec_normalize(float *v, size_t n);

#endif
