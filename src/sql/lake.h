/*
 * lake.h -- an attached lake: its catalog connection, the model at its current snapshot, and its
 * mirror inside DuckDB (an in-memory database named after the lake whose schemas hold one view
 * per lake table). All functions are called with db->lock held.
 */
#ifndef PL_SQL_LAKE_H
#define PL_SQL_LAKE_H

#include <stdbool.h>
#include <stdint.h>

#include "catalog/commit.h"
#include "catalog/driver.h"
#include "catalog/model.h"
#include "sql/session.h"
#include "table/context.h"
#include "table/statcache.h"

typedef struct pl_lake_options {
	const char *name;         /* attach alias */
	const char *kind;         /* catalog driver */
	const char *location;     /* catalog file / connection string */
	const char *data_path;    /* NULL: from the catalog */
	bool override_data_path;
	bool automatic_migration; /* AUTOMATIC_MIGRATION: a catalog of an older DuckLake is migrated */
	bool read_only;
	int64_t snapshot_version; /* -1: latest */
	const char *snapshot_time;/* NULL: latest */
	bool create_if_missing;
	bool create_if_missing_set; /* CREATE_IF_NOT_EXISTS was given */
	const char *schema;       /* postgres: METADATA_SCHEMA */
	const char *password_env; /* postgres: environment variable with the password */
	pl_lake *share_catalog_of; /* an attached lake of the same catalog whose connection to use */
	const char *metadata_catalog; /* NULL: __ducklake_metadata_<name> */
	bool inline_limit_set;    /* DATA_INLINING_ROW_LIMIT given */
	int64_t inline_limit;
	bool write_dv_set, write_dv; /* WRITE_DELETION_VECTORS given */
} pl_lake_options;

struct pl_lake {
	char *name, *kind, *location;
	char *identity;  /* which catalog this is, however named (pl_catdb_identity) */
	char *data_path; /* resolved, ends in '/' */
	/* The database that shows the lake's catalog tables, read-only (sql/metadata.h): its name,
	 * and whether it has been created (on the first statement that names it). */
	char *meta_name;
	bool meta_attached;
	bool meta_named; /* METADATA_CATALOG named it: shown as soon as anything names it */
	bool meta_detached; /* DETACH of it: the lake is unusable until it is detached itself */
	bool read_only;
	bool pinned;     /* attached at a fixed snapshot */
	bool inline_limit_set; /* ATTACH's DATA_INLINING_ROW_LIMIT */
	int64_t inline_limit;
	bool write_dv; /* ATTACH's WRITE_DELETION_VECTORS (or the setting then): lake options win */
	pl_catdb *cat;
	int writers; /* statements writing files for this lake without holding db->lock */
	int txn_readers; /* open transactions (of any session) that recorded this lake's BEGIN snapshot */
	pl_lake *cat_owner; /* the lake whose catalog connection cat is, when borrowed (read-only or
			     * pinned attachments of a catalog that is already attached) */
	/* The committed state; during a statement of a session inside a transaction, the state that
	 * transaction sees (its BEGIN snapshot plus its own writes), with a reference held. */
	pl_model *model;
	pl_model *shared_model; /* the committed model while model is swapped for a transaction's */
	int txn_writers;        /* open transactions (of any session) with uncommitted writes here */
	/* Hashes of the view statements last run on the engine's admin connection: a refresh
	 * re-creates only the views whose definition changed. */
	uint64_t *view_hashes;
	size_t nview_hashes;
	bool mirror_new; /* the mirror database was attached empty and not synced yet */
	/* Which mirror objects were changed in DuckDB and by whom: an open transaction's private
	 * version (owner: its pl_synced_set id), or the change count `seq` of the last committed
	 * change. DuckDB refuses (and ends the transaction) when a transaction changes an object
	 * another one changed privately or committed after it began; such a change is left out of
	 * the transaction's own views instead, and its COMMIT decides (sql/mirror.c). */
	struct pl_mirror_claim {
		uint64_t key, owner, seq, prev_seq;
	} *claims;
	size_t nclaims, capclaims;
	uint64_t mirror_seq, next_txn_id;
	pl_statcache stats; /* per-file column statistics, for pruning */
	/* Models at older snapshots that sessions' transactions still read (their views resolve
	 * files when bound) or time travel asks for: the most recent few, replaced in turn. */
	pl_model *snap_models[8];
	size_t snap_next;
	/* The snapshot this attachment last committed (ducklake_last_committed_snapshot). */
	bool has_committed;
	int64_t last_committed;
};

/* Opens (creating when new) the lake, registers it in db and builds its mirror in DuckDB. */
int pl_lake_open(pl_lake **out, planar_db *db, const pl_lake_options *opts, pl_err *err);
/* Drops the mirror database and frees the lake. */
void pl_lake_detach(pl_lake *lake, planar_db *db);
void pl_lake_free(pl_lake *lake);
const char *pl_lake_name(const pl_lake *lake);

/* Reloads the model and the views when the catalog has a newer snapshot (or `force`). */
int pl_lake_refresh(pl_lake *lake, planar_db *db, bool force, pl_err *err);
/* Commits txn as one snapshot, then refreshes the model and views. Once the commit succeeded
 * this returns 0; the model (and every pointer into it) is replaced. Inside a transaction of
 * conn the changes join the transaction's snapshot instead (see transaction.h). */
int pl_lake_commit(pl_lake *lake, planar_conn *conn, pl_txn *txn, pl_err *err);
/* pl_lake_commit for changes planned on snapshot `base` (the model may have moved on since). */
/* With the lake option require_commit_message true, a commit needs set_commit_message first
 * (provided: it was called); else an error saying how to give it. */
int pl_lake_check_commit_info(pl_lake *lake, bool provided, pl_err *err);
int pl_lake_commit_from(pl_lake *lake, planar_conn *conn, pl_txn *txn, int64_t base, pl_err *err);
/* Around the long part of a statement that writes files (running the user's query into Parquet):
 * outside a transaction, releases db->lock so other sessions go on, and marks the lake as being
 * written (DETACH waits for it). Afterwards nothing read from the lake's model before the
 * release may be used: the model may have moved on. Returns whether the lock was released. */
bool pl_lake_release_for_io(pl_lake *lake, planar_conn *conn);
void pl_lake_reacquire(pl_lake *lake, planar_conn *conn, bool released);
/* Rebuilds the lake's views from lake->model on a transaction's connection; `synced` holds the
 * objects the transaction's earlier syncs changed (and gets this one's). */
int pl_lake_sync_views(planar_db *db, pl_lake *lake, duckdb_connection con, pl_synced_set *synced, pl_err *err);
void pl_synced_set_dispose(pl_synced_set *s);
/* Records in s the shared views as they are now (see pl_synced_set); PL_ENOMEM when out of memory. */
int pl_synced_set_begin(pl_synced_set *s, pl_lake *lake);
/* The end of the transaction that s belongs to: its private mirror objects became the shared
 * ones (`committed`) or are gone. */
void pl_mirror_release(pl_lake *lake, const pl_synced_set *s, bool committed);
/* Brings DuckDB's mirror of the lake (schemas, table views, lake views, macros, comments) in line
 * with lake->model (mirror.c). `cached`: on the admin connection, remembering what ran so the next
 * sync skips unchanged statements; `same_objects`: only files changed since the last sync. */
int pl_lake_mirror(planar_db *db, pl_lake *lake, duckdb_connection con, bool cached, bool same_objects,
		   pl_synced_set *synced, pl_err *err);
/* The model a session's statement reads (db->lock held): the session's pending state when it
 * holds the lake's write transaction, the snapshot at its BEGIN inside a transaction (loaded
 * once and kept among the lake's recent models), else the lake's current model. conn may be
 * NULL (not a session's query). */
int pl_lake_model_for(pl_lake *lake, planar_conn *conn, const pl_model **out, pl_err *err);
/* The committed model at snapshot snap (db->lock held): the current one, or one of the lake's
 * recent models, loaded when missing. Valid until the lock is released or another model is
 * asked for. */
int pl_lake_model_at(pl_lake *lake, int64_t snap, const pl_model **out, pl_err *err);
/* pl_lake_model_at for the snapshot an open transaction began at: a conflict to roll back when
 * that snapshot was expired meanwhile. */
int pl_lake_txn_model_at(pl_lake *lake, int64_t snap, const pl_model **out, pl_err *err);
/* Forgets the models at older snapshots that pl_lake_model_at keeps, of the lake and of every
 * other attachment of its catalog: after expiry (some of those snapshots may be gone) and after a
 * flush (their inlined rows are stored in files now). db->lock held. */
void pl_lake_forget_snapshot_models(planar_db *db, const pl_lake *lake);
/* The context a table operation on lake runs in for a statement of conn (table/context.h):
 * long I/O releases the lakes as pl_lake_release_for_io does. out must stay where it is while
 * out->table is used. */
typedef struct pl_lake_ctx {
	pl_table_ctx table;
	pl_lake *lake;
	planar_conn *conn;
} pl_lake_ctx;
void pl_lake_table_ctx(pl_lake_ctx *out, pl_lake *lake, planar_conn *conn);
/* pl_table_option and pl_table_write_sizes (table/context.h) for the lake, outside a table
 * operation. */
int pl_lake_option(pl_lake *lake, const pl_table *t, const char *key, char **out, pl_err *err);
int pl_lake_write_sizes(pl_lake *lake, const pl_table *t, pl_write_request *req, pl_err *err);
/* Fails with PL_EINVALID when the lake is read-only. */
int pl_lake_check_writable(const pl_lake *lake, pl_err *err);

#endif
