/*
 * viewfiles.h -- the scalar functions a lake table's view resolves its files and deleted rows
 * with, when DuckDB binds it (see table/scan.h, pl_scan_view_sql):
 *
 *   __planar_view_files(lake, table_id, group, schema_since) -> VARCHAR[]: the live
 *     files of one column layout group, for the session binding the view (its pending state in
 *     its write transaction, its BEGIN snapshot in a read transaction, else the lake's model);
 *   __planar_delmap(lake, table_id, group) -> BIGINT: the deleted-row map bound with that list;
 *   __planar_kept(file_index, file_row_number, map) -> BOOLEAN: is the row still there? (its
 *     map is looked up once, when the call is bound)
 */
#ifndef PL_SQL_VIEWFILES_H
#define PL_SQL_VIEWFILES_H

#include "sql/session.h"

int pl_viewfiles_register(planar_db *db, pl_err *err);

#endif
