/*
 * lexer.c -- SQL tokenizer and statement splitter (see lexer.h). Follows DuckDB's lexical rules
 * for what matters here: '' inside strings, "" inside identifiers, E'' escapes, $tag$ quoting,
 * -- and nested block comments.
 */
#include "sql/lexer.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/str.h"

static int push(pl_toks *t, pl_tok_kind kind, size_t start, size_t len)
{
	if (t->len == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		pl_tok *p = realloc(t->items, cap * sizeof(*p));
		if (!p)
			return PL_ENOMEM;
		t->items = p;
		t->cap = cap;
	}
	t->items[t->len++] = (pl_tok){kind, start, len};
	return 0;
}

/* Returns the offset just past a quoted run starting at s[i] == q, or 0 when unterminated. */
static size_t skip_quoted(const char *s, size_t i, char q, bool backslash)
{
	for (i++; s[i]; i++) {
		if (backslash && s[i] == '\\' && s[i + 1]) {
			i++;
			continue;
		}
		if (s[i] == q) {
			if (s[i + 1] == q) {
				i++;
				continue;
			}
			return i + 1;
		}
	}
	return 0;
}

/* $tag$ ... $tag$: returns offset past the closing tag, or 0. `tag_len` includes both $. */
static size_t skip_dollar(const char *s, size_t i, size_t tag_len)
{
	for (const char *p = s + i + tag_len; (p = strchr(p, '$')) != NULL; p++) {
		if (strncmp(p, s + i, tag_len) == 0)
			return (size_t)(p - s) + tag_len;
	}
	return 0;
}

static size_t dollar_tag_len(const char *s, size_t i)
{
	size_t j = i + 1;
	while (isalnum((unsigned char)s[j]) || s[j] == '_')
		j++;
	if (s[j] != '$' || isdigit((unsigned char)s[i + 1]))
		return 0;
	return j - i + 1;
}

static size_t skip_block_comment(const char *s, size_t i)
{
	int depth = 0;
	while (s[i]) {
		if (s[i] == '/' && s[i + 1] == '*') {
			depth++;
			i += 2;
		} else if (s[i] == '*' && s[i + 1] == '/') {
			i += 2;
			if (--depth == 0)
				return i;
		} else {
			i++;
		}
	}
	return 0;
}

static bool is_word_start(unsigned char c)
{
	return isalpha(c) || c == '_' || c >= 0x80;
}

static bool is_word_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

/* Lexes one token at s[*i]; returns 0, PL_EINVALID (message set) or PL_ENOMEM. */
static int lex_one(pl_toks *t, const char *s, size_t *pi, pl_err *err)
{
	size_t i = *pi, end;
	unsigned char c = (unsigned char)s[i];
	if ((c == 'e' || c == 'E') && s[i + 1] == '\'') {
		if (!(end = skip_quoted(s, i + 1, '\'', true)))
			return pl_err_set(err, PL_EINVALID, "syntax error: unterminated quoted string");
		*pi = end;
		return push(t, PL_TOK_STRING, i, end - i);
	}
	if (is_word_start(c)) {
		for (end = i; is_word_char((unsigned char)s[end]); end++)
			;
		*pi = end;
		return push(t, PL_TOK_WORD, i, end - i);
	}
	if (c == '\'' || c == '"') {
		if (!(end = skip_quoted(s, i, (char)c, false)))
			return pl_err_set(err, PL_EINVALID, "syntax error: unterminated quoted %s",
					  c == '"' ? "identifier" : "string");
		*pi = end;
		return push(t, c == '"' ? PL_TOK_QIDENT : PL_TOK_STRING, i, end - i);
	}
	if (c == '$') {
		size_t tag = dollar_tag_len(s, i);
		if (tag) {
			if (!(end = skip_dollar(s, i, tag)))
				return pl_err_set(err, PL_EINVALID, "syntax error: unterminated dollar-quoted string");
			*pi = end;
			return push(t, PL_TOK_STRING, i, end - i);
		}
		for (end = i + 1; isdigit((unsigned char)s[end]); end++)
			;
		*pi = end;
		return push(t, PL_TOK_PARAM, i, end - i);
	}
	if (isdigit(c) || (c == '.' && isdigit((unsigned char)s[i + 1]))) {
		for (end = i; isalnum((unsigned char)s[end]) || s[end] == '.' || s[end] == '_'; end++)
			;
		*pi = end;
		return push(t, PL_TOK_NUMBER, i, end - i);
	}
	if (c == '?') {
		*pi = i + 1;
		return push(t, PL_TOK_PARAM, i, 1);
	}
	/* Multi-character operators matter little for routing; keep :: and -> together. */
	end = i + 1;
	if ((c == ':' && s[i + 1] == ':') || (c == '-' && s[i + 1] == '>') ||
	    (c == '<' && (s[i + 1] == '=' || s[i + 1] == '>')) || (c == '>' && s[i + 1] == '=') ||
	    (c == '!' && s[i + 1] == '=') || (c == '|' && s[i + 1] == '|'))
		end = i + 2;
	*pi = end;
	return push(t, PL_TOK_PUNCT, i, end - i);
}

int pl_lex(pl_toks *out, const char *src, pl_err *err)
{
	memset(out, 0, sizeof(*out));
	out->src = src;
	size_t i = 0;
	while (src[i]) {
		unsigned char c = (unsigned char)src[i];
		if (isspace(c)) {
			i++;
		} else if (c == '-' && src[i + 1] == '-') {
			while (src[i] && src[i] != '\n')
				i++;
		} else if (c == '/' && src[i + 1] == '*') {
			size_t end = skip_block_comment(src, i);
			if (!end) {
				pl_toks_dispose(out);
				return pl_err_set(err, PL_EINVALID, "syntax error: unterminated /* comment");
			}
			i = end;
		} else {
			int rc = lex_one(out, src, &i, err);
			if (rc) {
				pl_toks_dispose(out);
				return rc == PL_ENOMEM ? pl_err_nomem(err) : rc;
			}
		}
	}
	return 0;
}

void pl_toks_dispose(pl_toks *t)
{
	free(t->items);
	t->items = NULL;
	t->len = t->cap = 0;
}

bool pl_tok_is(const pl_toks *t, size_t i, const char *kw)
{
	if (i >= t->len || t->items[i].kind != PL_TOK_WORD)
		return false;
	size_t n = strlen(kw);
	return t->items[i].len == n && strncasecmp(t->src + t->items[i].start, kw, n) == 0;
}

bool pl_tok_is_punct(const pl_toks *t, size_t i, const char *p)
{
	if (i >= t->len || t->items[i].kind != PL_TOK_PUNCT)
		return false;
	size_t n = strlen(p);
	return t->items[i].len == n && strncmp(t->src + t->items[i].start, p, n) == 0;
}

static char *unquote(const char *s, size_t len, char q)
{
	pl_buf b = PL_BUF_INIT;
	for (size_t i = 1; i + 1 < len; i++) {
		pl_buf_putc(&b, s[i]);
		if (s[i] == q && s[i + 1] == q)
			i++;
	}
	return pl_buf_detach(&b);
}

/* E'...' strings: '' and the C-style backslash escapes \n \t \r \b \f \\ \' and \xHH. */
static char *unescape(const char *s, size_t len)
{
	pl_buf b = PL_BUF_INIT;
	for (size_t i = 1; i + 1 < len; i++) {
		char c = s[i];
		if (c == '\'' && s[i + 1] == '\'') {
			i++;
		} else if (c == '\\' && i + 2 < len) {
			char e = s[++i];
			static const char from[] = "ntrbf", to[] = "\n\t\r\b\f";
			const char *k = strchr(from, e);
			if (k && e)
				c = to[k - from];
			else if (e == 'x' && i + 2 < len && isxdigit((unsigned char)s[i + 1])) {
				unsigned v = 0;
				for (int n = 0; n < 2 && i + 1 < len - 1 && isxdigit((unsigned char)s[i + 1]); n++) {
					char h = s[++i];
					v = v * 16 + (unsigned)(isdigit((unsigned char)h) ? h - '0' : (tolower((unsigned char)h) - 'a' + 10));
				}
				c = (char)v;
			} else
				c = e;
		}
		pl_buf_putc(&b, c);
	}
	return pl_buf_detach(&b);
}

char *pl_tok_ident(const pl_toks *t, size_t i)
{
	const pl_tok *k = &t->items[i];
	const char *s = t->src + k->start;
	if (k->kind == PL_TOK_QIDENT)
		return unquote(s, k->len, '"');
	return pl_strndup(s, k->len);
}

char *pl_tok_string(const pl_toks *t, size_t i)
{
	const pl_tok *k = &t->items[i];
	const char *s = t->src + k->start;
	if (s[0] == '$') {
		size_t tag = dollar_tag_len(s, 0);
		return pl_strndup(s + tag, k->len - 2 * tag);
	}
	if (s[0] == 'e' || s[0] == 'E')
		return unescape(s + 1, k->len - 1);
	return unquote(s, k->len, '\'');
}

bool pl_tok_has_alias(const pl_toks *t, size_t i)
{
	static const char *const not_alias[] = {"WHERE", "GROUP", "ORDER", "LIMIT", "JOIN", "LEFT", "RIGHT", "INNER",
						"FULL", "CROSS", "NATURAL", "ON", "USING", "UNION", "EXCEPT",
						"INTERSECT", "WINDOW", "HAVING", "QUALIFY", "OFFSET", "ASOF", "POSITIONAL",
						"ANTI", "SEMI", "RETURNING", "SET", "AT", NULL};
	if (pl_tok_is(t, i, "AS"))
		return true;
	if (i >= t->len || (t->items[i].kind != PL_TOK_WORD && t->items[i].kind != PL_TOK_QIDENT))
		return false;
	for (const char *const *w = not_alias; *w; w++)
		if (pl_tok_is(t, i, *w))
			return false;
	return true;
}

size_t pl_tok_match_paren(const pl_toks *t, size_t i)
{
	int depth = 0;
	for (; i < t->len; i++) {
		if (pl_tok_is_punct(t, i, "("))
			depth++;
		else if (pl_tok_is_punct(t, i, ")") && --depth == 0)
			return i;
	}
	return t->len;
}

static int push_statement(pl_strv *v, const char *s, size_t from, size_t to)
{
	while (from < to && isspace((unsigned char)s[from]))
		from++;
	while (to > from && isspace((unsigned char)s[to - 1]))
		to--;
	if (from == to)
		return 0;
	return pl_strv_push_owned(v, pl_strndup(s + from, to - from));
}

int pl_sql_split_script(char ***out, const char *script, pl_err *err)
{
	pl_toks t;
	pl_strv v = PL_STRV_INIT;
	int rc = pl_lex(&t, script, err);
	if (rc)
		return rc;
	size_t from = 0, first = 0;
	for (size_t i = 0; i <= t.len && rc == 0; i++) {
		if (i < t.len && !pl_tok_is_punct(&t, i, ";"))
			continue;
		size_t to = i < t.len ? t.items[i].start : strlen(script);
		/* Keep comments before a statement with the statement only if it has tokens. */
		if (i > first)
			rc = push_statement(&v, script, from, to);
		from = i < t.len ? t.items[i].start + 1 : to;
		first = i + 1;
	}
	pl_toks_dispose(&t);
	if (rc) {
		pl_strv_dispose(&v);
		return pl_err_nomem(err);
	}
	if (!v.items) {
		v.items = calloc(1, sizeof(char *));
		if (!v.items)
			return pl_err_nomem(err);
	}
	*out = v.items;
	return 0;
}

bool pl_sql_is_incomplete(const char *script)
{
	pl_toks t;
	pl_err err;
	if (pl_lex(&t, script, &err))
		return true;
	bool incomplete = t.len > 0 && !pl_tok_is_punct(&t, t.len - 1, ";");
	pl_toks_dispose(&t);
	return incomplete;
}
