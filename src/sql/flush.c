/*
 * flush.c -- the table function ducklake_flush_inlined_data(catalog [, schema_name => ...]
 * [, table_name => ...]) -> schema_name, table_name, rows_flushed (see flush.h).
 *
 * The work happens when the call is executed (not when bound), under the process's lakes like
 * the other maintenance functions: the inlined rows of every table named (all tables, those of
 * one schema, or one table; tables whose option auto_compact is false are left alone) are
 * written to data files on a connection of the flush's own (the calling session's connection is
 * running the call) and committed as one snapshot. A table that had no inlined row gives no
 * result row; with nothing to flush no snapshot is made. A failure removes the files written and
 * leaves the lake as it was.
 */
#include "sql/flush.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/str.h"
#include "sql/lake.h"
#include "sql/router.h"
#include "table/flush.h"

#define FLUSH_NAME "ducklake_flush_inlined_data"
/* How long the call waits for the process's lakes (see maintenance.c). */
#define FLUSH_LOCK_SECONDS 30

typedef struct flush_bind {
	planar_db *db;
	char *lake, *schema, *table;
	bool in_txn;
} flush_bind;

typedef struct flush_state {
	bool done;
	pl_rows *rows; /* schema_name, table_name, rows_flushed */
	size_t next;
} flush_state;

static void bind_destroy(void *p)
{
	flush_bind *b = p;
	if (!b)
		return;
	free(b->lake);
	free(b->schema);
	free(b->table);
	free(b);
}

static void state_destroy(void *p)
{
	flush_state *s = p;
	if (!s)
		return;
	pl_rows_free(s->rows);
	free(s);
}

static bool wanted(const flush_bind *b, const pl_schema *s, const pl_table *t)
{
	if (b->schema && strcmp(s->name, b->schema) != 0)
		return false;
	return !b->table || strcmp(t->name, b->table) == 0;
}

/* The option auto_compact of t: flushing is skipped when it is not true. */
static int auto_compact(pl_lake *lake, const pl_table *t, bool *on, pl_err *err)
{
	char *v = NULL;
	int rc = pl_lake_option(lake, t, "auto_compact", &v, err);
	*on = rc != 0 || !v || pl_str_ieq(v, "true");
	free(v);
	return rc;
}

static int add_result(pl_rows *out, const char *schema, const char *table, int64_t n, pl_err *err)
{
	char num[32];
	snprintf(num, sizeof(num), "%lld", (long long)n);
	char *cells[3] = {pl_strdup(schema), pl_strdup(table), pl_strdup(num)};
	if (!cells[0] || !cells[1] || !cells[2] || pl_rows_append(out, cells)) {
		for (int i = 0; i < 3; i++)
			free(cells[i]);
		return pl_err_nomem(err);
	}
	return 0;
}

/* Checks that the schema and table named exist (as DuckLake's lookups fail). */
static int check_names(const flush_bind *b, const pl_model *m, pl_err *err)
{
	const pl_schema *s = NULL;
	if (b->schema && !(s = pl_model_schema(m, b->schema)))
		return pl_err_set(err, PL_ENOTFOUND, "Catalog Error: Schema with name %s not found", b->schema);
	if (b->table) {
		if (!s)
			s = pl_model_schema(m, "main");
		if (!s || !pl_model_table(m, s->id, b->table))
			return pl_err_set(err, PL_ENOTFOUND, "Catalog Error: Table with name %s does not exist!", b->table);
	}
	return 0;
}

/* The lakes let go while a flush writes its files (db->lock held around it, as run() took it):
 * other sessions, the service's group commits among them, go on meanwhile. The lake cannot be
 * detached (writers), and the model the flush planned on is held by the caller. */
typedef struct flush_hold {
	planar_db *db;
	pl_lake *lake;
} flush_hold;

static bool flush_release(void *arg)
{
	flush_hold *h = arg;
	h->lake->writers++;
	pthread_mutex_unlock(&h->db->lock);
	return true;
}

static void flush_reacquire(void *arg, bool released)
{
	flush_hold *h = arg;
	if (!released)
		return;
	pthread_mutex_lock(&h->db->lock);
	h->lake->writers--;
}

/* Plans the flush of every table wanted of model m (lake->model when the flush began) into txn
 * (db->lock held). release: the lakes may be let go while files are written (the caller holds a
 * reference to m). */
static int plan_lake(const flush_bind *b, pl_lake *lake, const pl_model *m, bool release, pl_rows *out, pl_txn *txn,
		     pl_err *err)
{
	planar_db *db = b->db;
	duckdb_connection con = NULL;
	int rc = check_names(b, m, err);
	if (rc == 0)
		rc = pl_engine_connect(&con, db->duck, err);
	flush_hold hold = {db, lake};
	pl_table_ctx ctx = {.con = con, .admin = db->admin, .deletes = &db->deletes, .cat = lake->cat,
			    .lake = lake->name, .inline_limit_set = lake->inline_limit_set,
			    .inline_limit = lake->inline_limit, .release = release ? flush_release : NULL,
			    .reacquire = release ? flush_reacquire : NULL, .arg = &hold};
	const char *schema_filter = b->schema ? b->schema : b->table ? "main" : NULL;
	for (size_t i = 0; rc == 0 && i < m->ntables; i++) {
		const pl_table *t = &m->tables[i];
		const pl_schema *s = pl_model_schema_by_id(m, t->schema_id);
		flush_bind f = *b;
		f.schema = (char *)schema_filter;
		if (!s || !wanted(&f, s, t))
			continue;
		bool on = true;
		rc = auto_compact(lake, t, &on, err);
		if (rc || !on)
			continue;
		/* rows of an inlined-data table the transaction deleted are not in the catalog yet */
		for (size_t k = 0; rc == 0 && k < t->ninlined; k++)
			if (t->inlined[k].ndeleted > 0)
				rc = pl_err_set(err, PL_EINVALID, FLUSH_NAME " cannot flush table \"%s\" in the transaction "
									 "that deleted some of its inlined rows: COMMIT first",
						t->name);
		int64_t n = 0;
		if (rc == 0)
			rc = pl_flush_inlined(&ctx, m, t, txn, &n, err);
		if (rc == 0 && n > 0)
			rc = add_result(out, s->name, t->name, n, err);
	}
	if (con)
		duckdb_disconnect(&con);
	return rc;
}

/* Flushes every table wanted into one txn and commits it (db->lock held). */
static int flush_lake(const flush_bind *b, pl_lake *lake, pl_rows *out, pl_err *err)
{
	planar_db *db = b->db;
	/* the files are written without holding the lakes: the model stays ours meanwhile, and the
	 * commit checks what other sessions committed since it (a flush moves only the rows up to
	 * its snapshot; a concurrent delete or flush of them is a conflict) */
	pl_model *m = pl_model_ref(lake->model);
	pl_txn txn = {0};
	int rc = plan_lake(b, lake, m, true, out, &txn, err);
	int64_t snap = 0;
	if (rc == 0 && !pl_txn_is_empty(&txn))
		rc = pl_commit(lake->cat, &txn, m->snapshot_id, &snap, err);
	if (rc)
		pl_txn_remove_written(&txn);
	else if (!pl_txn_is_empty(&txn)) {
		lake->has_committed = true;
		lake->last_committed = snap;
		pl_lake_forget_snapshot_models(db, lake);
		pl_err ignored;
		pl_lake_refresh(lake, db, true, &ignored); /* the next statement retries when this fails */
	}
	pl_txn_dispose(&txn);
	pl_model_free(m);
	return rc;
}

/* pl_flush_in_txn, with the result rows (schema_name, table_name, rows_flushed) into *out. */
static int flush_in_txn_rows(planar_conn *conn, pl_lake *lake, const char *schema, const char *table, pl_rows **out,
			     pl_err *err)
{
	*out = NULL;
	if (lake->read_only || lake->pinned)
		return pl_err_set(err, PL_EINVALID, FLUSH_NAME ": lake \"%s\" is attached read-only", lake->name);
	flush_bind b = {.db = conn->db, .lake = lake->name, .schema = (char *)schema, .table = (char *)table};
	pl_rows *rows = NULL;
	pl_txn txn = {0};
	int rc = pl_rows_new(&rows, 3) ? pl_err_nomem(err) : plan_lake(&b, lake, lake->model, false, rows, &txn, err);
	if (rc == 0 && !pl_txn_is_empty(&txn))
		rc = pl_lake_commit_from(lake, conn, &txn, lake->model->snapshot_id, err);
	if (rc)
		pl_txn_remove_written(&txn);
	pl_txn_dispose(&txn);
	if (rc == 0)
		*out = rows;
	else
		pl_rows_free(rows);
	return rc;
}

int pl_flush_in_txn(planar_conn *conn, pl_lake *lake, const char *schema, const char *table, pl_err *err)
{
	pl_rows *rows = NULL;
	int rc = flush_in_txn_rows(conn, lake, schema, table, &rows, err);
	pl_rows_free(rows);
	return rc;
}

/* The arguments of a call whose parentheses are at open and close: a string literal lake name,
 * then schema_name => and table_name => string literals. False for anything else. */
static bool literal_args(const pl_toks *t, size_t open, size_t close, char **lake, char **schema, char **table)
{
	*lake = *schema = *table = NULL;
	size_t i = open + 1;
	bool ok = i < close && t->items[i].kind == PL_TOK_STRING;
	if (ok)
		*lake = pl_tok_string(t, i++);
	while (ok && *lake && i < close) {
		ok = pl_tok_is_punct(t, i, ",") && i + 4 < close &&
		     (t->items[i + 1].kind == PL_TOK_WORD || t->items[i + 1].kind == PL_TOK_QIDENT) &&
		     ((pl_tok_is_punct(t, i + 2, "=") && pl_tok_is_punct(t, i + 3, ">")) ||
		      (pl_tok_is_punct(t, i + 2, ":") && pl_tok_is_punct(t, i + 3, "="))) &&
		     t->items[i + 4].kind == PL_TOK_STRING;
		char **slot = !ok				      ? NULL
			      : pl_tok_is(t, i + 1, "schema_name") ? schema
			      : pl_tok_is(t, i + 1, "table_name")  ? table
								   : NULL;
		ok = ok && slot && !*slot;
		if (ok)
			*slot = pl_tok_string(t, i + 4);
		i += 5;
	}
	if (!ok || !*lake) {
		free(*lake);
		free(*schema);
		free(*table);
		*lake = *schema = *table = NULL;
		return false;
	}
	return true;
}

/* The result rows as a subquery with the table function's columns. */
static void put_result_rows(pl_buf *out, const pl_rows *rows)
{
	pl_buf_puts(out, "(SELECT CAST(schema_name AS VARCHAR) AS schema_name, CAST(table_name AS VARCHAR) AS "
			 "table_name, CAST(rows_flushed AS BIGINT) AS rows_flushed FROM (VALUES ");
	if (rows->nrows == 0)
		pl_buf_puts(out, "(NULL, NULL, NULL)");
	for (size_t r = 0; r < rows->nrows; r++) {
		pl_buf_puts(out, r ? ", (" : "(");
		pl_buf_put_literal(out, pl_rows_get(rows, r, 0));
		pl_buf_puts(out, ", ");
		pl_buf_put_literal(out, pl_rows_get(rows, r, 1));
		pl_buf_printf(out, ", %lld)", (long long)pl_rows_int(rows, r, 2, 0));
	}
	pl_buf_puts(out, ") AS v(schema_name, table_name, rows_flushed)");
	if (rows->nrows == 0)
		pl_buf_puts(out, " WHERE false");
	pl_buf_putc(out, ')');
}

int pl_flush_rewrite(planar_conn *conn, const pl_toks *t, char **sql_out, pl_strv *views, pl_err *err)
{
	(void)views;
	*sql_out = NULL;
	/* CALL goes to pl_flush_in_txn through the router; EXPLAIN runs nothing */
	if (!conn->in_txn || t->len == 0 || pl_tok_is(t, 0, "CALL") ||
	    (pl_tok_is(t, 0, "EXPLAIN") && !pl_tok_is(t, 1, "ANALYZE")))
		return 0;
	pl_buf out = PL_BUF_INIT;
	size_t copied = 0;
	bool changed = false;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i + 1 < t->len; i++) {
		if (!pl_tok_is(t, i, FLUSH_NAME) || !pl_tok_is_punct(t, i + 1, "(") ||
		    (i > 0 && pl_tok_is_punct(t, i - 1, ".")))
			continue;
		size_t close = pl_tok_match_paren(t, i + 1);
		char *name = NULL, *schema = NULL, *table = NULL;
		if (close >= t->len || !literal_args(t, i + 1, close, &name, &schema, &table))
			continue; /* the table function says what it refuses */
		pl_lake *lake = pl_db_find_lake(conn->db, name);
		pl_rows *rows = NULL;
		rc = lake ? flush_in_txn_rows(conn, lake, schema, table, &rows, err)
			  : pl_err_set(err, PL_ENOTFOUND, "Catalog Error: no lake named \"%s\" is attached", name);
		if (rc == 0) {
			pl_buf_put(&out, t->src + copied, t->items[i].start - copied);
			put_result_rows(&out, rows);
			if (!pl_tok_has_alias(t, close + 1))
				pl_buf_puts(&out, " AS " FLUSH_NAME);
			copied = t->items[close].start + t->items[close].len;
			changed = true;
			i = close;
		}
		pl_rows_free(rows);
		free(name);
		free(schema);
		free(table);
	}
	if (rc == 0 && pl_buf_oom(&out))
		rc = pl_err_nomem(err);
	return pl_rewrite_finish(&out, t, copied, changed, rc, sql_out, err);
}

static int run(const flush_bind *b, flush_state *st, pl_err *err)
{
	planar_db *db = b->db;
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += FLUSH_LOCK_SECONDS;
	if (pl_rows_new(&st->rows, 3))
		return pl_err_nomem(err);
	if (pthread_mutex_timedlock(&db->lock, &until) != 0)
		return pl_err_set(err, PL_EBUSY,
				  FLUSH_NAME ": the lakes stayed busy for %d seconds (it cannot run inside a statement "
					     "that writes to a lake)",
				  FLUSH_LOCK_SECONDS);
	pl_lake *lake = pl_db_find_lake(db, b->lake);
	int rc = 0;
	if (!lake)
		rc = pl_err_set(err, PL_ENOTFOUND, "Catalog Error: no lake named \"%s\" is attached", b->lake);
	else if (b->in_txn)
		rc = pl_err_set(err, PL_EINVALID, FLUSH_NAME " cannot run inside a transaction (BEGIN ... COMMIT): run it "
							 "on its own");
	else if (lake->read_only || lake->pinned)
		rc = pl_err_set(err, PL_EINVALID, FLUSH_NAME ": lake \"%s\" is attached read-only", lake->name);
	else if (lake->txn_writers > 0)
		rc = pl_err_set(err, PL_EBUSY, FLUSH_NAME ": lake \"%s\" has a transaction with uncommitted writes; retry "
							"when it ends", lake->name);
	else
		rc = pl_lake_refresh(lake, db, false, err);
	if (rc == 0)
		rc = flush_lake(b, lake, st->rows, err);
	pthread_mutex_unlock(&db->lock);
	return rc;
}

static void flush_bind_fn(duckdb_bind_info info)
{
	flush_bind *b = calloc(1, sizeof(*b));
	if (!b) {
		duckdb_bind_set_error(info, "out of memory");
		return;
	}
	b->db = duckdb_bind_get_extra_info(info);
	b->lake = pl_engine_param_text(info, 0);
	b->schema = pl_engine_named_text(info, "schema_name");
	b->table = pl_engine_named_text(info, "table_name");
	duckdb_client_context ctx = NULL;
	duckdb_table_function_get_client_context(info, &ctx);
	if (ctx) {
		planar_conn *conn = pl_delcache_conn_get(&b->db->deletes, duckdb_client_context_get_connection_id(ctx));
		b->in_txn = conn && conn->in_txn;
		duckdb_destroy_client_context(&ctx);
	}
	if (!b->lake) {
		duckdb_bind_set_error(info, FLUSH_NAME ": the catalog name must not be NULL");
		bind_destroy(b);
		return;
	}
	pl_engine_bind_column(info, "schema_name", DUCKDB_TYPE_VARCHAR);
	pl_engine_bind_column(info, "table_name", DUCKDB_TYPE_VARCHAR);
	pl_engine_bind_column(info, "rows_flushed", DUCKDB_TYPE_BIGINT);
	duckdb_bind_set_bind_data(info, b, bind_destroy);
}

static void flush_init(duckdb_init_info info)
{
	flush_state *st = calloc(1, sizeof(*st));
	if (!st) {
		duckdb_init_set_error(info, "out of memory");
		return;
	}
	duckdb_init_set_init_data(info, st, state_destroy);
}

static void flush_scan(duckdb_function_info info, duckdb_data_chunk out)
{
	const flush_bind *b = duckdb_function_get_bind_data(info);
	flush_state *st = duckdb_function_get_init_data(info);
	if (!st->done) {
		st->done = true;
		pl_err err = {0};
		if (run(b, st, &err) != 0) {
			duckdb_function_set_error(info, err.msg);
			return;
		}
	}
	idx_t n = 0, cap = duckdb_vector_size();
	for (; st->rows && n < cap && st->next < st->rows->nrows; n++, st->next++) {
		for (size_t c = 0; c < 2; c++)
			pl_engine_vector_put_text(duckdb_data_chunk_get_vector(out, c), n, pl_rows_get(st->rows, st->next, c));
		int64_t *v = duckdb_vector_get_data(duckdb_data_chunk_get_vector(out, 2));
		v[n] = strtoll(pl_rows_get(st->rows, st->next, 2), NULL, 10);
	}
	duckdb_data_chunk_set_size(out, n);
}

int pl_flush_register(planar_db *db, pl_err *err)
{
	duckdb_table_function f = duckdb_create_table_function();
	duckdb_logical_type vt = duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR);
	duckdb_table_function_set_name(f, FLUSH_NAME);
	duckdb_table_function_add_parameter(f, vt);
	duckdb_table_function_add_named_parameter(f, "schema_name", vt);
	duckdb_table_function_add_named_parameter(f, "table_name", vt);
	duckdb_table_function_set_extra_info(f, db, NULL);
	duckdb_table_function_set_bind(f, flush_bind_fn);
	duckdb_table_function_set_init(f, flush_init);
	duckdb_table_function_set_function(f, flush_scan);
	duckdb_state s = duckdb_register_table_function(db->admin, f);
	duckdb_destroy_logical_type(&vt);
	duckdb_destroy_table_function(&f);
	if (s == DuckDBError)
		return pl_err_set(err, PL_ERROR, "cannot register the table function " FLUSH_NAME);
	return 0;
}
