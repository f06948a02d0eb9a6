/*
 * metadata.h -- duckdb_tables() / duckdb_views() with lakes attached (see metadata.c).
 */
#ifndef PL_SQL_METADATA_H
#define PL_SQL_METADATA_H

#include "core/str.h"
#include "sql/router.h"

int pl_metadata_rewrite(planar_conn *conn, const pl_toks *t, char **sql_out, pl_strv *views, pl_err *err);

#endif
