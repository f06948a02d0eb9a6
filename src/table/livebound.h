/*
 * livebound.h -- whether a data file with deleted rows still has a live row holding a value.
 *
 * A file's column statistics bound all of its rows, deleted ones too. Its minimum is still the
 * minimum of the rows a scan returns when some live row holds it: that is checked here by
 * reading the positions of the rows holding the value (DuckDB prunes the row groups whose
 * statistics exclude it, so little is read) and looking them up in the file's deleted rows.
 */
#ifndef PL_TABLE_LIVEBOUND_H
#define PL_TABLE_LIVEBOUND_H

#include <stdbool.h>

#include "table/delcache.h"

/* Sets *found when a row of data file f of table t (written with field ids: not a registered
 * file) that is live at m's snapshot holds value_sql (a SQL constant of column col's type) in
 * col. The file is read through con by field id; at most `limit` rows holding the value are
 * looked at (*found stays false beyond them). */
int pl_livebound_has(pl_delcache *c, duckdb_connection con, const pl_model *m, const pl_table *t,
		     const pl_data_file *f, const pl_column *col, const char *value_sql, size_t limit, bool *found,
		     pl_err *err);

#endif
