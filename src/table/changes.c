/*
 * changes.c -- building the change-feed SQL (see changes.h) from the catalog's file history:
 * data files added in the range are insertions; positions that a delete file added in the range
 * (beyond those of the delete file it replaced, or tagged with their snapshot in a delete file
 * rewritten across snapshots), and rows of data files that ended in the range, are deletions.
 * Rows are read with their positions and row ids from the very data files.
 */
#include "table/changes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/inline.h"
#include "catalog/reads.h"
#include "core/objhooks.h"
#include "core/str.h"
#include "table/scan.h"


typedef struct hist_file {
	int64_t id, begin, end, row_id_start; /* end -1: live */
	char *path;                           /* resolved */
	int64_t mapping;                      /* name map of a registered file, -1 */
	int64_t partial_max;                  /* rows carry their snapshots (flushed or merged), -1 */
} hist_file;

typedef struct hist_delete {
	int64_t id, data_file_id, begin, end, partial_max;
	char *path, *format;
} hist_delete;

typedef struct history {
	hist_file *files;
	size_t nfiles;
	hist_delete *dels;
	size_t ndels;
} history;

static void history_free(history *h)
{
	for (size_t i = 0; i < h->nfiles; i++)
		free(h->files[i].path);
	for (size_t i = 0; i < h->ndels; i++) {
		free(h->dels[i].path);
		free(h->dels[i].format);
	}
	free(h->files);
	free(h->dels);
}

static char *resolve(const pl_table *t, const char *path, bool relative)
{
	return pl_objhook_file_path(t->dir, path, relative); /* s3://: its path in the read cache */
}

static int load_history(pl_catdb *cat, const pl_table *t, history *h, pl_err *err)
{
	pl_rows *r = NULL;
	int rc = pl_catalog_data_file_history(cat, t->id, &r, err);
	if (rc)
		return rc;
	h->files = calloc(r->nrows + 1, sizeof(*h->files));
	bool oom = !h->files;
	for (size_t i = 0; !oom && i < r->nrows; i++) {
		hist_file *f = &h->files[h->nfiles++];
		*f = (hist_file){pl_rows_int(r, i, 0, 0), pl_rows_int(r, i, 1, 0), pl_rows_int(r, i, 2, -1),
				 pl_rows_int(r, i, 3, 0), resolve(t, pl_rows_get(r, i, 4), pl_rows_bool(r, i, 5, true)),
				 pl_rows_int(r, i, 6, -1), pl_rows_int(r, i, 7, -1)};
		oom = !f->path;
	}
	pl_rows_free(r);
	if (oom)
		return pl_err_nomem(err);
	rc = pl_catalog_delete_file_history(cat, t->id, &r, err);
	if (rc)
		return rc;
	h->dels = calloc(r->nrows + 1, sizeof(*h->dels));
	oom = !h->dels;
	for (size_t i = 0; !oom && i < r->nrows; i++) {
		hist_delete *d = &h->dels[h->ndels++];
		const char *fmt = pl_rows_get(r, i, 7);
		*d = (hist_delete){pl_rows_int(r, i, 0, 0), pl_rows_int(r, i, 1, 0), pl_rows_int(r, i, 2, 0),
				   pl_rows_int(r, i, 3, -1), pl_rows_int(r, i, 4, -1),
				   resolve(t, pl_rows_get(r, i, 5), pl_rows_bool(r, i, 6, true)), pl_strdup(fmt ? fmt : "parquet")};
		oom = !d->path || !d->format;
	}
	pl_rows_free(r);
	return oom ? pl_err_nomem(err) : 0;
}

static const hist_file *file_by_id(const history *h, int64_t id)
{
	for (size_t i = 0; i < h->nfiles; i++)
		if (h->files[i].id == id)
			return &h->files[i];
	return NULL;
}

/* The delete file of data file `id` live at snapshot s, if any. */
static const hist_delete *delete_at(const history *h, int64_t id, int64_t s)
{
	for (size_t i = 0; i < h->ndels; i++) {
		const hist_delete *d = &h->dels[i];
		if (d->data_file_id == id && d->begin <= s && (d->end < 0 || s < d->end))
			return d;
	}
	return NULL;
}

/* SELECT pos FROM <delete file> [restricted to snapshots <= s] */
static void put_delete_positions(pl_buf *out, const hist_delete *d, int64_t upto)
{
	if (strcmp(d->format, "puffin") == 0) {
		pl_buf_puts(out, "SELECT pos FROM __planar_dv(");
		pl_buf_put_literal(out, d->path);
		pl_buf_putc(out, ')');
		return;
	}
	pl_buf_puts(out, "SELECT pos FROM read_parquet(");
	pl_buf_put_literal(out, d->path);
	pl_buf_putc(out, ')');
	if (d->partial_max >= 0)
		pl_buf_printf(out, " WHERE _ducklake_internal_snapshot_id <= %lld", (long long)upto);
}

static void put_column_list(pl_buf *out, const pl_table *t, const char *alias)
{
	for (size_t i = 0; i < t->ntop; i++) {
		pl_buf_printf(out, ", %s.", alias);
		pl_buf_put_ident(out, t->top[i]->name);
	}
}

/* (SELECT cols, file_row_number AS pos, rowid FROM one data file) */
static int put_file_rows(pl_buf *out, const pl_model *hist_model, const pl_table *t, const hist_file *f, pl_err *err)
{
	if (f->mapping >= 0) {
		/* a registered file: columns by its name map, row ids from its start */
		pl_buf_puts(out, "(SELECT d.*, CAST(NULL AS BIGINT) AS _ducklake_internal_row_id, CAST(NULL AS BIGINT) AS "
				 "_ducklake_internal_snapshot_id, d.file_row_number, d.file_row_number AS __pos, ");
		pl_buf_printf(out, "%lld + d.file_row_number AS __rowid FROM read_parquet(", (long long)f->row_id_start);
		pl_buf_put_literal(out, f->path);
		int rc = hist_model ? pl_scan_put_name_map(out, hist_model, t, f->mapping, err)
				    : pl_err_set(err, PL_ERROR, "no name maps to read a registered file with");
		pl_buf_puts(out, ", hive_partitioning = false) AS d)");
		return rc;
	}
	pl_buf_puts(out, "(SELECT d.*, d.file_row_number AS __pos, coalesce(d._ducklake_internal_row_id, ");
	pl_buf_printf(out, "%lld + d.file_row_number) AS __rowid FROM read_parquet(", (long long)f->row_id_start);
	pl_buf_put_literal(out, f->path);
	int rc = pl_scan_put_lineage_schema(out, t, err);
	pl_buf_puts(out, ", file_row_number = true, hive_partitioning = false) AS d)");
	return rc;
}

typedef struct emitter {
	pl_buf *out;
	size_t n;
	const pl_model *model; /* name maps of registered files */
} emitter;

static void sep(emitter *e)
{
	if (e->n++)
		pl_buf_puts(e->out, " UNION ALL ");
}

/* Rows of data files added in [from, to], minus rows deleted in the same snapshot. */
static int put_insertions(emitter *e, const pl_table *t, const history *h, int64_t from, int64_t to, pl_err *err)
{
	for (size_t i = 0; i < h->nfiles; i++) {
		const hist_file *f = &h->files[i];
		if (f->partial_max > 0 && f->mapping < 0) {
			/* a flushed or merged file: each row was inserted at its own snapshot */
			if (f->partial_max < from || f->begin > to)
				continue;
			sep(e);
			pl_buf_printf(e->out, "SELECT coalesce(r._ducklake_internal_snapshot_id, %lld) AS snapshot_id, "
					      "r.__rowid AS rowid", (long long)f->begin);
			put_column_list(e->out, t, "r");
			pl_buf_puts(e->out, " FROM ");
			int rc = put_file_rows(e->out, e->model, t, f, err);
			if (rc)
				return rc;
			pl_buf_printf(e->out, " AS r WHERE coalesce(r._ducklake_internal_snapshot_id, %lld) BETWEEN %lld AND %lld",
				      (long long)f->begin, (long long)from, (long long)to);
			continue;
		}
		if (f->begin < from || f->begin > to)
			continue;
		sep(e);
		pl_buf_printf(e->out, "SELECT %lld AS snapshot_id, r.__rowid AS rowid", (long long)f->begin);
		put_column_list(e->out, t, "r");
		pl_buf_puts(e->out, " FROM ");
		int rc = put_file_rows(e->out, e->model, t, f, err);
		if (rc)
			return rc;
		pl_buf_puts(e->out, " AS r");
		const hist_delete *d = delete_at(h, f->id, f->begin);
		if (d) {
			pl_buf_puts(e->out, " WHERE r.__pos NOT IN (");
			put_delete_positions(e->out, d, f->begin);
			pl_buf_putc(e->out, ')');
		}
	}
	return 0;
}

/* Deleted rows: positions of `positions_sql` read from data file f, at snapshot s. */
static int put_deleted(emitter *e, const pl_table *t, const hist_file *f, const char *snapshot_expr,
		       pl_buf *positions, pl_err *err)
{
	sep(e);
	pl_buf_printf(e->out, "SELECT %s AS snapshot_id, r.__rowid AS rowid", snapshot_expr);
	put_column_list(e->out, t, "r");
	pl_buf_puts(e->out, " FROM ");
	int rc = put_file_rows(e->out, e->model, t, f, err);
	pl_buf_puts(e->out, " AS r JOIN (");
	pl_buf_puts(e->out, pl_buf_cstr(positions));
	pl_buf_puts(e->out, ") AS x ON r.__pos = x.pos");
	return rc;
}

static int put_deletions(emitter *e, const pl_table *t, const history *h, int64_t from, int64_t to, pl_err *err)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < h->ndels; i++) {
		const hist_delete *d = &h->dels[i];
		const hist_file *f = file_by_id(h, d->data_file_id);
		pl_buf pos = PL_BUF_INIT;
		char snap[64];
		if (!f)
			continue;
		/* a delete file of a flushed data file may carry the tags without partial_max */
		bool maybe_tagged = d->partial_max < 0 && f->partial_max > 0;
		if ((d->partial_max >= 0 || maybe_tagged) && strcmp(d->format, "parquet") == 0) {
			/* one file for several snapshots: each position carries its snapshot */
			if ((d->partial_max >= 0 && d->partial_max < from) || d->begin > to)
				continue;
			pl_buf_printf(&pos, "SELECT pos, coalesce(_ducklake_internal_snapshot_id, %lld) AS s FROM read_parquet(",
				      (long long)d->begin);
			pl_buf_put_literal(&pos, d->path);
			pl_buf_puts(&pos, ", schema = MAP {2147483645: {name: 'pos', type: 'BIGINT', default_value: NULL}, "
					  "2147483539: {name: '_ducklake_internal_snapshot_id', type: 'BIGINT', default_value: NULL}})");
			pl_buf_printf(&pos, " WHERE (_ducklake_internal_snapshot_id BETWEEN %lld AND %lld)", (long long)from,
				      (long long)to);
			if (maybe_tagged && d->begin >= from && d->begin <= to && d->begin != f->begin) {
				/* untagged after all: what it adds to the delete file it replaced */
				pl_buf_puts(&pos, " OR (_ducklake_internal_snapshot_id IS NULL");
				const hist_delete *prev = delete_at(h, f->id, d->begin - 1);
				if (prev) {
					pl_buf_puts(&pos, " AND pos NOT IN (SELECT pos FROM (");
					put_delete_positions(&pos, prev, d->begin - 1);
					pl_buf_puts(&pos, "))");
				}
				pl_buf_putc(&pos, ')');
			}
			snprintf(snap, sizeof(snap), "x.s");
		} else {
			if (d->begin < from || d->begin > to || d->begin == f->begin)
				continue;
			pl_buf_puts(&pos, "SELECT pos FROM (");
			put_delete_positions(&pos, d, d->begin);
			pl_buf_putc(&pos, ')');
			const hist_delete *prev = delete_at(h, f->id, d->begin - 1);
			if (prev) {
				pl_buf_puts(&pos, " EXCEPT SELECT pos FROM (");
				put_delete_positions(&pos, prev, d->begin - 1);
				pl_buf_putc(&pos, ')');
			}
			snprintf(snap, sizeof(snap), "%lld", (long long)d->begin);
		}
		rc = pl_buf_oom(&pos) ? pl_err_nomem(err) : put_deleted(e, t, f, snap, &pos, err);
		pl_buf_dispose(&pos);
	}
	/* data files ended in the range: every row still alive just before */
	for (size_t i = 0; rc == 0 && i < h->nfiles; i++) {
		const hist_file *f = &h->files[i];
		if (f->end < from || f->end > to || f->end < 0)
			continue;
		pl_buf pos = PL_BUF_INIT;
		char snap[32];
		pl_buf_puts(&pos, "SELECT file_row_number AS pos FROM read_parquet(");
		pl_buf_put_literal(&pos, f->path);
		pl_buf_puts(&pos, ", file_row_number = true)");
		const hist_delete *prev = delete_at(h, f->id, f->end - 1);
		if (prev) {
			pl_buf_puts(&pos, " EXCEPT SELECT pos FROM (");
			put_delete_positions(&pos, prev, f->end - 1);
			pl_buf_putc(&pos, ')');
		}
		snprintf(snap, sizeof(snap), "%lld", (long long)f->end);
		rc = pl_buf_oom(&pos) ? pl_err_nomem(err) : put_deleted(e, t, f, snap, &pos, err);
		pl_buf_dispose(&pos);
	}
	return rc;
}

/* Rows of data files deleted in the catalog (ducklake_inlined_delete_<table>) in [from, to]. */
static int put_catalog_deletions(emitter *e, pl_catdb *cat, const pl_table *t, const history *h, int64_t from,
				 int64_t to, pl_err *err)
{
	pl_rows *r = NULL;
	int rc = pl_inline_file_deletes(cat, t->id, from, to, &r, err);
	for (size_t i = 0, j; rc == 0 && r && i < r->nrows; i = j) {
		int64_t id = pl_rows_int(r, i, 0, -1);
		for (j = i + 1; j < r->nrows && pl_rows_int(r, j, 0, -1) == id; j++)
			;
		const hist_file *f = file_by_id(h, id);
		if (!f)
			continue;
		pl_buf pos = PL_BUF_INIT;
		pl_buf_puts(&pos, "SELECT * FROM (VALUES ");
		for (size_t k = i; k < j; k++)
			pl_buf_printf(&pos, "%s(CAST(%lld AS BIGINT), CAST(%lld AS BIGINT))", k > i ? ", " : "",
				      (long long)pl_rows_int(r, k, 1, -1), (long long)pl_rows_int(r, k, 2, -1));
		pl_buf_puts(&pos, ") AS v(pos, s)");
		rc = pl_buf_oom(&pos) ? pl_err_nomem(err) : put_deleted(e, t, f, "x.s", &pos, err);
		pl_buf_dispose(&pos);
	}
	pl_rows_free(r);
	return rc;
}

/* Inlined rows that began (or, for deletions, ended) in [from, to]: read from the catalog as text
 * with their row ids and snapshots, and cast back. */
static int put_inlined_changes(emitter *e, const char *lake, const pl_table *t, int64_t from, int64_t to,
			       bool deletions, pl_err *err)
{
	const char *snap = deletions ? "end_snapshot" : "begin_snapshot";
	for (size_t k = 0; k < t->ninlined; k++) {
		sep(e);
		pl_buf_printf(e->out, "SELECT CAST(%s AS BIGINT) AS snapshot_id, CAST(row_id AS BIGINT) AS rowid", snap);
		pl_buf cols = PL_BUF_INIT;
		pl_table *old = NULL;
		int rc = pl_scan_inlined_version(e->model, t, &t->inlined[k], &old, err);
		for (size_t i = 0; rc == 0 && i < t->ntop; i++) {
			const pl_column *c = t->top[i];
			pl_buf_puts(e->out, ", ");
			rc = pl_scan_put_inlined_value(e->out, old, c, err);
			pl_buf_puts(e->out, " AS ");
			pl_buf_put_ident(e->out, c->name);
			if (i)
				pl_buf_putc(&cols, '\x1f');
			pl_scan_inlined_column(&cols, c);
		}
		pl_model_columns_free(old);
		if (rc) {
			pl_buf_dispose(&cols);
			return rc;
		}
		pl_buf_puts(e->out, " FROM __planar_inlined(");
		pl_buf_put_literal(e->out, lake);
		pl_buf_puts(e->out, ", ");
		pl_buf_put_literal(e->out, t->inlined[k].name);
		pl_buf_printf(e->out, ", '%lld', ", (long long)to);
		pl_buf_put_literal(e->out, pl_buf_cstr(&cols));
		pl_buf_printf(e->out, ", '2') WHERE %s IS NOT NULL AND CAST(%s AS BIGINT) BETWEEN %lld AND %lld", snap, snap,
			      (long long)from, (long long)to);
		if (pl_buf_oom(&cols))
			e->out->oom = true;
		pl_buf_dispose(&cols);
	}
	return 0;
}

static void put_empty(pl_buf *out, const pl_table *t, pl_err *err)
{
	pl_buf_puts(out, "SELECT CAST(NULL AS BIGINT) AS snapshot_id, CAST(NULL AS BIGINT) AS rowid");
	for (size_t i = 0; i < t->ntop; i++) {
		pl_buf_puts(out, ", CAST(NULL AS ");
		pl_column_duckdb_type(out, t->top[i], err);
		pl_buf_puts(out, ") AS ");
		pl_buf_put_ident(out, t->top[i]->name);
	}
	pl_buf_puts(out, " WHERE false");
}

/* The changes: snapshot_id, rowid, change_type and the table's columns; the insertions or the
 * deletions: the table's columns, then rowid and snapshot_id (the statement's stars leave those
 * out, see sql/changefeed.c; last, so that column aliases of the call name the table's columns). */
static void put_final(pl_buf *out, const pl_table *t, pl_change_kind kind)
{
	bool all = kind == PL_CHANGES_ALL;
	pl_buf_puts(out, all ? ") SELECT snapshot_id, rowid, change_type" : ") SELECT ");
	for (size_t i = 0; i < t->ntop; i++) {
		pl_buf_puts(out, all || i ? ", " : "");
		pl_buf_put_ident(out, t->top[i]->name);
	}
	if (!all)
		pl_buf_puts(out, t->ntop ? ", rowid, snapshot_id" : "rowid, snapshot_id");
	pl_buf_puts(out, " FROM (SELECT i.*, CASE WHEN EXISTS (SELECT 1 FROM __del d WHERE d.snapshot_id = i.snapshot_id "
			 "AND d.rowid = i.rowid) THEN 'update_postimage' ELSE 'insert' END AS change_type FROM __ins i");
	if (kind != PL_CHANGES_DELETIONS)
		pl_buf_puts(out, " UNION ALL BY NAME ");
	else
		pl_buf_puts(out, " WHERE false UNION ALL BY NAME ");
	pl_buf_puts(out, "SELECT d.*, CASE WHEN EXISTS (SELECT 1 FROM __ins i WHERE i.snapshot_id = d.snapshot_id "
			 "AND i.rowid = d.rowid) THEN 'update_preimage' ELSE 'delete' END AS change_type FROM __del d");
	if (kind == PL_CHANGES_INSERTIONS)
		pl_buf_puts(out, " WHERE false");
	pl_buf_puts(out, ")");
}

int pl_changes_sql(pl_buf *out, pl_catdb *cat, const char *lake_name, const pl_model *m, const pl_table *t,
		   int64_t from, int64_t to, pl_change_kind kind, pl_err *err)
{
	history h = {0};
	int rc = load_history(cat, t, &h, err);
	pl_buf_puts(out, "WITH __ins AS (");
	emitter e = {out, 0, m};
	if (rc == 0)
		rc = put_insertions(&e, t, &h, from, to, err);
	if (rc == 0)
		rc = put_inlined_changes(&e, lake_name, t, from, to, false, err);
	if (rc == 0 && e.n == 0)
		put_empty(out, t, err);
	pl_buf_puts(out, "), __del AS (");
	e.n = 0;
	if (rc == 0)
		rc = put_deletions(&e, t, &h, from, to, err);
	if (rc == 0)
		rc = put_catalog_deletions(&e, cat, t, &h, from, to, err);
	if (rc == 0)
		rc = put_inlined_changes(&e, lake_name, t, from, to, true, err);
	if (rc == 0 && e.n == 0)
		put_empty(out, t, err);
	put_final(out, t, kind);
	history_free(&h);
	if (rc == 0 && pl_buf_oom(out))
		rc = pl_err_nomem(err);
	return rc;
}

static int bound_snapshot(pl_catdb *cat, const pl_changes_bound *b, bool upper, int64_t *out, pl_err *err)
{
	if (!b->is_time) {
		*out = strtoll(b->text, NULL, 10);
		return 0;
	}
	/* the first snapshot at or after a start time; the last at or before an end time */
	int rc = pl_catalog_snapshot_at_time(cat, b->text, upper, out, err);
	if (rc == 0 && *out < 0 && !upper)
		*out = INT64_MAX;
	return rc;
}

int pl_changes_view(const pl_table_ctx *ctx, const char *data_path, const char *schema, const char *table,
		    const pl_changes_bound *start, const pl_changes_bound *end, pl_change_kind kind, const char *view,
		    pl_err *err)
{
	int64_t from = 0, to = 0;
	int rc = bound_snapshot(ctx->cat, start, false, &from, err);
	if (rc == 0)
		rc = bound_snapshot(ctx->cat, end, true, &to, err);
	pl_model *m = NULL;
	if (rc == 0) {
		int64_t latest = 0;
		rc = pl_catalog_latest_snapshot(ctx->cat, &latest, err);
		if (rc == 0 && (to > latest || to < 0))
			rc = pl_err_set(err, PL_ENOTFOUND, "No snapshot found at version %lld (the latest is %lld)", (long long)to,
					(long long)latest);
		if (rc == 0)
			rc = pl_model_load(&m, ctx->cat, to, data_path, err);
	}
	const pl_schema *s = rc ? NULL : pl_model_schema(m, schema);
	const pl_table *tab = s ? pl_model_table(m, s->id, table) : NULL;
	if (rc == 0 && !tab && s && pl_model_view(m, s->id, table))
		rc = pl_err_set(err, PL_EINVALID,
				"Invalid Input Error: \"%s\" is a View, not a table. Data change feed functions only support tables.",
				table);
	if (rc == 0 && !tab)
		rc = pl_err_set(err, PL_ENOTFOUND, "Catalog Error: table \"%s\" does not exist at version %lld", table,
				(long long)to);
	pl_buf q = PL_BUF_INIT;
	pl_buf_puts(&q, "CREATE OR REPLACE TEMP VIEW ");
	pl_buf_put_ident(&q, view);
	pl_buf_puts(&q, " AS ");
	if (rc == 0)
		rc = pl_changes_sql(&q, ctx->cat, ctx->lake, m, tab, from, to, kind, err);
	if (rc == 0)
		rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_exec(ctx->con, q.ptr, err);
	pl_buf_dispose(&q);
	pl_model_free(m);
	return rc;
}
