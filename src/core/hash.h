/*
 * hash.h -- MurmurHash3 (x86, 32-bit, seed 0), the hash of Iceberg's and DuckLake's bucket
 * partition transform.
 */
#ifndef PL_CORE_HASH_H
#define PL_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>

/* The hash of n bytes. */
int32_t pl_murmur3_32(const void *data, size_t n);
/* The hash of a 64-bit integer's 8 bytes, least significant first (how integers, dates, times and
 * timestamps are bucketed). */
int32_t pl_murmur3_32_int64(int64_t v);

#endif
