/*
 * metadata.c -- DuckDB's catalog functions seen with lakes attached: `duckdb_tables()` and
 * `duckdb_views()` in a statement are rewritten to Planar's versions, in which the tables of a
 * lake are tables (DuckDB itself sees them as views) with their comments; `pragma_database_size()`
 * and `PRAGMA database_size` give each lake's size as DuckLake does.
 */
#include "sql/metadata.h"

#include <stdlib.h>
#include <string.h>

#include "catalog/init.h"
#include "catalog/reads.h"
#include "sql/lake.h"
#include "table/scan.h"

static const struct {
	const char *from, *to;
} functions[] = {
	{"duckdb_tables", "__planar_duckdb_tables()"},
	{"duckdb_views", "__planar_duckdb_views()"},
	{"duckdb_databases", "__planar_duckdb_databases()"},
};

/* pragma_database_size() with each lake's size as DuckLake gives it: the bytes of its live data
 * and delete files (as a query of DuckDB's rows, whose other columns stay). */
static int put_database_size(planar_conn *conn, pl_buf *out, pl_err *err)
{
	pl_buf_puts(out, "(SELECT d.database_name, coalesce(format_bytes(s.bytes), d.database_size) AS database_size, "
			 "d.block_size, d.total_blocks, d.used_blocks, d.free_blocks, d.wal_size, d.memory_usage, "
			 "d.memory_limit FROM pragma_database_size() d LEFT JOIN (VALUES (NULL, CAST(NULL AS BIGINT))");
	for (size_t l = 0; l < conn->db->nlakes; l++) {
		const pl_lake *lake = conn->db->lakes[l];
		const pl_model *m = lake->model;
		int64_t bytes = 0;
		for (size_t k = 0; m && k < m->ntables; k++) {
			const pl_data_file *files = NULL;
			size_t n = 0;
			int rc = pl_model_table_files(m, &m->tables[k], &files, &n, err);
			if (rc)
				return rc;
			for (size_t i = 0; i < n; i++)
				bytes += files[i].file_size + (files[i].delete_path ? files[i].delete_size : 0);
		}
		pl_buf_puts(out, ", (");
		pl_buf_put_literal(out, pl_lake_name(lake));
		pl_buf_printf(out, ", %lld)", (long long)bytes);
	}
	pl_buf_puts(out, ") s(name, bytes) ON d.database_name = s.name)");
	return 0;
}

int pl_metadata_rewrite(planar_conn *conn, const pl_toks *t, char **sql_out, pl_strv *views, pl_err *err)
{
	pl_buf out = PL_BUF_INIT;
	size_t copied = 0, made = 0;
	(void)views;
	*sql_out = NULL;
	if (pl_tok_is(t, 0, "PRAGMA") && pl_tok_is(t, 1, "database_size") &&
	    (t->len == 2 || (t->len == 3 && pl_tok_is_punct(t, 2, ";")))) {
		pl_buf_puts(&out, "SELECT * FROM ");
		int rc = put_database_size(conn, &out, err);
		return pl_rewrite_finish(&out, t, t->items[t->len - 1].start + t->items[t->len - 1].len, rc == 0, rc,
					 sql_out, err);
	}
	for (size_t i = 0; i + 2 < t->len; i++) {
		if (!pl_tok_is_punct(t, i + 1, "(") || !pl_tok_is_punct(t, i + 2, ")") ||
		    (i > 0 && pl_tok_is_punct(t, i - 1, ".")))
			continue;
		if (pl_tok_is(t, i, "pragma_database_size")) {
			pl_buf_put(&out, t->src + copied, t->items[i].start - copied);
			int rc = put_database_size(conn, &out, err);
			if (rc) {
				pl_buf_dispose(&out);
				return rc;
			}
			copied = t->items[i + 2].start + 1;
			made++;
			continue;
		}
		for (size_t k = 0; k < sizeof(functions) / sizeof(functions[0]); k++) {
			if (!pl_tok_is(t, i, functions[k].from))
				continue;
			pl_buf_put(&out, t->src + copied, t->items[i].start - copied);
			pl_buf_puts(&out, functions[k].to);
			copied = t->items[i + 2].start + 1;
			made++;
		}
	}
	return pl_rewrite_finish(&out, t, copied, made > 0, 0, sql_out, err);
}

/* Whether the statement names `name` (as a string too when `strings`). */
static bool names(const pl_toks *t, const char *name, bool strings)
{
	for (size_t i = 0; i < t->len; i++) {
		pl_tok_kind k = t->items[i].kind;
		if (k != PL_TOK_WORD && k != PL_TOK_QIDENT && !(strings && k == PL_TOK_STRING))
			continue;
		char *v = k == PL_TOK_STRING ? pl_tok_string(t, i) : pl_tok_ident(t, i);
		bool same = !v || pl_str_ieq(v, name);
		free(v);
		if (same)
			return true;
	}
	return false;
}

static bool name_at(const pl_toks *t, size_t i, const char *name)
{
	char *v = pl_tok_ident(t, i);
	bool same = !v || pl_str_ieq(v, name);
	free(v);
	return same;
}

static void put_source(pl_buf *q, const pl_lake *lake, const char *table)
{
	pl_buf_puts(q, " FROM __planar_catalog_table(");
	pl_buf_put_literal(q, pl_lake_name(lake));
	pl_buf_puts(q, ", ");
	pl_buf_put_literal(q, table);
	pl_buf_puts(q, ")");
}

static void put_view_head(pl_buf *q, const pl_lake *lake, const char *table)
{
	pl_buf_puts(q, "CREATE OR REPLACE VIEW ");
	pl_buf_put_ident(q, lake->meta_name);
	pl_buf_puts(q, ".main.");
	pl_buf_put_ident(q, table);
	pl_buf_puts(q, " AS SELECT ");
}

/* A DuckLake table's view: its columns cast to the spec's types. A catalog that lacks a column
 * (written by an older version) gets the table as it is. */
static int spec_view(duckdb_connection con, const pl_lake *lake, size_t i, pl_err *err)
{
	char *table = NULL;
	pl_strv cols = PL_STRV_INIT, types = PL_STRV_INIT;
	int rc = pl_catalog_spec_table(i, &table, &cols, &types, err);
	pl_buf q = PL_BUF_INIT;
	if (rc == 0) {
		put_view_head(&q, lake, table);
		for (size_t c = 0; c < cols.len; c++) {
			pl_buf_puts(&q, c ? ", CAST(" : "CAST(");
			pl_buf_put_ident(&q, cols.items[c]);
			pl_buf_printf(&q, " AS %s) AS ", types.items[c]);
			pl_buf_put_ident(&q, cols.items[c]);
		}
		put_source(&q, lake, table);
		pl_err ignored;
		rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_exec(con, q.ptr, &ignored);
		if (rc && rc != PL_ENOMEM) {
			pl_buf_truncate(&q, 0);
			put_view_head(&q, lake, table);
			pl_buf_putc(&q, '*');
			put_source(&q, lake, table);
			rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_exec(con, q.ptr, err);
		}
	}
	pl_buf_dispose(&q);
	free(table);
	pl_strv_dispose(&cols);
	pl_strv_dispose(&types);
	return rc;
}

/* The columns of an inlined-data table of a live table in their types, as DuckLake's catalog
 * holds them (the catalog hands them over as text): the row lineage as BIGINT, then the table's
 * columns. False when no live table has an inlined-data table of that name. */
static bool put_inlined_data_columns(pl_buf *q, const pl_lake *lake, const char *name)
{
	const pl_model *m = lake->model;
	if (!m)
		return false;
	for (size_t i = 0; i < m->ntables; i++) {
		const pl_table *t = &m->tables[i];
		pl_err ignored;
		bool named = false;
		for (size_t k = 0; k < t->ninlined && !named; k++)
			named = t->inlined[k].name && strcmp(t->inlined[k].name, name) == 0;
		if (!named)
			continue;
		size_t start = q->len;
		pl_buf_puts(q, "CAST(row_id AS BIGINT) AS row_id, CAST(begin_snapshot AS BIGINT) AS begin_snapshot, "
			       "CAST(end_snapshot AS BIGINT) AS end_snapshot");
		for (size_t c = 0; c < t->ntop; c++) {
			pl_buf_puts(q, ", ");
			if (pl_scan_put_inlined_value(q, NULL, t->top[c], &ignored)) {
				pl_buf_truncate(q, start);
				return false;
			}
			pl_buf_puts(q, " AS ");
			pl_buf_put_ident(q, t->top[c]->name);
		}
		return true;
	}
	return false;
}

static int mirror(planar_db *db, pl_lake *lake, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	int rc = 0;
	if (!lake->meta_attached) {
		pl_buf_puts(&q, "ATTACH IF NOT EXISTS ':memory:' AS ");
		pl_buf_put_ident(&q, lake->meta_name);
		rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_exec(db->admin, q.ptr, err);
		for (size_t i = 0; rc == 0 && i < pl_catalog_spec_count(); i++)
			rc = spec_view(db->admin, lake, i, err);
		lake->meta_attached = rc == 0;
	}
	pl_strv extra = PL_STRV_INIT;
	if (rc == 0)
		rc = pl_catalog_extra_tables(lake->cat, &extra, err);
	for (size_t i = 0; rc == 0 && i < extra.len; i++) {
		pl_buf_truncate(&q, 0);
		put_view_head(&q, lake, extra.items[i]);
		bool typed = false;
		if (strncmp(extra.items[i], "ducklake_inlined_delete_", 24) == 0) /* three BIGINT columns */
			pl_buf_puts(&q, "CAST(file_id AS BIGINT) AS file_id, CAST(row_id AS BIGINT) AS row_id, "
					"CAST(begin_snapshot AS BIGINT) AS begin_snapshot");
		else if (!(typed = put_inlined_data_columns(&q, lake, extra.items[i])))
			pl_buf_putc(&q, '*');
		put_source(&q, lake, extra.items[i]);
		pl_err ignored;
		rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_exec(db->admin, q.ptr, typed ? &ignored : err);
		if (rc && rc != PL_ENOMEM && typed) { /* columns renamed since: the table as it is */
			pl_buf_truncate(&q, 0);
			put_view_head(&q, lake, extra.items[i]);
			pl_buf_putc(&q, '*');
			put_source(&q, lake, extra.items[i]);
			rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_exec(db->admin, q.ptr, err);
		}
	}
	pl_strv_dispose(&extra);
	pl_buf_dispose(&q);
	return rc;
}

/* The object a DDL or DML statement changes: the first name after its leading keywords (token
 * index), or t->len when the statement changes nothing. */
static size_t changed_object(const pl_toks *t)
{
	static const char *const first[] = {"CREATE", "DROP", "ALTER", "INSERT", "UPDATE", "DELETE", "TRUNCATE",
					    "COMMENT", "DETACH", NULL};
	static const char *const skip[] = {"CREATE", "OR", "REPLACE", "TEMP", "TEMPORARY", "VIEW", "TABLE", "SCHEMA",
					   "MACRO", "FUNCTION", "SEQUENCE", "TYPE", "IF", "NOT", "EXISTS", "DROP",
					   "ALTER", "INSERT", "INTO", "UPDATE", "DELETE", "FROM", "TRUNCATE", "COMMENT",
					   "ON", "COLUMN", "DETACH", "DATABASE", "OR", "IGNORE", NULL};
	bool changes = false;
	for (const char *const *w = first; *w && !changes; w++)
		changes = pl_tok_is(t, 0, *w);
	if (!changes)
		return t->len;
	size_t i = 0;
	for (bool kw = true; kw && i < t->len; i += kw) {
		kw = false;
		for (const char *const *w = skip; *w && !kw; w++)
			kw = pl_tok_is(t, i, *w);
	}
	return i;
}

/* Whether token i is `main` (the metadata catalog's only schema). */
static bool is_main(const pl_toks *t, size_t i)
{
	return i < t->len && (t->items[i].kind == PL_TOK_WORD || t->items[i].kind == PL_TOK_QIDENT) &&
	       name_at(t, i, "main");
}

/* INSERT, UPDATE or DELETE of rows of a table of the lake's catalog: the statement runs on the
 * catalog itself, every `<metadata catalog>.[main.]` qualification dropped, and the lake reads
 * its catalog again. Outside a transaction only: the rows are the catalog's, not a snapshot's. */
static int write_through(pl_stmt *st, pl_lake *lake, size_t target, planar_result **out, pl_err *err)
{
	const pl_toks *t = &st->toks;
	if (st->conn->in_txn)
		return pl_err_set(err, PL_EINVALID,
				  "\"%s\" shows the catalog of lake \"%s\": its rows change only outside a transaction",
				  lake->meta_name, pl_lake_name(lake));
	int rc = pl_lake_check_writable(lake, err);
	if (rc)
		return rc;
	size_t name = target + 2 + (is_main(t, target + 2) && pl_tok_is_punct(t, target + 3, ".") ? 2 : 0);
	char *table = name < t->len ? pl_tok_ident(t, name) : NULL;
	pl_buf sql = PL_BUF_INIT;
	size_t copied = 0;
	for (size_t i = 0; i < t->len; i++) {
		if (pl_tok_is_punct(t, i, ";") && i + 1 < t->len) {
			free(table);
			pl_buf_dispose(&sql);
			return pl_err_set(err, PL_EINVALID, "one statement at a time writes to \"%s\"", lake->meta_name);
		}
		bool qual = (t->items[i].kind == PL_TOK_WORD || t->items[i].kind == PL_TOK_QIDENT) &&
			    pl_tok_is_punct(t, i + 1, ".") && name_at(t, i, lake->meta_name) &&
			    (i == 0 || !pl_tok_is_punct(t, i - 1, "."));
		if (!qual)
			continue;
		size_t next = i + 2 + (is_main(t, i + 2) && pl_tok_is_punct(t, i + 3, ".") ? 2 : 0);
		if (next >= t->len)
			break;
		pl_buf_put(&sql, t->src + copied, t->items[i].start - copied);
		copied = t->items[next].start;
		i = next - 1;
	}
	pl_buf_puts(&sql, t->src + copied);
	rc = pl_buf_oom(&sql) ? pl_err_nomem(err) : pl_catalog_user_write(lake->cat, table, sql.ptr, err);
	if (rc == 0)
		rc = pl_lake_refresh(lake, st->conn->db, true, err);
	if (rc == 0)
		rc = mirror(st->conn->db, lake, err);
	if (rc == 0)
		rc = pl_stmt_passthrough(st, "SELECT NULL::BIGINT AS \"Count\" WHERE false", out, err);
	free(table);
	pl_buf_dispose(&sql);
	return rc;
}

int pl_metadata_catalogs(pl_stmt *st, planar_result **out, pl_err *err, bool *handled)
{
	planar_db *db = st->conn->db;
	const pl_toks *t = &st->toks;
	size_t target = changed_object(t);
	bool qualified = target + 1 < t->len && pl_tok_is_punct(t, target + 1, ".");
	char *cur_db = NULL, *cur_schema = NULL;
	if (target < t->len && !qualified)
		pl_session_location(st, &cur_db, &cur_schema, err);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < db->nlakes; i++) {
		pl_lake *lake = db->lakes[i];
		if (lake->meta_detached)
			continue;
		bool in_meta = target < t->len && (qualified ? name_at(t, target, lake->meta_name)
							    : cur_db && pl_str_ieq(cur_db, lake->meta_name));
		if (in_meta && qualified && (pl_tok_is(t, 0, "INSERT") || pl_tok_is(t, 0, "UPDATE") || pl_tok_is(t, 0, "DELETE"))) {
			rc = mirror(db, lake, err);
			if (rc == 0)
				rc = write_through(st, lake, target, out, err);
			*handled = rc == 0;
		} else if (in_meta)
			rc = pl_err_set(err, PL_EINVALID, "\"%s\" shows the catalog of lake \"%s\" and is read-only", lake->meta_name,
					pl_lake_name(lake));
		/* the default name is hidden (from duckdb_databases(), duckdb_tables(), ...) until a
		 * statement uses it by name, as DuckDB's extension hides it; one METADATA_CATALOG
		 * gave shows as soon as anything names it */
		else if (names(t, lake->meta_name, lake->meta_named))
			rc = mirror(db, lake, err);
	}
	free(cur_db);
	free(cur_schema);
	return rc;
}

int pl_metadata_describe(pl_stmt *st, planar_result **out, pl_err *err, bool *handled)
{
	const pl_toks *t = &st->toks;
	char *parts[3] = {0};
	size_t n = 0, i = 1;
	pl_err ignored;
	if (pl_parse_qname(t, &i, parts, &n, &ignored) != 0 || n == 0 ||
	    (i < t->len && !(pl_tok_is_punct(t, i, ";") && i + 1 == t->len))) {
		for (size_t k = 0; k < n; k++)
			free(parts[k]);
		return 0;
	}
	pl_target tgt = {0};
	bool lake = pl_resolve_target(st, parts, n, &tgt, &ignored) == 0 && tgt.lake;
	const pl_schema *s = lake ? pl_model_schema(tgt.lake->model, tgt.schema) : NULL;
	const pl_table *tab = s ? pl_model_table(tgt.lake->model, s->id, tgt.name) : NULL;
	bool not_null = false;
	for (size_t c = 0; tab && c < tab->ntop; c++)
		not_null = not_null || !tab->top[c]->nulls_allowed;
	int rc = 0;
	if (not_null) {
		/* the view DuckDB describes knows no constraint: the lake's NOT NULL columns say NO */
		pl_buf q = PL_BUF_INIT;
		pl_buf_puts(&q, "SELECT column_name, column_type, CASE WHEN column_name IN (");
		bool first = true;
		for (size_t c = 0; c < tab->ntop; c++) {
			if (tab->top[c]->nulls_allowed)
				continue;
			pl_buf_puts(&q, first ? "" : ", ");
			pl_buf_put_literal(&q, tab->top[c]->name);
			first = false;
		}
		pl_buf_puts(&q, ") THEN 'NO' ELSE \"null\" END AS \"null\", \"key\", \"default\", extra FROM (DESCRIBE ");
		pl_buf_put_ident(&q, pl_lake_name(tgt.lake));
		pl_buf_putc(&q, '.');
		pl_buf_put_ident(&q, s->name);
		pl_buf_putc(&q, '.');
		pl_buf_put_ident(&q, tab->name);
		pl_buf_puts(&q, ")");
		rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_stmt_passthrough(st, q.ptr, out, err);
		*handled = rc == 0;
		pl_buf_dispose(&q);
	}
	if (lake)
		pl_target_dispose(&tgt);
	for (size_t k = 0; k < n; k++)
		free(parts[k]);
	return rc;
}
