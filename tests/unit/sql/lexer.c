/*
 * tests/unit/sql/lexer.c -- cmocka tests of the SQL tokenizer and script splitter (src/sql/lexer.c).
 *
 * Covers token kinds and spans, "" in quoted identifiers, '' / E'' / $tag$ strings and their
 * values, line and nested block comments, multi-character operators, parameters, pl_tok_is*,
 * pl_tok_match_paren, pl_sql_split_script (';' inside strings/comments, empty statements,
 * comments kept with their statement), pl_sql_is_incomplete, and PL_EINVALID on bad input.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/str.h"
#include "sql/lexer.h"

/* Renders tokens as "K:text K:text ..." (W word, Q qident, S string, N number, P punct, ? param). */
static char *render(const char *src)
{
	pl_toks t;
	pl_err err = {0};
	if (pl_lex(&t, src, &err) != 0)
		fail_msg("pl_lex(%s) failed: %s", src, err.msg);
	pl_buf b = PL_BUF_INIT;
	pl_buf_puts(&b, "");
	for (size_t i = 0; i < t.len; i++) {
		static const char kinds[] = {'W', 'Q', 'S', 'N', 'P', '?'};
		if (i)
			pl_buf_putc(&b, ' ');
		pl_buf_putc(&b, kinds[t.items[i].kind]);
		pl_buf_putc(&b, ':');
		pl_buf_put(&b, src + t.items[i].start, t.items[i].len);
	}
	pl_toks_dispose(&t);
	return pl_buf_detach(&b);
}

#define assert_lexes(src, expect)                                                                  \
	do {                                                                                       \
		char *got_ = render(src);                                                          \
		assert_string_equal(got_, expect);                                                 \
		free(got_);                                                                        \
	} while (0)

static void lex_ok(pl_toks *t, const char *src)
{
	pl_err err = {0};
	if (pl_lex(t, src, &err) != 0)
		fail_msg("pl_lex(%s) failed: %s", src, err.msg);
}

static void lexer__tokenizes_simple_statement(void **state)
{
	(void)state;
	assert_lexes("SELECT a, 1.5 FROM t;", "W:SELECT W:a P:, N:1.5 W:FROM W:t P:;");
	assert_lexes("  x_1\t(.5)\n", "W:x_1 P:( N:.5 P:)");
	assert_lexes("SELECT héllo", "W:SELECT W:héllo");
	assert_lexes("", "");
	assert_lexes("   \n\t ", "");
}

static void lexer__multi_char_operators_and_params(void **state)
{
	(void)state;
	assert_lexes("a::INT", "W:a P::: W:INT");
	assert_lexes("j->'k' <= >= <> != || < >", "W:j P:-> S:'k' P:<= P:>= P:<> P:!= P:|| P:< P:>");
	assert_lexes("x = ? AND y = $12", "W:x P:= ?:? W:AND W:y P:= ?:$12");
}

static void lexer__quoted_identifier_with_doubled_quotes(void **state)
{
	(void)state;
	assert_lexes("SELECT \"a\"\"b\".\"c d\"", "W:SELECT Q:\"a\"\"b\" P:. Q:\"c d\"");
	pl_toks t;
	lex_ok(&t, "\"a\"\"b\" MixedCase \"\"\"\"");
	assert_int_equal(t.len, 3);
	char *v = pl_tok_ident(&t, 0);
	assert_string_equal(v, "a\"b");
	free(v);
	v = pl_tok_ident(&t, 1); /* bare words come back as written */
	assert_string_equal(v, "MixedCase");
	free(v);
	v = pl_tok_ident(&t, 2);
	assert_string_equal(v, "\"");
	free(v);
	pl_toks_dispose(&t);
}

static void lexer__empty_quoted_values_are_empty_strings(void **state)
{
	(void)state;

	pl_toks t;
	lex_ok(&t, "\"\" '' E''");
	assert_int_equal(t.len, 3);
	char *v = pl_tok_ident(&t, 0);
	assert_string_equal(v, "");
	free(v);
	v = pl_tok_string(&t, 1);
	assert_string_equal(v, "");
	free(v);
	v = pl_tok_string(&t, 2);
	assert_string_equal(v, "");
	free(v);
	pl_toks_dispose(&t);
}

static void lexer__string_literals_and_values(void **state)
{
	(void)state;
	assert_lexes("'it''s' 'a;b' ''", "S:'it''s' S:'a;b' S:''");
	pl_toks t;
	lex_ok(&t, "'it''s' '''' 'x\\' 'a\"b'");
	assert_int_equal(t.len, 4);
	const char *expect[] = {"it's", "'", "x\\", "a\"b"}; /* '\' is ordinary in '..' strings */
	for (size_t i = 0; i < 4; i++) {
		char *v = pl_tok_string(&t, i);
		assert_string_equal(v, expect[i]);
		free(v);
	}
	pl_toks_dispose(&t);
}

static void lexer__escape_string_spans_backslash_quote(void **state)
{
	(void)state;
	/* in E'..' a backslash escapes the quote, so the token runs to the real end */
	assert_lexes("SELECT E'it\\'s', e'x' y", "W:SELECT S:E'it\\'s' P:, S:e'x' W:y");
	assert_lexes("SELECT E'a''b'", "W:SELECT S:E'a''b'");
	pl_toks t;
	lex_ok(&t, "E'a''b'");
	char *v = pl_tok_string(&t, 0);
	assert_string_equal(v, "a'b");
	free(v);
	pl_toks_dispose(&t);
}

static void lexer__escape_string_value_decodes_backslashes(void **state)
{
	(void)state;

	pl_toks t;
	lex_ok(&t, "E'it\\'s' E'a\\\\b'");
	char *v = pl_tok_string(&t, 0);
	assert_string_equal(v, "it's");
	free(v);
	v = pl_tok_string(&t, 1);
	assert_string_equal(v, "a\\b");
	free(v);
	pl_toks_dispose(&t);
}

static void lexer__dollar_quoted_strings(void **state)
{
	(void)state;
	assert_lexes("SELECT $$a;'b$$, $tag$ x $$ y $tag$;", "W:SELECT S:$$a;'b$$ P:, S:$tag$ x $$ y $tag$ P:;");
	pl_toks t;
	lex_ok(&t, "$$a;'b$$ $t_1$ $x$ $t_1$ $$$$");
	assert_int_equal(t.len, 3);
	const char *expect[] = {"a;'b", " $x$ ", ""};
	for (size_t i = 0; i < 3; i++) {
		char *v = pl_tok_string(&t, i);
		assert_string_equal(v, expect[i]);
		free(v);
	}
	pl_toks_dispose(&t);
}

static void lexer__comments_are_dropped_and_nest(void **state)
{
	(void)state;
	assert_lexes("SELECT 1 -- line ; 'x\nFROM t", "W:SELECT N:1 W:FROM W:t");
	assert_lexes("SELECT /* a /* nested */ still; 'comment' */ 2", "W:SELECT N:2");
	assert_lexes("a/**/b", "W:a W:b");
	assert_lexes("-- only a comment", "");
	assert_lexes("x -- no newline at end", "W:x");
}

static void lexer__bad_input_is_invalid(void **state)
{
	(void)state;
	const char *bad[] = {
		"SELECT 'abc",
		"SELECT 'it''s",
		"SELECT \"abc",
		"SELECT E'abc\\'",
		"SELECT $$abc",
		"SELECT $t$ abc $u$",
		"SELECT /* open",
		"SELECT /* a /* b */ only one closed",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pl_toks t;
		pl_err err = {0};
		int rc = pl_lex(&t, bad[i], &err);
		if (rc != PL_EINVALID)
			fail_msg("pl_lex(%s) returned %d, expected PL_EINVALID", bad[i], rc);
		assert_int_equal(err.code, PL_EINVALID);
		assert_non_null(strstr(err.msg, "unterminated"));
		assert_null(t.items); /* nothing left to free */
		assert_int_equal(t.len, 0);
	}
}

static void lexer__tok_is_and_is_punct(void **state)
{
	(void)state;
	pl_toks t;
	lex_ok(&t, "select \"SELECT\" ( ::");
	assert_true(pl_tok_is(&t, 0, "SELECT"));
	assert_true(pl_tok_is(&t, 0, "select"));
	assert_false(pl_tok_is(&t, 0, "SEL"));
	assert_false(pl_tok_is(&t, 0, "SELECTED"));
	assert_false(pl_tok_is(&t, 1, "SELECT")); /* quoted identifiers are not keywords */
	assert_true(pl_tok_is_punct(&t, 2, "("));
	assert_false(pl_tok_is_punct(&t, 2, ")"));
	assert_true(pl_tok_is_punct(&t, 3, "::"));
	assert_false(pl_tok_is_punct(&t, 3, ":"));
	assert_false(pl_tok_is(&t, 99, "SELECT")); /* out of range */
	assert_false(pl_tok_is_punct(&t, 4, "("));
	pl_toks_dispose(&t);
}

static void lexer__match_paren(void **state)
{
	(void)state;
	pl_toks t;
	/* 0:f 1:( 2:a 3:, 4:( 5:b 6:) 7:, 8:g 9:( 10:')' 11:) 12:) 13:+ 14:1 */
	lex_ok(&t, "f(a, (b), g(')')) + 1");
	assert_int_equal(t.len, 15);
	assert_int_equal(pl_tok_match_paren(&t, 1), 12);
	assert_int_equal(pl_tok_match_paren(&t, 4), 6);
	assert_int_equal(pl_tok_match_paren(&t, 9), 11); /* ')' inside a string does not count */
	pl_toks_dispose(&t);
	lex_ok(&t, "f(a, (b)");
	assert_int_equal(pl_tok_match_paren(&t, 1), t.len); /* unbalanced */
	pl_toks_dispose(&t);
}

static size_t count(char **v)
{
	size_t n = 0;
	while (v[n])
		n++;
	return n;
}

static void lexer__split_script_respects_strings_and_comments(void **state)
{
	(void)state;
	char **stmts = NULL;
	pl_err err = {0};
	const char *script = "CREATE TABLE t(a INT); -- first;\n"
			     "INSERT INTO t VALUES ('x;y'), ($$;$$);\n"
			     "/* ; */ SELECT \"a;b\" FROM t;;  ;\n"
			     "SELECT E'\\';' AS q\n"
			     "-- trailing comment only\n";
	assert_int_equal(pl_sql_split_script(&stmts, script, &err), 0);
	assert_int_equal(count(stmts), 4);
	assert_string_equal(stmts[0], "CREATE TABLE t(a INT)");
	assert_string_equal(stmts[1], "-- first;\nINSERT INTO t VALUES ('x;y'), ($$;$$)");
	assert_string_equal(stmts[2], "/* ; */ SELECT \"a;b\" FROM t");
	assert_string_equal(stmts[3], "SELECT E'\\';' AS q\n-- trailing comment only");
	pl_strv_free(stmts);
}

static void lexer__split_script_empty_and_comment_only(void **state)
{
	(void)state;
	const char *scripts[] = {"", "   \n", ";;;", "-- nothing\n/* here */", " ; -- c\n ;"};
	for (size_t i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
		char **stmts = NULL;
		pl_err err = {0};
		assert_int_equal(pl_sql_split_script(&stmts, scripts[i], &err), 0);
		assert_non_null(stmts); /* an empty, NULL-terminated array */
		if (count(stmts) != 0)
			fail_msg("script '%s' gave %zu statements, first '%s'", scripts[i], count(stmts), stmts[0]);
		pl_strv_free(stmts);
	}
}

static void lexer__split_script_single_without_semicolon(void **state)
{
	(void)state;
	char **stmts = NULL;
	pl_err err = {0};
	assert_int_equal(pl_sql_split_script(&stmts, "  SELECT 1  ", &err), 0);
	assert_int_equal(count(stmts), 1);
	assert_string_equal(stmts[0], "SELECT 1");
	pl_strv_free(stmts);
}

static void lexer__split_script_reports_bad_input(void **state)
{
	(void)state;
	char **stmts = (char **)0x1; /* must stay untouched */
	pl_err err = {0};
	assert_int_equal(pl_sql_split_script(&stmts, "SELECT 1; SELECT 'oops", &err), PL_EINVALID);
	assert_ptr_equal(stmts, (char **)0x1);
	assert_non_null(strstr(err.msg, "unterminated quoted string"));
}

static void lexer__is_incomplete(void **state)
{
	(void)state;
	assert_true(pl_sql_is_incomplete("SELECT 1"));
	assert_true(pl_sql_is_incomplete("SELECT 1; SELECT 2"));
	assert_true(pl_sql_is_incomplete("SELECT 'a;"));
	assert_true(pl_sql_is_incomplete("SELECT \"a;"));
	assert_true(pl_sql_is_incomplete("SELECT $$;"));
	assert_true(pl_sql_is_incomplete("SELECT 1 /* ;"));
	assert_true(pl_sql_is_incomplete("SELECT 1 -- ;"));
	assert_false(pl_sql_is_incomplete("SELECT 1;"));
	assert_false(pl_sql_is_incomplete("SELECT 1;  -- trailing\n"));
	assert_false(pl_sql_is_incomplete("SELECT ';' ; /* done */"));
	assert_false(pl_sql_is_incomplete(""));
	assert_false(pl_sql_is_incomplete("  \n"));
	assert_false(pl_sql_is_incomplete("-- just a comment"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lexer__tokenizes_simple_statement),
		cmocka_unit_test(lexer__multi_char_operators_and_params),
		cmocka_unit_test(lexer__quoted_identifier_with_doubled_quotes),
		cmocka_unit_test(lexer__empty_quoted_values_are_empty_strings),
		cmocka_unit_test(lexer__string_literals_and_values),
		cmocka_unit_test(lexer__escape_string_spans_backslash_quote),
		cmocka_unit_test(lexer__escape_string_value_decodes_backslashes),
		cmocka_unit_test(lexer__dollar_quoted_strings),
		cmocka_unit_test(lexer__comments_are_dropped_and_nest),
		cmocka_unit_test(lexer__bad_input_is_invalid),
		cmocka_unit_test(lexer__tok_is_and_is_punct),
		cmocka_unit_test(lexer__match_paren),
		cmocka_unit_test(lexer__split_script_respects_strings_and_comments),
		cmocka_unit_test(lexer__split_script_empty_and_comment_only),
		cmocka_unit_test(lexer__split_script_single_without_semicolon),
		cmocka_unit_test(lexer__split_script_reports_bad_input),
		cmocka_unit_test(lexer__is_incomplete),
	};
	return cmocka_run_group_tests_name("sql/lexer", tests, NULL, NULL);
}
