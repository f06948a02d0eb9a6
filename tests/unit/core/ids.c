/*
 * tests/unit/core/ids.c -- cmocka tests of identifiers and clocks (src/core/ids.c).
 *
 * Covers UUIDv4/v7 text shape (8-4-4-4-12 lowercase hex), version and RFC 9562 variant bits,
 * the v7 48-bit millisecond timestamp prefix (matches the clock, orders across milliseconds),
 * uniqueness over many draws, and pl_now_timestamptz's "YYYY-MM-DD HH:MM:SS.ffffff+00" form.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/ids.h"

static void assert_uuid_shape(const char *u, char version)
{
	assert_int_equal(strlen(u), PL_UUID_STRLEN);
	for (int i = 0; i < PL_UUID_STRLEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			assert_int_equal(u[i], '-');
		else if (!((u[i] >= '0' && u[i] <= '9') || (u[i] >= 'a' && u[i] <= 'f')))
			fail_msg("uuid %s: bad character at %d", u, i);
	}
	assert_int_equal(u[14], version);
	/* variant 10xx: first hex digit of the 4th group is 8, 9, a or b */
	assert_non_null(strchr("89ab", u[19]));
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t v7_ms(const char *u)
{
	char hex[13];
	memcpy(hex, u, 8);
	memcpy(hex + 8, u + 9, 4);
	hex[12] = '\0';
	return strtoull(hex, NULL, 16);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void ids__uuid_v4_shape_and_version(void **state)
{
	(void)state;
	char u[PL_UUID_STRLEN + 1];
	pl_err err = {0};
	for (int i = 0; i < 50; i++) {
		assert_int_equal(pl_uuid_v4(u, &err), 0);
		assert_uuid_shape(u, '4');
	}
}

static void ids__uuid_v7_shape_and_version(void **state)
{
	(void)state;
	char u[PL_UUID_STRLEN + 1];
	pl_err err = {0};
	for (int i = 0; i < 50; i++) {
		assert_int_equal(pl_uuid_v7(u, &err), 0);
		assert_uuid_shape(u, '7');
	}
}

static void ids__uuid_v7_prefix_is_current_unix_ms(void **state)
{
	(void)state;
	char u[PL_UUID_STRLEN + 1];
	pl_err err = {0};
	uint64_t before = now_ms();
	assert_int_equal(pl_uuid_v7(u, &err), 0);
	uint64_t after = now_ms();
	uint64_t ms = v7_ms(u);
	assert_in_range(ms, before, after);
}

static void ids__uuid_v7_orders_across_milliseconds(void **state)
{
	(void)state;
	char a[PL_UUID_STRLEN + 1], b[PL_UUID_STRLEN + 1];
	pl_err err = {0};
	assert_int_equal(pl_uuid_v7(a, &err), 0);
	struct timespec ts = {0, 3 * 1000000L};
	nanosleep(&ts, NULL);
	assert_int_equal(pl_uuid_v7(b, &err), 0);
	assert_true(v7_ms(b) > v7_ms(a));
	assert_true(strcmp(a, b) < 0); /* time-ordered as text: file names sort by creation */
}

static void ids__uuids_do_not_repeat(void **state)
{
	(void)state;
	enum { N = 2000 };
	char **all = calloc(2 * N, sizeof(char *));
	assert_non_null(all);
	pl_err err = {0};
	for (int i = 0; i < 2 * N; i++) {
		all[i] = malloc(PL_UUID_STRLEN + 1);
		assert_int_equal(i < N ? pl_uuid_v4(all[i], &err) : pl_uuid_v7(all[i], &err), 0);
	}
	qsort(all, 2 * N, sizeof(char *), cmp_str);
	for (int i = 1; i < 2 * N; i++)
		if (strcmp(all[i - 1], all[i]) == 0)
			fail_msg("duplicate uuid %s", all[i]);
	for (int i = 0; i < 2 * N; i++)
		free(all[i]);
	free(all);
}

static void ids__now_timestamptz_format_and_value(void **state)
{
	(void)state;
	char out[32];
	memset(out, '#', sizeof(out));
	/* the clock pl_now_timestamptz reads: time() may read a coarser one that lags it by a tick,
	 * so a second that just began could look later than `after` */
	struct timespec ts_before, ts_after;
	clock_gettime(CLOCK_REALTIME, &ts_before);
	pl_now_timestamptz(out);
	clock_gettime(CLOCK_REALTIME, &ts_after);
	time_t before = ts_before.tv_sec, after = ts_after.tv_sec;
	assert_int_equal(strlen(out), 29);
	int Y, M, D, h, m, s;
	long us;
	char tz[4] = {0};
	assert_int_equal(sscanf(out, "%4d-%2d-%2d %2d:%2d:%2d.%6ld%3s", &Y, &M, &D, &h, &m, &s, &us, tz), 8);
	assert_string_equal(tz, "+00");
	assert_int_equal(out[4], '-');
	assert_int_equal(out[10], ' ');
	assert_int_equal(out[19], '.');
	assert_in_range(us, 0, 999999);
	struct tm tm = {0};
	tm.tm_year = Y - 1900;
	tm.tm_mon = M - 1;
	tm.tm_mday = D;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = s;
	time_t t = timegm(&tm); /* UTC, not local time */
	assert_in_range(t, before, after);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ids__uuid_v4_shape_and_version),
		cmocka_unit_test(ids__uuid_v7_shape_and_version),
		cmocka_unit_test(ids__uuid_v7_prefix_is_current_unix_ms),
		cmocka_unit_test(ids__uuid_v7_orders_across_milliseconds),
		cmocka_unit_test(ids__uuids_do_not_repeat),
		cmocka_unit_test(ids__now_timestamptz_format_and_value),
	};
	return cmocka_run_group_tests_name("core/ids", tests, NULL, NULL);
}
