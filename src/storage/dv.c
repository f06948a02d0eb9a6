/*
 * dv.c -- deletion-vector codec (see dv.h) over CRoaring's 32-bit portable format: the 64-bit
 * bitmap is a count of buckets followed by (high 32 bits, 32-bit bitmap) pairs. CRoaring writes
 * the bitmaps; reading them is done here, checking everything (see decode_bucket).
 */
#include "storage/dv.h"

#include <errno.h>
#include <stdbool.h>
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

static uint32_t le16(const unsigned char *p)
{
	return (uint32_t)p[1] << 8 | p[0];
}

/*
 * The bitmaps are decoded here rather than by CRoaring 0.2: its portable deserializer trusts the
 * cardinality a file states for a bitset container and does not check that values are sorted,
 * so a hostile file could make it write past the array it fills. Every value below is checked
 * to be strictly increasing, which makes the output sorted and distinct.
 */
enum { DV_COOKIE_NO_RUNS = 12346, DV_COOKIE_RUNS = 12347, DV_OFFSETS_FROM = 4, DV_ARRAY_MAX = 4096 };

typedef struct dv_out {
	uint64_t *pos;
	size_t n, cap;
	uint64_t max_rows;  /* positions must be below this */
	uint64_t max_count; /* and there may be at most this many */
	pl_err *err;
} dv_out;

/* Makes room for `more` positions, refusing more than max_rows in total. */
static int reserve(dv_out *o, uint64_t more)
{
	if (more > o->max_count - o->n)
		return pl_err_set(o->err, PL_EINVALID, "deletion vector: more than %llu positions",
				  (unsigned long long)o->max_count);
	if (o->n + more <= o->cap)
		return 0;
	size_t cap = o->cap ? o->cap : 1024;
	while (cap < o->n + more)
		cap *= 2;
	uint64_t *p = realloc(o->pos, cap * sizeof(*p));
	if (!p)
		return pl_err_nomem(o->err);
	o->pos = p;
	o->cap = cap;
	return 0;
}

/* Appends one value; it must follow the previous one and lie below max_rows. */
static int emit(dv_out *o, uint64_t v)
{
	if (o->n > 0 && v <= o->pos[o->n - 1])
		return pl_err_set(o->err, PL_EINVALID, "deletion vector: positions out of order");
	if (v >= o->max_rows)
		return pl_err_set(o->err, PL_EINVALID, "deletion vector: position %llu beyond the data file's %llu rows",
				  (unsigned long long)v, (unsigned long long)o->max_rows);
	o->pos[o->n++] = v;
	return 0;
}

/* One container of a 32-bit bitmap at p[*off..len), values base | low16. */
static int decode_container(const unsigned char *p, size_t len, size_t *off, bool run, uint32_t card,
			    uint64_t base, dv_out *o)
{
	int rc = 0;
	if (run) {
		if (len - *off < 2)
			return pl_err_set(o->err, PL_EINVALID, "deletion vector: truncated run container");
		uint32_t nruns = le16(p + *off);
		*off += 2;
		if ((len - *off) / 4 < nruns)
			return pl_err_set(o->err, PL_EINVALID, "deletion vector: truncated run container");
		for (uint32_t r = 0; r < nruns && rc == 0; r++, *off += 4) {
			uint32_t start = le16(p + *off), last = start + le16(p + *off + 2);
			if (last > 0xFFFF)
				return pl_err_set(o->err, PL_EINVALID, "deletion vector: run past its container");
			rc = reserve(o, (uint64_t)last - start + 1);
			for (uint32_t v = start; rc == 0 && v <= last; v++)
				rc = emit(o, base | v);
		}
		return rc;
	}
	if (card > DV_ARRAY_MAX) {
		if (len - *off < 8192)
			return pl_err_set(o->err, PL_EINVALID, "deletion vector: truncated bitset container");
		for (uint32_t w = 0; w < 1024 && rc == 0; w++) {
			uint64_t bits = le64(p + *off + 8 * w);
			rc = reserve(o, (uint64_t)__builtin_popcountll(bits));
			for (; rc == 0 && bits; bits &= bits - 1)
				rc = emit(o, base | (w * 64 + (uint32_t)__builtin_ctzll(bits)));
		}
		*off += 8192;
		return rc;
	}
	if ((len - *off) / 2 < card)
		return pl_err_set(o->err, PL_EINVALID, "deletion vector: truncated array container");
	rc = reserve(o, card);
	for (uint32_t i = 0; i < card && rc == 0; i++, *off += 2)
		rc = emit(o, base | le16(p + *off));
	return rc;
}

/* One 32-bit Roaring bitmap in the portable format at p[*off..len), values high << 32 | v. */
static int decode_bucket(const unsigned char *p, size_t len, size_t *off, uint64_t high, dv_out *o)
{
	if (len - *off < 4)
		return pl_err_set(o->err, PL_EINVALID, "deletion vector: truncated Roaring bitmap");
	uint32_t cookie = le32(p + *off), size;
	const unsigned char *runs = NULL;
	*off += 4;
	if ((cookie & 0xFFFF) == DV_COOKIE_RUNS) {
		size = (cookie >> 16) + 1;
		runs = p + *off;
		if (len - *off < (size + 7) / 8)
			return pl_err_set(o->err, PL_EINVALID, "deletion vector: truncated Roaring bitmap");
		*off += (size + 7) / 8;
	} else if (cookie == DV_COOKIE_NO_RUNS) {
		if (len - *off < 4)
			return pl_err_set(o->err, PL_EINVALID, "deletion vector: truncated Roaring bitmap");
		size = le32(p + *off);
		*off += 4;
		if (size > 65536)
			return pl_err_set(o->err, PL_EINVALID, "deletion vector: %u containers in one bitmap", size);
	} else {
		return pl_err_set(o->err, PL_EINVALID, "deletion vector: not a Roaring bitmap (cookie %u)", cookie);
	}
	const unsigned char *hdr = p + *off;
	size_t hdr_bytes = (size_t)size * 4 + (!runs || size >= DV_OFFSETS_FROM ? (size_t)size * 4 : 0);
	if (len - *off < hdr_bytes)
		return pl_err_set(o->err, PL_EINVALID, "deletion vector: truncated Roaring bitmap header");
	*off += hdr_bytes;
	for (uint32_t i = 0; i < size; i++) {
		bool run = runs && (runs[i / 8] >> (i % 8) & 1);
		int rc = decode_container(p, len, off, run, le16(hdr + 4 * i + 2) + 1,
					  high << 32 | (uint64_t)le16(hdr + 4 * i) << 16, o);
		if (rc)
			return rc;
	}
	return 0;
}

static int decode_bitmap(const unsigned char *p, size_t len, uint64_t max_rows, uint64_t **out, size_t *n,
			 pl_err *err)
{
	dv_out o = {NULL, 0, 0, max_rows, max_rows < PL_DV_MAX_POSITIONS ? max_rows : PL_DV_MAX_POSITIONS, err};
	size_t off = 8;
	int rc = 0;
	if (len < 8)
		rc = pl_err_set(err, PL_EINVALID, "deletion vector: truncated bitmap");
	uint64_t buckets = rc ? 0 : le64(p);
	for (uint64_t b = 0; b < buckets && rc == 0; b++) {
		if (len - off < 4) {
			rc = pl_err_set(err, PL_EINVALID, "deletion vector: truncated bucket");
			break;
		}
		uint64_t high = le32(p + off);
		off += 4;
		rc = decode_bucket(p, len, &off, high, &o);
	}
	if (rc) {
		free(o.pos);
		o.pos = NULL;
		o.n = 0;
	}
	*out = o.pos;
	*n = o.n;
	return rc;
}

static int decode_blob(const unsigned char *blob, size_t len, uint64_t max_rows, uint64_t **out, size_t *n,
		       pl_err *err)
{
	*out = NULL;
	*n = 0;
	if (len < 12)
		return pl_err_set(err, PL_EINVALID, "deletion vector: blob of %zu bytes is too short", len);
	uint32_t body = be32(blob);
	if ((size_t)body + 8 > len || body < 4 || memcmp(blob + 4, dv_magic, 4) != 0)
		return pl_err_set(err, PL_EINVALID, "deletion vector: bad length or magic");
	uint32_t crc = be32(blob + 4 + body);
	if (crc32_update(0, blob + 4, body) != crc)
		return pl_err_set(err, PL_EINVALID, "deletion vector: checksum mismatch");
	return decode_bitmap(blob + 8, body - 4, max_rows, out, n, err);
}

int pl_dv_decode(const unsigned char *blob, size_t len, uint64_t **out, size_t *n, pl_err *err)
{
	return decode_blob(blob, len, UINT64_MAX, out, n, err);
}

int pl_dv_decode_bytes(const unsigned char *buf, size_t len, uint64_t max_rows, uint64_t **out, size_t *n,
		       pl_err *err)
{
	/* In Puffin framing, the first blob starts right after the 4-byte "PFA1" header. */
	size_t off = (len >= 4 && memcmp(buf, "PFA1", 4) == 0) ? 4 : 0;
	return decode_blob(buf + off, len - off, max_rows, out, n, err);
}

int pl_dv_read_file_rows(const char *path, uint64_t max_rows, uint64_t **out, size_t *n, pl_err *err)
{
	*out = NULL;
	*n = 0;
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
	if (rc == 0 && (rc = pl_dv_decode_bytes(buf, len, max_rows, out, n, err)) != 0)
		pl_err_wrap(err, "'%s'", path);
	free(buf);
	return rc;
}

int pl_dv_read_file(const char *path, uint64_t **out, size_t *n, pl_err *err)
{
	return pl_dv_read_file_rows(path, UINT64_MAX, out, n, err);
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
