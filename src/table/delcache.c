/*
 * delcache.c -- deleted-row bitsets and file maps for __planar_deleted() (see delcache.h).
 */
#include "table/delcache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "storage/dv.h"
#include "table/scan.h"

void pl_delcache_init(pl_delcache *c)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
}

void pl_delcache_dispose(pl_delcache *c)
{
	for (size_t i = 0; i < c->nsets; i++) {
		free(c->sets[i]->key);
		free(c->sets[i]->bits);
		free(c->sets[i]);
	}
	free(c->sets);
	pthread_mutex_destroy(&c->lock);
}

static const pl_delset *find_set(pl_delcache *c, const char *key)
{
	for (size_t i = 0; i < c->nsets; i++)
		if (strcmp(c->sets[i]->key, key) == 0)
			return c->sets[i];
	return NULL;
}

static void set_bit(pl_delset *s, uint64_t pos)
{
	if (pos < s->nbits)
		s->bits[pos / 64] |= 1ULL << (pos % 64);
}

/* Reads the positions through DuckDB (Parquet delete files) or the DV codec (puffin). */
static int fill_set(pl_delset *s, duckdb_connection con, const pl_model *m, const pl_data_file *f, pl_err *err)
{
	if (strcmp(f->delete_format, "puffin") == 0) {
		uint64_t *pos = NULL;
		size_t n = 0;
		int rc = pl_dv_read_file(f->delete_path, &pos, &n, err);
		for (size_t i = 0; rc == 0 && i < n; i++)
			set_bit(s, pos[i]);
		free(pos);
		return rc;
	}
	pl_buf q = PL_BUF_INIT;
	duckdb_result res;
	pl_scan_put_file_deletes(&q, m, f);
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query(con, q.ptr, &res, err);
	pl_buf_dispose(&q);
	if (rc)
		return rc;
	for (idx_t r = 0; r < duckdb_row_count(&res); r++)
		set_bit(s, (uint64_t)duckdb_value_int64(&res, 0, r));
	duckdb_destroy_result(&res);
	return 0;
}

static int load_set(pl_delcache *c, duckdb_connection con, const pl_model *m, const pl_data_file *f,
		    const pl_delset **out, pl_err *err)
{
	char key[4096];
	int64_t upto = f->delete_partial_max >= 0 ? m->snapshot_id : -1;
	snprintf(key, sizeof(key), "%s@%lld", f->delete_path, (long long)upto);
	pthread_mutex_lock(&c->lock);
	*out = find_set(c, key);
	pthread_mutex_unlock(&c->lock);
	if (*out)
		return 0;
	pl_delset *s = calloc(1, sizeof(*s));
	uint64_t nbits = (uint64_t)(f->record_count > 0 ? f->record_count : 0);
	if (s) {
		s->nbits = nbits;
		s->bits = calloc(nbits / 64 + 1, sizeof(uint64_t));
		s->key = pl_strdup(key);
	}
	int rc = !s || !s->bits || !s->key ? pl_err_nomem(err) : fill_set(s, con, m, f, err);
	pthread_mutex_lock(&c->lock);
	if (rc == 0 && c->nsets == c->capsets) {
		size_t cap = c->capsets ? c->capsets * 2 : 16;
		pl_delset **p = realloc(c->sets, cap * sizeof(*p));
		if (p)
			c->sets = p, c->capsets = cap;
		else
			rc = pl_err_nomem(err);
	}
	if (rc == 0)
		c->sets[c->nsets++] = s;
	pthread_mutex_unlock(&c->lock);
	if (rc && s) {
		free(s->bits);
		free(s->key);
		free(s);
		s = NULL;
	}
	*out = s;
	return rc;
}

int pl_delcache_prepare(pl_delcache *c, duckdb_connection con, const pl_model *m, const pl_data_file *f,
			int64_t *set_id_out, pl_err *err)
{
	const pl_delset *set = NULL;
	int rc = load_set(c, con, m, f, &set, err);
	if (rc)
		return rc;
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->nsets; i++)
		if (c->sets[i] == set)
			*set_id_out = (int64_t)i;
	pthread_mutex_unlock(&c->lock);
	return 0;
}

const pl_delset *pl_delcache_set(pl_delcache *c, int64_t id)
{
	pthread_mutex_lock(&c->lock);
	const pl_delset *s = id >= 0 && (size_t)id < c->nsets ? c->sets[id] : NULL;
	pthread_mutex_unlock(&c->lock);
	return s;
}
