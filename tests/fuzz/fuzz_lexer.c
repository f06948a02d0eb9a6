/*
 * fuzz_lexer.c -- fuzz harness for the statement lexer (src/sql/lexer.c).
 *
 * The input is SQL text (cut at its first NUL byte, as a C string is). Runs pl_lex and, on every
 * token, the accessors the router uses (pl_tok_ident, pl_tok_string, pl_tok_match_paren,
 * pl_tok_is, pl_tok_has_alias), then pl_sql_split_script and pl_sql_is_incomplete, and checks
 * what they promise:
 *   - tokens lie inside the text, in order, without overlap, and are never empty;
 *   - a quoted identifier or string value is never longer than its token;
 *   - pl_tok_match_paren returns a ')' after the '(' or the token count;
 *   - splitting fails exactly when lexing does; each statement is non-empty, trimmed, lexes
 *     again without error and has no top-level ';';
 *   - pl_sql_is_incomplete is true exactly when lexing fails or the last token is not ';'.
 * A broken promise aborts (a finding), as does any sanitizer report.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "sql/lexer.h"

#define CHECK(cond)                                                                                   \
	do {                                                                                          \
		if (!(cond)) {                                                                        \
			fprintf(stderr, "fuzz_lexer: %s:%d: check failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                               \
			abort();                                                                      \
		}                                                                                     \
	} while (0)

static void check_tokens(const pl_toks *t, size_t srclen)
{
	size_t prev_end = 0, parens = 0;
	for (size_t i = 0; i < t->len; i++) {
		const pl_tok *k = &t->items[i];
		CHECK(k->len > 0);
		CHECK(k->start >= prev_end);
		CHECK(k->start + k->len <= srclen);
		prev_end = k->start + k->len;
		(void)pl_tok_is(t, i, "SELECT");
		(void)pl_tok_is_punct(t, i, ";");
		(void)pl_tok_has_alias(t, i);
		if (k->kind == PL_TOK_WORD || k->kind == PL_TOK_QIDENT) {
			char *id = pl_tok_ident(t, i);
			CHECK(id != NULL);
			CHECK(strlen(id) <= k->len);
			free(id);
		} else if (k->kind == PL_TOK_STRING) {
			char *s = pl_tok_string(t, i);
			CHECK(s != NULL);
			CHECK(strlen(s) <= k->len);
			free(s);
		} else if (pl_tok_is_punct(t, i, "(") && parens++ < 64) {
			/* each call scans to the match: the first 64 keep deep nesting cheap to fuzz */
			size_t m = pl_tok_match_paren(t, i);
			CHECK(m == t->len || (m > i && pl_tok_is_punct(t, m, ")")));
		}
	}
	/* out of range indexes are answered, not read */
	CHECK(!pl_tok_is(t, t->len, "SELECT"));
	CHECK(!pl_tok_is_punct(t, t->len, ";"));
	CHECK(!pl_tok_has_alias(t, t->len));
	CHECK(pl_tok_match_paren(t, t->len) == t->len);
}

static void check_statement(const char *stmt)
{
	size_t n = strlen(stmt);
	pl_toks t;
	pl_err err = {0};
	CHECK(n > 0);
	CHECK(!isspace((unsigned char)stmt[0]) && !isspace((unsigned char)stmt[n - 1]));
	CHECK(pl_lex(&t, stmt, &err) == 0);
	for (size_t i = 0; i < t.len; i++)
		CHECK(!pl_tok_is_punct(&t, i, ";"));
	pl_toks_dispose(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *src = malloc(size + 1);
	if (!src)
		return 0;
	memcpy(src, data, size);
	src[size] = '\0';
	size_t srclen = strlen(src);

	pl_toks t;
	pl_err err = {0};
	int lex_rc = pl_lex(&t, src, &err);
	bool ends_with_semicolon = false;
	if (lex_rc == 0) {
		check_tokens(&t, srclen);
		ends_with_semicolon = t.len > 0 && pl_tok_is_punct(&t, t.len - 1, ";");
		CHECK(pl_sql_is_incomplete(src) == (t.len > 0 && !ends_with_semicolon));
		pl_toks_dispose(&t);
	} else {
		CHECK(lex_rc == PL_EINVALID || lex_rc == PL_ENOMEM);
		CHECK(err.msg[0] != '\0');
		CHECK(t.items == NULL && t.len == 0);
		CHECK(pl_sql_is_incomplete(src));
	}

	char **stmts = NULL;
	pl_err err2 = {0};
	int split_rc = pl_sql_split_script(&stmts, src, &err2);
	CHECK((split_rc == 0) == (lex_rc == 0));
	if (split_rc == 0) {
		CHECK(stmts != NULL);
		for (size_t i = 0; stmts[i]; i++)
			check_statement(stmts[i]);
		pl_strv_free(stmts);
	}
	free(src);
	return 0;
}
