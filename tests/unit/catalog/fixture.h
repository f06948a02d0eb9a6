/*
 * fixture.h -- the catalog unit tests' fixture: a new catalog of one driver kind (the test's
 * initial state names it) in a fresh temporary directory, removed afterwards.
 */
#ifndef PL_TEST_CATALOG_FIXTURE_H
#define PL_TEST_CATALOG_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/driver.h"
#include "catalog/init.h"

typedef struct fixture {
	const char *kind;
	char dir[64], path[128], data[128];
	pl_catdb *db;
} fixture;

static int fixture_remove(fixture *f)
{
	char cmd[128];
	pl_catdb_close(f->db);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	int rc = system(cmd);
	free(f);
	return rc == 0 ? 0 : -1;
}

/* name tells the tests' directories apart: /tmp/planar-unit-<name>-XXXXXX */
static int fixture_setup(void **state, const char *name)
{
	fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	f->kind = *state;
	snprintf(f->dir, sizeof(f->dir), "/tmp/planar-unit-%s-XXXXXX", name);
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/cat.%s", f->dir, f->kind);
	snprintf(f->data, sizeof(f->data), "%s/data/", f->dir);
	pl_catdb_options o = {f->kind, f->path, false, true, NULL, NULL};
	pl_err err = {0};
	if (pl_catdb_open(&f->db, &o, &err) || pl_catalog_create(f->db, f->data, &err)) {
		fprintf(stderr, "setup: %s\n", err.msg);
		fixture_remove(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	return fixture_remove(*state);
}

#endif
