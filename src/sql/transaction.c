/*
 * transaction.c -- multi-statement transactions over lakes (see transaction.h).
 */
#include "sql/transaction.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog/pending.h"
#include "core/str.h"
#include "storage/s3lake.h"

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

/* Drops a lake's uncommitted writes; their files are removed unless `keep_files`. */
static void drop_writes(pl_begin_snapshot *e, bool keep_files)
{
	for (size_t i = 0; !keep_files && i < e->files.len; i++)
		pl_s3lake_unlink(e->files.items[i]); /* unlink(), and an S3 lake's object */
	pl_strv_dispose(&e->files);
	for (size_t i = 0; i < e->nwrites; i++)
		pl_txn_dispose(&e->writes[i]);
	free(e->writes);
	e->writes = NULL;
	e->nwrites = 0;
	pl_mirror_release(e->lake, &e->synced, keep_files);
	pl_synced_set_dispose(&e->synced);
	if (e->pending)
		e->lake->txn_writers--;
	pl_model_free(e->pending);
	e->pending = NULL;
	e->next_local = 0;
}

static void abort_all(planar_conn *c)
{
	for (size_t i = 0; i < c->nbegin; i++)
		drop_writes(&c->begin[i], false);
}

static void clear_conn(planar_conn *c)
{
	abort_all(c);
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

/* The transaction's entry for a lake, added (at the lake's current snapshot) for a lake attached
 * after BEGIN; NULL when out of memory. */
static pl_begin_snapshot *lake_entry(planar_conn *c, pl_lake *lake)
{
	for (size_t i = 0; i < c->nbegin; i++)
		if (c->begin[i].lake == lake)
			return &c->begin[i];
	pl_begin_snapshot *p = realloc(c->begin, (c->nbegin + 1) * sizeof(*p));
	if (!p)
		return NULL;
	c->begin = p;
	pl_model *committed = lake->shared_model ? lake->shared_model : lake->model;
	p[c->nbegin] = (pl_begin_snapshot){.lake = lake, .snapshot = committed->snapshot_id, .files = PL_STRV_INIT};
	if (pl_synced_set_begin(&p[c->nbegin].synced, lake))
		return NULL;
	lake->txn_readers++;
	return &c->begin[c->nbegin++];
}

/* Makes m the model the session's statement sees for the lake (until pl_txn_leave). */
static void swap_in(pl_lake *lake, pl_model *m)
{
	if (lake->shared_model)
		pl_model_free(lake->model);
	else
		lake->shared_model = lake->model;
	lake->model = pl_model_ref(m);
}

/* Removes the path that ends in "/" + rel from v (unlinking the file when `unlink_it`). */
static void drop_path(pl_strv *v, const char *rel, bool unlink_it)
{
	size_t rl = strlen(rel);
	for (size_t i = 0; i < v->len; i++) {
		size_t l = strlen(v->items[i]);
		if (l <= rl || v->items[i][l - rl - 1] != '/' || strcmp(v->items[i] + l - rl, rel) != 0)
			continue;
		if (unlink_it)
			pl_s3lake_unlink(v->items[i]);
		free(v->items[i]);
		memmove(&v->items[i], &v->items[i + 1], (v->len - i - 1) * sizeof(*v->items));
		v->len--;
		return;
	}
}

/* Takes delete file k out of earlier write t of the transaction: its file is removed from disk
 * now and it is never committed. */
static void take_out_delete(pl_begin_snapshot *e, pl_txn *t, size_t k)
{
	pl_new_delete *d = &t->deletes[k];
	drop_path(&t->written, d->path, false);
	drop_path(&e->files, d->path, true);
	pl_new_delete_clear(d);
	memmove(d, d + 1, (t->ndeletes - k - 1) * sizeof(*d));
	t->ndeletes--;
}

/* A delete file of txn that replaces one an earlier statement of the transaction wrote (a second
 * DELETE of the same data file: the new file holds the positions of both) takes that one's place:
 * the earlier one is never committed and its file is removed now, as DuckLake keeps one delete
 * file per data file and transaction. Not for delete files that carry their positions' snapshots
 * (flushes), whose replaced rows are dropped rather than ended. */
static void collapse_deletes(pl_begin_snapshot *e, pl_txn *txn)
{
	for (size_t i = 0; i < txn->ndeletes; i++) {
		pl_new_delete *d = &txn->deletes[i];
		if (d->replaces < PL_LOCAL_ID_BASE || d->drop_replaced || d->flushed)
			continue;
		for (size_t w = 0; w < e->nwrites; w++) {
			pl_txn *prev = &e->writes[w];
			size_t k = 0;
			while (k < prev->ndeletes && prev->deletes[k].assigned_id != d->replaces)
				k++;
			if (k == prev->ndeletes)
				continue;
			pl_new_delete *p = &prev->deletes[k];
			if (p->drop_replaced || p->flushed || p->new_file)
				break;
			d->replaces = p->replaces;
			take_out_delete(e, prev, k);
			break;
		}
	}
}

/* Whether the writes of the transaction refer to the table it created with local id `id` (made
 * by the only table of writes[w0], as -1 there) only through its files, deletes and inlined rows,
 * which a DROP of it can take back. */
static bool only_data_refers(const pl_begin_snapshot *e, size_t w0, int64_t id)
{
	for (size_t w = 0; w < e->nwrites; w++) {
		const pl_txn *t = &e->writes[w];
		pl_txn probe = {0};
		/* everything but what a drop takes back */
		probe.ndropped_tables = t->ndropped_tables, probe.dropped_tables = t->dropped_tables;
		probe.nalters = t->nalters, probe.alters = t->alters;
		probe.npartitions = t->npartitions, probe.partitions = t->partitions;
		probe.nsorts = t->nsorts, probe.sorts = t->sorts;
		probe.ntags = t->ntags, probe.tags = t->tags;
		probe.ninlined_deletes = t->ninlined_deletes, probe.inlined_deletes = t->inlined_deletes;
		probe.nflushes = t->nflushes, probe.flushes = t->flushes;
		probe.nfile_deletes = t->nfile_deletes, probe.file_deletes = t->file_deletes;
		if (pl_txn_touches_table(&probe, id) || (w == w0 && pl_txn_touches_table(&probe, -1)))
			return false;
		bool has_files = false;
		for (size_t i = 0; i < t->nfiles; i++) {
			if (t->files[i].namemap)
				return false;
			has_files = has_files || t->files[i].table_ref == id || (w == w0 && t->files[i].table_ref == -1);
		}
		/* taking its files out would move the files other delete files of this write name */
		for (size_t i = 0; has_files && i < t->ndeletes; i++)
			if (t->deletes[i].new_file && t->deletes[i].table_id != id)
				return false;
	}
	return true;
}

/* Takes out of the earlier writes what they did to the table (local id `id`, created by
 * writes[w0]): its creation, its files (removed from disk now), delete files and inlined rows. */
static void take_back_table(pl_begin_snapshot *e, size_t w0, int64_t id)
{
	for (size_t w = 0; w < e->nwrites; w++) {
		pl_txn *t = &e->writes[w];
		for (size_t i = 0; i < t->nfiles;) {
			pl_new_file *f = &t->files[i];
			if (f->table_ref != id && !(w == w0 && f->table_ref == -1)) {
				i++;
				continue;
			}
			drop_path(&t->written, f->path, false);
			drop_path(&e->files, f->path, true);
			pl_new_file_clear(f);
			memmove(f, f + 1, (t->nfiles - i - 1) * sizeof(*f));
			t->nfiles--;
		}
		for (size_t i = 0; i < t->ndeletes;) {
			pl_new_delete *d = &t->deletes[i];
			if (d->table_id != id) {
				i++;
				continue;
			}
			take_out_delete(e, t, i);
		}
		for (size_t i = 0; i < t->nended_files;) {
			if (t->ended_files[i].table_id == id) {
				memmove(&t->ended_files[i], &t->ended_files[i + 1], (t->nended_files - i - 1) * sizeof(*t->ended_files));
				t->nended_files--;
			} else {
				i++;
			}
		}
		for (size_t i = 0; i < t->ninlined_inserts;) {
			pl_inlined_insert *ins = &t->inlined_inserts[i];
			if (ins->table_id != id && !(w == w0 && ins->table_id == -1)) {
				i++;
				continue;
			}
			pl_inlined_insert_dispose(ins);
			memmove(ins, ins + 1, (t->ninlined_inserts - i - 1) * sizeof(*ins));
			t->ninlined_inserts--;
		}
	}
	pl_txn *t0 = &e->writes[w0];
	pl_new_columns_free(t0->tables[0].columns, t0->tables[0].ncolumns);
	free(t0->tables[0].schema_name);
	free(t0->tables[0].name);
	t0->ntables = 0;
}

/* Removes entry i of a list of dropped objects. */
static void remove_dropped(pl_dropped *v, size_t *n, size_t i)
{
	free(v[i].name);
	memmove(&v[i], &v[i + 1], (*n - i - 1) * sizeof(*v));
	(*n)--;
}

/* DROP TABLE of a table the transaction created: as in DuckLake, the table never reaches the
 * catalog and its files are removed at once; the drop itself is then nothing to commit. */
static void drop_local_tables(pl_begin_snapshot *e, pl_txn *txn)
{
	for (size_t i = 0; i < txn->ndropped_tables;) {
		int64_t id = txn->dropped_tables[i].id;
		size_t w0 = 0;
		while (id >= PL_LOCAL_ID_BASE && w0 < e->nwrites &&
		       !(e->writes[w0].ntables == 1 && e->writes[w0].tables[0].assigned_id == id))
			w0++;
		if (id < PL_LOCAL_ID_BASE || w0 == e->nwrites || !only_data_refers(e, w0, id) ||
		    pl_txn_touches_table(&(pl_txn){.nfiles = txn->nfiles, .files = txn->files}, id)) {
			i++;
			continue;
		}
		take_back_table(e, w0, id);
		remove_dropped(txn->dropped_tables, &txn->ndropped_tables, i);
	}
}

/* Whether a write of the transaction refers to the schema it created with local id `id` (made by
 * the only schema of writes[w0], as -1 there): a table, view, macro or renamed table in it. */
static bool schema_referred(const pl_begin_snapshot *e, size_t w0, int64_t id)
{
	for (size_t w = 0; w < e->nwrites; w++) {
		const pl_txn *t = &e->writes[w];
		for (size_t i = 0; i < t->ntables; i++)
			if (t->tables[i].schema_ref == id || (w == w0 && t->tables[i].schema_ref == -1))
				return true;
		for (size_t i = 0; i < t->nviews; i++)
			if (t->views[i].schema_id == id)
				return true;
		for (size_t i = 0; i < t->nmacros; i++)
			if (t->macros[i].macro.schema_id == id)
				return true;
		for (size_t i = 0; i < t->nalters; i++)
			if (t->alters[i].new_name && t->alters[i].schema_id == id)
				return true;
	}
	return false;
}

/* DROP SCHEMA of a schema the transaction created and nothing of it still refers to (its tables
 * were dropped, and taken back, before): as in DuckLake, neither reaches the catalog. */
static void drop_local_schemas(pl_begin_snapshot *e, pl_txn *txn)
{
	for (size_t i = 0; i < txn->ndropped_schemas;) {
		int64_t id = txn->dropped_schemas[i].id;
		size_t w0 = 0;
		while (id >= PL_LOCAL_ID_BASE && w0 < e->nwrites &&
		       !(e->writes[w0].nschemas == 1 && e->writes[w0].schemas[0].assigned_id == id))
			w0++;
		if (id < PL_LOCAL_ID_BASE || w0 == e->nwrites || schema_referred(e, w0, id) ||
		    txn->ntables || txn->nviews || txn->nmacros || txn->nalters) {
			i++;
			continue;
		}
		pl_txn *t0 = &e->writes[w0];
		free(t0->schemas[0].name);
		t0->nschemas = 0;
		remove_dropped(txn->dropped_schemas, &txn->ndropped_schemas, i);
	}
}

const pl_txn *pl_txn_writes(planar_conn *c, pl_lake *lake, size_t *n)
{
	*n = 0;
	for (size_t i = 0; i < c->nbegin; i++)
		if (c->begin[i].lake == lake) {
			*n = c->begin[i].nwrites;
			return c->begin[i].writes;
		}
	return NULL;
}

int pl_txn_add_compaction(planar_conn *c, pl_lake *lake, pl_txn *txn, pl_err *err)
{
	pl_begin_snapshot *e = lake_entry(c, lake);
	const pl_model *at = NULL;
	pl_model *m = NULL;
	int rc = e ? 0 : pl_err_nomem(err);
	/* the first write: the transaction's model is its BEGIN snapshot's (nothing it reads moves),
	 * and the lake counts a writer (its files are in no catalog row yet) */
	if (rc == 0 && !e->pending)
		rc = pl_lake_txn_model_at(lake, e->snapshot, &at, err);
	if (rc == 0 && !e->pending)
		rc = pl_model_apply_txn((pl_model *)at, &(pl_txn){0}, lake->data_path, &e->next_local, &m, err);
	pl_txn *slot = rc ? NULL : realloc(e->writes, (e->nwrites + 1) * sizeof(*slot));
	if (rc == 0 && !slot)
		rc = pl_err_nomem(err);
	if (slot)
		e->writes = slot;
	if (rc == 0)
		rc = pl_txn_finish_pending(txn, err);
	for (size_t i = 0; rc == 0 && i < txn->written.len; i++)
		rc = pl_strv_push(&e->files, txn->written.items[i]) ? pl_err_nomem(err) : 0;
	if (rc) {
		pl_model_free(m);
		return rc;
	}
	if (m) {
		e->pending = m;
		lake->txn_writers++;
	}
	e->writes[e->nwrites++] = *txn;
	memset(txn, 0, sizeof(*txn)); /* the transaction owns the changes now */
	return 0;
}

int pl_txn_apply(planar_conn *c, pl_lake *lake, pl_txn *txn, pl_err *err)
{
	pl_begin_snapshot *e = lake_entry(c, lake);
	/* compactions run earlier of tables this write changes would replace the files it changes */
	for (size_t w = 0; e && w < e->nwrites; w++)
		if (e->writes[w].ncompactions)
			pl_txn_drop_compactions(&e->writes[w], txn);
	const pl_model *at = NULL;
	pl_model *m = NULL;
	int rc = e ? 0 : pl_err_nomem(err);
	if (rc == 0 && !e->pending)
		rc = pl_lake_txn_model_at(lake, e->snapshot, &at, err);
	pl_txn *slot = rc ? NULL : realloc(e->writes, (e->nwrites + 1) * sizeof(*slot));
	if (rc == 0 && !slot)
		rc = pl_err_nomem(err);
	if (slot)
		e->writes = slot;
	/* the files are made durable now: COMMIT only writes catalog rows */
	if (rc == 0)
		rc = pl_txn_finish_pending(txn, err);
	if (rc == 0)
		collapse_deletes(e, txn);
	if (rc == 0)
		rc = pl_model_apply_txn(e->pending ? e->pending : (pl_model *)at, txn, lake->data_path, &e->next_local, &m,
					err);
	for (size_t i = 0; rc == 0 && i < txn->written.len; i++)
		rc = pl_strv_push(&e->files, txn->written.items[i]) ? pl_err_nomem(err) : 0;
	/* after the model has dropped it: the writes no longer make it */
	if (rc == 0)
		drop_local_tables(e, txn);
	if (rc == 0)
		drop_local_schemas(e, txn);
	if (rc == 0) {
		if (!e->pending)
			lake->txn_writers++;
		pl_model_free(e->pending);
		e->pending = m;
		m = NULL;
		e->writes[e->nwrites++] = *txn; /* its written list stays: COMMIT checks the files exist */
		memset(txn, 0, sizeof(*txn)); /* the transaction owns the changes now */
		swap_in(lake, e->pending);
		/* DuckDB lets a transaction write to one attached database: the first lake written
		 * gets the transaction's private views; others show their writes after COMMIT. */
		if (!c->txn_views_lake || c->txn_views_lake == lake) {
			c->txn_views_lake = lake;
			rc = pl_lake_sync_views(c->db, lake, c->con, &e->synced, err);
			if (rc && strstr(err->msg, "write-write conflict"))
				rc = pl_err_set(err, PL_ECONFLICT, "conflict: a transaction of another session changed the "
						"shape of the same table of lake \"%s\" at the same time; ROLLBACK and retry",
						lake->name);
		}
	}
	pl_model_free(m);
	if (rc) {
		pl_txn_remove_written(txn);
		abort_all(c);
		c->txn_aborted = true;
	}
	return rc;
}

int pl_txn_enter(planar_conn *c, const pl_toks *t, pl_err *err)
{
	int rc = 0;
	if (is_rollback(t)) /* reads nothing (and must work when the snapshot is gone) */
		return 0;
	for (size_t i = 0; rc == 0 && i < c->nbegin; i++) {
		pl_begin_snapshot *e = &c->begin[i];
		const pl_model *at = NULL;
		if (e->pending)
			swap_in(e->lake, e->pending);
		else if (!e->lake->pinned && e->lake->model->snapshot_id != e->snapshot &&
			 (rc = pl_lake_txn_model_at(e->lake, e->snapshot, &at, err)) == 0)
			swap_in(e->lake, (pl_model *)at);
	}
	return rc;
}

void pl_txn_leave(planar_conn *c)
{
	planar_db *db = c->db;
	for (size_t i = 0; i < db->nlakes; i++) {
		pl_lake *lake = db->lakes[i];
		if (lake->shared_model) {
			pl_model_free(lake->model);
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
		c->begin[c->nbegin++] = (pl_begin_snapshot){.lake = db->lakes[i], .snapshot = db->lakes[i]->model->snapshot_id,
							    .files = PL_STRV_INIT};
		db->lakes[i]->txn_readers++;
		if (pl_synced_set_begin(&c->begin[c->nbegin - 1].synced, db->lakes[i]))
			rc = pl_err_nomem(err);
	}
	if (rc) {
		pl_err ignored = {0};
		abort_all(c);
		pl_engine_exec(c->con, "ROLLBACK", &ignored);
		return rc;
	}
	c->in_txn = true;
	return 0;
}

/* Commits each lake's writes as one snapshot on the lake's snapshot at BEGIN: nothing was
 * written to the catalog before, so this is where concurrent commits are checked for conflicts. */
static int commit_lakes(planar_conn *c, pl_err *err)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < c->nbegin; i++) {
		pl_begin_snapshot *e = &c->begin[i];
		bool changes = false;
		for (size_t w = 0; w < e->nwrites && !changes; w++)
			changes = !pl_txn_is_empty(&e->writes[w]);
		if (!changes) { /* e.g. a table made and dropped again: no snapshot, as in DuckLake */
			drop_writes(e, true);
			continue;
		}
		int64_t snap = 0;
		bool unknown = false;
		pl_setting_retry(c, &e->writes[0].retry);
		rc = pl_lake_check_commit_info(e->lake, c->commit_author || c->commit_message || c->commit_extra, err);
		if (rc)
			break;
		rc = pl_commit_many(e->lake->cat, e->writes, e->nwrites, e->snapshot, c->commit_author, c->commit_message,
				    c->commit_extra, &snap, &unknown, err);
		if (rc == 0) {
			e->lake->has_committed = true;
			e->lake->last_committed = snap;
			/* a flush moved rows of earlier snapshots: models of those snapshots built before
			 * (time travel inside the transaction) would look for them where they were */
			bool flushed = false;
			for (size_t w = 0; w < e->nwrites && !flushed; w++)
				flushed = e->writes[w].nflushes > 0;
			if (flushed)
				pl_lake_forget_snapshot_models(c->db, e->lake);
		}
		/* committed, or perhaps landed: the files stay */
		if (rc == 0 || unknown)
			drop_writes(e, true);
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
	pl_txn_leave(c); /* from here on the lakes show their committed state */
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
	pl_txn_leave(c);
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

void pl_txn_statement_failed(planar_conn *c, const pl_err *err)
{
	/* Errors raised before anything ran change nothing: DuckDB keeps the transaction, and a
	 * Planar statement changes the transaction's state only as its last step. */
	static const char *const before_running[] = {"Parser Error:", "Binder Error:", "Catalog Error:", NULL};
	for (const char *const *p = before_running; *p; p++)
		if (strncmp(err->msg, *p, strlen(*p)) == 0 && !c->txn_aborted)
			return;
	pl_txn_mark_aborted(c);
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
	clear_conn(c);
}
