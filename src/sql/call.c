/*
 * call.c -- CALL statements that manage a lake:
 *   CALL lake.set_option('name', value [, schema => 's'] [, table_name => 't'])
 *   CALL ducklake_set_option('lake', 'name', value [, ...])
 *   CALL [ducklake_]add_data_files(...): sql/addfiles.c
 * Options live in ducklake_metadata with the spec's global, schema and table scopes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/options.h"
#include "core/str.h"
#include "sql/flush.h"
#include "sql/lake.h"
#include "sql/router.h"
#include "sql/search.h"
#include "sql/transaction.h"
#include "table/context.h"

#define MAX_ARGS 8

typedef struct call_args {
	char *pos[MAX_ARGS];
	size_t npos;
	char *named_keys[MAX_ARGS], *named_vals[MAX_ARGS];
	size_t nnamed;
} call_args;

static void args_dispose(call_args *a)
{
	for (size_t i = 0; i < a->npos; i++)
		free(a->pos[i]);
	for (size_t i = 0; i < a->nnamed; i++) {
		free(a->named_keys[i]);
		free(a->named_vals[i]);
	}
}

static char *literal_value(const pl_toks *t, size_t i)
{
	if (t->items[i].kind == PL_TOK_STRING)
		return pl_tok_string(t, i);
	return pl_strndup(t->src + t->items[i].start, t->items[i].len);
}

/* Arguments between the parentheses at `open`: literals, and name => literal. */
static int parse_args(const pl_toks *t, size_t open, call_args *a, pl_err *err)
{
	size_t close = pl_tok_match_paren(t, open);
	if (close >= t->len || close + 1 != t->len)
		return pl_err_set(err, PL_EINVALID, "syntax error in CALL arguments");
	for (size_t i = open + 1; i < close;) {
		bool named = i + 3 < close + 1 && pl_tok_is_punct(t, i + 1, "=") && pl_tok_is_punct(t, i + 2, ">");
		size_t v = named ? i + 3 : i;
		if (v >= close || (a->npos >= MAX_ARGS || a->nnamed >= MAX_ARGS))
			return pl_err_set(err, PL_EINVALID, "syntax error in CALL arguments");
		/* a signed number: -1, +0.5 (the option's own check then says what it takes) */
		bool sign = (pl_tok_is_punct(t, v, "-") || pl_tok_is_punct(t, v, "+")) && v + 1 < close &&
			    t->items[v + 1].kind == PL_TOK_NUMBER && t->items[v + 1].start == t->items[v].start + 1;
		char *val = sign ? pl_strndup(t->src + t->items[v].start, t->items[v + 1].len + 1) : literal_value(t, v);
		v += sign;
		if (!val)
			return pl_err_nomem(err);
		if (named) {
			a->named_keys[a->nnamed] = pl_tok_ident(t, i);
			a->named_vals[a->nnamed++] = val;
		} else {
			a->pos[a->npos++] = val;
		}
		i = v + 1;
		if (i < close && !pl_tok_is_punct(t, i++, ","))
			return pl_err_set(err, PL_EINVALID, "CALL arguments must be literals");
	}
	return 0;
}

static const char *named(const call_args *a, const char *key)
{
	for (size_t i = 0; i < a->nnamed; i++)
		if (a->named_keys[i] && pl_str_ieq(a->named_keys[i], key))
			return a->named_vals[i];
	return NULL;
}

typedef enum option_kind { OPT_BOOL, OPT_COUNT, OPT_POSITIVE, OPT_SIZE, OPT_FRACTION, OPT_INTERVAL, OPT_CODEC,
			     OPT_PARQUET_VERSION } option_kind;

/* DuckLake's options and the values each takes (stored as DuckLake stores them). */
static const struct {
	const char *name;
	option_kind kind;
} lake_options[] = {
	{"parquet_compression", OPT_CODEC},      {"parquet_version", OPT_PARQUET_VERSION},
	{"parquet_compression_level", OPT_COUNT}, {"parquet_row_group_size", OPT_POSITIVE},
	{"parquet_row_group_size_bytes", OPT_SIZE}, {"target_file_size", OPT_SIZE},
	{"data_inlining_row_limit", OPT_COUNT},   {"require_commit_message", OPT_BOOL},
	{"rewrite_delete_threshold", OPT_FRACTION}, {"hive_file_pattern", OPT_BOOL},
	{"delete_older_than", OPT_INTERVAL},       {"expire_older_than", OPT_INTERVAL},
	{"auto_compact", OPT_BOOL},                {"per_thread_output", OPT_BOOL},
	{"write_deletion_vectors", OPT_BOOL},      {"sort_on_insert", OPT_BOOL},
};

static bool parse_count(const char *s, int64_t *out)
{
	char *end = NULL;
	if (!*s || *s == '-' || *s == '+')
		return false;
	long long v = strtoll(s, &end, 10);
	*out = v;
	return *end == '\0' && v >= 0 && v < INT64_MAX;
}

/* The value to store for option key, or an error naming what the option takes. */
static int normalize_option(planar_conn *conn, const char *key, const char *value, bool scoped, char **out,
			    pl_err *err)
{
	static const char *const codecs[] = {"uncompressed", "snappy", "gzip", "zstd", "brotli", "lz4", "lz4_raw"};
	*out = NULL;
	size_t k = 0, nopts = sizeof(lake_options) / sizeof(lake_options[0]);
	while (k < nopts && !pl_str_ieq(lake_options[k].name, key))
		k++;
	if (k == nopts)
		return pl_err_set(err, PL_EUNSUPPORTED, "Unsupported option %s", key);
	if (!value)
		return pl_err_set(err, PL_EINVALID, "option %s cannot be NULL", key);
	char buf[64];
	int64_t n = 0;
	const char *store = NULL;
	switch (lake_options[k].kind) {
	case OPT_BOOL:
		if (pl_str_ieq(value, "true") || pl_str_ieq(value, "t") || strcmp(value, "1") == 0)
			store = "true";
		else if (pl_str_ieq(value, "false") || pl_str_ieq(value, "f") || strcmp(value, "0") == 0)
			store = "false";
		break;
	case OPT_COUNT:
	case OPT_POSITIVE:
		if (parse_count(value, &n) && (n > 0 || lake_options[k].kind == OPT_COUNT))
			snprintf(buf, sizeof(buf), "%lld", (long long)n), store = buf;
		break;
	case OPT_SIZE:
		if (pl_parse_byte_size(value, &n))
			snprintf(buf, sizeof(buf), "%lld", (long long)n), store = buf;
		break;
	case OPT_FRACTION: {
		char *end = NULL;
		double d = strtod(value, &end);
		if (end != value && *end == '\0' && d >= 0 && d <= 1)
			snprintf(buf, sizeof(buf), "%f", d), store = buf;
		break;
	}
	case OPT_CODEC:
		for (size_t c = 0; c < sizeof(codecs) / sizeof(codecs[0]); c++)
			if (pl_str_ieq(value, codecs[c]))
				store = codecs[c];
		break;
	case OPT_PARQUET_VERSION:
		if (strcmp(value, "1") == 0 || strcmp(value, "2") == 0)
			snprintf(buf, sizeof(buf), "V%s", value), store = buf;
		break;
	case OPT_INTERVAL: {
		if (scoped)
			return pl_err_set(err, PL_EINVALID,
					  "The '%s' option can only be set globally, not for a specific schema or table", key);
		pl_buf q = PL_BUF_INIT;
		char *ignored = NULL;
		pl_buf_puts(&q, "SELECT CAST(");
		pl_buf_put_literal(&q, value);
		pl_buf_puts(&q, " AS INTERVAL)");
		pl_err cast_err = {0};
		if (!pl_buf_oom(&q) && (!*value || pl_engine_query_value(conn->con, q.ptr, &ignored, &cast_err) == 0))
			store = value;
		free(ignored);
		pl_buf_dispose(&q);
		break;
	}
	}
	static const char *const takes[] = {
		[OPT_BOOL] = "true or false", [OPT_COUNT] = "a whole number of 0 or more",
		[OPT_POSITIVE] = "a whole number of 1 or more", [OPT_SIZE] = "a size such as '128MB'",
		[OPT_FRACTION] = "a number between 0 and 1", [OPT_INTERVAL] = "an interval such as '7 days'",
		[OPT_CODEC] = "uncompressed, snappy, gzip, zstd, brotli, lz4 or lz4_raw", [OPT_PARQUET_VERSION] = "1 or 2",
	};
	/* the words DuckDB's own errors start with: an unknown codec is unsupported, a number that
	 * is none could not be converted */
	option_kind kind = lake_options[k].kind;
	const char *lead = kind == OPT_CODEC ? "Unsupported value: "
			   : kind == OPT_COUNT || kind == OPT_POSITIVE || kind == OPT_PARQUET_VERSION ? "Could not convert: "
			   : "";
	if (!store && kind == OPT_INTERVAL) /* DuckDB's extension's words first */
		return pl_err_set(err, PL_EINVALID, "%s is not a valid interval value. The option takes %s, not '%s'; "
				  "nothing was changed", lake_options[k].name, takes[kind], value);
	if (!store && kind == OPT_BOOL) /* as DuckDB's cast to BOOLEAN words it */
		return pl_err_set(err, PL_EINVALID, "Conversion Error: Could not convert string '%s' to BOOL: option %s takes "
				  "true or false; nothing was changed", value, lake_options[k].name);
	if (!store)
		return pl_err_set(err, PL_EINVALID, "%soption %s takes %s, not '%s'; nothing was changed", lead,
				  lake_options[k].name, takes[kind], value);
	return (*out = pl_strdup(store)) ? 0 : pl_err_nomem(err);
}

static int set_option(pl_lake *lake, const char *key, const char *value, const call_args *a, pl_err *err)
{
	const char *schema = named(a, "schema"), *table = named(a, "table_name");
	const char *scope = NULL;
	int64_t scope_id = -1;
	const pl_schema *s = pl_model_schema(lake->model, schema ? schema : "main");
	if (table) {
		const pl_table *t = s ? pl_model_table(lake->model, s->id, table) : NULL;
		if (!t)
			return pl_err_set(err, PL_ENOTFOUND, "Catalog Error: Table with name %s does not exist!", table);
		scope = "table", scope_id = t->id;
	} else if (schema) {
		if (!s)
			return pl_err_set(err, PL_ENOTFOUND, "Catalog Error: Schema with name %s does not exist!", schema);
		scope = "schema", scope_id = s->id;
	}
	if (strcmp(key, "data_inlining_row_limit") == 0 && strtoll(value, NULL, 10) > 0) {
		pl_table_ctx ctx = {.cat = lake->cat, .lake = lake->name};
		int rc = pl_table_check_inlining_on(&ctx, lake->model, scope, scope_id, err);
		if (rc)
			return rc;
	}
	return pl_catalog_set_option(lake->cat, key, value, scope, scope_id, err);
}

/* Which procedure a CALL names: `ducklake_<proc>('lake', ...)` or `lake.<proc>(...)`. */
static bool names_proc(const pl_toks *t, const char *proc, bool *qualified)
{
	char full[64];
	snprintf(full, sizeof(full), "ducklake_%s", proc);
	if (pl_tok_is(t, 1, full) && pl_tok_is_punct(t, 2, "(")) {
		*qualified = false;
		return true;
	}
	*qualified = true;
	return t->len > 4 && pl_tok_is_punct(t, 2, ".") && pl_tok_is(t, 3, proc) && pl_tok_is_punct(t, 4, "(");
}

/* CALL ...set_option / ...set_commit_message. Sets *handled. */
int pl_handle_call(pl_stmt *st, planar_result **out, pl_err *err, bool *handled)
{
	const pl_toks *t = &st->toks;
	planar_db *db = st->conn->db;
	call_args a = {0};
	pl_lake *lake = NULL;
	size_t open = 0, first = 0;
	bool qualified = false, message = false;
	int src = pl_search_call(st, out, err, handled); /* create / drop_search_index (sql/search.c) */
	if (src || *handled)
		return src;
	if (names_proc(t, "add_data_files", &qualified)) {
		char *name = qualified ? pl_tok_ident(t, 1) : NULL;
		lake = name ? pl_db_find_lake(db, name) : NULL;
		free(name);
		if (qualified && !lake)
			return 0;
		*handled = true;
		return pl_handle_add_data_files(st, lake, qualified ? 4 : 2, err);
	}
	if (st->conn->in_txn && names_proc(t, "flush_inlined_data", &qualified) && !qualified) {
		/* inside a transaction the flush is one of its writes (sql/flush.h) */
		*handled = true;
		int rc = parse_args(t, 2, &a, err);
		if (rc == 0 && a.npos != 1)
			rc = pl_err_set(err, PL_EINVALID, "ducklake_flush_inlined_data takes the name of a lake");
		if (rc == 0 && !(lake = pl_db_find_lake(db, a.pos[0])))
			rc = pl_err_set(err, PL_ENOTFOUND, "Catalog Error: no lake named \"%s\" is attached", a.pos[0]);
		if (rc == 0)
			rc = pl_flush_in_txn(st->conn, lake, named(&a, "schema_name"), named(&a, "table_name"), err);
		args_dispose(&a);
		return rc;
	}
	if (names_proc(t, "set_commit_message", &qualified))
		message = true;
	else if (!names_proc(t, "set_option", &qualified))
		return 0;
	if (!qualified) {
		open = 2, first = 1;
	} else {
		char *name = pl_tok_ident(t, 1);
		lake = name ? pl_db_find_lake(db, name) : NULL;
		free(name);
		if (!lake)
			return 0;
		open = 4;
	}
	*handled = true;
	int rc = parse_args(t, open, &a, err);
	if (rc == 0 && first && a.npos > 0 && !(lake = pl_db_find_lake(db, a.pos[0])))
		rc = pl_err_set(err, PL_ENOTFOUND, "no lake named \"%s\" is attached", a.pos[0]);
	if (rc == 0 && message) {
		if (a.npos != first + 2)
			rc = pl_err_set(err, PL_EINVALID, "set_commit_message takes an author and a message");
		else
			rc = pl_txn_set_commit_message(st->conn, a.pos[first], a.pos[first + 1], named(&a, "extra_info"), err);
		args_dispose(&a);
		return rc;
	}
	if (rc == 0 && a.npos != first + 2)
		rc = pl_err_set(err, PL_EINVALID, "set_option takes an option name and a value");
	if (rc == 0)
		rc = pl_lake_check_writable(lake, err);
	char *value = NULL;
	if (rc == 0)
		rc = normalize_option(st->conn, a.pos[first], a.pos[first + 1],
				      named(&a, "schema") || named(&a, "table_name"), &value, err);
	if (rc == 0)
		rc = set_option(lake, a.pos[first], value, &a, err);
	free(value);
	args_dispose(&a);
	return rc;
}
