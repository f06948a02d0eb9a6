/*
 * fault.h -- crash points for fault-injection tests. When the environment variable
 * PLANAR_FAULT names a point, the process ends right there with _exit(99): no cleanup, no
 * flushing, as a crash or kill -9 would. Points: "write:after-files" (data files written, nothing
 * in the catalog yet), "commit:before-commit" (catalog rows written, transaction not committed),
 * "commit:after-commit" (committed, views not yet rebuilt), "search:mid-segment-file" (half a
 * search index segment written), "search:after-segment-file" (a segment complete, not yet
 * registered). Unset, a point costs one getenv().
 */
#ifndef PL_CORE_FAULT_H
#define PL_CORE_FAULT_H

void pl_fault_point(const char *name);

#endif
