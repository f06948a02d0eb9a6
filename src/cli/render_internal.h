/*
 * render_internal.h -- what the renderers share; private to render.c, render_box.c and
 * render_text.c.
 *
 * render.c owns the text helpers and the "grid" (the rows of a result that will be shown, as
 * escaped display strings, with column names, short type names and alignment); render_box.c
 * draws box mode from a grid; render_text.c writes markdown (from a grid) and the streaming
 * modes csv, json, line and list. The public side is render.h.
 */
#ifndef PLANAR_CLI_RENDER_INTERNAL_H
#define PLANAR_CLI_RENDER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli/render.h"
#include "planar/planar.h"

typedef enum pl_render_align { PL_ALIGN_LEFT, PL_ALIGN_MIDDLE, PL_ALIGN_RIGHT } pl_render_align;

/* ---- render.c: text helpers ---- */

/* Byte length of the longest prefix of text whose display width is at most max; *width gets it. */
size_t pl_render_text_prefix(const char *text, size_t max, size_t *width);
/* Display text of a value: control characters escaped (\n, \t, \27 ...), and '|' as \| when
 * pipes; malloc'd (NULL when out of memory). */
char *pl_render_escape_text(const char *text, bool pipes);
/* Writes s n times. */
void pl_render_put_rep(FILE *out, const char *s, size_t n);
/* *out gets the value (caller frees with planar_free) or NULL for SQL NULL; PLANAR_ERROR when a
 * non-NULL value cannot be had as text. */
int pl_render_cell_value(const planar_result *res, size_t col, uint64_t row, char **out);

/* ---- render.c: the grid, the shown rows of a result as display strings ---- */

typedef struct pl_render_grid {
	size_t ncols;
	uint64_t total_rows;
	size_t top, bottom; /* rows taken from the start and from the end of the result */
	char **names, **types;
	bool *right;  /* right-aligned (numeric) columns */
	char **cells; /* (top + bottom) * ncols, row-major */
} pl_render_grid;

/* Loads the header and the rows to show: all of them when max_rows is 0 or they are few, else
 * max_rows rows split between the start and the end of the result. Control characters are
 * escaped (and '|' too with pipes); NULL shows as o->nullvalue. */
int pl_render_grid_load(pl_render_grid *g, const planar_result *res, const pl_render_opts *o, size_t max_rows,
                        bool pipes);
void pl_render_grid_free(pl_render_grid *g);
/* The display text of shown row `row` (0 .. top + bottom - 1), column col. */
const char *pl_render_grid_cell(const pl_render_grid *g, size_t row, size_t col);

/* ---- render_box.c ---- */

/* Box mode; EXPLAIN results print their plans as they are. */
int pl_render_box(FILE *out, const planar_result *res, const pl_render_opts *o);

/* ---- render_text.c ---- */

/* The modes below read the result chunk by chunk (planar_result_next_chunk), writing rows as
 * they arrive; a failure of the result is in planar_result_errmsg(). Markdown aligns its columns
 * to the header and the first chunk. */
int pl_render_markdown(FILE *out, planar_result *res, const pl_render_opts *o);
/* csv or list mode, as o->mode says: the same rows, joined by ',' and quoted, or by '|'. */
int pl_render_delimited(FILE *out, planar_result *res, const pl_render_opts *o);
int pl_render_json(FILE *out, planar_result *res, const pl_render_opts *o);
int pl_render_line(FILE *out, planar_result *res, const pl_render_opts *o);

#endif
