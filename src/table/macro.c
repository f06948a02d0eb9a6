/*
 * macro.c -- planning CREATE MACRO / DROP MACRO in a lake (see ddl.h). DuckDB parses the macro:
 * it is created as a temporary macro under a fresh name, and its implementations (the SQL
 * DuckDB prints for each, its parameters and their types) are read back from duckdb_functions(),
 * as DuckLake stores what DuckDB's parser made of the statement.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "table/ddl.h"

static const pl_macro_default *find_default(const pl_macro_default *d, size_t n, size_t impl, const char *param)
{
	for (size_t i = 0; i < n; i++)
		if (d[i].impl == impl && pl_str_ieq(d[i].param, param))
			return &d[i];
	return NULL;
}

static char *ducklake_param_type(const char *duckdb_type, bool *oom)
{
	const char *t = duckdb_type ? pl_duckdb_to_ducklake_type(duckdb_type) : "unknown";
	char *s = pl_strdup(t ? t : duckdb_type);
	if (!s)
		*oom = true;
	return s;
}

/* Reads the temporary macro tmp back into m. */
static int describe(const pl_table_ctx *ctx, const char *tmp, const pl_macro_default *defaults, size_t ndefaults,
		    pl_macro *m, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	duckdb_result res;
	pl_buf_puts(&q, "WITH f AS (SELECT row_number() OVER () AS impl, function_type, macro_definition, parameters, "
			"parameter_types FROM duckdb_functions() WHERE database_name = 'temp' AND function_name = ");
	pl_buf_put_literal(&q, tmp);
	pl_buf_puts(&q, ") SELECT impl, function_type, macro_definition, k, parameters[k], parameter_types[k] FROM f "
			"LEFT JOIN LATERAL (SELECT unnest(range(1, len(f.parameters) + 1)) AS k) p ON true ORDER BY impl, k");
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query(ctx->con, q.ptr, &res, err);
	pl_buf_dispose(&q);
	if (rc)
		return rc;
	bool oom = false;
	idx_t rows = duckdb_row_count(&res);
	m->impls = calloc(rows + 1, sizeof(*m->impls));
	oom = !m->impls;
	int64_t last = -1;
	for (idx_t r = 0; !oom && r < rows; r++) {
		int64_t impl = duckdb_value_int64(&res, 0, r);
		if (impl != last) {
			char *type = pl_engine_value_str(&res, 1, r, &oom);
			m->table = type && strcmp(type, "table_macro") == 0;
			free(type);
			m->impls[m->nimpls++].sql = pl_engine_value_str(&res, 2, r, &oom);
			oom = oom || !m->impls[m->nimpls - 1].sql;
			m->impls[m->nimpls - 1].params = calloc(rows + 1, sizeof(pl_macro_param));
			oom = oom || !m->impls[m->nimpls - 1].params;
			last = impl;
		}
		if (oom || duckdb_value_is_null(&res, 3, r))
			continue;
		pl_macro_impl *im = &m->impls[m->nimpls - 1];
		pl_macro_param *p = &im->params[im->nparams++];
		p->name = pl_engine_value_str(&res, 4, r, &oom);
		char *dtype = pl_engine_value_str(&res, 5, r, &oom);
		p->type = ducklake_param_type(dtype, &oom);
		free(dtype);
		const pl_macro_default *d = p->name ? find_default(defaults, ndefaults, m->nimpls - 1, p->name) : NULL;
		p->default_value = d ? pl_strdup(d->value) : NULL;
		p->default_type = pl_strdup(d ? d->type : "unknown");
		oom = oom || !p->name || !p->type || (d && !p->default_value) || !p->default_type;
	}
	duckdb_destroy_result(&res);
	if (!oom && m->nimpls == 0)
		return pl_err_set(err, PL_ERROR, "the macro could not be read back from DuckDB");
	return oom ? pl_err_nomem(err) : 0;
}

int pl_ddl_create_macro(const pl_table_ctx *ctx, const pl_schema *s, const char *name, const char *definition,
			const pl_macro_default *defaults, size_t ndefaults, const pl_macro *replaced, pl_txn *txn,
			pl_err *err)
{
	char tmp[64];
	pl_buf q = PL_BUF_INIT;
	pl_table_temp_name(ctx, "macro", tmp);
	pl_buf_puts(&q, "CREATE TEMP MACRO ");
	pl_buf_put_ident(&q, tmp);
	pl_buf_putc(&q, ' ');
	pl_buf_puts(&q, definition);
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_exec(ctx->con, q.ptr, err);
	pl_buf_dispose(&q);
	if (rc)
		return rc;
	pl_macro m = {0};
	rc = describe(ctx, tmp, defaults, ndefaults, &m, err);
	pl_buf_puts(&q, m.table ? "DROP MACRO TABLE IF EXISTS temp.main." : "DROP MACRO IF EXISTS temp.main.");
	pl_buf_put_ident(&q, tmp);
	pl_err ignored;
	if (!pl_buf_oom(&q))
		pl_engine_exec(ctx->con, q.ptr, &ignored);
	pl_buf_dispose(&q);
	if (rc == 0 && replaced)
		rc = pl_ddl_drop_macro(replaced, txn, err);
	pl_new_macro *nm = rc ? NULL : pl_txn_add_macro(txn);
	if (rc == 0 && !nm)
		rc = pl_err_nomem(err);
	if (nm) {
		m.schema_id = s->id;
		m.name = pl_strdup(name);
		nm->macro = m;
		memset(&m, 0, sizeof(m));
		nm->schema_name = pl_strdup(s->name);
		rc = nm->macro.name && nm->schema_name ? 0 : pl_err_nomem(err);
	}
	pl_macro_dispose(&m);
	return rc;
}

int pl_ddl_drop_macro(const pl_macro *m, pl_txn *txn, pl_err *err)
{
	pl_dropped_macro *d = pl_txn_add_dropped_macro(txn);
	return d ? (d->id = m->id, d->table = m->table, 0) : pl_err_nomem(err);
}
