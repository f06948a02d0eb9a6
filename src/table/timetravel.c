/*
 * timetravel.c -- a lake table at an older snapshot (see timetravel.h).
 */
#include "table/timetravel.h"

#include <stdlib.h>

#include "catalog/upkeep.h"
#include "core/str.h"
#include "table/scan.h"

/* Evaluates the AT expression in DuckDB: a snapshot id, or a timestamp resolved in the catalog. */
static int resolve_snapshot(const pl_table_ctx *ctx, const char *expr, bool by_timestamp, int64_t *snap, pl_err *err)
{
	char *val = NULL;
	pl_buf q = PL_BUF_INIT;
	pl_buf_printf(&q, "SELECT CAST((%s) AS BIGINT)", expr);
	int rc = by_timestamp ? pl_engine_utc_timestamp(ctx->con, expr, &val, err)
		 : pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query_value(ctx->con, q.ptr, &val, err);
	pl_buf_dispose(&q);
	if (rc == 0 && !val)
		rc = pl_err_set(err, PL_EINVALID, "AT (%s => %s) is NULL", by_timestamp ? "TIMESTAMP" : "VERSION", expr);
	if (rc == 0 && !by_timestamp)
		*snap = strtoll(val, NULL, 10);
	if (rc == 0 && by_timestamp) {
		rc = pl_catalog_snapshot_at_time(ctx->cat, val, true, snap, err);
		if (rc == 0 && *snap < 0)
			rc = pl_err_set(err, PL_ENOTFOUND, "no snapshot at or before %s", val);
	}
	free(val);
	return rc;
}

int pl_timetravel_snapshot(const pl_table_ctx *ctx, const char *expr, bool by_timestamp, int64_t *snap,
			   pl_err *err)
{
	int64_t latest = -1;
	int rc = resolve_snapshot(ctx, expr, by_timestamp, snap, err);
	if (rc == 0)
		rc = pl_catalog_latest_snapshot(ctx->cat, &latest, err);
	if (rc == 0 && (*snap < 0 || *snap > latest))
		rc = pl_err_set(err, PL_ENOTFOUND, "No snapshot found at version %lld (the latest is %lld)", (long long)*snap,
				(long long)latest);
	bool exists = true; /* a model kept from before an expiry must not answer for it */
	if (rc == 0)
		rc = pl_upkeep_snapshot_exists(ctx->cat, *snap, &exists, err);
	if (rc == 0 && !exists)
		rc = pl_err_set(err, PL_ENOTFOUND, "No snapshot found at version %lld (it was expired)", (long long)*snap);
	return rc;
}

int pl_timetravel_view(const pl_table_ctx *ctx, const pl_model *m, int64_t snap, const char *schema, const char *name,
		       const char *view, pl_err *err)
{
	const pl_schema *s = pl_model_schema(m, schema);
	const pl_table *tab = s ? pl_model_table(m, s->id, name) : NULL;
	if (!tab)
		return pl_err_set(err, PL_ENOTFOUND, "Catalog Error: table \"%s\" does not exist at version %lld", name,
				  (long long)snap);
	pl_buf q = PL_BUF_INIT;
	pl_buf_puts(&q, "CREATE OR REPLACE TEMP VIEW ");
	pl_buf_put_ident(&q, view);
	pl_buf_puts(&q, " AS ");
	int64_t sets[2];
	int rc = pl_scan_prepare_deletes(ctx->deletes, ctx->admin, m, tab, sets, err);
	char *companion = NULL;
	if (rc == 0)
		pl_scan_companion(ctx->empty, m, tab, &companion);
	if (rc == 0)
		rc = pl_scan_sql(&q, ctx->lake, m, tab, sets, companion, err);
	free(companion);
	if (rc == 0)
		rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_exec(ctx->con, q.ptr, err);
	pl_buf_dispose(&q);
	return rc;
}
