/*
 * scan_deletes.c -- the deleted rows of a table's data files in scan text: a file's deleted
 * positions as SQL (its delete file or deletion vector, deletes kept in the catalog, rows of a
 * flushed file not there yet at the snapshot), by file index for an anti-join, and as a map of
 * bitsets for __planar_kept (see scan.h, scan_internal.h).
 */
#include "table/scan_internal.h"

#include <stdlib.h>
#include <string.h>

static void put_own_deletes(pl_buf *out, const pl_model *m, const pl_data_file *f);

bool pl_scan_file_hides_rows(const pl_model *m, const pl_data_file *f)
{
	return f->delete_path || f->ninlined_deletes || (f->partial_max >= 0 && f->partial_max > m->snapshot_id);
}

/* Positions deleted through the catalog (ducklake_inlined_delete_<table>), as a list. */
static void put_inlined_positions(pl_buf *out, const pl_data_file *f)
{
	pl_buf_puts(out, "SELECT unnest(CAST([");
	for (size_t i = 0; i < f->ninlined_deletes; i++)
		pl_buf_printf(out, "%s%lld", i ? "," : "", (long long)f->inlined_deletes[i]);
	pl_buf_puts(out, "] AS BIGINT[])) AS pos");
}

/* Rows of a flushed file that began after the model's snapshot: not there yet at it. */
static void put_later_rows(pl_buf *out, const pl_model *m, const pl_data_file *f)
{
	pl_buf_puts(out, "SELECT file_row_number AS pos FROM read_parquet(");
	pl_buf_put_literal(out, f->path);
	pl_buf_printf(out, ", file_row_number = true) WHERE _ducklake_internal_snapshot_id > %lld",
		      (long long)m->snapshot_id);
}

void pl_scan_put_file_deletes(pl_buf *out, const pl_model *m, const pl_data_file *f)
{
	bool later = f->partial_max >= 0 && f->partial_max > m->snapshot_id;
	int parts = later + (f->ninlined_deletes > 0) + (f->delete_path != NULL);
	if (parts == 0) { /* nothing: an empty set */
		pl_buf_puts(out, "SELECT CAST(NULL AS BIGINT) AS pos WHERE false");
		return;
	}
	if (parts == 1 && !f->delete_path) {
		if (later)
			put_later_rows(out, m, f);
		else
			put_inlined_positions(out, f);
		return;
	}
	if (parts == 1) {
		put_own_deletes(out, m, f);
		return;
	}
	int k = 0;
	pl_buf_puts(out, "SELECT pos FROM (");
	if (later) {
		put_later_rows(out, m, f);
		k++;
	}
	if (f->ninlined_deletes) {
		pl_buf_puts(out, k++ ? ") UNION ALL SELECT pos FROM (" : "");
		put_inlined_positions(out, f);
	}
	if (f->delete_path) {
		pl_buf_puts(out, k++ ? ") UNION ALL SELECT pos FROM (" : "");
		put_own_deletes(out, m, f);
	}
	pl_buf_putc(out, ')');
}

static void put_own_deletes(pl_buf *out, const pl_model *m, const pl_data_file *f)
{
	if (strcmp(f->delete_format, "puffin") == 0) {
		pl_buf_puts(out, "SELECT pos FROM __planar_dv(");
		pl_buf_put_literal(out, f->delete_path);
		pl_buf_putc(out, ')');
		return;
	}
	pl_buf_puts(out, "SELECT pos FROM read_parquet(");
	pl_buf_put_literal(out, f->delete_path);
	/* A delete file of a flushed data file may tag its positions with their snapshots without
	 * saying so (DuckDB's extension leaves its partial_max NULL): read the tag by field id, NULL
	 * when the file has none. */
	bool maybe_tagged = f->delete_partial_max < 0 && f->partial_max > 0;
	if (maybe_tagged)
		pl_buf_puts(out, ", schema = MAP {2147483645: {name: 'pos', type: 'BIGINT', default_value: NULL}, "
				 "2147483539: {name: '_ducklake_internal_snapshot_id', type: 'BIGINT', default_value: NULL}}");
	pl_buf_putc(out, ')');
	/* A delete file rewritten across snapshots tags each position with its snapshot. */
	if (f->delete_partial_max >= 0 && f->delete_partial_max > m->snapshot_id)
		pl_buf_printf(out, " WHERE _ducklake_internal_snapshot_id <= %lld", (long long)m->snapshot_id);
	else if (maybe_tagged)
		pl_buf_printf(out, " WHERE coalesce(_ducklake_internal_snapshot_id, 0) <= %lld", (long long)m->snapshot_id);
}

/* SELECT <k> AS i, pos FROM (<its deletes>) UNION ALL ...: deleted positions by file_index. */
void pl_scan_put_deleted_by_index(pl_buf *out, const pl_model *m, const pl_table *t, file_group g,
				  bool (*member)(const pl_table *, const pl_data_file *, file_group))
{
	bool first = true;
	size_t k = 0;
	for (size_t i = 0; i < t->nfiles; i++) {
		const pl_data_file *f = &t->files[i];
		if (!member(t, f, g))
			continue;
		if (pl_scan_file_hides_rows(m, f)) {
			pl_buf_puts(out, first ? "SELECT " : " UNION ALL SELECT ");
			first = false;
			pl_buf_printf(out, "CAST(%zu AS UBIGINT) AS i, pos FROM (", k);
			pl_scan_put_file_deletes(out, m, f);
			pl_buf_putc(out, ')');
		}
		k++;
	}
}

bool pl_scan_has_deletes(const pl_table *t)
{
	for (size_t i = 0; i < t->nfiles; i++)
		if (t->files[i].delete_path || t->files[i].partial_max > 0 || t->files[i].ninlined_deletes)
			return true;
	return false;
}

int pl_scan_prepare_map(pl_delcache *c, duckdb_connection con, const pl_model *m, const pl_table *t,
		       bool (*member)(const pl_table *, const pl_data_file *, file_group), file_group g, int64_t *map,
		       pl_err *err)
{
	*map = -1;
	const pl_delset **sets = malloc((t->nfiles ? t->nfiles : 1) * sizeof(*sets));
	if (!sets)
		return pl_err_nomem(err);
	int rc = 0;
	size_t n = 0;
	bool any = false;
	for (size_t i = 0; rc == 0 && i < t->nfiles; i++) {
		const pl_data_file *f = &t->files[i];
		if (!member(t, f, g))
			continue;
		sets[n] = NULL;
		if (pl_scan_file_hides_rows(m, f)) {
			rc = pl_delcache_load(c, con, m, f, &sets[n], err);
			any = true;
		}
		n++;
	}
	/* (a view may filter a group whose deletes are known only as the table's, e.g. those kept in
	 * the catalog: an empty map then) */
	if (rc == 0 && (any || n > 0))
		rc = pl_delcache_map(c, sets, n, map, err);
	free(sets);
	return rc;
}
