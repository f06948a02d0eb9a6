/*
 * mcp.h -- `planar mcp`: the Model Context Protocol server of a lake over standard input and
 * output (newline-delimited JSON-RPC 2.0 messages), for an agent that runs it as a subprocess.
 * The lake is opened read-only; the tools are those of POST /mcp of `planar serve`.
 */
#ifndef PL_CLI_MCP_H
#define PL_CLI_MCP_H

int pl_cli_mcp_main(int argc, char **argv);

#endif
