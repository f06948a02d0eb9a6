/*
 * migrate.c -- bringing a catalog written by an older DuckLake release (format 0.1, 0.2,
 * 0.3-dev1, 0.3, 0.4-dev1, 0.4) to format 1.0, as DuckLake's AUTOMATIC_MIGRATION does: the
 * columns and tables each release added, the partition keys of 0.1 turned from column positions
 * into column ids, the global schema versions of 0.2 turned into per-table ones, and the
 * partial_max of 0.3's partial_file_info moved into its own column. All in one catalog
 * transaction: a failed migration leaves the catalog as it was.
 *
 * Every step first checks whether what it adds is there already, so the development releases
 * (whose catalogs hold part of the next release's changes) migrate with the same steps.
 */
#include "catalog/init.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

typedef enum kind { K_DUCKDB, K_SQLITE, K_POSTGRES } kind;

static kind kind_of(const pl_catdb *db)
{
	const char *n = db->ops->name;
	return strcmp(n, "sqlite") == 0 ? K_SQLITE : strcmp(n, "postgres") == 0 ? K_POSTGRES : K_DUCKDB;
}

static int column_exists(pl_catdb *db, const char *table, const char *column, bool *out, pl_err *err)
{
	static const char *const sql[] = {
		[K_DUCKDB] = "SELECT count(*) FROM duckdb_columns() WHERE database_name = current_database() AND "
			     "schema_name = current_schema() AND table_name = ? AND column_name = ?",
		[K_SQLITE] = "SELECT count(*) FROM pragma_table_info(?) WHERE name = ?",
		[K_POSTGRES] = "SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema() "
			       "AND table_name = ? AND column_name = ?",
	};
	pl_val p[] = {PL_VTEXT(table), PL_VTEXT(column)};
	pl_rows *r = NULL;
	int rc = pl_catdb_query(db, sql[kind_of(db)], p, 2, &r, err);
	if (rc == 0)
		*out = pl_rows_int(r, 0, 0, 0) > 0;
	pl_rows_free(r);
	return rc;
}

static int exec(pl_catdb *db, const char *sql, pl_err *err)
{
	int rc = pl_catdb_exec(db, sql, NULL, 0, err);
	return rc ? pl_err_wrap(err, "migration step \"%.60s...\"", sql) : 0;
}

/* Statements that change rows run after every ALTER of the migration: DuckDB refuses to commit
 * a transaction that changes a table's rows and then alters it, and to prepare an ADD COLUMN
 * with a default after another ALTER of the table. */
typedef struct mig {
	pl_catdb *db;
	pl_strv later;
} mig;

static int defer(mig *m, const char *sql, pl_err *err)
{
	return pl_strv_push(&m->later, sql) ? pl_err_nomem(err) : 0;
}

/* ALTER TABLE table ADD COLUMN column type, unless the column is there; existing rows get
 * value (SQL, or NULL) after the ALTERs. */
static int add_column(mig *m, const char *table, const char *column, const char *type, const char *value,
		      pl_err *err)
{
	bool have = false;
	int rc = column_exists(m->db, table, column, &have, err);
	if (rc || have)
		return rc;
	char sql[512];
	snprintf(sql, sizeof(sql), "ALTER TABLE %s ADD COLUMN %s %s", table, column, type);
	rc = exec(m->db, sql, err);
	if (rc == 0 && value) {
		snprintf(sql, sizeof(sql), "UPDATE %s SET %s = %s WHERE %s IS NULL", table, column, value, column);
		rc = defer(m, sql, err);
	}
	return rc;
}

static int create_table(mig *m, const char *table, const char *columns, pl_err *err)
{
	pl_catdb *db = m->db;
	bool have = false;
	int rc = db->ops->table_exists(db, table, &have, err);
	if (rc || have)
		return rc;
	char sql[1024];
	snprintf(sql, sizeof(sql), "CREATE TABLE %s (%s)", table, columns);
	return exec(db, sql, err);
}

/* 0.1 -> 0.2: paths of schemas and tables, scoped options, name mappings; partition keys name
 * their column by id instead of by position among the table's top-level columns. */
static int from_01(mig *m, pl_err *err)
{
	int rc = add_column(m, "ducklake_schema", "path", "VARCHAR", "''", err);
	if (rc == 0)
		rc = add_column(m, "ducklake_schema", "path_is_relative", "BOOLEAN", "TRUE", err);
	if (rc == 0)
		rc = add_column(m, "ducklake_table", "path", "VARCHAR", "''", err);
	if (rc == 0)
		rc = add_column(m, "ducklake_table", "path_is_relative", "BOOLEAN", "TRUE", err);
	if (rc == 0)
		rc = add_column(m, "ducklake_metadata", "scope", "VARCHAR", NULL, err);
	if (rc == 0)
		rc = add_column(m, "ducklake_metadata", "scope_id", "BIGINT", NULL, err);
	if (rc == 0)
		rc = add_column(m, "ducklake_data_file", "mapping_id", "BIGINT", NULL, err);
	if (rc == 0)
		rc = create_table(m, "ducklake_column_mapping", "mapping_id BIGINT, table_id BIGINT, type VARCHAR", err);
	if (rc == 0)
		rc = create_table(m, "ducklake_name_mapping",
				  "mapping_id BIGINT, column_id BIGINT, source_name VARCHAR, target_field_id BIGINT, "
				  "parent_column BIGINT",
				  err);
	if (rc == 0)
		rc = defer(m,
			   "UPDATE ducklake_partition_column SET column_id = (SELECT c.column_id FROM ducklake_column c "
			   "WHERE c.table_id = ducklake_partition_column.table_id AND c.parent_column IS NULL AND "
			   "c.end_snapshot IS NULL AND (SELECT count(*) FROM ducklake_column o WHERE o.table_id = c.table_id "
			   "AND o.parent_column IS NULL AND o.end_snapshot IS NULL AND o.column_order < c.column_order) = "
			   "ducklake_partition_column.column_id)",
			   err);
	return rc;
}

/* 0.2 -> 0.3: commit messages, schema versions by snapshot, statistics' extra_stats. */
static int from_02(mig *m, pl_err *err)
{
	pl_catdb *db = m->db;
	bool have = false;
	int rc = add_column(m, "ducklake_name_mapping", "is_partition", "BOOLEAN", "false", err);
	if (rc == 0)
		rc = add_column(m, "ducklake_snapshot_changes", "author", "VARCHAR", NULL, err);
	if (rc == 0)
		rc = add_column(m, "ducklake_snapshot_changes", "commit_message", "VARCHAR", NULL, err);
	if (rc == 0)
		rc = add_column(m, "ducklake_snapshot_changes", "commit_extra_info", "VARCHAR", NULL, err);
	if (rc == 0)
		rc = db->ops->table_exists(db, "ducklake_schema_versions", &have, err);
	if (rc == 0 && !have)
		rc = exec(db, "CREATE TABLE ducklake_schema_versions (begin_snapshot BIGINT, schema_version BIGINT)", err);
	if (rc == 0 && !have)
		rc = defer(m,
			   "INSERT INTO ducklake_schema_versions (begin_snapshot, schema_version) SELECT min(snapshot_id), "
			   "schema_version FROM ducklake_snapshot GROUP BY schema_version ORDER BY schema_version",
			   err);
	if (rc == 0)
		rc = db->ops->table_exists(db, "ducklake_file_column_statistics", &have, err);
	if (rc == 0 && have)
		rc = exec(db, "ALTER TABLE ducklake_file_column_statistics RENAME TO ducklake_file_column_stats", err);
	if (rc == 0)
		rc = add_column(m, "ducklake_file_column_stats", "extra_stats", "VARCHAR", NULL, err);
	if (rc == 0)
		rc = add_column(m, "ducklake_table_column_stats", "extra_stats", "VARCHAR", NULL, err);
	return rc;
}

/* 0.3 -> 0.4: macros, column default types, sort orders, variant statistics, per-table schema
 * versions, partial_max. */
static int from_03(mig *m, pl_err *err)
{
	pl_catdb *db = m->db;
	static const char *const partial_max[] = {
		[K_DUCKDB] = "TRY_CAST(regexp_extract(partial_file_info, 'partial_max:(\\d+)', 1) AS BIGINT)",
		[K_SQLITE] = "CAST(substr(partial_file_info, instr(partial_file_info, 'partial_max:') + 12) AS INTEGER)",
		[K_POSTGRES] = "CAST(substring(partial_file_info from 'partial_max:(\\d+)') AS BIGINT)",
	};
	bool have = false;
	int rc = create_table(m, "ducklake_macro",
			      "schema_id BIGINT, macro_id BIGINT, macro_name VARCHAR, begin_snapshot BIGINT, "
			      "end_snapshot BIGINT",
			      err);
	if (rc == 0)
		rc = create_table(m, "ducklake_macro_impl",
				  "macro_id BIGINT, impl_id BIGINT, dialect VARCHAR, sql VARCHAR, type VARCHAR", err);
	if (rc == 0)
		rc = create_table(m, "ducklake_macro_parameters",
				  "macro_id BIGINT, impl_id BIGINT, column_id BIGINT, parameter_name VARCHAR, "
				  "parameter_type VARCHAR, default_value VARCHAR, default_value_type VARCHAR",
				  err);
	if (rc == 0)
		rc = add_column(m, "ducklake_column", "default_value_type", "VARCHAR", "'literal'", err);
	if (rc == 0)
		rc = defer(m, "UPDATE ducklake_column SET default_value_type = 'literal' WHERE default_value_type IS NULL",
			   err);
	if (rc == 0)
		rc = add_column(m, "ducklake_column", "default_value_dialect", "VARCHAR", NULL, err);
	if (rc == 0)
		rc = create_table(m, "ducklake_sort_info",
				  "sort_id BIGINT, table_id BIGINT, begin_snapshot BIGINT, end_snapshot BIGINT", err);
	if (rc == 0)
		rc = create_table(m, "ducklake_sort_expression",
				  "sort_id BIGINT, table_id BIGINT, sort_key_index BIGINT, expression VARCHAR, "
				  "dialect VARCHAR, sort_direction VARCHAR, null_order VARCHAR",
				  err);
	if (rc == 0)
		rc = create_table(m, "ducklake_file_variant_stats",
				  "data_file_id BIGINT, table_id BIGINT, column_id BIGINT, variant_path VARCHAR, "
				  "shredded_type VARCHAR, column_size_bytes BIGINT, value_count BIGINT, null_count BIGINT, "
				  "min_value VARCHAR, max_value VARCHAR, contains_nan BOOLEAN, extra_stats VARCHAR",
				  err);
	if (rc == 0)
		rc = add_column(m, "ducklake_schema_versions", "table_id", "BIGINT", NULL, err);
	if (rc == 0)
		rc = add_column(m, "ducklake_data_file", "partial_max", "BIGINT", NULL, err);
	if (rc == 0)
		rc = add_column(m, "ducklake_delete_file", "partial_max", "BIGINT", NULL, err);
	if (rc == 0)
		rc = column_exists(db, "ducklake_data_file", "partial_file_info", &have, err);
	if (rc == 0 && have) {
		pl_buf q = PL_BUF_INIT;
		pl_buf_printf(&q, "CREATE TEMP TABLE __planar_partial_max AS SELECT data_file_id, %s AS partial_max FROM "
				  "ducklake_data_file WHERE partial_file_info LIKE '%%partial_max:%%'", partial_max[kind_of(db)]);
		rc = pl_buf_oom(&q) ? pl_err_nomem(err) : exec(db, q.ptr, err);
		pl_buf_dispose(&q);
		if (rc == 0)
			rc = exec(db, "ALTER TABLE ducklake_data_file DROP COLUMN partial_file_info", err);
		if (rc == 0)
			rc = defer(m,
				   "UPDATE ducklake_data_file SET partial_max = (SELECT p.partial_max FROM __planar_partial_max p "
				   "WHERE p.data_file_id = ducklake_data_file.data_file_id) WHERE data_file_id IN "
				   "(SELECT data_file_id FROM __planar_partial_max)",
				   err);
		if (rc == 0)
			rc = defer(m, "DROP TABLE __planar_partial_max", err);
	}
	/* a global schema version becomes one row per table alive at its snapshot */
	if (rc == 0)
		rc = defer(m,
			   "INSERT INTO ducklake_schema_versions (table_id, begin_snapshot, schema_version) "
			   "SELECT t.table_id, sv.begin_snapshot, sv.schema_version FROM ducklake_schema_versions sv "
			   "JOIN ducklake_table t ON sv.begin_snapshot >= t.begin_snapshot AND "
			   "sv.begin_snapshot <= coalesce(t.end_snapshot, sv.begin_snapshot) WHERE sv.table_id IS NULL",
			   err);
	if (rc == 0)
		rc = defer(m, "DELETE FROM ducklake_schema_versions WHERE table_id IS NULL", err);
	return rc;
}

static int version_index(const char *v)
{
	static const char *const known[] = {"0.1", "0.2", "0.3-dev1", "0.3", "0.4-dev1", "0.4", "1.0"};
	for (int i = 0; i < (int)(sizeof(known) / sizeof(known[0])); i++)
		if (strcmp(v, known[i]) == 0)
			return i;
	return -1;
}

static int migrate(pl_catdb *db, const char *version, pl_err *err)
{
	int at = version_index(version), rc = 0;
	mig m = {db, PL_STRV_INIT};
	if (at == 0) /* 0.1 */
		rc = from_01(&m, err);
	if (rc == 0 && at <= 2) /* 0.2 and 0.3-dev1 */
		rc = from_02(&m, err);
	if (rc == 0 && at <= 4) /* 0.3 and 0.4-dev1 */
		rc = from_03(&m, err);
	for (size_t i = 0; rc == 0 && i < m.later.len; i++)
		rc = exec(db, m.later.items[i], err);
	pl_strv_dispose(&m.later);
	if (rc == 0)
		rc = exec(db, "UPDATE ducklake_metadata SET \"value\" = '" PL_DUCKLAKE_VERSION "' WHERE \"key\" = 'version'",
			  err);
	return rc;
}

int pl_catalog_upgrade(pl_catdb *db, const char *location, const char *version, bool allowed, pl_err *err)
{
	if (version_index(version) < 0 || strcmp(version, PL_DUCKLAKE_VERSION) == 0) {
		bool newer = strtod(version, NULL) > strtod(PL_DUCKLAKE_VERSION, NULL);
		return pl_err_set(err, PL_EUNSUPPORTED,
				  "lake '%s' uses DuckLake format version %s; Planar reads and writes version %s%s",
				  location, version, PL_DUCKLAKE_VERSION,
				  newer ? " (the lake was written by a newer program)"
					: " and migrates the versions 0.1 to 0.4 of DuckLake's releases");
	}
	if (!allowed)
		return pl_err_set(err, PL_EUNSUPPORTED,
				  "DuckLake catalog version mismatch: lake '%s' has version %s, Planar reads and writes "
				  "version %s. To migrate the catalog, attach it with AUTOMATIC_MIGRATION TRUE (it cannot "
				  "be read by older releases afterwards)",
				  location, version, PL_DUCKLAKE_VERSION);
	if (db->read_only)
		return pl_err_set(err, PL_EUNSUPPORTED,
				  "lake '%s' has DuckLake format version %s and needs a migration, which a READ_ONLY "
				  "attachment cannot make",
				  location, version);
	int rc = db->ops->begin(db, err);
	if (rc == 0)
		rc = migrate(db, version, err);
	if (rc == 0)
		return db->ops->commit(db, err) ? pl_err_wrap(err, "cannot migrate lake '%s' from version %s", location,
							       version)
						 : 0;
	pl_err saved = *err;
	db->ops->rollback(db, err);
	*err = saved;
	return pl_err_wrap(err, "cannot migrate lake '%s' from DuckLake version %s (nothing was changed)", location,
			   version);
}
