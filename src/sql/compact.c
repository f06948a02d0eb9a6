/*
 * compact.c -- DuckLake's compaction table functions (table/compact.h), with DuckLake's names,
 * arguments and result columns, callable as `CALL f(...)` or in `FROM f(...)`:
 *
 *   ducklake_merge_adjacent_files(catalog [, table_name [, schema => ...]]
 *       [, max_compacted_files => UBIGINT] [, min_file_size => UBIGINT] [, max_file_size => UBIGINT])
 *   ducklake_rewrite_data_files(catalog [, table_name [, schema => ...]] [, delete_threshold => DOUBLE])
 *       -> schema_name, table_name, files_processed, files_created (one row per file written)
 *
 * Arguments are checked when DuckDB binds the call, as DuckLake checks them; the work runs on
 * the first scan, under the process's lake lock, writing with a connection of its own, and
 * commits one snapshot (nothing when there is nothing to compact).
 */
#include "sql/maintenance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/str.h"
#include "sql/lake.h"
#include "sql/router.h"
#include "sql/transaction.h"
#include "table/compact.h"

#define LOCK_WAIT_SECONDS 30

typedef struct compact_bind {
	pl_compact_kind kind;
	planar_db *db;
	char *lake, *table, *schema; /* table NULL: every table */
	bool in_txn;
	planar_conn *conn; /* the calling session (in_txn: it may hold the lakes while the call runs) */
	uint64_t max_files;
	int64_t min_size, max_size;
	bool threshold_given;
	double threshold;
	int64_t target_override; /* the session's ducklake_target_file_size (> 0: overrides the lake's) */
} compact_bind;

typedef struct compact_state {
	bool done;
	pl_rows *rows;
	size_t next;
} compact_state;

static const char *fn_name(pl_compact_kind k)
{
	return k == PL_COMPACT_MERGE ? "ducklake_merge_adjacent_files" : "ducklake_rewrite_data_files";
}

static void bind_destroy(void *p)
{
	compact_bind *b = p;
	if (!b)
		return;
	free(b->lake);
	free(b->table);
	free(b->schema);
	free(b);
}

static void state_destroy(void *p)
{
	compact_state *st = p;
	if (!st)
		return;
	pl_rows_free(st->rows);
	free(st);
}

/* A named UBIGINT: *given false when absent; NULL is an error. */
static int named_size(duckdb_bind_info info, const char *name, uint64_t *out, bool *given, pl_err *err)
{
	duckdb_value v = duckdb_bind_get_named_parameter(info, name);
	*given = v != NULL;
	int rc = 0;
	if (v && duckdb_is_null_value(v))
		rc = pl_err_set(err, PL_EINVALID, "Binder Error: The %s option must be a non-null integer.", name);
	else if (v)
		*out = duckdb_get_uint64(v);
	if (v)
		duckdb_destroy_value(&v);
	return rc;
}

static int bind_args(duckdb_bind_info info, compact_bind *b, idx_t nparams, pl_err *err)
{
	b->lake = pl_engine_param_text(info, 0);
	if (!b->lake)
		return pl_err_set(err, PL_EINVALID, "%s: the catalog name must not be NULL", fn_name(b->kind));
	if (nparams > 1)
		b->table = pl_engine_param_text(info, 1); /* NULL: every table (the one-argument form) */
	b->schema = nparams > 1 ? pl_engine_named_text(info, "schema") : NULL;
	duckdb_client_context ctx = NULL;
	duckdb_table_function_get_client_context(info, &ctx);
	if (ctx) {
		planar_conn *conn = pl_delcache_conn_get(&b->db->deletes, duckdb_client_context_get_connection_id(ctx));
		b->in_txn = conn && conn->in_txn;
		b->conn = conn;
		const char *v = conn ? pl_setting_value(conn, PL_SET_TARGET_FILE_SIZE) : NULL;
		if (v && *v && !pl_parse_byte_size(v, &b->target_override))
			b->target_override = 0;
		duckdb_destroy_client_context(&ctx);
	}
	b->max_files = UINT64_MAX - 1;
	b->min_size = b->max_size = -1;
	int rc = 0;
	if (b->kind == PL_COMPACT_MERGE) {
		bool given = false;
		uint64_t v = 0;
		rc = named_size(info, "max_compacted_files", &b->max_files, &given, err);
		if (rc == 0 && given && b->max_files == 0)
			rc = pl_err_set(err, PL_EINVALID, "Binder Error: The max_compacted_files option must be greater than zero.");
		if (rc == 0)
			rc = named_size(info, "min_file_size", &v, &given, err);
		if (rc == 0 && given)
			b->min_size = v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
		if (rc == 0)
			rc = named_size(info, "max_file_size", &v, &given, err);
		if (rc == 0 && given && v == 0)
			rc = pl_err_set(err, PL_EINVALID, "Binder Error: The max_file_size option must be greater than zero.");
		if (rc == 0 && given)
			b->max_size = v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
		if (rc == 0 && b->min_size >= 0 && b->max_size >= 0 && b->min_size >= b->max_size)
			rc = pl_err_set(err, PL_EINVALID, "Binder Error: The min_file_size must be less than max_file_size.");
	} else {
		duckdb_value v = duckdb_bind_get_named_parameter(info, "delete_threshold");
		if (v) {
			b->threshold_given = true;
			b->threshold = duckdb_is_null_value(v) ? -1 : duckdb_get_double(v);
			duckdb_destroy_value(&v);
			if (b->threshold < 0 || b->threshold > 1)
				rc = pl_err_set(err, PL_EINVALID,
						"Binder Error: The delete_threshold option must be between 0 and 1");
		}
	}
	return rc;
}

static void compact_bind_fn(duckdb_bind_info info, pl_compact_kind kind)
{
	compact_bind *b = calloc(1, sizeof(*b));
	pl_err err = {0};
	if (!b) {
		duckdb_bind_set_error(info, "out of memory");
		return;
	}
	b->kind = kind;
	b->db = duckdb_bind_get_extra_info(info);
	if (bind_args(info, b, duckdb_bind_get_parameter_count(info), &err) != 0) {
		duckdb_bind_set_error(info, err.msg);
		bind_destroy(b);
		return;
	}
	pl_engine_bind_column(info, "schema_name", DUCKDB_TYPE_VARCHAR);
	pl_engine_bind_column(info, "table_name", DUCKDB_TYPE_VARCHAR);
	pl_engine_bind_column(info, "files_processed", DUCKDB_TYPE_BIGINT);
	pl_engine_bind_column(info, "files_created", DUCKDB_TYPE_BIGINT);
	duckdb_bind_set_bind_data(info, b, bind_destroy);
}

static void bind_merge(duckdb_bind_info info)
{
	compact_bind_fn(info, PL_COMPACT_MERGE);
}

static void bind_rewrite(duckdb_bind_info info)
{
	compact_bind_fn(info, PL_COMPACT_REWRITE);
}

static void compact_init(duckdb_init_info info)
{
	compact_state *st = calloc(1, sizeof(*st));
	if (!st) {
		duckdb_init_set_error(info, "out of memory");
		return;
	}
	duckdb_init_set_init_data(info, st, state_destroy);
}

/* The table named by the call (schema "main" unless given), as DuckDB's lookup reports a miss. */
static int find_table(const pl_model *m, const compact_bind *b, const pl_table **out, pl_err *err)
{
	const pl_schema *s = pl_model_schema(m, b->schema ? b->schema : "main");
	if (!s && b->schema) {
		/* as DuckDB's lookup words it: the schemas that do have such a table */
		pl_buf seen = PL_BUF_INIT;
		for (size_t i = 0; i < m->nschemas; i++) {
			if (!pl_model_table(m, m->schemas[i].id, b->table))
				continue;
			pl_buf_printf(&seen, "%s%s.%s", seen.len ? " or " : "", m->schemas[i].name, b->table);
		}
		int rc = seen.len ? pl_err_set(err, PL_ENOTFOUND,
					       "Catalog Error: Table with name %s does not exist because schema %s does not "
					       "exist!\nDid you mean \"%s\"?", b->table, b->schema, pl_buf_cstr(&seen))
				  : pl_err_set(err, PL_ENOTFOUND, "Catalog Error: Schema with name %s does not exist!", b->schema);
		pl_buf_dispose(&seen);
		return rc;
	}
	*out = s ? pl_model_table(m, s->id, b->table) : NULL;
	if (!*out)
		return pl_err_set(err, PL_ENOTFOUND, "Catalog Error: Table with name %s does not exist!", b->table);
	return 0;
}

/* The table the call names in model m (NULL: every table), and a connection of its own with the
 * table context the compaction runs in (*con to disconnect afterwards). */
static int start_run(const compact_bind *b, pl_lake *lake, const pl_model *m, const pl_table **t,
		     duckdb_connection *con, unsigned long *seq, pl_table_ctx *ctx, pl_err *err)
{
	*t = NULL;
	*con = NULL;
	int rc = b->table ? find_table(m, b, t, err) : 0;
	if (rc)
		return rc;
	if (duckdb_connect(b->db->duck, con) == DuckDBError)
		return pl_err_set(err, PL_ERROR, "%s: cannot open an engine connection", fn_name(b->kind));
	*ctx = (pl_table_ctx){.con = *con, .admin = b->db->admin, .deletes = &b->db->deletes, .cat = lake->cat,
			      .lake = lake->name, .tmp_seq = seq, .inline_limit_set = lake->inline_limit_set,
			      .inline_limit = lake->inline_limit, .target_file_size_override = b->target_override};
	return 0;
}

static int run_locked(const compact_bind *b, pl_lake *lake, compact_state *st, pl_err *err)
{
	const pl_model *m = lake->model;
	const pl_table *t = NULL;
	duckdb_connection con = NULL;
	unsigned long seq = 0;
	pl_table_ctx ctx;
	int rc = start_run(b, lake, m, &t, &con, &seq, &ctx, err);
	if (rc)
		return rc;
	pl_compact_request req = {b->kind, &ctx, m, lake->data_path, t, b->max_files, b->min_size, b->max_size,
				  b->threshold_given, b->threshold, NULL, 0};
	int64_t snap = -1;
	rc = pl_compact_run(&req, &st->rows, &snap, err);
	duckdb_disconnect(&con);
	if (rc == 0 && snap >= 0) {
		lake->has_committed = true;
		lake->last_committed = snap;
	}
	return rc;
}

/* Inside a transaction: the compaction becomes one of its writes, committed with its snapshot
 * (tables the transaction changed are left alone; db->lock held). */
static int run_in_txn(const compact_bind *b, pl_lake *lake, compact_state *st, pl_err *err)
{
	const pl_model *m = lake->shared_model ? lake->shared_model : lake->model; /* the latest committed */
	const pl_table *t = NULL;
	duckdb_connection con = NULL;
	unsigned long seq = 0;
	pl_table_ctx ctx;
	int rc = start_run(b, lake, m, &t, &con, &seq, &ctx, err);
	if (rc)
		return rc;
	size_t nwrites = 0;
	const pl_txn *writes = pl_txn_writes(b->conn, lake, &nwrites);
	pl_compact_request req = {b->kind, &ctx, m, lake->data_path, t, b->max_files, b->min_size, b->max_size,
				  b->threshold_given, b->threshold, writes, nwrites};
	pl_txn txn = {0};
	rc = pl_compact_plan(&req, &txn, &st->rows, err);
	duckdb_disconnect(&con);
	if (rc == 0 && !pl_txn_is_empty(&txn))
		rc = pl_txn_add_compaction(b->conn, lake, &txn, err);
	if (rc)
		pl_txn_remove_written(&txn);
	pl_txn_dispose(&txn);
	return rc;
}

static int run(const compact_bind *b, compact_state *st, pl_err *err)
{
	planar_db *db = b->db;
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += LOCK_WAIT_SECONDS;
	/* inside a transaction the session's own statement holds the lakes while the call runs */
	bool held = b->in_txn && __atomic_load_n(&db->lock_holder, __ATOMIC_ACQUIRE) == b->conn;
	if (!held && pthread_mutex_timedlock(&db->lock, &until) != 0)
		return pl_err_set(err, PL_EBUSY,
				  "%s: the lakes stayed busy for %d seconds (it cannot run inside a statement that writes "
				  "to a lake)", fn_name(b->kind), LOCK_WAIT_SECONDS);
	pl_lake *lake = pl_db_find_lake(db, b->lake);
	int rc = 0;
	if (!lake)
		rc = pl_err_set(err, PL_ENOTFOUND, "Catalog Error: no lake named \"%s\" is attached", b->lake);
	else if (lake->read_only)
		rc = pl_err_set(err, PL_EINVALID, "%s: lake \"%s\" is attached read-only", fn_name(b->kind), lake->name);
	/* other sessions' open transactions do not stop it: the files they read stay until expiry,
	 * and whichever of a compaction and a transaction that deleted rows of its sources commits
	 * second fails with a conflict, as in DuckLake */
	else if (b->in_txn)
		rc = run_in_txn(b, lake, st, err);
	else
		rc = run_locked(b, lake, st, err);
	if (!held)
		pthread_mutex_unlock(&db->lock);
	return rc;
}

static void compact_scan(duckdb_function_info info, duckdb_data_chunk out)
{
	const compact_bind *b = duckdb_function_get_bind_data(info);
	compact_state *st = duckdb_function_get_init_data(info);
	if (!st->done) {
		st->done = true;
		pl_err err = {0};
		if (run(b, st, &err) != 0) {
			duckdb_function_set_error(info, err.msg);
			return;
		}
	}
	idx_t n = 0, cap = duckdb_vector_size();
	int64_t *processed = duckdb_vector_get_data(duckdb_data_chunk_get_vector(out, 2));
	int64_t *created = duckdb_vector_get_data(duckdb_data_chunk_get_vector(out, 3));
	for (; st->rows && n < cap && st->next < st->rows->nrows; n++, st->next++) {
		for (size_t c = 0; c < 2; c++)
			pl_engine_vector_put_text(duckdb_data_chunk_get_vector(out, c), n, pl_rows_get(st->rows, st->next, c));
		processed[n] = pl_rows_int(st->rows, st->next, 2, 0);
		created[n] = pl_rows_int(st->rows, st->next, 3, 0);
	}
	duckdb_data_chunk_set_size(out, n);
}

static int register_one(planar_db *db, pl_compact_kind kind, bool with_table, pl_err *err)
{
	duckdb_table_function f = duckdb_create_table_function();
	duckdb_logical_type vt = duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR);
	duckdb_logical_type ut = duckdb_create_logical_type(DUCKDB_TYPE_UBIGINT);
	duckdb_logical_type dt = duckdb_create_logical_type(DUCKDB_TYPE_DOUBLE);
	duckdb_table_function_set_name(f, fn_name(kind));
	duckdb_table_function_add_parameter(f, vt);
	if (with_table) {
		duckdb_table_function_add_parameter(f, vt);
		duckdb_table_function_add_named_parameter(f, "schema", vt);
	}
	if (kind == PL_COMPACT_MERGE) {
		duckdb_table_function_add_named_parameter(f, "min_file_size", ut);
		duckdb_table_function_add_named_parameter(f, "max_file_size", ut);
		duckdb_table_function_add_named_parameter(f, "max_compacted_files", ut);
	} else {
		duckdb_table_function_add_named_parameter(f, "delete_threshold", dt);
	}
	duckdb_table_function_set_extra_info(f, db, NULL);
	duckdb_table_function_set_bind(f, kind == PL_COMPACT_MERGE ? bind_merge : bind_rewrite);
	duckdb_table_function_set_init(f, compact_init);
	duckdb_table_function_set_function(f, compact_scan);
	duckdb_state s = duckdb_register_table_function(db->admin, f);
	duckdb_destroy_logical_type(&dt);
	duckdb_destroy_logical_type(&ut);
	duckdb_destroy_logical_type(&vt);
	duckdb_destroy_table_function(&f);
	if (s == DuckDBError)
		return pl_err_set(err, PL_ERROR, "cannot register the table function %s", fn_name(kind));
	return 0;
}

int pl_compact_register(planar_db *db, pl_err *err)
{
	int rc = 0;
	/* one function each: the engine keeps one signature per name, so the one-argument form is
	 * rewritten to pass a NULL table (pl_compact_rewrite) */
	for (int k = 0; rc == 0 && k < 2; k++)
		rc = register_one(db, k ? PL_COMPACT_REWRITE : PL_COMPACT_MERGE, true, err);
	return rc;
}

/* ---- the one-argument forms ---- */

/* Whether the argument starting at token i is named (`name => v` or `name := v`). */
static bool named_arg(const pl_toks *t, size_t i, size_t end)
{
	if (i + 2 >= end || (t->items[i].kind != PL_TOK_WORD && t->items[i].kind != PL_TOK_QIDENT))
		return false;
	return (pl_tok_is_punct(t, i + 1, "=") && pl_tok_is_punct(t, i + 2, ">")) ||
	       (pl_tok_is_punct(t, i + 1, ":") && pl_tok_is_punct(t, i + 2, "="));
}

int pl_compact_rewrite(planar_conn *conn, const pl_toks *t, char **sql_out, pl_strv *views, pl_err *err)
{
	(void)conn;
	(void)views;
	*sql_out = NULL;
	pl_buf out = PL_BUF_INIT;
	size_t copied = 0;
	bool changed = false;
	for (size_t i = 0; i + 1 < t->len; i++) {
		if ((!pl_tok_is(t, i, "ducklake_merge_adjacent_files") && !pl_tok_is(t, i, "ducklake_rewrite_data_files")) ||
		    !pl_tok_is_punct(t, i + 1, "(") || (i > 0 && pl_tok_is_punct(t, i - 1, ".")))
			continue;
		size_t close = pl_tok_match_paren(t, i + 1);
		if (close >= t->len)
			continue;
		size_t positional = 0, first_end = close;
		for (size_t k = i + 2; k < close;) {
			size_t start = k;
			int depth = 0;
			for (; k < close && !(depth == 0 && pl_tok_is_punct(t, k, ",")); k++) {
				if (pl_tok_is_punct(t, k, "(") || pl_tok_is_punct(t, k, "["))
					depth++;
				else if (pl_tok_is_punct(t, k, ")") || pl_tok_is_punct(t, k, "]"))
					depth--;
			}
			if (!named_arg(t, start, k) && ++positional == 1)
				first_end = k;
			if (k < close)
				k++;
		}
		if (positional != 1)
			continue;
		/* the catalog-wide form: an explicit NULL table selects every table */
		size_t at = t->items[first_end].start;
		pl_buf_put(&out, t->src + copied, at - copied);
		pl_buf_puts(&out, ", NULL");
		copied = at;
		changed = true;
	}
	return pl_rewrite_finish(&out, t, copied, changed, 0, sql_out, err);
}
