/*
 * tests/unit/core/err.c -- cmocka tests of the explicit error state (src/core/err.c).
 *
 * Covers pl_err_set (code + formatted message, returned code, NULL err tolerated, truncation at
 * PL_ERR_MSG_MAX), pl_err_wrap (prefixing, code kept, '%' in the old message not reinterpreted,
 * truncation of long prefixes/messages), pl_err_nomem and pl_err_clear.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "core/err.h"

static void err__set_formats_and_returns_code(void **state)
{
	(void)state;
	pl_err err = {0};
	int rc = pl_err_set(&err, PL_ENOTFOUND, "table \"%s\" not found at snapshot %d", "t", 3);
	assert_int_equal(rc, PL_ENOTFOUND);
	assert_int_equal(err.code, PL_ENOTFOUND);
	assert_string_equal(err.msg, "table \"t\" not found at snapshot 3");
	/* setting again replaces, not appends */
	pl_err_set(&err, PL_EIO, "disk");
	assert_int_equal(err.code, PL_EIO);
	assert_string_equal(err.msg, "disk");
}

static void err__set_with_null_err_still_returns_code(void **state)
{
	(void)state;
	assert_int_equal(pl_err_set(NULL, PL_EINVALID, "x %d", 1), PL_EINVALID);
	assert_int_equal(pl_err_wrap(NULL, "ctx"), PL_ERROR);
	pl_err_clear(NULL); /* must not crash */
}

static void err__set_truncates_long_messages(void **state)
{
	(void)state;
	static char big[PL_ERR_MSG_MAX * 2];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	pl_err err;
	pl_err_set(&err, PL_ERROR, "%s", big);
	assert_int_equal(strlen(err.msg), PL_ERR_MSG_MAX - 1);
}

static void err__wrap_prefixes_and_keeps_code(void **state)
{
	(void)state;
	pl_err err;
	pl_err_set(&err, PL_ECONFLICT, "table 5 was dropped");
	int rc = pl_err_wrap(&err, "while committing to lake '%s'", "lk");
	assert_int_equal(rc, PL_ECONFLICT);
	assert_int_equal(err.code, PL_ECONFLICT);
	assert_string_equal(err.msg, "while committing to lake 'lk': table 5 was dropped");
	/* wrapping twice nests */
	pl_err_wrap(&err, "outer");
	assert_string_equal(err.msg, "outer: while committing to lake 'lk': table 5 was dropped");
}

static void err__wrap_does_not_reinterpret_percent_in_old_message(void **state)
{
	(void)state;
	pl_err err;
	pl_err_set(&err, PL_EINVALID, "%s", "100%s done %d");
	pl_err_wrap(&err, "ctx");
	assert_string_equal(err.msg, "ctx: 100%s done %d");
}

static void err__wrap_without_code_returns_generic_error(void **state)
{
	(void)state;
	pl_err err;
	pl_err_clear(&err);
	assert_int_equal(pl_err_wrap(&err, "ctx"), PL_ERROR);
	assert_string_equal(err.msg, "ctx: ");
}

static void err__wrap_truncates_within_buffer(void **state)
{
	(void)state;
	static char big[PL_ERR_MSG_MAX * 2];
	memset(big, 'p', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	pl_err err;
	/* long old message: prefix kept whole, old message cut */
	memset(err.msg, 'o', sizeof(err.msg) - 1);
	err.msg[sizeof(err.msg) - 1] = '\0';
	err.code = PL_EIO;
	pl_err_wrap(&err, "pre");
	assert_true(strlen(err.msg) <= PL_ERR_MSG_MAX - 1);
	assert_memory_equal(err.msg, "pre: ooo", 8);
	/* prefix longer than the buffer: still NUL-terminated inside the buffer */
	pl_err_set(&err, PL_EIO, "old");
	assert_int_equal(pl_err_wrap(&err, "%s", big), PL_EIO);
	assert_true(strlen(err.msg) <= PL_ERR_MSG_MAX - 1);
	assert_int_equal(err.msg[0], 'p');
}

static void err__nomem_and_clear(void **state)
{
	(void)state;
	pl_err err;
	assert_int_equal(pl_err_nomem(&err), PL_ENOMEM);
	assert_int_equal(err.code, PL_ENOMEM);
	assert_string_equal(err.msg, "out of memory");
	pl_err_clear(&err);
	assert_int_equal(err.code, PL_OK);
	assert_string_equal(err.msg, "");
}

static void err__codes_are_the_stable_public_values(void **state)
{
	(void)state;
	/* include/planar/errors.h promises these never change */
	assert_int_equal(PL_OK, 0);
	assert_int_equal(PL_ERROR, -1);
	assert_int_equal(PL_ENOTFOUND, -3);
	assert_int_equal(PL_EINVALID, -5);
	assert_int_equal(PL_ECONFLICT, -6);
	assert_int_equal(PL_ENOMEM, -9);
	assert_int_equal(PL_EUNSUPPORTED, -10);
	assert_int_equal(PL_ECATALOG, -12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(err__set_formats_and_returns_code),
		cmocka_unit_test(err__set_with_null_err_still_returns_code),
		cmocka_unit_test(err__set_truncates_long_messages),
		cmocka_unit_test(err__wrap_prefixes_and_keeps_code),
		cmocka_unit_test(err__wrap_does_not_reinterpret_percent_in_old_message),
		cmocka_unit_test(err__wrap_without_code_returns_generic_error),
		cmocka_unit_test(err__wrap_truncates_within_buffer),
		cmocka_unit_test(err__nomem_and_clear),
		cmocka_unit_test(err__codes_are_the_stable_public_values),
	};
	return cmocka_run_group_tests_name("core/err", tests, NULL, NULL);
}
