/*
 * reads.c -- fixed catalog reads for SQL functions (see reads.h).
 */
#include "catalog/reads.h"

#include <stdlib.h>
#include <string.h>

#include "catalog/init.h"
#include "core/buf.h"
#include "core/str.h"

static const struct {
	const char *name;
	const char *sql;
} listings[] = {
	[PL_LIST_SNAPSHOTS] = {"snapshots",
			       "SELECT s.snapshot_id, CAST(s.snapshot_time AS VARCHAR) AS snapshot_time, "
			       "s.schema_version, c.changes_made AS changes, c.author, c.commit_message, "
			       "c.commit_extra_info FROM ducklake_snapshot s LEFT JOIN ducklake_snapshot_changes c "
			       "ON s.snapshot_id = c.snapshot_id ORDER BY s.snapshot_id"},
	[PL_LIST_CURRENT_SNAPSHOT] = {"current_snapshot", "SELECT max(snapshot_id) AS id FROM ducklake_snapshot"},
	[PL_LIST_TABLE_INFO] = {"table_info",
				"SELECT t.table_name, t.schema_id, t.table_id, CAST(t.table_uuid AS VARCHAR) AS table_uuid, "
				"(SELECT count(*) FROM ducklake_data_file f WHERE f.table_id = t.table_id AND "
				"f.end_snapshot IS NULL) AS file_count, "
				"(SELECT coalesce(sum(file_size_bytes), 0) FROM ducklake_data_file f WHERE "
				"f.table_id = t.table_id AND f.end_snapshot IS NULL) AS file_size_bytes, "
				"(SELECT count(*) FROM ducklake_delete_file d WHERE d.table_id = t.table_id AND "
				"d.end_snapshot IS NULL) AS delete_file_count, "
				"(SELECT coalesce(sum(file_size_bytes), 0) FROM ducklake_delete_file d WHERE "
				"d.table_id = t.table_id AND d.end_snapshot IS NULL) AS delete_file_size_bytes "
				"FROM ducklake_table t WHERE t.end_snapshot IS NULL ORDER BY t.table_id"},
};

int pl_catalog_listing_by_name(const char *what, pl_catalog_listing *out, pl_err *err)
{
	for (size_t i = 0; what && i < sizeof(listings) / sizeof(listings[0]); i++) {
		if (strcmp(listings[i].name, what) == 0) {
			*out = (pl_catalog_listing)i;
			return 0;
		}
	}
	return pl_err_set(err, PL_EINVALID, "no catalog listing named \"%s\"", what ? what : "NULL");
}

int pl_catalog_list(pl_catdb *db, pl_catalog_listing what, pl_rows **out, pl_err *err)
{
	if ((size_t)what >= sizeof(listings) / sizeof(listings[0]))
		return pl_err_set(err, PL_EINVALID, "no such catalog listing");
	return pl_catdb_query(db, listings[what].sql, NULL, 0, out, err);
}

/* ducklake_inlined_data_<digits>_<digits> */
static bool is_inlined_table_name(const char *s)
{
	static const char prefix[] = "ducklake_inlined_data_";
	if (strncmp(s, prefix, sizeof(prefix) - 1) != 0)
		return false;
	s += sizeof(prefix) - 1;
	for (int part = 0; part < 2; part++) {
		const char *start = s;
		while (*s >= '0' && *s <= '9')
			s++;
		if (s == start || (part == 0 ? *s != '_' : *s != '\0'))
			return false;
		s += part == 0;
	}
	return true;
}

int pl_catalog_inlined_rows(pl_catdb *db, const char *inlined, int64_t snapshot, const char *const *columns,
			    size_t ncolumns, bool with_row_id, pl_rows **out, pl_err *err)
{
	if (!inlined || !is_inlined_table_name(inlined))
		return pl_err_set(err, PL_EINVALID, "\"%s\" is not an inlined-data table of the catalog",
				  inlined ? inlined : "NULL");
	pl_buf q = PL_BUF_INIT;
	pl_buf_puts(&q, "SELECT ");
	for (size_t i = 0; i < ncolumns; i++) {
		pl_buf_puts(&q, i ? ", CAST(" : "CAST(");
		pl_buf_put_ident(&q, columns[i]);
		pl_buf_puts(&q, " AS VARCHAR) AS ");
		pl_buf_put_ident(&q, columns[i]);
	}
	if (with_row_id)
		pl_buf_puts(&q, ncolumns ? ", row_id" : "row_id");
	else if (ncolumns == 0)
		pl_buf_puts(&q, "NULL AS none");
	pl_buf_puts(&q, " FROM ");
	pl_buf_puts(&q, inlined); /* checked above: letters, digits and '_' */
	pl_buf_puts(&q, " WHERE begin_snapshot <= ? AND (end_snapshot IS NULL OR end_snapshot > ?) ORDER BY row_id");
	pl_val p[] = {PL_VINT(snapshot), PL_VINT(snapshot)};
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_catdb_query(db, q.ptr, p, 2, out, err);
	pl_buf_dispose(&q);
	return rc;
}

/* ducklake_inlined_delete_<digits> */
static bool is_inlined_delete_name(const char *s)
{
	static const char prefix[] = "ducklake_inlined_delete_";
	if (strncmp(s, prefix, sizeof(prefix) - 1) != 0 || !s[sizeof(prefix) - 1])
		return false;
	return strspn(s + sizeof(prefix) - 1, "0123456789") == strlen(s + sizeof(prefix) - 1);
}

static bool is_spec_table(const char *name)
{
	for (size_t i = 0; i < pl_catalog_spec_count(); i++) {
		char *n = NULL;
		pl_strv a = PL_STRV_INIT, b = PL_STRV_INIT;
		pl_err ignored;
		bool same = pl_catalog_spec_table(i, &n, &a, &b, &ignored) == 0 && strcmp(n, name) == 0;
		free(n);
		pl_strv_dispose(&a);
		pl_strv_dispose(&b);
		if (same)
			return true;
	}
	return false;
}

int pl_catalog_table_rows(pl_catdb *db, const char *table, pl_rows **out, pl_err *err)
{
	if (!table || !(is_spec_table(table) || is_inlined_table_name(table) || is_inlined_delete_name(table)))
		return pl_err_set(err, PL_EINVALID, "\"%s\" is not a table of a DuckLake catalog", table ? table : "NULL");
	pl_buf q = PL_BUF_INIT;
	pl_buf_puts(&q, "SELECT * FROM ");
	pl_buf_puts(&q, table); /* checked above: letters, digits and '_' */
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_catdb_query(db, q.ptr, NULL, 0, out, err);
	pl_buf_dispose(&q);
	return rc;
}

int pl_catalog_extra_tables(pl_catdb *db, pl_strv *out, pl_err *err)
{
	pl_rows *r = NULL;
	int rc = pl_catdb_query(db, "SELECT DISTINCT table_name FROM ducklake_inlined_data_tables ORDER BY 1", NULL, 0, &r,
				err);
	for (size_t i = 0; rc == 0 && i < r->nrows; i++) {
		const char *n = pl_rows_get(r, i, 0);
		if (n && is_inlined_table_name(n) && pl_strv_push(out, n))
			rc = pl_err_nomem(err);
	}
	pl_rows_free(r);
	return rc;
}

int pl_catalog_data_file_history(pl_catdb *db, int64_t table_id, pl_rows **out, pl_err *err)
{
	pl_val p = PL_VINT(table_id);
	return pl_catdb_query(db, "SELECT data_file_id, begin_snapshot, end_snapshot, row_id_start, path, "
				  "path_is_relative, mapping_id FROM ducklake_data_file WHERE table_id = ? ORDER BY data_file_id",
			      &p, 1, out, err);
}

int pl_catalog_delete_file_history(pl_catdb *db, int64_t table_id, pl_rows **out, pl_err *err)
{
	pl_val p = PL_VINT(table_id);
	return pl_catdb_query(db, "SELECT delete_file_id, data_file_id, begin_snapshot, end_snapshot, partial_max, path, "
				  "path_is_relative, format FROM ducklake_delete_file WHERE table_id = ? ORDER BY delete_file_id",
			      &p, 1, out, err);
}

int pl_catalog_file_column_stats(pl_catdb *db, int64_t table_id, int64_t column_id, int64_t from_id, pl_rows **out,
				 pl_err *err)
{
	pl_val p[] = {PL_VINT(table_id), PL_VINT(column_id), PL_VINT(from_id)};
	return pl_catdb_query(db,
			      "SELECT data_file_id, min_value, max_value, contains_nan "
			      "FROM ducklake_file_column_stats WHERE table_id = ? AND column_id = ? AND data_file_id >= ? "
			      "ORDER BY data_file_id",
			      p, 3, out, err);
}
