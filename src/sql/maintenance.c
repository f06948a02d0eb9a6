/*
 * maintenance.c -- the DuckLake maintenance table functions (see maintenance.h). Arguments are
 * checked when DuckDB binds the call, as DuckLake checks them; the work runs on the first scan.
 */
#include "sql/maintenance.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog/changes.h"
#include "core/buf.h"
#include "sql/flush.h"
#include "sql/lake.h"
#include "table/maintenance.h"
#include "storage/s3lake.h"

typedef enum maint_op { OP_EXPIRE, OP_CLEANUP, OP_ORPHANS, OP_SETTINGS, OP_LAST_COMMITTED } maint_op;

static const char *const op_names[] = {"ducklake_expire_snapshots", "ducklake_cleanup_old_files",
				       "ducklake_delete_orphaned_files", "ducklake_settings",
				       "ducklake_last_committed_snapshot"};

/* The read-only functions answer when bound, as the other inspection functions do. */
static bool answers_at_bind(maint_op op)
{
	return op == OP_SETTINGS || op == OP_LAST_COMMITTED;
}

typedef struct maint_bind {
	maint_op op;
	planar_db *db;
	char *lake;
	bool in_txn;      /* the calling session is inside BEGIN ... COMMIT */
	bool has_older, has_versions, cleanup_all, dry_run;
	int64_t older_us; /* older_than, microseconds since the epoch */
	int64_t *versions;
	size_t nversions;
	pl_rows *settings; /* ducklake_settings, ducklake_last_committed_snapshot: the row, read when bound */
} maint_bind;

typedef struct maint_state {
	bool done;
	pl_rows *rows;   /* expire: the snapshots */
	pl_strv paths;   /* cleanup, orphans: the files */
	size_t next;
} maint_state;

/* ---- time ---- */

static void format_utc(int64_t us, char out[64])
{
	int64_t secs = us / 1000000, frac = us % 1000000;
	if (frac < 0) {
		frac += 1000000;
		secs--;
	}
	time_t t = (time_t)secs;
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(out, 64, "%04d-%02d-%02d %02d:%02d:%02d.%06lld+00", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, (long long)frac);
}

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool digits(const char **p, int n, int64_t *out)
{
	int64_t v = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (**p < '0' || **p > '9')
			return false;
		v = v * 10 + (**p - '0');
	}
	*out = v;
	return true;
}

/* A catalog timestamp ("YYYY-MM-DD HH:MM:SS[.ffffff][+HH[:MM]]", as the catalogs render
 * TIMESTAMPTZ as text) as microseconds since the epoch. */
static bool parse_timestamp(const char *s, int64_t *out)
{
	int64_t y, mo, d, h, mi, sec, frac = 0, oh = 0, om = 0;
	const char *p = s;
	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' || !digits(&p, 2, &d) ||
	    (*p != ' ' && *p != 'T'))
		return false;
	p++;
	if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi) || *p++ != ':' || !digits(&p, 2, &sec))
		return false;
	if (*p == '.') {
		p++;
		int n = 0;
		for (; *p >= '0' && *p <= '9'; p++, n++)
			if (n < 6)
				frac = frac * 10 + (*p - '0');
		for (; n < 6; n++)
			frac *= 10;
	}
	if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1;
		if (!digits(&p, 2, &oh))
			return false;
		if (*p == ':')
			p++;
		if (*p >= '0' && *p <= '9' && !digits(&p, 2, &om))
			return false;
		oh *= sign;
		om *= sign;
	} else if (*p == 'Z') {
		p++;
	}
	if (*p)
		return false;
	int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - oh * 3600 - om * 60;
	*out = secs * 1000000 + frac;
	return true;
}

/* now - interval (DuckDB's interval syntax, e.g. '2 days') in microseconds. */
static int older_than_interval(planar_db *db, const char *interval, int64_t *out, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	char *v = NULL;
	pl_buf_puts(&q, "SELECT CAST(epoch_us(now() - CAST(");
	pl_buf_put_literal(&q, interval);
	pl_buf_puts(&q, " AS INTERVAL)) AS BIGINT)");
	pl_err ignored = {0};
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query_value(db->admin, q.ptr, &v, &ignored);
	pl_buf_dispose(&q);
	if (rc == PL_ENOMEM)
		return rc;
	if (rc || !v) {
		free(v);
		return pl_err_set(err, PL_EINVALID, "Failed to parse interval: '%s'", interval);
	}
	*out = strtoll(v, NULL, 10);
	free(v);
	return 0;
}

/* ---- running ---- */

static int run_expire(const maint_bind *b, pl_lake *lake, maint_state *st, pl_err *err)
{
	pl_expire_request req = {NULL, b->versions, b->nversions, b->dry_run};
	char before[64];
	if (b->has_versions && b->nversions == 0)
		return 0; /* an explicitly empty set expires nothing */
	if (b->has_older) {
		format_utc(b->older_us, before);
		req.older_than = before;
	} else if (!b->has_versions) {
		char *dflt = NULL;
		int64_t us = 0;
		int rc = pl_lake_option(lake, NULL, "expire_older_than", &dflt, err);
		if (rc == 0 && dflt && *dflt)
			rc = older_than_interval(b->db, dflt, &us, err);
		bool none = !dflt || !*dflt;
		free(dflt);
		if (rc || none)
			return rc; /* no criterion and no default: nothing to do */
		format_utc(us, before);
		req.older_than = before;
	}
	int rc = pl_maint_expire_snapshots(lake->cat, lake->data_path, &req, &st->rows, err);
	if (rc == 0 && !b->dry_run && st->rows->nrows > 0)
		pl_lake_forget_snapshot_models(b->db, lake);
	return rc;
}

/* The bound for cleanup functions: older_than, else the lake's delete_older_than (default
 * '2 days'); *all when cleanup_all. */
static int cleanup_bound(const maint_bind *b, pl_lake *lake, bool *all, int64_t *us, pl_err *err)
{
	*all = b->cleanup_all;
	if (b->has_older) {
		*us = b->older_us;
		return 0;
	}
	if (b->cleanup_all)
		return 0;
	char *dflt = NULL;
	int rc = pl_lake_option(lake, NULL, "delete_older_than", &dflt, err);
	if (rc == 0 && dflt && !*dflt)
		rc = pl_err_set(err, PL_EINVALID,
				"%s: either cleanup_all OR older_than must be specified.\nYou can also set a default "
				"value for file deletion via e.g., CALL ducklake.set_option('delete_older_than', '1 week');",
				op_names[b->op]);
	if (rc == 0)
		rc = older_than_interval(b->db, dflt ? dflt : "2 days", us, err);
	free(dflt);
	return rc;
}

static int settings_row(pl_lake *lake, pl_rows **out, pl_err *err)
{
	static const char *const names[] = {"catalog_type", "extension_version", "data_path"};
	if (pl_rows_new(out, 3))
		return pl_err_nomem(err);
	char *cells[3] = {pl_strdup(lake->kind), pl_strdup(planar_version()), pl_s3lake_uri_of(lake->data_path)};
	if (!cells[2])
		cells[2] = pl_strdup(lake->data_path);
	bool oom = !cells[0] || !cells[1] || !cells[2];
	for (size_t c = 0; c < 3; c++)
		oom = oom || !((*out)->names[c] = pl_strdup(names[c]));
	if (oom) {
		for (size_t c = 0; c < 3; c++)
			free(cells[c]);
		return pl_err_nomem(err);
	}
	return pl_rows_append(*out, cells) ? pl_err_nomem(err) : 0;
}

/* How long a maintenance call waits for the process's lakes. Statements hold them briefly; one
 * that holds them while it runs a query (EXPLAIN ANALYZE of lake DML) and calls one of these
 * functions would wait for itself: it fails after this instead. */
#define LOCK_WAIT_SECONDS 30

static int last_committed_row(pl_lake *lake, pl_rows **out, pl_err *err)
{
	char id[32];
	snprintf(id, sizeof(id), "%lld", (long long)lake->last_committed);
	char *cells[1] = {lake->has_committed ? pl_strdup(id) : NULL};
	if (pl_rows_new(out, 1) || (lake->has_committed && !cells[0]) || !((*out)->names[0] = pl_strdup("id"))) {
		free(cells[0]);
		return pl_err_nomem(err);
	}
	return pl_rows_append(*out, cells) ? pl_err_nomem(err) : 0;
}

static int run(const maint_bind *b, maint_state *st, pl_err *err)
{
	planar_db *db = b->db;
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += LOCK_WAIT_SECONDS;
	if (pthread_mutex_timedlock(&db->lock, &until) != 0)
		return pl_err_set(err, PL_EBUSY,
				  "%s: the lakes stayed busy for %d seconds (these functions cannot run inside a statement "
				  "that writes to a lake)", op_names[b->op], LOCK_WAIT_SECONDS);
	pl_lake *lake = pl_db_find_lake(db, b->lake);
	int rc = 0;
	if (!lake)
		rc = pl_err_set(err, PL_ENOTFOUND, "Catalog Error: no lake named \"%s\" is attached", b->lake);
	else if (b->in_txn)
		rc = pl_err_set(err, PL_EINVALID, "%s cannot run inside a transaction (BEGIN ... COMMIT): run it on its own",
				op_names[b->op]);
	else if (lake->read_only)
		rc = pl_err_set(err, PL_EINVALID, "%s: lake \"%s\" is attached read-only", op_names[b->op], lake->name);
	else if (b->op == OP_ORPHANS && lake->txn_writers > 0) /* its files are not in the catalog yet: they
								      * would look orphaned */
		rc = pl_err_set(err, PL_EBUSY, "%s: lake \"%s\" has a transaction with uncommitted writes; retry when it "
				"ends", op_names[b->op], lake->name);
	else if (b->op == OP_EXPIRE)
		rc = run_expire(b, lake, st, err);
	else {
		bool all = false;
		int64_t us = 0;
		rc = cleanup_bound(b, lake, &all, &us, err);
		char before[64];
		if (rc == 0 && !all)
			format_utc(us, before);
		if (rc == 0 && b->op == OP_CLEANUP)
			rc = pl_maint_cleanup_old_files(lake->cat, lake->data_path, all ? NULL : before, b->dry_run,
							&st->paths, err);
		else if (rc == 0)
			rc = pl_maint_delete_orphans(lake->cat, lake->data_path, all ? INT64_MAX : us, b->dry_run,
						     &st->paths, err);
		for (size_t i = 0; rc == 0 && i < st->paths.len; i++) { /* an S3 lake's files by their s3:// names */
			char *uri = pl_s3lake_uri_of(st->paths.items[i]);
			if (uri) {
				free(st->paths.items[i]);
				st->paths.items[i] = uri;
			}
		}
	}
	pthread_mutex_unlock(&db->lock);
	return rc;
}

/* ---- binding ---- */

static void bind_destroy(void *p)
{
	maint_bind *b = p;
	if (!b)
		return;
	free(b->lake);
	free(b->versions);
	pl_rows_free(b->settings);
	free(b);
}

static void state_destroy(void *p)
{
	maint_state *st = p;
	if (!st)
		return;
	pl_rows_free(st->rows);
	pl_strv_dispose(&st->paths);
	free(st);
}

static void add_snapshot_columns(duckdb_bind_info info)
{
	pl_engine_bind_column(info, "snapshot_id", DUCKDB_TYPE_BIGINT);
	pl_engine_bind_column(info, "snapshot_time", DUCKDB_TYPE_TIMESTAMP_TZ);
	pl_engine_bind_column(info, "schema_version", DUCKDB_TYPE_BIGINT);
	duckdb_logical_type v = duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR);
	duckdb_logical_type list = duckdb_create_list_type(v);
	duckdb_logical_type map = duckdb_create_map_type(v, list);
	duckdb_bind_add_result_column(info, "changes", map);
	duckdb_destroy_logical_type(&map);
	duckdb_destroy_logical_type(&list);
	duckdb_destroy_logical_type(&v);
	pl_engine_bind_column(info, "author", DUCKDB_TYPE_VARCHAR);
	pl_engine_bind_column(info, "commit_message", DUCKDB_TYPE_VARCHAR);
	pl_engine_bind_column(info, "commit_extra_info", DUCKDB_TYPE_VARCHAR);
}

/* A named boolean; *given false when absent. Fails (message in err) on NULL. */
static int named_bool(duckdb_bind_info info, const char *name, const maint_bind *b, bool *out, bool *given,
		      pl_err *err)
{
	duckdb_value v = duckdb_bind_get_named_parameter(info, name);
	*given = v != NULL;
	int rc = 0;
	if (v && duckdb_is_null_value(v))
		rc = pl_err_set(err, PL_EINVALID, "%s: the %s option must be a non-null boolean.", op_names[b->op], name);
	else if (v)
		*out = duckdb_get_bool(v);
	if (v)
		duckdb_destroy_value(&v);
	return rc;
}

static int bind_args(duckdb_bind_info info, maint_bind *b, pl_err *err)
{
	duckdb_value cat = duckdb_bind_get_parameter(info, 0);
	char *name = cat && !duckdb_is_null_value(cat) ? duckdb_get_varchar(cat) : NULL;
	if (cat)
		duckdb_destroy_value(&cat);
	if (!name)
		return pl_err_set(err, PL_EINVALID, "%s: the catalog name must not be NULL", op_names[b->op]);
	b->lake = pl_strdup(name);
	duckdb_free(name);
	if (!b->lake)
		return pl_err_nomem(err);

	duckdb_client_context ctx = NULL;
	duckdb_table_function_get_client_context(info, &ctx);
	if (ctx) {
		planar_conn *conn = pl_delcache_conn_get(&b->db->deletes, duckdb_client_context_get_connection_id(ctx));
		b->in_txn = conn && conn->in_txn;
		duckdb_destroy_client_context(&ctx);
	}
	if (answers_at_bind(b->op)) {
		pthread_mutex_lock(&b->db->lock);
		pl_lake *lake = pl_db_find_lake(b->db, b->lake);
		int rc = !lake ? pl_err_set(err, PL_ENOTFOUND, "Catalog Error: no lake named \"%s\" is attached", b->lake)
			 : b->op == OP_SETTINGS ? settings_row(lake, &b->settings, err)
						: last_committed_row(lake, &b->settings, err);
		pthread_mutex_unlock(&b->db->lock);
		return rc;
	}

	bool given = false;
	int rc = named_bool(info, "dry_run", b, &b->dry_run, &given, err);
	if (rc == 0 && b->op != OP_EXPIRE)
		rc = named_bool(info, "cleanup_all", b, &b->cleanup_all, &given, err);
	duckdb_value older = rc == 0 ? duckdb_bind_get_named_parameter(info, "older_than") : NULL;
	if (older) {
		b->has_older = true;
		if (duckdb_is_null_value(older))
			rc = pl_err_set(err, PL_EINVALID, "%s: the older_than option must be a non-null timestamp.",
					op_names[b->op]);
		else
			b->older_us = duckdb_get_timestamp_tz(older).micros;
		duckdb_destroy_value(&older);
	}
	duckdb_value versions = rc == 0 && b->op == OP_EXPIRE ? duckdb_bind_get_named_parameter(info, "versions") : NULL;
	if (versions) {
		b->has_versions = true;
		idx_t n = duckdb_is_null_value(versions) ? 0 : duckdb_get_list_size(versions);
		b->versions = n ? calloc(n, sizeof(*b->versions)) : NULL;
		if (n && !b->versions)
			rc = pl_err_nomem(err);
		for (idx_t i = 0; rc == 0 && i < n; i++) {
			duckdb_value c = duckdb_get_list_child(versions, i);
			if (c && !duckdb_is_null_value(c)) {
				uint64_t id = duckdb_get_uint64(c);
				b->versions[b->nversions++] = id > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)id;
			}
			if (c)
				duckdb_destroy_value(&c);
		}
		duckdb_destroy_value(&versions);
	}
	if (rc == 0 && b->op == OP_EXPIRE && b->has_versions && b->has_older)
		rc = pl_err_set(err, PL_EINVALID,
				"ducklake_expire_snapshots: cannot specify both 'versions' and 'older_than' parameters at "
				"the same time. Please use only one criterion.");
	if (rc == 0 && b->op != OP_EXPIRE && b->cleanup_all && b->has_older)
		rc = pl_err_set(err, PL_EINVALID,
				"%s: either cleanup_all OR older_than must be specified.\nYou can also set a default value "
				"for file deletion via e.g., CALL ducklake.set_option('delete_older_than', '1 week');",
				op_names[b->op]);
	return rc;
}

static void maint_bind_fn(duckdb_bind_info info, maint_op op)
{
	maint_bind *b = calloc(1, sizeof(*b));
	pl_err err = {0};
	if (!b) {
		duckdb_bind_set_error(info, "out of memory");
		return;
	}
	b->op = op;
	b->db = duckdb_bind_get_extra_info(info);
	int rc = bind_args(info, b, &err);
	if (rc) {
		duckdb_bind_set_error(info, err.msg);
		bind_destroy(b);
		return;
	}
	if (op == OP_EXPIRE) {
		add_snapshot_columns(info);
	} else if (op == OP_LAST_COMMITTED) {
		pl_engine_bind_column(info, "id", DUCKDB_TYPE_UBIGINT);
	} else if (op == OP_SETTINGS) {
		pl_engine_bind_column(info, "catalog_type", DUCKDB_TYPE_VARCHAR);
		pl_engine_bind_column(info, "extension_version", DUCKDB_TYPE_VARCHAR);
		pl_engine_bind_column(info, "data_path", DUCKDB_TYPE_VARCHAR);
	} else {
		pl_engine_bind_column(info, "path", DUCKDB_TYPE_VARCHAR);
	}
	duckdb_bind_set_bind_data(info, b, bind_destroy);
}

static void bind_expire(duckdb_bind_info info)
{
	maint_bind_fn(info, OP_EXPIRE);
}

static void bind_cleanup(duckdb_bind_info info)
{
	maint_bind_fn(info, OP_CLEANUP);
}

static void bind_orphans(duckdb_bind_info info)
{
	maint_bind_fn(info, OP_ORPHANS);
}

static void bind_settings(duckdb_bind_info info)
{
	maint_bind_fn(info, OP_SETTINGS);
}

static void bind_last_committed(duckdb_bind_info info)
{
	maint_bind_fn(info, OP_LAST_COMMITTED);
}

static void maint_init(duckdb_init_info info)
{
	maint_state *st = calloc(1, sizeof(*st));
	if (!st) {
		duckdb_init_set_error(info, "out of memory");
		return;
	}
	duckdb_init_set_init_data(info, st, state_destroy);
}

/* ---- results ---- */

static const struct {
	const char *from, *to;
} change_names[] = {
	{"created_schema", "schemas_created"},   {"created_table", "tables_created"},
	{"created_view", "views_created"},       {"inserted_into_table", "tables_inserted_into"},
	{"deleted_from_table", "tables_deleted_from"}, {"compacted_table", "tables_compacted"},
	{"dropped_schema", "schemas_dropped"},   {"dropped_table", "tables_dropped"},
	{"dropped_view", "views_dropped"},       {"altered_table", "tables_altered"},
	{"altered_view", "views_altered"},       {"inline_flush", "flushed_inlined"},
	{"created_scalar_macro", "scalar_macros_created"}, {"created_table_macro", "table_macros_created"},
	{"dropped_scalar_macro", "scalar_macros_dropped"}, {"dropped_table_macro", "table_macros_dropped"},
};

/* A changes_made value as ducklake_snapshots shows it: quotes removed ("s"."t" -> s.t). */
static char *unquoted(const char *v, size_t n)
{
	pl_buf b = PL_BUF_INIT;
	bool q = false;
	for (size_t i = 0; i < n; i++) {
		if (v[i] == '"') {
			if (q && i + 1 < n && v[i + 1] == '"') {
				pl_buf_putc(&b, '"');
				i++;
			} else {
				q = !q;
			}
			continue;
		}
		pl_buf_putc(&b, v[i]);
	}
	if (!b.ptr)
		pl_buf_puts(&b, "");
	return pl_buf_detach(&b);
}

typedef struct change_group {
	char key[64];
	pl_strv values;
} change_group;

#define MAX_GROUPS 32

/* changes_made text grouped by kind, in order of first appearance. */
static size_t group_changes(const char *text, change_group *groups, bool *oom)
{
	size_t n = 0;
	pl_change ch;
	while (text && pl_changes_next(&text, &ch)) {
		const char *key = ch.kind;
		for (size_t i = 0; i < sizeof(change_names) / sizeof(change_names[0]); i++)
			if (strcmp(change_names[i].from, ch.kind) == 0)
				key = change_names[i].to;
		size_t g = 0;
		while (g < n && strcmp(groups[g].key, key) != 0)
			g++;
		if (g == n) {
			if (n == MAX_GROUPS)
				continue;
			snprintf(groups[n].key, sizeof(groups[n].key), "%s", key);
			groups[n++].values = (pl_strv)PL_STRV_INIT;
		}
		if (pl_strv_push_owned(&groups[g].values, unquoted(ch.value, ch.len)))
			*oom = true;
	}
	return n;
}

static void put_changes(duckdb_vector map, idx_t row, const char *text, bool *oom)
{
	change_group groups[MAX_GROUPS];
	size_t n = group_changes(text, groups, oom);
	idx_t off = duckdb_list_vector_get_size(map);
	duckdb_list_vector_reserve(map, off + n);
	duckdb_vector entries = duckdb_list_vector_get_child(map);
	duckdb_vector keys = duckdb_struct_vector_get_child(entries, 0);
	duckdb_vector vals = duckdb_struct_vector_get_child(entries, 1);
	for (size_t g = 0; g < n; g++) {
		duckdb_vector_assign_string_element(keys, off + g, groups[g].key);
		idx_t voff = duckdb_list_vector_get_size(vals);
		duckdb_list_vector_reserve(vals, voff + groups[g].values.len);
		duckdb_vector strs = duckdb_list_vector_get_child(vals);
		for (size_t k = 0; k < groups[g].values.len; k++)
			duckdb_vector_assign_string_element(strs, voff + k, groups[g].values.items[k]);
		duckdb_list_vector_set_size(vals, voff + groups[g].values.len);
		duckdb_list_entry *ve = duckdb_vector_get_data(vals);
		ve[off + g] = (duckdb_list_entry){voff, groups[g].values.len};
		pl_strv_dispose(&groups[g].values);
	}
	duckdb_list_vector_set_size(map, off + n);
	duckdb_list_entry *e = duckdb_vector_get_data(map);
	e[row] = (duckdb_list_entry){off, n};
}

static idx_t emit_snapshots(maint_state *st, duckdb_data_chunk out, bool *oom)
{
	int64_t *ids = duckdb_vector_get_data(duckdb_data_chunk_get_vector(out, 0));
	duckdb_vector times = duckdb_data_chunk_get_vector(out, 1);
	duckdb_timestamp *tdata = duckdb_vector_get_data(times);
	int64_t *versions = duckdb_vector_get_data(duckdb_data_chunk_get_vector(out, 2));
	duckdb_vector changes = duckdb_data_chunk_get_vector(out, 3);
	idx_t n = 0, cap = duckdb_vector_size();
	for (; n < cap && st->next < st->rows->nrows; n++, st->next++) {
		const pl_rows *r = st->rows;
		size_t i = st->next;
		ids[n] = pl_rows_int(r, i, 0, 0);
		int64_t us = 0;
		if (pl_rows_get(r, i, 1) && parse_timestamp(pl_rows_get(r, i, 1), &us)) {
			tdata[n].micros = us;
		} else {
			pl_engine_vector_set_null(times, n);
		}
		versions[n] = pl_rows_int(r, i, 2, 0);
		put_changes(changes, n, pl_rows_get(r, i, 3), oom);
		for (size_t c = 4; c < 7; c++)
			pl_engine_vector_put_text(duckdb_data_chunk_get_vector(out, c), n, pl_rows_get(r, i, c));
	}
	return n;
}

static void maint_scan(duckdb_function_info info, duckdb_data_chunk out)
{
	const maint_bind *b = duckdb_function_get_bind_data(info);
	maint_state *st = duckdb_function_get_init_data(info);
	if (!st->done && !answers_at_bind(b->op)) {
		st->done = true;
		pl_err err = {0};
		if (run(b, st, &err) != 0) {
			duckdb_function_set_error(info, err.msg);
			return;
		}
	}
	idx_t n = 0, cap = duckdb_vector_size();
	bool oom = false;
	if (b->op == OP_EXPIRE && st->rows) {
		n = emit_snapshots(st, out, &oom);
	} else if (b->op == OP_LAST_COMMITTED) {
		duckdb_vector v = duckdb_data_chunk_get_vector(out, 0);
		for (; n < cap && st->next < b->settings->nrows; n++, st->next++) {
			const char *id = pl_rows_get(b->settings, st->next, 0);
			if (id) {
				((uint64_t *)duckdb_vector_get_data(v))[n] = (uint64_t)strtoll(id, NULL, 10);
			} else {
				pl_engine_vector_set_null(v, n);
			}
		}
	} else if (b->op == OP_SETTINGS) {
		for (; n < cap && st->next < b->settings->nrows; n++, st->next++)
			for (size_t c = 0; c < 3; c++)
				pl_engine_vector_put_text(duckdb_data_chunk_get_vector(out, c), n, pl_rows_get(b->settings, st->next, c));
	} else {
		duckdb_vector v = duckdb_data_chunk_get_vector(out, 0);
		for (; n < cap && st->next < st->paths.len; n++, st->next++)
			duckdb_vector_assign_string_element(v, n, st->paths.items[st->next]);
	}
	if (oom) {
		duckdb_function_set_error(info, "out of memory");
		return;
	}
	duckdb_data_chunk_set_size(out, n);
}

/* ---- registration ---- */

static int register_one(planar_db *db, maint_op op, duckdb_table_function_bind_t bind, pl_err *err)
{
	duckdb_table_function f = duckdb_create_table_function();
	duckdb_logical_type vt = duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR);
	duckdb_logical_type bt = duckdb_create_logical_type(DUCKDB_TYPE_BOOLEAN);
	duckdb_logical_type tt = duckdb_create_logical_type(DUCKDB_TYPE_TIMESTAMP_TZ);
	duckdb_logical_type ut = duckdb_create_logical_type(DUCKDB_TYPE_UBIGINT);
	duckdb_logical_type lt = duckdb_create_list_type(ut);
	duckdb_table_function_set_name(f, op_names[op]);
	duckdb_table_function_add_parameter(f, vt);
	if (!answers_at_bind(op)) {
		duckdb_table_function_add_named_parameter(f, "older_than", tt);
		duckdb_table_function_add_named_parameter(f, "dry_run", bt);
	}
	if (op == OP_EXPIRE)
		duckdb_table_function_add_named_parameter(f, "versions", lt);
	else if (!answers_at_bind(op))
		duckdb_table_function_add_named_parameter(f, "cleanup_all", bt);
	duckdb_table_function_set_extra_info(f, db, NULL);
	duckdb_table_function_set_bind(f, bind);
	duckdb_table_function_set_init(f, maint_init);
	duckdb_table_function_set_function(f, maint_scan);
	duckdb_state s = duckdb_register_table_function(db->admin, f);
	duckdb_destroy_logical_type(&lt);
	duckdb_destroy_logical_type(&ut);
	duckdb_destroy_logical_type(&tt);
	duckdb_destroy_logical_type(&bt);
	duckdb_destroy_logical_type(&vt);
	duckdb_destroy_table_function(&f);
	if (s == DuckDBError)
		return pl_err_set(err, PL_ERROR, "cannot register the table function %s", op_names[op]);
	return 0;
}

int pl_maintenance_register(planar_db *db, pl_err *err)
{
	int rc = register_one(db, OP_EXPIRE, bind_expire, err);
	if (rc == 0)
		rc = register_one(db, OP_CLEANUP, bind_cleanup, err);
	if (rc == 0)
		rc = register_one(db, OP_ORPHANS, bind_orphans, err);
	if (rc == 0)
		rc = register_one(db, OP_SETTINGS, bind_settings, err);
	if (rc == 0)
		rc = register_one(db, OP_LAST_COMMITTED, bind_last_committed, err);
	/* compaction: ducklake_merge_adjacent_files, ducklake_rewrite_data_files (sql/compact.c) */
	if (rc == 0)
		rc = pl_compact_register(db, err);
	/* ducklake_flush_inlined_data (sql/flush.c) */
	if (rc == 0)
		rc = pl_flush_register(db, err);
	return rc;
}
