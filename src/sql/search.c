/*
 * search.c -- search indexes as SQL (search.h): the CALLs that create, drop and flush them,
 * the listing, and planar_search(), with the process's cache of built indexes.
 *
 * The cache holds one built index per (catalog identity, table id); an entry remembers the
 * definition it was built for (a dropped and re-created index is rebuilt) and the snapshot it
 * has caught up to. A new entry starts from the index's newest stored segment when there is
 * one (search_store.c). Every search first applies the table's changes committed since (by any
 * writer), then ranks as of the snapshot asked for; when enough changed since the last segment,
 * a new one is stored. Entries are used under one mutex.
 */
#include "sql/search.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog/search.h"
#include "sql/search_internal.h"
#include "core/str.h"
#include "sql/lake.h"
#include "table/search.h"
#include "table/timetravel.h"
#include "text/index.h"

/* ---- the cache ---- */

typedef struct entry {
	char *identity;
	int64_t table_id;
	int64_t created_snapshot;
	char *created_at;
	pl_tindex *index;
	int64_t indexed_to; /* snapshots up to this one are in the index */
	int64_t loaded_segment;  /* the snapshot of the segment it was loaded from (-1: built) */
	int64_t stored_snapshot; /* the snapshot of its newest stored segment (-1: none known) */
	size_t stored_versions;  /* versions it had then */
	size_t feed_rows;        /* changed rows read from the change feed in this process */
	struct entry *next;
} entry;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static entry *cache;

static void entry_free(entry *e)
{
	if (!e)
		return;
	free(e->identity);
	free(e->created_at);
	pl_tindex_free(e->index);
	free(e);
}

/* Removes the entry of (identity, table_id); cache_lock held. */
static void cache_remove(const char *identity, int64_t table_id)
{
	for (entry **p = &cache; *p; p = &(*p)->next)
		if (strcmp((*p)->identity, identity) == 0 && (*p)->table_id == table_id) {
			entry *e = *p;
			*p = e->next;
			entry_free(e);
			return;
		}
}

void pl_search_forget(const char *identity)
{
	pthread_mutex_lock(&cache_lock);
	for (entry **p = &cache; *p;) {
		if (!identity || strcmp((*p)->identity, identity) == 0) {
			entry *e = *p;
			*p = e->next;
			entry_free(e);
		} else {
			p = &(*p)->next;
		}
	}
	pthread_mutex_unlock(&cache_lock);
}


/* A new segment is stored once this many versions were added since the last one (and at
 * least a quarter of those it held): loading it then saves more than the write costs. */
#ifndef SEGMENT_MIN_VERSIONS
#define SEGMENT_MIN_VERSIONS 20000
#endif

/* Stores e's index as a segment when none is known or enough changed; a failure only costs the
 * next process a longer catch-up, so it is not the statement's. */
static void maybe_store(pl_lake *lake, const pl_search_def *def, entry *e)
{
	if (!pl_search_can_store(lake) || e->indexed_to < 0)
		return;
	size_t n = pl_tindex_count(e->index), added = n - (n >= e->stored_versions ? e->stored_versions : n);
	bool due = e->stored_snapshot < 0 ? n > 0 : added >= SEGMENT_MIN_VERSIONS && added * 4 >= e->stored_versions;
	if (!due || e->stored_snapshot == e->indexed_to)
		return;
	pl_err ignored = {0, ""};
	if (pl_search_store(lake, def, e->index, e->indexed_to, &ignored) == 0) {
		e->stored_snapshot = e->indexed_to;
		e->stored_versions = n;
	}
}

/* The built index of def, caught up to the lake's latest snapshot; cache_lock held. A process
 * that has not built it yet starts from its newest stored segment (then reads only the changes
 * since), else from the whole change feed. */
static int cached_index(planar_conn *conn, pl_lake *lake, const pl_table *t, const pl_search_def *def, entry **out,
			size_t *changed, pl_err *err)
{
	*out = NULL;
	*changed = 0;
	const char *identity = pl_sx_lake_identity(lake);
	entry *e = cache;
	while (e && !(strcmp(e->identity, identity) == 0 && e->table_id == def->table_id))
		e = e->next;
	if (e && (e->created_snapshot != def->created_snapshot || strcmp(e->created_at, def->created_at) != 0)) {
		cache_remove(identity, def->table_id); /* dropped and created again since */
		e = NULL;
	}
	pl_model *m = pl_sx_committed_model(lake);
	if (!e) {
		if (!(e = calloc(1, sizeof(*e))) || !(e->identity = pl_strdup(identity)) ||
		    !(e->created_at = pl_strdup(def->created_at))) {
			entry_free(e);
			return pl_err_nomem(err);
		}
		e->table_id = def->table_id;
		e->created_snapshot = def->created_snapshot;
		e->indexed_to = -1;
		e->loaded_segment = -1;
		e->stored_snapshot = -1;
		int64_t snap = -1;
		int rc = pl_search_load(lake, def, m->snapshot_id, &e->index, &snap, err);
		if (rc == 0 && e->index) {
			e->indexed_to = e->loaded_segment = e->stored_snapshot = snap;
			e->stored_versions = pl_tindex_count(e->index);
		}
		if (rc == 0 && !e->index)
			rc = pl_tindex_new(&e->index, def->embedder, def->vector_column != NULL, err);
		if (rc) {
			entry_free(e);
			return rc;
		}
		e->next = cache;
		cache = e;
	}
	if (m->snapshot_id > e->indexed_to) {
		pl_lake_ctx ctx;
		pl_lake_table_ctx(&ctx, lake, conn);
		int rc = pl_search_catchup(&ctx.table, m, t, def, e->index, e->indexed_to + 1, m->snapshot_id, changed, err);
		if (rc) {
			/* a partly applied range cannot be told from the rest: start over next time */
			cache_remove(identity, def->table_id);
			return rc;
		}
		e->indexed_to = m->snapshot_id;
		e->feed_rows += *changed;
		maybe_store(lake, def, e);
	}
	*out = e;
	return 0;
}

/* ---- CALL create_search_index / drop_search_index ---- */

static bool names_call(const pl_toks *t, const char *proc, bool *qualified)
{
	char full[64];
	snprintf(full, sizeof(full), "ducklake_%s", proc);
	if (pl_tok_is(t, 1, full) && pl_tok_is_punct(t, 2, "(")) {
		*qualified = false;
		return true;
	}
	*qualified = true;
	return t->len > 4 && pl_tok_is_punct(t, 2, ".") && pl_tok_is(t, 3, proc) && pl_tok_is_punct(t, 4, "(");
}

static int parse_columns(const char *json, pl_search_def *d, pl_err *err)
{
	json_t *a = json ? json_loads(json, 0, NULL) : NULL;
	size_t n = json_is_array(a) ? json_array_size(a) : 0;
	int rc = 0;
	if (json && !json_is_array(a))
		rc = pl_err_set(err, PL_EINVALID, "create_search_index: metadata_columns must be a list of column names");
	if (rc == 0 && n && !(d->metadata_columns = calloc(n, sizeof(char *))))
		rc = pl_err_nomem(err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const char *s = json_string_value(json_array_get(a, i));
		if (!s || !*s)
			rc = pl_err_set(err, PL_EINVALID, "create_search_index: metadata_columns must be a list of column names");
		else if (!(d->metadata_columns[d->nmetadata++] = pl_strdup(s)))
			rc = pl_err_nomem(err);
	}
	json_decref(a);
	return rc;
}

static int create_index(planar_conn *conn, pl_lake *lake, const args *a, planar_result **out, pl_err *err)
{
	static const char *const known[] = {"text_column", "id_column", "metadata_columns", "vector_column", "embedder",
					    NULL};
	const char *fn = "create_search_index";
	int rc = pl_sx_check_known(a, fn, known, err);
	if (rc == 0 && (a->npos != 1 || !a->pos[0]))
		rc = pl_err_set(err, PL_EINVALID, "%s takes the table ('schema.table') and named arguments text_column, "
				"id_column [, metadata_columns, vector_column, embedder]", fn);
	if (rc == 0 && (!pl_sx_named(a, "text_column") || !pl_sx_named(a, "id_column")))
		rc = pl_err_set(err, PL_EINVALID, "%s: text_column and id_column are required", fn);
	if (rc == 0)
		rc = pl_lake_check_writable(lake, err);
	const pl_table *t = NULL;
	if (rc == 0)
		rc = pl_sx_find_table(lake, a->pos[0], &t, err);
	pl_search_def d = {0};
	char now[64];
	pl_search_now(now);
	if (rc == 0) {
		d.table_id = t->id;
		d.schema = pl_strdup(pl_sx_schema_name(lake, t));
		d.table = pl_strdup(t->name);
		d.text_column = pl_strdup(pl_sx_named(a, "text_column"));
		d.id_column = pl_strdup(pl_sx_named(a, "id_column"));
		d.vector_column = pl_sx_named(a, "vector_column") ? pl_strdup(pl_sx_named(a, "vector_column")) : NULL;
		d.embedder = pl_strdup(pl_sx_named(a, "embedder") ? pl_sx_named(a, "embedder") : "builtin");
		d.created_snapshot = pl_sx_committed_model(lake)->snapshot_id;
		d.created_at = pl_strdup(now);
		if (!d.schema || !d.table || !d.text_column || !d.id_column || !d.embedder || !d.created_at ||
		    (pl_sx_named(a, "vector_column") && !d.vector_column))
			rc = pl_err_nomem(err);
	}
	if (rc == 0)
		rc = parse_columns(pl_sx_named(a, "metadata_columns"), &d, err);
	if (rc == 0)
		rc = pl_search_check_columns(t, &d, err);
	if (rc == 0 && !d.vector_column) { /* the embedder must exist in this process */
		pl_tindex *probe = NULL;
		rc = pl_tindex_new(&probe, d.embedder, false, err);
		pl_tindex_free(probe);
	}
	if (rc == 0)
		rc = pl_search_def_insert(lake->cat, &d, err);
	/* build it now, so the first search does not wait (and a table it cannot index is refused) */
	entry *e = NULL;
	size_t changed = 0;
	if (rc == 0) {
		pthread_mutex_lock(&cache_lock);
		rc = cached_index(conn, lake, t, &d, &e, &changed, err);
		size_t docs = e ? pl_tindex_live(e->index) : 0;
		int64_t snap = e ? e->indexed_to : 0;
		pthread_mutex_unlock(&cache_lock);
		if (rc) {
			pl_err ignored = {0};
			bool found;
			pl_strv removed = PL_STRV_INIT;
			if (pl_search_def_delete(lake->cat, d.table_id, &found, &removed, &ignored) == 0)
				pl_search_remove_segments(lake, &removed);
			pl_strv_dispose(&removed);
		} else {
			pl_buf q = PL_BUF_INIT;
			pl_buf_puts(&q, "SELECT ");
			pl_buf_put_literal(&q, d.schema);
			pl_buf_puts(&q, " || '.' || ");
			pl_buf_put_literal(&q, d.table);
			pl_buf_printf(&q, " AS table_name, CAST(%zu AS BIGINT) AS documents, CAST(%lld AS BIGINT) AS snapshot_id",
				      docs, (long long)snap);
			rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_result_from_sql(out, conn, q.ptr, err);
			pl_buf_dispose(&q);
		}
	}
	pl_search_def_dispose(&d);
	return rc;
}

static int drop_index(planar_conn *conn, pl_lake *lake, const args *a, planar_result **out, pl_err *err)
{
	static const char *const known[] = {"if_exists", NULL};
	int rc = pl_sx_check_known(a, "drop_search_index", known, err);
	if (rc == 0 && (a->npos != 1 || !a->pos[0]))
		rc = pl_err_set(err, PL_EINVALID, "drop_search_index takes the table ('schema.table')");
	if (rc == 0)
		rc = pl_lake_check_writable(lake, err);
	const pl_table *t = NULL;
	if (rc == 0)
		rc = pl_sx_find_table(lake, a->pos[0], &t, err);
	bool found = false;
	pl_strv removed = PL_STRV_INIT;
	if (rc == 0)
		rc = pl_search_def_delete(lake->cat, t->id, &found, &removed, err);
	const char *ie = pl_sx_named(a, "if_exists");
	bool if_exists = ie && (pl_str_ieq(ie, "true") || strcmp(ie, "1") == 0);
	if (rc == 0 && !found && !if_exists)
		rc = pl_err_set(err, PL_ENOTFOUND, "table \"%s\" has no search index", a->pos[0]);
	if (rc == 0) {
		pthread_mutex_lock(&cache_lock);
		cache_remove(pl_sx_lake_identity(lake), t->id);
		pthread_mutex_unlock(&cache_lock);
		pl_search_remove_segments(lake, &removed);
		rc = pl_result_from_sql(out, conn, found ? "SELECT true AS dropped" : "SELECT false AS dropped", err);
	}
	pl_strv_dispose(&removed);
	return rc;
}

/* flush_search_index('schema.table'): stores the index, caught up, as a segment now. */
static int flush_index(planar_conn *conn, pl_lake *lake, const args *a, planar_result **out, pl_err *err)
{
	static const char *const known[] = {NULL};
	int rc = pl_sx_check_known(a, "flush_search_index", known, err);
	if (rc == 0 && (a->npos != 1 || !a->pos[0]))
		rc = pl_err_set(err, PL_EINVALID, "flush_search_index takes the table ('schema.table')");
	if (rc == 0)
		rc = pl_lake_check_writable(lake, err);
	const pl_table *t = NULL;
	if (rc == 0)
		rc = pl_sx_find_table(lake, a->pos[0], &t, err);
	pl_search_def def;
	bool found = false;
	if (rc == 0)
		rc = pl_search_def_get(lake->cat, t->id, &def, &found, err);
	if (rc == 0 && !found)
		rc = pl_err_set(err, PL_ENOTFOUND, "table \"%s\" has no search index", a->pos[0]);
	if (rc)
		return rc;
	pthread_mutex_lock(&cache_lock);
	entry *e = NULL;
	size_t changed = 0;
	rc = cached_index(conn, lake, t, &def, &e, &changed, err);
	int64_t snap = -1;
	size_t versions = 0;
	if (rc == 0 && e->stored_snapshot != e->indexed_to) {
		rc = pl_search_store(lake, &def, e->index, e->indexed_to, err);
		if (rc == 0) {
			e->stored_snapshot = e->indexed_to;
			e->stored_versions = pl_tindex_count(e->index);
		}
	}
	if (rc == 0) {
		snap = e->stored_snapshot;
		versions = e->stored_versions;
	}
	pthread_mutex_unlock(&cache_lock);
	if (rc == 0) {
		pl_buf q = PL_BUF_INIT;
		pl_buf_puts(&q, "SELECT ");
		pl_buf_put_literal(&q, def.schema);
		pl_buf_puts(&q, " || '.' || ");
		pl_buf_put_literal(&q, def.table);
		pl_buf_printf(&q, " AS table_name, CAST(%lld AS BIGINT) AS segment_snapshot, CAST(%zu AS BIGINT) AS versions",
			      (long long)snap, versions);
		rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_result_from_sql(out, conn, q.ptr, err);
		pl_buf_dispose(&q);
	}
	pl_search_def_dispose(&def);
	return rc;
}

int pl_search_call(pl_stmt *st, planar_result **out, pl_err *err, bool *handled)
{
	const pl_toks *t = &st->toks;
	bool qualified = false;
	int which; /* 0 create, 1 drop, 2 flush */
	if (names_call(t, "create_search_index", &qualified))
		which = 0;
	else if (names_call(t, "drop_search_index", &qualified))
		which = 1;
	else if (names_call(t, "flush_search_index", &qualified))
		which = 2;
	else
		return 0;
	size_t open = qualified ? 4 : 2;
	pl_lake *lake = NULL;
	if (qualified) {
		char *name = pl_tok_ident(t, 1);
		if (!name)
			return pl_err_nomem(err);
		lake = pl_db_find_lake(st->conn->db, name);
		free(name);
		if (!lake)
			return 0;
	}
	*handled = true;
	size_t close = pl_tok_match_paren(t, open);
	if (close >= t->len || close + 1 != t->len)
		return pl_err_set(err, PL_EINVALID, "syntax error in CALL arguments");
	int rrc = pl_sx_register_conn(st->conn, err);
	if (rrc)
		return rrc;
	args a;
	static const char *const fns[] = {"create_search_index", "drop_search_index", "flush_search_index"};
	const char *fn = fns[which];
	int rc = pl_sx_parse_args(st->conn, t, open, close, fn, &a, err);
	if (rc == 0 && !qualified) { /* ducklake_<proc>('lake', ...) */
		if (a.npos == 0 || !a.pos[0] || !(lake = pl_db_find_lake(st->conn->db, a.pos[0])))
			rc = pl_err_set(err, PL_ENOTFOUND, "no lake named \"%s\" is attached",
					a.npos && a.pos[0] ? a.pos[0] : "");
		if (rc == 0) {
			free(a.pos[0]);
			memmove(a.pos, a.pos + 1, (a.npos - 1) * sizeof(char *));
			a.npos--;
		}
	}
	if (rc == 0)
		rc = which == 0	  ? create_index(st->conn, lake, &a, out, err)
		     : which == 1 ? drop_index(st->conn, lake, &a, out, err)
				  : flush_index(st->conn, lake, &a, out, err);
	pl_sx_args_dispose(&a);
	return rc;
}

/* Appends the hits as a subquery with columns id, text, score, metadata. */
static void put_hits(pl_buf *out, const pl_tindex *x, const pl_thit *hits, size_t n)
{
	if (n == 0) {
		pl_buf_puts(out, "(SELECT CAST(NULL AS VARCHAR) AS id, CAST(NULL AS VARCHAR) AS text, CAST(NULL AS DOUBLE) "
				 "AS score, CAST(NULL AS JSON) AS metadata WHERE false)");
		return;
	}
	pl_buf_puts(out, "(SELECT CAST(id AS VARCHAR) AS id, CAST(text AS VARCHAR) AS text, CAST(score AS DOUBLE) AS score, "
			 "CAST(metadata AS JSON) AS metadata FROM (VALUES ");
	for (size_t i = 0; i < n; i++) {
		pl_buf_puts(out, i ? ", (" : "(");
		pl_buf_put_literal(out, pl_tindex_id(x, hits[i].doc));
		pl_buf_puts(out, ", ");
		pl_buf_put_literal(out, pl_tindex_text(x, hits[i].doc));
		pl_buf_printf(out, ", %.17g, ", hits[i].score);
		const char *m = pl_tindex_metadata(x, hits[i].doc);
		pl_buf_put_literal(out, m ? m : "{}");
		pl_buf_puts(out, ")");
	}
	pl_buf_puts(out, ") AS hits(id, text, score, metadata) ORDER BY score DESC)");
}

static int run_search(planar_conn *conn, const args *a, pl_buf *out, pl_err *err)
{
	static const char *const known[] = {"top_k", "mode", "filter", "as_of", "query_vector", NULL};
	int rc = pl_sx_check_known(a, "planar_search", known, err);
	if (rc == 0 && (a->npos != 3 || !a->pos[0] || !a->pos[1]))
		return pl_err_set(err, PL_EINVALID, "planar_search takes the lake, the table ('schema.table') and the query "
				  "text, then top_k, mode, filter, as_of, query_vector by name");
	if (rc)
		return rc;
	pl_lake *lake = pl_db_find_lake(conn->db, a->pos[0]);
	if (!lake)
		return pl_err_set(err, PL_ENOTFOUND, "planar_search: no lake named \"%s\" is attached", a->pos[0]);
	int64_t top_k = 10, as_of = -1;
	if (pl_sx_named(a, "top_k") && (!pl_sx_parse_int(pl_sx_named(a, "top_k"), &top_k) || top_k < 0 || top_k > 100000))
		return pl_err_set(err, PL_EINVALID, "planar_search: top_k must be an integer from 0 to 100000");
	if (pl_sx_has_named(a, "as_of") && pl_sx_named(a, "as_of") && !pl_sx_parse_int(pl_sx_named(a, "as_of"), &as_of))
		return pl_err_set(err, PL_EINVALID, "planar_search: as_of must be a snapshot id");
	pl_search_mode mode = PL_SEARCH_HYBRID;
	const char *ms = pl_sx_named(a, "mode");
	if (ms && pl_str_ieq(ms, "bm25"))
		mode = PL_SEARCH_BM25;
	else if (ms && pl_str_ieq(ms, "vector"))
		mode = PL_SEARCH_VECTOR;
	else if (ms && !pl_str_ieq(ms, "hybrid"))
		return pl_err_set(err, PL_EINVALID, "planar_search: mode must be 'hybrid', 'bm25' or 'vector', not '%s'", ms);
	const pl_table *t = NULL;
	rc = pl_sx_find_table(lake, a->pos[1], &t, err);
	pl_search_def def;
	bool found = false;
	if (rc == 0)
		rc = pl_search_def_get(lake->cat, t->id, &def, &found, err);
	if (rc == 0 && !found)
		rc = pl_err_set(err, PL_ENOTFOUND,
				"planar_search: table \"%s\" has no search index (CALL %s.create_search_index(...))", a->pos[1],
				lake->name);
	if (rc)
		return rc;
	int64_t latest = pl_sx_committed_model(lake)->snapshot_id;
	if (as_of > latest)
		rc = pl_err_set(err, PL_EINVALID, "planar_search: snapshot %lld does not exist yet (the latest is %lld)",
				(long long)as_of, (long long)latest);
	float *qvec = NULL;
	size_t qlen = 0;
	if (rc == 0 && pl_sx_named(a, "query_vector"))
		rc = pl_sx_parse_vector(pl_sx_named(a, "query_vector"), &qvec, &qlen, err);
	pl_strv ids = PL_STRV_INIT;
	bool filtered = pl_sx_named(a, "filter") != NULL;
	if (rc == 0 && filtered)
		rc = pl_sx_filter_ids(conn, lake, t, &def, pl_sx_named(a, "filter"), as_of, &ids, err);
	pthread_mutex_lock(&cache_lock);
	entry *e = NULL;
	size_t changed = 0;
	if (rc == 0)
		rc = cached_index(conn, lake, t, &def, &e, &changed, err);
	uint8_t *allowed = NULL;
	if (rc == 0 && filtered)
		rc = pl_tindex_allow_ids(e->index, ids.items, ids.len, &allowed, err);
	pl_thit *hits = NULL;
	size_t n = 0;
	if (rc == 0) {
		pl_tquery q = {a->pos[2] ? a->pos[2] : "", qvec, qlen, mode, (size_t)top_k,
			       as_of >= 0 ? as_of : e->indexed_to, allowed};
		rc = pl_tindex_search(e->index, &q, &hits, &n, err);
	}
	if (rc == 0) {
		put_hits(out, e->index, hits, n);
		if (pl_buf_oom(out))
			rc = pl_err_nomem(err);
	}
	pthread_mutex_unlock(&cache_lock);
	free(hits);
	free(allowed);
	free(qvec);
	pl_strv_dispose(&ids);
	pl_search_def_dispose(&def);
	return rc;
}

/* lake.search_indexes(): one row per index of the lake. */
static int list_indexes(planar_conn *conn, pl_lake *lake, pl_buf *out, pl_err *err)
{
	pl_search_def *defs = NULL;
	size_t n = 0;
	int rc = pl_search_def_list(lake->cat, &defs, &n, err);
	if (rc)
		return rc;
	(void)conn;
	pl_buf_puts(out, "(SELECT CAST(schema_name AS VARCHAR) AS schema_name, CAST(table_name AS VARCHAR) AS table_name, "
			 "CAST(text_column AS VARCHAR) AS text_column, CAST(id_column AS VARCHAR) AS id_column, "
			 "CAST(metadata_columns AS VARCHAR[]) AS metadata_columns, CAST(vector_column AS VARCHAR) AS "
			 "vector_column, CAST(embedder AS VARCHAR) AS embedder, CAST(created_snapshot AS BIGINT) AS "
			 "created_snapshot, CAST(documents AS BIGINT) AS documents, CAST(indexed_snapshot AS BIGINT) AS "
			 "indexed_snapshot, CAST(segment_snapshot AS BIGINT) AS segment_snapshot, CAST(loaded_segment AS "
			 "BIGINT) AS loaded_segment, CAST(feed_rows AS BIGINT) AS feed_rows FROM (VALUES ");
	pl_model *m = pl_sx_committed_model(lake);
	pthread_mutex_lock(&cache_lock);
	for (size_t i = 0; i < n; i++) {
		const pl_table *t = pl_model_table_by_id(m, defs[i].table_id);
		const pl_schema *s = t ? pl_model_schema_by_id(m, t->schema_id) : NULL;
		entry *e = cache;
		while (e && !(strcmp(e->identity, pl_sx_lake_identity(lake)) == 0 && e->table_id == defs[i].table_id))
			e = e->next;
		pl_buf_puts(out, i ? ", (" : "(");
		pl_buf_put_literal(out, s ? s->name : defs[i].schema);
		pl_buf_puts(out, ", ");
		pl_buf_put_literal(out, t ? t->name : defs[i].table);
		pl_buf_puts(out, ", ");
		pl_buf_put_literal(out, defs[i].text_column);
		pl_buf_puts(out, ", ");
		pl_buf_put_literal(out, defs[i].id_column);
		pl_buf_puts(out, ", [");
		for (size_t k = 0; k < defs[i].nmetadata; k++) {
			if (k)
				pl_buf_puts(out, ", ");
			pl_buf_put_literal(out, defs[i].metadata_columns[k]);
		}
		pl_buf_puts(out, "]::VARCHAR[], ");
		pl_buf_put_literal(out, defs[i].vector_column);
		pl_buf_puts(out, ", ");
		pl_buf_put_literal(out, defs[i].embedder);
		pl_buf_printf(out, ", %lld, ", (long long)defs[i].created_snapshot);
		if (e)
			pl_buf_printf(out, "%zu, %lld, ", pl_tindex_live(e->index), (long long)e->indexed_to);
		else
			pl_buf_puts(out, "NULL, NULL, ");
		pl_search_segment *segs = NULL;
		size_t nsegs = 0;
		pl_err ignored = {0, ""};
		if (pl_search_segment_list(lake->cat, defs[i].table_id, defs[i].created_at, &segs, &nsegs, &ignored) == 0 &&
		    nsegs > 0)
			pl_buf_printf(out, "%lld, ", (long long)segs[0].end_snapshot);
		else
			pl_buf_puts(out, "NULL, ");
		pl_search_segments_free(segs, nsegs);
		if (e && e->loaded_segment >= 0)
			pl_buf_printf(out, "%lld, %zu)", (long long)e->loaded_segment, e->feed_rows);
		else if (e)
			pl_buf_printf(out, "NULL, %zu)", e->feed_rows);
		else
			pl_buf_puts(out, "NULL, NULL)");
	}
	pthread_mutex_unlock(&cache_lock);
	if (n == 0)
		pl_buf_puts(out, "(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)");
	pl_buf_puts(out, ") AS v(schema_name, table_name, text_column, id_column, metadata_columns, vector_column, "
			 "embedder, created_snapshot, documents, indexed_snapshot, segment_snapshot, loaded_segment, feed_rows)");
	if (n == 0)
		pl_buf_puts(out, " WHERE false");
	pl_buf_puts(out, " ORDER BY schema_name, table_name)");
	pl_search_defs_free(defs, n);
	return pl_buf_oom(out) ? pl_err_nomem(err) : 0;
}

int pl_search_rewrite(planar_conn *conn, const pl_toks *t, char **sql_out, pl_strv *views, pl_err *err)
{
	(void)views;
	pl_buf out = PL_BUF_INIT;
	size_t copied = 0, made = 0;
	int rc = 0;
	*sql_out = NULL;
	for (size_t i = 0; rc == 0 && i < t->len; i++) {
		size_t open = 0, from = i;
		pl_lake *list_lake = NULL;
		bool search = false;
		if (pl_tok_is(t, i, "planar_search") && pl_tok_is_punct(t, i + 1, "(") &&
		    !(i > 0 && pl_tok_is_punct(t, i - 1, "."))) {
			search = true;
			open = i + 1;
		} else if (pl_tok_is_punct(t, i + 1, ".") && pl_tok_is(t, i + 2, "search_indexes") &&
			   pl_tok_is_punct(t, i + 3, "(") && pl_tok_is_punct(t, i + 4, ")") &&
			   !(i > 0 && pl_tok_is_punct(t, i - 1, "."))) {
			char *name = pl_tok_ident(t, i);
			if (!name)
				return pl_err_nomem(err);
			list_lake = pl_db_find_lake(conn->db, name);
			free(name);
			if (!list_lake)
				continue;
			open = i + 3;
		} else {
			continue;
		}
		size_t close = pl_tok_match_paren(t, open);
		if (close >= t->len)
			break;
		if (made == 0 && (rc = pl_sx_register_conn(conn, err)) != 0)
			break;
		pl_buf_put(&out, t->src + copied, t->items[from].start - copied);
		if (search) {
			args a;
			rc = pl_sx_parse_args(conn, t, open, close, "planar_search", &a, err);
			if (rc == 0)
				rc = run_search(conn, &a, &out, err);
			pl_sx_args_dispose(&a);
		} else {
			rc = list_indexes(conn, list_lake, &out, err);
		}
		if (rc == 0 && !pl_tok_has_alias(t, close + 1))
			pl_buf_puts(&out, search ? " AS planar_search" : " AS search_indexes");
		copied = t->items[close].start + 1;
		i = close;
		made++;
	}
	return pl_rewrite_finish(&out, t, copied, rc == 0 && made > 0, rc, sql_out, err);
}
