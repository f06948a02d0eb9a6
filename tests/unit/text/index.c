/*
 * tests/unit/text/index.c -- cmocka tests of the text layer: the tokenizer (Unicode
 * normalization, word splitting, stop words, stemming), the built-in embedder (deterministic,
 * unit length, related words closer than unrelated ones), the registry of plugged embedders,
 * and the in-memory index (BM25 order, versions by snapshot, deletes and replacements, allowed
 * sets, vector and hybrid rankings, client vectors and their errors, hostile text).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "planar/embed.h"
#include "text/embed.h"
#include "text/index.h"
#include "text/tokenize.h"

typedef struct words {
	char buf[1024];
	size_t len;
} words;

static int join(const char *w, size_t n, void *arg)
{
	words *o = arg;
	o->len += (size_t)snprintf(o->buf + o->len, sizeof(o->buf) - o->len, "%s%.*s", o->len ? " " : "", (int)n, w);
	return 0;
}

static void tokenize(pl_tokenizer *t, const char *s, char *out)
{
	words o = {{0}, 0};
	pl_err err = {0};
	assert_int_equal(pl_tokenize(t, s, strlen(s), join, &o, &err), 0);
	strcpy(out, o.buf);
}

static void text__tokenizer_normalizes_and_splits(void **state)
{
	(void)state;
	pl_tokenizer *t = NULL;
	pl_err err = {0};
	assert_int_equal(pl_tokenizer_new(&t, NULL, &err), 0);
	char out[1024];
	tokenize(t, "The Quick-brown FOX, and the dog's 42 bones!", out);
	assert_string_equal(out, "quick brown fox dog s 42 bones");
	tokenize(t, "Crème BRÛLÉE à la Straße", out);
	assert_string_equal(out, "creme brulee la strasse");
	tokenize(t, "ｆｕｌｌ－ｗｉｄｔｈ", out); /* compatibility forms fold to ASCII */
	assert_string_equal(out, "full width");
	tokenize(t, "東京タワー tokyo", out); /* each ideograph / kana is a word */
	assert_string_equal(out, "東 京 タ ワ ー tokyo");
	tokenize(t, "", out);
	assert_string_equal(out, "");
	/* invalid UTF-8: its bytes separate words, nothing is read past the end */
	const char bad[] = {'a', 'b', (char)0xff, (char)0xc3, 'c', 'd', (char)0xe2, (char)0x82};
	words o = {{0}, 0};
	assert_int_equal(pl_tokenize(t, bad, sizeof(bad), join, &o, &err), 0);
	assert_string_equal(o.buf, "ab cd");
	/* an overlong word is cut, not overflowed */
	char longw[4000];
	memset(longw, 'x', sizeof(longw) - 1);
	longw[sizeof(longw) - 1] = '\0';
	tokenize(t, longw, out);
	assert_int_equal(strlen(out), 64);
	pl_tokenizer_free(t);
	assert_int_equal(pl_tokenizer_new(&t, "klingon", &err), PL_EINVALID);
}

static void text__stemming_and_stop_words(void **state)
{
	(void)state;
	pl_tokenizer *t = NULL;
	pl_err err = {0};
	assert_int_equal(pl_tokenizer_new(&t, "english", &err), 0);
	const char *s;
	size_t n;
	assert_int_equal(pl_stem(t, "running", 7, &s, &n, &err), 0);
	assert_int_equal((int)n, 3);
	assert_memory_equal(s, "run", 3);
	assert_int_equal(pl_stem(t, "libraries", 9, &s, &n, &err), 0);
	assert_memory_equal(s, "librari", n);
	assert_true(pl_is_stopword("the", 3));
	assert_true(pl_is_stopword("with", 4));
	assert_false(pl_is_stopword("network", 7));
	assert_false(pl_is_stopword("", 0));
	/* the tokenizer drops exactly the stop words (after normalization), not their prefixes or extensions */
	char out[1024];
	tokenize(t, "A the About should your I which Whom", out);
	assert_string_equal(out, "");
	tokenize(t, "th thee abou shoulds yours ii whic who2 aé théir", out);
	assert_string_equal(out, "th thee abou shoulds yours ii whic who2 ae");
	static const char *const words[] = {"a", "about", "should", "your", "which", "the", "yo", "shoul", "x"};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		tokenize(t, words[i], out);
		assert_int_equal(out[0] == '\0', pl_is_stopword(words[i], strlen(words[i])));
	}
	pl_tokenizer_free(t);
}

static double cosine(const float *a, const float *b, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += (double)a[i] * b[i];
	return s;
}

static void text__builtin_embedder(void **state)
{
	(void)state;
	pl_tokenizer *t = NULL;
	pl_err err = {0};
	assert_int_equal(pl_tokenizer_new(&t, NULL, &err), 0);
	float a[PL_EMBED_DIM], b[PL_EMBED_DIM], c[PL_EMBED_DIM], d[PL_EMBED_DIM], z[PL_EMBED_DIM];
	assert_int_equal(pl_embed_builtin(t, "network routing daemon", 22, a, &err), 0);
	assert_int_equal(pl_embed_builtin(t, "networks and routers", 20, b, &err), 0);
	assert_int_equal(pl_embed_builtin(t, "chocolate cake recipe", 21, c, &err), 0);
	assert_int_equal(pl_embed_builtin(t, "network routing daemon", 22, d, &err), 0);
	assert_memory_equal(a, d, sizeof(a)); /* deterministic */
	assert_true(fabs(cosine(a, a, PL_EMBED_DIM) - 1.0) < 1e-5);
	assert_true(cosine(a, b, PL_EMBED_DIM) > cosine(a, c, PL_EMBED_DIM) + 0.2);
	assert_int_equal(pl_embed_builtin(t, "the and of", 10, z, &err), 0); /* no words: zero */
	for (size_t i = 0; i < PL_EMBED_DIM; i++)
		assert_true(z[i] == 0.0f);
	pl_tokenizer_free(t);
}

static int fake_embed(void *user, const char *text, size_t len, float *out)
{
	(void)text;
	int *calls = user;
	(*calls)++;
	if (len >= 5 && memcmp(text, "FAIL!", 5) == 0)
		return -1;
	out[0] = (float)len;
	out[1] = 1.0f;
	return 0;
}

static void text__plugged_embedder(void **state)
{
	(void)state;
	int calls = 0;
	assert_int_equal(planar_register_embedder("builtin", 2, fake_embed, &calls), PLANAR_EINVALID);
	assert_int_equal(planar_register_embedder("", 2, fake_embed, &calls), PLANAR_EINVALID);
	assert_int_equal(planar_register_embedder("fake", 0, fake_embed, &calls), PLANAR_EINVALID);
	assert_int_equal(planar_register_embedder("fake", 2, fake_embed, &calls), PLANAR_OK);
	pl_embedder e;
	pl_err err = {0};
	assert_int_equal(pl_embedder_find("fake", &e, &err), 0);
	assert_int_equal((int)e.dim, 2);
	assert_int_equal(pl_embedder_find("nope", &e, &err), PL_ENOTFOUND);
	assert_non_null(strstr(err.msg, "nope"));
	pl_tindex *x = NULL;
	assert_int_equal(pl_tindex_new(&x, "fake", false, &err), 0);
	pl_tdoc d1 = {1, 1, "a", "short", NULL, NULL, 0}, d2 = {2, 1, "b", "a much longer text here", NULL, NULL, 0};
	assert_int_equal(pl_tindex_add(x, &d1, &err), 0);
	assert_int_equal(pl_tindex_add(x, &d2, &err), 0);
	assert_int_equal(calls, 2);
	pl_tquery q = {"xxxxx", NULL, 0, PL_SEARCH_VECTOR, 1, 1, NULL};
	pl_thit *hits = NULL;
	size_t n = 0;
	assert_int_equal(pl_tindex_search(x, &q, &hits, &n, &err), 0);
	assert_int_equal((int)n, 1);
	assert_string_equal(pl_tindex_id(x, hits[0].doc), "a"); /* length 5 is closest to 5 */
	free(hits);
	pl_tdoc bad = {3, 1, "c", "FAIL! now", NULL, NULL, 0};
	assert_int_not_equal(pl_tindex_add(x, &bad, &err), 0);
	assert_non_null(strstr(err.msg, "fake"));
	assert_int_equal((int)pl_tindex_live(x), 2);
	/* the failed document left no postings behind for the next one to inherit */
	pl_tdoc d3 = {4, 1, "d", "other words", NULL, NULL, 0};
	assert_int_equal(pl_tindex_add(x, &d3, &err), 0);
	pl_tquery qb = {"now", NULL, 0, PL_SEARCH_BM25, 5, 1, NULL};
	assert_int_equal(pl_tindex_search(x, &qb, &hits, &n, &err), 0);
	assert_int_equal((int)n, 0);
	free(hits);
	pl_tindex_free(x);
	assert_int_equal(pl_tindex_new(&x, "nope", false, &err), PL_ENOTFOUND);
}

static pl_tindex *corpus(void)
{
	static const char *const texts[] = {
		"Networking tools to configure network interfaces and routes",
		"A highly configurable text editor",
		"The GNU C compiler and runtime libraries",
		"Internet routing daemon for routers speaking BGP",
		"Small friendly text editor for the terminal, a text editor indeed",
	};
	pl_tindex *x = NULL;
	pl_err err = {0};
	assert_int_equal(pl_tindex_new(&x, "builtin", false, &err), 0);
	for (int i = 0; i < 5; i++) {
		char id[8];
		snprintf(id, sizeof(id), "%d", i + 1);
		pl_tdoc d = {i, 2, id, texts[i], "{}", NULL, 0};
		assert_int_equal(pl_tindex_add(x, &d, &err), 0);
	}
	return x;
}

static void search(pl_tindex *x, const char *text, pl_search_mode mode, int64_t snap, const uint8_t *allowed,
		   char *out)
{
	pl_tquery q = {text, NULL, 0, mode, 10, snap, allowed};
	pl_thit *hits = NULL;
	size_t n = 0;
	pl_err err = {0};
	assert_int_equal(pl_tindex_search(x, &q, &hits, &n, &err), 0);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		strcat(out, i ? "," : "");
		strcat(out, pl_tindex_id(x, hits[i].doc));
		if (i)
			assert_true(hits[i - 1].score >= hits[i].score);
	}
	free(hits);
}

static void text__bm25_ranks_and_versions(void **state)
{
	(void)state;
	pl_tindex *x = corpus();
	char out[256];
	/* term frequency wins: document 5 says "editor" twice */
	search(x, "editors", PL_SEARCH_BM25, 2, NULL, out);
	assert_string_equal(out, "5,2");
	search(x, "route", PL_SEARCH_BM25, 2, NULL, out); /* stems: routes, routing */
	assert_string_equal(out, "1,4");
	search(x, "nothing matches", PL_SEARCH_BM25, 2, NULL, out);
	assert_string_equal(out, "");
	search(x, "editor", PL_SEARCH_BM25, 1, NULL, out); /* before the documents' snapshot */
	assert_string_equal(out, "");
	/* snapshot 3: row 4 (document 5) deleted; snapshot 4: row 1 replaced */
	pl_tindex_delete(x, 4, 3);
	pl_err err = {0};
	pl_tdoc upd = {1, 4, "2", "A plain pager", "{}", NULL, 0};
	assert_int_equal(pl_tindex_add(x, &upd, &err), 0);
	assert_int_equal((int)pl_tindex_count(x), 6);
	assert_int_equal((int)pl_tindex_live(x), 4);
	search(x, "editor", PL_SEARCH_BM25, 2, NULL, out);
	assert_string_equal(out, "5,2");
	search(x, "editor", PL_SEARCH_BM25, 3, NULL, out);
	assert_string_equal(out, "2");
	search(x, "editor", PL_SEARCH_BM25, 4, NULL, out);
	assert_string_equal(out, "");
	search(x, "pager", PL_SEARCH_BM25, 4, NULL, out);
	assert_string_equal(out, "2");
	pl_tindex_delete(x, 99, 5); /* unknown row: nothing */
	/* allowed ids */
	char *ids[] = {"1", "5"};
	uint8_t *allowed = NULL;
	assert_int_equal(pl_tindex_allow_ids(x, ids, 2, &allowed, &err), 0);
	search(x, "editor", PL_SEARCH_BM25, 2, allowed, out);
	assert_string_equal(out, "5");
	free(allowed);
	pl_tindex_free(x);
}

static void text__vector_and_hybrid(void **state)
{
	(void)state;
	pl_tindex *x = corpus();
	char out[256];
	search(x, "compilers", PL_SEARCH_VECTOR, 2, NULL, out);
	assert_int_equal(out[0], '3');
	search(x, "text editor", PL_SEARCH_HYBRID, 2, NULL, out);
	assert_int_equal(out[0], '5');
	assert_non_null(strstr(out, "2"));
	/* top_k bounds the hits */
	pl_tquery q = {"editor", NULL, 0, PL_SEARCH_HYBRID, 1, 2, NULL};
	pl_thit *hits = NULL;
	size_t n = 0;
	pl_err err = {0};
	assert_int_equal(pl_tindex_search(x, &q, &hits, &n, &err), 0);
	assert_int_equal((int)n, 1);
	free(hits);
	pl_tindex_free(x);
}

static void text__client_vectors(void **state)
{
	(void)state;
	pl_tindex *x = NULL;
	pl_err err = {0};
	assert_int_equal(pl_tindex_new(&x, NULL, true, &err), 0);
	float a[] = {1, 0, 0}, b[] = {0, 1, 0}, c[] = {1, 1}, nan[] = {NAN, 0, 0};
	pl_tdoc da = {1, 1, "a", "north", NULL, a, 3}, db = {2, 1, "b", "east", NULL, b, 3};
	pl_tdoc dc = {3, 1, "c", "short", NULL, c, 2}, dn = {4, 1, "n", "none", NULL, NULL, 0};
	pl_tdoc dnan = {5, 1, "z", "nan", NULL, nan, 3};
	assert_int_equal(pl_tindex_add(x, &da, &err), 0);
	assert_int_equal(pl_tindex_add(x, &db, &err), 0);
	assert_int_equal(pl_tindex_add(x, &dc, &err), PL_EINVALID);
	assert_non_null(strstr(err.msg, "dimensions"));
	assert_int_equal(pl_tindex_add(x, &dn, &err), 0);
	assert_int_equal(pl_tindex_add(x, &dnan, &err), 0);
	float qv[] = {0.2f, 1, 0};
	pl_tquery q = {"", qv, 3, PL_SEARCH_VECTOR, 10, 1, NULL};
	pl_thit *hits = NULL;
	size_t n = 0;
	assert_int_equal(pl_tindex_search(x, &q, &hits, &n, &err), 0);
	assert_int_equal((int)n, 2);
	assert_string_equal(pl_tindex_id(x, hits[0].doc), "b");
	assert_string_equal(pl_tindex_id(x, hits[1].doc), "a");
	free(hits);
	q.vec = NULL;
	assert_int_equal(pl_tindex_search(x, &q, &hits, &n, &err), PL_EINVALID);
	q.vec = qv;
	q.vec_len = 2;
	assert_int_equal(pl_tindex_search(x, &q, &hits, &n, &err), PL_EINVALID);
	pl_tindex_free(x);
}

/* Past 200,000 versions vector search first narrows by sign bits: the exact match still wins. */
static void text__large_index_vector_search(void **state)
{
	(void)state;
	pl_tindex *x = NULL;
	pl_err err = {0};
	assert_int_equal(pl_tindex_new(&x, "builtin", false, &err), 0);
	char id[16], text[64];
	for (int i = 0; i < 210000; i++) {
		snprintf(id, sizeof(id), "%d", i);
		snprintf(text, sizeof(text), "part%d shelf%d bin%d", i, i % 997, i % 13);
		pl_tdoc d = {i, 1, id, text, NULL, NULL, 0};
		assert_int_equal(pl_tindex_add(x, &d, &err), 0);
	}
	pl_tquery q = {"part123456 shelf258", NULL, 0, PL_SEARCH_VECTOR, 3, 1, NULL};
	pl_thit *hits = NULL;
	size_t n = 0;
	assert_int_equal(pl_tindex_search(x, &q, &hits, &n, &err), 0);
	assert_int_equal((int)n, 3);
	assert_string_equal(pl_tindex_id(x, hits[0].doc), "123456");
	free(hits);
	q.mode = PL_SEARCH_HYBRID;
	assert_int_equal(pl_tindex_search(x, &q, &hits, &n, &err), 0);
	assert_string_equal(pl_tindex_id(x, hits[0].doc), "123456");
	free(hits);
	pl_tindex_free(x);
}

/* Scores of one query as "id:score,..." (scores to 6 digits). */
static void scored(pl_tindex *x, const char *text, pl_search_mode mode, int64_t snap, char *out)
{
	pl_tquery q = {text, NULL, 0, mode, 10, snap, NULL};
	pl_thit *hits = NULL;
	size_t n = 0;
	pl_err err = {0};
	assert_int_equal(pl_tindex_search(x, &q, &hits, &n, &err), 0);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		sprintf(out + strlen(out), "%s%s:%.6f", i ? "," : "", pl_tindex_id(x, hits[i].doc), hits[i].score);
	free(hits);
}

/* BM25 counts only the versions visible at the searched snapshot: after deletes (and as of
 * the snapshot after them) a document scores as in an index that never held the others. */
static void text__bm25_statistics_of_the_snapshot(void **state)
{
	(void)state;
	pl_tindex *x = corpus(), *y = NULL;
	pl_err err = {0};
	pl_tindex_delete(x, 0, 3);
	pl_tindex_delete(x, 2, 3);
	pl_tindex_delete(x, 3, 3);
	assert_int_equal(pl_tindex_new(&y, "builtin", false, &err), 0);
	pl_tdoc a = {1, 2, "2", "A highly configurable text editor", "{}", NULL, 0};
	pl_tdoc b = {4, 2, "5", "Small friendly text editor for the terminal, a text editor indeed", "{}", NULL, 0};
	assert_int_equal(pl_tindex_add(y, &a, &err), 0);
	assert_int_equal(pl_tindex_add(y, &b, &err), 0);
	char sx[256], sy[256], s2[256];
	scored(x, "text editor", PL_SEARCH_BM25, 3, sx);
	scored(y, "text editor", PL_SEARCH_BM25, 3, sy);
	assert_string_equal(sx, sy);
	/* as of snapshot 2 all five count again: the same scores as before the deletes */
	pl_tindex *z = corpus();
	scored(x, "text editor", PL_SEARCH_BM25, 2, s2);
	scored(z, "text editor", PL_SEARCH_BM25, 2, sy);
	assert_string_equal(s2, sy);
	assert_string_not_equal(s2, sx);
	pl_tindex_free(x);
	pl_tindex_free(y);
	pl_tindex_free(z);
}

/* An index saved and loaded answers every query and snapshot as before, takes further changes,
 * and a damaged, truncated or foreign file is refused. */
static void text__save_and_load(void **state)
{
	(void)state;
	pl_tindex *x = corpus(), *y = NULL;
	pl_err err = {0};
	pl_tindex_delete(x, 4, 3);
	pl_tdoc upd = {1, 4, "2", "A plain pager", "{\"k\":1}", NULL, 0};
	assert_int_equal(pl_tindex_add(x, &upd, &err), 0);
	char path[] = "/tmp/planar-unit-segment-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(pl_tindex_save(x, path, 4, &err), 0);
	int64_t snap = 0;
	assert_int_equal(pl_tindex_load(&y, path, "builtin", false, &snap, &err), 0);
	assert_int_equal((int)snap, 4);
	assert_int_equal((int)pl_tindex_count(y), 6);
	assert_int_equal((int)pl_tindex_live(y), 4);
	assert_int_equal((int)pl_tindex_terms(y), (int)pl_tindex_terms(x));
	const char *queries[] = {"editor", "pager", "route", "text editor compilers", "gnu"};
	pl_search_mode modes[] = {PL_SEARCH_BM25, PL_SEARCH_VECTOR, PL_SEARCH_HYBRID};
	for (int s = 1; s <= 4; s++)
		for (size_t qi = 0; qi < 5; qi++)
			for (int m = 0; m < 3; m++) {
				char a[512], b[512];
				scored(x, queries[qi], modes[m], s, a);
				scored(y, queries[qi], modes[m], s, b);
				assert_string_equal(a, b);
			}
	assert_string_equal(pl_tindex_metadata(y, 5), "{\"k\":1}");
	/* later changes apply to the loaded index: row 1 ends, a new row comes */
	pl_tindex_delete(y, 1, 5);
	pl_tdoc more = {7, 5, "8", "A pager for the terminal", "{}", NULL, 0};
	assert_int_equal(pl_tindex_add(y, &more, &err), 0);
	char out[256];
	search(y, "pager", PL_SEARCH_BM25, 5, NULL, out);
	assert_string_equal(out, "8");
	search(y, "pager", PL_SEARCH_BM25, 4, NULL, out);
	assert_string_equal(out, "2");
	pl_tindex_free(y);
	y = NULL;
	/* another embedder's or kind of vectors' file */
	assert_int_equal(pl_tindex_load(&y, path, NULL, true, &snap, &err), PL_EINVALID);
	assert_null(y);
	/* one byte changed, then a truncated file */
	FILE *f = fopen(path, "r+b");
	assert_non_null(f);
	fseek(f, 100, SEEK_SET);
	int c = fgetc(f);
	fseek(f, 100, SEEK_SET);
	fputc(c ^ 0x40, f);
	fclose(f);
	assert_int_equal(pl_tindex_load(&y, path, "builtin", false, &snap, &err), PL_EINVALID);
	assert_non_null(strstr(err.msg, "damaged"));
	assert_int_equal(truncate(path, 50), 0);
	assert_int_equal(pl_tindex_load(&y, path, "builtin", false, &snap, &err), PL_EINVALID);
	assert_int_equal(truncate(path, 0), 0);
	assert_int_equal(pl_tindex_load(&y, path, "builtin", false, &snap, &err), PL_EINVALID);
	unlink(path);
	assert_int_equal(pl_tindex_load(&y, path, "builtin", false, &snap, &err), PL_EIO);
	assert_null(y);
	pl_tindex_free(x);
}

/* ---- top k against the whole ranking ---- */

static uint32_t lcg(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

/* The first k of a ranking of every version (nothing left out early) against a top-k search:
 * the same versions, scores and order. */
static void same_as_full_ranking(pl_tindex *x, const char *text, pl_search_mode mode, size_t k, int64_t snap,
				 const uint8_t *allowed)
{
	pl_err err = {0};
	pl_tquery full = {text, NULL, 0, mode, 100000, snap, allowed}, top = full;
	top.top_k = k;
	pl_thit *a = NULL, *b = NULL;
	size_t na = 0, nb = 0;
	assert_int_equal(pl_tindex_search(x, &full, &a, &na, &err), 0);
	assert_int_equal(pl_tindex_search(x, &top, &b, &nb, &err), 0);
	assert_int_equal(nb, na < k ? na : k);
	for (size_t i = 0; i < nb; i++) {
		assert_int_equal(a[i].doc, b[i].doc);
		assert_true(a[i].score == b[i].score);
	}
	free(a);
	free(b);
}

static void text__bm25_top_k_is_the_full_ranking_cut(void **state)
{
	(void)state;
	static const char *const vocab[] = {"network", "daemon", "library", "python", "editor", "text", "graphics",
					    "server", "client", "tool", "data", "file", "system", "kernel", "module",
					    "font", "audio", "video", "game", "shell", "parser", "compiler", "debug",
					    "web", "mail", "cache", "test", "plugin", "desktop", "monitor"};
	const size_t nv = sizeof(vocab) / sizeof(vocab[0]);
	pl_tindex *x = NULL;
	pl_err err = {0};
	assert_int_equal(pl_tindex_new(&x, "builtin", false, &err), 0);
	uint32_t seed = 12345;
	char text[512], id[32];
	/* 3,000 rows over snapshots 1-3, many with the same words (equal scores: ties by version) */
	for (int64_t r = 0; r < 3000; r++) {
		size_t len = 1 + lcg(&seed) % 10, n = 0;
		text[0] = '\0';
		for (size_t w = 0; w < len; w++) { /* skewed: the first words far more often */
			size_t v = lcg(&seed) % nv;
			v = v * (lcg(&seed) % nv) / nv;
			n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%s", w ? " " : "", vocab[v]);
		}
		snprintf(id, sizeof(id), "%lld", (long long)r);
		pl_tdoc d = {r, 1 + r / 1000, id, text, NULL, NULL, 0};
		assert_int_equal(pl_tindex_add(x, &d, &err), 0);
	}
	/* snapshot 4: every 7th row deleted; snapshot 5: every 11th replaced */
	for (int64_t r = 0; r < 3000; r += 7)
		pl_tindex_delete(x, r, 4);
	for (int64_t r = 0; r < 3000; r += 11) {
		snprintf(id, sizeof(id), "%lld", (long long)r);
		pl_tdoc d = {r, 5, id, "network daemon tool network", NULL, NULL, 0};
		assert_int_equal(pl_tindex_add(x, &d, &err), 0);
	}
	char *ids[1000];
	char idbuf[1000][16];
	for (int i = 0; i < 1000; i++) {
		snprintf(idbuf[i], sizeof(idbuf[i]), "%d", i * 3);
		ids[i] = idbuf[i];
	}
	uint8_t *allowed = NULL;
	assert_int_equal(pl_tindex_allow_ids(x, ids, 1000, &allowed, &err), 0);
	static const size_t ks[] = {1, 10, 57};
	for (int q = 0; q < 40; q++) {
		size_t len = 1 + lcg(&seed) % 4, n = 0;
		for (size_t w = 0; w < len; w++)
			n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%s", w ? " " : "", vocab[lcg(&seed) % nv]);
		for (int64_t snap = 1; snap <= 6; snap++)
			for (size_t k = 0; k < 3; k++) {
				same_as_full_ranking(x, text, PL_SEARCH_BM25, ks[k], snap, NULL);
				same_as_full_ranking(x, text, PL_SEARCH_BM25, ks[k], snap, allowed);
			}
	}
	free(allowed);
	pl_tindex_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(text__tokenizer_normalizes_and_splits),
		cmocka_unit_test(text__stemming_and_stop_words),
		cmocka_unit_test(text__builtin_embedder),
		cmocka_unit_test(text__plugged_embedder),
		cmocka_unit_test(text__bm25_ranks_and_versions),
		cmocka_unit_test(text__vector_and_hybrid),
		cmocka_unit_test(text__client_vectors),
		cmocka_unit_test(text__large_index_vector_search),
		cmocka_unit_test(text__bm25_statistics_of_the_snapshot),
		cmocka_unit_test(text__save_and_load),
		cmocka_unit_test(text__bm25_top_k_is_the_full_ranking_cut),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
