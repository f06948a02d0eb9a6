/*
 * emptyfile.c -- empty Parquet files of a table's columns (see emptyfile.h).
 */
#include "table/emptyfile.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/str.h"
#include "storage/fs.h"
#include "table/scan.h"
#include "table/writer.h"

void pl_empty_files_init(pl_empty_files *e, duckdb_database duck)
{
	memset(e, 0, sizeof(*e));
	pthread_mutex_init(&e->lock, NULL);
	e->duck = duck;
	e->lock_fd = -1;
}

void pl_empty_files_dispose(pl_empty_files *e)
{
	if (e->dir)
		pl_fs_remove_dir(e->dir);
	if (e->lock_fd >= 0)
		close(e->lock_fd);
	free(e->dir);
	e->dir = NULL;
	e->lock_fd = -1;
	pthread_mutex_destroy(&e->lock);
}

/* The SELECT of no row with t's columns (as text with as_text), then the COPY options. */
static int put_select(pl_buf *q, pl_buf *opts, const pl_table *t, bool as_text, bool field_ids, pl_err *err)
{
	int rc = 0;
	pl_buf_truncate(q, 0);
	pl_buf_puts(q, "SELECT ");
	for (size_t i = 0; rc == 0 && i < t->ntop; i++) {
		pl_buf type = PL_BUF_INIT;
		rc = as_text ? 0 : pl_scan_column_type(&type, t->top[i], err);
		pl_buf_printf(q, "%sCAST(NULL AS %s) AS ", i ? ", " : "", as_text ? "VARCHAR" : pl_buf_cstr(&type));
		pl_buf_put_ident(q, t->top[i]->name);
		pl_buf_dispose(&type);
	}
	pl_buf_puts(q, " WHERE false");
	pl_buf_truncate(opts, 0);
	pl_buf_puts(opts, " (FORMAT parquet");
	if (field_ids) {
		pl_buf_puts(opts, ", FIELD_IDS ");
		pl_writer_put_field_ids(opts, t);
	}
	pl_buf_putc(opts, ')');
	return rc == 0 && (pl_buf_oom(q) || pl_buf_oom(opts)) ? pl_err_nomem(err) : rc;
}

#define DIR_PREFIX "planar-empty-"
#define LOCK_NAME ".owner"

/* Removes the directories under tmp that earlier processes made and left (killed before they
 * could remove them): those whose owner lock nobody holds. A process holds the lock of its own
 * directory for as long as it lives; the kernel releases it however the process ends. */
static void sweep_left_dirs(const char *tmp)
{
	DIR *d = opendir(tmp);
	struct dirent *ent;
	while (d && (ent = readdir(d)) != NULL) {
		if (strncmp(ent->d_name, DIR_PREFIX, strlen(DIR_PREFIX)) != 0)
			continue;
		char dir[4096], lock[4200];
		snprintf(dir, sizeof(dir), "%s/%s", tmp, ent->d_name);
		snprintf(lock, sizeof(lock), "%s/" LOCK_NAME, dir);
		/* a directory of this user's, not a link to one */
		struct stat ds;
		if (lstat(dir, &ds) != 0 || !S_ISDIR(ds.st_mode) || ds.st_uid != geteuid())
			continue;
		int fd = open(lock, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) /* made before owner locks, or not ours to take: left alone */
			continue;
		/* a lock file a minute old at least: not one whose maker is about to take it */
		struct stat st;
		if (fstat(fd, &st) == 0 && st.st_mtime < time(NULL) - 60 && flock(fd, LOCK_EX | LOCK_NB) == 0)
			pl_fs_remove_dir(dir);
		close(fd);
	}
	if (d)
		closedir(d);
}

/* Under e->lock: the directory, made on first use (with its owner lock held). */
static int ensure_dir(pl_empty_files *e, pl_err *err)
{
	if (e->dir)
		return 0;
	const char *tmp = getenv("TMPDIR");
	tmp = tmp && *tmp ? tmp : "/tmp";
	sweep_left_dirs(tmp);
	char dir[4096], lock[4200];
	snprintf(dir, sizeof(dir), "%s/" DIR_PREFIX "XXXXXX", tmp);
	if (!mkdtemp(dir))
		return pl_err_set(err, PL_EIO, "cannot create a temporary directory in %s (set TMPDIR)", tmp);
	snprintf(lock, sizeof(lock), "%s/" LOCK_NAME, dir);
	e->lock_fd = open(lock, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (e->lock_fd < 0 || flock(e->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		if (e->lock_fd >= 0)
			close(e->lock_fd);
		e->lock_fd = -1;
		pl_fs_remove_dir(dir);
		return pl_err_set(err, PL_EIO, "cannot lock the temporary directory %s", dir);
	}
	return (e->dir = pl_strdup(dir)) ? 0 : pl_err_nomem(err);
}

/* Under e->lock: writes `COPY (q minus opts) TO path opts` to a temporary name, renamed into
 * place (a reader never sees a partial file). */
static int write_file(pl_empty_files *e, const pl_buf *q, const pl_buf *opts, const char *path, pl_err *err)
{
	pl_buf copy = PL_BUF_INIT, tmp = PL_BUF_INIT;
	pl_buf_printf(&tmp, "%s.tmp", path); /* the directory is this process's, the lock held */
	pl_buf_puts(&copy, "COPY (");
	pl_buf_put(&copy, q->ptr, q->len - opts->len);
	pl_buf_puts(&copy, ") TO ");
	pl_buf_put_literal(&copy, pl_buf_cstr(&tmp));
	pl_buf_put(&copy, opts->ptr, opts->len);
	duckdb_connection con = NULL;
	int rc = pl_buf_oom(&copy) || pl_buf_oom(&tmp) ? pl_err_nomem(err) : 0;
	if (rc == 0 && duckdb_connect(e->duck, &con) == DuckDBError)
		rc = pl_err_set(err, PL_ERROR, "cannot open a connection to write an empty data file");
	if (rc == 0) {
		rc = pl_engine_exec(con, copy.ptr, err);
		duckdb_disconnect(&con);
	}
	if (rc == 0 && rename(tmp.ptr, path) != 0)
		rc = pl_err_set(err, PL_EIO, "cannot move %s to %s", tmp.ptr, path);
	if (rc && tmp.ptr)
		unlink(tmp.ptr);
	pl_buf_dispose(&copy);
	pl_buf_dispose(&tmp);
	return rc;
}

/* Under e->lock: *path (malloc'd) of the file that COPY q (whose end is opts) writes, named by
 * the hash of key, written first when it is not there yet. optional: a file that cannot be
 * written is marked so (<path>.none) and gives *path NULL and 0, now and on later calls. */
static int cached_file(pl_empty_files *e, const pl_buf *q, const pl_buf *opts, const char *key, bool optional,
		       char **path, pl_err *err)
{
	*path = NULL;
	int rc = ensure_dir(e, err);
	pl_buf p = PL_BUF_INIT, none = PL_BUF_INIT;
	pl_buf_printf(&p, "%s/%016llx.parquet", e->dir, (unsigned long long)pl_str_hash(key));
	pl_buf_printf(&none, "%s.none", pl_buf_cstr(&p));
	if (rc == 0 && (pl_buf_oom(&p) || pl_buf_oom(&none)))
		rc = pl_err_nomem(err);
	bool have = rc == 0 && access(p.ptr, F_OK) == 0;
	bool marked = rc == 0 && !have && optional && access(none.ptr, F_OK) == 0;
	if (rc == 0 && !have && !marked) {
		rc = write_file(e, q, opts, p.ptr, err);
		if (rc && rc != PL_ENOMEM && optional) {
			FILE *f = fopen(none.ptr, "w");
			if (f)
				fclose(f);
			marked = true;
			rc = 0;
		}
	}
	if (rc == 0 && !marked)
		*path = pl_buf_detach(&p);
	pl_buf_dispose(&p);
	pl_buf_dispose(&none);
	return rc;
}

/* The file for t (see pl_empty_file; with field_ids pl_empty_companion, which gives no file
 * rather than the text form when a type cannot be written). */
static int empty_file(pl_empty_files *e, const pl_table *t, bool field_ids, char **out, pl_err *err)
{
	pl_buf q = PL_BUF_INIT, opts = PL_BUF_INIT;
	int rc = 0;
	*out = NULL;
	pthread_mutex_lock(&e->lock);
	for (int as_text = 0; as_text < 2; as_text++) {
		rc = put_select(&q, &opts, t, as_text, field_ids, err);
		pl_buf_puts(&q, pl_buf_cstr(&opts)); /* the file is named by its whole COPY */
		if (rc == 0 && pl_buf_oom(&q))
			rc = pl_err_nomem(err);
		pl_err write_err = {0};
		if (rc == 0)
			rc = cached_file(e, &q, &opts, q.ptr, field_ids, out, &write_err);
		if (rc == 0 || rc == PL_ENOMEM || as_text) {
			if (rc)
				*err = write_err;
			break;
		}
		rc = 0; /* a type Parquet cannot hold: the columns as text (every value is NULL) */
	}
	pthread_mutex_unlock(&e->lock);
	pl_buf_dispose(&q);
	pl_buf_dispose(&opts);
	return rc;
}

int pl_empty_file(pl_empty_files *e, const pl_table *t, char **out, pl_err *err)
{
	return empty_file(e, t, false, out, err);
}

void pl_empty_companion(pl_empty_files *e, const pl_table *t, char **out)
{
	pl_err ignored = {0};
	*out = NULL;
	if (e && empty_file(e, t, true, out, &ignored) != 0)
		*out = NULL;
}

void pl_empty_twin(pl_empty_files *e, const char *file, char **out)
{
	*out = NULL;
	struct stat st;
	if (!e || file[0] != '/' || stat(file, &st) != 0 || !S_ISREG(st.st_mode))
		return;
	pl_buf q = PL_BUF_INIT, opts = PL_BUF_INIT, key = PL_BUF_INIT;
	pl_buf_puts(&q, "SELECT * FROM read_parquet(");
	pl_buf_put_literal(&q, file);
	pl_buf_puts(&q, ") LIMIT 0");
	pl_buf_puts(&opts, " (FORMAT parquet)");
	pl_buf_puts(&q, pl_buf_cstr(&opts));
	/* the file as it is now: another file at the same path gets a twin of its own */
	pl_buf_printf(&key, "%s %lld %lld.%09ld", pl_buf_cstr(&q), (long long)st.st_size, (long long)st.st_mtim.tv_sec,
		      (long)st.st_mtim.tv_nsec);
	pl_err ignored = {0};
	if (!pl_buf_oom(&q) && !pl_buf_oom(&opts) && !pl_buf_oom(&key)) {
		pthread_mutex_lock(&e->lock);
		if (cached_file(e, &q, &opts, key.ptr, true, out, &ignored) != 0)
			*out = NULL;
		pthread_mutex_unlock(&e->lock);
	}
	pl_buf_dispose(&q);
	pl_buf_dispose(&opts);
	pl_buf_dispose(&key);
}
