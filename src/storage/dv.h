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

/* The most positions a deletion vector may hold (a larger one is refused as invalid). */
#define PL_DV_MAX_POSITIONS ((uint64_t)1 << 32)

/* Reads the sorted, distinct deleted positions of a deletion-vector file. *out is malloc'd (NULL
 * when there are none). Malformed or hostile content gives PL_EINVALID, never a crash. */
int pl_dv_read_file(const char *path, uint64_t **out, size_t *n, pl_err *err);
/* The same, refusing any position >= max_rows (the data file's record count). */
int pl_dv_read_file_rows(const char *path, uint64_t max_rows, uint64_t **out, size_t *n, pl_err *err);
/* Decodes the whole content of a deletion-vector file held in memory (the blob alone, or in
 * Puffin framing); positions must be below max_rows (UINT64_MAX: no bound). */
int pl_dv_decode_bytes(const unsigned char *buf, size_t len, uint64_t max_rows, uint64_t **out, size_t *n,
		       pl_err *err);
/* Decodes one blob (length, magic, bitmap, CRC). */
int pl_dv_decode(const unsigned char *blob, size_t len, uint64_t **out, size_t *n, pl_err *err);
/* Encodes sorted, distinct positions into a blob; *out malloc'd. */
int pl_dv_encode(const uint64_t *pos, size_t n, unsigned char **out, size_t *len, pl_err *err);

#endif
