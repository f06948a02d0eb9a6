/*
 * checkpoint.c -- `[FORCE] CHECKPOINT [lake]` on a lake (the named one, or the current database
 * when it is a lake): DuckLake's upkeep in DuckLake's order, each step a statement of its own
 * that commits (or fails) on its own:
 *
 *   ducklake_flush_inlined_data, ducklake_expire_snapshots, ducklake_merge_adjacent_files,
 *   ducklake_rewrite_data_files, ducklake_cleanup_old_files, ducklake_delete_orphaned_files
 *
 * each with the lake's options as its only arguments (expire_older_than, delete_older_than,
 * target_file_size, rewrite_delete_threshold, auto_compact). The first step that fails stops
 * the checkpoint with its error. Inside a transaction the flush and the compactions are its
 * writes, and expiry and file removal are left out (see run_steps). CHECKPOINT of any other
 * database goes to DuckDB.
 */
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "sql/lake.h"
#include "sql/maintenance.h"
#include "sql/router.h"

static const char *const steps[] = {
	"ducklake_flush_inlined_data",   "ducklake_expire_snapshots",  "ducklake_merge_adjacent_files",
	"ducklake_rewrite_data_files",   "ducklake_cleanup_old_files", "ducklake_delete_orphaned_files",
};

/* Inside BEGIN ... COMMIT only the steps that are writes of the transaction run: the flush and
 * the compactions (COMMIT commits them with its snapshot, ROLLBACK drops them). Expiring
 * snapshots and removing files cannot be taken back by a ROLLBACK: they wait for a CHECKPOINT
 * outside a transaction. */
#define TXN_STEPS 4

static int run_steps(planar_conn *conn, const char *lake, pl_err *err)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < sizeof(steps) / sizeof(steps[0]); i++) {
		if (conn->in_txn && (i == 1 || i >= TXN_STEPS))
			continue;
		pl_buf q = PL_BUF_INIT;
		pl_buf_printf(&q, "CALL %s(", steps[i]);
		pl_buf_put_literal(&q, lake);
		pl_buf_putc(&q, ')');
		planar_result *res = NULL;
		rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_router_run(conn, q.ptr, &res, err);
		pl_buf_dispose(&q);
		if (res)
			planar_result_free(res);
		if (rc)
			pl_err_wrap(err, "Failed to perform CHECKPOINT in lake \"%s\" (%s)", lake, steps[i]);
	}
	return rc;
}

int pl_checkpoint_route(pl_stmt *st, planar_result **out, pl_err *err, bool *handled)
{
	const pl_toks *t = &st->toks;
	size_t i = pl_tok_is(t, 0, "FORCE") ? 1 : 0;
	*handled = false;
	if (!pl_tok_is(t, i, "CHECKPOINT"))
		return 0;
	size_t end = t->len;
	if (end > 0 && pl_tok_is_punct(t, end - 1, ";"))
		end--;
	char *name = NULL;
	if (end == i + 2 && (t->items[i + 1].kind == PL_TOK_WORD || t->items[i + 1].kind == PL_TOK_QIDENT)) {
		name = pl_tok_ident(t, i + 1);
	} else if (end == i + 1) {
		char *schema = NULL;
		pl_err ignored = {0};
		if (pl_session_location(st, &name, &schema, &ignored) != 0)
			name = NULL;
		free(schema);
	} else {
		return 0;
	}
	if (!name)
		return 0;
	planar_db *db = st->conn->db;
	pthread_mutex_lock(&db->lock);
	pl_lake *lake = pl_db_find_lake(db, name);
	char *lake_name = lake ? pl_strdup(lake->name) : NULL;
	pthread_mutex_unlock(&db->lock);
	free(name);
	if (!lake)
		return 0; /* not a lake: DuckDB's CHECKPOINT */
	if (!lake_name)
		return pl_err_nomem(err);
	*handled = true;
	int rc = run_steps(st->conn, lake_name, err);
	free(lake_name);
	if (rc == 0)
		rc = pl_exec_passthrough(st->conn, "SELECT CAST(NULL AS BOOLEAN) AS \"Success\" WHERE false", out, err);
	return rc;
}
