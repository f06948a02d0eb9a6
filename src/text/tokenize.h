/*
 * tokenize.h -- turning text into search terms: Unicode normalization (NFKC, case folding,
 * accents stripped, through utf8proc), words split at anything that is not a letter, digit or
 * combining mark (each CJK ideograph or kana is a word of its own), English stop words dropped,
 * and Snowball stemming (libstemmer). One tokenizer is used by one thread at a time.
 */
#ifndef PL_TEXT_TOKENIZE_H
#define PL_TEXT_TOKENIZE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

typedef struct pl_tokenizer pl_tokenizer;

/* language: a Snowball algorithm name ("english", "french", ...); NULL means "english". */
int pl_tokenizer_new(pl_tokenizer **out, const char *language, pl_err *err);
void pl_tokenizer_free(pl_tokenizer *t);

/* Called for each word of a text in order: the normalized (case-folded, unaccented) word, not
 * NUL-terminated. A nonzero return stops and is returned by pl_tokenize. */
typedef int (*pl_word_fn)(const char *word, size_t len, void *arg);

/* Splits text (len bytes of UTF-8; invalid sequences separate words) into normalized words,
 * stop words left out. */
int pl_tokenize(pl_tokenizer *t, const char *text, size_t len, pl_word_fn fn, void *arg, pl_err *err);

/* The stem of a normalized word: *out points into the tokenizer (valid until its next call). */
int pl_stem(pl_tokenizer *t, const char *word, size_t len, const char **out, size_t *out_len, pl_err *err);

/* Whether a normalized word is a stop word. */
bool pl_is_stopword(const char *word, size_t len);

#endif
