/*
 * render_text.c -- the text output modes: markdown, csv, json, line and list.
 *
 * Owns CSV (RFC 4180) and JSON quoting, telling JSON numbers from text, the column-aligned
 * markdown table (built from a grid holding all rows) and the streaming modes, which write
 * each row straight from the result.
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
 * Markdown mode (column-aligned, so it goes through the grid with all rows)
 * ------------------------------------------------------------------------------------------- */

static void md_cell(FILE *out, const char *text, size_t width, pl_render_align align)
{
	size_t pad = width - pl_render_text_width(text);
	size_t lp = align == PL_ALIGN_LEFT ? 0 : align == PL_ALIGN_RIGHT ? pad : pad / 2;
	pl_render_put_rep(out, " ", lp);
	fputs(text, out);
	pl_render_put_rep(out, " ", pad - lp);
}

/* Widths of the markdown columns: names and every value (the grid holds all rows). */
static size_t *md_widths(const pl_render_grid *g)
{
	size_t *w = calloc(g->ncols + 1, sizeof *w);
	for (size_t c = 0; w && c < g->ncols; c++) {
		w[c] = pl_render_text_width(g->names[c]);
		for (size_t r = 0; r < g->top; r++) {
			size_t vw = pl_render_text_width(pl_render_grid_cell(g, r, c));
			w[c] = vw > w[c] ? vw : w[c];
		}
	}
	return w;
}

static void md_header(FILE *out, const pl_render_grid *g, const size_t *w)
{
	for (size_t c = 0; c < g->ncols; c++) {
		fputs(c ? " | " : "| ", out);
		md_cell(out, g->names[c], w[c], PL_ALIGN_MIDDLE);
	}
	fputs(" |\n", out);
	for (size_t c = 0; c < g->ncols; c++) {
		fputc('|', out);
		pl_render_put_rep(out, "-", g->right[c] ? w[c] + 1 : w[c] + 2);
		if (g->right[c])
			fputc(':', out);
	}
	fputs("|\n", out);
}

int pl_render_markdown(FILE *out, const planar_result *res, const pl_render_opts *o)
{
	pl_render_grid g;
	size_t *w;
	int rc = pl_render_grid_load(&g, res, o, 0, true);
	if (rc)
		return rc;
	w = md_widths(&g);
	if (w) {
		md_header(out, &g, w);
		for (size_t r = 0; r < g.top; r++) {
			for (size_t c = 0; c < g.ncols; c++) {
				fputs(c ? " | " : "| ", out);
				md_cell(out, pl_render_grid_cell(&g, r, c), w[c], g.right[c] ? PL_ALIGN_RIGHT : PL_ALIGN_LEFT);
			}
			fputs(" |\n", out);
		}
	}
	free(w);
	pl_render_grid_free(&g);
	return w ? 0 : PLANAR_ENOMEM;
}

/* ---------------------------------------------------------------------------------------------
 * Streaming modes: csv, json, line, list
 * ------------------------------------------------------------------------------------------- */

typedef int (*pl_row_fn)(FILE *out, const planar_result *res, const pl_render_opts *o, uint64_t row);

static int for_each_row(FILE *out, const planar_result *res, const pl_render_opts *o, pl_row_fn fn)
{
	uint64_t rows = planar_result_row_count(res);
	for (uint64_t r = 0; r < rows; r++) {
		int rc = fn(out, res, o, r);
		if (rc)
			return rc;
	}
	return 0;
}

/* Writes one value of a row; v is NULL for SQL NULL, ctx is the mode's own. */
typedef void (*pl_cell_fn)(FILE *out, const planar_result *res, size_t col, const char *v, const void *ctx);

/* Hands each value of a row to fn; stops at a value that cannot be read. */
static int for_each_cell(FILE *out, const planar_result *res, uint64_t row, pl_cell_fn fn, const void *ctx)
{
	size_t ncols = planar_result_column_count(res);
	for (size_t c = 0; c < ncols; c++) {
		char *v;
		int rc = pl_render_cell_value(res, c, row, &v);
		if (rc)
			return rc;
		fn(out, res, c, v, ctx);
		planar_free(v);
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

static int delimited_row(FILE *out, const planar_result *res, const pl_render_opts *o, uint64_t row)
{
	int rc = for_each_cell(out, res, row, delimited_cell, o);
	if (rc == 0)
		fputc('\n', out);
	return rc;
}

int pl_render_delimited(FILE *out, const planar_result *res, const pl_render_opts *o)
{
	size_t ncols = planar_result_column_count(res);
	if (o->headers) {
		for (size_t c = 0; c < ncols; c++)
			delimited_field(out, o, c, column_name(res, c));
		fputc('\n', out);
	}
	return for_each_row(out, res, o, delimited_row);
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

static int json_row(FILE *out, const planar_result *res, const pl_render_opts *o, uint64_t row)
{
	int rc;
	(void)o;
	fputs(row ? ",\n{" : "{", out);
	rc = for_each_cell(out, res, row, json_cell, NULL);
	if (rc == 0)
		fputc('}', out);
	return rc;
}

int pl_render_json(FILE *out, const planar_result *res, const pl_render_opts *o)
{
	int rc;
	fputc('[', out);
	rc = for_each_row(out, res, o, json_row);
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

static int line_row(FILE *out, const planar_result *res, const pl_render_opts *o, uint64_t row)
{
	pl_line_ctx lc = {o, 5};
	size_t ncols = planar_result_column_count(res);
	for (size_t c = 0; c < ncols; c++) {
		size_t nw = pl_render_text_width(planar_result_column_name(res, c));
		lc.width = nw > lc.width ? nw : lc.width;
	}
	if (row)
		fputc('\n', out);
	return for_each_cell(out, res, row, line_cell, &lc);
}

int pl_render_line(FILE *out, const planar_result *res, const pl_render_opts *o)
{
	return for_each_row(out, res, o, line_row);
}
