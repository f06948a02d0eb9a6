/*
 * dv.c -- deletion-vector codec (see dv.h) over CRoaring's 32-bit portable format: the 64-bit
 * bitmap is a count of buckets followed by (high 32 bits, 32-bit bitmap) pairs.
 */
#include "storage/dv.h"

#include <errno.h>
#include <roaring/roaring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const unsigned char dv_magic[4] = {0xD1, 0xD3, 0x39, 0x64};

static uint32_t crc32_update(uint32_t crc, const unsigned char *p, size_t n)
{
	crc = ~crc;
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

static uint64_t le64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static int append_bucket(uint64_t high, roaring_bitmap_t *bm, uint64_t **out, size_t *n, size_t *cap)
{
	uint64_t card = roaring_bitmap_get_cardinality(bm);
	if (*n + card > *cap) {
		size_t c = (*n + card) * 2;
		uint64_t *p = realloc(*out, c * sizeof(*p));
		if (!p)
			return PL_ENOMEM;
		*out = p;
		*cap = c;
	}
	uint32_t *lows = malloc((card ? card : 1) * sizeof(uint32_t));
	if (!lows)
		return PL_ENOMEM;
	roaring_bitmap_to_uint32_array(bm, lows);
	for (uint64_t i = 0; i < card; i++)
		(*out)[(*n)++] = high << 32 | lows[i];
	free(lows);
	return 0;
}

static int decode_bitmap(const unsigned char *p, size_t len, uint64_t **out, size_t *n, pl_err *err)
{
	size_t cap = 0, off = 8;
	*out = NULL;
	*n = 0;
	if (len < 8)
		return pl_err_set(err, PL_EINVALID, "deletion vector: truncated bitmap");
	uint64_t buckets = le64(p);
	for (uint64_t b = 0; b < buckets; b++) {
		if (off + 4 > len)
			return pl_err_set(err, PL_EINVALID, "deletion vector: truncated bucket");
		uint64_t high = le32(p + off);
		off += 4;
		roaring_bitmap_t *bm = roaring_bitmap_portable_deserialize_safe((const char *)p + off, len - off);
		if (!bm)
			return pl_err_set(err, PL_EINVALID, "deletion vector: invalid Roaring bitmap");
		off += roaring_bitmap_portable_size_in_bytes(bm);
		int rc = append_bucket(high, bm, out, n, &cap);
		roaring_bitmap_free(bm);
		if (rc)
			return pl_err_nomem(err);
	}
	return 0;
}

int pl_dv_decode(const unsigned char *blob, size_t len, uint64_t **out, size_t *n, pl_err *err)
{
	if (len < 12)
		return pl_err_set(err, PL_EINVALID, "deletion vector: blob of %zu bytes is too short", len);
	uint32_t body = be32(blob);
	if ((size_t)body + 8 > len || body < 4 || memcmp(blob + 4, dv_magic, 4) != 0)
		return pl_err_set(err, PL_EINVALID, "deletion vector: bad length or magic");
	uint32_t crc = be32(blob + 4 + body);
	if (crc32_update(0, blob + 4, body) != crc)
		return pl_err_set(err, PL_EINVALID, "deletion vector: checksum mismatch");
	int rc = decode_bitmap(blob + 8, body - 4, out, n, err);
	if (rc) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

/* In Puffin framing, the first blob starts right after the 4-byte "PFA1" header. */
static int locate_blob(const unsigned char *buf, size_t len, size_t *off)
{
	*off = (len >= 4 && memcmp(buf, "PFA1", 4) == 0) ? 4 : 0;
	return 0;
}

int pl_dv_read_file(const char *path, uint64_t **out, size_t *n, pl_err *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return pl_err_set(err, PL_EIO, "cannot open deletion vector '%s': %s", path, strerror(errno));
	unsigned char *buf = NULL;
	size_t len = 0, cap = 0, got;
	int rc = 0;
	do {
		if (len == cap) {
			cap = cap ? cap * 2 : 65536;
			unsigned char *p = realloc(buf, cap);
			if (!p) {
				rc = pl_err_nomem(err);
				break;
			}
			buf = p;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
	} while (got > 0);
	if (rc == 0 && ferror(f))
		rc = pl_err_set(err, PL_EIO, "cannot read deletion vector '%s'", path);
	fclose(f);
	size_t off = 0;
	if (rc == 0)
		locate_blob(buf, len, &off);
	if (rc == 0 && (rc = pl_dv_decode(buf + off, len - off, out, n, err)) != 0)
		pl_err_wrap(err, "'%s'", path);
	free(buf);
	return rc;
}

static void put_le(unsigned char *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

int pl_dv_encode(const uint64_t *pos, size_t n, unsigned char **out, size_t *len, pl_err *err)
{
	/* Group positions by their high 32 bits (positions are sorted). */
	size_t buckets = 0, bytes = 8;
	roaring_bitmap_t **bms = calloc(n + 1, sizeof(*bms));
	uint64_t *highs = calloc(n + 1, sizeof(*highs));
	int rc = (!bms || !highs) ? pl_err_nomem(err) : 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		uint64_t high = pos[i] >> 32;
		if (buckets == 0 || highs[buckets - 1] != high) {
			if (!(bms[buckets] = roaring_bitmap_create())) {
				rc = pl_err_nomem(err);
				break;
			}
			highs[buckets++] = high;
		}
		roaring_bitmap_add(bms[buckets - 1], (uint32_t)pos[i]);
	}
	for (size_t b = 0; rc == 0 && b < buckets; b++) {
		roaring_bitmap_run_optimize(bms[b]);
		bytes += 4 + roaring_bitmap_portable_size_in_bytes(bms[b]);
	}
	unsigned char *blob = rc ? NULL : malloc(bytes + 12);
	if (rc == 0 && !blob)
		rc = pl_err_nomem(err);
	if (rc == 0) {
		size_t off = 8;
		put_be32(blob, (uint32_t)(bytes + 4));
		memcpy(blob + 4, dv_magic, 4);
		put_le(blob + off, buckets, 8);
		off += 8;
		for (size_t b = 0; b < buckets; b++) {
			put_le(blob + off, highs[b], 4);
			off += 4;
			off += roaring_bitmap_portable_serialize(bms[b], (char *)blob + off);
		}
		put_be32(blob + off, crc32_update(0, blob + 4, bytes + 4));
		*out = blob;
		*len = off + 4;
	}
	for (size_t b = 0; b < buckets; b++)
		roaring_bitmap_free(bms[b]);
	free(bms);
	free(highs);
	return rc;
}
