/*
 * policy.h -- the catalog tables of the service's tenant policies, beside service.h's:
 *
 *   planar_service_policy  (tenant_id, retention_days, allowed_tables, max_storage_gb,
 *                           max_storage_bytes, updated_at, updated_by)
 *       one row per tenant with a policy; allowed_tables is a JSON array of "schema.table" or
 *       "schema.*" (NULL: every table), retention_days and max_storage_* NULL when unlimited.
 *   planar_service_usage   (partition_id, tenant_id, table_name, bytes, snapshot_id, at)
 *       the bytes each accepted write added for a tenant (its request body's size), until
 *       retention removes them.
 *   planar_service_retired (partition_id, tenant_id, table_name, snapshot_id, retired_at,
 *                           delete_snapshot_id)
 *       ingests whose rows retention removed (delete_snapshot_id: the lake snapshot of the
 *       DELETE).
 *
 * Every function takes a catalog connection used by one thread at a time.
 */
#ifndef PL_CATALOG_POLICY_H
#define PL_CATALOG_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "catalog/driver.h"

/* Creates the policy tables when missing (two processes may race: a lost race is retried). */
int pl_policy_init(pl_catdb *db, pl_err *err);

typedef struct pl_policy_row {
	const char *tenant_id;
	int64_t retention_days;    /* -1: none */
	const char *allowed_tables; /* JSON array text, NULL: all */
	const char *max_storage_gb; /* the number as given, NULL: none */
	int64_t max_storage_bytes; /* -1: none */
	const char *updated_at, *updated_by;
} pl_policy_row;
/* Replaces the tenant's policy (one catalog transaction). */
int pl_policy_put(pl_catdb *db, const pl_policy_row *p, pl_err *err);
/* The tenant's policy: one row (tenant_id, retention_days, allowed_tables, max_storage_gb,
 * max_storage_bytes, updated_at, updated_by), or none. */
int pl_policy_get(pl_catdb *db, const char *tenant_id, pl_rows **out, pl_err *err);
/* Every policy with a retention: rows (tenant_id, retention_days). */
int pl_policy_with_retention(pl_catdb *db, pl_rows **out, pl_err *err);

int pl_policy_usage_add(pl_catdb *db, const char *partition_id, const char *tenant_id, const char *table,
			int64_t bytes, int64_t snapshot_id, const char *at, pl_err *err);
/* The tenant's usage: one row (bytes, writes). */
int pl_policy_usage(pl_catdb *db, const char *tenant_id, pl_rows **out, pl_err *err);

/* The tenant's live ingests (planar_service_ingest) older than before (ISO text as the
 * service writes it): rows (partition_id, table_name, snapshot_id), oldest first. */
int pl_policy_expired_ingests(pl_catdb *db, const char *tenant_id, const char *before, pl_rows **out, pl_err *err);
/* Marks an ingest retired and drops its usage (one catalog transaction). */
int pl_policy_retire(pl_catdb *db, const char *partition_id, const char *tenant_id, const char *table,
		     int64_t snapshot_id, int64_t delete_snapshot_id, const char *at, pl_err *err);

/* The ids of the live lake snapshots in [from, to]: rows (snapshot_id). */
int pl_policy_snapshots_between(pl_catdb *db, int64_t from, int64_t to, pl_rows **out, pl_err *err);

#endif
