/*
 * shell.h -- the `planar` SQL shell: state, script execution, the REPL and dot-commands.
 *
 * A pl_cli_shell owns one planar_db and planar_conn plus the user's settings (output mode,
 * .bail/.echo/.timer, ...). Everything runs through it: -c strings, script files, piped stdin and
 * the interactive line editor. Functions return 0 on success or a PLANAR_E* code after having
 * printed "Error: ..." to the shell's error stream; none of them aborts the process.
 */
#ifndef PLANAR_CLI_SHELL_H
#define PLANAR_CLI_SHELL_H

#include <stdbool.h>
#include <stdio.h>

#include "cli/render.h"
#include "planar/planar.h"

typedef struct pl_cli_shell {
	planar_db *db;
	planar_conn *conn;
	pl_render_opts render;
	char *nullvalue;   /* owned copy behind render.nullvalue, NULL while it is the default */
	FILE *out;         /* stdout or the file of .output */
	FILE *err;
	bool out_owned;    /* out was opened by .output and must be closed */
	bool interactive;  /* prompts and history; errors never stop the session */
	bool bail;         /* scripts stop at the first error */
	bool echo;         /* print each statement before running it */
	bool timer;        /* print "Run Time (s): ..." after each statement */
	bool quit;         /* .quit / .exit was run */
	int exit_code;     /* code given to .exit */
	size_t max_width;  /* .maxwidth; 0 = terminal width, unlimited when not a terminal */
	int depth;         /* nesting of .read */
} pl_cli_shell;

/* Whether SQL text is ready to run: complete when it ends with ';' outside quotes and comments. */
typedef enum pl_cli_sql_state { PL_CLI_SQL_EMPTY, PL_CLI_SQL_INCOMPLETE, PL_CLI_SQL_COMPLETE } pl_cli_sql_state;
pl_cli_sql_state pl_cli_sql_state_of(const char *sql);

/* Opens an in-memory engine (db_path NULL) and a connection; out/err are usually stdout/stderr. */
int pl_cli_shell_open(pl_cli_shell *sh, const char *db_path, FILE *out, FILE *err);
void pl_cli_shell_close(pl_cli_shell *sh);

/* ATTACH 'ducklake:URI' AS name (DATA_PATH 'dir'); USE name. data_path may be NULL. */
int pl_cli_shell_attach_lake(pl_cli_shell *sh, const char *uri, const char *data_path, const char *name);

/* Runs SQL (any number of statements) or, when it starts with '.', one dot-command. */
int pl_cli_shell_run_command(pl_cli_shell *sh, const char *text);

/* Runs a script read from `in`; with bail set it stops at the first error. */
int pl_cli_shell_run_stream(pl_cli_shell *sh, FILE *in);
int pl_cli_shell_run_file(pl_cli_shell *sh, const char *path);

/* The interactive loop on the terminal (libedit), until Ctrl-D or .quit. */
int pl_cli_shell_interactive(pl_cli_shell *sh);

#endif
