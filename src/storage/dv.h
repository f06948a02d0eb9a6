/*
 * dv.h -- deletion vectors: Iceberg's `deletion-vector-v1` blob (a 64-bit Roaring bitmap of
 * deleted row positions in the portable format, framed by a big-endian length, the magic
 * D1 D3 39 64 and a CRC-32), stored as DuckLake writes them: the blob alone in a `.puffin`
 * file. Files in full Puffin framing ("PFA1" magic) are read too.
 */
#ifndef PL_STORAGE_DV_H
#define PL_STORAGE_DV_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* Reads the sorted deleted positions of a deletion-vector file. *out is malloc'd. */
int pl_dv_read_file(const char *path, uint64_t **out, size_t *n, pl_err *err);
/* Decodes one blob (length, magic, bitmap, CRC). */
int pl_dv_decode(const unsigned char *blob, size_t len, uint64_t **out, size_t *n, pl_err *err);
/* Encodes sorted, distinct positions into a blob; *out malloc'd. */
int pl_dv_encode(const uint64_t *pos, size_t n, unsigned char **out, size_t *len, pl_err *err);

#endif
