/*
 * sqltest_vars.c -- test variables of the sqllogictest runner.
 *
 * Owns the name/value scope (--env, test-env, require-env, loop iterators, TEST_DIR...), the
 * substitution of ${NAME} / {NAME} / {UUID} / __TEST_DIR__ / __WORKING_DIRECTORY__ in SQL and
 * expected text, random UUIDs, and the evaluation of skipif/onlyif conditions, both engine names
 * (planar and duckdb are "us") and variable comparisons such as `skipif i=2 && CATALOG<>sqlite`.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "cli/sqltest.h"
#include "planar/errors.h"

#define SUBST_MAX_DEPTH 8
/* A substitution stops growing here: variables that refer to each other several times each
 * would otherwise expand exponentially. The text is cut, and the statement then fails. */
#define SUBST_MAX_OUTPUT (16u << 20)

int pl_sqltest_vars_push(pl_sqltest_vars *vars, const char *name, const char *value)
{
	if (pl_sqltest_strv_push(&vars->names, name) != 0)
		return PLANAR_ENOMEM;
	if (pl_sqltest_strv_push(&vars->values, value) != 0) {
		pl_sqltest_strv_pop(&vars->names, 1);
		return PLANAR_ENOMEM;
	}
	return 0;
}

int pl_sqltest_vars_set(pl_sqltest_vars *vars, const char *name, const char *value)
{
	for (size_t i = vars->names.n; i-- > 0;) {
		if (strcmp(vars->names.v[i], name) != 0)
			continue;
		char *copy = pl_sqltest_strdup(value);
		if (!copy)
			return PLANAR_ENOMEM;
		free(vars->values.v[i]);
		vars->values.v[i] = copy;
		return 0;
	}
	return pl_sqltest_vars_push(vars, name, value);
}

void pl_sqltest_vars_pop(pl_sqltest_vars *vars, size_t count)
{
	pl_sqltest_strv_pop(&vars->names, count);
	pl_sqltest_strv_pop(&vars->values, count);
}

static const char *vars_getn(const pl_sqltest_vars *vars, const char *name, size_t len, bool icase)
{
	for (size_t i = vars->names.n; i-- > 0;) {
		const char *n = vars->names.v[i];
		bool eq = icase ? strncasecmp(n, name, len) == 0 : strncmp(n, name, len) == 0;
		if (eq && n[len] == '\0')
			return vars->values.v[i];
	}
	return NULL;
}

const char *pl_sqltest_vars_get(const pl_sqltest_vars *vars, const char *name)
{
	return vars_getn(vars, name, strlen(name), false);
}

void pl_sqltest_vars_free(pl_sqltest_vars *vars)
{
	pl_sqltest_strv_free(&vars->names);
	pl_sqltest_strv_free(&vars->values);
}

static void fill_random(unsigned char *out, size_t n)
{
	if (getrandom(out, n, 0) == (ssize_t)n)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)getpid();
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		out[i] = (unsigned char)(x >> 24);
	}
}

void pl_sqltest_uuid(char out[37])
{
	unsigned char b[16];
	fill_random(b, sizeof b);
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (size_t i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 15];
	}
	out[o] = '\0';
}

static bool name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* A reference at s: ${NAME} or {NAME}; sets the name span and the length of the reference. */
static bool brace_ref(const char *s, const char **name, size_t *name_len, size_t *ref_len)
{
	size_t open = s[0] == '$' ? 2 : 1;
	if ((open == 2 && s[1] != '{') || (open == 1 && s[0] != '{'))
		return false;
	size_t n = 0;
	while (name_char(s[open + n]))
		n++;
	if (n == 0 || s[open + n] != '}')
		return false;
	*name = s + open;
	*name_len = n;
	*ref_len = open + n + 1;
	return true;
}

static void subst_into(const pl_sqltest_vars *vars, const char *s, pl_cli_buf *out, int depth);

static void put_value(const pl_sqltest_vars *vars, const char *value, pl_cli_buf *out, int depth)
{
	if (depth < SUBST_MAX_DEPTH)
		subst_into(vars, value, out, depth + 1);
	else
		pl_cli_buf_puts(out, value);
}

/* Tries to expand a reference at s; returns how many bytes it consumed (0: none). */
static size_t expand_at(const pl_sqltest_vars *vars, const char *s, pl_cli_buf *out, int depth)
{
	static const struct { const char *word, *var; } words[] = {
		{"__TEST_DIR__", "TEST_DIR"}, {"__WORKING_DIRECTORY__", "WORKING_DIRECTORY"}};
	const char *name, *value;
	size_t name_len, ref_len;
	if (brace_ref(s, &name, &name_len, &ref_len)) {
		if ((value = vars_getn(vars, name, name_len, false)) != NULL) {
			put_value(vars, value, out, depth);
			return ref_len;
		}
		if (name_len == 4 && strncmp(name, "UUID", 4) == 0) {
			char uuid[37];
			pl_sqltest_uuid(uuid);
			pl_cli_buf_puts(out, uuid);
			return ref_len;
		}
		return 0;
	}
	for (size_t i = 0; s[0] == '_' && i < sizeof words / sizeof words[0]; i++) {
		if (pl_sqltest_starts_with(s, words[i].word) &&
		    (value = pl_sqltest_vars_get(vars, words[i].var)) != NULL) {
			put_value(vars, value, out, depth);
			return strlen(words[i].word);
		}
	}
	return 0;
}

static void subst_into(const pl_sqltest_vars *vars, const char *s, pl_cli_buf *out, int depth)
{
	while (*s && out->len < SUBST_MAX_OUTPUT) {
		size_t used = (*s == '$' || *s == '{' || *s == '_') ? expand_at(vars, s, out, depth) : 0;
		if (used > 0) {
			s += used;
			continue;
		}
		size_t plain = 1;
		while (s[plain] && s[plain] != '$' && s[plain] != '{' && s[plain] != '_')
			plain++;
		pl_cli_buf_put(out, s, plain);
		s += plain;
	}
}

char *pl_sqltest_subst(const pl_sqltest_vars *vars, const char *text)
{
	pl_cli_buf out = {0};
	pl_cli_buf_puts(&out, "");
	subst_into(vars, text, &out, 0);
	return pl_cli_buf_detach(&out);
}

/* ---- skipif / onlyif ---- */

static bool is_our_engine(const char *text)
{
	size_t n = 0;
	while (text[n] && !isspace((unsigned char)text[n]))
		n++;
	return (n == 6 && strncasecmp(text, "planar", 6) == 0) ||
	       (n == 6 && strncasecmp(text, "duckdb", 6) == 0);
}

static char *trimmed(const char *s, size_t n)
{
	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	return pl_sqltest_strndup(s, n);
}

static bool compare_holds(const char *op, const char *lhs, const char *rhs)
{
	long long a, b;
	int c;
	if (pl_sqltest_parse_long(lhs, &a) && pl_sqltest_parse_long(rhs, &b))
		c = (a > b) - (a < b);
	else
		c = strcmp(lhs, rhs);
	if (strcmp(op, "<>") == 0)
		return c != 0;
	if (strcmp(op, ">=") == 0)
		return c >= 0;
	if (strcmp(op, "<=") == 0)
		return c <= 0;
	if (strcmp(op, ">") == 0)
		return c > 0;
	if (strcmp(op, "<") == 0)
		return c < 0;
	return c == 0;
}

static int why_msg(char **why, const char *what, const char *detail)
{
	pl_cli_buf b = {0};
	pl_cli_buf_printf(&b, "%s '%s'", what, detail);
	*why = pl_cli_buf_detach(&b);
	return -1;
}

/* One comparison "NAME op VALUE": 1 holds, 0 does not, -1 error. */
static int eval_comparison(const pl_sqltest_vars *vars, const char *part, size_t len, char **why)
{
	static const char *const ops[] = {"<>", ">=", ">", "<=", "<", "="};
	char *text = trimmed(part, len);
	if (!text)
		return why_msg(why, "out of memory evaluating", "condition");
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		char *at = strstr(text, ops[i]);
		if (!at)
			continue;
		char *name = trimmed(text, (size_t)(at - text));
		char *rhs = trimmed(at + strlen(ops[i]), strlen(at + strlen(ops[i])));
		const char *value = name ? vars_getn(vars, name, strlen(name), true) : NULL;
		int rc = !name || !rhs ? why_msg(why, "out of memory evaluating", text)
		       : !value ? why_msg(why, "condition uses an undefined variable", name)
		       : compare_holds(ops[i], value, rhs);
		free(name);
		free(rhs);
		free(text);
		return rc;
	}
	int rc = why_msg(why, "malformed condition", text);
	free(text);
	return rc;
}

int pl_sqltest_cond_runs(const pl_sqltest_vars *vars, const pl_sqltest_cond *cond, char **why)
{
	*why = NULL;
	if (strpbrk(cond->text, "=<>") == NULL)
		return is_our_engine(cond->text) != cond->skip_if;
	bool holds = true;
	for (const char *part = cond->text; part;) {
		const char *amp = strstr(part, "&&");
		size_t len = amp ? (size_t)(amp - part) : strlen(part);
		int rc = eval_comparison(vars, part, len, why);
		if (rc < 0)
			return -1;
		holds = holds && rc == 1;
		part = amp ? amp + 2 : NULL;
	}
	return holds != cond->skip_if;
}
