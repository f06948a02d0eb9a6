/*
 * tests/unit/cli/sqltest.c -- unit tests of the sqllogictest runner (`planar test`).
 *
 * Covers parsing .test text into records (including malformed input), variable substitution
 * and skipif/onlyif conditions, value formatting/sorting/comparison and error matching, MD5
 * result hashes, and end to end runs of small files on an in-memory planar_db.
 *
 * The runner's sources live in src/cli/, which CMake links only into the `planar` executable,
 * so this program compiles them itself by including the .c files below (they use nothing but
 * the public planar.h API, which planar_lib provides). That also gives access to static helpers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <regex.h>

#include "cli/strbuf.c"
#include "cli/sqltest_util.c"
#include "cli/sqltest_parse.c"
#include "cli/sqltest_vars.c"
#include "cli/sqltest_compare.c"
#include "cli/sqltest_run.c"
#include "cli/sqltest_exec.c"
#include "cli/sqltest_loop.c"
#include "cli/sqltest_commands.c"
#include "cli/cmd_test.c"

/* ---- helpers ---- */

static pl_sqltest_file parse_ok(const char *text)
{
	pl_sqltest_file f;
	assert_int_equal(pl_sqltest_parse(text, &f), 0);
	return f;
}

static const pl_sqltest_record *last(const pl_sqltest_file *f)
{
	assert_true(f->n > 0);
	return &f->recs[f->n - 1];
}

/* POSIX extended regex with full-match semantics: stands in for DuckDB's RE2 here. */
static int posix_match(void *ud, const char *pattern, const char *text, bool *matched)
{
	(void)ud;
	regex_t re;
	char *anchored = malloc(strlen(pattern) + 5);
	assert_non_null(anchored);
	sprintf(anchored, "^(%s)$", pattern);
	int rc = regcomp(&re, anchored, REG_EXTENDED | REG_NOSUB);
	free(anchored);
	if (rc != 0)
		return -1;
	*matched = regexec(&re, text, 0, NULL, 0) == 0;
	regfree(&re);
	return 0;
}

static const pl_sqltest_matcher posix = {posix_match, NULL};

/* A table from a row-major list of values; every column gets the given type. */
static void make_table(pl_sqltest_table *t, size_t ncols, size_t nrows, pl_sqltest_coltype type,
	const char *const *cells)
{
	assert_int_equal(pl_sqltest_table_init(t, ncols, nrows), 0);
	for (size_t c = 0; c < ncols; c++) {
		t->names[c] = pl_sqltest_strdup("c");
		t->types[c] = type;
	}
	for (size_t i = 0; i < ncols * nrows; i++)
		t->cells[i] = pl_sqltest_strdup(cells[i]);
}

static void lines_of(pl_sqltest_strv *sv, const char *text)
{
	memset(sv, 0, sizeof *sv);
	if (text[0])
		assert_int_equal(pl_sqltest_strv_split(sv, text, '\n'), 0);
}

/* check_result on a table and expected text; returns the verdict, *why kept for asserts. */
static int check(const pl_sqltest_table *t, size_t declared, const char *expected, char **why)
{
	pl_sqltest_strv lines;
	lines_of(&lines, expected);
	int rc = pl_sqltest_check_result(t, declared, &lines, &posix, why);
	pl_sqltest_strv_free(&lines);
	return rc;
}

/* ---- util ---- */

static void test_util(void **state)
{
	(void)state;
	long long v;
	assert_true(pl_sqltest_parse_long(" -12 ", &v));
	assert_int_equal(v, -12);
	assert_false(pl_sqltest_parse_long("12x", &v));
	assert_false(pl_sqltest_parse_long("", &v));

	pl_sqltest_strv sv = {0};
	assert_int_equal(pl_sqltest_strv_split(&sv, "a\t\tb", '\t'), 0);
	assert_int_equal(sv.n, 3);
	assert_string_equal(sv.v[1], "");
	pl_sqltest_strv_free(&sv);

	pl_cli_buf b = {0};
	pl_cli_buf_put_escaped(&b, "a\tb\nc", 100);
	char *s = pl_cli_buf_detach(&b);
	assert_string_equal(s, "a\\tb\\nc");
	free(s);
	pl_cli_buf_put_escaped(&b, "abcdef", 3);
	s = pl_cli_buf_detach(&b);
	assert_string_equal(s, "abc...");
	free(s);
}

/* ---- parser ---- */

static void test_parse_statements(void **state)
{
	(void)state;
	pl_sqltest_file f = parse_ok("# comment\n"
				     "statement ok\n"
				     "CREATE TABLE t(i INTEGER);\n"
				     "\n"
				     "statement error con1\n"
				     "SELECT *\n"
				     "FROM nope\n"
				     "----\n"
				     "does not exist\n"
				     "\n"
				     "statement maybe\r\n"
				     "SELECT 1\r\n");
	assert_int_equal(f.n, 3);
	assert_int_equal(f.recs[0].kind, PL_SQLTEST_STATEMENT);
	assert_int_equal(f.recs[0].expect, PL_SQLTEST_EXPECT_OK);
	assert_int_equal(f.recs[0].line, 2);
	assert_string_equal(f.recs[0].sql, "CREATE TABLE t(i INTEGER);");
	assert_int_equal(f.recs[1].expect, PL_SQLTEST_EXPECT_ERROR);
	assert_string_equal(f.recs[1].sql, "SELECT *\nFROM nope");
	assert_string_equal(f.recs[1].conn_name, "con1");
	assert_true(f.recs[1].has_dashes);
	assert_int_equal(f.recs[1].expected.n, 1);
	assert_string_equal(f.recs[1].expected.v[0], "does not exist");
	assert_int_equal(f.recs[2].expect, PL_SQLTEST_EXPECT_MAYBE);
	assert_string_equal(f.recs[2].sql, "SELECT 1");
	pl_sqltest_file_free(&f);
}

static void test_parse_queries(void **state)
{
	(void)state;
	pl_sqltest_file f = parse_ok("query IT rowsort\n"
				     "SELECT 1, 'a'\n"
				     "----\n"
				     "1\ta\n"
				     "\n"
				     "query I con2\n"
				     "SELECT 1\n"
				     "----\n"
				     "1\n"
				     "\n"
				     "query R nosort mylabel\n"
				     "SELECT 1.5\n"
				     "\n"
				     "query T valuesort\n"
				     "SELECT 'x'\n"
				     "----\n"
				     "# not a comment here\n");
	assert_int_equal(f.n, 4);
	assert_int_equal(f.recs[0].kind, PL_SQLTEST_QUERY);
	assert_string_equal(f.recs[0].types, "IT");
	assert_int_equal(f.recs[0].sort, PL_SQLTEST_ROWSORT);
	assert_string_equal(f.recs[0].expected.v[0], "1\ta");
	assert_string_equal(f.recs[1].conn_name, "con2");
	assert_int_equal(f.recs[1].sort, PL_SQLTEST_NOSORT);
	assert_string_equal(f.recs[2].label, "mylabel");
	assert_false(f.recs[2].has_dashes);
	assert_int_equal(f.recs[3].sort, PL_SQLTEST_VALUESORT);
	assert_string_equal(f.recs[3].expected.v[0], "# not a comment here");
	pl_sqltest_file_free(&f);
}

static void test_parse_loops_and_commands(void **state)
{
	(void)state;
	pl_sqltest_file f = parse_ok("require parquet\n"
				     "\n"
				     "loop i 0 3\n"
				     "\n"
				     "foreach t a b\n"
				     "\n"
				     "statement ok\n"
				     "SELECT ${i}, '${t}'\n"
				     "\n"
				     "endloop\n"
				     "\n"
				     "endloop\n"
				     "\n"
				     "mode output_result\n"
				     "\n"
				     "sleep 1 millisecond\n"
				     "\n"
				     "halt\n"
				     "\n"
				     "this is never read\n");
	assert_int_equal(f.n, 9);
	assert_int_equal(f.recs[0].kind, PL_SQLTEST_REQUIRE);
	assert_int_equal(f.recs[1].kind, PL_SQLTEST_LOOP);
	assert_int_equal(f.recs[1].end, 5);
	assert_int_equal(f.recs[2].kind, PL_SQLTEST_FOREACH);
	assert_int_equal(f.recs[2].end, 4);
	assert_int_equal(f.recs[6].kind, PL_SQLTEST_NOOP);
	assert_int_equal(f.recs[7].kind, PL_SQLTEST_SLEEP);
	assert_int_equal(f.recs[8].kind, PL_SQLTEST_HALT);
	pl_sqltest_file_free(&f);
}

static void test_parse_conditions_and_skip(void **state)
{
	(void)state;
	pl_sqltest_file f = parse_ok("skipif duckdb\n"
				     "onlyif i=1 && j<>2\n"
				     "statement ok\n"
				     "SELECT 1\n"
				     "\n"
				     "mode skip\n"
				     "\n"
				     "statement ok\n"
				     "SELECT broken\n"
				     "\n"
				     "nonsense command\n"
				     "\n"
				     "mode unskip\n"
				     "\n"
				     "statement ok\n"
				     "SELECT 2\n");
	assert_int_equal(f.n, 2);
	assert_int_equal(f.recs[0].nconds, 2);
	assert_true(f.recs[0].conds[0].skip_if);
	assert_string_equal(f.recs[0].conds[0].text, "duckdb");
	assert_false(f.recs[0].conds[1].skip_if);
	assert_string_equal(f.recs[0].conds[1].text, "i=1 && j<>2");
	assert_int_equal(f.recs[0].line, 3);
	assert_string_equal(f.recs[1].sql, "SELECT 2");
	pl_sqltest_file_free(&f);
}

/* Each malformed text gives a final INVALID record at the given line. */
static void test_parse_invalid(void **state)
{
	(void)state;
	static const struct { const char *text; size_t line; const char *msg; } cases[] = {
		{"statement ok\nSELECT 1\n\nfrobnicate\n", 4, "unknown command"},
		{"statement ok\nSELECT 1\n----\nx\n", 1, "statement ok cannot"},
		{"statement perhaps\nSELECT 1\n", 1, "ok, error or maybe"},
		{"statement ok\n\n", 1, "without SQL"},
		{"query 2\nSELECT 1\n", 1, "letters"},
		{"query\nSELECT 1\n", 1, "column types"},
		{"loop i 0\n", 1, "wrong number"},
		{"loop i a b\n", 1, "two integers"},
		{"loop i 0 2\n\nstatement ok\nSELECT 1\n", 1, "without endloop"},
		{"endloop\n", 1, "without a loop"},
		{"require parquet\nstatement ok\n", 1, "empty line"},
		{"skipif duckdb\n\nstatement ok\nSELECT 1\n", 1, "followed by a command"},
		{"sleep x seconds\n", 1, "duration"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		pl_sqltest_file f = parse_ok(cases[i].text);
		const pl_sqltest_record *r = last(&f);
		assert_int_equal(r->kind, PL_SQLTEST_INVALID);
		assert_int_equal(r->line, cases[i].line);
		if (!strstr(r->error, cases[i].msg))
			fail_msg("case %zu: '%s' lacks '%s'", i, r->error, cases[i].msg);
		pl_sqltest_file_free(&f);
	}
}

/* ---- variables and conditions ---- */

static void test_subst(void **state)
{
	(void)state;
	pl_sqltest_vars v = {0};
	assert_int_equal(pl_sqltest_vars_set(&v, "TEST_DIR", "/tmp/x"), 0);
	assert_int_equal(pl_sqltest_vars_set(&v, "i", "1"), 0);
	assert_int_equal(pl_sqltest_vars_set(&v, "DATA", "{TEST_DIR}/data"), 0);
	assert_int_equal(pl_sqltest_vars_set(&v, "SELF", "${SELF}"), 0);
	char *s = pl_sqltest_subst(&v, "${i} {i} {j} ${DATA} __TEST_DIR__/a {'i': 1} ${");
	assert_string_equal(s, "1 1 {j} /tmp/x/data /tmp/x/a {'i': 1} ${");
	free(s);
	s = pl_sqltest_subst(&v, "${SELF}"); /* bounded, never loops */
	assert_string_equal(s, "${SELF}");
	free(s);
	/* 16 references to itself at every level: 16^8 expansions unless the output is bounded */
	assert_int_equal(pl_sqltest_vars_set(&v, "WIDE", "x${WIDE}${WIDE}${WIDE}${WIDE}${WIDE}${WIDE}${WIDE}${WIDE}"
							 "${WIDE}${WIDE}${WIDE}${WIDE}${WIDE}${WIDE}${WIDE}${WIDE}"), 0);
	s = pl_sqltest_subst(&v, "${WIDE}");
	assert_non_null(s);
	assert_true(strlen(s) <= (16u << 20) + 4096); /* the last value may finish */
	free(s);

	assert_int_equal(pl_sqltest_vars_push(&v, "i", "2"), 0); /* a loop shadows */
	s = pl_sqltest_subst(&v, "${i}");
	assert_string_equal(s, "2");
	free(s);
	pl_sqltest_vars_pop(&v, 1);
	assert_string_equal(pl_sqltest_vars_get(&v, "i"), "1");

	s = pl_sqltest_subst(&v, "{UUID} {UUID}");
	assert_int_equal(strlen(s), 73);
	assert_int_equal(s[14], '4');
	assert_true(strncmp(s, s + 37, 36) != 0);
	free(s);
	pl_sqltest_vars_free(&v);
}

static int cond(const pl_sqltest_vars *v, bool skip_if, const char *text)
{
	pl_sqltest_cond c = {skip_if, (char *)text};
	char *why = NULL;
	int rc = pl_sqltest_cond_runs(v, &c, &why);
	assert_true((rc < 0) == (why != NULL));
	free(why);
	return rc;
}

static void test_conditions(void **state)
{
	(void)state;
	pl_sqltest_vars v = {0};
	assert_int_equal(pl_sqltest_vars_set(&v, "i", "2"), 0);
	assert_int_equal(pl_sqltest_vars_set(&v, "CATALOG", "sqlite"), 0);
	assert_int_equal(cond(&v, true, "duckdb"), 0);
	assert_int_equal(cond(&v, true, "planar"), 0);
	assert_int_equal(cond(&v, true, "postgresql"), 1);
	assert_int_equal(cond(&v, false, "duckdb"), 1);
	assert_int_equal(cond(&v, false, "mysql"), 0);
	assert_int_equal(cond(&v, true, "i=2"), 0);
	assert_int_equal(cond(&v, true, "i=10"), 1);
	assert_int_equal(cond(&v, false, "i<10"), 1); /* numeric, not text, order */
	assert_int_equal(cond(&v, false, "i>=2 && CATALOG<>duckdb"), 1);
	assert_int_equal(cond(&v, false, "i>=2 && catalog=duckdb"), 0);
	assert_int_equal(cond(&v, false, "nope=1"), -1);
	pl_sqltest_vars_free(&v);
}

/* ---- values and results ---- */

static void test_format_and_types(void **state)
{
	(void)state;
	char *s = pl_sqltest_format_value(NULL, PL_SQLTEST_COL_TEXT);
	assert_string_equal(s, "NULL");
	free(s);
	s = pl_sqltest_format_value("", PL_SQLTEST_COL_TEXT);
	assert_string_equal(s, "(empty)");
	free(s);
	s = pl_sqltest_format_value("true", PL_SQLTEST_COL_BOOL);
	assert_string_equal(s, "1");
	free(s);
	s = pl_sqltest_format_value("false", PL_SQLTEST_COL_BOOL);
	assert_string_equal(s, "0");
	free(s);
	s = pl_sqltest_format_value("true", PL_SQLTEST_COL_TEXT);
	assert_string_equal(s, "true");
	free(s);
	assert_int_equal(pl_sqltest_coltype_of("DOUBLE", true), PL_SQLTEST_COL_FLOAT);
	assert_int_equal(pl_sqltest_coltype_of("FLOAT", true), PL_SQLTEST_COL_FLOAT);
	assert_int_equal(pl_sqltest_coltype_of("DECIMAL(18,3)", true), PL_SQLTEST_COL_EXACT);
	assert_int_equal(pl_sqltest_coltype_of("HUGEINT", true), PL_SQLTEST_COL_EXACT);
	assert_int_equal(pl_sqltest_coltype_of("BOOLEAN", false), PL_SQLTEST_COL_BOOL);
	assert_int_equal(pl_sqltest_coltype_of("VARCHAR", false), PL_SQLTEST_COL_TEXT);
}

static void test_value_matches(void **state)
{
	(void)state;
	assert_true(pl_sqltest_value_matches("abc", "abc", PL_SQLTEST_COL_TEXT, NULL));
	assert_false(pl_sqltest_value_matches("abc", "abd", PL_SQLTEST_COL_TEXT, NULL));
	assert_true(pl_sqltest_value_matches("1.50", "1.5", PL_SQLTEST_COL_EXACT, NULL));
	assert_true(pl_sqltest_value_matches("100", "1e2", PL_SQLTEST_COL_EXACT, NULL));
	assert_true(pl_sqltest_value_matches("-0.0", "0", PL_SQLTEST_COL_EXACT, NULL));
	assert_false(pl_sqltest_value_matches("170141183460469231731687303715884105727",
		"170141183460469231731687303715884105726", PL_SQLTEST_COL_EXACT, NULL));
	assert_false(pl_sqltest_value_matches("1.5", "1.6", PL_SQLTEST_COL_EXACT, NULL));
	assert_false(pl_sqltest_value_matches("NULL", "0", PL_SQLTEST_COL_EXACT, NULL));
	assert_true(pl_sqltest_value_matches("0.3333333333", "0.333", PL_SQLTEST_COL_FLOAT, NULL));
	assert_false(pl_sqltest_value_matches("0.35", "0.333", PL_SQLTEST_COL_FLOAT, NULL));
	assert_true(pl_sqltest_value_matches("nan", "NaN", PL_SQLTEST_COL_FLOAT, NULL));
	assert_true(pl_sqltest_value_matches("-inf", "-inf", PL_SQLTEST_COL_FLOAT, NULL));
	assert_false(pl_sqltest_value_matches("inf", "1e308", PL_SQLTEST_COL_FLOAT, NULL));
	assert_true(pl_sqltest_value_matches("true", "1", PL_SQLTEST_COL_BOOL, NULL));
	assert_true(pl_sqltest_value_matches("false", "FALSE", PL_SQLTEST_COL_BOOL, NULL));
	assert_false(pl_sqltest_value_matches("true", "0", PL_SQLTEST_COL_BOOL, NULL));
	assert_false(pl_sqltest_value_matches("1", "1.0", PL_SQLTEST_COL_TEXT, NULL));
	assert_true(pl_sqltest_value_matches("abc123", "<REGEX>:abc[0-9]+", PL_SQLTEST_COL_TEXT, &posix));
	assert_false(pl_sqltest_value_matches("abc", "<REGEX>:ab", PL_SQLTEST_COL_TEXT, &posix));
	assert_true(pl_sqltest_value_matches("abc", "<!REGEX>:x.*", PL_SQLTEST_COL_TEXT, &posix));
	assert_false(pl_sqltest_value_matches("abc", "<REGEX>:abc", PL_SQLTEST_COL_TEXT, NULL));
}

static void test_sort(void **state)
{
	(void)state;
	static const char *const cells[] = {"b", "1", "a", "2", "ab", "0", "a", "1"};
	pl_sqltest_table t;
	make_table(&t, 2, 4, PL_SQLTEST_COL_TEXT, cells);
	pl_sqltest_table_sort(&t, PL_SQLTEST_ROWSORT);
	pl_cli_buf b = {0};
	assert_int_equal(pl_sqltest_table_format(&t, &b), 0);
	assert_string_equal(b.ptr, "a\t1\na\t2\nab\t0\nb\t1\n");
	pl_cli_buf_dispose(&b);
	pl_sqltest_table_sort(&t, PL_SQLTEST_VALUESORT);
	assert_string_equal(t.cells[0], "0");
	assert_string_equal(t.cells[7], "b");
	pl_sqltest_table_free(&t);
}

static void test_check_result(void **state)
{
	(void)state;
	static const char *const cells[] = {"1", "a", "2", "(empty)", "3", "NULL"};
	pl_sqltest_table t;
	char *why = NULL;
	make_table(&t, 2, 3, PL_SQLTEST_COL_TEXT, cells);
	t.types[0] = PL_SQLTEST_COL_EXACT;

	assert_int_equal(check(&t, 2, "1\ta\n2\t(empty)\n3\tNULL", &why), 1);
	assert_int_equal(check(&t, 2, "1\na\n2\n(empty)\n3\nNULL", &why), 1); /* value-wise */
	assert_int_equal(check(&t, 2, "1.0\ta\n2\t(empty)\n3\tNULL", &why), 1);

	assert_int_equal(check(&t, 2, "1\ta\n2\tb\n3\tNULL", &why), 0);
	assert_string_equal(why, "row 2, column 2 (c): expected 'b' but got '(empty)'");
	free(why);
	assert_int_equal(check(&t, 2, "1\ta\n2\t(empty)", &why), 0);
	assert_string_equal(why, "expected 2 rows but got 3; got: 1\\ta | 2\\t(empty) | 3\\tNULL");
	free(why);
	assert_int_equal(check(&t, 3, "1\ta", &why), 0);
	assert_non_null(strstr(why, "declares 3 columns but the result has 2"));
	free(why);
	assert_int_equal(check(&t, 2, "1\ta\tx\n2\t(empty)\n3\tNULL", &why), 0);
	assert_non_null(strstr(why, "row 1 has 3 values"));
	free(why);
	assert_int_equal(check(&t, 2, "1\na\n2\n(empty)\n3", &why), 0);
	assert_non_null(strstr(why, "not a multiple of 2"));
	free(why);
	assert_int_equal(check(&t, 2, "<FILE>:x.csv", &why), 0);
	free(why);
	pl_sqltest_table_free(&t);

	pl_sqltest_table empty;
	make_table(&empty, 1, 0, PL_SQLTEST_COL_TEXT, NULL);
	assert_int_equal(check(&empty, 1, "", &why), 1);
	assert_int_equal(check(&empty, 1, "x", &why), 0);
	assert_string_equal(why, "expected 1 rows but got 0");
	free(why);
	pl_sqltest_table_free(&empty);
}

static void test_md5_and_hash(void **state)
{
	(void)state;
	char hex[33];
	pl_sqltest_md5_hex("", 0, hex);
	assert_string_equal(hex, "d41d8cd98f00b204e9800998ecf8427e");
	pl_sqltest_md5_hex("abc", 3, hex);
	assert_string_equal(hex, "900150983cd24fb0d6963f7d28e17f72");
	const char *long_text = "12345678901234567890123456789012345678901234567890123456789012345678901234567890";
	pl_sqltest_md5_hex(long_text, strlen(long_text), hex);
	assert_string_equal(hex, "57edf4a22be3c955ac49da2e2107b67a");

	static const char *const cells[] = {"1", "2"};
	pl_sqltest_table t;
	make_table(&t, 1, 2, PL_SQLTEST_COL_EXACT, cells);
	char *hash = pl_sqltest_table_hash(&t);
	pl_sqltest_md5_hex("1\n2\n", 4, hex);
	char want[80];
	snprintf(want, sizeof want, "2 values hashing to %s", hex);
	assert_string_equal(hash, want);
	assert_true(pl_sqltest_is_hash_line(hash));
	assert_false(pl_sqltest_is_hash_line("2 values hashing to abc"));
	char *why = NULL;
	assert_int_equal(check(&t, 1, hash, &why), 1);
	assert_int_equal(check(&t, 1, "2 values hashing to 00000000000000000000000000000000", &why), 0);
	free(why);
	free(hash);
	pl_sqltest_table_free(&t);
}

static void test_check_error(void **state)
{
	(void)state;
	char *why = NULL;
	const char *msg = "Catalog Error: Table with name nope does not exist!\nLINE 1: ...";
	assert_int_equal(pl_sqltest_check_error(msg, NULL, &posix, &why), 1);
	assert_int_equal(pl_sqltest_check_error(msg, "", &posix, &why), 1);
	assert_int_equal(pl_sqltest_check_error(msg, "does not exist", &posix, &why), 1);
	assert_int_equal(pl_sqltest_check_error(msg, "<REGEX>:Catalog Error.*nope.*", &posix, &why), 1);
	assert_int_equal(pl_sqltest_check_error(msg, "<!REGEX>:.*Binder.*", &posix, &why), 1);
	assert_int_equal(pl_sqltest_check_error(msg, "Binder Error", &posix, &why), 0);
	assert_non_null(strstr(why, "expected error 'Binder Error' but got 'Catalog Error"));
	assert_null(strchr(why, '\n'));
	free(why);
}

/* ---- end to end: needs planar_lib to run SQL ---- */

/* Runs text as a .test file; returns the status and the FAIL output in *out (caller frees). */
static pl_sqltest_status run_text(const char *text, const char *const *env, size_t nenv, char **out)
{
	char path[] = "/tmp/planar-sqltest-unit-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	assert_non_null(mem);
	pl_sqltest_opts opts = {env, nenv, false, mem};
	char *reason = NULL;
	pl_sqltest_status st = pl_sqltest_run_file(path, &opts, &reason);
	fclose(mem);
	free(reason);
	unlink(path);
	*out = buf;
	return st;
}

static void test_run_passing_file(void **state)
{
	(void)state;
	static const char *const env[] = {"GREETING=hello"};
	char *out = NULL;
	pl_sqltest_status st = run_text("test-env WHO world\n"
					"\n"
					"statement ok\n"
					"CREATE TABLE t AS SELECT range AS i FROM range(3)\n"
					"\n"
					"loop j 0 2\n"
					"\n"
					"statement ok con1\n"
					"INSERT INTO t VALUES (${j} + 10)\n"
					"\n"
					"endloop\n"
					"\n"
					"query IT rowsort\n"
					"SELECT i, '${GREETING} {WHO}' FROM t WHERE i >= 1\n"
					"----\n"
					"1\thello world\n"
					"10\thello world\n"
					"11\thello world\n"
					"2\thello world\n"
					"\n"
					"statement error\n"
					"SELECT * FROM nope\n"
					"----\n"
					"<REGEX>:.*nope.*\n",
		env, 1, &out);
	if (st != PL_SQLTEST_PASSED)
		fail_msg("unexpected failures:\n%s", out);
	free(out);
}

static void test_run_failing_file(void **state)
{
	(void)state;
	char *out = NULL;
	pl_sqltest_status st = run_text("query I\n"
					"SELECT 1\n"
					"----\n"
					"2\n"
					"\n"
					"statement error\n"
					"SELECT 1\n"
					"\n"
					"bogus\n",
		NULL, 0, &out);
	assert_int_equal(st, PL_SQLTEST_FAILED);
	assert_non_null(strstr(out, ":1: row 1, column 1"));
	assert_non_null(strstr(out, ":6: statement succeeded but an error was expected"));
	assert_non_null(strstr(out, ":9: unknown command 'bogus'"));
	free(out);
	/* a malformed record is reported even when a condition would skip it */
	st = run_text("onlyif mysql\nstatement perhaps\nSELECT 1\n", NULL, 0, &out);
	assert_int_equal(st, PL_SQLTEST_FAILED);
	assert_non_null(strstr(out, ":2: statement must be followed by ok, error or maybe"));
	free(out);
}

/* A labeled query is checked by its hash only: the declared column count and the (empty)
 * expected lines are not compared; a later query of the label must give the same values. */
static void test_run_labels(void **state)
{
	(void)state;
	char *out = NULL;
	pl_sqltest_status st = run_text("query I nosort three\n"
					"SELECT 1 AS a, 'x' AS b, NULL AS c\n"
					"----\n"
					"\n"
					"query I nosort three\n"
					"SELECT * FROM (VALUES (1, 'x', NULL)) v(p, q, r)\n"
					"----\n",
		NULL, 0, &out);
	if (st != PL_SQLTEST_PASSED)
		fail_msg("unexpected failures:\n%s", out);
	free(out);
	st = run_text("query I nosort three\n"
		      "SELECT 1 AS a, 'x' AS b\n"
		      "----\n"
		      "\n"
		      "query I nosort three\n"
		      "SELECT 1 AS a, 'y' AS b\n"
		      "----\n",
		NULL, 0, &out);
	assert_int_equal(st, PL_SQLTEST_FAILED);
	assert_non_null(strstr(out, ":5: result differs from the earlier query labeled 'three'"));
	free(out);
	/* a hash line is compared whatever the declared column count */
	st = run_text("query I\n"
		      "SELECT 1, 2\n"
		      "----\n"
		      "2 values hashing to 6ddb4095eb719e2a9f0a3f95677d24e0\n",
		NULL, 0, &out);
	if (st != PL_SQLTEST_PASSED)
		fail_msg("unexpected failures:\n%s", out);
	free(out);
}

static void test_run_skipped_file(void **state)
{
	(void)state;
	char *out = NULL;
	assert_int_equal(run_text("require spatial\n\nstatement ok\nSELECT nope\n", NULL, 0, &out),
		PL_SQLTEST_SKIPPED);
	assert_string_equal(out, "");
	free(out);
	assert_int_equal(run_text("require-env PLANAR_SURELY_UNDEFINED_VAR\n", NULL, 0, &out),
		PL_SQLTEST_SKIPPED);
	free(out);
	/* the engine's extensions are never missing: a file that needs them to be is skipped */
	assert_int_equal(run_text("require no_extension_autoloading \"EXPECTED no parquet\"\n\nstatement error\n"
				  "COPY (SELECT 1) TO '/dev/null' (FORMAT parquet)\n----\nMissing Extension\n",
				  NULL, 0, &out),
		PL_SQLTEST_SKIPPED);
	free(out);
}

static void test_cli_args(void **state)
{
	(void)state;
	char *bad_opt[] = {"test", "--frob", "x.test", NULL};
	char *bad_env[] = {"test", "--env", "NOVALUE", "x.test", NULL};
	char *no_files[] = {"test", "-v", NULL};
	assert_int_equal(pl_cli_test_main(3, bad_opt), 2);
	assert_int_equal(pl_cli_test_main(4, bad_env), 2);
	assert_int_equal(pl_cli_test_main(2, no_files), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_util),
		cmocka_unit_test(test_parse_statements),
		cmocka_unit_test(test_parse_queries),
		cmocka_unit_test(test_parse_loops_and_commands),
		cmocka_unit_test(test_parse_conditions_and_skip),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_subst),
		cmocka_unit_test(test_conditions),
		cmocka_unit_test(test_format_and_types),
		cmocka_unit_test(test_value_matches),
		cmocka_unit_test(test_sort),
		cmocka_unit_test(test_check_result),
		cmocka_unit_test(test_md5_and_hash),
		cmocka_unit_test(test_check_error),
		cmocka_unit_test(test_run_passing_file),
		cmocka_unit_test(test_run_failing_file),
		cmocka_unit_test(test_run_labels),
		cmocka_unit_test(test_run_skipped_file),
		cmocka_unit_test(test_cli_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
