/*
 * maintain.h -- `planar maintain`: a lake's upkeep without a person. It attaches the lake and
 * runs `CHECKPOINT lake` (flush inlined data, expire snapshots, merge adjacent files, rewrite
 * files with many deletes, clean up old files, delete orphans, each as the lake's options say)
 * once, or every --every seconds until SIGTERM or SIGINT, printing one JSON line per run.
 */
#ifndef PL_CLI_MAINTAIN_H
#define PL_CLI_MAINTAIN_H

int pl_cli_maintain_main(int argc, char **argv);

#endif
