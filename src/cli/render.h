/*
 * render.h -- turning a planar_result into text for the `planar` shell.
 *
 * Owns the output modes (box, csv, json, line, list, markdown), their options and the small text
 * helpers they share (UTF-8 display width, CSV/JSON quoting, DuckDB's short type names). Nothing
 * here knows about the REPL: the shell fills a pl_render_opts and calls pl_render_result().
 * All functions return 0 or a PLANAR_E* code; they never abort on odd input.
 */
#ifndef PLANAR_CLI_RENDER_H
#define PLANAR_CLI_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "planar/planar.h"

typedef enum pl_render_mode {
	PL_RENDER_BOX,
	PL_RENDER_CSV,
	PL_RENDER_JSON,
	PL_RENDER_LINE,
	PL_RENDER_LIST,
	PL_RENDER_MARKDOWN,
} pl_render_mode;

typedef struct pl_render_opts {
	pl_render_mode mode;
	const char *nullvalue; /* text shown for SQL NULL (json always prints null) */
	bool headers;          /* csv/list: print the column names first */
	size_t max_rows;       /* box: rows shown before the middle is elided; 0 = all */
	size_t max_width;      /* box: total width in columns; 0 = unlimited */
	size_t max_col_width;  /* box: columns are not shortened below this when too wide */
} pl_render_opts;

/* Defaults of the duckdb CLI: box mode, "NULL", headers on, 40 rows, unlimited width. */
void pl_render_opts_init(pl_render_opts *opts);

/* "box" (also "duckbox"), "csv", "json", "line", "list", "markdown"; PLANAR_EINVALID otherwise. */
int pl_render_mode_parse(const char *name, pl_render_mode *out);
const char *pl_render_mode_name(pl_render_mode mode);

/* Writes the whole result in opts->mode. A result without columns prints nothing. csv, json,
 * line, list and markdown read the result chunk by chunk (planar_result_next_chunk, so they
 * take streaming results and write rows as they arrive; a result can be rendered once); box
 * reads rows of a materialized result. Returns PLANAR_ERROR (or the result's code, message in
 * planar_result_errmsg()) when values cannot be read, PLANAR_EIO when writing failed. */
int pl_render_result(FILE *out, planar_result *res, const pl_render_opts *opts);

/* Display width of UTF-8 text in terminal cells (East Asian wide characters count 2, combining
 * marks 0, invalid bytes 1 each). */
size_t pl_render_text_width(const char *text);

/* DuckDB CLI's short lower-case type name ("INTEGER" -> "int32", "VARCHAR" -> "varchar").
 * Writes at most cap bytes (NUL-terminated, truncated if needed) into buf. */
void pl_render_type_name(const char *sql_type, char *buf, size_t cap);

/* RFC 4180 field: quoted (with doubled quotes) when it holds sep, a quote, or a control char. */
int pl_render_csv_field(FILE *out, const char *text, char sep);

/* JSON string literal with the quotes and escapes. */
int pl_render_json_string(FILE *out, const char *text);

#endif
