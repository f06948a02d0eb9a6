/*
 * scan_view.c -- the view text of a lake table whose files are resolved when DuckDB binds it
 * (__planar_view_files, __planar_delmap, __planar_kept; see sql/viewfiles.h), the shapes of its
 * column-layout groups, and the schema of the lineage views (see scan.h).
 */
#include "table/scan.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/namemap.h"
#include "table/scan_internal.h"

/* ---- views that resolve their files when DuckDB binds them ---------------------------------- */

size_t pl_scan_group_files(const pl_table *t, int g, const pl_data_file **out)
{
	size_t n = 0;
	for (size_t i = 0; i < t->nfiles; i++) {
		if (!pl_scan_in_layout(t, &t->files[i], pl_scan_group_of(t, g)))
			continue;
		if (out)
			out[n] = &t->files[i];
		n++;
	}
	return n;
}

bool pl_scan_group_hides_rows(const pl_model *m, const pl_table *t, int g)
{
	for (size_t i = 0; i < t->nfiles; i++)
		if (pl_scan_file_hides_rows(m, &t->files[i]) && pl_scan_in_layout(t, &t->files[i], pl_scan_group_of(t, g)))
			return true;
	return false;
}

int pl_scan_group_map(pl_delcache *c, duckdb_connection con, const pl_model *m, const pl_table *t, int g,
		      int64_t *map, pl_err *err)
{
	*map = -1;
	int rc = pl_model_table_files(m, t, NULL, NULL, err);
	return rc ? rc : pl_scan_prepare_map(c, con, m, t, pl_scan_in_layout, pl_scan_group_of(t, g), map, err);
}

/* Whether t has registered files (read through name maps): from its files when they are loaded,
 * else from the catalog's name maps of the table. */
static bool has_namemaps(const pl_model *m, const pl_table *t)
{
	if (!t->files_deferred) {
		for (size_t i = 0; i < t->nfiles; i++)
			if (t->files[i].mapped)
				return true;
		return false;
	}
	for (size_t i = 0; m->namemaps && i < m->namemaps->n; i++)
		if (m->namemaps->items[i].table_id == t->id)
			return true;
	return false;
}

int pl_scan_group_shape(const pl_model *m, const pl_table *t, int g, bool *has_files, const char **some_file,
			pl_err *err)
{
	*has_files = false;
	if (some_file)
		*some_file = NULL;
	if (g >= 2 || has_namemaps(m, t)) { /* groups of registered files: from the files */
		int rc = pl_model_table_files(m, t, NULL, NULL, err);
		if (rc)
			return rc;
		for (size_t i = 0; i < t->nfiles; i++) {
			if (!pl_scan_in_layout(t, &t->files[i], pl_scan_group_of(t, g)))
				continue;
			if (some_file && !*some_file)
				*some_file = t->files[i].path;
			*has_files = true;
		}
		return 0;
	}
	pl_files_summary s; /* the two layouts: without loading the files */
	int rc = pl_model_table_summary(m, t, &s, err);
	*has_files = rc == 0 && (g == 0 ? s.current : s.older);
	return rc;
}

int pl_scan_view_sql(pl_buf *out, const char *lake, const pl_model *m, const pl_table *t, pl_err *err)
{
	size_t parts = 0;
	/* A table with registered files has groups beyond the two pl_scan_layouts (one per name map): those
	 * come from its files, loaded now. */
	bool mapped = has_namemaps(m, t);
	int rc = mapped ? pl_model_table_files(m, t, NULL, NULL, err) : 0;
	/* Older files first (group 1 read by field id, then 0 by name, then registered files): rows
	 * come back in the order they were written, as DuckLake's scan returns them. The text
	 * depends on the table's columns only, never on which rows it holds: both layouts' parts
	 * are there even without files (one then names an empty file of the table's columns and
	 * is folded away), and every part filters deleted rows (folded away when there are none).
	 * Writes inside a transaction thus leave the view as it is, and two transactions writing
	 * the same table never both replace its view in DuckDB's catalog. */
	for (int g = 1; rc == 0 && g >= 0; g = g == 1 ? 0 : !mapped ? -1 : pl_scan_next_group(t, g == 0 ? 1 : g)) {
		bool has_files = g < 2 || pl_scan_group_files(t, g, NULL) > 0;
		if (!has_files || t->ntop == 0)
			continue;
		if (parts++)
			pl_buf_puts(out, " UNION ALL ");
		pl_buf_puts(out, "SELECT ");
		rc = pl_scan_put_projection(out, m, t, pl_scan_group_of(t, g), err);
		if (rc)
			break;
		pl_buf_puts(out, " FROM read_parquet(__planar_view_files(");
		pl_buf_put_literal(out, lake);
		pl_buf_printf(out, ", %lld, %d, %lld)", (long long)t->id, g, (long long)t->schema_since);
		if ((rc = pl_scan_put_group_schema(out, m, t, pl_scan_group_of(t, g), err)) != 0)
			break;
		/* the map is -2 when the part has no file (its scan is folded away), -1 when no row of
		 * its files is deleted (the filter is folded away) */
		pl_buf map = PL_BUF_INIT;
		pl_buf_puts(&map, "__planar_delmap(");
		pl_buf_put_literal(&map, lake);
		pl_buf_printf(&map, ", %lld, %d)", (long long)t->id, g);
		pl_buf_printf(out, ", hive_partitioning = false) AS d WHERE %s <> -2 AND (%s = -1 OR __planar_kept("
				   "d.file_index, d.file_row_number, %s))",
			      pl_buf_cstr(&map), pl_buf_cstr(&map), pl_buf_cstr(&map));
		if (pl_buf_oom(&map))
			out->oom = true;
		pl_buf_dispose(&map);
	}
	return rc ? rc : pl_scan_finish(out, lake, m, t, parts, true, err);
}

int pl_scan_prepare_deletes(pl_delcache *c, duckdb_connection con, const pl_model *m, const pl_table *t,
			    int64_t maps[2], pl_err *err)
{
	maps[0] = maps[1] = -1;
	int rc = pl_model_table_files(m, t, NULL, NULL, err);
	for (size_t g = 0; rc == 0 && g < 2 && pl_scan_has_deletes(t); g++)
		rc = pl_scan_prepare_map(c, con, m, t, pl_scan_in_layout, pl_scan_layouts[g], &maps[g], err);
	return rc;
}

int pl_scan_put_lineage_schema(pl_buf *out, const pl_table *t, pl_err *err)
{
	pl_buf_puts(out, ", schema = MAP {");
	for (size_t i = 0; i < t->ntop; i++) {
		const pl_column *c = t->top[i];
		pl_buf type = PL_BUF_INIT;
		int rc = pl_scan_column_type(&type, c, err);
		if (rc)
			return rc;
		pl_buf_printf(out, "%lld: {name: ", (long long)c->id);
		pl_buf_put_literal(out, c->name);
		pl_buf_puts(out, ", type: ");
		pl_buf_put_literal(out, type.ptr);
		pl_buf_puts(out, ", default_value: ");
		if (c->initial_default && strcmp(c->initial_default, "NULL") != 0)
			pl_buf_put_literal(out, c->initial_default);
		else
			pl_buf_puts(out, "CAST(NULL AS VARCHAR)");
		pl_buf_puts(out, "}, ");
		pl_buf_dispose(&type);
	}
	pl_buf_printf(out, "%lld: {name: '_ducklake_internal_row_id', type: 'BIGINT', default_value: "
			   "CAST(NULL AS VARCHAR)}, %lld: {name: '_ducklake_internal_snapshot_id', type: 'BIGINT', "
			   "default_value: CAST(NULL AS VARCHAR)}}",
		      PL_ROW_ID_FIELD, PL_SNAPSHOT_ID_FIELD);
	return 0;
}
