/*
 * sqltest_runner.h -- the state of one running .test file, shared by the runner's files.
 *
 * Private to sqltest_run.c (the runner: reporting FAIL lines, the database and connections,
 * dispatching records, the file's life), sqltest_exec.c (statement and query records),
 * sqltest_loop.c (loop and foreach) and sqltest_commands.c (the one-line commands). The rest of
 * the CLI only sees pl_sqltest_run_file() in sqltest.h.
 */
#ifndef PL_CLI_SQLTEST_RUNNER_H
#define PL_CLI_SQLTEST_RUNNER_H

#include "cli/sqltest.h"
#include "planar/planar.h"

typedef struct pl_sqltest_named_conn {
	char *name;
	planar_conn *conn;
} pl_sqltest_named_conn;

typedef struct pl_sqltest_runner {
	const pl_sqltest_opts *opts;
	const char *path;
	pl_sqltest_file file;
	planar_db *db;
	char *db_path;              /* `load` path; NULL = in-memory */
	planar_conn *conn;          /* default connection */
	planar_conn *aux;           /* private: regular expressions */
	pl_sqltest_named_conn *named;
	size_t nnamed;
	pl_sqltest_vars vars;
	pl_sqltest_strv labels;     /* query labels and their result hashes */
	pl_sqltest_strv label_hashes;
	pl_sqltest_strv ignore_errors;
	pl_sqltest_strv always_fail;
	char *test_dir;
	char *skip_reason;
	size_t failures;
	bool skipped;
	bool stop;
} pl_sqltest_runner;

/* ---- sqltest_run.c ---- */

/* Prints "FAIL file:line: ..." and counts the failure. */
void pl_sqltest_report(pl_sqltest_runner *r, size_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Reports running out of memory and stops the file. */
void pl_sqltest_report_oom(pl_sqltest_runner *r, size_t line);
/* Reports "what: <first line of msg>"; verbose mode prints the whole message under it. */
void pl_sqltest_report_msg(pl_sqltest_runner *r, size_t line, const char *what, const char *msg);
/* Prints text indented under a FAIL line (verbose mode). */
void pl_sqltest_print_indented(pl_sqltest_runner *r, const char *text);
/* Skips the rest of the file with the reason "what arg". */
void pl_sqltest_skip_file(pl_sqltest_runner *r, const char *what, const char *arg);
/* Opens a connection to the runner's database; on failure reports it and sets *out to NULL. */
bool pl_sqltest_open_conn(pl_sqltest_runner *r, size_t line, planar_conn **out);
/* Opens (or reopens) the database at path (NULL: in-memory) and its default connection. */
bool pl_sqltest_open_db(pl_sqltest_runner *r, size_t line, const char *path);
/* The record's connection: the default one or a named one (opened on first use); NULL after a
 * reported failure. */
planar_conn *pl_sqltest_conn_for(pl_sqltest_runner *r, const pl_sqltest_record *rec);
/* Runs records [lo, hi) of the file, skipping over loop bodies (loops run their own). */
void pl_sqltest_run_range(pl_sqltest_runner *r, size_t lo, size_t hi);

/* ---- sqltest_exec.c ---- */

void pl_sqltest_exec_statement(pl_sqltest_runner *r, const pl_sqltest_record *rec);
void pl_sqltest_exec_query(pl_sqltest_runner *r, const pl_sqltest_record *rec);

/* ---- sqltest_loop.c ---- */

/* Runs the body of the LOOP/FOREACH record at idx once per value. */
void pl_sqltest_exec_loop(pl_sqltest_runner *r, size_t idx);

/* ---- sqltest_commands.c ---- */

void pl_sqltest_exec_require(pl_sqltest_runner *r, const pl_sqltest_record *rec);
void pl_sqltest_exec_require_env(pl_sqltest_runner *r, const pl_sqltest_record *rec);
void pl_sqltest_exec_test_env(pl_sqltest_runner *r, const pl_sqltest_record *rec);
void pl_sqltest_exec_load(pl_sqltest_runner *r, const pl_sqltest_record *rec);
void pl_sqltest_exec_reconnect(pl_sqltest_runner *r, const pl_sqltest_record *rec);
void pl_sqltest_exec_sleep(pl_sqltest_runner *r, const pl_sqltest_record *rec);
void pl_sqltest_exec_unzip(pl_sqltest_runner *r, const pl_sqltest_record *rec);
void pl_sqltest_exec_set(pl_sqltest_runner *r, const pl_sqltest_record *rec);

#endif
