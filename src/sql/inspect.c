/*
 * inspect.c -- the per-connection macros that give DuckLake's inspection functions their names
 * and result types over Planar's table functions (functions.c): ducklake_snapshots,
 * ducklake_options, ducklake_current_snapshot, ducklake_table_info, ducklake_list_files, and the
 * duckdb_tables()/duckdb_views() as seen with lakes attached.
 */
#include "sql/router.h"

#include "sql/maintenance.h"

/* Per-connection macros: the DuckLake inspection functions. */
static const char *const macros[] = {
	"CREATE OR REPLACE TEMP MACRO ducklake_snapshots(catalog) AS TABLE "
	"SELECT CAST(snapshot_id AS BIGINT) AS snapshot_id, "
	"CAST(snapshot_time AS TIMESTAMP WITH TIME ZONE) AS snapshot_time, "
	"CAST(schema_version AS BIGINT) AS schema_version, "
	"CAST(changes AS MAP(VARCHAR, VARCHAR[])) AS changes, author, commit_message, commit_extra_info "
	"FROM __planar_meta(catalog, 'snapshots')",

	/* ducklake_options: the lake's options (ducklake_metadata) at every scope, with a description
	 * of the options DuckLake knows */
	"CREATE OR REPLACE TEMP MACRO ducklake_options(catalog) AS TABLE "
	"SELECT m.\"key\" AS option_name, d.description, m.\"value\" AS \"value\", "
	"CASE WHEN m.scope IS NULL OR m.scope = '' THEN 'GLOBAL' WHEN m.scope = 'schema' THEN 'SCHEMA' ELSE 'TABLE' END "
	"AS scope, CASE WHEN m.scope = 'schema' THEN s.schema_name WHEN m.scope = 'table' THEN ts.schema_name || '.' || "
	"t.table_name END AS scope_entry "
	"FROM __planar_catalog_table(catalog, 'ducklake_metadata') m "
	"LEFT JOIN (VALUES ('data_inlining_row_limit', 'Inserts of at most this many rows are stored in the catalog'), "
	"('parquet_compression', 'Compression codec of new Parquet files'), "
	"('parquet_version', 'Parquet format version of new files (1 or 2)'), "
	"('parquet_compression_level', 'Compression level of new Parquet files'), "
	"('parquet_row_group_size', 'Rows per row group of new Parquet files'), "
	"('parquet_row_group_size_bytes', 'Bytes per row group of new Parquet files'), "
	"('hive_file_pattern', 'Whether partitioned files go into key=value directories'), "
	"('target_file_size', 'Size at which inserts and compaction start a new data file'), "
	"('version', 'Version of the DuckLake format of the catalog'), "
	"('created_by', 'The program that created the lake'), "
	"('data_path', 'Where the lake''s data files are'), "
	"('require_commit_message', 'Whether each snapshot needs set_commit_message first'), "
	"('rewrite_delete_threshold', 'Fraction of deleted rows from which a data file is worth rewriting'), "
	"('delete_older_than', 'Age of unused files that the cleanup functions remove by default'), "
	"('expire_older_than', 'Age of snapshots that ducklake_expire_snapshots expires by default'), "
	"('auto_compact', 'Whether the compaction functions include a table by default'), "
	"('encrypted', 'Whether data files are encrypted'), "
	"('per_thread_output', 'Whether inserts write one file per thread'), "
	"('write_deletion_vectors', 'Whether deletes are written as deletion vectors (puffin)'), "
	"('sort_on_insert', 'Whether inserts sort their rows by the table''s SET SORTED BY keys')) "
	"d(name, description) ON d.name = m.\"key\" "
	"LEFT JOIN (SELECT CAST(schema_id AS BIGINT) AS schema_id, schema_name FROM "
	"__planar_catalog_table(catalog, 'ducklake_schema') WHERE end_snapshot IS NULL) s "
	"ON m.scope = 'schema' AND CAST(m.scope_id AS BIGINT) = s.schema_id "
	"LEFT JOIN (SELECT CAST(table_id AS BIGINT) AS table_id, CAST(schema_id AS BIGINT) AS schema_id, table_name FROM "
	"__planar_catalog_table(catalog, 'ducklake_table') WHERE end_snapshot IS NULL) t "
	"ON m.scope = 'table' AND CAST(m.scope_id AS BIGINT) = t.table_id "
	"LEFT JOIN (SELECT CAST(schema_id AS BIGINT) AS schema_id, schema_name FROM "
	"__planar_catalog_table(catalog, 'ducklake_schema') WHERE end_snapshot IS NULL) ts ON ts.schema_id = t.schema_id "
	"ORDER BY option_name",

	"CREATE OR REPLACE TEMP MACRO ducklake_current_snapshot(catalog) AS TABLE "
	"SELECT CAST(id AS BIGINT) AS id FROM __planar_meta(catalog, 'current_snapshot')",

	"CREATE OR REPLACE TEMP MACRO ducklake_table_info(catalog) AS TABLE "
	"SELECT table_name, CAST(schema_id AS BIGINT) AS schema_id, CAST(table_id AS BIGINT) AS table_id, "
	"CAST(table_uuid AS UUID) AS table_uuid, CAST(file_count AS BIGINT) AS file_count, "
	"CAST(file_size_bytes AS BIGINT) AS file_size_bytes, "
	"CAST(delete_file_count AS BIGINT) AS delete_file_count, "
	"CAST(delete_file_size_bytes AS BIGINT) AS delete_file_size_bytes "
	"FROM __planar_meta(catalog, 'table_info')",

	/* duckdb_tables() / duckdb_views() as seen with lakes attached (statements are rewritten to
	 * use these): lake tables are tables, lake views are views. */
	"CREATE OR REPLACE TEMP MACRO __planar_duckdb_tables() AS TABLE "
	"SELECT * FROM duckdb_tables() WHERE database_name NOT IN (SELECT database_name FROM __planar_objects()) "
	"UNION ALL SELECT v.database_name, v.database_oid, v.schema_name, v.schema_oid, v.view_name, v.view_oid, "
	"o.comment, v.tags, v.internal, v.temporary, false, CAST(o.estimated_size AS BIGINT), v.column_count, "
	"CAST(0 AS BIGINT), CAST(0 AS BIGINT), NULL FROM duckdb_views() v JOIN __planar_objects() o ON "
	"o.database_name = v.database_name AND ((o.schema_name = v.schema_name AND o.name = v.view_name AND "
	"o.kind = 'table') OR o.kind = 'metadata')",

	"CREATE OR REPLACE TEMP MACRO __planar_duckdb_databases() AS TABLE "
	"SELECT d.* REPLACE (CASE WHEN o.data_path IS NULL THEN d.tags ELSE map_concat(d.tags, "
	"MAP {'data_path': o.data_path}) END AS tags) FROM duckdb_databases() d LEFT JOIN "
	"(SELECT database_name, data_path FROM __planar_objects() WHERE kind = 'lake') o USING (database_name)",

	"CREATE OR REPLACE TEMP MACRO __planar_duckdb_views() AS TABLE "
	"SELECT v.* FROM duckdb_views() v LEFT JOIN __planar_objects() o ON o.database_name = v.database_name AND "
	"((o.schema_name = v.schema_name AND o.name = v.view_name) OR o.kind = 'metadata') "
	"WHERE o.kind IS DISTINCT FROM 'table' AND o.kind IS DISTINCT FROM 'metadata'",

	"CREATE OR REPLACE TEMP MACRO ducklake_list_files(catalog, table_name, schema := 'main', "
	"snapshot_version := NULL, snapshot_time := NULL) AS TABLE "
	"SELECT data_file, CAST(data_file_size_bytes AS UBIGINT) AS data_file_size_bytes, "
	"CAST(data_file_footer_size AS UBIGINT) AS data_file_footer_size, "
	"CAST(NULL AS BLOB) AS data_file_encryption_key, delete_file, "
	"CAST(delete_file_size_bytes AS UBIGINT) AS delete_file_size_bytes, "
	"CAST(delete_file_footer_size AS UBIGINT) AS delete_file_footer_size, "
	"CAST(NULL AS BLOB) AS delete_file_encryption_key "
	"FROM __planar_files(catalog, schema, table_name, CAST(snapshot_version AS VARCHAR), "
	"strftime(CAST(snapshot_time AS TIMESTAMP WITH TIME ZONE) AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S.%f') || '+00')",
};

int pl_functions_install_macros(duckdb_connection con, pl_err *err)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < sizeof(macros) / sizeof(macros[0]); i++)
		rc = pl_engine_exec(con, macros[i], err);
	return rc ? rc : pl_blob_install_macros(con, err);
}
