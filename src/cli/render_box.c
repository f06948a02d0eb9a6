/*
 * render_box.c -- box mode, the shell's default output (like the duckdb CLI's duckbox).
 *
 * Owns drawing a grid as a box: column widths, shortening wide columns and pruning columns
 * from the middle to fit the maximum width, eliding the middle rows (the three "·" lines), the
 * "N rows / N columns" footer, and printing EXPLAIN plans as they are.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/render_internal.h"

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
		size_t vw = pl_render_text_width(pl_render_grid_cell(g, r, c));
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
		pl_render_put_rep(out, BOX_H, b->width[c] + 2);
		fputs(c + 1 < b->n ? mid : right, out);
	}
	fputc('\n', out);
}

/* One cell "│ text " padded to width, truncated with "…" when it does not fit. */
static void box_cell(FILE *out, const char *text, size_t width, pl_render_align align)
{
	size_t tw = pl_render_text_width(text), len = strlen(text), pad, lp;
	bool cut = tw > width;
	if (cut) {
		len = pl_render_text_prefix(text, width > 0 ? width - 1 : 0, &tw);
		tw += 1;
	}
	pad = width - tw + 2;
	lp = align == PL_ALIGN_LEFT ? 1 : align == PL_ALIGN_RIGHT ? pad - 1 : pad / 2;
	fputs(BOX_V, out);
	pl_render_put_rep(out, " ", lp);
	fwrite(text, 1, len, out);
	if (cut)
		fputs(BOX_DOTS, out);
	pl_render_put_rep(out, " ", pad - lp);
}

static void box_row(FILE *out, const pl_box *b, pl_box_row_kind kind, size_t row)
{
	const pl_render_grid *g = b->g;
	for (size_t c = 0; c < b->n; c++) {
		size_t gc = b->map[c];
		if (gc == BOX_SPLIT)
			box_cell(out, BOX_DOTS, b->width[c], PL_ALIGN_MIDDLE);
		else if (kind == BOX_ROW_NAME)
			box_cell(out, g->names[gc], b->width[c], PL_ALIGN_MIDDLE);
		else if (kind == BOX_ROW_TYPE)
			box_cell(out, g->types[gc], b->width[c], PL_ALIGN_MIDDLE);
		else
			box_cell(out, pl_render_grid_cell(g, row, gc), b->width[c], g->right[gc] ? PL_ALIGN_RIGHT : PL_ALIGN_LEFT);
	}
	fputs(BOX_V "\n", out);
}

/* A "·" placed in the middle of the shorter of the values above and below it, like duckdb. */
static void box_divider_cell(FILE *out, const pl_box *b, size_t c)
{
	const pl_render_grid *g = b->g;
	size_t gc = b->map[c], w = b->width[c], top, bot, dot, lp, pad;
	pl_render_align align;
	if (gc == BOX_SPLIT) {
		box_cell(out, BOX_DOT, w, PL_ALIGN_MIDDLE);
		return;
	}
	align = g->right[gc] ? PL_ALIGN_RIGHT : PL_ALIGN_LEFT;
	top = pl_render_text_width(pl_render_grid_cell(g, g->top - 1, gc));
	bot = pl_render_text_width(pl_render_grid_cell(g, g->top, gc));
	top = top < w ? top : w;
	bot = bot < w ? bot : w;
	dot = top == 0 ? bot : bot == 0 ? top : (top < bot ? top : bot);
	if (dot <= 1) {
		box_cell(out, BOX_DOT, w, dot == 0 ? PL_ALIGN_MIDDLE : align);
		return;
	}
	/* the dot sits inside a dot-wide span aligned like the values */
	pad = w - dot;
	lp = align == PL_ALIGN_LEFT ? (dot - 1) / 2 : pad + (dot - 1) - (dot - 1) / 2;
	fputs(BOX_V " ", out);
	pl_render_put_rep(out, " ", lp);
	fputs(BOX_DOT, out);
	pl_render_put_rep(out, " ", w - lp - 1 + 1);
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
	box_cell(out, text, b->total - 4, left ? PL_ALIGN_LEFT : PL_ALIGN_MIDDLE);
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
	pl_render_put_rep(out, " ", both ? 0 : pad / 2);
	fputs(b->row_str, out);
	if (shown_inline)
		fprintf(out, " (%s)", b->shown_str);
	pl_render_put_rep(out, " ", both ? pad : pad - pad / 2);
	if (both)
		fputs(b->col_str, out);
	fputs(" " BOX_V "\n", out);
	if (b->hidden_rows && !shown_inline)
		box_footer_shown_line(out, b, both);
	fputs(BOX_BL, out);
	pl_render_put_rep(out, BOX_H, b->total - 2);
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
	int rc = pl_render_grid_load(&g, res, o, o->max_rows, false);
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
	pl_render_grid_free(&g);
	return rc;
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
	/* reading chunks moves the result's cursor: the only change made to it */
	planar_result *r = (planar_result *)res;
	for (size_t n = 1; n > 0;) {
		int rc = planar_result_next_chunk(r, &n);
		for (size_t i = 0; rc == 0 && i < n; i++) {
			const char *v;
			rc = planar_result_get_text(r, 1, i, &v, NULL);
			if (rc == 0 && v)
				fprintf(out, "%s%s", v, *v && v[strlen(v) - 1] == '\n' ? "" : "\n");
		}
		if (rc)
			return rc;
	}
	return 0;
}

int pl_render_box(FILE *out, const planar_result *res, const pl_render_opts *o)
{
	return is_explain(res) ? render_explain(out, res) : render_box(out, res, o);
}
