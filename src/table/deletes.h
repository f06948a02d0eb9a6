/*
 * deletes.h -- writing delete files. A delete file lists every deleted row position of one data
 * file (those deleted before plus the new ones) and replaces the file's previous delete file:
 * a Parquet positional delete file (file_path, pos) by default, or a deletion vector (Roaring
 * bitmap, `.puffin`) when the lake's `write_deletion_vectors` option is true.
 */
#ifndef PL_TABLE_DELETES_H
#define PL_TABLE_DELETES_H

#include <stdbool.h>
#include <stdint.h>

#include "catalog/commit.h"
#include "catalog/model.h"
#include "engine/engine.h"

typedef struct pl_delete_request {
	duckdb_connection con;
	const pl_model *model;
	const pl_table *table;
	const pl_data_file *file;
	const char *new_positions_sql; /* Parquet delete files: SELECT pos ... of the new positions */
	const uint64_t *new_positions;  /* deletion vectors: the new positions, sorted and distinct */
	size_t nnew;
	bool deletion_vector;
	pl_strv *written;              /* the new file's path is appended here */
} pl_delete_request;

/* Writes the file into the table's directory and fills *out (path, format, counts, replaces).
 * The file is not fsync'd: the caller syncs the files it wrote (req->written) together, with
 * pl_fs_sync_files, before it commits. */
int pl_deletes_write(const pl_delete_request *req, pl_new_delete *out, pl_err *err);

#endif
