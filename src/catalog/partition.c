/*
 * partition.c -- tables' partitioning and sort order in the model (ducklake_partition_info /
 * ducklake_partition_column and ducklake_sort_info / ducklake_sort_expression at a snapshot).
 */
#include "catalog/model_rows.h"

#include <stdlib.h>
#include <string.h>

#include "core/str.h"

#define LIVE_AT " ? >= i.begin_snapshot AND (i.end_snapshot IS NULL OR ? < i.end_snapshot)"

int pl_model__load_partitions(pl_model *m, pl_catdb *db, pl_err *err)
{
	pl_rows *r = NULL;
	pl_val p[] = {PL_VINT(m->snapshot_id), PL_VINT(m->snapshot_id)};
	int rc = pl_catdb_query(db,
				"SELECT i.table_id, i.partition_id, c.column_id, c.transform FROM ducklake_partition_info i "
				"JOIN ducklake_partition_column c ON c.partition_id = i.partition_id AND c.table_id = i.table_id "
				"WHERE" LIVE_AT " ORDER BY i.table_id, i.partition_id, c.partition_key_index",
				p, 2, &r, err);
	if (rc)
		return rc;
	bool oom = false;
	for (size_t i = 0; !oom && i < r->nrows; i++) {
		pl_table *t = (pl_table *)pl_model_table_by_id(m, pl_rows_int(r, i, 0, -1));
		int64_t id = pl_rows_int(r, i, 1, -1);
		if (!t || (t->partition_id >= 0 && t->partition_id != id))
			continue; /* one live partitioning per table; a second one is ignored */
		pl_partition_key *k = realloc(t->partition_keys, (t->npartition_keys + 1) * sizeof(*k));
		const char *tr = pl_rows_get(r, i, 3);
		char *transform = pl_strdup(tr ? tr : "identity");
		if (!k || !transform) {
			free(transform);
			if (k)
				t->partition_keys = k;
			oom = true;
			break;
		}
		t->partition_keys = k;
		t->partition_keys[t->npartition_keys++] = (pl_partition_key){pl_rows_int(r, i, 2, -1), transform};
		t->partition_id = id;
	}
	pl_rows_free(r);
	r = NULL;
	if (!oom)
		rc = pl_catdb_query(db,
				    "SELECT i.table_id, i.sort_id, e.expression, e.sort_direction, e.null_order FROM ducklake_sort_info i "
				    "JOIN ducklake_sort_expression e ON e.sort_id = i.sort_id AND e.table_id = i.table_id WHERE" LIVE_AT
				    " ORDER BY i.table_id, i.sort_id, e.sort_key_index",
				    p, 2, &r, err);
	for (size_t i = 0; rc == 0 && !oom && i < r->nrows; i++) {
		pl_table *t = (pl_table *)pl_model_table_by_id(m, pl_rows_int(r, i, 0, -1));
		int64_t id = pl_rows_int(r, i, 1, -1);
		const char *e = pl_rows_get(r, i, 2), *dir = pl_rows_get(r, i, 3), *nulls = pl_rows_get(r, i, 4);
		if (!t || !e || (t->sort_id >= 0 && t->sort_id != id))
			continue;
		pl_sort_key *k = realloc(t->sort_keys, (t->nsort_keys + 1) * sizeof(*k));
		char *expr = pl_strdup(e);
		if (k)
			t->sort_keys = k;
		if (!k || !expr) {
			free(expr);
			oom = true;
			break;
		}
		t->sort_keys[t->nsort_keys++] = (pl_sort_key){expr, dir && pl_str_ieq(dir, "DESC"),
							      nulls && pl_str_ieq(nulls, "NULLS_FIRST")};
		t->sort_id = id;
	}
	pl_rows_free(r);
	return rc ? rc : oom ? pl_err_nomem(err) : 0;
}

pl_sort_key *pl_model__copy_sort_keys(const pl_sort_key *k, size_t n, bool *oom)
{
	if (n == 0)
		return NULL;
	pl_sort_key *c = calloc(n, sizeof(*c));
	for (size_t i = 0; c && i < n; i++) {
		c[i] = k[i];
		if (!(c[i].expression = pl_strdup(k[i].expression))) {
			pl_model__free_sort_keys(c, i);
			c = NULL;
		}
	}
	if (!c)
		*oom = true;
	return c;
}

void pl_model__free_sort_keys(pl_sort_key *k, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(k[i].expression);
	free(k);
}

pl_partition_key *pl_model__copy_partition_keys(const pl_partition_key *k, size_t n, bool *oom)
{
	if (n == 0)
		return NULL;
	pl_partition_key *c = calloc(n, sizeof(*c));
	for (size_t i = 0; c && i < n; i++) {
		c[i].column_id = k[i].column_id;
		if (!(c[i].transform = pl_strdup(k[i].transform))) {
			pl_model__free_partition_keys(c, i);
			c = NULL;
		}
	}
	if (!c)
		*oom = true;
	return c;
}

void pl_model__free_partition_keys(pl_partition_key *k, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(k[i].transform);
	free(k);
}
