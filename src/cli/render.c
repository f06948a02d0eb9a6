/*
 * render.c -- result rendering for the `planar` shell, modelled on the duckdb CLI.
 *
 * Owns: the text helpers (UTF-8 display width, escaping, type names), the "grid" (the rows of a
 * result that will actually be shown, as strings), the box renderer (column widths, shortening
 * and pruning to a maximum width, eliding the middle rows, the row-count footer) and the
 * streaming renderers csv, json, line, list plus the column-aligned markdown renderer.
 * Output errors are detected once per result with ferror(); allocation failures are returned
 * as PLANAR_ENOMEM and never abort.
 */
#include "cli/render.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BOX_H "\342\224\200"    /* ─ */
#define BOX_V "\342\224\202"    /* │ */
#define BOX_TL "\342\224\214"   /* ┌ */
#define BOX_TR "\342\224\220"   /* ┐ */
#define BOX_BL "\342\224\224"   /* └ */
#define BOX_BR "\342\224\230"   /* ┘ */
#define BOX_LMID "\342\224\234" /* ├ */
#define BOX_RMID "\342\224\244" /* ┤ */
#define BOX_TMID "\342\224\254" /* ┬ */
#define BOX_BMID "\342\224\264" /* ┴ */
#define BOX_MID "\342\224\274"  /* ┼ */
#define BOX_DOTS "\342\200\246" /* … */
#define BOX_DOT "\302\267"      /* · */
#define BOX_SPLIT SIZE_MAX      /* column map entry of the "…" column standing for pruned ones */

static const char *const pl_render_mode_names[] = {"box", "csv", "json", "line", "list", "markdown"};

void pl_render_opts_init(pl_render_opts *opts)
{
	opts->mode = PL_RENDER_BOX;
	opts->nullvalue = "NULL";
	opts->headers = true;
	opts->max_rows = 40;
	opts->max_width = 0;
	opts->max_col_width = 20;
}

int pl_render_mode_parse(const char *name, pl_render_mode *out)
{
	if (!name)
		return PLANAR_EINVALID;
	if (strcmp(name, "duckbox") == 0) {
		*out = PL_RENDER_BOX;
		return 0;
	}
	for (size_t i = 0; i < sizeof pl_render_mode_names / sizeof pl_render_mode_names[0]; i++) {
		if (strcmp(name, pl_render_mode_names[i]) == 0) {
			*out = (pl_render_mode)i;
			return 0;
		}
	}
	return PLANAR_EINVALID;
}

const char *pl_render_mode_name(pl_render_mode mode)
{
	size_t i = (size_t)mode;
	return i < sizeof pl_render_mode_names / sizeof pl_render_mode_names[0] ? pl_render_mode_names[i] : "?";
}

/* ---------------------------------------------------------------------------------------------
 * UTF-8 text helpers
 * ------------------------------------------------------------------------------------------- */

/* Decodes one code point; invalid or truncated sequences yield U+FFFD and consume one byte. */
static size_t utf8_next(const char *s, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len;
	uint32_t c;
	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	if ((u[0] & 0xE0) == 0xC0) {
		len = 2;
		c = u[0] & 0x1F;
	} else if ((u[0] & 0xF0) == 0xE0) {
		len = 3;
		c = u[0] & 0x0F;
	} else if ((u[0] & 0xF8) == 0xF0) {
		len = 4;
		c = u[0] & 0x07;
	} else {
		*cp = 0xFFFD;
		return 1;
	}
	for (size_t i = 1; i < len; i++) {
		if ((u[i] & 0xC0) != 0x80) { /* also stops at the terminating NUL */
			*cp = 0xFFFD;
			return 1;
		}
		c = (c << 6) | (u[i] & 0x3F);
	}
	*cp = c;
	return len;
}

struct cp_range {
	uint32_t lo, hi;
};

static const struct cp_range pl_zero_width[] = {
	{0x0300, 0x036F}, {0x0483, 0x0489}, {0x0591, 0x05BD}, {0x0610, 0x061A}, {0x064B, 0x065F},
	{0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF}, {0x200B, 0x200F}, {0x20D0, 0x20FF}, {0xFE00, 0xFE0F},
	{0xFE20, 0xFE2F},
};

static const struct cp_range pl_wide[] = {
	{0x1100, 0x115F},   {0x2E80, 0x303E},   {0x3041, 0x33FF},   {0x3400, 0x4DBF},
	{0x4E00, 0x9FFF},   {0xA000, 0xA4CF},   {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},
	{0xFE30, 0xFE4F},   {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x1F300, 0x1F64F},
	{0x1F900, 0x1F9FF}, {0x20000, 0x2FFFD}, {0x30000, 0x3FFFD},
};

static bool cp_in(const struct cp_range *r, size_t n, uint32_t cp)
{
	for (size_t i = 0; i < n; i++) {
		if (cp >= r[i].lo && cp <= r[i].hi)
			return true;
	}
	return false;
}

static size_t cp_width(uint32_t cp)
{
	if (cp < 0x300)
		return 1;
	if (cp_in(pl_zero_width, sizeof pl_zero_width / sizeof pl_zero_width[0], cp))
		return 0;
	if (cp_in(pl_wide, sizeof pl_wide / sizeof pl_wide[0], cp))
		return 2;
	return 1;
}

size_t pl_render_text_width(const char *text)
{
	size_t w = 0;
	uint32_t cp;
	if (!text)
		return 0;
	while (*text) {
		text += utf8_next(text, &cp);
		w += cp_width(cp);
	}
	return w;
}

/* Byte length of the longest prefix of text whose display width is at most max; *width gets it. */
static size_t utf8_prefix(const char *text, size_t max, size_t *width)
{
	size_t pos = 0, w = 0;
	uint32_t cp;
	while (text[pos]) {
		size_t len = utf8_next(text + pos, &cp);
		size_t cw = cp_width(cp);
		if (w + cw > max)
			break;
		w += cw;
		pos += len;
	}
	*width = w;
	return pos;
}

/* Copy of text with control characters shown as \n, \t, ... (and '|' as \| for markdown). */
static char *escape_text(const char *text, bool pipes)
{
	static const char letters[32] = {[7] = 'a', [8] = 'b', [9] = 't', [10] = 'n',
	                                 [11] = 'v', [12] = 'f', [13] = 'r', [27] = 'e'};
	size_t len = strlen(text);
	char *res = malloc(len * 3 + 1);
	char *o = res;
	if (!res)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p < 32) {
			*o++ = '\\';
			if (letters[*p])
				*o++ = letters[*p];
			else
				o += sprintf(o, "%u", (unsigned)*p);
		} else if (pipes && *p == '|') {
			*o++ = '\\';
			*o++ = '|';
		} else {
			*o++ = (char)*p;
		}
	}
	*o = '\0';
	return res;
}

static void put_rep(FILE *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fputs(s, out);
}

/* ---------------------------------------------------------------------------------------------
 * Type names and quoting
 * ------------------------------------------------------------------------------------------- */

static const char *const pl_type_map[][2] = {
	{"TINYINT", "int8"},     {"SMALLINT", "int16"},  {"INTEGER", "int32"},     {"BIGINT", "int64"},
	{"HUGEINT", "int128"},   {"UTINYINT", "uint8"},  {"USMALLINT", "uint16"},  {"UINTEGER", "uint32"},
	{"UBIGINT", "uint64"},   {"UHUGEINT", "uint128"},
};

void pl_render_type_name(const char *sql_type, char *buf, size_t cap)
{
	size_t len, o = 0;
	if (cap == 0)
		return;
	buf[0] = '\0';
	if (!sql_type)
		return;
	len = strlen(sql_type);
	if (len > 2 && strcmp(sql_type + len - 2, "[]") == 0) {
		/* a list renders as its child type plus [] */
		char *child = malloc(len - 1);
		if (child) {
			memcpy(child, sql_type, len - 2);
			child[len - 2] = '\0';
			pl_render_type_name(child, buf, cap);
			free(child);
			o = strlen(buf);
			snprintf(buf + o, cap - o, "[]");
			return;
		}
	}
	for (size_t i = 0; i < sizeof pl_type_map / sizeof pl_type_map[0]; i++) {
		if (strcmp(sql_type, pl_type_map[i][0]) == 0) {
			snprintf(buf, cap, "%s", pl_type_map[i][1]);
			return;
		}
	}
	for (; sql_type[o] && o + 1 < cap; o++) {
		char c = sql_type[o];
		buf[o] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	buf[o] = '\0';
}

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
 * The grid: the shown rows of a result as display strings
 * ------------------------------------------------------------------------------------------- */

typedef struct pl_render_grid {
	size_t ncols;
	uint64_t total_rows;
	size_t top, bottom; /* rows taken from the start and from the end of the result */
	char **names, **types;
	bool *right;  /* right-aligned (numeric) columns */
	char **cells; /* (top + bottom) * ncols, row-major */
} pl_render_grid;

static void grid_free(pl_render_grid *g)
{
	size_t ncells = (g->top + g->bottom) * g->ncols;
	for (size_t c = 0; c < g->ncols; c++) {
		if (g->names)
			free(g->names[c]);
		if (g->types)
			free(g->types[c]);
	}
	for (size_t i = 0; g->cells && i < ncells; i++)
		free(g->cells[i]);
	free(g->names);
	free(g->types);
	free(g->right);
	free(g->cells);
	memset(g, 0, sizeof *g);
}

/* *out gets the value (caller frees with planar_free) or NULL for SQL NULL; PLANAR_ERROR when a
 * non-NULL value cannot be had as text. */
static int cell_value(const planar_result *res, size_t col, uint64_t row, char **out)
{
	*out = NULL;
	if (planar_result_is_null(res, col, row))
		return 0;
	*out = planar_result_value_string(res, col, row);
	return *out ? 0 : PLANAR_ERROR;
}

static void grid_pick_rows(pl_render_grid *g, size_t max_rows)
{
	/* eliding adds three "·" lines, so it only pays off beyond max_rows + 3 rows */
	if (max_rows == 0 || g->total_rows <= max_rows || g->total_rows - max_rows <= 3) {
		g->top = (size_t)g->total_rows;
		g->bottom = 0;
	} else {
		g->top = max_rows / 2 + max_rows % 2;
		g->bottom = max_rows - g->top;
	}
}

static int grid_load_header(pl_render_grid *g, const planar_result *res, bool pipes)
{
	char type[256];
	for (size_t c = 0; c < g->ncols; c++) {
		const char *name = planar_result_column_name(res, c);
		pl_render_type_name(planar_result_column_type(res, c), type, sizeof type);
		g->names[c] = escape_text(name ? name : "", pipes);
		g->types[c] = strdup(type);
		g->right[c] = planar_result_column_is_numeric(res, c);
		if (!g->names[c] || !g->types[c])
			return PLANAR_ENOMEM;
	}
	return 0;
}

static int grid_load_cells(pl_render_grid *g, const planar_result *res, const char *nullvalue, bool pipes)
{
	size_t shown = g->top + g->bottom;
	for (size_t r = 0; r < shown; r++) {
		uint64_t src = r < g->top ? r : g->total_rows - g->bottom + (r - g->top);
		for (size_t c = 0; c < g->ncols; c++) {
			char *v;
			int rc = cell_value(res, c, src, &v);
			if (rc)
				return rc;
			g->cells[r * g->ncols + c] = escape_text(v ? v : nullvalue, pipes);
			planar_free(v);
			if (!g->cells[r * g->ncols + c])
				return PLANAR_ENOMEM;
		}
	}
	return 0;
}

static int grid_load(pl_render_grid *g, const planar_result *res, const pl_render_opts *o, size_t max_rows,
                     bool pipes)
{
	int rc;
	memset(g, 0, sizeof *g);
	g->ncols = planar_result_column_count(res);
	g->total_rows = planar_result_row_count(res);
	if (g->total_rows > SIZE_MAX / (g->ncols + 1))
		return PLANAR_ENOMEM;
	grid_pick_rows(g, max_rows);
	g->names = calloc(g->ncols + 1, sizeof *g->names);
	g->types = calloc(g->ncols + 1, sizeof *g->types);
	g->right = calloc(g->ncols + 1, sizeof *g->right);
	g->cells = calloc((g->top + g->bottom) * g->ncols + 1, sizeof *g->cells);
	if (!g->names || !g->types || !g->right || !g->cells)
		rc = PLANAR_ENOMEM;
	else if ((rc = grid_load_header(g, res, pipes)) == 0)
		rc = grid_load_cells(g, res, o->nullvalue ? o->nullvalue : "", pipes);
	if (rc)
		grid_free(g);
	return rc;
}

static const char *grid_cell(const pl_render_grid *g, size_t row, size_t col)
{
	return g->cells[row * g->ncols + col];
}

/* ---------------------------------------------------------------------------------------------
 * Box mode
 * ------------------------------------------------------------------------------------------- */

typedef enum { ALIGN_LEFT, ALIGN_MIDDLE, ALIGN_RIGHT } pl_align;
typedef enum { BOX_ROW_NAME, BOX_ROW_TYPE, BOX_ROW_VALUE } pl_box_row_kind;

typedef struct pl_box {
	const pl_render_grid *g;
	size_t n;      /* rendered columns, the "…" column included */
	size_t *map;   /* grid column of each rendered column, BOX_SPLIT for "…" */
	size_t *width; /* content width of each rendered column */
	size_t total;  /* width of a whole line, borders included */
	bool hidden_rows, hidden_cols, must_footer;
	size_t footer_len;
	char row_str[48], shown_str[48], col_str[64];
} pl_box;

static void box_prepare_footer(pl_box *b)
{
	const pl_render_grid *g = b->g;
	size_t shown = g->top + g->bottom;
	size_t rl, sl;
	snprintf(b->row_str, sizeof b->row_str, "%llu rows", (unsigned long long)g->total_rows);
	b->hidden_rows = shown < g->total_rows;
	if (b->hidden_rows)
		snprintf(b->shown_str, sizeof b->shown_str, "%zu shown", shown);
	b->must_footer = b->hidden_rows || g->total_rows == 0;
	rl = strlen(b->row_str);
	sl = strlen(b->shown_str) + 2;
	b->footer_len = (rl > sl ? rl : sl) + 4;
}

/* Shortens the columns wider than max_col_width, proportionally, to fit max_width if possible. */
static size_t box_shorten(size_t *w, size_t n, size_t total, size_t max_width, size_t mcw)
{
	size_t avail = 0, need = total - max_width, done = 0;
	for (size_t c = 0; c < n; c++)
		avail += w[c] > mcw ? w[c] - mcw : 0;
	if (avail < need) {
		for (size_t c = 0; c < n; c++) {
			if (w[c] > mcw) {
				total -= w[c] - mcw;
				w[c] = mcw;
			}
		}
		return total;
	}
	for (size_t c = 0; c < n; c++) {
		if (w[c] > mcw) {
			size_t cut = (size_t)((unsigned long long)need * (w[c] - mcw) / avail);
			w[c] -= cut;
			done += cut;
		}
	}
	for (size_t c = 0; c < n && done < need; c++) {
		size_t room = w[c] > mcw ? w[c] - mcw : 0;
		size_t cut = room < need - done ? room : need - done;
		w[c] -= cut;
		done += cut;
	}
	return total - need;
}

/* Drops columns from the middle outwards (zig-zag) until the line fits, keeping at least one,
 * then gives the space left back to shortened columns. Returns the new total width. */
static size_t box_prune(size_t *w, const size_t *orig, bool *pruned, size_t n, size_t total, size_t max_width)
{
	size_t npruned = 0, space;
	long off = 0;
	total += 3 + 1; /* the "…" column */
	while (total > max_width && npruned + 1 < n) {
		long c = (long)(n / 2) + off;
		if (c < 0 || (size_t)c >= n)
			break;
		total -= w[c] + 3;
		pruned[c] = true;
		npruned++;
		off = off >= 0 ? -off - 1 : -off;
	}
	if (npruned == 0)
		return total - 4;
	space = max_width > total ? max_width - total : 0;
	for (size_t c = 0; c < n && space > 0; c++) {
		if (!pruned[c] && w[c] < orig[c]) {
			size_t inc = orig[c] - w[c] < space ? orig[c] - w[c] : space;
			w[c] += inc;
			space -= inc;
			total += inc;
		}
	}
	return total;
}

static size_t grid_column_width(const pl_render_grid *g, size_t c)
{
	size_t w = pl_render_text_width(g->names[c]);
	size_t tw = pl_render_text_width(g->types[c]);
	if (tw > w)
		w = tw;
	for (size_t r = 0; r < g->top + g->bottom; r++) {
		size_t vw = pl_render_text_width(grid_cell(g, r, c));
		if (vw > w)
			w = vw;
	}
	return w;
}

/* Fills b->map/b->width from the per-grid-column widths w and the pruned set. */
static int box_build_map(pl_box *b, const size_t *w, const bool *pruned)
{
	size_t n = b->g->ncols, k = 0, shown = 0;
	bool split = false;
	b->map = calloc(n + 1, sizeof *b->map);
	b->width = calloc(n + 1, sizeof *b->width);
	if (!b->map || !b->width)
		return PLANAR_ENOMEM;
	for (size_t c = 0; c < n; c++) {
		if (!pruned[c]) {
			b->map[k] = c;
			b->width[k++] = w[c];
			shown++;
		} else if (!split) {
			b->map[k] = BOX_SPLIT;
			b->width[k++] = 1;
			split = true;
		}
	}
	b->n = k;
	b->hidden_cols = split;
	snprintf(b->col_str, sizeof b->col_str, "%zu column%s", n, n == 1 ? "" : "s");
	if (split) {
		size_t l = strlen(b->col_str);
		snprintf(b->col_str + l, sizeof b->col_str - l, " (%zu shown)", shown);
	}
	return 0;
}

static int box_layout(pl_box *b, const pl_render_opts *o)
{
	size_t n = b->g->ncols, total = 1, min_w = b->must_footer ? b->footer_len : 0;
	size_t *w = calloc(n + 1, sizeof *w), *orig = calloc(n + 1, sizeof *orig);
	bool *pruned = calloc(n + 1, sizeof *pruned);
	int rc = PLANAR_ENOMEM;
	if (w && orig && pruned) {
		for (size_t c = 0; c < n; c++)
			total += (w[c] = grid_column_width(b->g, c)) + 3;
		if (total < min_w) {
			w[0] += min_w - total;
			total = min_w;
		}
		memcpy(orig, w, n * sizeof *w);
		if (o->max_width && total > o->max_width) {
			total = box_shorten(w, n, total, o->max_width, o->max_col_width);
			if (total > o->max_width && n > 1)
				total = box_prune(w, orig, pruned, n, total, o->max_width);
		}
		b->total = total;
		rc = box_build_map(b, w, pruned);
	}
	free(w);
	free(orig);
	free(pruned);
	return rc;
}

static void box_line(FILE *out, const pl_box *b, const char *left, const char *mid, const char *right)
{
	fputs(left, out);
	for (size_t c = 0; c < b->n; c++) {
		put_rep(out, BOX_H, b->width[c] + 2);
		fputs(c + 1 < b->n ? mid : right, out);
	}
	fputc('\n', out);
}

/* One cell "│ text " padded to width, truncated with "…" when it does not fit. */
static void box_cell(FILE *out, const char *text, size_t width, pl_align align)
{
	size_t tw = pl_render_text_width(text), len = strlen(text), pad, lp;
	bool cut = tw > width;
	if (cut) {
		len = utf8_prefix(text, width > 0 ? width - 1 : 0, &tw);
		tw += 1;
	}
	pad = width - tw + 2;
	lp = align == ALIGN_LEFT ? 1 : align == ALIGN_RIGHT ? pad - 1 : pad / 2;
	fputs(BOX_V, out);
	put_rep(out, " ", lp);
	fwrite(text, 1, len, out);
	if (cut)
		fputs(BOX_DOTS, out);
	put_rep(out, " ", pad - lp);
}

static void box_row(FILE *out, const pl_box *b, pl_box_row_kind kind, size_t row)
{
	const pl_render_grid *g = b->g;
	for (size_t c = 0; c < b->n; c++) {
		size_t gc = b->map[c];
		if (gc == BOX_SPLIT)
			box_cell(out, BOX_DOTS, b->width[c], ALIGN_MIDDLE);
		else if (kind == BOX_ROW_NAME)
			box_cell(out, g->names[gc], b->width[c], ALIGN_MIDDLE);
		else if (kind == BOX_ROW_TYPE)
			box_cell(out, g->types[gc], b->width[c], ALIGN_MIDDLE);
		else
			box_cell(out, grid_cell(g, row, gc), b->width[c], g->right[gc] ? ALIGN_RIGHT : ALIGN_LEFT);
	}
	fputs(BOX_V "\n", out);
}

/* A "·" placed in the middle of the shorter of the values above and below it, like duckdb. */
static void box_divider_cell(FILE *out, const pl_box *b, size_t c)
{
	const pl_render_grid *g = b->g;
	size_t gc = b->map[c], w = b->width[c], top, bot, dot, lp, pad;
	pl_align align;
	if (gc == BOX_SPLIT) {
		box_cell(out, BOX_DOT, w, ALIGN_MIDDLE);
		return;
	}
	align = g->right[gc] ? ALIGN_RIGHT : ALIGN_LEFT;
	top = pl_render_text_width(grid_cell(g, g->top - 1, gc));
	bot = pl_render_text_width(grid_cell(g, g->top, gc));
	top = top < w ? top : w;
	bot = bot < w ? bot : w;
	dot = top == 0 ? bot : bot == 0 ? top : (top < bot ? top : bot);
	if (dot <= 1) {
		box_cell(out, BOX_DOT, w, dot == 0 ? ALIGN_MIDDLE : align);
		return;
	}
	/* the dot sits inside a dot-wide span aligned like the values */
	pad = w - dot;
	lp = align == ALIGN_LEFT ? (dot - 1) / 2 : pad + (dot - 1) - (dot - 1) / 2;
	fputs(BOX_V " ", out);
	put_rep(out, " ", lp);
	fputs(BOX_DOT, out);
	put_rep(out, " ", w - lp - 1 + 1);
}

static void box_dividers(FILE *out, const pl_box *b)
{
	for (int i = 0; i < 3; i++) {
		for (size_t c = 0; c < b->n; c++)
			box_divider_cell(out, b, c);
		fputs(BOX_V "\n", out);
	}
}

static void box_footer_shown_line(FILE *out, const pl_box *b, bool left)
{
	char text[64];
	snprintf(text, sizeof text, "(%s)", b->shown_str);
	box_cell(out, text, b->total - 4, left ? ALIGN_LEFT : ALIGN_MIDDLE);
	fputs(BOX_V "\n", out);
}

static void box_footer(FILE *out, const pl_box *b)
{
	uint64_t rows = b->g->total_rows;
	size_t rl = strlen(b->row_str), cl = strlen(b->col_str), sl = strlen(b->shown_str), pad;
	bool both = b->total >= rl + cl + 6 && ((b->hidden_cols && rows > 0) || (rows >= 10 && b->g->ncols > 1));
	bool only_rows = b->total >= b->footer_len && (rows == 0 || rows >= 10 || b->hidden_rows);
	bool shown_inline = false;
	box_line(out, b, both || only_rows ? BOX_LMID : BOX_BL, BOX_BMID, both || only_rows ? BOX_RMID : BOX_BR);
	if (!both && !only_rows)
		return;
	pad = b->total - rl - 4 - (both ? cl : 0);
	if (b->hidden_rows && pad >= sl + 3) {
		shown_inline = true;
		pad -= sl + 3;
	}
	fputs(BOX_V " ", out);
	put_rep(out, " ", both ? 0 : pad / 2);
	fputs(b->row_str, out);
	if (shown_inline)
		fprintf(out, " (%s)", b->shown_str);
	put_rep(out, " ", both ? pad : pad - pad / 2);
	if (both)
		fputs(b->col_str, out);
	fputs(" " BOX_V "\n", out);
	if (b->hidden_rows && !shown_inline)
		box_footer_shown_line(out, b, both);
	fputs(BOX_BL, out);
	put_rep(out, BOX_H, b->total - 2);
	fputs(BOX_BR "\n", out);
}

static void box_draw(FILE *out, const pl_box *b)
{
	const pl_render_grid *g = b->g;
	box_line(out, b, BOX_TL, BOX_TMID, BOX_TR);
	box_row(out, b, BOX_ROW_NAME, 0);
	box_row(out, b, BOX_ROW_TYPE, 0);
	if (g->top + g->bottom > 0)
		box_line(out, b, BOX_LMID, BOX_MID, BOX_RMID);
	for (size_t r = 0; r < g->top; r++)
		box_row(out, b, BOX_ROW_VALUE, r);
	if (g->bottom > 0) {
		box_dividers(out, b);
		for (size_t r = g->top; r < g->top + g->bottom; r++)
			box_row(out, b, BOX_ROW_VALUE, r);
	}
	box_footer(out, b);
}

static int render_box(FILE *out, const planar_result *res, const pl_render_opts *o)
{
	pl_render_grid g;
	pl_box b;
	int rc = grid_load(&g, res, o, o->max_rows, false);
	if (rc)
		return rc;
	memset(&b, 0, sizeof b);
	b.g = &g;
	box_prepare_footer(&b);
	rc = box_layout(&b, o);
	if (rc == 0)
		box_draw(out, &b);
	free(b.map);
	free(b.width);
	grid_free(&g);
	return rc;
}

/* ---------------------------------------------------------------------------------------------
 * Markdown mode (column-aligned, so it goes through the grid with all rows)
 * ------------------------------------------------------------------------------------------- */

static void md_cell(FILE *out, const char *text, size_t width, pl_align align)
{
	size_t pad = width - pl_render_text_width(text);
	size_t lp = align == ALIGN_LEFT ? 0 : align == ALIGN_RIGHT ? pad : pad / 2;
	put_rep(out, " ", lp);
	fputs(text, out);
	put_rep(out, " ", pad - lp);
}

/* Widths of the markdown columns: names and every value (the grid holds all rows). */
static size_t *md_widths(const pl_render_grid *g)
{
	size_t *w = calloc(g->ncols + 1, sizeof *w);
	for (size_t c = 0; w && c < g->ncols; c++) {
		w[c] = pl_render_text_width(g->names[c]);
		for (size_t r = 0; r < g->top; r++) {
			size_t vw = pl_render_text_width(grid_cell(g, r, c));
			w[c] = vw > w[c] ? vw : w[c];
		}
	}
	return w;
}

static void md_header(FILE *out, const pl_render_grid *g, const size_t *w)
{
	for (size_t c = 0; c < g->ncols; c++) {
		fputs(c ? " | " : "| ", out);
		md_cell(out, g->names[c], w[c], ALIGN_MIDDLE);
	}
	fputs(" |\n", out);
	for (size_t c = 0; c < g->ncols; c++) {
		fputc('|', out);
		put_rep(out, "-", g->right[c] ? w[c] + 1 : w[c] + 2);
		if (g->right[c])
			fputc(':', out);
	}
	fputs("|\n", out);
}

static int render_markdown(FILE *out, const planar_result *res, const pl_render_opts *o)
{
	pl_render_grid g;
	size_t *w;
	int rc = grid_load(&g, res, o, 0, true);
	if (rc)
		return rc;
	w = md_widths(&g);
	if (w) {
		md_header(out, &g, w);
		for (size_t r = 0; r < g.top; r++) {
			for (size_t c = 0; c < g.ncols; c++) {
				fputs(c ? " | " : "| ", out);
				md_cell(out, grid_cell(&g, r, c), w[c], g.right[c] ? ALIGN_RIGHT : ALIGN_LEFT);
			}
			fputs(" |\n", out);
		}
	}
	free(w);
	grid_free(&g);
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

static const char *null_text(const pl_render_opts *o)
{
	return o->nullvalue ? o->nullvalue : "";
}

static int csv_row(FILE *out, const planar_result *res, const pl_render_opts *o, uint64_t row)
{
	size_t ncols = planar_result_column_count(res);
	for (size_t c = 0; c < ncols; c++) {
		char *v;
		int rc = cell_value(res, c, row, &v);
		if (rc)
			return rc;
		if (c)
			fputc(',', out);
		pl_render_csv_field(out, v ? v : null_text(o), ',');
		planar_free(v);
	}
	fputc('\n', out);
	return 0;
}

static int render_csv(FILE *out, const planar_result *res, const pl_render_opts *o)
{
	size_t ncols = planar_result_column_count(res);
	if (o->headers) {
		for (size_t c = 0; c < ncols; c++) {
			const char *name = planar_result_column_name(res, c);
			if (c)
				fputc(',', out);
			pl_render_csv_field(out, name ? name : "", ',');
		}
		fputc('\n', out);
	}
	return for_each_row(out, res, o, csv_row);
}

static int list_row(FILE *out, const planar_result *res, const pl_render_opts *o, uint64_t row)
{
	size_t ncols = planar_result_column_count(res);
	for (size_t c = 0; c < ncols; c++) {
		char *v;
		int rc = cell_value(res, c, row, &v);
		if (rc)
			return rc;
		if (c)
			fputc('|', out);
		fputs(v ? v : null_text(o), out);
		planar_free(v);
	}
	fputc('\n', out);
	return 0;
}

static int render_list(FILE *out, const planar_result *res, const pl_render_opts *o)
{
	size_t ncols = planar_result_column_count(res);
	if (o->headers) {
		for (size_t c = 0; c < ncols; c++) {
			const char *name = planar_result_column_name(res, c);
			if (c)
				fputc('|', out);
			fputs(name ? name : "", out);
		}
		fputc('\n', out);
	}
	return for_each_row(out, res, o, list_row);
}

static bool json_raw_column(const planar_result *res, size_t col)
{
	const char *type = planar_result_column_type(res, col);
	if (type && (strcmp(type, "BOOLEAN") == 0 || strcmp(type, "JSON") == 0))
		return true;
	return planar_result_column_is_numeric(res, col);
}

static void json_value(FILE *out, const planar_result *res, size_t col, const char *v)
{
	const char *type = planar_result_column_type(res, col);
	bool is_json = type && strcmp(type, "JSON") == 0;
	if (!v)
		fputs("null", out);
	else if (is_json || (json_raw_column(res, col) && (json_is_number(v) || !strcmp(v, "true") || !strcmp(v, "false"))))
		fputs(v, out);
	else
		pl_render_json_string(out, v);
}

static int json_row(FILE *out, const planar_result *res, const pl_render_opts *o, uint64_t row)
{
	size_t ncols = planar_result_column_count(res);
	(void)o;
	fputs(row ? ",\n{" : "{", out);
	for (size_t c = 0; c < ncols; c++) {
		const char *name = planar_result_column_name(res, c);
		char *v;
		int rc = cell_value(res, c, row, &v);
		if (rc)
			return rc;
		if (c)
			fputc(',', out);
		pl_render_json_string(out, name ? name : "");
		fputc(':', out);
		json_value(out, res, c, v);
		planar_free(v);
	}
	fputc('}', out);
	return 0;
}

static int render_json(FILE *out, const planar_result *res, const pl_render_opts *o)
{
	int rc;
	fputc('[', out);
	rc = for_each_row(out, res, o, json_row);
	fputs("]\n", out);
	return rc;
}

static size_t line_name_width(const planar_result *res)
{
	size_t w = 5, ncols = planar_result_column_count(res);
	for (size_t c = 0; c < ncols; c++) {
		size_t nw = pl_render_text_width(planar_result_column_name(res, c));
		w = nw > w ? nw : w;
	}
	return w;
}

static int line_row(FILE *out, const planar_result *res, const pl_render_opts *o, uint64_t row)
{
	size_t ncols = planar_result_column_count(res), width = line_name_width(res);
	if (row)
		fputc('\n', out);
	for (size_t c = 0; c < ncols; c++) {
		const char *name = planar_result_column_name(res, c);
		char *v;
		int rc = cell_value(res, c, row, &v);
		if (rc)
			return rc;
		name = name ? name : "";
		put_rep(out, " ", width - pl_render_text_width(name));
		fprintf(out, "%s = %s\n", name, v ? v : null_text(o));
		planar_free(v);
	}
	return 0;
}

/* EXPLAIN answers (explain_key, explain_value); box mode prints the plans as they are. */
static bool is_explain(const planar_result *res)
{
	const char *k = planar_result_column_name(res, 0), *v = planar_result_column_name(res, 1);
	return planar_result_column_count(res) == 2 && k && v && strcmp(k, "explain_key") == 0 &&
	       strcmp(v, "explain_value") == 0;
}

static int render_explain(FILE *out, const planar_result *res)
{
	uint64_t rows = planar_result_row_count(res);
	for (uint64_t r = 0; r < rows; r++) {
		char *v;
		int rc = cell_value(res, 1, r, &v);
		if (rc)
			return rc;
		if (v)
			fprintf(out, "%s%s", v, *v && v[strlen(v) - 1] == '\n' ? "" : "\n");
		planar_free(v);
	}
	return 0;
}

int pl_render_result(FILE *out, const planar_result *res, const pl_render_opts *opts)
{
	int rc;
	if (!out || !res || !opts)
		return PLANAR_EINVALID;
	if (planar_result_column_count(res) == 0)
		return 0;
	switch (opts->mode) {
	case PL_RENDER_BOX: rc = is_explain(res) ? render_explain(out, res) : render_box(out, res, opts); break;
	case PL_RENDER_CSV: rc = render_csv(out, res, opts); break;
	case PL_RENDER_JSON: rc = render_json(out, res, opts); break;
	case PL_RENDER_LINE: rc = for_each_row(out, res, opts, line_row); break;
	case PL_RENDER_LIST: rc = render_list(out, res, opts); break;
	case PL_RENDER_MARKDOWN: rc = render_markdown(out, res, opts); break;
	default: rc = PLANAR_EINVALID;
	}
	if (rc == 0 && ferror(out))
		rc = PLANAR_EIO;
	return rc;
}
