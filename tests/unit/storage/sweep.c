/*
 * tests/unit/storage/sweep.c -- cmocka tests of finding and removing files below a data path
 * (src/storage/sweep.c) in a scratch directory:
 *
 * canonical paths ("..", ".", doubled slashes, directories that do not exist, symbolic links
 * resolved), the walk (suffixes, hidden directories, links neither listed nor followed), and
 * removal, which refuses everything that is not a regular file below the root: paths that climb
 * out, absolute paths elsewhere, a directory linked from inside the root to outside it, a link to
 * a file, a directory, the root itself; missing files are reported as such.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/fs.h"
#include "storage/sweep.h"

typedef struct fixture {
	char base[64];   /* scratch directory (real path) */
	char root[128];  /* base/data: the data path */
	char outside[128];
	pl_sweep_dirs *dirs;
} fixture;

static void touch(const char *path)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("x", f);
	fclose(f);
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	snprintf(f->base, sizeof(f->base), "/tmp/planar-sweep-XXXXXX");
	if (!mkdtemp(f->base))
		return -1;
	char *real = realpath(f->base, NULL);
	snprintf(f->base, sizeof(f->base), "%s", real);
	free(real);
	snprintf(f->root, sizeof(f->root), "%s/data", f->base);
	snprintf(f->outside, sizeof(f->outside), "%s/outside", f->base);
	pl_err err = {0};
	char p[256];
	snprintf(p, sizeof(p), "%s/main/t/", f->root);
	if (pl_fs_mkdirs(p, &err) || pl_fs_mkdirs(f->outside, &err) || pl_sweep_dirs_new(&f->dirs, &err))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->base);
	int rc = system(cmd);
	pl_sweep_dirs_free(f->dirs);
	free(f);
	return rc == 0 ? 0 : -1;
}

static void expect_canonical(fixture *f, const char *path, const char *expected)
{
	char *c = pl_sweep_canonical(f->dirs, path);
	assert_non_null(c);
	assert_string_equal(c, expected);
	free(c);
}

static void sweep__canonical_paths(void **state)
{
	fixture *f = *state;
	char in[512], out[512];
	snprintf(in, sizeof(in), "%s/main/./t//../t/a.parquet", f->root);
	snprintf(out, sizeof(out), "%s/main/t/a.parquet", f->root);
	expect_canonical(f, in, out);
	/* a directory that does not exist: resolved from its nearest existing ancestor */
	snprintf(in, sizeof(in), "%s/main/gone/x/../y.parquet", f->root);
	snprintf(out, sizeof(out), "%s/main/gone/y.parquet", f->root);
	expect_canonical(f, in, out);
	snprintf(in, sizeof(in), "%s/gone/../../outside/z.parquet", f->root);
	snprintf(out, sizeof(out), "%s/z.parquet", f->outside);
	expect_canonical(f, in, out);
	/* through a link: the real directory */
	char link[200];
	snprintf(link, sizeof(link), "%s/main/escape", f->root);
	assert_int_equal(symlink(f->outside, link), 0);
	snprintf(in, sizeof(in), "%s/f.parquet", link);
	snprintf(out, sizeof(out), "%s/f.parquet", f->outside);
	expect_canonical(f, in, out);
}

static void sweep__is_below(void **state)
{
	(void)state;
	assert_true(pl_sweep_is_below("/a/data", "/a/data/x"));
	assert_true(pl_sweep_is_below("/a/data", "/a/data/s/t/x"));
	assert_false(pl_sweep_is_below("/a/data", "/a/data"));
	assert_false(pl_sweep_is_below("/a/data", "/a/data/"));
	assert_false(pl_sweep_is_below("/a/data", "/a/data2/x"));
	assert_false(pl_sweep_is_below("/a/data", "/a/x"));
	assert_true(pl_sweep_is_below("/", "/x"));
}

static void sweep__walk_skips_links_and_other_files(void **state)
{
	fixture *f = *state;
	char p[256];
	snprintf(p, sizeof(p), "%s/main/t/a.parquet", f->root);
	touch(p);
	snprintf(p, sizeof(p), "%s/main/t/d.puffin", f->root);
	touch(p);
	snprintf(p, sizeof(p), "%s/main/t/notes.csv", f->root);
	touch(p);
	snprintf(p, sizeof(p), "%s/main/t/.planar-write-1/", f->root);
	pl_err err = {0};
	assert_int_equal(pl_fs_mkdirs(p, &err), 0);
	snprintf(p, sizeof(p), "%s/main/t/.planar-write-1/b.parquet", f->root);
	touch(p);
	/* a linked directory and a linked file: neither followed nor listed */
	snprintf(p, sizeof(p), "%s/o.parquet", f->outside);
	touch(p);
	snprintf(p, sizeof(p), "%s/main/linked", f->root);
	assert_int_equal(symlink(f->outside, p), 0);
	char target[200];
	snprintf(target, sizeof(target), "%s/o.parquet", f->outside);
	snprintf(p, sizeof(p), "%s/main/t/l.parquet", f->root);
	assert_int_equal(symlink(target, p), 0);

	static const char *const suffixes[] = {".parquet", ".puffin", NULL};
	pl_sweep_list l = {0};
	char dir[256];
	snprintf(dir, sizeof(dir), "%s/", f->root);
	assert_int_equal(pl_sweep_walk(dir, suffixes, &l, &err), 0);
	assert_int_equal(l.len, 3);
	int seen = 0;
	for (size_t i = 0; i < l.len; i++) {
		assert_ptr_equal(strstr(l.items[i].path, dir), l.items[i].path);
		assert_true(l.items[i].mtime_us > 0);
		seen |= strstr(l.items[i].path, "/t/a.parquet") ? 1 : strstr(l.items[i].path, "/t/d.puffin") ? 2
			: strstr(l.items[i].path, "/.planar-write-1/b.parquet") ? 4 : 8;
	}
	assert_int_equal(seen, 7);
	pl_sweep_list_dispose(&l);
	/* a missing directory lists nothing */
	snprintf(dir, sizeof(dir), "%s/none/", f->root);
	assert_int_equal(pl_sweep_walk(dir, suffixes, &l, &err), 0);
	assert_int_equal(l.len, 0);
}

static void expect_remove(fixture *f, const char *path, pl_sweep_outcome expected)
{
	pl_err err = {0};
	pl_sweep_outcome out = PL_SWEEP_REMOVED;
	char *root = NULL;
	assert_int_equal(pl_sweep_root(f->root, &root, &err), 0);
	assert_int_equal(pl_sweep_check(f->dirs, root, path, &out, &err), 0);
	assert_int_equal(out, expected);
	assert_int_equal(pl_sweep_remove(f->dirs, root, path, &out, &err), 0);
	assert_int_equal(out, expected);
	free(root);
}

static void sweep__remove_refuses_everything_but_files_below_the_root(void **state)
{
	fixture *f = *state;
	char p[256], o[256];
	snprintf(o, sizeof(o), "%s/victim.parquet", f->outside);
	touch(o);
	/* climbing out, relative and absolute; a sibling whose name starts like the root */
	snprintf(p, sizeof(p), "%s/main/t/../../../outside/victim.parquet", f->root);
	expect_remove(f, p, PL_SWEEP_REFUSED);
	expect_remove(f, o, PL_SWEEP_REFUSED);
	char sibling[200];
	snprintf(sibling, sizeof(sibling), "%s/data2", f->base);
	assert_int_equal(mkdir(sibling, 0777), 0);
	snprintf(p, sizeof(p), "%s/x.parquet", sibling);
	touch(p);
	expect_remove(f, p, PL_SWEEP_REFUSED);
	assert_true(exists(p));
	/* a directory inside the root that links outside */
	char link[200];
	snprintf(link, sizeof(link), "%s/main/escape", f->root);
	assert_int_equal(symlink(f->outside, link), 0);
	snprintf(p, sizeof(p), "%s/victim.parquet", link);
	expect_remove(f, p, PL_SWEEP_REFUSED);
	assert_true(exists(o));
	/* a link to a file (the link is not a regular file), a directory, the root itself */
	snprintf(p, sizeof(p), "%s/main/t/l.parquet", f->root);
	assert_int_equal(symlink(o, p), 0);
	expect_remove(f, p, PL_SWEEP_REFUSED);
	assert_true(exists(p) && exists(o));
	snprintf(p, sizeof(p), "%s/main/t", f->root);
	expect_remove(f, p, PL_SWEEP_REFUSED);
	expect_remove(f, f->root, PL_SWEEP_REFUSED);
	snprintf(p, sizeof(p), "%s/", f->root);
	expect_remove(f, p, PL_SWEEP_REFUSED);
	assert_true(exists(o));

	/* a file below the root goes; a second time it is missing */
	snprintf(p, sizeof(p), "%s/main/t/a.parquet", f->root);
	touch(p);
	pl_err err = {0};
	pl_sweep_outcome out = PL_SWEEP_REFUSED;
	char *root = NULL;
	assert_int_equal(pl_sweep_root(f->root, &root, &err), 0);
	assert_int_equal(pl_sweep_check(f->dirs, root, p, &out, &err), 0);
	assert_int_equal(out, PL_SWEEP_REMOVED);
	assert_true(exists(p));
	assert_int_equal(pl_sweep_remove(f->dirs, root, p, &out, &err), 0);
	assert_int_equal(out, PL_SWEEP_REMOVED);
	assert_false(exists(p));
	assert_int_equal(pl_sweep_remove(f->dirs, root, p, &out, &err), 0);
	assert_int_equal(out, PL_SWEEP_MISSING);
	snprintf(p, sizeof(p), "%s/main/none/a.parquet", f->root);
	assert_int_equal(pl_sweep_remove(f->dirs, root, p, &out, &err), 0);
	assert_int_equal(out, PL_SWEEP_MISSING);
	/* the same file named through "." and doubled slashes */
	snprintf(p, sizeof(p), "%s/main/t/b.parquet", f->root);
	touch(p);
	char alias[256];
	snprintf(alias, sizeof(alias), "%s/./main//t/b.parquet", f->root);
	assert_int_equal(pl_sweep_remove(f->dirs, root, alias, &out, &err), 0);
	assert_int_equal(out, PL_SWEEP_REMOVED);
	assert_false(exists(p));
	free(root);
}

static void sweep__remove_empty_dir(void **state)
{
	fixture *f = *state;
	char d[200], p[512];
	char *root = NULL;
	pl_err err = {0};
	assert_int_equal(pl_sweep_root(f->root, &root, &err), 0);
	snprintf(d, sizeof(d), "%s/main/t/.planar-write-2", f->root);
	assert_int_equal(mkdir(d, 0777), 0);
	snprintf(p, sizeof(p), "%s/left.parquet", d);
	touch(p);
	pl_sweep_remove_empty_dir(f->dirs, root, d); /* not empty: stays */
	assert_true(exists(d));
	assert_int_equal(unlink(p), 0);
	pl_sweep_remove_empty_dir(f->dirs, root, d);
	assert_false(exists(d));
	/* never outside the root */
	snprintf(d, sizeof(d), "%s/emptydir", f->outside);
	assert_int_equal(mkdir(d, 0777), 0);
	pl_sweep_remove_empty_dir(f->dirs, root, d);
	assert_true(exists(d));
	free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(sweep__canonical_paths, setup, teardown),
		cmocka_unit_test(sweep__is_below),
		cmocka_unit_test_setup_teardown(sweep__walk_skips_links_and_other_files, setup, teardown),
		cmocka_unit_test_setup_teardown(sweep__remove_refuses_everything_but_files_below_the_root, setup, teardown),
		cmocka_unit_test_setup_teardown(sweep__remove_empty_dir, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
