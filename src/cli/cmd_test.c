/*
 * cmd_test.c -- the `planar test` subcommand: runs sqllogictest files and sums them up.
 *
 * Owns the command line (-v, --env NAME=VALUE, files and directories searched for *.test),
 * the per-file status lines of -v, the closing "N passed, N failed, N skipped" line (counted per
 * file) and the exit code. Running a file is pl_sqltest_run_file() in sqltest_run.c.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/sqltest.h"
#include "planar/errors.h"

#define MAX_DIR_DEPTH 32

typedef struct test_args {
	pl_sqltest_strv files;
	pl_sqltest_strv env;
	bool verbose;
} test_args;

static void usage(FILE *out)
{
	fputs("usage: planar test [-v] [--env NAME=VALUE]... FILE|DIR...\n"
	      "Runs sqllogictest (.test) files; a directory means every *.test file below it.\n"
	      "  -v, --verbose       print each file's status and the actual result of failed queries\n"
	      "  --env NAME=VALUE    define the test variable NAME (${NAME} / {NAME}); repeatable\n"
	      "Environment: TMPDIR (where {TEST_DIR} is made), PLANAR_TEST_KEEP=1 (keep it).\n",
	      out);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int add_path(pl_sqltest_strv *files, const char *path, int depth);

/* Adds the *.test files under dir, in name order. */
static int add_dir(pl_sqltest_strv *files, const char *dir, int depth)
{
	pl_sqltest_strv names = {0};
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;
	if (!d)
		return pl_sqltest_strv_push(files, dir); /* reported as unreadable when run */
	while (rc == 0 && (e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			rc = pl_sqltest_strv_push(&names, e->d_name);
	closedir(d);
	if (names.n > 1)
		qsort(names.v, names.n, sizeof *names.v, cmp_str);
	for (size_t i = 0; rc == 0 && i < names.n; i++) {
		pl_cli_buf b = {0};
		pl_cli_buf_printf(&b, "%s%s%s", dir, ends_with(dir, "/") ? "" : "/", names.v[i]);
		char *path = pl_cli_buf_detach(&b);
		struct stat st;
		if (!path)
			rc = PLANAR_ENOMEM;
		else if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			rc = add_path(files, path, depth + 1);
		else if (ends_with(path, ".test"))
			rc = pl_sqltest_strv_push(files, path);
		free(path);
	}
	pl_sqltest_strv_free(&names);
	return rc;
}

static int add_path(pl_sqltest_strv *files, const char *path, int depth)
{
	struct stat st;
	if (depth < MAX_DIR_DEPTH && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return add_dir(files, path, depth);
	return depth == 0 ? pl_sqltest_strv_push(files, path) : 0;
}

static bool valid_env(const char *s)
{
	const char *eq = strchr(s, '=');
	return eq && eq != s;
}

/* 0: run; 1: print usage and exit 0; 2: usage error; PLANAR_ENOMEM. */
static int parse_args(int argc, char **argv, test_args *a)
{
	bool options = true;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *env = NULL;
		int rc = 0;
		if (options && strcmp(arg, "--") == 0)
			options = false;
		else if (options && (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0))
			return 1;
		else if (options && (strcmp(arg, "-v") == 0 || strcmp(arg, "--verbose") == 0))
			a->verbose = true;
		else if (options && strcmp(arg, "--env") == 0)
			env = i + 1 < argc ? argv[++i] : "";
		else if (options && pl_sqltest_starts_with(arg, "--env="))
			env = arg + 6;
		else if (options && arg[0] == '-' && arg[1] != '\0') {
			fprintf(stderr, "planar test: unknown option '%s'\n", arg);
			return 2;
		} else
			rc = add_path(&a->files, arg, 0);
		if (env && !valid_env(env)) {
			fprintf(stderr, "planar test: --env wants NAME=VALUE, not '%s'\n", env);
			return 2;
		}
		if (env)
			rc = pl_sqltest_strv_push(&a->env, env);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static void print_status(const char *path, pl_sqltest_status st, const char *reason)
{
	if (st == PL_SQLTEST_PASSED)
		printf("%s: passed\n", path);
	else if (st == PL_SQLTEST_FAILED)
		printf("%s: failed\n", path);
	else
		printf("%s: skipped (%s)\n", path, reason ? reason : "require");
}

static int run_all(const test_args *a)
{
	pl_sqltest_opts opts = {(const char *const *)a->env.v, a->env.n, a->verbose, stdout};
	size_t counts[3] = {0, 0, 0};
	for (size_t i = 0; i < a->files.n; i++) {
		char *reason = NULL;
		pl_sqltest_status st = pl_sqltest_run_file(a->files.v[i], &opts, &reason);
		counts[st]++;
		if (a->verbose)
			print_status(a->files.v[i], st, reason);
		free(reason);
		fflush(stdout);
	}
	printf("%zu passed, %zu failed, %zu skipped\n", counts[PL_SQLTEST_PASSED],
		counts[PL_SQLTEST_FAILED], counts[PL_SQLTEST_SKIPPED]);
	return counts[PL_SQLTEST_FAILED] ? 1 : 0;
}

int pl_cli_test_main(int argc, char **argv)
{
	test_args a = {0};
	int rc = parse_args(argc, argv, &a);
	if (rc == 0 && a.files.n == 0) {
		fputs("planar test: no test files given\n", stderr);
		rc = 2;
	}
	if (rc == 1 || rc == 2)
		usage(rc == 1 ? stdout : stderr);
	if (rc == PLANAR_ENOMEM)
		fputs("planar test: out of memory\n", stderr);
	if (rc == 0)
		rc = run_all(&a);
	else
		rc = rc == 1 ? 0 : 2;
	pl_sqltest_strv_free(&a.files);
	pl_sqltest_strv_free(&a.env);
	return rc;
}
