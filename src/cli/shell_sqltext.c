/*
 * shell_sqltext.c -- how the shell reads SQL text without parsing it.
 *
 * Owns deciding when typed SQL is complete (a ';' outside quotes, comments and dollar quoting,
 * DuckDB's nesting block comments and E'' escape strings), the leading keyword of a statement
 * and what counts as an identifier character.
 */
#include <ctype.h>
#include <string.h>

#include "cli/shell_internal.h"

bool pl_cli_sql_ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* p is at the opening quote; returns the position after the closing one, NULL if unterminated. */
static const char *skip_quoted(const char *p, char quote, bool backslash)
{
	for (p++; *p; p++) {
		if (backslash && *p == '\\' && p[1]) {
			p++;
		} else if (*p == quote) {
			if (p[1] != quote)
				return p + 1;
			p++;
		}
	}
	return NULL;
}

/* p is at "/ *"; block comments nest in DuckDB. */
static const char *skip_block_comment(const char *p)
{
	int depth = 0;
	while (*p) {
		if (p[0] == '/' && p[1] == '*') {
			depth++;
			p += 2;
		} else if (p[0] == '*' && p[1] == '/') {
			p += 2;
			if (--depth == 0)
				return p;
		} else {
			p++;
		}
	}
	return NULL;
}

/* Length of a dollar-quote tag ("$$", "$tag$") at p, 0 when p does not start one. */
static size_t dollar_tag_len(const char *start, const char *p)
{
	const char *q = p + 1;
	if (p > start && pl_cli_sql_ident_char(p[-1]))
		return 0;
	if (isdigit((unsigned char)*q))
		return 0; /* $1 is a parameter */
	while (pl_cli_sql_ident_char(*q))
		q++;
	return *q == '$' ? (size_t)(q - p) + 1 : 0;
}

static const char *skip_dollar(const char *p, size_t tag)
{
	for (const char *q = p + tag; *q; q++) {
		if (*q == '$' && strncmp(q, p, tag) == 0)
			return q + tag;
	}
	return NULL;
}

static bool is_escape_string(const char *start, const char *p)
{
	return p > start && (p[-1] == 'E' || p[-1] == 'e') && (p - 1 == start || !pl_cli_sql_ident_char(p[-2]));
}

/* Skips a quoted token at p (string, identifier, dollar quote); NULL if unterminated, p if none. */
static const char *skip_token(const char *start, const char *p)
{
	size_t tag;
	if (*p == '\'')
		return skip_quoted(p, '\'', is_escape_string(start, p));
	if (*p == '"')
		return skip_quoted(p, '"', false);
	if (*p == '$' && (tag = dollar_tag_len(start, p)) > 0)
		return skip_dollar(p, tag);
	return p + 1;
}

pl_cli_sql_state pl_cli_sql_state_of(const char *sql)
{
	const char *p = sql;
	bool any = false, complete = false;
	while (p && *p) {
		if (isspace((unsigned char)*p)) {
			p++;
		} else if (p[0] == '-' && p[1] == '-') {
			p += strcspn(p, "\n");
		} else if (p[0] == '/' && p[1] == '*') {
			p = skip_block_comment(p);
			if (!p)
				return PL_CLI_SQL_INCOMPLETE;
		} else {
			any = true;
			complete = *p == ';';
			p = skip_token(sql, p);
			if (!p)
				return PL_CLI_SQL_INCOMPLETE;
		}
	}
	if (!any)
		return PL_CLI_SQL_EMPTY;
	return complete ? PL_CLI_SQL_COMPLETE : PL_CLI_SQL_INCOMPLETE;
}

void pl_cli_sql_leading_keyword(const char *sql, char *buf, size_t cap)
{
	const char *p = sql;
	size_t n = 0;
	for (;;) {
		const char *end = NULL;
		p += strspn(p, " \t\r\n");
		if (p[0] == '-' && p[1] == '-')
			end = p + strcspn(p, "\n");
		else if (p[0] == '/' && p[1] == '*')
			end = skip_block_comment(p);
		if (!end)
			break;
		p = end;
	}
	while (n + 1 < cap && isalpha((unsigned char)p[n])) {
		buf[n] = (char)toupper((unsigned char)p[n]);
		n++;
	}
	buf[n] = '\0';
}
