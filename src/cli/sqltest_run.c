/*
 * sqltest_run.c -- runs parsed sqllogictest records against Planar.
 *
 * Owns the life of one test file: its {TEST_DIR}, the planar_db with its default and named
 * connections (restart, reconnect, load), variables set by --env/test-env/require-env/loops,
 * executing statement and query records, skipif/onlyif, require, unzip, sleep, set, and the
 * FAIL lines. Result checking itself is in sqltest_compare.c; <REGEX>: patterns are matched by
 * DuckDB's own regexp_full_match (RE2, as DuckDB's runner) on a private connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/sqltest.h"
#include "planar/errors.h"
#include "planar/planar.h"

extern char **environ;

#define MSG_MAX 300 /* bytes of an error message shown in a FAIL line */

typedef struct named_conn {
	char *name;
	planar_conn *conn;
} named_conn;

typedef struct runner {
	const pl_sqltest_opts *opts;
	const char *path;
	pl_sqltest_file file;
	planar_db *db;
	char *db_path;              /* `load` path; NULL = in-memory */
	planar_conn *conn;          /* default connection */
	planar_conn *aux;           /* private: regular expressions */
	named_conn *named;
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
} runner;

static void run_range(runner *r, size_t lo, size_t hi);

/* ---- reporting ---- */

static void report(runner *r, size_t line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void report(runner *r, size_t line, const char *fmt, ...)
{
	va_list ap;
	fprintf(r->opts->out, "FAIL %s:%zu: ", r->path, line);
	va_start(ap, fmt);
	vfprintf(r->opts->out, fmt, ap);
	va_end(ap);
	fputc('\n', r->opts->out);
	r->failures++;
}

static void report_oom(runner *r, size_t line)
{
	report(r, line, "out of memory");
	r->stop = true;
}

/* The first line of an engine message, escaped and cut to MSG_MAX bytes. */
static char *first_line(const char *msg)
{
	pl_sqltest_buf b = {0};
	if (!msg || !msg[0])
		msg = "(no message)";
	size_t n = strcspn(msg, "\n");
	char *line = pl_sqltest_strndup(msg, n);
	pl_sqltest_buf_puts(&b, "");
	if (line)
		pl_sqltest_buf_put_escaped(&b, line, MSG_MAX);
	free(line);
	return line ? pl_sqltest_buf_detach(&b) : (pl_sqltest_buf_dispose(&b), NULL);
}

/* Prints text indented under a FAIL line (verbose mode). */
static void print_indented(runner *r, const char *text)
{
	for (const char *line = text; *line;) {
		size_t n = strcspn(line, "\n");
		fprintf(r->opts->out, "    %.*s\n", (int)n, line);
		line += n + (line[n] == '\n');
	}
}

static void report_msg(runner *r, size_t line, const char *what, const char *msg)
{
	char *text = first_line(msg);
	report(r, line, "%s: %s", what, text ? text : "(out of memory)");
	free(text);
	if (r->opts->verbose && msg && strchr(msg, '\n'))
		print_indented(r, msg);
}

static void skip_file(runner *r, const char *what, const char *arg)
{
	pl_sqltest_buf b = {0};
	pl_sqltest_buf_printf(&b, "%s %s", what, arg);
	free(r->skip_reason);
	r->skip_reason = pl_sqltest_buf_detach(&b);
	r->skipped = true;
	r->stop = true;
}

/* ---- database and connections ---- */

static void close_conns(runner *r)
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

static void close_db(runner *r)
{
	close_conns(r);
	planar_db_free(r->db);
	r->db = NULL;
}

static bool open_conn(runner *r, size_t line, planar_conn **out)
{
	char *err = NULL;
	if (planar_conn_open(out, r->db, &err) == 0)
		return true;
	report_msg(r, line, "cannot open a connection", err);
	planar_free(err);
	*out = NULL;
	return false;
}

/* Opens (or reopens) the database at path (NULL: in-memory) and its default connection. */
static bool open_db(runner *r, size_t line, const char *path)
{
	char *err = NULL;
	close_db(r);
	if (planar_db_open(&r->db, path, &err) != 0) {
		report_msg(r, line, "cannot open the database", err);
		planar_free(err);
		r->db = NULL;
		r->stop = true;
		return false;
	}
	if (!open_conn(r, line, &r->conn)) {
		r->stop = true;
		return false;
	}
	return true;
}

static planar_conn *named_conn_get(runner *r, const pl_sqltest_record *rec)
{
	char *name = pl_sqltest_subst(&r->vars, rec->conn_name);
	if (!name) {
		report_oom(r, rec->line);
		return NULL;
	}
	for (size_t i = 0; i < r->nnamed; i++) {
		if (strcmp(r->named[i].name, name) == 0) {
			free(name);
			return r->named[i].conn;
		}
	}
	named_conn *v = realloc(r->named, (r->nnamed + 1) * sizeof *v);
	planar_conn *conn = NULL;
	if (!v || !open_conn(r, rec->line, &conn)) {
		if (!v)
			report_oom(r, rec->line);
		r->named = v ? v : r->named;
		free(name);
		return NULL;
	}
	r->named = v;
	r->named[r->nnamed++] = (named_conn){name, conn};
	return conn;
}

static planar_conn *conn_for(runner *r, const pl_sqltest_record *rec)
{
	if (!rec->conn_name)
		return r->conn;
	return named_conn_get(r, rec);
}

/* ---- regular expressions through DuckDB (RE2, like DuckDB's runner) ---- */

static void put_literal(pl_sqltest_buf *b, const char *s)
{
	pl_sqltest_buf_putc(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			pl_sqltest_buf_putc(b, '\'');
		pl_sqltest_buf_putc(b, *s);
	}
	pl_sqltest_buf_putc(b, '\'');
}

static int regex_match(void *ud, const char *pattern, const char *text, bool *matched)
{
	runner *r = ud;
	pl_sqltest_buf sql = {0};
	planar_result *res = NULL;
	*matched = false;
	if (!r->aux && planar_conn_open(&r->aux, r->db, NULL) != 0) {
		r->aux = NULL;
		return PLANAR_ERROR;
	}
	pl_sqltest_buf_puts(&sql, "SELECT regexp_full_match(");
	put_literal(&sql, text);
	pl_sqltest_buf_puts(&sql, ", ");
	put_literal(&sql, pattern);
	pl_sqltest_buf_puts(&sql, ", 's')");
	if (sql.oom) {
		pl_sqltest_buf_dispose(&sql);
		return PLANAR_ENOMEM;
	}
	int rc = planar_conn_query(r->aux, sql.ptr, &res);
	pl_sqltest_buf_dispose(&sql);
	if (rc == 0 && res && planar_result_row_count(res) == 1 && planar_result_column_count(res) == 1) {
		char *v = planar_result_value_string(res, 0, 0);
		*matched = v && strcmp(v, "true") == 0;
		planar_free(v);
	}
	planar_result_free(res);
	return rc;
}

/* ---- statements and queries ---- */

static bool list_matches(const pl_sqltest_strv *list, const char *msg)
{
	for (size_t i = 0; i < list->n; i++)
		if (strstr(msg, list->v[i]))
			return true;
	return false;
}

/* An unexpected error: skips the rest of the file when `set ignore_error_messages` says so. */
static void unexpected_error(runner *r, const pl_sqltest_record *rec, const char *what, const char *msg)
{
	if (list_matches(&r->ignore_errors, msg)) {
		skip_file(r, "error matched ignore_error_messages:", msg);
		return;
	}
	report_msg(r, rec->line, what, msg);
}

static char *expected_error_text(runner *r, const pl_sqltest_record *rec)
{
	pl_sqltest_buf b = {0};
	for (size_t i = 0; i < rec->expected.n; i++) {
		if (i > 0)
			pl_sqltest_buf_putc(&b, '\n');
		pl_sqltest_buf_puts(&b, rec->expected.v[i]);
	}
	char *raw = pl_sqltest_buf_detach(&b);
	char *text = raw ? pl_sqltest_subst(&r->vars, raw) : NULL;
	free(raw);
	return text;
}

static void judge_error(runner *r, const pl_sqltest_record *rec, const char *msg)
{
	pl_sqltest_matcher m = {regex_match, r};
	char *expected = expected_error_text(r, rec), *why = NULL;
	int rc = expected ? pl_sqltest_check_error(msg, expected, &m, &why) : PLANAR_ENOMEM;
	if (rc < 0)
		report_oom(r, rec->line);
	else if (rc == 0)
		report(r, rec->line, "%s", why);
	free(why);
	free(expected);
}

static void judge_statement(runner *r, const pl_sqltest_record *rec, const char *msg)
{
	if (msg && list_matches(&r->always_fail, msg)) {
		report_msg(r, rec->line, "internal error", msg);
		return;
	}
	if (rec->expect == PL_SQLTEST_EXPECT_OK && msg)
		unexpected_error(r, rec, "statement failed", msg);
	else if (rec->expect == PL_SQLTEST_EXPECT_ERROR && !msg)
		report(r, rec->line, "statement succeeded but an error was expected");
	else if (rec->expect == PL_SQLTEST_EXPECT_ERROR)
		judge_error(r, rec, msg);
}

static void exec_statement(runner *r, const pl_sqltest_record *rec)
{
	planar_conn *conn = conn_for(r, rec);
	char *sql = conn ? pl_sqltest_subst(&r->vars, rec->sql) : NULL;
	if (!sql) {
		if (conn)
			report_oom(r, rec->line);
		return;
	}
	int rc = planar_conn_query(conn, sql, NULL);
	free(sql);
	judge_statement(r, rec, rc != 0 ? planar_conn_errmsg(conn) : NULL);
}

static int fill_column(pl_sqltest_table *t, const planar_result *res, size_t c)
{
	const char *name = planar_result_column_name(res, c);
	const char *type = planar_result_column_type(res, c);
	t->names[c] = pl_sqltest_strdup(name ? name : "");
	t->types[c] = pl_sqltest_coltype_of(type ? type : "", planar_result_column_is_numeric(res, c));
	for (size_t row = 0; t->names[c] && row < t->nrows; row++) {
		char *raw = NULL;
		if (!planar_result_is_null(res, c, row) && !(raw = planar_result_value_string(res, c, row)))
			return PLANAR_ERROR; /* out of memory, or the library could not convert it */
		t->cells[row * t->ncols + c] = pl_sqltest_format_value(raw, t->types[c]);
		planar_free(raw);
		if (!t->cells[row * t->ncols + c])
			return PLANAR_ENOMEM;
	}
	return t->names[c] ? 0 : PLANAR_ENOMEM;
}

static int table_from_result(pl_sqltest_table *t, const planar_result *res)
{
	uint64_t nrows = planar_result_row_count(res);
	if (nrows > SIZE_MAX)
		return PLANAR_ENOMEM;
	int rc = pl_sqltest_table_init(t, planar_result_column_count(res), (size_t)nrows);
	for (size_t c = 0; rc == 0 && c < t->ncols; c++)
		rc = fill_column(t, res, c);
	return rc;
}

/* A label names a result: every query with the same label must give the same values. */
static void check_label(runner *r, const pl_sqltest_record *rec, const pl_sqltest_table *t)
{
	char *hash = pl_sqltest_table_hash(t);
	if (!hash) {
		report_oom(r, rec->line);
		return;
	}
	for (size_t i = 0; i < r->labels.n; i++) {
		if (strcmp(r->labels.v[i], rec->label) != 0)
			continue;
		if (strcmp(r->label_hashes.v[i], hash) != 0)
			report(r, rec->line, "result differs from the earlier query labeled '%s'", rec->label);
		free(hash);
		return;
	}
	if (pl_sqltest_strv_push(&r->labels, rec->label) != 0 ||
	    pl_sqltest_strv_push_owned(&r->label_hashes, hash) != 0) {
		pl_sqltest_strv_pop(&r->labels, r->labels.n > r->label_hashes.n ? 1 : 0);
		report_oom(r, rec->line);
	}
}

static void print_actual(runner *r, const pl_sqltest_table *t)
{
	pl_sqltest_buf b = {0};
	if (pl_sqltest_table_format(t, &b) != 0 || !b.ptr) {
		pl_sqltest_buf_dispose(&b);
		return;
	}
	fprintf(r->opts->out, "    actual result (%zu rows):\n", t->nrows);
	print_indented(r, b.ptr);
	pl_sqltest_buf_dispose(&b);
}

static void compare_query(runner *r, const pl_sqltest_record *rec, const pl_sqltest_table *t)
{
	pl_sqltest_strv expected = {0};
	pl_sqltest_matcher m = {regex_match, r};
	char *why = NULL;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < rec->expected.n; i++)
		rc = pl_sqltest_strv_push_owned(&expected, pl_sqltest_subst(&r->vars, rec->expected.v[i]));
	if (rc == 0)
		rc = pl_sqltest_check_result(t, strlen(rec->types), &expected, &m, &why);
	if (rc < 0)
		report_oom(r, rec->line);
	if (rc == 0) {
		report(r, rec->line, "%s", why);
		if (r->opts->verbose)
			print_actual(r, t);
	}
	free(why);
	pl_sqltest_strv_free(&expected);
}

static void exec_query(runner *r, const pl_sqltest_record *rec)
{
	planar_conn *conn = conn_for(r, rec);
	char *sql = conn ? pl_sqltest_subst(&r->vars, rec->sql) : NULL;
	planar_result *res = NULL;
	pl_sqltest_table t = {0};
	if (!sql) {
		if (conn)
			report_oom(r, rec->line);
		return;
	}
	int rc = planar_conn_query(conn, sql, &res);
	free(sql);
	if (rc != 0) {
		unexpected_error(r, rec, "query failed", planar_conn_errmsg(conn));
		return;
	}
	rc = res ? table_from_result(&t, res) : pl_sqltest_table_init(&t, 0, 0);
	planar_result_free(res);
	if (rc != 0) {
		pl_sqltest_table_free(&t);
		if (rc == PLANAR_ERROR)
			report(r, rec->line, "a result value could not be read as text");
		else
			report_oom(r, rec->line);
		return;
	}
	pl_sqltest_table_sort(&t, rec->sort);
	if (rec->label)
		check_label(r, rec, &t);
	if (!rec->label || rec->has_dashes)
		compare_query(r, rec, &t);
	pl_sqltest_table_free(&t);
}

/* ---- loops ---- */

static const char *const signed_types[] = {"tinyint", "smallint", "integer", "bigint", "hugeint"};
static const char *const unsigned_types[] = {"utinyint", "usmallint", "uinteger", "ubigint", "uhugeint"};
static const char *const float_types[] = {"float", "double"};
static const char *const other_types[] = {"bool", "interval", "varchar"};
static const char *const compressions[] = {"none", "uncompressed", "rle", "bitpacking", "dictionary",
	"fsst", "dict_fsst", "alp", "alprd"};

static int push_all(pl_sqltest_strv *out, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (pl_sqltest_strv_push(out, v[i]) != 0)
			return PLANAR_ENOMEM;
	return 0;
}

#define PUSH_GROUP(out, arr) push_all(out, arr, sizeof arr / sizeof arr[0])

/* foreach's <signed>, <unsigned>, <integral>, <numeric>, <alltypes>, <compression>; 1 if none. */
static int push_group(pl_sqltest_strv *out, const char *tok)
{
	bool all = strcasecmp(tok, "<alltypes>") == 0;
	bool numeric = all || strcasecmp(tok, "<numeric>") == 0;
	bool integral = numeric || strcasecmp(tok, "<integral>") == 0;
	bool sig = integral || strcasecmp(tok, "<signed>") == 0;
	bool uns = integral || strcasecmp(tok, "<unsigned>") == 0;
	int rc = 0;
	if (strcasecmp(tok, "<compression>") == 0)
		return PUSH_GROUP(out, compressions);
	if (!sig && !uns)
		return 1;
	if (sig)
		rc = PUSH_GROUP(out, signed_types);
	if (rc == 0 && uns)
		rc = PUSH_GROUP(out, unsigned_types);
	if (rc == 0 && numeric)
		rc = PUSH_GROUP(out, float_types);
	if (rc == 0 && all)
		rc = PUSH_GROUP(out, other_types);
	return rc;
}

/* `!value` removes an earlier value from the list (kept as written if it is not there). */
static bool remove_value(pl_sqltest_strv *out, const char *tok)
{
	if (tok[0] != '!')
		return false;
	for (size_t i = 0; i < out->n; i++) {
		if (strcmp(out->v[i], tok + 1) == 0) {
			free(out->v[i]);
			memmove(out->v + i, out->v + i + 1, (out->n - i - 1) * sizeof *out->v);
			out->n--;
			return true;
		}
	}
	return false;
}

static int foreach_values(const pl_sqltest_record *rec, pl_sqltest_strv *out)
{
	for (size_t i = 1; i < rec->args.n; i++) {
		const char *tok = rec->args.v[i];
		if (remove_value(out, tok))
			continue;
		int rc = push_group(out, tok);
		if (rc == 1)
			rc = pl_sqltest_strv_push(out, tok);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Binds the iterator name(s) to one value; `foreach a,b 1,2 3,4` binds both. */
static bool bind_iteration(runner *r, const pl_sqltest_record *rec, const pl_sqltest_strv *names,
	const char *value, size_t *pushed)
{
	pl_sqltest_strv parts = {0};
	int rc = names->n > 1 ? pl_sqltest_strv_split(&parts, value, ',') : pl_sqltest_strv_push(&parts, value);
	*pushed = 0;
	if (rc == 0 && parts.n != names->n) {
		report(r, rec->line, "foreach value '%s' does not have %zu comma-separated parts", value, names->n);
		r->stop = true;
		pl_sqltest_strv_free(&parts);
		return false;
	}
	for (size_t i = 0; rc == 0 && i < names->n; i++, (*pushed)++)
		rc = pl_sqltest_vars_push(&r->vars, names->v[i], parts.v[i]);
	pl_sqltest_strv_free(&parts);
	if (rc != 0)
		report_oom(r, rec->line);
	return rc == 0;
}

static void run_iteration(runner *r, size_t idx, const pl_sqltest_strv *names, const char *value)
{
	const pl_sqltest_record *rec = &r->file.recs[idx];
	size_t pushed = 0;
	if (bind_iteration(r, rec, names, value, &pushed))
		run_range(r, idx + 1, rec->end);
	pl_sqltest_vars_pop(&r->vars, pushed);
}

static void exec_loop(runner *r, size_t idx)
{
	const pl_sqltest_record *rec = &r->file.recs[idx];
	pl_sqltest_strv names = {0}, values = {0};
	long long from = 0, to = 0;
	int rc = pl_sqltest_strv_split(&names, rec->args.v[0], ',');
	if (rc == 0 && rec->kind == PL_SQLTEST_FOREACH)
		rc = foreach_values(rec, &values);
	else if (rc == 0)
		(void)(pl_sqltest_parse_long(rec->args.v[1], &from) && pl_sqltest_parse_long(rec->args.v[2], &to));
	if (rc != 0)
		report_oom(r, rec->line);
	for (size_t i = 0; rc == 0 && !r->stop && i < values.n; i++)
		run_iteration(r, idx, &names, values.v[i]);
	for (long long i = from; rc == 0 && !r->stop && i < to; i++) {
		char num[32];
		snprintf(num, sizeof num, "%lld", i);
		run_iteration(r, idx, &names, num);
	}
	pl_sqltest_strv_free(&names);
	pl_sqltest_strv_free(&values);
}

/* ---- one-line commands ---- */

static const char *opt_env(const runner *r, const char *name)
{
	size_t len = strlen(name);
	for (size_t i = r->opts->nenv; i-- > 0;)
		if (strncmp(r->opts->env[i], name, len) == 0 && r->opts->env[i][len] == '=')
			return r->opts->env[i] + len + 1;
	return getenv(name);
}

static bool require_satisfied(const pl_sqltest_record *rec)
{
	static const char *const present[] = {"ducklake", "parquet", "json", "icu", "notwindows",
		"notmingw", "notmusl", "64bit", "skip_reload", "nothreadsan", "noforcestorage",
		"no_alternative_verify", "noalternativeverify", "no_latest_storage",
		"no_vector_verification", "strinline", "allow_unsigned_extensions",
		"no_extension_autoloading"};
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

static void exec_require(runner *r, const pl_sqltest_record *rec)
{
	if (!require_satisfied(rec))
		skip_file(r, "require", rec->args.v[0]);
}

static void exec_require_env(runner *r, const pl_sqltest_record *rec)
{
	const char *name = rec->args.v[0], *value = opt_env(r, name);
	if (!value || (rec->args.n == 2 && strcmp(value, rec->args.v[1]) != 0)) {
		skip_file(r, "require-env", name);
		return;
	}
	if (pl_sqltest_vars_set(&r->vars, name, value) != 0)
		report_oom(r, rec->line);
}

static void exec_test_env(runner *r, const pl_sqltest_record *rec)
{
	const char *name = rec->args.v[0], *value = opt_env(r, name);
	if (pl_sqltest_vars_set(&r->vars, name, value ? value : rec->args.v[1]) != 0)
		report_oom(r, rec->line);
}

static void remove_db_files(const char *path)
{
	pl_sqltest_buf wal = {0};
	pl_sqltest_buf_printf(&wal, "%s.wal", path);
	unlink(path);
	if (!wal.oom)
		unlink(wal.ptr);
	pl_sqltest_buf_dispose(&wal);
}

static void exec_load(runner *r, const pl_sqltest_record *rec)
{
	bool readonly = rec->args.n > 1 && strcasecmp(rec->args.v[1], "readonly") == 0;
	if (rec->args.n > 1 && !readonly && strcasecmp(rec->args.v[1], "readwrite") != 0) {
		report(r, rec->line, "load takes readonly or readwrite, not '%s'", rec->args.v[1]);
		return;
	}
	char *path = rec->args.n > 0 ? pl_sqltest_subst(&r->vars, rec->args.v[0]) : NULL;
	if (rec->args.n > 0 && !path) {
		report_oom(r, rec->line);
		return;
	}
	if (path && !readonly)
		remove_db_files(path);
	free(r->db_path);
	r->db_path = path;
	open_db(r, rec->line, path);
}

static void exec_reconnect(runner *r, const pl_sqltest_record *rec)
{
	planar_conn_free(r->conn);
	r->conn = NULL;
	if (!open_conn(r, rec->line, &r->conn))
		r->stop = true;
}

static void exec_sleep(runner *r, const pl_sqltest_record *rec)
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
	report(r, rec->line, "unknown sleep unit '%s' (second, millisecond, microsecond, nanosecond)", unit);
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

static char *unzip_target(runner *r, const pl_sqltest_record *rec, const char *src)
{
	if (rec->args.n == 2 && strcmp(rec->args.v[1], "NULL") != 0)
		return pl_sqltest_subst(&r->vars, rec->args.v[1]);
	const char *base = strrchr(src, '/');
	base = base ? base + 1 : src;
	pl_sqltest_buf b = {0};
	pl_sqltest_buf_printf(&b, "%s/%.*s", r->test_dir, (int)(strlen(base) - 3), base);
	return pl_sqltest_buf_detach(&b);
}

static void exec_unzip(runner *r, const pl_sqltest_record *rec)
{
	char *src = pl_sqltest_subst(&r->vars, rec->args.v[0]), *dst = NULL;
	size_t len = src ? strlen(src) : 0;
	if (src && (len < 3 || strcmp(src + len - 3, ".gz") != 0))
		report(r, rec->line, "unzip: '%s' does not end in .gz", src);
	else if (!src || !(dst = unzip_target(r, rec, src)))
		report_oom(r, rec->line);
	else {
		const char *err = gunzip(src, dst);
		if (err)
			report(r, rec->line, "unzip %s -> %s: %s", src, dst, err);
	}
	free(src);
	free(dst);
}

/* `set ignore_error_messages a, b c` replaces the list with "a" and "b c". */
static int set_list(pl_sqltest_strv *list, const pl_sqltest_record *rec)
{
	pl_sqltest_buf all = {0};
	pl_sqltest_strv items = {0};
	for (size_t i = 1; i < rec->args.n; i++)
		pl_sqltest_buf_printf(&all, "%s%s", i > 1 ? " " : "", rec->args.v[i]);
	char *text = pl_sqltest_buf_detach(&all);
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

static void exec_set(runner *r, const pl_sqltest_record *rec)
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
			report_msg(r, rec->line, "set seed failed", planar_conn_errmsg(r->conn));
	} else
		report(r, rec->line, "unknown set parameter '%s'", what);
	if (rc != 0)
		report_oom(r, rec->line);
}

/* ---- dispatch ---- */

static void exec_record(runner *r, size_t idx)
{
	const pl_sqltest_record *rec = &r->file.recs[idx];
	switch (rec->kind) {
	case PL_SQLTEST_INVALID:
		report(r, rec->line, "%s", rec->error);
		r->stop = true;
		break;
	case PL_SQLTEST_STATEMENT: exec_statement(r, rec); break;
	case PL_SQLTEST_QUERY: exec_query(r, rec); break;
	case PL_SQLTEST_LOOP:
	case PL_SQLTEST_FOREACH: exec_loop(r, idx); break;
	case PL_SQLTEST_REQUIRE: exec_require(r, rec); break;
	case PL_SQLTEST_REQUIRE_ENV: exec_require_env(r, rec); break;
	case PL_SQLTEST_TEST_ENV: exec_test_env(r, rec); break;
	case PL_SQLTEST_LOAD: exec_load(r, rec); break;
	case PL_SQLTEST_RESTART: open_db(r, rec->line, r->db_path); break;
	case PL_SQLTEST_RECONNECT: exec_reconnect(r, rec); break;
	case PL_SQLTEST_SLEEP: exec_sleep(r, rec); break;
	case PL_SQLTEST_UNZIP: exec_unzip(r, rec); break;
	case PL_SQLTEST_HALT: r->stop = true; break;
	case PL_SQLTEST_SET: exec_set(r, rec); break;
	case PL_SQLTEST_ENDLOOP:
	case PL_SQLTEST_NOOP: break;
	}
}

/* 1: run the record, 0: skip it (skipif/onlyif), -1: a condition could not be evaluated. */
static int conditions_allow(runner *r, const pl_sqltest_record *rec)
{
	for (size_t i = 0; i < rec->nconds; i++) {
		char *why = NULL;
		int rc = pl_sqltest_cond_runs(&r->vars, &rec->conds[i], &why);
		if (rc < 0)
			report(r, rec->line, "%s", why ? why : "out of memory");
		free(why);
		if (rc != 1)
			return rc;
	}
	return 1;
}

static void run_range(runner *r, size_t lo, size_t hi)
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

static bool make_test_dir(runner *r)
{
	const char *tmp = getenv("TMPDIR");
	pl_sqltest_buf b = {0};
	pl_sqltest_buf_printf(&b, "%s/planar-test-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	r->test_dir = pl_sqltest_buf_detach(&b);
	if (r->test_dir && mkdtemp(r->test_dir))
		return true;
	report(r, 0, "cannot create a test directory: %s", r->test_dir ? strerror(errno) : "out of memory");
	free(r->test_dir);
	r->test_dir = NULL;
	return false;
}

static void remove_test_dir(runner *r)
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

static int define_builtin_vars(runner *r)
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
	pl_sqltest_buf b = {0};
	char chunk[8192];
	size_t n;
	*err = 0;
	if (!f) {
		*err = errno;
		return NULL;
	}
	pl_sqltest_buf_puts(&b, "");
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		pl_sqltest_buf_put(&b, chunk, n);
	if (ferror(f))
		*err = EIO;
	fclose(f);
	if (*err || b.oom || memchr(b.ptr, '\0', b.len)) {
		*err = *err ? *err : b.oom ? ENOMEM : EINVAL;
		pl_sqltest_buf_dispose(&b);
		return NULL;
	}
	return pl_sqltest_buf_detach(&b);
}

static bool load_file(runner *r)
{
	int err;
	char *text = read_file(r->path, &err);
	if (!text) {
		report(r, 0, "cannot read the file: %s", err == EINVAL ? "it contains NUL bytes" : strerror(err));
		return false;
	}
	int rc = pl_sqltest_parse(text, &r->file);
	free(text);
	if (rc != 0)
		report(r, 0, "out of memory while parsing");
	return rc == 0;
}

static void runner_dispose(runner *r)
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
	runner r = {0};
	r.opts = opts;
	r.path = path;
	*reason = NULL;
	if (load_file(&r) && make_test_dir(&r)) {
		if (define_builtin_vars(&r) != 0)
			report_oom(&r, 0);
		else if (open_db(&r, 0, NULL))
			run_range(&r, 0, r.file.n);
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
