/*
 * blob.h -- `planar blob put|get|list|alias|verify`: versioned datasets and checkpoints beside a
 * lake, through the public API (planar_blob_*).
 */
#ifndef PL_CLI_BLOB_H
#define PL_CLI_BLOB_H

/* argv[0] is "blob". Returns the process exit code. */
int pl_cli_blob_main(int argc, char **argv);

#endif
