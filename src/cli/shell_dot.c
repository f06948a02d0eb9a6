/*
 * shell_dot.c -- the shell's dot-commands (.mode, .tables, .schema, .output, ...).
 *
 * Owns the table of dot-commands with their argument counts, usage and help text, splitting a
 * dot-command line into words, the settings they change (.bail, .echo, .headers, .maxrows,
 * .maxwidth, .mode, .nullvalue, .timer), .output, .read, .quit/.exit, and the listings of
 * .tables and .schema over every attached database.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/shell_internal.h"

#define PL_CLI_MAX_ARGS 8

typedef int (*pl_cli_dot_fn)(pl_cli_shell *sh, int argc, char **argv);

typedef struct pl_cli_dot {
	const char *name;
	int min_args, max_args; /* not counting the command itself */
	pl_cli_dot_fn fn;
	const char *usage;
	const char *help;
} pl_cli_dot;

static int dot_help(pl_cli_shell *sh, int argc, char **argv);

static int parse_bool(pl_cli_shell *sh, const char *text, bool *out)
{
	static const char *const yes[] = {"on", "yes", "true", "1"}, *const no[] = {"off", "no", "false", "0"};
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (strcasecmp(text, yes[i]) == 0 || strcasecmp(text, no[i]) == 0) {
			*out = strcasecmp(text, yes[i]) == 0;
			return 0;
		}
	}
	fprintf(sh->err, "Error: expected on or off, got \"%s\"\n", text);
	return PLANAR_EINVALID;
}

static int parse_size(pl_cli_shell *sh, const char *text, size_t *out)
{
	char *end;
	unsigned long long v;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (!isdigit((unsigned char)*text) || *end || errno || v > SIZE_MAX) {
		fprintf(sh->err, "Error: expected a non-negative number, got \"%s\"\n", text);
		return PLANAR_EINVALID;
	}
	*out = (size_t)v;
	return 0;
}

static int dot_bail(pl_cli_shell *sh, int argc, char **argv)
{
	(void)argc;
	return parse_bool(sh, argv[1], &sh->bail);
}

static int dot_echo(pl_cli_shell *sh, int argc, char **argv)
{
	(void)argc;
	return parse_bool(sh, argv[1], &sh->echo);
}

static int dot_timer(pl_cli_shell *sh, int argc, char **argv)
{
	(void)argc;
	return parse_bool(sh, argv[1], &sh->timer);
}

static int dot_headers(pl_cli_shell *sh, int argc, char **argv)
{
	(void)argc;
	return parse_bool(sh, argv[1], &sh->render.headers);
}

static int dot_maxrows(pl_cli_shell *sh, int argc, char **argv)
{
	(void)argc;
	return parse_size(sh, argv[1], &sh->render.max_rows);
}

static int dot_maxwidth(pl_cli_shell *sh, int argc, char **argv)
{
	(void)argc;
	return parse_size(sh, argv[1], &sh->max_width);
}

static int dot_mode(pl_cli_shell *sh, int argc, char **argv)
{
	if (argc == 1) {
		fprintf(sh->out, "current output mode: %s\n", pl_render_mode_name(sh->render.mode));
		return 0;
	}
	if (pl_render_mode_parse(argv[1], &sh->render.mode) != 0) {
		fprintf(sh->err, "Error: unknown mode \"%s\"; use box, csv, json, line, list or markdown\n", argv[1]);
		return PLANAR_EINVALID;
	}
	return 0;
}

static int dot_nullvalue(pl_cli_shell *sh, int argc, char **argv)
{
	char *copy = strdup(argv[1]);
	(void)argc;
	if (!copy)
		return pl_cli_shell_report_code(sh, PLANAR_ENOMEM);
	free(sh->nullvalue);
	sh->nullvalue = copy;
	sh->render.nullvalue = copy;
	return 0;
}

static int dot_quit(pl_cli_shell *sh, int argc, char **argv)
{
	size_t code = 0;
	if (argc > 1 && parse_size(sh, argv[1], &code) != 0)
		return PLANAR_EINVALID;
	sh->quit = true;
	sh->exit_code = (int)(code & 0xff);
	return 0;
}

void pl_cli_shell_close_output(pl_cli_shell *sh)
{
	if (sh->out_owned)
		fclose(sh->out);
	sh->out = stdout;
	sh->out_owned = false;
}

static int dot_output(pl_cli_shell *sh, int argc, char **argv)
{
	FILE *f;
	if (argc == 1 || strcmp(argv[1], "stdout") == 0) {
		pl_cli_shell_close_output(sh);
		return 0;
	}
	f = fopen(argv[1], "w");
	if (!f) {
		fprintf(sh->err, "Error: cannot open \"%s\": %s\n", argv[1], strerror(errno));
		return PLANAR_EIO;
	}
	pl_cli_shell_close_output(sh);
	sh->out = f;
	sh->out_owned = true;
	return 0;
}

static int dot_read(pl_cli_shell *sh, int argc, char **argv)
{
	(void)argc;
	return pl_cli_shell_run_file(sh, argv[1]);
}

/* Prints names in columns, filled top to bottom like sqlite's .tables. */
static void print_columns(pl_cli_shell *sh, char **names, size_t n)
{
	size_t maxw = 1, width = pl_cli_shell_output_width(sh), ncol, nrow;
	for (size_t i = 0; i < n; i++) {
		size_t w = pl_render_text_width(names[i]);
		maxw = w > maxw ? w : maxw;
	}
	width = width ? width : 80;
	ncol = width / (maxw + 2) ? width / (maxw + 2) : 1;
	nrow = (n + ncol - 1) / ncol;
	for (size_t r = 0; r < nrow; r++) {
		for (size_t i = r; i < n; i += nrow) {
			bool last = i + nrow >= n;
			fputs(names[i], sh->out);
			for (size_t pad = pl_render_text_width(names[i]); !last && pad < maxw + 2; pad++)
				fputc(' ', sh->out);
		}
		fputc('\n', sh->out);
	}
}

/* Values of the first column of a result, as a NULL-terminated array of owned strings. */
static int first_column(const planar_result *res, char ***out, size_t *n)
{
	uint64_t rows = planar_result_row_count(res);
	char **v = rows < SIZE_MAX / sizeof *v ? calloc((size_t)rows + 1, sizeof *v) : NULL;
	*out = v;
	*n = 0;
	if (!v)
		return PLANAR_ENOMEM;
	for (uint64_t r = 0; r < rows; r++) {
		if (planar_result_is_null(res, 0, r))
			continue;
		if (!(v[(*n)++] = planar_result_value_string(res, 0, r)))
			return PLANAR_ERROR;
	}
	return 0;
}

static void free_strings(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		planar_free(v[i]);
	free(v);
}

/* The user's tables and views of every attached database; lake tables are views of the lake's
 * database. Databases whose name starts with "__" hold internals and are skipped. */
static const char pl_cli_objects_sql[] =
	"SELECT database_name AS db, schema_name AS sch, table_name AS name, 0 AS kind, sql "
	"FROM duckdb_tables() WHERE NOT internal "
	"UNION ALL SELECT database_name, schema_name, view_name, 0, sql FROM duckdb_views() WHERE NOT internal "
	"UNION ALL SELECT database_name, schema_name, table_name, 1, sql FROM duckdb_indexes() WHERE sql IS NOT NULL";

static void objects_query(pl_cli_buf *b, const char *select, const char *pattern, bool indexes)
{
	pl_cli_buf_puts(b, select);
	pl_cli_buf_puts(b, " FROM (");
	pl_cli_buf_puts(b, pl_cli_objects_sql);
	pl_cli_buf_puts(b, ") WHERE db <> 'system' AND db NOT LIKE '\\_\\_%' ESCAPE '\\' AND name ILIKE ");
	pl_cli_buf_put_quoted(b, pattern ? pattern : "%", '\'');
	pl_cli_buf_puts(b, indexes ? "" : " AND kind = 0");
	pl_cli_buf_puts(b, " ORDER BY db, sch, name, kind");
}

static int run_listing(pl_cli_shell *sh, const char *select, const char *pattern, bool indexes, char ***out,
                       size_t *n)
{
	pl_cli_buf sql = {0};
	planar_result *res = NULL;
	int rc;
	objects_query(&sql, select, pattern, indexes);
	*out = NULL;
	*n = 0;
	if (sql.oom)
		rc = pl_cli_shell_report_code(sh, PLANAR_ENOMEM);
	else if ((rc = pl_cli_shell_query(sh, sql.ptr, &res)) == 0 && (rc = first_column(res, out, n)) != 0)
		rc = pl_cli_shell_report_code(sh, rc);
	planar_result_free(res);
	pl_cli_buf_dispose(&sql);
	return rc;
}

static int dot_tables(pl_cli_shell *sh, int argc, char **argv)
{
	static const char select[] =
		"SELECT DISTINCT CASE WHEN db = current_database() AND sch = current_schema() THEN name "
		"WHEN sch = 'main' THEN db || '.' || name ELSE db || '.' || sch || '.' || name END AS shown, db, sch, name, kind";
	char **names;
	size_t n;
	int rc = run_listing(sh, select, argc > 1 ? argv[1] : NULL, false, &names, &n);
	if (rc == 0)
		print_columns(sh, names, n);
	free_strings(names, n);
	return rc;
}

static int dot_schema(pl_cli_shell *sh, int argc, char **argv)
{
	char **sqls;
	size_t n;
	int rc = run_listing(sh, "SELECT sql, db, sch, name, kind", argc > 1 ? argv[1] : NULL, true, &sqls, &n);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		size_t len = strlen(sqls[i]);
		fprintf(sh->out, "%s%s\n", sqls[i], len && sqls[i][len - 1] == ';' ? "" : ";");
	}
	free_strings(sqls, n);
	return rc;
}

static const pl_cli_dot pl_cli_dots[] = {
	{"bail", 1, 1, dot_bail, ".bail on|off", "stop a script at the first error (on for scripts and -c)"},
	{"echo", 1, 1, dot_echo, ".echo on|off", "print each command before running it"},
	{"exit", 0, 1, dot_quit, ".exit ?CODE?", "leave the shell, with exit code CODE"},
	{"headers", 1, 1, dot_headers, ".headers on|off", "column names in csv and list mode"},
	{"header", 1, 1, dot_headers, NULL, NULL},
	{"help", 0, 1, dot_help, ".help ?COMMAND?", "show this help"},
	{"maxrows", 1, 1, dot_maxrows, ".maxrows N", "rows shown in box mode before eliding the middle (0 = all)"},
	{"maxwidth", 1, 1, dot_maxwidth, ".maxwidth N", "width of box output (0 = the terminal's)"},
	{"mode", 0, 1, dot_mode, ".mode MODE", "output mode: box, csv, json, line, list, markdown"},
	{"nullvalue", 1, 1, dot_nullvalue, ".nullvalue TEXT", "text shown for NULL (json prints null)"},
	{"output", 0, 1, dot_output, ".output ?FILE?", "send results to FILE, or back to stdout"},
	{"quit", 0, 0, dot_quit, ".quit", "leave the shell"},
	{"read", 1, 1, dot_read, ".read FILE", "run the SQL script in FILE"},
	{"schema", 0, 1, dot_schema, ".schema ?PATTERN?", "CREATE statements of tables and views (LIKE pattern)"},
	{"tables", 0, 1, dot_tables, ".tables ?PATTERN?", "names of tables and views (LIKE pattern)"},
	{"timer", 1, 1, dot_timer, ".timer on|off", "print the run time of each statement"},
};

static const pl_cli_dot *dot_find(const char *name)
{
	for (size_t i = 0; i < sizeof pl_cli_dots / sizeof pl_cli_dots[0]; i++) {
		if (strcmp(pl_cli_dots[i].name, name) == 0)
			return &pl_cli_dots[i];
	}
	return NULL;
}

static int dot_help(pl_cli_shell *sh, int argc, char **argv)
{
	const char *only = argc > 1 ? (argv[1][0] == '.' ? argv[1] + 1 : argv[1]) : NULL;
	for (size_t i = 0; i < sizeof pl_cli_dots / sizeof pl_cli_dots[0]; i++) {
		const pl_cli_dot *d = &pl_cli_dots[i];
		if (d->usage && (!only || strcmp(only, d->name) == 0))
			fprintf(sh->out, "%-20s %s\n", d->usage, d->help);
	}
	return 0;
}

/* Splits a dot-command line into words in place; '...' and "..." group words. -1 when malformed. */
static int split_words(char *line, char **argv, int max)
{
	int argc = 0;
	char *p = line;
	while (*p) {
		char quote;
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		if (argc == max)
			return -1;
		quote = (*p == '\'' || *p == '"') ? *p++ : 0;
		argv[argc++] = p;
		while (*p && (quote ? *p != quote : !isspace((unsigned char)*p)))
			p++;
		if (quote && !*p)
			return -1;
		if (*p)
			*p++ = '\0';
	}
	return argc;
}

int pl_cli_shell_run_dot(pl_cli_shell *sh, const char *line)
{
	char *copy = strdup(line), *argv[PL_CLI_MAX_ARGS + 1];
	const pl_cli_dot *d = NULL;
	int argc, rc;
	if (!copy)
		return pl_cli_shell_report_code(sh, PLANAR_ENOMEM);
	if (sh->echo)
		fprintf(sh->out, "%s\n", line);
	argc = split_words(copy + strspn(copy, " \t") + 1, argv, PL_CLI_MAX_ARGS);
	if (argc > 0)
		d = dot_find(argv[0]);
	if (!d || argc - 1 < d->min_args || argc - 1 > d->max_args) {
		if (d && d->usage)
			fprintf(sh->err, "Error: usage: %s\n", d->usage);
		else
			fprintf(sh->err, "Error: unknown command or invalid arguments: \"%s\". Enter \".help\" for help\n",
			        argc > 0 ? argv[0] : line);
		rc = PLANAR_EINVALID;
	} else {
		rc = d->fn(sh, argc, argv);
	}
	free(copy);
	fflush(sh->out);
	return rc;
}
