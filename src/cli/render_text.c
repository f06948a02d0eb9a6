/*
 * render_text.c -- the text output modes: markdown, csv, json, line and list.
 *
 * Owns CSV (RFC 4180) and JSON quoting, telling JSON numbers from text, and the modes that read
 * a result chunk by chunk and write each row as it arrives: markdown (aligned to the header and
 * the first chunk), csv, json, line and list.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/render_internal.h"

/* ---------------------------------------------------------------------------------------------
 * Quoting
 * ------------------------------------------------------------------------------------------- */

int pl_render_csv_field(FILE *out, const char *text, char sep)
{
	bool quote = false;
	for (const unsigned char *p = (const unsigned char *)text; *p && !quote; p++)
		quote = *p == (unsigned char)sep || *p == '"' || *p < 32;
	if (!quote) {
		fputs(text, out);
		return 0;
	}
	fputc('"', out);
	for (const char *p = text; *p; p++) {
		if (*p == '"')
			fputc('"', out);
		fputc(*p, out);
	}
	fputc('"', out);
	return 0;
}

int pl_render_json_string(FILE *out, const char *text)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\b': fputs("\\b", out); break;
		case '\f': fputs("\\f", out); break;
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\t': fputs("\\t", out); break;
		default:
			if (*p < 32)
				fprintf(out, "\\u%04x", (unsigned)*p);
			else
				fputc(*p, out);
		}
	}
	fputc('"', out);
	return 0;
}

static const char *skip_digits(const char *p)
{
	while (*p >= '0' && *p <= '9')
		p++;
	return p;
}

/* True when text is a JSON number (so "inf", "nan" or "1,5" are emitted as strings). */
static bool json_is_number(const char *p)
{
	const char *q;
	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		p = skip_digits(p);
	else
		return false;
	if (*p == '.') {
		q = skip_digits(p + 1);
		if (q == p + 1)
			return false;
		p = q;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		q = skip_digits(p);
		if (q == p)
			return false;
		p = q;
	}
	return *p == '\0';
}

/* ---------------------------------------------------------------------------------------------
 * Reading a result chunk by chunk
 * ------------------------------------------------------------------------------------------- */

/* Called once the first chunk is in (nrows may be 0), before its rows: headers, "[" ... */
typedef int (*pl_start_fn)(FILE *out, planar_result *res, const pl_render_opts *o, void *ctx);
/* Called for each row; row is within the current chunk, index counts from the first row. */
typedef int (*pl_row_fn)(FILE *out, planar_result *res, const pl_render_opts *o, size_t row, uint64_t index,
                         void *ctx);

/* Nothing is written before the first chunk is read, so a statement failing at once prints no
 * partial header. Stops at the first write error. */
static int for_each_row(FILE *out, planar_result *res, const pl_render_opts *o, pl_start_fn start, pl_row_fn fn,
                        void *ctx)
{
	uint64_t index = 0;
	for (bool first = true;; first = false) {
		size_t n;
		int rc = planar_result_next_chunk(res, &n);
		if (rc == 0 && first && start)
			rc = start(out, res, o, ctx);
		if (rc || n == 0)
			return rc;
		for (size_t r = 0; r < n; r++, index++) {
			rc = fn(out, res, o, r, index, ctx);
			if (rc)
				return rc;
		}
		if (ferror(out))
			return PLANAR_EIO;
	}
}

/* Writes one value of a row; v is NULL for SQL NULL, ctx is the mode's own. */
typedef void (*pl_cell_fn)(FILE *out, const planar_result *res, size_t col, const char *v, const void *ctx);

/* Hands each value of a row of the current chunk to fn; stops at a value that cannot be read. */
static int for_each_cell(FILE *out, planar_result *res, size_t row, pl_cell_fn fn, const void *ctx)
{
	size_t ncols = planar_result_column_count(res);
	for (size_t c = 0; c < ncols; c++) {
		const char *v;
		int rc = planar_result_get_text(res, c, row, &v, NULL);
		if (rc)
			return rc;
		fn(out, res, c, v, ctx);
	}
	return 0;
}

static const char *null_text(const pl_render_opts *o)
{
	return o->nullvalue ? o->nullvalue : "";
}

static const char *column_name(const planar_result *res, size_t col)
{
	const char *name = planar_result_column_name(res, col);
	return name ? name : "";
}

/* ---------------------------------------------------------------------------------------------
 * Markdown mode: columns aligned to the header and the first chunk of rows (later rows that
 * are wider widen their cells only)
 * ------------------------------------------------------------------------------------------- */

static void md_cell(FILE *out, const char *text, size_t width, pl_render_align align)
{
	size_t tw = pl_render_text_width(text);
	size_t pad = width > tw ? width - tw : 0;
	size_t lp = align == PL_ALIGN_LEFT ? 0 : align == PL_ALIGN_RIGHT ? pad : pad / 2;
	pl_render_put_rep(out, " ", lp);
	fputs(text, out);
	pl_render_put_rep(out, " ", pad - lp);
}

typedef struct pl_md_ctx {
	size_t ncols;
	size_t *width;
	bool *right;
} pl_md_ctx;

/* The display text of a value of the current chunk (malloc'd). */
static int md_text(planar_result *res, const pl_render_opts *o, size_t col, size_t row, char **out)
{
	const char *v;
	int rc = planar_result_get_text(res, col, row, &v, NULL);
	if (rc)
		return rc;
	*out = pl_render_escape_text(v ? v : null_text(o), true);
	return *out ? 0 : PLANAR_ENOMEM;
}

static int md_start(FILE *out, planar_result *res, const pl_render_opts *o, void *ctx)
{
	pl_md_ctx *m = ctx;
	size_t rows = 0;
	for (size_t c = 0; c < m->ncols; c++) {
		char *name = pl_render_escape_text(column_name(res, c), true);
		if (!name)
			return PLANAR_ENOMEM;
		m->width[c] = pl_render_text_width(name);
		m->right[c] = planar_result_column_is_numeric(res, c);
		free(name);
	}
	/* the current chunk's rows: planar_result_get_text fails past its end */
	for (const char *v; rows < SIZE_MAX && planar_result_get_text(res, 0, rows, &v, NULL) == 0; rows++) {
		for (size_t c = 0; c < m->ncols; c++) {
			char *t;
			int rc = md_text(res, o, c, rows, &t);
			if (rc)
				return rc;
			size_t w = pl_render_text_width(t);
			m->width[c] = w > m->width[c] ? w : m->width[c];
			free(t);
		}
	}
	for (size_t c = 0; c < m->ncols; c++) {
		char *name = pl_render_escape_text(column_name(res, c), true);
		if (!name)
			return PLANAR_ENOMEM;
		fputs(c ? " | " : "| ", out);
		md_cell(out, name, m->width[c], PL_ALIGN_MIDDLE);
		free(name);
	}
	fputs(" |\n", out);
	for (size_t c = 0; c < m->ncols; c++) {
		fputc('|', out);
		pl_render_put_rep(out, "-", m->right[c] ? m->width[c] + 1 : m->width[c] + 2);
		if (m->right[c])
			fputc(':', out);
	}
	fputs("|\n", out);
	return 0;
}

static int md_row(FILE *out, planar_result *res, const pl_render_opts *o, size_t row, uint64_t index, void *ctx)
{
	pl_md_ctx *m = ctx;
	(void)index;
	for (size_t c = 0; c < m->ncols; c++) {
		char *t;
		int rc = md_text(res, o, c, row, &t);
		if (rc)
			return rc;
		fputs(c ? " | " : "| ", out);
		md_cell(out, t, m->width[c], m->right[c] ? PL_ALIGN_RIGHT : PL_ALIGN_LEFT);
		free(t);
	}
	fputs(" |\n", out);
	return 0;
}

int pl_render_markdown(FILE *out, planar_result *res, const pl_render_opts *o)
{
	pl_md_ctx m = {planar_result_column_count(res), NULL, NULL};
	m.width = calloc(m.ncols + 1, sizeof *m.width);
	m.right = calloc(m.ncols + 1, sizeof *m.right);
	int rc = m.width && m.right ? for_each_row(out, res, o, md_start, md_row, &m) : PLANAR_ENOMEM;
	free(m.width);
	free(m.right);
	return rc;
}

/* ---------------------------------------------------------------------------------------------
 * csv, json, line, list
 * ------------------------------------------------------------------------------------------- */

/* A field of csv or list mode: csv joins fields with ',' and quotes them (RFC 4180), list joins
 * them with '|' as they are. */
static void delimited_field(FILE *out, const pl_render_opts *o, size_t col, const char *text)
{
	bool csv = o->mode == PL_RENDER_CSV;
	if (col)
		fputc(csv ? ',' : '|', out);
	if (csv)
		pl_render_csv_field(out, text, ',');
	else
		fputs(text, out);
}

static void delimited_cell(FILE *out, const planar_result *res, size_t col, const char *v, const void *ctx)
{
	const pl_render_opts *o = ctx;
	(void)res;
	delimited_field(out, o, col, v ? v : null_text(o));
}

static int delimited_start(FILE *out, planar_result *res, const pl_render_opts *o, void *ctx)
{
	size_t ncols = planar_result_column_count(res);
	(void)ctx;
	if (o->headers) {
		for (size_t c = 0; c < ncols; c++)
			delimited_field(out, o, c, column_name(res, c));
		fputc('\n', out);
	}
	return 0;
}

static int delimited_row(FILE *out, planar_result *res, const pl_render_opts *o, size_t row, uint64_t index,
                         void *ctx)
{
	(void)index;
	(void)ctx;
	int rc = for_each_cell(out, res, row, delimited_cell, o);
	if (rc == 0)
		fputc('\n', out);
	return rc;
}

int pl_render_delimited(FILE *out, planar_result *res, const pl_render_opts *o)
{
	return for_each_row(out, res, o, delimited_start, delimited_row, NULL);
}

static bool json_raw_column(const planar_result *res, size_t col)
{
	const char *type = planar_result_column_type(res, col);
	if (type && (strcmp(type, "BOOLEAN") == 0 || strcmp(type, "JSON") == 0))
		return true;
	return planar_result_column_is_numeric(res, col);
}

/* "name":value, with numbers, booleans and JSON values written as they are. */
static void json_cell(FILE *out, const planar_result *res, size_t col, const char *v, const void *ctx)
{
	const char *type = planar_result_column_type(res, col);
	bool is_json = type && strcmp(type, "JSON") == 0;
	(void)ctx;
	if (col)
		fputc(',', out);
	pl_render_json_string(out, column_name(res, col));
	fputc(':', out);
	if (!v)
		fputs("null", out);
	else if (is_json || (json_raw_column(res, col) && (json_is_number(v) || !strcmp(v, "true") || !strcmp(v, "false"))))
		fputs(v, out);
	else
		pl_render_json_string(out, v);
}

static int json_start(FILE *out, planar_result *res, const pl_render_opts *o, void *ctx)
{
	(void)res;
	(void)o;
	*(bool *)ctx = true;
	fputc('[', out);
	return 0;
}

static int json_row(FILE *out, planar_result *res, const pl_render_opts *o, size_t row, uint64_t index, void *ctx)
{
	int rc;
	(void)o;
	(void)ctx;
	fputs(index ? ",\n{" : "{", out);
	rc = for_each_cell(out, res, row, json_cell, NULL);
	if (rc == 0)
		fputc('}', out);
	return rc;
}

int pl_render_json(FILE *out, planar_result *res, const pl_render_opts *o)
{
	bool started = false;
	int rc = for_each_row(out, res, o, json_start, json_row, &started);
	if (started) /* closed even after a failure half-way */
		fputs("]\n", out);
	return rc;
}

typedef struct pl_line_ctx {
	const pl_render_opts *o;
	size_t width; /* of the widest column name, at least 5 */
} pl_line_ctx;

/* "  name = value", names right-aligned. */
static void line_cell(FILE *out, const planar_result *res, size_t col, const char *v, const void *ctx)
{
	const pl_line_ctx *lc = ctx;
	const char *name = column_name(res, col);
	pl_render_put_rep(out, " ", lc->width - pl_render_text_width(name));
	fprintf(out, "%s = %s\n", name, v ? v : null_text(lc->o));
}

static int line_row(FILE *out, planar_result *res, const pl_render_opts *o, size_t row, uint64_t index, void *ctx)
{
	pl_line_ctx lc = {o, 5};
	size_t ncols = planar_result_column_count(res);
	(void)ctx;
	for (size_t c = 0; c < ncols; c++) {
		size_t nw = pl_render_text_width(planar_result_column_name(res, c));
		lc.width = nw > lc.width ? nw : lc.width;
	}
	if (index)
		fputc('\n', out);
	return for_each_cell(out, res, row, line_cell, &lc);
}

int pl_render_line(FILE *out, planar_result *res, const pl_render_opts *o)
{
	return for_each_row(out, res, o, NULL, line_row, NULL);
}
