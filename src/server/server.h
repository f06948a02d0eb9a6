/*
 * server.h -- the `planar serve` and `planar token` commands (the data-plane HTTP service).
 * The command line calls these with argv[0] being the subcommand name; they print and return
 * the process exit code.
 */
#ifndef PL_SERVER_SERVER_H
#define PL_SERVER_SERVER_H

#include <stddef.h>

int pl_server_serve_main(int argc, char **argv);
int pl_server_token_main(int argc, char **argv);

/* `planar mcp`: the MCP server of a lake opened read-only (tools see every tenant); the command
 * line feeds it one JSON-RPC message at a time. handle returns the reply (malloc'd, one line
 * without newline) or NULL when none is due; close takes NULL. */
typedef struct pl_server_mcp pl_server_mcp;
int pl_server_mcp_open(pl_server_mcp **out, const char *lake, const char *data_path, long long row_cap,
		       unsigned query_timeout_ms, char **errmsg);
char *pl_server_mcp_handle(pl_server_mcp *m, const char *msg, size_t len);
void pl_server_mcp_close(pl_server_mcp *m);

#endif
