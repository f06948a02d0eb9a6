/*
 * mirror.c -- mirroring a lake's model into DuckDB: a schema per lake schema, a view per table
 * (over its files, see table/scan.h), the lake's own views and macros, and their comments. A
 * sync runs only the statements whose text changed since the last one (hashes kept per lake).
 */
#include "sql/lake.h"

#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "table/scan.h"

static int cmp_hash(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* A sync in progress: the statements' hashes (new), and the previous sync's (old, sorted). */
typedef struct view_sync {
	planar_db *db;
	pl_lake *lake;
	duckdb_connection con;
	/* The admin connection (cached) or a session's transaction: either way a statement whose
	 * text the shared views already have is skipped; a transaction thus re-creates only the
	 * views its writes change, and transactions on the same tables rarely meet in DuckDB's
	 * catalog. */
	bool cached;
	bool same_objects; /* see pl_lake_mirror */
	uint64_t *hashes;
	size_t n, cap;
	/* A transaction's sync: the objects its earlier syncs (and this one) changed, which its view
	 * of the mirror has otherwise than the shared one. */
	pl_synced_set *synced;
} view_sync;

/* The key of a mirrored object: kind 'v' (a view: a table's or the lake's) or 'm'/'t' (a scalar
 * or table macro), schema and name. */
static uint64_t object_key(char kind, const char *schema, const char *name)
{
	static const char sep = 0x1f;
	char k[2] = {kind, '\0'};
	uint64_t h = PL_FNV1A_SEED;
	const char *parts[] = {k, schema, name};
	for (int i = 0; i < 3; i++) {
		h = pl_fnv1a(h, parts[i], strlen(parts[i]));
		h = pl_fnv1a(h, &sep, 1);
	}
	return h;
}

static bool synced_has(const pl_synced_set *s, uint64_t key)
{
	for (size_t i = 0; s && i < s->n; i++)
		if (s->keys[i] == key)
			return true;
	return false;
}

/* Notes that the transaction's view of object `key` now differs from the shared one. */
static int synced_add(pl_synced_set *s, uint64_t key)
{
	if (!s || synced_has(s, key))
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		uint64_t *p = realloc(s->keys, cap * sizeof(*p));
		if (!p)
			return PL_ENOMEM;
		s->keys = p;
		s->cap = cap;
	}
	s->keys[s->n++] = key;
	return 0;
}

void pl_synced_set_dispose(pl_synced_set *s)
{
	free(s->keys);
	free(s->base);
	*s = (pl_synced_set){0};
}

static struct pl_mirror_claim *claim_find(pl_lake *lake, uint64_t key)
{
	for (size_t i = 0; i < lake->nclaims; i++)
		if (lake->claims[i].key == key)
			return &lake->claims[i];
	return NULL;
}

/* Whether DuckDB would refuse the transaction of s a change of object `key`. */
static bool claim_conflicts(pl_lake *lake, const pl_synced_set *s, uint64_t key)
{
	const struct pl_mirror_claim *c = s ? claim_find(lake, key) : NULL;
	return c && (c->owner ? c->owner != s->id : c->seq > s->begin_seq);
}

/* Notes a change of object `key`: private to the transaction of s, or (s NULL) shared. A shared
 * change matters only to transactions open now (one that begins later sees it): with none open,
 * no claim is kept at all. */
static int claim_set(pl_lake *lake, const pl_synced_set *s, uint64_t key)
{
	if (!s && lake->txn_readers == 0) {
		lake->nclaims = 0; /* (a transaction's own claims end with it) */
		return 0;
	}
	struct pl_mirror_claim *c = claim_find(lake, key);
	if (!c) {
		if (lake->nclaims == lake->capclaims) {
			size_t cap = lake->capclaims ? lake->capclaims * 2 : 16;
			struct pl_mirror_claim *p = realloc(lake->claims, cap * sizeof(*p));
			if (!p)
				return PL_ENOMEM;
			lake->claims = p;
			lake->capclaims = cap;
		}
		c = &lake->claims[lake->nclaims++];
		*c = (struct pl_mirror_claim){key, 0, 0, 0};
	}
	if (s) {
		if (!c->owner)
			c->prev_seq = c->seq;
		c->owner = s->id;
	} else {
		c->owner = 0;
		c->seq = ++lake->mirror_seq;
	}
	return 0;
}

/* A statement changed object `key` in DuckDB: on a transaction's connection (synced), its own
 * version from now on; on the admin connection (synced NULL), the shared one. */
static int note_change(pl_lake *lake, pl_synced_set *synced, uint64_t key, pl_err *err)
{
	return synced_add(synced, key) || claim_set(lake, synced, key) ? pl_err_nomem(err) : 0;
}

void pl_mirror_release(pl_lake *lake, const pl_synced_set *s, bool committed)
{
	for (size_t i = 0; s->id && i < lake->nclaims; i++) {
		struct pl_mirror_claim *c = &lake->claims[i];
		if (c->owner != s->id)
			continue;
		c->owner = 0;
		c->seq = committed ? ++lake->mirror_seq : c->prev_seq;
	}
}

int pl_synced_set_begin(pl_synced_set *s, pl_lake *lake)
{
	s->id = ++lake->next_txn_id;
	s->begin_seq = lake->mirror_seq;
	free(s->base);
	s->base = NULL;
	s->nbase = 0;
	s->has_base = false;
	if (lake->nview_hashes) {
		s->base = malloc(lake->nview_hashes * sizeof(*s->base));
		if (!s->base)
			return PL_ENOMEM;
		memcpy(s->base, lake->view_hashes, lake->nview_hashes * sizeof(*s->base));
		s->nbase = lake->nview_hashes;
	}
	s->has_base = true;
	return 0;
}

static int exec_on(duckdb_connection con, pl_buf *sql, pl_err *err)
{
	if (pl_buf_oom(sql))
		return pl_err_nomem(err);
	return pl_engine_exec(con, pl_buf_cstr(sql), err);
}

/* Runs a view statement (about object `key`) unless the same statement already ran in the last
 * sync (and, in a transaction, the object is still there for it). */
static int sync_exec(view_sync *vs, pl_buf *sql, const char *schema, uint64_t key, pl_err *err)
{
	if (pl_buf_oom(sql))
		return pl_err_nomem(err);
	uint64_t h = pl_str_hash(sql->ptr);
	if (vs->n == vs->cap) {
		size_t cap = vs->cap ? vs->cap * 2 : 64;
		uint64_t *p = realloc(vs->hashes, cap * sizeof(*p));
		if (!p)
			return pl_err_nomem(err);
		vs->hashes = p;
		vs->cap = cap;
	}
	vs->hashes[vs->n++] = h;
	/* a transaction's own version of the object is not the shared one: its statement runs */
	bool shared = vs->cached || !synced_has(vs->synced, key);
	const uint64_t *seen = vs->lake->view_hashes;
	size_t nseen = vs->lake->nview_hashes;
	if (!vs->cached && vs->synced && vs->synced->has_base) { /* as the transaction's snapshot shows them */
		seen = vs->synced->base;
		nseen = vs->synced->nbase;
	}
	if (shared && nseen > 0 && bsearch(&h, seen, nseen, sizeof(h), cmp_hash))
		return 0;
	/* another transaction's change of the object or its schema: this one's shows at its COMMIT,
	 * or conflicts there */
	if (!vs->cached && (claim_conflicts(vs->lake, vs->synced, key) ||
			    (schema && claim_conflicts(vs->lake, vs->synced, object_key('s', schema, "")))))
		return 0;
	if (!vs->cached && synced_add(vs->synced, key))
		return pl_err_nomem(err);
	int rc = exec_on(vs->con, sql, err);
	if (rc == 0 && claim_set(vs->lake, vs->synced, key))
		rc = pl_err_nomem(err);
	return rc;
}


/* Runs `select` ... `WHERE NOT internal AND database_name = '<lake>'` over the mirror. */
static int query_mirror(duckdb_connection con, const pl_lake *lake, const char *select, duckdb_result *res,
			pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	pl_buf_printf(&q, "%s WHERE NOT internal AND database_name = ", select);
	pl_buf_put_literal(&q, lake->name);
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query(con, q.ptr, res, err);
	pl_buf_dispose(&q);
	return rc;
}

static int sync_drop_missing(pl_lake *lake, duckdb_connection con, pl_synced_set *synced, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	duckdb_result res;
	int rc = query_mirror(con, lake, "SELECT schema_name, view_name FROM duckdb_views()", &res, err);
	if (rc)
		return rc;
	for (idx_t r = 0; rc == 0 && r < duckdb_row_count(&res); r++) {
		bool oom = false;
		char *schema = pl_engine_value_str(&res, 0, r, &oom);
		char *view = pl_engine_value_str(&res, 1, r, &oom);
		const pl_schema *s = schema ? pl_model_schema(lake->model, schema) : NULL;
		uint64_t key = schema && view ? object_key('v', schema, view) : 0;
		if (!oom && (!s || (!pl_model_table(lake->model, s->id, view) && !pl_model_view(lake->model, s->id, view))) &&
		    !claim_conflicts(lake, synced, key)) {
			pl_buf_puts(&q, "DROP VIEW IF EXISTS ");
			pl_buf_put_ident(&q, lake->name);
			pl_buf_putc(&q, '.');
			pl_buf_put_ident(&q, schema);
			pl_buf_putc(&q, '.');
			pl_buf_put_ident(&q, view);
			rc = exec_on(con, &q, err);
			pl_buf_truncate(&q, 0);
			if (rc == 0)
				rc = note_change(lake, synced, key, err);
		}
		rc = rc ? rc : oom ? pl_err_nomem(err) : 0;
		free(schema);
		free(view);
	}
	duckdb_destroy_result(&res);
	pl_buf_dispose(&q);
	return rc;
}

static void put_view_name(pl_buf *q, const pl_lake *lake, const char *schema, const char *table);

/* Macros of the mirror that the model no longer has (or has as the other kind). */
static int sync_drop_macros(pl_lake *lake, duckdb_connection con, pl_synced_set *synced, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	duckdb_result res;
	int rc = query_mirror(con, lake, "SELECT DISTINCT schema_name, function_name, function_type = 'table_macro' FROM "
				     "(SELECT * FROM duckdb_functions() WHERE function_type IN ('macro', 'table_macro'))",
			      &res, err);
	if (rc)
		return rc;
	for (idx_t r = 0; rc == 0 && r < duckdb_row_count(&res); r++) {
		bool oom = false;
		char *schema = pl_engine_value_str(&res, 0, r, &oom);
		char *name = pl_engine_value_str(&res, 1, r, &oom);
		bool table = duckdb_value_boolean(&res, 2, r);
		const pl_schema *s = schema ? pl_model_schema(lake->model, schema) : NULL;
		const pl_macro *m = s && name ? pl_model_macro(lake->model, s->id, name, table) : NULL;
		uint64_t key = schema && name ? object_key(table ? 't' : 'm', schema, name) : 0;
		if (!oom && schema && name && !m && !claim_conflicts(lake, synced, key)) {
			pl_buf_puts(&q, table ? "DROP MACRO TABLE IF EXISTS " : "DROP MACRO IF EXISTS ");
			put_view_name(&q, lake, schema, name);
			rc = exec_on(con, &q, err);
			pl_buf_truncate(&q, 0);
			if (rc == 0)
				rc = note_change(lake, synced, key, err);
		}
		rc = rc ? rc : oom ? pl_err_nomem(err) : 0;
		free(schema);
		free(name);
	}
	duckdb_destroy_result(&res);
	pl_buf_dispose(&q);
	return rc;
}

static int sync_drop_schemas(pl_lake *lake, duckdb_connection con, pl_synced_set *synced, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	duckdb_result res;
	int rc = query_mirror(con, lake, "SELECT schema_name FROM duckdb_schemas()", &res, err);
	if (rc)
		return rc;
	for (idx_t r = 0; rc == 0 && r < duckdb_row_count(&res); r++) {
		bool oom = false;
		char *schema = pl_engine_value_str(&res, 0, r, &oom);
		uint64_t key = schema ? object_key('s', schema, "") : 0;
		if (!oom && schema && strcmp(schema, "main") != 0 && !pl_model_schema(lake->model, schema) &&
		    !claim_conflicts(lake, synced, key)) {
			pl_buf_puts(&q, "DROP SCHEMA IF EXISTS ");
			pl_buf_put_ident(&q, lake->name);
			pl_buf_putc(&q, '.');
			pl_buf_put_ident(&q, schema);
			pl_buf_puts(&q, " CASCADE");
			rc = exec_on(con, &q, err);
			pl_buf_truncate(&q, 0);
			if (rc == 0)
				rc = note_change(lake, synced, key, err);
		}
		rc = rc ? rc : oom ? pl_err_nomem(err) : 0;
		free(schema);
	}
	duckdb_destroy_result(&res);
	pl_buf_dispose(&q);
	return rc;
}

static void put_view_name(pl_buf *q, const pl_lake *lake, const char *schema, const char *table)
{
	pl_buf_put_ident(q, lake->name);
	pl_buf_putc(q, '.');
	pl_buf_put_ident(q, schema);
	pl_buf_putc(q, '.');
	pl_buf_put_ident(q, table);
}

static int create_view(view_sync *vs, const pl_schema *s, const pl_table *t, pl_err *err)
{
	pl_lake *lake = vs->lake;
	pl_buf q = PL_BUF_INIT, body = PL_BUF_INIT;
	pl_err scan_err = {0};
	pl_files_summary files; /* read from the catalog when the files are not loaded: a failure fails the sync */
	int rc = pl_model_table_summary(lake->model, t, &files, err);
	if (rc)
		return rc;
	pl_buf_puts(&q, "CREATE OR REPLACE VIEW ");
	put_view_name(&q, lake, s->name, t->name);
	pl_buf_puts(&q, " AS ");
	/* The text names no file: it changes with the table's columns, not with its data. */
	if (pl_scan_view_sql(&body, lake->name, lake->model, t, &scan_err) == 0) {
		pl_buf_puts(&q, pl_buf_cstr(&body));
	} else {
		/* The table cannot be read by Planar: reading it reports why. */
		pl_buf_puts(&q, "SELECT error(");
		pl_buf_put_literal(&q, scan_err.msg);
		pl_buf_puts(&q, ") AS error");
	}
	pl_err view_err = {0};
	uint64_t key = object_key('v', s->name, t->name);
	rc = sync_exec(vs, &q, s->name, key, &view_err);
	/* DuckDB refused to change its catalog (another transaction changed the same view): the
	 * transaction is over in DuckDB, nothing else can run in it */
	bool refused = rc && (strstr(view_err.msg, "write-write conflict") || strstr(view_err.msg, "TransactionContext"));
	if (rc && rc != PL_ENOMEM && !refused) {
		/* DuckDB cannot bind it (its files are not where the catalog says: another DATA_PATH,
		 * files removed): the table keeps its columns and reading it reports why, as DuckDB's
		 * extension reports it when the table is read; the next sync tries again */
		vs->n--;
		pl_buf_truncate(&q, 0);
		pl_buf_puts(&q, "CREATE OR REPLACE VIEW ");
		put_view_name(&q, lake, s->name, t->name);
		/* every column is the error (a query that reads no column still raises it), made of a
		 * range's row so that the optimizer cannot fold it away */
		pl_buf_puts(&q, " AS SELECT ");
		for (size_t i = 0; i < t->ntop; i++) {
			pl_buf type = PL_BUF_INIT;
			if (pl_scan_column_type(&type, t->top[i], err) != 0)
				pl_buf_puts(&type, "VARCHAR");
			pl_buf_printf(&q, "%sCAST(e AS %s) AS ", i ? ", " : "", pl_buf_cstr(&type));
			pl_buf_put_ident(&q, t->top[i]->name);
			pl_buf_dispose(&type);
		}
		if (t->ntop == 0)
			pl_buf_puts(&q, "e AS error");
		pl_buf_puts(&q, " FROM (SELECT error(");
		pl_buf_put_literal(&q, view_err.msg);
		pl_buf_puts(&q, " || repeat(' ', CAST(x AS INTEGER))) FROM range(1) AS r(x)) AS failed(e) WHERE e IS NULL");
		rc = exec_on(vs->con, &q, err);
		if (rc == 0)
			rc = note_change(vs->lake, vs->synced, key, err);
	} else if (rc) {
		*err = view_err;
	}
	pl_buf_dispose(&q);
	pl_buf_dispose(&body);
	return rc;
}


/* The SQL of a lake view names its own lake {DUCKLAKE_CATALOG}. */
static void put_view_sql(pl_buf *q, const pl_lake *lake, const char *sql)
{
	static const char marker[] = "{DUCKLAKE_CATALOG}";
	const char *p = sql, *m;
	while ((m = strstr(p, marker)) != NULL) {
		pl_buf_put(q, p, (size_t)(m - p));
		pl_buf_put_ident(q, lake->name);
		p = m + sizeof(marker) - 1;
	}
	pl_buf_puts(q, p);
}

static int create_lake_view(view_sync *vs, const pl_schema *s, const pl_view *v, pl_err *err)
{
	pl_lake *lake = vs->lake;
	duckdb_connection con = vs->con;
	pl_buf q = PL_BUF_INIT, body = PL_BUF_INIT;
	put_view_sql(&body, lake, v->sql);
	pl_buf_puts(&q, "CREATE OR REPLACE VIEW ");
	put_view_name(&q, lake, s->name, v->name);
	if (v->column_aliases && *v->column_aliases) /* "a","b": a list of quoted names */
		pl_buf_printf(&q, " (%s)", v->column_aliases);
	pl_buf_puts(&q, " AS ");
	pl_buf_puts(&q, pl_buf_cstr(&body));
	pl_err view_err = {0};
	uint64_t key = object_key('v', s->name, v->name);
	int rc = sync_exec(vs, &q, s->name, key, &view_err);
	if (rc && rc != PL_ENOMEM) { /* names it does not qualify: as seen from its own schema */
		rc = pl_engine_exec_in_schema(con, lake->name, s->name, pl_buf_cstr(&q), &view_err);
		if (rc == 0)
			rc = note_change(vs->lake, vs->synced, key, err);
	}
	if (rc && rc != PL_ENOMEM) { /* it no longer binds (e.g. a table it reads was dropped) */
		pl_buf_truncate(&q, 0);
		pl_buf_puts(&q, "CREATE OR REPLACE VIEW ");
		put_view_name(&q, lake, s->name, v->name);
		pl_buf_puts(&q, " AS SELECT error(");
		pl_buf_put_literal(&q, view_err.msg);
		pl_buf_puts(&q, ") AS error");
		rc = exec_on(con, &q, err);
		if (rc == 0)
			rc = note_change(vs->lake, vs->synced, key, err);
	}
	pl_buf_dispose(&q);
	pl_buf_dispose(&body);
	return rc;
}

/* COMMENT ON VIEW name IS comment, or COMMENT ON COLUMN name.column IS comment (column given). */
static int comment_view(view_sync *vs, const pl_schema *s, const char *name, const char *column, const char *comment,
			pl_err *err)
{
	pl_lake *lake = vs->lake;
	pl_buf q = PL_BUF_INIT;
	pl_buf_puts(&q, column ? "COMMENT ON COLUMN " : "COMMENT ON VIEW ");
	put_view_name(&q, lake, s->name, name);
	if (column) {
		pl_buf_putc(&q, '.');
		pl_buf_put_ident(&q, column);
	}
	pl_buf_puts(&q, " IS ");
	pl_buf_put_literal(&q, comment);
	int rc = sync_exec(vs, &q, s->name, object_key('v', s->name, name), err);
	pl_buf_dispose(&q);
	return rc;
}

static void put_macro_default(pl_buf *q, const pl_macro_param *p)
{
	const char *dt = p->default_type ? pl_ducklake_to_duckdb_type(p->default_type) : NULL;
	if (!dt && strcmp(p->default_value, "NULL") == 0) {
		pl_buf_puts(q, "NULL");
		return;
	}
	if (dt)
		pl_buf_puts(q, "CAST(");
	pl_buf_put_literal(q, p->default_value);
	if (dt)
		pl_buf_printf(q, " AS %s)", dt);
}

/* CREATE OR REPLACE MACRO lake.schema.name (params) AS body [, (params) AS body ...] */
static int create_macro(view_sync *vs, const pl_schema *s, const pl_macro *m, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	pl_buf_puts(&q, "CREATE OR REPLACE MACRO ");
	put_view_name(&q, vs->lake, s->name, m->name);
	for (size_t i = 0; i < m->nimpls; i++) {
		const pl_macro_impl *im = &m->impls[i];
		pl_buf_puts(&q, i ? ", (" : "(");
		for (size_t j = 0; j < im->nparams; j++) {
			const pl_macro_param *p = &im->params[j];
			if (j)
				pl_buf_puts(&q, ", ");
			pl_buf_put_ident(&q, p->name);
			const char *dt = p->type && !pl_str_ieq(p->type, "unknown") ? pl_ducklake_to_duckdb_type(p->type) : NULL;
			if (dt)
				pl_buf_printf(&q, " %s", dt);
			if (p->default_value) {
				pl_buf_puts(&q, " := ");
				put_macro_default(&q, p);
			}
		}
		pl_buf_puts(&q, m->table ? ") AS TABLE " : ") AS ");
		pl_buf_puts(&q, im->sql);
	}
	pl_err macro_err = {0};
	uint64_t key = object_key(m->table ? 't' : 'm', s->name, m->name);
	int rc = m->nimpls ? sync_exec(vs, &q, s->name, key, &macro_err) : 0;
	if (rc && rc != PL_ENOMEM) { /* DuckDB binds a table macro's names: as seen from its own schema */
		rc = pl_engine_exec_in_schema(vs->con, vs->lake->name, s->name, pl_buf_cstr(&q), &macro_err);
		if (rc == 0)
			rc = note_change(vs->lake, vs->synced, key, &macro_err);
	}
	pl_buf_dispose(&q);
	/* a macro DuckDB cannot take (a body that no longer binds) is left out: calling it says it
	 * does not exist */
	return rc == PL_ENOMEM ? pl_err_nomem(err) : 0;
}

/* The comment the model gives a mirrored object (column NULL: the table or view itself). */
static const char *model_comment(const pl_model *m, const char *schema, const char *name, const char *column)
{
	const pl_schema *s = pl_model_schema(m, schema);
	const pl_table *t = s ? pl_model_table(m, s->id, name) : NULL;
	for (size_t c = 0; t && column && c < t->ntop; c++)
		if (strcmp(t->top[c]->name, column) == 0)
			return t->top[c]->comment;
	if (t)
		return column ? NULL : t->comment;
	for (size_t i = 0; s && !column && i < m->nviews; i++)
		if (m->views[i].schema_id == s->id && strcmp(m->views[i].name, name) == 0)
			return m->views[i].comment;
	return NULL;
}

/* Comments DuckDB still shows on mirrored objects whose comment the model no longer has are
 * cleared (a view re-created only when its text changes keeps its comments). */
static int clear_stale_comments(view_sync *vs, pl_err *err)
{
	static const char *const queries[] = {
		"SELECT schema_name, view_name, NULL FROM duckdb_views() WHERE comment IS NOT NULL AND database_name = ",
		"SELECT schema_name, table_name, column_name FROM duckdb_columns() WHERE comment IS NOT NULL AND "
		"database_name = "};
	int rc = 0;
	for (size_t k = 0; rc == 0 && k < 2; k++) {
		pl_buf q = PL_BUF_INIT;
		pl_buf_puts(&q, queries[k]);
		pl_buf_put_literal(&q, vs->lake->name);
		duckdb_result res;
		rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query(vs->con, q.ptr, &res, err);
		pl_buf_dispose(&q);
		if (rc)
			return rc;
		for (idx_t r = 0; rc == 0 && r < duckdb_row_count(&res); r++) {
			bool oom = false;
			char *schema = pl_engine_value_str(&res, 0, r, &oom), *name = pl_engine_value_str(&res, 1, r, &oom);
			char *column = k ? pl_engine_value_str(&res, 2, r, &oom) : NULL;
			if (oom) {
				rc = pl_err_nomem(err);
			} else if (schema && name && !model_comment(vs->lake->model, schema, name, column)) {
				pl_buf_puts(&q, column ? "COMMENT ON COLUMN " : "COMMENT ON VIEW ");
				put_view_name(&q, vs->lake, schema, name);
				if (column) {
					pl_buf_putc(&q, '.');
					pl_buf_put_ident(&q, column);
				}
				pl_buf_puts(&q, " IS NULL");
				rc = exec_on(vs->con, &q, err);
				pl_buf_dispose(&q);
			}
			free(schema);
			free(name);
			free(column);
		}
		duckdb_destroy_result(&res);
	}
	return rc;
}

static int sync_objects(view_sync *vs, pl_err *err)
{
	pl_lake *lake = vs->lake;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < lake->model->ntables; i++) {
		const pl_table *t = &lake->model->tables[i];
		const pl_schema *s = pl_model_schema_by_id(lake->model, t->schema_id);
		if (s)
			rc = create_view(vs, s, t, err);
		if (rc == 0 && s && t->comment)
			rc = comment_view(vs, s, t->name, NULL, t->comment, err);
		for (size_t c = 0; rc == 0 && s && c < t->ntop; c++)
			if (t->top[c]->comment)
				rc = comment_view(vs, s, t->name, t->top[c]->name, t->top[c]->comment, err);
	}
	for (size_t i = 0; rc == 0 && i < lake->model->nviews; i++) {
		const pl_view *v = &lake->model->views[i];
		const pl_schema *s = pl_model_schema_by_id(lake->model, v->schema_id);
		if (s)
			rc = create_lake_view(vs, s, v, err);
		if (rc == 0 && s && v->comment)
			rc = comment_view(vs, s, v->name, NULL, v->comment, err);
	}
	for (size_t i = 0; rc == 0 && i < lake->model->nmacros; i++) {
		const pl_macro *m = &lake->model->macros[i];
		const pl_schema *s = pl_model_schema_by_id(lake->model, m->schema_id);
		if (s)
			rc = create_macro(vs, s, m, err);
	}
	/* only files changed since the last sync, or the mirror was empty: no comment is stale
	 * (two scans of DuckDB's catalog functions, the largest part of a refresh after a one-row
	 * INSERT) */
	if (rc == 0 && !vs->same_objects && !(vs->cached && lake->mirror_new))
		rc = clear_stale_comments(vs, err);
	if (rc == 0 && vs->cached)
		lake->mirror_new = false;
	return rc;
}

/* Brings the mirror in line with lake->model. `same_objects`: only files changed since the last
 * sync (no schema, table or view came or went), so nothing is dropped or created but changed
 * view texts. */
int pl_lake_mirror(planar_db *db, pl_lake *lake, duckdb_connection con, bool cached, bool same_objects,
		   pl_synced_set *synced, pl_err *err)
{
	if (cached)
		synced = NULL;
	view_sync vs = {db, lake, con, cached, same_objects, NULL, 0, 0, synced};
	/* a mirror attached empty has nothing to drop (three scans of DuckDB's catalog functions,
	 * duckdb_functions() the largest part of an ATTACH) */
	bool drops = !same_objects && !(cached && lake->mirror_new);
	int rc = drops ? sync_drop_missing(lake, con, synced, err) : 0;
	if (rc == 0 && drops)
		rc = sync_drop_macros(lake, con, synced, err);
	if (rc == 0 && drops)
		rc = sync_drop_schemas(lake, con, synced, err);
	for (size_t i = 0; rc == 0 && !same_objects && i < lake->model->nschemas; i++) {
		pl_buf q = PL_BUF_INIT;
		pl_buf_puts(&q, "CREATE SCHEMA IF NOT EXISTS ");
		pl_buf_put_ident(&q, lake->name);
		pl_buf_putc(&q, '.');
		pl_buf_put_ident(&q, lake->model->schemas[i].name);
		rc = sync_exec(&vs, &q, NULL, object_key('s', lake->model->schemas[i].name, ""), err);
		pl_buf_dispose(&q);
	}
	if (rc == 0)
		rc = sync_objects(&vs, err);
	if (!cached) { /* a transaction's private views: the shared ones are unchanged */
		free(vs.hashes);
		return rc;
	}
	/* Remember what the engine's shared views now are; anything else makes the next sync full. */
	free(lake->view_hashes);
	lake->view_hashes = NULL;
	lake->nview_hashes = 0;
	if (rc == 0 && cached && vs.n > 0) {
		qsort(vs.hashes, vs.n, sizeof(*vs.hashes), cmp_hash);
		lake->view_hashes = vs.hashes;
		lake->nview_hashes = vs.n;
		vs.hashes = NULL;
	}
	free(vs.hashes);
	return rc;
}
