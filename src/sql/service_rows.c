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

/* The bound source: a copy, so that the scan needs no lookup (the caller keeps the source
 * registered while its statement runs). */
typedef struct rows_bound {
	pl_rows_source src;
} rows_bound;

typedef struct rows_state {
	size_t next; /* the next block */
} rows_state;

static void rows_bind(duckdb_bind_info info)
{
	char *id = pl_engine_param_text(info, 0);
	rows_bound *b = calloc(1, sizeof *b);
	bool found = false;
	if (id && b) {
		pthread_mutex_lock(&reg_lock);
		for (rows_entry *e = reg_head; e && !found; e = e->next) {
			if (strcmp(e->id, id) == 0) {
				b->src = e->src;
				found = true;
			}
		}
		pthread_mutex_unlock(&reg_lock);
	}
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
	rows_state *st = calloc(1, sizeof *st);
	if (!st) {
		duckdb_init_set_error(info, "out of memory");
		return;
	}
	duckdb_init_set_max_threads(info, 1); /* one reader: the rows keep their order */
	duckdb_init_set_init_data(info, st, free);
}

/* The block's strings as DuckDB's string values, pointing at the source's bytes rather than
 * copied (the source keeps them until its statement is done, and DuckDB copies what it keeps
 * beyond a chunk). The source has checked them as UTF-8: DuckDB's assign function checks each
 * again, a fifth of the time of writing the rows. */
static bool put_strings(duckdb_string_t *dst, const pl_rows_col *col, size_t n)
{
	for (size_t r = 0; r < n; r++) {
		if (col->null[r])
			continue;
		const pl_rows_text *t = &col->v.t[r];
		if (t->len > UINT32_MAX)
			return false;
		duckdb_string_t *d = &dst[r];
		memset(d, 0, sizeof *d);
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

static void rows_scan(duckdb_function_info info, duckdb_data_chunk out)
{
	rows_bound *b = duckdb_function_get_bind_data(info);
	rows_state *st = duckdb_function_get_init_data(info);
	const pl_rows_block *blk = NULL;
	const char *msg = NULL;
	if (b->src.block(b->src.user, st->next, &blk, &msg) != 0) {
		duckdb_function_set_error(info, msg ? msg : "the rows cannot be read");
		return;
	}
	if (!blk) {
		duckdb_data_chunk_set_size(out, 0);
		return;
	}
	st->next++;
	size_t n = blk->nrows;
	for (size_t c = 0; c < b->src.ncols; c++) {
		duckdb_vector v = duckdb_data_chunk_get_vector(out, c);
		const pl_rows_col *col = &blk->cols[c];
		switch (b->src.kinds[c]) {
		case PL_ROWS_BIGINT: memcpy(duckdb_vector_get_data(v), col->v.i64, n * sizeof(int64_t)); break;
		case PL_ROWS_DOUBLE: memcpy(duckdb_vector_get_data(v), col->v.f64, n * sizeof(double)); break;
		case PL_ROWS_BOOLEAN: memcpy(duckdb_vector_get_data(v), col->v.b, n * sizeof(bool)); break;
		case PL_ROWS_VARCHAR:
			if (!put_strings(duckdb_vector_get_data(v), col, n)) {
				duckdb_function_set_error(info, "a string is longer than 4 GiB");
				return;
			}
			break;
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
