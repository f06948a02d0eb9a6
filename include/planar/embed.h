/*
 * embed.h -- plugging a text embedding model into Planar's search indexes.
 *
 * A search index ranks by vectors either given by the client (a FLOAT[] column and a query
 * vector) or produced by an embedder from the text. Planar has one embedder built in ("builtin":
 * feature hashing of stemmed words and character trigrams, no model files). A program that links
 * libplanar registers its own, e.g. an ONNX model run through ONNX Runtime, before it attaches
 * lakes; an index created with `embedder => 'name'` then embeds documents and queries with it.
 * Nothing else changes: catch-up, snapshots, filters and ranking work the same.
 */
#ifndef PLANAR_EMBED_H
#define PLANAR_EMBED_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Writes dim floats for the text (len bytes of UTF-8) into out; any scale (Planar normalizes).
 * Returns 0, or nonzero when it cannot (the search or build then fails naming the embedder).
 * Called from one thread at a time per registered embedder. */
typedef int (*planar_embed_fn)(void *user, const char *text, size_t len, float *out);

/* Registers (or replaces) the embedder `name` producing vectors of dim (1..4096) floats.
 * Returns PLANAR_OK, or PLANAR_EINVALID for a bad name or dimension (a name is 1..63
 * characters; "builtin" is taken). */
int planar_register_embedder(const char *name, size_t dim, planar_embed_fn fn, void *user);

#ifdef __cplusplus
}
#endif

#endif
