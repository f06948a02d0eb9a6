/*
 * render.c -- result rendering for the `planar` shell, modelled on the duckdb CLI.
 *
 * Owns: the output modes' names and defaults, the text helpers every mode uses (UTF-8 display
 * width, escaping, DuckDB's short type names), the "grid" (the rows of a result that will
 * actually be shown, as strings) and pl_render_result(), which hands a result to its mode: box
 * in render_box.c, markdown, csv, json, line and list in render_text.c. Output errors are
 * detected once per result with ferror(); allocation failures are returned as PLANAR_ENOMEM and
 * never abort.
 */
#include "cli/render.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/render_internal.h"

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

size_t pl_render_text_prefix(const char *text, size_t max, size_t *width)
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

char *pl_render_escape_text(const char *text, bool pipes)
{
	return escape_text(text, pipes);
}

void pl_render_put_rep(FILE *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fputs(s, out);
}

/* ---------------------------------------------------------------------------------------------
 * Type names
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

/* ---------------------------------------------------------------------------------------------
 * The grid: the shown rows of a result as display strings
 * ------------------------------------------------------------------------------------------- */

void pl_render_grid_free(pl_render_grid *g)
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

int pl_render_cell_value(const planar_result *res, size_t col, uint64_t row, char **out)
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
			int rc = pl_render_cell_value(res, c, src, &v);
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

static void free_cells(char **cells, size_t n)
{
	for (size_t i = 0; cells && i < n; i++)
		free(cells[i]);
}

/* A streaming result, read to its end keeping only what will be shown: the first max_rows + 3
 * rows (all of them are shown when the result is that short) and a ring of the last
 * max_rows / 2 rows. */
static int grid_load_stream(pl_render_grid *g, planar_result *res, const char *nullvalue, bool pipes,
                            size_t max_rows)
{
	size_t nc = g->ncols, headcap = max_rows ? max_rows + 3 : SIZE_MAX, ringcap = max_rows / 2;
	size_t nhead = 0, headalloc = 0;
	char **head = NULL, **ring = calloc(ringcap * nc + 1, sizeof *ring);
	uint64_t total = 0;
	int rc = ring ? 0 : PLANAR_ENOMEM;
	for (size_t n = 1; rc == 0 && n > 0;) {
		rc = planar_result_next_chunk(res, &n);
		for (size_t r = 0; rc == 0 && r < n; r++, total++) {
			if (nhead < headcap && nhead == headalloc) {
				size_t more = headalloc ? headalloc * 2 : 64;
				char **p = realloc(head, (more * nc + 1) * sizeof *p);
				if (!p) {
					rc = PLANAR_ENOMEM;
					break;
				}
				head = p;
				headalloc = more;
			}
			for (size_t c = 0; rc == 0 && c < nc; c++) {
				const char *v;
				rc = planar_result_get_text(res, c, r, &v, NULL);
				if (rc)
					break;
				char *in_head = NULL, *in_ring = NULL;
				if (nhead < headcap && !(in_head = escape_text(v ? v : nullvalue, pipes)))
					rc = PLANAR_ENOMEM;
				if (ringcap) {
					char **slot = &ring[(size_t)(total % ringcap) * nc + c];
					free(*slot);
					*slot = in_ring = escape_text(v ? v : nullvalue, pipes);
					if (!in_ring)
						rc = PLANAR_ENOMEM;
				}
				if (nhead < headcap)
					head[nhead * nc + c] = in_head;
			}
			if (nhead < headcap) {
				if (rc) { /* the row's cells after the failing one were never set */
					for (size_t c = 0; c < nc; c++)
						head[nhead * nc + c] = NULL;
				}
				nhead++;
			}
		}
	}
	if (rc == 0) {
		g->total_rows = total;
		grid_pick_rows(g, max_rows);
		g->cells = calloc((g->top + g->bottom) * nc + 1, sizeof *g->cells);
		if (!g->cells)
			rc = PLANAR_ENOMEM;
	}
	if (rc == 0) {
		for (size_t r = 0; r < g->top; r++)
			for (size_t c = 0; c < nc; c++) {
				g->cells[r * nc + c] = head[r * nc + c];
				head[r * nc + c] = NULL;
			}
		for (size_t k = 0; k < g->bottom; k++) {
			size_t slot = (size_t)((total - g->bottom + k) % ringcap);
			for (size_t c = 0; c < nc; c++) {
				g->cells[(g->top + k) * nc + c] = ring[slot * nc + c];
				ring[slot * nc + c] = NULL;
			}
		}
	}
	free_cells(head, nhead * nc);
	free_cells(ring, ringcap * nc);
	free(head);
	free(ring);
	return rc;
}

int pl_render_grid_load(pl_render_grid *g, const planar_result *res, const pl_render_opts *o, size_t max_rows,
                     bool pipes)
{
	int rc;
	memset(g, 0, sizeof *g);
	if (planar_result_is_streaming(res)) {
		g->ncols = planar_result_column_count(res);
		g->names = calloc(g->ncols + 1, sizeof *g->names);
		g->types = calloc(g->ncols + 1, sizeof *g->types);
		g->right = calloc(g->ncols + 1, sizeof *g->right);
		if (!g->names || !g->types || !g->right)
			rc = PLANAR_ENOMEM;
		else if ((rc = grid_load_header(g, res, pipes)) == 0)
			/* reading chunks moves the result's cursor: the only change made to it */
			rc = grid_load_stream(g, (planar_result *)res, o->nullvalue ? o->nullvalue : "", pipes, max_rows);
		if (rc)
			pl_render_grid_free(g);
		return rc;
	}
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
		pl_render_grid_free(g);
	return rc;
}

const char *pl_render_grid_cell(const pl_render_grid *g, size_t row, size_t col)
{
	return g->cells[row * g->ncols + col];
}

/* ---------------------------------------------------------------------------------------------
 * Dispatch
 * ------------------------------------------------------------------------------------------- */

int pl_render_result(FILE *out, planar_result *res, const pl_render_opts *opts)
{
	int rc;
	if (!out || !res || !opts)
		return PLANAR_EINVALID;
	if (planar_result_column_count(res) == 0)
		return 0;
	switch (opts->mode) {
	case PL_RENDER_BOX: rc = pl_render_box(out, res, opts); break;
	case PL_RENDER_CSV:
	case PL_RENDER_LIST: rc = pl_render_delimited(out, res, opts); break;
	case PL_RENDER_JSON: rc = pl_render_json(out, res, opts); break;
	case PL_RENDER_LINE: rc = pl_render_line(out, res, opts); break;
	case PL_RENDER_MARKDOWN: rc = pl_render_markdown(out, res, opts); break;
	default: rc = PLANAR_EINVALID;
	}
	if (rc == 0 && ferror(out))
		rc = PLANAR_EIO;
	return rc;
}
