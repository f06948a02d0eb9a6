/*
 * tests/unit/catalog/model.c -- cmocka tests of loading a model's data files on first use
 * (src/catalog/model_files.c) on a fresh catalog per test and driver.
 *
 * A lake of several tables with many files, column changes (files of both layouts), deleted
 * rows and ended files: at every snapshot a model whose tables load their files one by one
 * (and answer their summaries before that) matches one that loaded every file at once; threads
 * sharing one model load its tables while another connection commits, and see the model's
 * snapshot only; advancing a model with loaded and unloaded tables matches a full load.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/commit.h"
#include "catalog/init.h"
#include "catalog/model.h"

#include "fixture.h"

static int setup(void **state)
{
	return fixture_setup(state, "model");
}

static int64_t commit_on(pl_catdb *db, pl_txn *t)
{
	pl_err err = {0};
	int64_t snap = -1, base = -1;
	if (pl_catalog_latest_snapshot(db, &base, &err) || pl_commit(db, t, base, &snap, &err))
		fail_msg("commit: %s", err.msg);
	pl_txn_dispose(t);
	return snap;
}

static pl_new_column column(int64_t id, const char *name)
{
	return (pl_new_column){.id = id, .order = id, .parent = -1, .name = strdup(name), .type = strdup("int64"),
			       .default_value = strdup("NULL"), .default_value_type = strdup("literal"),
			       .nulls_allowed = true};
}

/* Commits main.<name> with one column; returns the table id. */
static int64_t new_table(fixture *f, const char *name)
{
	pl_txn t = {0};
	pl_new_table *nt = pl_txn_add_table(&t);
	nt->schema_ref = 0;
	nt->schema_name = strdup("main");
	nt->name = strdup(name);
	nt->columns = malloc(sizeof(*nt->columns));
	nt->columns[nt->ncolumns++] = column(1, "id");
	pl_err err = {0};
	int64_t snap = -1, base = -1;
	if (pl_catalog_latest_snapshot(f->db, &base, &err) || pl_commit(f->db, &t, base, &snap, &err))
		fail_msg("commit: %s", err.msg);
	int64_t id = nt->assigned_id;
	pl_txn_dispose(&t);
	return id;
}

/* One snapshot adding n files named <prefix>-<k>.parquet to table, through db. */
static int64_t add_files(pl_catdb *db, int64_t table, const char *prefix, int n)
{
	pl_txn t = {0};
	for (int k = 0; k < n; k++) {
		pl_new_file *nf = pl_txn_add_file(&t);
		char path[64];
		snprintf(path, sizeof(path), "%s-%d.parquet", prefix, k);
		nf->table_ref = table;
		nf->path = strdup(path);
		nf->record_count = 10;
		nf->file_size = 100;
		nf->footer_size = 10;
	}
	return commit_on(db, &t);
}

static int64_t file_id(fixture *f, const char *path)
{
	pl_rows *r = NULL;
	pl_err err = {0};
	pl_val p = PL_VTEXT(path);
	if (pl_catdb_query(f->db, "SELECT data_file_id FROM ducklake_data_file WHERE path = ?", &p, 1, &r, &err))
		fail_msg("%s", err.msg);
	int64_t id = pl_rows_int(r, 0, 0, -1);
	pl_rows_free(r);
	return id;
}

static int64_t delete_rows(fixture *f, int64_t table, const char *file, const char *del)
{
	pl_txn t = {0};
	pl_new_delete *d = pl_txn_add_delete(&t);
	*d = (pl_new_delete){table, file_id(f, file), strdup(del), strdup("parquet"), 2, 50, 5, -1, -1, 0, false, NULL, false, false, -1, -1};
	return commit_on(f->db, &t);
}

static int64_t end_file(fixture *f, int64_t table, const char *file)
{
	pl_txn t = {0};
	*pl_txn_add_ended_file(&t) = (pl_ended_file){table, file_id(f, file), -1};
	return commit_on(f->db, &t);
}

static int64_t add_column(fixture *f, int64_t table, int64_t id, const char *name)
{
	pl_txn t = {0};
	pl_alter *a = pl_txn_add_alter(&t);
	a->table_id = table;
	a->columns = malloc(sizeof(*a->columns));
	a->columns[a->ncolumns++] = column(id, name);
	return commit_on(f->db, &t);
}

/* Whether the files of a (loaded) and b (loaded) are the same list; a message when not. */
static bool same_files(const pl_table *a, const pl_table *b, char *why, size_t cap)
{
	if (a->nfiles != b->nfiles) {
		snprintf(why, cap, "table %lld: %zu files against %zu", (long long)a->id, a->nfiles, b->nfiles);
		return false;
	}
	for (size_t i = 0; i < a->nfiles; i++) {
		const pl_data_file *x = &a->files[i], *y = &b->files[i];
		bool same = x->id == y->id && strcmp(x->path, y->path) == 0 && x->delete_id == y->delete_id &&
			    x->row_id_start == y->row_id_start && x->begin_snapshot == y->begin_snapshot &&
			    (x->delete_path == NULL) == (y->delete_path == NULL) &&
			    (!x->delete_path || strcmp(x->delete_path, y->delete_path) == 0);
		if (!same) {
			snprintf(why, cap, "table %lld: file %zu differs (%s / %s)", (long long)a->id, i, x->path, y->path);
			return false;
		}
	}
	return true;
}

static void assert_same_summary(const pl_files_summary *lazy, const pl_files_summary *full)
{
	assert_int_equal(lazy->current, full->current);
	assert_int_equal(lazy->older, full->older);
	assert_int_equal(lazy->current_deletes, full->current_deletes);
	assert_int_equal(lazy->older_deletes, full->older_deletes);
	size_t want = full->nfiles < PL_MODEL_SUMMARY_FILES ? full->nfiles : PL_MODEL_SUMMARY_FILES;
	assert_int_equal(lazy->nfiles, want);
}

/* Some file of the layout is one of the full model's files of that layout; none when it has none. */
static void assert_some_file(const pl_model *lazy, const pl_table *lt, const pl_table *full, bool current)
{
	pl_err err = {0};
	char *path = NULL;
	assert_int_equal(pl_model_table_some_file(lazy, lt, current, &path, &err), 0);
	bool any = false, found = false;
	for (size_t i = 0; i < full->nfiles; i++) {
		if ((full->files[i].begin_snapshot >= full->schema_since) != current)
			continue;
		any = true;
		found = found || (path && strcmp(path, full->files[i].path) == 0);
	}
	assert_int_equal(path != NULL, any);
	assert_int_equal(found, any);
	free(path);
}

/* Every table of a lazily loaded model at snap: summary and one file before loading, then the files,
 * the same as a model that loaded everything at once. */
static void check_snapshot(fixture *f, int64_t snap)
{
	pl_err err = {0};
	pl_model *lazy = NULL, *full = NULL;
	assert_int_equal(pl_model_load(&lazy, f->db, snap, f->data, &err), 0);
	assert_int_equal(pl_model_load(&full, f->db, snap, f->data, &err), 0);
	assert_int_equal(pl_model_load_all_files(full, &err), 0);
	assert_int_equal(lazy->ntables, full->ntables);
	for (size_t k = 0; k < lazy->ntables; k++) {
		const pl_table *lt = &lazy->tables[k], *ft = pl_model_table_by_id(full, lazy->tables[k].id);
		assert_non_null(ft);
		assert_false(ft->files_deferred);
		assert_true(lt->files_deferred);
		assert_int_equal(pl_model_table_nfiles_hint(lazy, lt), SIZE_MAX);
		pl_files_summary ls, fs;
		assert_int_equal(pl_model_table_summary(lazy, lt, &ls, &err), 0);
		assert_int_equal(pl_model_table_summary(full, ft, &fs, &err), 0);
		assert_same_summary(&ls, &fs);
		assert_int_equal(pl_model_table_nfiles_hint(lazy, lt), ls.nfiles);
		assert_some_file(lazy, lt, ft, true);
		assert_some_file(lazy, lt, ft, false);
		assert_true(lt->files_deferred);
		const pl_data_file *files = NULL;
		size_t n = 0;
		assert_int_equal(pl_model_table_files(lazy, lt, &files, &n, &err), 0);
		assert_false(lt->files_deferred);
		assert_ptr_equal(files, lt->files);
		assert_int_equal(n, ft->nfiles);
		char why[200];
		if (!same_files(lt, ft, why, sizeof(why)))
			fail_msg("snapshot %lld: %s", (long long)snap, why);
		assert_int_equal(pl_model_table_summary(lazy, lt, &ls, &err), 0); /* now from its files */
		assert_int_equal(ls.nfiles, fs.nfiles);
	}
	/* loading all after some tables: the others join them */
	pl_model_free(lazy);
	assert_int_equal(pl_model_load(&lazy, f->db, snap, f->data, &err), 0);
	if (lazy->ntables > 0)
		assert_int_equal(pl_model_table_files(lazy, &lazy->tables[0], NULL, NULL, &err), 0);
	assert_int_equal(pl_model_load_all_files(lazy, &err), 0);
	for (size_t k = 0; k < lazy->ntables; k++) {
		char why[200];
		assert_false(lazy->tables[k].files_deferred);
		if (!same_files(&lazy->tables[k], pl_model_table_by_id(full, lazy->tables[k].id), why, sizeof(why)))
			fail_msg("snapshot %lld, all files: %s", (long long)snap, why);
	}
	pl_model_free(lazy);
	pl_model_free(full);
}

static void model__lazy_files_match_a_full_load_at_every_snapshot(void **state)
{
	fixture *f = *state;
	pl_err err = {0};
	int64_t first = -1, latest = -1;
	assert_int_equal(pl_catalog_latest_snapshot(f->db, &first, &err), 0);
	int64_t t1 = new_table(f, "t1"), t2 = new_table(f, "t2");
	new_table(f, "empty");
	add_files(f->db, t1, "a", 70); /* more than the summary counts */
	add_files(f->db, t2, "b", 30);
	add_column(f, t1, 2, "extra"); /* t1's files so far are of the older layout */
	add_files(f->db, t1, "c", 20);
	delete_rows(f, t1, "a-3.parquet", "del-a3.parquet");
	delete_rows(f, t2, "b-4.parquet", "del-b4.parquet");
	end_file(f, t2, "b-5.parquet");
	add_files(f->db, t2, "d", 5);
	delete_rows(f, t1, "c-1.parquet", "del-c1.parquet");
	end_file(f, t1, "a-0.parquet");
	assert_int_equal(pl_catalog_latest_snapshot(f->db, &latest, &err), 0);
	for (int64_t s = first; s <= latest; s++)
		check_snapshot(f, s);
}

/* ---- threads sharing one model ----------------------------------------------------------- */

#define NTABLES 4
#define NREADERS 4

typedef struct shared {
	pl_model *m;    /* lazily loaded, shared by the readers */
	pl_model *full; /* the same snapshot, loaded at once (read only) */
	int64_t tables[NTABLES];
	pl_catdb *writer;
	int rounds;
	pthread_mutex_t lock;
	char failure[256];
} shared;

typedef struct reader {
	shared *sh;
	int seed;
} reader;

static void fail_shared(shared *sh, const char *what, const char *detail)
{
	pthread_mutex_lock(&sh->lock);
	if (!sh->failure[0])
		snprintf(sh->failure, sizeof(sh->failure), "%s%.200s", what, detail);
	pthread_mutex_unlock(&sh->lock);
}

static void *read_tables(void *arg)
{
	reader *r = arg;
	shared *sh = r->sh;
	for (int round = 0; round < sh->rounds; round++) {
		for (int k = 0; k < NTABLES; k++) {
			int64_t id = sh->tables[(k + r->seed + round) % NTABLES];
			const pl_table *t = pl_model_table_by_id(sh->m, id), *ft = pl_model_table_by_id(sh->full, id);
			pl_err err = {0};
			pl_files_summary s;
			const pl_data_file *files = NULL;
			size_t n = 0;
			if (pl_model_table_summary(sh->m, t, &s, &err) || pl_model_table_files(sh->m, t, &files, &n, &err)) {
				fail_shared(sh, "load failed: ", err.msg);
				return NULL;
			}
			char why[200];
			if (n != ft->nfiles || files != t->files || !same_files(t, ft, why, sizeof(why))) {
				fail_shared(sh, n != ft->nfiles ? "a reader saw another file count" : "", n != ft->nfiles ? "" : why);
				return NULL;
			}
		}
	}
	return NULL;
}

static void *write_files(void *arg)
{
	shared *sh = arg;
	for (int i = 0; i < 12; i++) {
		char prefix[32];
		snprintf(prefix, sizeof(prefix), "w%d", i);
		add_files(sh->writer, sh->tables[i % NTABLES], prefix, 3);
	}
	return NULL;
}

static void model__threads_load_a_shared_model_while_another_connection_commits(void **state)
{
	fixture *f = *state;
	pl_err err = {0};
	shared sh = {0};
	pthread_mutex_init(&sh.lock, NULL);
	sh.rounds = 20;
	for (int k = 0; k < NTABLES; k++) {
		char name[16];
		snprintf(name, sizeof(name), "t%d", k);
		sh.tables[k] = new_table(f, name);
		snprintf(name, sizeof(name), "f%d", k);
		add_files(f->db, sh.tables[k], name, 40 + 10 * k);
	}
	delete_rows(f, sh.tables[1], "f1-7.parquet", "del-f1-7.parquet");
	int64_t snap = -1;
	assert_int_equal(pl_catalog_latest_snapshot(f->db, &snap, &err), 0);
	assert_int_equal(pl_model_load(&sh.m, f->db, snap, f->data, &err), 0);
	assert_int_equal(pl_model_load(&sh.full, f->db, snap, f->data, &err), 0);
	assert_int_equal(pl_model_load_all_files(sh.full, &err), 0);
	pl_model *half = NULL; /* advanced below with only some tables loaded */
	assert_int_equal(pl_model_load(&half, f->db, snap, f->data, &err), 0);
	assert_int_equal(pl_model_table_files(half, pl_model_table_by_id(half, sh.tables[0]), NULL, NULL, &err), 0);
	assert_int_equal(pl_model_table_files(half, pl_model_table_by_id(half, sh.tables[1]), NULL, NULL, &err), 0);
	pl_files_summary s;
	assert_int_equal(pl_model_table_summary(half, pl_model_table_by_id(half, sh.tables[2]), &s, &err), 0);
	assert_int_equal(f->db->ops->clone(f->db, &sh.writer, &err), 0);

	pthread_t w, rd[NREADERS];
	reader rs[NREADERS];
	assert_int_equal(pthread_create(&w, NULL, write_files, &sh), 0);
	for (int i = 0; i < NREADERS; i++) {
		rs[i] = (reader){&sh, i};
		assert_int_equal(pthread_create(&rd[i], NULL, read_tables, &rs[i]), 0);
	}
	for (int i = 0; i < NREADERS; i++)
		pthread_join(rd[i], NULL);
	pthread_join(w, NULL);
	if (sh.failure[0])
		fail_msg("%s", sh.failure);

	/* both models advance to the writer's snapshots, loaded tables in place, the others later */
	int64_t latest = -1;
	assert_int_equal(pl_catalog_latest_snapshot(f->db, &latest, &err), 0);
	assert_true(latest > snap);
	pl_model *now = NULL;
	assert_int_equal(pl_model_load(&now, f->db, latest, f->data, &err), 0);
	assert_int_equal(pl_model_load_all_files(now, &err), 0);
	pl_model *models[] = {sh.m, half};
	for (size_t i = 0; i < 2; i++) {
		bool advanced = false;
		assert_int_equal(pl_model_advance(models[i], f->db, latest, &advanced, &err), 0);
		assert_true(advanced);
		for (int k = 0; k < NTABLES; k++) {
			const pl_table *t = pl_model_table_by_id(models[i], sh.tables[k]);
			const pl_table *nt = pl_model_table_by_id(now, sh.tables[k]);
			pl_files_summary ls, ns;
			assert_int_equal(pl_model_table_summary(models[i], t, &ls, &err), 0);
			assert_int_equal(pl_model_table_summary(now, nt, &ns, &err), 0);
			assert_int_equal(ls.current, ns.current);
			assert_int_equal(ls.current_deletes, ns.current_deletes);
			assert_int_equal(pl_model_table_files(models[i], t, NULL, NULL, &err), 0);
			char why[200];
			if (!same_files(t, nt, why, sizeof(why)))
				fail_msg("model %zu after advancing: %s", i, why);
			/* a summary kept up by advancing is the one the files give */
			assert_int_equal(pl_model_table_summary(models[i], t, &ls, &err), 0);
			assert_int_equal(ls.nfiles, ns.nfiles);
			assert_int_equal(ls.older, ns.older);
			assert_int_equal(ls.older_deletes, ns.older_deletes);
			assert_int_equal(ls.current_deletes, ns.current_deletes);
		}
	}
	pl_model_free(now);
	pl_model_free(half);
	pl_model_free(sh.full);
	pl_model_free(sh.m);
	pl_catdb_close(sh.writer);
	pthread_mutex_destroy(&sh.lock);
}

/* A model advanced over the connection's own commits (from what the commit noted, not read back)
 * is the model a load at the new snapshot gives; over another connection's commit, or two commits,
 * it reads them. */
static void model__advancing_over_own_commits_matches_a_load(void **state)
{
	fixture *f = *state;
	pl_err err = {0};
	int64_t table = new_table(f, "own"), other_table = new_table(f, "other");
	add_files(f->db, table, "first", 2);
	pl_model *m = NULL;
	int64_t snap = -1;
	assert_int_equal(pl_catalog_latest_snapshot(f->db, &snap, &err), 0);
	assert_int_equal(pl_model_load(&m, f->db, snap, f->data, &err), 0);
	assert_int_equal(pl_model_table_files(m, pl_model_table_by_id(m, table), NULL, NULL, &err), 0);
	pl_catdb *other = NULL;
	assert_int_equal(f->db->ops->clone(f->db, &other, &err), 0);
	for (int round = 0; round < 4; round++) {
		char prefix[16];
		snprintf(prefix, sizeof(prefix), "r%d", round);
		int64_t to = round == 1 ? add_files(other, other_table, prefix, 1) : add_files(f->db, table, prefix, 3);
		if (round == 3) /* two commits since the model's snapshot */
			to = add_files(f->db, table, "last", 1);
		bool advanced = false;
		assert_int_equal(pl_model_advance(m, f->db, to, &advanced, &err), 0);
		assert_true(advanced);
		pl_model *now = NULL;
		assert_int_equal(pl_model_load(&now, f->db, to, f->data, &err), 0);
		assert_int_equal(pl_model_load_all_files(now, &err), 0);
		assert_int_equal(m->snapshot_id, now->snapshot_id);
		assert_int_equal(m->schema_version, now->schema_version);
		assert_int_equal(m->next_catalog_id, now->next_catalog_id);
		assert_int_equal(m->next_file_id, now->next_file_id);
		int64_t ids[] = {table, other_table};
		for (int k = 0; k < 2; k++) {
			const pl_table *t = pl_model_table_by_id(m, ids[k]), *nt = pl_model_table_by_id(now, ids[k]);
			assert_int_equal(t->has_stats, nt->has_stats);
			assert_int_equal(t->record_count, nt->record_count);
			assert_int_equal(t->next_row_id, nt->next_row_id);
			assert_int_equal(t->file_size_bytes, nt->file_size_bytes);
			assert_int_equal(pl_model_table_files(m, t, NULL, NULL, &err), 0);
			char why[200];
			if (!same_files(t, nt, why, sizeof(why)))
				fail_msg("round %d: %s", round, why);
		}
		pl_model_free(now);
	}
	pl_catdb_close(other);
	pl_model_free(m);
}

#define BOTH(fn) {#fn "/sqlite", fn, setup, teardown, (void *)"sqlite"}, \
		 {#fn "/duckdb", fn, setup, teardown, (void *)"duckdb"}

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(model__lazy_files_match_a_full_load_at_every_snapshot),
		BOTH(model__threads_load_a_shared_model_while_another_connection_commits),
		BOTH(model__advancing_over_own_commits_matches_a_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
