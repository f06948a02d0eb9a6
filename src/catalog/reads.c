/*
 * reads.c -- fixed catalog reads for SQL functions (see reads.h).
 */
#include "catalog/reads.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "catalog/init.h"
#include "catalog/inline.h"
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

/* The top-level columns (column_id, column_name) a table had when its inlined-data table of
 * schema version `version` was made (the first snapshot of that schema version): the inlined
 * table holds them under those names; columns added since are not in it. */
static int inlined_columns(pl_catdb *db, int64_t table_id, int64_t version, pl_rows **out, pl_err *err)
{
	int64_t snap = -1;
	int rc = pl_inline_version_snapshot(db, table_id, version, &snap, err);
	pl_val p[] = {PL_VINT(table_id), PL_VINT(snap < 0 ? 0 : snap), PL_VINT(snap < 0 ? 0 : snap)};
	return rc ? rc
		  : pl_catdb_query(db,
				   "SELECT column_id, column_name FROM ducklake_column WHERE table_id = ? AND parent_column "
				   "IS NULL AND begin_snapshot <= ? AND (end_snapshot IS NULL OR end_snapshot > ?)",
				   p, 3, out, err);
}

/* One requested column: "name" (read by that name), or "name\x1eid\x1etype[\x1edefault]". */
typedef struct col_spec {
	char *name, *type, *dflt;
	int64_t id; /* -1: by name */
	bool has_default;
} col_spec;

static bool parse_spec(const char *s, col_spec *c)
{
	memset(c, 0, sizeof(*c));
	c->id = -1;
	const char *f[4] = {s, NULL, NULL, NULL};
	size_t nf = 1;
	for (const char *p = s; *p && nf < 4; p++)
		if (*p == '\x1e')
			f[nf++] = p + 1;
	size_t len0 = f[1] ? (size_t)(f[1] - 1 - f[0]) : strlen(f[0]);
	c->name = pl_strndup(f[0], len0);
	if (f[1] && f[2]) {
		c->id = strtoll(f[1], NULL, 10);
		c->type = pl_strndup(f[2], f[3] ? (size_t)(f[3] - 1 - f[2]) : strlen(f[2]));
	}
	if (f[3]) {
		c->dflt = pl_strdup(f[3]);
		c->has_default = true;
	}
	return c->name && (c->id < 0 || c->type) && (!c->has_default || c->dflt);
}

static const char *old_name(const pl_rows *cols, int64_t id)
{
	for (size_t r = 0; cols && r < cols->nrows; r++)
		if (pl_rows_int(cols, r, 0, -1) == id)
			return pl_rows_get(cols, r, 1);
	return NULL;
}

/* BYTEA read as hex -> a BLOB as DuckDB reads it back ("\xHH" per byte). */
static int hex_to_blob_text(char **cell)
{
	size_t n = strlen(*cell) / 2;
	char *out = malloc(4 * n + 1);
	if (!out)
		return -1;
	for (size_t i = 0; i < n; i++) {
		out[4 * i] = '\\';
		out[4 * i + 1] = 'x';
		out[4 * i + 2] = (*cell)[2 * i];
		out[4 * i + 3] = (*cell)[2 * i + 1];
	}
	out[4 * n] = '\0';
	free(*cell);
	*cell = out;
	return 0;
}

/* SELECT <columns as text> [, row_id[, begin_snapshot, end_snapshot]] FROM <inlined> WHERE ...
 * Columns given with their ids are read under the names they had when the inlined table was
 * made; one added since reads as its initial default. On PostgreSQL, VARCHAR, JSON and BLOB
 * values are BYTEA. */
static int inlined_query(pl_catdb *db, const char *inlined, const char *where, const pl_val *p, size_t np,
			 const char *const *columns, size_t ncolumns, int extra, pl_rows **out, pl_err *err)
{
	if (!inlined || !is_inlined_table_name(inlined))
		return pl_err_set(err, PL_EINVALID, "\"%s\" is not an inlined-data table of the catalog",
				  inlined ? inlined : "NULL");
	*out = NULL;
	long long table_id = 0, version = 0;
	sscanf(inlined, "ducklake_inlined_data_%lld_%lld", &table_id, &version);
	bool pg = strcmp(db->ops->name, "postgres") == 0;
	pl_rows *have = NULL;
	col_spec *specs = calloc(ncolumns + 1, sizeof(*specs));
	bool *blob_hex = calloc(ncolumns + 1, sizeof(bool));
	int rc = !specs || !blob_hex ? pl_err_nomem(err) : 0;
	bool by_id = false;
	for (size_t i = 0; rc == 0 && i < ncolumns; i++) {
		if (!parse_spec(columns[i], &specs[i]))
			rc = pl_err_nomem(err);
		by_id = by_id || specs[i].id >= 0;
	}
	if (rc == 0 && by_id)
		rc = inlined_columns(db, table_id, version, &have, err);
	pl_buf q = PL_BUF_INIT;
	pl_buf_puts(&q, "SELECT ");
	for (size_t i = 0; rc == 0 && i < ncolumns; i++) {
		const col_spec *c = &specs[i];
		const char *real = c->id >= 0 ? old_name(have, c->id) : c->name;
		const char *type = c->type ? c->type : "";
		if (i)
			pl_buf_puts(&q, ", ");
		if (!real && c->has_default && c->dflt && strcmp(c->dflt, "NULL") != 0) {
			pl_buf_put_literal(&q, c->dflt);
		} else if (!real) {
			pl_buf_puts(&q, "CAST(NULL AS VARCHAR)");
		} else if (pg && (!strcmp(type, "varchar") || !strcmp(type, "json") || !strcmp(type, "blob"))) {
			blob_hex[i] = strcmp(type, "blob") == 0;
			pl_buf_puts(&q, blob_hex[i] ? "encode(" : "convert_from(");
			pl_buf_put_ident(&q, real);
			pl_buf_puts(&q, blob_hex[i] ? ", 'hex')" : ", 'UTF8')");
		} else {
			pl_buf_puts(&q, "CAST(");
			pl_buf_put_ident(&q, real);
			pl_buf_puts(&q, " AS VARCHAR)");
		}
		pl_buf_puts(&q, " AS ");
		pl_buf_put_ident(&q, c->name);
	}
	if (extra > 0)
		pl_buf_puts(&q, ncolumns ? ", row_id" : "row_id");
	if (extra > 1)
		pl_buf_puts(&q, ", begin_snapshot, end_snapshot");
	else if (extra == 0 && ncolumns == 0)
		pl_buf_puts(&q, "NULL AS none");
	pl_buf_puts(&q, " FROM ");
	pl_buf_puts(&q, inlined); /* checked above: letters, digits and '_' */
	pl_buf_puts(&q, where);
	if (rc == 0)
		rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_catdb_query(db, q.ptr, p, np, out, err);
	for (size_t i = 0; rc == 0 && i < ncolumns; i++)
		for (size_t r = 0; blob_hex[i] && rc == 0 && r < (*out)->nrows; r++) {
			char **cell = &(*out)->cells[r * (*out)->ncols + i];
			if (*cell && hex_to_blob_text(cell))
				rc = pl_err_nomem(err);
		}
	if (rc && *out) {
		pl_rows_free(*out);
		*out = NULL;
	}
	for (size_t i = 0; specs && i < ncolumns; i++) {
		free(specs[i].name);
		free(specs[i].type);
		free(specs[i].dflt);
	}
	free(specs);
	free(blob_hex);
	pl_buf_dispose(&q);
	pl_rows_free(have);
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

int pl_catalog_user_write(pl_catdb *db, const char *table, const char *sql, pl_err *err)
{
	if (!table || !(is_spec_table(table) || is_inlined_table_name(table) || is_inlined_delete_name(table)))
		return pl_err_set(err, PL_EINVALID, "\"%s\" is not a table of a DuckLake catalog", table ? table : "NULL");
	if (db->read_only)
		return pl_err_set(err, PL_EINVALID, "the catalog is attached read-only");
	return pl_catdb_exec(db, sql, NULL, 0, err);
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
	r = NULL;
	/* the tables of deletes kept in the catalog, one per table that has had one */
	if (rc == 0)
		rc = pl_catdb_query(db, "SELECT DISTINCT table_id FROM ducklake_table ORDER BY 1", NULL, 0, &r, err);
	for (size_t i = 0; rc == 0 && i < r->nrows; i++) {
		char name[64];
		bool exists = false;
		snprintf(name, sizeof(name), "ducklake_inlined_delete_%lld", (long long)pl_rows_int(r, i, 0, -1));
		rc = db->ops->table_exists(db, name, &exists, err);
		if (rc == 0 && exists && pl_strv_push(out, name))
			rc = pl_err_nomem(err);
	}
	pl_rows_free(r);
	return rc;
}

int pl_catalog_inlined_rows(pl_catdb *db, const char *inlined, int64_t snapshot, const char *const *columns,
			    size_t ncolumns, bool with_row_id, pl_rows **out, pl_err *err)
{
	pl_val p[] = {PL_VINT(snapshot), PL_VINT(snapshot)};
	return inlined_query(db, inlined,
			     " WHERE begin_snapshot <= ? AND (end_snapshot IS NULL OR end_snapshot > ?) ORDER BY row_id", p,
			     2, columns, ncolumns, with_row_id ? 2 : 0, out, err);
}

int pl_catalog_inlined_bounds(pl_catdb *db, const char *inlined, int64_t snapshot, const int64_t *column_ids,
			      size_t ncolumns, pl_rows **out, pl_err *err)
{
	if (!inlined || !is_inlined_table_name(inlined))
		return pl_err_set(err, PL_EINVALID, "\"%s\" is not an inlined-data table of the catalog",
				  inlined ? inlined : "NULL");
	*out = NULL;
	long long table_id = 0, version = 0;
	sscanf(inlined, "ducklake_inlined_data_%lld_%lld", &table_id, &version);
	pl_rows *have = NULL;
	int rc = ncolumns ? inlined_columns(db, table_id, version, &have, err) : 0;
	size_t np = 0;
	pl_val *p = rc == 0 ? calloc(3 + 2 * ncolumns, sizeof(*p)) : NULL;
	if (rc == 0 && !p)
		rc = pl_err_nomem(err);
	static const char live[] = "CASE WHEN end_snapshot IS NULL OR end_snapshot > ? THEN ";
	pl_buf q = PL_BUF_INIT;
	pl_buf_printf(&q, "SELECT COUNT(%s1 END), COUNT(CASE WHEN end_snapshot <= ? THEN 1 END)", live);
	if (p) {
		p[np++] = PL_VINT(snapshot);
		p[np++] = PL_VINT(snapshot);
	}
	for (size_t i = 0; rc == 0 && i < ncolumns; i++) {
		const char *real = old_name(have, column_ids[i]);
		if (!real) {
			pl_buf_puts(&q, ", NULL, NULL, 0");
			continue;
		}
		for (int k = 0; k < 2; k++) {
			pl_buf_puts(&q, k ? ", CAST(MAX(" : ", CAST(MIN(");
			pl_buf_puts(&q, live);
			pl_buf_puts(&q, "CAST(");
			pl_buf_put_ident(&q, real);
			pl_buf_puts(&q, " AS BIGINT) END) AS VARCHAR)");
			p[np++] = PL_VINT(snapshot);
		}
		pl_buf_puts(&q, ", 1");
	}
	pl_buf_puts(&q, " FROM ");
	pl_buf_puts(&q, inlined); /* checked above: letters, digits and '_' */
	pl_buf_puts(&q, " WHERE begin_snapshot <= ?");
	if (p)
		p[np++] = PL_VINT(snapshot);
	if (rc == 0)
		rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_catdb_query(db, q.ptr, p, np, out, err);
	if (rc == 0 && (*out)->nrows != 1)
		rc = pl_err_set(err, PL_ERROR, "reading the bounds of %s gave no row", inlined);
	if (rc && *out) {
		pl_rows_free(*out);
		*out = NULL;
	}
	pl_buf_dispose(&q);
	free(p);
	pl_rows_free(have);
	return rc;
}

int pl_catalog_inlined_history(pl_catdb *db, const char *inlined, int64_t upto, const char *const *columns,
			       size_t ncolumns, pl_rows **out, pl_err *err)
{
	pl_val p = PL_VINT(upto);
	return inlined_query(db, inlined, " WHERE begin_snapshot <= ? ORDER BY row_id", &p, 1, columns, ncolumns, 2, out,
			     err);
}

int pl_catalog_data_file_history(pl_catdb *db, int64_t table_id, pl_rows **out, pl_err *err)
{
	pl_val p = PL_VINT(table_id);
	return pl_catdb_query(db, "SELECT data_file_id, begin_snapshot, end_snapshot, row_id_start, path, "
				  "path_is_relative, mapping_id, partial_max FROM ducklake_data_file WHERE table_id = ? ORDER BY "
				  "data_file_id",
			      &p, 1, out, err);
}

int pl_catalog_delete_file_history(pl_catdb *db, int64_t table_id, pl_rows **out, pl_err *err)
{
	pl_val p = PL_VINT(table_id);
	return pl_catdb_query(db, "SELECT delete_file_id, data_file_id, begin_snapshot, end_snapshot, partial_max, path, "
				  "path_is_relative, format FROM ducklake_delete_file WHERE table_id = ? ORDER BY delete_file_id",
			      &p, 1, out, err);
}

int pl_catalog_file_partition_values(pl_catdb *db, int64_t table_id, int64_t key_index, int64_t from_id,
				     pl_rows **out, pl_err *err)
{
	pl_val p[] = {PL_VINT(table_id), PL_VINT(key_index), PL_VINT(from_id)};
	return pl_catdb_query(db,
			      "SELECT data_file_id, partition_value FROM ducklake_file_partition_value "
			      "WHERE table_id = ? AND partition_key_index = ? AND data_file_id >= ? ORDER BY data_file_id",
			      p, 3, out, err);
}

int pl_catalog_file_column_stats(pl_catdb *db, int64_t table_id, int64_t column_id, int64_t from_id, pl_rows **out,
				 pl_err *err)
{
	pl_val p[] = {PL_VINT(table_id), PL_VINT(column_id), PL_VINT(from_id)};
	return pl_catdb_query(db,
			      "SELECT data_file_id, min_value, max_value, contains_nan, value_count, null_count "
			      "FROM ducklake_file_column_stats WHERE table_id = ? AND column_id = ? AND data_file_id >= ? "
			      "ORDER BY data_file_id",
			      p, 3, out, err);
}
