/*
 * stats.c -- comparing DuckLake statistics values (min/max strings) in the order of their type:
 * integers and decimals exactly as numbers, floats as doubles, everything else as bytes
 * (ISO dates and timestamps, strings and UUIDs sort correctly that way).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/commit.h"

static bool is_integer_type(const char *t)
{
	return strncmp(t, "int", 3) == 0 || strncmp(t, "uint", 4) == 0;
}

static bool is_float_type(const char *t)
{
	return strncmp(t, "float", 5) == 0;
}

static int compare_integers(const char *a, const char *b)
{
	bool na = *a == '-', nb = *b == '-';
	if (na != nb)
		return na ? -1 : 1;
	size_t la = strlen(a), lb = strlen(b);
	int mag = la != lb ? (la < lb ? -1 : 1) : strcmp(a, b);
	return na ? -mag : mag;
}

/* Exact comparison of decimal strings: sign, integer-part length and digits, then fraction. */
static int compare_decimals(const char *a, const char *b)
{
	bool na = *a == '-', nb = *b == '-';
	if (na != nb)
		return na ? -1 : 1;
	a += na;
	b += nb;
	size_t ia = strcspn(a, "."), ib = strcspn(b, ".");
	int mag = ia != ib ? (ia < ib ? -1 : 1) : strncmp(a, b, ia);
	if (mag == 0) {
		const char *fa = a[ia] ? a + ia + 1 : "", *fb = b[ib] ? b + ib + 1 : "";
		while (mag == 0 && (*fa || *fb)) {
			char ca = *fa ? *fa++ : '0', cb = *fb ? *fb++ : '0';
			mag = ca < cb ? -1 : ca > cb ? 1 : 0;
		}
	}
	return na ? -mag : mag;
}

int pl_stats_compare(const char *type, const char *a, const char *b)
{
	if (type && is_integer_type(type))
		return compare_integers(a, b);
	if (type && strncmp(type, "decimal", 7) == 0)
		return compare_decimals(a, b);
	if (type && is_float_type(type)) {
		double x = strtod(a, NULL), y = strtod(b, NULL);
		return x < y ? -1 : x > y ? 1 : 0;
	}
	return strcmp(a, b);
}
