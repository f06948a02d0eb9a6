/*
 * metadata.c -- DuckDB's catalog functions seen with lakes attached: `duckdb_tables()` and
 * `duckdb_views()` in a statement are rewritten to Planar's versions, in which the tables of a
 * lake are tables (DuckDB itself sees them as views) with their comments.
 */
#include "sql/metadata.h"

#include <string.h>

static const struct {
	const char *from, *to;
} functions[] = {
	{"duckdb_tables", "__planar_duckdb_tables()"},
	{"duckdb_views", "__planar_duckdb_views()"},
};

int pl_metadata_rewrite(planar_conn *conn, const pl_toks *t, char **sql_out, pl_strv *views, pl_err *err)
{
	pl_buf out = PL_BUF_INIT;
	size_t copied = 0, made = 0;
	(void)conn;
	(void)views;
	*sql_out = NULL;
	for (size_t i = 0; i + 2 < t->len; i++) {
		if (!pl_tok_is_punct(t, i + 1, "(") || !pl_tok_is_punct(t, i + 2, ")") ||
		    (i > 0 && pl_tok_is_punct(t, i - 1, ".")))
			continue;
		for (size_t k = 0; k < sizeof(functions) / sizeof(functions[0]); k++) {
			if (!pl_tok_is(t, i, functions[k].from))
				continue;
			pl_buf_put(&out, t->src + copied, t->items[i].start - copied);
			pl_buf_puts(&out, functions[k].to);
			copied = t->items[i + 2].start + 1;
			made++;
		}
	}
	return pl_rewrite_finish(&out, t, copied, made > 0, 0, sql_out, err);
}
