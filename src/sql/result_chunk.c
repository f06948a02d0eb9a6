/*
 * result_chunk.c -- reading a result chunk by chunk: the cursor (planar_result_next_chunk) and
 * the typed accessors on the current chunk (see planar.h). Numbers, booleans, timestamps and
 * VARCHAR are read straight from DuckDB's vectors; text of other types and JSON come from
 * pl_result_convert, once per chunk and column, on first use.
 */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/session.h"

static void drop_chunk(planar_result *r)
{
	if (r->cur)
		duckdb_destroy_data_chunk(&r->cur);
	r->cur = NULL;
	r->cur_rows = 0;
	for (size_t c = 0; c < r->ncols; c++)
		r->text[c].ready = r->json[c].ready = false;
}

int planar_result_next_chunk(planar_result *res, size_t *nrows)
{
	*nrows = 0;
	if (!res)
		return PLANAR_EINVALID;
	pl_err_clear(&res->err);
	drop_chunk(res);
	if (res->closed)
		return pl_err_set(&res->err, PL_ECANCELED,
				  "the result was closed: another statement ran on its connection before it was read to the end");
	while (!res->done) {
		duckdb_data_chunk c;
		if (res->streaming) {
			c = duckdb_fetch_chunk(res->res);
			if (!c) {
				const char *msg = duckdb_result_error(&res->res);
				res->done = true;
				if (res->conn && res->conn->stream == res)
					res->conn->stream = NULL;
				if (msg && *msg)
					return pl_engine_result_error(&res->res, &res->err);
				break;
			}
		} else {
			if (res->next_chunk >= res->nchunks) {
				res->done = true;
				break;
			}
			c = duckdb_result_get_chunk(res->res, res->next_chunk++);
			if (!c)
				continue;
		}
		size_t n = (size_t)duckdb_data_chunk_get_size(c);
		if (n == 0) {
			duckdb_destroy_data_chunk(&c);
			continue;
		}
		res->cur = c;
		res->cur_rows = n;
		*nrows = n;
		return 0;
	}
	return 0;
}

/* Checks (col,row) against the current chunk; the vector's data and whether the value is valid. */
static int locate(planar_result *r, size_t col, size_t row, duckdb_vector *vec, bool *valid)
{
	*vec = NULL;
	*valid = false;
	if (!r)
		return PLANAR_EINVALID;
	if (!r->cur)
		return pl_err_set(&r->err, PL_EINVALID,
				  "no current chunk: call planar_result_next_chunk first (or the result is exhausted)");
	if (col >= r->ncols || row >= r->cur_rows)
		return pl_err_set(&r->err, PL_EINVALID, "column %zu / row %zu out of range (%zu columns, %zu rows in chunk)",
				  col, row, r->ncols, r->cur_rows);
	*vec = duckdb_data_chunk_get_vector(r->cur, col);
	uint64_t *validity = duckdb_vector_get_validity(*vec);
	*valid = !validity || duckdb_validity_row_is_valid(validity, row);
	return 0;
}

bool planar_result_chunk_is_null(const planar_result *res, size_t col, size_t row)
{
	if (!res || !res->cur || col >= res->ncols || row >= res->cur_rows)
		return true;
	duckdb_vector v = duckdb_data_chunk_get_vector(res->cur, col);
	uint64_t *validity = duckdb_vector_get_validity(v);
	return validity && !duckdb_validity_row_is_valid(validity, row);
}

static int mismatch(planar_result *r, size_t col, const char *want)
{
	return pl_err_set(&r->err, PL_EINVALID, "column %zu (\"%s\") is %s, not readable as %s", col, r->names[col],
			  r->types[col], want);
}

int planar_result_get_bool(planar_result *res, size_t col, size_t row, bool *out)
{
	duckdb_vector v = NULL;
	bool valid = false;
	*out = false;
	int rc = locate(res, col, row, &v, &valid);
	if (rc)
		return rc;
	if (res->duck_types[col] != DUCKDB_TYPE_BOOLEAN)
		return mismatch(res, col, "a boolean");
	if (valid)
		*out = ((bool *)duckdb_vector_get_data(v))[row];
	return 0;
}

/* Integer value of a vector cell; false when the type is not an integer one or it does not fit. */
static bool read_int(duckdb_type t, void *data, size_t row, int64_t *out, bool *range)
{
	*range = true;
	switch (t) {
	case DUCKDB_TYPE_TINYINT: *out = ((int8_t *)data)[row]; return true;
	case DUCKDB_TYPE_SMALLINT: *out = ((int16_t *)data)[row]; return true;
	case DUCKDB_TYPE_INTEGER: *out = ((int32_t *)data)[row]; return true;
	case DUCKDB_TYPE_BIGINT: *out = ((int64_t *)data)[row]; return true;
	case DUCKDB_TYPE_UTINYINT: *out = ((uint8_t *)data)[row]; return true;
	case DUCKDB_TYPE_USMALLINT: *out = ((uint16_t *)data)[row]; return true;
	case DUCKDB_TYPE_UINTEGER: *out = ((uint32_t *)data)[row]; return true;
	case DUCKDB_TYPE_UBIGINT: {
		uint64_t u = ((uint64_t *)data)[row];
		*range = u <= INT64_MAX;
		*out = (int64_t)u;
		return true;
	}
	case DUCKDB_TYPE_HUGEINT: {
		duckdb_hugeint h = ((duckdb_hugeint *)data)[row];
		*range = (h.upper == 0 && h.lower <= INT64_MAX) || (h.upper == -1 && h.lower > INT64_MAX);
		*out = (int64_t)h.lower;
		return true;
	}
	case DUCKDB_TYPE_UHUGEINT: {
		duckdb_uhugeint h = ((duckdb_uhugeint *)data)[row];
		*range = h.upper == 0 && h.lower <= INT64_MAX;
		*out = (int64_t)h.lower;
		return true;
	}
	default: return false;
	}
}

int planar_result_get_int64(planar_result *res, size_t col, size_t row, int64_t *out)
{
	duckdb_vector v = NULL;
	bool valid = false, range = true;
	*out = 0;
	int rc = locate(res, col, row, &v, &valid);
	if (rc)
		return rc;
	int64_t x = 0;
	if (!read_int(res->duck_types[col], duckdb_vector_get_data(v), row, &x, &range))
		return mismatch(res, col, "an integer");
	if (!valid)
		return 0;
	if (!range)
		return pl_err_set(&res->err, PL_EINVALID, "column %zu row %zu: value does not fit in a 64-bit integer", col,
				  row);
	*out = x;
	return 0;
}

int planar_result_get_double(planar_result *res, size_t col, size_t row, double *out)
{
	duckdb_vector v = NULL;
	bool valid = false, range = true;
	*out = 0;
	int rc = locate(res, col, row, &v, &valid);
	if (rc)
		return rc;
	void *data = duckdb_vector_get_data(v);
	duckdb_type t = res->duck_types[col];
	int64_t x = 0;
	double d = 0;
	if (t == DUCKDB_TYPE_FLOAT)
		d = ((float *)data)[row];
	else if (t == DUCKDB_TYPE_DOUBLE)
		d = ((double *)data)[row];
	else if (t == DUCKDB_TYPE_HUGEINT)
		d = duckdb_hugeint_to_double(((duckdb_hugeint *)data)[row]);
	else if (t == DUCKDB_TYPE_UHUGEINT)
		d = duckdb_uhugeint_to_double(((duckdb_uhugeint *)data)[row]);
	else if (t == DUCKDB_TYPE_UBIGINT)
		d = (double)((uint64_t *)data)[row];
	else if (t == DUCKDB_TYPE_DECIMAL) {
		duckdb_type it = res->dec_internal[col];
		if (it == DUCKDB_TYPE_HUGEINT)
			d = duckdb_hugeint_to_double(((duckdb_hugeint *)data)[row]);
		else
			read_int(it, data, row, &x, &range), d = (double)x;
		d /= pow(10.0, res->dec_scale[col]);
	} else if (read_int(t, data, row, &x, &range))
		d = (double)x;
	else
		return mismatch(res, col, "a number");
	if (valid)
		*out = d;
	return 0;
}

int planar_result_get_timestamp(planar_result *res, size_t col, size_t row, int64_t *micros)
{
	duckdb_vector v = NULL;
	bool valid = false;
	*micros = 0;
	int rc = locate(res, col, row, &v, &valid);
	if (rc)
		return rc;
	void *data = duckdb_vector_get_data(v);
	duckdb_type t = res->duck_types[col];
	if (t == DUCKDB_TYPE_DATE) {
		int32_t days = ((int32_t *)data)[row];
		if (valid)
			*micros = days == INT32_MAX ? INT64_MAX : days == -INT32_MAX ? INT64_MIN
										: (int64_t)days * 86400000000LL;
		return 0;
	}
	if (t != DUCKDB_TYPE_TIMESTAMP && t != DUCKDB_TYPE_TIMESTAMP_TZ && t != DUCKDB_TYPE_TIMESTAMP_S &&
	    t != DUCKDB_TYPE_TIMESTAMP_MS && t != DUCKDB_TYPE_TIMESTAMP_NS)
		return mismatch(res, col, "a timestamp");
	if (!valid)
		return 0;
	int64_t x = ((int64_t *)data)[row];
	if (x == INT64_MAX || x == -INT64_MAX) {
		*micros = x == INT64_MAX ? INT64_MAX : INT64_MIN;
		return 0;
	}
	if (t == DUCKDB_TYPE_TIMESTAMP_S) {
		if (x > INT64_MAX / 1000000 || x < INT64_MIN / 1000000)
			return pl_err_set(&res->err, PL_EINVALID, "column %zu row %zu: timestamp out of range", col, row);
		x *= 1000000;
	} else if (t == DUCKDB_TYPE_TIMESTAMP_MS) {
		x *= 1000; /* DuckDB's range keeps this within int64 */
	} else if (t == DUCKDB_TYPE_TIMESTAMP_NS) {
		x = x >= 0 || x % 1000 == 0 ? x / 1000 : x / 1000 - 1; /* floor */
	}
	*micros = x;
	return 0;
}

/* ---- text --------------------------------------------------------------------------------------- */

/* DuckDB's text of a double: the shortest digits that read back as the same value,
 * in fixed notation (with at least one decimal) for exponents -4 .. 15, else as d.ddde+XX. */
static int format_real(char *out, size_t cap, double x)
{
	if (isnan(x))
		return snprintf(out, cap, "nan");
	if (isinf(x))
		return snprintf(out, cap, x < 0 ? "-inf" : "inf");
	if (x == 0)
		return snprintf(out, cap, signbit(x) ? "-0.0" : "0.0");
	char sci[40];
	/* any decimal of up to DBL_DIG digits survives the round trip, so the shortest text is
	 * found from there, except for subnormals, which hold fewer digits */
	int lo = fabs(x) < DBL_MIN ? 1 : DBL_DIG;
	for (int p = lo; p <= 17; p++) {
		snprintf(sci, sizeof(sci), "%.*e", p - 1, x);
		if (p == 17 || strtod(sci, NULL) == x)
			break;
	}
	/* sci is [-]d.ddde[+-]XX: split into digits and exponent */
	char digits[24];
	size_t nd = 0;
	const char *q = sci;
	bool neg = *q == '-';
	q += neg;
	for (; *q && *q != 'e'; q++)
		if (*q >= '0' && *q <= '9' && nd < sizeof(digits) - 1)
			digits[nd++] = *q;
	int exp = atoi(q + 1);
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	digits[nd] = '\0';
	char *o = out;
	char *end = out + cap - 1;
#define PUT(ch)                                                                                                \
	do {                                                                                                   \
		if (o < end)                                                                                   \
			*o++ = (ch);                                                                           \
	} while (0)
	if (neg)
		PUT('-');
	if (exp >= -4 && exp < 16) {
		if (exp < 0) {
			PUT('0');
			PUT('.');
			for (int k = -1; k > exp; k--)
				PUT('0');
			for (size_t k = 0; k < nd; k++)
				PUT(digits[k]);
		} else {
			for (int k = 0; k <= exp; k++)
				PUT((size_t)k < nd ? digits[k] : '0');
			PUT('.');
			if ((size_t)exp + 1 >= nd)
				PUT('0');
			for (size_t k = (size_t)exp + 1; k < nd; k++)
				PUT(digits[k]);
		}
		*o = '\0';
		return (int)(o - out);
	}
	PUT(digits[0]);
	if (nd > 1)
		PUT('.');
	for (size_t k = 1; k < nd; k++)
		PUT(digits[k]);
	*o = '\0';
#undef PUT
	size_t used = (size_t)(o - out);
	return (int)used + snprintf(o, cap - used, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
}

/* Year, month, day of a day count since 1970-01-01 (proleptic Gregorian). */
static void civil(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
	days += 719468;
	int64_t era = (days >= 0 ? days : days - 146096) / 146097;
	unsigned doe = (unsigned)(days - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* DATE / TIMESTAMP text for years 1 .. 9999 (others: false, DuckDB formats them). */
static bool format_datetime(char *out, size_t cap, int64_t days, int64_t micros_of_day, bool with_time, int *len)
{
	int64_t y;
	unsigned m, d;
	civil(days, &y, &m, &d);
	if (y < 1 || y > 9999)
		return false;
	int n = snprintf(out, cap, "%04d-%02u-%02u", (int)y, m, d);
	if (with_time) {
		int64_t s = micros_of_day / 1000000, us = micros_of_day % 1000000;
		n += snprintf(out + n, cap - (size_t)n, " %02d:%02d:%02d", (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60));
		if (us) {
			n += snprintf(out + n, cap - (size_t)n, ".%06d", (int)us);
			while (out[n - 1] == '0')
				out[--n] = '\0';
		}
	}
	*len = n;
	return true;
}

static bool format_decimal(char *out, size_t cap, int64_t v, unsigned scale, int *len)
{
	uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, p = 1;
	for (unsigned k = 0; k < scale; k++)
		p *= 10;
	if (scale == 0)
		*len = snprintf(out, cap, "%s%" PRIu64, v < 0 ? "-" : "", a);
	else
		*len = snprintf(out, cap, "%s%" PRIu64 ".%0*" PRIu64, v < 0 ? "-" : "", a / p, (int)scale, a % p);
	return true;
}

/* One value of a column text_fast handles; false when DuckDB must format it. */
static bool format_value(const planar_result *r, size_t col, void *data, size_t i, char *buf, size_t cap, int *n)
{
	duckdb_type t = r->duck_types[col];
	int64_t x = 0;
	bool range;
	switch (t) {
	case DUCKDB_TYPE_UBIGINT: *n = snprintf(buf, cap, "%" PRIu64, ((uint64_t *)data)[i]); return true;
	case DUCKDB_TYPE_DOUBLE: *n = format_real(buf, cap, ((double *)data)[i]); return true;
	case DUCKDB_TYPE_DECIMAL:
		read_int(r->dec_internal[col], data, i, &x, &range);
		return format_decimal(buf, cap, x, r->dec_scale[col], n);
	case DUCKDB_TYPE_DATE: {
		int32_t days = ((int32_t *)data)[i];
		return days != INT32_MAX && days != -INT32_MAX && format_datetime(buf, cap, days, 0, false, n);
	}
	case DUCKDB_TYPE_TIMESTAMP: {
		int64_t us = ((int64_t *)data)[i];
		if (us == INT64_MAX || us == -INT64_MAX)
			return false;
		int64_t days = us / 86400000000LL, rem = us % 86400000000LL;
		if (rem < 0)
			rem += 86400000000LL, days--;
		return format_datetime(buf, cap, days, rem, true, n);
	}
	default:
		read_int(t, data, i, &x, &range);
		*n = snprintf(buf, cap, "%" PRId64, x);
		return true;
	}
}

/* Columns whose text is formatted here (FLOAT is left to DuckDB: it does not always print the
 * shortest digits of a float). */
static bool fast_type(const planar_result *r, size_t col)
{
	switch (r->duck_types[col]) {
	case DUCKDB_TYPE_BOOLEAN:
	case DUCKDB_TYPE_TINYINT:
	case DUCKDB_TYPE_SMALLINT:
	case DUCKDB_TYPE_INTEGER:
	case DUCKDB_TYPE_BIGINT:
	case DUCKDB_TYPE_UTINYINT:
	case DUCKDB_TYPE_USMALLINT:
	case DUCKDB_TYPE_UINTEGER:
	case DUCKDB_TYPE_UBIGINT:
	case DUCKDB_TYPE_VARCHAR:
	case DUCKDB_TYPE_DOUBLE:
	case DUCKDB_TYPE_DATE:
	case DUCKDB_TYPE_TIMESTAMP: return true;
	case DUCKDB_TYPE_DECIMAL: return r->dec_internal[col] != DUCKDB_TYPE_HUGEINT;
	default: return false;
	}
}

/* Formats the column in C when that gives exactly DuckDB's text; false for other types (and
 * for values out of the range formatted here, e.g. dates before year 1). */
static bool text_fast(const planar_result *r, duckdb_data_chunk chunk, size_t col, size_t rows, pl_colcache *c)
{
	duckdb_type t = r->duck_types[col];
	if (!fast_type(r, col))
		return false;
	duckdb_vector v = duckdb_data_chunk_get_vector(chunk, col);
	void *data = duckdb_vector_get_data(v);
	uint64_t *validity = duckdb_vector_get_validity(v);
	for (size_t i = 0; i < rows; i++) {
		if (validity && !duckdb_validity_row_is_valid(validity, i)) {
			pl_colcache_set(c, i, NULL, 0);
		} else if (t == DUCKDB_TYPE_VARCHAR) {
			duckdb_string_t *s = &((duckdb_string_t *)data)[i];
			pl_colcache_set(c, i, duckdb_string_t_data(s), duckdb_string_t_length(*s));
		} else if (t == DUCKDB_TYPE_BOOLEAN) {
			bool b = ((bool *)data)[i];
			pl_colcache_set(c, i, b ? "true" : "false", b ? 4 : 5);
		} else {
			char buf[64];
			int n = 0;
			if (!format_value(r, col, data, i, buf, sizeof(buf), &n))
				return false;
			pl_colcache_set(c, i, buf, (size_t)n);
		}
	}
	return true;
}

int pl_result_chunk_text(planar_result *r, duckdb_data_chunk chunk, size_t rows, pl_colcache *caches,
			 const bool *want, pl_err *err)
{
	bool *slow = calloc(r->ncols + 1, sizeof(bool));
	bool any_slow = false;
	if (!slow)
		return pl_err_nomem(err);
	for (size_t c = 0; c < r->ncols; c++) {
		if (want && !want[c])
			continue;
		if (pl_colcache_reset(&caches[c], rows)) {
			free(slow);
			return pl_err_nomem(err);
		}
		if (text_fast(r, chunk, c, rows, &caches[c]))
			caches[c].ready = true;
		else if (pl_colcache_reset(&caches[c], rows) == 0)
			slow[c] = any_slow = true;
	}
	int rc = any_slow ? pl_result_convert(r, chunk, rows, false, slow, caches, err) : 0;
	for (size_t c = 0; rc == 0 && c < r->ncols; c++) {
		if ((want && !want[c]) || !caches[c].ready)
			continue;
		if (pl_buf_oom(&caches[c].data))
			rc = pl_err_nomem(err);
	}
	free(slow);
	return rc;
}

/* ---- JSON --------------------------------------------------------------------------------------- */

/* Columns whose JSON is written here: integers and booleans as they print, VARCHAR as a string
 * escaped as DuckDB's to_json() does. Others (doubles included: "1e300", "NaN") go to DuckDB. */
static bool json_fast_type(const planar_result *r, size_t col)
{
	duckdb_type t = r->duck_types[col];
	return fast_type(r, col) && t != DUCKDB_TYPE_DOUBLE && t != DUCKDB_TYPE_DECIMAL && t != DUCKDB_TYPE_DATE &&
	       t != DUCKDB_TYPE_TIMESTAMP;
}

static void json_escape(pl_buf *b, const char *s, size_t len)
{
	pl_buf_putc(b, '"');
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		switch (ch) {
		case '"': pl_buf_puts(b, "\\\""); break;
		case '\\': pl_buf_puts(b, "\\\\"); break;
		case '\n': pl_buf_puts(b, "\\n"); break;
		case '\r': pl_buf_puts(b, "\\r"); break;
		case '\t': pl_buf_puts(b, "\\t"); break;
		case '\b': pl_buf_puts(b, "\\b"); break;
		case '\f': pl_buf_puts(b, "\\f"); break;
		default:
			if (ch < 0x20)
				pl_buf_printf(b, "\\u%04X", ch);
			else
				pl_buf_putc(b, (char)ch);
		}
	}
	pl_buf_putc(b, '"');
}

static bool json_fast(const planar_result *r, duckdb_data_chunk chunk, size_t col, size_t rows, pl_colcache *c)
{
	if (!json_fast_type(r, col))
		return false;
	if (r->duck_types[col] != DUCKDB_TYPE_VARCHAR)
		return text_fast(r, chunk, col, rows, c);
	duckdb_vector v = duckdb_data_chunk_get_vector(chunk, col);
	duckdb_string_t *data = duckdb_vector_get_data(v);
	uint64_t *validity = duckdb_vector_get_validity(v);
	pl_buf tmp = PL_BUF_INIT;
	for (size_t i = 0; i < rows; i++) {
		if (validity && !duckdb_validity_row_is_valid(validity, i)) {
			pl_colcache_set(c, i, NULL, 0);
			continue;
		}
		pl_buf_truncate(&tmp, 0);
		json_escape(&tmp, duckdb_string_t_data(&data[i]), duckdb_string_t_length(data[i]));
		if (pl_buf_oom(&tmp))
			break;
		pl_colcache_set(c, i, tmp.ptr, tmp.len);
	}
	bool ok = !pl_buf_oom(&tmp);
	pl_buf_dispose(&tmp);
	return ok;
}

static int cached(planar_result *r, pl_colcache *caches, bool json, size_t col, size_t row, const char **text,
		  size_t *len)
{
	duckdb_vector v = NULL;
	bool valid = false;
	*text = NULL;
	if (len)
		*len = 0;
	int rc = locate(r, col, row, &v, &valid);
	if (rc)
		return rc;
	if (!caches[col].ready) {
		if (json && pl_colcache_reset(&caches[col], r->cur_rows)) {
			return pl_err_nomem(&r->err);
		} else if (json && json_fast(r, r->cur, col, r->cur_rows, &caches[col])) {
			caches[col].ready = true;
			if (pl_buf_oom(&caches[col].data))
				return pl_err_nomem(&r->err);
		} else if (json) {
			/* this column and the others DuckDB must write, in one round trip */
			bool *want = calloc(r->ncols + 1, sizeof(bool));
			if (!want)
				return pl_err_nomem(&r->err);
			for (size_t c = 0; c < r->ncols; c++)
				want[c] = c == col || (!caches[c].ready && !json_fast_type(r, c));
			for (size_t c = 0; c < r->ncols && rc == 0; c++)
				if (want[c] && pl_colcache_reset(&caches[c], r->cur_rows))
					rc = pl_err_nomem(&r->err);
			if (rc == 0)
				rc = pl_result_convert(r, r->cur, r->cur_rows, true, want, caches, &r->err);
			free(want);
		} else if (pl_colcache_reset(&caches[col], r->cur_rows)) {
			return pl_err_nomem(&r->err);
		} else if (text_fast(r, r->cur, col, r->cur_rows, &caches[col])) {
			caches[col].ready = true;
			if (pl_buf_oom(&caches[col].data))
				return pl_err_nomem(&r->err);
		} else {
			/* this column and the others DuckDB must format, in one round trip */
			bool *want = calloc(r->ncols + 1, sizeof(bool));
			if (!want)
				return pl_err_nomem(&r->err);
			for (size_t c = 0; c < r->ncols; c++)
				want[c] = c == col || (!caches[c].ready && !fast_type(r, c));
			rc = pl_result_chunk_text(r, r->cur, r->cur_rows, caches, want, &r->err);
			free(want);
		}
		if (rc)
			return rc;
	}
	const pl_colcache *c = &caches[col];
	if (c->off[row] == SIZE_MAX) {
		if (json) {
			*text = "null";
			if (len)
				*len = 4;
		}
		return 0;
	}
	*text = c->data.ptr + c->off[row];
	if (len)
		*len = c->len[row];
	return 0;
}

int planar_result_get_text(planar_result *res, size_t col, size_t row, const char **text, size_t *len)
{
	return cached(res, res ? res->text : NULL, false, col, row, text, len);
}

int planar_result_get_json(planar_result *res, size_t col, size_t row, const char **json, size_t *len)
{
	return cached(res, res ? res->json : NULL, true, col, row, json, len);
}
