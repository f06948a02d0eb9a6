/*
 * index.h -- an in-memory search index over the versions of a table's rows: an inverted index
 * of stemmed terms (BM25), one vector per version (cosine similarity; from the client or from
 * an embedder) and a fusion of both rankings.
 *
 * Every version of a row has the snapshot it appeared in and the one it stopped in (a delete,
 * or an update that replaced it), so one index answers a search as of any snapshot it covers:
 * a version is visible at s when begin <= s < end. Versions are numbered in the order they were
 * added. Not thread-safe: callers serialize use of one index.
 */
#ifndef PL_TEXT_INDEX_H
#define PL_TEXT_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef enum pl_search_mode { PL_SEARCH_HYBRID, PL_SEARCH_BM25, PL_SEARCH_VECTOR } pl_search_mode;

typedef struct pl_tindex pl_tindex;

/* A new, empty index. embedder: "builtin" or a registered embedder's name (used when a document
 * or query comes without a vector); client_vectors: documents bring their own vectors (all of
 * one length, fixed by the first). */
int pl_tindex_new(pl_tindex **out, const char *embedder, bool client_vectors, pl_err *err);
void pl_tindex_free(pl_tindex *x);

/* One row version to add. id, text, metadata may be NULL; vec is the client's vector (NULL for
 * none: such a version has no vector and never ranks by similarity). */
typedef struct pl_tdoc {
	int64_t rowid, begin;
	const char *id, *text, *metadata;
	const float *vec;
	size_t vec_len;
} pl_tdoc;

/* Adds a version visible from d->begin; a live version of the same row id ends at d->begin. */
int pl_tindex_add(pl_tindex *x, const pl_tdoc *d, pl_err *err);
/* Ends the live version of rowid at snapshot end (nothing when there is none). */
void pl_tindex_delete(pl_tindex *x, int64_t rowid, int64_t end);

size_t pl_tindex_count(const pl_tindex *x);      /* versions */
size_t pl_tindex_live(const pl_tindex *x);       /* versions with no end */
size_t pl_tindex_terms(const pl_tindex *x);      /* distinct terms */
size_t pl_tindex_bytes(const pl_tindex *x);      /* memory held, roughly */
const char *pl_tindex_id(const pl_tindex *x, uint32_t doc);
const char *pl_tindex_text(const pl_tindex *x, uint32_t doc);
const char *pl_tindex_metadata(const pl_tindex *x, uint32_t doc);
bool pl_tindex_visible(const pl_tindex *x, uint32_t doc, int64_t snapshot);

typedef struct pl_tquery {
	const char *text;
	const float *vec;   /* the client's query vector, or NULL: the embedder embeds text */
	size_t vec_len;
	pl_search_mode mode;
	size_t top_k;
	int64_t snapshot;
	const uint8_t *allowed; /* NULL, or one byte per version: nonzero = may be returned */
} pl_tquery;

typedef struct pl_thit {
	uint32_t doc;
	double score;
} pl_thit;

/* The best q->top_k visible versions, best first (ties: older version first). Scores: BM25
 * (its statistics count only the versions visible at q->snapshot), cosine similarity, or for
 * hybrid BM25 first: when BM25 finds at least top_k versions, its top_k reordered by
 * BM25 / best BM25 + 0.05 x cosine; when it finds fewer, the vector ranking fills the rest, after
 * them (a query embedded by the built-in embedder weighs its words by their IDF in the index).
 * A vector ranking needs vectors: with client vectors and no query vector, hybrid ranks by BM25
 * alone and vector mode fails. */
int pl_tindex_search(pl_tindex *x, const pl_tquery *q, pl_thit **hits, size_t *n, pl_err *err);

/* Saves everything the index holds to the file path (created or replaced; flushed and
 * fsync'd before this returns 0; removed on failure). snapshot is recorded as the last one the
 * index covers. */
int pl_tindex_save(const pl_tindex *x, const char *path, int64_t snapshot, pl_err *err);
/* Loads an index saved by pl_tindex_save for the same embedder and kind of vectors; *snapshot
 * gets the snapshot it was saved at. A damaged or foreign file fails with PL_EINVALID. */
int pl_tindex_load(pl_tindex **out, const char *path, const char *embedder, bool client_vectors, int64_t *snapshot,
		   pl_err *err);

/* One byte per version: 1 where the version's id is one of ids[0..n) (*out malloc'd). */
int pl_tindex_allow_ids(const pl_tindex *x, char *const *ids, size_t n, uint8_t **out, pl_err *err);

#endif
