/*
 * scan.c -- building the view text that reads a lake table at a snapshot (see scan.h).
 *
 * The table's live data files fall into up to two groups, each read by one read_parquet():
 * files written with the current columns are read by name (casts to the column types are
 * no-ops where Parquet keeps the type, so DuckDB still answers from Parquet statistics and
 * scans in parallel); older files go through field ids. When a group has files with deleted
 * rows, its rows are filtered by __planar_deleted(file_index, file_row_number, map): one scan of
 * all files, each file's bitset looked up once per run of rows from that file. Inlined rows are
 * unioned in last.
 */
#include "table/scan.h"

#include <stdlib.h>
#include <string.h>

typedef struct file_group {
	bool current;     /* written with the table's current columns */
	bool has_deletes; /* unused: groups are column layouts */
} file_group;

/* A file committed after the table's columns last changed was written with them. One committed
 * in the same snapshot may predate the change (a transaction that inserts, then alters), so it
 * is read through its field ids, which is right either way. */
static bool in_layout(const pl_table *t, const pl_data_file *f, file_group g)
{
	return (f->begin_snapshot > t->schema_since) == g.current;
}

/* The two column layouts: files written with the current columns, older files. */
static const file_group layouts[] = {{true, false}, {false, false}};

static size_t count_files(const pl_table *t, file_group g,
			  bool (*member)(const pl_table *, const pl_data_file *, file_group))
{
	size_t n = 0;
	for (size_t i = 0; i < t->nfiles; i++)
		n += member(t, &t->files[i], g);
	return n;
}

/* Paths travel to read_parquet as one string split at the unit separator (0x1f): DuckDB binds
 * that several times faster than a list of as many literals, which matters with thousands of
 * files. A path holding the separator itself falls back to the list form. */
#define PATH_SEPARATOR '\x1f'

static bool in_all(const pl_table *t, const pl_data_file *f, file_group g)
{
	(void)t, (void)f, (void)g;
	return true;
}

static void put_path_list(pl_buf *out, const pl_table *t, file_group g,
			  bool (*member)(const pl_table *, const pl_data_file *, file_group))
{
	bool split = true;
	for (size_t i = 0; split && i < t->nfiles; i++)
		split = !member(t, &t->files[i], g) || strchr(t->files[i].path, PATH_SEPARATOR) == NULL;
	bool first = true;
	pl_buf_puts(out, split ? "string_split('" : "[");
	for (size_t i = 0; i < t->nfiles; i++) {
		if (!member(t, &t->files[i], g))
			continue;
		if (!split) {
			pl_buf_puts(out, first ? "" : ", ");
			pl_buf_put_literal(out, t->files[i].path);
		} else {
			if (!first)
				pl_buf_putc(out, PATH_SEPARATOR);
			for (const char *p = t->files[i].path, *q; *p; p = q) {
				q = strchr(p, '\'');
				if (!q) {
					pl_buf_puts(out, p);
					break;
				}
				pl_buf_put(out, p, (size_t)(q - p) + 1);
				pl_buf_putc(out, '\''); /* a quote is doubled */
				q++;
			}
		}
		first = false;
	}
	pl_buf_puts(out, split ? "', chr(31))" : "]");
}


/* Value for files written before the column existed; read_parquet casts the text to the type. */
static void put_default(pl_buf *out, const pl_column *c)
{
	const char *def = c->initial_default;
	if (!def || strcmp(def, "NULL") == 0)
		pl_buf_puts(out, "CAST(NULL AS VARCHAR)");
	else
		pl_buf_put_literal(out, def);
}

int pl_scan_column_type(pl_buf *type, const pl_column *c, pl_err *err)
{
	int rc = pl_column_duckdb_type(type, c, err);
	if (rc == 0 && pl_buf_oom(type))
		rc = pl_err_nomem(err);
	if (rc)
		pl_buf_dispose(type);
	return rc;
}

/* schema = MAP {id: {name, type, default_value}, ...} */
static int put_schema_map(pl_buf *out, const pl_table *t, pl_err *err)
{
	pl_buf_puts(out, ", schema = MAP {");
	for (size_t i = 0; i < t->ntop; i++) {
		const pl_column *c = t->top[i];
		pl_buf type = PL_BUF_INIT;
		int rc = pl_scan_column_type(&type, c, err);
		if (rc)
			return rc;
		pl_buf_printf(out, "%s%lld: {name: ", i ? ", " : "", (long long)c->id);
		pl_buf_put_literal(out, c->name);
		pl_buf_puts(out, ", type: ");
		pl_buf_put_literal(out, type.ptr);
		pl_buf_puts(out, ", default_value: ");
		put_default(out, c);
		pl_buf_putc(out, '}');
		pl_buf_dispose(&type);
	}
	pl_buf_putc(out, '}');
	return 0;
}

/* SELECT list: current-column files cast by name, mapped files are already typed. */
static int put_projection(pl_buf *out, const pl_table *t, file_group g, pl_err *err)
{
	for (size_t i = 0; i < t->ntop; i++) {
		const pl_column *c = t->top[i];
		if (i)
			pl_buf_puts(out, ", ");
		if (!g.current) {
			pl_buf_puts(out, "d.");
			pl_buf_put_ident(out, c->name);
			continue;
		}
		pl_buf type = PL_BUF_INIT;
		int rc = pl_scan_column_type(&type, c, err);
		if (rc)
			return rc;
		pl_buf_puts(out, "CAST(d.");
		pl_buf_put_ident(out, c->name);
		pl_buf_printf(out, " AS %s) AS ", type.ptr);
		pl_buf_put_ident(out, c->name);
		pl_buf_dispose(&type);
	}
	return 0;
}

void pl_scan_put_file_deletes(pl_buf *out, const pl_model *m, const pl_data_file *f)
{
	if (strcmp(f->delete_format, "puffin") == 0) {
		pl_buf_puts(out, "SELECT pos FROM __planar_dv(");
		pl_buf_put_literal(out, f->delete_path);
		pl_buf_putc(out, ')');
		return;
	}
	pl_buf_puts(out, "SELECT pos FROM read_parquet(");
	pl_buf_put_literal(out, f->delete_path);
	pl_buf_putc(out, ')');
	/* A delete file rewritten across snapshots tags each position with its snapshot. */
	if (f->delete_partial_max >= 0 && f->delete_partial_max > m->snapshot_id)
		pl_buf_printf(out, " WHERE _ducklake_internal_snapshot_id <= %lld", (long long)m->snapshot_id);
}

/* SELECT <k> AS i, pos FROM (<its deletes>) UNION ALL ...: deleted positions by file_index. */
static void put_deleted_by_index(pl_buf *out, const pl_model *m, const pl_table *t, file_group g,
				 bool (*member)(const pl_table *, const pl_data_file *, file_group))
{
	bool first = true;
	size_t k = 0;
	for (size_t i = 0; i < t->nfiles; i++) {
		const pl_data_file *f = &t->files[i];
		if (!member(t, f, g))
			continue;
		if (f->delete_path) {
			pl_buf_puts(out, first ? "SELECT " : " UNION ALL SELECT ");
			first = false;
			pl_buf_printf(out, "CAST(%zu AS UBIGINT) AS i, pos FROM (", k);
			pl_scan_put_file_deletes(out, m, f);
			pl_buf_putc(out, ')');
		}
		k++;
	}
}

/* All files of one column layout in one read_parquet(), so DuckDB reads them in parallel;
 * deleted rows are dropped by __planar_deleted(file_index, file_row_number, map) (or, without
 * a map, by an anti-join on the delete files). */
static int put_layout_scan(pl_buf *out, const pl_model *m, const pl_table *t, file_group g, int64_t map,
			   pl_err *err)
{
	pl_buf_puts(out, "SELECT ");
	int rc = put_projection(out, t, g, err);
	if (rc)
		return rc;
	pl_buf_puts(out, " FROM read_parquet(");
	put_path_list(out, t, g, in_layout);
	if (!g.current && (rc = put_schema_map(out, t, err)) != 0)
		return rc;
	pl_buf_puts(out, ", hive_partitioning = false) AS d");
	bool deletes = false;
	for (size_t i = 0; !deletes && i < t->nfiles; i++)
		deletes = t->files[i].delete_path && in_layout(t, &t->files[i], g);
	if (!deletes)
		return 0;
	if (map >= 0) {
		pl_buf_printf(out, " WHERE NOT __planar_deleted(d.file_index, d.file_row_number, %lld)", (long long)map);
		return 0;
	}
	pl_buf_puts(out, " ANTI JOIN (");
	put_deleted_by_index(out, m, t, g, in_layout);
	pl_buf_puts(out, ") AS x ON d.file_index = x.i AND d.file_row_number = x.pos");
	return 0;
}

bool pl_scan_has_deletes(const pl_table *t)
{
	for (size_t i = 0; i < t->nfiles; i++)
		if (t->files[i].delete_path)
			return true;
	return false;
}

static int put_typed_columns(pl_buf *out, const pl_table *t, bool from_text, pl_err *err)
{
	for (size_t i = 0; i < t->ntop; i++) {
		const pl_column *c = t->top[i];
		pl_buf type = PL_BUF_INIT;
		int rc = pl_scan_column_type(&type, c, err);
		if (rc)
			return rc;
		if (i)
			pl_buf_puts(out, ", ");
		pl_buf_puts(out, "CAST(");
		if (from_text)
			pl_buf_put_ident(out, c->name);
		else
			pl_buf_puts(out, "NULL");
		pl_buf_printf(out, " AS %s) AS ", type.ptr);
		pl_buf_put_ident(out, c->name);
		pl_buf_dispose(&type);
	}
	return 0;
}

void pl_scan_inlined_column(pl_buf *out, const pl_column *c)
{
	pl_buf_puts(out, c->name);
	pl_buf_printf(out, "\x1e%lld\x1e%s", (long long)c->id, c->type);
	if (c->initial_default) {
		pl_buf_putc(out, '\x1e');
		pl_buf_puts(out, c->initial_default);
	}
}

/* __planar_inlined(lake, inlined table, snapshot, columns, with_row_id): the live rows of one
 * inlined-data table, as text, ordered by row id. */
static void put_inlined_call(pl_buf *out, const char *lake, const pl_model *m, const pl_table *t,
			     const pl_inlined_table *it, bool with_row_id, bool at_bind)
{
	pl_buf cols = PL_BUF_INIT;
	for (size_t i = 0; i < t->ntop; i++) {
		if (i)
			pl_buf_putc(&cols, '\x1f');
		pl_scan_inlined_column(&cols, t->top[i]);
	}
	pl_buf_puts(out, "__planar_inlined(");
	pl_buf_put_literal(out, lake);
	pl_buf_puts(out, ", ");
	pl_buf_put_literal(out, it->name);
	/* -1: the snapshot the binding session sees (a view's text then stays the same across commits) */
	pl_buf_printf(out, ", '%lld', ", at_bind ? -1LL : (long long)m->snapshot_id);
	pl_buf_put_literal(out, pl_buf_cstr(&cols));
	pl_buf_puts(out, with_row_id ? ", '1')" : ", '0')");
	if (pl_buf_oom(&cols))
		out->oom = true; /* the caller checks out */
	pl_buf_dispose(&cols);
}

/* Inlined rows of one inlined-data table, read as text from the catalog and cast back. */
static int put_inlined(pl_buf *out, const char *lake, const pl_model *m, const pl_table *t,
		       const pl_inlined_table *it, bool at_bind, pl_err *err)
{
	pl_buf_puts(out, "SELECT ");
	int rc = put_typed_columns(out, t, true, err);
	pl_buf_puts(out, " FROM ");
	put_inlined_call(out, lake, m, t, it, false, at_bind);
	return rc;
}

/* The end of a table's scan after `parts` file scans: its inlined rows, or an empty typed SELECT
 * when there is nothing at all. */
static int finish_scan(pl_buf *out, const char *lake, const pl_model *m, const pl_table *t, size_t parts,
		       bool at_bind, pl_err *err)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < t->ninlined; i++) {
		if (parts++)
			pl_buf_puts(out, " UNION ALL ");
		rc = put_inlined(out, lake, m, t, &t->inlined[i], at_bind, err);
	}
	if (rc == 0 && parts == 0) {
		pl_buf_puts(out, "SELECT ");
		rc = put_typed_columns(out, t, false, err);
		pl_buf_puts(out, " WHERE false");
	}
	if (rc == 0 && pl_buf_oom(out))
		rc = pl_err_nomem(err);
	return rc;
}

int pl_scan_sql(pl_buf *out, const char *lake, const pl_model *m, const pl_table *t, const int64_t *delete_maps,
		pl_err *err)
{
	int rc = 0;
	size_t parts = 0;
	for (size_t g = 0; rc == 0 && g < 2; g++) {
		if (count_files(t, layouts[g], in_layout) == 0)
			continue;
		if (parts++)
			pl_buf_puts(out, " UNION ALL ");
		rc = put_layout_scan(out, m, t, layouts[g], delete_maps ? delete_maps[g] : -1, err);
	}
	return rc ? rc : finish_scan(out, lake, m, t, parts, false, err);
}

/* ---- scans with row positions (DELETE, UPDATE, change feeds) ------------------------------- */

#define PL_ROW_ID_FIELD 2147483540LL

/* The row-id start of each file, by file_index: a list indexed in the scan. */
static void put_row_id_starts(pl_buf *out, const pl_table *t)
{
	pl_buf_puts(out, "CAST([");
	for (size_t i = 0; i < t->nfiles; i++)
		pl_buf_printf(out, "%s%lld", i ? "," : "", (long long)t->files[i].row_id_start);
	pl_buf_puts(out, "] AS BIGINT[])[CAST(d.file_index AS BIGINT) + 1]");
}

/* All files in one read_parquet() through field ids; only the columns a statement uses are read
 * (DuckDB drops the others from the scan). Deleted rows are filtered by their map when given,
 * else anti-joined with the delete files. */
static int put_positions_files(pl_buf *out, const pl_model *m, const pl_table *t, int64_t map, pl_err *err)
{
	pl_buf_puts(out, "SELECT ");
	for (size_t i = 0; i < t->ntop; i++) {
		pl_buf_puts(out, "d.");
		pl_buf_put_ident(out, t->top[i]->name);
		pl_buf_puts(out, ", ");
	}
	/* the file by its index in t->files: a number, cheap on every row */
	pl_buf_puts(out, "CAST(d.file_index AS BIGINT) AS __planar_file, "
			 "d.file_row_number AS __planar_pos, coalesce(d._ducklake_internal_row_id, ");
	put_row_id_starts(out, t);
	pl_buf_puts(out, " + d.file_row_number) AS __planar_rowid FROM read_parquet(");
	put_path_list(out, t, (file_group){false, false}, in_all);
	int rc = put_schema_map(out, t, err);
	if (rc)
		return rc;
	/* the row-id column of files written by UPDATE, NULL in the others */
	pl_buf_truncate(out, out->len - 1);
	pl_buf_printf(out, ", %lld: {name: '_ducklake_internal_row_id', type: 'BIGINT', default_value: "
			   "CAST(NULL AS VARCHAR)}}",
		      PL_ROW_ID_FIELD);
	pl_buf_puts(out, ", hive_partitioning = false) AS d");
	if (!pl_scan_has_deletes(t))
		return 0;
	if (map >= 0) {
		pl_buf_printf(out, " WHERE NOT __planar_deleted(d.file_index, d.file_row_number, %lld)", (long long)map);
		return 0;
	}
	pl_buf_puts(out, " ANTI JOIN (");
	put_deleted_by_index(out, m, t, (file_group){false, false}, in_all);
	pl_buf_puts(out, ") AS x ON d.file_index = x.i AND d.file_row_number = x.pos");
	return 0;
}

static int put_positions_inlined(pl_buf *out, const char *lake, const pl_model *m, const pl_table *t,
				 const pl_inlined_table *it, pl_err *err)
{
	pl_buf_puts(out, "SELECT ");
	int rc = put_typed_columns(out, t, true, err);
	pl_buf_printf(out, ", CAST(%lld AS BIGINT) AS __planar_file, CAST(row_id AS BIGINT) AS __planar_pos, "
			   "CAST(row_id AS BIGINT) AS __planar_rowid FROM ",
		      -(long long)(it - t->inlined) - 1);
	put_inlined_call(out, lake, m, t, it, true, false);
	return rc;
}

static int prepare_map(pl_delcache *c, duckdb_connection con, const pl_model *m, const pl_table *t,
		       bool (*member)(const pl_table *, const pl_data_file *, file_group), file_group g, int64_t *map,
		       pl_err *err)
{
	*map = -1;
	const pl_delset **sets = malloc((t->nfiles ? t->nfiles : 1) * sizeof(*sets));
	if (!sets)
		return pl_err_nomem(err);
	int rc = 0;
	size_t n = 0;
	bool any = false;
	for (size_t i = 0; rc == 0 && i < t->nfiles; i++) {
		const pl_data_file *f = &t->files[i];
		if (!member(t, f, g))
			continue;
		sets[n] = NULL;
		if (f->delete_path) {
			rc = pl_delcache_load(c, con, m, f, &sets[n], err);
			any = true;
		}
		n++;
	}
	if (rc == 0 && any)
		rc = pl_delcache_map(c, sets, n, map, err);
	free(sets);
	return rc;
}

int pl_scan_positions_sql(pl_buf *out, const char *lake, const pl_model *m, const pl_table *t, pl_delcache *c,
			  duckdb_connection con, pl_err *err)
{
	int rc = 0;
	size_t parts = 0;
	int64_t map = -1;
	if (t->nfiles > 0 && c && pl_scan_has_deletes(t))
		rc = prepare_map(c, con, m, t, in_all, (file_group){false, false}, &map, err);
	if (rc == 0 && t->nfiles > 0) {
		rc = put_positions_files(out, m, t, map, err);
		parts++;
	}
	for (size_t i = 0; rc == 0 && i < t->ninlined; i++) {
		if (parts++)
			pl_buf_puts(out, " UNION ALL ");
		rc = put_positions_inlined(out, lake, m, t, &t->inlined[i], err);
	}
	if (rc == 0 && parts == 0) {
		pl_buf_puts(out, "SELECT ");
		rc = put_typed_columns(out, t, false, err);
		pl_buf_puts(out, ", CAST(NULL AS BIGINT) AS __planar_file, CAST(NULL AS BIGINT) AS __planar_pos, "
				 "CAST(NULL AS BIGINT) AS __planar_rowid WHERE false");
	}
	if (rc == 0 && pl_buf_oom(out))
		rc = pl_err_nomem(err);
	return rc;
}

/* ---- views that resolve their files when DuckDB binds them ---------------------------------- */

size_t pl_scan_group_files(const pl_table *t, int g, const pl_data_file **out)
{
	size_t n = 0;
	for (size_t i = 0; i < t->nfiles; i++) {
		if (!in_layout(t, &t->files[i], layouts[g]))
			continue;
		if (out)
			out[n] = &t->files[i];
		n++;
	}
	return n;
}

bool pl_scan_group_has_deletes(const pl_table *t, int g)
{
	for (size_t i = 0; i < t->nfiles; i++)
		if (t->files[i].delete_path && in_layout(t, &t->files[i], layouts[g]))
			return true;
	return false;
}

int pl_scan_group_map(pl_delcache *c, duckdb_connection con, const pl_model *m, const pl_table *t, int g,
		      int64_t *map, pl_err *err)
{
	return prepare_map(c, con, m, t, in_layout, layouts[g], map, err);
}

int pl_scan_view_sql(pl_buf *out, const char *lake, const pl_model *m, const pl_table *t, pl_err *err)
{
	int rc = 0;
	size_t parts = 0;
	for (int g = 0; rc == 0 && g < 2; g++) {
		if (pl_scan_group_files(t, g, NULL) == 0)
			continue;
		if (parts++)
			pl_buf_puts(out, " UNION ALL ");
		pl_buf_puts(out, "SELECT ");
		rc = put_projection(out, t, layouts[g], err);
		if (rc)
			break;
		pl_buf_puts(out, " FROM read_parquet(__planar_view_files(");
		pl_buf_put_literal(out, lake);
		pl_buf_printf(out, ", %lld, %d, %lld, %s)", (long long)t->id, g, (long long)t->schema_since,
			      pl_scan_group_has_deletes(t, g) ? "true" : "false");
		if (g == 1 && (rc = put_schema_map(out, t, err)) != 0)
			break;
		pl_buf_puts(out, ", hive_partitioning = false) AS d");
		if (pl_scan_group_has_deletes(t, g)) {
			pl_buf_puts(out, " WHERE NOT __planar_deleted(d.file_index, d.file_row_number, __planar_delmap(");
			pl_buf_put_literal(out, lake);
			pl_buf_printf(out, ", %lld, %d))", (long long)t->id, g);
		}
	}
	return rc ? rc : finish_scan(out, lake, m, t, parts, true, err);
}

int pl_scan_prepare_deletes(pl_delcache *c, duckdb_connection con, const pl_model *m, const pl_table *t,
			    int64_t maps[2], pl_err *err)
{
	maps[0] = maps[1] = -1;
	int rc = 0;
	for (size_t g = 0; rc == 0 && g < 2 && pl_scan_has_deletes(t); g++)
		rc = prepare_map(c, con, m, t, in_layout, layouts[g], &maps[g], err);
	return rc;
}
