/*
 * insert_literal.c -- VALUES entries that are plain literals, bound as text (see insert.h).
 *
 * DuckDB plans a query again whenever its text changes, and a one-row INSERT's VALUES list
 * changes every time. When every entry is a literal whose value DuckDB would get by casting its
 * text to the column's type, the entry becomes a placeholder bound to that text, and the query
 * text stays the same from one INSERT to the next. The rules below accept a literal only when
 * both ways give the same value:
 *   'text'             any column type: a string literal is cast from its text
 *   TYPE 'text'        a column of exactly that type (TIMESTAMP '...' into TIMESTAMP)
 *   NULL, TRUE, FALSE  kept in the query text as they are
 *   123, -123          integer, DECIMAL and DOUBLE columns; VARCHAR when written canonically
 *   1.25, -0.5         DECIMAL columns of at least that scale, DOUBLE columns (at most 15
 *                      digits, so that the decimal literal's conversion is exact too)
 *   1.5e3, -2E-7       DOUBLE columns (DuckDB reads such a literal by casting its text)
 * Anything else (expressions, FLOAT columns, a negative zero) keeps the query as the
 * user wrote it. A failure of the bound query is never reported: the caller runs the query as
 * written, which gives DuckDB's own message.
 */
#include "table/insert.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/str.h"

/* The unquoted text of a single-quoted SQL string (s, len with its quotes); NULL when s is not
 * exactly one such string. */
static char *unquote(const char *s, size_t len, bool *oom)
{
	if (len < 2 || s[0] != '\'' || s[len - 1] != '\'')
		return NULL;
	for (size_t i = 1; i + 1 < len; i++) {
		if (s[i] == '\0')
			return NULL;
		if (s[i] == '\'') {
			if (i + 2 >= len || s[i + 1] != '\'')
				return NULL; /* 'a' 'b', or a quote that ends the string early */
			i++;
		}
	}
	char *out = malloc(len - 1);
	if (!out) {
		*oom = true;
		return NULL;
	}
	size_t n = 0;
	for (size_t i = 1; i + 1 < len; i++) {
		out[n++] = s[i];
		if (s[i] == '\'')
			i++;
	}
	out[n] = '\0';
	return out;
}

static bool word_is(const char *s, size_t len, const char *w)
{
	return strlen(w) == len && strncasecmp(s, w, len) == 0;
}

static bool is_integer_type(const char *type)
{
	static const char *const names[] = {"TINYINT",  "SMALLINT",  "INTEGER",  "BIGINT",  "HUGEINT",
					    "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT", NULL};
	for (const char *const *n = names; *n; n++)
		if (strcmp(type, *n) == 0)
			return true;
	return false;
}

/* A number as [-]digits[.digits]: its digit counts; false for anything else. */
static bool read_number(const char *s, size_t len, size_t *int_digits, size_t *frac_digits, bool *zero)
{
	size_t i = s[0] == '-' ? 1 : 0, a = 0, b = 0;
	*zero = true;
	for (; i < len && isdigit((unsigned char)s[i]); i++, a++)
		*zero = *zero && s[i] == '0';
	if (i < len && s[i] == '.')
		for (i++; i < len && isdigit((unsigned char)s[i]); i++, b++)
			*zero = *zero && s[i] == '0';
	*int_digits = a;
	*frac_digits = b;
	return i == len && a > 0 && !(b == 0 && s[len - 1] == '.');
}

/* [-]digits[.digits](e|E)[+|-]digits: DuckDB reads such a literal as a DOUBLE by casting its
 * text, so a DOUBLE column gets the same value from the text. */
static bool exponent_double(const char *s, size_t len)
{
	const char *e = memchr(s, 'e', len);
	if (!e)
		e = memchr(s, 'E', len);
	size_t a, b, at = e ? (size_t)(e - s) : 0, i = at + 1;
	bool zero;
	if (!e || !read_number(s, at, &a, &b, &zero) || (zero && s[0] == '-'))
		return false;
	if (i < len && (s[i] == '+' || s[i] == '-'))
		i++;
	size_t digits = 0;
	for (; i < len && isdigit((unsigned char)s[i]); i++)
		digits++;
	return i == len && digits > 0 && digits <= 3;
}

/* Whether the number s (len) casts from its text to `type` as the literal does. */
static bool number_fits(const char *s, size_t len, const char *type)
{
	size_t a, b;
	bool zero;
	if (strcmp(type, "DOUBLE") == 0 && exponent_double(s, len))
		return true;
	if (!read_number(s, len, &a, &b, &zero) || (zero && s[0] == '-') || a + b > 18)
		return false;
	if (is_integer_type(type))
		return b == 0 && memchr(s, '.', len) == NULL;
	if (strcmp(type, "DOUBLE") == 0)
		return a + b <= 15;
	int width, scale;
	char tail;
	if (sscanf(type, "DECIMAL(%d,%d%c", &width, &scale, &tail) == 3 && tail == ')')
		return (int)b <= scale;
	if (strcmp(type, "VARCHAR") == 0) /* 7 reads '7', and so does its text; 007 and 1.50 would not */
		return memchr(s, '.', len) == NULL && (s[s[0] == '-'] != '0' || len == 1);
	return false;
}

int pl_insert_literal_arg(const pl_text *e, const char *type, char **value, bool *keep)
{
	bool oom = false;
	*value = NULL;
	*keep = false;
	const char *s = e->s;
	size_t len = e->len;
	if (!s || len == 0)
		return 1;
	if (word_is(s, len, "NULL") || word_is(s, len, "TRUE") || word_is(s, len, "FALSE")) {
		*keep = true;
		return 0;
	}
	if (s[0] == '\'') {
		*value = unquote(s, len, &oom);
		return oom ? -1 : *value ? 0 : 1;
	}
	if (isalpha((unsigned char)s[0])) { /* TYPE 'text' */
		size_t w = 0;
		while (w < len && (isalnum((unsigned char)s[w]) || s[w] == '_'))
			w++;
		size_t q = w;
		while (q < len && (s[q] == ' ' || s[q] == '\t' || s[q] == '\n' || s[q] == '\r'))
			q++;
		if (q == w || q >= len || !word_is(s, w, type))
			return 1;
		*value = unquote(s + q, len - q, &oom);
		return oom ? -1 : *value ? 0 : 1;
	}
	if (!number_fits(s, len, type))
		return 1;
	*value = pl_strndup(s, len);
	return *value ? 0 : -1;
}
