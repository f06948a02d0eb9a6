/*
 * aggfold.c -- count(*), min(column) and max(column) of a lake table from the catalog (see
 * aggfold.h).
 */
#include "sql/aggfold.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog/reads.h"
#include "sql/lake.h"
#include "table/livebound.h"
#include "table/scan.h"
#include "table/statcache.h"

#define MAX_AGGS 64

typedef enum agg_kind { AGG_COUNT, AGG_MIN, AGG_MAX } agg_kind;

typedef struct agg_item {
	agg_kind kind;
	char *column;              /* min/max: the column as written (unquoted) */
	char *alias;               /* AS name, or NULL */
	const pl_column *col;      /* min/max: the table's column */
	bool has_value;            /* min/max: some row has a non-NULL value */
	int64_t value;             /* the bound, or its order key (timestamp, date) */
	char text[32];             /* timestamp, date: the bound as the catalog writes it */
} agg_item;

static bool digits(const char *s, size_t n, int64_t *out)
{
	int64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* A bound of a timestamp or date column as DuckDB writes it, 'YYYY-MM-DD' then for a timestamp
 * ' HH:MM:SS' and up to six fraction digits: a key that orders the bounds as time does (false
 * for any other text: infinities, years before 1 or after 9999, other types and precisions). */
static bool parse_time_bound(const char *type, const char *s, int64_t *out)
{
	bool ts = strcmp(type, "timestamp") == 0;
	if ((!ts && strcmp(type, "date") != 0) || !s)
		return false;
	size_t len = strlen(s);
	int64_t y, mo, d, h = 0, mi = 0, sec = 0, frac = 0;
	if (len < 10 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
	    !digits(s + 8, 2, &d) || y < 1 || mo < 1 || mo > 12 || d < 1 || d > 31)
		return false;
	if (!ts) {
		*out = (y * 12 + mo) * 31 + d;
		return len == 10;
	}
	if (len < 19 || s[10] != ' ' || !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) ||
	    s[16] != ':' || !digits(s + 17, 2, &sec) || h > 23 || mi > 59 || sec > 59)
		return false;
	if (len > 19) {
		size_t n = len - 20;
		if (s[19] != '.' || n < 1 || n > 6 || !digits(s + 20, n, &frac))
			return false;
		for (; n < 6; n++)
			frac *= 10;
	}
	*out = (((((y * 12 + mo) * 31 + d) * 24 + h) * 60 + mi) * 60 + sec) * 1000000 + frac;
	return true;
}

/* A bound of an integer column as the catalog writes it: an optional '-' and digits, within the
 * range of the column's DuckLake type (false for any other text or type). */
static bool parse_bound(const char *type, const char *s, int64_t *out)
{
	static const struct {
		const char *type;
		int64_t lo, hi;
	} ranges[] = {
		{"int8", -128, 127},
		{"int16", -32768, 32767},
		{"int32", -2147483647LL - 1, 2147483647LL},
		{"int64", INT64_MIN, INT64_MAX},
		{"uint8", 0, 255},
		{"uint16", 0, 65535},
		{"uint32", 0, 4294967295LL},
	};
	if (!s || !*s)
		return false;
	const char *p = s + (*s == '-');
	if (!*p)
		return false;
	for (const char *q = p; *q; q++)
		if (*q < '0' || *q > '9')
			return false;
	errno = 0;
	char *end = NULL;
	long long v = strtoll(s, &end, 10);
	if (errno || !end || *end)
		return false;
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		if (strcmp(ranges[i].type, type) == 0) {
			if (v < ranges[i].lo || v > ranges[i].hi)
				return false;
			*out = (int64_t)v;
			return true;
		}
	return false;
}

/* An integer column (its bounds are numbers; else a timestamp or date, bounds kept as text). */
static bool int_type(const char *type)
{
	int64_t ignored;
	return parse_bound(type, "0", &ignored);
}

static bool foldable_type(const char *type)
{
	return int_type(type) || strcmp(type, "timestamp") == 0 || strcmp(type, "date") == 0;
}

/* The order key of a bound of item a's column: the number, or parse_time_bound's key. */
static bool bound_key(const agg_item *a, const char *s, int64_t *key)
{
	return int_type(a->col->type) ? parse_bound(a->col->type, s, key) : parse_time_bound(a->col->type, s, key);
}

/* Widens item a by the bounds lo_s..hi_s of some rows: false when they are not bounds the
 * catalog writes for a's column (or lo > hi). */
static bool widen(agg_item *a, const char *lo_s, const char *hi_s)
{
	int64_t lo = 0, hi = 0;
	if (!bound_key(a, lo_s, &lo) || !bound_key(a, hi_s, &hi) || lo > hi)
		return false;
	int64_t v = a->kind == AGG_MIN ? lo : hi;
	if (!a->has_value || (a->kind == AGG_MIN ? v < a->value : v > a->value)) {
		a->value = v;
		if (!int_type(a->col->type)) /* fits: parse_time_bound takes at most 26 characters */
			snprintf(a->text, sizeof(a->text), "%s", a->kind == AGG_MIN ? lo_s : hi_s);
	}
	a->has_value = true;
	return true;
}

/* The table's row count at the model's snapshot from its live files: each file's records minus
 * its deleted rows. False when the catalog cannot tell exactly (a delete file shared across
 * snapshots, rows of a merged file not there yet). */
static bool files_count(const pl_model *m, const pl_data_file *files, size_t nfiles, int64_t *out)
{
	int64_t n = 0;
	for (size_t i = 0; i < nfiles; i++) {
		const pl_data_file *f = &files[i];
		/* positions deleted in the catalog are counted when the file has no delete file too */
		if (f->record_count < 0 || (f->delete_path && (f->delete_partial_max >= 0 || f->delete_count < 0)) ||
		    (f->ninlined_deletes && (f->delete_path || f->inlined_deletes[f->ninlined_deletes - 1] >= f->record_count)) ||
		    (f->partial_max >= 0 && f->partial_max > m->snapshot_id))
			return false;
		n += f->record_count - (f->delete_path ? f->delete_count : 0) - (int64_t)f->ninlined_deletes;
	}
	*out = n;
	return true;
}

/* Item a's bound (has_value) as a constant of the column's DuckDB type `type`. */
static void put_bound(pl_buf *out, const agg_item *a, const char *type)
{
	pl_buf_puts(out, "CAST(");
	if (a->text[0])
		pl_buf_put_literal(out, a->text);
	else
		pl_buf_printf(out, "%lld", (long long)a->value);
	pl_buf_printf(out, " AS %s)", type);
}

/* Whether some live row of the files holds item a's bound, when files with deleted rows gave it
 * (their statistics still count the deleted rows): a file without deleted rows giving the same
 * bound, or a live row holding it in one that has (table/livebound.h). */
static bool bound_live(planar_conn *conn, const pl_model *m, const pl_table *tab, const pl_data_file *files,
		       size_t nfiles, const pl_file_stat **stats, agg_item *a)
{
	bool live = false, ok = true;
	pl_buf value = PL_BUF_INIT, type = PL_BUF_INIT;
	pl_err ignored = {0};
	for (size_t i = 0; ok && !live && i < nfiles; i++) {
		int64_t key = 0;
		const char *s = !stats[i] ? NULL : a->kind == AGG_MIN ? stats[i]->min : stats[i]->max;
		if (files[i].record_count == 0 || !s || !bound_key(a, s, &key) || key != a->value)
			continue;
		if (!files[i].delete_path && !files[i].ninlined_deletes) {
			live = true;
			break;
		}
		if (!value.len) {
			ok = pl_column_duckdb_type(&type, a->col, &ignored) == 0;
			put_bound(&value, a, pl_buf_cstr(&type));
			ok = ok && !pl_buf_oom(&value);
		}
		/* at most 4,096 rows holding the bound are looked at: beyond, the scan answers */
		ok = ok && pl_livebound_has(&conn->db->deletes, conn->con, m, tab, &files[i], a->col, value.ptr, 4096,
					    &live, &ignored) == 0;
	}
	pl_buf_dispose(&value);
	pl_buf_dispose(&type);
	return ok && live;
}

/* Bounds of a min/max item over the live files, from their column statistics: false when they
 * may not be the bounds of the rows a scan returns. */
static bool files_bounds(planar_conn *conn, pl_lake *lake, const pl_model *m, const pl_table *tab,
			 const pl_data_file *files, size_t nfiles, agg_item *a)
{
	bool deletes = false;
	for (size_t i = 0; i < nfiles; i++) {
		const pl_data_file *f = &files[i];
		/* a registered file's statistics are its writer's */
		if (f->record_count < 0 || f->mapped || (f->partial_max >= 0 && f->partial_max > m->snapshot_id))
			return false;
		deletes |= f->delete_path || f->ninlined_deletes;
	}
	const pl_file_stat **stats = NULL;
	pl_err ignored = {0};
	if (nfiles && pl_statcache_lookup(&lake->stats, lake->cat, tab, a->col->id, lake->shared_model == NULL, &stats,
					  &ignored) != 0)
		return false;
	bool ok = true;
	for (size_t i = 0; ok && i < nfiles; i++) {
		if (files[i].record_count == 0)
			continue;
		/* no statistics: written before the column was added, or bounds unknown or all NULL */
		ok = stats[i] && widen(a, stats[i]->min, stats[i]->max);
	}
	if (ok && deletes && a->has_value)
		ok = bound_live(conn, m, tab, files, nfiles, stats, a);
	free(stats);
	return ok;
}

/* Widens the timestamp and date items by the live rows of inlined-data table it. The catalog
 * keeps such values as text, which orders as time only in its plainest form, so DuckDB reads the
 * rows as the table's scan does and writes their bounds. False when it cannot. */
static bool inlined_time_bounds(planar_conn *conn, pl_lake *lake, const pl_model *m, const pl_table *tab,
				const pl_inlined_table *it, agg_item *items, size_t nitems)
{
	pl_buf q = PL_BUF_INIT, rows = PL_BUF_INIT;
	pl_err ignored = {0};
	bool ok = pl_scan_inlined_sql(&rows, lake->name, m, tab, it, &ignored) == 0;
	size_t ncols = 0;
	pl_buf_puts(&q, "SELECT ");
	for (size_t k = 0; k < nitems; k++) {
		if (items[k].kind == AGG_COUNT || int_type(items[k].col->type))
			continue;
		for (int hi = 0; hi < 2; hi++) {
			pl_buf_puts(&q, ncols++ ? ", CAST(" : "CAST(");
			pl_buf_puts(&q, hi ? "max(" : "min(");
			pl_buf_put_ident(&q, items[k].col->name);
			pl_buf_puts(&q, ") AS VARCHAR)");
		}
	}
	pl_buf_puts(&q, " FROM (");
	pl_buf_puts(&q, pl_buf_cstr(&rows));
	pl_buf_putc(&q, ')');
	duckdb_result res;
	ok = ok && !pl_buf_oom(&q) && !pl_buf_oom(&rows) && pl_engine_query(conn->con, q.ptr, &res, &ignored) == 0;
	pl_buf_dispose(&q);
	pl_buf_dispose(&rows);
	if (!ok)
		return false;
	ok = duckdb_row_count(&res) == 1 && duckdb_column_count(&res) == ncols;
	for (size_t k = 0, c = 0; ok && k < nitems; k++) {
		if (items[k].kind == AGG_COUNT || int_type(items[k].col->type))
			continue;
		char *lo = duckdb_value_is_null(&res, c, 0) ? NULL : duckdb_value_varchar(&res, c, 0);
		char *hi = duckdb_value_is_null(&res, c + 1, 0) ? NULL : duckdb_value_varchar(&res, c + 1, 0);
		c += 2;
		if (lo || hi) /* else every live value is NULL */
			ok = widen(&items[k], lo, hi);
		duckdb_free(lo);
		duckdb_free(hi);
	}
	duckdb_destroy_result(&res);
	return ok;
}

/* Adds the live rows of the table's inlined-data tables to *count and their bounds to the
 * min/max items: false when a row was deleted (min/max) or the bounds cannot be told. Integer
 * bounds come from the catalog; timestamp and date bounds from the rows (inlined_time_bounds). */
static bool inlined_fold(planar_conn *conn, pl_lake *lake, const pl_model *m, const pl_table *tab,
			 agg_item *items, size_t nitems, bool minmax, int64_t *count)
{
	int64_t ids[MAX_AGGS];
	size_t nids = 0;
	bool times = false; /* a timestamp or date item */
	for (size_t k = 0; k < nitems; k++) {
		if (items[k].kind == AGG_COUNT)
			continue;
		if (int_type(items[k].col->type))
			ids[nids++] = items[k].col->id;
		else
			times = true;
	}
	bool ok = true;
	for (size_t i = 0; ok && i < tab->ninlined; i++) {
		const pl_inlined_table *it = &tab->inlined[i];
		pl_rows *r = NULL;
		pl_err ignored = {0};
		if (it->ndeleted || pl_catalog_inlined_bounds(lake->cat, it->name, m->snapshot_id, ids, nids, &r, &ignored))
			return false;
		int64_t live = pl_rows_int(r, 0, 0, -1), deleted = pl_rows_int(r, 0, 1, -1);
		ok = live >= 0 && deleted >= 0 && (!minmax || deleted == 0);
		if (ok)
			*count += live;
		for (size_t k = 0, c = 2; ok && live > 0 && k < nitems; k++) {
			if (items[k].kind == AGG_COUNT || !int_type(items[k].col->type))
				continue;
			const char *lo_s = pl_rows_get(r, 0, c), *hi_s = pl_rows_get(r, 0, c + 1);
			bool present = pl_rows_int(r, 0, c + 2, 0) == 1;
			c += 3;
			const char *dflt = items[k].col->initial_default;
			if (!present) /* rows stored before the column was added read its initial default */
				lo_s = hi_s = dflt && strcasecmp(dflt, "NULL") != 0 ? dflt : NULL;
			if (!lo_s && !hi_s)
				continue; /* every live value is NULL */
			ok = widen(&items[k], lo_s, hi_s);
		}
		pl_rows_free(r);
		if (ok && times && live > 0)
			ok = inlined_time_bounds(conn, lake, m, tab, it, items, nitems);
	}
	return ok;
}

/* Whether the session's transaction has written to the lake (its model holds uncommitted rows). */
static bool local_writes(const planar_conn *conn, const pl_lake *lake)
{
	for (size_t i = 0; conn->in_txn && i < conn->nbegin; i++)
		if (conn->begin[i].lake == lake && (conn->begin[i].pending || conn->begin[i].nwrites))
			return true;
	return false;
}

/* Whether the session has a temporary table or view of that name (it would shadow a lake's). */
static bool temp_object(planar_conn *conn, const char *name)
{
	pl_buf q = PL_BUF_INIT;
	char *v = NULL;
	pl_err ignored;
	pl_buf_puts(&q, "SELECT count(*) FROM (SELECT table_name AS n FROM duckdb_tables() WHERE temporary UNION ALL "
			"SELECT view_name FROM duckdb_views() WHERE temporary) WHERE lower(n) = lower(");
	pl_buf_put_literal(&q, name);
	pl_buf_putc(&q, ')');
	bool found = pl_buf_oom(&q) || pl_engine_query_value(conn->con, q.ptr, &v, &ignored) != 0 || !v ||
		     strcmp(v, "0") != 0;
	free(v);
	pl_buf_dispose(&q);
	return found;
}

/* The name DuckDB gives the result column of min(column) / max(column): the function's name and
 * the column as written, quoted when it is a keyword. False for a name DuckDB may write otherwise. */
static bool default_alias(planar_conn *conn, const agg_item *a, pl_buf *out)
{
	const char *s = a->column;
	if (!(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (const char *p = s; *p; p++)
		if (!(isalnum((unsigned char)*p) || *p == '_'))
			return false;
	pl_buf q = PL_BUF_INIT;
	char *v = NULL;
	pl_err ignored;
	pl_buf_puts(&q, "SELECT count(*) FROM duckdb_keywords() WHERE keyword_name = lower(");
	pl_buf_put_literal(&q, s);
	pl_buf_putc(&q, ')');
	bool ok = !pl_buf_oom(&q) && pl_engine_query_value(conn->con, q.ptr, &v, &ignored) == 0 && v;
	bool keyword = ok && strcmp(v, "0") != 0;
	free(v);
	pl_buf_dispose(&q);
	if (!ok)
		return false;
	pl_buf_puts(out, a->kind == AGG_MIN ? "min(" : "max(");
	pl_buf_puts(out, keyword ? "\"" : "");
	pl_buf_puts(out, s);
	pl_buf_puts(out, keyword ? "\")" : ")");
	return true;
}

/* Parses the select list `agg [AS name] [, ...]` from token *i; false when it is not one. */
static bool parse_items(const pl_toks *t, size_t *i, agg_item *items, size_t *nitems, bool *oom)
{
	for (;;) {
		size_t k = *i;
		if (*nitems == MAX_AGGS || !pl_tok_is_punct(t, k + 1, "(") || !pl_tok_is_punct(t, k + 3, ")"))
			return false;
		agg_item *a = &items[*nitems];
		memset(a, 0, sizeof(*a));
		if (pl_tok_is(t, k, "count") && pl_tok_is_punct(t, k + 2, "*")) {
			a->kind = AGG_COUNT;
		} else if ((pl_tok_is(t, k, "min") || pl_tok_is(t, k, "max")) &&
			   (t->items[k + 2].kind == PL_TOK_WORD || t->items[k + 2].kind == PL_TOK_QIDENT)) {
			a->kind = pl_tok_is(t, k, "min") ? AGG_MIN : AGG_MAX;
			if (!(a->column = pl_tok_ident(t, k + 2)))
				return !(*oom = true);
		} else {
			return false;
		}
		(*nitems)++;
		k += 4;
		if (pl_tok_is(t, k, "AS") && k + 1 < t->len &&
		    (t->items[k + 1].kind == PL_TOK_WORD || t->items[k + 1].kind == PL_TOK_QIDENT)) {
			if (!(a->alias = pl_tok_ident(t, k + 1)))
				return !(*oom = true);
			k += 2;
		}
		*i = k;
		if (!pl_tok_is_punct(t, k, ","))
			return true;
		(*i)++;
	}
}

/* The folded statement: the prefix, then SELECT of each item's constant under its name. */
static int folded_sql(planar_conn *conn, const pl_toks *t, size_t select, agg_item *items, size_t nitems,
		      int64_t count, char **sql_out, pl_err *err)
{
	pl_buf q = PL_BUF_INIT, type = PL_BUF_INIT, name = PL_BUF_INIT;
	pl_buf_put(&q, t->src, t->items[select].start); /* EXPLAIN [ANALYZE] */
	pl_buf_puts(&q, "SELECT ");
	bool ok = true;
	int rc = 0;
	for (size_t k = 0; ok && rc == 0 && k < nitems; k++) {
		agg_item *a = &items[k];
		pl_buf_truncate(&type, 0);
		pl_buf_truncate(&name, 0);
		if (k)
			pl_buf_puts(&q, ", ");
		if (a->kind == AGG_COUNT) {
			pl_buf_printf(&q, "CAST(%lld AS BIGINT)", (long long)count);
			pl_buf_puts(&name, a->alias ? a->alias : "count_star()");
		} else {
			rc = pl_column_duckdb_type(&type, a->col, err);
			if (a->has_value)
				put_bound(&q, a, type.ptr ? type.ptr : "");
			else
				pl_buf_printf(&q, "CAST(NULL AS %s)", type.ptr ? type.ptr : "");
			if (a->alias)
				pl_buf_puts(&name, a->alias);
			else
				ok = default_alias(conn, a, &name);
		}
		pl_buf_puts(&q, " AS ");
		pl_buf_put_ident(&q, name.ptr ? name.ptr : "");
	}
	if (rc == 0 && ok && (pl_buf_oom(&q) || pl_buf_oom(&type) || pl_buf_oom(&name)))
		rc = pl_err_nomem(err);
	if (rc == 0 && ok)
		*sql_out = pl_buf_detach(&q);
	pl_buf_dispose(&q);
	pl_buf_dispose(&type);
	pl_buf_dispose(&name);
	return rc;
}

/* The catalog's answers for the items on table tab; false when one is not known exactly. */
static bool fold(planar_conn *conn, pl_lake *lake, const pl_table *tab, agg_item *items, size_t nitems,
		 int64_t *count)
{
	const pl_model *m = lake->model; /* inside a transaction, the one it sees (pl_txn_enter) */
	bool minmax = false;
	for (size_t k = 0; k < nitems; k++) {
		if (items[k].kind == AGG_COUNT)
			continue;
		minmax = true;
		for (size_t c = 0; !items[k].col && c < tab->ntop; c++)
			if (strcasecmp(tab->top[c]->name, items[k].column) == 0)
				items[k].col = tab->top[c];
		if (!items[k].col || !foldable_type(items[k].col->type))
			return false;
	}
	bool local = local_writes(conn, lake);
	const pl_data_file *files = NULL;
	size_t nfiles = 0;
	pl_err ignored = {0};
	if ((minmax && local) || (tab->ninlined && local) || pl_model_table_files(m, tab, &files, &nfiles, &ignored))
		return false;
	if (!files_count(m, files, nfiles, count))
		return false;
	for (size_t k = 0; k < nitems; k++)
		if (items[k].kind != AGG_COUNT && !files_bounds(conn, lake, m, tab, files, nfiles, &items[k]))
			return false;
	return inlined_fold(conn, lake, m, tab, items, nitems, minmax, count);
}

/* Whether DuckDB parses the statement as written: one it refuses (a reserved word as a bare
 * column name, say) is left to it, to fail as it would. */
static bool duckdb_parses(planar_conn *conn, const char *sql)
{
	duckdb_extracted_statements st = NULL;
	idx_t n = duckdb_extract_statements(conn->con, sql, &st);
	duckdb_destroy_extracted(&st);
	return n > 0;
}

int pl_agg_fold_rewrite(planar_conn *conn, const pl_toks *t, char **sql_out, pl_err *err)
{
	size_t i = 0;
	if (pl_tok_is(t, 0, "EXPLAIN"))
		i = pl_tok_is(t, 1, "ANALYZE") ? 2 : 1;
	size_t select = i;
	if (!pl_tok_is(t, i, "SELECT"))
		return 0;
	i++;
	agg_item items[MAX_AGGS];
	size_t nitems = 0;
	bool oom = false;
	bool ok = parse_items(t, &i, items, &nitems, &oom);
	int rc = oom ? pl_err_nomem(err) : 0;
	char *parts[3] = {0};
	size_t n = 0;
	pl_err ignored = {0};
	ok = ok && !oom && pl_tok_is(t, i, "FROM") && (i++, pl_parse_qname(t, &i, parts, &n, &ignored) == 0);
	if (ok && pl_tok_is(t, i, "AS"))
		i++;
	if (ok && i < t->len && t->items[i].kind == PL_TOK_WORD && !pl_tok_is_punct(t, i, ";") &&
	    !pl_tok_is(t, i, "WHERE") && !pl_tok_is(t, i, "GROUP") && !pl_tok_is(t, i, "LIMIT"))
		i++;
	else if (ok && i < t->len && t->items[i].kind == PL_TOK_QIDENT)
		i++;
	if (ok && pl_tok_is_punct(t, i, ";"))
		i++;
	ok = ok && i == t->len;
	/* a name without its lake: the session's current lake, unless a temporary object shadows it */
	char *cur_db = NULL, *cur_schema = NULL;
	bool qualified = ok && n >= 2 && pl_db_find_lake(conn->db, parts[0]) != NULL;
	if (ok && !qualified) {
		pl_stmt st = {conn, t->src, *t, NULL, PL_EXPLAIN_NONE, NULL};
		ok = pl_session_location(&st, &cur_db, &cur_schema, &ignored) == 0 && cur_db &&
		     pl_db_find_lake(conn->db, cur_db) != NULL && !temp_object(conn, parts[n - 1]);
	}
	pl_target tgt = {0};
	int64_t count = 0;
	if (ok && pl_resolve_target_in(conn->db, cur_db, cur_schema, parts, n, &tgt, &ignored) == 0 && tgt.lake) {
		const pl_model *m = tgt.lake->model;
		const pl_schema *sc = pl_model_schema(m, tgt.schema);
		const pl_table *tab = sc ? pl_model_table(m, sc->id, tgt.name) : NULL;
		if (tab && fold(conn, tgt.lake, tab, items, nitems, &count) && duckdb_parses(conn, t->src))
			rc = folded_sql(conn, t, select, items, nitems, count, sql_out, err);
	}
	pl_target_dispose(&tgt);
	for (size_t k = 0; k < n; k++)
		free(parts[k]);
	for (size_t k = 0; k < nitems; k++) {
		free(items[k].column);
		free(items[k].alias);
	}
	free(cur_db);
	free(cur_schema);
	return rc;
}
