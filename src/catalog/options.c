/*
 * options.c -- lake options by scope (see options.h).
 */
#include "catalog/options.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/str.h"

/* 0 table, 1 schema, 2 global. */
static int scope_rank(const char *scope)
{
	return !scope ? 2 : strcmp(scope, "table") == 0 ? 0 : 1;
}

int pl_catalog_options(pl_catdb *db, int64_t table_id, int64_t schema_id, const char *const *keys, size_t n,
		       char **out, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	pl_val *p = calloc(n + 2, sizeof(*p));
	pl_rows *r = NULL;
	memset(out, 0, n * sizeof(*out));
	if (!p)
		return pl_err_nomem(err);
	pl_buf_puts(&q, "SELECT \"key\", \"value\", \"scope\" FROM ducklake_metadata WHERE (\"scope\" IS NULL OR "
			"(\"scope\" = 'table' AND scope_id = ?) OR (\"scope\" = 'schema' AND scope_id = ?)) AND \"key\" IN (");
	p[0] = PL_VINT(table_id);
	p[1] = PL_VINT(schema_id);
	for (size_t i = 0; i < n; i++) {
		pl_buf_puts(&q, i ? ", ?" : "?");
		p[i + 2] = PL_VTEXT(keys[i]);
	}
	pl_buf_putc(&q, ')');
	int rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_catdb_query(db, q.ptr, p, n + 2, &r, err);
	int *best = rc ? NULL : calloc(n ? n : 1, sizeof(*best));
	if (rc == 0 && !best)
		rc = pl_err_nomem(err);
	for (size_t i = 0; rc == 0 && i < r->nrows; i++) {
		const char *key = pl_rows_get(r, i, 0), *value = pl_rows_get(r, i, 1);
		int rank = scope_rank(pl_rows_get(r, i, 2));
		for (size_t k = 0; rc == 0 && key && value && k < n; k++) {
			if (strcmp(keys[k], key) != 0 || (out[k] && rank >= best[k]))
				continue;
			free(out[k]);
			best[k] = rank;
			if (!(out[k] = pl_strdup(value)))
				rc = pl_err_nomem(err);
		}
	}
	if (rc)
		for (size_t k = 0; k < n; k++) {
			free(out[k]);
			out[k] = NULL;
		}
	free(best);
	pl_rows_free(r);
	pl_buf_dispose(&q);
	free(p);
	return rc;
}

int pl_catalog_option(pl_catdb *db, int64_t table_id, int64_t schema_id, const char *key, char **out,
		      pl_err *err)
{
	pl_rows *r = NULL;
	pl_val p[] = {PL_VTEXT(key), PL_VINT(table_id), PL_VINT(schema_id)};
	*out = NULL;
	int rc = pl_catdb_query(db,
				"SELECT \"value\" FROM ducklake_metadata WHERE \"key\" = ? AND (\"scope\" IS NULL OR "
				"(\"scope\" = 'table' AND scope_id = ?) OR (\"scope\" = 'schema' AND scope_id = ?)) "
				"ORDER BY CASE WHEN \"scope\" = 'table' THEN 0 WHEN \"scope\" = 'schema' THEN 1 ELSE 2 END "
				"LIMIT 1",
				p, 3, &r, err);
	if (rc)
		return rc;
	const char *v = pl_rows_get(r, 0, 0);
	if (v && !(*out = pl_strdup(v)))
		rc = pl_err_nomem(err);
	pl_rows_free(r);
	return rc;
}

int pl_catalog_set_option(pl_catdb *db, const char *key, const char *value, const char *scope, int64_t scope_id,
			  pl_err *err)
{
	pl_val del[] = {PL_VTEXT(key), PL_VTEXT(scope), PL_VTEXT(scope), PL_VOPTINT(scope_id)};
	pl_val ins[] = {PL_VTEXT(key), PL_VTEXT(value), PL_VTEXT(scope), PL_VOPTINT(scope_id)};
	int rc = db->ops->begin(db, err);
	if (rc == 0)
		rc = pl_catdb_exec(db, "DELETE FROM ducklake_metadata WHERE \"key\" = ? AND ((CAST(? AS VARCHAR) IS NULL AND \"scope\" IS NULL) "
				       "OR (\"scope\" = ? AND scope_id = ?))", del, 4, err);
	if (rc == 0)
		rc = pl_catdb_exec(db, "INSERT INTO ducklake_metadata (\"key\", \"value\", \"scope\", scope_id) VALUES (?, ?, ?, ?)",
				   ins, 4, err);
	if (rc == 0)
		rc = db->ops->commit(db, err);
	if (rc) {
		pl_err saved = *err;
		db->ops->rollback(db, err);
		*err = saved;
	}
	return rc;
}
