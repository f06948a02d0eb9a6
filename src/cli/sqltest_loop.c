/*
 * sqltest_loop.c -- loop and foreach records of a sqllogictest file.
 *
 * Owns the values a loop runs over (a number range, or foreach's list with its <signed>,
 * <integral>, <alltypes>, <compression>... groups and !value removals), binding the iterator
 * variable(s) for each pass and running the loop's body once per value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/sqltest_runner.h"
#include "planar/errors.h"

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
static bool bind_iteration(pl_sqltest_runner *r, const pl_sqltest_record *rec, const pl_sqltest_strv *names,
	const char *value, size_t *pushed)
{
	pl_sqltest_strv parts = {0};
	int rc = names->n > 1 ? pl_sqltest_strv_split(&parts, value, ',') : pl_sqltest_strv_push(&parts, value);
	*pushed = 0;
	if (rc == 0 && parts.n != names->n) {
		pl_sqltest_report(r, rec->line, "foreach value '%s' does not have %zu comma-separated parts", value,
			names->n);
		r->stop = true;
		pl_sqltest_strv_free(&parts);
		return false;
	}
	for (size_t i = 0; rc == 0 && i < names->n; i++, (*pushed)++)
		rc = pl_sqltest_vars_push(&r->vars, names->v[i], parts.v[i]);
	pl_sqltest_strv_free(&parts);
	if (rc != 0)
		pl_sqltest_report_oom(r, rec->line);
	return rc == 0;
}

static void run_iteration(pl_sqltest_runner *r, size_t idx, const pl_sqltest_strv *names, const char *value)
{
	const pl_sqltest_record *rec = &r->file.recs[idx];
	size_t pushed = 0;
	if (bind_iteration(r, rec, names, value, &pushed))
		pl_sqltest_run_range(r, idx + 1, rec->end);
	pl_sqltest_vars_pop(&r->vars, pushed);
}

void pl_sqltest_exec_loop(pl_sqltest_runner *r, size_t idx)
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
		pl_sqltest_report_oom(r, rec->line);
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

