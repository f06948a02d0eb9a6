/*
 * scan.c -- building the read_parquet() view text for a lake table (see scan.h).
 */
#include "table/scan.h"

#include <string.h>

/* Value for files written before the column existed; read_parquet casts the text to the type. */
static void put_default(pl_buf *out, const pl_column *c)
{
	const char *def = c->initial_default;
	if (!def || strcmp(def, "NULL") == 0)
		pl_buf_puts(out, "CAST(NULL AS VARCHAR)");
	else
		pl_buf_put_literal(out, def);
}

static void put_file_list(pl_buf *out, const pl_table *t, bool current)
{
	bool first = true;
	pl_buf_putc(out, '[');
	for (size_t i = 0; i < t->nfiles; i++) {
		if ((t->files[i].begin_snapshot >= t->schema_since) != current)
			continue;
		if (!first)
			pl_buf_puts(out, ", ");
		first = false;
		pl_buf_put_literal(out, t->files[i].path);
	}
	pl_buf_putc(out, ']');
}

/* Files written with the table's current columns are read by name. The casts to the column
 * types are no-ops where Parquet keeps the type, so DuckDB still answers from Parquet
 * statistics and scans in parallel. */
static int put_current_scan(pl_buf *out, const pl_table *t, pl_err *err)
{
	pl_buf_puts(out, "SELECT ");
	for (size_t i = 0; i < t->ntop; i++) {
		pl_buf type = PL_BUF_INIT;
		int rc = pl_column_duckdb_type(&type, t->top[i], err);
		if (rc == 0 && pl_buf_oom(&type))
			rc = pl_err_nomem(err);
		if (rc) {
			pl_buf_dispose(&type);
			return rc;
		}
		pl_buf_puts(out, i ? ", CAST(" : "CAST(");
		pl_buf_put_ident(out, t->top[i]->name);
		pl_buf_printf(out, " AS %s) AS ", type.ptr);
		pl_buf_put_ident(out, t->top[i]->name);
		pl_buf_dispose(&type);
	}
	pl_buf_puts(out, " FROM read_parquet(");
	put_file_list(out, t, true);
	pl_buf_puts(out, ", hive_partitioning = false)");
	return 0;
}

/* Files written before the latest column change are read through field ids:
 * read_parquet([...], schema = MAP {id: {name, type, default_value}, ...}) maps them to the
 * current names, types and defaults without rewriting them. */
static int put_mapped_scan(pl_buf *out, const pl_table *t, pl_err *err)
{
	pl_buf_puts(out, "SELECT ");
	for (size_t i = 0; i < t->ntop; i++) {
		if (i)
			pl_buf_puts(out, ", ");
		pl_buf_put_ident(out, t->top[i]->name);
	}
	pl_buf_puts(out, " FROM read_parquet(");
	put_file_list(out, t, false);
	pl_buf_puts(out, ", schema = MAP {");
	for (size_t i = 0; i < t->ntop; i++) {
		const pl_column *c = t->top[i];
		pl_buf type = PL_BUF_INIT;
		int rc = pl_column_duckdb_type(&type, c, err);
		if (rc == 0 && pl_buf_oom(&type))
			rc = pl_err_nomem(err);
		if (rc) {
			pl_buf_dispose(&type);
			return rc;
		}
		if (i)
			pl_buf_puts(out, ", ");
		pl_buf_printf(out, "%lld: {name: ", (long long)c->id);
		pl_buf_put_literal(out, c->name);
		pl_buf_puts(out, ", type: ");
		pl_buf_put_literal(out, type.ptr);
		pl_buf_puts(out, ", default_value: ");
		put_default(out, c);
		pl_buf_putc(out, '}');
		pl_buf_dispose(&type);
	}
	pl_buf_puts(out, "}, hive_partitioning = false)");
	return 0;
}

static int put_typed_columns(pl_buf *out, const pl_table *t, bool from_text, pl_err *err)
{
	for (size_t i = 0; i < t->ntop; i++) {
		const pl_column *c = t->top[i];
		pl_buf type = PL_BUF_INIT;
		int rc = pl_column_duckdb_type(&type, c, err);
		if (rc) {
			pl_buf_dispose(&type);
			return rc;
		}
		if (i)
			pl_buf_puts(out, ", ");
		pl_buf_puts(out, "CAST(");
		if (from_text)
			pl_buf_put_ident(out, c->name);
		else
			pl_buf_puts(out, "NULL");
		pl_buf_printf(out, " AS %s) AS ", pl_buf_cstr(&type));
		pl_buf_put_ident(out, c->name);
		pl_buf_dispose(&type);
	}
	return 0;
}

/* Inlined rows of one inlined-data table, read as text from the catalog and cast back. */
static int put_inlined(pl_buf *out, const char *lake, const pl_model *m, const pl_table *t,
		       const pl_inlined_table *it, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	pl_buf_puts(&q, "SELECT ");
	for (size_t i = 0; i < t->ntop; i++) {
		if (i)
			pl_buf_puts(&q, ", ");
		pl_buf_puts(&q, "CAST(");
		pl_buf_put_ident(&q, t->top[i]->name);
		pl_buf_puts(&q, " AS VARCHAR) AS ");
		pl_buf_put_ident(&q, t->top[i]->name);
	}
	pl_buf_puts(&q, " FROM ");
	pl_buf_put_ident(&q, it->name);
	pl_buf_printf(&q, " WHERE begin_snapshot <= %lld AND (end_snapshot IS NULL OR end_snapshot > %lld)"
			  " ORDER BY row_id",
		      (long long)m->snapshot_id, (long long)m->snapshot_id);
	pl_buf_puts(out, "SELECT ");
	int rc = put_typed_columns(out, t, true, err);
	pl_buf_puts(out, " FROM __planar_cat(");
	pl_buf_put_literal(out, lake);
	pl_buf_puts(out, ", ");
	pl_buf_put_literal(out, pl_buf_cstr(&q));
	pl_buf_putc(out, ')');
	if (pl_buf_oom(&q))
		rc = pl_err_nomem(err);
	pl_buf_dispose(&q);
	return rc;
}

int pl_scan_sql(pl_buf *out, const char *lake, const pl_model *m, const pl_table *t, pl_err *err)
{
	int rc = 0;
	size_t parts = 0;
	size_t current = 0;
	for (size_t i = 0; i < t->nfiles; i++)
		current += t->files[i].begin_snapshot >= t->schema_since;
	if (current > 0) {
		rc = put_current_scan(out, t, err);
		parts++;
	}
	if (rc == 0 && current < t->nfiles) {
		if (parts++)
			pl_buf_puts(out, " UNION ALL ");
		rc = put_mapped_scan(out, t, err);
	}
	for (size_t i = 0; rc == 0 && i < t->ninlined; i++) {
		if (parts++)
			pl_buf_puts(out, " UNION ALL ");
		rc = put_inlined(out, lake, m, t, &t->inlined[i], err);
	}
	if (rc == 0 && parts == 0) {
		pl_buf_puts(out, "SELECT ");
		rc = put_typed_columns(out, t, false, err);
		pl_buf_puts(out, " WHERE false");
	}
	if (rc == 0 && pl_buf_oom(out))
		rc = pl_err_nomem(err);
	return rc;
}
