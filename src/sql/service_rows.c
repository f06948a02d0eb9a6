/*
 * service_rows.c -- __planar_rows('<id>'): rows a caller of the service checked and laid out in
 * columns itself, read by DuckDB block after block (see service.h). `planar serve` writes a
 * bulk ingest body this way: DuckDB copies the values into its vectors instead of parsing the
 * records' JSON again.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "engine/engine.h"
#include "sql/router.h"
#include "sql/service.h"
#include "table/context.h"

typedef struct rows_entry {
	struct rows_entry *next;
	char *id;
	pl_rows_source src;
} rows_entry;

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static rows_entry *reg_head;

int pl_service_rows_add(const char *id, const pl_rows_source *src, pl_err *err)
{
	rows_entry *e = calloc(1, sizeof *e);
	if (e)
		e->id = pl_strdup(id);
	if (!e || !e->id) {
		free(e);
		return pl_err_nomem(err);
	}
	e->src = *src;
	pthread_mutex_lock(&reg_lock);
	e->next = reg_head;
	reg_head = e;
	pthread_mutex_unlock(&reg_lock);
	return 0;
}

void pl_service_rows_remove(const char *id)
{
	pthread_mutex_lock(&reg_lock);
	rows_entry **at = &reg_head;
	while (*at && strcmp((*at)->id, id) != 0)
		at = &(*at)->next;
	rows_entry *e = *at;
	if (e)
		*at = e->next;
	pthread_mutex_unlock(&reg_lock);
	if (e) {
		free(e->id);
		free(e);
	}
}

/* The source registered under the id id[0..idlen), copied into *out. */
static bool lookup(const char *id, size_t idlen, pl_rows_source *out)
{
	bool found = false;
	pthread_mutex_lock(&reg_lock);
	for (rows_entry *e = reg_head; e && !found; e = e->next) {
		if (strlen(e->id) == idlen && strncmp(e->id, id, idlen) == 0) {
			*out = e->src;
			found = true;
		}
	}
	pthread_mutex_unlock(&reg_lock);
	return found;
}

size_t pl_service_rows_parts(const char *id)
{
	pl_rows_source src;
	return lookup(id, strlen(id), &src) ? src.nparts : 0;
}

int pl_service_rows_split(planar_db *db, const char *sql, pl_source_parts *out, pl_err *err)
{
	static const char call[] = "__planar_rows('";
	memset(out, 0, sizeof *out);
	const char *at = strstr(sql, call);
	if (!at || strstr(at + 1, call))
		return 0;
	const char *id = at + strlen(call), *e = id;
	while ((*e >= '0' && *e <= '9') || (*e >= 'a' && *e <= 'f') || *e == '-')
		e++;
	if (e == id || e - id > 64 || strncmp(e, "')", 2) != 0)
		return 0;
	char key[72];
	memcpy(key, id, (size_t)(e - id));
	key[e - id] = '\0';
	size_t n = pl_service_rows_parts(key);
	if (n < 2)
		return 0;
	pl_source_parts p = {0};
	p.whole = pl_strndup(at, (size_t)(e + 2 - at));
	p.part = calloc(n + 1, sizeof *p.part);
	p.cons = calloc(n, sizeof *p.cons);
	int rc = p.whole && p.part && p.cons ? 0 : pl_err_nomem(err);
	for (size_t k = 0; rc == 0 && k < n; k++) {
		pl_buf b = PL_BUF_INIT;
		pl_buf_printf(&b, "__planar_rows('%s/%zu')", key, k);
		p.part[k] = pl_buf_oom(&b) ? NULL : pl_buf_detach(&b);
		pl_buf_dispose(&b);
		if (!p.part[k])
			rc = pl_err_nomem(err);
		else if (k > 0 && duckdb_connect(db->duck, &p.cons[k - 1]) == DuckDBError)
			rc = pl_err_set(err, PL_ERROR, "cannot open a connection of the engine");
		else
			p.n = k + 1;
	}
	if (rc) {
		pl_service_rows_split_dispose(&p);
		return rc;
	}
	*out = p;
	return 0;
}

void pl_service_rows_split_dispose(pl_source_parts *p)
{
	for (size_t k = 1; k < p->n; k++)
		duckdb_disconnect(&p->cons[k - 1]);
	pl_strv_free(p->part);
	free(p->cons);
	free(p->whole);
	memset(p, 0, sizeof *p);
}

/* The bound source: a copy, so that the scan needs no lookup (the caller keeps the source
 * registered while its statement runs), and the parts the call reads. */
typedef struct rows_bound {
	pl_rows_source src;
	size_t first, last;
} rows_bound;

/* A scan: the cursor of the part being read, and a block whose columns of strings and NULL
 * marks are its own (the values of the other kinds go straight into DuckDB's vectors). */
typedef struct rows_state {
	const rows_bound *b;
	size_t part;
	void *cur;
	pl_rows_block blk;
	pl_rows_col *cols;
	bool *nulls;
	pl_rows_text *texts;
} rows_state;

static void state_free(void *p)
{
	rows_state *st = p;
	if (st->cur)
		st->b->src.close(st->cur);
	free(st->cols);
	free(st->nulls);
	free(st->texts);
	free(st);
}

/* "<id>" (every part) or "<id>/<k>" (part k): the registered id and the parts. */
static bool find_source(const char *arg, rows_bound *b)
{
	const char *slash = strrchr(arg, '/');
	size_t idlen = slash ? (size_t)(slash - arg) : strlen(arg);
	size_t part = 0;
	if (slash) {
		char *end = NULL;
		unsigned long long k = strtoull(slash + 1, &end, 10);
		if (!slash[1] || *end || slash[1] < '0' || slash[1] > '9')
			return false;
		part = (size_t)k;
	}
	if (!lookup(arg, idlen, &b->src) || b->src.nparts == 0 || (slash && part >= b->src.nparts))
		return false;
	b->first = slash ? part : 0;
	b->last = slash ? part : b->src.nparts - 1;
	return true;
}

static void rows_bind(duckdb_bind_info info)
{
	char *id = pl_engine_param_text(info, 0);
	rows_bound *b = calloc(1, sizeof *b);
	bool found = id && b && find_source(id, b);
	free(id);
	if (!found) {
		free(b);
		duckdb_bind_set_error(info, b ? "__planar_rows: no such row source" : "out of memory");
		return;
	}
	static const duckdb_type types[] = {DUCKDB_TYPE_BIGINT, DUCKDB_TYPE_DOUBLE, DUCKDB_TYPE_BOOLEAN,
					    DUCKDB_TYPE_VARCHAR};
	for (size_t c = 0; c < b->src.ncols; c++)
		pl_engine_bind_column(info, b->src.names[c], types[b->src.kinds[c]]);
	duckdb_bind_set_bind_data(info, b, free);
}

static void rows_init(duckdb_init_info info)
{
	const rows_bound *b = duckdb_init_get_bind_data(info);
	rows_state *st = calloc(1, sizeof *st);
	size_t nc = b->src.ncols ? b->src.ncols : 1;
	if (st) {
		st->b = b;
		st->part = b->first;
		st->cols = calloc(nc, sizeof *st->cols);
		st->nulls = calloc(nc * PL_ROWS_BLOCK, sizeof *st->nulls);
		st->texts = calloc(nc * PL_ROWS_BLOCK, sizeof *st->texts);
	}
	if (!st || !st->cols || !st->nulls || !st->texts) {
		if (st)
			state_free(st);
		duckdb_init_set_error(info, "out of memory");
		return;
	}
	st->blk.cols = st->cols;
	for (size_t c = 0; c < b->src.ncols; c++) {
		st->cols[c].null = st->nulls + c * PL_ROWS_BLOCK;
		if (b->src.kinds[c] == PL_ROWS_VARCHAR)
			st->cols[c].v.t = st->texts + c * PL_ROWS_BLOCK;
	}
	duckdb_init_set_max_threads(info, 1); /* one reader: the rows keep their order */
	duckdb_init_set_init_data(info, st, state_free);
}

/* The block's strings as DuckDB's string values, pointing at the source's bytes rather than
 * copied (the source keeps them until its statement is done, and DuckDB copies what it keeps
 * beyond a chunk). The source has checked them as UTF-8: DuckDB's assign function checks each
 * again, a fifth of the time of writing the rows. */
static bool put_strings(duckdb_string_t *dst, const pl_rows_col *col, size_t n)
{
	for (size_t r = 0; r < n; r++) {
		duckdb_string_t *d = &dst[r];
		memset(d, 0, sizeof *d);
		if (col->null[r])
			continue;
		const pl_rows_text *t = &col->v.t[r];
		if (t->len > UINT32_MAX)
			return false;
		d->value.inlined.length = (uint32_t)t->len;
		if (t->len <= sizeof d->value.inlined.inlined) {
			memcpy(d->value.inlined.inlined, t->p, t->len);
		} else {
			memcpy(d->value.pointer.prefix, t->p, sizeof d->value.pointer.prefix);
			d->value.pointer.ptr = (char *)t->p;
		}
	}
	return true;
}

/* The next rows of the scan's parts into out's vectors: n rows, 0 after the last part. */
static int scan_block(rows_state *st, duckdb_data_chunk out, size_t *n, const char **msg)
{
	const pl_rows_source *src = &st->b->src;
	for (size_t c = 0; c < src->ncols; c++) /* numbers and booleans go straight into the vectors */
		if (src->kinds[c] != PL_ROWS_VARCHAR)
			st->cols[c].v.i64 = duckdb_vector_get_data(duckdb_data_chunk_get_vector(out, c));
	for (;;) {
		if (st->part > st->b->last) {
			*n = 0;
			return 0;
		}
		if (!st->cur && !(st->cur = src->open(src->user, st->part))) {
			*msg = "out of memory";
			return PL_ENOMEM;
		}
		st->blk.nrows = 0;
		int rc = src->next(st->cur, &st->blk, msg);
		if (rc)
			return rc;
		if (st->blk.nrows > 0) {
			*n = st->blk.nrows;
			return 0;
		}
		src->close(st->cur);
		st->cur = NULL;
		st->part++;
	}
}

static void rows_scan(duckdb_function_info info, duckdb_data_chunk out)
{
	const rows_bound *b = duckdb_function_get_bind_data(info);
	rows_state *st = duckdb_function_get_init_data(info);
	const char *msg = NULL;
	size_t n = 0;
	if (scan_block(st, out, &n, &msg) != 0) {
		duckdb_function_set_error(info, msg ? msg : "the rows cannot be read");
		return;
	}
	for (size_t c = 0; c < b->src.ncols; c++) {
		duckdb_vector v = duckdb_data_chunk_get_vector(out, c);
		const pl_rows_col *col = &st->cols[c];
		if (b->src.kinds[c] == PL_ROWS_VARCHAR && !put_strings(duckdb_vector_get_data(v), col, n)) {
			duckdb_function_set_error(info, "a string is longer than 4 GiB");
			return;
		}
		uint64_t *valid = NULL;
		for (size_t r = 0; r < n; r++) {
			if (!col->null[r])
				continue;
			if (!valid) {
				duckdb_vector_ensure_validity_writable(v);
				valid = duckdb_vector_get_validity(v);
			}
			duckdb_validity_set_row_invalid(valid, r);
		}
	}
	duckdb_data_chunk_set_size(out, n);
}

int pl_service_rows_enable(planar_db *db, pl_err *err)
{
	return pl_functions_add_table(db, "__planar_rows", 1, rows_bind, rows_init, rows_scan, err);
}
