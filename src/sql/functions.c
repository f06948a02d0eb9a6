/*
 * functions.c -- SQL functions Planar adds to DuckDB.
 *
 * __planar_meta(lake, listing) returns one of the catalog's fixed listings (catalog/reads.h) as
 * VARCHAR columns; a column named `changes` holding DuckLake changes_made text is rewritten to
 * the text form of MAP(VARCHAR, VARCHAR[]) that ducklake_snapshots() shows. The DuckLake
 * inspection functions (ducklake_snapshots, ducklake_current_snapshot, ducklake_table_info,
 * ducklake_list_files) are per-connection table macros over these functions.
 * __planar_inlined(...) returns the rows DuckDB's extension inlined into the catalog.
 * No function here runs SQL text it is given, or reads a file outside an attached lake.
 */
#include "sql/router.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "catalog/reads.h"
#include "sql/filefns.h"
#include "sql/lake.h"
#include "sql/maintenance.h"
#include "sql/viewfiles.h"
#include "storage/s3lake.h"

typedef struct scan_state {
	idx_t next;
} scan_state;

/* A file's path as DuckDB shows it: an S3 lake's by its s3:// name, not its cached copy. */
static char *shown_path(const char *path)
{
	char *uri = pl_s3lake_uri_of(path);
	return uri ? uri : pl_strdup(path);
}

static void rows_destroy(void *p)
{
	pl_rows_free(p);
}

static const struct {
	const char *from, *to;
} change_names[] = {
	{"created_schema", "schemas_created"},   {"created_table", "tables_created"},
	{"created_view", "views_created"},       {"inserted_into_table", "tables_inserted_into"},
	{"deleted_from_table", "tables_deleted_from"}, {"compacted_table", "tables_compacted"},
	{"dropped_schema", "schemas_dropped"},   {"dropped_table", "tables_dropped"},
	{"dropped_view", "views_dropped"},       {"altered_table", "tables_altered"},
	{"altered_view", "views_altered"},       {"inline_flush", "flushed_inlined"},
	{"created_scalar_macro", "scalar_macros_created"}, {"created_table_macro", "table_macros_created"},
	{"dropped_scalar_macro", "scalar_macros_dropped"}, {"dropped_table_macro", "table_macros_dropped"},
};

/* DuckDB's keywords (lower case, sorted), read once: a name that is one is shown quoted. */
static pthread_mutex_t keywords_lock = PTHREAD_MUTEX_INITIALIZER;
static char **keywords;
static size_t nkeywords;

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void load_keywords(duckdb_connection con)
{
	pthread_mutex_lock(&keywords_lock);
	duckdb_result res;
	pl_err ignored;
	if (!keywords && pl_engine_query(con, "SELECT DISTINCT lower(keyword_name) FROM duckdb_keywords() ORDER BY 1", &res,
					 &ignored) == 0) {
		idx_t n = duckdb_row_count(&res);
		char **k = calloc(n + 1, sizeof(*k));
		bool oom = !k;
		size_t got = 0;
		for (idx_t r = 0; !oom && r < n; r++)
			if ((k[got] = pl_engine_value_str(&res, 0, r, &oom)) != NULL)
				got++;
		duckdb_destroy_result(&res);
		if (k && !oom) {
			qsort(k, got, sizeof(*k), cmp_str);
			keywords = k;
			nkeywords = got;
		} else if (k) {
			for (size_t i = 0; i < got; i++)
				free(k[i]);
			free(k);
		}
	}
	pthread_mutex_unlock(&keywords_lock);
}

/* As DuckDB writes a name "optionally quoted": quotes when it is a keyword or has characters
 * other than letters, digits and '_' (or starts with a digit). */
static bool needs_quotes(const char *name, size_t n)
{
	if (n == 0 || (name[0] >= '0' && name[0] <= '9'))
		return true;
	char lower[128];
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_'))
			return true;
		if (i < sizeof(lower) - 1)
			lower[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
	}
	if (n >= sizeof(lower))
		return false;
	lower[n] = '\0';
	const char *key = lower;
	pthread_mutex_lock(&keywords_lock);
	bool kw = keywords && bsearch(&key, keywords, nkeywords, sizeof(*keywords), cmp_str) != NULL;
	pthread_mutex_unlock(&keywords_lock);
	return kw;
}

/* "s1"."t" -> s1.t as ducklake_snapshots shows a name: its parts optionally quoted ("s1"."select"
 * -> s1."select"), the whole then in single quotes when any part needed double ones. */
static void put_unquoted(pl_buf *b, const char *v, size_t n)
{
	if (!memchr(v, '"', n)) { /* an id, not a name */
		pl_buf_put(b, v, n);
		return;
	}
	pl_buf parts = PL_BUF_INIT, part = PL_BUF_INIT;
	bool q = false, any_quoted = false;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || (!q && v[i] == '.')) {
			const char *name = pl_buf_cstr(&part);
			bool quote = needs_quotes(name, part.len);
			any_quoted = any_quoted || quote;
			if (quote)
				pl_buf_put_ident(&parts, name);
			else
				pl_buf_puts(&parts, name);
			pl_buf_truncate(&part, 0);
			if (i < n)
				pl_buf_putc(&parts, '.');
			continue;
		}
		if (v[i] == '"') {
			if (q && i + 1 < n && v[i + 1] == '"') {
				pl_buf_putc(&part, '"');
				i++;
			} else {
				q = !q;
			}
			continue;
		}
		pl_buf_putc(&part, v[i]);
	}
	if (any_quoted)
		pl_buf_put_literal(b, pl_buf_cstr(&parts));
	else
		pl_buf_puts(b, pl_buf_cstr(&parts));
	pl_buf_dispose(&parts);
	pl_buf_dispose(&part);
}

typedef struct change_group {
	const char *key;
	pl_buf values;
} change_group;

static char *changes_to_map_text(const char *s)
{
	change_group groups[32];
	size_t ngroups = 0;
	while (s && *s) {
		const char *colon = strchr(s, ':'), *p;
		if (!colon)
			break;
		bool q = false;
		for (p = colon + 1; *p && (q || *p != ','); p++)
			if (*p == '"')
				q = !q;
		char kind[64];
		snprintf(kind, sizeof(kind), "%.*s", (int)(colon - s), s);
		const char *key = NULL;
		for (size_t i = 0; i < sizeof(change_names) / sizeof(change_names[0]); i++)
			if (strcmp(change_names[i].from, kind) == 0)
				key = change_names[i].to;
		size_t g = 0;
		for (; g < ngroups && strcmp(groups[g].key, key ? key : kind) != 0; g++)
			;
		if (g == ngroups && ngroups < 32) {
			groups[g].key = key ? key : strdup(kind);
			groups[g].values = (pl_buf)PL_BUF_INIT;
			if (!key)
				groups[g].values.oom = groups[g].key == NULL;
			ngroups++;
		}
		if (g < ngroups) {
			if (groups[g].values.len)
				pl_buf_puts(&groups[g].values, ", ");
			put_unquoted(&groups[g].values, colon + 1, (size_t)(p - colon - 1));
		}
		s = *p ? p + 1 : p;
	}
	pl_buf out = PL_BUF_INIT;
	pl_buf_putc(&out, '{');
	for (size_t g = 0; g < ngroups; g++) {
		pl_buf_printf(&out, "%s%s=[%s]", g ? ", " : "", groups[g].key ? groups[g].key : "",
			      pl_buf_cstr(&groups[g].values));
		bool known = false;
		for (size_t i = 0; i < sizeof(change_names) / sizeof(change_names[0]); i++)
			known = known || groups[g].key == change_names[i].to;
		if (!known)
			free((char *)groups[g].key);
		pl_buf_dispose(&groups[g].values);
	}
	pl_buf_putc(&out, '}');
	return pl_buf_detach(&out);
}

static int rewrite_changes(pl_rows *rows)
{
	for (size_t c = 0; c < rows->ncols; c++) {
		if (strcmp(rows->names[c], "changes") != 0)
			continue;
		for (size_t r = 0; r < rows->nrows; r++) {
			char **cell = &rows->cells[r * rows->ncols + c];
			char *m = changes_to_map_text(*cell ? *cell : "");
			if (!m)
				return PL_ENOMEM;
			free(*cell);
			*cell = m;
		}
	}
	return 0;
}

/* The function returns rows (all VARCHAR columns, named as in rows); rows now belong to DuckDB. */
static void bind_rows(duckdb_bind_info info, pl_rows *rows)
{
	duckdb_logical_type vt = duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR);
	for (size_t c = 0; c < rows->ncols; c++)
		duckdb_bind_add_result_column(info, rows->names[c], vt);
	duckdb_destroy_logical_type(&vt);
	duckdb_bind_set_bind_data(info, rows, rows_destroy);
}

/* Rows of `rows` bound as the function's result, or the error. */
static void bind_rows_or_error(duckdb_bind_info info, int rc, pl_rows *rows, const pl_err *err)
{
	if (rc) {
		duckdb_bind_set_error(info, err->msg);
		pl_rows_free(rows);
	} else {
		bind_rows(info, rows);
	}
}

/* __planar_cat(lake, sql): any SQL on a lake's catalog, for tests and debugging only: registered
 * only when the environment has PLANAR_TEST_CATALOG_SQL=1 when the engine starts (the test
 * scripts set it to look at catalog rows). A user who can set the environment of a process can
 * open its catalog file anyway; a server never sets it. */
static void cat_bind(duckdb_bind_info info)
{
	planar_db *db = duckdb_bind_get_extra_info(info);
	char *lake_name = pl_engine_param_text(info, 0), *sql = pl_engine_param_text(info, 1);
	pl_rows *rows = NULL;
	pl_err err = {0};
	pthread_mutex_lock(&db->lock);
	pl_lake *lake = lake_name ? pl_db_find_lake(db, lake_name) : NULL;
	int rc = !lake_name || !sql ? pl_err_nomem(&err)
		 : !lake ? pl_err_set(&err, PL_ENOTFOUND, "no lake named \"%s\" is attached", lake_name)
			 : pl_catdb_query(lake->cat, sql, NULL, 0, &rows, &err);
	pthread_mutex_unlock(&db->lock);
	if (rc == 0 && rewrite_changes(rows))
		rc = pl_err_nomem(&err);
	if (rc) {
		duckdb_bind_set_error(info, err.msg);
		pl_rows_free(rows);
	} else {
		bind_rows(info, rows);
	}
	free(lake_name);
	free(sql);
}

/* __planar_meta(lake, listing): one of the catalog's fixed listings (catalog/reads.h). */
/* __planar_catalog_table(lake, table): every row of one of the lake's catalog tables (a DuckLake
 * table or an inlined-data table, checked by name), for the lake's read-only metadata database. */
static void catalog_table_bind(duckdb_bind_info info)
{
	planar_db *db = duckdb_bind_get_extra_info(info);
	char *lake_name = pl_engine_param_text(info, 0), *table = pl_engine_param_text(info, 1);
	pl_rows *rows = NULL;
	pl_err err = {0};
	pthread_mutex_lock(&db->lock);
	pl_lake *lake = lake_name ? pl_db_find_lake(db, lake_name) : NULL;
	int rc = !lake ? pl_err_set(&err, PL_ENOTFOUND, "no lake named \"%s\" is attached", lake_name ? lake_name : "NULL")
		       : pl_catalog_table_rows(lake->cat, table, &rows, &err);
	pthread_mutex_unlock(&db->lock);
	bind_rows_or_error(info, rc, rows, &err);
	free(lake_name);
	free(table);
}

static void meta_bind(duckdb_bind_info info)
{
	planar_db *db = duckdb_bind_get_extra_info(info);
	char *lake_name = pl_engine_param_text(info, 0), *what = pl_engine_param_text(info, 1);
	pl_rows *rows = NULL;
	pl_err err = {0};
	pl_catalog_listing listing = PL_LIST_SNAPSHOTS;
	int rc = pl_catalog_listing_by_name(what, &listing, &err);
	if (rc == 0) {
		pthread_mutex_lock(&db->lock);
		pl_lake *lake = lake_name ? pl_db_find_lake(db, lake_name) : NULL;
		rc = !lake ? pl_err_set(&err, PL_ENOTFOUND, "no lake named \"%s\" is attached", lake_name ? lake_name : "NULL")
			   : pl_catalog_list(lake->cat, listing, &rows, &err);
		pthread_mutex_unlock(&db->lock);
	}
	if (rc == 0 && rewrite_changes(rows))
		rc = pl_err_nomem(&err);
	bind_rows_or_error(info, rc, rows, &err);
	free(lake_name);
	free(what);
}

/* __planar_inlined(lake, inlined_table, snapshot, columns, with_row_id): rows the catalog holds
 * inline for a table, as text; columns are separated by the unit separator (0x1f). with_row_id
 * '2': every row begun by the snapshot, with row_id, begin_snapshot and end_snapshot (the change
 * feed). */
static void cat_init(duckdb_init_info info);

/* __planar_inlined's bind data: the rows read when bound and, for a call that reads the binding
 * session's snapshot ('-1'), what is needed to read them again when a later execution (a
 * prepared statement) runs at a newer snapshot. rows comes first: cat_scan reads it. */
typedef struct inlined_bound {
	pl_rows *rows;
	planar_db *db;
	char *args[5];
	int64_t snap;       /* the snapshot the rows are at */
	bool at_session;
	uint64_t conn_id;
	pl_rows *fresh;     /* rows read again by the last init (NULL: rows are current) */
} inlined_bound;

static void inlined_bound_destroy(void *p)
{
	inlined_bound *b = p;
	if (!b)
		return;
	pl_rows_free(b->rows);
	pl_rows_free(b->fresh);
	for (int i = 0; i < 5; i++)
		free(b->args[i]);
	free(b);
}

/* Reads the rows of an inlined table at snap (db->lock held). */
static int inlined_read(pl_lake *lake, char *const *args, int64_t snap, pl_rows **rows, pl_err *err)
{
	pl_strv cols = PL_STRV_INIT;
	int rc = 0;
	for (char *p = args[3], *q; rc == 0 && *p; p = *q ? q + 1 : q) {
		q = strchr(p, '\x1f');
		if (!q)
			q = p + strlen(p);
		rc = pl_strv_push_owned(&cols, pl_strndup(p, (size_t)(q - p))) ? pl_err_nomem(err) : 0;
	}
	if (rc == 0)
		rc = strcmp(args[4], "2") == 0
			     ? pl_catalog_inlined_history(lake->cat, args[1], snap, (const char *const *)cols.items, cols.len,
							  rows, err)
			     : pl_catalog_inlined_rows(lake->cat, args[1], snap, (const char *const *)cols.items, cols.len,
						       strcmp(args[4], "1") == 0, rows, err);
	pl_strv_dispose(&cols);
	return rc;
}

/* A prepared statement executes again on its bind: rows of an inlined table that reads the
 * session's snapshot are read again when that snapshot moved on. */
static void inlined_init(duckdb_init_info info)
{
	inlined_bound *b = duckdb_init_get_bind_data(info);
	pl_rows_free(b->fresh);
	b->fresh = NULL;
	if (b->at_session) {
		planar_db *db = b->db;
		pl_err err = {0};
		planar_conn *conn = pl_delcache_conn_get(&db->deletes, b->conn_id);
		/* the session's own statement may hold the lakes while this query runs (inside a
		 * transaction, or a statement that keeps them): it waits for us, the lakes stay put */
		bool held = conn && __atomic_load_n(&db->lock_holder, __ATOMIC_ACQUIRE) == conn;
		if (!held)
			pthread_mutex_lock(&db->lock);
		pl_lake *lake = pl_db_find_lake(db, b->args[0]);
		const pl_model *m = NULL;
		int rc = lake ? pl_lake_model_for(lake, conn, &m, &err) : 0;
		if (rc == 0 && lake && m->snapshot_id != b->snap)
			rc = inlined_read(lake, b->args, m->snapshot_id, &b->fresh, &err);
		if (!held)
			pthread_mutex_unlock(&db->lock);
		if (rc) {
			duckdb_init_set_error(info, err.msg);
			return;
		}
	}
	cat_init(info);
}

static void inlined_scan(duckdb_function_info info, duckdb_data_chunk output)
{
	inlined_bound *b = duckdb_function_get_bind_data(info);
	pl_rows *rows = b->fresh ? b->fresh : b->rows;
	scan_state *st = duckdb_function_get_init_data(info);
	idx_t n = 0, cap = duckdb_vector_size();
	for (; n < cap && st->next < rows->nrows; n++, st->next++)
		for (size_t c = 0; c < rows->ncols; c++)
			pl_engine_vector_put_text(duckdb_data_chunk_get_vector(output, c), n, pl_rows_get(rows, st->next, c));
	duckdb_data_chunk_set_size(output, n);
}

static void inlined_bind(duckdb_bind_info info)
{
	planar_db *db = duckdb_bind_get_extra_info(info);
	char *args[5];
	for (idx_t i = 0; i < 5; i++)
		args[i] = pl_engine_param_text(info, i);
	uint64_t conn_id = 0;
	bool at_session = false;
	pl_rows *rows = NULL;
	pl_err err = {0};
	pl_strv cols = PL_STRV_INIT;
	char *end = NULL;
	int64_t snap = args[2] ? strtoll(args[2], &end, 10) : -2;
	int rc = !args[0] || !args[1] || !args[3] || !args[4] || !end || *end || snap < -1
			 ? pl_err_set(&err, PL_EINVALID, "__planar_inlined: invalid arguments")
			 : 0;
	for (char *p = args[3], *q; rc == 0 && *p; p = *q ? q + 1 : q) {
		q = strchr(p, '\x1f');
		if (!q)
			q = p + strlen(p);
		rc = pl_strv_push_owned(&cols, pl_strndup(p, (size_t)(q - p))) ? pl_err_nomem(&err) : 0;
	}
	if (rc == 0) {
		pthread_mutex_lock(&db->lock);
		pl_lake *lake = pl_db_find_lake(db, args[0]);
		if (lake && snap == -1) { /* the snapshot the binding session sees */
			duckdb_client_context ctx = NULL;
			duckdb_table_function_get_client_context(info, &ctx);
			planar_conn *conn =
				ctx ? pl_delcache_conn_get(&db->deletes, duckdb_client_context_get_connection_id(ctx)) : NULL;
			const pl_model *m = NULL;
			rc = pl_lake_model_for(lake, conn, &m, &err);
			snap = rc == 0 ? m->snapshot_id : -1;
			at_session = ctx != NULL;
			if (ctx) {
				conn_id = duckdb_client_context_get_connection_id(ctx);
				duckdb_destroy_client_context(&ctx);
			}
		}
		rc = rc ? rc
		   : !lake ? pl_err_set(&err, PL_ENOTFOUND, "no lake named \"%s\" is attached", args[0])
			   : inlined_read(lake, args, snap, &rows, &err);
		pthread_mutex_unlock(&db->lock);
	}
	inlined_bound *b = rc == 0 ? calloc(1, sizeof(*b)) : NULL;
	if (rc == 0 && !b)
		rc = pl_err_nomem(&err);
	if (rc) {
		duckdb_bind_set_error(info, err.msg);
		pl_rows_free(rows);
		for (int i = 0; i < 5; i++)
			free(args[i]);
	} else {
		duckdb_logical_type vt = duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR);
		for (size_t c = 0; c < rows->ncols; c++)
			duckdb_bind_add_result_column(info, rows->names[c], vt);
		duckdb_destroy_logical_type(&vt);
		/* the rows are read: DuckDB plans with their exact number (not a guess of one row) */
		duckdb_bind_set_cardinality(info, rows->nrows, true);
		*b = (inlined_bound){rows, db, {args[0], args[1], args[2], args[3], args[4]}, snap, at_session, conn_id, NULL};
		duckdb_bind_set_bind_data(info, b, inlined_bound_destroy);
	}
	pl_strv_dispose(&cols);
}

static void cat_init(duckdb_init_info info)
{
	scan_state *st = calloc(1, sizeof(*st));
	if (!st) {
		duckdb_init_set_error(info, "out of memory");
		return;
	}
	duckdb_init_set_init_data(info, st, free);
}

static void cat_scan(duckdb_function_info info, duckdb_data_chunk output)
{
	pl_rows *rows = duckdb_function_get_bind_data(info);
	scan_state *st = duckdb_function_get_init_data(info);
	idx_t n = 0, cap = duckdb_vector_size();
	for (; n < cap && st->next < rows->nrows; n++, st->next++) {
		for (size_t c = 0; c < rows->ncols; c++) {
			duckdb_vector vec = duckdb_data_chunk_get_vector(output, c);
			pl_engine_vector_put_text(vec, n, pl_rows_get(rows, st->next, c));
		}
	}
	duckdb_data_chunk_set_size(output, n);
}

/* ---- __planar_files(lake, schema, table, snapshot): live data files with resolved paths ---- */

static const char *const file_columns[] = {
	"data_file", "data_file_size_bytes", "data_file_footer_size", "delete_file",
	"delete_file_size_bytes", "delete_file_footer_size",
};
#define NFILE_COLUMNS (sizeof(file_columns) / sizeof(file_columns[0]))

static char *int_text(int64_t v)
{
	char b[32];
	if (v < 0)
		return NULL;
	snprintf(b, sizeof(b), "%lld", (long long)v);
	return pl_strdup(b);
}

static int files_rows(const pl_model *m, const pl_table *t, pl_rows **out, pl_err *err)
{
	pl_rows *rows = NULL;
	const pl_data_file *files = NULL;
	size_t nfiles = 0;
	int rc = pl_model_table_files(m, t, &files, &nfiles, err);
	if (rc)
		return rc;
	if (pl_rows_new(&rows, NFILE_COLUMNS))
		return pl_err_nomem(err);
	bool oom = false;
	for (size_t c = 0; c < NFILE_COLUMNS; c++)
		oom = oom || !(rows->names[c] = pl_strdup(file_columns[c]));
	for (size_t i = 0; !oom && i < nfiles; i++) {
		const pl_data_file *f = &files[i];
		bool del = f->delete_path != NULL;
		char *cells[NFILE_COLUMNS] = {shown_path(f->path), int_text(f->file_size), int_text(f->footer_size),
					      del ? shown_path(f->delete_path) : NULL,
					      del ? int_text(f->delete_size) : NULL, del ? int_text(f->delete_footer) : NULL};
		oom = !cells[0] || (del && !cells[3]) || pl_rows_append(rows, cells) != 0;
	}
	if (oom) {
		pl_rows_free(rows);
		return pl_err_nomem(err);
	}
	*out = rows;
	return 0;
}

/* Snapshot id at or before a timestamp. */
static int snapshot_at_time(pl_lake *lake, const char *ts, int64_t *out, pl_err *err)
{
	int rc = pl_catalog_snapshot_at_time(lake->cat, ts, true, out, err);
	if (rc)
		return rc;
	return *out < 0 ? pl_err_set(err, PL_ENOTFOUND, "no snapshot at or before %s", ts) : 0;
}

static int lake_files(planar_db *db, char *args[5], pl_rows **out, pl_err *err)
{
	pl_lake *lake = pl_db_find_lake(db, args[0]);
	pl_model *at = NULL;
	int64_t snap = -1;
	if (!lake)
		return pl_err_set(err, PL_ENOTFOUND, "no lake named \"%s\" is attached", args[0]);
	const pl_model *m = lake->model;
	if (args[3])
		snap = strtoll(args[3], NULL, 10);
	else if (args[4] && snapshot_at_time(lake, args[4], &snap, err))
		return err->code;
	if (snap >= 0) {
		int rc = pl_model_load(&at, lake->cat, snap, lake->data_path, err);
		if (rc)
			return rc;
		m = at;
	}
	const pl_schema *s = pl_model_schema(m, args[1]);
	const pl_table *t = s ? pl_model_table(m, s->id, args[2]) : NULL;
	int rc = t ? files_rows(m, t, out, err)
		   : pl_err_set(err, PL_ENOTFOUND, "Catalog Error: Table with name %s does not exist!", args[2]);
	pl_model_free(at);
	return rc;
}

static void files_bind(duckdb_bind_info info)
{
	planar_db *db = duckdb_bind_get_extra_info(info);
	char *args[5] = {pl_engine_param_text(info, 0), pl_engine_param_text(info, 1), pl_engine_param_text(info, 2),
			 pl_engine_param_text(info, 3), pl_engine_param_text(info, 4)};
	pl_rows *rows = NULL;
	pl_err err = {0};
	int rc = 0;
	if (!args[0] || !args[1] || !args[2]) {
		rc = pl_err_set(&err, PL_EINVALID, "ducklake_list_files needs a catalog, a table and a schema");
	} else if (args[3] && args[4]) {
		rc = pl_err_set(&err, PL_EINVALID,
				"Invalid Input Error: ducklake_list_files takes snapshot_version or snapshot_time, not both");
	} else {
		pthread_mutex_lock(&db->lock);
		rc = lake_files(db, args, &rows, &err);
		pthread_mutex_unlock(&db->lock);
	}
	if (rc) {
		duckdb_bind_set_error(info, err.msg);
	} else {
		bind_rows(info, rows);
	}
	for (int i = 0; i < 5; i++)
		free(args[i]);
}

/* ---- __planar_objects(): which mirror views are lake tables and which lake views; a row of
 * kind 'metadata' names a lake's metadata catalog, whose views all show as tables, one of kind
 * 'lake' a lake (with its data path) ---------------------------------------------------------- */

static const char *const object_columns[] = {"database_name", "schema_name", "name", "kind", "comment",
					     "estimated_size", "data_path"};
#define NOBJECT_COLUMNS (sizeof(object_columns) / sizeof(object_columns[0]))

static int push_object(pl_rows *rows, const char *db, const char *schema, const char *name, const char *kind,
		       const char *comment, int64_t size)
{
	char *cells[NOBJECT_COLUMNS] = {pl_strdup(db), pl_strdup(schema), pl_strdup(name), pl_strdup(kind),
					comment ? pl_strdup(comment) : NULL, int_text(size), NULL};
	if (!cells[0] || !cells[1] || !cells[2] || !cells[3]) {
		for (size_t i = 0; i < NOBJECT_COLUMNS; i++)
			free(cells[i]);
		return PL_ENOMEM;
	}
	return pl_rows_append(rows, cells);
}

/* The lakes' tables and views as the session conn sees them (its open transaction's own
 * changes too; the lakes' current models without a session). */
static int lake_objects(planar_db *db, planar_conn *conn, pl_rows *rows)
{
	int rc = 0;
	for (size_t l = 0; rc == 0 && l < db->nlakes; l++) {
		pl_lake *lake = db->lakes[l];
		const pl_model *m = lake->model;
		pl_err ignored;
		if (conn && pl_lake_model_for(lake, conn, &m, &ignored) != 0)
			m = lake->model;
		for (size_t i = 0; rc == 0 && i < m->ntables; i++) {
			const pl_table *t = &m->tables[i];
			const pl_schema *s = pl_model_schema_by_id(m, t->schema_id);
			if (s)
				rc = push_object(rows, lake->name, s->name, t->name, "table", t->comment, t->record_count);
		}
		for (size_t i = 0; rc == 0 && i < m->nviews; i++) {
			const pl_schema *s = pl_model_schema_by_id(m, m->views[i].schema_id);
			if (s)
				rc = push_object(rows, lake->name, s->name, m->views[i].name, "view", NULL, -1);
		}
		/* the lake's metadata catalog: its views are the catalog's tables */
		if (rc == 0 && lake->meta_attached)
			rc = push_object(rows, lake->meta_name, "main", "", "metadata", NULL, -1);
		/* the lake itself, with its data path (duckdb_databases() shows it as a tag) */
		if (rc == 0)
			rc = push_object(rows, lake->name, "", "", "lake", NULL, -1);
		if (rc == 0 && lake->data_path &&
		    !(rows->cells[(rows->nrows - 1) * NOBJECT_COLUMNS + 6] = pl_strdup(lake->data_path)))
			rc = PL_ENOMEM;
	}
	return rc;
}

static void objects_bind(duckdb_bind_info info)
{
	planar_db *db = duckdb_bind_get_extra_info(info);
	pl_rows *rows = NULL;
	int rc = pl_rows_new(&rows, NOBJECT_COLUMNS);
	for (size_t c = 0; rc == 0 && c < NOBJECT_COLUMNS; c++)
		rc = (rows->names[c] = pl_strdup(object_columns[c])) ? 0 : PL_ENOMEM;
	if (rc == 0) {
		duckdb_client_context ctx = NULL;
		duckdb_table_function_get_client_context(info, &ctx);
		/* the session's own statement may hold the lakes while DuckDB binds this (as for
		 * __planar_inlined): then they stay put without the lock */
		planar_conn *conn =
			ctx ? pl_delcache_conn_get(&db->deletes, duckdb_client_context_get_connection_id(ctx)) : NULL;
		if (ctx)
			duckdb_destroy_client_context(&ctx);
		bool held = conn && __atomic_load_n(&db->lock_holder, __ATOMIC_ACQUIRE) == conn;
		if (!held)
			pthread_mutex_lock(&db->lock);
		rc = lake_objects(db, conn, rows);
		if (!held)
			pthread_mutex_unlock(&db->lock);
	}
	if (rc) {
		duckdb_bind_set_error(info, "out of memory");
		pl_rows_free(rows);
		return;
	}
	bind_rows(info, rows);
}
int pl_functions_add_table(planar_db *db, const char *name, size_t nparams, duckdb_table_function_bind_t bind,
			   duckdb_table_function_init_t init, duckdb_table_function_t scan, pl_err *err)
{
	duckdb_table_function f = duckdb_create_table_function();
	duckdb_logical_type vt = duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR);
	duckdb_table_function_set_name(f, name);
	for (size_t i = 0; i < nparams; i++)
		duckdb_table_function_add_parameter(f, vt);
	duckdb_table_function_set_extra_info(f, db, NULL);
	duckdb_table_function_set_bind(f, bind);
	duckdb_table_function_set_init(f, init);
	duckdb_table_function_set_function(f, scan);
	duckdb_state s = duckdb_register_table_function(db->admin, f);
	duckdb_destroy_logical_type(&vt);
	duckdb_destroy_table_function(&f);
	if (s == DuckDBError)
		return pl_err_set(err, PL_ERROR, "cannot register Planar's table function %s", name);
	return 0;
}

static int register_function(planar_db *db, const char *name, size_t nparams, duckdb_table_function_bind_t bind,
			     duckdb_table_function_t scan, pl_err *err)
{
	return pl_functions_add_table(db, name, nparams, bind, scan == inlined_scan ? inlined_init : cat_init, scan, err);
}

int pl_functions_register(planar_db *db, pl_err *err)
{
	load_keywords(db->admin);
	const char *test_sql = getenv("PLANAR_TEST_CATALOG_SQL");
	int rc = test_sql && strcmp(test_sql, "1") == 0 ? register_function(db, "__planar_cat", 2, cat_bind, cat_scan, err)
							 : 0;
	if (rc == 0)
		rc = register_function(db, "__planar_meta", 2, meta_bind, cat_scan, err);
	if (rc == 0)
		rc = register_function(db, "__planar_catalog_table", 2, catalog_table_bind, cat_scan, err);
	if (rc == 0)
		rc = register_function(db, "__planar_inlined", 5, inlined_bind, inlined_scan, err);
	if (rc == 0)
		rc = register_function(db, "__planar_files", 5, files_bind, cat_scan, err);
	if (rc == 0)
		rc = register_function(db, "__planar_objects", 0, objects_bind, cat_scan, err);
	if (rc == 0)
		rc = pl_viewfiles_register(db, err);
	if (rc == 0)
		rc = pl_filefns_register(db, err);
	if (rc == 0)
		rc = pl_maintenance_register(db, err);
	if (rc == 0)
		rc = pl_blob_functions_register(db, err);
	return rc;
}
