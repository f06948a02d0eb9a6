/*
 * viewfiles.c -- resolving a lake table's files and deleted rows when DuckDB binds its view
 * (see viewfiles.h).
 */
#include "sql/viewfiles.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/str.h"
#include "sql/lake.h"
#include "table/scan.h"
#include "table/emptyfile.h"
#include "storage/s3lake.h"

/* ---- __planar_kept(file_index, position, map): is the row still there? (table/delcache.h) ---- */

/* pos[0..n) counts up by one from pos[0] (one branch-free pass the compiler vectorizes; the
 * caller checked its ends first). */
static bool consecutive(const int64_t *pos, idx_t n)
{
	uint64_t off = 0, base = (uint64_t)pos[0];
	for (idx_t r = 0; r < n; r++)
		off |= (uint64_t)pos[r] - base - r;
	return off == 0;
}

/* The map a call was bound with: looked up once when the call is bound, not once per chunk. */
typedef struct kept_data {
	bool bound;           /* the map argument was a constant */
	const pl_delmap *map; /* NULL: no row of the part's files is deleted */
} kept_data;

static void *kept_data_copy(void *p)
{
	kept_data *c = malloc(sizeof(*c));
	if (c)
		*c = *(kept_data *)p;
	return c;
}

static duckdb_value bind_arg(duckdb_bind_info info, duckdb_client_context ctx, idx_t i);

static void kept_fn_bind(duckdb_bind_info info)
{
	planar_db *db = duckdb_scalar_function_bind_get_extra_info(info);
	duckdb_client_context ctx = NULL;
	duckdb_scalar_function_get_client_context(info, &ctx);
	kept_data *d = calloc(1, sizeof(*d));
	duckdb_value v = d ? bind_arg(info, ctx, 2) : NULL;
	if (v && !duckdb_is_null_value(v)) {
		int64_t id = duckdb_get_int64(v);
		d->map = id >= 0 ? pl_delcache_get_map(&db->deletes, id) : NULL;
		d->bound = id < 0 || d->map;
	}
	if (v)
		duckdb_destroy_value(&v);
	if (ctx)
		duckdb_destroy_client_context(&ctx);
	if (!d) {
		duckdb_scalar_function_bind_set_error(info, "out of memory");
		return;
	}
	duckdb_scalar_function_set_bind_data(info, d, free);
	duckdb_scalar_function_set_bind_data_copy(info, kept_data_copy);
}

static void kept_fn(duckdb_function_info info, duckdb_data_chunk input, duckdb_vector output)
{
	planar_db *db = duckdb_scalar_function_get_extra_info(info);
	const kept_data *d = duckdb_scalar_function_get_bind_data(info);
	idx_t n = duckdb_data_chunk_get_size(input);
	uint64_t *file = duckdb_vector_get_data(duckdb_data_chunk_get_vector(input, 0));
	int64_t *pos = duckdb_vector_get_data(duckdb_data_chunk_get_vector(input, 1));
	bool *out = duckdb_vector_get_data(output);
	if (n == 0)
		return;
	const pl_delmap *map = d->map;
	if (!d->bound) { /* the map given per row (the same for all of them) */
		int64_t id = ((int64_t *)duckdb_vector_get_data(duckdb_data_chunk_get_vector(input, 2)))[0];
		if (id >= 0 && !(map = pl_delcache_get_map(&db->deletes, id))) {
			duckdb_scalar_function_set_error(info, "deleted-row map not loaded");
			return;
		}
	}
	memset(out, 1, n * sizeof(*out));
	if (!map) /* the part's files have no deleted rows */
		return;
	/* A chunk of one file's consecutive rows (what a scan without pushed-down filters reads):
	 * only the set bits of its range are visited, a word at a time. */
	if (file[0] == file[n - 1] && pos[0] >= 0 && (uint64_t)(pos[n - 1] - pos[0]) == n - 1 && consecutive(pos, n)) {
		const pl_delset *set = file[0] < map->n ? map->sets[file[0]] : NULL;
		uint64_t from = (uint64_t)pos[0], to = from + n; /* [from, to) */
		if (set && to > set->nbits)
			to = set->nbits;
		for (uint64_t w = set ? from / 64 : 0; set && from < to && w <= (to - 1) / 64; w++) {
			uint64_t bits = set->bits[w];
			if (w == from / 64)
				bits &= ~0ULL << (from % 64);
			if (w == (to - 1) / 64 && to % 64)
				bits &= ~0ULL >> (64 - to % 64);
			for (; bits; bits &= bits - 1)
				out[w * 64 + (uint64_t)__builtin_ctzll(bits) - from] = false;
		}
		return;
	}
	/* rows come in runs from one file: its set is looked up once per run */
	uint64_t last = UINT64_MAX;
	const pl_delset *set = NULL;
	for (idx_t r = 0; r < n; r++) {
		if (file[r] != last) {
			last = file[r];
			set = last < map->n ? map->sets[last] : NULL;
		}
		out[r] = !pl_delset_has(set, (uint64_t)pos[r]);
	}
}

static int register_kept_fn(planar_db *db, pl_err *err)
{
	duckdb_scalar_function f = duckdb_create_scalar_function();
	duckdb_logical_type ut = duckdb_create_logical_type(DUCKDB_TYPE_UBIGINT);
	duckdb_logical_type bt = duckdb_create_logical_type(DUCKDB_TYPE_BIGINT);
	duckdb_logical_type rt = duckdb_create_logical_type(DUCKDB_TYPE_BOOLEAN);
	duckdb_scalar_function_set_name(f, "__planar_kept");
	duckdb_scalar_function_add_parameter(f, ut);
	duckdb_scalar_function_add_parameter(f, bt);
	duckdb_scalar_function_add_parameter(f, bt);
	duckdb_scalar_function_set_return_type(f, rt);
	duckdb_scalar_function_set_extra_info(f, db, NULL);
	duckdb_scalar_function_set_bind(f, kept_fn_bind);
	duckdb_scalar_function_set_function(f, kept_fn);
	duckdb_state s = duckdb_register_scalar_function(db->admin, f);
	duckdb_destroy_logical_type(&ut);
	duckdb_destroy_logical_type(&bt);
	duckdb_destroy_logical_type(&rt);
	duckdb_destroy_scalar_function(&f);
	return s == DuckDBError ? pl_err_set(err, PL_ERROR, "cannot register Planar's function __planar_kept") : 0;
}

/* ---- __planar_view_files(lake, table_id, group, schema_since) and
 *      __planar_delmap(lake, table_id, group): a shared view's files and deleted rows, resolved
 *      when DuckDB binds the view (see table/scan.h) ------------------------------------------ */

/* The files one binding resolved, shared by the copies DuckDB makes of the expression. */
typedef struct files_data {
	pthread_mutex_t lock;
	int refs;
	size_t n;
	char **paths;
} files_data;

static void files_data_release(void *p)
{
	files_data *d = p;
	pthread_mutex_lock(&d->lock);
	bool last = --d->refs == 0;
	pthread_mutex_unlock(&d->lock);
	if (!last)
		return;
	for (size_t i = 0; i < d->n; i++)
		free(d->paths[i]);
	free(d->paths);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

static void *files_data_copy(void *p)
{
	files_data *d = p;
	pthread_mutex_lock(&d->lock);
	d->refs++;
	pthread_mutex_unlock(&d->lock);
	return d;
}

/* The deleted-row map bound with a group's files on this thread: DuckDB binds a SELECT's FROM
 * (the read_parquet() with __planar_view_files) before its WHERE (with __planar_delmap), so the map
 * always belongs to the very file list the scan reads. */
typedef struct bound_map {
	const planar_db *db;
	int64_t table_id;
	int group;
	int64_t map;
	char lake[256];
} bound_map;

/* Groups 0 and 1 are the column layouts, 2 + m the files read by name map m (table/scan.h). */
#define BOUND_SLOTS 8
#define BOUND_SLOT(g) ((g) < BOUND_SLOTS ? (g) : 2 + (g) % (BOUND_SLOTS - 2))
static _Thread_local bound_map last_bound[BOUND_SLOTS];

/* Folds argument i of a scalar function being bound to a constant. */
static duckdb_value bind_arg(duckdb_bind_info info, duckdb_client_context ctx, idx_t i)
{
	duckdb_expression e = duckdb_scalar_function_bind_get_argument(info, i);
	duckdb_value v = NULL;
	if (e && duckdb_expression_is_foldable(e)) {
		duckdb_error_data ed = duckdb_expression_fold(ctx, e, &v);
		if (ed && duckdb_error_data_has_error(ed) && v)
			duckdb_destroy_value(&v);
		if (ed)
			duckdb_destroy_error_data(&ed);
	}
	if (e)
		duckdb_destroy_expression(&e);
	return v;
}

typedef struct bind_args {
	char *lake;
	int64_t table_id, schema_since;
	int group;
} bind_args;

static int read_bind_args(duckdb_bind_info info, duckdb_client_context ctx, size_t n, bind_args *a, pl_err *err)
{
	duckdb_value v[4] = {0};
	bool ok = true;
	for (size_t i = 0; i < n; i++)
		ok = (v[i] = bind_arg(info, ctx, i)) != NULL && !duckdb_is_null_value(v[i]) && ok;
	if (ok) {
		char *s = duckdb_get_varchar(v[0]);
		a->lake = pl_strdup(s);
		duckdb_free(s);
		a->table_id = duckdb_get_int64(v[1]);
		a->group = (int)duckdb_get_int64(v[2]);
		a->schema_since = n > 3 ? duckdb_get_int64(v[3]) : -1;
		ok = a->lake && a->group >= 0;
	}
	for (size_t i = 0; i < n; i++)
		if (v[i])
			duckdb_destroy_value(&v[i]);
	return ok ? 0 : pl_err_set(err, PL_EINVALID, "Planar's file functions need constant arguments");
}

/* Whether table t of model m is what the view text was written for. */
static int fits_view(const pl_model *m, const pl_table *t, const bind_args *a, bool *fits, pl_err *err)
{
	bool files = false;
	*fits = false;
	if (!t || t->schema_since != a->schema_since || a->group < 0)
		return 0;
	int rc = pl_scan_group_shape(m, t, a->group, &files, NULL, err);
	/* the layouts' parts are in the view with or without files (table/scan_view.c) */
	*fits = rc == 0 && (files || a->group < 2);
	return rc;
}

/* Under db->lock: the files of the group, and the map of their deleted rows into *map. */
static int resolve_files(planar_db *db, duckdb_client_context ctx, const bind_args *a, files_data *d, int64_t *map,
			 pl_err *err)
{
	pl_lake *lake = pl_db_find_lake(db, a->lake);
	if (!lake)
		return pl_err_set(err, PL_ENOTFOUND, "no lake named \"%s\" is attached", a->lake);
	idx_t id = duckdb_client_context_get_connection_id(ctx);
	planar_conn *conn = pl_delcache_conn_get(&db->deletes, id);
	/* The admin connection binds a view only to create it (DuckDB learns its columns then): one
	 * file of the group is enough, which keeps creating a view independent of the table's size
	 * (its files are not even loaded). */
	duckdb_client_context admin = NULL;
	duckdb_connection_get_client_context(db->admin, &admin);
	bool creating = admin && duckdb_client_context_get_connection_id(admin) == id;
	if (admin)
		duckdb_destroy_client_context(&admin);
	const pl_model *m = NULL;
	bool fits = false;
	int rc = pl_lake_model_for(lake, conn, &m, err);
	const pl_table *t = rc == 0 ? pl_model_table_by_id(m, a->table_id) : NULL;
	if (rc == 0)
		rc = fits_view(m, t, a, &fits, err);
	if (rc == 0 && !fits) { /* the view changed after this statement's view was taken: use the latest */
		m = lake->shared_model ? lake->shared_model : lake->model;
		t = pl_model_table_by_id(m, a->table_id);
		rc = fits_view(m, t, a, &fits, err);
	}
	if (rc)
		return rc;
	if (!fits)
		return pl_err_set(err, PL_EBUSY, "table %lld of lake \"%s\" changed while the statement was planned; "
				  "run it again", (long long)a->table_id, a->lake);
	*map = -1;
	if (creating) {
		d->paths = calloc(1, sizeof(*d->paths));
		bool has_files = false;
		const char *loaded = NULL;
		rc = d->paths ? pl_scan_group_shape(m, t, a->group, &has_files, &loaded, err) : pl_err_nomem(err);
		if (rc == 0 && loaded)
			rc = (d->paths[0] = pl_strdup(loaded)) ? 0 : pl_err_nomem(err);
		else if (rc == 0 && has_files)
			rc = pl_model_table_some_file(m, t, a->group == 0, &d->paths[0], err);
		if (rc == 0 && !d->paths[0]) {
			rc = pl_empty_file(&db->empty, t, &d->paths[0], err);
			*map = -2;
		}
		d->n = rc == 0 && d->paths[0] ? 1 : 0;
		return rc;
	}
	rc = pl_model_table_files(m, t, NULL, NULL, err);
	if (rc)
		return rc;
	size_t n = pl_scan_group_files(t, a->group, NULL);
	const pl_data_file **files = malloc((n ? n : 1) * sizeof(*files));
	d->paths = calloc(n + 1, sizeof(*d->paths));
	if (!files || !d->paths) {
		free(files);
		return pl_err_nomem(err);
	}
	pl_scan_group_files(t, a->group, files);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = (d->paths[d->n++] = pl_strdup(files[i]->path)) ? 0 : pl_err_nomem(err);
	free(files);
	if (rc == 0 && n == 0) { /* no file: an empty one of the table's columns, never read */
		rc = pl_empty_file(&db->empty, t, &d->paths[0], err);
		d->n = rc == 0 ? 1 : 0;
		*map = -2;
		return rc;
	}
	/* One file read through field ids or a name map: an empty companion makes the list two
	 * files, read on every thread (table/emptyfile.h). It comes last, so the real file keeps
	 * index 0 in the deleted-row map (the map has no entry for it: nothing deleted). */
	if (rc == 0 && n == 1) {
		pl_scan_view_companion(&db->empty, m, t, a->group, &d->paths[1]);
		d->n += d->paths[1] != NULL;
	}
	if (rc == 0 && pl_scan_group_hides_rows(m, t, a->group)) {
		/* sets not loaded yet are read through a connection of our own */
		rc = pl_scan_group_map(&db->deletes, NULL, m, t, a->group, map, err);
		if (rc == PL_EBUSY) {
			duckdb_connection con = NULL;
			pl_err_clear(err);
			rc = duckdb_connect(db->duck, &con) == DuckDBError
				     ? pl_err_set(err, PL_ERROR, "cannot open a connection to read deleted rows")
				     : pl_scan_group_map(&db->deletes, con, m, t, a->group, map, err);
			if (con)
				duckdb_disconnect(&con);
		}
	}
	return rc;
}

static void files_fn_bind(duckdb_bind_info info)
{
	planar_db *db = duckdb_scalar_function_bind_get_extra_info(info);
	duckdb_client_context ctx = NULL;
	duckdb_scalar_function_get_client_context(info, &ctx);
	bind_args a = {0};
	pl_err err = {0};
	int64_t map = -1;
	files_data *d = calloc(1, sizeof(*d));
	int rc = d ? read_bind_args(info, ctx, 4, &a, &err) : pl_err_nomem(&err);
	if (rc == 0) {
		pthread_mutex_init(&d->lock, NULL);
		d->refs = 1;
		pthread_mutex_lock(&db->lock);
		rc = resolve_files(db, ctx, &a, d, &map, &err);
		pthread_mutex_unlock(&db->lock);
		if (rc == 0) /* an S3 lake's files: their cached copies, fetched now when missing */
			rc = pl_s3lake_ensure((const char *const *)d->paths, d->n, &err);
	} else if (d) {
		pthread_mutex_init(&d->lock, NULL);
		d->refs = 1;
	}
	if (rc == 0) {
		bound_map *b = &last_bound[BOUND_SLOT(a.group)];
		*b = (bound_map){db, a.table_id, a.group, map, ""};
		snprintf(b->lake, sizeof(b->lake), "%s", a.lake);
		duckdb_scalar_function_set_bind_data(info, d, files_data_release);
		duckdb_scalar_function_set_bind_data_copy(info, files_data_copy);
	} else {
		duckdb_scalar_function_bind_set_error(info, err.msg);
		if (d)
			files_data_release(d);
	}
	free(a.lake);
	if (ctx)
		duckdb_destroy_client_context(&ctx);
}

static void files_fn(duckdb_function_info info, duckdb_data_chunk input, duckdb_vector output)
{
	files_data *d = duckdb_scalar_function_get_bind_data(info);
	idx_t rows = duckdb_data_chunk_get_size(input);
	if (duckdb_list_vector_reserve(output, rows * d->n) == DuckDBError) {
		duckdb_scalar_function_set_error(info, "out of memory");
		return;
	}
	duckdb_vector child = duckdb_list_vector_get_child(output);
	duckdb_list_entry *entries = duckdb_vector_get_data(output);
	for (idx_t r = 0; r < rows; r++) {
		entries[r] = (duckdb_list_entry){r * d->n, d->n};
		for (size_t i = 0; i < d->n; i++)
			duckdb_vector_assign_string_element(child, r * d->n + i, d->paths[i]);
	}
	duckdb_list_vector_set_size(output, rows * d->n);
}

static void *copy_int64(void *p)
{
	int64_t *c = malloc(sizeof(*c));
	if (c)
		*c = *(int64_t *)p;
	return c;
}

static void delmap_fn_bind(duckdb_bind_info info)
{
	planar_db *db = duckdb_scalar_function_bind_get_extra_info(info);
	duckdb_client_context ctx = NULL;
	duckdb_scalar_function_get_client_context(info, &ctx);
	bind_args a = {0};
	pl_err err = {0};
	int rc = read_bind_args(info, ctx, 3, &a, &err);
	const bound_map *b = rc == 0 ? &last_bound[BOUND_SLOT(a.group)] : NULL;
	if (rc == 0 && (b->db != db || b->table_id != a.table_id || b->group != a.group || strcmp(b->lake, a.lake) != 0))
		rc = pl_err_set(&err, PL_ERROR, "the deleted rows of table %lld were not bound with its files",
				(long long)a.table_id);
	int64_t *map = rc == 0 ? malloc(sizeof(*map)) : NULL;
	if (rc == 0 && !map)
		rc = pl_err_nomem(&err);
	if (rc == 0) {
		*map = b->map;
		duckdb_scalar_function_set_bind_data(info, map, free);
		duckdb_scalar_function_set_bind_data_copy(info, copy_int64);
	} else {
		duckdb_scalar_function_bind_set_error(info, err.msg);
	}
	free(a.lake);
	if (ctx)
		duckdb_destroy_client_context(&ctx);
}

static void delmap_fn(duckdb_function_info info, duckdb_data_chunk input, duckdb_vector output)
{
	int64_t *map = duckdb_scalar_function_get_bind_data(info);
	int64_t *out = duckdb_vector_get_data(output);
	for (idx_t r = 0; r < duckdb_data_chunk_get_size(input); r++)
		out[r] = *map;
}

static int register_resolvers(planar_db *db, pl_err *err)
{
	duckdb_logical_type vt = duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR);
	duckdb_logical_type bt = duckdb_create_logical_type(DUCKDB_TYPE_BIGINT);
	duckdb_logical_type it = duckdb_create_logical_type(DUCKDB_TYPE_INTEGER);
	duckdb_logical_type lt = duckdb_create_list_type(vt);
	duckdb_state s = DuckDBSuccess;
	for (int k = 0; k < 2 && s == DuckDBSuccess; k++) {
		duckdb_scalar_function f = duckdb_create_scalar_function();
		duckdb_scalar_function_set_name(f, k == 0 ? "__planar_view_files" : "__planar_delmap");
		duckdb_scalar_function_add_parameter(f, vt);
		duckdb_scalar_function_add_parameter(f, bt);
		duckdb_scalar_function_add_parameter(f, it);
		if (k == 0)
			duckdb_scalar_function_add_parameter(f, bt);
		duckdb_scalar_function_set_return_type(f, k == 0 ? lt : bt);
		duckdb_scalar_function_set_extra_info(f, db, NULL);
		duckdb_scalar_function_set_bind(f, k == 0 ? files_fn_bind : delmap_fn_bind);
		duckdb_scalar_function_set_function(f, k == 0 ? files_fn : delmap_fn);
		s = duckdb_register_scalar_function(db->admin, f);
		duckdb_destroy_scalar_function(&f);
	}
	duckdb_destroy_logical_type(&lt);
	duckdb_destroy_logical_type(&vt);
	duckdb_destroy_logical_type(&bt);
	duckdb_destroy_logical_type(&it);
	return s == DuckDBError ? pl_err_set(err, PL_ERROR, "cannot register Planar's file functions") : 0;
}

int pl_viewfiles_register(planar_db *db, pl_err *err)
{
	int rc = register_kept_fn(db, err);
	return rc ? rc : register_resolvers(db, err);
}
