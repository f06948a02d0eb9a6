/*
 * murmur.c -- murmur3_32(value): DuckLake's bucket-partition hash as a DuckDB scalar function,
 * hashing each type as DuckLake does (Iceberg's rules): integers, booleans, dates, times and
 * timestamps as a 64-bit integer (dates in days, the others in microseconds), floating point
 * numbers as the bits of the double (with -0.0 as 0.0), text and blobs as their bytes.
 */
#include "engine/engine.h"

#include <stdio.h>
#include <string.h>

#include "core/hash.h"

static int64_t int_at(duckdb_type t, const void *data, idx_t r)
{
	switch (t) {
	case DUCKDB_TYPE_BOOLEAN:
		return ((const bool *)data)[r] ? 1 : 0;
	case DUCKDB_TYPE_TINYINT:
		return ((const int8_t *)data)[r];
	case DUCKDB_TYPE_SMALLINT:
		return ((const int16_t *)data)[r];
	case DUCKDB_TYPE_INTEGER:
	case DUCKDB_TYPE_DATE:
		return ((const int32_t *)data)[r];
	default: /* BIGINT, TIME, TIMESTAMP[_TZ] (microseconds) */
		return ((const int64_t *)data)[r];
	}
}

static bool hashes_as_int(duckdb_type t)
{
	switch (t) {
	case DUCKDB_TYPE_BOOLEAN:
	case DUCKDB_TYPE_TINYINT:
	case DUCKDB_TYPE_SMALLINT:
	case DUCKDB_TYPE_INTEGER:
	case DUCKDB_TYPE_BIGINT:
	case DUCKDB_TYPE_DATE:
	case DUCKDB_TYPE_TIME:
	case DUCKDB_TYPE_TIMESTAMP:
	case DUCKDB_TYPE_TIMESTAMP_TZ:
		return true;
	default:
		return false;
	}
}

/* The value as text, for the types DuckLake hashes through their text (unsigned integers). */
static int32_t hash_unsigned(duckdb_type t, const void *data, idx_t r)
{
	uint64_t v = t == DUCKDB_TYPE_UTINYINT    ? ((const uint8_t *)data)[r]
		     : t == DUCKDB_TYPE_USMALLINT ? ((const uint16_t *)data)[r]
		     : t == DUCKDB_TYPE_UINTEGER  ? ((const uint32_t *)data)[r]
						  : ((const uint64_t *)data)[r];
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	return pl_murmur3_32(buf, (size_t)n);
}

static void murmur_fn(duckdb_function_info info, duckdb_data_chunk input, duckdb_vector output)
{
	idx_t n = duckdb_data_chunk_get_size(input);
	duckdb_vector in = duckdb_data_chunk_get_vector(input, 0);
	duckdb_logical_type lt = duckdb_vector_get_column_type(in);
	duckdb_type t = duckdb_get_type_id(lt);
	duckdb_destroy_logical_type(&lt);
	const void *data = duckdb_vector_get_data(in);
	uint64_t *valid = duckdb_vector_get_validity(in);
	int32_t *out = duckdb_vector_get_data(output);
	bool is_unsigned = t == DUCKDB_TYPE_UTINYINT || t == DUCKDB_TYPE_USMALLINT || t == DUCKDB_TYPE_UINTEGER ||
			   t == DUCKDB_TYPE_UBIGINT;
	if (!hashes_as_int(t) && !is_unsigned && t != DUCKDB_TYPE_FLOAT && t != DUCKDB_TYPE_DOUBLE &&
	    t != DUCKDB_TYPE_VARCHAR && t != DUCKDB_TYPE_BLOB) {
		duckdb_scalar_function_set_error(info, "murmur3_32: this type cannot be hashed here; cast it to VARCHAR");
		return;
	}
	for (idx_t r = 0; r < n; r++) {
		if (valid && !duckdb_validity_row_is_valid(valid, r)) {
			pl_engine_vector_set_null(output, r);
			continue;
		}
		if (hashes_as_int(t)) {
			out[r] = pl_murmur3_32_int64(int_at(t, data, r));
		} else if (is_unsigned) {
			out[r] = hash_unsigned(t, data, r);
		} else if (t == DUCKDB_TYPE_FLOAT || t == DUCKDB_TYPE_DOUBLE) {
			double d = t == DUCKDB_TYPE_FLOAT ? (double)((const float *)data)[r] : ((const double *)data)[r];
			if (d == 0.0)
				d = 0.0;
			int64_t bits;
			memcpy(&bits, &d, sizeof(bits));
			out[r] = pl_murmur3_32_int64(bits);
		} else {
			duckdb_string_t s = ((duckdb_string_t *)(uintptr_t)data)[r];
			out[r] = pl_murmur3_32(duckdb_string_t_data(&s), duckdb_string_t_length(s));
		}
	}
}

int pl_engine_register_murmur3(duckdb_connection con, pl_err *err)
{
	duckdb_scalar_function f = duckdb_create_scalar_function();
	duckdb_logical_type any = duckdb_create_logical_type(DUCKDB_TYPE_ANY);
	duckdb_logical_type rt = duckdb_create_logical_type(DUCKDB_TYPE_INTEGER);
	duckdb_scalar_function_set_name(f, "murmur3_32");
	duckdb_scalar_function_add_parameter(f, any);
	duckdb_scalar_function_set_return_type(f, rt);
	duckdb_scalar_function_set_function(f, murmur_fn);
	duckdb_state s = duckdb_register_scalar_function(con, f);
	duckdb_destroy_logical_type(&any);
	duckdb_destroy_logical_type(&rt);
	duckdb_destroy_scalar_function(&f);
	return s == DuckDBError ? pl_err_set(err, PL_ERROR, "cannot register the function murmur3_32") : 0;
}
