/*
 * metadata.h -- duckdb_tables() / duckdb_views() / pragma_database_size() with lakes attached
 * (see metadata.c).
 */
#ifndef PL_SQL_METADATA_H
#define PL_SQL_METADATA_H

#include "core/str.h"
#include "sql/router.h"

int pl_metadata_rewrite(planar_conn *conn, const pl_toks *t, char **sql_out, pl_strv *views, pl_err *err);

/* A lake's catalog as a database of its own, read-only, as DuckDB's DuckLake extension shows it:
 * `__ducklake_metadata_<lake>` (or the ATTACH option METADATA_CATALOG's name) holds one view per
 * catalog table (DuckLake's tables with their types, and the inlined-data tables), each reading
 * the catalog when a query binds it. Created (and its list of inlined-data tables brought up to
 * date) before a statement that names it. An INSERT, UPDATE or DELETE of one of its tables,
 * outside a transaction, changes the catalog's rows (*handled, *out its result), as the
 * extension allows; any other statement that would change it fails. Under db->lock. */
int pl_metadata_catalogs(pl_stmt *st, planar_result **out, pl_err *err, bool *handled);

/* DESCRIBE [lake.][schema.]table of a lake table with NOT NULL columns: DuckDB's description of
 * the table's view, with "null" NO for those columns (*handled; otherwise left to DuckDB). */
int pl_metadata_describe(pl_stmt *st, planar_result **out, pl_err *err, bool *handled);

#endif
