/*
 * batch_sql.c -- the statement a group commit runs (batcher.c): one INSERT with the group's
 * records as literals of the columns' types, or, for a spooled bulk body, INSERT ... SELECT FROM
 * read_json of its NDJSON file or ducklake_add_data_files of its Parquet file.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "server/ingest.h"

/* One JSON value as a SQL literal of column type t. */
static void put_value(pl_buf *sql, const char *t, const json_t *v)
{
	bool nested = pl_srv_type_nested(t) || strcasecmp(t, "JSON") == 0;
	/* a literal DuckDB reads as the column's own type needs no cast (fewer expressions to plan) */
	if (!v || json_is_null(v)) {
		pl_buf_puts(sql, "NULL");
		return;
	}
	if ((json_is_integer(v) && strcasecmp(t, "BIGINT") == 0) || (json_is_boolean(v) && strcasecmp(t, "BOOLEAN") == 0)) {
		if (json_is_integer(v))
			pl_buf_printf(sql, "%lld", (long long)json_integer_value(v));
		else
			pl_buf_puts(sql, json_is_true(v) ? "true" : "false");
		return;
	}
	if (json_is_string(v) && strcasecmp(t, "VARCHAR") == 0) {
		pl_buf_put_literal(sql, json_string_value(v));
		return;
	}
	if (json_is_real(v) && strcasecmp(t, "DOUBLE") == 0 && isfinite(json_real_value(v))) {
		/* a numeric literal with an exponent is a DOUBLE to DuckDB (read exactly, no cast) */
		pl_buf_printf(sql, "%.17e", json_real_value(v));
		return;
	}
	pl_buf_puts(sql, "CAST(");
	if (!v || json_is_null(v)) {
		pl_buf_puts(sql, "NULL");
	} else if (nested) {
		char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		pl_buf_puts(sql, "CAST(");
		if (text)
			pl_buf_put_literal(sql, text);
		else
			sql->oom = true;
		pl_buf_puts(sql, " AS JSON)");
		free(text);
	} else if (json_is_boolean(v)) {
		pl_buf_puts(sql, json_is_true(v) ? "true" : "false");
	} else if (json_is_integer(v)) {
		pl_buf_printf(sql, "%lld", (long long)json_integer_value(v));
	} else if (json_is_real(v)) {
		pl_buf_printf(sql, "%.17g", json_real_value(v));
	} else {
		pl_buf_put_literal(sql, json_string_value(v)); /* checked: no NUL inside */
	}
	pl_buf_printf(sql, " AS %s)", t);
}

/* INSERT INTO lake.s.t (columns any record names) VALUES (...), ... over every record of g,
 * with the values as literals: a VALUES list of literals is counted before it runs and written
 * inline without a query (bound parameters would run it as a query first, several times the
 * CPU). */
int pl_srv_build_insert(pl_srv_item **g, size_t m, pl_buf *sql, bool *used)
{
	const pl_srv_cols *cl = &g[0]->cols;
	size_t nused = 0;
	for (size_t j = 0; j < cl->n; j++) {
		used[j] = false;
		for (size_t k = 0; k < m && !used[j]; k++)
			for (size_t i = 0; i < g[k]->nrec && !used[j]; i++)
				used[j] = json_object_get(json_array_get(g[k]->records, i), cl->v[j].name) != NULL;
		nused += used[j];
	}
	if (nused == 0)
		return PLANAR_EINVALID;
	pl_buf_puts(sql, "INSERT INTO " PL_SRV_LAKE ".");
	pl_buf_put_ident(sql, g[0]->schema);
	pl_buf_putc(sql, '.');
	pl_buf_put_ident(sql, g[0]->name);
	pl_buf_puts(sql, " (");
	size_t u = 0;
	for (size_t j = 0; j < cl->n; j++) {
		if (!used[j])
			continue;
		pl_buf_puts(sql, u++ ? ", " : "");
		pl_buf_put_ident(sql, cl->v[j].name);
	}
	pl_buf_puts(sql, ") VALUES ");
	size_t row = 0;
	for (size_t k = 0; k < m; k++) {
		for (size_t i = 0; i < g[k]->nrec; i++) {
			json_t *rec = json_array_get(g[k]->records, i);
			pl_buf_puts(sql, row++ ? ", (" : "(");
			size_t n = 0;
			for (size_t j = 0; j < cl->n; j++) {
				if (!used[j])
					continue;
				pl_buf_puts(sql, n++ ? ", " : "");
				json_t *v = json_object_get(rec, cl->v[j].name);
				if (!v && cl->v[j].has_default)
					pl_buf_puts(sql, "DEFAULT");
				else
					put_value(sql, cl->v[j].type, v);
			}
			pl_buf_putc(sql, ')');
		}
	}
	return pl_buf_oom(sql) ? PLANAR_ENOMEM : 0;
}

/* The statement that writes a spooled body: INSERT ... SELECT FROM read_json of the NDJSON
 * file, or ducklake_add_data_files of the Parquet file. */
int pl_srv_build_spool(pl_srv_item *it, pl_buf *sql)
{
	const pl_srv_cols *cl = &it->cols;
	if (it->spool_kind == 2) {
		pl_buf_puts(sql, "CALL ducklake_add_data_files('" PL_SRV_LAKE "', ");
		pl_buf_put_literal(sql, it->name);
		pl_buf_puts(sql, ", ");
		pl_buf_put_literal(sql, it->spool);
		pl_buf_puts(sql, ", schema => ");
		pl_buf_put_literal(sql, it->schema);
		pl_buf_putc(sql, ')');
		return pl_buf_oom(sql) ? PLANAR_ENOMEM : 0;
	}
	pl_buf cols = PL_BUF_INIT, types = PL_BUF_INIT;
	size_t n = 0;
	for (size_t j = 0; j < cl->n; j++) {
		if (!it->spool_used[j])
			continue;
		pl_buf_puts(&cols, n ? ", " : "");
		pl_buf_put_ident(&cols, cl->v[j].name);
		pl_buf_puts(&types, n++ ? ", " : "");
		pl_buf_put_literal(&types, cl->v[j].name);
		pl_buf_puts(&types, ": ");
		pl_buf_put_literal(&types, cl->v[j].type);
	}
	pl_buf_puts(sql, "INSERT INTO " PL_SRV_LAKE ".");
	pl_buf_put_ident(sql, it->schema);
	pl_buf_putc(sql, '.');
	pl_buf_put_ident(sql, it->name);
	if (it->spool_kind == 3) { /* the rows as columns (ingest_rows.c) */
		pl_buf_printf(sql, " (%s) SELECT %s FROM __planar_rows(", pl_buf_cstr(&cols), pl_buf_cstr(&cols));
		pl_buf_put_literal(sql, it->pid);
		pl_buf_putc(sql, ')');
		int rc = pl_buf_oom(sql) || pl_buf_oom(&cols) || pl_buf_oom(&types) ? PLANAR_ENOMEM : n ? 0 : PLANAR_EINVALID;
		pl_buf_dispose(&cols);
		pl_buf_dispose(&types);
		return rc;
	}
	pl_buf_printf(sql, " (%s) SELECT %s FROM read_json(", pl_buf_cstr(&cols), pl_buf_cstr(&cols));
	if (it->spool_parts > 1) { /* the parts in record order (insertion order is kept) */
		pl_buf_putc(sql, '[');
		for (int k = 0; k < it->spool_parts; k++) {
			pl_buf part = PL_BUF_INIT;
			pl_buf_puts(&part, it->spool);
			if (k)
				pl_buf_printf(&part, ".%d", k);
			pl_buf_puts(sql, k ? ", " : "");
			pl_buf_put_literal(sql, pl_buf_cstr(&part));
			if (pl_buf_oom(&part))
				sql->oom = true;
			pl_buf_dispose(&part);
		}
		pl_buf_putc(sql, ']');
	} else {
		pl_buf_put_literal(sql, it->spool);
	}
	/* read_json's buffers grow with maximum_object_size (fewer parallel reads): the longest line
	 * when known, else 1 GiB */
	size_t maxobj = it->spool_maxline ? (it->spool_maxline < (16u << 20) ? 16u << 20 : it->spool_maxline + 1) : 1u << 30;
	pl_buf_printf(sql, ", format = 'newline_delimited', columns = {%s}, maximum_object_size = %zu)",
		      pl_buf_cstr(&types), maxobj);
	int rc = pl_buf_oom(sql) || pl_buf_oom(&cols) || pl_buf_oom(&types) ? PLANAR_ENOMEM : n ? 0 : PLANAR_EINVALID;
	pl_buf_dispose(&cols);
	pl_buf_dispose(&types);
	return rc;
}
