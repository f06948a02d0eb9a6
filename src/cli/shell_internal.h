/*
 * shell_internal.h -- what the shell's files share and the rest of the CLI does not see.
 *
 * shell.c (lifetime, running SQL, scripts, the REPL) provides error reporting, the output
 * width and queries for dot-commands; shell_dot.c (the dot-commands) provides running one and
 * closing a .output file; shell_sqltext.c (reading SQL text) provides the leading keyword and
 * identifier characters. The public side is shell.h.
 */
#ifndef PLANAR_CLI_SHELL_INTERNAL_H
#define PLANAR_CLI_SHELL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "cli/shell.h"
#include "cli/strbuf.h"
#include "planar/planar.h"

/* ---- shell.c ---- */

/* Prints "Error: msg" on the error stream; returns rc, or PLANAR_ERROR when rc is 0. */
int pl_cli_shell_report(pl_cli_shell *sh, int rc, const char *msg);
/* pl_cli_shell_report() with the message for a PLANAR_E* code (out of memory, output, value). */
int pl_cli_shell_report_code(pl_cli_shell *sh, int rc);
/* Width box output must fit: .maxwidth, else the terminal's, 0 (unlimited) for files and pipes. */
size_t pl_cli_shell_output_width(const pl_cli_shell *sh);
/* Runs a query made by a dot-command and hands back its result; reports a failure. */
int pl_cli_shell_query(pl_cli_shell *sh, const char *sql, planar_result **res);

/* ---- shell_dot.c ---- */

/* Runs one dot-command line (leading blanks allowed, then '.'). */
int pl_cli_shell_run_dot(pl_cli_shell *sh, const char *line);
/* Closes a file opened by .output and goes back to stdout. */
void pl_cli_shell_close_output(pl_cli_shell *sh);

/* ---- shell_sqltext.c ---- */

/* First keyword of a statement (comments and blanks skipped), upper-cased into buf. */
void pl_cli_sql_leading_keyword(const char *sql, char *buf, size_t cap);
/* Letters, digits and '_'. */
bool pl_cli_sql_ident_char(char c);

#endif
