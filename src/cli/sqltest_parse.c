/*
 * sqltest_parse.c -- turns the text of a sqllogictest (.test) file into records.
 *
 * Owns the file syntax of DuckDB's dialect: records separated by empty lines, '#' comments,
 * skipif/onlyif prefixes, statement/query bodies (SQL up to an empty line or ----, then the
 * expected lines), one-line commands, `mode skip`/`mode unskip` (dropped here), and loop nesting
 * (each loop record learns the index of its endloop). Nothing is executed here; malformed input
 * becomes a final INVALID record naming the problem, so a bad file never aborts the runner.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/sqltest.h"
#include "planar/errors.h"

typedef struct parser {
	pl_sqltest_strv lines;
	size_t cur;               /* index of the line being looked at */
	pl_sqltest_file *out;
	size_t skip_level;        /* > 0 inside mode skip */
	size_t *loops;            /* indices of open loop records */
	size_t nloops;
	size_t caploops;
	bool stop;                /* an INVALID record was emitted */
	bool halted;              /* halt: the rest of the file is not read */
} parser;

/* One-line commands: their kind and argument count bounds. */
static const struct {
	const char *word;
	pl_sqltest_kind kind;
	size_t min, max;
} simple_cmds[] = {
	{"endloop", PL_SQLTEST_ENDLOOP, 0, 0},
	{"require", PL_SQLTEST_REQUIRE, 1, SIZE_MAX},
	{"require-env", PL_SQLTEST_REQUIRE_ENV, 1, 2},
	{"test-env", PL_SQLTEST_TEST_ENV, 2, 2},
	{"load", PL_SQLTEST_LOAD, 0, 3},
	{"restart", PL_SQLTEST_RESTART, 0, 1},
	{"reconnect", PL_SQLTEST_RECONNECT, 0, 0},
	{"sleep", PL_SQLTEST_SLEEP, 2, 2},
	{"unzip", PL_SQLTEST_UNZIP, 1, 2},
	{"halt", PL_SQLTEST_HALT, 0, 0},
	{"set", PL_SQLTEST_SET, 1, SIZE_MAX},
	{"hash-threshold", PL_SQLTEST_NOOP, 1, 1},
	{"reset", PL_SQLTEST_NOOP, 2, 2},
	{"tags", PL_SQLTEST_NOOP, 1, SIZE_MAX},
	{"loop", PL_SQLTEST_LOOP, 3, 3},
	{"concurrentloop", PL_SQLTEST_LOOP, 3, 3},
	{"foreach", PL_SQLTEST_FOREACH, 2, SIZE_MAX},
	{"concurrentforeach", PL_SQLTEST_FOREACH, 2, SIZE_MAX},
	{"mode", PL_SQLTEST_NOOP, 1, 1},
};

static void record_free(pl_sqltest_record *r)
{
	pl_sqltest_strv_free(&r->args);
	for (size_t i = 0; i < r->nconds; i++)
		free(r->conds[i].text);
	free(r->conds);
	free(r->sql);
	pl_sqltest_strv_free(&r->expected);
	free(r->conn_name);
	free(r->types);
	free(r->label);
	free(r->error);
	memset(r, 0, sizeof *r);
}

void pl_sqltest_file_free(pl_sqltest_file *f)
{
	for (size_t i = 0; i < f->n; i++)
		record_free(&f->recs[i]);
	free(f->recs);
	memset(f, 0, sizeof *f);
}

static int set_invalid(pl_sqltest_record *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int set_invalid(pl_sqltest_record *r, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	free(r->error);
	r->kind = PL_SQLTEST_INVALID;
	r->error = pl_sqltest_strdup(msg);
	return r->error ? 0 : PLANAR_ENOMEM;
}

/* Strictly empty or a '#' comment: ends SQL text (as in DuckDB). */
static bool empty_or_comment(const char *line)
{
	return line[0] == '\0' || line[0] == '#';
}

/* Blank, whitespace-only or a comment: separates records. */
static bool blank_line(const char *line)
{
	while (isspace((unsigned char)*line))
		line++;
	return *line == '\0' || *line == '#';
}

static int split_lines(pl_sqltest_strv *lines, const char *text)
{
	int rc = pl_sqltest_strv_split(lines, text, '\n');
	for (size_t i = 0; rc == 0 && i < lines->n; i++) {
		size_t len = strlen(lines->v[i]);
		if (len > 0 && lines->v[i][len - 1] == '\r')
			lines->v[i][len - 1] = '\0';
	}
	return rc;
}

static int tokenize(pl_sqltest_strv *out, const char *line)
{
	for (;;) {
		while (isspace((unsigned char)*line))
			line++;
		if (!*line)
			return 0;
		const char *start = line;
		while (*line && !isspace((unsigned char)*line))
			line++;
		if (pl_sqltest_strv_pushn(out, start, (size_t)(line - start)) != 0)
			return PLANAR_ENOMEM;
	}
}

static char *join_words(const pl_sqltest_strv *words, size_t from)
{
	pl_cli_buf b = {0};
	for (size_t i = from; i < words->n; i++) {
		if (i > from)
			pl_cli_buf_putc(&b, ' ');
		pl_cli_buf_puts(&b, words->v[i]);
	}
	return pl_cli_buf_detach(&b);
}

static int add_cond(pl_sqltest_record *r, bool skip_if, char *text)
{
	if (!text)
		return PLANAR_ENOMEM;
	pl_sqltest_cond *c = realloc(r->conds, (r->nconds + 1) * sizeof *c);
	if (!c) {
		free(text);
		return PLANAR_ENOMEM;
	}
	r->conds = c;
	r->conds[r->nconds].skip_if = skip_if;
	r->conds[r->nconds].text = text;
	r->nconds++;
	return 0;
}

/* Reads skipif/onlyif lines; leaves p->cur on the command line and its words in *words. */
static int read_conditions(parser *p, pl_sqltest_record *r, pl_sqltest_strv *words)
{
	for (;;) {
		pl_sqltest_strv_pop(words, words->n);
		r->line = p->cur + 1;
		if (tokenize(words, p->lines.v[p->cur]) != 0)
			return PLANAR_ENOMEM;
		bool skip_if = strcmp(words->v[0], "skipif") == 0;
		if (!skip_if && strcmp(words->v[0], "onlyif") != 0)
			return 0;
		if (words->n < 2)
			return set_invalid(r, "%s needs a condition (e.g. %s duckdb)", words->v[0], words->v[0]);
		if (add_cond(r, skip_if, join_words(words, 1)) != 0)
			return PLANAR_ENOMEM;
		p->cur++;
		if (p->cur >= p->lines.n || blank_line(p->lines.v[p->cur]))
			return set_invalid(r, "%s must be followed by a command", skip_if ? "skipif" : "onlyif");
	}
}

/* SQL text: lines up to an empty/comment line or ----. */
static int read_sql(parser *p, pl_sqltest_record *r)
{
	pl_cli_buf b = {0};
	bool first = true;
	for (; p->cur < p->lines.n; p->cur++) {
		const char *line = p->lines.v[p->cur];
		if (empty_or_comment(line) || strcmp(line, "----") == 0)
			break;
		if (!first)
			pl_cli_buf_putc(&b, '\n');
		pl_cli_buf_puts(&b, line);
		first = false;
	}
	r->sql = pl_cli_buf_detach(&b);
	return r->sql ? 0 : PLANAR_ENOMEM;
}

/* After the SQL: a ---- line and the expected lines up to an empty line. */
static int read_expected(parser *p, pl_sqltest_record *r)
{
	if (p->cur >= p->lines.n || strcmp(p->lines.v[p->cur], "----") != 0)
		return 0;
	r->has_dashes = true;
	for (p->cur++; p->cur < p->lines.n && p->lines.v[p->cur][0] != '\0'; p->cur++)
		if (pl_sqltest_strv_push(&r->expected, p->lines.v[p->cur]) != 0)
			return PLANAR_ENOMEM;
	return 0;
}

static int parse_statement(parser *p, pl_sqltest_record *r)
{
	const char *mode = r->args.n > 0 ? r->args.v[0] : "";
	r->kind = PL_SQLTEST_STATEMENT;
	if (strcmp(mode, "ok") == 0)
		r->expect = PL_SQLTEST_EXPECT_OK;
	else if (strcmp(mode, "error") == 0)
		r->expect = PL_SQLTEST_EXPECT_ERROR;
	else if (strcmp(mode, "maybe") == 0 || strcmp(mode, "debug") == 0 ||
		 strcmp(mode, "debug_skip") == 0)
		r->expect = PL_SQLTEST_EXPECT_MAYBE;
	else
		return set_invalid(r, "statement must be followed by ok, error or maybe, not '%s'", mode);
	if (r->args.n > 2)
		return set_invalid(r, "statement takes at most a connection name after '%s'", mode);
	if (r->args.n == 2 && !(r->conn_name = pl_sqltest_strdup(r->args.v[1])))
		return PLANAR_ENOMEM;
	p->cur++;
	if (read_sql(p, r) != 0 || read_expected(p, r) != 0)
		return PLANAR_ENOMEM;
	if (r->sql[0] == '\0')
		return set_invalid(r, "statement without SQL text");
	if (r->has_dashes && r->expect == PL_SQLTEST_EXPECT_OK)
		return set_invalid(r, "statement ok cannot have an expected result (----)");
	return 0;
}

static bool parse_sort(const char *word, pl_sqltest_sort *sort)
{
	if (strcmp(word, "nosort") == 0)
		*sort = PL_SQLTEST_NOSORT;
	else if (strcmp(word, "rowsort") == 0 || strcmp(word, "sort") == 0)
		*sort = PL_SQLTEST_ROWSORT;
	else if (strcmp(word, "valuesort") == 0)
		*sort = PL_SQLTEST_VALUESORT;
	else
		return false;
	return true;
}

static int parse_query_header(pl_sqltest_record *r)
{
	if (r->args.n < 1)
		return set_invalid(r, "query needs column types (e.g. query II)");
	if (r->args.n > 3)
		return set_invalid(r, "query takes types, a sort mode or connection, and a label");
	for (const char *t = r->args.v[0]; *t; t++)
		if (!isupper((unsigned char)*t))
			return set_invalid(r, "query column types must be letters like I, R, T, not '%s'",
				r->args.v[0]);
	if (!(r->types = pl_sqltest_strdup(r->args.v[0])))
		return PLANAR_ENOMEM;
	if (r->args.n >= 2 && !parse_sort(r->args.v[1], &r->sort) &&
	    !(r->conn_name = pl_sqltest_strdup(r->args.v[1])))
		return PLANAR_ENOMEM;
	if (r->args.n == 3 && !(r->label = pl_sqltest_strdup(r->args.v[2])))
		return PLANAR_ENOMEM;
	return 0;
}

static int parse_query(parser *p, pl_sqltest_record *r)
{
	r->kind = PL_SQLTEST_QUERY;
	int rc = parse_query_header(r);
	if (rc != 0 || r->error)
		return rc;
	p->cur++;
	if (read_sql(p, r) != 0 || read_expected(p, r) != 0)
		return PLANAR_ENOMEM;
	if (r->sql[0] == '\0')
		return set_invalid(r, "query without SQL text");
	return 0;
}

static int check_loop_args(pl_sqltest_record *r)
{
	long long a, b;
	if (r->kind == PL_SQLTEST_LOOP && (!pl_sqltest_parse_long(r->args.v[1], &a) ||
					   !pl_sqltest_parse_long(r->args.v[2], &b)))
		return set_invalid(r, "loop needs a name and two integers (e.g. loop i 0 10)");
	return 0;
}

static int check_sleep_args(pl_sqltest_record *r)
{
	long long n;
	if (r->kind == PL_SQLTEST_SLEEP && (!pl_sqltest_parse_long(r->args.v[0], &n) || n < 0))
		return set_invalid(r, "sleep needs a duration and a unit (e.g. sleep 1 second)");
	return 0;
}

/* `mode skip` / `mode unskip` only change the parser; other modes are ignored records. */
static bool handle_mode(parser *p, const pl_sqltest_record *r)
{
	if (strcmp(r->args.v[0], "skip") == 0) {
		p->skip_level++;
		return true;
	}
	if (strcmp(r->args.v[0], "unskip") == 0) {
		if (p->skip_level > 0)
			p->skip_level--;
		return true;
	}
	return false;
}

/* A one-line command; *drop is set when it produces no record. */
static int parse_simple(parser *p, pl_sqltest_record *r, const char *word, bool *drop)
{
	size_t i = 0, n = sizeof simple_cmds / sizeof simple_cmds[0];
	while (i < n && strcmp(simple_cmds[i].word, word) != 0)
		i++;
	if (i == n)
		return set_invalid(r, "unknown command '%s'", word);
	r->kind = simple_cmds[i].kind;
	p->cur++;
	if (r->args.n < simple_cmds[i].min || r->args.n > simple_cmds[i].max)
		return set_invalid(r, "wrong number of arguments for '%s'", word);
	if (p->cur < p->lines.n && !blank_line(p->lines.v[p->cur]))
		return set_invalid(r, "'%s' must be followed by an empty line", word);
	if (strcmp(word, "mode") == 0)
		*drop = handle_mode(p, r);
	int rc = check_loop_args(r);
	return rc != 0 ? rc : check_sleep_args(r);
}

static int append_record(parser *p, pl_sqltest_record *r)
{
	pl_sqltest_file *f = p->out;
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 16;
		pl_sqltest_record *recs = realloc(f->recs, cap * sizeof *recs);
		if (!recs)
			return PLANAR_ENOMEM;
		f->recs = recs;
		f->cap = cap;
	}
	f->recs[f->n++] = *r;
	memset(r, 0, sizeof *r);
	return 0;
}

static int push_loop(parser *p, size_t idx)
{
	if (p->nloops == p->caploops) {
		size_t cap = p->caploops ? p->caploops * 2 : 8;
		size_t *v = realloc(p->loops, cap * sizeof *v);
		if (!v)
			return PLANAR_ENOMEM;
		p->loops = v;
		p->caploops = cap;
	}
	p->loops[p->nloops++] = idx;
	return 0;
}

/* Records the loop structure of the record just appended at index idx. */
static int link_loops(parser *p, size_t idx)
{
	pl_sqltest_record *r = &p->out->recs[idx];
	if (r->kind == PL_SQLTEST_LOOP || r->kind == PL_SQLTEST_FOREACH)
		return push_loop(p, idx);
	if (r->kind != PL_SQLTEST_ENDLOOP)
		return 0;
	if (p->nloops == 0) {
		p->stop = true;
		return set_invalid(r, "endloop without a loop");
	}
	p->out->recs[p->loops[--p->nloops]].end = idx;
	return 0;
}

static int parse_command(parser *p, pl_sqltest_record *r, pl_sqltest_strv *words, bool *drop)
{
	const char *word = words->v[0];
	for (size_t i = 1; i < words->n; i++)
		if (pl_sqltest_strv_push(&r->args, words->v[i]) != 0)
			return PLANAR_ENOMEM;
	if (strcmp(word, "statement") == 0)
		return parse_statement(p, r);
	if (strcmp(word, "query") == 0)
		return parse_query(p, r);
	return parse_simple(p, r, word, drop);
}

static int parse_record(parser *p)
{
	pl_sqltest_record r = {0};
	pl_sqltest_strv words = {0};
	bool drop = false;
	int rc = read_conditions(p, &r, &words);
	if (rc == 0 && !r.error)
		rc = parse_command(p, &r, &words, &drop);
	pl_sqltest_strv_free(&words);
	/* inside mode skip a record is read only to step over it */
	if (rc != 0 || drop || p->skip_level > 0) {
		record_free(&r);
		return rc;
	}
	if (r.error)
		p->stop = true;
	if (r.kind == PL_SQLTEST_HALT)
		p->halted = true;
	rc = append_record(p, &r);
	if (rc != 0) {
		record_free(&r);
		return rc;
	}
	return link_loops(p, p->out->n - 1);
}

/* A loop still open at the end of the file: it becomes the final, INVALID record. */
static int close_open_loops(parser *p)
{
	if (p->nloops == 0)
		return 0;
	pl_sqltest_file *f = p->out;
	size_t first = p->loops[0];
	while (f->n > first + 1)
		record_free(&f->recs[--f->n]);
	return set_invalid(&f->recs[first], "loop without endloop");
}

/* Parsing stopped at an INVALID record inside a loop: that loop has no endloop the runner could
 * jump to (it would run the records before it again, forever), so the outermost open loop and
 * everything after it make way for the INVALID record. */
static void drop_open_loops(parser *p)
{
	if (p->nloops == 0)
		return;
	pl_sqltest_file *f = p->out;
	size_t first = p->loops[0];
	pl_sqltest_record invalid = f->recs[--f->n];
	while (f->n > first)
		record_free(&f->recs[--f->n]);
	f->recs[f->n++] = invalid;
}

static bool skip_blank_lines(parser *p)
{
	while (p->cur < p->lines.n && blank_line(p->lines.v[p->cur]))
		p->cur++;
	return p->cur < p->lines.n;
}

int pl_sqltest_parse(const char *text, pl_sqltest_file *out)
{
	parser p = {0};
	int rc;
	memset(out, 0, sizeof *out);
	p.out = out;
	rc = split_lines(&p.lines, text);
	while (rc == 0 && !p.stop && !p.halted && skip_blank_lines(&p)) {
		size_t before = p.cur;
		rc = parse_record(&p);
		if (p.cur == before)
			p.cur++; /* never loop on a line that produced nothing */
	}
	if (rc == 0 && !p.stop)
		rc = close_open_loops(&p);
	else if (rc == 0)
		drop_open_loops(&p);
	pl_sqltest_strv_free(&p.lines);
	free(p.loops);
	if (rc != 0)
		pl_sqltest_file_free(out);
	return rc;
}
