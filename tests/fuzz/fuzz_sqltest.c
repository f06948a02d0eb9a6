/*
 * fuzz_sqltest.c -- fuzz harness for the sqllogictest file parser (src/cli/sqltest_parse.c).
 *
 * The input is the text of a .test file (cut at its first NUL byte). Runs pl_sqltest_parse and
 * checks the promises the runner relies on:
 *   - the call returns 0 (PLANAR_ENOMEM only when memory runs out);
 *   - an INVALID record carries its error and is the last record;
 *   - every loop/foreach record names a later ENDLOOP record as its end, loops nest properly,
 *     and every ENDLOOP closes exactly one loop (the runner jumps to `end`; a wrong one would
 *     make it loop forever or read past the records);
 *   - statement and query records have non-empty SQL; queries have their column types;
 *   - record line numbers are positive and increasing.
 * Then evaluates every skipif/onlyif condition and substitutes variables into every SQL text
 * (sqltest_vars.c) with a few variables defined, as the runner would.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/sqltest.h"
#include "planar/errors.h"

#define CHECK(cond)                                                                                     \
	do {                                                                                            \
		if (!(cond)) {                                                                          \
			fprintf(stderr, "fuzz_sqltest: %s:%d: check failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                                 \
			abort();                                                                        \
		}                                                                                       \
	} while (0)

static bool is_loop(const pl_sqltest_record *r)
{
	return r->kind == PL_SQLTEST_LOOP || r->kind == PL_SQLTEST_FOREACH;
}

static void check_file(const pl_sqltest_file *f)
{
	size_t *stack = f->n ? malloc(f->n * sizeof(*stack)) : NULL, depth = 0;
	CHECK(f->n == 0 || stack);
	for (size_t i = 0; i < f->n; i++) {
		const pl_sqltest_record *r = &f->recs[i];
		CHECK(r->line >= 1);
		if (i > 0)
			CHECK(r->line > f->recs[i - 1].line);
		CHECK(r->nconds == 0 || r->conds != NULL);
		for (size_t c = 0; c < r->nconds; c++)
			CHECK(r->conds[c].text != NULL);
		switch (r->kind) {
		case PL_SQLTEST_INVALID:
			CHECK(r->error != NULL && r->error[0] != '\0');
			CHECK(i == f->n - 1);
			break;
		case PL_SQLTEST_STATEMENT:
			CHECK(r->sql != NULL && r->sql[0] != '\0');
			break;
		case PL_SQLTEST_QUERY:
			CHECK(r->sql != NULL && r->sql[0] != '\0');
			CHECK(r->types != NULL && r->types[0] != '\0');
			break;
		case PL_SQLTEST_LOOP:
			CHECK(r->args.n == 3);
			break;
		case PL_SQLTEST_FOREACH:
			CHECK(r->args.n >= 2);
			break;
		default:
			break;
		}
		if (is_loop(r)) {
			CHECK(r->end > i && r->end < f->n);
			CHECK(f->recs[r->end].kind == PL_SQLTEST_ENDLOOP);
			stack[depth++] = i;
		} else if (r->kind == PL_SQLTEST_ENDLOOP) {
			CHECK(depth > 0);
			CHECK(f->recs[stack[--depth]].end == i);
		}
	}
	/* a loop left open is only possible behind a final INVALID record: none may be */
	CHECK(depth == 0);
	free(stack);
}

static void exercise_vars(const pl_sqltest_file *f)
{
	pl_sqltest_vars vars = {0};
	if (pl_sqltest_vars_set(&vars, "CATALOG", "sqlite") || pl_sqltest_vars_set(&vars, "N", "10") ||
	    pl_sqltest_vars_set(&vars, "TEST_DIR", "/tmp/x") ||
	    pl_sqltest_vars_set(&vars, "DUCKLAKE_PREFIX", "ducklake:${CATALOG}:")) {
		pl_sqltest_vars_free(&vars);
		return;
	}
	for (size_t i = 0; i < f->n; i++) {
		const pl_sqltest_record *r = &f->recs[i];
		for (size_t c = 0; c < r->nconds; c++) {
			char *why = NULL;
			int rc = pl_sqltest_cond_runs(&vars, &r->conds[c], &why);
			CHECK(rc >= -1 && rc <= 1);
			free(why);
		}
		if (r->sql) {
			char *s = pl_sqltest_subst(&vars, r->sql);
			free(s);
		}
	}
	pl_sqltest_vars_free(&vars);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	pl_sqltest_file f;
	int rc = pl_sqltest_parse(text, &f);
	CHECK(rc == 0 || rc == PLANAR_ENOMEM);
	if (rc == 0) {
		check_file(&f);
		exercise_vars(&f);
		pl_sqltest_file_free(&f);
	}
	free(text);
	return 0;
}
