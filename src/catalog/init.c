/*
 * init.c -- creating a new DuckLake 1.0 catalog (all 28 spec tables, created exactly as the
 * spec's creation script does) and checking that an existing catalog is a lake Planar can read.
 */
#include "catalog/init.h"

#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "core/str.h"

static const char *const catalog_ddl[] = {
	"CREATE TABLE ducklake_metadata (\"key\" VARCHAR NOT NULL, \"value\" VARCHAR NOT NULL, \"scope\" VARCHAR, scope_id BIGINT)",
	"CREATE TABLE ducklake_snapshot (snapshot_id BIGINT PRIMARY KEY, snapshot_time TIMESTAMP WITH TIME ZONE, schema_version BIGINT, next_catalog_id BIGINT, next_file_id BIGINT)",
	"CREATE TABLE ducklake_snapshot_changes (snapshot_id BIGINT PRIMARY KEY, changes_made VARCHAR, author VARCHAR, commit_message VARCHAR, commit_extra_info VARCHAR)",
	"CREATE TABLE ducklake_schema (schema_id BIGINT PRIMARY KEY, schema_uuid UUID, begin_snapshot BIGINT, end_snapshot BIGINT, schema_name VARCHAR, path VARCHAR, path_is_relative BOOLEAN)",
	"CREATE TABLE ducklake_table (table_id BIGINT, table_uuid UUID, begin_snapshot BIGINT, end_snapshot BIGINT, schema_id BIGINT, table_name VARCHAR, path VARCHAR, path_is_relative BOOLEAN)",
	"CREATE TABLE ducklake_view (view_id BIGINT, view_uuid UUID, begin_snapshot BIGINT, end_snapshot BIGINT, schema_id BIGINT, view_name VARCHAR, dialect VARCHAR, \"sql\" VARCHAR, column_aliases VARCHAR)",
	"CREATE TABLE ducklake_tag (object_id BIGINT, begin_snapshot BIGINT, end_snapshot BIGINT, \"key\" VARCHAR, \"value\" VARCHAR)",
	"CREATE TABLE ducklake_column_tag (table_id BIGINT, column_id BIGINT, begin_snapshot BIGINT, end_snapshot BIGINT, \"key\" VARCHAR, \"value\" VARCHAR)",
	"CREATE TABLE ducklake_data_file (data_file_id BIGINT PRIMARY KEY, table_id BIGINT, begin_snapshot BIGINT, end_snapshot BIGINT, file_order BIGINT, path VARCHAR, path_is_relative BOOLEAN, file_format VARCHAR, record_count BIGINT, file_size_bytes BIGINT, footer_size BIGINT, row_id_start BIGINT, partition_id BIGINT, encryption_key VARCHAR, mapping_id BIGINT, partial_max BIGINT)",
	"CREATE TABLE ducklake_file_column_stats (data_file_id BIGINT, table_id BIGINT, column_id BIGINT, column_size_bytes BIGINT, value_count BIGINT, null_count BIGINT, min_value VARCHAR, max_value VARCHAR, contains_nan BOOLEAN, extra_stats VARCHAR)",
	"CREATE TABLE ducklake_file_variant_stats (data_file_id BIGINT, table_id BIGINT, column_id BIGINT, variant_path VARCHAR, shredded_type VARCHAR, column_size_bytes BIGINT, value_count BIGINT, null_count BIGINT, min_value VARCHAR, max_value VARCHAR, contains_nan BOOLEAN, extra_stats VARCHAR)",
	"CREATE TABLE ducklake_delete_file (delete_file_id BIGINT PRIMARY KEY, table_id BIGINT, begin_snapshot BIGINT, end_snapshot BIGINT, data_file_id BIGINT, path VARCHAR, path_is_relative BOOLEAN, format VARCHAR, delete_count BIGINT, file_size_bytes BIGINT, footer_size BIGINT, encryption_key VARCHAR, partial_max BIGINT)",
	"CREATE TABLE ducklake_column (column_id BIGINT, begin_snapshot BIGINT, end_snapshot BIGINT, table_id BIGINT, column_order BIGINT, column_name VARCHAR, column_type VARCHAR, initial_default VARCHAR, default_value VARCHAR, nulls_allowed BOOLEAN, parent_column BIGINT, default_value_type VARCHAR, default_value_dialect VARCHAR)",
	"CREATE TABLE ducklake_table_stats (table_id BIGINT, record_count BIGINT, next_row_id BIGINT, file_size_bytes BIGINT)",
	"CREATE TABLE ducklake_table_column_stats (table_id BIGINT, column_id BIGINT, contains_null BOOLEAN, contains_nan BOOLEAN, min_value VARCHAR, max_value VARCHAR, extra_stats VARCHAR)",
	"CREATE TABLE ducklake_partition_info (partition_id BIGINT, table_id BIGINT, begin_snapshot BIGINT, end_snapshot BIGINT)",
	"CREATE TABLE ducklake_partition_column (partition_id BIGINT, table_id BIGINT, partition_key_index BIGINT, column_id BIGINT, \"transform\" VARCHAR)",
	"CREATE TABLE ducklake_file_partition_value (data_file_id BIGINT, table_id BIGINT, partition_key_index BIGINT, partition_value VARCHAR)",
	"CREATE TABLE ducklake_files_scheduled_for_deletion (data_file_id BIGINT, path VARCHAR, path_is_relative BOOLEAN, schedule_start TIMESTAMP WITH TIME ZONE)",
	"CREATE TABLE ducklake_inlined_data_tables (table_id BIGINT, table_name VARCHAR, schema_version BIGINT)",
	"CREATE TABLE ducklake_column_mapping (mapping_id BIGINT, table_id BIGINT, \"type\" VARCHAR)",
	"CREATE TABLE ducklake_name_mapping (mapping_id BIGINT, column_id BIGINT, source_name VARCHAR, target_field_id BIGINT, parent_column BIGINT, is_partition BOOLEAN)",
	"CREATE TABLE ducklake_schema_versions (begin_snapshot BIGINT, schema_version BIGINT, table_id BIGINT)",
	"CREATE TABLE ducklake_macro (schema_id BIGINT, macro_id BIGINT, macro_name VARCHAR, begin_snapshot BIGINT, end_snapshot BIGINT)",
	"CREATE TABLE ducklake_macro_impl (macro_id BIGINT, impl_id BIGINT, dialect VARCHAR, \"sql\" VARCHAR, \"type\" VARCHAR)",
	"CREATE TABLE ducklake_macro_parameters (macro_id BIGINT, impl_id BIGINT, column_id BIGINT, parameter_name VARCHAR, parameter_type VARCHAR, default_value VARCHAR, default_value_type VARCHAR)",
	"CREATE TABLE ducklake_sort_info (sort_id BIGINT, table_id BIGINT, begin_snapshot BIGINT, end_snapshot BIGINT)",
	"CREATE TABLE ducklake_sort_expression (sort_id BIGINT, table_id BIGINT, sort_key_index BIGINT, expression VARCHAR, dialect VARCHAR, sort_direction VARCHAR, null_order VARCHAR)",
};

size_t pl_catalog_spec_count(void)
{
	return sizeof(catalog_ddl) / sizeof(catalog_ddl[0]);
}

/* Reads "CREATE TABLE name (col TYPE [PRIMARY KEY | NOT NULL], ...)". */
int pl_catalog_spec_table(size_t i, char **name, pl_strv *names, pl_strv *types, pl_err *err)
{
	if (i >= pl_catalog_spec_count())
		return pl_err_set(err, PL_EINVALID, "no catalog table %zu", i);
	const char *s = catalog_ddl[i] + strlen("CREATE TABLE ");
	const char *open = strchr(s, '(');
	*name = pl_strndup(s, (size_t)(open - s - 1));
	int rc = *name ? 0 : pl_err_nomem(err);
	for (const char *p = open + 1; rc == 0 && *p && *p != ')';) {
		size_t len = strcspn(p, ",)");
		const char *sp = memchr(p, ' ', len);
		char *col = pl_strndup(*p == '"' ? p + 1 : p, (size_t)(sp - p) - (*p == '"' ? 2 : 0));
		pl_buf type = PL_BUF_INIT;
		pl_buf_put(&type, sp + 1, len - (size_t)(sp + 1 - p));
		static const char *const drop[] = {" PRIMARY KEY", " NOT NULL"};
		for (size_t k = 0; k < 2 && type.ptr; k++) {
			char *at = strstr(type.ptr, drop[k]);
			if (at)
				pl_buf_truncate(&type, (size_t)(at - type.ptr));
		}
		rc = !col || pl_buf_oom(&type) || pl_strv_push(names, col) || pl_strv_push(types, type.ptr) ? pl_err_nomem(err) : 0;
		free(col);
		pl_buf_dispose(&type);
		p += len;
		p += *p == ',' ? 2 : 0;
	}
	return rc;
}

/* Not in the spec: indexes for planning on large lakes (readers ignore them). DuckDB files get
 * none: its zone maps serve the same scans and its indexes slow down catalog updates. */
static const char *const catalog_indexes[] = {
	"CREATE INDEX IF NOT EXISTS planar_data_file_table ON ducklake_data_file (table_id, end_snapshot)",
	"CREATE INDEX IF NOT EXISTS planar_file_column_stats_file ON ducklake_file_column_stats (data_file_id)",
	"CREATE INDEX IF NOT EXISTS planar_column_table ON ducklake_column (table_id)",
	/* advancing a model to a newer snapshot reads the files that began or ended since */
	"CREATE INDEX IF NOT EXISTS planar_data_file_begin ON ducklake_data_file (begin_snapshot)",
	"CREATE INDEX IF NOT EXISTS planar_data_file_end ON ducklake_data_file (end_snapshot)",
	"CREATE INDEX IF NOT EXISTS planar_delete_file_begin ON ducklake_delete_file (begin_snapshot)",
	"CREATE INDEX IF NOT EXISTS planar_delete_file_end ON ducklake_delete_file (end_snapshot)",
	/* what a table's view needs of its files without loading them (model_files.c): the first
	 * live file of each column layout, the first live delete file */
	"CREATE INDEX IF NOT EXISTS planar_data_file_table_begin ON ducklake_data_file (table_id, begin_snapshot, end_snapshot)",
	"CREATE INDEX IF NOT EXISTS planar_delete_file_table ON ducklake_delete_file (table_id, end_snapshot)",
	/* file pruning reads one column's statistics for the files it has not seen yet */
	("CREATE INDEX IF NOT EXISTS planar_file_column_stats_column ON ducklake_file_column_stats "
	 "(table_id, column_id, data_file_id)"),
};

static int insert_initial_rows(pl_catdb *db, const char *data_path, pl_err *err)
{
	char uuid[PL_UUID_STRLEN + 1], now[32];
	int rc = pl_uuid_v4(uuid, err);
	if (rc)
		return rc;
	pl_now_timestamptz(now);
	pl_val meta[][2] = {
		{PL_VTEXT("version"), PL_VTEXT(PL_DUCKLAKE_VERSION)},
		{PL_VTEXT("created_by"), PL_VTEXT("Planar " PL_PLANAR_VERSION)},
		{PL_VTEXT("data_path"), PL_VTEXT(data_path)},
		{PL_VTEXT("encrypted"), PL_VTEXT("false")},
	};
	for (size_t i = 0; rc == 0 && i < sizeof(meta) / sizeof(meta[0]); i++)
		rc = pl_catdb_exec(db, "INSERT INTO ducklake_metadata (\"key\", \"value\", \"scope\", scope_id) "
				       "VALUES (?, ?, NULL, NULL)", meta[i], 2, err);
	pl_val snap[] = {PL_VTEXT(now)};
	if (rc == 0)
		rc = pl_catdb_exec(db, "INSERT INTO ducklake_snapshot VALUES (0, ?, 0, 1, 0)", snap, 1, err);
	if (rc == 0)
		rc = pl_catdb_exec(db, "INSERT INTO ducklake_snapshot_changes VALUES "
				       "(0, 'created_schema:\"main\"', NULL, NULL, NULL)", NULL, 0, err);
	pl_val schema[] = {PL_VTEXT(uuid), PL_VBOOL(true)};
	if (rc == 0)
		rc = pl_catdb_exec(db, "INSERT INTO ducklake_schema VALUES (0, ?, 0, NULL, 'main', 'main/', ?)",
				   schema, 2, err);
	return rc;
}

int pl_catalog_create(pl_catdb *db, const char *data_path, pl_err *err)
{
	int rc = db->ops->begin(db, err);
	for (size_t i = 0; rc == 0 && i < sizeof(catalog_ddl) / sizeof(catalog_ddl[0]); i++)
		rc = pl_catdb_exec(db, catalog_ddl[i], NULL, 0, err);
	bool indexes = strcmp(db->ops->name, "duckdb") != 0;
	for (size_t i = 0; indexes && rc == 0 && i < sizeof(catalog_indexes) / sizeof(catalog_indexes[0]); i++)
		rc = pl_catdb_exec(db, catalog_indexes[i], NULL, 0, err);
	if (rc == 0)
		rc = insert_initial_rows(db, data_path, err);
	if (rc == 0)
		rc = db->ops->commit(db, err);
	if (rc) {
		pl_err saved = *err;
		db->ops->rollback(db, err);
		*err = saved;
		return pl_err_wrap(err, "cannot create the lake's catalog");
	}
	return 0;
}

int pl_catalog_metadata(pl_catdb *db, const char *key, char **out, pl_err *err)
{
	pl_rows *r = NULL;
	pl_val p = PL_VTEXT(key);
	*out = NULL;
	int rc = pl_catdb_query(db, "SELECT \"value\" FROM ducklake_metadata WHERE \"key\" = ? AND "
				    "\"scope\" IS NULL",
				&p, 1, &r, err);
	if (rc)
		return rc;
	if (r->nrows > 0 && pl_rows_get(r, 0, 0) && !(*out = pl_strdup(pl_rows_get(r, 0, 0)))) {
		pl_rows_free(r);
		return pl_err_nomem(err);
	}
	pl_rows_free(r);
	return 0;
}

int pl_catalog_is_ducklake(pl_catdb *db, bool *out, pl_err *err)
{
	return db->ops->table_exists(db, "ducklake_metadata", out, err);
}

int pl_catalog_check_version(pl_catdb *db, const char *location, bool migrate, pl_err *err)
{
	char *version = NULL;
	pl_err first = {0};
	int rc = pl_catalog_metadata(db, "version", &version, &first);
	if (rc) { /* DuckLake 0.1 catalogs have no scope column */
		pl_rows *r = NULL;
		if (pl_catdb_query(db, "SELECT \"value\" FROM ducklake_metadata WHERE \"key\" = 'version'", NULL, 0, &r,
				   err) != 0) {
			*err = first;
			return rc;
		}
		rc = 0;
		if (r->nrows > 0 && pl_rows_get(r, 0, 0) && !(version = pl_strdup(pl_rows_get(r, 0, 0))))
			rc = pl_err_nomem(err);
		pl_rows_free(r);
		if (rc)
			return rc;
	}
	if (!version)
		return pl_err_set(err, PL_ECATALOG, "'%s' is not a DuckLake catalog: it has no version entry",
				  location);
	if (strcmp(version, PL_DUCKLAKE_VERSION) != 0)
		rc = pl_catalog_upgrade(db, location, version, migrate, err);
	free(version);
	return rc;
}
