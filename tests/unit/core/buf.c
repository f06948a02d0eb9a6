/*
 * tests/unit/core/buf.c -- cmocka tests of the growable string buffer (src/core/buf.c).
 *
 * Covers appending (put/puts/putc/printf), growth across many reallocations, SQL literal and
 * identifier quoting, truncation, cstr of an empty buffer, detach/dispose resetting the buffer,
 * and the latched out-of-memory flag (forced by setting it, as a failed allocation would).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

static void buf__puts_putc_put_append_in_order(void **state)
{
	(void)state;
	pl_buf b = PL_BUF_INIT;
	pl_buf_puts(&b, "abc");
	pl_buf_putc(&b, '-');
	pl_buf_put(&b, "xyz123", 3);
	assert_string_equal(pl_buf_cstr(&b), "abc-xyz");
	assert_int_equal(b.len, 7);
	assert_true(b.cap > b.len);
	assert_false(pl_buf_oom(&b));
	pl_buf_dispose(&b);
}

static void buf__put_copies_embedded_bytes_and_terminates(void **state)
{
	(void)state;
	pl_buf b = PL_BUF_INIT;
	pl_buf_put(&b, "a\0b", 3);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.ptr, "a\0b", 4); /* includes the terminating NUL */
	pl_buf_dispose(&b);
}

static void buf__printf_formats_and_appends(void **state)
{
	(void)state;
	pl_buf b = PL_BUF_INIT;
	pl_buf_puts(&b, "n=");
	pl_buf_printf(&b, "%d,%s,%lld", 42, "x", (long long)-7);
	assert_string_equal(pl_buf_cstr(&b), "n=42,x,-7");
	assert_int_equal(b.len, strlen("n=42,x,-7"));
	pl_buf_printf(&b, "%s", "");
	assert_int_equal(b.len, strlen("n=42,x,-7"));
	pl_buf_dispose(&b);
}

static void buf__grows_past_initial_capacity(void **state)
{
	(void)state;
	pl_buf b = PL_BUF_INIT;
	char expect[10001];
	for (int i = 0; i < 10000; i++) {
		pl_buf_putc(&b, (char)('a' + i % 26));
		expect[i] = (char)('a' + i % 26);
	}
	expect[10000] = '\0';
	assert_int_equal(b.len, 10000);
	assert_true(b.cap >= 10001);
	assert_string_equal(b.ptr, expect);
	/* a long printf in one go */
	pl_buf c = PL_BUF_INIT;
	pl_buf_printf(&c, "%s|%s", expect, expect);
	assert_int_equal(c.len, 20001);
	assert_int_equal(c.ptr[10000], '|');
	assert_int_equal(c.ptr[20001], '\0');
	pl_buf_dispose(&b);
	pl_buf_dispose(&c);
}

static void buf__put_literal_doubles_single_quotes(void **state)
{
	(void)state;
	pl_buf b = PL_BUF_INIT;
	pl_buf_put_literal(&b, "it's");
	pl_buf_putc(&b, ' ');
	pl_buf_put_literal(&b, "");
	pl_buf_putc(&b, ' ');
	pl_buf_put_literal(&b, "''");
	pl_buf_putc(&b, ' ');
	pl_buf_put_literal(&b, "say \"hi\"");
	assert_string_equal(pl_buf_cstr(&b), "'it''s' '' '''''' 'say \"hi\"'");
	pl_buf_dispose(&b);
}

static void buf__put_literal_null_writes_keyword(void **state)
{
	(void)state;
	pl_buf b = PL_BUF_INIT;
	pl_buf_put_literal(&b, NULL);
	assert_string_equal(pl_buf_cstr(&b), "NULL");
	pl_buf_dispose(&b);
}

static void buf__put_ident_doubles_double_quotes(void **state)
{
	(void)state;
	pl_buf b = PL_BUF_INIT;
	pl_buf_put_ident(&b, "a\"b");
	pl_buf_putc(&b, '.');
	pl_buf_put_ident(&b, "it's");
	pl_buf_putc(&b, '.');
	pl_buf_put_ident(&b, "");
	assert_string_equal(pl_buf_cstr(&b), "\"a\"\"b\".\"it's\".\"\"");
	pl_buf_dispose(&b);
}

static void buf__truncate_shortens_but_never_grows(void **state)
{
	(void)state;
	pl_buf b = PL_BUF_INIT;
	pl_buf_puts(&b, "hello world");
	pl_buf_truncate(&b, 5);
	assert_string_equal(pl_buf_cstr(&b), "hello");
	assert_int_equal(b.len, 5);
	pl_buf_truncate(&b, 50); /* larger than len: no-op */
	assert_string_equal(pl_buf_cstr(&b), "hello");
	assert_int_equal(b.len, 5);
	pl_buf_puts(&b, "!");
	assert_string_equal(pl_buf_cstr(&b), "hello!");
	pl_buf_truncate(&b, 0);
	assert_string_equal(pl_buf_cstr(&b), "");
	pl_buf_dispose(&b);

	pl_buf empty = PL_BUF_INIT;
	pl_buf_truncate(&empty, 0); /* no allocation yet: must not touch ptr */
	assert_null(empty.ptr);
}

static void buf__cstr_after_empty_append_is_empty_string(void **state)
{
	(void)state;
	pl_buf b = PL_BUF_INIT;
	pl_buf_puts(&b, ""); /* an append, even of nothing, terminates */
	const char *s = pl_buf_cstr(&b);
	assert_non_null(s);
	assert_string_equal(s, "");
	assert_int_equal(b.len, 0);
	pl_buf_dispose(&b);
}

static void buf__cstr_of_untouched_buffer_is_empty_string(void **state)
{
	(void)state;

	pl_buf b = PL_BUF_INIT;
	const char *s = pl_buf_cstr(&b);
	assert_non_null(s);
	assert_string_equal(s, "");
	pl_buf_dispose(&b);
	pl_buf e = PL_BUF_INIT;
	char *d = pl_buf_detach(&e);
	assert_non_null(d);
	assert_string_equal(d, "");
	free(d);
}

static void buf__detach_hands_over_and_resets(void **state)
{
	(void)state;
	pl_buf b = PL_BUF_INIT;
	pl_buf_puts(&b, "owned");
	char *s = pl_buf_detach(&b);
	assert_string_equal(s, "owned");
	assert_null(b.ptr);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	/* the buffer is reusable and independent of the detached string */
	pl_buf_puts(&b, "again");
	assert_string_equal(pl_buf_cstr(&b), "again");
	assert_string_equal(s, "owned");
	free(s);
	pl_buf_dispose(&b);
}

static void buf__oom_is_latched_and_detach_returns_null(void **state)
{
	(void)state;
	pl_buf b = PL_BUF_INIT;
	pl_buf_puts(&b, "abc");
	b.oom = true; /* as a failed realloc would leave it */
	pl_buf_puts(&b, "def");
	pl_buf_putc(&b, 'g');
	pl_buf_printf(&b, "%d", 1);
	assert_true(pl_buf_oom(&b));
	assert_int_equal(b.len, 3); /* nothing appended after the failure */
	char *s = pl_buf_detach(&b); /* frees the partial text */
	assert_null(s);
	assert_false(pl_buf_oom(&b)); /* reset */
	assert_null(b.ptr);
	pl_buf_puts(&b, "ok");
	assert_string_equal(pl_buf_cstr(&b), "ok");
	pl_buf_dispose(&b);
}

static void buf__dispose_resets_everything(void **state)
{
	(void)state;
	pl_buf b = PL_BUF_INIT;
	pl_buf_puts(&b, "x");
	b.oom = true;
	pl_buf_dispose(&b);
	assert_null(b.ptr);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	assert_false(b.oom);
	pl_buf_dispose(&b); /* twice is harmless */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(buf__puts_putc_put_append_in_order),
		cmocka_unit_test(buf__put_copies_embedded_bytes_and_terminates),
		cmocka_unit_test(buf__printf_formats_and_appends),
		cmocka_unit_test(buf__grows_past_initial_capacity),
		cmocka_unit_test(buf__put_literal_doubles_single_quotes),
		cmocka_unit_test(buf__put_literal_null_writes_keyword),
		cmocka_unit_test(buf__put_ident_doubles_double_quotes),
		cmocka_unit_test(buf__truncate_shortens_but_never_grows),
		cmocka_unit_test(buf__cstr_after_empty_append_is_empty_string),
		cmocka_unit_test(buf__cstr_of_untouched_buffer_is_empty_string),
		cmocka_unit_test(buf__detach_hands_over_and_resets),
		cmocka_unit_test(buf__oom_is_latched_and_detach_returns_null),
		cmocka_unit_test(buf__dispose_resets_everything),
	};
	return cmocka_run_group_tests_name("core/buf", tests, NULL, NULL);
}
