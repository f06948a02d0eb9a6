/*
 * sqltest_compare.c -- query results as sqllogictest text, and their comparison.
 *
 * Owns what DuckDB's runner does between running a query and judging it: printing values (NULL,
 * (empty)), rowsort/valuesort, MD5 result hashes, deciding whether expected lines are row-wise
 * (tab-separated) or one value per line, value equality (text, <REGEX>:, exact numbers, floats
 * within 1%, true/1 false/0) and `statement error` message matching. Pure functions: regular
 * expressions are matched through a callback, so nothing here touches a database.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/sqltest.h"
#include "planar/errors.h"

#define SHOW_MAX 200     /* bytes of a value or result shown in a failure line */
#define SHOW_NAME_MAX 60 /* bytes of a column name shown there */

pl_sqltest_coltype pl_sqltest_coltype_of(const char *sql_type, bool numeric)
{
	if (strcmp(sql_type, "BOOLEAN") == 0)
		return PL_SQLTEST_COL_BOOL;
	if (!numeric)
		return PL_SQLTEST_COL_TEXT;
	if (pl_sqltest_starts_with(sql_type, "FLOAT") || pl_sqltest_starts_with(sql_type, "DOUBLE") ||
	    pl_sqltest_starts_with(sql_type, "REAL"))
		return PL_SQLTEST_COL_FLOAT;
	return PL_SQLTEST_COL_EXACT;
}

char *pl_sqltest_format_value(const char *raw, pl_sqltest_coltype type)
{
	if (!raw)
		return pl_sqltest_strdup("NULL");
	if (type == PL_SQLTEST_COL_BOOL && (strcmp(raw, "true") == 0 || strcmp(raw, "false") == 0))
		return pl_sqltest_strdup(raw[0] == 't' ? "1" : "0");
	return pl_sqltest_strdup(raw[0] ? raw : "(empty)");
}

int pl_sqltest_table_init(pl_sqltest_table *t, size_t ncols, size_t nrows)
{
	memset(t, 0, sizeof *t);
	if (ncols > 0 && nrows > SIZE_MAX / sizeof(char *) / ncols)
		return PLANAR_ENOMEM;
	t->ncols = ncols;
	t->nrows = nrows;
	t->cells = calloc(ncols * nrows + 1, sizeof *t->cells);
	t->names = calloc(ncols + 1, sizeof *t->names);
	t->types = calloc(ncols + 1, sizeof *t->types);
	if (!t->cells || !t->names || !t->types) {
		pl_sqltest_table_free(t);
		return PLANAR_ENOMEM;
	}
	return 0;
}

void pl_sqltest_table_free(pl_sqltest_table *t)
{
	for (size_t i = 0; t->cells && i < t->ncols * t->nrows; i++)
		free(t->cells[i]);
	for (size_t i = 0; t->names && i < t->ncols; i++)
		free(t->names[i]);
	free(t->cells);
	free(t->names);
	free(t->types);
	memset(t, 0, sizeof *t);
}

/* ---- sorting ---- */

typedef struct row_ref {
	char **cells;
	size_t ncols;
} row_ref;

static int cmp_rows(const void *a, const void *b)
{
	const row_ref *x = a, *y = b;
	for (size_t i = 0; i < x->ncols; i++) {
		int c = strcmp(x->cells[i], y->cells[i]);
		if (c != 0)
			return c;
	}
	return 0;
}

static int cmp_values(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void sort_rows(pl_sqltest_table *t)
{
	if (t->nrows < 2 || t->ncols == 0)
		return;
	row_ref *rows = malloc(t->nrows * sizeof *rows);
	char **cells = malloc(t->nrows * t->ncols * sizeof *cells);
	if (!rows || !cells) {
		/* leave it unsorted: the comparison then reports the mismatch */
		free(rows);
		free(cells);
		return;
	}
	for (size_t r = 0; r < t->nrows; r++)
		rows[r] = (row_ref){t->cells + r * t->ncols, t->ncols};
	qsort(rows, t->nrows, sizeof *rows, cmp_rows);
	for (size_t r = 0; r < t->nrows; r++)
		memcpy(cells + r * t->ncols, rows[r].cells, t->ncols * sizeof *cells);
	memcpy(t->cells, cells, t->nrows * t->ncols * sizeof *cells);
	free(rows);
	free(cells);
}

void pl_sqltest_table_sort(pl_sqltest_table *t, pl_sqltest_sort sort)
{
	if (sort == PL_SQLTEST_ROWSORT)
		sort_rows(t);
	else if (sort == PL_SQLTEST_VALUESORT && t->nrows * t->ncols > 1)
		qsort(t->cells, t->nrows * t->ncols, sizeof *t->cells, cmp_values);
}

int pl_sqltest_table_format(const pl_sqltest_table *t, pl_cli_buf *out)
{
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			if (c > 0)
				pl_cli_buf_putc(out, '\t');
			pl_cli_buf_puts(out, t->cells[r * t->ncols + c]);
		}
		pl_cli_buf_putc(out, '\n');
	}
	return out->oom ? PLANAR_ENOMEM : 0;
}

/* ---- MD5 (RFC 1321), for "N values hashing to ..." results ---- */

typedef struct md5_state {
	uint32_t h[4];
	uint32_t k[64];
} md5_state;

static uint32_t rotl32(uint32_t x, unsigned n)
{
	return (x << n) | (x >> (32 - n));
}

static void md5_block(md5_state *st, const unsigned char *p)
{
	static const unsigned shift[4][4] = {{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};
	uint32_t m[16], a = st->h[0], b = st->h[1], c = st->h[2], d = st->h[3];
	for (int i = 0; i < 16; i++)
		m[i] = (uint32_t)p[i * 4] | (uint32_t)p[i * 4 + 1] << 8 | (uint32_t)p[i * 4 + 2] << 16 |
		       (uint32_t)p[i * 4 + 3] << 24;
	for (unsigned i = 0; i < 64; i++) {
		uint32_t f;
		unsigned g, round = i / 16;
		if (round == 0) {
			f = (b & c) | (~b & d);
			g = i;
		} else if (round == 1) {
			f = (d & b) | (~d & c);
			g = (5 * i + 1) % 16;
		} else if (round == 2) {
			f = b ^ c ^ d;
			g = (3 * i + 5) % 16;
		} else {
			f = c ^ (b | ~d);
			g = (7 * i) % 16;
		}
		f += a + st->k[i] + m[g];
		a = d;
		d = c;
		c = b;
		b += rotl32(f, shift[round][i % 4]);
	}
	st->h[0] += a;
	st->h[1] += b;
	st->h[2] += c;
	st->h[3] += d;
}

void pl_sqltest_md5_hex(const void *data, size_t len, char out[33])
{
	md5_state st = {{0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u}, {0}};
	for (int i = 0; i < 64; i++)
		st.k[i] = (uint32_t)(uint64_t)floor(fabs(sin((double)(i + 1))) * 4294967296.0);
	const unsigned char *p = data;
	size_t done = 0;
	for (; len - done >= 64; done += 64)
		md5_block(&st, p + done);
	unsigned char tail[128] = {0};
	size_t rest = len - done, tail_len = rest + 1 + 8 <= 64 ? 64 : 128;
	if (rest)
		memcpy(tail, p + done, rest);
	tail[rest] = 0x80;
	uint64_t bits = (uint64_t)len * 8;
	for (int i = 0; i < 8; i++)
		tail[tail_len - 8 + (size_t)i] = (unsigned char)(bits >> (8 * i));
	for (size_t off = 0; off < tail_len; off += 64)
		md5_block(&st, tail + off);
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < 16; i++) {
		unsigned char byte = (unsigned char)(st.h[i / 4] >> (8 * (i % 4)));
		out[i * 2] = hex[byte >> 4];
		out[i * 2 + 1] = hex[byte & 15];
	}
	out[32] = '\0';
}

char *pl_sqltest_table_hash(const pl_sqltest_table *t)
{
	pl_cli_buf data = {0}, out = {0};
	char hex[33];
	size_t n = t->nrows * t->ncols;
	pl_cli_buf_puts(&data, "");
	for (size_t i = 0; i < n; i++) {
		pl_cli_buf_puts(&data, t->cells[i]);
		pl_cli_buf_putc(&data, '\n');
	}
	if (data.oom) {
		pl_cli_buf_dispose(&data);
		return NULL;
	}
	pl_sqltest_md5_hex(data.ptr, data.len, hex);
	pl_cli_buf_dispose(&data);
	pl_cli_buf_printf(&out, "%zu values hashing to %s", n, hex);
	return pl_cli_buf_detach(&out);
}

bool pl_sqltest_is_hash_line(const char *line)
{
	static const char mid[] = " values hashing to ";
	size_t i = 0;
	while (isdigit((unsigned char)line[i]))
		i++;
	if (i == 0 || strncmp(line + i, mid, sizeof mid - 1) != 0)
		return false;
	line += i + sizeof mid - 1;
	for (i = 0; isdigit((unsigned char)line[i]) || (line[i] >= 'a' && line[i] <= 'z'); i++)
		;
	return i == 32 && line[i] == '\0';
}

/* ---- value equality ---- */

/* The rest of a number: an optional exponent and blanks. */
static bool parse_exponent(const char *s, long long *exp)
{
	*exp = 0;
	if (*s == 'e' || *s == 'E') {
		char *end;
		errno = 0;
		*exp = strtoll(s + 1, &end, 10);
		if (end == s + 1 || errno != 0 || llabs(*exp) > 100000)
			return false;
		s = end;
	}
	while (isspace((unsigned char)*s))
		s++;
	return *s == '\0';
}

/* Canonical form of a decimal number ("-1234e-2"); false when s is not one. */
static bool decimal_canon(const char *s, pl_cli_buf *out)
{
	long long exp = 0, frac_digits = 0;
	bool neg = false, any = false, dot = false;
	while (isspace((unsigned char)*s))
		s++;
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	size_t start = out->len;
	for (; isdigit((unsigned char)*s) || (*s == '.' && !dot); s++) {
		if (*s == '.') {
			dot = true;
			continue;
		}
		any = true;
		frac_digits += dot;
		if (*s != '0' || out->len > start)
			pl_cli_buf_putc(out, *s);
	}
	if (!any || !parse_exponent(s, &exp))
		return false;
	exp -= frac_digits;
	while (out->len > start && out->ptr[out->len - 1] == '0') {
		out->ptr[--out->len] = '\0';
		exp++;
	}
	if (out->len == start) /* zero: sign and exponent do not matter */
		return true;
	pl_cli_buf_printf(out, "e%lld%s", exp, neg ? "-" : "+");
	return true;
}

static bool exact_equal(const char *a, const char *b)
{
	pl_cli_buf x = {0}, y = {0};
	pl_cli_buf_puts(&x, "");
	pl_cli_buf_puts(&y, "");
	bool eq = decimal_canon(a, &x) && decimal_canon(b, &y) && !x.oom && !y.oom &&
		  strcmp(x.ptr, y.ptr) == 0;
	pl_cli_buf_dispose(&x);
	pl_cli_buf_dispose(&y);
	return eq;
}

static bool parse_double(const char *s, double *out)
{
	char *end;
	*out = strtod(s, &end);
	if (end == s)
		return false;
	while (isspace((unsigned char)*end))
		end++;
	return *end == '\0';
}

/* DuckDB's ApproxEqual: within 1% of the expected value (plus 1e-8). */
static bool float_equal(const char *actual, const char *expected)
{
	double a, e;
	if (!parse_double(actual, &a) || !parse_double(expected, &e))
		return false;
	if (isnan(a) || isnan(e))
		return isnan(a) && isnan(e);
	if (!isfinite(a) || !isfinite(e))
		return a == e;
	return fabs(a - e) <= fabs(e) * 0.01 + 0.00000001;
}

static int bool_value(const char *s)
{
	if (strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0)
		return 1;
	if (strcasecmp(s, "false") == 0 || strcmp(s, "0") == 0)
		return 0;
	return -1;
}

/* 1: the expectation is a regex and it decides a match; 0: it does not match; -1: no regex. */
static int regex_decides(const char *text, const char *expected, const pl_sqltest_matcher *m)
{
	bool want = pl_sqltest_starts_with(expected, "<REGEX>:");
	if (!want && !pl_sqltest_starts_with(expected, "<!REGEX>:"))
		return -1;
	bool matched = false;
	const char *pattern = strchr(expected, ':') + 1;
	if (!m || !m->fn || m->fn(m->ud, pattern, text, &matched) != 0)
		return 0;
	return matched == want;
}

bool pl_sqltest_value_matches(const char *actual, const char *expected, pl_sqltest_coltype type,
	const pl_sqltest_matcher *m)
{
	if (strcmp(actual, expected) == 0 || regex_decides(actual, expected, m) == 1)
		return true;
	if (strcmp(actual, "NULL") == 0 || strcmp(expected, "NULL") == 0)
		return false;
	switch (type) {
	case PL_SQLTEST_COL_EXACT:
		return exact_equal(actual, expected);
	case PL_SQLTEST_COL_FLOAT:
		return float_equal(actual, expected);
	case PL_SQLTEST_COL_BOOL:
		return bool_value(actual) >= 0 && bool_value(actual) == bool_value(expected);
	case PL_SQLTEST_COL_TEXT:
		break;
	}
	return false;
}

/* ---- whole results ---- */

static int mismatch(char **why, pl_cli_buf *b)
{
	*why = pl_cli_buf_detach(b);
	return *why ? 0 : PLANAR_ENOMEM;
}

/* Appends the actual result compactly: rows separated by " | ". */
static void put_result_summary(pl_cli_buf *b, const pl_sqltest_table *t)
{
	pl_cli_buf rows = {0};
	pl_cli_buf_puts(&rows, "");
	for (size_t r = 0; r < t->nrows && rows.len <= SHOW_MAX; r++) {
		if (r > 0)
			pl_cli_buf_puts(&rows, " | ");
		for (size_t c = 0; c < t->ncols; c++) {
			if (c > 0)
				pl_cli_buf_putc(&rows, '\t');
			pl_cli_buf_puts(&rows, t->cells[r * t->ncols + c]);
		}
	}
	if (!rows.oom) {
		pl_cli_buf_puts(b, t->nrows ? "; got: " : "");
		pl_cli_buf_put_escaped(b, rows.ptr, SHOW_MAX);
	}
	pl_cli_buf_dispose(&rows);
}

static int check_hash(const pl_sqltest_table *t, const char *expected, char **why)
{
	char *hash = pl_sqltest_table_hash(t);
	if (!hash)
		return PLANAR_ENOMEM;
	int rc = 1;
	if (strcmp(hash, expected) != 0) {
		pl_cli_buf b = {0};
		pl_cli_buf_printf(&b, "expected '%s' but got '%s'", expected, hash);
		rc = mismatch(why, &b);
	}
	free(hash);
	return rc;
}

/* Whether expected lines hold whole rows (tab-separated) rather than one value per line. */
static bool rows_are_lines(const pl_sqltest_table *t, const pl_sqltest_strv *expected)
{
	if (t->ncols > 1 && expected->n == t->nrows)
		return true;
	for (size_t i = 0; i < expected->n; i++)
		if (!strchr(expected->v[i], '\t'))
			return false;
	return true;
}

/* The expected values, one per cell, from row-wise or value-wise lines. */
static int expected_values(const pl_sqltest_table *t, const pl_sqltest_strv *expected,
	pl_sqltest_strv *values, char **why)
{
	pl_cli_buf b = {0};
	bool row_wise = rows_are_lines(t, expected);
	size_t nrows = row_wise ? expected->n : expected->n / t->ncols;
	if (!row_wise && expected->n % t->ncols != 0) {
		pl_cli_buf_printf(&b, "expected %zu values, not a multiple of %zu columns",
			expected->n, t->ncols);
		return mismatch(why, &b);
	}
	if (nrows != t->nrows) {
		pl_cli_buf_printf(&b, "expected %zu rows but got %zu", nrows, t->nrows);
		put_result_summary(&b, t);
		return mismatch(why, &b);
	}
	for (size_t i = 0; i < expected->n; i++) {
		size_t before = values->n;
		int rc = row_wise ? pl_sqltest_strv_split(values, expected->v[i], '\t')
				  : pl_sqltest_strv_push(values, expected->v[i]);
		if (rc != 0)
			return PLANAR_ENOMEM;
		if (row_wise && values->n - before != t->ncols) {
			pl_cli_buf_printf(&b, "expected row %zu has %zu values, the result has %zu columns",
				i + 1, values->n - before, t->ncols);
			return mismatch(why, &b);
		}
	}
	return 1;
}

static int compare_values(const pl_sqltest_table *t, const pl_sqltest_strv *values,
	const pl_sqltest_matcher *m, char **why)
{
	for (size_t i = 0; i < values->n; i++) {
		size_t col = i % t->ncols;
		if (pl_sqltest_value_matches(t->cells[i], values->v[i], t->types[col], m))
			continue;
		pl_cli_buf b = {0};
		pl_cli_buf_printf(&b, "row %zu, column %zu (", i / t->ncols + 1, col + 1);
		pl_cli_buf_put_escaped(&b, t->names[col] ? t->names[col] : "?", SHOW_NAME_MAX);
		pl_cli_buf_puts(&b, "): expected '");
		pl_cli_buf_put_escaped(&b, values->v[i], SHOW_MAX);
		pl_cli_buf_puts(&b, "' but got '");
		pl_cli_buf_put_escaped(&b, t->cells[i], SHOW_MAX);
		pl_cli_buf_putc(&b, '\'');
		return mismatch(why, &b);
	}
	return 1;
}

int pl_sqltest_check_result(const pl_sqltest_table *t, size_t declared_cols,
	const pl_sqltest_strv *expected, const pl_sqltest_matcher *m, char **why)
{
	pl_cli_buf b = {0};
	*why = NULL;
	/* a hash covers every value, whatever the declared column count (as DuckDB's runner) */
	if (expected->n == 1 && pl_sqltest_is_hash_line(expected->v[0]))
		return check_hash(t, expected->v[0], why);
	if (declared_cols != t->ncols) {
		pl_cli_buf_printf(&b, "query declares %zu columns but the result has %zu",
			declared_cols, t->ncols);
		put_result_summary(&b, t);
		return mismatch(why, &b);
	}
	if (expected->n == 1 && pl_sqltest_starts_with(expected->v[0], "<FILE>:")) {
		pl_cli_buf_puts(&b, "<FILE>: expected results are not supported");
		return mismatch(why, &b);
	}
	pl_sqltest_strv values = {0};
	int rc = t->ncols == 0 ? 1 : expected_values(t, expected, &values, why);
	if (rc == 1)
		rc = compare_values(t, &values, m, why);
	pl_sqltest_strv_free(&values);
	return rc;
}

int pl_sqltest_check_error(const char *errmsg, const char *expected, const pl_sqltest_matcher *m,
	char **why)
{
	*why = NULL;
	if (!expected || !expected[0] || strstr(errmsg, expected) != NULL ||
	    regex_decides(errmsg, expected, m) == 1)
		return 1;
	pl_cli_buf b = {0};
	pl_cli_buf_puts(&b, "expected error '");
	pl_cli_buf_put_escaped(&b, expected, SHOW_MAX);
	pl_cli_buf_puts(&b, "' but got '");
	pl_cli_buf_put_escaped(&b, errmsg, SHOW_MAX);
	pl_cli_buf_putc(&b, '\'');
	return mismatch(why, &b);
}
