/*
 * delcache.c -- deleted-row bitsets and file maps for __planar_kept() (see delcache.h).
 */
#include "table/delcache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "storage/dv.h"
#include "table/scan.h"
#include "storage/s3lake.h"

void pl_delcache_init(pl_delcache *c)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
}

void pl_delcache_dispose(pl_delcache *c)
{
	for (size_t i = 0; i < c->nsets; i++) {
		for (size_t k = 0; k < c->sets[i]->nmemo; k++)
			free(c->sets[i]->memo[k].what);
		free(c->sets[i]->memo);
		free(c->sets[i]->key);
		free(c->sets[i]->bits);
		free(c->sets[i]);
	}
	for (size_t i = 0; i < c->nmaps; i++) {
		free(c->maps[i]->sets);
		free(c->maps[i]);
	}
	free(c->sets);
	free(c->maps);
	free(c->conns);
	free(c->index);
	pthread_mutex_destroy(&c->lock);
}

/* Open addressing over set numbers + 1 (0: empty); capacity a power of two, at most half full. */
static const pl_delset *find_set(pl_delcache *c, const char *key)
{
	if (!c->capindex)
		return NULL;
	uint64_t h = pl_fnv1a(PL_FNV1A_SEED, key, strlen(key));
	for (size_t i = h & (c->capindex - 1);; i = (i + 1) & (c->capindex - 1)) {
		size_t v = c->index[i];
		if (v == 0)
			return NULL;
		if (strcmp(c->sets[v - 1]->key, key) == 0)
			return c->sets[v - 1];
	}
}

static void index_put(size_t *index, size_t cap, const char *key, size_t v)
{
	uint64_t h = pl_fnv1a(PL_FNV1A_SEED, key, strlen(key));
	size_t i = h & (cap - 1);
	while (index[i])
		i = (i + 1) & (cap - 1);
	index[i] = v;
}

/* Appends s to the sets (lock held). */
static int add_set(pl_delcache *c, pl_delset *s)
{
	if (c->nsets == c->capsets) {
		size_t cap = c->capsets ? c->capsets * 2 : 16;
		pl_delset **p = realloc(c->sets, cap * sizeof(*p));
		if (!p)
			return PL_ENOMEM;
		c->sets = p, c->capsets = cap;
	}
	if ((c->nsets + 1) * 2 > c->capindex) {
		size_t cap = c->capindex ? c->capindex * 2 : 64;
		size_t *index = calloc(cap, sizeof(*index));
		if (!index)
			return PL_ENOMEM;
		for (size_t i = 0; i < c->nsets; i++)
			index_put(index, cap, c->sets[i]->key, i + 1);
		free(c->index);
		c->index = index, c->capindex = cap;
	}
	c->sets[c->nsets++] = s;
	index_put(c->index, c->capindex, s->key, c->nsets);
	return 0;
}

static void set_bit(pl_delset *s, uint64_t pos)
{
	if (pos < s->nbits)
		s->bits[pos / 64] |= 1ULL << (pos % 64);
}

/* Reads the positions through DuckDB (Parquet delete files) or the DV codec (puffin). */
static int fill_set(pl_delset *s, duckdb_connection con, const pl_model *m, const pl_data_file *f, pl_err *err)
{
	bool later = f->partial_max >= 0 && f->partial_max > m->snapshot_id;
	for (size_t i = 0; i < f->ninlined_deletes; i++) /* deletes kept in the catalog */
		if (f->inlined_deletes[i] >= 0)
			set_bit(s, (uint64_t)f->inlined_deletes[i]);
	if (!f->delete_path && !later)
		return 0;
	if (f->delete_path && strcmp(f->delete_format, "puffin") == 0) {
		uint64_t *pos = NULL;
		size_t n = 0;
		int rc = pl_s3lake_ensure((const char *const *)&f->delete_path, 1, err); /* S3: cached */
		if (rc == 0)
			rc = pl_dv_read_file(f->delete_path, &pos, &n, err);
		for (size_t i = 0; rc == 0 && i < n; i++)
			set_bit(s, pos[i]);
		free(pos);
		if (rc || !later)
			return rc;
		pl_data_file rows_only = *f; /* the flushed rows that began later, read below */
		rows_only.delete_path = NULL;
		rows_only.ninlined_deletes = 0;
		return fill_set(s, con, m, &rows_only, err);
	}
	if (!con)
		return pl_err_set(err, PL_EBUSY, "deleted rows of %s are not loaded", f->path);
	pl_buf q = PL_BUF_INIT;
	duckdb_result res;
	pl_data_file own = *f; /* the catalog's positions are set above */
	own.ninlined_deletes = 0;
	pl_scan_put_file_deletes(&q, m, &own);
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
	bool later = f->partial_max >= 0 && f->partial_max > m->snapshot_id;
	bool maybe_tagged = f->delete_path && f->partial_max > 0; /* see pl_scan_put_file_deletes */
	int64_t upto = f->delete_partial_max >= 0 || later || f->ninlined_deletes || maybe_tagged ? m->snapshot_id : -1;
	if (later || f->ninlined_deletes) /* a flushed file's rows at an older snapshot, deletes kept in the
					   * catalog: keyed by the data file and snapshot */
		snprintf(key, sizeof(key), "%s|%s|%zu@%lld", f->path, f->delete_path ? f->delete_path : "",
			 f->ninlined_deletes, (long long)upto);
	else
		snprintf(key, sizeof(key), "%s@%lld", f->delete_path ? f->delete_path : f->path, (long long)upto);
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
	const pl_delset *other = NULL;
	pthread_mutex_lock(&c->lock);
	if (rc == 0 && (other = find_set(c, key)) == NULL && add_set(c, s))
		rc = pl_err_nomem(err);
	pthread_mutex_unlock(&c->lock);
	if (other) { /* loaded meanwhile by another thread */
		free(s->bits);
		free(s->key);
		free(s);
		*out = other;
		return 0;
	}
	if (rc && s) {
		free(s->bits);
		free(s->key);
		free(s);
		s = NULL;
	}
	*out = s;
	return rc;
}

int pl_delcache_load(pl_delcache *c, duckdb_connection con, const pl_model *m, const pl_data_file *f,
		     const pl_delset **out, pl_err *err)
{
	return load_set(c, con, m, f, out, err);
}

bool pl_delcache_memo_get(pl_delcache *c, const pl_delset *s, const char *what, bool *yes)
{
	bool known = false;
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; !known && i < s->nmemo; i++)
		if ((known = strcmp(s->memo[i].what, what) == 0))
			*yes = s->memo[i].yes;
	pthread_mutex_unlock(&c->lock);
	return known;
}

void pl_delcache_memo_put(pl_delcache *c, const pl_delset *s, const char *what, bool yes)
{
	pl_delset *w = (pl_delset *)s; /* the cache's own set: its memo changes under the lock */
	pthread_mutex_lock(&c->lock);
	bool known = false;
	for (size_t i = 0; !known && i < w->nmemo; i++)
		known = strcmp(w->memo[i].what, what) == 0;
	if (!w->memo && !known)
		w->memo = calloc(PL_DELSET_MEMO, sizeof(*w->memo));
	if (w->memo && !known && w->nmemo < PL_DELSET_MEMO && (w->memo[w->nmemo].what = pl_strdup(what)) != NULL)
		w->memo[w->nmemo++].yes = yes;
	pthread_mutex_unlock(&c->lock);
}

static bool same_map(const pl_delmap *a, uint64_t hash, const pl_delset *const *sets, size_t n)
{
	return a->hash == hash && a->n == n && memcmp(a->sets, sets, n * sizeof(*sets)) == 0;
}

int pl_delcache_map(pl_delcache *c, const pl_delset *const *sets, size_t n, int64_t *map_id_out, pl_err *err)
{
	uint64_t h = pl_fnv1a(PL_FNV1A_SEED, &n, sizeof(n));
	h = pl_fnv1a(h, sets, n * sizeof(*sets));
	int rc = 0;
	pthread_mutex_lock(&c->lock);
	for (size_t i = c->nmaps; i-- > 0;) {
		if (same_map(c->maps[i], h, sets, n)) {
			*map_id_out = (int64_t)i;
			pthread_mutex_unlock(&c->lock);
			return 0;
		}
	}
	pl_delmap *map = calloc(1, sizeof(*map));
	if (map) {
		map->hash = h;
		map->n = n;
		map->sets = malloc((n ? n : 1) * sizeof(*map->sets));
		if (map->sets)
			memcpy(map->sets, sets, n * sizeof(*sets));
	}
	if (c->nmaps == c->capmaps && map && map->sets) {
		size_t cap = c->capmaps ? c->capmaps * 2 : 16;
		pl_delmap **p = realloc(c->maps, cap * sizeof(*p));
		if (p)
			c->maps = p, c->capmaps = cap;
	}
	if (!map || !map->sets || c->nmaps == c->capmaps) {
		rc = pl_err_nomem(err);
		if (map)
			free(map->sets);
		free(map);
	} else {
		*map_id_out = (int64_t)c->nmaps;
		c->maps[c->nmaps++] = map;
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

const pl_delmap *pl_delcache_get_map(pl_delcache *c, int64_t id)
{
	pthread_mutex_lock(&c->lock);
	const pl_delmap *m = id >= 0 && (size_t)id < c->nmaps ? c->maps[id] : NULL;
	pthread_mutex_unlock(&c->lock);
	return m;
}

int pl_delcache_conn_put(pl_delcache *c, uint64_t id, void *conn)
{
	int rc = 0;
	pthread_mutex_lock(&c->lock);
	size_t i = 0;
	while (i < c->nconns && c->conns[i].id != id)
		i++;
	if (i == c->nconns) {
		/* an entry of a closed session whose id is not this one's is reused */
		for (i = 0; i < c->nconns && c->conns[i].conn != conn && c->conns[i].conn != NULL; i++)
			;
	}
	if (i == c->nconns && c->nconns == c->capconns) {
		size_t cap = c->capconns ? c->capconns * 2 : 16;
		struct pl_delcache_conn *p = realloc(c->conns, cap * sizeof(*p));
		if (p)
			c->conns = p, c->capconns = cap;
		else
			rc = PL_ENOMEM;
	}
	if (rc == 0) {
		if (i == c->nconns)
			c->nconns++;
		c->conns[i].id = id;
		c->conns[i].conn = conn;
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

void *pl_delcache_conn_get(pl_delcache *c, uint64_t id)
{
	void *conn = NULL;
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->nconns && !conn; i++)
		if (c->conns[i].id == id)
			conn = c->conns[i].conn;
	pthread_mutex_unlock(&c->lock);
	return conn;
}

void pl_delcache_conn_forget(pl_delcache *c, void *conn)
{
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->nconns; i++)
		if (c->conns[i].conn == conn)
			c->conns[i] = (struct pl_delcache_conn){UINT64_MAX, NULL};
	pthread_mutex_unlock(&c->lock);
}
