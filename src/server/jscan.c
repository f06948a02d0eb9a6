/*
 * jscan.c -- the validating JSON scanner of bulk ingest (see jscan.h).
 *
 * Values are scanned iteratively (an explicit stack of open objects and arrays, so nesting
 * costs no C stack). The keys of every open object are kept (as spans of the input, or decoded
 * into an arena when they hold escapes) and checked for duplicates when the object closes:
 * pairwise for a few keys, through a hash table for many. The fast path of a string is a loop
 * over printable ASCII bytes; escapes and multi-byte sequences are checked one by one.
 */
#include "server/jscan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pl_jscan_init(pl_jscan *s)
{
	memset(s, 0, sizeof *s);
}

void pl_jscan_dispose(pl_jscan *s)
{
	free(s->arena);
	free(s->field);
	free(s->keys);
	free(s->frames);
	free(s->seen);
	memset(s, 0, sizeof *s);
}

static int fail(pl_jscan *s, size_t off, const char *msg)
{
	snprintf(s->err, sizeof s->err, "%s", msg);
	s->off = off;
	return -1;
}

static int oom(pl_jscan *s, size_t off)
{
	s->oom = true;
	return fail(s, off, "out of memory");
}

static bool grow(void **v, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return true;
	size_t c = *cap ? *cap : 16;
	while (c < need)
		c *= 2;
	void *p = realloc(*v, c * size);
	if (!p)
		return false;
	*v = p;
	*cap = c;
	return true;
}

size_t pl_jscan_ws(const char *p, size_t n, size_t i)
{
	while (i < n && (p[i] == ' ' || p[i] == '\n' || p[i] == '\t' || p[i] == '\r'))
		i++;
	return i;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static long hex4(const unsigned char *p, size_t avail)
{
	if (avail < 4)
		return -1;
	long v = 0;
	for (int k = 0; k < 4; k++) {
		int h = hexval(p[k]);
		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

/* Length of the valid UTF-8 sequence at p (a byte >= 0x80), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t avail)
{
	unsigned char c = p[0];
	if (c >= 0xC2 && c <= 0xDF)
		return avail >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF) {
		if (avail < 3 || (p[2] & 0xC0) != 0x80)
			return 0;
		unsigned char lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
		return p[1] >= lo && p[1] <= hi ? 3 : 0;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		if (avail < 4 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
			return 0;
		unsigned char lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
		return p[1] >= lo && p[1] <= hi ? 4 : 0;
	}
	return 0;
}

/* A string at p[*pos] == '"': checked, *pos moved past it. *esc: it holds escapes; *nul: it
 * holds \u0000 (an error unless allow_nul). */
static int scan_string(pl_jscan *s, const char *p, size_t n, size_t *pos, bool allow_nul, bool *esc, bool *nul)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t i = *pos + 1;
	*esc = *nul = false;
	for (;;) {
		while (i < n && u[i] >= 0x20 && u[i] < 0x80 && u[i] != '"' && u[i] != '\\')
			i++;
		if (i >= n)
			return fail(s, i, "unexpected end of input in a string");
		unsigned char c = u[i];
		if (c == '"') {
			*pos = i + 1;
			return 0;
		}
		if (c < 0x20)
			return fail(s, i, "control character in a string (must be escaped)");
		if (c >= 0x80) {
			size_t k = utf8_seq(u + i, n - i);
			if (!k)
				return fail(s, i, "invalid UTF-8 in a string");
			i += k;
			continue;
		}
		/* an escape */
		*esc = true;
		if (i + 1 >= n)
			return fail(s, i, "unexpected end of input in a string");
		c = u[i + 1];
		if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' || c == 'r' || c == 't') {
			i += 2;
			continue;
		}
		if (c != 'u')
			return fail(s, i, "invalid escape in a string");
		long cp = hex4(u + i + 2, n - i - 2);
		if (cp < 0)
			return fail(s, i, "invalid \\u escape in a string");
		i += 6;
		if (cp >= 0xD800 && cp <= 0xDBFF) {
			long lo = i + 1 < n && u[i] == '\\' && u[i + 1] == 'u' ? hex4(u + i + 2, n - i - 2) : -1;
			if (lo < 0xDC00 || lo > 0xDFFF)
				return fail(s, i - 6, "invalid Unicode escape (a high surrogate without its low surrogate)");
			i += 6;
		} else if (cp >= 0xDC00 && cp <= 0xDFFF) {
			return fail(s, i - 6, "invalid Unicode escape (a lone low surrogate)");
		} else if (cp == 0) {
			if (!allow_nul)
				return fail(s, i - 6, "\\u0000 is not allowed");
			*nul = true;
		}
	}
}

size_t pl_jscan_decode(const char *p, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		if (p[i] != '\\') {
			out[o++] = p[i++];
			continue;
		}
		char c = p[i + 1];
		i += 2;
		switch (c) {
		case 'b': out[o++] = '\b'; continue;
		case 'f': out[o++] = '\f'; continue;
		case 'n': out[o++] = '\n'; continue;
		case 'r': out[o++] = '\r'; continue;
		case 't': out[o++] = '\t'; continue;
		case 'u': break;
		default: out[o++] = c; continue;
		}
		unsigned long cp = (unsigned long)hex4((const unsigned char *)p + i, 4);
		i += 4;
		if (cp >= 0xD800 && cp <= 0xDBFF) {
			unsigned long lo = (unsigned long)hex4((const unsigned char *)p + i + 2, 4);
			i += 6;
			cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
		}
		if (cp < 0x80) {
			out[o++] = (char)cp;
		} else if (cp < 0x800) {
			out[o++] = (char)(0xC0 | (cp >> 6));
			out[o++] = (char)(0x80 | (cp & 0x3F));
		} else if (cp < 0x10000) {
			out[o++] = (char)(0xE0 | (cp >> 12));
			out[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
			out[o++] = (char)(0x80 | (cp & 0x3F));
		} else {
			out[o++] = (char)(0xF0 | (cp >> 18));
			out[o++] = (char)(0x80 | ((cp >> 12) & 0x3F));
			out[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
			out[o++] = (char)(0x80 | (cp & 0x3F));
		}
	}
	return o;
}

typedef struct number {
	bool is_int, fits; /* an integer literal; it fits an int64 (then v) */
	int64_t v;
	bool inf; /* as a double it overflows */
} number;

/* A number at p[*pos]: checked, *pos moved past it. */
static int scan_number(pl_jscan *s, const char *p, size_t n, size_t *pos, number *num)
{
	size_t i = *pos, start = i;
	bool neg = false;
	if (p[i] == '-') {
		neg = true;
		i++;
	}
	if (i >= n || p[i] < '0' || p[i] > '9')
		return fail(s, i, "invalid number");
	uint64_t mag = 0;
	bool over = false;
	size_t digits = 0;
	if (p[i] == '0') {
		i++;
		digits = 1;
	} else {
		while (i < n && p[i] >= '0' && p[i] <= '9') {
			unsigned d = (unsigned)(p[i] - '0');
			if (mag > (UINT64_MAX - d) / 10)
				over = true;
			else
				mag = mag * 10 + d;
			i++;
			digits++;
		}
	}
	bool frac = false, exp = false;
	if (i < n && p[i] == '.') {
		frac = true;
		i++;
		if (i >= n || p[i] < '0' || p[i] > '9')
			return fail(s, i, "invalid number (digits must follow the decimal point)");
		while (i < n && p[i] >= '0' && p[i] <= '9')
			i++;
	}
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		exp = true;
		i++;
		if (i < n && (p[i] == '+' || p[i] == '-'))
			i++;
		if (i >= n || p[i] < '0' || p[i] > '9')
			return fail(s, i, "invalid number (digits must follow the exponent)");
		while (i < n && p[i] >= '0' && p[i] <= '9')
			i++;
	}
	num->is_int = !frac && !exp;
	num->fits = num->is_int && !over && (neg ? mag <= (uint64_t)INT64_MAX + 1 : mag <= (uint64_t)INT64_MAX);
	num->v = !num->fits ? 0 : neg ? (mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag) : (int64_t)mag;
	num->inf = false;
	if (exp || digits > 300) {
		/* only these can overflow a double */
		size_t len = i - start;
		if (!grow((void **)&s->arena, &s->arena_cap, s->arena_len + len + 1, 1))
			return oom(s, start);
		char *t = s->arena + s->arena_len;
		memcpy(t, p + start, len);
		t[len] = 0;
		num->inf = isinf(strtod(t, NULL));
	}
	*pos = i;
	return 0;
}

static int literal(pl_jscan *s, const char *p, size_t n, size_t *pos, const char *word)
{
	size_t len = strlen(word);
	if (n - *pos < len || memcmp(p + *pos, word, len) != 0)
		return fail(s, *pos, "invalid literal (expected true, false or null)");
	*pos += len;
	return 0;
}

static const char *key_ptr(const pl_jscan *s, const char *p, const pl_jkey *k)
{
	return k->own ? s->arena + k->off : p + k->off;
}

static uint64_t hash(const char *k, size_t n)
{
	uint64_t h = 1469598103934665603u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)k[i]) * 1099511628211u;
	return h;
}

/* The keys of the object whose entries start at first: a duplicate gives -1. */
static int check_dups(pl_jscan *s, const char *p, size_t first, size_t at)
{
	size_t m = s->nkeys - first;
	pl_jkey *k = s->keys + first;
	if (m <= 8) {
		for (size_t a = 0; a < m; a++)
			for (size_t b = a + 1; b < m; b++)
				if (k[a].len == k[b].len && memcmp(key_ptr(s, p, &k[a]), key_ptr(s, p, &k[b]), k[a].len) == 0)
					return fail(s, at, "duplicate object key");
		return 0;
	}
	size_t slots = 16;
	while (slots < m * 2)
		slots *= 2;
	size_t *tab = malloc(slots * sizeof *tab);
	if (!tab)
		return oom(s, at);
	for (size_t i = 0; i < slots; i++)
		tab[i] = SIZE_MAX;
	int rc = 0;
	for (size_t a = 0; a < m && rc == 0; a++) {
		const char *ka = key_ptr(s, p, &k[a]);
		size_t h = (size_t)hash(ka, k[a].len) & (slots - 1);
		while (tab[h] != SIZE_MAX) {
			size_t b = tab[h];
			if (k[b].len == k[a].len && memcmp(key_ptr(s, p, &k[b]), ka, k[a].len) == 0) {
				rc = fail(s, at, "duplicate object key");
				break;
			}
			h = (h + 1) & (slots - 1);
		}
		tab[h] = a;
	}
	free(tab);
	return rc;
}

/* A key at p[*pos] (after whitespace), its ':' and the whitespace after: kept in the open
 * object's entries. */
static int scan_key(pl_jscan *s, const char *p, size_t n, size_t *pos)
{
	size_t i = pl_jscan_ws(p, n, *pos);
	if (i >= n || p[i] != '"')
		return fail(s, i, "expected an object key (a string)");
	size_t start = i;
	bool esc, nul;
	if (scan_string(s, p, n, &i, false, &esc, &nul))
		return -1;
	if (!grow((void **)&s->keys, &s->keys_cap, s->nkeys + 1, sizeof *s->keys))
		return oom(s, start);
	pl_jkey *k = &s->keys[s->nkeys++];
	size_t raw = i - start - 2;
	if (esc) {
		if (!grow((void **)&s->arena, &s->arena_cap, s->arena_len + raw, 1))
			return oom(s, start);
		k->off = s->arena_len;
		k->len = pl_jscan_decode(p + start + 1, raw, s->arena + s->arena_len);
		k->own = true;
		s->arena_len += k->len;
	} else {
		k->off = start + 1;
		k->len = raw;
		k->own = false;
	}
	i = pl_jscan_ws(p, n, i);
	if (i >= n || p[i] != ':')
		return fail(s, i, "expected ':' after an object key");
	*pos = i + 1;
	return 0;
}

int pl_jscan_value(pl_jscan *s, const char *p, size_t n, size_t *pos, size_t depth)
{
	size_t base = s->nframes, keys0 = s->nkeys, arena0 = s->arena_len;
	size_t i = *pos;
	int rc = 0;
	for (;;) {
		/* a value at i */
		i = pl_jscan_ws(p, n, i);
		if (i >= n) {
			rc = fail(s, i, "unexpected end of input (expected a value)");
			break;
		}
		char c = p[i];
		if (c == '{' || c == '[') {
			if (depth + (s->nframes - base) >= PL_JSCAN_MAX_DEPTH) {
				rc = fail(s, i, "too deeply nested");
				break;
			}
			if (!grow((void **)&s->frames, &s->frames_cap, s->nframes + 1, sizeof *s->frames)) {
				rc = oom(s, i);
				break;
			}
			s->frames[s->nframes++] = c == '{' ? s->nkeys : SIZE_MAX;
			i = pl_jscan_ws(p, n, i + 1);
			if (i < n && p[i] == (c == '{' ? '}' : ']')) {
				s->nframes--;
				i++;
				goto after_value;
			}
			if (c == '{' && (rc = scan_key(s, p, n, &i)) != 0)
				break;
			continue;
		} else if (c == '"') {
			bool esc, nul;
			if ((rc = scan_string(s, p, n, &i, false, &esc, &nul)) != 0)
				break;
		} else if (c == 't' || c == 'f' || c == 'n') {
			if ((rc = literal(s, p, n, &i, c == 't' ? "true" : c == 'f' ? "false" : "null")) != 0)
				break;
		} else if (c == '-' || (c >= '0' && c <= '9')) {
			number num;
			if ((rc = scan_number(s, p, n, &i, &num)) != 0)
				break;
		} else {
			rc = fail(s, i, "unexpected character (expected a value)");
			break;
		}
	after_value:
		if (s->nframes == base)
			break;
		i = pl_jscan_ws(p, n, i);
		size_t first = s->frames[s->nframes - 1];
		bool obj = first != SIZE_MAX;
		if (i < n && p[i] == ',') {
			i++;
			if (obj && (rc = scan_key(s, p, n, &i)) != 0)
				break;
			continue;
		}
		if (i < n && p[i] == (obj ? '}' : ']')) {
			if (obj) {
				if ((rc = check_dups(s, p, first, i)) != 0)
					break;
				s->nkeys = first;
			}
			s->nframes--;
			i++;
			goto after_value;
		}
		rc = fail(s, i, obj ? "expected ',' or '}' in an object" : "expected ',' or ']' in an array");
		break;
	}
	s->nframes = base;
	s->nkeys = keys0;
	s->arena_len = arena0;
	if (rc == 0)
		*pos = i;
	return rc;
}

static void set_field(pl_jscan *s, const char *k, size_t len)
{
	if (!grow((void **)&s->field, &s->field_cap, len + 1, 1)) {
		s->oom = true;
		len = s->field_cap ? s->field_cap - 1 : 0;
		if (!s->field)
			return;
	}
	memcpy(s->field, k, len);
	s->field[len] = 0;
}

static int misfit(pl_jscan *s, const char *k, size_t len, const char *why, const pl_jscan_col *col)
{
	set_field(s, k, len);
	if (col)
		snprintf(s->reason, sizeof s->reason, "%s (column type %.100s)", why, col->type);
	else
		snprintf(s->reason, sizeof s->reason, "%s", why);
	return 1;
}

int pl_jscan_record(pl_jscan *s, const pl_jscan_col *cols, size_t ncols, const char *p, size_t n, size_t *pos,
		    bool *used)
{
	size_t i = pl_jscan_ws(p, n, *pos);
	int res = 0;
	s->err[0] = 0;
	s->reason[0] = 0;
	set_field(s, "", 0);
	if (i >= n || p[i] != '{') {
		if (pl_jscan_value(s, p, n, &i, 0))
			return -1;
		*pos = i;
		return misfit(s, "", 0, "a record must be a JSON object", NULL);
	}
	if (s->seen_cap < ncols || !s->seen) {
		free(s->seen);
		s->seen_cap = ncols ? ncols : 1;
		s->seen = calloc(s->seen_cap, sizeof *s->seen);
		s->rec_no = 0;
		if (!s->seen) {
			s->seen_cap = 0;
			return oom(s, i);
		}
	}
	if (++s->rec_no == 0) {
		memset(s->seen, 0, s->seen_cap * sizeof *s->seen);
		if (s->vals)
			memset(s->vals, 0, ncols * sizeof *s->vals);
		s->rec_no = 1;
	}
	i = pl_jscan_ws(p, n, i + 1);
	if (i < n && p[i] == '}') {
		*pos = i + 1;
		return misfit(s, "", 0, "the record has no fields", NULL);
	}
	size_t hint = 0;
	number jv_int = {false, false, 0, false}; /* the last number */
	char *dec = NULL; /* a decoded key */
	size_t dec_cap = 0;
	for (;;) {
		/* key */
		i = pl_jscan_ws(p, n, i);
		if (i >= n || p[i] != '"') {
			res = fail(s, i, "expected an object key (a string)");
			break;
		}
		size_t ks = i;
		bool esc, nul;
		if (scan_string(s, p, n, &i, false, &esc, &nul)) {
			res = -1;
			break;
		}
		const char *key = p + ks + 1;
		size_t klen = i - ks - 2;
		if (esc) {
			if (!grow((void **)&dec, &dec_cap, klen + 1, 1)) {
				res = oom(s, ks);
				break;
			}
			klen = pl_jscan_decode(key, klen, dec);
			key = dec;
		}
		i = pl_jscan_ws(p, n, i);
		if (i >= n || p[i] != ':') {
			res = fail(s, i, "expected ':' after an object key");
			break;
		}
		i = pl_jscan_ws(p, n, i + 1);
		/* which column */
		size_t j = hint < ncols && cols[hint].len == klen && memcmp(cols[hint].name, key, klen) == 0 ? hint : ncols;
		for (size_t t = 0; j == ncols && t < ncols; t++)
			if (cols[t].len == klen && memcmp(cols[t].name, key, klen) == 0)
				j = t;
		const pl_jscan_col *col = j < ncols ? &cols[j] : NULL;
		const char *why = NULL;
		if (!col) {
			why = "unknown field (not a column of the table)";
		} else if (s->seen[j] == s->rec_no) {
			why = "duplicate field";
		} else {
			s->seen[j] = s->rec_no;
			if (used)
				used[j] = true;
			hint = j + 1;
		}
		/* the value */
		if (i >= n) {
			res = fail(s, i, "unexpected end of input (expected a value)");
			break;
		}
		char c = p[i];
		size_t vs = i;
		if (c == '"') {
			if (scan_string(s, p, n, &i, true, &esc, &nul)) {
				res = -1;
				break;
			}
			if (!why && col->kind != PL_JK_ANY && col->kind != PL_JK_STR)
				why = col->kind == PL_JK_NESTED ? "expected a JSON array or object"
				      : col->kind == PL_JK_BOOL ? "expected true or false"
				      : col->kind == PL_JK_INT  ? "expected an integer"
								: "expected a number";
			if (!why && nul)
				why = "text must not contain NUL characters";
		} else if (c == '-' || (c >= '0' && c <= '9')) {
			number num;
			if (scan_number(s, p, n, &i, &num)) {
				res = -1;
				break;
			}
			jv_int = num;
			if (!why) {
				switch (col->kind) {
				case PL_JK_INT:
					why = !num.is_int ? "expected an integer"
					      : !num.fits || num.v < col->lo || num.v > col->hi ? "integer out of the column's range"
												 : NULL;
					break;
				case PL_JK_NUM: why = num.inf ? "number out of the column's range" : NULL; break;
				case PL_JK_NESTED: why = "expected a JSON array or object"; break;
				case PL_JK_BOOL: why = "expected true or false"; break;
				case PL_JK_STR: why = "expected a string"; break;
				default: break;
				}
			}
		} else if (c == 't' || c == 'f') {
			if (literal(s, p, n, &i, c == 't' ? "true" : "false")) {
				res = -1;
				break;
			}
			if (!why && col->kind != PL_JK_ANY && col->kind != PL_JK_BOOL)
				why = col->kind == PL_JK_NESTED ? "expected a JSON array or object"
				      : col->kind == PL_JK_INT  ? "expected an integer"
				      : col->kind == PL_JK_NUM  ? "expected a number"
								: "expected a string";
		} else if (c == 'n') {
			if (literal(s, p, n, &i, "null")) {
				res = -1;
				break;
			}
			if (!why && !col->nullable)
				why = "the column is NOT NULL";
		} else {
			bool nested = c == '{' || c == '[';
			if (pl_jscan_value(s, p, n, &i, 1)) {
				res = -1;
				break;
			}
			if (!why && nested && col->kind != PL_JK_ANY && col->kind != PL_JK_NESTED)
				why = col->kind == PL_JK_BOOL ? "expected true or false"
				      : col->kind == PL_JK_INT ? "expected an integer"
				      : col->kind == PL_JK_NUM ? "expected a number"
							       : "expected a string";
		}
		if (why && res == 0)
			res = misfit(s, key, klen, why, col && strcmp(why, "duplicate field") != 0 ? col : NULL);
		else if (!why && s->vals) {
			pl_jval *jv = &s->vals[j];
			jv->rec = s->rec_no;
			jv->esc = false;
			jv->off = vs;
			jv->len = i - vs;
			if (c == '"') {
				jv->type = PL_JV_STR;
				jv->esc = esc;
				jv->off = vs + 1;
				jv->len = i - vs - 2;
			} else if (c == 't' || c == 'f' || c == 'n') {
				jv->type = c == 't' ? PL_JV_TRUE : c == 'f' ? PL_JV_FALSE : PL_JV_NULL;
			} else if (c == '-' || (c >= '0' && c <= '9')) {
				jv->type = PL_JV_NUM;
				if (jv_int.is_int && jv_int.fits && !(jv_int.v == 0 && c == '-')) {
					jv->type = PL_JV_INT;
					jv->v = jv_int.v;
				}
			} else {
				jv->type = PL_JV_NESTED;
			}
		}
		/* next */
		i = pl_jscan_ws(p, n, i);
		if (i < n && p[i] == ',') {
			i++;
			continue;
		}
		if (i < n && p[i] == '}') {
			i++;
			break;
		}
		res = fail(s, i, "expected ',' or '}' in an object");
		break;
	}
	free(dec);
	if (res < 0)
		return -1;
	if (res == 0) {
		for (size_t j = 0; j < ncols; j++)
			if (cols[j].required && s->seen[j] != s->rec_no)
				return *pos = i, misfit(s, cols[j].name, cols[j].len, "missing required field (NOT NULL column)", NULL);
	}
	*pos = i;
	return res;
}

void pl_jscan_where(const char *p, size_t off, size_t *line, size_t *column)
{
	size_t l = 1, last = 0;
	for (size_t i = 0; i < off; i++)
		if (p[i] == '\n') {
			l++;
			last = i + 1;
		}
	*line = l;
	*column = off - last + 1;
}
