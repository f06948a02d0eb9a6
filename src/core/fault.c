/*
 * fault.c -- crash points for fault-injection tests (see fault.h).
 */
#include "core/fault.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void pl_fault_point(const char *name)
{
	const char *want = getenv("PLANAR_FAULT");
	if (want && strcmp(want, name) == 0)
		_exit(99);
}
