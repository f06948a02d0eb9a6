/*
 * macro.c -- macros stored in a lake (DuckLake 1.0): ducklake_macro (one row per macro, with
 * begin/end snapshots), ducklake_macro_impl (one row per implementation: dialect 'duckdb', its SQL
 * and type 'scalar' or 'table') and ducklake_macro_parameters (one row per parameter of an
 * implementation: name, type, default value and its type; 'NULL' / 'unknown' when none). Reading
 * them into a model and copying them; commit.c writes them.
 */
#include <stdlib.h>
#include <string.h>

#include "catalog/model.h"
#include "catalog/model_rows.h"
#include "core/str.h"

void pl_macro_dispose(pl_macro *m)
{
	for (size_t i = 0; i < m->nimpls; i++) {
		pl_macro_impl *im = &m->impls[i];
		for (size_t j = 0; j < im->nparams; j++) {
			free(im->params[j].name);
			free(im->params[j].type);
			free(im->params[j].default_value);
			free(im->params[j].default_type);
		}
		free(im->params);
		free(im->sql);
	}
	free(m->impls);
	free(m->name);
	memset(m, 0, sizeof(*m));
}

static char *dup_or_null(const char *s, bool *oom)
{
	if (!s)
		return NULL;
	char *d = pl_strdup(s);
	if (!d)
		*oom = true;
	return d;
}

bool pl_macro_copy(pl_macro *dst, const pl_macro *src)
{
	bool oom = false;
	*dst = (pl_macro){src->id, src->schema_id, dup_or_null(src->name, &oom), src->table, NULL, 0};
	dst->impls = calloc(src->nimpls + 1, sizeof(*dst->impls));
	oom = oom || !dst->impls;
	for (size_t i = 0; !oom && i < src->nimpls; i++) {
		const pl_macro_impl *s = &src->impls[i];
		pl_macro_impl *d = &dst->impls[dst->nimpls++];
		d->sql = dup_or_null(s->sql, &oom);
		d->params = calloc(s->nparams + 1, sizeof(*d->params));
		oom = oom || !d->params;
		for (size_t j = 0; !oom && j < s->nparams; j++) {
			const pl_macro_param *sp = &s->params[j];
			d->params[d->nparams++] = (pl_macro_param){dup_or_null(sp->name, &oom), dup_or_null(sp->type, &oom),
								   dup_or_null(sp->default_value, &oom),
								   dup_or_null(sp->default_type, &oom)};
		}
	}
	if (oom)
		pl_macro_dispose(dst);
	return !oom;
}

static pl_macro *find(pl_model *m, int64_t id)
{
	for (size_t i = 0; i < m->nmacros; i++)
		if (m->macros[i].id == id)
			return &m->macros[i];
	return NULL;
}

static pl_macro_impl *find_impl(pl_macro *mac, int64_t impl_id, const int64_t *impl_ids)
{
	for (size_t i = 0; i < mac->nimpls; i++)
		if (impl_ids[i] == impl_id)
			return &mac->impls[i];
	return NULL;
}

#define LIVE_MACRO                                                                                               \
	" JOIN ducklake_macro m USING (macro_id) WHERE ? >= m.begin_snapshot AND (m.end_snapshot IS NULL OR ? < " \
	"m.end_snapshot)"

int pl_model__load_macros(pl_model *m, pl_catdb *db, pl_err *err)
{
	pl_rows *r = NULL, *ri = NULL, *rp = NULL;
	pl_val at[] = {PL_VINT(m->snapshot_id), PL_VINT(m->snapshot_id)};
	int rc = pl_catdb_query(db, "SELECT macro_id, schema_id, macro_name FROM ducklake_macro WHERE" PL_MODEL_LIVE_AT
				    " ORDER BY macro_id",
				at, 2, &r, err);
	if (rc == 0 && r->nrows > 0)
		rc = pl_catdb_query(db, "SELECT i.macro_id, i.impl_id, i.\"sql\", i.\"type\" FROM ducklake_macro_impl i" LIVE_MACRO
				    " ORDER BY i.macro_id, i.impl_id",
				    at, 2, &ri, err);
	if (rc == 0 && r->nrows > 0)
		rc = pl_catdb_query(db, "SELECT p.macro_id, p.impl_id, p.parameter_name, p.parameter_type, p.default_value, "
				    "p.default_value_type FROM ducklake_macro_parameters p" LIVE_MACRO
				    " ORDER BY p.macro_id, p.impl_id, p.column_id",
				    at, 2, &rp, err);
	bool oom = false;
	if (rc == 0) {
		m->macros = calloc(r->nrows + 1, sizeof(*m->macros));
		oom = !m->macros;
	}
	for (size_t i = 0; rc == 0 && !oom && i < r->nrows; i++) {
		pl_macro *mac = &m->macros[m->nmacros++];
		mac->id = pl_rows_int(r, i, 0, 0);
		mac->schema_id = pl_rows_int(r, i, 1, 0);
		mac->name = dup_or_null(pl_rows_get(r, i, 2), &oom);
		oom = oom || !mac->name;
	}
	/* implementations: count per macro, then fill */
	int64_t *impl_ids = NULL;
	size_t nrows_i = rc == 0 && ri ? ri->nrows : 0;
	if (rc == 0 && !oom && nrows_i > 0) {
		impl_ids = calloc(nrows_i, sizeof(*impl_ids));
		oom = !impl_ids;
	}
	/* implementations of one macro are consecutive rows: impls point into a per-macro array */
	for (size_t i = 0; rc == 0 && !oom && i < nrows_i;) {
		int64_t id = pl_rows_int(ri, i, 0, -1);
		size_t j = i;
		while (j < nrows_i && pl_rows_int(ri, j, 0, -1) == id)
			j++;
		pl_macro *mac = find(m, id);
		if (mac) {
			mac->impls = calloc(j - i + 1, sizeof(*mac->impls));
			oom = !mac->impls;
			for (size_t k = i; !oom && k < j; k++) {
				pl_macro_impl *im = &mac->impls[mac->nimpls];
				impl_ids[i + mac->nimpls] = pl_rows_int(ri, k, 1, 0);
				mac->nimpls++;
				im->sql = dup_or_null(pl_rows_get(ri, k, 2), &oom);
				const char *type = pl_rows_get(ri, k, 3);
				mac->table = type && pl_str_ieq(type, "table");
				oom = oom || !im->sql;
			}
		}
		i = j;
	}
	size_t nrows_p = rc == 0 && rp ? rp->nrows : 0;
	for (size_t i = 0; rc == 0 && !oom && i < nrows_p; i++) {
		pl_macro *mac = find(m, pl_rows_int(rp, i, 0, -1));
		if (!mac || !mac->impls)
			continue;
		/* this macro's impl ids sit at its first row in impl_ids */
		size_t base = 0;
		while (base < nrows_i && pl_rows_int(ri, base, 0, -1) != mac->id)
			base++;
		pl_macro_impl *im = find_impl(mac, pl_rows_int(rp, i, 1, -1), impl_ids + base);
		if (!im)
			continue;
		pl_macro_param *grown = realloc(im->params, (im->nparams + 1) * sizeof(*grown));
		if (!grown) {
			oom = true;
			break;
		}
		im->params = grown;
		pl_macro_param *p = &im->params[im->nparams++];
		const char *def = pl_rows_get(rp, i, 4), *def_type = pl_rows_get(rp, i, 5);
		bool has_default = def && def_type && !pl_str_ieq(def_type, "unknown");
		*p = (pl_macro_param){dup_or_null(pl_rows_get(rp, i, 2), &oom),
				      dup_or_null(pl_rows_get(rp, i, 3) ? pl_rows_get(rp, i, 3) : "unknown", &oom),
				      has_default ? dup_or_null(def, &oom) : NULL,
				      dup_or_null(def_type ? def_type : "unknown", &oom)};
		oom = oom || !p->name;
	}
	free(impl_ids);
	pl_rows_free(r);
	pl_rows_free(ri);
	pl_rows_free(rp);
	return rc ? rc : oom ? pl_err_nomem(err) : 0;
}
