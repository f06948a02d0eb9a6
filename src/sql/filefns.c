/*
 * filefns.c -- table functions over a lake's files that its views and planner call:
 *   __planar_dv(path) -> pos: the deleted positions of a deletion-vector (puffin) file, read only
 *     from inside an attached lake's data path or a delete file its model lists;
 *   __planar_fstats(lake, table_id, column_id, snapshot) -> i, min_value, max_value,
 *     contains_nan, value_count, null_count: the per-file statistics pruning uses, from the
 *     lake's statistics cache (value_count counts the non-NULL values, as DuckLake's column
 *     does), for the table's files at snapshot (-1: the lake's current state; i indexes them);
 *   __planar_fparts(lake, table_id, key_index, snapshot) -> i, value: the value of key key_index
 *     of the table's partitioning in each file written under it (files of other partitionings
 *     are left out: their keys differ).
 */
#include "sql/filefns.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sql/lake.h"
#include "sql/router.h"
#include "storage/dv.h"

/* The next row a scan hands out. */
typedef struct pos_state {
	idx_t next;
} pos_state;

static void pos_init(duckdb_init_info info)
{
	pos_state *st = calloc(1, sizeof(*st));
	if (!st) {
		duckdb_init_set_error(info, "out of memory");
		return;
	}
	duckdb_init_set_init_data(info, st, free);
}

/* ---- __planar_dv(path): the deleted positions of a deletion-vector file ---------------------- */

typedef struct dv_data {
	uint64_t *pos;
	size_t n;
} dv_data;

static void dv_destroy(void *p)
{
	dv_data *d = p;
	free(d->pos);
	free(d);
}

/* Whether path is under prefix (both resolved; prefix ends in '/'). */
static bool path_under(const char *path, const char *prefix)
{
	char *p = realpath(prefix, NULL);
	bool under = p && strncmp(path, p, strlen(p)) == 0 && path[strlen(p)] == '/';
	free(p);
	return under;
}

/* A deletion vector is read only from inside an attached lake: its data path, or a delete file its
 * current model lists (files registered with absolute paths). */
static int check_lake_file(planar_db *db, const char *path, pl_err *err)
{
	char *real = realpath(path, NULL);
	bool ok = false;
	pthread_mutex_lock(&db->lock);
	for (size_t l = 0; real && !ok && l < db->nlakes; l++) {
		const pl_lake *lake = db->lakes[l];
		ok = path_under(real, lake->data_path);
		for (size_t t = 0; !ok && t < lake->model->ntables; t++) {
			const pl_data_file *files = NULL;
			size_t nfiles = 0;
			pl_err ignored = {0};
			pl_model_table_files(lake->model, &lake->model->tables[t], &files, &nfiles, &ignored);
			for (size_t f = 0; !ok && f < nfiles; f++)
				ok = files[f].delete_path && strcmp(files[f].delete_path, path) == 0;
		}
	}
	pthread_mutex_unlock(&db->lock);
	free(real);
	return ok ? 0 : pl_err_set(err, PL_EINVALID, "'%s' is not inside the data path of an attached lake", path);
}

static void dv_bind(duckdb_bind_info info)
{
	planar_db *db = duckdb_bind_get_extra_info(info);
	char *path = pl_engine_param_text(info, 0);
	dv_data *d = calloc(1, sizeof(*d));
	pl_err err = {0};
	int rc = !path || !d ? pl_err_nomem(&err) : check_lake_file(db, path, &err);
	if (rc == 0)
		rc = pl_dv_read_file(path, &d->pos, &d->n, &err);
	if (rc) {
		duckdb_bind_set_error(info, err.msg);
		if (d)
			dv_destroy(d);
	} else {
		duckdb_logical_type bt = duckdb_create_logical_type(DUCKDB_TYPE_BIGINT);
		duckdb_bind_add_result_column(info, "pos", bt);
		duckdb_destroy_logical_type(&bt);
		duckdb_bind_set_bind_data(info, d, dv_destroy);
	}
	free(path);
}

static void dv_scan(duckdb_function_info info, duckdb_data_chunk output)
{
	dv_data *d = duckdb_function_get_bind_data(info);
	pos_state *st = duckdb_function_get_init_data(info);
	int64_t *out = duckdb_vector_get_data(duckdb_data_chunk_get_vector(output, 0));
	idx_t n = 0, cap = duckdb_vector_size();
	for (; n < cap && st->next < d->n; n++, st->next++)
		out[n] = (int64_t)d->pos[st->next];
	duckdb_data_chunk_set_size(output, n);
}

/* ---- __planar_fstats(lake, table_id, column_id): per-file statistics for pruning ------------- */

typedef struct fstats_data {
	size_t n;
	int64_t *file_index;        /* index into the table's files in the lake's model */
	const pl_file_stat **stats; /* owned by the lake's statistics cache */
} fstats_data;

static void fstats_destroy(void *p)
{
	fstats_data *d = p;
	free(d->file_index);
	free(d->stats);
	free(d);
}

/* The statistics of column args[2] (or, parts, the values of partition key args[2]). */
static int lake_fstats(planar_db *db, char *args[4], bool parts, fstats_data *d, pl_err *err)
{
	pl_lake *lake = pl_db_find_lake(db, args[0]);
	if (!lake)
		return pl_err_set(err, PL_ENOTFOUND, "no lake named \"%s\" is attached", args[0]);
	int64_t snap = strtoll(args[3], NULL, 10);
	const pl_model *m = lake->model;
	int rc = snap >= 0 ? pl_lake_model_at(lake, snap, &m, err) : 0;
	if (rc)
		return rc;
	const pl_table *t = pl_model_table_by_id(m, strtoll(args[1], NULL, 10));
	if (!t)
		return pl_err_set(err, PL_ENOTFOUND, "lake \"%s\" has no table with id %s", args[0], args[1]);
	const pl_file_stat **all = NULL;
	int64_t id = strtoll(args[2], NULL, 10);
	/* an older snapshot's files are all committed */
	bool settled = lake->shared_model == NULL || snap >= 0;
	rc = pl_model_table_files(m, t, NULL, NULL, err);
	if (rc == 0 && parts && (id < 0 || (size_t)id >= t->npartition_keys))
		rc = pl_err_set(err, PL_ENOTFOUND, "table %s has no partition key %s", args[1], args[2]);
	if (rc == 0)
		rc = parts ? pl_statcache_lookup_partition(&lake->stats, lake->cat, t, id, settled, &all, err)
			   : pl_statcache_lookup(&lake->stats, lake->cat, t, id, settled, &all, err);
	if (rc)
		return rc;
	d->file_index = malloc((t->nfiles ? t->nfiles : 1) * sizeof(*d->file_index));
	d->stats = malloc((t->nfiles ? t->nfiles : 1) * sizeof(*d->stats));
	for (size_t i = 0; d->file_index && d->stats && i < t->nfiles; i++) {
		if (!all[i] || (parts && t->files[i].partition_id != t->partition_id))
			continue;
		d->file_index[d->n] = (int64_t)i;
		d->stats[d->n++] = all[i];
	}
	free(all);
	return d->file_index && d->stats ? 0 : pl_err_nomem(err);
}

/* Binds either function; the partition one has the first two columns. */
static void stats_bind(duckdb_bind_info info, bool parts)
{
	static const char *const names[] = {"i", "min_value", "max_value", "contains_nan", "value_count", "null_count"};
	static const duckdb_type types[] = {DUCKDB_TYPE_BIGINT,	 DUCKDB_TYPE_VARCHAR, DUCKDB_TYPE_VARCHAR,
					    DUCKDB_TYPE_BOOLEAN, DUCKDB_TYPE_BIGINT,  DUCKDB_TYPE_BIGINT};
	planar_db *db = duckdb_bind_get_extra_info(info);
	char *args[4] = {pl_engine_param_text(info, 0), pl_engine_param_text(info, 1), pl_engine_param_text(info, 2),
			 pl_engine_param_text(info, 3)};
	fstats_data *d = calloc(1, sizeof(*d));
	pl_err err = {0};
	int rc = !args[0] || !args[1] || !args[2] || !args[3] || !d ? pl_err_nomem(&err) : 0;
	if (rc == 0) {
		pthread_mutex_lock(&db->lock);
		rc = lake_fstats(db, args, parts, d, &err);
		pthread_mutex_unlock(&db->lock);
	}
	if (rc) {
		duckdb_bind_set_error(info, err.msg);
		if (d)
			fstats_destroy(d);
	} else {
		size_t ncols = parts ? 2 : sizeof(names) / sizeof(names[0]);
		for (size_t c = 0; c < ncols; c++) {
			duckdb_logical_type lt = duckdb_create_logical_type(types[c]);
			duckdb_bind_add_result_column(info, parts && c == 1 ? "value" : names[c], lt);
			duckdb_destroy_logical_type(&lt);
		}
		duckdb_bind_set_bind_data(info, d, fstats_destroy);
	}
	for (int i = 0; i < 4; i++)
		free(args[i]);
}

static void fstats_bind(duckdb_bind_info info)
{
	stats_bind(info, false);
}

static void fparts_bind(duckdb_bind_info info)
{
	stats_bind(info, true);
}

static void fparts_scan(duckdb_function_info info, duckdb_data_chunk output)
{
	fstats_data *d = duckdb_function_get_bind_data(info);
	pos_state *st = duckdb_function_get_init_data(info);
	int64_t *idx = duckdb_vector_get_data(duckdb_data_chunk_get_vector(output, 0));
	duckdb_vector values = duckdb_data_chunk_get_vector(output, 1);
	idx_t n = 0, cap = duckdb_vector_size();
	for (; n < cap && st->next < d->n; n++, st->next++) {
		idx[n] = d->file_index[st->next];
		pl_engine_vector_put_text(values, n, d->stats[st->next]->min);
	}
	duckdb_data_chunk_set_size(output, n);
}

/* A count into a BIGINT vector; -1 (unknown) as NULL. */
static void put_count(duckdb_vector v, idx_t row, int64_t count)
{
	((int64_t *)duckdb_vector_get_data(v))[row] = count;
	if (count < 0)
		pl_engine_vector_set_null(v, row);
}

static void fstats_scan(duckdb_function_info info, duckdb_data_chunk output)
{
	fstats_data *d = duckdb_function_get_bind_data(info);
	pos_state *st = duckdb_function_get_init_data(info);
	int64_t *idx = duckdb_vector_get_data(duckdb_data_chunk_get_vector(output, 0));
	duckdb_vector mins = duckdb_data_chunk_get_vector(output, 1), maxs = duckdb_data_chunk_get_vector(output, 2);
	bool *nan = duckdb_vector_get_data(duckdb_data_chunk_get_vector(output, 3));
	duckdb_vector counts[2] = {duckdb_data_chunk_get_vector(output, 4), duckdb_data_chunk_get_vector(output, 5)};
	idx_t n = 0, cap = duckdb_vector_size();
	for (; n < cap && st->next < d->n; n++, st->next++) {
		const pl_file_stat *s = d->stats[st->next];
		idx[n] = d->file_index[st->next];
		pl_engine_vector_put_text(mins, n, s->min);
		pl_engine_vector_put_text(maxs, n, s->max);
		nan[n] = s->contains_nan;
		put_count(counts[0], n, s->values);
		put_count(counts[1], n, s->nulls);
	}
	duckdb_data_chunk_set_size(output, n);
}

int pl_filefns_register(planar_db *db, pl_err *err)
{
	int rc = pl_functions_add_table(db, "__planar_fstats", 4, fstats_bind, pos_init, fstats_scan, err);
	if (rc == 0)
		rc = pl_functions_add_table(db, "__planar_fparts", 4, fparts_bind, pos_init, fparts_scan, err);
	return rc ? rc : pl_functions_add_table(db, "__planar_dv", 1, dv_bind, pos_init, dv_scan, err);
}
