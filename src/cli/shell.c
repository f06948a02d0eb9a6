/*
 * shell.c -- the `planar` SQL shell, behaving like the duckdb/sqlite CLI.
 *
 * Owns: the shell state's lifetime, --lake's ATTACH, running statements one by one with
 * rendering, .timer and .echo, script execution with .bail semantics and the libedit REPL with
 * ~/.planar_history. Dot-commands are in shell_dot.c, telling when SQL text is complete in
 * shell_sqltext.c. Errors are printed as "Error: ..." on the error stream and returned as
 * PLANAR_E* codes; nothing here aborts on bad input.
 */
#include "cli/shell.h"

#include <ctype.h>
#include <errno.h>
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <editline/readline.h>

#include "cli/shell_internal.h"

#define PL_CLI_PROMPT "P "
#define PL_CLI_PROMPT_MORE "\302\267 " /* "· " on UTF-8 terminals */
#define PL_CLI_PROMPT_MORE_ASCII "> "
#define PL_CLI_HISTORY ".planar_history"
#define PL_CLI_MAX_DEPTH 16

/* ---------------------------------------------------------------------------------------------
 * Errors, timing, output width
 * ------------------------------------------------------------------------------------------- */

int pl_cli_shell_report(pl_cli_shell *sh, int rc, const char *msg)
{
	fprintf(sh->err, "Error: %s\n", msg && *msg ? msg : "unknown error");
	fflush(sh->err);
	return rc ? rc : PLANAR_ERROR;
}

int pl_cli_shell_report_code(pl_cli_shell *sh, int rc)
{
	const char *msg = rc == PLANAR_ENOMEM ? "out of memory"
	                  : rc == PLANAR_EIO  ? "could not write the output"
	                                      : "could not read a value of the result";
	return pl_cli_shell_report(sh, rc, msg);
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

size_t pl_cli_shell_output_width(const pl_cli_shell *sh)
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
	pl_cli_sql_leading_keyword(sql, kw, sizeof kw);
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
	/* results stream in: csv, json, line, list and markdown write rows as they arrive, box
	 * keeps only the rows it shows, so results of any size take little memory */
	rc = planar_conn_query_stream(sh->conn, sql, &res);
	if (rc != 0) {
		rc = pl_cli_shell_report(sh, rc, planar_conn_errmsg(sh->conn));
	} else if (res) {
		opts.max_width = pl_cli_shell_output_width(sh);
		rc = is_status_result(sql, res) ? 0 : pl_render_result(sh->out, res, &opts);
		if (rc && planar_result_errmsg(res)[0]) {
			fflush(sh->out);
			pl_cli_shell_report(sh, rc, planar_result_errmsg(res));
		} else if (rc) {
			pl_cli_shell_report_code(sh, rc);
		}
		planar_result_free(res);
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

int pl_cli_shell_query(pl_cli_shell *sh, const char *sql, planar_result **res)
{
	int rc = planar_conn_query(sh->conn, sql, res);
	if (rc != 0) {
		*res = NULL;
		return pl_cli_shell_report(sh, rc, planar_conn_errmsg(sh->conn));
	}
	return 0;
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
		pl_cli_shell_report(sh, rc, msg ? msg : "cannot open the query engine");
		planar_free(msg);
		pl_cli_shell_close(sh);
	}
	return rc;
}

void pl_cli_shell_close(pl_cli_shell *sh)
{
	if (sh->out_owned)
		pl_cli_shell_close_output(sh);
	planar_conn_free(sh->conn);
	planar_db_free(sh->db);
	free(sh->nullvalue);
	sh->conn = NULL;
	sh->db = NULL;
	sh->nullvalue = NULL;
}

/* A bare identifier when it is one, else "quoted" with embedded quotes doubled. */
static void put_ident(pl_cli_buf *b, const char *s)
{
	bool plain = *s && !isdigit((unsigned char)*s);
	for (const char *p = s; plain && *p; p++)
		plain = pl_cli_sql_ident_char(*p);
	if (plain)
		pl_cli_buf_puts(b, s);
	else
		pl_cli_buf_put_quoted(b, s, '"');
}

int pl_cli_shell_attach_lake(pl_cli_shell *sh, const char *uri, const char *data_path, const char *name)
{
	pl_cli_buf target = {0}, attach = {0}, use = {0};
	int rc;
	if (strncmp(uri, "ducklake:", 9) != 0)
		pl_cli_buf_puts(&target, "ducklake:");
	pl_cli_buf_puts(&target, uri);
	pl_cli_buf_puts(&attach, "ATTACH ");
	pl_cli_buf_put_quoted(&attach, target.oom ? "" : target.ptr, '\'');
	pl_cli_buf_puts(&attach, " AS ");
	put_ident(&attach, name);
	if (data_path) {
		pl_cli_buf_puts(&attach, " (DATA_PATH ");
		pl_cli_buf_put_quoted(&attach, data_path, '\'');
		pl_cli_buf_puts(&attach, ")");
	}
	pl_cli_buf_puts(&use, "USE ");
	put_ident(&use, name);
	if (target.oom || attach.oom || use.oom)
		rc = pl_cli_shell_report_code(sh, PLANAR_ENOMEM);
	else if ((rc = exec_statement(sh, attach.ptr)) == 0)
		rc = exec_statement(sh, use.ptr);
	pl_cli_buf_dispose(&target);
	pl_cli_buf_dispose(&attach);
	pl_cli_buf_dispose(&use);
	return rc;
}

static bool is_dot_line(const char *line)
{
	return line[strspn(line, " \t")] == '.';
}

int pl_cli_shell_run_command(pl_cli_shell *sh, const char *text)
{
	if (is_dot_line(text))
		return pl_cli_shell_run_dot(sh, text);
	if (pl_cli_sql_state_of(text) == PL_CLI_SQL_EMPTY)
		return 0;
	return exec_sql(sh, text);
}

/* Runs the pending SQL when it is complete (or when flush is set, at end of input). */
static int run_pending(pl_cli_shell *sh, pl_cli_buf *pending, bool flush)
{
	pl_cli_sql_state state = pl_cli_sql_state_of(pending->ptr ? pending->ptr : "");
	int rc = 0;
	if (state == PL_CLI_SQL_EMPTY) {
		pl_cli_buf_clear(pending);
	} else if (state == PL_CLI_SQL_COMPLETE || flush) {
		rc = exec_sql(sh, pending->ptr);
		pl_cli_buf_clear(pending);
	}
	return rc;
}

/* Appends an input line and its newline to the pending SQL; false when out of memory. */
static bool append_line(pl_cli_buf *pending, const char *line)
{
	pl_cli_buf_puts(pending, line);
	pl_cli_buf_putc(pending, '\n');
	return !pending->oom;
}

/* Feeds one input line: a dot-command when nothing is pending, else more SQL. */
static int feed_line(pl_cli_shell *sh, pl_cli_buf *pending, const char *line)
{
	if (pending->len == 0 && is_dot_line(line))
		return pl_cli_shell_run_dot(sh, line);
	if (!append_line(pending, line)) {
		pl_cli_buf_clear(pending);
		return pl_cli_shell_report_code(sh, PLANAR_ENOMEM);
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
	pl_cli_buf_dispose(&pending);
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
	pl_cli_buf_printf(&b, "%s/%s", home, PL_CLI_HISTORY);
	return pl_cli_buf_detach(&b);
}

/* Whether an entry creates a secret (CREATE [OR REPLACE] [PERSISTENT|TEMPORARY] SECRET ...). */
static bool holds_secret(const char *entry)
{
	const char *p = entry + strspn(entry, " \t");
	if (strncasecmp(p, "CREATE", 6) != 0)
		return false;
	for (const char *q = p; (q = strcasestr(q, "SECRET")) != NULL; q += 6)
		if ((q[6] == ' ' || q[6] == '(' || q[6] == '\0') && (q[-1] == ' ' || q[-1] == '\t'))
			return true;
	return false;
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
	if (holds_secret(copy)) /* a CREATE SECRET's keys never reach the history file */
		len = 0;
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
			pl_cli_shell_run_dot(sh, line);
		} else if (!append_line(&pending, line)) {
			pl_cli_shell_report_code(sh, PLANAR_ENOMEM);
			pl_cli_buf_clear(&pending);
		} else if (pl_cli_sql_state_of(pending.ptr) == PL_CLI_SQL_COMPLETE) {
			remember(pending.ptr, hist);
			run_pending(sh, &pending, false);
		} else {
			run_pending(sh, &pending, false); /* drops input that was only comments */
		}
		free(line);
	}
	if (!sh->quit && pending.len) {
		remember(pending.ptr, hist);
		run_pending(sh, &pending, true);
	}
	if (!sh->quit)
		fputc('\n', sh->out);
	pl_cli_buf_dispose(&pending);
	free(hist);
	return 0;
}
