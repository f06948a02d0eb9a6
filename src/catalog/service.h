/*
 * service.h -- the tables `planar serve` keeps in a lake's catalog beside DuckLake's own (a
 * DuckLake reader ignores them; the metadata catalog does not show them):
 *
 *   planar_service_token  (token_id, token_hash, tenant_id, role, created_at, revoked_at)
 *       API tokens; only the SHA-256 of a token is stored (hex). tenant_id is NULL for admin.
 *   planar_service_audit  (request_id, at, token_id, tenant_id, method, route, target, status,
 *                          rows_touched, duration_ms)
 *       one row per request served.
 *   planar_service_ingest (partition_id, tenant_id, job_id, table_name, idempotency_key,
 *                          row_count, snapshot_id, ingested_at, response)
 *       one row per accepted ingest: the lineage of the rows it wrote (they are the rows the
 *       lake snapshot snapshot_id inserted into table_name) and the answer replayed for a retry
 *       with the same (tenant_id, idempotency_key).
 *
 * Every function takes a catalog connection used by one thread at a time.
 */
#ifndef PL_CATALOG_SERVICE_H
#define PL_CATALOG_SERVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "catalog/driver.h"

/* Creates the service tables when missing. */
int pl_service_init(pl_catdb *db, pl_err *err);

int pl_service_token_add(pl_catdb *db, const char *token_id, const char *hash_hex, const char *tenant_id,
			 const char *role, pl_err *err);
/* The live (not revoked) token with that hash: one row (token_id, tenant_id, role), or none. */
int pl_service_token_find(pl_catdb *db, const char *hash_hex, pl_rows **out, pl_err *err);
/* Every token: (token_id, tenant_id, role, created_at, revoked_at), oldest first. */
int pl_service_token_list(pl_catdb *db, pl_rows **out, pl_err *err);
/* Marks a token revoked; *found tells whether a live token had that id. */
int pl_service_token_revoke(pl_catdb *db, const char *token_id, bool *found, pl_err *err);

typedef struct pl_service_audit {
	const char *request_id, *at, *token_id, *tenant_id, *method, *route, *target;
	int status;
	int64_t rows, duration_ms;
} pl_service_audit;
/* Appends rows in one catalog transaction. */
int pl_service_audit_append(pl_catdb *db, const pl_service_audit *rows, size_t n, pl_err *err);

/* The recorded answers of earlier ingests with this key: rows (response, snapshot_id), settled
 * ones (snapshot_id set) first; a row whose snapshot_id is NULL is pending (written before its
 * lake commit, which may or may not have happened). */
int pl_service_ingest_find(pl_catdb *db, const char *tenant_id, const char *key, pl_rows **out, pl_err *err);
/* The lake snapshot committed with this author and commit message: one row (snapshot_id,
 * commit_extra_info), or none. */
int pl_service_ingest_find_commit(pl_catdb *db, const char *author, const char *message, pl_rows **out, pl_err *err);
typedef struct pl_service_ingest {
	const char *partition_id, *tenant_id, *job_id, *table_name, *idempotency_key, *ingested_at, *response;
	int64_t row_count, snapshot_id;
} pl_service_ingest;
int pl_service_ingest_add(pl_catdb *db, const pl_service_ingest *in, pl_err *err);
/* Group commit, in one catalog transaction each: records pending rows (snapshot_id < 0: NULL)
 * of keyed requests before their lake commit (replacing older pending rows of the same keys);
 * settles rows after it (each row replaces the one with its partition_id); drops pending rows
 * whose commit failed. */
int pl_service_ingest_pending(pl_catdb *db, const pl_service_ingest *rows, size_t n, pl_err *err);
int pl_service_ingest_settle(pl_catdb *db, const pl_service_ingest *rows, size_t n, pl_err *err);
int pl_service_ingest_drop(pl_catdb *db, const char *const *partition_ids, size_t n, pl_err *err);
/* After a group's lake commit, in ONE catalog transaction: settles the lineage rows (a keyed
 * row replaces its pending row), adds a planar_service_usage row of usage_bytes[i] bytes for
 * each row i (when usage_bytes is not NULL) and appends the audit rows of the group's
 * requests. */
int pl_service_group_settle(pl_catdb *db, const pl_service_ingest *rows, const int64_t *usage_bytes, size_t n,
			    const pl_service_audit *audit, size_t naudit, pl_err *err);
/* A number that changes whenever another connection commits to the catalog (SQLite's
 * data_version); -1 when the catalog kind has none (then every read must go to the catalog). */
int pl_service_data_version(pl_catdb *db, int64_t *version, pl_err *err);

/* The live top-level columns of schema.table at the latest snapshot, in order: (column_name,
 * column_type (DuckLake's type name), nulls_allowed, default_value); no rows when there is no
 * such table. */
int pl_service_table_columns(pl_catdb *db, const char *schema, const char *table, pl_rows **out, pl_err *err);

/* The lake's latest snapshot and its schema version (fails when the catalog is unreachable). */
int pl_service_current(pl_catdb *db, int64_t *snapshot_id, int64_t *schema_version, pl_err *err);
/* The id of the live table schema.table (-1 when there is none). */
int pl_service_table_id(pl_catdb *db, const char *schema, const char *table, int64_t *id, pl_err *err);

#endif
