/*
 * inline.c -- data inlining: the inlined-data tables' column types per catalog, and writing an
 * INSERT's rows into them at commit (see inline.h). What is written is what DuckDB's ducklake
 * extension writes: rows (row_id, begin_snapshot = the commit's snapshot, end_snapshot NULL,
 * values), the table's statistics advanced (record_count, next_row_id, column min/max), and
 * `inlined_insert:<table_id>` in the snapshot's changes.
 */
#include "catalog/inline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/batch.h"
#include "core/buf.h"
#include "core/str.h"

/* PostgreSQL's NAMEDATALEN - 1 */
#define PG_MAX_IDENT 63

bool pl_inline_parse_limit(const char *s, int64_t *out)
{
	if (!s)
		return false;
	while (*s == ' ')
		s++;
	char *end = NULL;
	long long v = strtoll(s, &end, 10);
	while (end && *end == ' ')
		end++;
	if (!end || end == s || *end || v < 0)
		return false;
	*out = v;
	return true;
}

static bool is_kind(pl_catdb *db, const char *kind)
{
	return db && db->ops && db->ops->name && strcmp(db->ops->name, kind) == 0;
}

static bool is_nested(const pl_column *c)
{
	return strcmp(c->type, "struct") == 0 || strcmp(c->type, "list") == 0 || strcmp(c->type, "map") == 0;
}

static bool system_name(const char *n)
{
	static const char *const names[] = {"row_id", "begin_snapshot", "end_snapshot",
					    "_ducklake_internal_snapshot_id", "_ducklake_internal_row_id"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (pl_str_ieq(n, names[i]))
			return true;
	return false;
}

static bool column_supported(const pl_column *c, bool pg)
{
	if (strcmp(c->type, "variant") == 0 || strcmp(c->type, "geometry") == 0)
		return false;
	if (pg && strlen(c->name) > PG_MAX_IDENT)
		return false;
	for (size_t i = 0; i < c->nchildren; i++)
		if (!column_supported(c->children[i], pg))
			return false;
	return true;
}

bool pl_inline_supported(pl_catdb *db, const pl_table *t)
{
	bool pg = is_kind(db, "postgres");
	if (t->ntop == 0)
		return false;
	for (size_t i = 0; i < t->ntop; i++)
		if (system_name(t->top[i]->name) || !column_supported(t->top[i], pg))
			return false;
	return true;
}

/* The PostgreSQL column type of a scalar DuckLake type the catalog cannot hold natively. */
static const char *pg_type(const char *t)
{
	static const struct {
		const char *ducklake, *pg;
	} map[] = {
		{"int8", "SMALLINT"},        {"uint8", "INTEGER"},       {"uint16", "INTEGER"},
		{"uint32", "BIGINT"},        {"float32", "REAL"},        {"float64", "DOUBLE PRECISION"},
		{"varchar", "BYTEA"},        {"blob", "BYTEA"},          {"json", "BYTEA"},
		{"uint64", "VARCHAR"},       {"int128", "VARCHAR"},      {"uint128", "VARCHAR"},
		{"date", "VARCHAR"},         {"timestamp", "VARCHAR"},   {"timestamptz", "VARCHAR"},
		{"timestamp_s", "VARCHAR"},  {"timestamp_ms", "VARCHAR"}, {"timestamp_ns", "VARCHAR"},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].ducklake, t) == 0)
			return map[i].pg;
	return NULL;
}

/* SQLite keeps these as text: FLOAT/DOUBLE as DuckDB's extension does (SQLite turns NaN into
 * NULL); integers beyond 64 bits and decimals of more than 15 digits too, which SQLite's numeric
 * affinity would otherwise store as approximate REALs. */
static bool sqlite_text_type(const char *t)
{
	if (strncmp(t, "decimal(", 8) == 0)
		return atoi(t + 8) > 15;
	return strcmp(t, "float32") == 0 || strcmp(t, "float64") == 0 || strcmp(t, "uint64") == 0 ||
	       strcmp(t, "int128") == 0 || strcmp(t, "uint128") == 0;
}

static int put_column_type(pl_buf *out, pl_catdb *db, const pl_column *c, pl_err *err)
{
	if (is_kind(db, "duckdb"))
		return pl_column_duckdb_type(out, c, err);
	if (is_nested(c)) {
		pl_buf_puts(out, "VARCHAR");
		return 0;
	}
	if (is_kind(db, "sqlite") && sqlite_text_type(c->type)) {
		pl_buf_puts(out, "VARCHAR");
		return 0;
	}
	const char *pg = is_kind(db, "postgres") ? pg_type(c->type) : NULL;
	if (pg) {
		pl_buf_puts(out, pg);
		return 0;
	}
	return pl_column_duckdb_type(out, c, err);
}

int pl_inline_prepare(pl_inlined_insert *ins, pl_catdb *db, const pl_table *t, pl_err *err)
{
	size_t n = t->ntop;
	pl_buf ddl = PL_BUF_INIT;
	ins->table_id = t->id;
	ins->names = calloc(n, sizeof(char *));
	ins->types = calloc(n, sizeof(char *));
	ins->column_ids = calloc(n, sizeof(int64_t));
	if (!ins->names || !ins->types || !ins->column_ids)
		return pl_err_nomem(err);
	ins->ncols = n;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const pl_column *c = t->top[i];
		ins->names[i] = pl_strdup(c->name);
		ins->types[i] = pl_strdup(c->type);
		ins->column_ids[i] = c->id;
		if (!ins->names[i] || !ins->types[i])
			rc = pl_err_nomem(err);
		if (i)
			pl_buf_puts(&ddl, ", ");
		pl_buf_put_ident(&ddl, c->name);
		pl_buf_putc(&ddl, ' ');
		if (rc == 0)
			rc = put_column_type(&ddl, db, c, err);
	}
	if (rc == 0 && pl_buf_oom(&ddl))
		rc = pl_err_nomem(err);
	if (rc == 0)
		ins->columns_ddl = pl_buf_detach(&ddl);
	pl_buf_dispose(&ddl);
	return rc;
}

/* ---- statistics of the inlined rows ---------------------------------------------------------- */

static bool float_type(const char *t)
{
	return strcmp(t, "float32") == 0 || strcmp(t, "float64") == 0;
}

/* Types whose text (as DuckDB renders it) orders as pl_stats_compare orders it. */
static bool stats_type(const char *t)
{
	static const char *const ok[] = {"int8",    "int16",  "int32",  "int64", "uint8", "uint16", "uint32",
					 "uint64",  "int128", "uint128", "float32", "float64", "varchar", "date",
					 "time", "timestamp", "uuid"};
	if (strncmp(t, "decimal", 7) == 0)
		return true;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcmp(t, ok[i]) == 0)
			return true;
	return false;
}

static bool is_nan(const char *s)
{
	return pl_str_ieq(s, "nan") || pl_str_ieq(s, "-nan");
}

/* As DuckDB orders values: NaN above every number. */
static int compare_values(const char *type, const char *a, const char *b)
{
	if (float_type(type) && (is_nan(a) || is_nan(b)))
		return is_nan(a) - is_nan(b);
	return pl_stats_compare(type, a, b);
}

/* One column's statistics over the rows; min/max point into ins->cells. */
static void column_stats(const pl_inlined_insert *ins, size_t c, pl_column_stats *cs)
{
	const char *type = ins->types[c];
	bool known = stats_type(type);
	memset(cs, 0, sizeof(*cs));
	cs->column_id = ins->column_ids[c];
	cs->value_count = (int64_t)ins->nrows;
	cs->column_size = -1;
	cs->contains_nan = float_type(type) ? 0 : -1;
	cs->type = ins->types[c];
	for (size_t r = 0; r < ins->nrows; r++) {
		const char *v = ins->cells[r * ins->ncols + c];
		if (!v) {
			cs->null_count++;
			continue;
		}
		if (float_type(type) && is_nan(v))
			cs->contains_nan = 1;
		if (!known)
			continue;
		if (!cs->min || compare_values(type, v, cs->min) < 0)
			cs->min = (char *)v;
		if (!cs->max || compare_values(type, v, cs->max) > 0)
			cs->max = (char *)v;
	}
}

/* ---- values as the catalog stores them ------------------------------------------------------- */

/* PostgreSQL BYTEA input ('\x' and hex digits) of raw bytes. */
static char *bytea_hex(const unsigned char *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char *out = malloc(2 * n + 3);
	if (!out)
		return NULL;
	out[0] = '\\';
	out[1] = 'x';
	for (size_t i = 0; i < n; i++) {
		out[2 + 2 * i] = digits[p[i] >> 4];
		out[3 + 2 * i] = digits[p[i] & 15];
	}
	out[2 * n + 2] = '\0';
	return out;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* A BLOB as DuckDB renders it (bytes, "\xHH" escapes) -> its raw bytes, in place; the length. */
static size_t unescape_blob(char *s)
{
	size_t o = 0;
	for (size_t i = 0; s[i];) {
		if (s[i] == '\\' && s[i + 1] == 'x' && hexval(s[i + 2]) >= 0 && hexval(s[i + 3]) >= 0) {
			s[o++] = (char)(hexval(s[i + 2]) * 16 + hexval(s[i + 3]));
			i += 4;
		} else {
			s[o++] = s[i++];
		}
	}
	return o;
}

/* Rewrites the cells of BYTEA columns (PostgreSQL: VARCHAR, JSON and BLOB) into BYTEA input. */
static int to_bytea(pl_inlined_insert *ins, pl_err *err)
{
	for (size_t c = 0; c < ins->ncols; c++) {
		const char *pg = pg_type(ins->types[c]);
		if (!pg || strcmp(pg, "BYTEA") != 0)
			continue;
		bool blob = strcmp(ins->types[c], "blob") == 0;
		for (size_t r = 0; r < ins->nrows; r++) {
			char **cell = &ins->cells[r * ins->ncols + c];
			if (!*cell)
				continue;
			size_t n = blob ? unescape_blob(*cell) : strlen(*cell);
			char *hex = bytea_hex((const unsigned char *)*cell, n);
			if (!hex)
				return pl_err_nomem(err);
			free(*cell);
			*cell = hex;
		}
	}
	return 0;
}

/* The column tree of a flat column list (pl_new_column), for the helpers above. */
typedef struct tree {
	pl_column *cols;
	pl_column **kids;
	pl_column **top;
	size_t ntop;
} tree;

static int build_tree(tree *tr, const pl_new_column *nc, size_t n)
{
	memset(tr, 0, sizeof(*tr));
	tr->cols = calloc(n + 1, sizeof(pl_column));
	tr->kids = calloc(n + 1, sizeof(pl_column *));
	tr->top = calloc(n + 1, sizeof(pl_column *));
	if (!tr->cols || !tr->kids || !tr->top)
		return -1;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		pl_column *c = &tr->cols[i];
		c->id = nc[i].id;
		c->order = nc[i].order;
		c->parent = nc[i].parent;
		c->name = nc[i].name;
		c->type = nc[i].type;
		c->initial_default = nc[i].initial_default;
		c->nulls_allowed = nc[i].nulls_allowed;
		if (nc[i].parent < 0)
			tr->top[tr->ntop++] = c;
	}
	/* children in list order (the list gives a parent's children in their order) */
	for (size_t i = 0; i < n; i++) {
		pl_column *c = &tr->cols[i];
		c->children = &tr->kids[k];
		for (size_t j = 0; j < n; j++)
			if (tr->cols[j].parent == c->id)
				tr->kids[k++] = &tr->cols[j], c->nchildren++;
	}
	return 0;
}

static void free_tree(tree *tr)
{
	free(tr->cols);
	free(tr->kids);
	free(tr->top);
}

/* CREATE TABLE <name> (row_id, begin_snapshot, end_snapshot, <columns>) and its row in
 * ducklake_inlined_data_tables. */
static int create_inlined_table(pl_catdb *db, int64_t table_id, int64_t version, const char *columns_ddl,
				char **name_out, pl_err *err)
{
	char buf[96];
	snprintf(buf, sizeof(buf), "ducklake_inlined_data_%lld_%lld", (long long)table_id, (long long)version);
	pl_val reg[] = {PL_VINT(table_id), PL_VTEXT(buf), PL_VINT(version)};
	int rc = pl_catdb_exec(db, "INSERT INTO ducklake_inlined_data_tables VALUES (?, ?, ?)", reg, 3, err);
	pl_buf q = PL_BUF_INIT;
	pl_buf_puts(&q, "CREATE TABLE IF NOT EXISTS ");
	pl_buf_put_ident(&q, buf);
	pl_buf_puts(&q, " (row_id BIGINT, begin_snapshot BIGINT, end_snapshot BIGINT, ");
	pl_buf_puts(&q, columns_ddl);
	pl_buf_putc(&q, ')');
	if (rc == 0)
		rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_catdb_exec(db, q.ptr, NULL, 0, err);
	pl_buf_dispose(&q);
	if (rc == 0 && name_out && !(*name_out = pl_strdup(buf)))
		rc = pl_err_nomem(err);
	return rc;
}

int pl_inline_create_for_new_table(pl_catdb *db, const pl_new_table *nt, pl_commit_state *st, pl_err *err)
{
	tree tr;
	pl_table t;
	memset(&t, 0, sizeof(t));
	if (build_tree(&tr, nt->columns, nt->ncolumns)) {
		free_tree(&tr);
		return pl_err_nomem(err);
	}
	t.top = tr.top;
	t.ntop = tr.ntop;
	int rc = 0;
	if (pl_inline_supported(db, &t)) {
		pl_buf ddl = PL_BUF_INIT;
		for (size_t i = 0; rc == 0 && i < t.ntop; i++) {
			if (i)
				pl_buf_puts(&ddl, ", ");
			pl_buf_put_ident(&ddl, t.top[i]->name);
			pl_buf_putc(&ddl, ' ');
			rc = put_column_type(&ddl, db, t.top[i], err);
		}
		if (rc == 0)
			rc = pl_buf_oom(&ddl) ? pl_err_nomem(err)
					      : create_inlined_table(db, nt->assigned_id, st->schema_version, ddl.ptr, NULL, err);
		pl_buf_dispose(&ddl);
	}
	free_tree(&tr);
	return rc;
}

int pl_inline_alter(pl_catdb *db, int64_t table_id, pl_commit_state *st, pl_err *err)
{
	pl_rows *r = NULL;
	pl_val p[] = {PL_VINT(table_id), PL_VINT(st->schema_version)};
	int rc = pl_catdb_query(db, "SELECT table_name FROM ducklake_inlined_data_tables WHERE table_id = ? AND "
				    "schema_version = ?", p, 2, &r, err);
	for (size_t i = 0; rc == 0 && i < r->nrows; i++) {
		pl_buf q = PL_BUF_INIT;
		pl_buf_puts(&q, "DROP TABLE IF EXISTS ");
		pl_buf_put_ident(&q, pl_rows_get(r, i, 0));
		rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_catdb_exec(db, q.ptr, NULL, 0, err);
		pl_buf_dispose(&q);
	}
	if (rc == 0 && r->nrows > 0)
		rc = pl_catdb_exec(db, "DELETE FROM ducklake_inlined_data_tables WHERE table_id = ? AND schema_version = ?", p,
				   2, err);
	pl_rows_free(r);
	return rc;
}

/* ---- commit ---------------------------------------------------------------------------------- */

/* The inlined-data table the rows go into: the table's latest one if it was made for its current
 * columns (no schema version of the table after it), else a new one at a new schema version. */
static int inlined_table(pl_catdb *db, pl_inlined_insert *ins, pl_commit_state *st, char **name, pl_err *err)
{
	/* Kept per schema version of the catalog: every change of a table's inlined-data tables
	 * (one made for new columns, one dropped by ALTER) comes with a new schema version, and
	 * only superseded ones are dropped without. Not within a commit that changed the schema. */
	bool keep = st->schema_version == st->latest_schema_version && !st->ddl;
	for (size_t i = 0; keep && i < PL_CATDB_INLINED_KEPT; i++)
		if (db->inlined[i].name && db->inlined[i].table_id == ins->table_id &&
		    db->inlined[i].schema_version == st->schema_version)
			return (*name = pl_strdup(db->inlined[i].name)) ? 0 : pl_err_nomem(err);
	pl_rows *r = NULL;
	pl_val p[] = {PL_VINT(ins->table_id), PL_VINT(ins->table_id)};
	int rc = pl_catdb_query(db,
				"SELECT table_name FROM ducklake_inlined_data_tables WHERE table_id = ? AND schema_version >= "
				"coalesce((SELECT max(schema_version) FROM ducklake_schema_versions WHERE table_id = ?), 0) "
				"ORDER BY schema_version DESC LIMIT 1",
				p, 2, &r, err);
	if (rc)
		return rc;
	if (r->nrows > 0 && pl_rows_get(r, 0, 0)) {
		*name = pl_strdup(pl_rows_get(r, 0, 0));
		pl_rows_free(r);
		if (!*name)
			return pl_err_nomem(err);
		char *kept = keep ? pl_strdup(*name) : NULL;
		if (kept) {
			size_t slot = db->inlined_next++ % PL_CATDB_INLINED_KEPT;
			free(db->inlined[slot].name);
			db->inlined[slot].table_id = ins->table_id;
			db->inlined[slot].schema_version = st->schema_version;
			db->inlined[slot].name = kept;
		}
		return 0;
	}
	pl_rows_free(r);
	st->schema_version++;
	return create_inlined_table(db, ins->table_id, st->schema_version, ins->columns_ddl, name, err);
}

static int write_rows(pl_catdb *db, pl_inlined_insert *ins, const char *table, int64_t row_id, int64_t snap,
		      pl_err *err)
{
	pl_buf head = PL_BUF_INIT, row = PL_BUF_INIT;
	pl_buf_puts(&head, "INSERT INTO ");
	pl_buf_put_ident(&head, table);
	pl_buf_puts(&head, " VALUES ");
	pl_buf_puts(&row, "(?, ?, NULL");
	for (size_t c = 0; c < ins->ncols; c++)
		pl_buf_puts(&row, ", ?");
	pl_buf_putc(&row, ')');
	size_t np = ins->ncols + 2;
	pl_val *vals = calloc(np, sizeof(*vals));
	int rc = !vals || pl_buf_oom(&head) || pl_buf_oom(&row) ? pl_err_nomem(err) : 0;
	pl_batch b;
	pl_batch_init(&b, db, pl_buf_cstr(&head), pl_buf_cstr(&row), np);
	for (size_t r = 0; rc == 0 && r < ins->nrows; r++) {
		vals[0] = PL_VINT(ins->row_ids ? ins->row_ids[r] : row_id + (int64_t)r);
		vals[1] = PL_VINT(snap);
		for (size_t c = 0; c < ins->ncols; c++)
			vals[2 + c] = PL_VTEXT(ins->cells[r * ins->ncols + c]);
		rc = pl_batch_add(&b, vals, err);
	}
	if (rc == 0)
		rc = pl_batch_flush(&b, err);
	pl_batch_dispose(&b);
	free(vals);
	pl_buf_dispose(&head);
	pl_buf_dispose(&row);
	return rc;
}

static bool txn_has_files_for(const pl_txn *t, int64_t table_id)
{
	for (size_t i = 0; i < t->nfiles; i++)
		if (t->files[i].table_ref == table_id ||
		    (t->files[i].table_ref < 0 && t->tables[-t->files[i].table_ref - 1].assigned_id == table_id))
			return true;
	return false;
}

static int write_insert(pl_catdb *db, pl_txn *t, pl_inlined_insert *ins, pl_commit_state *st, pl_err *err)
{
	/* -(k + 1): the table t->tables[k] creates (CREATE TABLE AS), which has its id by now */
	if (ins->table_id < 0 && (size_t)-ins->table_id <= t->ntables)
		ins->table_id = t->tables[-ins->table_id - 1].assigned_id;
	char *table = NULL;
	int64_t row_id = 0;
	pl_column_stats *stats = calloc(ins->ncols ? ins->ncols : 1, sizeof(*stats));
	int rc = stats ? 0 : pl_err_nomem(err);
	if (rc == 0 && is_kind(db, "postgres") && !ins->catalog_form) {
		rc = to_bytea(ins, err);
		ins->catalog_form = rc == 0;
	}
	for (size_t c = 0; rc == 0 && c < ins->ncols; c++)
		column_stats(ins, c, &stats[c]);
	if (rc == 0)
		rc = inlined_table(db, ins, st, &table, err);
	/* statistics first: they read the row ids the rows take (blob bounds are not kept) */
	for (size_t c = 0; rc == 0 && is_kind(db, "postgres") && c < ins->ncols; c++)
		if (pg_type(ins->types[c]) && strcmp(pg_type(ins->types[c]), "BYTEA") == 0)
			stats[c].min = stats[c].max = NULL;
	if (rc == 0 && ins->row_ids)
		rc = pl_commit_add_table_versions(db, st, ins->table_id, stats, ins->ncols, (int64_t)ins->nrows, err);
	else if (rc == 0)
		rc = pl_commit_add_table_rows(db, st, ins->table_id, stats, ins->ncols, (int64_t)ins->nrows, &row_id, err);
	if (rc == 0)
		rc = write_rows(db, ins, table, row_id, st->snapshot, err);
	if (rc == 0 && !txn_has_files_for(t, ins->table_id))
		st->next_file_id++; /* as DuckDB's extension marks a data change without files */
	pl_commit_note_change(st, "inlined_insert", ins->table_id);
	free(table);
	free(stats);
	return rc;
}

int pl_inline_write_inserts(pl_catdb *db, pl_txn *t, pl_commit_state *st, pl_err *err)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < t->ninlined_inserts; i++)
		if (t->inlined_inserts[i].nrows > 0)
			rc = write_insert(db, t, &t->inlined_inserts[i], st, err);
	return rc;
}

/* ---- flush ----------------------------------------------------------------------------------- */

static void delete_table_name(char out[64], int64_t table_id);

/* The snapshot since which table_id had the shape it had at schema version `version`: the begin of
 * its latest shape change at or before the version (ducklake_schema_versions), else of the table
 * itself, else (catalogs without either row) the first snapshot of the version. The first two
 * outlive expiry: the snapshots of an old version may be gone while its inlined rows are not. */
static const char version_snapshot_sql[] =
	"SELECT coalesce((SELECT max(begin_snapshot) FROM ducklake_schema_versions WHERE table_id = ? AND "
	"schema_version = (SELECT max(schema_version) FROM ducklake_schema_versions WHERE table_id = ? AND "
	"schema_version <= ?)), (SELECT min(begin_snapshot) FROM ducklake_table WHERE table_id = ?), (SELECT "
	"min(snapshot_id) FROM ducklake_snapshot WHERE schema_version >= ?))";

int pl_inline_version_snapshot(pl_catdb *db, int64_t table_id, int64_t version, int64_t *out, pl_err *err)
{
	pl_rows *r = NULL;
	pl_val p[] = {PL_VINT(table_id), PL_VINT(table_id), PL_VINT(version), PL_VINT(table_id), PL_VINT(version)};
	int rc = pl_catdb_query(db, version_snapshot_sql, p, 5, &r, err);
	if (rc == 0)
		*out = pl_rows_int(r, 0, 0, -1);
	pl_rows_free(r);
	return rc;
}

/* Drops table_id's inlined-data tables that a newer one superseded and that hold no row. */
static int drop_superseded(pl_catdb *db, int64_t table_id, pl_err *err)
{
	pl_rows *r = NULL;
	pl_val p[] = {PL_VINT(table_id), PL_VINT(table_id)};
	int rc = pl_catdb_query(db, "SELECT table_name, schema_version FROM ducklake_inlined_data_tables WHERE table_id = ? "
				    "AND schema_version < (SELECT max(schema_version) FROM ducklake_inlined_data_tables "
				    "WHERE table_id = ?)", p, 2, &r, err);
	for (size_t i = 0; rc == 0 && i < r->nrows; i++) {
		const char *name = pl_rows_get(r, i, 0);
		long long a = 0, b = 0;
		if (!name || sscanf(name, "ducklake_inlined_data_%lld_%lld", &a, &b) != 2)
			continue; /* only the spec's names are ever used as identifiers here */
		pl_buf q = PL_BUF_INIT;
		pl_rows *n = NULL;
		pl_buf_puts(&q, "SELECT count(*) FROM ");
		pl_buf_put_ident(&q, name);
		rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_catdb_query(db, q.ptr, NULL, 0, &n, err);
		bool empty = rc == 0 && pl_rows_int(n, 0, 0, 1) == 0;
		pl_rows_free(n);
		pl_buf_dispose(&q);
		if (rc || !empty)
			continue;
		pl_val d[] = {PL_VINT(table_id), PL_VINT(pl_rows_int(r, i, 1, -1))};
		rc = pl_catdb_exec(db, "DELETE FROM ducklake_inlined_data_tables WHERE table_id = ? AND schema_version = ?", d,
				   2, err);
		pl_buf_puts(&q, "DROP TABLE IF EXISTS ");
		pl_buf_put_ident(&q, name);
		if (rc == 0)
			rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_catdb_exec(db, q.ptr, NULL, 0, err);
		pl_buf_dispose(&q);
	}
	pl_rows_free(r);
	return rc;
}

int pl_inline_write_flushes(pl_catdb *db, pl_txn *t, pl_commit_state *st, pl_err *err)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < t->nflushes; i++) {
		pl_inlined_flush *f = &t->flushes[i];
		long long a = 0, b = 0;
		char deletes[64];
		delete_table_name(deletes, f->table_id);
		bool of_deletes = f->inlined_table && strcmp(f->inlined_table, deletes) == 0;
		if (!f->inlined_table ||
		    (!of_deletes && sscanf(f->inlined_table, "ducklake_inlined_data_%lld_%lld", &a, &b) != 2))
			return pl_err_set(err, PL_ERROR, "flush of an unknown inlined-data table");
		pl_buf q = PL_BUF_INIT;
		pl_buf_puts(&q, "DELETE FROM ");
		pl_buf_put_ident(&q, f->inlined_table);
		pl_buf_puts(&q, " WHERE begin_snapshot <= ?");
		pl_val p = PL_VINT(f->upto);
		rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_catdb_exec(db, q.ptr, &p, 1, err);
		pl_buf_dispose(&q);
		if (!of_deletes) /* (deletes flushed show as the delete files' deleted_from_table) */
			pl_commit_note_change(st, "inline_flush", f->table_id);
	}
	for (size_t i = 0; rc == 0 && i < t->nflushes; i++) {
		bool seen = false;
		for (size_t k = 0; k < i; k++)
			seen = seen || t->flushes[k].table_id == t->flushes[i].table_id;
		if (!seen)
			rc = drop_superseded(db, t->flushes[i].table_id, err);
	}
	return rc;
}

/* ---- deletes of data-file rows kept in the catalog --------------------------------------------- */

static void delete_table_name(char out[64], int64_t table_id)
{
	snprintf(out, 64, "ducklake_inlined_delete_%lld", (long long)table_id);
}

int pl_inline_file_deletes(pl_catdb *db, int64_t table_id, int64_t from, int64_t to, pl_rows **out, pl_err *err)
{
	char name[64];
	bool exists = false;
	*out = NULL;
	delete_table_name(name, table_id);
	int rc = db->ops->table_exists(db, name, &exists, err);
	if (rc || !exists)
		return rc;
	pl_buf q = PL_BUF_INIT;
	pl_buf_printf(&q, "SELECT file_id, row_id, begin_snapshot FROM %s WHERE begin_snapshot >= ? AND begin_snapshot <= ? "
			  "ORDER BY file_id, row_id", name);
	pl_val p[] = {PL_VINT(from), PL_VINT(to)};
	rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_catdb_query(db, q.ptr, p, 2, out, err);
	pl_buf_dispose(&q);
	return rc;
}

int pl_inline_write_file_deletes(pl_catdb *db, pl_txn *t, pl_commit_state *st, pl_err *err)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < t->nfile_deletes; i++) {
		pl_inlined_file_delete *d = &t->file_deletes[i];
		char name[64];
		delete_table_name(name, d->table_id);
		pl_buf q = PL_BUF_INIT, head = PL_BUF_INIT;
		bool exists = false; /* (asked first: PostgreSQL would print a notice for IF NOT EXISTS) */
		rc = db->ops->table_exists(db, name, &exists, err);
		pl_buf_printf(&q, "CREATE TABLE %s (file_id BIGINT, row_id BIGINT, begin_snapshot BIGINT)", name);
		if (rc == 0 && !exists)
			rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_catdb_exec(db, q.ptr, NULL, 0, err);
		pl_buf_printf(&head, "INSERT INTO %s VALUES ", name);
		pl_batch b;
		pl_batch_init(&b, db, pl_buf_cstr(&head), "(?, ?, ?)", 3);
		for (size_t k = 0; rc == 0 && k < d->n; k++) {
			pl_val v[] = {PL_VINT(d->data_file_id), PL_VINT(d->positions[k]), PL_VINT(st->snapshot)};
			rc = pl_batch_add(&b, v, err);
		}
		if (rc == 0)
			rc = pl_batch_flush(&b, err);
		pl_batch_dispose(&b);
		pl_buf_dispose(&q);
		pl_buf_dispose(&head);
		pl_commit_note_change(st, "inlined_delete", d->table_id);
	}
	return rc;
}

int pl_inline_check_file_deletes(pl_catdb *db, const pl_txn *t, int64_t base, int64_t own, pl_err *err)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < t->nfile_deletes; i++) {
		const pl_inlined_file_delete *d = &t->file_deletes[i];
		pl_rows *r = NULL;
		rc = pl_inline_file_deletes(db, d->table_id, base + 1, own - 1, &r, err);
		for (size_t k = 0; rc == 0 && r && k < r->nrows; k++)
			if (pl_rows_int(r, k, 0, -1) == d->data_file_id)
				rc = pl_err_set(err, PL_ECONFLICT,
						"conflict: a concurrent commit deleted rows of the same data file (data file "
						"%lld); retry the statement",
						(long long)d->data_file_id);
		pl_rows_free(r);
	}
	return rc;
}
