/*
 * tests/unit/cli/render.c -- cmocka tests of the shell's result renderers (src/cli/render*.c).
 *
 * The files of src/cli are linked only into the `planar` executable, not into planar_lib, so this test
 * includes render.c, render_box.c and render_text.c directly; that also gives it their static helpers
 * (escaping, shortening and pruning of box columns, JSON number detection). Whole-result checks run real queries on an
 * in-memory planar_db and render into a memory stream.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/render.c" /* not in planar_lib: see above */
#include "cli/render_box.c"
#include "cli/render_text.c"

/* ---- helpers ---------------------------------------------------------------------------------- */

typedef struct fixture {
	planar_db *db;
	planar_conn *conn;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof *f);
	if (!f || planar_db_open(&f->db, NULL, NULL) != 0 || planar_conn_open(&f->conn, f->db, NULL) != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	planar_conn_free(f->conn);
	planar_db_free(f->db);
	free(f);
	return 0;
}

/* Renders the result of sql with opts; the caller frees the text. */
static char *render_sql(void **state, const char *sql, const pl_render_opts *opts)
{
	fixture *f = *state;
	planar_result *res = NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	assert_non_null(out);
	if (planar_conn_query(f->conn, sql, &res) != 0)
		fail_msg("query failed: %s", planar_conn_errmsg(f->conn));
	assert_int_equal(pl_render_result(out, res, opts), 0);
	fclose(out);
	planar_result_free(res);
	return text;
}

static char *render_mode(void **state, pl_render_mode mode, const char *sql)
{
	pl_render_opts opts;
	pl_render_opts_init(&opts);
	opts.mode = mode;
	return render_sql(state, sql, &opts);
}

static void assert_render(char *got, const char *want)
{
	bool same = strcmp(got, want) == 0;
	if (!same)
		print_error("rendered:\n%s\nwanted:\n%s\n", got, want);
	free(got);
	assert_true(same);
}

/* ---- text helpers ------------------------------------------------------------------------------- */

static void test_text_width(void **state)
{
	(void)state;
	assert_int_equal(pl_render_text_width(""), 0);
	assert_int_equal(pl_render_text_width(NULL), 0);
	assert_int_equal(pl_render_text_width("hello"), 5);
	assert_int_equal(pl_render_text_width("\303\251t\303\251"), 3);             /* été */
	assert_int_equal(pl_render_text_width("\344\270\226\347\225\214"), 4);     /* 世界 */
	assert_int_equal(pl_render_text_width("e\314\201"), 1);                    /* e + combining acute */
	assert_int_equal(pl_render_text_width("\360\237\230\200"), 2);             /* emoji */
	assert_int_equal(pl_render_text_width("a\377b"), 3);                       /* invalid byte */
	assert_int_equal(pl_render_text_width("\344\270"), 2);                     /* truncated sequence */
}

static void test_utf8_prefix(void **state)
{
	size_t w;
	(void)state;
	assert_int_equal(pl_render_text_prefix("hello", 3, &w), 3);
	assert_int_equal(w, 3);
	assert_int_equal(pl_render_text_prefix("\344\270\226\347\225\214", 3, &w), 3); /* one wide char fits */
	assert_int_equal(w, 2);
	assert_int_equal(pl_render_text_prefix("ab", 10, &w), 2);
	assert_int_equal(w, 2);
}

static void test_type_name(void **state)
{
	char buf[64];
	(void)state;
	pl_render_type_name("INTEGER", buf, sizeof buf);
	assert_string_equal(buf, "int32");
	pl_render_type_name("BIGINT", buf, sizeof buf);
	assert_string_equal(buf, "int64");
	pl_render_type_name("HUGEINT", buf, sizeof buf);
	assert_string_equal(buf, "int128");
	pl_render_type_name("UTINYINT", buf, sizeof buf);
	assert_string_equal(buf, "uint8");
	pl_render_type_name("VARCHAR", buf, sizeof buf);
	assert_string_equal(buf, "varchar");
	pl_render_type_name("DECIMAL(18,3)", buf, sizeof buf);
	assert_string_equal(buf, "decimal(18,3)");
	pl_render_type_name("INTEGER[]", buf, sizeof buf);
	assert_string_equal(buf, "int32[]");
	pl_render_type_name("VARCHAR[][]", buf, sizeof buf);
	assert_string_equal(buf, "varchar[][]");
	pl_render_type_name("STRUCT(a INTEGER)", buf, sizeof buf);
	assert_string_equal(buf, "struct(a integer)");
	pl_render_type_name("TIMESTAMP WITH TIME ZONE", buf, 6);
	assert_string_equal(buf, "times");
	pl_render_type_name(NULL, buf, sizeof buf);
	assert_string_equal(buf, "");
}

static char *capture(int (*fn)(FILE *, const char *), const char *text)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	assert_non_null(f);
	assert_int_equal(fn(f, text), 0);
	fclose(f);
	return out;
}

static int csv_comma(FILE *f, const char *text)
{
	return pl_render_csv_field(f, text, ',');
}

static void test_csv_field(void **state)
{
	(void)state;
	assert_render(capture(csv_comma, "plain"), "plain");
	assert_render(capture(csv_comma, ""), "");
	assert_render(capture(csv_comma, "a,b"), "\"a,b\"");
	assert_render(capture(csv_comma, "say \"hi\""), "\"say \"\"hi\"\"\"");
	assert_render(capture(csv_comma, "two\nlines"), "\"two\nlines\"");
	assert_render(capture(csv_comma, "it's \303\251"), "it's \303\251");
}

static void test_json_string(void **state)
{
	(void)state;
	assert_render(capture(pl_render_json_string, "plain"), "\"plain\"");
	assert_render(capture(pl_render_json_string, "q\"b\\"), "\"q\\\"b\\\\\"");
	assert_render(capture(pl_render_json_string, "\t\n\r\b\f"), "\"\\t\\n\\r\\b\\f\"");
	assert_render(capture(pl_render_json_string, "\001"), "\"\\u0001\"");
	assert_render(capture(pl_render_json_string, "\303\251"), "\"\303\251\"");
}

static void test_json_number(void **state)
{
	(void)state;
	assert_true(json_is_number("0"));
	assert_true(json_is_number("-12"));
	assert_true(json_is_number("1.5"));
	assert_true(json_is_number("1e+20"));
	assert_true(json_is_number("-2.5E-3"));
	assert_false(json_is_number(""));
	assert_false(json_is_number("01"));
	assert_false(json_is_number("1."));
	assert_false(json_is_number("inf"));
	assert_false(json_is_number("nan"));
	assert_false(json_is_number("-"));
	assert_false(json_is_number("1e"));
}

static void test_escape_text(void **state)
{
	char *s;
	(void)state;
	s = escape_text("a\nb\tc\001", false);
	assert_string_equal(s, "a\\nb\\tc\\1");
	free(s);
	s = escape_text("x|y", true);
	assert_string_equal(s, "x\\|y");
	free(s);
	s = escape_text("x|y", false);
	assert_string_equal(s, "x|y");
	free(s);
}

static void test_mode_names(void **state)
{
	pl_render_mode m;
	(void)state;
	assert_int_equal(pl_render_mode_parse("csv", &m), 0);
	assert_int_equal(m, PL_RENDER_CSV);
	assert_int_equal(pl_render_mode_parse("duckbox", &m), 0);
	assert_int_equal(m, PL_RENDER_BOX);
	assert_int_equal(pl_render_mode_parse("markdown", &m), 0);
	assert_string_equal(pl_render_mode_name(m), "markdown");
	assert_int_equal(pl_render_mode_parse("nope", &m), PLANAR_EINVALID);
	assert_int_equal(pl_render_mode_parse(NULL, &m), PLANAR_EINVALID);
	assert_string_equal(pl_render_mode_name((pl_render_mode)99), "?");
}

/* ---- box layout arithmetic ------------------------------------------------------------------- */

static void test_box_shorten(void **state)
{
	size_t w[3] = {50, 10, 30};
	size_t total = 1 + (50 + 3) + (10 + 3) + (30 + 3); /* 100 */
	(void)state;
	total = box_shorten(w, 3, total, 80, 20);
	assert_int_equal(total, 80);
	assert_int_equal(w[1], 10); /* narrow columns are left alone */
	assert_int_equal(w[0] + w[2], 60);
	assert_true(w[0] >= 20 && w[2] >= 20);
	assert_true(w[0] > w[2]); /* shortened in proportion */
}

static void test_box_shorten_not_enough(void **state)
{
	size_t w[2] = {25, 25};
	size_t total = 1 + 28 + 28;
	(void)state;
	total = box_shorten(w, 2, total, 30, 20);
	assert_int_equal(w[0], 20);
	assert_int_equal(w[1], 20);
	assert_int_equal(total, 1 + 23 + 23);
}

static void test_box_prune(void **state)
{
	size_t w[5] = {10, 10, 10, 10, 10}, orig[5] = {10, 10, 10, 10, 10};
	bool pruned[5] = {false};
	size_t total = 1 + 5 * 13; /* 66 */
	(void)state;
	total = box_prune(w, orig, pruned, 5, total, 50);
	assert_true(total <= 50);
	assert_true(pruned[2]); /* the middle goes first */
	assert_false(pruned[0]);
	assert_false(pruned[4]);
}

static void test_box_prune_keeps_one(void **state)
{
	size_t w[2] = {40, 40}, orig[2] = {40, 40};
	bool pruned[2] = {false};
	(void)state;
	box_prune(w, orig, pruned, 2, 1 + 86, 10);
	assert_false(pruned[0]);
	assert_true(pruned[1]);
}

/* ---- whole results ------------------------------------------------------------------------------ */

static void test_box_basic(void **state)
{
	assert_render(render_mode(state, PL_RENDER_BOX, "SELECT 42 AS a, 'hello' AS b"),
	              "┌───────┬─────────┐\n"
	              "│   a   │    b    │\n"
	              "│ int32 │ varchar │\n"
	              "├───────┼─────────┤\n"
	              "│    42 │ hello   │\n"
	              "└───────┴─────────┘\n");
}

static void test_box_empty(void **state)
{
	assert_render(render_mode(state, PL_RENDER_BOX, "SELECT 1 AS a WHERE false"),
	              "┌────────┐\n"
	              "│   a    │\n"
	              "│ int32  │\n"
	              "├────────┤\n"
	              "│ 0 rows │\n"
	              "└────────┘\n");
}

static void test_box_elided(void **state)
{
	pl_render_opts opts;
	char *text;
	pl_render_opts_init(&opts);
	opts.max_rows = 4;
	text = render_sql(state, "SELECT * FROM range(10) t(i)", &opts);
	assert_render(text, "┌───────────┐\n"
	                    "│     i     │\n"
	                    "│   int64   │\n"
	                    "├───────────┤\n"
	                    "│         0 │\n"
	                    "│         1 │\n"
	                    "│         · │\n"
	                    "│         · │\n"
	                    "│         · │\n"
	                    "│         8 │\n"
	                    "│         9 │\n"
	                    "├───────────┤\n"
	                    "│  10 rows  │\n"
	                    "│ (4 shown) │\n"
	                    "└───────────┘\n");
}

static void test_box_truncated(void **state)
{
	pl_render_opts opts;
	pl_render_opts_init(&opts);
	opts.max_width = 34;
	assert_render(render_sql(state, "SELECT repeat('x', 40) AS s, 7 AS n", &opts),
	              "┌────────────────────────┬───────┐\n"
	              "│           s            │   n   │\n"
	              "│        varchar         │ int32 │\n"
	              "├────────────────────────┼───────┤\n"
	              "│ xxxxxxxxxxxxxxxxxxxxx… │     7 │\n"
	              "└────────────────────────┴───────┘\n");
}

static void test_box_pruned(void **state)
{
	pl_render_opts opts;
	pl_render_opts_init(&opts);
	opts.max_width = 30;
	assert_render(render_sql(state, "SELECT repeat('x', 40) AS s, 7 AS n", &opts),
	              "┌────────────────────────┬───┐\n"
	              "│           s            │ … │\n"
	              "│        varchar         │ … │\n"
	              "├────────────────────────┼───┤\n"
	              "│ xxxxxxxxxxxxxxxxxxxxx… │ … │\n"
	              "└────────────────────────┴───┘\n");
}

static void test_box_escapes_controls(void **state)
{
	assert_render(render_mode(state, PL_RENDER_BOX, "SELECT 'a' || chr(10) || 'b' AS s"),
	              "┌─────────┐\n"
	              "│    s    │\n"
	              "│ varchar │\n"
	              "├─────────┤\n"
	              "│ a\\nb    │\n"
	              "└─────────┘\n");
}

static void test_csv(void **state)
{
	assert_render(render_mode(state, PL_RENDER_CSV, "SELECT 1 AS a, 'x,y' AS b, NULL AS c"), "a,b,c\n1,\"x,y\",NULL\n");
}

static void test_csv_no_headers(void **state)
{
	pl_render_opts opts;
	pl_render_opts_init(&opts);
	opts.mode = PL_RENDER_CSV;
	opts.headers = false;
	opts.nullvalue = "";
	assert_render(render_sql(state, "SELECT 1 AS a, NULL AS c", &opts), "1,\n");
}

static void test_json(void **state)
{
	assert_render(render_mode(state, PL_RENDER_JSON,
	                          "SELECT i AS a, 'v' || i AS b, NULL AS c, i = 1 AS t FROM range(2) t(i)"),
	              "[{\"a\":0,\"b\":\"v0\",\"c\":null,\"t\":false},\n{\"a\":1,\"b\":\"v1\",\"c\":null,\"t\":true}]\n");
	assert_render(render_mode(state, PL_RENDER_JSON, "SELECT 1 AS a WHERE false"), "[]\n");
}

static void test_line(void **state)
{
	assert_render(render_mode(state, PL_RENDER_LINE, "SELECT 1 AS a, NULL AS longer_name FROM range(2)"),
	              "          a = 1\nlonger_name = NULL\n\n          a = 1\nlonger_name = NULL\n");
}

static void test_list(void **state)
{
	assert_render(render_mode(state, PL_RENDER_LIST, "SELECT 1 AS a, 'x' AS b"), "a|b\n1|x\n");
}

static void test_markdown(void **state)
{
	assert_render(render_mode(state, PL_RENDER_MARKDOWN, "SELECT 10 AS num, 'a|b' AS txt"),
	              "| num | txt  |\n"
	              "|----:|------|\n"
	              "|  10 | a\\|b |\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_width),
		cmocka_unit_test(test_utf8_prefix),
		cmocka_unit_test(test_type_name),
		cmocka_unit_test(test_csv_field),
		cmocka_unit_test(test_json_string),
		cmocka_unit_test(test_json_number),
		cmocka_unit_test(test_escape_text),
		cmocka_unit_test(test_mode_names),
		cmocka_unit_test(test_box_shorten),
		cmocka_unit_test(test_box_shorten_not_enough),
		cmocka_unit_test(test_box_prune),
		cmocka_unit_test(test_box_prune_keeps_one),
		cmocka_unit_test_setup_teardown(test_box_basic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_box_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_box_elided, setup, teardown),
		cmocka_unit_test_setup_teardown(test_box_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_box_pruned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_box_escapes_controls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_csv, setup, teardown),
		cmocka_unit_test_setup_teardown(test_csv_no_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_markdown, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
