/*
 * scan.c -- building the view text that reads a lake table at a snapshot (see scan.h).
 *
 * The table's live data files fall into up to two groups, each read by one read_parquet():
 * files written with the current columns are read by name (casts to the column types are
 * no-ops where Parquet keeps the type, so DuckDB still answers from Parquet statistics and
 * scans in parallel); older files go through field ids. When a group has files with deleted
 * rows, its rows are filtered by __planar_kept(file_index, file_row_number, map): one scan of
 * all files, each file's bitset looked up once per run of rows from that file. Inlined rows are
 * unioned in last.
 */
#include "table/scan.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/namemap.h"
#include "table/emptyfile.h"
#include "table/scan_internal.h"

/* The column a registered file's path is read into when its name map takes values from the path. */
#define HIVE_PATH_COLUMN "__planar_hive_path"


/* A file committed after the table's columns last changed was written with them. One committed
 * in the same snapshot may predate the change (a transaction that inserts, then alters), so it
 * is read through its field ids, which is right either way. Registered files (with a name map)
 * form one group per map. */
/* The name map a file is read through, -1 for files the lake wrote. */
static int64_t mapping_of(const pl_data_file *f)
{
	return f->mapped ? f->mapping_id : -1;
}

bool pl_scan_in_layout(const pl_table *t, const pl_data_file *f, file_group g)
{
	if (mapping_of(f) >= 0 || g.mapping >= 0)
		return mapping_of(f) == g.mapping;
	return (f->begin_snapshot > t->schema_since) == g.current;
}

/* The two column pl_scan_layouts: files written with the current columns, older files. */
const file_group pl_scan_layouts[2] = {{true, false, -1}, {false, false, -1}};

/* The smallest name map id above `after` among t's files; -1 when none. */
static int64_t next_mapping(const pl_table *t, int64_t after)
{
	int64_t best = -1;
	for (size_t i = 0; i < t->nfiles; i++) {
		int64_t id = mapping_of(&t->files[i]);
		if (id > after && (best < 0 || id < best))
			best = id;
	}
	return best;
}

/* The name map of rank k among t's files' maps (in id order); -1 when there are fewer. */
static int64_t mapping_at(const pl_table *t, int k)
{
	int64_t id = next_mapping(t, -1);
	while (id >= 0 && k-- > 0)
		id = next_mapping(t, id);
	return id;
}

/* Group g: 0 and 1 the pl_scan_layouts, 2 + k the files of t's name map of rank k (ids of maps
 * created in a transaction are too large for a group number). */
file_group pl_scan_group_of(const pl_table *t, int g)
{
	if (g < 2)
		return pl_scan_layouts[g < 0 ? 0 : g];
	int64_t id = mapping_at(t, g - 2);
	return (file_group){false, false, id < 0 ? INT64_MAX : id};
}

/* The group after g: the two pl_scan_layouts, then one per name map. -1 after the last. */
int pl_scan_next_group(const pl_table *t, int g)
{
	if (g == 0)
		return 1;
	return mapping_at(t, g - 1) < 0 ? -1 : g + 1;
}

static bool in_unmapped(const pl_table *t, const pl_data_file *f, file_group g)
{
	(void)t, (void)g;
	return mapping_of(f) < 0;
}

static size_t count_files(const pl_table *t, file_group g,
			  bool (*member)(const pl_table *, const pl_data_file *, file_group))
{
	size_t n = 0;
	for (size_t i = 0; i < t->nfiles; i++)
		n += member(t, &t->files[i], g);
	return n;
}

/* The lone file of the files of group g that member admits, when it holds more than one row
 * group's rows: a list worth an empty companion (table/emptyfile.h); else NULL. */
static const pl_data_file *lone_big_file(const pl_table *t, file_group g,
					 bool (*member)(const pl_table *, const pl_data_file *, file_group))
{
	const pl_data_file *only = NULL;
	size_t n = 0;
	for (size_t i = 0; i < t->nfiles; i++)
		if (member(t, &t->files[i], g) && n++ == 0)
			only = &t->files[i];
	return n == 1 && only->record_count > PL_EMPTY_COMPANION_MIN_ROWS ? only : NULL;
}

void pl_scan_companion(pl_empty_files *e, const pl_model *m, const pl_table *t, char **out)
{
	*out = NULL;
	pl_err ignored = {0};
	if (!e || pl_model_table_files(m, t, NULL, NULL, &ignored) != 0)
		return;
	/* the lists read through field ids: the older layout group, and every unmapped file (the
	 * positions scan) */
	if (lone_big_file(t, pl_scan_layouts[1], pl_scan_in_layout) || lone_big_file(t, pl_scan_layouts[1], in_unmapped))
		pl_empty_companion(e, t, out);
}

void pl_scan_view_companion(pl_empty_files *e, const pl_model *m, const pl_table *t, int g, char **out)
{
	*out = NULL;
	pl_err ignored = {0};
	if (!e || g == 0 || pl_model_table_files(m, t, NULL, NULL, &ignored) != 0)
		return;
	const pl_data_file *only = lone_big_file(t, pl_scan_group_of(t, g), pl_scan_in_layout);
	if (only && g == 1)
		pl_empty_companion(e, t, out);
	else if (only)
		pl_empty_twin(e, only->path, out);
}

/* Paths travel to read_parquet as one string split at the unit separator (0x1f): DuckDB binds
 * that several times faster than a list of as many literals, which matters with thousands of
 * files. A path holding the separator itself falls back to the list form. */
#define PATH_SEPARATOR '\x1f'

/* With companion (an empty file of the table's columns and field ids, table/emptyfile.h), a list
 * of one file (of more than one row group's rows) gets it as a second file, so that DuckDB reads
 * the one file on every thread. */
static void put_path_list(pl_buf *out, const pl_table *t, file_group g,
			  bool (*member)(const pl_table *, const pl_data_file *, file_group), const char *companion)
{
	const pl_data_file *only = companion ? lone_big_file(t, g, member) : NULL;
	if (only) {
		pl_buf_putc(out, '[');
		pl_buf_put_literal(out, only->path);
		pl_buf_puts(out, ", ");
		pl_buf_put_literal(out, companion);
		pl_buf_putc(out, ']');
		return;
	}
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

/* {name: 'c', type: 'T', default_value: d}: how read_parquet()'s schema map reads column c. */
static int put_map_entry(pl_buf *out, const pl_column *c, pl_err *err)
{
	pl_buf type = PL_BUF_INIT;
	int rc = pl_scan_column_type(&type, c, err);
	if (rc)
		return rc;
	pl_buf_puts(out, "{name: ");
	pl_buf_put_literal(out, c->name);
	pl_buf_puts(out, ", type: ");
	pl_buf_put_literal(out, type.ptr);
	pl_buf_puts(out, ", default_value: ");
	put_default(out, c);
	pl_buf_putc(out, '}');
	pl_buf_dispose(&type);
	return 0;
}

/* schema = MAP {id: {name, type, default_value}, ...} */
static int put_schema_map(pl_buf *out, const pl_table *t, pl_err *err)
{
	pl_buf_puts(out, ", schema = MAP {");
	for (size_t i = 0; i < t->ntop; i++) {
		pl_buf_printf(out, "%s%lld: ", i ? ", " : "", (long long)t->top[i]->id);
		int rc = put_map_entry(out, t->top[i], err);
		if (rc)
			return rc;
	}
	pl_buf_putc(out, '}');
	return 0;
}

/* schema = MAP {'source name': {name, type, default_value}, ...}: the columns of files read
 * through name map g.mapping; a column the file lacks gets a key no file column has, so it
 * reads as its default. */
static int put_name_schema_map(pl_buf *out, const pl_model *m, const pl_table *t, file_group g, pl_err *err)
{
	return pl_scan_put_name_map(out, m, t, g.mapping, err);
}

int pl_scan_put_name_map(pl_buf *out, const pl_model *m, const pl_table *t, int64_t mapping, pl_err *err)
{
	const pl_namemap *map = pl_namemaps_find(m->namemaps, mapping);
	if (!map)
		return pl_err_set(err, PL_ERROR, "name map %lld of table \"%s\" is missing from the catalog",
				  (long long)mapping, t->name);
	pl_buf_puts(out, ", schema = MAP {");
	for (size_t i = 0; i < t->ntop; i++) {
		const pl_column *c = t->top[i];
		const char *source = NULL;
		for (size_t k = 0; !source && k < map->ncols; k++)
			if (map->cols[k].parent < 0 && map->cols[k].target == c->id && !map->cols[k].partition)
				source = map->cols[k].source;
		pl_buf_puts(out, i ? ", " : "");
		if (source)
			pl_buf_put_literal(out, source);
		else
			pl_buf_printf(out, "'\x1f__planar_missing_%lld'", (long long)c->id);
		pl_buf_puts(out, ": ");
		int rc = put_map_entry(out, c, err);
		if (rc)
			return rc;
	}
	pl_buf_putc(out, '}');
	bool hive = false;
	for (size_t k = 0; k < map->ncols; k++)
		hive = hive || map->cols[k].partition;
	if (hive)
		pl_buf_puts(out, ", filename = '" HIVE_PATH_COLUMN "'");
	return 0;
}

/* The schema parameter of a group's read_parquet(): none for current files. */
int pl_scan_put_group_schema(pl_buf *out, const pl_model *m, const pl_table *t, file_group g, pl_err *err)
{
	if (g.mapping >= 0)
		return put_name_schema_map(out, m, t, g, err);
	return g.current ? 0 : put_schema_map(out, t, err);
}

/* SELECT list: current-column files cast by name, mapped files are already typed. */
/* The hive-path entry of name map `mapping` for column c, or NULL. */
static const pl_namemap_col *hive_entry(const pl_model *m, int64_t mapping, const pl_column *c)
{
	const pl_namemap *map = mapping >= 0 ? pl_namemaps_find(m->namemaps, mapping) : NULL;
	for (size_t k = 0; map && k < map->ncols; k++)
		if (map->cols[k].parent < 0 && map->cols[k].target == c->id && map->cols[k].partition)
			return &map->cols[k];
	return NULL;
}

/* A column of a registered file whose value is its directory's key=value: the value, cast. */
static int put_hive_column(pl_buf *out, const pl_column *c, const char *key, pl_err *err)
{
	pl_buf type = PL_BUF_INIT, pattern = PL_BUF_INIT;
	int rc = pl_scan_column_type(&type, c, err);
	if (rc)
		return rc;
	pl_buf_puts(&pattern, "(?i)[/\\\\]");
	for (const char *p = key; *p; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
		      (unsigned char)*p >= 0x80))
			pl_buf_putc(&pattern, '\\');
		pl_buf_putc(&pattern, *p);
	}
	pl_buf_puts(&pattern, "=([^/\\\\]*)[/\\\\]");
	pl_buf_puts(out, "CAST(nullif(nullif(url_decode(regexp_extract(d." HIVE_PATH_COLUMN ", ");
	pl_buf_put_literal(out, pl_buf_cstr(&pattern));
	pl_buf_printf(out, ", 1)), 'NULL'), '__HIVE_DEFAULT_PARTITION__') AS %s) AS ", type.ptr);
	pl_buf_put_ident(out, c->name);
	pl_buf_dispose(&type);
	pl_buf_dispose(&pattern);
	return 0;
}

int pl_scan_put_projection(pl_buf *out, const pl_model *m, const pl_table *t, file_group g, pl_err *err)
{
	for (size_t i = 0; i < t->ntop; i++) {
		const pl_column *c = t->top[i];
		if (i)
			pl_buf_puts(out, ", ");
		const pl_namemap_col *hive = g.mapping >= 0 ? hive_entry(m, g.mapping, c) : NULL;
		if (hive) {
			int rc = put_hive_column(out, c, hive->source, err);
			if (rc)
				return rc;
			continue;
		}
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

/* All files of one column layout in one read_parquet(), so DuckDB reads them in parallel;
 * deleted rows are dropped by __planar_kept(file_index, file_row_number, map) (or, without
 * a map, by an anti-join on the delete files). */
static int put_layout_scan(pl_buf *out, const pl_model *m, const pl_table *t, file_group g, int64_t map,
			   const char *companion, pl_err *err)
{
	pl_buf_puts(out, "SELECT ");
	int rc = pl_scan_put_projection(out, m, t, g, err);
	if (rc)
		return rc;
	pl_buf_puts(out, " FROM read_parquet(");
	put_path_list(out, t, g, pl_scan_in_layout, g.current || g.mapping >= 0 ? NULL : companion);
	if ((rc = pl_scan_put_group_schema(out, m, t, g, err)) != 0)
		return rc;
	pl_buf_puts(out, ", hive_partitioning = false) AS d");
	bool deletes = false;
	for (size_t i = 0; !deletes && i < t->nfiles; i++)
		deletes = pl_scan_file_hides_rows(m, &t->files[i]) && pl_scan_in_layout(t, &t->files[i], g);
	if (!deletes)
		return 0;
	if (map >= 0) {
		pl_buf_printf(out, " WHERE __planar_kept(d.file_index, d.file_row_number, %lld)", (long long)map);
		return 0;
	}
	pl_buf_puts(out, " ANTI JOIN (");
	pl_scan_put_deleted_by_index(out, m, t, g, pl_scan_in_layout);
	pl_buf_puts(out, ") AS x ON d.file_index = x.i AND d.file_row_number = x.pos");
	return 0;
}

static int put_typed_columns(pl_buf *out, const pl_table *t, pl_err *err)
{
	for (size_t i = 0; i < t->ntop; i++) {
		const pl_column *c = t->top[i];
		pl_buf type = PL_BUF_INIT;
		int rc = pl_scan_column_type(&type, c, err);
		if (rc)
			return rc;
		if (i)
			pl_buf_puts(out, ", ");
		pl_buf_puts(out, "CAST(NULL");
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

/* ` WHERE row_id NOT IN (...)`: the rows an open transaction deleted (pending models only). */
static void put_pending_deleted(pl_buf *out, const pl_inlined_table *it)
{
	if (!it->ndeleted)
		return;
	pl_buf_puts(out, " WHERE CAST(row_id AS BIGINT) NOT IN (");
	for (size_t i = 0; i < it->ndeleted; i++)
		pl_buf_printf(out, "%s%lld", i ? ", " : "", (long long)it->deleted[i]);
	pl_buf_putc(out, ')');
}

/* The table's columns of an inlined row, cast back from text (through the inlined table's own
 * column types where nested fields changed since). */
static int put_inlined_values(pl_buf *out, const pl_model *m, const pl_table *t, const pl_inlined_table *it,
			      pl_err *err)
{
	pl_table *old = NULL;
	int rc = pl_scan_inlined_version(m, t, it, &old, err);
	for (size_t i = 0; rc == 0 && i < t->ntop; i++) {
		if (i)
			pl_buf_puts(out, ", ");
		rc = pl_scan_put_inlined_value(out, old, t->top[i], err);
		pl_buf_puts(out, " AS ");
		pl_buf_put_ident(out, t->top[i]->name);
	}
	pl_model_columns_free(old);
	return rc;
}

/* Inlined rows of one inlined-data table, read as text from the catalog and cast back. */
static int put_inlined(pl_buf *out, const char *lake, const pl_model *m, const pl_table *t,
		       const pl_inlined_table *it, bool at_bind, pl_err *err)
{
	pl_buf_puts(out, "SELECT ");
	int rc = put_inlined_values(out, m, t, it, err);
	pl_buf_puts(out, " FROM ");
	put_inlined_call(out, lake, m, t, it, it->ndeleted > 0, at_bind);
	put_pending_deleted(out, it);
	return rc;
}

int pl_scan_inlined_sql(pl_buf *out, const char *lake, const pl_model *m, const pl_table *t,
			const pl_inlined_table *it, pl_err *err)
{
	return put_inlined(out, lake, m, t, it, false, err);
}

/* The end of a table's scan after `parts` file scans: its inlined rows, or an empty typed SELECT
 * when there is nothing at all. */
int pl_scan_finish(pl_buf *out, const char *lake, const pl_model *m, const pl_table *t, size_t parts,
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
		rc = put_typed_columns(out, t, err);
		pl_buf_puts(out, " WHERE false");
	}
	if (rc == 0 && pl_buf_oom(out))
		rc = pl_err_nomem(err);
	return rc;
}

int pl_scan_sql(pl_buf *out, const char *lake, const pl_model *m, const pl_table *t, const int64_t *delete_maps,
		const char *companion, pl_err *err)
{
	int rc = pl_model_table_files(m, t, NULL, NULL, err);
	size_t parts = 0;
	/* older files first: rows come back in the order they were written, as DuckLake's scan
	 * returns them */
	for (size_t n = 0; rc == 0 && n < 2; n++) {
		size_t g = 1 - n;
		if (count_files(t, pl_scan_layouts[g], pl_scan_in_layout) == 0)
			continue;
		if (parts++)
			pl_buf_puts(out, " UNION ALL ");
		rc = put_layout_scan(out, m, t, pl_scan_layouts[g], delete_maps ? delete_maps[g] : -1, companion, err);
	}
	/* registered files: deletes by anti-join */
	for (int64_t k = next_mapping(t, -1); rc == 0 && k >= 0; k = next_mapping(t, k)) {
		if (parts++)
			pl_buf_puts(out, " UNION ALL ");
		rc = put_layout_scan(out, m, t, (file_group){false, false, k}, -1, NULL, err);
	}
	return rc ? rc : pl_scan_finish(out, lake, m, t, parts, false, err);
}

/* ---- scans with row positions (DELETE, UPDATE, change feeds) ------------------------------- */


typedef bool (*file_member)(const pl_table *, const pl_data_file *, file_group);

/* The row-id start (or with `index`, the place in t->files) of each file of the scan, by
 * file_index: a list indexed in the scan. */
static void put_file_values(pl_buf *out, const pl_table *t, file_member member, file_group g, bool index)
{
	pl_buf_puts(out, "CAST([");
	size_t k = 0;
	for (size_t i = 0; i < t->nfiles; i++)
		if (member(t, &t->files[i], g))
			pl_buf_printf(out, "%s%lld", k++ ? "," : "",
				      index ? (long long)i : (long long)t->files[i].row_id_start);
	pl_buf_puts(out, "] AS BIGINT[])[CAST(d.file_index AS BIGINT) + 1]");
}

/* All files in one read_parquet() through field ids; only the columns a statement uses are read
 * (DuckDB drops the others from the scan). Deleted rows are filtered by their map when given,
 * else anti-joined with the delete files. */
static int put_positions_files(pl_buf *out, const pl_model *m, const pl_table *t, file_member member, file_group g,
			       int64_t map, bool snaps, const char *companion, pl_err *err)
{
	bool all = true, deletes = false;
	for (size_t i = 0; i < t->nfiles; i++) {
		bool in = member(t, &t->files[i], g);
		all = all && in;
		deletes = deletes || (in && pl_scan_file_hides_rows(m, &t->files[i]));
	}
	pl_buf_puts(out, "SELECT ");
	for (size_t i = 0; i < t->ntop; i++) {
		const pl_namemap_col *hive = g.mapping >= 0 ? hive_entry(m, g.mapping, t->top[i]) : NULL;
		int rc = hive ? put_hive_column(out, t->top[i], hive->source, err) : 0;
		if (rc)
			return rc;
		if (!hive) {
			pl_buf_puts(out, "d.");
			pl_buf_put_ident(out, t->top[i]->name);
		}
		pl_buf_puts(out, ", ");
	}
	/* the file by its index in t->files: a number, cheap on every row */
	if (all)
		pl_buf_puts(out, "CAST(d.file_index AS BIGINT)");
	else
		put_file_values(out, t, member, g, true);
	pl_buf_puts(out, " AS __planar_file, d.file_row_number AS __planar_pos, ");
	pl_buf_puts(out, g.mapping >= 0 ? "(" : "coalesce(d._ducklake_internal_row_id, ");
	put_file_values(out, t, member, g, false);
	pl_buf_puts(out, " + d.file_row_number) AS __planar_rowid");
	if (snaps)
		pl_buf_puts(out, g.mapping >= 0 ? ", CAST(NULL AS BIGINT) AS __planar_snap"
						: ", d._ducklake_internal_snapshot_id AS __planar_snap");
	pl_buf_puts(out, " FROM read_parquet(");
	put_path_list(out, t, g, member, g.mapping >= 0 ? NULL : companion);
	int rc = g.mapping >= 0 ? put_name_schema_map(out, m, t, g, err) : put_schema_map(out, t, err);
	if (rc)
		return rc;
	/* the row-id column of files written by UPDATE, NULL in the others; with snaps, the
	 * snapshot column of flushed rows, NULL in the others */
	if (g.mapping < 0) {
		pl_buf_truncate(out, out->len - 1);
		pl_buf_printf(out, ", %lld: {name: '_ducklake_internal_row_id', type: 'BIGINT', default_value: "
				   "CAST(NULL AS VARCHAR)}",
			      PL_ROW_ID_FIELD);
		if (snaps)
			pl_buf_printf(out, ", %lld: {name: '_ducklake_internal_snapshot_id', type: 'BIGINT', "
					   "default_value: CAST(NULL AS VARCHAR)}",
				      PL_SNAPSHOT_ID_FIELD);
		pl_buf_putc(out, '}');
	}
	pl_buf_puts(out, ", hive_partitioning = false) AS d");
	if (!deletes)
		return 0;
	if (map >= 0) {
		pl_buf_printf(out, " WHERE __planar_kept(d.file_index, d.file_row_number, %lld)", (long long)map);
		return 0;
	}
	pl_buf_puts(out, " ANTI JOIN (");
	pl_scan_put_deleted_by_index(out, m, t, g, member);
	pl_buf_puts(out, ") AS x ON d.file_index = x.i AND d.file_row_number = x.pos");
	return 0;
}

static int put_positions_inlined(pl_buf *out, const char *lake, const pl_model *m, const pl_table *t,
				 const pl_inlined_table *it, bool snaps, pl_err *err)
{
	pl_buf_puts(out, "SELECT ");
	int rc = put_inlined_values(out, m, t, it, err);
	pl_buf_printf(out, ", CAST(%lld AS BIGINT) AS __planar_file, CAST(row_id AS BIGINT) AS __planar_pos, "
			   "CAST(row_id AS BIGINT) AS __planar_rowid%s FROM ",
		      -(long long)(it - t->inlined) - 1, snaps ? ", CAST(begin_snapshot AS BIGINT) AS __planar_snap" : "");
	put_inlined_call(out, lake, m, t, it, true, false);
	put_pending_deleted(out, it);
	return rc;
}

int pl_scan_positions_sql(pl_buf *out, const char *lake, const pl_model *m, const pl_table *t, pl_delcache *c,
			  duckdb_connection con, const char *companion, pl_err *err)
{
	return pl_scan_positions_snap_sql(out, lake, m, t, c, con, false, companion, err);
}

int pl_scan_positions_snap_sql(pl_buf *out, const char *lake, const pl_model *m, const pl_table *t, pl_delcache *c,
			       duckdb_connection con, bool snaps, const char *companion, pl_err *err)
{
	int rc = pl_model_table_files(m, t, NULL, NULL, err);
	size_t parts = 0;
	int64_t map = -1;
	const file_group all = {false, false, -1};
	size_t unmapped = rc == 0 ? count_files(t, all, in_unmapped) : 0;
	if (unmapped > 0 && c && pl_scan_has_deletes(t))
		rc = pl_scan_prepare_map(c, con, m, t, in_unmapped, all, &map, err);
	if (rc == 0 && unmapped > 0) {
		rc = put_positions_files(out, m, t, in_unmapped, all, map, snaps, companion, err);
		parts++;
	}
	for (int64_t k = next_mapping(t, -1); rc == 0 && k >= 0; k = next_mapping(t, k)) {
		file_group g = {false, false, k};
		map = -1;
		bool deletes = false;
		for (size_t i = 0; i < t->nfiles; i++)
			deletes = deletes || (pl_scan_file_hides_rows(m, &t->files[i]) && mapping_of(&t->files[i]) == k);
		if (c && deletes)
			rc = pl_scan_prepare_map(c, con, m, t, pl_scan_in_layout, g, &map, err);
		if (parts++)
			pl_buf_puts(out, " UNION ALL ");
		if (rc == 0)
			rc = put_positions_files(out, m, t, pl_scan_in_layout, g, map, snaps, NULL, err);
	}
	for (size_t i = 0; rc == 0 && i < t->ninlined; i++) {
		if (parts++)
			pl_buf_puts(out, " UNION ALL ");
		rc = put_positions_inlined(out, lake, m, t, &t->inlined[i], snaps, err);
	}
	if (rc == 0 && parts == 0) {
		pl_buf_puts(out, "SELECT ");
		rc = put_typed_columns(out, t, err);
		pl_buf_puts(out, ", CAST(NULL AS BIGINT) AS __planar_file, CAST(NULL AS BIGINT) AS __planar_pos, "
				 "CAST(NULL AS BIGINT) AS __planar_rowid");
		if (snaps)
			pl_buf_puts(out, ", CAST(NULL AS BIGINT) AS __planar_snap");
		pl_buf_puts(out, " WHERE false");
	}
	if (rc == 0 && pl_buf_oom(out))
		rc = pl_err_nomem(err);
	return rc;
}
