/*
 * hash.c -- MurmurHash3 x86_32 (see hash.h).
 */
#include "core/hash.h"

static uint32_t rotl32(uint32_t x, int r)
{
	return (x << r) | (x >> (32 - r));
}

static uint32_t mix_block(uint32_t k)
{
	k *= 0xcc9e2d51u;
	k = rotl32(k, 15);
	return k * 0x1b873593u;
}

int32_t pl_murmur3_32(const void *data, size_t n)
{
	const unsigned char *p = data;
	uint32_t h = 0;
	size_t blocks = n / 4;
	for (size_t i = 0; i < blocks; i++) {
		const unsigned char *b = p + i * 4;
		uint32_t k = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
		h ^= mix_block(k);
		h = rotl32(h, 13);
		h = h * 5 + 0xe6546b64u;
	}
	const unsigned char *tail = p + blocks * 4;
	uint32_t k = 0;
	switch (n & 3) {
	case 3:
		k ^= (uint32_t)tail[2] << 16;
		/* fall through */
	case 2:
		k ^= (uint32_t)tail[1] << 8;
		/* fall through */
	case 1:
		k ^= tail[0];
		h ^= mix_block(k);
		break;
	default:
		break;
	}
	h ^= (uint32_t)n;
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return (int32_t)h;
}

int32_t pl_murmur3_32_int64(int64_t v)
{
	unsigned char b[8];
	uint64_t u = (uint64_t)v;
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(u >> (8 * i));
	return pl_murmur3_32(b, sizeof(b));
}
