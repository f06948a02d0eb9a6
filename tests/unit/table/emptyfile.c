/*
 * tests/unit/table/emptyfile.c -- cmocka tests of the empty twin of a registered Parquet file
 * (pl_empty_twin, src/table/emptyfile.c) on an in-memory DuckDB: the twin has the file's columns
 * and types and no row, is made once per file content (the same path again; another twin once
 * the file is rewritten), and there is none for a relative path, a missing file, a file that is
 * not Parquet (now and on the next call) or no set of files; disposing removes the directory.
 * Directories left by killed processes are removed when a process makes its own: those whose
 * owner lock nobody holds, not a held one, a fresh one, one without a lock file or a link.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include "storage/fs.h"
#include "table/emptyfile.h"

typedef struct fixture {
	char base[64];
	duckdb_database db;
	duckdb_connection con;
	pl_empty_files files;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	snprintf(f->base, sizeof(f->base), "/tmp/planar-twin-XXXXXX");
	if (!f || !mkdtemp(f->base) || duckdb_open(NULL, &f->db) == DuckDBError ||
	    duckdb_connect(f->db, &f->con) == DuckDBError)
		return -1;
	pl_empty_files_init(&f->files, f->db);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	pl_empty_files_dispose(&f->files);
	duckdb_disconnect(&f->con);
	duckdb_close(&f->db);
	pl_fs_remove_dir(f->base);
	free(f);
	return 0;
}

static void run(fixture *f, const char *fmt, const char *path)
{
	char q[1024];
	snprintf(q, sizeof(q), fmt, path);
	duckdb_result r;
	assert_int_equal(duckdb_query(f->con, q, &r), DuckDBSuccess);
	duckdb_destroy_result(&r);
}

/* The text of the one value a query gives (malloc'd). */
static char *value(fixture *f, const char *fmt, const char *path)
{
	char q[1024];
	snprintf(q, sizeof(q), fmt, path);
	duckdb_result r;
	assert_int_equal(duckdb_query(f->con, q, &r), DuckDBSuccess);
	char *v = duckdb_value_varchar(&r, 0, 0);
	char *out = strdup(v ? v : "NULL");
	duckdb_free(v);
	duckdb_destroy_result(&r);
	return out;
}

static void test_twin(void **state)
{
	fixture *f = *state;
	char file[128];
	snprintf(file, sizeof(file), "%s/ext.parquet", f->base);
	run(f, "COPY (SELECT range AS id, {'a': range} AS s, [range] AS l, 'x' AS txt FROM range(1000)) TO '%s'", file);
	char *twin = NULL;
	pl_empty_twin(&f->files, file, &twin);
	assert_non_null(twin);
	char *rows = value(f, "SELECT count(*) FROM read_parquet('%s')", twin);
	assert_string_equal(rows, "0");
	free(rows);
	char *cols = value(f, "SELECT string_agg(column_name || ' ' || column_type, ', ') FROM (DESCRIBE SELECT * FROM "
			      "read_parquet('%s'))", twin);
	char *want = value(f, "SELECT string_agg(column_name || ' ' || column_type, ', ') FROM (DESCRIBE SELECT * FROM "
			      "read_parquet('%s'))", file);
	assert_string_equal(cols, want);
	free(cols);
	free(want);

	char *again = NULL; /* made once */
	pl_empty_twin(&f->files, file, &again);
	assert_non_null(again);
	assert_string_equal(again, twin);
	free(again);

	/* another file at the same path: a twin of its own */
	run(f, "COPY (SELECT 'a' AS other FROM range(10)) TO '%s'", file);
	char *other = NULL;
	pl_empty_twin(&f->files, file, &other);
	assert_non_null(other);
	assert_string_not_equal(other, twin);
	char *ocols = value(f, "SELECT string_agg(column_name, ', ') FROM (DESCRIBE SELECT * FROM read_parquet('%s'))",
			    other);
	assert_string_equal(ocols, "other");
	free(ocols);
	free(other);
	free(twin);

	/* the files go with the set */
	char *dir = strdup(f->files.dir);
	pl_empty_files_dispose(&f->files);
	struct stat st;
	assert_int_not_equal(stat(dir, &st), 0);
	free(dir);
	pl_empty_files_init(&f->files, f->db);
}

static void test_no_twin(void **state)
{
	fixture *f = *state;
	char *twin = NULL;
	pl_empty_twin(&f->files, "relative.parquet", &twin);
	assert_null(twin);
	char path[128];
	snprintf(path, sizeof(path), "%s/missing.parquet", f->base);
	pl_empty_twin(&f->files, path, &twin);
	assert_null(twin);
	pl_empty_twin(NULL, path, &twin);
	assert_null(twin);
	/* not Parquet: no twin, now and next time */
	snprintf(path, sizeof(path), "%s/text.parquet", f->base);
	FILE *out = fopen(path, "w");
	assert_non_null(out);
	fputs("not parquet", out);
	fclose(out);
	for (int i = 0; i < 2; i++) {
		pl_empty_twin(&f->files, path, &twin);
		assert_null(twin);
	}
	/* a directory */
	pl_empty_twin(&f->files, f->base, &twin);
	assert_null(twin);
}

/* base/name with an owner lock file (aged: an hour old), as a process leaves it. */
static void left_dir(const char *base, const char *name, bool lock_file, bool aged, char *out, size_t n)
{
	snprintf(out, n, "%s/%s", base, name);
	assert_int_equal(mkdir(out, 0700), 0);
	char lock[256], data[256];
	snprintf(data, sizeof(data), "%s/0123.parquet", out);
	FILE *f = fopen(data, "w");
	assert_non_null(f);
	fclose(f);
	if (!lock_file)
		return;
	snprintf(lock, sizeof(lock), "%s/.owner", out);
	f = fopen(lock, "w");
	assert_non_null(f);
	fclose(f);
	if (aged) {
		struct utimbuf t = {time(NULL) - 3600, time(NULL) - 3600};
		assert_int_equal(utime(lock, &t), 0);
	}
}

static void test_left_directories(void **state)
{
	fixture *f = *state;
	char dead[128], held[128], fresh[128], old_style[128], other[128];
	left_dir(f->base, "planar-empty-dead01", true, true, dead, sizeof(dead));
	left_dir(f->base, "planar-empty-held01", true, true, held, sizeof(held));
	left_dir(f->base, "planar-empty-fresh1", true, false, fresh, sizeof(fresh));
	left_dir(f->base, "planar-empty-nolock", false, false, old_style, sizeof(old_style));
	left_dir(f->base, "not-planar-dir", true, true, other, sizeof(other));
	/* a link named like a left directory, to a directory with an unheld, aged lock: not followed */
	char link[128];
	snprintf(link, sizeof(link), "%s/planar-empty-link01", f->base);
	assert_int_equal(symlink(other, link), 0);
	char lock[256];
	snprintf(lock, sizeof(lock), "%s/.owner", held);
	int fd = open(lock, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0); /* a live process holds it */

	char *old_tmp = getenv("TMPDIR") ? strdup(getenv("TMPDIR")) : NULL;
	setenv("TMPDIR", f->base, 1);
	char file[128], *twin = NULL;
	snprintf(file, sizeof(file), "%s/ext.parquet", f->base);
	run(f, "COPY (SELECT 1 AS x) TO '%s'", file);
	pl_empty_twin(&f->files, file, &twin); /* makes this process's directory */
	assert_non_null(twin);
	assert_ptr_equal(strstr(twin, f->base), twin);
	free(twin);

	struct stat st;
	assert_int_not_equal(stat(dead, &st), 0);
	assert_int_equal(stat(held, &st), 0);
	assert_int_equal(stat(fresh, &st), 0);
	assert_int_equal(stat(old_style, &st), 0);
	assert_int_equal(stat(other, &st), 0);
	assert_int_equal(lstat(link, &st), 0);
	char inside[256];
	snprintf(inside, sizeof(inside), "%s/0123.parquet", other);
	assert_int_equal(stat(inside, &st), 0);
	close(fd);
	/* this process's own directory holds its lock: another set made now keeps it */
	pl_empty_files second;
	pl_empty_files_init(&second, f->db);
	char *twin2 = NULL;
	pl_empty_twin(&second, file, &twin2);
	if (old_tmp)
		setenv("TMPDIR", old_tmp, 1);
	else
		unsetenv("TMPDIR");
	free(old_tmp);
	assert_non_null(twin2);
	assert_int_equal(stat(f->files.dir, &st), 0);
	free(twin2);
	pl_empty_files_dispose(&second);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_twin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_twin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_left_directories, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
