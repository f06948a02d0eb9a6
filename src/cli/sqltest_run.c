/*
 * sqltest_run.c -- runs one sqllogictest file against Planar.
 *
 * Owns the life of one test file: reading and parsing it, its {TEST_DIR} and built-in
 * variables, the planar_db with its default and named connections, the FAIL lines and the
 * file's verdict, skipif/onlyif and dispatching each record to its kind's code: statements and
 * queries in sqltest_exec.c, loops in sqltest_loop.c, the one-line commands in
 * sqltest_commands.c (all sharing pl_sqltest_runner, sqltest_runner.h).
 */
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/sqltest_runner.h"
#include "planar/errors.h"
#include "planar/planar.h"

#define MSG_MAX 300 /* bytes of an error message shown in a FAIL line */

/* ---- reporting ---- */

void pl_sqltest_report(pl_sqltest_runner *r, size_t line, const char *fmt, ...)
{
	va_list ap;
	fprintf(r->opts->out, "FAIL %s:%zu: ", r->path, line);
	va_start(ap, fmt);
	vfprintf(r->opts->out, fmt, ap);
	va_end(ap);
	fputc('\n', r->opts->out);
	r->failures++;
}

void pl_sqltest_report_oom(pl_sqltest_runner *r, size_t line)
{
	pl_sqltest_report(r, line, "out of memory");
	r->stop = true;
}

/* The first line of an engine message, escaped and cut to MSG_MAX bytes. */
static char *first_line(const char *msg)
{
	pl_cli_buf b = {0};
	if (!msg || !msg[0])
		msg = "(no message)";
	size_t n = strcspn(msg, "\n");
	char *line = pl_sqltest_strndup(msg, n);
	pl_cli_buf_puts(&b, "");
	if (line)
		pl_cli_buf_put_escaped(&b, line, MSG_MAX);
	free(line);
	return line ? pl_cli_buf_detach(&b) : (pl_cli_buf_dispose(&b), NULL);
}

/* Prints text indented under a FAIL line (verbose mode). */
void pl_sqltest_print_indented(pl_sqltest_runner *r, const char *text)
{
	for (const char *line = text; *line;) {
		size_t n = strcspn(line, "\n");
		fprintf(r->opts->out, "    %.*s\n", (int)n, line);
		line += n + (line[n] == '\n');
	}
}

void pl_sqltest_report_msg(pl_sqltest_runner *r, size_t line, const char *what, const char *msg)
{
	char *text = first_line(msg);
	pl_sqltest_report(r, line, "%s: %s", what, text ? text : "(out of memory)");
	free(text);
	if (r->opts->verbose && msg && strchr(msg, '\n'))
		pl_sqltest_print_indented(r, msg);
}

void pl_sqltest_skip_file(pl_sqltest_runner *r, const char *what, const char *arg)
{
	pl_cli_buf b = {0};
	pl_cli_buf_printf(&b, "%s %s", what, arg);
	free(r->skip_reason);
	r->skip_reason = pl_cli_buf_detach(&b);
	r->skipped = true;
	r->stop = true;
}

/* ---- database and connections ---- */

static void close_conns(pl_sqltest_runner *r)
{
	for (size_t i = 0; i < r->nnamed; i++) {
		planar_conn_free(r->named[i].conn);
		free(r->named[i].name);
	}
	free(r->named);
	r->named = NULL;
	r->nnamed = 0;
	planar_conn_free(r->aux);
	planar_conn_free(r->conn);
	r->aux = r->conn = NULL;
}

static void close_db(pl_sqltest_runner *r)
{
	close_conns(r);
	planar_db_free(r->db);
	r->db = NULL;
}

bool pl_sqltest_open_conn(pl_sqltest_runner *r, size_t line, planar_conn **out)
{
	char *err = NULL;
	if (planar_conn_open(out, r->db, &err) == 0)
		return true;
	pl_sqltest_report_msg(r, line, "cannot open a connection", err);
	planar_free(err);
	*out = NULL;
	return false;
}

/* Opens (or reopens) the database at path (NULL: in-memory) and its default connection. */
bool pl_sqltest_open_db(pl_sqltest_runner *r, size_t line, const char *path)
{
	char *err = NULL;
	close_db(r);
	if (planar_db_open(&r->db, path, &err) != 0) {
		pl_sqltest_report_msg(r, line, "cannot open the database", err);
		planar_free(err);
		r->db = NULL;
		r->stop = true;
		return false;
	}
	if (!pl_sqltest_open_conn(r, line, &r->conn)) {
		r->stop = true;
		return false;
	}
	return true;
}

static planar_conn *named_conn_get(pl_sqltest_runner *r, const pl_sqltest_record *rec)
{
	char *name = pl_sqltest_subst(&r->vars, rec->conn_name);
	if (!name) {
		pl_sqltest_report_oom(r, rec->line);
		return NULL;
	}
	for (size_t i = 0; i < r->nnamed; i++) {
		if (strcmp(r->named[i].name, name) == 0) {
			free(name);
			return r->named[i].conn;
		}
	}
	pl_sqltest_named_conn *v = realloc(r->named, (r->nnamed + 1) * sizeof *v);
	planar_conn *conn = NULL;
	if (!v || !pl_sqltest_open_conn(r, rec->line, &conn)) {
		if (!v)
			pl_sqltest_report_oom(r, rec->line);
		r->named = v ? v : r->named;
		free(name);
		return NULL;
	}
	r->named = v;
	r->named[r->nnamed++] = (pl_sqltest_named_conn){name, conn};
	return conn;
}

planar_conn *pl_sqltest_conn_for(pl_sqltest_runner *r, const pl_sqltest_record *rec)
{
	if (!rec->conn_name)
		return r->conn;
	return named_conn_get(r, rec);
}

/* ---- dispatch ---- */

static void exec_record(pl_sqltest_runner *r, size_t idx)
{
	const pl_sqltest_record *rec = &r->file.recs[idx];
	switch (rec->kind) {
	case PL_SQLTEST_INVALID:
		pl_sqltest_report(r, rec->line, "%s", rec->error);
		r->stop = true;
		break;
	case PL_SQLTEST_STATEMENT: pl_sqltest_exec_statement(r, rec); break;
	case PL_SQLTEST_QUERY: pl_sqltest_exec_query(r, rec); break;
	case PL_SQLTEST_LOOP:
	case PL_SQLTEST_FOREACH: pl_sqltest_exec_loop(r, idx); break;
	case PL_SQLTEST_REQUIRE: pl_sqltest_exec_require(r, rec); break;
	case PL_SQLTEST_REQUIRE_ENV: pl_sqltest_exec_require_env(r, rec); break;
	case PL_SQLTEST_TEST_ENV: pl_sqltest_exec_test_env(r, rec); break;
	case PL_SQLTEST_LOAD: pl_sqltest_exec_load(r, rec); break;
	case PL_SQLTEST_RESTART: pl_sqltest_open_db(r, rec->line, r->db_path); break;
	case PL_SQLTEST_RECONNECT: pl_sqltest_exec_reconnect(r, rec); break;
	case PL_SQLTEST_SLEEP: pl_sqltest_exec_sleep(r, rec); break;
	case PL_SQLTEST_UNZIP: pl_sqltest_exec_unzip(r, rec); break;
	case PL_SQLTEST_HALT: r->stop = true; break;
	case PL_SQLTEST_SET: pl_sqltest_exec_set(r, rec); break;
	case PL_SQLTEST_ENDLOOP:
	case PL_SQLTEST_NOOP: break;
	}
}

/* 1: run the record, 0: skip it (skipif/onlyif), -1: a condition could not be evaluated. */
static int conditions_allow(pl_sqltest_runner *r, const pl_sqltest_record *rec)
{
	for (size_t i = 0; i < rec->nconds; i++) {
		char *why = NULL;
		int rc = pl_sqltest_cond_runs(&r->vars, &rec->conds[i], &why);
		if (rc < 0)
			pl_sqltest_report(r, rec->line, "%s", why ? why : "out of memory");
		free(why);
		if (rc != 1)
			return rc;
	}
	return 1;
}

void pl_sqltest_run_range(pl_sqltest_runner *r, size_t lo, size_t hi)
{
	for (size_t i = lo; i < hi && !r->stop; i++) {
		const pl_sqltest_record *rec = &r->file.recs[i];
		bool loop = rec->kind == PL_SQLTEST_LOOP || rec->kind == PL_SQLTEST_FOREACH;
		/* a malformed record is reported even behind skipif/onlyif: parsing stopped there */
		if (rec->kind == PL_SQLTEST_INVALID || conditions_allow(r, rec) == 1)
			exec_record(r, i);
		if (loop)
			i = rec->end;
	}
}

/* ---- the file ---- */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static bool make_test_dir(pl_sqltest_runner *r)
{
	const char *tmp = getenv("TMPDIR");
	pl_cli_buf b = {0};
	pl_cli_buf_printf(&b, "%s/planar-test-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	r->test_dir = pl_cli_buf_detach(&b);
	if (r->test_dir && mkdtemp(r->test_dir))
		return true;
	pl_sqltest_report(r, 0, "cannot create a test directory: %s",
		r->test_dir ? strerror(errno) : "out of memory");
	free(r->test_dir);
	r->test_dir = NULL;
	return false;
}

static void remove_test_dir(pl_sqltest_runner *r)
{
	const char *keep = getenv("PLANAR_TEST_KEEP");
	if (!r->test_dir)
		return;
	if (keep && strcmp(keep, "1") == 0)
		fprintf(stderr, "%s: kept TEST_DIR %s\n", r->path, r->test_dir);
	else
		nftw(r->test_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char *base_test_name(const char *path)
{
	char *s = pl_sqltest_strdup(path);
	for (char *p = s; p && *p; p++)
		if (*p == '/')
			*p = '_';
	return s;
}

static int define_builtin_vars(pl_sqltest_runner *r)
{
	char cwd[4096];
	char *base = base_test_name(r->path);
	int rc = base ? 0 : PLANAR_ENOMEM;
	for (size_t i = 0; rc == 0 && i < r->opts->nenv; i++) {
		const char *eq = strchr(r->opts->env[i], '=');
		char *name = eq ? pl_sqltest_strndup(r->opts->env[i], (size_t)(eq - r->opts->env[i])) : NULL;
		rc = !eq ? 0 : name ? pl_sqltest_vars_set(&r->vars, name, eq + 1) : PLANAR_ENOMEM;
		free(name);
	}
	if (rc == 0)
		rc = pl_sqltest_vars_set(&r->vars, "TEST_DIR", r->test_dir);
	if (rc == 0)
		rc = pl_sqltest_vars_set(&r->vars, "TEST_NAME", r->path);
	if (rc == 0)
		rc = pl_sqltest_vars_set(&r->vars, "BASE_TEST_NAME", base);
	if (rc == 0)
		rc = pl_sqltest_vars_set(&r->vars, "WORKING_DIRECTORY", getcwd(cwd, sizeof cwd) ? cwd : ".");
	if (rc == 0)
		rc = pl_sqltest_strv_push(&r->always_fail, "INTERNAL Error");
	free(base);
	return rc;
}

static char *read_file(const char *path, int *err)
{
	FILE *f = fopen(path, "rb");
	pl_cli_buf b = {0};
	char chunk[8192];
	size_t n;
	*err = 0;
	if (!f) {
		*err = errno;
		return NULL;
	}
	pl_cli_buf_puts(&b, "");
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		pl_cli_buf_put(&b, chunk, n);
	if (ferror(f))
		*err = EIO;
	fclose(f);
	if (*err || b.oom || memchr(b.ptr, '\0', b.len)) {
		*err = *err ? *err : b.oom ? ENOMEM : EINVAL;
		pl_cli_buf_dispose(&b);
		return NULL;
	}
	return pl_cli_buf_detach(&b);
}

static bool load_file(pl_sqltest_runner *r)
{
	int err;
	char *text = read_file(r->path, &err);
	if (!text) {
		pl_sqltest_report(r, 0, "cannot read the file: %s",
			err == EINVAL ? "it contains NUL bytes" : strerror(err));
		return false;
	}
	int rc = pl_sqltest_parse(text, &r->file);
	free(text);
	if (rc != 0)
		pl_sqltest_report(r, 0, "out of memory while parsing");
	return rc == 0;
}

static void runner_dispose(pl_sqltest_runner *r)
{
	close_db(r);
	remove_test_dir(r);
	free(r->test_dir);
	free(r->db_path);
	pl_sqltest_file_free(&r->file);
	pl_sqltest_vars_free(&r->vars);
	pl_sqltest_strv_free(&r->labels);
	pl_sqltest_strv_free(&r->label_hashes);
	pl_sqltest_strv_free(&r->ignore_errors);
	pl_sqltest_strv_free(&r->always_fail);
}

pl_sqltest_status pl_sqltest_run_file(const char *path, const pl_sqltest_opts *opts, char **reason)
{
	pl_sqltest_runner r = {0};
	r.opts = opts;
	r.path = path;
	*reason = NULL;
	if (load_file(&r) && make_test_dir(&r)) {
		if (define_builtin_vars(&r) != 0)
			pl_sqltest_report_oom(&r, 0);
		else if (pl_sqltest_open_db(&r, 0, NULL))
			pl_sqltest_run_range(&r, 0, r.file.n);
	}
	pl_sqltest_status st = r.failures ? PL_SQLTEST_FAILED
			     : r.skipped ? PL_SQLTEST_SKIPPED : PL_SQLTEST_PASSED;
	if (st == PL_SQLTEST_SKIPPED) {
		*reason = r.skip_reason;
		r.skip_reason = NULL;
	}
	free(r.skip_reason);
	runner_dispose(&r);
	return st;
}
