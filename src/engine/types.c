/*
 * types.c -- spelling DuckDB logical types as SQL type text, the inverse of DuckDB's parser:
 * what pl_engine_type_sql() writes, `CAST(x AS <text>)` accepts.
 */
#include "engine/engine.h"

static const char *simple_name(duckdb_type id)
{
	switch (id) {
	case DUCKDB_TYPE_BOOLEAN: return "BOOLEAN";
	case DUCKDB_TYPE_TINYINT: return "TINYINT";
	case DUCKDB_TYPE_SMALLINT: return "SMALLINT";
	case DUCKDB_TYPE_INTEGER: return "INTEGER";
	case DUCKDB_TYPE_BIGINT: return "BIGINT";
	case DUCKDB_TYPE_UTINYINT: return "UTINYINT";
	case DUCKDB_TYPE_USMALLINT: return "USMALLINT";
	case DUCKDB_TYPE_UINTEGER: return "UINTEGER";
	case DUCKDB_TYPE_UBIGINT: return "UBIGINT";
	case DUCKDB_TYPE_FLOAT: return "FLOAT";
	case DUCKDB_TYPE_DOUBLE: return "DOUBLE";
	case DUCKDB_TYPE_TIMESTAMP: return "TIMESTAMP";
	case DUCKDB_TYPE_DATE: return "DATE";
	case DUCKDB_TYPE_TIME: return "TIME";
	case DUCKDB_TYPE_INTERVAL: return "INTERVAL";
	case DUCKDB_TYPE_HUGEINT: return "HUGEINT";
	case DUCKDB_TYPE_UHUGEINT: return "UHUGEINT";
	case DUCKDB_TYPE_VARCHAR: return "VARCHAR";
	case DUCKDB_TYPE_BLOB: return "BLOB";
	case DUCKDB_TYPE_TIMESTAMP_S: return "TIMESTAMP_S";
	case DUCKDB_TYPE_TIMESTAMP_MS: return "TIMESTAMP_MS";
	case DUCKDB_TYPE_TIMESTAMP_NS: return "TIMESTAMP_NS";
	case DUCKDB_TYPE_UUID: return "UUID";
	case DUCKDB_TYPE_BIT: return "BIT";
	case DUCKDB_TYPE_TIME_TZ: return "TIME WITH TIME ZONE";
	case DUCKDB_TYPE_TIMESTAMP_TZ: return "TIMESTAMP WITH TIME ZONE";
	case DUCKDB_TYPE_BIGNUM: return "BIGNUM";
	case DUCKDB_TYPE_TIME_NS: return "TIME_NS";
	case DUCKDB_TYPE_SQLNULL: return "\"NULL\"";
	default: return NULL;
	}
}

static void put_struct(pl_buf *out, duckdb_logical_type type)
{
	idx_t n = duckdb_struct_type_child_count(type);
	pl_buf_puts(out, "STRUCT(");
	for (idx_t i = 0; i < n; i++) {
		char *name = duckdb_struct_type_child_name(type, i);
		duckdb_logical_type child = duckdb_struct_type_child_type(type, i);
		if (i)
			pl_buf_puts(out, ", ");
		pl_buf_put_ident(out, name ? name : "");
		pl_buf_putc(out, ' ');
		pl_engine_type_sql(out, child);
		duckdb_destroy_logical_type(&child);
		duckdb_free(name);
	}
	pl_buf_putc(out, ')');
}

static void put_enum(pl_buf *out, duckdb_logical_type type)
{
	uint32_t n = duckdb_enum_dictionary_size(type);
	pl_buf_puts(out, "ENUM(");
	for (uint32_t i = 0; i < n; i++) {
		char *v = duckdb_enum_dictionary_value(type, i);
		if (i)
			pl_buf_puts(out, ", ");
		pl_buf_put_literal(out, v ? v : "");
		duckdb_free(v);
	}
	pl_buf_putc(out, ')');
}

static void put_child(pl_buf *out, duckdb_logical_type child)
{
	pl_engine_type_sql(out, child);
	duckdb_destroy_logical_type(&child);
}

void pl_engine_type_sql(pl_buf *out, duckdb_logical_type type)
{
	char *alias = duckdb_logical_type_get_alias(type);
	if (alias) {
		pl_buf_puts(out, alias);
		duckdb_free(alias);
		return;
	}
	duckdb_type id = duckdb_get_type_id(type);
	const char *simple = simple_name(id);
	if (simple) {
		pl_buf_puts(out, simple);
		return;
	}
	switch (id) {
	case DUCKDB_TYPE_DECIMAL:
		pl_buf_printf(out, "DECIMAL(%u,%u)", (unsigned)duckdb_decimal_width(type),
			      (unsigned)duckdb_decimal_scale(type));
		break;
	case DUCKDB_TYPE_LIST:
		put_child(out, duckdb_list_type_child_type(type));
		pl_buf_puts(out, "[]");
		break;
	case DUCKDB_TYPE_ARRAY:
		put_child(out, duckdb_array_type_child_type(type));
		pl_buf_printf(out, "[%llu]", (unsigned long long)duckdb_array_type_array_size(type));
		break;
	case DUCKDB_TYPE_MAP:
		pl_buf_puts(out, "MAP(");
		put_child(out, duckdb_map_type_key_type(type));
		pl_buf_puts(out, ", ");
		put_child(out, duckdb_map_type_value_type(type));
		pl_buf_putc(out, ')');
		break;
	case DUCKDB_TYPE_STRUCT:
		put_struct(out, type);
		break;
	case DUCKDB_TYPE_ENUM:
		put_enum(out, type);
		break;
	case DUCKDB_TYPE_UNION:
		pl_buf_puts(out, "UNION(");
		for (idx_t i = 0; i < duckdb_union_type_member_count(type); i++) {
			char *name = duckdb_union_type_member_name(type, i);
			if (i)
				pl_buf_puts(out, ", ");
			pl_buf_put_ident(out, name ? name : "");
			pl_buf_putc(out, ' ');
			put_child(out, duckdb_union_type_member_type(type, i));
			duckdb_free(name);
		}
		pl_buf_putc(out, ')');
		break;
	default:
		pl_buf_puts(out, "VARCHAR");
		break;
	}
}

bool pl_engine_type_is_numeric(duckdb_type id)
{
	switch (id) {
	case DUCKDB_TYPE_TINYINT:
	case DUCKDB_TYPE_SMALLINT:
	case DUCKDB_TYPE_INTEGER:
	case DUCKDB_TYPE_BIGINT:
	case DUCKDB_TYPE_UTINYINT:
	case DUCKDB_TYPE_USMALLINT:
	case DUCKDB_TYPE_UINTEGER:
	case DUCKDB_TYPE_UBIGINT:
	case DUCKDB_TYPE_HUGEINT:
	case DUCKDB_TYPE_UHUGEINT:
	case DUCKDB_TYPE_FLOAT:
	case DUCKDB_TYPE_DOUBLE:
	case DUCKDB_TYPE_DECIMAL:
		return true;
	default:
		return false;
	}
}
