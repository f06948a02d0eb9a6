/*
 * addfiles.c -- registering existing Parquet files (see addfiles.h). The files' footers are read
 * through DuckDB (parquet_file_metadata, parquet_schema, parquet_metadata: three queries per
 * path or glob, whatever the number of files), the same rules as DuckLake's decide which file
 * columns map to which table columns, and the result is a pl_txn of external files with their
 * name maps and statistics.
 */
#include "table/addfiles.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/objhooks.h"
#include "core/str.h"
#include "storage/s3lake.h"
#include "storage/secrets.h"
#include "table/partition.h"

/* One element of a file's Parquet schema. */
typedef struct pq_col {
	char *name, *converted, *duckdb_type, *logical;
	size_t nchildren;
	struct pq_col *children;
	long leaf;          /* leaf number (parquet_metadata's column_id), -1 for a group */
	int64_t field;      /* the table column it maps to, -1 none */
	const char *dltype; /* that column's DuckLake type */
} pq_col;

typedef struct pq_stats {
	bool seen, no_min, no_max, no_nulls, no_values;
	const char *min, *max; /* point into the metadata result */
	int64_t nulls, values, size;
} pq_stats;

typedef struct hive_kv {
	char *key, *value; /* value NULL: the default (NULL) partition */
} hive_kv;

typedef struct file_job {
	const pl_table *t;
	const pl_addfiles_opts *o;
	const char *file;
	pl_namemap *map;
	hive_kv *hive;
	size_t nhive;
	duckdb_connection con;
	pl_new_file *nf;
	int64_t rows;
} file_job;

static void free_col(pq_col *c)
{
	for (size_t i = 0; i < c->nchildren; i++)
		free_col(&c->children[i]);
	free(c->children);
	free(c->name);
	free(c->converted);
	free(c->duckdb_type);
	free(c->logical);
}

/* Builds the element at *row (and its children) from parquet_schema rows of one file. */
static int parse_col(duckdb_result *r, idx_t end, idx_t *row, long *leaves, pq_col *out, int depth, pl_err *err)
{
	bool oom = false;
	memset(out, 0, sizeof(*out));
	out->field = -1;
	if (*row >= end || depth > 64)
		return pl_err_set(err, PL_EINVALID, "the Parquet schema of the file is malformed");
	idx_t i = (*row)++;
	out->name = pl_engine_value_str(r, 1, i, &oom);
	out->converted = pl_engine_value_str(r, 3, i, &oom);
	out->duckdb_type = pl_engine_value_str(r, 4, i, &oom);
	out->logical = pl_engine_value_str(r, 5, i, &oom);
	char *nc = pl_engine_value_str(r, 2, i, &oom);
	long n = nc ? atol(nc) : 0;
	free(nc);
	if (oom)
		return pl_err_nomem(err);
	if (n < 0 || n > 100000)
		return pl_err_set(err, PL_EINVALID, "the Parquet schema of the file is malformed");
	out->leaf = n == 0 ? (*leaves)++ : -1;
	if (n == 0)
		return 0;
	out->children = calloc((size_t)n, sizeof(*out->children));
	if (!out->children)
		return pl_err_nomem(err);
	for (long k = 0; k < n; k++) {
		out->nchildren++;
		int rc = parse_col(r, end, row, leaves, &out->children[k], depth + 1, err);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- types -------------------------------------------------------------------------------- */

static const char *source_type(const pq_col *c)
{
	if (c->nchildren) {
		if (c->converted && strcmp(c->converted, "LIST") == 0)
			return "LIST";
		if (c->converted && (strcmp(c->converted, "MAP") == 0 || strcmp(c->converted, "MAP_KEY_VALUE") == 0))
			return "MAP";
		return "STRUCT";
	}
	/* GEOMETRY only in Parquet's own geometry type, not GeoParquet 1.x's WKB blobs */
	if (c->logical && strncmp(c->logical, "Geometry", 8) == 0)
		return "GEOMETRY";
	if (c->duckdb_type && strcmp(c->duckdb_type, "GEOMETRY") == 0)
		return "BLOB";
	return c->duckdb_type ? c->duckdb_type : "BLOB";
}

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

static void put_expected(pl_buf *b, const char *const *list)
{
	size_t n = 0;
	while (list[n])
		n++;
	pl_buf_puts(b, n > 1 ? "one of " : "");
	for (size_t i = 0; i < n; i++)
		pl_buf_printf(b, "%s%s", i ? ", " : "", list[i]);
}

/* The accepted file types for a table type (DuckLake's widening rules), NULL: exactly the same. */
static const char *const *accepted(const char *dl)
{
	static const char *const i64[] = {"BIGINT", "UINTEGER", "INTEGER", "USMALLINT", "SMALLINT", "UTINYINT", "TINYINT", NULL};
	static const char *const u64[] = {"UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT", NULL};
	static const char *const f64[] = {"DOUBLE", "FLOAT", NULL};
	static const char *const ts_ns[] = {"TIMESTAMP_NS", "TIMESTAMP", "TIMESTAMP_MS", "TIMESTAMP_S", NULL};
	static const struct {
		const char *type;
		const char *const *list;
	} rules[] = {
		{"int64", i64},     {"int32", i64 + 2},   {"int16", i64 + 4},   {"int8", i64 + 6},
		{"uint64", u64},    {"uint32", u64 + 1},  {"uint16", u64 + 2},  {"uint8", u64 + 3},
		{"float64", f64},   {"float32", f64 + 1}, {"timestamp", ts_ns}, {"timestamp_ns", ts_ns},
		{"timestamp_ms", ts_ns + 1}, {"timestamp_s", ts_ns + 1},
	};
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (strcmp(dl, rules[i].type) == 0)
			return rules[i].list;
	return NULL;
}

static int type_error(const file_job *j, const char *prefix, const pq_col *c, const char *detail, pl_err *err)
{
	return pl_err_set(err, PL_EINVALID,
			  "Invalid Input Error: Failed to map column \"%s%s%s\" from file \"%s\" to the column in table "
			  "\"%s\"\n* %s",
			  prefix, *prefix ? "." : "", c->name, j->file, j->t->name, detail);
}

static int check_type(const file_job *j, const char *prefix, const pq_col *c, const pl_column *col, pl_err *err)
{
	const char *src = source_type(c);
	const char *dl = col->type;
	pl_buf d = PL_BUF_INIT;
	bool ok;
	if (strcmp(dl, "struct") == 0 || strcmp(dl, "list") == 0 || strcmp(dl, "map") == 0) {
		char up[8];
		size_t k = 0;
		for (; dl[k] && k < sizeof(up) - 1; k++)
			up[k] = (char)(dl[k] - 'a' + 'A');
		up[k] = '\0';
		ok = strcmp(src, up) == 0;
		if (!ok)
			pl_buf_printf(&d, "Expected type \"%s\" but found type \"%s\"", up, src);
	} else if (strcmp(dl, "geometry") == 0) {
		ok = strcmp(src, "GEOMETRY") == 0;
		if (!ok)
			pl_buf_printf(&d, "Expected type \"GEOMETRY\" but found type \"%s\". Is this a GeoParquet v1.*.* file? "
					  "DuckLake only supports GEOMETRY types stored in native Parquet(V3) format, not "
					  "GeoParquet(v1.*.*)", src);
	} else if (strncmp(dl, "decimal(", 8) == 0) {
		int tp = 0, ts = 0, sp = 0, ss = 0;
		ok = sscanf(dl, "decimal(%d,%d)", &tp, &ts) == 2 && sscanf(src, "DECIMAL(%d,%d)", &sp, &ss) == 2;
		if (!ok && strncmp(src, "DECIMAL", 7) != 0)
			pl_buf_printf(&d, "Expected type \"DECIMAL\" but found type \"%s\"", src);
		else if (ok && (ss > ts || sp > tp)) {
			ok = false;
			pl_buf_printf(&d, "Incompatible decimal precision/scale - found precision %d, scale %d - but table is "
					  "defined with precision %d, scale %d", sp, ss, tp, ts);
		} else if (!ok)
			pl_buf_printf(&d, "Expected type \"DECIMAL\" but found type \"%s\"", src);
	} else {
		const char *const *list = accepted(dl);
		const char *exact[] = {pl_ducklake_to_duckdb_type(dl), NULL};
		if (!list)
			list = exact[0] ? exact : NULL;
		ok = list && in_list(src, list);
		if (!ok && list) {
			pl_buf_puts(&d, "Expected ");
			put_expected(&d, list);
			pl_buf_printf(&d, ", found type %s", src);
		} else if (!ok)
			pl_buf_printf(&d, "Expected type \"%s\", found type %s", dl, src);
	}
	int rc = 0;
	if (pl_buf_oom(&d))
		rc = pl_err_nomem(err);
	else if (!ok)
		rc = type_error(j, prefix, c, pl_buf_cstr(&d), err);
	pl_buf_dispose(&d);
	return rc;
}

/* ---- mapping ------------------------------------------------------------------------------ */

static const hive_kv *hive_find(const file_job *j, const char *name)
{
	for (size_t i = 0; i < j->nhive; i++)
		if (pl_str_ieq(j->hive[i].key, name))
			return &j->hive[i];
	return NULL;
}

static int add_stats(file_job *j, int64_t field, const char *type, const char *min, const char *max, int64_t nulls,
		     int64_t values, int64_t size, pl_err *err)
{
	pl_new_file *f = j->nf;
	pl_column_stats *p = realloc(f->stats, (f->nstats + 1) * sizeof(*p));
	if (!p)
		return pl_err_nomem(err);
	f->stats = p;
	pl_column_stats *s = &p[f->nstats++];
	*s = (pl_column_stats){field, values, nulls, size, NULL, NULL, -1, NULL};
	s->min = min ? pl_strdup(min) : NULL;
	s->max = max ? pl_strdup(max) : NULL;
	s->type = pl_strdup(type);
	return (min && !s->min) || (max && !s->max) || !s->type ? pl_err_nomem(err) : 0;
}

/* A column whose value comes from the file's hive path. */
static int map_hive(file_job *j, const pl_column *col, const hive_kv *kv, long parent, pl_err *err)
{
	if (col->nchildren)
		return pl_err_set(err, PL_EINVALID, "Invalid Input Error: Type \"%s\" is not supported for hive partitioning",
				  col->type);
	if (kv->value) {
		pl_buf q = PL_BUF_INIT;
		pl_buf type = PL_BUF_INIT;
		int rc = pl_column_duckdb_type(&type, col, err);
		if (rc) {
			pl_buf_dispose(&type);
			return rc;
		}
		char upper[128];
		size_t n = 0;
		for (; kv->key[n] && n < sizeof(upper) - 1; n++)
			upper[n] = (char)toupper((unsigned char)kv->key[n]);
		upper[n] = '\0';
		pl_buf_puts(&q, "SELECT TRY_CAST(");
		pl_buf_put_literal(&q, kv->value);
		pl_buf_printf(&q, " AS %s) IS NOT NULL", pl_buf_cstr(&type));
		char *v = NULL;
		pl_err e = {0};
		rc = pl_buf_oom(&q) ? pl_err_nomem(err) : pl_engine_query_value(j->con, pl_buf_cstr(&q), &v, &e);
		bool ok = rc == 0 && v && strcmp(v, "true") == 0;
		free(v);
		pl_buf_dispose(&q);
		if (rc == 0 && !ok)
			rc = pl_err_set(err, PL_EINVALID,
					"Invalid Input Error: Unable to cast '%s' (from hive partition column '%s') to: '%s'",
					kv->value, upper, pl_buf_cstr(&type));
		pl_buf_dispose(&type);
		if (rc)
			return rc;
	}
	if (pl_namemap_add(j->map, parent, col->name, col->id, true) < 0)
		return pl_err_nomem(err);
	return add_stats(j, col->id, col->type, kv->value, kv->value, kv->value ? 0 : j->rows, j->rows, -1, err);
}

static int map_columns(file_job *j, pq_col *cols, size_t ncols, pl_column **fields, size_t nfields,
		       const char *prefix, long parent, int depth, pl_err *err);

static int map_column(file_job *j, pq_col *c, const char *source, const pl_column *col, const char *prefix,
		      long parent, int depth, pl_err *err)
{
	int rc = check_type(j, prefix, c, col, err);
	if (rc)
		return rc;
	long me = pl_namemap_add(j->map, parent, source, col->id, false);
	if (me < 0)
		return pl_err_nomem(err);
	c->field = col->id;
	c->dltype = col->type;
	if (!col->nchildren)
		return 0;
	pl_buf p = PL_BUF_INIT;
	pl_buf_printf(&p, "%s%s%s", prefix, *prefix ? "." : "", c->name);
	if (pl_buf_oom(&p))
		return pl_err_nomem(err);
	const char *sub = pl_buf_cstr(&p);
	if (strcmp(col->type, "struct") == 0) {
		rc = map_columns(j, c->children, c->nchildren, col->children, col->nchildren, sub, me, depth + 1, err);
	} else if (c->nchildren != 1) {
		rc = type_error(j, prefix, c, "the nested column's layout is not supported", err);
	} else if (strcmp(col->type, "list") == 0) {
		pq_col *rep = &c->children[0];
		if (rep->name && strcmp(rep->name, "array") == 0)
			rc = map_column(j, rep, rep->name, col->children[0], sub, me, depth + 1, err);
		else if (rep->nchildren == 1)
			rc = map_column(j, &rep->children[0], "list", col->children[0], sub, me, depth + 1, err);
		else
			rc = type_error(j, prefix, c, "the list's layout is not supported", err);
	} else {
		rc = map_columns(j, c->children[0].children, c->children[0].nchildren, col->children, col->nchildren,
				 sub, me, depth + 1, err);
	}
	pl_buf_dispose(&p);
	return rc;
}

static int map_columns(file_job *j, pq_col *cols, size_t ncols, pl_column **fields, size_t nfields,
		       const char *prefix, long parent, int depth, pl_err *err)
{
	if (depth > 64)
		return pl_err_set(err, PL_EINVALID, "the file's columns nest too deeply");
	bool *used = calloc(nfields + 1, sizeof(*used));
	if (!used)
		return pl_err_nomem(err);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < ncols; i++) {
		pq_col *c = &cols[i];
		size_t k = 0;
		while (k < nfields && (used[k] || !pl_str_ieq(fields[k]->name, c->name ? c->name : "")))
			k++;
		if (k == nfields) {
			if (!j->o->ignore_extra_columns)
				rc = pl_err_set(err, PL_EINVALID,
						"Invalid Input Error: Column \"%s%s%s\" exists in file \"%s\" but was not found "
						"in table \"%s\"\n* Set ignore_extra_columns => true to add the file anyway",
						prefix, *prefix ? "." : "", c->name, j->file, j->t->name);
			continue;
		}
		used[k] = true;
		const hive_kv *kv = depth == 0 ? hive_find(j, c->name) : NULL;
		rc = kv ? map_hive(j, fields[k], kv, parent, err)
			: map_column(j, c, c->name, fields[k], prefix, parent, depth, err);
	}
	for (size_t k = 0; rc == 0 && k < nfields; k++) {
		if (used[k])
			continue;
		const hive_kv *kv = depth == 0 ? hive_find(j, fields[k]->name) : NULL;
		if (kv)
			rc = map_hive(j, fields[k], kv, parent, err);
		else if (!j->o->allow_missing)
			rc = pl_err_set(err, PL_EINVALID,
					"Invalid Input Error: Column \"%s%s%s\" exists in table \"%s\" but was not found in "
					"file \"%s\"\n* Set allow_missing => true to allow missing fields and columns",
					prefix, *prefix ? "." : "", fields[k]->name, j->t->name, j->file);
	}
	free(used);
	return rc;
}

static int hex_digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* %XX escapes of a hive value, in place (as DuckDB reads them). */
static void url_decode(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '%' && hex_digit(r[1]) >= 0 && hex_digit(r[2]) >= 0) {
			*w++ = (char)(hex_digit(r[1]) * 16 + hex_digit(r[2]));
			r += 2;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

/* key=value directories of a path (DuckDB's hive convention). */
static int parse_hive(file_job *j, pl_err *err)
{
	const char *p = j->file, *end = strrchr(p, '/');
	while (end && p < end) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		const char *seg_end = slash ? slash : end;
		const char *eq = memchr(p, '=', (size_t)(seg_end - p));
		if (eq && eq > p) {
			hive_kv *h = realloc(j->hive, (j->nhive + 1) * sizeof(*h));
			if (!h)
				return pl_err_nomem(err);
			j->hive = h;
			char *k = pl_strndup(p, (size_t)(eq - p)), *v = pl_strndup(eq + 1, (size_t)(seg_end - eq - 1));
			if (!k || !v) {
				free(k);
				free(v);
				return pl_err_nomem(err);
			}
			url_decode(v);
			if (strcmp(v, "NULL") == 0 || strcmp(v, "__HIVE_DEFAULT_PARTITION__") == 0) {
				free(v);
				v = NULL;
			}
			/* a later directory with the same key wins */
			size_t i = 0;
			while (i < j->nhive && strcmp(j->hive[i].key, k) != 0)
				i++;
			if (i < j->nhive) {
				free(j->hive[i].value);
				free(k);
				j->hive[i].value = v;
			} else {
				j->hive[j->nhive++] = (hive_kv){k, v};
			}
		}
		p = seg_end + 1;
	}
	return 0;
}

/* ---- statistics ---------------------------------------------------------------------------- */

static const pq_col *find_leaf(const pq_col *c, long leaf)
{
	if (c->leaf == leaf)
		return c;
	for (size_t i = 0; i < c->nchildren; i++) {
		const pq_col *r = find_leaf(&c->children[i], leaf);
		if (r)
			return r;
	}
	return NULL;
}

static void merge_rowgroup(pq_stats *s, const pq_col *c, duckdb_result *r, idx_t row, char **cells)
{
	(void)r, (void)row;
	const char *min = cells[0], *max = cells[1];
	if (!min)
		s->no_min = true;
	else if (!s->no_min && (!s->min || pl_stats_compare(c->dltype, min, s->min) < 0))
		s->min = min;
	if (!max)
		s->no_max = true;
	else if (!s->no_max && (!s->max || pl_stats_compare(c->dltype, max, s->max) > 0))
		s->max = max;
	if (!cells[2] || atoll(cells[2]) < 0)
		s->no_nulls = true;
	else
		s->nulls += atoll(cells[2]);
	if (!cells[3] || atoll(cells[3]) < 0)
		s->no_values = true;
	else
		s->values += atoll(cells[3]);
	if (cells[4])
		s->size += atoll(cells[4]);
	s->seen = true;
}

/* Statistics of the mapped leaf columns from parquet_metadata rows [from, to) of the file. */
static int file_stats(file_job *j, pq_col *root, long nleaves, duckdb_result *r, idx_t from, idx_t to, pl_err *err)
{
	pq_stats *st = calloc((size_t)nleaves + 1, sizeof(*st));
	char **cells = calloc((size_t)(to - from) * 5 + 1, sizeof(*cells));
	int rc = st && cells ? 0 : pl_err_nomem(err);
	for (idx_t i = from; rc == 0 && i < to; i++) {
		bool oom = false;
		char *id = pl_engine_value_str(r, 1, i, &oom);
		long leaf = id ? atol(id) : -1;
		free(id);
		char **row = &cells[(i - from) * 5];
		for (idx_t k = 0; k < 5; k++)
			row[k] = pl_engine_value_str(r, 2 + k, i, &oom);
		if (oom) {
			rc = pl_err_nomem(err);
			break;
		}
		const pq_col *c = leaf >= 0 && leaf < nleaves ? find_leaf(root, leaf) : NULL;
		if (c && c->field >= 0)
			merge_rowgroup(&st[leaf], c, r, i, row);
	}
	for (long l = 0; rc == 0 && l < nleaves; l++) {
		const pq_col *c = find_leaf(root, l);
		pq_stats *s = &st[l];
		if (!c || c->field < 0 || !s->seen)
			continue;
		/* Parquet's num_values (NULLs included), as the lake's own writer passes it; the commit
		 * records DuckLake's value_count (non-NULL values) from it */
		bool counts = !s->no_nulls && !s->no_values && s->nulls <= s->values;
		rc = add_stats(j, c->field, c->dltype, s->no_min ? NULL : s->min, s->no_max ? NULL : s->max,
			       counts ? s->nulls : -1, counts ? s->values : -1, s->size, err);
	}
	for (size_t i = 0; cells && i < (size_t)(to - from) * 5; i++)
		free(cells[i]);
	free(cells);
	free(st);
	return rc;
}

/* ---- files --------------------------------------------------------------------------------- */

typedef struct glob_results {
	duckdb_result files, schema, meta;
	bool have[3];
} glob_results;

static void glob_results_dispose(glob_results *g)
{
	if (g->have[0])
		duckdb_destroy_result(&g->files);
	if (g->have[1])
		duckdb_destroy_result(&g->schema);
	if (g->have[2])
		duckdb_destroy_result(&g->meta);
}

static int run_query(duckdb_connection con, const char *head, const char *glob, const char *tail, duckdb_result *out,
		     bool *have, pl_err *err)
{
	pl_buf q = PL_BUF_INIT;
	pl_buf_puts(&q, head);
	pl_buf_put_literal(&q, glob);
	pl_buf_puts(&q, tail);
	if (pl_buf_oom(&q))
		return pl_err_nomem(err);
	pl_err e = {0};
	int rc = pl_engine_query(con, pl_buf_cstr(&q), out, &e);
	pl_buf_dispose(&q);
	*have = rc == 0;
	if (rc)
		return pl_err_set(err, PL_EINVALID, "Failed to add data files to DuckLake: %s", e.msg);
	return 0;
}

/* Rows [*pos, end) of r whose first column is file: advances *pos past them. */
static idx_t rows_of(duckdb_result *r, idx_t *pos, const char *file)
{
	idx_t n = duckdb_row_count(r);
	while (*pos < n) {
		bool oom = false;
		char *f = pl_engine_value_str(r, 0, *pos, &oom);
		bool same = f && strcmp(f, file) == 0;
		free(f);
		if (!same)
			break;
		(*pos)++;
	}
	return *pos;
}

/* The file's partition values from its hive path (table/partition.h). */
static int file_partition(file_job *j, pl_err *err)
{
	const char **keys = calloc(j->nhive ? j->nhive : 1, sizeof(*keys));
	const char **values = calloc(j->nhive ? j->nhive : 1, sizeof(*values));
	int rc = !keys || !values ? pl_err_nomem(err) : 0;
	for (size_t i = 0; rc == 0 && i < j->nhive; i++) {
		keys[i] = j->hive[i].key;
		values[i] = j->hive[i].value;
	}
	if (rc == 0)
		rc = pl_partition_from_hive(j->con, j->t, j->file, keys, values, j->nhive, j->nf, err);
	free(keys);
	free(values);
	return rc;
}

static bool seen_before(const pl_txn *txn, size_t first, const char *path)
{
	for (size_t i = first; i < txn->nfiles; i++)
		if (strcmp(txn->files[i].path, path) == 0)
			return true;
	return false;
}

/* An absolute, normalized path for the file as DuckDB named it. */
static char *absolute_path(const char *file)
{
	char *real = realpath(file, NULL);
	if (real)
		return real;
	return pl_strdup(file);
}

/* uri: the s3:// name of the file (read from its copy in the S3 cache), else NULL. */
static int add_file(const pl_table_ctx *ctx, const pl_table *t, const pl_addfiles_opts *o, glob_results *g, idx_t fi,
		    idx_t *spos, idx_t *mpos, size_t first, const char *uri, pl_txn *txn, pl_err *err)
{
	bool oom = false;
	char *name = pl_engine_value_str(&g->files, 0, fi, &oom);
	char *cnt = pl_engine_value_str(&g->files, 1, fi, &oom);
	char *size = pl_engine_value_str(&g->files, 2, fi, &oom);
	char *footer = pl_engine_value_str(&g->files, 3, fi, &oom);
	int rc = oom || !name ? pl_err_nomem(err) : 0;
	file_job j = {t, o, name, NULL, NULL, 0, ctx->con, NULL, cnt ? atoll(cnt) : 0};
	idx_t s0 = *spos, m0 = *mpos;
	idx_t s1 = name ? rows_of(&g->schema, spos, name) : s0;
	idx_t m1 = name ? rows_of(&g->meta, mpos, name) : m0;
	char *path = rc ? NULL : uri ? pl_strdup(uri) : absolute_path(name);
	pq_col root = {0};
	long leaves = 0;
	if (rc == 0 && !path)
		rc = pl_err_nomem(err);
	if (rc == 0 && (j.rows <= 0 || seen_before(txn, first, path)))
		goto done; /* DuckLake skips files without rows */
	if (rc == 0 && o->hive_partitioning != 0)
		rc = parse_hive(&j, err);
	idx_t row = s0;
	if (rc == 0)
		rc = parse_col(&g->schema, s1, &row, &leaves, &root, 0, err);
	if (rc == 0)
		root.leaf = -1;
	pl_new_namemap *nm = rc ? NULL : pl_txn_add_namemap(txn);
	pl_new_file *nf = nm ? pl_txn_add_file(txn) : NULL;
	if (rc == 0 && !nf)
		rc = pl_err_nomem(err);
	if (rc == 0) {
		j.map = &nm->map;
		nm->map.table_id = t->id;
		j.nf = nf;
		nf->table_ref = t->id;
		nf->external = true;
		nf->namemap = txn->nnamemaps;
		nf->path = path;
		path = NULL;
		nf->record_count = j.rows;
		nf->file_size = size ? atoll(size) : 0;
		nf->footer_size = footer ? atoll(footer) : -1;
		rc = map_columns(&j, root.children, root.nchildren, t->top, t->ntop, "", -1, 0, err);
	}
	if (rc == 0)
		rc = file_stats(&j, &root, leaves, &g->meta, m0, m1, err);
	if (rc == 0 && t->partition_id >= 0)
		rc = file_partition(&j, err);
done:
	free_col(&root);
	for (size_t i = 0; i < j.nhive; i++) {
		free(j.hive[i].key);
		free(j.hive[i].value);
	}
	free(j.hive);
	free(path);
	free(name);
	free(cnt);
	free(size);
	free(footer);
	return rc;
}

/* An s3:// file: its copy in the S3 cache (fetched now, with the keys of the secret whose scope
 * is the longest prefix of uri), which DuckDB reads in its place; the catalog names uri. */
static int fetch_s3(const char *uri, char **local_out, pl_err *err)
{
	*local_out = NULL;
	if (strpbrk(uri, "*?[{"))
		return pl_err_set(err, PL_EINVALID, "Failed to add data files to DuckLake: '%s': patterns are not "
				  "supported for s3:// files (name each file)", uri);
	char *local = pl_objhook_file_path(NULL, uri, false);
	if (!local)
		return pl_err_nomem(err);
	if (strncmp(local, "s3://", 5) == 0) {
		free(local);
		pl_s3_config cfg;
		pl_s3_config_init(&cfg);
		int rc = pl_secret_config_for(uri, &cfg, err); /* its message says what to create */
		pl_s3_config_dispose(&cfg);
		if (rc == 0)
			rc = pl_err_set(err, PL_EINVALID, "'%s' is not a readable S3 object name (a key without empty, '.' "
					"or '..' parts)", uri);
		return pl_err_wrap(err, "Failed to add data files to DuckLake");
	}
	const char *one = local;
	int rc = pl_s3lake_ensure(&one, 1, err);
	if (rc) {
		free(local);
		return pl_err_wrap(err, "Failed to add data files to DuckLake: cannot read '%s'", uri);
	}
	*local_out = local;
	return 0;
}

int pl_addfiles_build(const pl_table_ctx *ctx, const pl_table *t, char *const *globs, size_t nglobs,
		      const pl_addfiles_opts *o, pl_txn *txn, pl_err *err)
{
	int rc = 0;
	size_t first = txn->nfiles;
	for (size_t gi = 0; rc == 0 && gi < nglobs; gi++) {
		glob_results g = {0};
		const char *uri = strncmp(globs[gi], "s3://", 5) == 0 ? globs[gi] : NULL;
		char *local = NULL;
		if (uri)
			rc = fetch_s3(uri, &local, err);
		const char *src = local ? local : globs[gi];
		if (rc == 0)
			rc = run_query(ctx->con, "SELECT file_name, num_rows, file_size_bytes, footer_size FROM parquet_file_metadata(",
				       src, ") ORDER BY file_name", &g.files, &g.have[0], err);
		if (rc == 0)
			rc = run_query(ctx->con,
				       "SELECT file_name, name, num_children, converted_type, duckdb_type, logical_type "
				       "FROM parquet_schema(",
				       src, ") ORDER BY file_name, column_id", &g.schema, &g.have[1], err);
		if (rc == 0)
			rc = run_query(ctx->con,
				       "SELECT file_name, column_id, COALESCE(stats_min, stats_min_value), "
				       "COALESCE(stats_max, stats_max_value), stats_null_count, num_values, total_compressed_size "
				       "FROM parquet_metadata(",
				       src, ") ORDER BY file_name, row_group_id, column_id", &g.meta, &g.have[2], err);
		idx_t spos = 0, mpos = 0, n = rc ? 0 : duckdb_row_count(&g.files);
		for (idx_t i = 0; rc == 0 && i < n; i++)
			rc = add_file(ctx, t, o, &g, i, &spos, &mpos, first, uri, txn, err);
		glob_results_dispose(&g);
		free(local);
	}
	return rc;
}
