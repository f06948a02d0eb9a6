/*
 * server.h -- the `planar serve` and `planar token` commands (the data-plane HTTP service).
 * The command line calls these with argv[0] being the subcommand name; they print and return
 * the process exit code.
 */
#ifndef PL_SERVER_SERVER_H
#define PL_SERVER_SERVER_H

int pl_server_serve_main(int argc, char **argv);
int pl_server_token_main(int argc, char **argv);

#endif
