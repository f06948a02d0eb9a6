/*
 * jscan.h -- a validating JSON scanner for bulk ingest bodies: it checks the syntax of a JSON
 * text (RFC 8259: strict UTF-8, escapes and surrogate pairs, no \u0000, no duplicate object
 * keys, at most PL_JSCAN_MAX_DEPTH levels of nesting) and the fields of records against a
 * table's columns (names, JSON kinds, integer ranges) without building a tree, so the raw bytes
 * of a checked record can be written on as they are. No allocation per value: a scanner keeps
 * its scratch buffers between calls. Depends on the C library only (it is fuzzed on its own:
 * tests/fuzz/fuzz_jscan.c).
 */
#ifndef PL_SERVER_JSCAN_H
#define PL_SERVER_JSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PL_JSCAN_MAX_DEPTH 1000

/* The JSON values a column takes (beside null). */
enum pl_jkind {
	PL_JK_ANY,    /* JSON: any value */
	PL_JK_NESTED, /* list, struct, map: an array or an object */
	PL_JK_BOOL,   /* true or false */
	PL_JK_INT,    /* an integer (no fraction or exponent) within [lo, hi] */
	PL_JK_NUM,    /* any number that fits a double */
	PL_JK_STR     /* a string without NUL */
};

typedef struct pl_jscan_col {
	const char *name; /* UTF-8, NUL-terminated */
	size_t len;
	const char *type; /* the column's SQL type (for messages) */
	enum pl_jkind kind;
	int64_t lo, hi;
	bool nullable; /* null is allowed */
	bool required; /* the field must be present (NOT NULL without default) */
} pl_jscan_col;

/* A record's value of one column, as pl_jscan_record found it (when the scanner's vals is set). */
enum pl_jvtype { PL_JV_NULL, PL_JV_FALSE, PL_JV_TRUE, PL_JV_INT, PL_JV_NUM, PL_JV_STR, PL_JV_NESTED };
typedef struct pl_jval {
	uint32_t rec; /* the scanner's rec_no of the record it belongs to (else: the record lacks it) */
	uint8_t type; /* enum pl_jvtype; PL_JV_INT: an integer that fits an int64 (v), "-0" excepted */
	bool esc;     /* a string with escapes */
	int64_t v;
	size_t off, len; /* its text in the input (a string's without the quotes) */
} pl_jval;

typedef struct pl_jkey {
	size_t off, len;
	bool own; /* off is in the scanner's key arena, else in the input */
} pl_jkey;

typedef struct pl_jscan {
	/* the last failure: a syntax error (err, at byte off) or a field that does not fit */
	char err[160];
	size_t off;
	char *field; /* NUL-terminated, UTF-8 (the key as decoded) */
	char reason[200];
	/* scratch */
	char *arena;
	size_t arena_len, arena_cap, field_cap;
	pl_jkey *keys;
	size_t nkeys, keys_cap;
	size_t *frames; /* per open object: its first entry in keys (SIZE_MAX: an array) */
	size_t nframes, frames_cap;
	uint32_t *seen; /* per column: the record that last named it */
	size_t seen_cap;
	uint32_t rec_no;
	bool oom;
	/* set by the caller (one per column): where pl_jscan_record puts the values of a record
	 * that fits; NULL: nowhere */
	pl_jval *vals;
} pl_jscan;

void pl_jscan_init(pl_jscan *s);
void pl_jscan_dispose(pl_jscan *s);

/* Skips whitespace from p[*pos]. */
size_t pl_jscan_ws(const char *p, size_t n, size_t pos);

/* Checks one JSON value starting at p[*pos] (whitespace first is skipped) and moves *pos just
 * past it. 0, or -1 with s->err and s->off set. depth: the levels already open around it. */
int pl_jscan_value(pl_jscan *s, const char *p, size_t n, size_t *pos, size_t depth);

/* Checks one record (a JSON object) starting at p[*pos] against the columns and moves *pos just
 * past it. used[j] is set for every column the record names. Returns 0 when it fits, 1 when it
 * is valid JSON but does not fit (s->field, s->reason: the first such field, in record order;
 * then the missing required fields), -1 when it is not valid JSON (s->err, s->off). */
int pl_jscan_record(pl_jscan *s, const pl_jscan_col *cols, size_t ncols, const char *p, size_t n, size_t *pos,
		    bool *used);

/* Decodes the body p[0..n) of a checked string (without its quotes) into out (at least n
 * bytes); returns its length. */
size_t pl_jscan_decode(const char *p, size_t n, char *out);

/* Line (from 1) and column (from 1, in bytes) of byte off of p. */
void pl_jscan_where(const char *p, size_t off, size_t *line, size_t *column);

#endif
