/*
 * ddl.c -- CREATE SCHEMA, CREATE TABLE [AS SELECT] and DROP TABLE/SCHEMA on lakes: the
 * statement side (names, the target lake, IF [NOT] EXISTS, OR REPLACE); the table layer plans
 * the changes (table/ddl.h) and each statement commits as one snapshot.
 */
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "sql/lake.h"
#include "sql/router.h"
#include "table/ddl.h"

static void free_parts(char *parts[3], size_t n)
{
	for (size_t k = 0; k < n; k++)
		free(parts[k]);
}

int pl_handle_create_schema(pl_stmt *st, size_t name_at, planar_result **out, pl_err *err)
{
	const pl_toks *t = &st->toks;
	char *parts[3] = {0}, *cur = NULL;
	size_t n = 0, i = name_at;
	bool if_not_exists = pl_tok_is(t, name_at - 1, "EXISTS");
	pl_txn txn = {0};
	(void)out;
	int rc = pl_parse_qname(t, &i, parts, &n, err);
	if (rc == 0 && i < t->len)
		rc = pl_err_set(err, PL_EINVALID, "syntax error at end of CREATE SCHEMA");
	if (rc == 0 && n == 1)
		rc = pl_engine_query_value(st->conn->con, "SELECT current_database()", &cur, err);
	pl_lake *lake = rc ? NULL : pl_db_find_lake(st->conn->db, n == 2 ? parts[0] : cur);
	const char *name = n ? parts[n - 1] : NULL;
	if (rc == 0 && !lake)
		rc = pl_err_set(err, PL_ENOTFOUND, "no lake to create schema \"%s\" in", name);
	if (rc == 0)
		rc = pl_name_check("schema", name, err);
	if (rc == 0)
		rc = pl_lake_check_writable(lake, err);
	if (rc == 0 && pl_model_schema(lake->model, name)) {
		if (!if_not_exists)
			rc = pl_err_set(err, PL_EEXISTS, "Catalog Error: Schema with name \"%s\" already exists!", name);
	} else if (rc == 0) {
		rc = pl_ddl_create_schema(&txn, name, err);
		if (rc == 0)
			rc = pl_lake_commit(lake, st->conn, &txn, err);
	}
	pl_txn_dispose(&txn);
	free_parts(parts, n);
	free(cur);
	return rc;
}

typedef struct create_ctx {
	pl_target tgt;
	const pl_schema *schema; /* not to be used once the rows are written (the model moves on) */
	int64_t base;            /* the snapshot the table was planned on */
	bool if_not_exists, or_replace, as_select;
} create_ctx;

static int plan_create(pl_stmt *st, size_t name_at, size_t *after, create_ctx *c, pl_err *err)
{
	const pl_toks *t = &st->toks;
	char *parts[3] = {0};
	size_t n = 0;
	*after = name_at;
	c->if_not_exists = pl_tok_is(t, name_at - 1, "EXISTS");
	c->or_replace = pl_tok_is(t, 1, "OR") && pl_tok_is(t, 2, "REPLACE");
	int rc = pl_parse_qname(t, after, parts, &n, err);
	if (rc == 0)
		rc = pl_resolve_target(st, parts, n, &c->tgt, err);
	free_parts(parts, n);
	if (rc)
		return rc;
	c->as_select = pl_tok_is(t, *after, "AS");
	if (!c->as_select && !pl_tok_is_punct(t, *after, "("))
		return pl_err_set(err, PL_EINVALID, "syntax error: CREATE TABLE needs a column list or AS query");
	rc = pl_name_check("table", c->tgt.name, err);
	if (rc == 0)
		rc = pl_lake_check_writable(c->tgt.lake, err);
	if (rc)
		return rc;
	c->schema = pl_model_schema(c->tgt.lake->model, c->tgt.schema);
	c->base = c->tgt.lake->model->snapshot_id;
	if (!c->schema)
		return pl_err_set(err, PL_ENOTFOUND, "Catalog Error: Schema with name \"%s\" does not exist! (not found "
				  "in lake \"%s\")", c->tgt.schema, c->tgt.lake->name);
	return 0;
}

/* CREATE TABLE ... AS query WITH [NO] DATA: the user chose; the rows then come from the table. */
static bool ends_with_data_clause(const pl_stmt *st)
{
	const pl_toks *t = &st->toks;
	return t->len >= 3 && pl_tok_is(t, t->len - 1, "DATA") &&
	       (pl_tok_is(t, t->len - 2, "WITH") || (pl_tok_is(t, t->len - 2, "NO") && pl_tok_is(t, t->len - 3, "WITH")));
}

/* What DuckLake refuses in a column list (at its top level): a generated column (`name type AS
 * (expr)` / `GENERATED ALWAYS AS`), a collation, a compression type. 0 when there is none. */
static int check_column_list(pl_stmt *st, size_t after, pl_err *err)
{
	const pl_toks *t = &st->toks;
	if (!pl_tok_is_punct(t, after, "("))
		return 0;
	size_t close = pl_tok_match_paren(t, after);
	int depth = 0;
	for (size_t i = after + 1; i < close && i < t->len; i++) {
		if (pl_tok_is_punct(t, i, "("))
			depth++;
		else if (pl_tok_is_punct(t, i, ")"))
			depth--;
		else if (depth != 0)
			continue;
		else if (pl_tok_is(t, i, "GENERATED") || (pl_tok_is(t, i, "AS") && pl_tok_is_punct(t, i + 1, "(")))
			return pl_err_set(err, PL_EUNSUPPORTED, "Not implemented Error: DuckLake does not support generated "
					  "columns (column AS (expression))");
		else if (pl_tok_is(t, i, "COLLATE"))
			return pl_err_set(err, PL_EUNSUPPORTED,
					  "Invalid Input Error: Collations are not supported in DuckLake storage");
		else if (pl_tok_is(t, i, "USING") && pl_tok_is(t, i + 1, "COMPRESSION"))
			return pl_err_set(err, PL_EUNSUPPORTED, "Not implemented Error: Defining a compression type for a "
					  "column is not supported in DuckLake");
	}
	return 0;
}

static int commit_create(pl_stmt *st, create_ctx *c, pl_txn *txn, pl_err *err)
{
	int rc = pl_lake_commit_from(c->tgt.lake, st->conn, txn, c->base, err);
	if (rc)
		pl_txn_remove_written(txn);
	return rc;
}

int pl_handle_create_table(pl_stmt *st, size_t name_at, planar_result **out, pl_err *err)
{
	create_ctx c = {0};
	pl_txn txn = {0};
	size_t after = 0;
	(void)out;
	int rc = plan_create(st, name_at, &after, &c, err);
	const pl_table *existing = rc ? NULL : pl_model_table(c.tgt.lake->model, c.schema->id, c.tgt.name);
	if (existing && c.if_not_exists) {
		pl_target_dispose(&c.tgt);
		return 0;
	}
	if (existing && !c.or_replace)
		rc = pl_err_set(err, PL_EEXISTS, "Catalog Error: Table with name \"%s\" already exists!", c.tgt.name);
	if (rc == 0 && !existing && pl_model_view(c.tgt.lake->model, c.schema->id, c.tgt.name))
		rc = c.or_replace ? pl_err_set(err, PL_EEXISTS, "Catalog Error: Existing object %s is of type View, trying "
					       "to replace with type Table", c.tgt.name)
			: c.if_not_exists ? 1
			: pl_err_set(err, PL_EEXISTS, "Catalog Error: View with name \"%s\" already exists!", c.tgt.name);
	if (rc == 1) { /* IF NOT EXISTS and a view of that name: nothing to do */
		pl_target_dispose(&c.tgt);
		return 0;
	}
	if (rc == 0)
		rc = check_column_list(st, after, err);
	if (rc == 0) {
		const pl_toks *t = &st->toks;
		pl_create_table ct = {c.schema, c.tgt.name, existing, after < t->len ? st->sql + t->items[after].start : NULL,
				      !c.as_select ? NULL : after + 1 < t->len ? st->sql + t->items[after + 1].start : "",
				      ends_with_data_clause(st), !st->conn->in_txn, c.tgt.lake->model, c.tgt.lake->data_path};
		pl_lake_ctx ctx;
		pl_lake_table_ctx(&ctx, c.tgt.lake, st->conn);
		if ((rc = pl_ddl_create_table(&ctx.table, &ct, &txn, err)) != 0)
			pl_txn_remove_written(&txn);
	}
	if (rc == 0)
		rc = commit_create(st, &c, &txn, err);
	pl_txn_dispose(&txn);
	pl_target_dispose(&c.tgt);
	return rc;
}

static int drop_schema(pl_stmt *st, pl_target *tgt, bool if_exists, bool cascade, pl_err *err)
{
	pl_lake *lake = tgt->lake;
	const pl_schema *s = pl_model_schema(lake->model, tgt->name);
	pl_txn txn = {0};
	if (!s)
		return if_exists ? 0 : pl_err_set(err, PL_ENOTFOUND, "Catalog Error: Schema with name \"%s\" does not exist!",
						  tgt->name);
	int rc = pl_ddl_drop_schema(lake->model, s, cascade, &txn, err);
	if (rc == 0)
		rc = pl_lake_commit(lake, st->conn, &txn, err);
	pl_txn_dispose(&txn);
	return rc;
}

static int drop_table(pl_stmt *st, pl_target *tgt, bool if_exists, pl_err *err)
{
	pl_lake *lake = tgt->lake;
	const pl_schema *s = pl_model_schema(lake->model, tgt->schema);
	const pl_table *t = s ? pl_model_table(lake->model, s->id, tgt->name) : NULL;
	pl_txn txn = {0};
	if (!t && s && pl_model_view(lake->model, s->id, tgt->name))
		return pl_err_set(err, PL_EINVALID, "Catalog Error: Existing object %s is of type View, trying to drop type "
				  "Table", tgt->name);
	if (!t)
		return if_exists ? 0 : pl_err_set(err, PL_ENOTFOUND, "Catalog Error: Table with name %s does not exist!",
						  tgt->name);
	int rc = pl_ddl_drop_table(t, &txn, err);
	if (rc == 0)
		rc = pl_lake_commit(lake, st->conn, &txn, err);
	pl_txn_dispose(&txn);
	return rc;
}

/* For DROP SCHEMA the name's parts are [lake.]schema. */
static int schema_target(pl_stmt *st, char *parts[3], size_t n, pl_target *tgt, pl_err *err)
{
	char *cur = NULL;
	memset(tgt, 0, sizeof(*tgt));
	int rc = n == 1 ? pl_engine_query_value(st->conn->con, "SELECT current_database()", &cur, err) : 0;
	if (rc)
		return rc;
	tgt->lake = pl_db_find_lake(st->conn->db, n == 2 ? parts[0] : cur);
	free(cur);
	tgt->name = pl_strdup(parts[n - 1]);
	return tgt->name ? 0 : pl_err_nomem(err);
}

int pl_handle_drop(pl_stmt *st, size_t kind_at, planar_result **out, pl_err *err)
{
	const pl_toks *t = &st->toks;
	bool schema = pl_tok_is(t, kind_at, "SCHEMA");
	size_t i = kind_at + 1;
	bool if_exists = pl_tok_is(t, i, "IF") && pl_tok_is(t, i + 1, "EXISTS");
	char *parts[3] = {0};
	size_t n = 0;
	pl_target tgt = {0};
	(void)out;
	i += if_exists ? 2 : 0;
	int rc = pl_parse_qname(t, &i, parts, &n, err);
	bool cascade = pl_tok_is(t, i, "CASCADE");
	if (rc == 0 && i + (cascade || pl_tok_is(t, i, "RESTRICT")) < t->len)
		rc = pl_err_set(err, PL_EINVALID, "syntax error at end of DROP statement");
	if (rc == 0)
		rc = schema ? schema_target(st, parts, n, &tgt, err) : pl_resolve_target(st, parts, n, &tgt, err);
	if (rc == 0 && !tgt.lake)
		rc = pl_err_set(err, PL_ENOTFOUND, "no lake found for DROP");
	if (rc == 0)
		rc = pl_lake_check_writable(tgt.lake, err);
	if (rc == 0)
		rc = schema ? drop_schema(st, &tgt, if_exists, cascade, err) : drop_table(st, &tgt, if_exists, err);
	pl_target_dispose(&tgt);
	free_parts(parts, n);
	return rc;
}
