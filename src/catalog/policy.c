/*
 * policy.c -- the catalog tables of tenant policies, usage and retention (see policy.h). Plain
 * SQL every catalog kind accepts; timestamps are ISO 8601 text as service.c writes them.
 */
#include "catalog/policy.h"

#include <string.h>

static const char *const policy_ddl[] = {
	"CREATE TABLE IF NOT EXISTS planar_service_policy (tenant_id VARCHAR PRIMARY KEY, retention_days BIGINT, "
	"allowed_tables VARCHAR, max_storage_gb VARCHAR, max_storage_bytes BIGINT, updated_at VARCHAR, updated_by VARCHAR)",
	"CREATE TABLE IF NOT EXISTS planar_service_usage (partition_id VARCHAR PRIMARY KEY, tenant_id VARCHAR, "
	"table_name VARCHAR, bytes BIGINT, snapshot_id BIGINT, \"at\" VARCHAR)",
	"CREATE INDEX IF NOT EXISTS planar_service_usage_tenant ON planar_service_usage (tenant_id)",
	"CREATE TABLE IF NOT EXISTS planar_service_retired (partition_id VARCHAR PRIMARY KEY, tenant_id VARCHAR, "
	"table_name VARCHAR, snapshot_id BIGINT, retired_at VARCHAR, delete_snapshot_id BIGINT)",
};

static int all_exist(pl_catdb *db, bool *all, pl_err *err)
{
	static const char *const tables[] = {"planar_service_policy", "planar_service_usage", "planar_service_retired"};
	*all = true;
	for (size_t i = 0; *all && i < sizeof tables / sizeof tables[0]; i++)
		if (db->ops->table_exists(db, tables[i], all, err) != 0)
			return pl_err_wrap(err, "while looking for the policy tables in the catalog");
	return 0;
}

int pl_policy_init(pl_catdb *db, pl_err *err)
{
	int rc = 0;
	for (int attempt = 0; attempt < 3; attempt++) {
		bool all = false;
		if ((rc = all_exist(db, &all, err)) != 0)
			return rc;
		if (all)
			return 0;
		/* one transaction: another process creating the same tables at once makes one of the
		 * two fail (PostgreSQL's catalog uniqueness); that one looks again */
		rc = db->ops->begin(db, err);
		for (size_t i = 0; rc == 0 && i < sizeof policy_ddl / sizeof policy_ddl[0]; i++)
			rc = pl_catdb_exec(db, policy_ddl[i], NULL, 0, err);
		if (rc == 0 && (rc = db->ops->commit(db, err)) == 0)
			return 0;
		pl_err ignored;
		db->ops->rollback(db, &ignored);
	}
	return pl_err_wrap(err, "while creating the policy tables in the catalog");
}

int pl_policy_put(pl_catdb *db, const pl_policy_row *p, pl_err *err)
{
	int rc = db->ops->begin(db, err);
	pl_val id = PL_VTEXT(p->tenant_id);
	if (rc == 0)
		rc = pl_catdb_exec(db, "DELETE FROM planar_service_policy WHERE tenant_id = ?", &id, 1, err);
	pl_val v[] = {PL_VTEXT(p->tenant_id),		PL_VOPTINT(p->retention_days), PL_VTEXT(p->allowed_tables),
		      PL_VTEXT(p->max_storage_gb),	PL_VOPTINT(p->max_storage_bytes), PL_VTEXT(p->updated_at),
		      PL_VTEXT(p->updated_by)};
	if (rc == 0)
		rc = pl_catdb_exec(db,
				   "INSERT INTO planar_service_policy (tenant_id, retention_days, allowed_tables, max_storage_gb, "
				   "max_storage_bytes, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
				   v, 7, err);
	if (rc == 0)
		return db->ops->commit(db, err);
	pl_err ignored;
	db->ops->rollback(db, &ignored);
	return rc;
}

int pl_policy_get(pl_catdb *db, const char *tenant_id, pl_rows **out, pl_err *err)
{
	pl_val p = PL_VTEXT(tenant_id);
	return pl_catdb_query(db,
			      "SELECT tenant_id, retention_days, allowed_tables, max_storage_gb, max_storage_bytes, updated_at, "
			      "updated_by FROM planar_service_policy WHERE tenant_id = ?",
			      &p, 1, out, err);
}

int pl_policy_with_retention(pl_catdb *db, pl_rows **out, pl_err *err)
{
	return pl_catdb_query(db,
			      "SELECT tenant_id, retention_days FROM planar_service_policy WHERE retention_days IS NOT NULL "
			      "ORDER BY tenant_id",
			      NULL, 0, out, err);
}

int pl_policy_usage_add(pl_catdb *db, const char *partition_id, const char *tenant_id, const char *table,
			int64_t bytes, int64_t snapshot_id, const char *at, pl_err *err)
{
	pl_val v[] = {PL_VTEXT(partition_id), PL_VTEXT(tenant_id), PL_VTEXT(table),
		      PL_VINT(bytes),	      PL_VINT(snapshot_id), PL_VTEXT(at)};
	return pl_catdb_exec(db,
			     "INSERT INTO planar_service_usage (partition_id, tenant_id, table_name, bytes, snapshot_id, \"at\") "
			     "VALUES (?, ?, ?, ?, ?, ?)",
			     v, 6, err);
}

int pl_policy_usage(pl_catdb *db, const char *tenant_id, pl_rows **out, pl_err *err)
{
	pl_val p = PL_VTEXT(tenant_id);
	return pl_catdb_query(db, "SELECT coalesce(sum(bytes), 0), count(*) FROM planar_service_usage WHERE tenant_id = ?",
			      &p, 1, out, err);
}

int pl_policy_expired_ingests(pl_catdb *db, const char *tenant_id, const char *before, pl_rows **out, pl_err *err)
{
	pl_val p[] = {PL_VTEXT(tenant_id), PL_VTEXT(before)};
	return pl_catdb_query(db,
			      "SELECT i.partition_id, i.table_name, i.snapshot_id FROM planar_service_ingest i "
			      "WHERE i.tenant_id = ? AND i.ingested_at < ? AND i.snapshot_id IS NOT NULL AND NOT EXISTS "
			      "(SELECT 1 FROM planar_service_retired r WHERE r.partition_id = i.partition_id) "
			      "ORDER BY i.snapshot_id",
			      p, 2, out, err);
}

int pl_policy_retire(pl_catdb *db, const char *partition_id, const char *tenant_id, const char *table,
		     int64_t snapshot_id, int64_t delete_snapshot_id, const char *at, pl_err *err)
{
	int rc = db->ops->begin(db, err);
	pl_val v[] = {PL_VTEXT(partition_id), PL_VTEXT(tenant_id), PL_VTEXT(table),
		      PL_VINT(snapshot_id),    PL_VTEXT(at),	   PL_VINT(delete_snapshot_id)};
	if (rc == 0)
		rc = pl_catdb_exec(db,
				   "INSERT INTO planar_service_retired (partition_id, tenant_id, table_name, snapshot_id, "
				   "retired_at, delete_snapshot_id) VALUES (?, ?, ?, ?, ?, ?)",
				   v, 6, err);
	pl_val id = PL_VTEXT(partition_id);
	if (rc == 0)
		rc = pl_catdb_exec(db, "DELETE FROM planar_service_usage WHERE partition_id = ?", &id, 1, err);
	if (rc == 0)
		return db->ops->commit(db, err);
	pl_err ignored;
	db->ops->rollback(db, &ignored);
	return rc;
}

int pl_policy_snapshots_between(pl_catdb *db, int64_t from, int64_t to, pl_rows **out, pl_err *err)
{
	pl_val p[] = {PL_VINT(from), PL_VINT(to)};
	return pl_catdb_query(db,
			      "SELECT snapshot_id FROM ducklake_snapshot WHERE snapshot_id >= ? AND snapshot_id <= ? "
			      "ORDER BY snapshot_id",
			      p, 2, out, err);
}
