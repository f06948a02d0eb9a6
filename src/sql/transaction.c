/*
 * transaction.c -- multi-statement transactions over lakes (see transaction.h).
 */
#include "sql/transaction.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/str.h"

static bool is_begin(const pl_toks *t)
{
	return (pl_tok_is(t, 0, "BEGIN") && (t->len == 1 || pl_tok_is(t, 1, "TRANSACTION"))) ||
	       (pl_tok_is(t, 0, "START") && pl_tok_is(t, 1, "TRANSACTION"));
}

static bool is_commit(const pl_toks *t)
{
	return (pl_tok_is(t, 0, "COMMIT") || pl_tok_is(t, 0, "END")) && t->len <= 2;
}

static bool is_rollback(const pl_toks *t)
{
	return (pl_tok_is(t, 0, "ROLLBACK") || pl_tok_is(t, 0, "ABORT")) && t->len <= 2;
}

static void clear_conn(planar_conn *c)
{
	for (size_t i = 0; i < c->nbegin; i++)
		c->begin[i].lake->txn_readers--;
	free(c->begin);
	c->begin = NULL;
	c->nbegin = 0;
	c->in_txn = c->txn_aborted = false;
	c->txn_views_lake = NULL;
	free(c->commit_author);
	free(c->commit_message);
	free(c->commit_extra);
	c->commit_author = c->commit_message = c->commit_extra = NULL;
}

static void end_lake_txn(pl_lake *lake)
{
	if (lake->shared_model) { /* swapped in: give the committed model back */
		lake->model = lake->shared_model;
		lake->shared_model = NULL;
	}
	pl_model_free(lake->txn_model);
	lake->txn_model = NULL;
	pl_catdb_close(lake->txn_cat);
	lake->txn_cat = NULL;
	lake->txn_owner = NULL;
	pl_strv_dispose(&lake->txn_files);
}

void pl_txn_abort_lake(pl_lake *lake)
{
	if (lake->txn_cat)
		pl_commit_abort(lake->txn_cat, &lake->txn_state);
	for (size_t i = 0; i < lake->txn_files.len; i++)
		unlink(lake->txn_files.items[i]);
	end_lake_txn(lake);
}

static int64_t begin_snapshot(planar_conn *c, pl_lake *lake)
{
	for (size_t i = 0; i < c->nbegin; i++)
		if (c->begin[i].lake == lake)
			return c->begin[i].snapshot;
	return (lake->shared_model ? lake->shared_model : lake->model)->snapshot_id;
}

static int start_lake_txn(planar_conn *c, pl_lake *lake, pl_err *err)
{
	if (lake->txn_owner && lake->txn_owner != c)
		return pl_err_set(err, PL_EBUSY, "lake \"%s\" has an open write transaction in another session", lake->name);
	if (lake->txn_owner)
		return 0;
	int rc = lake->cat->ops->clone(lake->cat, &lake->txn_cat, err);
	if (rc == 0 && (rc = pl_commit_begin(lake->txn_cat, begin_snapshot(c, lake), &lake->txn_state, err)) != 0) {
		pl_catdb_close(lake->txn_cat);
		lake->txn_cat = NULL;
	}
	if (rc == 0) {
		lake->txn_owner = c;
		lake->shared_model = lake->model; /* the statement runs with the pending model */
	}
	return rc;
}

static void abort_all(planar_conn *c)
{
	planar_db *db = c->db;
	for (size_t i = 0; i < db->nlakes; i++)
		if (db->lakes[i]->txn_owner == c)
			pl_txn_abort_lake(db->lakes[i]);
}

int pl_txn_apply(planar_conn *c, pl_lake *lake, pl_txn *txn, pl_err *err)
{
	bool real_conflict = false;
	int rc = start_lake_txn(c, lake, err);
	if (rc == 0)
		rc = pl_commit_apply(lake->txn_cat, txn, &lake->txn_state, &real_conflict, err);
	for (size_t i = 0; rc == 0 && i < txn->written.len; i++)
		rc = pl_strv_push(&lake->txn_files, txn->written.items[i]) ? pl_err_nomem(err) : 0;
	pl_model *m = NULL;
	if (rc == 0)
		rc = pl_model_load(&m, lake->txn_cat, lake->txn_state.snapshot, lake->data_path, err);
	/* the pending snapshot changes with each statement: read every file now */
	if (rc == 0 && (rc = pl_model_load_all_files(m, err)) != 0)
		pl_model_free(m);
	if (rc == 0) {
		pl_model_free(lake->txn_model);
		lake->txn_model = m;
		lake->model = m;
		/* DuckDB lets a transaction write to one attached database: the first lake written
		 * gets the transaction's private views; others show their writes after COMMIT. */
		if (!c->txn_views_lake || c->txn_views_lake == lake) {
			c->txn_views_lake = lake;
			rc = pl_lake_sync_views(c->db, lake, c->con, err);
		}
	}
	if (rc) {
		pl_txn_remove_written(txn);
		abort_all(c);
		c->txn_aborted = true;
	} else {
		pl_strv_dispose(&txn->written); /* now owned by the transaction */
	}
	return rc;
}

void pl_txn_enter(planar_conn *c)
{
	planar_db *db = c->db;
	for (size_t i = 0; i < db->nlakes; i++) {
		pl_lake *lake = db->lakes[i];
		if (lake->txn_owner == c && lake->txn_model && !lake->shared_model) {
			lake->shared_model = lake->model;
			lake->model = lake->txn_model;
		}
	}
}

void pl_txn_leave(planar_conn *c)
{
	planar_db *db = c->db;
	for (size_t i = 0; i < db->nlakes; i++) {
		pl_lake *lake = db->lakes[i];
		if (lake->txn_owner == c && lake->shared_model) {
			lake->model = lake->shared_model;
			lake->shared_model = NULL;
		}
	}
}

void pl_txn_take_commit_message(planar_conn *c, pl_txn *txn)
{
	if (!c->commit_author && !c->commit_message && !c->commit_extra)
		return;
	free(txn->author);
	free(txn->commit_message);
	free(txn->commit_extra_info);
	txn->author = c->commit_author;
	txn->commit_message = c->commit_message;
	txn->commit_extra_info = c->commit_extra;
	c->commit_author = c->commit_message = c->commit_extra = NULL;
}

int pl_txn_set_commit_message(planar_conn *c, const char *author, const char *message, const char *extra,
			      pl_err *err)
{
	free(c->commit_author);
	free(c->commit_message);
	free(c->commit_extra);
	c->commit_author = author ? pl_strdup(author) : NULL;
	c->commit_message = message ? pl_strdup(message) : NULL;
	c->commit_extra = extra ? pl_strdup(extra) : NULL;
	if ((author && !c->commit_author) || (message && !c->commit_message) || (extra && !c->commit_extra))
		return pl_err_nomem(err);
	return 0;
}

static int do_begin(pl_stmt *st, planar_result **out, pl_err *err)
{
	planar_conn *c = st->conn;
	planar_db *db = c->db;
	if (c->in_txn)
		return pl_err_set(err, PL_EINVALID, "TransactionContext Error: cannot start a transaction within a transaction");
	int rc = pl_stmt_passthrough(st, st->sql, out, err);
	if (rc)
		return rc;
	c->begin = calloc(db->nlakes + 1, sizeof(*c->begin));
	if (!c->begin)
		return pl_err_nomem(err);
	for (size_t i = 0; i < db->nlakes; i++) {
		c->begin[c->nbegin++] = (pl_begin_snapshot){db->lakes[i], db->lakes[i]->model->snapshot_id};
		db->lakes[i]->txn_readers++;
	}
	c->in_txn = true;
	return 0;
}

static int commit_lakes(planar_conn *c, pl_err *err)
{
	planar_db *db = c->db;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < db->nlakes; i++) {
		pl_lake *lake = db->lakes[i];
		if (lake->txn_owner != c)
			continue;
		rc = pl_commit_finish(lake->txn_cat, &lake->txn_state, c->commit_author, c->commit_message,
				      c->commit_extra, err);
		if (rc && lake->txn_state.outcome_unknown)
			pl_strv_dispose(&lake->txn_files); /* it may have landed: keep its files */
		if (rc == 0) {
			pl_strv_dispose(&lake->txn_files); /* committed: the files stay */
			end_lake_txn(lake);
		}
	}
	if (rc)
		abort_all(c);
	return rc;
}

static void refresh_all(planar_conn *c)
{
	planar_db *db = c->db;
	pl_err ignored;
	for (size_t i = 0; i < db->nlakes; i++)
		pl_lake_refresh(db->lakes[i], db, true, &ignored);
}

static int do_commit(pl_stmt *st, planar_result **out, pl_err *err)
{
	planar_conn *c = st->conn;
	if (!c->in_txn)
		return pl_stmt_passthrough(st, st->sql, out, err);
	if (c->txn_aborted) {
		pl_err ignored;
		pl_engine_exec(c->con, "ROLLBACK", &ignored);
		clear_conn(c);
		return pl_err_set(err, PL_EINVALID,
				  "TransactionContext Error: the transaction was aborted by an earlier error and has been rolled back");
	}
	int rc = commit_lakes(c, err);
	pl_err ignored;
	if (rc) {
		pl_engine_exec(c->con, "ROLLBACK", &ignored);
	} else if (pl_stmt_passthrough(st, st->sql, out, &ignored) != 0) {
		/* The lakes committed; DuckDB's side (the private views) is simply dropped. */
		pl_engine_exec(c->con, "ROLLBACK", &ignored);
	}
	clear_conn(c);
	refresh_all(c);
	return rc;
}

static int do_rollback(pl_stmt *st, planar_result **out, pl_err *err)
{
	planar_conn *c = st->conn;
	abort_all(c);
	bool was = c->in_txn;
	clear_conn(c);
	int rc = pl_stmt_passthrough(st, st->sql, out, err);
	if (rc && was) { /* DuckDB may have dropped its transaction already */
		pl_err_clear(err);
		rc = 0;
	}
	return rc;
}

int pl_txn_route(pl_stmt *st, planar_result **out, pl_err *err, bool *handled)
{
	const pl_toks *t = &st->toks;
	if (is_begin(t)) {
		*handled = true;
		return do_begin(st, out, err);
	}
	if (is_commit(t)) {
		*handled = true;
		return do_commit(st, out, err);
	}
	if (is_rollback(t)) {
		*handled = true;
		return do_rollback(st, out, err);
	}
	return 0;
}

int pl_txn_check_usable(planar_conn *c, const pl_stmt *st, pl_err *err)
{
	if (!c->txn_aborted || is_commit(&st->toks) || is_rollback(&st->toks))
		return 0;
	return pl_err_set(err, PL_EINVALID,
			  "TransactionContext Error: Current transaction is aborted (please ROLLBACK)");
}

void pl_txn_mark_aborted(planar_conn *c)
{
	pthread_mutex_lock(&c->db->lock);
	abort_all(c);
	pthread_mutex_unlock(&c->db->lock);
	c->txn_aborted = true;
}

void pl_txn_dispose_conn(planar_conn *c)
{
	abort_all(c);
	clear_conn(c);
}
