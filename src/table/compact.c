/*
 * compact.c -- planning and writing compactions (see compact.h): which runs of files to merge or
 * rewrite, as DuckLake picks them, the SQL that reads them (with each row's snapshot and row
 * id), and the commit of all of them as one snapshot.
 */
#include "table/compact.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/compact.h"
#include "core/buf.h"
#include "core/objhooks.h"
#include "core/str.h"
#include "table/partition.h"
#include "table/scan.h"
#include "table/writer.h"


/* A live data file of the table being compacted. */
typedef struct cand {
	int64_t id, record_count, row_id_start, begin, mapping, partial_max, partition_id, size;
	int64_t schema_version, delete_rows, live_delete, live_delete_count;
	int64_t inlined_deletes; /* rows deleted through the catalog (ducklake_inlined_delete_<table>) */
	char *rel;         /* path as stored */
	bool relative;
	char *path;        /* resolved */
	char *group;       /* schema version, partitioning and partition values, as one key */
	pl_strv values;    /* partition values, in key order ("\x01" for NULL) */
} cand;

typedef struct cands {
	cand *items;
	size_t n;
} cands;

static void cands_free(cands *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->items[i].rel);
		free(c->items[i].path);
		free(c->items[i].group);
		pl_strv_dispose(&c->items[i].values);
	}
	free(c->items);
	c->items = NULL;
	c->n = 0;
}

#define NULL_VALUE "\x01"

static int load_cands(pl_catdb *cat, const pl_table *t, cands *out, pl_err *err)
{
	pl_rows *r = NULL, *pv = NULL;
	int rc = pl_compact_files(cat, t->id, &r, err);
	if (rc == 0)
		rc = pl_compact_partition_values(cat, t->id, &pv, err);
	if (rc == 0 && !(out->items = calloc(r->nrows + 1, sizeof(*out->items))))
		rc = pl_err_nomem(err);
	size_t k = 0;
	for (size_t i = 0; rc == 0 && i < r->nrows; i++) {
		cand *c = &out->items[out->n++];
		c->id = pl_rows_int(r, i, 0, -1);
		c->record_count = pl_rows_int(r, i, 1, 0);
		c->row_id_start = pl_rows_is_null(r, i, 2) ? -1 : pl_rows_int(r, i, 2, -1);
		c->begin = pl_rows_int(r, i, 3, 0);
		c->mapping = pl_rows_int(r, i, 4, -1);
		c->partial_max = pl_rows_int(r, i, 5, -1);
		c->partition_id = pl_rows_int(r, i, 6, -1);
		c->size = pl_rows_int(r, i, 7, 0);
		const char *p = pl_rows_get(r, i, 8);
		c->relative = pl_rows_bool(r, i, 9, true);
		c->schema_version = pl_rows_int(r, i, 10, -1);
		c->delete_rows = pl_rows_int(r, i, 11, 0);
		c->live_delete = pl_rows_int(r, i, 12, -1);
		c->live_delete_count = pl_rows_int(r, i, 13, 0);
		c->rel = pl_strdup(p ? p : "");
		c->path = pl_objhook_file_path(t->dir, p, c->relative); /* s3://: its path in the read cache */
		pl_buf g = PL_BUF_INIT;
		pl_buf_printf(&g, "%lld/%lld", (long long)c->schema_version, (long long)c->partition_id);
		while (k < pv->nrows && pl_rows_int(pv, k, 0, -1) < c->id)
			k++;
		for (; rc == 0 && k < pv->nrows && pl_rows_int(pv, k, 0, -1) == c->id; k++) {
			const char *v = pl_rows_get(pv, k, 2);
			pl_buf_printf(&g, "\x1f%s", v ? v : NULL_VALUE);
			rc = pl_strv_push(&c->values, v ? v : NULL_VALUE) ? pl_err_nomem(err) : 0;
		}
		c->group = pl_buf_detach(&g);
		if (rc == 0 && (!c->rel || !c->path || !c->group))
			rc = pl_err_nomem(err);
		/* the partition values were read in id order, the files are not: search again next time */
		k = 0;
	}
	pl_rows_free(r);
	pl_rows_free(pv);
	int64_t *ids = rc == 0 ? calloc(out->n + 1, sizeof(*ids)) : NULL;
	int64_t *counts = ids ? calloc(out->n + 1, sizeof(*counts)) : NULL;
	if (rc == 0 && !counts)
		rc = pl_err_nomem(err);
	for (size_t i = 0; rc == 0 && i < out->n; i++)
		ids[i] = out->items[i].id;
	if (rc == 0)
		rc = pl_compact_inlined_deletes(cat, t->id, ids, out->n, counts, err);
	for (size_t i = 0; rc == 0 && i < out->n; i++)
		out->items[i].inlined_deletes = counts[i];
	free(ids);
	free(counts);
	if (rc)
		cands_free(out);
	return rc;
}

/* A run of candidates (indexes into cands) to write as one file. */
typedef struct run {
	size_t *idx;
	size_t n;
} run;

typedef struct plan {
	run *runs;
	size_t n, cap;
} plan;

static int plan_add(plan *p, const size_t *idx, size_t n, pl_err *err)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 8;
		run *r = realloc(p->runs, cap * sizeof(*r));
		if (!r)
			return pl_err_nomem(err);
		p->runs = r;
		p->cap = cap;
	}
	run *r = &p->runs[p->n];
	if (!(r->idx = malloc((n ? n : 1) * sizeof(*r->idx))))
		return pl_err_nomem(err);
	memcpy(r->idx, idx, n * sizeof(*idx));
	r->n = n;
	p->n++;
	return 0;
}

static void plan_free(plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->runs[i].idx);
	free(p->runs);
	memset(p, 0, sizeof(*p));
}

/* The candidates of each group, in file order; groups in order of their first file. */
typedef struct groups {
	size_t *members; /* indexes, grouped */
	size_t *start;   /* group g is members[start[g] .. start[g + 1]) */
	size_t n;
} groups;

static int group_cands(const cands *c, const bool *eligible, groups *out, pl_err *err)
{
	out->members = calloc(c->n + 1, sizeof(*out->members));
	out->start = calloc(c->n + 2, sizeof(*out->start));
	bool *taken = calloc(c->n + 1, sizeof(*taken));
	if (!out->members || !out->start || !taken) {
		free(taken);
		return pl_err_nomem(err);
	}
	size_t m = 0;
	for (size_t i = 0; i < c->n; i++) {
		if (!eligible[i] || taken[i])
			continue;
		out->start[out->n++] = m;
		for (size_t j = i; j < c->n; j++)
			if (eligible[j] && !taken[j] && strcmp(c->items[j].group, c->items[i].group) == 0) {
				taken[j] = true;
				out->members[m++] = j;
			}
	}
	out->start[out->n] = m;
	free(taken);
	return 0;
}

static void groups_free(groups *g)
{
	free(g->members);
	free(g->start);
}

/* DuckLake's merge plan: within a group, runs of files in order until a run reaches the target
 * size; at most max_files runs (a lone file counts as one). */
static int plan_merge(const cands *c, const pl_compact_request *req, int64_t target, plan *p, pl_err *err)
{
	int64_t bound = req->max_file_size >= 0 ? req->max_file_size : target;
	bool *ok = calloc(c->n + 1, sizeof(*ok));
	if (!ok)
		return pl_err_nomem(err);
	for (size_t i = 0; i < c->n; i++) {
		const cand *f = &c->items[i];
		ok[i] = f->size < bound && (req->min_file_size < 0 || f->size >= req->min_file_size) && f->size < target &&
			f->delete_rows == 0 && f->inlined_deletes == 0 && f->mapping < 0;
	}
	groups g = {0};
	int rc = group_cands(c, ok, &g, err);
	free(ok);
	uint64_t runs = 0;
	for (size_t k = 0; rc == 0 && k < g.n && runs < req->max_files; k++) {
		const size_t *list = g.members + g.start[k];
		size_t n = g.start[k + 1] - g.start[k];
		if (n <= 1)
			continue;
		for (size_t s = 0; rc == 0 && s < n && runs < req->max_files; s++) {
			int64_t total = 0;
			size_t e = s;
			for (; e < n && total < target; e++)
				total += c->items[list[e]].size;
			if (e - s > 1) {
				rc = plan_add(p, list + s, e - s, err);
				s = e - 1;
			}
			runs++;
		}
	}
	groups_free(&g);
	return rc;
}

/* DuckLake's rewrite plan: per group, every file whose deleted fraction reaches the threshold. */
static int plan_rewrite(const cands *c, double threshold, plan *p, pl_err *err)
{
	bool *ok = calloc(c->n + 1, sizeof(*ok));
	if (!ok)
		return pl_err_nomem(err);
	for (size_t i = 0; i < c->n; i++) {
		const cand *f = &c->items[i];
		int64_t deleted = (f->live_delete >= 0 ? f->live_delete_count : 0) + f->inlined_deletes;
		double ratio = f->record_count > 0 ? (double)deleted / (double)f->record_count : 0;
		ok[i] = deleted > 0 && ratio >= threshold && f->mapping < 0;
	}
	groups g = {0};
	int rc = group_cands(c, ok, &g, err);
	free(ok);
	for (size_t k = 0; rc == 0 && k < g.n; k++)
		rc = plan_add(p, g.members + g.start[k], g.start[k + 1] - g.start[k], err);
	groups_free(&g);
	return rc;
}

/* ---- writing one run ---- */

/* The per-file value of the row being read: CAST([v0, v1, ...] AS BIGINT[])[d.file_index + 1]
 * (a lookup, whatever the number of files); NULL for a file that carries its row ids. */
static void put_per_file(pl_buf *out, const cands *c, const run *r, bool row_ids)
{
	pl_buf_puts(out, "CAST([");
	for (size_t i = 0; i < r->n; i++) {
		const cand *f = &c->items[r->idx[i]];
		if (i)
			pl_buf_puts(out, ", ");
		if (row_ids && f->row_id_start < 0)
			pl_buf_puts(out, "NULL");
		else
			pl_buf_printf(out, "%lld", (long long)(row_ids ? f->row_id_start : f->begin));
	}
	pl_buf_puts(out, "] AS BIGINT[])[CAST(d.file_index AS BIGINT) + 1]");
}

static const pl_data_file *model_file(const pl_data_file *files, size_t n, int64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (files[i].id == id)
			return &files[i];
	return NULL;
}

typedef struct run_sql {
	bool row_ids, snapshot_ids;
} run_sql;

/* Whether some file of the run carries its rows' ids (UPDATE writes them, and merges of files
 * whose row ids were not contiguous): then they cannot be numbered from row_id_start. */
static int carries_row_ids(duckdb_connection con, const cands *c, const run *r, bool *out, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	pl_buf_puts(&q, "SELECT count(*) FROM parquet_schema([");
	for (size_t i = 0; i < r->n; i++) {
		if (i)
			pl_buf_puts(&q, ", ");
		pl_buf_put_literal(&q, c->items[r->idx[i]].path);
	}
	pl_buf_puts(&q, "]) WHERE name = '_ducklake_internal_row_id'");
	char *v = NULL;
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query_value(con, q.ptr, &v, err);
	*out = rc == 0 && v && strcmp(v, "0") != 0;
	free(v);
	pl_buf_dispose(&q);
	return rc;
}

static int build_source(pl_buf *q, const pl_compact_request *req, const pl_table *t, const pl_table *ot,
			const cands *c, const run *r, run_sql *how, pl_err *err)
{
	bool merge = req->kind == PL_COMPACT_MERGE;
	/* the latest sort order, over the columns of the files' version (renamed ones by id) */
	char **keys = NULL;
	int rc = pl_sort_keys_for(req->ctx->con, t, ot, &keys, err);
	if (rc)
		return rc;
	bool sorted = keys != NULL;
	bool adjacent = true;
	if (merge) {
		bool carried = false;
		rc = carries_row_ids(req->ctx->con, c, r, &carried, err);
		if (rc) {
			pl_strv_free(keys);
			return rc;
		}
		adjacent = !carried;
	}
	for (size_t i = 0; i < r->n; i++) {
		const cand *f = &c->items[r->idx[i]];
		const cand *prev = i ? &c->items[r->idx[i - 1]] : NULL;
		if (f->row_id_start < 0 || (prev && prev->row_id_start + prev->record_count != f->row_id_start))
			adjacent = false;
	}
	how->row_ids = !merge || !adjacent || sorted;
	how->snapshot_ids = merge;
	pl_buf_puts(q, "SELECT ");
	for (size_t i = 0; i < ot->ntop; i++) {
		pl_buf_puts(q, i ? ", d." : "d.");
		pl_buf_put_ident(q, ot->top[i]->name);
	}
	if (how->row_ids) {
		pl_buf_puts(q, ", coalesce(d._ducklake_internal_row_id, ");
		put_per_file(q, c, r, true);
		pl_buf_puts(q, " + d.file_row_number) AS _ducklake_internal_row_id");
	}
	if (how->snapshot_ids) {
		pl_buf_puts(q, ", coalesce(d._ducklake_internal_snapshot_id, ");
		put_per_file(q, c, r, false);
		pl_buf_puts(q, ") AS _ducklake_internal_snapshot_id");
	}
	pl_buf_puts(q, " FROM read_parquet([");
	for (size_t i = 0; i < r->n; i++) {
		if (i)
			pl_buf_puts(q, ", ");
		pl_buf_put_literal(q, c->items[r->idx[i]].path);
	}
	pl_buf_putc(q, ']');
	rc = pl_scan_put_lineage_schema(q, ot, err);
	if (rc) {
		pl_strv_free(keys);
		return rc;
	}
	pl_buf_puts(q, ", file_row_number = true, hive_partitioning = false) AS d");
	if (!merge) { /* rewrite: the deleted rows stay behind */
		const pl_data_file *files = NULL;
		size_t nfiles = 0;
		rc = pl_model_table_files(req->model, t, &files, &nfiles, err);
		if (rc) {
			pl_strv_free(keys);
			return rc;
		}
		bool first = true;
		for (size_t i = 0; i < r->n; i++) {
			const cand *cf = &c->items[r->idx[i]];
			const pl_data_file *f = model_file(files, nfiles, cf->id);
			bool same_file = cf->live_delete >= 0 ? f && f->delete_path && f->delete_id == cf->live_delete
							   : f && !f->delete_path;
			if (!same_file ||
			    (int64_t)f->ninlined_deletes != cf->inlined_deletes) {
				pl_strv_free(keys);
				return pl_err_set(err, PL_ECONFLICT,
						  "Transaction conflict: the files of table \"%s\" changed while it was being "
						  "compacted; retry", t->name);
			}
			pl_buf_puts(q, first ? " ANTI JOIN (" : " UNION ALL ");
			first = false;
			pl_buf_printf(q, "SELECT CAST(%zu AS UBIGINT) AS i, pos FROM (", i);
			pl_scan_put_file_deletes(q, req->model, f);
			pl_buf_putc(q, ')');
		}
		if (!first)
			pl_buf_puts(q, ") AS x ON d.file_index = x.i AND d.file_row_number = x.pos");
	}
	pl_buf_puts(q, " ORDER BY ");
	for (size_t k = 0; sorted && k < t->nsort_keys; k++) {
		pl_buf_printf(q, "%s %s NULLS %s, ", keys[k], t->sort_keys[k].descending ? "DESC" : "ASC",
			      t->sort_keys[k].nulls_first ? "FIRST" : "LAST");
	}
	pl_strv_free(keys);
	pl_buf_puts(q, "d.file_index, d.file_row_number");
	return pl_buf_oom(q) ? pl_err_nomem(err) : 0;
}

/* The directory below the table's of a partitioned run's first file ("k=v/"), or "". */
static char *sub_dir(const cand *f)
{
	const char *slash = f->relative ? strrchr(f->rel, '/') : NULL;
	return slash ? pl_strndup(f->rel, (size_t)(slash - f->rel + 1)) : pl_strdup("");
}

typedef struct job {
	pl_txn txn;            /* the files written */
	pl_compaction *comps;
	const char **dirs;
	size_t n, cap;
	pl_rows *out;
} job;

static int add_result(job *j, const pl_model *m, const pl_table *t, size_t processed, bool created, pl_err *err)
{
	const pl_schema *s = pl_model_schema_by_id(m, t->schema_id);
	char a[32], b[32];
	snprintf(a, sizeof(a), "%zu", processed);
	snprintf(b, sizeof(b), "%d", created ? 1 : 0);
	char *cells[4] = {pl_strdup(s ? s->name : ""), pl_strdup(t->name), pl_strdup(a), pl_strdup(b)};
	if (!cells[0] || !cells[1] || !cells[2] || !cells[3] || pl_rows_append(j->out, cells)) {
		for (size_t i = 0; i < 4; i++)
			free(cells[i]);
		return pl_err_nomem(err);
	}
	return 0;
}

static int write_run(job *j, const pl_compact_request *req, const pl_table *t, const cands *c, const run *r,
		     pl_err *err)
{
	const cand *first = &c->items[r->idx[0]];
	pl_model *om = NULL;
	int64_t at = -1;
	/* the files' columns: the table's at the first snapshot of their schema version that is
	 * left; when expiry left none, no snapshot reads them in that layout: the current columns */
	int rc = pl_compact_columns_snapshot(req->ctx->cat, t->id, first->begin, first->schema_version, &at, err);
	if (rc == 0 && at >= 0 && at != req->model->snapshot_id)
		rc = pl_model_load(&om, req->ctx->cat, at, req->data_path, err);
	const pl_table *ot = rc ? NULL : om ? pl_model_table_by_id(om, t->id) : t;
	if (rc == 0 && !ot)
		rc = pl_err_set(err, PL_ERROR, "internal error: table \"%s\" has no columns at snapshot %lld", t->name,
				(long long)first->begin);
	pl_buf q = PL_BUF_INIT, dir = PL_BUF_INIT;
	run_sql how = {0};
	char *sub = rc ? NULL : sub_dir(first);
	if (rc == 0 && !sub)
		rc = pl_err_nomem(err);
	if (rc == 0)
		rc = build_source(&q, req, t, ot, c, r, &how, err);
	pl_write_request w = {0};
	if (rc == 0)
		rc = pl_table_write_sizes(req->ctx, t, &w, err);
	pl_buf_printf(&dir, "%s%s", t->dir, sub ? sub : "");
	size_t before = j->txn.nfiles;
	int64_t rows = 0;
	if (rc == 0 && pl_buf_oom(&dir))
		rc = pl_err_nomem(err);
	if (rc == 0) {
		w.con = req->ctx->con;
		w.source_sql = q.ptr;
		w.dir = dir.ptr;
		w.columns.table = ot;
		w.table_ref = t->id;
		w.target_file_size = INT64_MAX; /* one file per run */
		w.with_row_ids = how.row_ids;
		w.with_snapshot_ids = how.snapshot_ids;
		const pl_schema *s = t->nsort_keys ? pl_model_schema_by_id(req->model, t->schema_id) : NULL;
		w.use_db = s ? req->ctx->lake : NULL;
		w.use_schema = s ? s->name : NULL;
		rc = pl_writer_write(&w, &j->txn, &rows, err);
	}
	size_t written = j->txn.nfiles - before;
	if (rc == 0 && written > 1)
		rc = pl_err_set(err, PL_ERROR, "internal error: a compaction of table \"%s\" wrote %zu files", t->name,
				written);
	if (rc == 0 && j->n == j->cap) {
		size_t cap = j->cap ? j->cap * 2 : 8;
		pl_compaction *p = realloc(j->comps, cap * sizeof(*p));
		const char **d = p ? realloc(j->dirs, cap * sizeof(*d)) : NULL;
		if (p)
			j->comps = p;
		if (d)
			j->dirs = d;
		if (!p || !d)
			rc = pl_err_nomem(err);
		else
			j->cap = cap;
	}
	pl_compaction *cp = rc ? NULL : &j->comps[j->n];
	if (cp) {
		memset(cp, 0, sizeof(*cp));
		cp->table_id = t->id;
		cp->rewrite = req->kind == PL_COMPACT_REWRITE;
		cp->sources = calloc(r->n, sizeof(*cp->sources));
		cp->source_deletes = calloc(r->n, sizeof(*cp->source_deletes));
		cp->source_inlined = calloc(r->n, sizeof(*cp->source_inlined));
		cp->nsources = r->n;
		cp->begin_snapshot = first->begin;
		cp->partial_max = -1;
		cp->row_id_start = how.row_ids ? -1 : first->row_id_start;
		j->dirs[j->n] = t->dir;
		j->n++;
		if (!cp->sources || !cp->source_deletes || !cp->source_inlined)
			rc = pl_err_nomem(err);
		for (size_t i = 0; rc == 0 && i < r->n; i++) {
			const cand *f = &c->items[r->idx[i]];
			cp->sources[i] = f->id;
			cp->source_deletes[i] = f->live_delete;
			cp->source_inlined[i] = f->inlined_deletes;
			int64_t newest = f->partial_max >= 0 ? f->partial_max : f->begin;
			if (!cp->rewrite && r->n > 1 && newest > cp->partial_max)
				cp->partial_max = newest;
		}
	}
	if (rc == 0 && written == 1) {
		pl_new_file *nf = &j->txn.files[before];
		cp->file = (pl_new_file *)(uintptr_t)(before + 1); /* an index until the txn stops growing */
		if (*sub) {
			char *p = NULL;
			pl_buf b = PL_BUF_INIT;
			pl_buf_printf(&b, "%s%s", sub, nf->path);
			if (!(p = pl_buf_detach(&b)))
				rc = pl_err_nomem(err);
			free(nf->path);
			nf->path = p;
		}
		if (rc == 0 && first->partition_id >= 0) {
			nf->partitioned = true;
			nf->partition_id = first->partition_id;
			nf->partition_values = calloc(first->values.len + 1, sizeof(char *));
			if (!nf->partition_values)
				rc = pl_err_nomem(err);
			for (size_t k = 0; rc == 0 && k < first->values.len; k++) {
				const char *v = first->values.items[k];
				if (strcmp(v, NULL_VALUE) == 0)
					nf->npartition_values++;
				else if ((nf->partition_values[nf->npartition_values++] = pl_strdup(v)) == NULL)
					rc = pl_err_nomem(err);
			}
		}
	} else if (rc == 0 && rows != 0) {
		rc = pl_err_set(err, PL_ERROR, "internal error: a compaction of table \"%s\" wrote no file", t->name);
	}
	if (rc == 0)
		rc = add_result(j, req->model, t, r->n, written == 1, err);
	free(sub);
	pl_buf_dispose(&q);
	pl_buf_dispose(&dir);
	pl_model_free(om);
	return rc;
}

static int table_threshold(const pl_compact_request *req, const pl_table *t, double *out, pl_err *err)
{
	*out = 0.95;
	if (req->threshold_given) {
		*out = req->delete_threshold;
		return 0;
	}
	char *v = NULL;
	int rc = pl_table_option(req->ctx, t, "rewrite_delete_threshold", &v, err);
	if (rc == 0 && v) {
		char *end = NULL;
		double d = strtod(v, &end);
		if (end == v || *end || d < 0 || d > 1)
			rc = pl_err_set(err, PL_EINVALID, "The delete_threshold option must be between 0 and 1 (option "
							   "rewrite_delete_threshold is '%s')", v);
		else
			*out = d;
	}
	free(v);
	return rc;
}

static int compact_table(job *j, const pl_compact_request *req, const pl_table *t, pl_err *err)
{
	char *auto_compact = NULL;
	int rc = pl_table_option(req->ctx, t, "auto_compact", &auto_compact, err);
	bool skip = rc == 0 && auto_compact && pl_str_ieq(auto_compact, "false");
	free(auto_compact);
	if (rc || skip)
		return rc;
	pl_write_request sizes = {0};
	double threshold = 0;
	rc = pl_table_write_sizes(req->ctx, t, &sizes, err);
	if (rc == 0 && req->kind == PL_COMPACT_REWRITE)
		rc = table_threshold(req, t, &threshold, err);
	cands c = {0};
	plan p = {0};
	if (rc == 0)
		rc = load_cands(req->ctx->cat, t, &c, err);
	if (rc == 0)
		rc = req->kind == PL_COMPACT_MERGE ? plan_merge(&c, req, sizes.target_file_size, &p, err)
						   : plan_rewrite(&c, threshold, &p, err);
	for (size_t i = 0; rc == 0 && i < p.n; i++)
		rc = write_run(j, req, t, &c, &p.runs[i], err);
	plan_free(&p);
	cands_free(&c);
	return rc;
}

static bool skipped(const pl_compact_request *req, const pl_table *t)
{
	for (size_t i = 0; i < req->nskip; i++)
		if (pl_txn_touches_table(&req->skip[i], t->id))
			return true;
	return false;
}

/* Compacts every table asked for into j; then the compactions point to the files of j->txn. */
static int compact_tables(job *j, const pl_compact_request *req, pl_err *err)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < req->model->ntables; i++) {
		const pl_table *t = &req->model->tables[i];
		if ((!req->only || req->only->id == t->id) && t->id < PL_LOCAL_ID_BASE && !skipped(req, t))
			rc = compact_table(j, req, t, err);
	}
	for (size_t i = 0; i < j->n; i++) /* the txn's files do not move any more */
		if (j->comps[i].file)
			j->comps[i].file = &j->txn.files[(uintptr_t)j->comps[i].file - 1];
	return rc;
}

static int result_rows(job *j, pl_err *err)
{
	static const char *const names[] = {"schema_name", "table_name", "files_processed", "files_created"};
	int rc = pl_rows_new(&j->out, 4) ? pl_err_nomem(err) : 0;
	for (size_t i = 0; rc == 0 && i < 4; i++)
		rc = (j->out->names[i] = pl_strdup(names[i])) ? 0 : pl_err_nomem(err);
	return rc;
}

/* Frees what job j holds; its result rows go to *out when rc is 0. Returns rc. */
static int job_finish(job *j, int rc, pl_rows **out)
{
	for (size_t i = 0; i < j->n; i++)
		pl_compaction_dispose(&j->comps[i]);
	free(j->comps);
	free(j->dirs);
	pl_txn_dispose(&j->txn);
	if (rc)
		pl_rows_free(j->out);
	else
		*out = j->out;
	return rc;
}

int pl_compact_plan(const pl_compact_request *req, pl_txn *into, pl_rows **out, pl_err *err)
{
	job j = {0};
	*out = NULL;
	int rc = result_rows(&j, err);
	if (rc == 0)
		rc = compact_tables(&j, req, err);
	/* into takes the compactions, each with its own file row, and the written files */
	size_t have = into->ncompactions, had_written = into->written.len;
	pl_compaction *cs = rc ? NULL : realloc(into->compactions, (have + j.n + 1) * sizeof(*cs));
	if (cs)
		into->compactions = cs;
	char **dirs = cs ? realloc(into->compaction_dirs, (have + j.n + 1) * sizeof(*dirs)) : NULL;
	if (dirs)
		into->compaction_dirs = dirs;
	if (rc == 0 && (!cs || !dirs))
		rc = pl_err_nomem(err);
	if (rc == 0 && !into->compaction_data_path && !(into->compaction_data_path = pl_strdup(req->data_path)))
		rc = pl_err_nomem(err);
	for (size_t i = 0; rc == 0 && i < j.txn.written.len; i++)
		rc = pl_strv_push(&into->written, j.txn.written.items[i]) ? pl_err_nomem(err) : 0;
	for (size_t i = 0; rc == 0 && i < j.n; i++) {
		pl_compaction *c = &j.comps[i];
		pl_new_file *f = NULL;
		char *dir = pl_strdup(j.dirs[i]);
		if (dir && c->file && (f = malloc(sizeof(*f))) != NULL) {
			*f = *c->file;
			memset(c->file, 0, sizeof(*c->file)); /* into owns what the file row owns */
		}
		if (!dir || (c->file && !f)) {
			free(dir);
			rc = pl_err_nomem(err);
			break;
		}
		into->compactions[into->ncompactions] = *c;
		into->compactions[into->ncompactions].file = f;
		into->compaction_dirs[into->ncompactions++] = dir;
		memset(c, 0, sizeof(*c));
	}
	if (rc) {
		while (into->ncompactions > have)
			pl_txn_drop_compaction(into, into->ncompactions - 1, false);
		while (into->written.len > had_written)
			free(into->written.items[--into->written.len]);
		pl_txn_remove_written(&j.txn);
	}
	return job_finish(&j, rc, out);
}

int pl_compact_run(const pl_compact_request *req, pl_rows **out, int64_t *snapshot_out, pl_err *err)
{
	job j = {0};
	*out = NULL;
	*snapshot_out = -1;
	int64_t base = 0;
	int rc = result_rows(&j, err);
	if (rc == 0)
		rc = pl_catalog_latest_snapshot(req->ctx->cat, &base, err);
	if (rc == 0)
		rc = compact_tables(&j, req, err);
	bool unknown = false;
	if (rc == 0 && j.n > 0)
		rc = pl_compact_commit(req->ctx->cat, base, j.comps, j.n, j.dirs, req->data_path, &j.txn.written,
				       snapshot_out, &unknown, err);
	j.txn.outcome_unknown = unknown;
	if (rc)
		pl_txn_remove_written(&j.txn);
	return job_finish(&j, rc, out);
}
