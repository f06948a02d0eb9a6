/*
 * batch.c -- multi-row catalog INSERTs (see batch.h).
 */
#include "catalog/batch.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

size_t pl_batch_rows_per_statement(size_t nparams)
{
	size_t n = nparams ? PL_BATCH_MAX_PARAMS / nparams : 1;
	return n ? n : 1;
}

void pl_batch_init(pl_batch *b, pl_catdb *db, const char *head, const char *row, size_t nparams)
{
	memset(b, 0, sizeof(*b));
	b->db = db;
	b->head = head;
	b->row = row;
	b->nparams = nparams ? nparams : 1;
}

int pl_batch_flush(pl_batch *b, pl_err *err)
{
	if (b->nrows == 0)
		return 0;
	pl_buf q = PL_BUF_INIT;
	pl_buf_puts(&q, b->head);
	for (size_t i = 0; i < b->nrows; i++) {
		if (i)
			pl_buf_puts(&q, ", ");
		pl_buf_puts(&q, b->row);
	}
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_catdb_exec(b->db, q.ptr, b->vals, b->nrows * b->nparams, err);
	pl_buf_dispose(&q);
	b->nrows = 0;
	b->statements++;
	return rc;
}

int pl_batch_add(pl_batch *b, const pl_val *row, pl_err *err)
{
	size_t per = pl_batch_rows_per_statement(b->nparams);
	if (!b->vals) {
		b->vals = calloc(per * b->nparams, sizeof(pl_val));
		if (!b->vals)
			return pl_err_nomem(err);
		b->cap = per;
	}
	memcpy(b->vals + b->nrows * b->nparams, row, b->nparams * sizeof(pl_val));
	b->nrows++;
	return b->nrows == b->cap ? pl_batch_flush(b, err) : 0;
}

void pl_batch_dispose(pl_batch *b)
{
	free(b->vals);
	b->vals = NULL;
	b->nrows = b->cap = 0;
}
