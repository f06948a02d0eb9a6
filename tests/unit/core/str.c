/*
 * tests/unit/core/str.c -- cmocka tests of the string helpers (src/core/str.c).
 *
 * Covers pl_strdup/pl_strndup (independent copies, NULL in, n bytes copied as given),
 * case-insensitive equality and prefix tests, suffix tests, and the owned string vector
 * (growth past its first capacity, NULL terminator kept, ownership taken even on failure).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/str.h"

static void str__strdup_copies_and_null_gives_null(void **state)
{
	(void)state;
	const char src[] = "hello";
	char *d = pl_strdup(src);
	assert_non_null(d);
	assert_string_equal(d, "hello");
	assert_ptr_not_equal(d, src);
	free(d);
	assert_null(pl_strdup(NULL));
	char *e = pl_strdup("");
	assert_non_null(e);
	assert_string_equal(e, "");
	free(e);
}

static void str__strndup_copies_n_bytes_and_terminates(void **state)
{
	(void)state;
	char *d = pl_strndup("abcdef", 3);
	assert_string_equal(d, "abc");
	free(d);
	d = pl_strndup("abc", 0);
	assert_string_equal(d, "");
	free(d);
	/* copies exactly n bytes, embedded NULs included (the SQLite driver relies on it for blobs) */
	d = pl_strndup("a\0b", 3);
	assert_memory_equal(d, "a\0b", 4);
	free(d);
}

static void str__ieq_ignores_ascii_case_only(void **state)
{
	(void)state;
	assert_true(pl_str_ieq("SELECT", "select"));
	assert_true(pl_str_ieq("MixEd_1", "mIXed_1"));
	assert_true(pl_str_ieq("", ""));
	assert_false(pl_str_ieq("abc", "abd"));
	assert_false(pl_str_ieq("abc", "ab"));
	assert_false(pl_str_ieq("ab", "abc"));
	assert_false(pl_str_ieq("", "a"));
	assert_false(pl_str_ieq("a_", "a-"));
}

static void str__has_prefix_i(void **state)
{
	(void)state;
	assert_true(pl_str_has_prefix_i("CREATE TABLE", "create"));
	assert_true(pl_str_has_prefix_i("abc", ""));
	assert_true(pl_str_has_prefix_i("abc", "ABC"));
	assert_false(pl_str_has_prefix_i("ab", "abc")); /* prefix longer than the string */
	assert_false(pl_str_has_prefix_i("", "a"));
	assert_false(pl_str_has_prefix_i("xabc", "abc"));
}

static void str__has_suffix_is_case_sensitive(void **state)
{
	(void)state;
	assert_true(pl_str_has_suffix("data.parquet", ".parquet"));
	assert_true(pl_str_has_suffix("dir/", "/"));
	assert_true(pl_str_has_suffix("abc", ""));
	assert_true(pl_str_has_suffix("abc", "abc"));
	assert_false(pl_str_has_suffix("data.PARQUET", ".parquet"));
	assert_false(pl_str_has_suffix("bc", "abc"));
	assert_false(pl_str_has_suffix("", "a"));
}

static void str__strv_push_grows_and_stays_null_terminated(void **state)
{
	(void)state;
	pl_strv v = PL_STRV_INIT;
	char name[16];
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		assert_int_equal(pl_strv_push(&v, name), 0);
		assert_int_equal(v.len, (size_t)i + 1);
		assert_null(v.items[v.len]); /* always terminated, also right after growing */
	}
	assert_true(v.cap >= 101);
	assert_string_equal(v.items[0], "s0");
	assert_string_equal(v.items[57], "s57");
	assert_string_equal(v.items[99], "s99");
	pl_strv_dispose(&v);
	assert_null(v.items);
	assert_int_equal(v.len, 0);
	assert_int_equal(v.cap, 0);
}

static void str__strv_push_copies_its_argument(void **state)
{
	(void)state;
	pl_strv v = PL_STRV_INIT;
	char buf[] = "mutable";
	assert_int_equal(pl_strv_push(&v, buf), 0);
	buf[0] = 'X';
	assert_string_equal(v.items[0], "mutable");
	pl_strv_dispose(&v);
}

static void str__strv_push_owned_takes_pointer_and_rejects_null(void **state)
{
	(void)state;
	pl_strv v = PL_STRV_INIT;
	char *s = pl_strdup("mine");
	assert_int_equal(pl_strv_push_owned(&v, s), 0);
	assert_ptr_equal(v.items[0], s);
	/* a NULL string is how a failed pl_strdup arrives: reported as out of memory */
	assert_int_equal(pl_strv_push_owned(&v, NULL), PL_ENOMEM);
	assert_int_equal(v.len, 1);
	pl_strv_dispose(&v);
}

static void str__strv_items_free_with_strv_free(void **state)
{
	(void)state;
	pl_strv v = PL_STRV_INIT;
	assert_int_equal(pl_strv_push(&v, "a"), 0);
	assert_int_equal(pl_strv_push(&v, "b"), 0);
	char **arr = v.items; /* the NULL-terminated array can be handed out */
	size_t n = 0;
	for (char **p = arr; *p; p++)
		n++;
	assert_int_equal(n, 2);
	pl_strv_free(arr); /* leak-checked under ASan */
	pl_strv_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(str__strdup_copies_and_null_gives_null),
		cmocka_unit_test(str__strndup_copies_n_bytes_and_terminates),
		cmocka_unit_test(str__ieq_ignores_ascii_case_only),
		cmocka_unit_test(str__has_prefix_i),
		cmocka_unit_test(str__has_suffix_is_case_sensitive),
		cmocka_unit_test(str__strv_push_grows_and_stays_null_terminated),
		cmocka_unit_test(str__strv_push_copies_its_argument),
		cmocka_unit_test(str__strv_push_owned_takes_pointer_and_rejects_null),
		cmocka_unit_test(str__strv_items_free_with_strv_free),
	};
	return cmocka_run_group_tests_name("core/str", tests, NULL, NULL);
}
