/*
 * fuzz_dv.c -- fuzz harness for the deletion-vector decoder (src/storage/dv.c).
 *
 * The first input byte picks how the rest is used, so both the framing and the Roaring bitmaps
 * inside get explored (a fuzzer rarely guesses a CRC-32):
 *   bit 0 clear: the rest is a whole deletion-vector file (the blob alone or Puffin framing);
 *   bit 0 set:   the rest is the bitmap (bucket count, then buckets), framed here with its
 *                length, the magic and a correct CRC, behind a "PFA1" header when bit 1 is set.
 * Decodes with a bound of 2^20 rows (so memory stays small) and checks that a success gives
 * strictly increasing positions below the bound; that the unbounded decoder agrees; and that
 * encoding the positions with pl_dv_encode and decoding that gives them back.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/dv.h"

#define CHECK(cond)                                                                                 \
	do {                                                                                        \
		if (!(cond)) {                                                                      \
			fprintf(stderr, "fuzz_dv: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                    \
		}                                                                                   \
	} while (0)

#define MAX_ROWS ((uint64_t)1 << 20)

static uint32_t crc32(const unsigned char *p, size_t n)
{
	uint32_t crc = 0xFFFFFFFFu;
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

/* [PFA1] length magic bitmap crc */
static unsigned char *frame(const uint8_t *bitmap, size_t n, int puffin, size_t *len)
{
	size_t pre = puffin ? 4 : 0;
	unsigned char *b = malloc(pre + n + 12);
	if (!b)
		return NULL;
	if (puffin)
		memcpy(b, "PFA1", 4);
	put_be32(b + pre, (uint32_t)(n + 4));
	memcpy(b + pre + 4, "\xD1\xD3\x39\x64", 4);
	if (n)
		memcpy(b + pre + 8, bitmap, n);
	put_be32(b + pre + 8 + n, crc32(b + pre + 4, n + 4));
	*len = pre + n + 12;
	return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > ((size_t)1 << 24))
		return 0;
	unsigned char mode = data[0];
	const unsigned char *in = data + 1;
	size_t len = size - 1;
	unsigned char *framed = NULL;
	if (mode & 1) {
		if (!(framed = frame(in, len, mode & 2, &len)))
			return 0;
		in = framed;
	}

	uint64_t *pos = NULL;
	size_t n = 0;
	pl_err err = {0};
	int rc = pl_dv_decode_bytes(in, len, MAX_ROWS, &pos, &n, &err);
	if (rc != 0) {
		CHECK(rc == PL_EINVALID || rc == PL_ENOMEM);
		CHECK(err.msg[0] != '\0');
		CHECK(pos == NULL && n == 0);
		free(framed);
		return 0;
	}
	CHECK(n == 0 || pos != NULL);
	for (size_t i = 0; i < n; i++) {
		CHECK(pos[i] < MAX_ROWS);
		CHECK(i == 0 || pos[i] > pos[i - 1]);
	}

	/* the unbounded decoder agrees */
	size_t off = len >= 4 && memcmp(in, "PFA1", 4) == 0 ? 4 : 0;
	uint64_t *again = NULL;
	size_t n2 = 0;
	CHECK(pl_dv_decode(in + off, len - off, &again, &n2, &err) == 0);
	CHECK(n2 == n && (n == 0 || memcmp(again, pos, n * sizeof(*pos)) == 0));
	free(again);

	/* encode and decode round trip */
	unsigned char *blob = NULL;
	size_t blen = 0;
	if (pl_dv_encode(pos, n, &blob, &blen, &err) == 0) {
		CHECK(pl_dv_decode_bytes(blob, blen, MAX_ROWS, &again, &n2, &err) == 0);
		CHECK(n2 == n && (n == 0 || memcmp(again, pos, n * sizeof(*pos)) == 0));
		free(again);
		free(blob);
	}
	free(pos);
	free(framed);
	return 0;
}
