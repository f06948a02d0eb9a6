/*
 * mcp.c -- `planar mcp` (see mcp.h): reads one JSON-RPC message per line from standard input,
 * writes each reply as one line on standard output (and nothing else there), until the end of
 * the input. Messages longer than --max-message bytes are answered with an Invalid Request
 * error and skipped; blank lines are ignored. Diagnostics go to standard error.
 */
#define _POSIX_C_SOURCE 200809L

#include "cli/mcp.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planar/planar.h"
#include "server/server.h"

static void usage(FILE *out)
{
	fputs("Usage: planar mcp --lake URI [--data-path DIR] [--row-cap N] [--query-timeout-ms MS] [--max-message BYTES]\n\n"
	      "The Model Context Protocol server of a lake on standard input and output: one JSON-RPC 2.0\n"
	      "message per line. The lake is opened read-only; the tools (list_tables, describe_table,\n"
	      "query, retrieve, list_snapshots, get_snapshot, table_history) read it through the same\n"
	      "sandbox as the HTTP service's query API.\n\n"
	      "  --lake URI             the lake, as for the shell (ducklake: is optional)\n"
	      "  --data-path DIR        its DATA_PATH\n"
	      "  --row-cap N            most rows a tool returns (default 100000)\n"
	      "  --query-timeout-ms MS  longest a tool call may run; 0: no limit (default 30000)\n"
	      "  --max-message BYTES    longest message read (default 16777216)\n",
	      out);
}

static bool parse_num(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end = NULL;
	errno = 0;
	if (!s || !*s || *s == '-')
		return false;
	unsigned long long n = strtoull(s, &end, 10);
	if (*end || errno || n > max)
		return false;
	*out = n;
	return true;
}

static void emit(const char *line)
{
	fputs(line, stdout);
	fputc('\n', stdout);
	fflush(stdout);
}

int pl_cli_mcp_main(int argc, char **argv)
{
	const char *lake = NULL, *data_path = NULL;
	unsigned long long row_cap = 100000, timeout = 30000, max_msg = 16u << 20;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		}
		bool ok = v != NULL;
		if (strcmp(a, "--lake") == 0)
			lake = v;
		else if (strcmp(a, "--data-path") == 0)
			data_path = v;
		else if (strcmp(a, "--row-cap") == 0)
			ok = parse_num(v, 1000000000ULL, &row_cap) && row_cap > 0;
		else if (strcmp(a, "--query-timeout-ms") == 0)
			ok = parse_num(v, 86400000ULL, &timeout);
		else if (strcmp(a, "--max-message") == 0)
			ok = parse_num(v, 1ULL << 30, &max_msg) && max_msg >= 1024;
		else {
			fprintf(stderr, "Error: unknown argument \"%s\"; see planar mcp --help\n", a);
			return 2;
		}
		if (!ok) {
			fprintf(stderr, "Error: %s needs a valid value; see planar mcp --help\n", a);
			return 2;
		}
		i++;
	}
	if (!lake) {
		fprintf(stderr, "Error: --lake URI is required; see planar mcp --help\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	pl_server_mcp *m = NULL;
	char *msg = NULL;
	if (pl_server_mcp_open(&m, lake, data_path, (long long)row_cap, (unsigned)timeout, &msg) != 0) {
		fprintf(stderr, "Error: %s\n", msg ? msg : "cannot open the lake");
		free(msg);
		return 1;
	}
	size_t cap = 64 * 1024, len = 0;
	char *buf = malloc(cap);
	bool skipping = false, more = true;
	int status = buf ? 0 : 1;
	while (buf && more) {
		int ch = getc(stdin);
		if (ch != EOF && ch != '\n') {
			if (skipping)
				continue;
			if (len + 1 > max_msg) {
				skipping = true;
				continue;
			}
			if (len + 2 > cap) {
				char *nb = realloc(buf, cap * 2);
				if (!nb) {
					status = 1;
					break;
				}
				buf = nb;
				cap *= 2;
			}
			buf[len++] = (char)ch;
			continue;
		}
		more = ch != EOF;
		if (skipping) {
			emit("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,\"message\":\"Invalid Request: the "
			     "message is longer than --max-message bytes\"}}");
			skipping = false;
			len = 0;
			continue;
		}
		while (len > 0 && buf[len - 1] == '\r')
			len--;
		buf[len] = '\0';
		if (strspn(buf, " \t") < len) {
			char *reply = pl_server_mcp_handle(m, buf, len);
			if (reply)
				emit(reply);
			free(reply);
		}
		len = 0;
		if (ferror(stdout))
			break;
	}
	free(buf);
	pl_server_mcp_close(m);
	return status;
}
