/*
 * ids.c -- UUID generation (RFC 9562 v4 and v7) from the kernel's random source, and timestamps.
 */
#include "core/ids.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static int random_bytes(unsigned char *p, size_t n, pl_err *err)
{
	while (n > 0) {
		ssize_t got = getrandom(p, n, 0);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return pl_err_set(err, PL_ERROR, "cannot read random bytes: %s", strerror(errno));
		}
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

static void format_uuid(char out[PL_UUID_STRLEN + 1], const unsigned char b[16])
{
	snprintf(out, PL_UUID_STRLEN + 1,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
}

int pl_uuid_v4(char out[PL_UUID_STRLEN + 1], pl_err *err)
{
	unsigned char b[16];
	int rc = random_bytes(b, sizeof(b), err);
	if (rc)
		return rc;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	format_uuid(out, b);
	return 0;
}

int pl_uuid_v7(char out[PL_UUID_STRLEN + 1], pl_err *err)
{
	unsigned char b[16];
	int rc = random_bytes(b, sizeof(b), err);
	if (rc)
		return rc;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
	for (int i = 0; i < 6; i++)
		b[i] = (unsigned char)(ms >> (8 * (5 - i)));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x70);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	format_uuid(out, b);
	return 0;
}

void pl_now_timestamptz(char out[32])
{
	struct timespec ts;
	struct tm tm;
	char date[24];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(out, 32, "%.19s.%06ld+00", date, (long)(ts.tv_nsec / 1000) % 1000000);
}
