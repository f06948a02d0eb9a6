/*
 * reads.h -- the fixed catalog reads that SQL functions serve to queries: snapshot listings, table
 * summaries and the rows DuckDB's extension inlined into the catalog; and the file histories and
 * per-file statistics the table layer reads (change feed, pruning). Nothing here runs SQL text
 * that a caller passes in: every query is Planar's own, with names checked and quoted and
 * numbers bound, so no statement can reach the catalog through these.
 */
#ifndef PL_CATALOG_READS_H
#define PL_CATALOG_READS_H

#include <stdbool.h>
#include <stdint.h>

#include "catalog/driver.h"
#include "core/str.h"

typedef enum pl_catalog_listing {
	PL_LIST_SNAPSHOTS,        /* snapshot_id, snapshot_time, schema_version, changes, author, ... */
	PL_LIST_CURRENT_SNAPSHOT, /* id */
	PL_LIST_TABLE_INFO,       /* table_name, schema_id, table_id, table_uuid, file counts and sizes */
} pl_catalog_listing;

/* The listing named `what` ("snapshots", "current_snapshot", "table_info"); PL_EINVALID for any
 * other name. */
int pl_catalog_listing_by_name(const char *what, pl_catalog_listing *out, pl_err *err);
/* Rows of a listing, every column as text. */
int pl_catalog_list(pl_catdb *db, pl_catalog_listing what, pl_rows **out, pl_err *err);

/* Rows of the inlined-data table `inlined` (named ducklake_inlined_data_<table>_<version>, which
 * is checked) live at snapshot, columns cast to text in the given order, plus row_id when
 * with_row_id; ordered by row_id. */
int pl_catalog_inlined_rows(pl_catdb *db, const char *inlined, int64_t snapshot, const char *const *columns,
			    size_t ncolumns, bool with_row_id, pl_rows **out, pl_err *err);

/* Counts and bounds of the inlined-data table `inlined` (checked) at snapshot, as one row of
 * text: the rows live at snapshot, the rows begun and ended by then (deleted), then for each of
 * the column ids: the smallest and largest live value cast to BIGINT (for integer columns only)
 * and 1, or NULL, NULL, 0 when the inlined table has no such column (added since it was made:
 * its rows read the column's initial default). */
int pl_catalog_inlined_bounds(pl_catdb *db, const char *inlined, int64_t snapshot, const int64_t *column_ids,
			      size_t ncolumns, pl_rows **out, pl_err *err);

/* Every row of the inlined-data table `inlined` that began at or before snapshot upto, live or
 * not: columns as text, then row_id, begin_snapshot, end_snapshot; ordered by row_id (the change
 * feed). */
int pl_catalog_inlined_history(pl_catdb *db, const char *inlined, int64_t upto, const char *const *columns,
			       size_t ncolumns, pl_rows **out, pl_err *err);

/* A table's data files in every snapshot, by data_file_id: data_file_id, begin_snapshot,
 * end_snapshot, row_id_start, path, path_is_relative, mapping_id, partial_max. */
int pl_catalog_data_file_history(pl_catdb *db, int64_t table_id, pl_rows **out, pl_err *err);
/* A table's delete files in every snapshot, by delete_file_id: delete_file_id, data_file_id,
 * begin_snapshot, end_snapshot, partial_max, path, path_is_relative, format. */
int pl_catalog_delete_file_history(pl_catdb *db, int64_t table_id, pl_rows **out, pl_err *err);
/* Column column_id's statistics in the files of table_id from data file from_id on, by
 * data_file_id: data_file_id, min_value, max_value, contains_nan, value_count, null_count. */
/* Partition key key_index's value in the files of table_id from data file from_id on, by
 * data_file_id: data_file_id, partition_value. */
int pl_catalog_file_partition_values(pl_catdb *db, int64_t table_id, int64_t key_index, int64_t from_id,
				     pl_rows **out, pl_err *err);
int pl_catalog_file_column_stats(pl_catdb *db, int64_t table_id, int64_t column_id, int64_t from_id, pl_rows **out,
				 pl_err *err);

/* Every row of one table of the catalog, all columns as text: a DuckLake 1.0 table, an
 * inlined-data table or an inlined-deletion table (checked by name; nothing else). */
int pl_catalog_table_rows(pl_catdb *db, const char *table, pl_rows **out, pl_err *err);
/* The catalog's inlined-data tables (names appended to out). */
int pl_catalog_extra_tables(pl_catdb *db, pl_strv *out, pl_err *err);
/* Runs a user's INSERT, UPDATE or DELETE whose target, `table`, is a table of the DuckLake
 * catalog (as DuckDB's extension lets one write through the metadata catalog). sql names the
 * catalog's tables unqualified and is one statement. */
int pl_catalog_user_write(pl_catdb *db, const char *table, const char *sql, pl_err *err);

#endif
