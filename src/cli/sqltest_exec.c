/*
 * sqltest_exec.c -- statement and query records of a sqllogictest file.
 *
 * Owns running their SQL on the record's connection and judging the outcome: expected and
 * unexpected errors (`statement error` messages, `set ignore_error_messages`, internal errors),
 * turning a planar_result into a pl_sqltest_table, sorting it, labels and comparing it with the
 * expected lines. Result checking itself is in sqltest_compare.c; <REGEX>: patterns are matched
 * by DuckDB's own regexp_full_match (RE2, as DuckDB's runner) on a private connection.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/sqltest_runner.h"
#include "planar/errors.h"
#include "planar/planar.h"

/* ---- regular expressions through DuckDB (RE2, like DuckDB's runner) ---- */

static int regex_match(void *ud, const char *pattern, const char *text, bool *matched)
{
	pl_sqltest_runner *r = ud;
	pl_cli_buf sql = {0};
	planar_result *res = NULL;
	*matched = false;
	if (!r->aux && planar_conn_open(&r->aux, r->db, NULL) != 0) {
		r->aux = NULL;
		return PLANAR_ERROR;
	}
	pl_cli_buf_puts(&sql, "SELECT regexp_full_match(");
	pl_cli_buf_put_quoted(&sql, text, '\'');
	pl_cli_buf_puts(&sql, ", ");
	pl_cli_buf_put_quoted(&sql, pattern, '\'');
	pl_cli_buf_puts(&sql, ", 's')");
	if (sql.oom) {
		pl_cli_buf_dispose(&sql);
		return PLANAR_ENOMEM;
	}
	int rc = planar_conn_query(r->aux, sql.ptr, &res);
	pl_cli_buf_dispose(&sql);
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
static void unexpected_error(pl_sqltest_runner *r, const pl_sqltest_record *rec, const char *what,
	const char *msg)
{
	if (list_matches(&r->ignore_errors, msg)) {
		pl_sqltest_skip_file(r, "error matched ignore_error_messages:", msg);
		return;
	}
	pl_sqltest_report_msg(r, rec->line, what, msg);
}

static char *expected_error_text(pl_sqltest_runner *r, const pl_sqltest_record *rec)
{
	pl_cli_buf b = {0};
	for (size_t i = 0; i < rec->expected.n; i++) {
		if (i > 0)
			pl_cli_buf_putc(&b, '\n');
		pl_cli_buf_puts(&b, rec->expected.v[i]);
	}
	char *raw = pl_cli_buf_detach(&b);
	char *text = raw ? pl_sqltest_subst(&r->vars, raw) : NULL;
	free(raw);
	return text;
}

static void judge_error(pl_sqltest_runner *r, const pl_sqltest_record *rec, const char *msg)
{
	pl_sqltest_matcher m = {regex_match, r};
	char *expected = expected_error_text(r, rec), *why = NULL;
	int rc = expected ? pl_sqltest_check_error(msg, expected, &m, &why) : PLANAR_ENOMEM;
	if (rc < 0)
		pl_sqltest_report_oom(r, rec->line);
	else if (rc == 0)
		pl_sqltest_report(r, rec->line, "%s", why);
	free(why);
	free(expected);
}

static void judge_statement(pl_sqltest_runner *r, const pl_sqltest_record *rec, const char *msg)
{
	if (msg && list_matches(&r->always_fail, msg)) {
		pl_sqltest_report_msg(r, rec->line, "internal error", msg);
		return;
	}
	if (rec->expect == PL_SQLTEST_EXPECT_OK && msg)
		unexpected_error(r, rec, "statement failed", msg);
	else if (rec->expect == PL_SQLTEST_EXPECT_ERROR && !msg)
		pl_sqltest_report(r, rec->line, "statement succeeded but an error was expected");
	else if (rec->expect == PL_SQLTEST_EXPECT_ERROR)
		judge_error(r, rec, msg);
}

void pl_sqltest_exec_statement(pl_sqltest_runner *r, const pl_sqltest_record *rec)
{
	planar_conn *conn = pl_sqltest_conn_for(r, rec);
	char *sql = conn ? pl_sqltest_subst(&r->vars, rec->sql) : NULL;
	if (!sql) {
		if (conn)
			pl_sqltest_report_oom(r, rec->line);
		return;
	}
	int rc = planar_conn_query(conn, sql, NULL);
	free(sql);
	judge_statement(r, rec, rc != 0 ? planar_conn_errmsg(conn) : NULL);
}

/* A text value as DuckDB's runner shows it: a NUL byte becomes the two characters \0. */
static char *escape_nul(const char *v, size_t len)
{
	size_t nul = 0;
	for (size_t i = 0; i < len; i++)
		nul += v[i] == '\0';
	char *out = malloc(len + nul + 1);
	if (!out)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < len; i++) {
		if (v[i] == '\0') {
			out[k++] = '\\';
			out[k++] = '0';
		} else {
			out[k++] = v[i];
		}
	}
	out[k] = '\0';
	return out;
}

/* One value of the current chunk into the table; PLANAR_ERROR when it cannot be read as text. */
static int fill_cell(pl_sqltest_table *t, planar_result *res, size_t c, size_t row, size_t at)
{
	char *raw = NULL;
	if (!planar_result_chunk_is_null(res, c, row)) {
		const char *v = NULL;
		size_t len = 0;
		if (planar_result_get_text(res, c, row, &v, &len) != 0 || !v)
			return PLANAR_ERROR;
		if (!(raw = escape_nul(v, len)))
			return PLANAR_ENOMEM;
	}
	t->cells[at * t->ncols + c] = pl_sqltest_format_value(raw, t->types[c]);
	free(raw);
	return t->cells[at * t->ncols + c] ? 0 : PLANAR_ENOMEM;
}

/* The result's values as text, read chunk by chunk (the text of a value keeps its length, so
 * values with NUL bytes are whole). */
static int table_from_result(pl_sqltest_table *t, planar_result *res)
{
	uint64_t nrows = planar_result_row_count(res);
	if (nrows > SIZE_MAX)
		return PLANAR_ENOMEM;
	int rc = pl_sqltest_table_init(t, planar_result_column_count(res), (size_t)nrows);
	for (size_t c = 0; rc == 0 && c < t->ncols; c++) {
		const char *name = planar_result_column_name(res, c);
		const char *type = planar_result_column_type(res, c);
		t->types[c] = pl_sqltest_coltype_of(type ? type : "", planar_result_column_is_numeric(res, c));
		if (!(t->names[c] = pl_sqltest_strdup(name ? name : "")))
			rc = PLANAR_ENOMEM;
	}
	size_t at = 0, n = 0;
	while (rc == 0 && t->ncols > 0) {
		rc = planar_result_next_chunk(res, &n);
		if (rc != 0)
			rc = rc == PLANAR_ENOMEM ? rc : PLANAR_ERROR;
		if (rc != 0 || n == 0)
			break;
		if (n > t->nrows - at)
			return PLANAR_ERROR;
		for (size_t row = 0; rc == 0 && row < n; row++)
			for (size_t c = 0; rc == 0 && c < t->ncols; c++)
				rc = fill_cell(t, res, c, row, at + row);
		at += n;
	}
	if (rc == 0 && at != t->nrows && t->ncols > 0)
		rc = PLANAR_ERROR;
	return rc;
}

/* A label names a result: every query with the same label must give the same values. */
static void check_label(pl_sqltest_runner *r, const pl_sqltest_record *rec, const pl_sqltest_table *t)
{
	char *hash = pl_sqltest_table_hash(t);
	if (!hash) {
		pl_sqltest_report_oom(r, rec->line);
		return;
	}
	for (size_t i = 0; i < r->labels.n; i++) {
		if (strcmp(r->labels.v[i], rec->label) != 0)
			continue;
		if (strcmp(r->label_hashes.v[i], hash) != 0)
			pl_sqltest_report(r, rec->line, "result differs from the earlier query labeled '%s'",
				rec->label);
		free(hash);
		return;
	}
	if (pl_sqltest_strv_push(&r->labels, rec->label) != 0 ||
	    pl_sqltest_strv_push_owned(&r->label_hashes, hash) != 0) {
		pl_sqltest_strv_pop(&r->labels, r->labels.n > r->label_hashes.n ? 1 : 0);
		pl_sqltest_report_oom(r, rec->line);
	}
}

static void print_actual(pl_sqltest_runner *r, const pl_sqltest_table *t)
{
	pl_cli_buf b = {0};
	if (pl_sqltest_table_format(t, &b) != 0 || !b.ptr) {
		pl_cli_buf_dispose(&b);
		return;
	}
	fprintf(r->opts->out, "    actual result (%zu rows):\n", t->nrows);
	pl_sqltest_print_indented(r, b.ptr);
	pl_cli_buf_dispose(&b);
}

static void compare_query(pl_sqltest_runner *r, const pl_sqltest_record *rec, const pl_sqltest_table *t)
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
		pl_sqltest_report_oom(r, rec->line);
	if (rc == 0) {
		pl_sqltest_report(r, rec->line, "%s", why);
		if (r->opts->verbose)
			print_actual(r, t);
	}
	free(why);
	pl_sqltest_strv_free(&expected);
}

void pl_sqltest_exec_query(pl_sqltest_runner *r, const pl_sqltest_record *rec)
{
	planar_conn *conn = pl_sqltest_conn_for(r, rec);
	char *sql = conn ? pl_sqltest_subst(&r->vars, rec->sql) : NULL;
	planar_result *res = NULL;
	pl_sqltest_table t = {0};
	if (!sql) {
		if (conn)
			pl_sqltest_report_oom(r, rec->line);
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
			pl_sqltest_report(r, rec->line, "a result value could not be read as text");
		else
			pl_sqltest_report_oom(r, rec->line);
		return;
	}
	pl_sqltest_table_sort(&t, rec->sort);
	/* as DuckDB's runner: a labeled query is compared by its result hash only (with the earlier
	 * queries of its label, and with an expected "N values hashing to" line if it has one); its
	 * declared column count and any other expected lines are not checked */
	if (rec->label) {
		check_label(r, rec, &t);
		if (rec->expected.n == 1 && pl_sqltest_is_hash_line(rec->expected.v[0]))
			compare_query(r, rec, &t);
	} else {
		compare_query(r, rec, &t);
	}
	pl_sqltest_table_free(&t);
}

