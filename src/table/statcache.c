/*
 * statcache.c -- lazily filled per-file column statistics (see statcache.h).
 *
 * Per (table, column): file ids in ascending order with a pointer to each file's statistics
 * (NULL: the catalog has no row for that file). New files have ids above every earlier one,
 * so filling is almost always an append. A partition key's values are kept under column id
 * -1 - key_index (column ids are never negative).
 */
#include "table/statcache.h"

#include <stdlib.h>
#include <string.h>

#include "catalog/reads.h"
#include "core/str.h"

struct pl_stat_column {
	int64_t table_id, column_id;
	int64_t *ids;
	pl_file_stat **stats;
	size_t n, cap;
};

void pl_statcache_init(pl_statcache *c)
{
	memset(c, 0, sizeof(*c));
}

static void free_stat(pl_file_stat *s)
{
	if (!s)
		return;
	free(s->min);
	free(s->max);
	free(s);
}

void pl_statcache_dispose(pl_statcache *c)
{
	for (size_t i = 0; i < c->ncols; i++) {
		pl_stat_column *k = c->cols[i];
		for (size_t j = 0; j < k->n; j++)
			free_stat(k->stats[j]);
		free(k->ids);
		free(k->stats);
		free(k);
	}
	free(c->cols);
	memset(c, 0, sizeof(*c));
}

static pl_stat_column *column_entry(pl_statcache *c, int64_t table_id, int64_t column_id)
{
	for (size_t i = 0; i < c->ncols; i++)
		if (c->cols[i]->table_id == table_id && c->cols[i]->column_id == column_id)
			return c->cols[i];
	if (c->ncols == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		pl_stat_column **p = realloc(c->cols, cap * sizeof(*p));
		if (!p)
			return NULL;
		c->cols = p;
		c->cap = cap;
	}
	pl_stat_column *k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	k->table_id = table_id;
	k->column_id = column_id;
	c->cols[c->ncols++] = k;
	return k;
}

/* Index of the first id >= id. */
static size_t lower_bound(const pl_stat_column *k, int64_t id)
{
	size_t lo = 0, hi = k->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (k->ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool is_known(const pl_stat_column *k, int64_t id, size_t *at)
{
	*at = lower_bound(k, id);
	return *at < k->n && k->ids[*at] == id;
}

/* Appends a batch of ids (ascending, all above k's) in place: the arrays grow by doubling, so
 * the few files of a commit cost a few entries, not the table's size. */
static int append(pl_stat_column *k, const int64_t *ids, pl_file_stat **stats, size_t m)
{
	if (k->n + m > k->cap) {
		size_t cap = k->cap * 2 > k->n + m ? k->cap * 2 : k->n + m;
		int64_t *nids = realloc(k->ids, cap * sizeof(*nids));
		if (nids)
			k->ids = nids;
		pl_file_stat **nst = nids ? realloc(k->stats, cap * sizeof(*nst)) : NULL;
		if (nst)
			k->stats = nst;
		if (!nids || !nst) {
			for (size_t j = 0; j < m; j++)
				free_stat(stats[j]);
			return -1;
		}
		k->cap = cap;
	}
	for (size_t j = 0; j < m; j++) {
		if (k->n > 0 && k->ids[k->n - 1] == ids[j]) { /* duplicate within the batch */
			free_stat(stats[j]);
			continue;
		}
		k->ids[k->n] = ids[j];
		k->stats[k->n++] = stats[j];
	}
	return 0;
}

/* Merges a batch of ids (ascending) and their statistics into k, skipping ids it knows; the
 * batch's statistics are taken (freed when not kept). One pass: batches can be large. */
static int merge(pl_stat_column *k, const int64_t *ids, pl_file_stat **stats, size_t m)
{
	if (m == 0)
		return 0;
	if (k->n == 0 || ids[0] > k->ids[k->n - 1])
		return append(k, ids, stats, m);
	size_t cap = k->n + m ? k->n + m : 1;
	int64_t *nids = malloc(cap * sizeof(*nids));
	pl_file_stat **nst = malloc(cap * sizeof(*nst));
	if (!nids || !nst) {
		free(nids);
		free(nst);
		for (size_t j = 0; j < m; j++)
			free_stat(stats[j]);
		return -1;
	}
	size_t i = 0, j = 0, n = 0;
	while (i < k->n || j < m) {
		if (j == m || (i < k->n && k->ids[i] <= ids[j])) {
			if (j < m && k->ids[i] == ids[j])
				free_stat(stats[j++]);
			nids[n] = k->ids[i];
			nst[n++] = k->stats[i++];
		} else if (n > 0 && nids[n - 1] == ids[j]) {
			free_stat(stats[j++]); /* duplicate within the batch */
		} else {
			nids[n] = ids[j];
			nst[n++] = stats[j++];
		}
	}
	free(k->ids);
	free(k->stats);
	k->ids = nids;
	k->stats = nst;
	k->n = n;
	k->cap = cap;
	return 0;
}

/* A row of the statistics query, or (partition) of the partition values query. */
static pl_file_stat *stat_from_row(const pl_rows *r, size_t i, bool partition)
{
	pl_file_stat *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	const char *mn = pl_rows_get(r, i, 1), *mx = pl_rows_get(r, i, partition ? 1 : 2);
	s->min = mn ? pl_strdup(mn) : NULL;
	s->max = mx ? pl_strdup(mx) : NULL;
	s->contains_nan = !partition && pl_rows_bool(r, i, 3, false);
	s->values = partition ? -1 : pl_rows_int(r, i, 4, -1);
	s->nulls = partition ? -1 : pl_rows_int(r, i, 5, -1);
	if ((mn && !s->min) || (mx && !s->max)) {
		free_stat(s);
		return NULL;
	}
	return s;
}

static int fetch(pl_stat_column *k, pl_catdb *db, int64_t from_id, pl_err *err)
{
	pl_rows *r = NULL;
	bool partition = k->column_id < 0;
	int rc = partition ? pl_catalog_file_partition_values(db, k->table_id, -1 - k->column_id, from_id, &r, err)
			   : pl_catalog_file_column_stats(db, k->table_id, k->column_id, from_id, &r, err);
	if (rc)
		return rc;
	size_t n = r->nrows;
	int64_t *ids = malloc((n ? n : 1) * sizeof(*ids));
	pl_file_stat **stats = calloc(n ? n : 1, sizeof(*stats));
	bool oom = !ids || !stats;
	for (size_t i = 0; !oom && i < n; i++) {
		ids[i] = pl_rows_int(r, i, 0, -1);
		oom = !(stats[i] = stat_from_row(r, i, partition));
	}
	pl_rows_free(r);
	if (oom) {
		for (size_t i = 0; stats && i < n; i++)
			free_stat(stats[i]);
	}
	rc = oom ? pl_err_nomem(err) : merge(k, ids, stats, n) ? pl_err_nomem(err) : 0;
	free(ids);
	free(stats);
	return rc;
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* Remembers the files of t still unknown after a fetch as files without statistics (every file
 * below first_unseen is known). */
static int settle_missing(pl_stat_column *k, const pl_table *t, int64_t first_unseen)
{
	size_t m = 0, at;
	for (size_t i = 0; i < t->nfiles; i++)
		m += t->files[i].id >= first_unseen;
	int64_t *ids = malloc((m ? m : 1) * sizeof(*ids));
	pl_file_stat **none = calloc(m ? m : 1, sizeof(*none));
	int rc = !ids || !none ? -1 : 0;
	m = 0;
	for (size_t i = 0; rc == 0 && i < t->nfiles; i++)
		if (t->files[i].id >= first_unseen && !is_known(k, t->files[i].id, &at))
			ids[m++] = t->files[i].id;
	if (rc == 0 && m > 0) {
		qsort(ids, m, sizeof(*ids), cmp_id);
		rc = merge(k, ids, none, m);
	}
	free(ids);
	free(none);
	return rc;
}

/* For each file of t, its entry in k or NULL (*first_unseen: the smallest id without one, or -1).
 * Files usually come in id order: then one merge walk, else a binary search per file. */
static void locate(const pl_stat_column *k, const pl_table *t, const pl_file_stat **out, int64_t *first_unseen)
{
	bool sorted = true;
	for (size_t i = 1; sorted && i < t->nfiles; i++)
		sorted = t->files[i - 1].id < t->files[i].id;
	*first_unseen = -1;
	size_t j = 0, at;
	for (size_t i = 0; i < t->nfiles; i++) {
		int64_t id = t->files[i].id;
		bool found;
		if (sorted) {
			while (j < k->n && k->ids[j] < id)
				j++;
			found = j < k->n && k->ids[j] == id;
			at = j;
		} else {
			found = is_known(k, id, &at);
		}
		out[i] = found ? k->stats[at] : NULL;
		if (!found && (*first_unseen < 0 || id < *first_unseen))
			*first_unseen = id;
	}
}

int pl_statcache_lookup_partition(pl_statcache *c, pl_catdb *db, const pl_table *t, int64_t key_index, bool settled,
				  const pl_file_stat ***out, pl_err *err)
{
	return pl_statcache_lookup(c, db, t, -1 - key_index, settled, out, err);
}

int pl_statcache_lookup(pl_statcache *c, pl_catdb *db, const pl_table *t, int64_t column_id, bool settled,
			const pl_file_stat ***out, pl_err *err)
{
	*out = NULL;
	pl_stat_column *k = column_entry(c, t->id, column_id);
	const pl_file_stat **res = calloc(t->nfiles ? t->nfiles : 1, sizeof(*res));
	int rc = !k || !res ? pl_err_nomem(err) : 0;
	int64_t first_unseen = -1;
	if (rc == 0)
		locate(k, t, res, &first_unseen);
	if (rc == 0 && first_unseen >= 0) {
		rc = fetch(k, db, first_unseen, err);
		if (rc == 0 && settled && settle_missing(k, t, first_unseen))
			rc = pl_err_nomem(err);
		if (rc == 0)
			locate(k, t, res, &first_unseen);
	}
	if (rc) {
		free(res);
		return rc;
	}
	*out = res;
	return 0;
}
