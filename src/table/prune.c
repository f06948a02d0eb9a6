/*
 * prune.c -- the drop query of file pruning and running it (see prune.h).
 *
 * For one column c with conditions k1..kn the query is
 *   SELECT i FROM (SELECT i, TRY_CAST(min_value AS T) AS mn, <max or NULL> AS mx,
 *                         value_count AS nv, null_count AS nn FROM __planar_fstats(lake, table, c, snap))
 *   WHERE (<k1 impossible>) OR ...
 * where a condition is impossible when each of its atoms is: coalesce(<atom impossible>, false)
 * AND ...
 * and the columns' queries are UNIONed. mx is NULL when the file holds NaNs (NaN sorts above
 * every number, and statistics leave it out); a NULL bound or count never drops a file.
 */
#include "table/prune.h"

#include <stdlib.h>
#include <string.h>

#include "table/scan.h"

static const char *const usable_types[] = {
	"int8", "int16", "int32", "int64", "int128", "uint8", "uint16", "uint32", "uint64", "uint128",
	"float32", "float64", "varchar", "date", "time", "timestamp", "timestamptz", "timestamp_s",
	"timestamp_ms", "timestamp_ns", "boolean", "uuid",
};

bool pl_prune_column_is_usable(const pl_column *c)
{
	if (strncmp(c->type, "decimal", 7) == 0)
		return true;
	for (size_t i = 0; i < sizeof(usable_types) / sizeof(usable_types[0]); i++)
		if (strcmp(c->type, usable_types[i]) == 0)
			return true;
	return false;
}

static void put_expr(pl_buf *out, const char *e)
{
	pl_buf_printf(out, "(%s)", e);
}

/* The condition under which no row of a file satisfies `column op e`, given the file's bounds
 * [mn, mx] and its counts of non-NULL (nv) and NULL (nn) values. A comparison is false or NULL
 * on a NULL, so a file with no non-NULL value satisfies none. */
static void put_impossible(pl_buf *out, const pl_prune_atom *a)
{
	const char *e = a->expr;
	switch (a->op) {
	case PL_PRUNE_IS_NULL:
		pl_buf_puts(out, "nn = 0");
		return;
	case PL_PRUNE_NOT_NULL:
		pl_buf_puts(out, "nv = 0");
		return;
	case PL_PRUNE_EQ:
		pl_buf_puts(out, "nv = 0 OR mn > ");
		put_expr(out, e);
		pl_buf_puts(out, " OR mx < ");
		put_expr(out, e);
		return;
	case PL_PRUNE_NE: /* every value is e */
		pl_buf_puts(out, "nv = 0 OR (mn = ");
		put_expr(out, e);
		pl_buf_puts(out, " AND mx = ");
		put_expr(out, e);
		pl_buf_putc(out, ')');
		return;
	case PL_PRUNE_LT:
		pl_buf_puts(out, "nv = 0 OR mn >= ");
		break;
	case PL_PRUNE_LE:
		pl_buf_puts(out, "nv = 0 OR mn > ");
		break;
	case PL_PRUNE_GT:
		pl_buf_puts(out, "nv = 0 OR mx <= ");
		break;
	case PL_PRUNE_GE:
		pl_buf_puts(out, "nv = 0 OR mx < ");
		break;
	}
	put_expr(out, e);
}

/* Column types whose bucket hash follows equality: `c = e` holds exactly for the value
 * CAST(e AS T) when e has c's type, or both are integers (floats are not: NaNs are equal
 * whatever their bits). */
static const char *const bucket_types[] = {
	"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
	"varchar", "date", "timestamp", "timestamptz", "boolean",
};
static const char int_types[] = "('TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT', "
				"'UINTEGER', 'UBIGINT', 'UHUGEINT')";

/* The bucket(N) keys of the table's partitioning on column c (at most 8). */
static size_t bucket_keys(const pl_table *t, const pl_column *c, size_t keys[8], int64_t counts[8])
{
	size_t n = 0;
	bool usable = false;
	for (size_t i = 0; i < sizeof(bucket_types) / sizeof(bucket_types[0]); i++)
		usable = usable || strcmp(c->type, bucket_types[i]) == 0;
	for (size_t k = 0; usable && t->partition_id >= 0 && k < t->npartition_keys && n < 8; k++) {
		const pl_partition_key *key = &t->partition_keys[k];
		if (key->column_id != c->id || strncmp(key->transform, "bucket(", 7) != 0)
			continue;
		int64_t count = strtoll(key->transform + 7, NULL, 10);
		if (count <= 0)
			continue;
		keys[n] = k;
		counts[n++] = count;
	}
	return n;
}

/* True when e's bucket (of count buckets) is known and not the file's bucket bK. */
static void put_other_bucket(pl_buf *out, size_t k, int64_t count, const char *e, const char *type)
{
	pl_buf_printf(out, " OR coalesce(b%zu <> CASE WHEN typeof(", k);
	put_expr(out, e);
	pl_buf_printf(out, ") = typeof(CAST(NULL AS %s)) OR (typeof(", type);
	put_expr(out, e);
	pl_buf_printf(out, ") IN %s AND typeof(CAST(NULL AS %s)) IN %s) THEN (murmur3_32(TRY_CAST(", int_types, type,
		      int_types);
	put_expr(out, e);
	pl_buf_printf(out, " AS %s)) & 2147483647) %% %lld END, false)", type, (long long)count);
}

/* True (never NULL) when the file satisfies no atom of k: by its statistics, or for `=`, by the
 * bucket its partition value names. */
static void put_cond(pl_buf *out, const pl_prune_cond *k, const size_t *keys, const int64_t *counts, size_t nkeys,
		     const char *type)
{
	for (size_t i = 0; i < k->natoms; i++) {
		if (i)
			pl_buf_puts(out, " AND ");
		pl_buf_puts(out, "(coalesce(");
		put_impossible(out, &k->atoms[i]);
		pl_buf_puts(out, ", false)");
		for (size_t b = 0; k->atoms[i].op == PL_PRUNE_EQ && b < nkeys; b++)
			put_other_bucket(out, keys[b], counts[b], k->atoms[i].expr, type);
		pl_buf_putc(out, ')');
	}
}

static void put_source(pl_buf *out, const char *fn, const char *lake, int64_t snap, const pl_table *t, int64_t id)
{
	pl_buf_printf(out, "%s(", fn);
	pl_buf_put_literal(out, lake);
	pl_buf_printf(out, ", '%lld', '%lld', '%lld')", (long long)t->id, (long long)id, (long long)snap);
}

static int put_column_query(pl_buf *out, const char *lake, int64_t snap, const pl_table *t, const pl_prune_cond *conds,
			    size_t n, const pl_column *c, pl_err *err)
{
	pl_buf type = PL_BUF_INIT;
	int rc = pl_scan_column_type(&type, c, err);
	if (rc)
		return rc;
	size_t keys[8];
	int64_t counts[8];
	size_t nkeys = bucket_keys(t, c, keys, counts);
	pl_buf_printf(out, "SELECT i FROM (SELECT i, TRY_CAST(min_value AS %s) AS mn, CASE WHEN contains_nan "
			   "THEN NULL ELSE TRY_CAST(max_value AS %s) END AS mx, value_count AS nv, null_count AS nn "
			   "FROM ",
		      type.ptr, type.ptr);
	put_source(out, "__planar_fstats", lake, snap, t, c->id);
	pl_buf_putc(out, ')');
	for (size_t b = 0; b < nkeys; b++) {
		pl_buf_printf(out, " FULL JOIN (SELECT i, TRY_CAST(value AS BIGINT) AS b%zu FROM ", keys[b]);
		put_source(out, "__planar_fparts", lake, snap, t, (int64_t)keys[b]);
		pl_buf_puts(out, ") USING (i)");
	}
	pl_buf_puts(out, " WHERE ");
	bool first = true;
	for (size_t i = 0; i < n; i++) {
		if (conds[i].column != c)
			continue;
		pl_buf_puts(out, first ? "(" : " OR (");
		first = false;
		put_cond(out, &conds[i], keys, counts, nkeys, type.ptr);
		pl_buf_putc(out, ')');
	}
	pl_buf_dispose(&type);
	return 0;
}

/* Appends the query whose one BIGINT column lists the indexes (into t->files) of the files the
 * conditions rule out. */
static int drop_sql(pl_buf *out, const char *lake, int64_t snap, const pl_table *t, const pl_prune_cond *conds, size_t n,
		    pl_err *err)
{
	size_t parts = 0;
	for (size_t i = 0; i < n; i++) {
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = conds[j].column == conds[i].column;
		if (seen)
			continue;
		if (parts++)
			pl_buf_puts(out, " UNION ");
		int rc = put_column_query(out, lake, snap, t, conds, n, conds[i].column, err);
		if (rc)
			return rc;
	}
	return pl_buf_oom(out) ? pl_err_nomem(err) : 0;
}

static int read_drops(duckdb_result *res, const pl_table *t, bool *keep, size_t *nkept, pl_err *err)
{
	idx_t chunks = duckdb_result_chunk_count(*res);
	for (idx_t c = 0; c < chunks; c++) {
		duckdb_data_chunk chunk = duckdb_result_get_chunk(*res, c);
		if (!chunk)
			return pl_err_nomem(err);
		idx_t rows = duckdb_data_chunk_get_size(chunk);
		duckdb_vector v = duckdb_data_chunk_get_vector(chunk, 0);
		const int64_t *ids = duckdb_vector_get_data(v);
		uint64_t *valid = duckdb_vector_get_validity(v);
		for (idx_t r = 0; r < rows; r++) {
			if (!duckdb_validity_row_is_valid(valid, r) || ids[r] < 0 || (size_t)ids[r] >= t->nfiles)
				continue;
			if (keep[ids[r]]) {
				keep[ids[r]] = false;
				(*nkept)--;
			}
		}
		duckdb_destroy_data_chunk(&chunk);
	}
	return 0;
}

int pl_prune_files(duckdb_connection con, const char *lake, int64_t snapshot, const pl_table *t,
		   const pl_prune_cond *conds, size_t n, bool *keep, size_t *nkept, pl_err *err)
{
	for (size_t i = 0; i < t->nfiles; i++)
		keep[i] = true;
	*nkept = t->nfiles;
	if (n == 0)
		return 0;
	pl_buf q = PL_BUF_INIT;
	duckdb_result res;
	int rc = drop_sql(&q, lake, snapshot, t, conds, n, err);
	if (rc == 0)
		rc = pl_engine_query(con, q.ptr, &res, err);
	pl_buf_dispose(&q);
	if (rc)
		return rc;
	rc = read_drops(&res, t, keep, nkept, err);
	duckdb_destroy_result(&res);
	return rc;
}

int pl_prune_order(duckdb_connection con, const char *lake, int64_t snapshot, const pl_table *t, const pl_column *c,
		   bool desc, size_t *order, pl_err *err)
{
	pl_buf q = PL_BUF_INIT, type = PL_BUF_INIT;
	int rc = pl_scan_column_type(&type, c, err);
	if (rc)
		return rc;
	pl_buf_puts(&q, "SELECT i FROM ");
	put_source(&q, "__planar_fstats", lake, snapshot, t, c->id);
	if (desc)
		pl_buf_printf(&q, " ORDER BY CASE WHEN contains_nan THEN NULL ELSE TRY_CAST(max_value AS %s) END DESC",
			      type.ptr);
	else
		pl_buf_printf(&q, " ORDER BY TRY_CAST(min_value AS %s) ASC", type.ptr);
	pl_buf_puts(&q, " NULLS FIRST, i");
	pl_buf_dispose(&type);
	duckdb_result res;
	rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query(con, q.ptr, &res, err);
	pl_buf_dispose(&q);
	if (rc)
		return rc;
	bool *placed = calloc(t->nfiles ? t->nfiles : 1, sizeof(*placed));
	int64_t *ranked = malloc((t->nfiles ? t->nfiles : 1) * sizeof(*ranked));
	size_t nranked = 0, n = 0;
	rc = !placed || !ranked ? pl_err_nomem(err) : 0;
	for (idx_t ch = 0, chunks = rc ? 0 : duckdb_result_chunk_count(res); rc == 0 && ch < chunks; ch++) {
		duckdb_data_chunk chunk = duckdb_result_get_chunk(res, ch);
		if (!chunk) {
			rc = pl_err_nomem(err);
			break;
		}
		duckdb_vector v = duckdb_data_chunk_get_vector(chunk, 0);
		const int64_t *ids = duckdb_vector_get_data(v);
		uint64_t *valid = duckdb_vector_get_validity(v);
		for (idx_t r = 0, rows = duckdb_data_chunk_get_size(chunk); r < rows && nranked < t->nfiles; r++)
			if (duckdb_validity_row_is_valid(valid, r) && ids[r] >= 0 && (size_t)ids[r] < t->nfiles &&
			    !placed[ids[r]]) {
				placed[ids[r]] = true;
				ranked[nranked++] = ids[r];
			}
		duckdb_destroy_data_chunk(&chunk);
	}
	duckdb_destroy_result(&res);
	for (size_t i = 0; rc == 0 && i < t->nfiles; i++) /* files without statistics first */
		if (!placed[i])
			order[n++] = i;
	for (size_t i = 0; rc == 0 && i < nranked; i++)
		order[n++] = (size_t)ranked[i];
	free(placed);
	free(ranked);
	return rc;
}
