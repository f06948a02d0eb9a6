/*
 * str.c -- string helpers (see str.h).
 */
#include "core/str.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

uint64_t pl_fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	return h;
}

uint64_t pl_str_hash(const char *s)
{
	return pl_fnv1a(PL_FNV1A_SEED, s, strlen(s));
}

char *pl_strdup(const char *s)
{
	return s ? pl_strndup(s, strlen(s)) : NULL;
}

char *pl_strndup(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

bool pl_str_ieq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return false;
	return *a == *b;
}

bool pl_str_has_prefix_i(const char *s, const char *prefix)
{
	for (; *prefix; s++, prefix++)
		if (tolower((unsigned char)*s) != tolower((unsigned char)*prefix))
			return false;
	return true;
}

bool pl_str_has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

void pl_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

int pl_strv_push_owned(pl_strv *v, char *s)
{
	if (!s)
		return PL_ENOMEM;
	if (v->len + 2 > v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 8;
		char **p = realloc(v->items, cap * sizeof(*p));
		if (!p) {
			free(s);
			return PL_ENOMEM;
		}
		v->items = p;
		v->cap = cap;
	}
	v->items[v->len++] = s;
	v->items[v->len] = NULL;
	return 0;
}

int pl_strv_push(pl_strv *v, const char *s)
{
	return pl_strv_push_owned(v, pl_strdup(s));
}

void pl_strv_dispose(pl_strv *v)
{
	for (size_t i = 0; i < v->len; i++)
		free(v->items[i]);
	free(v->items);
	v->items = NULL;
	v->len = v->cap = 0;
}

#define RESERVED_PREFIX "__planar_"

bool pl_name_is_reserved(const char *name)
{
	return pl_str_has_prefix_i(name, RESERVED_PREFIX);
}

static bool path_safe(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

void pl_buf_put_path_name(pl_buf *b, const char *name)
{
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (path_safe(*p))
			pl_buf_putc(b, (char)*p);
		else
			pl_buf_printf(b, "%%%02X", *p);
	}
}

int pl_name_check(const char *kind, const char *name, pl_err *err)
{
	size_t len = strlen(name), escaped = 0;
	if (len == 0)
		return pl_err_set(err, PL_EINVALID, "a %s name cannot be empty", kind);
	if (len > PL_NAME_MAX)
		return pl_err_set(err, PL_EINVALID, "%s name is too long: %zu bytes (at most %d)", kind, len, PL_NAME_MAX);
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return pl_err_set(err, PL_EINVALID, "%s name \"%s\" contains a control character", kind, name);
		escaped += path_safe(*p) ? 1 : 3;
	}
	if (pl_name_is_reserved(name))
		return pl_err_set(err, PL_EINVALID, "%s name \"%s\": names starting with \"" RESERVED_PREFIX
				  "\" are reserved for Planar", kind, name);
	bool is_dir = strcmp(kind, "schema") == 0 || strcmp(kind, "table") == 0;
	if (is_dir && escaped > PL_NAME_MAX)
		return pl_err_set(err, PL_EINVALID,
				  "%s name \"%.40s...\" is too long to be a directory name once its special characters "
				  "are escaped (%zu bytes, at most %d)",
				  kind, name, escaped, PL_NAME_MAX);
	return 0;
}

/* "512MB", "10 KiB", "1000": DuckDB's units (KB = 1000 bytes, KiB = 1024). */
bool pl_parse_byte_size(const char *s, int64_t *out)
{
	static const struct {
		const char *unit;
		int64_t factor;
	} units[] = {{"", 1}, {"b", 1}, {"bytes", 1}, {"kb", 1000}, {"kib", 1024}, {"mb", 1000000},
		     {"mib", 1048576}, {"gb", 1000000000}, {"gib", 1073741824}, {"tb", 1000000000000LL},
		     {"tib", 1099511627776LL}};
	char *end = NULL;
	double v = strtod(s, &end);
	if (end == s || !(v > 0))
		return false;
	while (*end == ' ')
		end++;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (pl_str_ieq(end, units[i].unit) && v * (double)units[i].factor < 9.2e18) {
			*out = (int64_t)(v * (double)units[i].factor);
			return *out > 0;
		}
	}
	return false;
}

