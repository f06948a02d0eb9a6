/*
 * main.c -- the `planar` command: its subcommands and the shell's command-line options.
 *
 * Owns the two declarative tables the command is made of: subcommands ({name, handler, help};
 * `planar test ...` goes to the SQL logic test runner) and shell options ({name, value, handler,
 * help}; -c, -csv, --lake, ...), the usage text generated from them, and the order in which
 * the shell runs things: --lake, -cmd, then -c strings and FILEs in command-line order, else
 * stdin (interactive on a terminal). The exit code is non-zero when a non-interactive run failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/blob.h"
#include "cli/maintain.h"
#include "cli/mcp.h"
#include "cli/shell.h"
#include "cli/sqltest.h"
#include "planar/planar.h"
#include "server/server.h"

/* ---------------------------------------------------------------------------------------------
 * Shell options
 * ------------------------------------------------------------------------------------------- */

typedef struct pl_cli_action {
	bool is_file; /* a script FILE, else a -c string */
	const char *text;
} pl_cli_action;

typedef struct pl_cli_args {
	pl_cli_action *actions; /* -c and FILE, in command-line order */
	size_t nactions;
	const char **init; /* -cmd */
	size_t ninit;
	const char *lake, *data_path, *lake_name;
	pl_render_opts render;
	bool bail, echo, help, version;
} pl_cli_args;

typedef struct pl_cli_option pl_cli_option;
typedef int (*pl_cli_opt_fn)(pl_cli_args *a, const pl_cli_option *opt, const char *value);

struct pl_cli_option {
	const char *name;  /* as shown; matched with any number of leading dashes */
	const char *alias; /* another name, or NULL */
	const char *value; /* name of the option's value, NULL for a flag */
	pl_cli_opt_fn fn;
	const char *help;
};

static int opt_command(pl_cli_args *a, const pl_cli_option *opt, const char *value)
{
	(void)opt;
	a->actions[a->nactions].is_file = false;
	a->actions[a->nactions++].text = value;
	return 0;
}

static int opt_init(pl_cli_args *a, const pl_cli_option *opt, const char *value)
{
	(void)opt;
	a->init[a->ninit++] = value;
	return 0;
}

static int opt_mode(pl_cli_args *a, const pl_cli_option *opt, const char *value)
{
	(void)value;
	return pl_render_mode_parse(opt->name + strspn(opt->name, "-"), &a->render.mode);
}

static int opt_flag(pl_cli_args *a, const pl_cli_option *opt, const char *value)
{
	const char *name = opt->name + strspn(opt->name, "-");
	(void)value;
	if (strcmp(name, "header") == 0 || strcmp(name, "noheader") == 0)
		a->render.headers = name[0] == 'h';
	else if (strcmp(name, "bail") == 0)
		a->bail = true;
	else if (strcmp(name, "echo") == 0)
		a->echo = true;
	else if (strcmp(name, "version") == 0)
		a->version = true;
	else
		a->help = true;
	return 0;
}

static int opt_value(pl_cli_args *a, const pl_cli_option *opt, const char *value)
{
	const char *name = opt->name + strspn(opt->name, "-");
	if (strcmp(name, "lake") == 0)
		a->lake = value;
	else if (strcmp(name, "data-path") == 0)
		a->data_path = value;
	else if (strcmp(name, "lake-name") == 0)
		a->lake_name = value;
	else
		a->render.nullvalue = value;
	return 0;
}

static const pl_cli_option pl_cli_options[] = {
	{"-c", NULL, "SQL", opt_command, "run SQL or a dot-command; repeatable, runs in order, then exits"},
	{"-cmd", NULL, "SQL", opt_init, "run SQL or a dot-command before the input (and stay interactive)"},
	{"--lake", NULL, "URI", opt_value, "open a lake first: ATTACH 'ducklake:URI' AS lake; USE lake"},
	{"--data-path", NULL, "DIR", opt_value, "DATA_PATH of the lake given with --lake"},
	{"--lake-name", NULL, "NAME", opt_value, "database name of the lake (default: lake)"},
	{"-box", NULL, NULL, opt_mode, "box output (the default)"},
	{"-csv", NULL, NULL, opt_mode, "csv output"},
	{"-json", NULL, NULL, opt_mode, "json output: an array of objects"},
	{"-line", NULL, NULL, opt_mode, "line output: one \"column = value\" per line"},
	{"-list", NULL, NULL, opt_mode, "list output: values separated by |"},
	{"-markdown", NULL, NULL, opt_mode, "markdown table output"},
	{"-header", NULL, NULL, opt_flag, "print column names in csv and list output (default)"},
	{"-noheader", NULL, NULL, opt_flag, "no column names in csv and list output"},
	{"-nullvalue", NULL, "TEXT", opt_value, "text printed for NULL (default: NULL)"},
	{"-bail", NULL, NULL, opt_flag, "stop at the first error (always so for scripts and -c)"},
	{"-echo", NULL, NULL, opt_flag, "print each command before running it"},
	{"--version", NULL, NULL, opt_flag, "print the version and exit"},
	{"--help", "-h", NULL, opt_flag, "show this help and exit"},
};

static const pl_cli_option *option_find(const char *arg, size_t len)
{
	for (size_t i = 0; i < sizeof pl_cli_options / sizeof pl_cli_options[0]; i++) {
		const char *names[2] = {pl_cli_options[i].name, pl_cli_options[i].alias};
		for (size_t k = 0; k < 2 && names[k]; k++) {
			const char *name = names[k] + strspn(names[k], "-");
			if (strlen(name) == len && strncmp(name, arg, len) == 0)
				return &pl_cli_options[i];
		}
	}
	return NULL;
}

/* Parses one option at argv[*i] ("-x", "--x", "--x=value", "-x value"); advances *i. */
static int parse_option(pl_cli_args *a, int argc, char **argv, int *i)
{
	const char *arg = argv[*i] + strspn(argv[*i], "-");
	const char *eq = strchr(arg, '=');
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
	const pl_cli_option *opt = option_find(arg, len);
	const char *value = NULL;
	if (!opt || (eq && !opt->value)) {
		fprintf(stderr, "Error: unknown option \"%s\"; see planar --help\n", argv[*i]);
		return PLANAR_EINVALID;
	}
	if (opt->value) {
		value = eq ? eq + 1 : (*i + 1 < argc ? argv[++*i] : NULL);
		if (!value) {
			fprintf(stderr, "Error: option %s needs a value (%s)\n", opt->name, opt->value);
			return PLANAR_EINVALID;
		}
	}
	if (opt->fn(a, opt, value) != 0) {
		fprintf(stderr, "Error: invalid option %s\n", argv[*i]);
		return PLANAR_EINVALID;
	}
	return 0;
}

static int parse_args(pl_cli_args *a, int argc, char **argv)
{
	bool only_files = false;
	memset(a, 0, sizeof *a);
	pl_render_opts_init(&a->render);
	a->lake_name = "lake";
	a->actions = calloc((size_t)argc + 1, sizeof *a->actions);
	a->init = calloc((size_t)argc + 1, sizeof *a->init);
	if (!a->actions || !a->init) {
		fprintf(stderr, "Error: out of memory\n");
		return PLANAR_ENOMEM;
	}
	for (int i = 1; i < argc; i++) {
		if (!only_files && strcmp(argv[i], "--") == 0) {
			only_files = true;
		} else if (!only_files && argv[i][0] == '-' && argv[i][1] != '\0') {
			if (parse_option(a, argc, argv, &i) != 0)
				return PLANAR_EINVALID;
		} else {
			a->actions[a->nactions].is_file = true;
			a->actions[a->nactions++].text = argv[i];
		}
	}
	if (a->data_path && !a->lake) {
		fprintf(stderr, "Error: --data-path needs --lake\n");
		return PLANAR_EINVALID;
	}
	return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Subcommands and usage
 * ------------------------------------------------------------------------------------------- */

typedef int (*pl_cli_main_fn)(int argc, char **argv);

typedef struct pl_cli_subcommand {
	const char *name;
	pl_cli_main_fn fn;
	const char *help;
} pl_cli_subcommand;

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

static const pl_cli_subcommand pl_cli_subcommands[] = {
	{"test", pl_cli_test_main, "run SQL logic test files (planar test --help)"},
	{"maintain", pl_cli_maintain_main, "a lake's upkeep, once or on a schedule (planar maintain --help)"},
	{"blob", pl_cli_blob_main, "versioned datasets and checkpoints (planar blob --help)"},
	{"serve", pl_server_serve_main, "the data-plane HTTP service (planar serve --help)"},
	{"token", pl_server_token_main, "API tokens of the HTTP service: create, list, revoke"},
	{"mcp", pl_cli_mcp_main, "the lake's MCP server for agents, on stdin/stdout (planar mcp --help)"},
	{"version", cmd_version, "print the version"},
	{"help", cmd_help, "show this help"},
};

static void print_usage(FILE *out)
{
	fputs("Usage: planar [OPTIONS] [FILE.sql ...]\n"
	      "       planar COMMAND [ARGS ...]\n\n"
	      "The Planar SQL shell: DuckDB SQL with DuckLake lakes. On a terminal it is interactive;\n"
	      "otherwise it runs the -c commands and FILEs in order (or standard input) as scripts,\n"
	      "stopping at the first error with a non-zero exit code. A FILE named like a COMMAND\n"
	      "must be written with a path, e.g. ./test.\n\nOptions:\n",
	      out);
	for (size_t i = 0; i < sizeof pl_cli_options / sizeof pl_cli_options[0]; i++) {
		const pl_cli_option *o = &pl_cli_options[i];
		char left[40];
		snprintf(left, sizeof left, "%s%s%s%s%s", o->name, o->alias ? ", " : "", o->alias ? o->alias : "",
		         o->value ? " " : "", o->value ? o->value : "");
		fprintf(out, "  %-18s %s\n", left, o->help);
	}
	fputs("\nCommands:\n", out);
	for (size_t i = 0; i < sizeof pl_cli_subcommands / sizeof pl_cli_subcommands[0]; i++)
		fprintf(out, "  %-18s %s\n", pl_cli_subcommands[i].name, pl_cli_subcommands[i].help);
	fputs("\nIn the shell, enter \".help\" for the dot-commands.\n", out);
}

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	print_usage(stdout);
	return 0;
}

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("planar %s\n", planar_version());
	return 0;
}

/* ---------------------------------------------------------------------------------------------
 * The shell
 * ------------------------------------------------------------------------------------------- */

/* Runs the -cmd strings, then the -c strings and files; returns the first error. */
static int run_actions(pl_cli_shell *sh, const pl_cli_args *a)
{
	int first = 0;
	for (size_t i = 0; i < a->ninit && !sh->quit; i++) {
		int rc = pl_cli_shell_run_command(sh, a->init[i]);
		first = first ? first : rc;
		if (rc && sh->bail)
			return first;
	}
	for (size_t i = 0; i < a->nactions && !sh->quit; i++) {
		const pl_cli_action *act = &a->actions[i];
		int rc = act->is_file ? pl_cli_shell_run_file(sh, act->text) : pl_cli_shell_run_command(sh, act->text);
		first = first ? first : rc;
		if (rc && sh->bail)
			return first;
	}
	return first;
}

static int run_shell(pl_cli_shell *sh, const pl_cli_args *a)
{
	int rc;
	if (a->lake && pl_cli_shell_attach_lake(sh, a->lake, a->data_path, a->lake_name) != 0)
		return 1;
	sh->echo = a->echo;
	rc = run_actions(sh, a);
	if (sh->quit)
		return sh->exit_code;
	if (rc && sh->bail)
		return 1;
	if (a->nactions == 0)
		rc = sh->interactive ? pl_cli_shell_interactive(sh) : (pl_cli_shell_run_stream(sh, stdin) || rc);
	if (sh->quit)
		return sh->exit_code;
	return rc ? 1 : 0;
}

static int shell_main(int argc, char **argv)
{
	pl_cli_args a;
	pl_cli_shell sh;
	int rc = parse_args(&a, argc, argv);
	if (rc == 0 && (a.help || a.version)) {
		if (a.help)
			print_usage(stdout);
		else
			printf("planar %s\n", planar_version());
	} else if (rc == 0 && (rc = pl_cli_shell_open(&sh, NULL, stdout, stderr)) == 0) {
		sh.render = a.render;
		sh.interactive = a.nactions == 0 && isatty(STDIN_FILENO);
		sh.bail = a.bail || !sh.interactive;
		rc = run_shell(&sh, &a);
		pl_cli_shell_close(&sh);
	} else {
		rc = 1;
	}
	free(a.actions);
	free(a.init);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		for (size_t i = 0; i < sizeof pl_cli_subcommands / sizeof pl_cli_subcommands[0]; i++) {
			if (strcmp(argv[1], pl_cli_subcommands[i].name) == 0)
				return pl_cli_subcommands[i].fn(argc - 1, argv + 1);
		}
	}
	return shell_main(argc, argv);
}
