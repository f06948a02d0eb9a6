/*
 * shell.c -- the `planar` SQL shell, behaving like the duckdb/sqlite CLI.
 *
 * Owns: the shell state's lifetime, deciding when typed SQL is complete (quotes, comments and
 * dollar quoting aware), running statements one by one with rendering, .timer and .echo,
 * script execution with .bail semantics, the libedit REPL with ~/.planar_history, and the
 * table of dot-commands (.mode, .tables, .schema, ...). Errors are printed as "Error: ..." on
 * the error stream and returned as PLANAR_E* codes; nothing here aborts on bad input.
 */
#include "cli/shell.h"

#include <ctype.h>
#include <errno.h>
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <editline/readline.h>

#define PL_CLI_PROMPT "P "
#define PL_CLI_PROMPT_MORE "\302\267 " /* "· " on UTF-8 terminals */
#define PL_CLI_PROMPT_MORE_ASCII "> "
#define PL_CLI_HISTORY ".planar_history"
#define PL_CLI_MAX_ARGS 8
#define PL_CLI_MAX_DEPTH 16

/* ---------------------------------------------------------------------------------------------
 * A growable string
 * ------------------------------------------------------------------------------------------- */

typedef struct pl_cli_buf {
	char *data;
	size_t len, cap;
} pl_cli_buf;

static int buf_append(pl_cli_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *data;
		while (cap < b->len + n + 1) {
			if (cap > SIZE_MAX / 2)
				return PLANAR_ENOMEM;
			cap *= 2;
		}
		data = realloc(b->data, cap);
		if (!data)
			return PLANAR_ENOMEM;
		b->data = data;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

static int buf_puts(pl_cli_buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

/* 'text' with embedded quotes doubled. */
static int buf_literal(pl_cli_buf *b, const char *s)
{
	int rc = buf_puts(b, "'");
	for (const char *p = s; rc == 0 && *p; p++)
		rc = *p == '\'' ? buf_puts(b, "''") : buf_append(b, p, 1);
	return rc ? rc : buf_puts(b, "'");
}

static bool is_ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* A bare identifier when it is one, else "quoted" with embedded quotes doubled. */
static int buf_ident(pl_cli_buf *b, const char *s)
{
	bool plain = *s && !isdigit((unsigned char)*s);
	int rc;
	for (const char *p = s; plain && *p; p++)
		plain = is_ident_char(*p);
	if (plain)
		return buf_puts(b, s);
	rc = buf_puts(b, "\"");
	for (const char *p = s; rc == 0 && *p; p++)
		rc = *p == '"' ? buf_puts(b, "\"\"") : buf_append(b, p, 1);
	return rc ? rc : buf_puts(b, "\"");
}

static void buf_clear(pl_cli_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

static void buf_free(pl_cli_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof *b);
}

/* ---------------------------------------------------------------------------------------------
 * Statement completeness
 * ------------------------------------------------------------------------------------------- */

/* p is at the opening quote; returns the position after the closing one, NULL if unterminated. */
static const char *skip_quoted(const char *p, char quote, bool backslash)
{
	for (p++; *p; p++) {
		if (backslash && *p == '\\' && p[1]) {
			p++;
		} else if (*p == quote) {
			if (p[1] != quote)
				return p + 1;
			p++;
		}
	}
	return NULL;
}

/* p is at "/ *"; block comments nest in DuckDB. */
static const char *skip_block_comment(const char *p)
{
	int depth = 0;
	while (*p) {
		if (p[0] == '/' && p[1] == '*') {
			depth++;
			p += 2;
		} else if (p[0] == '*' && p[1] == '/') {
			p += 2;
			if (--depth == 0)
				return p;
		} else {
			p++;
		}
	}
	return NULL;
}

/* Length of a dollar-quote tag ("$$", "$tag$") at p, 0 when p does not start one. */
static size_t dollar_tag_len(const char *start, const char *p)
{
	const char *q = p + 1;
	if (p > start && is_ident_char(p[-1]))
		return 0;
	if (isdigit((unsigned char)*q))
		return 0; /* $1 is a parameter */
	while (is_ident_char(*q))
		q++;
	return *q == '$' ? (size_t)(q - p) + 1 : 0;
}

static const char *skip_dollar(const char *p, size_t tag)
{
	for (const char *q = p + tag; *q; q++) {
		if (*q == '$' && strncmp(q, p, tag) == 0)
			return q + tag;
	}
	return NULL;
}

static bool is_escape_string(const char *start, const char *p)
{
	return p > start && (p[-1] == 'E' || p[-1] == 'e') && (p - 1 == start || !is_ident_char(p[-2]));
}

/* Skips a quoted token at p (string, identifier, dollar quote); NULL if unterminated, p if none. */
static const char *skip_token(const char *start, const char *p)
{
	size_t tag;
	if (*p == '\'')
		return skip_quoted(p, '\'', is_escape_string(start, p));
	if (*p == '"')
		return skip_quoted(p, '"', false);
	if (*p == '$' && (tag = dollar_tag_len(start, p)) > 0)
		return skip_dollar(p, tag);
	return p + 1;
}

pl_cli_sql_state pl_cli_sql_state_of(const char *sql)
{
	const char *p = sql;
	bool any = false, complete = false;
	while (p && *p) {
		if (isspace((unsigned char)*p)) {
			p++;
		} else if (p[0] == '-' && p[1] == '-') {
			p += strcspn(p, "\n");
		} else if (p[0] == '/' && p[1] == '*') {
			p = skip_block_comment(p);
			if (!p)
				return PL_CLI_SQL_INCOMPLETE;
		} else {
			any = true;
			complete = *p == ';';
			p = skip_token(sql, p);
			if (!p)
				return PL_CLI_SQL_INCOMPLETE;
		}
	}
	if (!any)
		return PL_CLI_SQL_EMPTY;
	return complete ? PL_CLI_SQL_COMPLETE : PL_CLI_SQL_INCOMPLETE;
}

/* ---------------------------------------------------------------------------------------------
 * Errors, timing, output width
 * ------------------------------------------------------------------------------------------- */

static int report(pl_cli_shell *sh, int rc, const char *msg)
{
	fprintf(sh->err, "Error: %s\n", msg && *msg ? msg : "unknown error");
	fflush(sh->err);
	return rc ? rc : PLANAR_ERROR;
}

static int report_code(pl_cli_shell *sh, int rc)
{
	const char *msg = rc == PLANAR_ENOMEM ? "out of memory"
	                  : rc == PLANAR_EIO  ? "could not write the output"
	                                      : "could not read a value of the result";
	return report(sh, rc, msg);
}

typedef struct pl_cli_clock {
	struct timespec wall;
	struct rusage usage;
} pl_cli_clock;

static void clock_now(pl_cli_clock *c)
{
	clock_gettime(CLOCK_MONOTONIC, &c->wall);
	getrusage(RUSAGE_SELF, &c->usage);
}

static double tv_seconds(struct timeval a, struct timeval b)
{
	return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_usec - a.tv_usec) / 1e6;
}

static void print_timer(pl_cli_shell *sh, const pl_cli_clock *start)
{
	pl_cli_clock end;
	double real;
	clock_now(&end);
	real = (double)(end.wall.tv_sec - start->wall.tv_sec) + (double)(end.wall.tv_nsec - start->wall.tv_nsec) / 1e9;
	fprintf(sh->out, "Run Time (s): real %.3f user %.6f sys %.6f\n", real,
	        tv_seconds(start->usage.ru_utime, end.usage.ru_utime),
	        tv_seconds(start->usage.ru_stime, end.usage.ru_stime));
}

/* Box mode fits the terminal; output to a file or pipe is never truncated. */
static size_t output_width(const pl_cli_shell *sh)
{
	struct winsize ws;
	int fd = fileno(sh->out);
	if (sh->max_width)
		return sh->max_width;
	if (fd < 0 || !isatty(fd))
		return 0;
	if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 80)
		return ws.ws_col;
	return 80;
}

/* ---------------------------------------------------------------------------------------------
 * Running SQL
 * ------------------------------------------------------------------------------------------- */

/* First keyword of a statement (comments and blanks skipped), upper-cased into buf. */
static void leading_keyword(const char *sql, char *buf, size_t cap)
{
	const char *p = sql;
	size_t n = 0;
	for (;;) {
		const char *end = NULL;
		p += strspn(p, " \t\r\n");
		if (p[0] == '-' && p[1] == '-')
			end = p + strcspn(p, "\n");
		else if (p[0] == '/' && p[1] == '*')
			end = skip_block_comment(p);
		if (!end)
			break;
		p = end;
	}
	while (n + 1 < cap && isalpha((unsigned char)p[n])) {
		buf[n] = (char)toupper((unsigned char)p[n]);
		n++;
	}
	buf[n] = '\0';
}

/* DuckDB answers DDL and DML with a lone "Count" or "Success" column; like the duckdb CLI, only
 * statements that are queries (or have RETURNING, which changes the columns) print a result. */
static bool is_status_result(const char *sql, const planar_result *res)
{
	static const char *const queries[] = {"SELECT", "WITH", "FROM", "VALUES", "TABLE", "SHOW", "DESCRIBE",
	                                      "SUMMARIZE", "PRAGMA", "EXPLAIN", "CALL", ""};
	const char *name = planar_result_column_name(res, 0);
	char kw[16];
	if (planar_result_column_count(res) != 1 || !name || (strcmp(name, "Count") && strcmp(name, "Success")))
		return false;
	leading_keyword(sql, kw, sizeof kw);
	for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
		if (strcmp(kw, queries[i]) == 0)
			return false;
	}
	return true;
}

static int exec_statement(pl_cli_shell *sh, const char *sql)
{
	planar_result *res = NULL;
	pl_cli_clock start;
	pl_render_opts opts = sh->render;
	int rc;
	clock_now(&start);
	rc = planar_conn_query(sh->conn, sql, &res);
	if (rc != 0) {
		rc = report(sh, rc, planar_conn_errmsg(sh->conn));
	} else if (res) {
		opts.max_width = output_width(sh);
		rc = is_status_result(sql, res) ? 0 : pl_render_result(sh->out, res, &opts);
		planar_result_free(res);
		if (rc)
			report_code(sh, rc);
	}
	fflush(sh->out);
	if (sh->timer)
		print_timer(sh, &start);
	return rc;
}

/* Runs each statement of a script in turn, stopping at the first error. */
static int exec_sql(pl_cli_shell *sh, const char *sql)
{
	char **stmts = NULL;
	int rc = 0;
	if (sh->echo) {
		size_t len = strlen(sql);
		while (len > 0 && isspace((unsigned char)sql[len - 1]))
			len--;
		fprintf(sh->out, "%.*s\n", (int)(len < INT_MAX ? len : INT_MAX), sql);
	}
	if (planar_sql_split(&stmts, sql) != 0)
		return exec_statement(sh, sql); /* let the engine describe what is wrong */
	for (char **s = stmts; *s && rc == 0; s++)
		rc = exec_statement(sh, *s);
	planar_strv_free(stmts);
	return rc;
}

/* Runs a query made by a dot-command and hands back its result. */
static int query(pl_cli_shell *sh, const char *sql, planar_result **res)
{
	int rc = planar_conn_query(sh->conn, sql, res);
	if (rc != 0) {
		*res = NULL;
		return report(sh, rc, planar_conn_errmsg(sh->conn));
	}
	return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Dot-commands
 * ------------------------------------------------------------------------------------------- */

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
		return report_code(sh, PLANAR_ENOMEM);
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

static void close_output(pl_cli_shell *sh)
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
		close_output(sh);
		return 0;
	}
	f = fopen(argv[1], "w");
	if (!f) {
		fprintf(sh->err, "Error: cannot open \"%s\": %s\n", argv[1], strerror(errno));
		return PLANAR_EIO;
	}
	close_output(sh);
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
	size_t maxw = 1, width = output_width(sh), ncol, nrow;
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

static int objects_query(pl_cli_buf *b, const char *select, const char *pattern, bool indexes)
{
	int rc = buf_puts(b, select);
	rc = rc ? rc : buf_puts(b, " FROM (");
	rc = rc ? rc : buf_puts(b, pl_cli_objects_sql);
	rc = rc ? rc : buf_puts(b, ") WHERE db <> 'system' AND db NOT LIKE '\\_\\_%' ESCAPE '\\' AND name ILIKE ");
	rc = rc ? rc : buf_literal(b, pattern ? pattern : "%");
	rc = rc ? rc : buf_puts(b, indexes ? "" : " AND kind = 0");
	return rc ? rc : buf_puts(b, " ORDER BY db, sch, name, kind");
}

static int run_listing(pl_cli_shell *sh, const char *select, const char *pattern, bool indexes, char ***out,
                       size_t *n)
{
	pl_cli_buf sql = {0};
	planar_result *res = NULL;
	int rc = objects_query(&sql, select, pattern, indexes);
	*out = NULL;
	*n = 0;
	if (rc)
		rc = report_code(sh, rc);
	else if ((rc = query(sh, sql.data, &res)) == 0 && (rc = first_column(res, out, n)) != 0)
		rc = report_code(sh, rc);
	planar_result_free(res);
	buf_free(&sql);
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

static int run_dot(pl_cli_shell *sh, const char *line)
{
	char *copy = strdup(line), *argv[PL_CLI_MAX_ARGS + 1];
	const pl_cli_dot *d = NULL;
	int argc, rc;
	if (!copy)
		return report_code(sh, PLANAR_ENOMEM);
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

/* ---------------------------------------------------------------------------------------------
 * Shell lifetime and entry points
 * ------------------------------------------------------------------------------------------- */

int pl_cli_shell_open(pl_cli_shell *sh, const char *db_path, FILE *out, FILE *err)
{
	char *msg = NULL;
	int rc;
	memset(sh, 0, sizeof *sh);
	pl_render_opts_init(&sh->render);
	sh->out = out;
	sh->err = err;
	rc = planar_db_open(&sh->db, db_path, &msg);
	if (rc == 0)
		rc = planar_conn_open(&sh->conn, sh->db, &msg);
	if (rc != 0) {
		report(sh, rc, msg ? msg : "cannot open the query engine");
		planar_free(msg);
		pl_cli_shell_close(sh);
	}
	return rc;
}

void pl_cli_shell_close(pl_cli_shell *sh)
{
	if (sh->out_owned)
		close_output(sh);
	planar_conn_free(sh->conn);
	planar_db_free(sh->db);
	free(sh->nullvalue);
	sh->conn = NULL;
	sh->db = NULL;
	sh->nullvalue = NULL;
}

int pl_cli_shell_attach_lake(pl_cli_shell *sh, const char *uri, const char *data_path, const char *name)
{
	pl_cli_buf attach = {0}, use = {0};
	pl_cli_buf target = {0};
	int rc = strncmp(uri, "ducklake:", 9) == 0 ? 0 : buf_puts(&target, "ducklake:");
	rc = rc ? rc : buf_puts(&target, uri);
	rc = rc ? rc : buf_puts(&attach, "ATTACH ");
	rc = rc ? rc : buf_literal(&attach, target.data);
	rc = rc ? rc : buf_puts(&attach, " AS ");
	rc = rc ? rc : buf_ident(&attach, name);
	if (rc == 0 && data_path) {
		rc = buf_puts(&attach, " (DATA_PATH ");
		rc = rc ? rc : buf_literal(&attach, data_path);
		rc = rc ? rc : buf_puts(&attach, ")");
	}
	rc = rc ? rc : buf_puts(&use, "USE ");
	rc = rc ? rc : buf_ident(&use, name);
	if (rc)
		rc = report_code(sh, rc);
	else if ((rc = exec_statement(sh, attach.data)) == 0)
		rc = exec_statement(sh, use.data);
	buf_free(&attach);
	buf_free(&use);
	buf_free(&target);
	return rc;
}

static bool is_dot_line(const char *line)
{
	return line[strspn(line, " \t")] == '.';
}

int pl_cli_shell_run_command(pl_cli_shell *sh, const char *text)
{
	if (is_dot_line(text))
		return run_dot(sh, text);
	if (pl_cli_sql_state_of(text) == PL_CLI_SQL_EMPTY)
		return 0;
	return exec_sql(sh, text);
}

/* Runs the pending SQL when it is complete (or when flush is set, at end of input). */
static int run_pending(pl_cli_shell *sh, pl_cli_buf *pending, bool flush)
{
	pl_cli_sql_state state = pl_cli_sql_state_of(pending->data ? pending->data : "");
	int rc = 0;
	if (state == PL_CLI_SQL_EMPTY) {
		buf_clear(pending);
	} else if (state == PL_CLI_SQL_COMPLETE || flush) {
		rc = exec_sql(sh, pending->data);
		buf_clear(pending);
	}
	return rc;
}

/* Feeds one input line: a dot-command when nothing is pending, else more SQL. */
static int feed_line(pl_cli_shell *sh, pl_cli_buf *pending, const char *line)
{
	int rc;
	if (pending->len == 0 && is_dot_line(line))
		return run_dot(sh, line);
	rc = buf_puts(pending, line);
	rc = rc ? rc : buf_puts(pending, "\n");
	if (rc) {
		buf_clear(pending);
		return report_code(sh, rc);
	}
	return run_pending(sh, pending, false);
}

static void chomp(char *line, ssize_t *len)
{
	while (*len > 0 && (line[*len - 1] == '\n' || line[*len - 1] == '\r'))
		line[--*len] = '\0';
}

int pl_cli_shell_run_stream(pl_cli_shell *sh, FILE *in)
{
	pl_cli_buf pending = {0};
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc, first_error = 0;
	while (!sh->quit && (len = getline(&line, &cap, in)) >= 0) {
		chomp(line, &len);
		rc = feed_line(sh, &pending, line);
		first_error = first_error ? first_error : rc;
		if (rc && sh->bail)
			break;
	}
	if (!sh->quit && (!first_error || !sh->bail)) {
		rc = run_pending(sh, &pending, true);
		first_error = first_error ? first_error : rc;
	}
	free(line);
	buf_free(&pending);
	return first_error;
}

int pl_cli_shell_run_file(pl_cli_shell *sh, const char *path)
{
	FILE *f;
	int rc;
	if (sh->depth >= PL_CLI_MAX_DEPTH) {
		fprintf(sh->err, "Error: scripts nested too deeply at \"%s\"\n", path);
		return PLANAR_EINVALID;
	}
	f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (!f) {
		fprintf(sh->err, "Error: cannot open \"%s\": %s\n", path, strerror(errno));
		return PLANAR_EIO;
	}
	sh->depth++;
	rc = pl_cli_shell_run_stream(sh, f);
	sh->depth--;
	if (f != stdin)
		fclose(f);
	return rc;
}

/* ---------------------------------------------------------------------------------------------
 * The interactive loop
 * ------------------------------------------------------------------------------------------- */

static char *history_path(void)
{
	const char *home = getenv("HOME");
	pl_cli_buf b = {0};
	if (!home || !*home)
		return NULL;
	if (buf_puts(&b, home) || buf_puts(&b, "/") || buf_puts(&b, PL_CLI_HISTORY)) {
		buf_free(&b);
		return NULL;
	}
	return b.data;
}

/* Remembers a finished entry (newlines folded) and saves the history file right away. */
static void remember(const char *entry, const char *path)
{
	char *copy = strdup(entry);
	size_t len;
	if (!copy)
		return;
	for (char *p = copy; *p; p++) {
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	}
	len = strlen(copy);
	while (len > 0 && copy[len - 1] == ' ')
		copy[--len] = '\0';
	if (len > 0) {
		add_history(copy);
		if (path)
			write_history(path);
	}
	free(copy);
}

/* libedit needs a multibyte locale for non-ASCII input; prefers the user's, else C.UTF-8.
 * Returns whether the terminal speaks UTF-8. */
static bool setup_locale(void)
{
	setlocale(LC_CTYPE, "");
	if (strcmp(nl_langinfo(CODESET), "UTF-8") != 0 && !setlocale(LC_CTYPE, "C.UTF-8"))
		return false;
	return strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
}

int pl_cli_shell_interactive(pl_cli_shell *sh)
{
	pl_cli_buf pending = {0};
	char *hist = history_path();
	const char *more = setup_locale() ? PL_CLI_PROMPT_MORE : PL_CLI_PROMPT_MORE_ASCII;
	char *line;
	using_history();
	if (hist)
		read_history(hist);
	fprintf(sh->out, "planar %s\nEnter \".help\" for usage hints.\n", planar_version());
	while (!sh->quit && (line = readline(pending.len ? more : PL_CLI_PROMPT)) != NULL) {
		if (pending.len == 0 && is_dot_line(line)) {
			remember(line, hist);
			run_dot(sh, line);
		} else if (buf_puts(&pending, line) || buf_puts(&pending, "\n")) {
			report_code(sh, PLANAR_ENOMEM);
			buf_clear(&pending);
		} else if (pl_cli_sql_state_of(pending.data) == PL_CLI_SQL_COMPLETE) {
			remember(pending.data, hist);
			run_pending(sh, &pending, false);
		} else {
			run_pending(sh, &pending, false); /* drops input that was only comments */
		}
		free(line);
	}
	if (!sh->quit && pending.len) {
		remember(pending.data, hist);
		run_pending(sh, &pending, true);
	}
	if (!sh->quit)
		fputc('\n', sh->out);
	buf_free(&pending);
	free(hist);
	return 0;
}
