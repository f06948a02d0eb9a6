/*
 * dv_corpus.c -- writes the seed inputs of fuzz_dv (tests/fuzz/corpus/dv/) with the project's own
 * deletion-vector encoder, plus hand-made bitmaps that break each rule the decoder checks.
 *   fuzz_dv_corpus OUT_DIR
 * Each file is one harness input: a mode byte (see fuzz_dv.c), then either a whole
 * deletion-vector file (mode 0) or a bare bitmap that the harness frames (mode 1; 3 with a
 * Puffin header).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/dv.h"

static const char *out_dir;

static void write_input(const char *name, unsigned char mode, const unsigned char *p, size_t n)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", out_dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(&mode, 1, 1, f) != 1 || (n && fwrite(p, 1, n, f) != n) || fclose(f) != 0) {
		fprintf(stderr, "cannot write %s\n", path);
		exit(1);
	}
}

/* Encodes positions; writes the file as it is, Puffin-framed, and its bitmap alone. */
static void encoded(const char *name, const uint64_t *pos, size_t n)
{
	unsigned char *blob;
	size_t len;
	pl_err err = {0};
	if (pl_dv_encode(pos, n, &blob, &len, &err) != 0) {
		fprintf(stderr, "encode %s: %s\n", name, err.msg);
		exit(1);
	}
	char fname[256];
	snprintf(fname, sizeof(fname), "file-%s", name);
	write_input(fname, 0, blob, len);
	unsigned char *puffin = malloc(len + 4);
	if (!puffin)
		exit(1);
	memcpy(puffin, "PFA1", 4);
	memcpy(puffin + 4, blob, len);
	snprintf(fname, sizeof(fname), "puffin-%s", name);
	write_input(fname, 0, puffin, len + 4);
	free(puffin);
	snprintf(fname, sizeof(fname), "bitmap-%s", name);
	write_input(fname, 1, blob + 8, len - 12); /* without length, magic and CRC */
	if (len > 16) {
		snprintf(fname, sizeof(fname), "badcrc-%s", name);
		blob[len - 1] ^= 0x55;
		write_input(fname, 0, blob, len);
		snprintf(fname, sizeof(fname), "truncated-%s", name);
		write_input(fname, 0, blob, len / 2);
	}
	free(blob);
}

/* A little-endian byte writer for hand-made bitmaps. */
typedef struct wbuf {
	unsigned char b[20000];
	size_t n;
} wbuf;

static void put(wbuf *w, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		w->b[w->n++] = (unsigned char)(v >> (8 * i));
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
		return 2;
	}
	out_dir = argv[1];
	static uint64_t pos[200000];
	size_t n;

	encoded("empty", pos, 0);
	pos[0] = 0;
	encoded("zero", pos, 1);
	for (n = 0; n < 10; n++)
		pos[n] = n * 7 + 1;
	encoded("array", pos, n);
	for (n = 0; n < 30000; n++)
		pos[n] = n * 3;
	encoded("bitset", pos, n);
	for (n = 0; n < 4000; n++)
		pos[n] = 1000 + n;
	encoded("run", pos, n);
	for (n = 0; n < 50; n++)
		pos[n] = n * 65536 + (n % 5);
	encoded("containers", pos, n);
	pos[0] = 5, pos[1] = ((uint64_t)1 << 32) + 5, pos[2] = ((uint64_t)3 << 32);
	encoded("buckets", pos, 3);

	wbuf w;
	/* a bitset container whose header says 4097 values while all 65536 bits are set */
	w.n = 0;
	put(&w, 1, 8), put(&w, 0, 4);
	put(&w, 12346, 4), put(&w, 1, 4), put(&w, 0, 2), put(&w, 4096, 2), put(&w, 16, 4);
	memset(w.b + w.n, 0xFF, 8192), w.n += 8192;
	write_input("bad-bitset-cardinality", 1, w.b, w.n);
	/* an array container with values out of order */
	w.n = 0;
	put(&w, 1, 8), put(&w, 0, 4);
	put(&w, 12346, 4), put(&w, 1, 4), put(&w, 0, 2), put(&w, 2, 2), put(&w, 16, 4);
	put(&w, 9, 2), put(&w, 3, 2), put(&w, 5, 2);
	write_input("bad-array-unsorted", 1, w.b, w.n);
	/* run containers: overlapping runs, and a run past the container's 65536 values */
	w.n = 0;
	put(&w, 1, 8), put(&w, 0, 4);
	put(&w, 12347, 4), put(&w, 1, 1), put(&w, 0, 2), put(&w, 20, 2);
	put(&w, 2, 2), put(&w, 10, 2), put(&w, 10, 2), put(&w, 5, 2), put(&w, 12, 2);
	write_input("bad-runs-overlap", 1, w.b, w.n);
	w.n = 0;
	put(&w, 1, 8), put(&w, 0, 4);
	put(&w, 12347, 4), put(&w, 1, 1), put(&w, 0, 2), put(&w, 20, 2);
	put(&w, 1, 2), put(&w, 65530, 2), put(&w, 100, 2);
	write_input("bad-run-past-container", 1, w.b, w.n);
	/* two buckets with the same high bits; keys of containers out of order */
	w.n = 0;
	put(&w, 2, 8);
	for (int b = 0; b < 2; b++) {
		put(&w, 7, 4);
		put(&w, 12346, 4), put(&w, 1, 4), put(&w, 0, 2), put(&w, 0, 2), put(&w, 16, 4), put(&w, 42, 2);
	}
	write_input("bad-bucket-repeated", 1, w.b, w.n);
	w.n = 0;
	put(&w, 1, 8), put(&w, 0, 4);
	put(&w, 12346, 4), put(&w, 2, 4), put(&w, 5, 2), put(&w, 0, 2), put(&w, 1, 2), put(&w, 0, 2);
	put(&w, 24, 4), put(&w, 26, 4), put(&w, 1, 2), put(&w, 1, 2);
	write_input("bad-keys-unsorted", 1, w.b, w.n);
	/* many containers, each one run of all 65536 values: more rows than the harness allows */
	w.n = 0;
	put(&w, 1, 8), put(&w, 0, 4);
	put(&w, 12347 | (63u << 16), 4);
	put(&w, 0xFFFFFFFFFFFFFFFFull, 8);
	for (int k = 0; k < 64; k++)
		put(&w, (uint64_t)k, 2), put(&w, 65535, 2);
	for (int k = 0; k < 64; k++)
		put(&w, 0, 4);
	for (int k = 0; k < 64; k++)
		put(&w, 1, 2), put(&w, 0, 2), put(&w, 65535, 2);
	write_input("bad-too-many-rows", 1, w.b, w.n);
	/* a bucket count far beyond the bytes, an unknown cookie, an absurd container count */
	w.n = 0;
	put(&w, 0xFFFFFFFFFFFFull, 8), put(&w, 0, 4), put(&w, 12346, 4), put(&w, 0, 4);
	write_input("bad-bucket-count", 1, w.b, w.n);
	w.n = 0;
	put(&w, 1, 8), put(&w, 0, 4), put(&w, 0xDEADBEEF, 4);
	write_input("bad-cookie", 1, w.b, w.n);
	w.n = 0;
	put(&w, 1, 8), put(&w, 0, 4), put(&w, 12346, 4), put(&w, 0x7FFFFFFF, 4);
	write_input("bad-container-count", 1, w.b, w.n);
	/* framing: too short, bad magic, length beyond the file */
	write_input("bad-short", 0, (const unsigned char *)"\0\0\0\4\xD1\xD3", 6);
	write_input("bad-magic", 0, (const unsigned char *)"\0\0\0\4ABCD\0\0\0\0", 12);
	write_input("bad-length", 0, (const unsigned char *)"\xFF\xFF\xFF\xF0\xD1\xD3\x39\x64\0\0\0\0", 12);
	write_input("puffin-empty", 0, (const unsigned char *)"PFA1", 4);
	return 0;
}
