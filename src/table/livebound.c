/*
 * livebound.c -- whether a data file with deleted rows still has a live row holding a value
 * (see livebound.h).
 */
#include "table/livebound.h"

#include "core/buf.h"
#include "engine/engine.h"
#include "storage/s3lake.h"
#include "table/scan.h"

int pl_livebound_has(pl_delcache *c, duckdb_connection con, const pl_model *m, const pl_table *t,
		     const pl_data_file *f, const pl_column *col, const char *value_sql, size_t limit, bool *found,
		     pl_err *err)
{
	*found = false;
	const pl_delset *deleted = NULL;
	int rc = pl_delcache_load(c, con, m, f, &deleted, err);
	if (rc == 0) /* S3: the cached copy */
		rc = pl_s3lake_ensure((const char *const *)&f->path, 1, err);
	if (rc)
		return rc;
	/* the answer never changes (a data file and its deleted rows at a snapshot): asked once */
	pl_buf what = PL_BUF_INIT;
	pl_buf_printf(&what, "%lld=%s", (long long)col->id, value_sql);
	if (pl_buf_oom(&what)) {
		pl_buf_dispose(&what);
		return pl_err_nomem(err);
	}
	if (pl_delcache_memo_get(c, deleted, what.ptr, found)) {
		pl_buf_dispose(&what);
		return 0;
	}
	pl_buf q = PL_BUF_INIT;
	pl_buf_puts(&q, "SELECT file_row_number FROM read_parquet(");
	pl_buf_put_literal(&q, f->path);
	rc = pl_scan_put_lineage_schema(&q, t, err); /* by field id, whatever the file's names */
	pl_buf_puts(&q, ", file_row_number = true, hive_partitioning = false) WHERE ");
	pl_buf_put_ident(&q, col->name);
	pl_buf_printf(&q, " = %s LIMIT %zu", value_sql, limit);
	duckdb_result res;
	if (rc == 0)
		rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query(con, q.ptr, &res, err);
	pl_buf_dispose(&q);
	if (rc) {
		pl_buf_dispose(&what);
		return rc;
	}
	for (idx_t r = 0; !*found && r < duckdb_row_count(&res); r++) {
		int64_t pos = duckdb_value_int64(&res, 0, r);
		*found = pos >= 0 && !pl_delset_has(deleted, (uint64_t)pos);
	}
	duckdb_destroy_result(&res);
	pl_delcache_memo_put(c, deleted, what.ptr, *found);
	pl_buf_dispose(&what);
	return 0;
}
