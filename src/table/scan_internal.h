/*
 * scan_internal.h -- what scan.c (scan text over files and positions) shares with scan_view.c
 * (views that resolve their files at bind time) and scan_deletes.c (deleted rows): a table's
 * files fall into column-layout groups.
 */
#ifndef PL_TABLE_SCAN_INTERNAL_H
#define PL_TABLE_SCAN_INTERNAL_H

#include "table/scan.h"

typedef struct file_group {
	bool current;     /* written with the table's current columns */
	bool has_deletes; /* unused: groups are column layouts */
	int64_t mapping;  /* >= 0: files the lake did not write, read through this name map */
} file_group;

/* The two layouts of the files the lake wrote: current columns, older columns. */
extern const file_group pl_scan_layouts[2];
/* Whether file f belongs to group g of table t. */
bool pl_scan_in_layout(const pl_table *t, const pl_data_file *f, file_group g);
/* Group number g (0: current columns, 1: older files, 2..: one per name map) and the next one. */
file_group pl_scan_group_of(const pl_table *t, int g);
int pl_scan_next_group(const pl_table *t, int g);
/* The `schema` argument of read_parquet for a group's files, and the SELECT list over it. */
int pl_scan_put_group_schema(pl_buf *out, const pl_model *m, const pl_table *t, file_group g, pl_err *err);
int pl_scan_put_projection(pl_buf *out, const pl_model *m, const pl_table *t, file_group g, pl_err *err);
/* Closes a scan of `parts` unioned parts, adding the table's inlined rows (`at_bind`: for a view
 * that resolves its files when DuckDB binds it). */
int pl_scan_finish(pl_buf *out, const char *lake, const pl_model *m, const pl_table *t, size_t parts, bool at_bind,
		   pl_err *err);
/* SELECT <k> AS i, pos FROM (<its deletes>) UNION ALL ...: the deleted positions of the files
 * of group g that `member` admits, by their index among them (scan_deletes.c). */
void pl_scan_put_deleted_by_index(pl_buf *out, const pl_model *m, const pl_table *t, file_group g,
				  bool (*member)(const pl_table *, const pl_data_file *, file_group));
/* Loads into the cache the deleted-row map of the files of group g that `member` admits. */
int pl_scan_prepare_map(pl_delcache *c, duckdb_connection con, const pl_model *m, const pl_table *t,
			bool (*member)(const pl_table *, const pl_data_file *, file_group), file_group g, int64_t *map,
			pl_err *err);

#endif
