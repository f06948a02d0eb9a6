/*
 * changefeed.c -- the change-feed table functions, rewritten into the statement like time
 * travel: ducklake_table_changes('lake', 'schema', 'table', start, end) and lake.table_changes(
 * 'table', start, end), and their _insertions / _deletions variants. Bounds are snapshot ids or
 * timestamps (any expression DuckDB evaluates). Each call becomes a temporary view, created by
 * the table layer (table/changes.h).
 */
#include "sql/changefeed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "sql/lake.h"
#include "table/changes.h"

typedef struct feed_call {
	size_t from, to;     /* tokens of the whole call */
	bool qualified;      /* lake.table_changes(...) */
	pl_change_kind kind;
	size_t open, close;  /* parentheses */
} feed_call;

static const struct {
	const char *name;
	pl_change_kind kind;
} feeds[] = {
	{"table_changes", PL_CHANGES_ALL},
	{"table_insertions", PL_CHANGES_INSERTIONS},
	{"table_deletions", PL_CHANGES_DELETIONS},
};

static bool match_call(const pl_toks *t, size_t i, feed_call *c)
{
	for (size_t k = 0; k < sizeof(feeds) / sizeof(feeds[0]); k++) {
		char full[64];
		snprintf(full, sizeof(full), "ducklake_%s", feeds[k].name);
		if (pl_tok_is(t, i, full) && pl_tok_is_punct(t, i + 1, "(") && !(i > 0 && pl_tok_is_punct(t, i - 1, "."))) {
			*c = (feed_call){i, 0, false, feeds[k].kind, i + 1, pl_tok_match_paren(t, i + 1)};
		} else if (pl_tok_is_punct(t, i + 1, ".") && pl_tok_is(t, i + 2, feeds[k].name) && pl_tok_is_punct(t, i + 3, "(")) {
			*c = (feed_call){i, 0, true, feeds[k].kind, i + 3, pl_tok_match_paren(t, i + 3)};
		} else {
			continue;
		}
		if (c->close >= t->len)
			return false;
		c->to = c->close + 1;
		return true;
	}
	return false;
}

/* Splits the arguments at depth-0 commas into token ranges. */
static size_t split_args(const pl_toks *t, const feed_call *c, size_t from[8], size_t to[8])
{
	size_t n = 0, start = c->open + 1;
	int depth = 0;
	for (size_t i = c->open + 1; i <= c->close && n < 8; i++) {
		if (i == c->close || (depth == 0 && pl_tok_is_punct(t, i, ","))) {
			from[n] = start, to[n] = i, n++;
			start = i + 1;
		} else if (pl_tok_is_punct(t, i, "(")) {
			depth++;
		} else if (pl_tok_is_punct(t, i, ")")) {
			depth--;
		}
	}
	return n;
}

/* Evaluates one argument in DuckDB: its text and whether it is a timestamp. */
static int eval_arg(planar_conn *conn, const pl_toks *t, size_t from, size_t to, char **text, bool *is_time,
		    pl_err *err)
{
	if (from >= to)
		return pl_err_set(err, PL_EINVALID, "empty argument to a change-feed function");
	size_t a = t->items[from].start, b = t->items[to - 1].start + t->items[to - 1].len;
	pl_buf q = PL_BUF_INIT;
	duckdb_result res;
	pl_buf_printf(&q, "SELECT CASE WHEN typeof(%.*s) LIKE 'TIMESTAMP%%' OR typeof(%.*s) = 'DATE' THEN "
			  "strftime(CAST((%.*s) AS TIMESTAMP WITH TIME ZONE) AT TIME ZONE 'UTC', '%%Y-%%m-%%d %%H:%%M:%%S.%%f') "
			  "|| '+00' ELSE CAST((%.*s) AS VARCHAR) END, typeof(%.*s)",
		      (int)(b - a), t->src + a, (int)(b - a), t->src + a, (int)(b - a), t->src + a, (int)(b - a),
		      t->src + a, (int)(b - a), t->src + a);
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query(conn->con, q.ptr, &res, err);
	pl_buf_dispose(&q);
	if (rc)
		return rc;
	bool oom = false;
	*text = pl_engine_value_str(&res, 0, 0, &oom);
	char *type = pl_engine_value_str(&res, 1, 0, &oom);
	*is_time = type && (strncmp(type, "TIMESTAMP", 9) == 0 || strcmp(type, "DATE") == 0);
	free(type);
	duckdb_destroy_result(&res);
	if (!oom && !*text)
		return pl_err_set(err, PL_EINVALID, "a change-feed bound is NULL");
	return oom ? pl_err_nomem(err) : 0;
}

static int create_feed_view(planar_conn *conn, const pl_toks *t, const feed_call *c, const char *view, pl_err *err)
{
	size_t af[8], at[8];
	size_t n = split_args(t, c, af, at);
	size_t want = c->qualified ? 3 : 5;
	char *vals[5] = {0};
	bool is_time[5] = {0};
	if (n != want)
		return pl_err_set(err, PL_EINVALID, "%s takes %zu arguments", c->qualified ? "table_changes" : "ducklake_table_changes",
				  want);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = eval_arg(conn, t, af[i], at[i], &vals[c->qualified ? i + 2 : i], &is_time[c->qualified ? i + 2 : i], err);
	char *lake_name = c->qualified ? pl_tok_ident(t, c->from) : vals[0];
	pl_lake *lake = rc || !lake_name ? NULL : pl_db_find_lake(conn->db, lake_name);
	if (rc == 0 && !lake)
		rc = pl_err_set(err, PL_ENOTFOUND, "no lake named \"%s\" is attached", lake_name ? lake_name : "?");
	const char *schema = c->qualified ? "main" : vals[1], *table = vals[2];
	pl_changes_bound start = {vals[3], is_time[3]}, end = {vals[4], is_time[4]};
	if (rc == 0) {
		pl_lake_ctx ctx;
		pl_lake_table_ctx(&ctx, lake, conn);
		rc = pl_changes_view(&ctx.table, lake->data_path, schema, table, &start, &end, c->kind, view, err);
	}
	if (c->qualified)
		free(lake_name);
	for (int i = 0; i < 5; i++)
		free(vals[i]);
	return rc;
}

int pl_changefeed_rewrite(planar_conn *conn, const pl_toks *t, char **sql_out, pl_strv *views, pl_err *err)
{
	pl_buf out = PL_BUF_INIT;
	size_t copied = 0, made = 0;
	int rc = 0;
	*sql_out = NULL;
	for (size_t i = 0; rc == 0 && i < t->len; i++) {
		feed_call c;
		if (!match_call(t, i, &c))
			continue;
		char view[64];
		snprintf(view, sizeof(view), "__planar_feed_%lu", ++conn->tmp_seq);
		rc = create_feed_view(conn, t, &c, view, err);
		if (rc == 0)
			rc = pl_strv_push(views, view);
		if (rc)
			break;
		made++;
		pl_buf_put(&out, t->src + copied, t->items[c.from].start - copied);
		pl_buf_puts(&out, "temp.main.");
		pl_buf_put_ident(&out, view);
		copied = t->items[c.to - 1].start + t->items[c.to - 1].len;
		i = c.to - 1;
	}
	return pl_rewrite_finish(&out, t, copied, rc == 0 && made > 0, rc, sql_out, err);
}
