/*
 * flush.h -- ducklake_flush_inlined_data(catalog [, schema_name => VARCHAR] [, table_name =>
 * VARCHAR]) -> schema_name, table_name, rows_flushed: writes the rows data inlining stored in the
 * catalog to Parquet data files, keeping their history (table/flush.h), as one snapshot; `CALL`
 * or `FROM`. Refused inside BEGIN ... COMMIT and on a read-only lake.
 */
#ifndef PL_SQL_FLUSH_H
#define PL_SQL_FLUSH_H

#include "sql/session.h"

int pl_flush_register(planar_db *db, pl_err *err);

#endif
