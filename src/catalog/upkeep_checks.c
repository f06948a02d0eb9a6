/*
 * upkeep_checks.c -- what commits and time travel check so that snapshot expiry and file
 * cleanup (upkeep.c) cannot take away what they rely on (see upkeep.h).
 */
#include "catalog/upkeep.h"

#include <errno.h>
#include <unistd.h>

int pl_upkeep_snapshot_exists(pl_catdb *db, int64_t snap, bool *out, pl_err *err)
{
	pl_rows *r = NULL;
	pl_val p = PL_VINT(snap);
	int rc = pl_catdb_query(db, "SELECT count(*) FROM ducklake_snapshot WHERE snapshot_id = ?", &p, 1, &r, err);
	if (rc == 0)
		*out = pl_rows_int(r, 0, 0, 0) > 0;
	pl_rows_free(r);
	return rc;
}

int pl_upkeep_check_written(const pl_strv *written, pl_err *err)
{
	for (size_t i = 0; written && i < written->len; i++)
		if (access(written->items[i], F_OK) != 0 && errno == ENOENT)
			return pl_err_set(err, PL_EIO,
					  "file '%s' written by this statement was removed before it could be committed "
					  "(a concurrent ducklake_delete_orphaned_files?); nothing was committed",
					  written->items[i]);
	return 0;
}

int pl_upkeep_check_history(pl_catdb *db, int64_t base, pl_err *err)
{
	if (base < 0)
		return 0;
	pl_rows *r = NULL;
	pl_val p = PL_VINT(base);
	int rc = pl_catdb_query(db, "SELECT count(*), max(snapshot_id) FROM ducklake_snapshot WHERE snapshot_id >= ?", &p,
				1, &r, err);
	if (rc)
		return rc;
	int64_t count = pl_rows_int(r, 0, 0, 0), latest = pl_rows_int(r, 0, 1, -1);
	pl_rows_free(r);
	if (latest >= base && count != latest - base + 1)
		return pl_err_set(err, PL_ECONFLICT,
				  "conflict: snapshots committed since this statement began (snapshot %lld) were expired "
				  "meanwhile; retry the statement",
				  (long long)base);
	return 0;
}
