/*
 * sqltest.h -- the sqllogictest runner behind `planar test FILE...` (DuckDB's ".test" dialect).
 *
 * Owns the types shared by its parts: small string helpers (sqltest_util.c; text is built in the
 * CLI's pl_cli_buf, strbuf.h), parsing a file into records (sqltest_parse.c), test variables and
 * ${...} substitution (sqltest_vars.c), formatting/sorting/comparing results (sqltest_compare.c),
 * running records on a planar_conn (sqltest_run.c with sqltest_exec.c, sqltest_loop.c and
 * sqltest_commands.c, which share sqltest_runner.h) and the command line (cmd_test.c). Only the
 * public planar.h API is used.
 *
 * Writing tests/sql files. Variables are written ${NAME} or {NAME}; a name not defined is left
 * as written. Always defined: {TEST_DIR} (a fresh directory per file, removed afterwards unless
 * PLANAR_TEST_KEEP=1; __TEST_DIR__ too), {UUID} (a new UUID at each occurrence), {TEST_NAME},
 * {BASE_TEST_NAME}, __WORKING_DIRECTORY__. `test-env NAME default` defines NAME from
 * `planar test --env NAME=VALUE`, else from the process environment, else the default; plain
 * `--env` variables are visible to every file too. One file thus runs on every catalog kind:
 *
 *     test-env DUCKLAKE_PREFIX ducklake:
 *
 *     statement ok
 *     ATTACH '${DUCKLAKE_PREFIX}{TEST_DIR}/meta.db' AS lake (DATA_PATH '{TEST_DIR}/data')
 *
 *     onlyif CATALOG=sqlite
 *     query I
 *     ...
 *
 * and the suite runs `planar test --env DUCKLAKE_PREFIX=ducklake:sqlite: --env CATALOG=sqlite`
 * for the SQLite catalog. `skipif NAME=VALUE` / `onlyif NAME<>VALUE` test variables (also < > <=
 * >=, joined by &&); `skipif X` / `onlyif X` with a plain name test the engine: planar and
 * duckdb are both "us".
 */
#ifndef PL_CLI_SQLTEST_H
#define PL_CLI_SQLTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli/strbuf.h"

/* ---- sqltest_util.c: string vectors and small string helpers ------------------------------- */

/* A vector of owned strings. */
typedef struct pl_sqltest_strv {
	char **v;
	size_t n;
	size_t cap;
} pl_sqltest_strv;

/* Appends a copy of s (or of its first n bytes); 0 or PLANAR_ENOMEM. */
int pl_sqltest_strv_push(pl_sqltest_strv *sv, const char *s);
int pl_sqltest_strv_pushn(pl_sqltest_strv *sv, const char *s, size_t n);
/* Appends s itself, taking ownership (freed on failure). */
int pl_sqltest_strv_push_owned(pl_sqltest_strv *sv, char *s);
/* Removes and frees the last `count` entries. */
void pl_sqltest_strv_pop(pl_sqltest_strv *sv, size_t count);
/* Splits s at every `sep` (empty fields kept). */
int pl_sqltest_strv_split(pl_sqltest_strv *out, const char *s, char sep);
void pl_sqltest_strv_free(pl_sqltest_strv *sv);
char *pl_sqltest_strdup(const char *s);
char *pl_sqltest_strndup(const char *s, size_t n);
bool pl_sqltest_starts_with(const char *s, const char *prefix);
/* Parses a whole decimal integer (optional sign, surrounding blanks); false if not one. */
bool pl_sqltest_parse_long(const char *s, long long *out);

/* ---- sqltest_parse.c: a .test file as records ---------------------------------------------- */

typedef enum pl_sqltest_kind {
	PL_SQLTEST_INVALID,     /* malformed input: `error` says why; running stops there */
	PL_SQLTEST_STATEMENT,   /* statement ok|error|maybe [connection] */
	PL_SQLTEST_QUERY,       /* query <types> [sort|connection] [label] */
	PL_SQLTEST_LOOP,        /* loop / concurrentloop NAME START END */
	PL_SQLTEST_FOREACH,     /* foreach / concurrentforeach NAME VALUE... */
	PL_SQLTEST_ENDLOOP,
	PL_SQLTEST_REQUIRE,     /* require X [arg] */
	PL_SQLTEST_REQUIRE_ENV, /* require-env VAR [value] */
	PL_SQLTEST_TEST_ENV,    /* test-env VAR default */
	PL_SQLTEST_LOAD,        /* load [path] [readonly|readwrite] */
	PL_SQLTEST_RESTART,
	PL_SQLTEST_RECONNECT,
	PL_SQLTEST_SLEEP,       /* sleep N unit */
	PL_SQLTEST_UNZIP,       /* unzip SRC.gz [DST] */
	PL_SQLTEST_HALT,
	PL_SQLTEST_SET,         /* set seed X | set ignore_error_messages ... | set always_fail_... */
	PL_SQLTEST_NOOP,        /* accepted and ignored: hash-threshold, mode output_*, tags, reset */
} pl_sqltest_kind;

typedef enum pl_sqltest_expect {
	PL_SQLTEST_EXPECT_OK,
	PL_SQLTEST_EXPECT_ERROR,
	PL_SQLTEST_EXPECT_MAYBE, /* statement maybe / debug: any outcome but an internal error */
} pl_sqltest_expect;

typedef enum pl_sqltest_sort {
	PL_SQLTEST_NOSORT,
	PL_SQLTEST_ROWSORT,
	PL_SQLTEST_VALUESORT,
} pl_sqltest_sort;

/* One `skipif X` / `onlyif X` line in front of a record. */
typedef struct pl_sqltest_cond {
	bool skip_if;
	char *text;
} pl_sqltest_cond;

typedef struct pl_sqltest_record {
	pl_sqltest_kind kind;
	size_t line;              /* 1-based line of the command word */
	pl_sqltest_strv args;     /* words after the command word */
	pl_sqltest_cond *conds;
	size_t nconds;
	char *sql;                /* STATEMENT/QUERY: the SQL, lines joined with '\n' */
	pl_sqltest_strv expected; /* lines after ----: result rows, or error message lines */
	bool has_dashes;          /* a ---- line was present */
	pl_sqltest_expect expect; /* STATEMENT */
	char *conn_name;          /* STATEMENT/QUERY: named connection or NULL for the default */
	char *types;              /* QUERY: one letter per column */
	pl_sqltest_sort sort;     /* QUERY */
	char *label;              /* QUERY: label or NULL */
	size_t end;               /* LOOP/FOREACH: index of the matching ENDLOOP record */
	char *error;              /* INVALID: what is wrong */
} pl_sqltest_record;

typedef struct pl_sqltest_file {
	pl_sqltest_record *recs;
	size_t n;
	size_t cap;
} pl_sqltest_file;

/* Parses the text of a .test file. Malformed input never fails the call: parsing stops at an
 * INVALID record, which is the last one. Returns 0, or PLANAR_ENOMEM (file left empty). */
int pl_sqltest_parse(const char *text, pl_sqltest_file *out);
void pl_sqltest_file_free(pl_sqltest_file *f);

/* ---- sqltest_vars.c: variables and substitution -------------------------------------------- */

/* Name/value pairs; later entries shadow earlier ones (loops push and pop). */
typedef struct pl_sqltest_vars {
	pl_sqltest_strv names;
	pl_sqltest_strv values;
} pl_sqltest_vars;

/* Defines or replaces NAME. */
int pl_sqltest_vars_set(pl_sqltest_vars *vars, const char *name, const char *value);
/* Adds a shadowing entry (see pl_sqltest_vars_pop). */
int pl_sqltest_vars_push(pl_sqltest_vars *vars, const char *name, const char *value);
void pl_sqltest_vars_pop(pl_sqltest_vars *vars, size_t count);
const char *pl_sqltest_vars_get(const pl_sqltest_vars *vars, const char *name);
void pl_sqltest_vars_free(pl_sqltest_vars *vars);
/* Replaces ${NAME}, {NAME}, {UUID}, __TEST_DIR__ and __WORKING_DIRECTORY__ in text; values are
 * themselves substituted (a few levels deep). Returns a new string or NULL when out of memory. */
char *pl_sqltest_subst(const pl_sqltest_vars *vars, const char *text);
/* Writes a random version-4 UUID (36 characters and a NUL). */
void pl_sqltest_uuid(char out[37]);
/* Evaluates one skipif/onlyif condition text: 1 = the record runs, 0 = it is skipped, -1 = the
 * condition names an undefined variable or is malformed (*why says which; caller frees). */
int pl_sqltest_cond_runs(const pl_sqltest_vars *vars, const pl_sqltest_cond *cond, char **why);

/* ---- sqltest_compare.c: results as text and their comparison -------------------------------- */

typedef enum pl_sqltest_coltype {
	PL_SQLTEST_COL_TEXT,  /* compared as text only */
	PL_SQLTEST_COL_EXACT, /* integers and decimals: numerically equal */
	PL_SQLTEST_COL_FLOAT, /* FLOAT/DOUBLE: equal within 1% (as DuckDB's runner) */
	PL_SQLTEST_COL_BOOL,  /* true/1 and false/0 are equal */
} pl_sqltest_coltype;

/* A query result as the runner prints it: NULL as "NULL", '' as "(empty)". */
typedef struct pl_sqltest_table {
	size_t ncols;
	size_t nrows;
	char **cells;               /* nrows * ncols, row-major */
	char **names;               /* ncols column names */
	pl_sqltest_coltype *types;  /* ncols */
} pl_sqltest_table;

/* Matches `text` against a full-match regular expression; returns 0 and sets *matched, or a
 * negative code when the pattern is invalid or matching failed. */
typedef int (*pl_sqltest_regex_fn)(void *ud, const char *pattern, const char *text, bool *matched);

typedef struct pl_sqltest_matcher {
	pl_sqltest_regex_fn fn; /* NULL: <REGEX>: patterns never match */
	void *ud;
} pl_sqltest_matcher;

/* The type class of a column from its SQL type text and numeric flag. */
pl_sqltest_coltype pl_sqltest_coltype_of(const char *sql_type, bool numeric);
/* A value as DuckDB's runner prints it: raw NULL (SQL NULL) -> "NULL", "" -> "(empty)", and
 * BOOLEAN true/false -> 1/0 (which matters for valuesort and hashes; comparison accepts both). */
char *pl_sqltest_format_value(const char *raw, pl_sqltest_coltype type);
/* Allocates an empty table of the given shape (cells NULL); 0 or PLANAR_ENOMEM. */
int pl_sqltest_table_init(pl_sqltest_table *t, size_t ncols, size_t nrows);
void pl_sqltest_table_free(pl_sqltest_table *t);
void pl_sqltest_table_sort(pl_sqltest_table *t, pl_sqltest_sort sort);
/* Writes the table as .test result lines (values joined by tabs). */
int pl_sqltest_table_format(const pl_sqltest_table *t, pl_cli_buf *out);
/* One value against its expectation (plain text, <REGEX>:pattern, <!REGEX>:pattern). */
bool pl_sqltest_value_matches(const char *actual, const char *expected, pl_sqltest_coltype type,
	const pl_sqltest_matcher *m);
/* Checks a result against a query's expected lines (row-wise or one value per line).
 * Returns 1 on a match, 0 on a mismatch with *why set (caller frees), PLANAR_ENOMEM. */
int pl_sqltest_check_result(const pl_sqltest_table *t, size_t declared_cols,
	const pl_sqltest_strv *expected, const pl_sqltest_matcher *m, char **why);
/* Checks an error message against `statement error`'s expectation (NULL or "": any error).
 * Returns 1 on a match, 0 on a mismatch with *why set, PLANAR_ENOMEM. */
int pl_sqltest_check_error(const char *errmsg, const char *expected, const pl_sqltest_matcher *m,
	char **why);
/* True for "N values hashing to <md5>" result lines. */
bool pl_sqltest_is_hash_line(const char *line);
/* The table's values hashed as DuckDB's runner does: "N values hashing to <md5 hex>". */
char *pl_sqltest_table_hash(const pl_sqltest_table *t);
/* MD5 of data as 32 lowercase hex digits and a NUL. */
void pl_sqltest_md5_hex(const void *data, size_t len, char out[33]);

/* ---- sqltest_run.c: running files ------------------------------------------------------------ */

typedef struct pl_sqltest_opts {
	const char *const *env; /* "NAME=VALUE" predefined variables */
	size_t nenv;
	bool verbose;           /* also print the actual result under a failed query */
	FILE *out;              /* where FAIL lines go */
} pl_sqltest_opts;

typedef enum pl_sqltest_status {
	PL_SQLTEST_PASSED,
	PL_SQLTEST_FAILED,
	PL_SQLTEST_SKIPPED, /* stopped by require / require-env */
} pl_sqltest_status;

/* Runs one file: prints "FAIL file:line: ..." for each failure, and when skipped sets *reason
 * (caller frees; may stay NULL). */
pl_sqltest_status pl_sqltest_run_file(const char *path, const pl_sqltest_opts *opts, char **reason);

/* ---- cmd_test.c ---------------------------------------------------------------------------- */

/* `planar test [-v] [--env NAME=VALUE]... FILE|DIR...`; argv[0] is "test". Returns the exit
 * code: 0 when nothing failed, 1 when something did, 2 on a usage error. */
int pl_cli_test_main(int argc, char **argv);

#endif
