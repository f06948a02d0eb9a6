/*
 * lexer.h -- a small SQL tokenizer for routing statements.
 *
 * DuckDB parses and runs every query; Planar only needs to split scripts into statements, find a
 * statement's kind, its target object and clause boundaries. Tokens point into the source text
 * (start offset + length), so spans of the original text can be handed to DuckDB unchanged.
 */
#ifndef PL_SQL_LEXER_H
#define PL_SQL_LEXER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

typedef enum pl_tok_kind {
	PL_TOK_WORD,    /* keyword or bare identifier */
	PL_TOK_QIDENT,  /* "quoted identifier" */
	PL_TOK_STRING,  /* 'string literal' (also E'..' and $tag$..$tag$) */
	PL_TOK_NUMBER,
	PL_TOK_PUNCT,   /* one of ( ) , . ; and operators */
	PL_TOK_PARAM,   /* $1, ?, :name */
} pl_tok_kind;

typedef struct pl_tok {
	pl_tok_kind kind;
	size_t start, len;
} pl_tok;

typedef struct pl_toks {
	const char *src;
	pl_tok *items;
	size_t len, cap;
} pl_toks;

/* Tokenizes src (comments are dropped). Unterminated strings/comments give PL_EINVALID. */
int pl_lex(pl_toks *out, const char *src, pl_err *err);
void pl_toks_dispose(pl_toks *t);

/* Token i is a WORD equal (case-insensitively) to kw. False when i is out of range. */
bool pl_tok_is(const pl_toks *t, size_t i, const char *kw);
/* Token i is the punctuation p. */
bool pl_tok_is_punct(const pl_toks *t, size_t i, const char *p);
/* Identifier value of token i (unquoted, "" doubled quotes undone; bare words as written). */
char *pl_tok_ident(const pl_toks *t, size_t i);
/* String literal value of token i ('' undone), malloc'd. */
char *pl_tok_string(const pl_toks *t, size_t i);
/* Token i starts an alias of a table reference (AS x, or a name that is not a clause keyword). */
bool pl_tok_has_alias(const pl_toks *t, size_t i);
/* Index of the matching ')' for the '(' at i, or t->len when unbalanced. */
size_t pl_tok_match_paren(const pl_toks *t, size_t i);

/* Splits a script into statement texts (trimmed, without ';'), skipping empty ones. */
int pl_sql_split_script(char ***out, const char *script, pl_err *err);
/* True when the script ends inside a statement (no final ';' yet, or open quote/comment). */
bool pl_sql_is_incomplete(const char *script);

#endif
