/*
 * scan.h -- scan planning: the SQL that reads a lake table at a snapshot.
 *
 * A table is exposed to DuckDB as a view over read_parquet() of its live data files, with the
 * `schema` parameter mapping Parquet field ids (= DuckLake column ids) to current names, types
 * and defaults, so renamed and added columns need no rewrite; inlined rows kept in the catalog
 * are unioned in through the __planar_inlined() table function.
 */
#ifndef PL_TABLE_SCAN_H
#define PL_TABLE_SCAN_H

#include "catalog/model.h"
#include "core/buf.h"
#include "engine/engine.h"
#include "table/delcache.h"
#include "table/emptyfile.h"

/* Appends a SELECT returning the rows of table t at model->snapshot_id. delete_maps, when not
 * NULL, holds the deleted-row map ids of the two file groups (pl_scan_prepare_deletes); without
 * it deletes are applied by anti-joins on the delete files. companion (NULL: none) is an empty
 * file of t's columns and field ids, listed after a lone file read through field ids so that
 * DuckDB reads it on every thread (table/emptyfile.h). */
int pl_scan_sql(pl_buf *out, const char *lake_name, const pl_model *model, const pl_table *t,
		const int64_t *delete_maps, const char *companion, pl_err *err);
/* *out: the empty companion file (table/emptyfile.h) to pass to pl_scan_sql and
 * pl_scan_positions_sql for t at m's snapshot, when one of their lists read through field ids is a lone file of more than one row group's
 * rows; else (or when e is NULL) NULL. Free it. */
void pl_scan_companion(pl_empty_files *e, const pl_model *m, const pl_table *t, char **out);
/* *out: what the view lists after the files of its group g when they are one file of more than
 * one row group's rows, so that DuckDB reads it on every thread: for the older layout (g 1, read
 * through field ids) the empty companion, for files registered with a name map (g >= 2) an empty
 * twin of the file (pl_empty_twin); else NULL (group 0 is read by name). Free it. */
void pl_scan_view_companion(pl_empty_files *e, const pl_model *m, const pl_table *t, int g, char **out);
/* The DuckDB type of a column as SQL text into an empty type buffer (left empty on failure). */
int pl_scan_column_type(pl_buf *type, const pl_column *c, pl_err *err);
/* Parquet field ids of DuckLake's row lineage columns: a row's id, and the snapshot it began at
 * (files merged from or flushed at several snapshots). */
#define PL_ROW_ID_FIELD 2147483540LL
#define PL_SNAPSHOT_ID_FIELD 2147483539LL

/* ", schema = MAP {...}" for read_parquet: t's top-level columns by field id (with their initial
 * defaults), then DuckLake's _ducklake_internal_row_id and _ducklake_internal_snapshot_id, so a
 * scan reads the row lineage a merged or flushed file carries (NULL where a file has none). */
int pl_scan_put_lineage_schema(pl_buf *out, const pl_table *t, pl_err *err);
/* A column as __planar_inlined() takes it: name, 0x1e, column id, 0x1e, DuckLake type, and
 * 0x1e and the initial default when it has one (read for rows stored before it was added). */
void pl_scan_inlined_column(pl_buf *out, const pl_column *c);
/* The columns of table t as of inlined-data table it's schema version, when t has a nested
 * column (whose fields may have changed since; *old NULL otherwise; freed with
 * pl_model_columns_free). */
int pl_scan_inlined_version(const pl_model *m, const pl_table *t, const pl_inlined_table *it, pl_table **old,
			    pl_err *err);
/* Column c of an inlined row, read as text under c's name, in c's type: through old's type of
 * the column first when its nested fields changed since (fields follow their ids). */
int pl_scan_put_inlined_value(pl_buf *out, const pl_table *old, const pl_column *c, pl_err *err);
/* SELECT of t's columns (by name, in their types) over the live rows of one of its inlined-data
 * tables at m's snapshot, as the table's scan reads them (lake: the attached lake's name). */
int pl_scan_inlined_sql(pl_buf *out, const char *lake, const pl_model *m, const pl_table *t,
			const pl_inlined_table *it, pl_err *err);
/* True when some live file of t has deleted rows or is a flushed file (t's files loaded). */
bool pl_scan_has_deletes(const pl_table *t);
/* Loads the deleted-row sets of t's files into the cache and registers the map of each file
 * group (files written with the current columns, older files): maps[g] is -1 when the group has
 * no deletes. */
int pl_scan_prepare_deletes(pl_delcache *c, duckdb_connection con, const pl_model *m, const pl_table *t,
			    int64_t maps[2], pl_err *err);

/* Like pl_scan_sql, plus the columns __planar_file (BIGINT: i for t->files[i], -1 - k for the
 * inlined-data table t->inlined[k]), __planar_pos (row position in that file, or inlined row
 * id) and __planar_rowid (DuckLake row id: embedded _ducklake_internal_row_id, else
 * row_id_start + position). All files are read by one read_parquet() through field ids (with
 * companion after a lone file, as for pl_scan_sql), so a query reads only the columns it names.
 * With a cache c, deleted rows are filtered by their bitsets (loaded through con); without, by
 * an anti-join on the delete files. */
int pl_scan_positions_sql(pl_buf *out, const char *lake, const pl_model *m, const pl_table *t, pl_delcache *c,
			  duckdb_connection con, const char *companion, pl_err *err);
/* Like pl_scan_positions_sql, with snaps also __planar_snap: the snapshot a row began at when the
 * row says so (flushed inlined rows carry _ducklake_internal_snapshot_id; inlined rows their
 * begin_snapshot), else NULL. */
int pl_scan_positions_snap_sql(pl_buf *out, const char *lake, const pl_model *m, const pl_table *t, pl_delcache *c,
			       duckdb_connection con, bool snaps, const char *companion, pl_err *err);

/* The text of a table's shared view, which names no file: each column layout group g (0: files
 * written with the current columns, read by name; 1: older files, read through field ids; then
 * one per name map of registered files) is read_parquet(__planar_view_files(lake, table id, g,
 * schema_since)) filtered by __planar_kept(file_index, file_row_number, __planar_delmap(lake,
 * table id, g)). Those functions resolve the files and deleted rows when DuckDB binds the view
 * (a map of -2: no file, -1: no deleted row; either folds away), so the text changes only when
 * the columns, the name maps or the inlined tables change, never with the rows. */
int pl_scan_view_sql(pl_buf *out, const char *lake, const pl_model *m, const pl_table *t, pl_err *err);
/* Whether group g of t's view has files; *some_file (when not NULL) one of its files when they
 * are loaded (NULL otherwise). Groups of registered files (name maps) come from the table's files
 * (loaded); the two layouts from the catalog's summary. */
int pl_scan_group_shape(const pl_model *m, const pl_table *t, int g, bool *has_files, const char **some_file,
			pl_err *err);
/* The files of group g of t in list order (into out when not NULL); their number. t's files are
 * loaded (pl_model_table_files). */
size_t pl_scan_group_files(const pl_table *t, int g, const pl_data_file **out);
/* Whether a file of group g hides rows from a scan at m's snapshot (pl_scan_file_hides_rows);
 * t's files must be loaded. */
bool pl_scan_group_hides_rows(const pl_model *m, const pl_table *t, int g);
/* The deleted-row map of group g (-1 when it has no deletes); con as in pl_delcache_load. */
int pl_scan_group_map(pl_delcache *c, duckdb_connection con, const pl_model *m, const pl_table *t, int g,
		      int64_t *map, pl_err *err);

/* Appends `, schema = MAP {...}` reading a registered file through name map `mapping` of m:
 * each current column from its source name, or as its default when the file lacks it. */
int pl_scan_put_name_map(pl_buf *out, const pl_model *m, const pl_table *t, int64_t mapping, pl_err *err);

/* Whether some rows of data file f are not there at m's snapshot: deleted, or (a flushed file)
 * begun after it. */
bool pl_scan_file_hides_rows(const pl_model *m, const pl_data_file *f);
/* Appends `SELECT pos FROM ...`: the positions deleted from data file f at the model's snapshot
 * (with rows of a flushed file that began after it). */
void pl_scan_put_file_deletes(pl_buf *out, const pl_model *m, const pl_data_file *f);

#endif
