/*
 * emptyfile.h -- empty Parquet files of a table's columns, for scans that need a file.
 *
 * Two uses: a layout group without files still reads a file of the table's columns (its part
 * of the view is then folded away), and a list of one file read through field ids gets a
 * second, empty one, because DuckDB's Parquet scan gives a one-file list as many threads as the
 * file has row groups, a count it learns by opening the file at bind, which it does not do when
 * given a schema map: the one file would be read on one thread (pl_empty_companion; for a
 * registered file read through its name map, pl_empty_twin).
 *
 * Files are written once per column list into a temporary directory of the process (made on
 * first use under $TMPDIR, else /tmp), written to a temporary name and renamed into place, and
 * removed with the directory by pl_empty_files_dispose. The process holds a lock on a file in
 * its directory while it lives: a process making its directory removes those whose lock nobody
 * holds (left by processes that were killed). Thread-safe.
 */
#ifndef PL_TABLE_EMPTYFILE_H
#define PL_TABLE_EMPTYFILE_H

#include <pthread.h>
#include <stdbool.h>

#include "catalog/model.h"
#include "engine/engine.h"

/* A lone file of at most this many rows gets no companion: at DuckDB's default row group size it
 * has one row group, nothing to read in parallel, and the companion would cost a file open. */
#define PL_EMPTY_COMPANION_MIN_ROWS 122880

typedef struct pl_empty_files {
	pthread_mutex_t lock;
	char *dir;              /* NULL until the first file */
	int lock_fd;            /* the directory's owner lock, held while the process lives */
	duckdb_database duck;   /* writes the files (a connection of its own each time) */
} pl_empty_files;

void pl_empty_files_init(pl_empty_files *e, duckdb_database duck);
/* Removes the directory and its files. */
void pl_empty_files_dispose(pl_empty_files *e);

/* *out: the path (malloc'd) of an empty Parquet file with t's top-level columns, by name and
 * type (a type Parquet cannot hold as text). */
int pl_empty_file(pl_empty_files *e, const pl_table *t, char **out, pl_err *err);
/* *out: the path (malloc'd) of an empty Parquet file with t's columns and their field ids, as
 * its data files are written, to be listed after a lone file read through field ids; NULL when
 * e is NULL or the file cannot be written (a scan is slower without it, not wrong). */
void pl_empty_companion(pl_empty_files *e, const pl_table *t, char **out);
/* *out: the path (malloc'd) of an empty Parquet file with the columns of Parquet file `file` (a
 * local path), by name, to be listed after that file when it is read alone through a name map
 * (a registered file); NULL when e is NULL, the file is not a local one, or the twin cannot be
 * written. Made once per file content (path, size, modification time). */
void pl_empty_twin(pl_empty_files *e, const char *file, char **out);

#endif
