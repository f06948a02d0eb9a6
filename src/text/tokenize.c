/*
 * tokenize.c -- normalization, word splitting, stop words and stemming (see tokenize.h).
 */
#include "text/tokenize.h"

#include <libstemmer.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* Longer words are cut: nothing useful is that long, and a bound keeps buffers fixed. */
#define MAX_WORD 64

/* English function words that carry no meaning for retrieval, sorted for bsearch. */
static const char *const stopwords[] = {
	"a",     "about", "after", "all",   "also",  "am",    "an",    "and",   "any",   "are",   "as",
	"at",    "be",    "been",  "but",   "by",    "can",   "could", "did",   "do",    "does",  "for",
	"from",  "had",   "has",   "have",  "he",    "her",   "his",   "how",   "i",     "if",    "in",
	"into",  "is",    "it",    "its",   "may",   "more",  "most",  "must",  "no",    "not",   "of",
	"on",    "or",    "other", "our",   "over",  "shall", "she",   "should", "so",   "some",  "such",
	"than",  "that",  "the",   "their", "them",  "then",  "there", "these", "they",  "this",  "those",
	"to",    "too",   "very",  "was",   "we",    "were",  "what",  "when",  "where", "which", "while",
	"who",   "whom",  "why",   "will",  "with",  "would", "you",   "your",
};

#define NSTOP (sizeof(stopwords) / sizeof(stopwords[0]))

struct pl_tokenizer {
	struct sb_stemmer *stemmer;
	uint64_t stops[NSTOP]; /* the stop words' bytes as integers (each fits in 8), sorted */
	char word[MAX_WORD * 4 + 8];
};

/* Up to 8 bytes of a word as one integer, zero-padded: equal integers, equal words. */
static uint64_t packed(const char *w, size_t len)
{
	uint64_t v = 0;
	memcpy(&v, w, len);
	return v;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int pl_tokenizer_new(pl_tokenizer **out, const char *language, pl_err *err)
{
	*out = NULL;
	pl_tokenizer *t = calloc(1, sizeof(*t));
	if (!t)
		return pl_err_nomem(err);
	t->stemmer = sb_stemmer_new(language ? language : "english", "UTF_8");
	if (!t->stemmer) {
		free(t);
		return pl_err_set(err, PL_EINVALID, "no stemmer for the language \"%s\"", language ? language : "english");
	}
	for (size_t i = 0; i < NSTOP; i++)
		t->stops[i] = packed(stopwords[i], strlen(stopwords[i]));
	qsort(t->stops, NSTOP, sizeof(uint64_t), cmp_u64);
	*out = t;
	return 0;
}

void pl_tokenizer_free(pl_tokenizer *t)
{
	if (!t)
		return;
	sb_stemmer_delete(t->stemmer);
	free(t);
}

static int cmp_word(const void *key, const void *elem)
{
	const char *k = key;
	return strcmp(k, *(const char *const *)elem);
}

bool pl_is_stopword(const char *word, size_t len)
{
	char buf[16];
	if (len == 0 || len > 6 || (unsigned char)word[0] >= 0x80) /* the longest stop word has 6 letters */
		return false;
	memcpy(buf, word, len);
	buf[len] = '\0';
	return bsearch(buf, stopwords, sizeof(stopwords) / sizeof(stopwords[0]), sizeof(stopwords[0]), cmp_word) !=
	       NULL;
}

int pl_stem(pl_tokenizer *t, const char *word, size_t len, const char **out, size_t *out_len, pl_err *err)
{
	const sb_symbol *s = sb_stemmer_stem(t->stemmer, (const sb_symbol *)word, (int)len);
	if (!s)
		return pl_err_nomem(err);
	*out = (const char *)s;
	*out_len = (size_t)sb_stemmer_length(t->stemmer);
	return 0;
}

/* CJK ideographs, kana and compatibility ideographs: each is a word by itself. */
static bool is_cjk(utf8proc_int32_t c)
{
	return (c >= 0x3040 && c <= 0x30FF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x4E00 && c <= 0x9FFF) ||
	       (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x20000 && c <= 0x2FA1F);
}

static bool is_word_char(utf8proc_int32_t c)
{
	switch (utf8proc_category(c)) {
	case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT: case UTF8PROC_CATEGORY_LM:
	case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
	case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC:
		return true;
	default:
		return false;
	}
}

/* pl_is_stopword by integer comparisons (every word of every document passes here). */
static bool stop(const pl_tokenizer *t, const char *w, size_t n)
{
	if (n > 6 || (unsigned char)w[0] >= 0x80) /* the longest stop word has 6 letters */
		return false;
	uint64_t v = packed(w, n);
	size_t lo = 0, hi = NSTOP;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->stops[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < NSTOP && t->stops[lo] == v;
}

static int emit(pl_tokenizer *t, const char *w, size_t n, pl_word_fn fn, void *arg)
{
	if (n == 0 || stop(t, w, n))
		return 0;
	return fn(w, n, arg);
}

/* ASCII only: lower-cased words of letters and digits. */
static int split_ascii(pl_tokenizer *t, const char *s, size_t len, pl_word_fn fn, void *arg)
{
	size_t n = 0;
	for (size_t i = 0; i <= len; i++) {
		unsigned char c = i < len ? (unsigned char)s[i] : 0;
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
		if (alnum) {
			if (n < MAX_WORD)
				t->word[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
			continue;
		}
		int rc = emit(t, t->word, n, fn, arg);
		n = 0;
		if (rc)
			return rc;
	}
	return 0;
}

/* Normalized UTF-8 (valid): words by Unicode category. */
static int split_unicode(pl_tokenizer *t, const uint8_t *s, size_t len, pl_word_fn fn, void *arg)
{
	size_t n = 0, chars = 0;
	utf8proc_ssize_t i = 0;
	while ((size_t)i < len) {
		utf8proc_int32_t c;
		utf8proc_ssize_t k = utf8proc_iterate(s + i, (utf8proc_ssize_t)len - i, &c);
		if (k <= 0) {
			k = 1;
			c = -1;
		}
		bool cjk = c >= 0 && is_cjk(c);
		if (c >= 0 && !cjk && is_word_char(c)) {
			if (chars < MAX_WORD) {
				memcpy(t->word + n, s + i, (size_t)k);
				n += (size_t)k;
				chars++;
			}
		} else {
			int rc = emit(t, t->word, n, fn, arg);
			n = chars = 0;
			if (rc == 0 && cjk)
				rc = fn((const char *)s + i, (size_t)k, arg);
			if (rc)
				return rc;
		}
		i += k;
	}
	return emit(t, t->word, n, fn, arg);
}

int pl_tokenize(pl_tokenizer *t, const char *text, size_t len, pl_word_fn fn, void *arg, pl_err *err)
{
	bool ascii = true;
	for (size_t i = 0; i < len && ascii; i++)
		ascii = (unsigned char)text[i] < 0x80;
	if (ascii)
		return split_ascii(t, text, len, fn, arg);
	utf8proc_uint8_t *norm = NULL;
	utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)text, (utf8proc_ssize_t)len, &norm,
					  UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |
						  UTF8PROC_STRIPMARK | UTF8PROC_IGNORE);
	if (n == UTF8PROC_ERROR_NOMEM)
		return pl_err_nomem(err);
	if (n < 0) /* not valid UTF-8: its bytes are read as they are, bad ones separating words */
		return split_unicode(t, (const uint8_t *)text, len, fn, arg);
	int rc = split_unicode(t, norm, (size_t)n, fn, arg);
	free(norm);
	return rc;
}
