/*
 * dml.h -- DELETE and UPDATE of a lake table's rows.
 *
 * DuckDB evaluates the statement's own WHERE / USING / FROM / SET / RETURNING text against a
 * temporary view of the table that also carries each row's data file, position and row id.
 * The matching rows are collected in a temporary table; their positions become delete files
 * (or end whole data files, or end inlined rows) and, for UPDATE, the new row versions become
 * data files that keep the rows' ids. All of it is one snapshot's changes (pl_txn), which the
 * caller commits.
 */
#ifndef PL_TABLE_DML_H
#define PL_TABLE_DML_H

#include <stdbool.h>

#include "catalog/commit.h"
#include "catalog/model.h"
#include "table/context.h"
#include "table/insert.h"

typedef enum pl_dml_explain {
	PL_DML_RUN = 0,
	PL_DML_EXPLAIN,         /* only the plan of finding the rows; nothing changes */
	PL_DML_EXPLAIN_ANALYZE, /* run, and the profile of finding the rows */
} pl_dml_explain;

/* One `column = expression` of UPDATE's SET list, as written. */
typedef struct pl_assignment {
	char *column;    /* the item's first word (NULL: an empty item) */
	pl_text expr;    /* the text after `=` */
	bool well_formed; /* column = expression */
} pl_assignment;

typedef struct pl_dml_request {
	bool update;
	const char *cte;     /* the statement's WITH list, NULL when none */
	pl_dml_explain explain;
	const char *alias;   /* how the statement names the table's rows (its name when no alias) */
	const pl_assignment *set; /* UPDATE's assignments */
	size_t nset;
	pl_text from;        /* USING / FROM list (s NULL: none) */
	pl_text where;       /* WHERE condition (s NULL: none) */
	bool returning;      /* RETURNING follows: DELETE keeps the whole rows */
	/* UPDATE of a statement committed on its own: at most data_inlining_row_limit new row
	 * versions are inlined into the catalog (keeping their row ids), as DuckLake 1.0 does. */
	bool may_inline;
	/* MERGE INTO: the statement's text after the target and its alias (`USING ... WHEN ...`),
	 * with every UPDATE action written as an explicit SET list that also sets __planar_upd =
	 * true and every INSERT action with an explicit column list (pl_dml_plan runs it against a
	 * temporary copy of the table's rows, see below). NULL for DELETE / UPDATE. */
	const char *merge;
} pl_dml_request;

/* The state of one statement: temporary objects on ctx->con and the changes planned. */
typedef struct pl_dml {
	const pl_table_ctx *ctx;
	const pl_dml_request *req;
	const pl_model *model; /* the model the statement planned on (held by the caller throughout) */
	const pl_table *table; /* in model */
	char view[64], match[64], stage[64], pos[64], pos2[64], rows_view[64];
	bool have_view, have_match, have_stage, have_pos, have_pos2, have_rows_view;
	char copy[64], updated[64]; /* MERGE: the rows' copy it runs on, the updated rows */
	bool have_copy, have_updated;
	pl_txn txn;
} pl_dml;

/* Finds the matching rows and plans the changes into d->txn; *count is the number of rows
 * matched. MERGE INTO (req->merge) runs DuckDB's own MERGE on a temporary copy of the table's
 * rows that keeps each row's file, position and row id: rows gone from the copy are deleted,
 * rows its UPDATE actions set __planar_upd on are deleted and written again with their row
 * ids, rows without a file are inserted; *count is the sum. Under EXPLAIN [ANALYZE] *explained is the plan (or profile) of finding the rows and
 * *have_explained true; under plain EXPLAIN nothing more happens. On failure the caller removes
 * what d->txn lists as written. pl_dml_dispose() afterwards in every case. */
int pl_dml_plan(pl_dml *d, const pl_table_ctx *ctx, const pl_model *model, const pl_table *table,
		const pl_dml_request *req, duckdb_result *explained, bool *have_explained, int64_t *count, pl_err *err);
/* The SELECT of a RETURNING list over the rows deleted or written (valid until pl_dml_dispose). */
int pl_dml_returning_sql(const pl_dml *d, pl_text list, pl_buf *out, pl_err *err);
/* Drops the temporary objects and frees the planned changes. */
void pl_dml_dispose(pl_dml *d);

#endif
