/*
 * fuzz_jscan.c -- fuzz harness for the validating JSON scanner of bulk ingest
 * (src/server/jscan.c), checked against jansson.
 *
 * The first input byte picks the mode; the rest is the text:
 *   even: the text as one JSON value (pl_jscan_value, then only whitespace). Whatever jansson
 *         accepts (JSON_DECODE_ANY | JSON_REJECT_DUPLICATES) within PL_JSCAN_MAX_DEPTH levels
 *         the scanner accepts; what the scanner accepts jansson accepts too, unless jansson
 *         refuses a number that is too large (the scanner leaves numbers to the columns);
 *   odd:  the text as NDJSON-like records one after another for a table of fixed columns
 *         (pl_jscan_record): a record that fits is a valid JSON value whose fields are all
 *         columns with values of the right kind (checked again through jansson); a misfit
 *         names a reason; the scan always moves forward.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/jscan.h"

#define CHECK(cond)                                                                                   \
	do {                                                                                          \
		if (!(cond)) {                                                                        \
			fprintf(stderr, "fuzz_jscan: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                      \
		}                                                                                     \
	} while (0)

static const pl_jscan_col cols[] = {
	{"id", 2, "BIGINT", PL_JK_INT, INT64_MIN, INT64_MAX, false, true},
	{"i", 1, "INTEGER", PL_JK_INT, -2147483648LL, 2147483647LL, true, false},
	{"s", 1, "VARCHAR", PL_JK_STR, 0, 0, true, false},
	{"d", 1, "DOUBLE", PL_JK_NUM, 0, 0, true, false},
	{"l", 1, "VARCHAR[]", PL_JK_NESTED, 0, 0, true, false},
	{"j", 1, "JSON", PL_JK_ANY, 0, 0, true, false},
	{"b", 1, "BOOLEAN", PL_JK_BOOL, 0, 0, true, false},
	{"\xc3\xa9", 2, "VARCHAR", PL_JK_STR, 0, 0, true, false},
};
#define NCOLS (sizeof cols / sizeof cols[0])

/* Nesting depth of a text jansson accepted (brackets outside strings). */
static size_t depth_of(const char *p, size_t n)
{
	size_t d = 0, max = 0;
	bool str = false;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				str = false;
		} else if (c == '"') {
			str = true;
		} else if (c == '[' || c == '{') {
			if (++d > max)
				max = d;
		} else if (c == ']' || c == '}') {
			d--;
		}
	}
	return max;
}

static bool number_refusal(const json_error_t *e)
{
	return strstr(e->text, "too big") || strstr(e->text, "overflow");
}

/* Whether the value fits the column as jansson sees it (v parsed from the record). */
static bool fits(const pl_jscan_col *c, json_t *v)
{
	if (json_is_null(v))
		return c->nullable;
	switch (c->kind) {
	case PL_JK_ANY: return true;
	case PL_JK_NESTED: return json_is_array(v) || json_is_object(v);
	case PL_JK_BOOL: return json_is_boolean(v);
	case PL_JK_INT:
		return json_is_integer(v) && json_integer_value(v) >= c->lo && json_integer_value(v) <= c->hi;
	case PL_JK_NUM: return json_is_number(v);
	case PL_JK_STR: return json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v);
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *p = (const char *)data + 1;
	size_t n = size - 1;
	pl_jscan s;
	pl_jscan_init(&s);
	if ((data[0] & 1) == 0) {
		size_t pos = 0;
		int rc = pl_jscan_value(&s, p, n, &pos, 0);
		if (rc == 0) {
			CHECK(pos <= n);
			if (pl_jscan_ws(p, n, pos) != n)
				rc = -1;
		} else {
			CHECK(s.err[0] != 0 && s.off <= n);
		}
		json_error_t e;
		json_t *v = json_loadb(p, n, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &e);
		/* (jansson ends its input at a NUL byte; the scanner refuses the byte) */
		if (v && depth_of(p, n) < PL_JSCAN_MAX_DEPTH && !memchr(p, 0, n))
			CHECK(rc == 0);
		if (rc == 0)
			CHECK(v || number_refusal(&e));
		json_decref(v);
	} else {
		bool used[NCOLS] = {false};
		size_t pos = 0;
		for (int k = 0; k < 64; k++) {
			size_t start = pl_jscan_ws(p, n, pos);
			if (start >= n)
				break;
			size_t end = start;
			int rc = pl_jscan_record(&s, cols, NCOLS, p, n, &end, used);
			if (rc < 0) {
				CHECK(s.err[0] != 0 && s.off <= n);
				break;
			}
			CHECK(end > start && end <= n);
			size_t vend = start;
			pl_jscan v2;
			pl_jscan_init(&v2);
			/* a record that fits is one valid value (a misfit may hold duplicate or NUL text) */
			if (rc == 0)
				CHECK(pl_jscan_value(&v2, p, end, &vend, 0) == 0 && vend == end);
			pl_jscan_dispose(&v2);
			json_error_t e;
			json_t *v = json_loadb(p + start, end - start, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &e);
			if (rc == 0) {
				CHECK(v || number_refusal(&e));
				const char *key;
				json_t *val;
				json_object_foreach(v, key, val)
				{
					size_t j = 0;
					while (j < NCOLS && strcmp(cols[j].name, key) != 0)
						j++;
					CHECK(j < NCOLS && used[j] && fits(&cols[j], val));
				}
				CHECK(!v || json_object_get(v, "id"));
			} else {
				CHECK(s.reason[0] != 0 && s.field);
			}
			json_decref(v);
			pos = end;
		}
	}
	pl_jscan_dispose(&s);
	return 0;
}
