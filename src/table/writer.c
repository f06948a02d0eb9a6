/*
 * writer.c -- Parquet data files via DuckDB's COPY with FIELD_IDS and RETURN_STATS (see writer.h).
 */
#include "table/writer.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog/upkeep.h"
#include "core/ids.h"
#include "core/str.h"
#include "storage/fs.h"


/* ---- column view over either column source ------------------------------------------------- */

typedef struct col_ref {
	int64_t id, parent;
	const char *name, *type;
} col_ref;

static size_t ncols_of(const pl_write_columns *c)
{
	return c->cols ? c->ncols : c->table->ncolumns;
}

static col_ref col_at(const pl_write_columns *c, size_t i)
{
	if (c->cols)
		return (col_ref){c->cols[i].id, c->cols[i].parent, c->cols[i].name, c->cols[i].type};
	const pl_column *k = &c->table->columns[i];
	return (col_ref){k->id, k->parent, k->name, k->type};
}

/* FIELD_IDS {a: 1, s: {__duckdb_field_id: 2, x: 3}, l: {__duckdb_field_id: 4, element: 5}} */
static void put_field_ids(pl_buf *b, const pl_write_columns *c, int64_t parent)
{
	bool first = true;
	pl_buf_putc(b, '{');
	if (parent >= 0) {
		pl_buf_printf(b, "__duckdb_field_id: %lld", (long long)parent);
		first = false;
	}
	for (size_t i = 0; i < ncols_of(c); i++) {
		col_ref r = col_at(c, i);
		if (r.parent != parent)
			continue;
		if (!first)
			pl_buf_puts(b, ", ");
		first = false;
		pl_buf_put_ident(b, r.name);
		pl_buf_puts(b, ": ");
		bool nested = strcmp(r.type, "struct") == 0 || strcmp(r.type, "list") == 0 ||
			      strcmp(r.type, "map") == 0;
		if (nested)
			put_field_ids(b, c, r.id);
		else
			pl_buf_printf(b, "%lld", (long long)r.id);
	}
	pl_buf_putc(b, '}');
}

void pl_writer_put_field_ids(pl_buf *b, const pl_table *t)
{
	pl_write_columns c = {.table = t};
	put_field_ids(b, &c, -1);
}

/* The RETURN_STATS key of a column: "s"."x" (list children are "l"."element"). */
static void put_stats_path(pl_buf *b, const pl_write_columns *c, col_ref r)
{
	if (r.parent >= 0) {
		for (size_t i = 0; i < ncols_of(c); i++) {
			col_ref p = col_at(c, i);
			if (p.id == r.parent) {
				put_stats_path(b, c, p);
				pl_buf_putc(b, '.');
				break;
			}
		}
	}
	pl_buf_put_ident(b, r.name);
}

static int find_column_by_path(const pl_write_columns *c, const char *path, col_ref *out)
{
	for (size_t i = 0; i < ncols_of(c); i++) {
		col_ref r = col_at(c, i);
		pl_buf b = PL_BUF_INIT;
		put_stats_path(&b, c, r);
		bool same = b.ptr && strcmp(b.ptr, path) == 0;
		pl_buf_dispose(&b);
		if (same) {
			*out = r;
			return 1;
		}
	}
	return 0;
}

/* ---- reading RETURN_STATS ------------------------------------------------------------------ */

static char *vec_string(duckdb_vector v, idx_t row)
{
	duckdb_string_t *data = duckdb_vector_get_data(v);
	uint64_t *valid = duckdb_vector_get_validity(v);
	if (valid && !duckdb_validity_row_is_valid(valid, row))
		return NULL;
	return pl_strndup(duckdb_string_t_data(&data[row]), duckdb_string_t_length(data[row]));
}

static void set_stat(pl_column_stats *s, const char *key, char *value)
{
	if (!value)
		return;
	if (strcmp(key, "min") == 0 && !s->min)
		s->min = value, value = NULL;
	else if (strcmp(key, "max") == 0 && !s->max)
		s->max = value, value = NULL;
	else if (strcmp(key, "null_count") == 0)
		s->null_count = strtoll(value, NULL, 10);
	else if (strcmp(key, "num_values") == 0)
		s->value_count = strtoll(value, NULL, 10);
	else if (strcmp(key, "column_size_bytes") == 0)
		s->column_size = strtoll(value, NULL, 10);
	else if (strcmp(key, "has_nan") == 0)
		s->contains_nan = strcmp(value, "true") == 0;
	free(value);
}

/* One column's inner MAP(VARCHAR, VARCHAR) at list entry `e` of the inner map vector. */
static int read_column_stats(duckdb_vector inner, idx_t row, pl_column_stats *s)
{
	duckdb_list_entry *entries = duckdb_vector_get_data(inner);
	duckdb_vector kv = duckdb_list_vector_get_child(inner);
	duckdb_vector keys = duckdb_struct_vector_get_child(kv, 0);
	duckdb_vector vals = duckdb_struct_vector_get_child(kv, 1);
	for (idx_t k = entries[row].offset; k < entries[row].offset + entries[row].length; k++) {
		char *key = vec_string(keys, k);
		if (!key)
			continue;
		set_stat(s, key, vec_string(vals, k));
		free(key);
	}
	return 0;
}

static int read_file_stats(duckdb_vector map, idx_t row, const pl_write_columns *c, pl_new_file *f,
			   pl_err *err)
{
	duckdb_list_entry *entries = duckdb_vector_get_data(map);
	duckdb_vector kv = duckdb_list_vector_get_child(map);
	duckdb_vector keys = duckdb_struct_vector_get_child(kv, 0);
	duckdb_vector inner = duckdb_struct_vector_get_child(kv, 1);
	idx_t n = entries[row].length;
	f->stats = calloc(n + 1, sizeof(*f->stats));
	if (!f->stats)
		return pl_err_nomem(err);
	for (idx_t k = entries[row].offset; k < entries[row].offset + n; k++) {
		char *path = vec_string(keys, k);
		col_ref r;
		bool row_ids = path && (strcmp(path, "_ducklake_internal_row_id") == 0 ||
					strcmp(path, "\"_ducklake_internal_row_id\"") == 0);
		bool snapshots = path && (strcmp(path, "_ducklake_internal_snapshot_id") == 0 ||
					  strcmp(path, "\"_ducklake_internal_snapshot_id\"") == 0);
		if (f->flushed && (row_ids || snapshots)) { /* the bounds of a flushed file's rows */
			pl_column_stats s = {0};
			read_column_stats(inner, k, &s);
			if (row_ids && s.min)
				f->flush_row_id_start = strtoll(s.min, NULL, 10);
			if (snapshots && s.min)
				f->flush_begin = strtoll(s.min, NULL, 10);
			if (snapshots && s.max)
				f->flush_max = strtoll(s.max, NULL, 10);
			free(s.min);
			free(s.max);
			free(path);
			continue;
		}
		if (path && find_column_by_path(c, path, &r)) {
			pl_column_stats *s = &f->stats[f->nstats++];
			s->column_id = r.id;
			s->column_size = -1;
			s->contains_nan = (strncmp(r.type, "float", 5) == 0) ? 0 : -1;
			s->type = pl_strdup(r.type);
			read_column_stats(inner, k, s);
			if (!s->type) {
				free(path);
				return pl_err_nomem(err);
			}
		}
		free(path);
	}
	return 0;
}

/* A partitioned file's key values (RETURN_STATS' partition_keys, in key order) into f. */
static int read_partition_values(duckdb_vector map, idx_t row, pl_new_file *f, pl_err *err)
{
	duckdb_list_entry *entries = duckdb_vector_get_data(map);
	duckdb_vector kv = duckdb_list_vector_get_child(map);
	duckdb_vector vals = duckdb_struct_vector_get_child(kv, 1);
	idx_t n = entries[row].length;
	f->partition_values = calloc(n + 1, sizeof(*f->partition_values));
	if (!f->partition_values)
		return pl_err_nomem(err);
	for (idx_t k = entries[row].offset; k < entries[row].offset + n; k++) {
		uint64_t *valid = duckdb_vector_get_validity(vals);
		bool null = valid && !duckdb_validity_row_is_valid(valid, k);
		char *v = null ? NULL : vec_string(vals, k);
		if (!null && !v)
			return pl_err_nomem(err);
		f->partition_values[f->npartition_values++] = v;
	}
	return 0;
}

/* Moves staging/from to staging/to, making to's directories. */
static int rename_in_staging(const char *staging, const char *from, const char *to, pl_err *err)
{
	pl_buf a = PL_BUF_INIT, b = PL_BUF_INIT;
	pl_buf_printf(&a, "%s%s", staging, from);
	pl_buf_printf(&b, "%s%s", staging, to);
	int rc = pl_buf_oom(&a) || pl_buf_oom(&b) ? pl_err_nomem(err) : pl_fs_mkdirs_parent(b.ptr, err);
	if (rc == 0)
		rc = pl_fs_rename(a.ptr, b.ptr, err);
	pl_buf_dispose(&a);
	pl_buf_dispose(&b);
	return rc;
}

/* The write makes one file per partition value (partition options given). */
static bool by_partition(const pl_write_request *req)
{
	return req->partition && req->partition->options;
}

static int read_stats_chunk(duckdb_data_chunk chunk, const pl_write_request *req, const char *staging,
			    pl_txn *txn, int64_t *rows, pl_err *err)
{
	idx_t n = duckdb_data_chunk_get_size(chunk);
	duckdb_vector names = duckdb_data_chunk_get_vector(chunk, 0);
	int64_t *counts = duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk, 1));
	int64_t *sizes = duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk, 2));
	int64_t *footers = duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk, 3));
	duckdb_vector stats = duckdb_data_chunk_get_vector(chunk, 4);
	for (idx_t r = 0; r < n; r++) {
		char *full = vec_string(names, r);
		if (!full)
			return pl_err_nomem(err);
		if (counts[r] == 0) { /* DuckDB may leave an empty file behind: not part of the table */
			pl_err ignored;
			pl_fs_remove(full, &ignored);
			free(full);
			continue;
		}
		pl_new_file *f = pl_txn_add_file(txn);
		/* relative to the staging directory: the file's name, under its partition directories */
		const char *base = strrchr(full, '/');
		size_t slen = strlen(staging) - 1; /* without its final '/' */
		bool partitioned = by_partition(req);
		const char *rel = !partitioned ? (base ? base + 1 : full)
				  : strncmp(full, staging, slen) == 0 ? full + slen + strspn(full + slen, "/") : NULL;
		if (!rel || strstr(rel, "..")) {
			pl_err_set(err, PL_EIO, "unexpected data file name '%s'", full);
			free(full);
			return PL_EIO;
		}
		const char *flat = partitioned && req->flat_partitions && base ? base + 1 : NULL;
		if (!f || !(f->path = flat ? pl_strdup(flat) : partitioned ? pl_partition_dir_path(req->partition, rel)
									   : pl_strdup(rel))) {
			free(full);
			return pl_err_nomem(err);
		}
		/* computed keys were written under internal directory names: DuckLake's names instead */
		int mrc = partitioned && strcmp(f->path, rel) != 0 ? rename_in_staging(staging, rel, f->path, err) : 0;
		free(full);
		if (mrc)
			return mrc;
		f->table_ref = req->table_ref;
		if (partitioned) {
			f->partitioned = true;
			f->partition_id = req->partition->partition_id;
			int prc = read_partition_values(duckdb_data_chunk_get_vector(chunk, 5), r, f, err);
			if (prc)
				return prc;
		}
		if (req->flush) {
			f->flushed = true;
			f->flush_begin = f->flush_max = f->flush_row_id_start = -1;
		}
		f->record_count = counts[r];
		f->file_size = sizes[r];
		f->footer_size = footers[r];
		*rows += counts[r];
		int rc = read_file_stats(stats, r, &req->columns, f, err);
		if (rc == 0 && f->flushed && (f->flush_begin < 0 || f->flush_max < 0 || f->flush_row_id_start < 0))
			rc = pl_err_set(err, PL_EIO, "a flushed data file has no row ids or snapshots in its statistics");
		if (rc)
			return rc;
	}
	return 0;
}

/* Syncs the files (paths[0..n)), then their directories and those listed in dirs (partition
 * directories, each ending in '/'), each directory once. */
static int sync_files(char *const *paths, size_t n, const pl_strv *dirs, pl_err *err)
{
	return pl_fs_sync_files(paths, n, dirs ? dirs->items : NULL, dirs ? dirs->len : 0, err);
}

/* A background sync of a write's files: the thread's work and its outcome. */
typedef struct bg_sync {
	pthread_t thread;
	pl_strv paths, dirs;
	int rc;
	pl_err err;
} bg_sync;

static void *bg_sync_run(void *arg)
{
	bg_sync *b = arg;
	b->rc = sync_files(b->paths.items, b->paths.len, &b->dirs, &b->err);
	return NULL;
}

static int bg_sync_wait(void *ctx, pl_err *err)
{
	bg_sync *b = ctx;
	pthread_join(b->thread, NULL);
	int rc = b->rc;
	if (rc)
		*err = b->err;
	pl_strv_dispose(&b->paths);
	pl_strv_dispose(&b->dirs);
	free(b);
	return rc;
}

/* Starts syncing paths[0..n) in a thread whose wait becomes txn->pending; falls back to syncing
 * here when a thread cannot be had. */
static int start_bg_sync(pl_txn *txn, char *const *paths, size_t n, const pl_strv *dirs, pl_err *err)
{
	bg_sync *b = txn->pending.wait ? NULL : calloc(1, sizeof(*b));
	bool ok = b != NULL;
	for (size_t i = 0; ok && i < n; i++)
		ok = pl_strv_push(&b->paths, paths[i]) == 0;
	for (size_t i = 0; ok && i < dirs->len; i++)
		ok = pl_strv_push(&b->dirs, dirs->items[i]) == 0;
	if (ok && pthread_create(&b->thread, NULL, bg_sync_run, b) == 0) {
		txn->pending.wait = bg_sync_wait;
		txn->pending.ctx = b;
		return 0;
	}
	if (b) {
		pl_strv_dispose(&b->paths);
		pl_strv_dispose(&b->dirs);
	}
	free(b);
	return sync_files(paths, n, dirs, err);
}

/* Adds the directories of a partitioned file's relative path (a=1/b=2/f.parquet: dir a=1/b=2/ and
 * dir a=1/) to dirs, once each. */
static int add_partition_dirs(pl_strv *dirs, const char *dir, const char *rel, pl_err *err)
{
	for (const char *slash = strrchr(rel, '/'); slash; ) {
		pl_buf d = PL_BUF_INIT;
		pl_buf_printf(&d, "%s%.*s/", dir, (int)(slash - rel), rel);
		if (pl_buf_oom(&d))
			return pl_err_nomem(err);
		bool seen = false;
		for (size_t k = 0; k < dirs->len && !seen; k++)
			seen = strcmp(dirs->items[k], d.ptr) == 0;
		int rc = seen ? 0 : pl_strv_push(dirs, d.ptr) ? pl_err_nomem(err) : 0;
		pl_buf_dispose(&d);
		if (rc || seen)
			return rc;
		const char *prev = NULL;
		for (const char *p = rel; p < slash; p++)
			if (*p == '/')
				prev = p;
		slash = prev;
	}
	/* the table's directory gains the top partition directory */
	for (size_t k = 0; k < dirs->len; k++)
		if (strcmp(dirs->items[k], dir) == 0)
			return 0;
	return pl_strv_push(dirs, dir) ? pl_err_nomem(err) : 0;
}

/* Syncs the last n files listed in txn->written (this write's) and dirs, now or in the
 * background. */
static int sync_written(pl_txn *txn, size_t n, pl_strv *dirs, bool background, pl_err *err)
{
	if (n == 0)
		return 0;
	char *const *paths = txn->written.items + (txn->written.len - n);
	return background ? start_bg_sync(txn, paths, n, dirs, err) : sync_files(paths, n, dirs, err);
}

/* Moves the files written into the staging directory to the table directory and syncs them:
 * every file, then the directory once (with the last file). */
static int publish_files(pl_txn *txn, size_t first, const char *staging, const char *dir, bool background,
			 pl_err *err)
{
	int rc = 0;
	pl_strv dirs = PL_STRV_INIT;
	for (size_t i = first; rc == 0 && i < txn->nfiles; i++) {
		pl_buf from = PL_BUF_INIT, to = PL_BUF_INIT;
		pl_buf_printf(&from, "%s%s", staging, txn->files[i].path);
		pl_buf_printf(&to, "%s%s", dir, txn->files[i].path);
		bool nested = strchr(txn->files[i].path, '/') != NULL;
		rc = pl_buf_oom(&from) || pl_buf_oom(&to) ? pl_err_nomem(err) : 0;
		if (rc == 0 && nested)
			rc = add_partition_dirs(&dirs, dir, txn->files[i].path, err);
		if (rc == 0 && nested)
			rc = pl_fs_mkdirs_parent(to.ptr, err);
		if (rc == 0)
			rc = pl_fs_rename(from.ptr, to.ptr, err);
		if (rc == 0)
			rc = pl_strv_push((pl_strv *)&txn->written, to.ptr) ? pl_err_nomem(err) : 0;
		pl_buf_dispose(&from);
		pl_buf_dispose(&to);
	}
	if (rc == 0)
		rc = sync_written(txn, txn->nfiles - first, &dirs, background, err);
	pl_strv_dispose(&dirs);
	return rc;
}

/* The COPY of source's rows into the staging directory. */
static int copy_sql(const pl_write_request *req, const char *source, const char *staging, pl_buf *sql, pl_err *err)
{
	const pl_partition_write *part = by_partition(req) ? req->partition : NULL;
	if (part)
		pl_buf_printf(sql, "COPY (%s%s) AS __planar_part) TO ", part->select_prefix, source);
	else
		pl_buf_printf(sql, "COPY (%s) TO ", source);
	if (part) { /* the partition directories go under it */
		if (strchr(staging, '\''))
			return pl_err_set(err, PL_EINVALID, "a partitioned table's directory may not contain a quote: %s",
					  req->dir);
		pl_buf_putc(sql, '\'');
		pl_buf_put(sql, staging, strlen(staging) - 1);
		pl_buf_putc(sql, '\'');
	} else {
		pl_buf_put_literal(sql, staging);
	}
	pl_buf_puts(sql, " (FORMAT parquet, FIELD_IDS ");
	put_field_ids(sql, &req->columns, -1);
	if (req->with_row_ids) /* rows keep their DuckLake row id (row lineage) */
		pl_buf_insert_before_last(sql, ", _ducklake_internal_row_id: 2147483540");
	if (req->with_snapshot_ids) /* as DuckLake tags the rows of a merged file */
		pl_buf_insert_before_last(sql, ", _ducklake_internal_snapshot_id: 2147483539");
	pl_buf_puts(sql, ", RETURN_STATS true");
	if (part) /* one file per partition value, as DuckLake writes them */
		pl_buf_printf(sql, ", FILENAME_PATTERN 'ducklake-{uuidv7}'%s", part->options);
	else if (!req->one_file) /* staging is a file of its own otherwise */
		pl_buf_printf(sql, ", FILENAME_PATTERN 'ducklake-{uuidv7}', FILE_SIZE_BYTES %lld",
			      (long long)req->target_file_size);
	if (req->row_group_size > 0)
		pl_buf_printf(sql, ", ROW_GROUP_SIZE %lld", (long long)req->row_group_size);
	pl_buf_puts(sql, req->copy_options);
	pl_buf_putc(sql, ')');
	return pl_buf_oom(sql) ? pl_err_nomem(err) : 0;
}

/* The files a COPY wrote, from its statistics rows, appended to txn in the order it gives. */
static int read_copy_result(duckdb_result *res, const pl_write_request *req, const char *staging, pl_txn *txn,
			    int64_t *rows, pl_err *err)
{
	int rc = 0;
	idx_t chunks = duckdb_result_chunk_count(*res);
	for (idx_t i = 0; rc == 0 && i < chunks; i++) {
		duckdb_data_chunk chunk = duckdb_result_get_chunk(*res, i);
		rc = read_stats_chunk(chunk, req, staging, txn, rows, err);
		duckdb_destroy_data_chunk(&chunk);
	}
	return rc;
}

/* One part of a write in parts, run on a thread of its own: its COPY writes into a directory
 * of its own inside the staging directory (DuckDB writes only into an empty one), whose files
 * then move up into the staging directory. */
typedef struct copy_part {
	duckdb_connection con;
	const char *staging;
	pl_buf dir, sql;
	duckdb_result res;
	int rc;
	pl_err err;
	bool started;
	pthread_t tid;
} copy_part;

static int lift_files(copy_part *p)
{
	int rc = 0;
	idx_t chunks = duckdb_result_chunk_count(p->res);
	for (idx_t i = 0; rc == 0 && i < chunks; i++) {
		duckdb_data_chunk chunk = duckdb_result_get_chunk(p->res, i);
		duckdb_vector names = duckdb_data_chunk_get_vector(chunk, 0);
		for (idx_t r = 0; rc == 0 && r < duckdb_data_chunk_get_size(chunk); r++) {
			char *full = vec_string(names, r);
			const char *base = full ? strrchr(full, '/') : NULL;
			pl_buf to = PL_BUF_INIT;
			pl_buf_printf(&to, "%s%s", p->staging, base ? base + 1 : "");
			rc = !full || pl_buf_oom(&to) ? pl_err_nomem(&p->err)
			     : !base || strncmp(full, p->dir.ptr, p->dir.len) != 0
				     ? pl_err_set(&p->err, PL_EIO, "unexpected data file name '%s'", full)
				     : pl_fs_rename(full, to.ptr, &p->err);
			pl_buf_dispose(&to);
			free(full);
		}
		duckdb_destroy_data_chunk(&chunk);
	}
	return rc;
}

static void *copy_part_run(void *arg)
{
	copy_part *p = arg;
	p->rc = pl_fs_mkdirs(p->dir.ptr, &p->err);
	if (p->rc == 0)
		p->rc = pl_engine_query(p->con, p->sql.ptr, &p->res, &p->err);
	if (p->rc == 0 && (p->rc = lift_files(p)) != 0)
		duckdb_destroy_result(&p->res);
	return NULL;
}

/* The parts at once, part k > 0 on a thread of its own; the files in part order. When one part
 * fails the parts after it are interrupted, and the first failure in part order is the error. */
static int run_copy_parts(const pl_write_request *req, const char *staging, pl_txn *txn, int64_t *rows, pl_err *err)
{
	size_t n = req->nparts;
	copy_part *parts = calloc(n, sizeof *parts);
	if (!parts)
		return pl_err_nomem(err);
	int rc = 0;
	for (size_t k = 0; k < n; k++) {
		parts[k].con = k ? req->part_cons[k - 1] : req->con;
		parts[k].staging = staging;
		parts[k].rc = PL_ERROR;
		pl_err_clear(&parts[k].err);
		pl_buf_printf(&parts[k].dir, "%spart-%zu/", staging, k);
		if (rc == 0 && pl_buf_oom(&parts[k].dir))
			rc = pl_err_nomem(err);
		if (rc == 0)
			rc = copy_sql(req, req->part_sql[k], parts[k].dir.ptr, &parts[k].sql, err);
	}
	for (size_t k = 1; rc == 0 && k < n; k++)
		parts[k].started = pthread_create(&parts[k].tid, NULL, copy_part_run, &parts[k]) == 0;
	if (rc == 0) {
		copy_part_run(&parts[0]);
		for (size_t k = 1; k < n; k++) {
			if (parts[0].rc != 0 && parts[k].started) /* the write fails: the rest is not needed */
				duckdb_interrupt(parts[k].con);
			if (parts[k].started)
				pthread_join(parts[k].tid, NULL);
			else
				copy_part_run(&parts[k]);
		}
	}
	for (size_t k = 0; rc == 0 && k < n; k++) {
		if (parts[k].rc != 0) {
			rc = parts[k].rc;
			*err = parts[k].err;
		}
	}
	for (size_t k = 0; k < n; k++) {
		if (rc == 0)
			rc = read_copy_result(&parts[k].res, req, staging, txn, rows, err);
		if (parts[k].rc == 0)
			duckdb_destroy_result(&parts[k].res);
		pl_buf_dispose(&parts[k].sql);
		pl_buf_dispose(&parts[k].dir);
	}
	free(parts);
	return rc;
}

static int run_copy(const pl_write_request *req, const char *staging, pl_txn *txn, int64_t *rows,
		    pl_err *err)
{
	if (req->nparts > 1 && !by_partition(req))
		return run_copy_parts(req, staging, txn, rows, err);
	pl_buf sql = PL_BUF_INIT;
	duckdb_result res;
	int rc = copy_sql(req, req->source_sql, staging, &sql, err);
	if (rc == 0)
		rc = pl_engine_query(req->con, sql.ptr, &res, err);
	pl_buf_dispose(&sql);
	if (rc)
		return rc;
	rc = read_copy_result(&res, req, staging, txn, rows, err);
	duckdb_destroy_result(&res);
	return rc;
}

/* The write has a bound form to COPY through the session's scratch file (req->bound). */
static bool has_bound(const pl_write_request *req)
{
	return req->bound.sql && req->bound.prepared && req->bound.scratch && *req->bound.scratch;
}

/* The COPY of the bound form of the rows (has_bound) to the scratch file tmp, prepared once;
 * false when it failed (the scratch file is then removed). */
static bool copy_bound(const pl_write_request *req, const char *tmp, duckdb_result *res)
{
	pl_buf sql = PL_BUF_INIT;
	pl_err ignored = {0};
	pl_engine_arg *args = calloc(req->bound.nvalues + 1, sizeof(*args));
	bool ok = args && copy_sql(req, req->bound.sql, tmp, &sql, &ignored) == 0 && !pl_buf_oom(&sql);
	for (size_t i = 0; ok && i < req->bound.nvalues; i++)
		args[i].text = req->bound.values[i];
	ok = ok && pl_engine_query_args(req->con, req->bound.prepared, sql.ptr, args, req->bound.nvalues, res,
					&ignored) == 0;
	if (!ok)
		pl_fs_remove(tmp, &ignored);
	free(args);
	pl_buf_dispose(&sql);
	return ok;
}

/* The rows of a write that makes one file at most: COPY to dir/.planar-write-<name>.parquet,
 * renamed to dir/ducklake-<uuid>.parquet (a failed write removes it). <name> is the session's
 * scratch name for a bound write, else the uuid. */
static int write_one_file(const pl_write_request *req, bool background, pl_txn *txn, int64_t *rows_out, pl_err *err)
{
	char uuid[PL_UUID_STRLEN + 1];
	size_t first = txn->nfiles;
	pl_buf tmp = PL_BUF_INIT, sql = PL_BUF_INIT;
	duckdb_result res;
	*rows_out = 0;
	int rc = pl_uuid_v7(uuid, err);
	if (rc == 0)
		rc = pl_fs_mkdirs(req->dir, err);
	bool bound = false;
	if (rc == 0 && has_bound(req)) {
		pl_buf_printf(&tmp, "%s.planar-write-%s.parquet", req->dir, req->bound.scratch);
		bound = !pl_buf_oom(&tmp) && copy_bound(req, tmp.ptr, &res);
		if (!bound)
			pl_buf_truncate(&tmp, 0);
	}
	if (!bound)
		pl_buf_printf(&tmp, "%s.planar-write-%s.parquet", req->dir, uuid);
	if (rc == 0 && pl_buf_oom(&tmp))
		rc = pl_err_nomem(err);
	if (rc == 0 && !bound)
		rc = copy_sql(req, req->source_sql, tmp.ptr, &sql, err);
	if (rc == 0 && !bound && (rc = pl_engine_query(req->con, sql.ptr, &res, err)) == PL_EIO)
		pl_err_wrap(err, "cannot write data files to '%s'", req->dir);
	if (rc == 0) {
		rc = read_copy_result(&res, req, req->dir, txn, rows_out, err);
		duckdb_destroy_result(&res);
	}
	/* the file (none when there was no row) takes its name in the table's directory, is listed
	 * as written (the commit checks it is still there) and synced */
	if (rc == 0 && txn->nfiles > first) {
		pl_buf name = PL_BUF_INIT, to = PL_BUF_INIT;
		pl_strv no_dirs = PL_STRV_INIT;
		pl_buf_printf(&name, "ducklake-%s.parquet", uuid);
		pl_buf_printf(&to, "%s%s", req->dir, pl_buf_cstr(&name));
		rc = pl_buf_oom(&name) || pl_buf_oom(&to) ? pl_err_nomem(err) : pl_fs_rename(tmp.ptr, to.ptr, err);
		if (rc) { /* says so when a concurrent cleanup took the file */
			pl_strv written = {&tmp.ptr, 1, 1};
			pl_upkeep_check_written(&written, err);
		}
		if (rc == 0) {
			free(txn->files[first].path);
			txn->files[first].path = pl_buf_detach(&name);
			rc = pl_strv_push((pl_strv *)&txn->written, to.ptr) ? pl_err_nomem(err) : 0;
		}
		if (rc == 0)
			rc = sync_written(txn, 1, &no_dirs, background, err);
		pl_buf_dispose(&name);
		pl_buf_dispose(&to);
	}
	if (rc || txn->nfiles == first) { /* (a COPY of no row may still have made the file) */
		pl_err ignored;
		if (tmp.len)
			pl_fs_remove(tmp.ptr, &ignored);
	}
	pl_buf_dispose(&tmp);
	pl_buf_dispose(&sql);
	return rc;
}

static int write_files(const pl_write_request *req, bool background, pl_txn *txn, int64_t *rows_out, pl_err *err)
{
	if (req->one_file && !by_partition(req) && req->nparts <= 1)
		return write_one_file(req, background, txn, rows_out, err);
	char uuid[PL_UUID_STRLEN + 1];
	pl_buf staging = PL_BUF_INIT;
	size_t first = txn->nfiles;
	*rows_out = 0;
	int rc = pl_uuid_v7(uuid, err);
	if (rc)
		return rc;
	pl_buf_printf(&staging, "%s.planar-write-%s/", req->dir, uuid);
	if (pl_buf_oom(&staging))
		return pl_err_nomem(err);
	rc = pl_fs_mkdirs(staging.ptr, err);
	if (rc == 0) {
		rc = run_copy(req, staging.ptr, txn, rows_out, err);
		if (rc == PL_EIO)
			pl_err_wrap(err, "cannot write data files to '%s'", req->dir);
	}
	if (rc == 0)
		rc = publish_files(txn, first, staging.ptr, req->dir, background, err);
	pl_fs_remove_dir(staging.ptr);
	pl_buf_dispose(&staging);
	return rc;
}

static int write_in_schema(const pl_write_request *req, bool deferred, pl_txn *txn, int64_t *rows_out, pl_err *err)
{
	char *back = NULL;
	int rc = req->use_db && req->use_schema ? pl_engine_use(req->con, req->use_db, req->use_schema, &back, err) : 0;
	if (rc == 0)
		rc = write_files(req, deferred, txn, rows_out, err);
	pl_engine_use_back(req->con, back);
	return rc;
}

int pl_writer_write(const pl_write_request *req, pl_txn *txn, int64_t *rows_out, pl_err *err)
{
	return write_in_schema(req, false, txn, rows_out, err);
}

int pl_writer_write_deferred(const pl_write_request *req, pl_txn *txn, int64_t *rows_out, pl_err *err)
{
	return write_in_schema(req, true, txn, rows_out, err);
}
