/*
 * driver_duckdb.c -- catalog driver for a DuckDB database file, opened as its own DuckDB
 * instance (separate from the query engine, so the catalog is never visible to user SQL).
 * A DuckDB file admits one writing process at a time; DuckDB's transaction conflicts map to
 * PL_ECONFLICT. Since this process is the only writer while the file is open, a counter of ended
 * write transactions (shared by a connection and its clones) tells when the catalog may have
 * changed (pl_catdb_generation).
 */
#define _DEFAULT_SOURCE /* timegm */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "catalog/driver.h"
#include "core/str.h"
#include "engine/engine.h"

/* What a connection shares with its clones: the generation counter (starts at 1), moved under
 * the lock right after each write lands, so that the generation a commit ends on is the state
 * right after it (no other write in between). */
typedef struct duck_shared {
	pthread_mutex_t lock;
	uint64_t generation;
	int refs;
} duck_shared;

typedef struct duck_catdb {
	pl_catdb base;
	duckdb_database db;
	duckdb_connection con;
	char *path;
	char *schema; /* METADATA_SCHEMA: the schema of the catalog tables (NULL: main) */
	bool owns_db; /* clones share the database of the original */
	bool in_txn;  /* between begin and commit/rollback */
	duck_shared *shared;
	pl_stmt_cache cache;
} duck_catdb;

/* Called with the lock held after anything that may have changed the catalog has ended
 * (committed or not); returns the new generation. */
static uint64_t bump_generation(duck_catdb *d)
{
	return __atomic_add_fetch(&d->shared->generation, 1, __ATOMIC_ACQ_REL);
}

/* Statements that leave the generation to others: reads, and the start and end of a
 * transaction (d_commit moves it itself). */
static bool reads_only(const char *sql)
{
	return strncmp(sql, "SELECT ", 7) == 0 || strcmp(sql, "BEGIN TRANSACTION") == 0 || strcmp(sql, "COMMIT") == 0;
}

static void finalize_stmt(void *p)
{
	duckdb_prepared_statement st = p;
	duckdb_destroy_prepare(&st);
}

static int prefix_error(duck_catdb *d, int rc, pl_err *err)
{
	pl_err_wrap(err, "catalog database '%s'", d->path);
	err->code = rc;
	return rc;
}

/* s as a whole decimal integer in [lo, hi]. */
static bool parse_int(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
	const char *p = s + (*s == '-');
	if (!*p || strspn(p, "0123456789") != strlen(p) || strlen(p) > 18)
		return false;
	long long v = strtoll(s, NULL, 10);
	*out = v;
	return v >= lo && v <= hi;
}

/* s as a plain decimal number (digits, sign, point, exponent: what casting it would read alike). */
static bool parse_double(const char *s, double *out)
{
	char *end = NULL;
	if (!*s || strspn(s, "0123456789+-.eE") != strlen(s))
		return false;
	errno = 0;
	*out = strtod(s, &end);
	return end && *end == '\0' && errno == 0; /* out of range: DuckDB's cast says what it thinks */
}

/* "YYYY-MM-DD HH:MM:SS.ffffff+00" (pl_now_timestamptz's form) as microseconds since the epoch. */
static bool parse_utc_timestamp(const char *s, int64_t *out)
{
	int y, mo, d, h, mi, sec, n = 0;
	long us;
	if (strlen(s) != 29 || strcmp(s + 26, "+00") != 0 ||
	    sscanf(s, "%4d-%2d-%2d %2d:%2d:%2d.%6ld%n", &y, &mo, &d, &h, &mi, &sec, &us, &n) != 7 || n != 26)
		return false;
	struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = sec};
	time_t t = timegm(&tm);
	*out = (int64_t)t * 1000000 + us;
	return true;
}

/* A text value bound as the type the statement expects, so that DuckDB keeps the statement's
 * plan (a value of another type makes it bind the statement again); false: bind it as text. */
static bool bind_typed_text(duckdb_prepared_statement st, idx_t idx, const char *s, duckdb_state *state)
{
	int64_t i;
	double d;
	switch (duckdb_param_type(st, idx)) {
	case DUCKDB_TYPE_BIGINT:
		if (!parse_int(s, INT64_MIN + 1, INT64_MAX, &i))
			return false;
		*state = duckdb_bind_int64(st, idx, i);
		return true;
	case DUCKDB_TYPE_INTEGER:
		if (!parse_int(s, INT32_MIN, INT32_MAX, &i))
			return false;
		*state = duckdb_bind_int32(st, idx, (int32_t)i);
		return true;
	case DUCKDB_TYPE_DOUBLE:
		if (!parse_double(s, &d))
			return false;
		*state = duckdb_bind_double(st, idx, d);
		return true;
	case DUCKDB_TYPE_TIMESTAMP_TZ:
		if (!parse_utc_timestamp(s, &i))
			return false;
		*state = duckdb_bind_timestamp_tz(st, idx, (duckdb_timestamp){i});
		return true;
	default:
		return false;
	}
}

static int bind_params(duckdb_prepared_statement st, const pl_val *params, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		idx_t idx = i + 1;
		duckdb_state s = DuckDBSuccess;
		switch (params[i].kind) {
		case PL_V_NULL: s = duckdb_bind_null(st, idx); break;
		case PL_V_INT:
			if (duckdb_param_type(st, idx) == DUCKDB_TYPE_INTEGER && params[i].i >= INT32_MIN &&
			    params[i].i <= INT32_MAX)
				s = duckdb_bind_int32(st, idx, (int32_t)params[i].i);
			else
				s = duckdb_bind_int64(st, idx, params[i].i);
			break;
		case PL_V_BOOL: s = duckdb_bind_boolean(st, idx, params[i].i != 0); break;
		case PL_V_TEXT:
			if (!bind_typed_text(st, idx, params[i].s, &s))
				s = duckdb_bind_varchar(st, idx, params[i].s);
			break;
		}
		if (s == DuckDBError)
			return -1;
	}
	return 0;
}

/* DuckDB binds a kept statement again (about 0.2 ms) whenever a value's type differs from what
 * its placeholder was bound as, and a NULL bound through the C API has no type. So the
 * placeholders of NULL values are written NULL in the statement: *out is sql with those '?'
 * (outside quotes) replaced, and kept[] the other values (one kept statement per pattern of
 * NULLs). *out NULL: no value is NULL, or no memory (then sql runs as it is). */
typedef struct nulls_written {
	const pl_val *params;
	size_t n;
	pl_val *kept;
	size_t nkept;
	size_t placeholders; /* seen so far: the text is used only when there are exactly n */
} nulls_written;

static void put_null_or_placeholder(pl_buf *b, size_t k, void *arg)
{
	nulls_written *w = arg;
	w->placeholders = k + 1;
	if (k < w->n && w->params[k].kind == PL_V_NULL) {
		pl_buf_puts(b, "NULL");
		return;
	}
	if (k < w->n)
		w->kept[w->nkept++] = w->params[k];
	pl_buf_putc(b, '?');
}

static void write_nulls(const char *sql, const pl_val *params, size_t n, char **out, pl_val *kept, size_t *nkept)
{
	size_t nulls = 0;
	*out = NULL;
	for (size_t i = 0; i < n; i++)
		nulls += params[i].kind == PL_V_NULL;
	if (nulls == 0)
		return;
	nulls_written w = {params, n, kept, 0, 0};
	char *text = pl_catdb_rewrite_placeholders(sql, put_null_or_placeholder, &w);
	if (text && w.placeholders == n) {
		*out = text;
		*nkept = w.nkept;
	} else {
		free(text);
	}
}

static int run_sql(duck_catdb *d, const char *sql, const pl_val *params, size_t n, duckdb_result *res, pl_err *err);

static int run(duck_catdb *d, const char *sql, const pl_val *params, size_t n, duckdb_result *res,
	       pl_err *err)
{
	pl_val small[32];
	pl_val *kept = n <= 32 ? small : malloc(n * sizeof(*kept));
	char *written = NULL;
	size_t nkept = 0;
	if (kept)
		write_nulls(sql, params, n, &written, kept, &nkept);
	int rc = written ? run_sql(d, written, kept, nkept, res, err) : run_sql(d, sql, params, n, res, err);
	free(written);
	if (kept != small)
		free(kept);
	return rc;
}

static int run_sql(duck_catdb *d, const char *sql, const pl_val *params, size_t n, duckdb_result *res, pl_err *err)
{
	/* The database plans without statistics (see pl_catdb_duckdb_open), so a kept plan reads
	 * the rows of later commits too; a schema change makes DuckDB bind it again. (DuckDB 1.5
	 * binds a statement with parameters that reads a table at every run anyway: keeping it
	 * saves the parse and the first plan.) */
	duckdb_prepared_statement st = pl_stmt_cache_take(&d->cache, sql);
	if (st)
		duckdb_clear_bindings(st);
	else if (duckdb_prepare(d->con, sql, &st) == DuckDBError) {
		pl_err_set(err, PL_ECATALOG, "%s", duckdb_prepare_error(st));
		duckdb_destroy_prepare(&st);
		return prefix_error(d, PL_ECATALOG, err);
	}
	if (bind_params(st, params, n)) {
		duckdb_destroy_prepare(&st);
		pl_err_set(err, PL_ECATALOG, "cannot bind parameters of: %s", sql);
		return prefix_error(d, PL_ECATALOG, err);
	}
	/* a write outside a transaction moves the generation once it has landed */
	bool write = !d->in_txn && !reads_only(sql);
	if (write)
		pthread_mutex_lock(&d->shared->lock);
	duckdb_state state = duckdb_execute_prepared(st, res);
	if (write) {
		bump_generation(d);
		pthread_mutex_unlock(&d->shared->lock);
	}
	if (state == DuckDBError) {
		int rc = pl_engine_result_error(res, err);
		if (rc == PL_EINVALID || rc == PL_ERROR)
			rc = err->code = PL_ECATALOG;
		duckdb_destroy_result(res);
		duckdb_destroy_prepare(&st);
		return prefix_error(d, rc, err);
	}
	pl_stmt_cache_give(&d->cache, sql, st);
	return 0;
}

static int d_exec(pl_catdb *db, const char *sql, const pl_val *params, size_t n, pl_err *err)
{
	duckdb_result res;
	int rc = run((duck_catdb *)db, sql, params, n, &res, err);
	if (rc == 0)
		duckdb_destroy_result(&res);
	return rc;
}

/* TIMESTAMP WITH TIME ZONE as UTC text "YYYY-MM-DD HH:MM:SS.ffffff+00" (the C API's VARCHAR
 * conversion cannot do it without a session time zone). */
static char *timestamptz_text(duckdb_result *res, idx_t c, idx_t r)
{
	duckdb_timestamp ts = duckdb_value_timestamp(res, c, r);
	int64_t secs = ts.micros / 1000000, us = ts.micros % 1000000;
	if (us < 0)
		us += 1000000, secs--;
	time_t t = (time_t)secs;
	struct tm tm;
	char date[32], out[48];
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(out, sizeof(out), "%s.%06lld+00", date, (long long)us);
	return pl_strdup(out);
}

static char *uuid_text(duckdb_result *res, idx_t c, idx_t r)
{
	duckdb_hugeint h = duckdb_value_hugeint(res, c, r);
	uint64_t hi = (uint64_t)h.upper ^ (1ULL << 63), lo = h.lower; /* DuckDB flips the top bit */
	char out[40];
	snprintf(out, sizeof(out), "%08llx-%04llx-%04llx-%04llx-%012llx", (unsigned long long)(hi >> 32),
		 (unsigned long long)((hi >> 16) & 0xffff), (unsigned long long)(hi & 0xffff),
		 (unsigned long long)(lo >> 48), (unsigned long long)(lo & 0xffffffffffffULL));
	return pl_strdup(out);
}

static int copy_rows(duckdb_result *res, pl_rows *rows)
{
	size_t ncols = rows->ncols;
	for (size_t c = 0; c < ncols; c++)
		if (!(rows->names[c] = pl_strdup(duckdb_column_name(res, c))))
			return PL_ENOMEM;
	idx_t nrows = duckdb_row_count(res);
	for (idx_t r = 0; r < nrows; r++) {
		char **cells = calloc(ncols ? ncols : 1, sizeof(char *));
		bool oom = !cells;
		for (size_t c = 0; !oom && c < ncols; c++) {
			duckdb_type t = duckdb_column_type(res, c);
			bool null = duckdb_value_is_null(res, c, r);
			if (null)
				cells[c] = NULL;
			else if (t == DUCKDB_TYPE_BOOLEAN)
				cells[c] = pl_strdup(duckdb_value_boolean(res, c, r) ? "1" : "0");
			else if (t == DUCKDB_TYPE_TIMESTAMP_TZ)
				cells[c] = timestamptz_text(res, c, r);
			else if (t == DUCKDB_TYPE_UUID)
				cells[c] = uuid_text(res, c, r);
			else
				cells[c] = pl_engine_value_str(res, c, r, &oom);
			oom = oom || (!cells[c] && !duckdb_value_is_null(res, c, r));
		}
		if (oom || pl_rows_append(rows, cells)) {
			if (cells && oom)
				for (size_t c = 0; c < ncols; c++)
					free(cells[c]);
			free(cells);
			return PL_ENOMEM;
		}
		free(cells);
	}
	return 0;
}

/* Columns the C API reads as text only through a cast in SQL (time zones, UUIDs, nested). */
static bool needs_cast(duckdb_type t)
{
	return t == DUCKDB_TYPE_TIMESTAMP_TZ || t == DUCKDB_TYPE_UUID || t == DUCKDB_TYPE_TIME_TZ ||
	       t == DUCKDB_TYPE_STRUCT || t == DUCKDB_TYPE_LIST || t == DUCKDB_TYPE_MAP || t == DUCKDB_TYPE_ARRAY ||
	       t == DUCKDB_TYPE_INTERVAL || t == DUCKDB_TYPE_BLOB;
}

/* SELECT CAST(c AS VARCHAR) ... FROM (<sql>) for the columns that need it. */
static char *cast_query(duckdb_result *res, const char *sql)
{
	pl_buf b = PL_BUF_INIT;
	pl_buf_puts(&b, "SELECT ");
	for (idx_t c = 0; c < duckdb_column_count(res); c++) {
		if (c)
			pl_buf_puts(&b, ", ");
		bool cast = needs_cast(duckdb_column_type(res, c));
		pl_buf_puts(&b, cast ? "CAST(" : "");
		pl_buf_printf(&b, "#%llu", (unsigned long long)c + 1);
		pl_buf_puts(&b, cast ? " AS VARCHAR)" : "");
		pl_buf_puts(&b, " AS ");
		pl_buf_put_ident(&b, duckdb_column_name(res, c));
	}
	pl_buf_printf(&b, " FROM (%s) AS __q", sql);
	return pl_buf_detach(&b);
}

static int d_query(pl_catdb *db, const char *sql, const pl_val *params, size_t n, pl_rows **out,
		   pl_err *err)
{
	duckdb_result res;
	pl_rows *rows = NULL;
	int rc = run((duck_catdb *)db, sql, params, n, &res, err);
	if (rc)
		return rc;
	bool cast = false;
	for (idx_t c = 0; c < duckdb_column_count(&res); c++)
		cast = cast || needs_cast(duckdb_column_type(&res, c));
	if (cast) {
		char *wrapped = cast_query(&res, sql);
		duckdb_destroy_result(&res);
		rc = wrapped ? run((duck_catdb *)db, wrapped, params, n, &res, err) : pl_err_nomem(err);
		free(wrapped);
		if (rc)
			return rc;
	}
	if (pl_rows_new(&rows, duckdb_column_count(&res)) || copy_rows(&res, rows)) {
		pl_rows_free(rows);
		duckdb_destroy_result(&res);
		return pl_err_nomem(err);
	}
	duckdb_destroy_result(&res);
	*out = rows;
	return 0;
}

static int d_begin(pl_catdb *db, pl_err *err)
{
	duck_catdb *d = (duck_catdb *)db;
	int rc = d_exec(db, "BEGIN TRANSACTION", NULL, 0, err);
	d->in_txn = rc == 0;
	return rc;
}

static int d_commit(pl_catdb *db, pl_err *err)
{
	duck_catdb *d = (duck_catdb *)db;
	pthread_mutex_lock(&d->shared->lock);
	int rc = d_exec(db, "COMMIT", NULL, 0, err);
	d->in_txn = false; /* committed, or failed and rolled back */
	uint64_t g = bump_generation(d);
	pthread_mutex_unlock(&d->shared->lock);
	db->committed_gen = rc == 0 ? g : 0;
	return rc;
}

static int d_rollback(pl_catdb *db, pl_err *err)
{
	duck_catdb *d = (duck_catdb *)db;
	pl_err ignored;
	(void)err;
	d_exec(db, "ROLLBACK", NULL, 0, &ignored);
	d->in_txn = false;
	return 0;
}

static uint64_t d_generation(pl_catdb *db)
{
	duck_catdb *d = (duck_catdb *)db;
	return d->in_txn ? 0 : __atomic_load_n(&d->shared->generation, __ATOMIC_ACQUIRE);
}

static int d_table_exists(pl_catdb *db, const char *table, bool *out, pl_err *err)
{
	pl_rows *rows = NULL;
	pl_val p = PL_VTEXT(table);
	int rc = d_query(db,
			 "SELECT 1 FROM duckdb_tables() WHERE database_name = current_database() "
			 "AND schema_name = current_schema() AND table_name = ?",
			 &p, 1, &rows, err);
	if (rc)
		return rc;
	*out = rows->nrows > 0;
	pl_rows_free(rows);
	return 0;
}

static void d_close(pl_catdb *db)
{
	duck_catdb *d = (duck_catdb *)db;
	pl_stmt_cache_clear(&d->cache);
	if (d->shared && __atomic_sub_fetch(&d->shared->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		pthread_mutex_destroy(&d->shared->lock);
		free(d->shared);
	}
	if (d->con)
		duckdb_disconnect(&d->con);
	if (d->db && d->owns_db)
		duckdb_close(&d->db);
	free(d->path);
	free(d->schema);
	free(d);
}

static const pl_catdb_ops duckdb_ops;

/* Unqualified names of this connection's statements resolve in the METADATA_SCHEMA (made when
 * the catalog may be created), as DuckDB's extension keeps its tables there. */
static int use_schema(duck_catdb *d, bool create, pl_err *err)
{
	if (!d->schema)
		return 0;
	pl_buf q = PL_BUF_INIT;
	int rc = 0;
	if (create) {
		pl_buf_puts(&q, "CREATE SCHEMA IF NOT EXISTS ");
		pl_buf_put_ident(&q, d->schema);
		rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_exec(d->con, q.ptr, err);
		pl_buf_truncate(&q, 0);
	}
	pl_buf name = PL_BUF_INIT; /* the setting reads a (quoted) name */
	pl_buf_put_ident(&name, d->schema);
	pl_buf_puts(&q, "SET schema = ");
	pl_buf_put_literal(&q, pl_buf_cstr(&name));
	if (pl_buf_oom(&name))
		q.oom = true;
	pl_buf_dispose(&name);
	if (rc == 0)
		rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_exec(d->con, q.ptr, err);
	if (rc && !create && strstr(err->msg, "schema"))
		rc = pl_err_set(err, PL_ENOTFOUND, "catalog database '%s' has no METADATA_SCHEMA \"%s\"", d->path,
				d->schema);
	pl_buf_dispose(&q);
	return rc;
}

static int d_clone(pl_catdb *db, pl_catdb **out, pl_err *err)
{
	duck_catdb *src = (duck_catdb *)db, *d = calloc(1, sizeof(*d));
	if (!d || !(d->path = pl_strdup(src->path))) {
		free(d);
		return pl_err_nomem(err);
	}
	d->base.ops = src->base.ops;
	d->base.read_only = src->base.read_only;
	d->base.search_index_table = src->base.search_index_table;
	d->base.ids_in_text = src->base.ids_in_text;
	d->db = src->db;
	d->shared = src->shared;
	__atomic_add_fetch(&d->shared->refs, 1, __ATOMIC_ACQ_REL);
	d->cache.finalize = finalize_stmt;
	int rc = src->schema && !(d->schema = pl_strdup(src->schema)) ? pl_err_nomem(err) : 0;
	if (rc == 0)
		rc = pl_engine_connect(&d->con, d->db, err);
	if (rc == 0)
		rc = use_schema(d, false, err);
	if (rc) {
		d_close(&d->base);
		return rc;
	}
	*out = &d->base;
	return 0;
}

static const pl_catdb_ops duckdb_ops = {
	"duckdb", d_exec, d_query, d_begin, d_commit, d_rollback, d_table_exists, d_clone, d_close, d_generation,
};

int pl_catdb_duckdb_open(pl_catdb **out, const pl_catdb_options *opts, pl_err *err)
{
	duck_catdb *d = calloc(1, sizeof(*d));
	if (!d || !(d->path = pl_strdup(opts->location))) {
		free(d);
		return pl_err_nomem(err);
	}
	d->base.ops = &duckdb_ops;
	d->base.read_only = opts->read_only;
	d->base.ids_in_text = true;
	d->owns_db = true;
	d->cache.finalize = finalize_stmt;
	if (!(d->shared = calloc(1, sizeof(*d->shared)))) {
		d_close(&d->base);
		return pl_err_nomem(err);
	}
	pthread_mutex_init(&d->shared->lock, NULL);
	d->shared->generation = 1;
	d->shared->refs = 1;
	if (!opts->create && access(opts->location, F_OK) != 0) {
		int nf = pl_err_set(err, PL_ENOTFOUND, "catalog database '%s' does not exist", opts->location);
		d_close(&d->base);
		return nf;
	}
	int rc = pl_engine_open(&d->db, opts->location, opts->read_only, err);
	if (rc == 0)
		rc = pl_engine_connect(&d->con, d->db, err);
	/* timestamps read back as text are UTC, as in every catalog */
	if (rc == 0)
		rc = pl_engine_exec(d->con, "SET TimeZone = 'UTC'", err);
	/* catalog statements touch a few rows: worker threads only add scheduling */
	if (rc == 0)
		rc = pl_engine_exec(d->con, "SET threads = 1", err);
	/* Plans that do not depend on the statistics of the moment: DuckDB keeps a prepared
	 * statement's plan across commits (one without parameters is bound again only after a
	 * schema change; one with parameters at every run), and a plan
	 * pruned by the statistics of then (a filter that no row matched, a max that fitted a
	 * smaller type) would miss the rows committed since. Applies to the whole database, so to
	 * every clone's connection. */
	if (rc == 0)
		rc = pl_engine_exec(d->con, "SET disabled_optimizers = 'statistics_propagation'", err);
	bool own_schema = opts->schema && *opts->schema && strcmp(opts->schema, "main") != 0;
	if (rc == 0 && own_schema && !(d->schema = pl_strdup(opts->schema)))
		rc = pl_err_nomem(err);
	if (rc == 0)
		rc = use_schema(d, !opts->read_only, err);
	if (rc && strstr(err->msg, "Could not set lock"))
		rc = pl_err_set(err, PL_EBUSY,
				"lake catalog '%s' is locked by another process: a DuckDB-file catalog admits one process "
				"at a time (use a SQLite or PostgreSQL catalog for several)",
				opts->location);
	else if (rc == PL_EIO)
		err->code = rc = PL_ECATALOG;
	if (rc) {
		d_close(&d->base);
		return rc;
	}
	*out = &d->base;
	return 0;
}
