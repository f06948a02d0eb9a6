/*
 * tests/unit/storage/fs.c -- cmocka tests of making written files durable (src/storage/fs.c) in a
 * scratch directory: pl_fs_sync_files over files of several directories (each directory synced
 * once), a bare file name, an empty list, and the errors a user sees for a file or directory that
 * is gone; directories given beside the files, with a trailing '/' or without; many files (synced
 * on several threads), one of them gone.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/str.h"
#include "storage/fs.h"

typedef struct fixture {
	char base[64]; /* scratch directory */
	pl_strv paths;
} fixture;

static void add_file(fixture *f, const char *rel)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", f->base, rel);
	pl_err err = {0};
	assert_int_equal(pl_fs_mkdirs_parent(p, &err), 0);
	FILE *out = fopen(p, "w");
	assert_non_null(out);
	fputs("x", out);
	fclose(out);
	assert_int_equal(pl_strv_push(&f->paths, p), 0);
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	snprintf(f->base, sizeof(f->base), "/tmp/planar-fs-XXXXXX");
	if (!mkdtemp(f->base))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	pl_fs_remove_dir(f->base);
	pl_strv_dispose(&f->paths);
	free(f);
	return 0;
}

static void test_files_of_several_directories(void **state)
{
	fixture *f = *state;
	add_file(f, "main/t/a.parquet");
	add_file(f, "main/t/b.parquet");
	add_file(f, "main/u/c.parquet");
	add_file(f, "main/t/d.parquet");
	add_file(f, "top.parquet");
	pl_err err = {0};
	assert_int_equal(pl_fs_sync_files(f->paths.items, f->paths.len, NULL, 0, &err), 0);
	assert_int_equal(pl_fs_sync_files(f->paths.items, 0, NULL, 0, &err), 0);
	assert_int_equal(pl_fs_sync_file(f->paths.items[0], &err), 0);
}

static void test_bare_name(void **state)
{
	fixture *f = *state;
	char cwd[512];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(f->base), 0);
	FILE *out = fopen("bare.parquet", "w");
	assert_non_null(out);
	fclose(out);
	char *bare = "bare.parquet";
	pl_err err = {0};
	int rc = pl_fs_sync_files(&bare, 1, NULL, 0, &err);
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(rc, 0);
}

static void test_missing_file(void **state)
{
	fixture *f = *state;
	add_file(f, "main/t/a.parquet");
	char gone[256];
	snprintf(gone, sizeof(gone), "%s/main/t/gone.parquet", f->base);
	assert_int_equal(pl_strv_push(&f->paths, gone), 0);
	pl_err err = {0};
	assert_int_equal(pl_fs_sync_files(f->paths.items, f->paths.len, NULL, 0, &err), PL_EIO);
	assert_non_null(strstr(err.msg, "gone.parquet"));
	char *gone_p = gone;
	assert_int_equal(pl_fs_sync_files(&gone_p, 1, NULL, 0, &err), PL_EIO);
}

static void test_directories(void **state)
{
	fixture *f = *state;
	add_file(f, "main/t/a.parquet");
	char dir[256], bare[256], *dirs[2] = {dir, bare};
	snprintf(dir, sizeof(dir), "%s/main/t/", f->base);
	snprintf(bare, sizeof(bare), "%s/main", f->base);
	pl_err err = {0};
	assert_int_equal(pl_fs_sync_files(NULL, 0, dirs, 2, &err), 0);
	assert_int_equal(pl_fs_sync_files(f->paths.items, 1, dirs, 2, &err), 0);
	snprintf(dir, sizeof(dir), "%s/main/nothing/", f->base);
	assert_int_equal(pl_fs_sync_files(f->paths.items, 1, dirs, 1, &err), PL_EIO);
	assert_non_null(strstr(err.msg, "nothing"));
}

/* enough files for every sync thread; a file gone in the middle fails the whole sync with its name */
static void test_many_files(void **state)
{
	fixture *f = *state;
	char rel[64];
	for (int i = 0; i < 300; i++) {
		snprintf(rel, sizeof(rel), "main/t%d/f%d.parquet", i % 7, i);
		add_file(f, rel);
	}
	pl_err err = {0};
	assert_int_equal(pl_fs_sync_files(f->paths.items, f->paths.len, NULL, 0, &err), 0);
	char gone[256];
	snprintf(gone, sizeof(gone), "%s/main/t3/gone.parquet", f->base);
	free(f->paths.items[151]);
	f->paths.items[151] = strdup(gone);
	assert_non_null(f->paths.items[151]);
	assert_int_equal(pl_fs_sync_files(f->paths.items, f->paths.len, NULL, 0, &err), PL_EIO);
	assert_non_null(strstr(err.msg, "gone.parquet"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_files_of_several_directories, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bare_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_directories, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_files, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
