/*
 * lake.c -- attaching a lake (open or create its catalog, check the format version, resolve the
 * data path) and keeping its model current (see lake.h); mirror.c mirrors it into DuckDB as views.
 */
#include "sql/lake.h"
#include "sql/search.h"
#include "sql/router.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog/init.h"
#include "catalog/options.h"
#include "core/fault.h"
#include "core/str.h"
#include "storage/fs.h"
#include "sql/transaction.h"
#include "table/scan.h"
#include "storage/s3lake.h"
#include "storage/secrets.h"

const char *pl_lake_name(const pl_lake *lake)
{
	return lake->name;
}

void pl_lake_free(pl_lake *lake)
{
	if (!lake)
		return;
	pl_model_free(lake->model);
	for (size_t i = 0; i < sizeof(lake->snap_models) / sizeof(lake->snap_models[0]); i++)
		pl_model_free(lake->snap_models[i]);
	pl_statcache_dispose(&lake->stats);
	free(lake->view_hashes);
	free(lake->claims);
	if (!lake->cat_owner)
		pl_catdb_close(lake->cat);
	free(lake->name);
	free(lake->kind);
	free(lake->location);
	free(lake->identity);
	free(lake->data_path);
	free(lake->meta_name);
	free(lake);
}

static int exec_on(duckdb_connection con, pl_buf *sql, pl_err *err)
{
	if (pl_buf_oom(sql))
		return pl_err_nomem(err);
	return pl_engine_exec(con, pl_buf_cstr(sql), err);
}


static int admin_exec(planar_db *db, pl_buf *sql, pl_err *err)
{
	return exec_on(db->admin, sql, err);
}

void pl_lake_detach(pl_lake *lake, planar_db *db)
{
	pl_buf sql = PL_BUF_INIT;
	pl_err ignored;
	pl_search_forget(lake->identity ? lake->identity : lake->location); /* built search indexes */
	pl_buf_puts(&sql, "DETACH DATABASE IF EXISTS ");
	pl_buf_put_ident(&sql, lake->name);
	admin_exec(db, &sql, &ignored);
	if (lake->meta_attached) {
		pl_buf_truncate(&sql, 0);
		pl_buf_puts(&sql, "DETACH DATABASE IF EXISTS ");
		pl_buf_put_ident(&sql, lake->meta_name);
		admin_exec(db, &sql, &ignored);
	}
	pl_buf_dispose(&sql);
	pl_lake_free(lake);
}

int pl_lake_check_writable(const pl_lake *lake, pl_err *err)
{
	if (lake->read_only || lake->pinned)
		return pl_err_set(err, PL_EINVALID, "lake \"%s\" is attached read-only%s", lake->name,
				  lake->pinned ? " (pinned to a snapshot)" : "");
	return 0;
}

/* ---- open ------------------------------------------------------------------------------ */

static int resolve_snapshot(pl_lake *lake, planar_db *db, const pl_lake_options *o, int64_t *snap, pl_err *err)
{
	int rc = pl_catalog_latest_snapshot(lake->cat, snap, err);
	if (rc)
		return rc;
	if (o->snapshot_version >= 0) {
		if (o->snapshot_version > *snap)
			return pl_err_set(err, PL_ENOTFOUND, "No snapshot found at version %lld (the latest is %lld)",
					  (long long)o->snapshot_version, (long long)*snap);
		*snap = o->snapshot_version;
		lake->pinned = true;
	} else if (o->snapshot_time) {
		pl_buf lit = PL_BUF_INIT;
		char *utc = NULL;
		pl_buf_put_literal(&lit, o->snapshot_time);
		rc = pl_buf_oom(&lit) ? pl_err_nomem(err) : pl_engine_utc_timestamp(db->admin, lit.ptr, &utc, err);
		pl_buf_dispose(&lit);
		if (rc == 0)
			rc = pl_catalog_snapshot_at_time(lake->cat, utc, true, snap, err);
		free(utc);
		if (rc)
			return rc;
		if (*snap < 0)
			return pl_err_set(err, PL_ENOTFOUND, "no snapshot at or before %s", o->snapshot_time);
		lake->pinned = true;
	}
	return 0;
}

static char *default_data_path(const char *location)
{
	pl_buf b = PL_BUF_INIT;
	pl_buf_puts(&b, location);
	pl_buf_puts(&b, ".files/");
	return pl_buf_detach(&b);
}

static char *with_slash(const char *p)
{
	pl_buf b = PL_BUF_INIT;
	pl_buf_puts(&b, p);
	if (!pl_str_has_suffix(p, "/"))
		pl_buf_putc(&b, '/');
	return pl_buf_detach(&b);
}

/* An s3:// data path: its credentials (CREATE SECRET, else the environment), a check that the
 * bucket can be read, and the local mirror Planar reads and writes the lake's files through
 * (storage/s3lake.h); mirror_out (may be NULL) gets it. */
static int attach_s3(const char *uri, char **mirror_out, pl_err *err)
{
	pl_s3_config cfg;
	pl_s3_config_init(&cfg);
	char *mirror = NULL;
	int rc = pl_secret_config_for(uri, &cfg, err);
	if (rc == 0)
		rc = pl_s3lake_attach(uri, &cfg, &mirror, err);
	pl_s3_config_dispose(&cfg);
	if (rc)
		return pl_err_wrap(err, "cannot use DATA_PATH '%s'", uri);
	if (mirror_out)
		*mirror_out = mirror;
	else
		free(mirror);
	return 0;
}

static int create_new(pl_lake *lake, const pl_lake_options *o, pl_err *err)
{
	char *dp = o->data_path ? with_slash(o->data_path) : default_data_path(o->location);
	if (!dp)
		return pl_err_nomem(err);
	int rc = pl_s3_is_uri(dp) ? attach_s3(dp, NULL, err) : pl_fs_mkdirs(dp, err);
	if (rc == 0)
		rc = pl_catalog_create(lake->cat, dp, err);
	free(dp);
	return rc;
}

static int open_catalog(pl_lake *lake, const pl_lake_options *o, pl_err *err)
{
	if (o->share_catalog_of) {
		lake->cat_owner = o->share_catalog_of;
		lake->cat = o->share_catalog_of->cat;
		return 0;
	}
	bool file = pl_catdb_kind_is_file(o->kind);
	bool exists = !file || access(o->location, F_OK) == 0;
	if (!exists && (o->read_only || !o->create_if_missing))
		return pl_err_set(err, PL_ENOTFOUND, "lake catalog '%s' does not exist, and creating a new DuckLake is "
				  "explicitly disabled (%s)", o->location, o->read_only ? "READ_ONLY" : "CREATE_IF_NOT_EXISTS false");
	if (!exists && o->data_path && pl_s3_is_uri(o->data_path)) { /* a bad bucket or key creates no file */
		int rc = attach_s3(o->data_path, NULL, err);
		if (rc)
			return rc;
	}
	if (!exists) {
		int rc = pl_fs_mkdirs_parent(o->location, err);
		if (rc)
			return rc;
	}
	pl_catdb_options co = {o->kind, o->location, o->read_only, !file ? o->create_if_missing : !exists, o->schema,
			       o->password_env};
	int rc = pl_catdb_open(&lake->cat, &co, err);
	if (rc && !file && (o->read_only || !o->create_if_missing) && rc != PL_ENOMEM)
		return pl_err_wrap(err, "no lake at '%s', and creating a new DuckLake is explicitly disabled (%s)",
				   o->location, o->read_only ? "READ_ONLY" : "CREATE_IF_NOT_EXISTS false");
	if (rc)
		return rc == PL_ECATALOG ? pl_err_wrap(err, "'%s' is not a DuckLake catalog", o->location) : rc;
	bool is_lake = false;
	rc = pl_catalog_is_ducklake(lake->cat, &is_lake, err);
	if (rc)
		return pl_err_wrap(err, "'%s' is not a DuckLake catalog", o->location);
	if (!is_lake) {
		/* asked to create one on a catalog opened read-only: DuckDB's error, as the extension's
		 * CREATE statements on its metadata catalog meet it */
		if (o->read_only && o->create_if_missing_set && o->create_if_missing)
			return pl_err_set(err, PL_ECATALOG, "Invalid Input Error: Cannot execute statement of type \"CREATE\" "
					  "on database \"%s\" which is attached in read-only mode!", lake->meta_name);
		if ((exists && o->read_only) || (!file && o->read_only) || !o->create_if_missing)
			return pl_err_set(err, PL_ECATALOG, "'%s' is not a DuckLake catalog (no ducklake_metadata table), and "
					  "creating a new DuckLake is explicitly disabled (%s)", o->location,
					  o->read_only ? "READ_ONLY" : "CREATE_IF_NOT_EXISTS false");
		rc = create_new(lake, o, err);
		if (rc)
			return rc;
	}
	return pl_catalog_check_version(lake->cat, o->location, o->automatic_migration, err);
}

static int resolve_data_path(pl_lake *lake, const pl_lake_options *o, pl_err *err)
{
	char *stored = NULL;
	int rc = pl_catalog_metadata(lake->cat, "data_path", &stored, err);
	if (rc)
		return rc;
	const char *use = stored;
	if (o->data_path && (o->override_data_path || !stored))
		use = o->data_path;
	else if (o->data_path && stored) {
		char *given = with_slash(o->data_path);
		bool same = given && strcmp(given, stored) == 0;
		free(given);
		if (!same) {
			rc = pl_err_set(err, PL_EINVALID,
					"DATA_PATH '%s' does not match existing data path in the catalog ('%s'); add "
					"OVERRIDE_DATA_PATH true to read the lake's files from the new place",
					o->data_path, stored);
			free(stored);
			return rc;
		}
	}
	if (!use) {
		free(stored);
		return pl_err_set(err, PL_ECATALOG, "lake '%s' has no data_path and none was given", o->location);
	}
	lake->data_path = with_slash(use);
	free(stored);
	if (lake->data_path && pl_s3_is_uri(lake->data_path)) { /* files go through the local mirror */
		char *mirror = NULL;
		rc = attach_s3(lake->data_path, &mirror, err);
		free(lake->data_path);
		lake->data_path = mirror;
		return rc;
	}
	return lake->data_path ? 0 : pl_err_nomem(err);
}

static int attach_mirror(pl_lake *lake, planar_db *db, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	pl_buf_puts(&q, "ATTACH ':memory:' AS ");
	pl_buf_put_ident(&q, lake->name);
	int rc = admin_exec(db, &q, err);
	pl_buf_dispose(&q);
	lake->mirror_new = rc == 0;
	return rc;
}

int pl_lake_open(pl_lake **out, planar_db *db, const pl_lake_options *o, pl_err *err)
{
	pl_lake *lake = calloc(1, sizeof(*lake));
	int64_t snap = -1;
	if (!lake)
		return pl_err_nomem(err);
	lake->name = pl_strdup(o->name);
	pl_buf meta = PL_BUF_INIT;
	if (o->metadata_catalog)
		pl_buf_puts(&meta, o->metadata_catalog);
	else
		pl_buf_printf(&meta, "__ducklake_metadata_%s", o->name);
	lake->meta_name = pl_buf_detach(&meta);
	lake->meta_named = o->metadata_catalog != NULL;
	lake->kind = pl_strdup(o->kind);
	lake->location = pl_strdup(o->location);
	lake->read_only = o->read_only;
	lake->inline_limit_set = o->inline_limit_set;
	lake->inline_limit = o->inline_limit;
	lake->write_dv = o->write_dv_set && o->write_dv;
	pl_statcache_init(&lake->stats);
	int rc = (!lake->name || !lake->kind || !lake->location || !lake->meta_name) ? pl_err_nomem(err) : 0;
	if (rc == 0)
		rc = open_catalog(lake, o, err);
	if (rc == 0)
		rc = resolve_data_path(lake, o, err);
	if (rc == 0)
		rc = resolve_snapshot(lake, db, o, &snap, err);
	if (rc == 0)
		rc = pl_model_load(&lake->model, lake->cat, snap, lake->data_path, err);
	if (rc == 0)
		rc = attach_mirror(lake, db, err);
	if (rc) {
		pl_lake_free(lake);
		return rc;
	}
	/* Registered before its views are built: views over inlined data bind through the registry. */
	rc = pl_db_add_lake(db, lake, err);
	if (rc == 0 && (rc = pl_lake_mirror(db, lake, db->admin, true, false, NULL, err)) != 0)
		pl_db_remove_lake(db, lake);
	if (rc) {
		pl_lake_detach(lake, db);
		return rc;
	}
	*out = lake;
	return 0;
}

/* pl_lake_refresh to the latest snapshot, or to `latest` when known (>= 0). */
static int refresh_to(pl_lake *lake, planar_db *db, bool force, int64_t latest, pl_err *err)
{
	if (lake->pinned || lake->shared_model) /* pinned, or showing a transaction's state */
		return 0;
	int rc = latest >= 0 ? 0 : pl_catalog_latest_snapshot(lake->cat, &latest, err);
	if (rc || (!force && latest == lake->model->snapshot_id))
		return rc;
	bool advanced = false;
	if (latest > lake->model->snapshot_id && lake->model->refs == 1) { /* else a statement still reads it */
		rc = pl_model_advance(lake->model, lake->cat, latest, &advanced, err);
		if (rc)
			return rc;
	}
	if (advanced) /* only files changed: no object to drop or create */
		return pl_lake_mirror(db, lake, db->admin, true, lake->nview_hashes > 0, NULL, err);
	pl_model *m = NULL;
	rc = pl_model_load(&m, lake->cat, latest, lake->data_path, err);
	if (rc)
		return rc;
	/* The catalog's schema version moves with every schema, table, view, macro or comment
	 * change: unchanged, only data changed (a statement still holding the old model made the
	 * load necessary), and nothing needs dropping or creating. */
	bool same_objects = latest > lake->model->snapshot_id &&
			    m->schema_version == lake->model->schema_version && lake->nview_hashes > 0;
	pl_model_free(lake->model);
	lake->model = m;
	return pl_lake_mirror(db, lake, db->admin, true, same_objects, NULL, err);
}

int pl_lake_refresh(pl_lake *lake, planar_db *db, bool force, pl_err *err)
{
	return refresh_to(lake, db, force, -1, err);
}

static const pl_begin_snapshot *txn_entry(const planar_conn *conn, const pl_lake *lake)
{
	for (size_t i = 0; conn->in_txn && i < conn->nbegin; i++)
		if (conn->begin[i].lake == lake)
			return &conn->begin[i];
	return NULL;
}

int pl_lake_model_at(pl_lake *lake, int64_t snap, const pl_model **out, pl_err *err)
{
	const size_t nsnap = sizeof(lake->snap_models) / sizeof(lake->snap_models[0]);
	const pl_model *shared = lake->shared_model ? lake->shared_model : lake->model;
	if (snap == shared->snapshot_id) {
		*out = shared;
		return 0;
	}
	for (size_t i = 0; i < nsnap; i++) {
		if (lake->snap_models[i] && lake->snap_models[i]->snapshot_id == snap) {
			*out = lake->snap_models[i];
			return 0;
		}
	}
	pl_model *m = NULL;
	int rc = pl_model_load(&m, lake->cat, snap, lake->data_path, err);
	if (rc)
		return rc;
	size_t k = lake->snap_next++ % nsnap;
	pl_model_free(lake->snap_models[k]);
	lake->snap_models[k] = m;
	*out = m;
	return 0;
}

void pl_lake_forget_snapshot_models(planar_db *db, const pl_lake *lake)
{
	for (size_t i = 0; i < db->nlakes; i++) {
		pl_lake *l = db->lakes[i];
		if (l != lake && (!l->identity || !lake->identity || strcmp(l->identity, lake->identity) != 0))
			continue;
		for (size_t k = 0; k < sizeof(l->snap_models) / sizeof(l->snap_models[0]); k++) {
			pl_model_free(l->snap_models[k]);
			l->snap_models[k] = NULL;
		}
	}
}

int pl_lake_model_for(pl_lake *lake, planar_conn *conn, const pl_model **out, pl_err *err)
{
	*out = lake->shared_model ? lake->shared_model : lake->model;
	if (!conn)
		return 0;
	const pl_begin_snapshot *e = txn_entry(conn, lake);
	if (e && e->pending) {
		*out = e->pending;
		return 0;
	}
	return !e || lake->pinned ? 0 : pl_lake_txn_model_at(lake, e->snapshot, out, err);
}

int pl_lake_txn_model_at(pl_lake *lake, int64_t snap, const pl_model **out, pl_err *err)
{
	int rc = pl_lake_model_at(lake, snap, out, err);
	if (rc == PL_ENOTFOUND) /* expired since the transaction began */
		rc = pl_err_set(err, PL_ECONFLICT,
				"conflict: snapshot %lld of lake '%s', which this transaction reads, was expired meanwhile "
				"(ducklake_expire_snapshots); roll back and retry the transaction",
				(long long)snap, lake->name);
	return rc;
}

int pl_lake_sync_views(planar_db *db, pl_lake *lake, duckdb_connection con, pl_synced_set *synced, pl_err *err)
{
	return pl_lake_mirror(db, lake, con, false, false, synced, err);
}

int pl_lake_commit(pl_lake *lake, planar_conn *conn, pl_txn *txn, pl_err *err)
{
	return pl_lake_commit_from(lake, conn, txn, lake->model->snapshot_id, err);
}

bool pl_lake_release_for_io(pl_lake *lake, planar_conn *conn)
{
	if (conn->in_txn)
		return false;
	lake->writers++;
	__atomic_store_n(&conn->db->lock_holder, NULL, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&conn->db->lock);
	return true;
}

void pl_lake_reacquire(pl_lake *lake, planar_conn *conn, bool released)
{
	if (!released)
		return;
	pthread_mutex_lock(&conn->db->lock);
	__atomic_store_n(&conn->db->lock_holder, conn, __ATOMIC_RELEASE);
	lake->writers--;
}

int pl_lake_check_commit_info(pl_lake *lake, bool provided, pl_err *err)
{
	if (provided)
		return 0;
	char *v = NULL;
	int rc = pl_catalog_option(lake->cat, -1, -1, "require_commit_message", &v, err);
	bool required = rc == 0 && v && pl_str_ieq(v, "true");
	free(v);
	if (required)
		rc = pl_err_set(err, PL_EINVALID,
				"Invalid Configuration Error: Commit Information for the snapshot is required but has not been "
				"provided. Provide it with CALL %s.set_commit_message('author_name', 'commit_message'), or "
				"turn the requirement off with CALL %s.set_option('require_commit_message', false)",
				lake->name, lake->name);
	return rc;
}

int pl_lake_commit_from(pl_lake *lake, planar_conn *conn, pl_txn *txn, int64_t base, pl_err *err)
{
	int64_t snap = 0;
	planar_db *db = conn->db;
	if (conn->in_txn)
		return pl_txn_apply(conn, lake, txn, err);
	pl_txn_take_commit_message(conn, txn);
	pl_fault_point("write:after-files");
	pl_setting_retry(conn, &txn->retry);
	int rc = pl_lake_check_commit_info(lake, txn->author || txn->commit_message || txn->commit_extra_info, err);
	if (rc)
		return rc;
	rc = pl_commit(lake->cat, txn, base, &snap, err);
	if (rc)
		return rc;
	lake->has_committed = true;
	lake->last_committed = snap;
	/* The commit stands. If the views cannot be rebuilt now, the next statement's refresh
	 * retries; the statement itself succeeded. The model moves to this commit's snapshot:
	 * commits after it are the next statement's to find (it asks for the latest anyway). */
	pl_err ignored;
	refresh_to(lake, db, true, snap, &ignored);
	return 0;
}

static bool ctx_release(void *arg)
{
	pl_lake_ctx *c = arg;
	return pl_lake_release_for_io(c->lake, c->conn);
}

static void ctx_reacquire(void *arg, bool released)
{
	pl_lake_ctx *c = arg;
	pl_lake_reacquire(c->lake, c->conn, released);
}

int pl_lake_option(pl_lake *lake, const pl_table *t, const char *key, char **out, pl_err *err)
{
	pl_table_ctx ctx = {.cat = lake->cat, .lake = lake->name};
	return pl_table_option(&ctx, t, key, out, err);
}

int pl_lake_write_sizes(pl_lake *lake, const pl_table *t, pl_write_request *req, pl_err *err)
{
	pl_table_ctx ctx = {.cat = lake->cat, .lake = lake->name};
	return pl_table_write_sizes(&ctx, t, req, err);
}

void pl_lake_table_ctx(pl_lake_ctx *out, pl_lake *lake, planar_conn *conn)
{
	out->lake = lake;
	out->conn = conn;
	out->table = (pl_table_ctx){conn->con, conn->db->admin, &conn->db->deletes, lake->cat, lake->name,
				    &conn->tmp_seq, ctx_release, ctx_reacquire, out, lake->inline_limit_set,
				    lake->inline_limit, false, 0, 0, lake->write_dv, &conn->prepared, NULL, conn->scratch,
				    &conn->db->empty};
	const char *v = pl_setting_value(conn, PL_SET_DEFAULT_INLINE_LIMIT);
	if (pl_setting_is_set(conn, PL_SET_DEFAULT_INLINE_LIMIT) && v) {
		out->table.default_inline_limit_set = true;
		out->table.default_inline_limit = strtoll(v, NULL, 10);
	}
	v = pl_setting_value(conn, PL_SET_TARGET_FILE_SIZE);
	if (v && *v && !pl_parse_byte_size(v, &out->table.target_file_size_override))
		out->table.target_file_size_override = 0;
}
