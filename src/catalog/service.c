/*
 * service.c -- the catalog tables of `planar serve` (tokens, audit log, ingest lineage); see
 * service.h. Plain SQL every catalog kind accepts; timestamps are stored as ISO 8601 text.
 */
#include "catalog/service.h"

#include <stdlib.h>
#include <string.h>

#include "catalog/policy.h"
#include "core/ids.h"

static const char *const service_ddl[] = {
	"CREATE TABLE IF NOT EXISTS planar_service_token (token_id VARCHAR PRIMARY KEY, token_hash VARCHAR NOT NULL, "
	"tenant_id VARCHAR, \"role\" VARCHAR NOT NULL, created_at VARCHAR NOT NULL, revoked_at VARCHAR)",
	"CREATE UNIQUE INDEX IF NOT EXISTS planar_service_token_hash ON planar_service_token (token_hash)",
	"CREATE TABLE IF NOT EXISTS planar_service_audit (request_id VARCHAR, \"at\" VARCHAR, token_id VARCHAR, "
	"tenant_id VARCHAR, \"method\" VARCHAR, route VARCHAR, target VARCHAR, status BIGINT, rows_touched BIGINT, "
	"duration_ms BIGINT)",
	"CREATE TABLE IF NOT EXISTS planar_service_ingest (partition_id VARCHAR PRIMARY KEY, tenant_id VARCHAR, "
	"job_id VARCHAR, table_name VARCHAR, idempotency_key VARCHAR, row_count BIGINT, snapshot_id BIGINT, "
	"ingested_at VARCHAR, response VARCHAR)",
	"CREATE INDEX IF NOT EXISTS planar_service_ingest_key ON planar_service_ingest (tenant_id, idempotency_key)",
};

int pl_service_init(pl_catdb *db, pl_err *err)
{
	static const char *const tables[] = {"planar_service_token", "planar_service_audit", "planar_service_ingest"};
	bool all = true;
	for (size_t i = 0; all && i < sizeof tables / sizeof tables[0]; i++) {
		bool exists = false;
		if (db->ops->table_exists(db, tables[i], &exists, err) != 0)
			return pl_err_wrap(err, "while looking for the service tables in the catalog");
		all = exists;
	}
	if (all) /* nothing to create (and no "already exists" notices from PostgreSQL) */
		return 0;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < sizeof service_ddl / sizeof service_ddl[0]; i++)
		rc = pl_catdb_exec(db, service_ddl[i], NULL, 0, err);
	/* ingest commits are found by their commit message (crash-safe idempotency); DuckDB-file
	 * catalogs get no index, as for the planning indexes */
	if (rc == 0 && strcmp(db->ops->name, "duckdb") != 0)
		rc = pl_catdb_exec(db,
				   "CREATE INDEX IF NOT EXISTS planar_snapshot_changes_message ON ducklake_snapshot_changes "
				   "(commit_message)",
				   NULL, 0, err);
	if (rc)
		pl_err_wrap(err, "while creating the service tables in the catalog");
	return rc;
}

int pl_service_ingest_find_commit(pl_catdb *db, const char *author, const char *message, pl_rows **out, pl_err *err)
{
	pl_val p[] = {PL_VTEXT(message), PL_VTEXT(author)};
	return pl_catdb_query(db,
			      "SELECT snapshot_id, commit_extra_info FROM ducklake_snapshot_changes WHERE commit_message = ? "
			      "AND author = ? ORDER BY snapshot_id LIMIT 1",
			      p, 2, out, err);
}

int pl_service_token_add(pl_catdb *db, const char *token_id, const char *hash_hex, const char *tenant_id,
			 const char *role, pl_err *err)
{
	char now[32];
	pl_now_timestamptz(now);
	pl_val p[] = {PL_VTEXT(token_id), PL_VTEXT(hash_hex), PL_VTEXT(tenant_id), PL_VTEXT(role), PL_VTEXT(now)};
	return pl_catdb_exec(db,
			     "INSERT INTO planar_service_token (token_id, token_hash, tenant_id, \"role\", created_at) "
			     "VALUES (?, ?, ?, ?, ?)",
			     p, 5, err);
}

int pl_service_token_find(pl_catdb *db, const char *hash_hex, pl_rows **out, pl_err *err)
{
	pl_val p = PL_VTEXT(hash_hex);
	return pl_catdb_query(db,
			      "SELECT token_id, tenant_id, \"role\" FROM planar_service_token "
			      "WHERE token_hash = ? AND revoked_at IS NULL",
			      &p, 1, out, err);
}

int pl_service_token_list(pl_catdb *db, pl_rows **out, pl_err *err)
{
	return pl_catdb_query(db,
			      "SELECT token_id, tenant_id, \"role\", created_at, revoked_at FROM planar_service_token "
			      "ORDER BY created_at, token_id",
			      NULL, 0, out, err);
}

int pl_service_token_revoke(pl_catdb *db, const char *token_id, bool *found, pl_err *err)
{
	pl_rows *r = NULL;
	pl_val id = PL_VTEXT(token_id);
	int rc = pl_catdb_query(db, "SELECT token_id FROM planar_service_token WHERE token_id = ? AND revoked_at IS NULL",
				&id, 1, &r, err);
	*found = rc == 0 && r->nrows > 0;
	pl_rows_free(r);
	if (rc || !*found)
		return rc;
	char now[32];
	pl_now_timestamptz(now);
	pl_val p[] = {PL_VTEXT(now), PL_VTEXT(token_id)};
	return pl_catdb_exec(db, "UPDATE planar_service_token SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL",
			     p, 2, err);
}

static int audit_insert(pl_catdb *db, const pl_service_audit *a, pl_err *err)
{
	pl_val p[] = {PL_VTEXT(a->request_id), PL_VTEXT(a->at),	  PL_VTEXT(a->token_id),
		      PL_VTEXT(a->tenant_id),  PL_VTEXT(a->method), PL_VTEXT(a->route),
		      PL_VTEXT(a->target),     PL_VINT(a->status),  PL_VINT(a->rows),
		      PL_VINT(a->duration_ms)};
	return pl_catdb_exec(db,
			     "INSERT INTO planar_service_audit (request_id, \"at\", token_id, tenant_id, \"method\", "
			     "route, target, status, rows_touched, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			     p, 10, err);
}

int pl_service_audit_append(pl_catdb *db, const pl_service_audit *rows, size_t n, pl_err *err)
{
	if (n == 0)
		return 0;
	int rc = db->ops->begin(db, err);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = audit_insert(db, &rows[i], err);
	if (rc == 0)
		return db->ops->commit(db, err);
	pl_err ignored;
	db->ops->rollback(db, &ignored);
	return rc;
}

int pl_service_ingest_find(pl_catdb *db, const char *tenant_id, const char *key, pl_rows **out, pl_err *err)
{
	pl_val p[] = {PL_VTEXT(tenant_id ? tenant_id : ""), PL_VTEXT(key)};
	return pl_catdb_query(db,
			      "SELECT response, snapshot_id FROM planar_service_ingest WHERE coalesce(tenant_id, '') = ? "
			      "AND idempotency_key = ? ORDER BY snapshot_id IS NULL",
			      p, 2, out, err);
}

int pl_service_ingest_add(pl_catdb *db, const pl_service_ingest *in, pl_err *err)
{
	pl_val p[] = {PL_VTEXT(in->partition_id), PL_VTEXT(in->tenant_id),       PL_VTEXT(in->job_id),
		      PL_VTEXT(in->table_name),   PL_VTEXT(in->idempotency_key), PL_VINT(in->row_count),
		      PL_VINT(in->snapshot_id),   PL_VTEXT(in->ingested_at),     PL_VTEXT(in->response)};
	return pl_catdb_exec(db,
			     "INSERT INTO planar_service_ingest (partition_id, tenant_id, job_id, table_name, "
			     "idempotency_key, row_count, snapshot_id, ingested_at, response) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
			     p, 9, err);
}

static int ingest_insert(pl_catdb *db, const pl_service_ingest *in, pl_err *err)
{
	pl_val p[] = {PL_VTEXT(in->partition_id), PL_VTEXT(in->tenant_id),       PL_VTEXT(in->job_id),
		      PL_VTEXT(in->table_name),   PL_VTEXT(in->idempotency_key), PL_VINT(in->row_count),
		      PL_VOPTINT(in->snapshot_id), PL_VTEXT(in->ingested_at),    PL_VTEXT(in->response)};
	return pl_catdb_exec(db,
			     "INSERT INTO planar_service_ingest (partition_id, tenant_id, job_id, table_name, "
			     "idempotency_key, row_count, snapshot_id, ingested_at, response) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
			     p, 9, err);
}

static int ingest_txn_end(pl_catdb *db, int rc, pl_err *err)
{
	if (rc == 0)
		return db->ops->commit(db, err);
	pl_err ignored;
	db->ops->rollback(db, &ignored);
	return rc;
}

int pl_service_ingest_pending(pl_catdb *db, const pl_service_ingest *rows, size_t n, pl_err *err)
{
	if (n == 0)
		return 0;
	int rc = db->ops->begin(db, err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		pl_val k[] = {PL_VTEXT(rows[i].tenant_id ? rows[i].tenant_id : ""), PL_VTEXT(rows[i].idempotency_key)};
		rc = pl_catdb_exec(db,
				   "DELETE FROM planar_service_ingest WHERE coalesce(tenant_id, '') = ? AND "
				   "idempotency_key = ? AND snapshot_id IS NULL",
				   k, 2, err);
		if (rc == 0)
			rc = ingest_insert(db, &rows[i], err);
	}
	return ingest_txn_end(db, rc, err);
}

int pl_service_ingest_settle(pl_catdb *db, const pl_service_ingest *rows, size_t n, pl_err *err)
{
	if (n == 0)
		return 0;
	int rc = db->ops->begin(db, err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		pl_val id = PL_VTEXT(rows[i].partition_id);
		rc = pl_catdb_exec(db, "DELETE FROM planar_service_ingest WHERE partition_id = ?", &id, 1, err);
		if (rc == 0)
			rc = ingest_insert(db, &rows[i], err);
	}
	return ingest_txn_end(db, rc, err);
}

int pl_service_group_settle(pl_catdb *db, const pl_service_ingest *rows, const int64_t *usage_bytes, size_t n,
			    const pl_service_audit *audit, size_t naudit, pl_err *err)
{
	if (n == 0 && naudit == 0)
		return 0;
	int rc = db->ops->begin(db, err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const pl_service_ingest *in = &rows[i];
		if (in->idempotency_key) { /* only keyed requests have a pending row to replace */
			pl_val id = PL_VTEXT(in->partition_id);
			rc = pl_catdb_exec(db, "DELETE FROM planar_service_ingest WHERE partition_id = ?", &id, 1, err);
		}
		if (rc == 0)
			rc = ingest_insert(db, in, err);
		if (rc == 0 && usage_bytes)
			rc = pl_policy_usage_add(db, in->partition_id, in->tenant_id, in->table_name, usage_bytes[i],
						 in->snapshot_id, in->ingested_at, err);
	}
	for (size_t i = 0; rc == 0 && i < naudit; i++)
		rc = audit_insert(db, &audit[i], err);
	return ingest_txn_end(db, rc, err);
}

int pl_service_data_version(pl_catdb *db, int64_t *version, pl_err *err)
{
	*version = -1;
	if (strcmp(db->ops->name, "sqlite") != 0)
		return 0;
	pl_rows *r = NULL;
	int rc = pl_catdb_query(db, "PRAGMA data_version", NULL, 0, &r, err);
	if (rc == 0 && r->nrows > 0)
		*version = pl_rows_int(r, 0, 0, -1);
	pl_rows_free(r);
	return rc;
}

int pl_service_ingest_drop(pl_catdb *db, const char *const *partition_ids, size_t n, pl_err *err)
{
	if (n == 0)
		return 0;
	int rc = db->ops->begin(db, err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		pl_val id = PL_VTEXT(partition_ids[i]);
		rc = pl_catdb_exec(db, "DELETE FROM planar_service_ingest WHERE partition_id = ? AND snapshot_id IS NULL",
				   &id, 1, err);
	}
	return ingest_txn_end(db, rc, err);
}

int pl_service_current(pl_catdb *db, int64_t *snapshot_id, int64_t *schema_version, pl_err *err)
{
	pl_rows *r = NULL;
	int rc = pl_catdb_query(db,
				"SELECT snapshot_id, schema_version FROM ducklake_snapshot WHERE snapshot_id = "
				"(SELECT max(snapshot_id) FROM ducklake_snapshot)",
				NULL, 0, &r, err);
	if (rc == 0 && r->nrows == 0)
		rc = pl_err_set(err, PL_ECATALOG, "the catalog has no snapshot");
	if (rc == 0) {
		*snapshot_id = pl_rows_int(r, 0, 0, -1);
		*schema_version = pl_rows_int(r, 0, 1, -1);
	}
	pl_rows_free(r);
	return rc;
}

int pl_service_table_columns(pl_catdb *db, const char *schema, const char *table, pl_rows **out, pl_err *err)
{
	pl_val p[] = {PL_VTEXT(schema), PL_VTEXT(table)};
	return pl_catdb_query(db,
			      "SELECT c.column_name, c.column_type, c.nulls_allowed, c.default_value FROM ducklake_column c "
			      "JOIN ducklake_table t ON t.table_id = c.table_id AND t.end_snapshot IS NULL "
			      "JOIN ducklake_schema s ON s.schema_id = t.schema_id AND s.end_snapshot IS NULL "
			      "WHERE s.schema_name = ? AND t.table_name = ? AND c.end_snapshot IS NULL AND c.parent_column IS NULL "
			      "ORDER BY c.column_order",
			      p, 2, out, err);
}

int pl_service_table_id(pl_catdb *db, const char *schema, const char *table, int64_t *id, pl_err *err)
{
	pl_val p[] = {PL_VTEXT(schema), PL_VTEXT(table)};
	pl_rows *r = NULL;
	int rc = pl_catdb_query(db,
				"SELECT t.table_id FROM ducklake_table t JOIN ducklake_schema s ON s.schema_id = t.schema_id "
				"AND s.end_snapshot IS NULL WHERE s.schema_name = ? AND t.table_name = ? AND t.end_snapshot IS NULL",
				p, 2, &r, err);
	*id = rc == 0 && r->nrows > 0 ? pl_rows_int(r, 0, 0, -1) : -1;
	pl_rows_free(r);
	return rc;
}
