/*
 * namemap.c -- reading and writing DuckLake name maps (see namemap.h).
 */
#include "catalog/namemap.h"

#include <stdlib.h>
#include <string.h>

#include "catalog/batch.h"
#include "catalog/commit.h"
#include "catalog/model_rows.h"
#include "core/str.h"

long pl_namemap_add(pl_namemap *map, int64_t parent, const char *source, int64_t target, bool partition)
{
	pl_namemap_col *p = realloc(map->cols, (map->ncols + 1) * sizeof(*p));
	if (!p)
		return -1;
	map->cols = p;
	char *s = pl_strdup(source ? source : "");
	if (!s)
		return -1;
	p[map->ncols] = (pl_namemap_col){(int64_t)map->ncols, parent, target, s, partition};
	return (long)map->ncols++;
}

void pl_namemap_dispose(pl_namemap *map)
{
	for (size_t i = 0; i < map->ncols; i++)
		free(map->cols[i].source);
	free(map->cols);
	map->cols = NULL;
	map->ncols = 0;
}

pl_namemaps *pl_namemaps_ref(pl_namemaps *m)
{
	if (m)
		m->refs++;
	return m;
}

void pl_namemaps_release(pl_namemaps *m)
{
	if (!m || --m->refs > 0)
		return;
	for (size_t i = 0; i < m->n; i++)
		pl_namemap_dispose(&m->items[i]);
	free(m->items);
	free(m);
}

const pl_namemap *pl_namemaps_find(const pl_namemaps *m, int64_t id)
{
	for (size_t i = 0; m && i < m->n; i++)
		if (m->items[i].id == id)
			return &m->items[i];
	return NULL;
}

#define MAP_COLUMNS                                                                                          \
	"SELECT m.mapping_id, m.table_id, n.column_id, n.parent_column, n.source_name, n.target_field_id, "  \
	"n.is_partition FROM ducklake_column_mapping m LEFT JOIN ducklake_name_mapping n ON n.mapping_id = "      \
	"m.mapping_id"

/* Rows of MAP_COLUMNS ordered by mapping and column id into maps. */
static int rows_to_maps(const pl_rows *r, pl_namemap **out, size_t *nout, pl_err *err)
{
	pl_namemap *maps = NULL;
	size_t n = 0;
	for (size_t i = 0; i < r->nrows; i++) {
		int64_t id = pl_rows_int(r, i, 0, -1);
		if (n == 0 || maps[n - 1].id != id) {
			pl_namemap *p = realloc(maps, (n + 1) * sizeof(*p));
			if (!p)
				goto oom;
			maps = p;
			maps[n++] = (pl_namemap){id, pl_rows_int(r, i, 1, -1), NULL, 0};
		}
		pl_namemap *m = &maps[n - 1];
		if (pl_rows_is_null(r, i, 2))
			continue; /* a map without entries */
		if (pl_namemap_add(m, pl_rows_int(r, i, 3, -1), pl_rows_get(r, i, 4), pl_rows_int(r, i, 5, -1),
				   pl_rows_bool(r, i, 6, false)) < 0)
			goto oom;
		m->cols[m->ncols - 1].column_id = pl_rows_int(r, i, 2, 0);
	}
	*out = maps;
	*nout = n;
	return 0;
oom:
	for (size_t k = 0; k < n; k++)
		pl_namemap_dispose(&maps[k]);
	free(maps);
	return pl_err_nomem(err);
}

int pl_namemaps_load(pl_catdb *db, pl_namemaps **out, pl_err *err)
{
	*out = NULL;
	pl_namemaps *m = calloc(1, sizeof(*m));
	if (!m)
		return pl_err_nomem(err);
	m->refs = 1;
	pl_rows *r = NULL;
	int rc = pl_catdb_query(db, MAP_COLUMNS " ORDER BY m.mapping_id, n.column_id", NULL, 0, &r, err);
	if (rc == 0)
		rc = rows_to_maps(r, &m->items, &m->n, err);
	pl_rows_free(r);
	if (rc) {
		pl_namemaps_release(m);
		return rc;
	}
	*out = m;
	return 0;
}

/* Whether the entries under parent pa of a and under pb of b are the same: the same source
 * names (in any order, as DuckLake compares maps), each with the same target, partition flag and
 * entries below. */
static bool same_children(const pl_namemap *a, int64_t pa, const pl_namemap *b, int64_t pb, int depth)
{
	size_t na = 0, nb = 0;
	for (size_t i = 0; i < a->ncols; i++)
		na += a->cols[i].parent == pa;
	for (size_t i = 0; i < b->ncols; i++)
		nb += b->cols[i].parent == pb;
	if (na != nb || depth > 64)
		return false;
	for (size_t i = 0; i < a->ncols; i++) {
		const pl_namemap_col *x = &a->cols[i], *y = NULL;
		if (x->parent != pa)
			continue;
		for (size_t k = 0; !y && k < b->ncols; k++)
			if (b->cols[k].parent == pb && strcmp(b->cols[k].source, x->source) == 0)
				y = &b->cols[k];
		if (!y || x->target != y->target || x->partition != y->partition ||
		    !same_children(a, x->column_id, b, y->column_id, depth + 1))
			return false;
	}
	return true;
}

static bool same_entries(const pl_namemap *a, const pl_namemap *b)
{
	return a->ncols == b->ncols && same_children(a, -1, b, -1, 0);
}

int64_t pl_namemaps_equal_id(const pl_namemaps *maps, const pl_namemap *map)
{
	for (size_t i = 0; maps && i < maps->n; i++)
		if (maps->items[i].table_id == map->table_id && same_entries(&maps->items[i], map))
			return maps->items[i].id;
	return -1;
}

int pl_namemap_store(pl_catdb *db, const pl_namemap *map, int64_t table_id, int64_t *next_id, int64_t *out_id,
		     pl_err *err)
{
	pl_rows *r = NULL;
	pl_val t = PL_VINT(table_id);
	int rc = pl_catdb_query(db, MAP_COLUMNS " WHERE m.table_id = ? ORDER BY m.mapping_id, n.column_id", &t, 1, &r,
				err);
	pl_namemap *maps = NULL;
	size_t n = 0;
	if (rc == 0)
		rc = rows_to_maps(r, &maps, &n, err);
	pl_rows_free(r);
	*out_id = -1;
	for (size_t i = 0; rc == 0 && i < n && *out_id < 0; i++)
		if (same_entries(&maps[i], map))
			*out_id = maps[i].id;
	for (size_t i = 0; i < n; i++)
		pl_namemap_dispose(&maps[i]);
	free(maps);
	if (rc || *out_id >= 0)
		return rc;
	int64_t id = (*next_id)++;
	pl_val m[] = {PL_VINT(id), PL_VINT(table_id)};
	rc = pl_catdb_exec(db, "INSERT INTO ducklake_column_mapping VALUES (?, ?, 'map_by_name')", m, 2, err);
	pl_batch b;
	pl_batch_init(&b, db, "INSERT INTO ducklake_name_mapping VALUES ", "(?, ?, ?, ?, ?, ?)", 6);
	for (size_t i = 0; rc == 0 && i < map->ncols; i++) {
		const pl_namemap_col *c = &map->cols[i];
		pl_val v[] = {PL_VINT(id), PL_VINT(c->column_id), PL_VTEXT(c->source), PL_VINT(c->target),
			      PL_VOPTINT(c->parent), PL_VBOOL(c->partition)};
		rc = pl_batch_add(&b, v, err);
	}
	if (rc == 0)
		rc = pl_batch_flush(&b, err);
	pl_batch_dispose(&b);
	if (rc == 0)
		*out_id = id;
	return rc;
}

int pl_model__load_namemaps(pl_model *m, pl_catdb *db, const pl_rows *files, pl_err *err)
{
	bool need = m->namemaps == NULL;
	for (size_t i = 0; !need && files && i < files->nrows; i++) {
		int64_t id = pl_rows_int(files, i, 11, -1);
		need = id >= 0 && !pl_namemaps_find(m->namemaps, id);
	}
	if (!need)
		return 0;
	pl_namemaps *maps = NULL;
	int rc = pl_namemaps_load(db, &maps, err);
	if (rc)
		return rc;
	pl_namemaps_release(m->namemaps);
	m->namemaps = maps;
	return 0;
}

static int copy_map(pl_namemap *dst, const pl_namemap *src, int64_t id)
{
	*dst = (pl_namemap){id, src->table_id, NULL, 0};
	for (size_t i = 0; i < src->ncols; i++) {
		const pl_namemap_col *c = &src->cols[i];
		if (pl_namemap_add(dst, c->parent, c->source, c->target, c->partition) < 0)
			return PL_ENOMEM;
		dst->cols[i].column_id = c->column_id;
	}
	return 0;
}

int pl_namemaps_extend(pl_namemaps *base, const struct pl_new_namemap *add, size_t n, pl_namemaps **out)
{
	if (n == 0) {
		*out = pl_namemaps_ref(base);
		return 0;
	}
	pl_namemaps *m = calloc(1, sizeof(*m));
	size_t nbase = base ? base->n : 0;
	if (!m || !(m->items = calloc(nbase + n, sizeof(*m->items)))) {
		free(m);
		return PL_ENOMEM;
	}
	m->refs = 1;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < nbase; i++, m->n++)
		rc = copy_map(&m->items[m->n], &base->items[i], base->items[i].id);
	for (size_t i = 0; rc == 0 && i < n; i++, m->n++)
		rc = copy_map(&m->items[m->n], &add[i].map, add[i].assigned_id);
	if (rc) {
		pl_namemaps_release(m);
		return rc;
	}
	*out = m;
	return 0;
}
