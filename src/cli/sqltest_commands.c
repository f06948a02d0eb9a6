/*
 * sqltest_commands.c -- the one-line commands of a sqllogictest file.
 *
 * Owns require (features Planar has), require-env and test-env (variables from --env or the
 * environment), load (a database file) and reconnect, sleep, unzip (gzip -dc into {TEST_DIR})
 * and set (ignore_error_messages, always_fail_error_messages, seed). restart is reopening the
 * database, which sqltest_run.c does.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/sqltest_runner.h"
#include "planar/errors.h"
#include "planar/planar.h"

extern char **environ;

static const char *opt_env(const pl_sqltest_runner *r, const char *name)
{
	size_t len = strlen(name);
	for (size_t i = r->opts->nenv; i-- > 0;)
		if (strncmp(r->opts->env[i], name, len) == 0 && r->opts->env[i][len] == '=')
			return r->opts->env[i] + len + 1;
	return getenv(name);
}

/* Whether a `require` holds. no_extension_autoloading is not among them: it asks for an engine in
 * which an extension (parquet, say) can be missing until loaded, and Planar's engine always has
 * its extensions, so a file that needs one to be missing does not apply. */
static bool require_satisfied(const pl_sqltest_record *rec)
{
	static const char *const present[] = {"ducklake", "parquet", "json", "icu", "notwindows",
		"notmingw", "notmusl", "64bit", "skip_reload", "nothreadsan", "noforcestorage",
		"no_alternative_verify", "noalternativeverify", "no_latest_storage",
		"no_vector_verification", "strinline", "allow_unsigned_extensions"};
	const char *what = rec->args.v[0];
	long long n;
	for (size_t i = 0; i < sizeof present / sizeof present[0]; i++)
		if (strcasecmp(what, present[i]) == 0)
			return true;
	if (rec->args.n == 2 && pl_sqltest_parse_long(rec->args.v[1], &n)) {
		if (strcasecmp(what, "vector_size") == 0)
			return n <= 2048;
		if (strcasecmp(what, "exact_vector_size") == 0)
			return n == 2048;
	}
	return false;
}

void pl_sqltest_exec_require(pl_sqltest_runner *r, const pl_sqltest_record *rec)
{
	if (!require_satisfied(rec))
		pl_sqltest_skip_file(r, "require", rec->args.v[0]);
}

void pl_sqltest_exec_require_env(pl_sqltest_runner *r, const pl_sqltest_record *rec)
{
	const char *name = rec->args.v[0], *value = opt_env(r, name);
	if (!value || (rec->args.n == 2 && strcmp(value, rec->args.v[1]) != 0)) {
		pl_sqltest_skip_file(r, "require-env", name);
		return;
	}
	if (pl_sqltest_vars_set(&r->vars, name, value) != 0)
		pl_sqltest_report_oom(r, rec->line);
}

/* As in DuckDB's runner, the value is expanded once, when read: a {UUID} in it names one file
 * for the whole test, so a test can detach its lake and attach the same one again. */
void pl_sqltest_exec_test_env(pl_sqltest_runner *r, const pl_sqltest_record *rec)
{
	const char *name = rec->args.v[0], *value = opt_env(r, name);
	char *expanded = value ? NULL : pl_sqltest_subst(&r->vars, rec->args.v[1]);
	if ((!value && !expanded) || pl_sqltest_vars_set(&r->vars, name, value ? value : expanded) != 0)
		pl_sqltest_report_oom(r, rec->line);
	free(expanded);
}

static void remove_db_files(const char *path)
{
	pl_cli_buf wal = {0};
	pl_cli_buf_printf(&wal, "%s.wal", path);
	unlink(path);
	if (!wal.oom)
		unlink(wal.ptr);
	pl_cli_buf_dispose(&wal);
}

void pl_sqltest_exec_load(pl_sqltest_runner *r, const pl_sqltest_record *rec)
{
	bool readonly = rec->args.n > 1 && strcasecmp(rec->args.v[1], "readonly") == 0;
	if (rec->args.n > 1 && !readonly && strcasecmp(rec->args.v[1], "readwrite") != 0) {
		pl_sqltest_report(r, rec->line, "load takes readonly or readwrite, not '%s'", rec->args.v[1]);
		return;
	}
	char *path = rec->args.n > 0 ? pl_sqltest_subst(&r->vars, rec->args.v[0]) : NULL;
	if (rec->args.n > 0 && !path) {
		pl_sqltest_report_oom(r, rec->line);
		return;
	}
	if (path && !readonly)
		remove_db_files(path);
	free(r->db_path);
	r->db_path = path;
	pl_sqltest_open_db(r, rec->line, path);
}

void pl_sqltest_exec_reconnect(pl_sqltest_runner *r, const pl_sqltest_record *rec)
{
	planar_conn_free(r->conn);
	r->conn = NULL;
	if (!pl_sqltest_open_conn(r, rec->line, &r->conn))
		r->stop = true;
}

void pl_sqltest_exec_sleep(pl_sqltest_runner *r, const pl_sqltest_record *rec)
{
	static const struct { const char *unit; long long ns; } units[] = {
		{"second", 1000000000LL}, {"millisecond", 1000000LL}, {"microsecond", 1000LL},
		{"nanosecond", 1LL}};
	const char *unit = rec->args.v[1];
	long long n = 0;
	(void)pl_sqltest_parse_long(rec->args.v[0], &n);
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		size_t len = strlen(units[i].unit);
		if (strncmp(unit, units[i].unit, len) != 0 || (unit[len] && strcmp(unit + len, "s") != 0))
			continue;
		long long ns = n > (long long)(1LL << 62) / units[i].ns ? (1LL << 62) : n * units[i].ns;
		struct timespec ts = {(time_t)(ns / 1000000000LL), (long)(ns % 1000000000LL)};
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
		return;
	}
	pl_sqltest_report(r, rec->line, "unknown sleep unit '%s' (second, millisecond, microsecond, nanosecond)",
		unit);
}

/* Runs `gzip -dc src > dst`; returns the failure text or NULL. */
static const char *gunzip(const char *src, const char *dst)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status = 0;
	char *argv[] = {"gzip", "-dc", (char *)src, NULL};
	if (posix_spawn_file_actions_init(&fa) != 0)
		return "cannot start gzip";
	int rc = posix_spawn_file_actions_addopen(&fa, 1, dst, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (rc == 0)
		rc = posix_spawnp(&pid, "gzip", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return "cannot start gzip";
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? NULL : "gzip -dc failed";
}

static char *unzip_target(pl_sqltest_runner *r, const pl_sqltest_record *rec, const char *src)
{
	if (rec->args.n == 2 && strcmp(rec->args.v[1], "NULL") != 0)
		return pl_sqltest_subst(&r->vars, rec->args.v[1]);
	const char *base = strrchr(src, '/');
	base = base ? base + 1 : src;
	pl_cli_buf b = {0};
	pl_cli_buf_printf(&b, "%s/%.*s", r->test_dir, (int)(strlen(base) - 3), base);
	return pl_cli_buf_detach(&b);
}

void pl_sqltest_exec_unzip(pl_sqltest_runner *r, const pl_sqltest_record *rec)
{
	char *src = pl_sqltest_subst(&r->vars, rec->args.v[0]), *dst = NULL;
	size_t len = src ? strlen(src) : 0;
	if (src && (len < 3 || strcmp(src + len - 3, ".gz") != 0))
		pl_sqltest_report(r, rec->line, "unzip: '%s' does not end in .gz", src);
	else if (!src || !(dst = unzip_target(r, rec, src)))
		pl_sqltest_report_oom(r, rec->line);
	else {
		const char *err = gunzip(src, dst);
		if (err)
			pl_sqltest_report(r, rec->line, "unzip %s -> %s: %s", src, dst, err);
	}
	free(src);
	free(dst);
}

/* `set ignore_error_messages a, b c` replaces the list with "a" and "b c". */
static int set_list(pl_sqltest_strv *list, const pl_sqltest_record *rec)
{
	pl_cli_buf all = {0};
	pl_sqltest_strv items = {0};
	for (size_t i = 1; i < rec->args.n; i++)
		pl_cli_buf_printf(&all, "%s%s", i > 1 ? " " : "", rec->args.v[i]);
	char *text = pl_cli_buf_detach(&all);
	int rc = text ? pl_sqltest_strv_split(&items, text, ',') : PLANAR_ENOMEM;
	free(text);
	pl_sqltest_strv_pop(list, list->n);
	for (size_t i = 0; rc == 0 && i < items.n; i++) {
		char *s = items.v[i];
		size_t n = strlen(s);
		while (*s == ' ')
			s++, n--;
		while (n > 0 && s[n - 1] == ' ')
			n--;
		rc = n > 0 ? pl_sqltest_strv_pushn(list, s, n) : 0;
	}
	pl_sqltest_strv_free(&items);
	return rc;
}

void pl_sqltest_exec_set(pl_sqltest_runner *r, const pl_sqltest_record *rec)
{
	const char *what = rec->args.v[0];
	int rc = 0;
	if (strcmp(what, "ignore_error_messages") == 0)
		rc = set_list(&r->ignore_errors, rec);
	else if (strcmp(what, "always_fail_error_messages") == 0)
		rc = set_list(&r->always_fail, rec);
	else if (strcmp(what, "seed") == 0 && rec->args.n == 2) {
		char sql[160];
		double seed = strtod(rec->args.v[1], NULL);
		snprintf(sql, sizeof sql, "SELECT setseed(%.17g)", seed);
		if (planar_conn_query(r->conn, sql, NULL) != 0)
			pl_sqltest_report_msg(r, rec->line, "set seed failed", planar_conn_errmsg(r->conn));
	} else
		pl_sqltest_report(r, rec->line, "unknown set parameter '%s'", what);
	if (rc != 0)
		pl_sqltest_report_oom(r, rec->line);
}

