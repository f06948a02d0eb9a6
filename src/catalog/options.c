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

/* Every option row, kept in db while its generation stays (see pl_catdb_generation); false when
 * the driver cannot tell (the caller reads the rows it needs). */
static int kept_options(pl_catdb *db, const pl_rows **out, pl_err *err)
{
	uint64_t gen = pl_catdb_generation(db);
	*out = NULL;
	if (!gen)
		return 0;
	if (gen != db->options_gen) {
		pl_rows *r = NULL;
		int rc = pl_catdb_query(db, "SELECT \"key\", \"value\", \"scope\", scope_id FROM ducklake_metadata", NULL, 0,
					&r, err);
		if (rc)
			return rc;
		pl_rows_free(db->options);
		db->options = r;
		db->options_gen = gen;
	}
	*out = db->options;
	return 0;
}

/* Whether row i of r (key, value, scope, scope_id) is key at a scope that applies. */
static bool applies(const pl_rows *r, size_t i, const char *key, int64_t table_id, int64_t schema_id)
{
	const char *k = pl_rows_get(r, i, 0), *scope = pl_rows_get(r, i, 2);
	if (!k || !pl_rows_get(r, i, 1) || strcmp(k, key) != 0)
		return false;
	if (!scope)
		return true;
	if (pl_rows_is_null(r, i, 3)) /* as `scope_id = ?` reads a NULL */
		return false;
	int64_t id = pl_rows_int(r, i, 3, -1);
	return (strcmp(scope, "table") == 0 && id == table_id) || (strcmp(scope, "schema") == 0 && id == schema_id);
}

/* The value of key from the kept rows, the narrowest scope first. */
static int kept_option(const pl_rows *r, int64_t table_id, int64_t schema_id, const char *key, char **out,
		       pl_err *err)
{
	int best = 3;
	const char *v = NULL;
	for (size_t i = 0; i < r->nrows; i++) {
		int rank = scope_rank(pl_rows_get(r, i, 2));
		if (rank < best && applies(r, i, key, table_id, schema_id)) {
			best = rank;
			v = pl_rows_get(r, i, 1);
		}
	}
	*out = NULL;
	return v && !(*out = pl_strdup(v)) ? pl_err_nomem(err) : 0;
}

int pl_catalog_options(pl_catdb *db, int64_t table_id, int64_t schema_id, const char *const *keys, size_t n,
		       char **out, pl_err *err)
{
	const pl_rows *kept = NULL;
	int krc = kept_options(db, &kept, err);
	if (krc)
		return krc;
	if (kept) {
		memset(out, 0, n * sizeof(*out));
		for (size_t k = 0; krc == 0 && k < n; k++)
			krc = kept_option(kept, table_id, schema_id, keys[k], &out[k], err);
		for (size_t k = 0; krc && k < n; k++) {
			free(out[k]);
			out[k] = NULL;
		}
		return krc;
	}

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
	const pl_rows *kept = NULL;
	*out = NULL;
	int rc = kept_options(db, &kept, err);
	if (rc || kept)
		return rc ? rc : kept_option(kept, table_id, schema_id, key, out, err);
	rc = pl_catdb_query(db,
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

int pl_catalog_option_in_scope(pl_catdb *db, const char *key, const char *scope, int64_t scope_id, char **out,
			       pl_err *err)
{
	pl_rows *r = NULL;
	pl_val p[] = {PL_VTEXT(key), PL_VTEXT(scope), PL_VTEXT(scope), PL_VOPTINT(scope_id)};
	*out = NULL;
	int rc = pl_catdb_query(db, "SELECT \"value\" FROM ducklake_metadata WHERE \"key\" = ? AND ((CAST(? AS VARCHAR) "
				    "IS NULL AND \"scope\" IS NULL) OR (\"scope\" = ? AND scope_id = ?))",
				p, 4, &r, err);
	const char *v = rc == 0 ? pl_rows_get(r, 0, 0) : NULL;
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
