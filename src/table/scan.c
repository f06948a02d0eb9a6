/*
 * scan.c -- building the view text that reads a lake table at a snapshot (see scan.h).
 *
 * The table's live data files fall into up to four groups, each read by one read_parquet():
 * files written with the current columns are read by name (casts to the column types are
 * no-ops where Parquet keeps the type, so DuckDB still answers from Parquet statistics and
 * scans in parallel); older files go through field ids. Files with deleted rows are read with
 * their positions and anti-joined with the deleted positions (Parquet delete files or deletion
 * vectors), the others are read as they are. Inlined rows are unioned in last.
 */
#include "table/scan.h"

#include <stdlib.h>
#include <string.h>

typedef struct file_group {
	bool current;     /* written with the table's current columns */
	bool has_deletes; /* has a live delete file */
} file_group;

static bool in_group(const pl_table *t, const pl_data_file *f, file_group g)
{
	return (f->begin_snapshot >= t->schema_since) == g.current && (f->delete_path != NULL) == g.has_deletes;
}

static size_t group_size(const pl_table *t, file_group g)
{
	size_t n = 0;
	for (size_t i = 0; i < t->nfiles; i++)
		n += in_group(t, &t->files[i], g);
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

static void put_file_list(pl_buf *out, const pl_table *t, file_group g)
{
	put_path_list(out, t, g, in_group);
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

/* SELECT 'data file' AS f, pos FROM (<its deletes>) UNION ALL ... for the group's files. */
static void put_deleted_positions(pl_buf *out, const pl_model *m, const pl_table *t, file_group g)
{
	bool first = true;
	for (size_t i = 0; i < t->nfiles; i++) {
		const pl_data_file *f = &t->files[i];
		if (!in_group(t, f, g))
			continue;
		pl_buf_puts(out, first ? "SELECT " : " UNION ALL SELECT ");
		first = false;
		pl_buf_put_literal(out, f->path);
		pl_buf_puts(out, " AS f, pos FROM (");
		pl_scan_put_file_deletes(out, m, f);
		pl_buf_putc(out, ')');
	}
}

static int put_group_scan(pl_buf *out, const pl_model *m, const pl_table *t, file_group g, pl_err *err)
{
	pl_buf_puts(out, "SELECT ");
	int rc = put_projection(out, t, g, err);
	if (rc)
		return rc;
	pl_buf_puts(out, " FROM read_parquet(");
	put_file_list(out, t, g);
	if (!g.current && (rc = put_schema_map(out, t, err)) != 0)
		return rc;
	if (g.has_deletes)
		pl_buf_puts(out, ", filename = '__planar_file', file_row_number = true");
	pl_buf_puts(out, ", hive_partitioning = false) AS d");
	if (g.has_deletes) {
		pl_buf_puts(out, " ANTI JOIN (");
		put_deleted_positions(out, m, t, g);
		pl_buf_puts(out, ") AS x ON d.__planar_file = x.f AND d.file_row_number = x.pos");
	}
	return 0;
}

/* One file with deletes, filtered by its in-memory bitset: no file names, no join. */
static int put_file_scan(pl_buf *out, const pl_table *t, const pl_data_file *f, int64_t set_id, pl_err *err)
{
	file_group g = {f->begin_snapshot >= t->schema_since, false};
	pl_buf_puts(out, "SELECT ");
	int rc = put_projection(out, t, g, err);
	if (rc)
		return rc;
	pl_buf_puts(out, " FROM read_parquet(");
	pl_buf_put_literal(out, f->path);
	if (!g.current && (rc = put_schema_map(out, t, err)) != 0)
		return rc;
	pl_buf_printf(out, ", file_row_number = true, hive_partitioning = false) AS d WHERE NOT "
			   "__planar_deleted(d.file_row_number, %lld)",
		      (long long)set_id);
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

/* __planar_inlined(lake, inlined table, snapshot, columns, with_row_id): the live rows of one
 * inlined-data table, as text, ordered by row id. */
static void put_inlined_call(pl_buf *out, const char *lake, const pl_model *m, const pl_table *t,
			     const pl_inlined_table *it, bool with_row_id)
{
	pl_buf cols = PL_BUF_INIT;
	for (size_t i = 0; i < t->ntop; i++) {
		if (i)
			pl_buf_putc(&cols, '\x1f');
		pl_buf_puts(&cols, t->top[i]->name);
	}
	pl_buf_puts(out, "__planar_inlined(");
	pl_buf_put_literal(out, lake);
	pl_buf_puts(out, ", ");
	pl_buf_put_literal(out, it->name);
	pl_buf_printf(out, ", '%lld', ", (long long)m->snapshot_id);
	pl_buf_put_literal(out, pl_buf_cstr(&cols));
	pl_buf_puts(out, with_row_id ? ", '1')" : ", '0')");
	if (pl_buf_oom(&cols))
		out->oom = true; /* the caller checks out */
	pl_buf_dispose(&cols);
}

/* Inlined rows of one inlined-data table, read as text from the catalog and cast back. */
static int put_inlined(pl_buf *out, const char *lake, const pl_model *m, const pl_table *t,
		       const pl_inlined_table *it, pl_err *err)
{
	pl_buf_puts(out, "SELECT ");
	int rc = put_typed_columns(out, t, true, err);
	pl_buf_puts(out, " FROM ");
	put_inlined_call(out, lake, m, t, it, false);
	return rc;
}

int pl_scan_sql(pl_buf *out, const char *lake, const pl_model *m, const pl_table *t, const int64_t *delete_sets,
		pl_err *err)
{
	static const file_group groups[] = {{true, false}, {false, false}, {true, true}, {false, true}};
	int rc = 0;
	size_t parts = 0;
	for (size_t g = 0; rc == 0 && g < sizeof(groups) / sizeof(groups[0]); g++) {
		if (group_size(t, groups[g]) == 0 || (groups[g].has_deletes && delete_sets))
			continue;
		if (parts++)
			pl_buf_puts(out, " UNION ALL ");
		rc = put_group_scan(out, m, t, groups[g], err);
	}
	for (size_t i = 0; rc == 0 && delete_sets && i < t->nfiles; i++) {
		if (!t->files[i].delete_path)
			continue;
		if (parts++)
			pl_buf_puts(out, " UNION ALL ");
		rc = put_file_scan(out, t, &t->files[i], delete_sets[i], err);
	}
	for (size_t i = 0; rc == 0 && i < t->ninlined; i++) {
		if (parts++)
			pl_buf_puts(out, " UNION ALL ");
		rc = put_inlined(out, lake, m, t, &t->inlined[i], err);
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

/* ---- scans with row positions (DELETE, UPDATE, change feeds) ------------------------------- */

#define PL_ROW_ID_FIELD 2147483540LL

static void put_row_id_starts(pl_buf *out, const pl_table *t)
{
	pl_buf_puts(out, "(VALUES ");
	for (size_t i = 0; i < t->nfiles; i++) {
		pl_buf_puts(out, i ? ", (" : "(");
		pl_buf_put_literal(out, t->files[i].path);
		pl_buf_printf(out, ", %lld::BIGINT)", (long long)t->files[i].row_id_start);
	}
	pl_buf_puts(out, ") AS fs(f, row_id_start)");
}

static int put_positions_files(pl_buf *out, const pl_model *m, const pl_table *t, pl_err *err)
{
	pl_buf_puts(out, "SELECT ");
	for (size_t i = 0; i < t->ntop; i++) {
		pl_buf_puts(out, "d.");
		pl_buf_put_ident(out, t->top[i]->name);
		pl_buf_puts(out, ", ");
	}
	pl_buf_puts(out, "d.__planar_file, d.file_row_number AS __planar_pos, "
			 "coalesce(d._ducklake_internal_row_id, fs.row_id_start + d.file_row_number) AS __planar_rowid "
			 "FROM read_parquet(");
	put_path_list(out, t, (file_group){false, false}, in_all);
	int rc = put_schema_map(out, t, err);
	if (rc)
		return rc;
	/* the row-id column of files written by UPDATE, NULL in the others */
	pl_buf_truncate(out, out->len - 1);
	pl_buf_printf(out, ", %lld: {name: '_ducklake_internal_row_id', type: 'BIGINT', default_value: "
			   "CAST(NULL AS VARCHAR)}}",
		      PL_ROW_ID_FIELD);
	pl_buf_puts(out, ", filename = '__planar_file', file_row_number = true, hive_partitioning = false) AS d JOIN ");
	put_row_id_starts(out, t);
	pl_buf_puts(out, " ON d.__planar_file = fs.f");
	file_group all_deleted[] = {{true, true}, {false, true}};
	if (group_size(t, all_deleted[0]) + group_size(t, all_deleted[1]) > 0) {
		pl_buf_puts(out, " ANTI JOIN (");
		bool any = false;
		for (int g = 0; g < 2; g++) {
			if (group_size(t, all_deleted[g]) == 0)
				continue;
			if (any)
				pl_buf_puts(out, " UNION ALL ");
			any = true;
			put_deleted_positions(out, m, t, all_deleted[g]);
		}
		pl_buf_puts(out, ") AS x ON d.__planar_file = x.f AND d.file_row_number = x.pos");
	}
	return 0;
}

static int put_positions_inlined(pl_buf *out, const char *lake, const pl_model *m, const pl_table *t,
				 const pl_inlined_table *it, pl_err *err)
{
	pl_buf_puts(out, "SELECT ");
	int rc = put_typed_columns(out, t, true, err);
	pl_buf_puts(out, ", ");
	pl_buf_put_literal(out, it->name);
	pl_buf_puts(out, " AS __planar_file, CAST(row_id AS BIGINT) AS __planar_pos, CAST(row_id AS BIGINT) AS "
			 "__planar_rowid FROM ");
	put_inlined_call(out, lake, m, t, it, true);
	return rc;
}

int pl_scan_positions_sql(pl_buf *out, const char *lake, const pl_model *m, const pl_table *t, pl_err *err)
{
	int rc = 0;
	size_t parts = 0;
	if (t->nfiles > 0) {
		rc = put_positions_files(out, m, t, err);
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
		pl_buf_puts(out, ", CAST(NULL AS VARCHAR) AS __planar_file, CAST(NULL AS BIGINT) AS __planar_pos, "
				 "CAST(NULL AS BIGINT) AS __planar_rowid WHERE false");
	}
	if (rc == 0 && pl_buf_oom(out))
		rc = pl_err_nomem(err);
	return rc;
}

int pl_scan_prepare_deletes(pl_delcache *c, duckdb_connection con, const pl_model *m, const pl_table *t,
			    int64_t **out, pl_err *err)
{
	*out = NULL;
	if (!pl_scan_has_deletes(t))
		return 0;
	int64_t *ids = malloc((t->nfiles + 1) * sizeof(*ids));
	if (!ids)
		return pl_err_nomem(err);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < t->nfiles; i++) {
		ids[i] = -1;
		if (t->files[i].delete_path)
			rc = pl_delcache_prepare(c, con, m, &t->files[i], &ids[i], err);
	}
	if (rc) {
		free(ids);
		return rc;
	}
	*out = ids;
	return 0;
}
