/*
 * types.c -- DuckLake 1.0 column types (data_types.md of the spec) and their DuckDB spellings.
 * Nested types are column trees: struct/list/map parents with child columns ("element" for
 * lists, "key"/"value" for maps).
 */
#include <string.h>

#include "catalog/model.h"
#include "core/str.h"

static const struct {
	const char *ducklake, *duckdb;
} type_map[] = {
	{"boolean", "BOOLEAN"},       {"int8", "TINYINT"},
	{"int16", "SMALLINT"},        {"int32", "INTEGER"},
	{"int64", "BIGINT"},          {"uint8", "UTINYINT"},
	{"uint16", "USMALLINT"},      {"uint32", "UINTEGER"},
	{"uint64", "UBIGINT"},        {"int128", "HUGEINT"},
	{"uint128", "UHUGEINT"},      {"float32", "FLOAT"},
	{"float64", "DOUBLE"},        {"time", "TIME"},
	{"timetz", "TIME WITH TIME ZONE"}, {"date", "DATE"},
	{"timestamp", "TIMESTAMP"},   {"timestamptz", "TIMESTAMP WITH TIME ZONE"},
	{"timestamp_s", "TIMESTAMP_S"}, {"timestamp_ms", "TIMESTAMP_MS"},
	{"timestamp_ns", "TIMESTAMP_NS"}, {"interval", "INTERVAL"},
	{"varchar", "VARCHAR"},       {"blob", "BLOB"},
	{"json", "JSON"},             {"uuid", "UUID"},
	{"variant", "VARIANT"},       {"geometry", "GEOMETRY"},
};

const char *pl_ducklake_to_duckdb_type(const char *t)
{
	for (size_t i = 0; i < sizeof(type_map) / sizeof(type_map[0]); i++)
		if (strcmp(type_map[i].ducklake, t) == 0)
			return type_map[i].duckdb;
	return NULL;
}

const char *pl_duckdb_to_ducklake_type(const char *t)
{
	for (size_t i = 0; i < sizeof(type_map) / sizeof(type_map[0]); i++)
		if (pl_str_ieq(type_map[i].duckdb, t))
			return type_map[i].ducklake;
	return NULL;
}

int pl_column_duckdb_type(pl_buf *out, const pl_column *col, pl_err *err)
{
	const char *t = col->type;
	if (strcmp(t, "struct") == 0) {
		pl_buf_puts(out, "STRUCT(");
		for (size_t i = 0; i < col->nchildren; i++) {
			if (i)
				pl_buf_puts(out, ", ");
			pl_buf_put_ident(out, col->children[i]->name);
			pl_buf_putc(out, ' ');
			int rc = pl_column_duckdb_type(out, col->children[i], err);
			if (rc)
				return rc;
		}
		pl_buf_putc(out, ')');
		return 0;
	}
	if (strcmp(t, "list") == 0 && col->nchildren == 1) {
		int rc = pl_column_duckdb_type(out, col->children[0], err);
		pl_buf_puts(out, "[]");
		return rc;
	}
	if (strcmp(t, "map") == 0 && col->nchildren == 2) {
		pl_buf_puts(out, "MAP(");
		int rc = pl_column_duckdb_type(out, col->children[0], err);
		pl_buf_puts(out, ", ");
		if (rc == 0)
			rc = pl_column_duckdb_type(out, col->children[1], err);
		pl_buf_putc(out, ')');
		return rc;
	}
	if (strncmp(t, "decimal(", 8) == 0) {
		pl_buf_puts(out, "DECIMAL");
		pl_buf_puts(out, t + 7);
		return 0;
	}
	const char *duck = pl_ducklake_to_duckdb_type(t);
	if (!duck)
		return pl_err_set(err, PL_EUNSUPPORTED,
				  "column \"%s\" has an unsupported type '%s', which Planar cannot read", col->name, t);
	pl_buf_puts(out, duck);
	return 0;
}
