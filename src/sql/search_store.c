/*
 * search_store.c -- a search index's segments on the lake (search_internal.h): saving the
 * built index as an immutable file below the data path and registering it in the catalog,
 * loading the newest one in a process that has not built the index, and removing files the
 * catalog no longer names.
 *
 * Writing: the file goes to a temporary name, is fsync'd and renamed to its final name,
 * uploaded (S3 lakes) and only then registered, in one catalog transaction that also drops
 * segments older than the previous one. A crash before the registration leaves an unnamed file
 * and nothing in the catalog; no reader ever sees a partial segment.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/fault.h"
#include "core/ids.h"
#include "core/objhooks.h"
#include "core/str.h"
#include "sql/search_internal.h"
#include "storage/fs.h"
#include "storage/s3lake.h"

bool pl_search_can_store(const pl_lake *lake)
{
	return !lake->read_only && !lake->pinned && !lake->cat->read_only && lake->data_path;
}

static char *full_path(const pl_lake *lake, const char *rel)
{
	pl_buf b = PL_BUF_INIT;
	pl_buf_puts(&b, lake->data_path);
	pl_buf_puts(&b, rel);
	if (pl_buf_oom(&b)) {
		pl_buf_dispose(&b);
		return NULL;
	}
	return pl_buf_detach(&b);
}

/* Removes the files of unregistered segments (errors ignored: a file left behind is only
 * space). */
static void remove_files(const pl_lake *lake, const pl_strv *rel)
{
	for (size_t i = 0; i < rel->len; i++) {
		if (!rel->items[i] || strstr(rel->items[i], "..") || strncmp(rel->items[i], PL_SEARCH_DIR, strlen(PL_SEARCH_DIR)))
			continue; /* only files this code names */
		char *p = full_path(lake, rel->items[i]);
		if (p)
			pl_objhook_unlink(p);
		free(p);
	}
}

void pl_search_remove_segments(const pl_lake *lake, const pl_strv *rel)
{
	remove_files(lake, rel);
}

int pl_search_store(pl_lake *lake, const pl_search_def *def, pl_tindex *x, int64_t snapshot, pl_err *err)
{
	char uuid[PL_UUID_STRLEN + 1];
	int rc = pl_uuid_v4(uuid, err);
	if (rc)
		return rc;
	pl_buf rel = PL_BUF_INIT;
	pl_buf_printf(&rel, PL_SEARCH_DIR "table-%lld/segment-%lld-%s.plseg", (long long)def->table_id,
		      (long long)snapshot, uuid);
	if (pl_buf_oom(&rel)) {
		pl_buf_dispose(&rel);
		return pl_err_nomem(err);
	}
	char *path = full_path(lake, rel.ptr);
	pl_buf tmp = PL_BUF_INIT;
	pl_buf_printf(&tmp, "%s.tmp", path ? path : "");
	if (!path || pl_buf_oom(&tmp))
		rc = pl_err_nomem(err);
	if (rc == 0)
		rc = pl_fs_mkdirs_parent(path, err);
	if (rc == 0)
		rc = pl_tindex_save(x, tmp.ptr, snapshot, err);
	if (rc == 0 && (rc = pl_fs_rename(tmp.ptr, path, err)) != 0)
		pl_fs_remove(tmp.ptr, &(pl_err){0});
	if (rc == 0)
		rc = pl_fs_sync_file(path, err);
	struct stat st;
	int64_t size = rc == 0 && stat(path, &st) == 0 ? (int64_t)st.st_size : 0;
	pl_strv written = PL_STRV_INIT;
	if (rc == 0 && pl_strv_push(&written, path))
		rc = pl_err_nomem(err);
	if (rc == 0)
		rc = pl_objhook_upload(&written, err); /* an S3 lake's object, before the catalog names it */
	if (rc == 0)
		pl_fault_point("search:after-segment-file"); /* complete, not registered */
	bool registered = false;
	pl_strv superseded = PL_STRV_INIT;
	if (rc == 0) {
		pl_search_segment s = {rel.ptr, 0, snapshot, (int64_t)pl_tindex_count(x), size};
		rc = pl_search_segment_register(lake->cat, def->table_id, def->created_at, &s, 1, &registered, &superseded,
						err);
	}
	if (path && !registered)
		pl_objhook_unlink(path);
	if (rc == 0)
		remove_files(lake, &superseded);
	if (rc)
		pl_err_wrap(err, "cannot store the search index of \"%s.%s\"", def->schema, def->table);
	pl_strv_dispose(&superseded);
	pl_strv_dispose(&written);
	pl_buf_dispose(&tmp);
	pl_buf_dispose(&rel);
	free(path);
	return rc;
}

int pl_search_load(pl_lake *lake, const pl_search_def *def, int64_t latest, pl_tindex **out, int64_t *snapshot,
		   pl_err *err)
{
	*out = NULL;
	*snapshot = -1;
	pl_search_segment *segs = NULL;
	size_t n = 0;
	int rc = pl_search_segment_list(lake->cat, def->table_id, def->created_at, &segs, &n, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < n && !*out; i++) {
		if (segs[i].end_snapshot > latest || !segs[i].path || strstr(segs[i].path, "..") ||
		    strncmp(segs[i].path, PL_SEARCH_DIR, strlen(PL_SEARCH_DIR)) != 0)
			continue;
		char *path = full_path(lake, segs[i].path);
		if (!path) {
			rc = pl_err_nomem(err);
			break;
		}
		pl_err e = {0, ""};
		const char *paths[1] = {path};
		int lrc = pl_s3lake_ensure(paths, 1, &e);
		int64_t snap = -1;
		if (lrc == 0)
			lrc = pl_tindex_load(out, path, def->embedder, def->vector_column != NULL, &snap, &e);
		free(path);
		if (lrc == 0 && snap != segs[i].end_snapshot) {
			pl_tindex_free(*out);
			*out = NULL;
		}
		if (*out)
			*snapshot = snap;
		/* a segment that cannot be read is skipped: the change feed rebuilds what it held */
	}
	pl_search_segments_free(segs, n);
	return rc;
}
