/*
 * partition.c -- partitioned tables (see partition.h).
 */
#include "table/partition.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"

static const pl_column *top_column(const pl_table *t, const char *name)
{
	for (size_t i = 0; i < t->ntop; i++)
		if (pl_str_ieq(t->top[i]->name, name))
			return t->top[i];
	return NULL;
}

static const pl_column *column_by_id(const pl_table *t, int64_t id)
{
	for (size_t i = 0; i < t->ntop; i++)
		if (t->top[i]->id == id)
			return t->top[i];
	return NULL;
}

static bool is_temporal(const char *type)
{
	return strcmp(type, "date") == 0 || strncmp(type, "timestamp", 9) == 0;
}

/* The catalog's transform text of a key: "identity", "year", ..., "bucket(N)". */
static char *transform_text(const pl_partition_spec *k)
{
	pl_buf b = PL_BUF_INIT;
	if (strcmp(k->transform, "bucket") == 0)
		pl_buf_printf(&b, "bucket(%lld)", (long long)k->bucket_count);
	else
		pl_buf_puts(&b, k->transform);
	return pl_buf_detach(&b);
}

static bool is_nested(const char *type)
{
	return strcmp(type, "struct") == 0 || strcmp(type, "list") == 0 || strcmp(type, "map") == 0;
}

static int check_key(const pl_table *t, const pl_partition_spec *k, const pl_column **col, pl_err *err)
{
	static const char *const known[] = {"identity", "year", "month", "day", "hour", "bucket", NULL};
	bool ok = false;
	for (const char *const *p = known; *p && !ok; p++)
		ok = strcmp(k->transform, *p) == 0;
	if (!ok)
		return pl_err_set(err, PL_EUNSUPPORTED, "Not implemented Error: Unsupported partition function %s - only year, "
				  "month, day, hour, and bucket are supported", k->transform);
	if (!(*col = top_column(t, k->column)))
		return pl_err_set(err, PL_ENOTFOUND, "Catalog Error: Unexpected partition key - column \"%s\" does not exist",
				  k->column);
	const char *type = (*col)->type;
	if (is_nested(type) && strcmp(k->transform, "bucket") != 0)
		return pl_err_set(err, PL_EUNSUPPORTED, "cannot partition by column \"%s\": its type %s is nested", k->column,
				  type);
	if (strcmp(k->transform, "identity") != 0 && strcmp(k->transform, "bucket") != 0 && !is_temporal(type))
		return pl_err_set(err, PL_EINVALID, "cannot partition by %s(%s): \"%s\" is a %s, not a date or timestamp",
				  k->transform, k->column, k->column, type);
	if (strcmp(k->transform, "bucket") == 0 && (k->bucket_count <= 0 || k->bucket_count > 2147483647))
		return pl_err_set(err, PL_EINVALID, "Invalid Input Error: Bucket count must be positive");
	return 0;
}

static bool same_as_current(const pl_table *t, const pl_partition_spec *keys, const int64_t *ids, size_t n)
{
	if (t->npartition_keys != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		char *tr = transform_text(&keys[i]);
		bool same = tr && t->partition_keys[i].column_id == ids[i] && strcmp(t->partition_keys[i].transform, tr) == 0;
		free(tr);
		if (!same)
			return false;
	}
	return true;
}

int pl_partition_plan(const pl_table *t, const pl_partition_spec *keys, size_t n, pl_txn *txn, bool *noop,
		      pl_err *err)
{
	int64_t *ids = calloc(n + 1, sizeof(*ids));
	if (!ids)
		return pl_err_nomem(err);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const pl_column *c = NULL;
		rc = check_key(t, &keys[i], &c, err);
		if (rc == 0)
			ids[i] = c->id;
	}
	*noop = rc == 0 && same_as_current(t, keys, ids, n);
	pl_new_partition *np = rc || *noop ? NULL : pl_txn_add_partition(txn);
	if (rc == 0 && !*noop && !np)
		rc = pl_err_nomem(err);
	if (np) {
		np->table_id = t->id;
		np->column_ids = ids;
		ids = NULL;
		np->transforms = calloc(n + 1, sizeof(*np->transforms));
		for (size_t i = 0; np->transforms && i < n; i++, np->nkeys++)
			if (!(np->transforms[i] = transform_text(&keys[i])))
				break;
		if (!np->transforms || np->nkeys != n)
			rc = pl_err_nomem(err);
	}
	free(ids);
	return rc;
}

/* ---- writing -------------------------------------------------------------------------------- */

/* DuckLake's name of key k: the column's for identity, else the transform's, suffixed with the
 * column's name when an earlier key has that name (compared without case); escaped as %XX outside
 * [A-Za-z0-9_.-] so that it stays one path component. */
static char *key_dir_name(char *const *earlier, size_t k, const char *transform, const pl_column *col)
{
	size_t len = strcspn(transform, "(");
	bool identity = strcmp(transform, "identity") == 0;
	pl_buf name = PL_BUF_INIT, out = PL_BUF_INIT;
	if (identity)
		pl_buf_puts(&name, col->name);
	else
		pl_buf_put(&name, transform, len);
	bool taken = false;
	for (size_t j = 0; j < k && !taken && !pl_buf_oom(&name); j++)
		taken = pl_str_ieq(earlier[j], pl_buf_cstr(&name));
	if (taken) {
		pl_buf_putc(&name, '_');
		pl_buf_puts(&name, col->name);
	}
	for (const char *c = pl_buf_oom(&name) ? "" : pl_buf_cstr(&name); *c; c++) {
		unsigned char u = (unsigned char)*c;
		if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || u == '_' || u == '-' ||
		    (u == '.' && c != pl_buf_cstr(&name)))
			pl_buf_putc(&out, (char)u);
		else
			pl_buf_printf(&out, "%%%02X", u);
	}
	bool oom = pl_buf_oom(&name);
	pl_buf_dispose(&name);
	if (oom) {
		pl_buf_dispose(&out);
		return NULL;
	}
	return pl_buf_detach(&out);
}

static void key_expr(pl_buf *out, const char *transform, const pl_column *col)
{
	if (strncmp(transform, "bucket(", 7) == 0) {
		/* a nested value hashes as its text, as DuckLake hashes it */
		pl_buf_puts(out, is_nested(col->type) ? "(murmur3_32(CAST(" : "(murmur3_32(");
		pl_buf_put_ident(out, col->name);
		pl_buf_printf(out, "%s) & 2147483647) %% %lld", is_nested(col->type) ? " AS VARCHAR)" : "",
			      strtoll(transform + 7, NULL, 10));
		return;
	}
	pl_buf_puts(out, transform); /* year / month / day / hour */
	pl_buf_putc(out, '(');
	pl_buf_put_ident(out, col->name);
	pl_buf_putc(out, ')');
}

int pl_partition_write_plan(const pl_table *t, pl_partition_write *w, pl_err *err)
{
	memset(w, 0, sizeof(*w));
	w->partition_id = t->partition_id;
	if (t->npartition_keys == 0)
		return 0;
	bool all_identity = true;
	for (size_t k = 0; k < t->npartition_keys; k++) {
		if (!column_by_id(t, t->partition_keys[k].column_id))
			return pl_err_set(err, PL_EINVALID, "the partitioning of table \"%s\" names a column it no longer has; "
					  "set it again with ALTER TABLE ... SET PARTITIONED BY", t->name);
		all_identity = all_identity && strcmp(t->partition_keys[k].transform, "identity") == 0;
	}
	pl_buf sel = PL_BUF_INIT, opt = PL_BUF_INIT;
	pl_buf_puts(&sel, "SELECT *");
	pl_buf_puts(&opt, ", PARTITION_BY (");
	/* Only identity keys: the table's own columns partition the files and stay in them. With a
	 * transform, every key (identity ones too) is a computed column that stays out of the files,
	 * as DuckLake writes them; its directories are renamed after DuckLake's key names. */
	if (!all_identity && !(w->dir_names = calloc(t->npartition_keys + 1, sizeof(*w->dir_names)))) {
		pl_buf_dispose(&sel);
		pl_buf_dispose(&opt);
		return pl_err_nomem(err);
	}
	bool oom = false;
	for (size_t k = 0; k < t->npartition_keys; k++) {
		const pl_partition_key *key = &t->partition_keys[k];
		const pl_column *col = column_by_id(t, key->column_id);
		if (k)
			pl_buf_puts(&opt, ", ");
		if (all_identity) {
			pl_buf_put_ident(&opt, col->name);
			continue;
		}
		pl_buf_puts(&sel, ", ");
		if (strcmp(key->transform, "identity") == 0)
			pl_buf_put_ident(&sel, col->name);
		else
			key_expr(&sel, key->transform, col);
		pl_buf_printf(&sel, " AS %s%zu", PL_PARTITION_KEY_PREFIX, k);
		pl_buf_printf(&opt, "%s%zu", PL_PARTITION_KEY_PREFIX, k);
		oom = oom || !(w->dir_names[k] = key_dir_name(w->dir_names, k, key->transform, col));
		w->nkeys = k + 1;
	}
	pl_buf_printf(&opt, "), WRITE_PARTITION_COLUMNS %s", all_identity ? "true" : "false");
	pl_buf_puts(&sel, " FROM (");
	if (oom || pl_buf_oom(&sel) || pl_buf_oom(&opt)) {
		pl_buf_dispose(&sel);
		pl_buf_dispose(&opt);
		pl_partition_write_dispose(w);
		return pl_err_nomem(err);
	}
	w->select_prefix = pl_buf_detach(&sel);
	w->options = pl_buf_detach(&opt);
	return 0;
}

void pl_partition_write_dispose(pl_partition_write *w)
{
	free(w->select_prefix);
	free(w->options);
	for (size_t k = 0; w->dir_names && k < w->nkeys; k++)
		free(w->dir_names[k]);
	free(w->dir_names);
	w->select_prefix = w->options = NULL;
	w->dir_names = NULL;
	w->nkeys = 0;
}

char *pl_partition_dir_path(const pl_partition_write *w, const char *rel)
{
	if (!w->dir_names)
		return pl_strdup(rel);
	pl_buf out = PL_BUF_INIT;
	size_t plen = strlen(PL_PARTITION_KEY_PREFIX);
	for (const char *c = rel; *c;) {
		size_t len = strcspn(c, "/");
		char *end = NULL;
		unsigned long long k = strncmp(c, PL_PARTITION_KEY_PREFIX, plen) == 0 && c[plen] >= '0' && c[plen] <= '9'
					       ? strtoull(c + plen, &end, 10)
					       : 0;
		if (end && *end == '=' && k < w->nkeys && (size_t)(end - c) < len) {
			pl_buf_puts(&out, w->dir_names[k]);
			pl_buf_put(&out, end, len - (size_t)(end - c));
		} else {
			pl_buf_put(&out, c, len);
		}
		c += len;
		if (*c == '/')
			pl_buf_putc(&out, *c++);
	}
	if (pl_buf_oom(&out)) {
		pl_buf_dispose(&out);
		return NULL;
	}
	return pl_buf_detach(&out);
}

/* ---- sort order ------------------------------------------------------------------------------ */

/* ---- files added with hive paths ------------------------------------------------------------ */

static int invalid_partition(const char *file, pl_err *err)
{
	return pl_err_set(err, PL_EINVALID,
			  "Invalid Input Error: File \"%s\" contains an invalid partition value for the table configuration.",
			  file);
}

int pl_partition_from_hive(duckdb_connection con, const pl_table *t, const char *file, const char *const *keys,
			   const char *const *values, size_t n, pl_new_file *f, pl_err *err)
{
	size_t nk = t->npartition_keys;
	if (nk == 0)
		return 0;
	for (size_t h = 0; h < n; h++) { /* a column named in the path must be an identity key */
		const pl_column *col = top_column(t, keys[h]);
		bool key = false;
		for (size_t k = 0; col && k < nk && !key; k++)
			key = t->partition_keys[k].column_id == col->id && strcmp(t->partition_keys[k].transform, "identity") == 0;
		if (col && !key)
			return invalid_partition(file, err);
	}
	char **names = calloc(nk + 1, sizeof(*names));
	size_t *at = calloc(nk, sizeof(*at));
	pl_buf q = PL_BUF_INIT;
	int rc = !names || !at ? pl_err_nomem(err) : 0;
	pl_buf_puts(&q, "SELECT ");
	for (size_t k = 0; rc == 0 && k < nk; k++) {
		const pl_partition_key *key = &t->partition_keys[k];
		const pl_column *col = column_by_id(t, key->column_id);
		if (!col) {
			rc = invalid_partition(file, err);
			break;
		}
		if (!(names[k] = key_dir_name(names, k, key->transform, col))) {
			rc = pl_err_nomem(err);
			break;
		}
		bool found = false;
		for (at[k] = 0; at[k] < n && !found; at[k]++)
			found = pl_str_ieq(keys[at[k]], names[k]);
		if (!found) {
			rc = invalid_partition(file, err);
			break;
		}
		at[k]--;
		pl_buf type = PL_BUF_INIT;
		if (strcmp(key->transform, "identity") == 0)
			rc = pl_column_duckdb_type(&type, col, err);
		else
			pl_buf_puts(&type, "BIGINT");
		pl_buf_printf(&q, "%sCAST(TRY_CAST(", k ? ", " : "");
		pl_buf_put_literal(&q, values[at[k]] ? values[at[k]] : "");
		pl_buf_printf(&q, " AS %s) AS VARCHAR)", pl_buf_cstr(&type));
		pl_buf_dispose(&type);
	}
	duckdb_result res;
	bool have = false;
	if (rc == 0 && !(rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query(con, pl_buf_cstr(&q), &res, err)))
		have = true;
	pl_buf_dispose(&q);
	if (rc == 0 && !(f->partition_values = calloc(nk, sizeof(*f->partition_values))))
		rc = pl_err_nomem(err);
	for (size_t k = 0; rc == 0 && k < nk; k++, f->npartition_values++) {
		const char *v = values[at[k]];
		if (!v)
			continue;
		bool oom = false;
		f->partition_values[k] = pl_engine_value_str(&res, (idx_t)k, 0, &oom);
		if (oom)
			rc = pl_err_nomem(err);
		else if (!f->partition_values[k])
			rc = pl_err_set(err, PL_EINVALID,
					"Invalid Input Error: Unable to cast '%s' (from hive partition column '%s') to the "
					"type of partition key %zu of table \"%s\"",
					v, keys[at[k]], k, t->name);
	}
	if (have)
		duckdb_destroy_result(&res);
	for (size_t k = 0; names && k < nk; k++)
		free(names[k]);
	free(names);
	free(at);
	if (rc == 0) {
		f->partitioned = true;
		f->partition_id = t->partition_id;
	}
	return rc;
}

static bool same_sort(const pl_table *t, const pl_sort_spec *keys, size_t n)
{
	if (t->nsort_keys != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(t->sort_keys[i].expression, keys[i].expression) != 0 ||
		    t->sort_keys[i].descending != keys[i].descending || t->sort_keys[i].nulls_first != keys[i].nulls_first)
			return false;
	return true;
}

int pl_sort_plan(const pl_table *t, const pl_sort_spec *keys, size_t n, pl_txn *txn, bool *noop, pl_err *err)
{
	*noop = false;
	pl_new_sort *ns = pl_txn_add_sort(txn);
	if (!ns)
		return pl_err_nomem(err);
	ns->table_id = t->id;
	/* setting the same order again still alters the table, as in DuckLake (see pl_new_sort) */
	ns->unchanged = same_sort(t, keys, n);
	ns->expressions = calloc(n + 1, sizeof(*ns->expressions));
	ns->descending = calloc(n + 1, sizeof(*ns->descending));
	ns->nulls_first = calloc(n + 1, sizeof(*ns->nulls_first));
	if (!ns->expressions || !ns->descending || !ns->nulls_first)
		return pl_err_nomem(err);
	for (size_t i = 0; i < n; i++, ns->nkeys++) {
		if (!(ns->expressions[i] = pl_strdup(keys[i].expression)))
			return pl_err_nomem(err);
		ns->descending[i] = keys[i].descending;
		ns->nulls_first[i] = keys[i].nulls_first;
	}
	return 0;
}

/* Renames the unqualified column references in a syntax tree as DuckDB's JSON text, in one pass
 * (so that swapped names stay right) and without reading the rest of the tree (its integers may
 * exceed what a JSON library keeps exactly): each "column_names":[one name] is rewritten.
 * *changed when a name was renamed, *all_known false when one is not in from. */
static int rename_refs(const char *json, const char *const *from, const char *const *to, size_t n, pl_buf *out,
		       bool *changed, bool *all_known)
{
	static const char key[] = "\"column_names\":";
	const char *p = json;
	for (const char *hit; (hit = strstr(p, key)) != NULL;) {
		const char *arr = hit + sizeof(key) - 1;
		pl_buf_put(out, p, (size_t)(arr - p));
		json_error_t jerr;
		json_t *names = json_loadb(arr, strlen(arr), JSON_DISABLE_EOF_CHECK, &jerr);
		if (!names)
			return -1;
		size_t used = (size_t)jerr.position;
		const char *col = json_array_size(names) == 1 ? json_string_value(json_array_get(names, 0)) : NULL;
		size_t i = 0;
		while (col && i < n && !pl_str_ieq(col, from[i]))
			i++;
		if (col && i == n)
			*all_known = false;
		if (col && i < n && strcmp(col, to[i]) != 0) {
			char *text = json_array_set_new(names, 0, json_string(to[i])) ? NULL : json_dumps(names, JSON_COMPACT);
			if (!text) {
				json_decref(names);
				return -1;
			}
			pl_buf_puts(out, text);
			free(text);
			*changed = true;
		} else {
			pl_buf_put(out, arr, used);
		}
		json_decref(names);
		p = arr + used;
	}
	pl_buf_puts(out, p);
	return pl_buf_oom(out) ? -1 : 0;
}

int pl_sort_rename(duckdb_connection con, const char *expr, const char *const *from, const char *const *to, size_t n,
		   char **out, bool *all_known, pl_err *err)
{
	*out = NULL;
	*all_known = true;
	pl_buf q = PL_BUF_INIT, text = PL_BUF_INIT, edited = PL_BUF_INIT;
	pl_buf_puts(&text, "SELECT ");
	pl_buf_puts(&text, expr);
	pl_buf_puts(&q, "SELECT CAST(json_serialize_sql(");
	pl_buf_put_literal(&q, pl_buf_cstr(&text));
	pl_buf_puts(&q, ") AS VARCHAR)");
	char *json = NULL, *norm = NULL;
	int rc = pl_buf_oom(&q) || pl_buf_oom(&text) ? pl_err_nomem(err) : pl_engine_query_value(con, q.ptr, &json, err);
	if (rc == 0 && (!json || strncmp(json, "{\"error\":false", 14) != 0))
		rc = pl_err_set(err, PL_EINVALID, "cannot read the sort expression \"%s\"", expr);
	bool changed = false;
	if (rc == 0 && rename_refs(json, from, to, n, &edited, &changed, all_known))
		rc = pl_err_set(err, PL_EINVALID, "cannot read the sort expression \"%s\"", expr);
	if (rc == 0 && !changed) {
		*out = pl_strdup(expr);
		rc = *out ? 0 : pl_err_nomem(err);
		goto done;
	}
	pl_buf_truncate(&q, 0);
	pl_buf_puts(&q, "SELECT json_deserialize_sql(");
	pl_buf_put_literal(&q, pl_buf_cstr(&edited));
	pl_buf_puts(&q, "::JSON)");
	if (rc == 0)
		rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query_value(con, q.ptr, &norm, err);
	if (rc == 0 && (!norm || strncmp(norm, "SELECT ", 7) != 0))
		rc = pl_err_set(err, PL_EINVALID, "cannot rewrite the sort expression \"%s\"", expr);
	if (rc == 0 && !(*out = pl_strdup(norm + 7)))
		rc = pl_err_nomem(err);
done:
	free(json);
	free(norm);
	pl_buf_dispose(&q);
	pl_buf_dispose(&text);
	pl_buf_dispose(&edited);
	return rc;
}

int pl_sort_keys_for(duckdb_connection con, const pl_table *latest, const pl_table *cols, char ***out, pl_err *err)
{
	*out = NULL;
	bool all_known = true;
	if (latest->nsort_keys == 0)
		return 0;
	char **keys = calloc(latest->nsort_keys + 1, sizeof(*keys));
	if (keys && latest == cols) { /* the same columns: the expressions as they are */
		for (size_t k = 0; k < latest->nsort_keys; k++)
			if (!(keys[k] = pl_strdup(latest->sort_keys[k].expression))) {
				pl_strv_free(keys);
				return pl_err_nomem(err);
			}
		*out = keys;
		return 0;
	}
	const char **from = calloc(latest->ntop + 1, sizeof(*from)), **to = calloc(latest->ntop + 1, sizeof(*to));
	int rc = from && to && keys ? 0 : pl_err_nomem(err);
	size_t n = 0;
	for (size_t i = 0; rc == 0 && i < latest->ntop; i++) {
		const pl_column *c = column_by_id(cols, latest->top[i]->id);
		if (c) {
			from[n] = latest->top[i]->name;
			to[n++] = c->name;
		}
	}
	for (size_t k = 0; rc == 0 && all_known && k < latest->nsort_keys; k++)
		rc = pl_sort_rename(con, latest->sort_keys[k].expression, from, to, n, &keys[k], &all_known, err);
	free(from);
	free(to);
	if (rc || !all_known) {
		pl_strv_free(keys);
		return rc;
	}
	*out = keys;
	return 0;
}

char *pl_sort_source(const pl_table *t, const char *source)
{
	if (t->nsort_keys == 0)
		return pl_strdup(source);
	pl_buf b = PL_BUF_INIT;
	pl_buf_printf(&b, "SELECT * FROM (%s) AS __planar_sorted ORDER BY ", source);
	for (size_t i = 0; i < t->nsort_keys; i++)
		pl_buf_printf(&b, "%s%s %s NULLS %s", i ? ", " : "", t->sort_keys[i].expression,
			      t->sort_keys[i].descending ? "DESC" : "ASC", t->sort_keys[i].nulls_first ? "FIRST" : "LAST");
	return pl_buf_detach(&b);
}
