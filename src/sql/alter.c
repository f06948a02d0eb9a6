/*
 * alter.c -- ALTER TABLE on lake tables: the statement side. The action is read from the
 * statement (see table/alter.h for the forms) and the table layer plans the change, which
 * commits as one snapshot.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "sql/lake.h"
#include "sql/router.h"
#include "table/alter.h"
#include "table/partition.h"

/* The action as read from the statement (owns the strings). */
typedef struct alter_stmt {
	pl_alter_request req;
	char *path[8];
	size_t npath;
	char *text;
} alter_stmt;

static void alter_stmt_dispose(alter_stmt *a)
{
	for (size_t k = 0; k < a->npath; k++)
		free(a->path[k]);
	free(a->text);
}

/* Parses a dotted column path at *i into a->path (up to 8 names). */
static int parse_path(const pl_toks *t, size_t *i, alter_stmt *a, pl_err *err)
{
	for (;;) {
		if (*i >= t->len || (t->items[*i].kind != PL_TOK_WORD && t->items[*i].kind != PL_TOK_QIDENT) || a->npath == 8)
			return pl_err_set(err, PL_EINVALID, "syntax error: expected a column name");
		if (!(a->path[a->npath++] = pl_tok_ident(t, *i)))
			return pl_err_nomem(err);
		(*i)++;
		if (!pl_tok_is_punct(t, *i, "."))
			return 0;
		(*i)++;
	}
}

/* The text of tokens from..to ("" when none). */
static int set_text(alter_stmt *a, const pl_toks *t, size_t from, size_t to, pl_err *err)
{
	if (from >= to) {
		a->text = pl_strdup("");
	} else {
		size_t s = t->items[from].start, e = t->items[to - 1].start + t->items[to - 1].len;
		a->text = pl_strndup(t->src + s, e - s);
	}
	return a->text ? 0 : pl_err_nomem(err);
}

static bool find_using(const pl_toks *t, size_t i)
{
	for (; i < t->len; i++)
		if (pl_tok_is(t, i, "USING"))
			return true;
	return false;
}

/* ALTER [COLUMN] path <action> */
static int read_alter_column(const pl_toks *t, size_t i, alter_stmt *a, pl_err *err)
{
	int rc = parse_path(t, &i, a, err);
	if (rc)
		return rc;
	size_t type_at = pl_tok_is(t, i, "TYPE") ? i + 1
			 : pl_tok_is(t, i, "SET") && pl_tok_is(t, i + 1, "DATA") && pl_tok_is(t, i + 2, "TYPE") ? i + 3
			 : pl_tok_is(t, i, "SET") && pl_tok_is(t, i + 1, "TYPE") ? i + 2 : 0;
	if (type_at) {
		a->req.kind = PL_ALTER_SET_TYPE;
		a->req.using_clause = find_using(t, type_at);
		return a->req.using_clause ? 0 : set_text(a, t, type_at, t->len, err);
	}
	bool set = pl_tok_is(t, i, "SET"), drop = pl_tok_is(t, i, "DROP");
	if ((set || drop) && pl_tok_is(t, i + 1, "NOT") && pl_tok_is(t, i + 2, "NULL") && i + 3 == t->len) {
		a->req.kind = set ? PL_ALTER_SET_NOT_NULL : PL_ALTER_DROP_NOT_NULL;
		return 0;
	}
	if ((set || drop) && pl_tok_is(t, i + 1, "DEFAULT")) {
		a->req.kind = set ? PL_ALTER_SET_DEFAULT : PL_ALTER_DROP_DEFAULT;
		a->req.well_formed = set ? i + 2 < t->len : i + 2 == t->len;
		return set ? set_text(a, t, i + 2, t->len, err) : 0;
	}
	a->req.kind = PL_ALTER_COLUMN_OTHER;
	return 0;
}

/* Reads the action starting at token i. */
static int read_action(const pl_toks *t, size_t i, alter_stmt *a, pl_err *err)
{
	int rc;
	if (pl_tok_is(t, i, "ADD")) {
		i += 1 + pl_tok_is(t, i + 1, "COLUMN");
		a->req.kind = PL_ALTER_ADD_COLUMN;
		a->req.if_exists = pl_tok_is(t, i, "IF") && pl_tok_is(t, i + 1, "NOT") && pl_tok_is(t, i + 2, "EXISTS");
		i += a->req.if_exists ? 3 : 0;
		rc = parse_path(t, &i, a, err);
		/* what DuckLake refuses in a column definition (outside parentheses) */
		for (size_t k = i, depth = 0; rc == 0 && k < t->len; k++) {
			if (pl_tok_is_punct(t, k, "("))
				depth++;
			else if (pl_tok_is_punct(t, k, ")") && depth > 0)
				depth--;
			else if (depth == 0 && pl_tok_is(t, k, "COLLATE"))
				rc = pl_err_set(err, PL_EUNSUPPORTED,
						"Invalid Input Error: Collations are not supported in DuckLake storage");
			else if (depth == 0 && pl_tok_is(t, k, "USING") && pl_tok_is(t, k + 1, "COMPRESSION"))
				rc = pl_err_set(err, PL_EUNSUPPORTED, "Not implemented Error: Defining a compression type "
						"for a column is not supported in DuckLake");
		}
		return rc ? rc : set_text(a, t, i, t->len, err);
	}
	if (pl_tok_is(t, i, "DROP")) {
		i += 1 + pl_tok_is(t, i + 1, "COLUMN");
		a->req.kind = PL_ALTER_DROP_COLUMN;
		a->req.if_exists = pl_tok_is(t, i, "IF") && pl_tok_is(t, i + 1, "EXISTS");
		i += a->req.if_exists ? 2 : 0;
		return parse_path(t, &i, a, err);
	}
	if (pl_tok_is(t, i, "RENAME") && pl_tok_is(t, i + 1, "TO")) {
		i += 2;
		a->req.kind = PL_ALTER_RENAME_TABLE;
		if (i + 1 != t->len)
			return pl_err_set(err, PL_EINVALID, "syntax error: expected RENAME TO new_name");
		return (a->text = pl_tok_ident(t, i)) ? 0 : pl_err_nomem(err);
	}
	if (pl_tok_is(t, i, "RENAME")) {
		i += 1 + pl_tok_is(t, i + 1, "COLUMN");
		a->req.kind = PL_ALTER_RENAME_COLUMN;
		rc = parse_path(t, &i, a, err);
		if (rc == 0 && (!pl_tok_is(t, i, "TO") || i + 2 != t->len))
			rc = pl_err_set(err, PL_EINVALID, "syntax error: expected RENAME column TO new_name");
		return rc ? rc : (a->text = pl_tok_ident(t, i + 1)) ? 0 : pl_err_nomem(err);
	}
	if (pl_tok_is(t, i, "ALTER"))
		return read_alter_column(t, i + 1 + pl_tok_is(t, i + 1, "COLUMN"), a, err);
	return pl_err_set(err, PL_EUNSUPPORTED, "this ALTER TABLE action is not supported on lake tables");
}

static bool is_name_tok(const pl_toks *t, size_t i)
{
	return i < t->len && (t->items[i].kind == PL_TOK_WORD || t->items[i].kind == PL_TOK_QIDENT);
}

/* The bucket count of `bucket(n, col)` from its first argument's tokens [from, to): a constant
 * that reads as a 64-bit integer (a number, rounded, or a string), as DuckLake casts it. */
static int bucket_count(const pl_toks *t, size_t from, size_t to, const char *key, int64_t *out, pl_err *err)
{
	bool neg = to - from == 2 && pl_tok_is_punct(t, from, "-");
	size_t v = from + neg;
	if (to - v != 1 || (t->items[v].kind != PL_TOK_NUMBER && (neg || t->items[v].kind != PL_TOK_STRING)))
		return pl_err_set(err, PL_EINVALID, "Invalid Input Error: Bucket count must be a constant integer, got %s",
				  key);
	char *text = t->items[v].kind == PL_TOK_STRING ? pl_tok_string(t, v)
						       : pl_strndup(t->src + t->items[v].start, t->items[v].len);
	if (!text)
		return pl_err_nomem(err);
	char *end = NULL;
	errno = 0;
	long long n = strtoll(text, &end, 10);
	bool ok = end != text && errno == 0;
	if (ok && *end == '.' && t->items[v].kind == PL_TOK_NUMBER) { /* a decimal: rounded */
		double d = strtod(text, &end);
		ok = d > -9.2e18 && d < 9.2e18;
		n = ok ? llround(d) : 0;
	}
	while (ok && (*end == ' ' || *end == '\t'))
		end++;
	ok = ok && *end == '\0';
	free(text);
	if (!ok)
		return pl_err_set(err, PL_EINVALID, "Invalid Input Error: Bucket count must be an integer");
	n = neg ? -n : n;
	if (n <= 0)
		return pl_err_set(err, PL_EINVALID, "Invalid Input Error: Bucket count must be positive");
	if (n > INT32_MAX)
		return pl_err_set(err, PL_EINVALID, "Invalid Input Error: Bucket count cannot exceed %d", INT32_MAX);
	*out = n;
	return 0;
}

/* `bucket(n, col)` at *i (bucket( read into names[1]), with DuckLake's errors for anything else. */
static int read_bucket_key(const pl_toks *t, size_t *i, pl_partition_spec *k, char **names, pl_err *err)
{
	size_t open = *i + 1, close = pl_tok_match_paren(t, open);
	if (close >= t->len)
		return pl_err_set(err, PL_EINVALID, "syntax error: unclosed bucket(");
	size_t commas[3], ncommas = 0;
	for (size_t j = open + 1; j < close; j++) {
		if (pl_tok_is_punct(t, j, "(")) {
			j = pl_tok_match_paren(t, j);
			continue;
		}
		if (pl_tok_is_punct(t, j, ",") && ncommas < 3)
			commas[ncommas++] = j;
	}
	size_t a = t->items[*i].start, b = t->items[close].start + t->items[close].len;
	char *key = pl_strndup(t->src + a, b - a);
	if (!key)
		return pl_err_nomem(err);
	int rc = 0;
	if (ncommas != 1 || commas[0] == open + 1)
		rc = pl_err_set(err, PL_EINVALID, "Invalid Input Error: Expected bucket(bucket_count, column), but got %s",
				key);
	if (rc == 0)
		rc = bucket_count(t, open + 1, commas[0], key, &k->bucket_count, err);
	if (rc == 0 && (close - commas[0] != 2 || !is_name_tok(t, commas[0] + 1)))
		rc = pl_err_set(err, PL_EINVALID, "Invalid Input Error: Expected bucket(bucket_count, column), but got %s",
				key);
	free(key);
	if (rc)
		return rc;
	if (!(names[0] = pl_tok_ident(t, commas[0] + 1)))
		return pl_err_nomem(err);
	k->column = names[0];
	*i = close + 1;
	return 0;
}

/* One key of SET PARTITIONED BY at *i: col | year(col) | ... | bucket(n, col). */
static int read_partition_key(const pl_toks *t, size_t *i, pl_partition_spec *k, char **names, pl_err *err)
{
	size_t at = *i;
	bool call = is_name_tok(t, at) && pl_tok_is_punct(t, at + 1, "(");
	if (!call) {
		if (!is_name_tok(t, at))
			return pl_err_set(err, PL_EINVALID, "syntax error: expected a partition key");
		k->transform = "identity";
		if (!(names[0] = pl_tok_ident(t, at)))
			return pl_err_nomem(err);
		k->column = names[0];
		*i = at + 1;
		return 0;
	}
	if (!(names[1] = pl_tok_ident(t, at)))
		return pl_err_nomem(err);
	for (char *p = names[1]; *p; p++)
		*p = (char)((*p >= 'A' && *p <= 'Z') ? *p - 'A' + 'a' : *p);
	k->transform = names[1];
	at += 2;
	if (strcmp(names[1], "bucket") == 0)
		return read_bucket_key(t, i, k, names, err);
	if (!is_name_tok(t, at) || !pl_tok_is_punct(t, at + 1, ")"))
		return pl_err_set(err, PL_EINVALID, "Not implemented Error: Expected %s(column)", names[1]);
	if (!(names[0] = pl_tok_ident(t, at)))
		return pl_err_nomem(err);
	k->column = names[0];
	*i = at + 2;
	return 0;
}

/* SET PARTITIONED BY (keys) / RESET PARTITIONED BY at token i: the new partitioning into txn. */
static int plan_partitioning(const pl_toks *t, size_t i, const pl_table *tab, pl_txn *txn, bool *noop, pl_err *err)
{
	pl_partition_spec keys[16];
	char *names[16][2] = {{0}};
	size_t n = 0;
	int rc = 0;
	if (pl_tok_is(t, i, "SET")) {
		i += 3;
		if (!pl_tok_is_punct(t, i, "("))
			rc = pl_err_set(err, PL_EINVALID, "syntax error: expected SET PARTITIONED BY (key, ...)");
		for (i++; rc == 0 && !pl_tok_is_punct(t, i, ")"); n++) {
			if (n == 16) {
				rc = pl_err_set(err, PL_EINVALID, "a table may be partitioned by at most 16 keys");
				break;
			}
			keys[n] = (pl_partition_spec){NULL, 0, NULL};
			rc = read_partition_key(t, &i, &keys[n], names[n], err);
			if (rc == 0 && pl_tok_is_punct(t, i, ","))
				i++;
			else if (rc == 0 && !pl_tok_is_punct(t, i, ")"))
				rc = pl_err_set(err, PL_EINVALID, "syntax error: expected ',' or ')' after a partition key");
		}
		if (rc == 0 && (n == 0 || i + 1 != t->len))
			rc = pl_err_set(err, PL_EINVALID, "syntax error: expected SET PARTITIONED BY (key, ...)");
	} else if (i + 3 != t->len) {
		rc = pl_err_set(err, PL_EINVALID, "syntax error: expected RESET PARTITIONED BY");
	}
	if (rc == 0)
		rc = pl_partition_plan(tab, keys, n, txn, noop, err);
	for (size_t k = 0; k < 16; k++) {
		free(names[k][0]);
		free(names[k][1]);
	}
	return rc;
}

/* Column names an expression's syntax tree (DuckDB's JSON) refers to that t lacks, into missing
 * (", "-separated, once each). */
static void missing_columns(json_t *node, const pl_table *t, pl_buf *missing)
{
	if (json_is_array(node)) {
		for (size_t i = 0; i < json_array_size(node); i++)
			missing_columns(json_array_get(node, i), t, missing);
		return;
	}
	if (!json_is_object(node))
		return;
	const char *cls = json_string_value(json_object_get(node, "class"));
	json_t *names = json_object_get(node, "column_names");
	if (cls && strcmp(cls, "COLUMN_REF") == 0 && json_array_size(names) > 0) {
		const char *col = json_string_value(json_array_get(names, json_array_size(names) - 1));
		bool found = false;
		for (size_t i = 0; col && i < t->ntop && !found; i++)
			found = pl_str_ieq(t->top[i]->name, col);
		pl_buf item = PL_BUF_INIT;
		pl_buf_puts(&item, col ? col : "");
		if (col && !found && (!missing->ptr || !strstr(missing->ptr, item.ptr))) {
			if (missing->len)
				pl_buf_puts(missing, ", ");
			pl_buf_puts(missing, col);
		}
		pl_buf_dispose(&item);
		return;
	}
	const char *key;
	json_t *v;
	json_object_foreach(node, key, v)
		missing_columns(v, t, missing);
}

/* One SET SORTED BY item, tokens from..to: the expression normalized by DuckDB (its text as
 * DuckDB prints it) into *expr, its column references checked into missing. */
static int read_sort_key(pl_stmt *st, size_t from, size_t to, const pl_table *tab, pl_sort_spec *k, char **expr,
			 pl_buf *missing, pl_err *err)
{
	const pl_toks *t = &st->toks;
	if (to > from && (pl_tok_is(t, to - 1, "FIRST") || pl_tok_is(t, to - 1, "LAST")) && to - from >= 2 &&
	    pl_tok_is(t, to - 2, "NULLS")) {
		k->nulls_first = pl_tok_is(t, to - 1, "FIRST");
		to -= 2;
	}
	if (to > from && (pl_tok_is(t, to - 1, "ASC") || pl_tok_is(t, to - 1, "DESC"))) {
		k->descending = pl_tok_is(t, to - 1, "DESC");
		to--;
	}
	if (to <= from)
		return pl_err_set(err, PL_EINVALID, "syntax error: expected a sort expression");
	pl_buf text = PL_BUF_INIT, q = PL_BUF_INIT;
	pl_buf_puts(&text, "SELECT ");
	pl_buf_put(&text, t->src + t->items[from].start,
		   t->items[to - 1].start + t->items[to - 1].len - t->items[from].start);
	pl_buf_puts(&q, "SELECT CAST(json_serialize_sql(");
	pl_buf_put_literal(&q, pl_buf_cstr(&text));
	pl_buf_puts(&q, ") AS VARCHAR)");
	char *json = NULL, *norm = NULL;
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query_value(st->conn->con, q.ptr, &json, err);
	json_t *root = rc == 0 && json ? json_loads(json, JSON_DECODE_INT_AS_REAL, NULL) : NULL;
	json_t *list = json_object_get(json_object_get(json_array_get(json_object_get(root, "statements"), 0), "node"),
				       "select_list");
	if (rc == 0 && (!root || json_is_true(json_object_get(root, "error")) || json_array_size(list) != 1))
		rc = pl_err_set(err, PL_EINVALID, "syntax error in SET SORTED BY near \"%s\"", pl_buf_cstr(&text) + 7);
	if (rc == 0)
		missing_columns(list, tab, missing);
	pl_buf_truncate(&q, 0);
	pl_buf_puts(&q, "SELECT json_deserialize_sql(json_serialize_sql(");
	pl_buf_put_literal(&q, pl_buf_cstr(&text));
	pl_buf_puts(&q, "))");
	if (rc == 0)
		rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query_value(st->conn->con, q.ptr, &norm, err);
	if (rc == 0 && (!norm || strncmp(norm, "SELECT ", 7) != 0))
		rc = pl_err_set(err, PL_EINVALID, "cannot read the sort expression \"%s\"", pl_buf_cstr(&text) + 7);
	if (rc == 0 && !(*expr = pl_strdup(norm + 7)))
		rc = pl_err_nomem(err);
	k->expression = *expr;
	json_decref(root);
	free(json);
	free(norm);
	pl_buf_dispose(&text);
	pl_buf_dispose(&q);
	return rc;
}

/* SET SORTED BY (expr [ASC|DESC] [NULLS FIRST|LAST], ...) / RESET SORTED BY at token i. */
static int plan_sorting(pl_stmt *st, size_t i, const pl_table *tab, pl_txn *txn, bool *noop, pl_err *err)
{
	const pl_toks *t = &st->toks;
	pl_sort_spec keys[32];
	char *exprs[32] = {0};
	size_t n = 0;
	int rc = 0;
	pl_buf missing = PL_BUF_INIT;
	if (pl_tok_is(t, i, "SET")) {
		i += 3;
		size_t close = pl_tok_is_punct(t, i, "(") ? pl_tok_match_paren(t, i) : t->len;
		if (close >= t->len || close + 1 != t->len)
			rc = pl_err_set(err, PL_EINVALID, "syntax error: expected SET SORTED BY (expression, ...)");
		for (size_t from = i + 1; rc == 0 && from < close; n++) {
			size_t to = from;
			for (int depth = 0; to < close && (depth > 0 || !pl_tok_is_punct(t, to, ",")); to++)
				depth += pl_tok_is_punct(t, to, "(") ? 1 : pl_tok_is_punct(t, to, ")") ? -1 : 0;
			if (n == 32) {
				rc = pl_err_set(err, PL_EINVALID, "a table may be sorted by at most 32 keys");
				break;
			}
			keys[n] = (pl_sort_spec){NULL, false, false};
			rc = read_sort_key(st, from, to, tab, &keys[n], &exprs[n], &missing, err);
			from = to + 1;
		}
		if (rc == 0 && missing.len)
			rc = pl_err_set(err, PL_ENOTFOUND, "Binder Error: Columns in the SET SORTED BY statement were not found in "
					"the DuckLake table. Unmatched columns were: %s", missing.ptr);
	} else if (i + 3 != t->len) {
		rc = pl_err_set(err, PL_EINVALID, "syntax error: expected RESET SORTED BY");
	}
	if (rc == 0)
		rc = pl_sort_plan(tab, keys, n, txn, noop, err);
	for (size_t k = 0; k < 32; k++)
		free(exprs[k]);
	pl_buf_dispose(&missing);
	return rc;
}

int pl_handle_alter(pl_stmt *st, size_t name_at, planar_result **out, pl_err *err)
{
	pl_target tgt = {0};
	alter_stmt a = {0};
	pl_txn txn = {0};
	char *parts[3] = {0};
	size_t n = 0, i = name_at;
	bool if_exists = pl_tok_is(&st->toks, 2, "IF");
	(void)out;
	int rc = pl_parse_qname(&st->toks, &i, parts, &n, err);
	if (rc == 0)
		rc = pl_resolve_target(st, parts, n, &tgt, err);
	for (size_t k = 0; k < n; k++)
		free(parts[k]);
	if (rc == 0)
		rc = pl_lake_check_writable(tgt.lake, err);
	const pl_model *m = rc ? NULL : tgt.lake->model;
	const pl_schema *s = rc ? NULL : pl_model_schema(m, tgt.schema);
	const pl_table *t = s ? pl_model_table(m, s->id, tgt.name) : NULL;
	if (rc == 0 && !t && s && pl_model_view(m, s->id, tgt.name))
		rc = pl_err_set(err, PL_EINVALID, "Catalog Error: Existing object %s is of type View, trying to alter type "
				"Table: \"%s\" is a view, not a table (use ALTER VIEW)", tgt.name, tgt.name);
	else if (rc == 0 && !t && !if_exists)
		rc = pl_err_set(err, PL_ENOTFOUND, "Catalog Error: Table with name %s does not exist!", tgt.name);
	const pl_toks *tk = &st->toks;
	bool partitioning = (pl_tok_is(tk, i, "SET") || pl_tok_is(tk, i, "RESET")) && pl_tok_is(tk, i + 1, "PARTITIONED") &&
			    pl_tok_is(tk, i + 2, "BY");
	bool sorting = (pl_tok_is(tk, i, "SET") || pl_tok_is(tk, i, "RESET")) && pl_tok_is(tk, i + 1, "SORTED") &&
		       pl_tok_is(tk, i + 2, "BY");
	if (rc == 0 && t && (partitioning || sorting)) {
		bool noop = false;
		rc = partitioning ? plan_partitioning(tk, i, t, &txn, &noop, err) : plan_sorting(st, i, t, &txn, &noop, err);
		if (rc == 0 && !noop)
			rc = pl_lake_commit(tgt.lake, st->conn, &txn, err);
	} else if (rc == 0 && t) {
		a.req.path = a.path;
		rc = read_action(&st->toks, i, &a, err);
		a.req.npath = a.npath;
		a.req.text = a.text;
		bool noop = false;
		pl_lake_ctx ctx;
		pl_lake_table_ctx(&ctx, tgt.lake, st->conn);
		if (rc == 0)
			rc = pl_alter_plan(&ctx.table, m, tgt.schema, t, &a.req, &txn, &noop, err);
		if (rc == 0 && !noop)
			rc = pl_lake_commit(tgt.lake, st->conn, &txn, err);
	}
	alter_stmt_dispose(&a);
	pl_txn_dispose(&txn);
	pl_target_dispose(&tgt);
	return rc;
}
