/*
 * blob.c -- versioned blobs (blob.h): walking a folder, uploading it to a local or S3 root,
 * the manifest, and get / alias / verify of recorded versions.
 */
#include "table/blob.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fault.h"
#include "core/str.h"
#include "storage/fs.h"
#include "storage/s3.h"

/* ---------------------------------------------------------------------------------------------
 * Where a version's objects live: a local directory or an S3 bucket and key prefix
 * ------------------------------------------------------------------------------------------- */

typedef struct blob_store {
	pl_s3 *s3;      /* NULL: local */
	char *bucket;   /* S3 */
	char *prefix;   /* S3 key prefix, or local directory; ends with '/' */
} blob_store;

static void store_close(blob_store *st)
{
	pl_s3_close(st->s3);
	free(st->bucket);
	free(st->prefix);
	memset(st, 0, sizeof *st);
}

/* Opens the store of a location URI (a version's folder or a root); *uri_out (may be NULL) gets
 * the location normalized to end with '/' (local: absolute). */
static int store_open(blob_store *st, const char *location, char **uri_out, pl_err *err)
{
	memset(st, 0, sizeof *st);
	pl_buf uri = PL_BUF_INIT;
	int rc = 0;
	if (pl_s3_is_uri(location)) {
		char *bucket, *prefix;
		pl_s3_config cfg;
		if ((rc = pl_s3_parse_uri(location, &bucket, &prefix, err)) != 0)
			return rc;
		st->bucket = bucket;
		pl_buf p = PL_BUF_INIT;
		pl_buf_puts(&p, prefix);
		if (p.len && p.ptr[p.len - 1] != '/')
			pl_buf_putc(&p, '/');
		free(prefix);
		st->prefix = pl_buf_detach(&p);
		pl_buf_printf(&uri, "s3://%s/%s", st->bucket, st->prefix ? st->prefix : "");
		pl_s3_config_init(&cfg);
		rc = pl_s3_config_from_env(&cfg, NULL, err);
		if (rc == 0)
			rc = pl_s3_open(&st->s3, &cfg, err);
		pl_s3_config_dispose(&cfg);
		if (rc)
			pl_err_wrap(err, "blob store %s", location);
	} else {
		if (location[0] != '/') {
			char cwd[4096];
			if (!getcwd(cwd, sizeof cwd))
				return pl_err_set(err, PL_EIO, "cannot resolve '%s': %s", location, strerror(errno));
			pl_buf_printf(&uri, "%s/", cwd);
		}
		pl_buf_puts(&uri, location);
		if (uri.len && uri.ptr[uri.len - 1] != '/')
			pl_buf_putc(&uri, '/');
		st->prefix = pl_strdup(pl_buf_cstr(&uri));
	}
	if (rc == 0 && (pl_buf_oom(&uri) || !st->prefix))
		rc = pl_err_nomem(err);
	if (rc == 0 && uri_out)
		*uri_out = pl_buf_detach(&uri);
	pl_buf_dispose(&uri);
	if (rc)
		store_close(st);
	return rc;
}

static char *store_path(const blob_store *st, const char *rel)
{
	pl_buf b = PL_BUF_INIT;
	pl_buf_puts(&b, st->prefix);
	pl_buf_puts(&b, rel);
	return pl_buf_detach(&b);
}

static void store_remove(blob_store *st, const char *rel)
{
	char *p = store_path(st, rel);
	pl_err ignored = {0, ""};
	if (p && st->s3)
		pl_s3_delete(st->s3, st->bucket, p, &ignored);
	else if (p)
		pl_fs_remove(p, &ignored);
	free(p);
}

/* ---------------------------------------------------------------------------------------------
 * Names, references, the folder to upload
 * ------------------------------------------------------------------------------------------- */

static int check_name(const char *name, pl_err *err)
{
	size_t n = strlen(name);
	if (n == 0 || n > PL_NAME_MAX || name[0] == '.' || strspn(name, "abcdefghijklmnopqrstuvwxyz"
								 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n)
		return pl_err_set(err, PL_EINVALID,
				  "'%s' cannot name a blob: use letters, digits, '.', '_' and '-' (not starting with "
				  "'.'), at most %d bytes",
				  name, PL_NAME_MAX);
	return 0;
}

int pl_blob_parse_ref(const char *ref, char **name, char **sel, pl_err *err)
{
	const char *colon = strchr(ref, ':');
	*name = colon ? pl_strndup(ref, (size_t)(colon - ref)) : pl_strdup(ref);
	*sel = colon ? pl_strdup(colon + 1) : NULL;
	if (!*name || (colon && !*sel)) {
		free(*name);
		free(*sel);
		return pl_err_nomem(err);
	}
	int rc = check_name(*name, err);
	if (rc == 0 && colon && !**sel)
		rc = pl_err_set(err, PL_EINVALID, "'%s': nothing after ':' (NAME:vN or NAME:alias)", ref);
	if (rc) {
		free(*name);
		free(*sel);
		*name = *sel = NULL;
	}
	return rc;
}

/* Appends every regular file below dir/rel to files (relative paths); anything that is neither
 * a regular file nor a directory is refused. */
static int walk(const char *dir, const char *rel, pl_strv *files, pl_err *err)
{
	pl_buf path = PL_BUF_INIT;
	pl_buf_printf(&path, "%s/%s", dir, rel);
	DIR *d = opendir(path.ptr ? path.ptr : "");
	if (!d) {
		int rc = pl_err_set(err, PL_EIO, "cannot read folder '%s': %s", pl_buf_cstr(&path), strerror(errno));
		pl_buf_dispose(&path);
		return rc;
	}
	pl_strv names = PL_STRV_INIT;
	struct dirent *e;
	int rc = 0;
	while (rc == 0 && (e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			rc = pl_strv_push(&names, e->d_name);
	closedir(d);
	for (size_t i = 0; rc == 0 && i < names.len; i++) {
		pl_buf r = PL_BUF_INIT, full = PL_BUF_INIT;
		pl_buf_printf(&r, "%s%s%s", rel, *rel ? "/" : "", names.items[i]);
		pl_buf_printf(&full, "%s/%s", dir, pl_buf_cstr(&r));
		struct stat st;
		if (pl_buf_oom(&r) || pl_buf_oom(&full))
			rc = pl_err_nomem(err);
		else if (lstat(full.ptr, &st) != 0)
			rc = pl_err_set(err, PL_EIO, "cannot read '%s': %s", full.ptr, strerror(errno));
		else if (S_ISDIR(st.st_mode))
			rc = walk(dir, r.ptr, files, err);
		else if (!S_ISREG(st.st_mode))
			rc = pl_err_set(err, PL_EINVALID, "'%s' is not a regular file or folder (links are not followed)",
					full.ptr);
		else if (strcmp(r.ptr, PL_BLOB_MANIFEST) == 0)
			rc = pl_err_set(err, PL_EINVALID, "'%s': the name %s is Planar's manifest", full.ptr, PL_BLOB_MANIFEST);
		else
			rc = pl_strv_push_owned(files, pl_buf_detach(&r));
		pl_buf_dispose(&r);
		pl_buf_dispose(&full);
	}
	pl_strv_dispose(&names);
	pl_buf_dispose(&path);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void now_iso(char out[40])
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 40 - n, ".%06ldZ", ts.tv_nsec / 1000);
}

/* ---------------------------------------------------------------------------------------------
 * put
 * ------------------------------------------------------------------------------------------- */

static char *manifest_json(const pl_blob_version *v, const pl_blob_file *files, size_t n, json_t *metadata)
{
	json_t *m = json_object(), *arr = json_array();
	json_object_set_new(m, "name", json_string(v->name));
	json_object_set_new(m, "kind", json_string(v->kind));
	json_object_set_new(m, "version", json_integer(v->version));
	json_object_set_new(m, "location", json_string(v->location));
	json_object_set_new(m, "created_at", json_string(v->created_at));
	json_object_set_new(m, "job_id", v->job_id ? json_string(v->job_id) : json_null());
	json_object_set(m, "metadata", metadata ? metadata : json_null());
	for (size_t i = 0; i < n; i++) {
		json_t *f = json_object();
		json_object_set_new(f, "path", json_string(files[i].path));
		json_object_set_new(f, "size", json_integer(files[i].size));
		json_object_set_new(f, "etag", files[i].etag ? json_string(files[i].etag) : json_null());
		json_object_set_new(f, "sha256", json_string(files[i].sha256));
		json_array_append_new(arr, f);
	}
	json_object_set_new(m, "files", arr);
	char *s = json_dumps(m, JSON_INDENT(1) | JSON_SORT_KEYS);
	json_decref(m);
	return s;
}

/* Uploads of one version run on several threads, each with its own S3 client. */
typedef struct upload_job {
	blob_store *st;
	const pl_blob_put_req *req;
	const pl_strv *rels;
	pl_blob_file *files;
	pthread_mutex_t mu;
	size_t next;
	int rc;
	pl_err err;
} upload_job;

static int upload_one(upload_job *job, pl_s3 *s3, size_t i, pl_err *err)
{
	blob_store *st = job->st;
	pl_blob_file *f = &job->files[i];
	pl_buf src = PL_BUF_INIT;
	pl_buf_printf(&src, "%s/%s", job->req->dir, job->rels->items[i]);
	char *dst = store_path(st, job->rels->items[i]);
	char hex[65] = "";
	int rc = 0;
	f->path = pl_strdup(job->rels->items[i]);
	if (pl_buf_oom(&src) || !dst || !f->path) {
		rc = pl_err_nomem(err);
	} else if (s3) {
		rc = pl_fs_sha256_file(src.ptr, hex, &f->size, err);
		if (rc == 0)
			rc = pl_s3_put_file(s3, st->bucket, dst, src.ptr, 0, &f->etag, err);
	} else {
		rc = pl_fs_copy_file(src.ptr, dst, true, hex, err);
		struct stat sb;
		if (rc == 0 && stat(dst, &sb) == 0)
			f->size = (int64_t)sb.st_size;
	}
	if (rc == 0 && !(f->sha256 = pl_strdup(hex)))
		rc = pl_err_nomem(err);
	pl_buf_dispose(&src);
	free(dst);
	return rc;
}

static void *upload_worker(void *arg)
{
	upload_job *job = arg;
	pl_s3 *s3 = NULL;
	pl_err err = {0, ""};
	int rc = job->st->s3 ? pl_s3_open(&s3, pl_s3_get_config(job->st->s3), &err) : 0;
	for (;;) {
		pthread_mutex_lock(&job->mu);
		size_t i = job->next;
		bool stop = rc != 0 || job->rc != 0 || i >= job->rels->len;
		if (rc != 0 && job->rc == 0) {
			job->rc = rc;
			job->err = err;
		}
		if (!stop)
			job->next++;
		pthread_mutex_unlock(&job->mu);
		if (stop)
			break;
		rc = upload_one(job, s3, i, &err);
		if (rc == 0)
			pl_fault_point("blob:after-first-file");
	}
	pthread_mutex_lock(&job->mu);
	if (rc != 0 && job->rc == 0) {
		job->rc = rc;
		job->err = err;
	}
	pthread_mutex_unlock(&job->mu);
	pl_s3_close(s3);
	return NULL;
}

/* The number of files uploaded at once: $PLANAR_BLOB_PARALLEL, default 8. */
static size_t upload_threads(size_t nfiles)
{
	const char *v = getenv("PLANAR_BLOB_PARALLEL");
	long n = v && *v ? strtol(v, NULL, 10) : 8;
	if (n < 1)
		n = 1;
	if (n > 64)
		n = 64;
	return (size_t)n < nfiles ? (size_t)n : nfiles;
}

/* Uploads every file, then the manifest; files[i] filled as they go. */
static int upload(blob_store *st, const pl_blob_put_req *req, const pl_strv *rels, pl_blob_version *v,
		  json_t *metadata, pl_blob_file *files, bool *manifest_written, pl_err *err)
{
	upload_job job = {st, req, rels, files, PTHREAD_MUTEX_INITIALIZER, 0, 0, {0, ""}};
	size_t nthreads = upload_threads(rels->len), started = 0;
	pthread_t threads[64];
	for (; started + 1 < nthreads; started++)
		if (pthread_create(&threads[started], NULL, upload_worker, &job) != 0)
			break;
	upload_worker(&job); /* this thread works too */
	for (size_t t = 0; t < started; t++)
		pthread_join(threads[t], NULL);
	pthread_mutex_destroy(&job.mu);
	int rc = job.rc;
	if (rc)
		pl_err_set(err, rc, "%s", job.err.msg);
	if (rc)
		return rc;
	char *json = manifest_json(v, files, rels->len, metadata);
	if (!json)
		return pl_err_nomem(err);
	char *dst = store_path(st, PL_BLOB_MANIFEST);
	if (!dst) {
		rc = pl_err_nomem(err);
	} else if (st->s3) {
		rc = pl_s3_put_mem(st->s3, st->bucket, dst, json, strlen(json), PL_S3_CREATE_ONLY, NULL, err);
	} else {
		pl_buf tmp = PL_BUF_INIT;
		pl_buf_printf(&tmp, "%s.planar-tmp", dst);
		FILE *fp = pl_buf_oom(&tmp) ? NULL : fopen(tmp.ptr, "wx");
		if (!fp) {
			rc = pl_err_set(err, PL_EIO, "cannot write '%s': %s", dst, strerror(errno));
		} else {
			bool ok = fputs(json, fp) >= 0;
			ok = fclose(fp) == 0 && ok;
			if (!ok)
				rc = pl_err_set(err, PL_EIO, "cannot write '%s': %s", tmp.ptr, strerror(errno));
			else
				rc = pl_fs_copy_file(tmp.ptr, dst, true, NULL, err);
			unlink(tmp.ptr);
		}
		pl_buf_dispose(&tmp);
	}
	if (rc == 0)
		*manifest_written = true;
	free(dst);
	free(json);
	return rc;
}

int pl_blob_put(pl_catdb *cat, const pl_blob_put_req *req, pl_blob_version *out, pl_err *err)
{
	memset(out, 0, sizeof *out);
	int rc = check_name(req->name, err);
	if (rc)
		return rc;
	const char *kinds = NULL;
	if (req->kind && strcmp(req->kind, "dataset") == 0)
		kinds = "datasets";
	else if (req->kind && strcmp(req->kind, "checkpoint") == 0)
		kinds = "checkpoints";
	else
		return pl_err_set(err, PL_EINVALID, "blob kind '%s' is neither dataset nor checkpoint",
				  req->kind ? req->kind : "");
	json_t *metadata = NULL;
	if (req->metadata) {
		json_error_t je;
		metadata = json_loads(req->metadata, JSON_DECODE_ANY, &je);
		if (!metadata)
			return pl_err_set(err, PL_EINVALID, "--metadata is not valid JSON: %s (line %d, column %d)", je.text,
					  je.line, je.column);
	}
	char *metadata_text = metadata ? json_dumps(metadata, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	struct stat sb;
	pl_strv rels = PL_STRV_INIT;
	blob_store root = {0}, st = {0};
	char *root_uri = NULL, *location = NULL;
	pl_blob_file *files = NULL;
	bool reserved = false, manifest_written = false, made_dir = false;
	char created[40];
	now_iso(created);
	if (req->metadata && !metadata_text)
		rc = pl_err_nomem(err);
	else if (stat(req->dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
		rc = pl_err_set(err, PL_EINVALID, "'%s' is not a folder", req->dir);
	if (rc == 0)
		rc = walk(req->dir, "", &rels, err);
	if (rc == 0 && rels.len == 0)
		rc = pl_err_set(err, PL_EINVALID, "folder '%s' has no files to upload", req->dir);
	if (rc == 0) {
		qsort(rels.items, rels.len, sizeof *rels.items, cmp_str);
		rc = store_open(&root, req->root, &root_uri, err);
	}
	if (rc == 0 && root.s3) /* a missing bucket or wrong keys fail before a number is reserved */
		rc = pl_s3_probe(root.s3, root.bucket, root.prefix, err);
	if (rc == 0)
		rc = pl_blobs_ensure(cat, err);
	if (rc == 0) {
		pl_buf base = PL_BUF_INIT;
		pl_buf_printf(&base, "%s%s/%s/", root_uri, kinds, req->name);
		rc = pl_buf_oom(&base) ? pl_err_nomem(err)
				       : pl_blobs_reserve(cat, req->name, req->kind, base.ptr, metadata_text, req->job_id,
							  created, &out->version, &location, err);
		pl_buf_dispose(&base);
		reserved = rc == 0;
	}
	if (rc == 0)
		rc = store_open(&st, location, NULL, err);
	if (rc == 0 && !st.s3) { /* the version's folder must be new */
		char *p = pl_strndup(st.prefix, strlen(st.prefix) - 1);
		rc = p ? pl_fs_mkdirs_parent(p, err) : pl_err_nomem(err);
		if (rc == 0 && mkdir(p, 0777) != 0)
			rc = pl_err_set(err, errno == EEXIST ? PL_EEXISTS : PL_EIO, "cannot create '%s': %s", p,
					strerror(errno));
		else if (rc == 0)
			made_dir = true;
		free(p);
	}
	if (rc == 0 && !(files = calloc(rels.len, sizeof *files)))
		rc = pl_err_nomem(err);
	if (rc == 0) {
		out->name = pl_strdup(req->name);
		out->kind = pl_strdup(req->kind);
		out->location = pl_strdup(location);
		out->created_at = pl_strdup(created);
		out->job_id = req->job_id ? pl_strdup(req->job_id) : NULL;
		out->metadata = metadata_text ? pl_strdup(metadata_text) : NULL;
		if (!out->name || !out->kind || !out->location || !out->created_at)
			rc = pl_err_nomem(err);
	}
	if (rc == 0)
		rc = upload(&st, req, &rels, out, metadata, files, &manifest_written, err);
	if (rc == 0) {
		char committed[40];
		now_iso(committed);
		pl_fault_point("blob:before-commit");
		rc = pl_blobs_commit(cat, req->name, out->version, files, rels.len, committed, err);
	}
	if (rc == 0) {
		out->file_count = (int64_t)rels.len;
		for (size_t i = 0; i < rels.len; i++)
			out->total_bytes += files[i].size;
	} else if (reserved) {
		/* nothing visible was recorded: mark the number used, remove what was uploaded */
		pl_err ignored = {0, ""};
		pl_blobs_fail(cat, req->name, out->version, &ignored);
		if (manifest_written)
			store_remove(&st, PL_BLOB_MANIFEST);
		for (size_t i = 0; files && i < rels.len && st.prefix; i++)
			store_remove(&st, rels.items[i]); /* removing what was never uploaded is harmless */
		if (made_dir)
			pl_fs_remove_dir(st.prefix);
		pl_err_wrap(err, "blob put of %s v%lld failed, no version was recorded", req->name,
			    (long long)out->version);
	}
	if (rc)
		pl_blob_version_dispose(out);
	pl_blob_files_free(files, rels.len);
	pl_strv_dispose(&rels);
	store_close(&root);
	store_close(&st);
	free(root_uri);
	free(location);
	free(metadata_text);
	json_decref(metadata);
	return rc;
}

/* ---------------------------------------------------------------------------------------------
 * get, alias, verify
 * ------------------------------------------------------------------------------------------- */

static int resolve(pl_catdb *cat, const char *ref, pl_blob_version *v, pl_blob_file **files, size_t *n, pl_err *err)
{
	char *name, *sel;
	int rc = pl_blob_parse_ref(ref, &name, &sel, err);
	if (rc)
		return rc;
	rc = pl_blobs_resolve(cat, name, sel, v, err);
	if (rc == 0 && files)
		rc = pl_blobs_files(cat, name, v->version, files, n, err);
	if (rc && rc != PL_ENOMEM)
		pl_err_wrap(err, "blob %s", ref);
	if (rc)
		pl_blob_version_dispose(v);
	free(name);
	free(sel);
	return rc;
}

/* A relative path from the catalog that stays inside its folder. */
static bool safe_rel(const char *rel)
{
	if (!*rel || rel[0] == '/')
		return false;
	for (const char *p = rel; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += n;
		if (*p == '/')
			p++;
	}
	return true;
}

bool pl_blob_safe_path(const char *rel)
{
	return rel && safe_rel(rel);
}

int pl_blob_open_object(const char *location, const char *path, int64_t size, const char *sha256, int *fd_out,
			pl_err *err)
{
	*fd_out = -1;
	if (!pl_blob_safe_path(path))
		return pl_err_set(err, PL_EINVALID, "'%s' is not a path inside the version's folder", path ? path : "");
	blob_store st;
	int rc = store_open(&st, location, NULL, err);
	char *src = rc ? NULL : store_path(&st, path);
	if (rc == 0 && !src)
		rc = pl_err_nomem(err);
	int fd = -1;
	if (rc == 0 && !st.s3) {
		fd = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		struct stat sb;
		if (fd < 0)
			rc = pl_err_set(err, errno == ENOENT ? PL_ENOTFOUND : PL_EIO, "cannot open '%s': %s", src,
					strerror(errno));
		else if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
			rc = pl_err_set(err, PL_EIO, "'%s' is not a regular file", src);
		else if (sb.st_size != size)
			rc = pl_err_set(err, PL_EIO, "'%s' does not match its manifest (size %lld, expected %lld): the stored "
					"object changed (see planar blob verify)", path, (long long)sb.st_size, (long long)size);
	} else if (rc == 0) {
		const char *tmpdir = getenv("TMPDIR");
		pl_buf tmp = PL_BUF_INIT;
		pl_buf_printf(&tmp, "%s/planar-blob-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
		fd = pl_buf_oom(&tmp) ? -1 : mkstemp(tmp.ptr);
		char hex[65] = "";
		int64_t got = -1;
		if (fd < 0)
			rc = pl_err_set(err, PL_EIO, "cannot create a temporary file in %s: %s",
					tmpdir && *tmpdir ? tmpdir : "/tmp", strerror(errno));
		if (rc == 0)
			rc = pl_s3_get_file(st.s3, st.bucket, src, tmp.ptr, NULL, err);
		if (rc == 0)
			rc = pl_fs_sha256_file(tmp.ptr, hex, &got, err);
		if (rc == 0 && (got != size || !sha256 || strcmp(hex, sha256) != 0))
			rc = pl_err_set(err, PL_EIO, "'%s' does not match its manifest (size %lld, expected %lld): the stored "
					"object changed (see planar blob verify)", path, (long long)got, (long long)size);
		if (fd >= 0) { /* the download replaced the file: read it by name once more */
			close(fd);
			fd = rc == 0 ? open(tmp.ptr, O_RDONLY | O_CLOEXEC) : -1;
			if (rc == 0 && fd < 0)
				rc = pl_err_set(err, PL_EIO, "cannot open the download of '%s': %s", path, strerror(errno));
			unlink(tmp.ptr);
		}
		pl_buf_dispose(&tmp);
	}
	if (rc && fd >= 0)
		close(fd);
	else if (rc == 0)
		*fd_out = fd;
	free(src);
	store_close(&st);
	return rc;
}

int pl_blob_get(pl_catdb *cat, const char *ref, const char *dir, pl_blob_version *out, pl_err *err)
{
	pl_blob_file *files = NULL;
	size_t n = 0;
	int rc = resolve(cat, ref, out, &files, &n, err);
	if (rc)
		return rc;
	blob_store st;
	rc = store_open(&st, out->location, NULL, err);
	if (rc == 0)
		rc = pl_fs_mkdirs(dir, err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		pl_buf dst = PL_BUF_INIT;
		char *src = store_path(&st, files[i].path);
		char hex[65] = "";
		int64_t size = -1;
		pl_buf_printf(&dst, "%s/%s", dir, files[i].path);
		if (!safe_rel(files[i].path))
			rc = pl_err_set(err, PL_ECATALOG, "the manifest names '%s', which is not a path inside the folder",
					files[i].path);
		else if (!src || pl_buf_oom(&dst))
			rc = pl_err_nomem(err);
		else if ((rc = pl_fs_mkdirs_parent(dst.ptr, err)) != 0)
			;
		else if (st.s3)
			rc = pl_s3_get_file(st.s3, st.bucket, src, dst.ptr, NULL, err);
		else
			rc = pl_fs_copy_file(src, dst.ptr, false, NULL, err);
		if (rc == 0)
			rc = pl_fs_sha256_file(dst.ptr, hex, &size, err);
		if (rc == 0 && (size != files[i].size || strcmp(hex, files[i].sha256) != 0)) {
			rc = pl_err_set(err, PL_EIO,
					"'%s' of %s v%lld does not match its manifest (size %lld, expected %lld; sha256 "
					"%s, expected %s): the stored object changed (see planar blob verify)",
					files[i].path, out->name, (long long)out->version, (long long)size,
					(long long)files[i].size, hex, files[i].sha256);
			unlink(dst.ptr);
		}
		pl_buf_dispose(&dst);
		free(src);
	}
	if (rc && rc != PL_ENOMEM)
		pl_err_wrap(err, "blob get of %s v%lld", out->name ? out->name : ref, (long long)out->version);
	store_close(&st);
	pl_blob_files_free(files, n);
	if (rc)
		pl_blob_version_dispose(out);
	return rc;
}

int pl_blob_alias(pl_catdb *cat, const char *ref, const char *alias, pl_blob_version *out, pl_err *err)
{
	int rc = resolve(cat, ref, out, NULL, NULL, err);
	if (rc == 0)
		rc = pl_blobs_set_alias(cat, out->name, alias, out->version, err);
	if (rc)
		pl_blob_version_dispose(out);
	return rc;
}

int pl_blob_verify(pl_catdb *cat, const char *ref, char **report, int64_t *problems, pl_blob_version *out,
		   pl_err *err)
{
	*report = NULL;
	*problems = 0;
	pl_blob_file *files = NULL;
	size_t n = 0;
	int rc = resolve(cat, ref, out, &files, &n, err);
	if (rc)
		return rc;
	blob_store st;
	pl_buf rep = PL_BUF_INIT;
	rc = store_open(&st, out->location, NULL, err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char *path = store_path(&st, files[i].path);
		if (!path) {
			rc = pl_err_nomem(err);
			break;
		}
		if (st.s3) {
			pl_s3_object o;
			int hr = pl_s3_head(st.s3, st.bucket, path, &o, err);
			if (hr == PL_ENOTFOUND) {
				pl_buf_printf(&rep, "vanished: %s (s3://%s/%s)\n", files[i].path, st.bucket, path);
				(*problems)++;
			} else if (hr) {
				rc = hr;
			} else {
				if (o.size != files[i].size || (files[i].etag && strcmp(o.etag, files[i].etag) != 0)) {
					pl_buf_printf(&rep, "changed: %s (size %lld, recorded %lld; ETag %s, recorded %s)\n",
						      files[i].path, (long long)o.size, (long long)files[i].size, o.etag,
						      files[i].etag ? files[i].etag : "none");
					(*problems)++;
				}
				pl_s3_object_dispose(&o);
			}
		} else {
			char hex[65] = "";
			int64_t size = 0;
			pl_err e = {0, ""};
			int hr = pl_fs_sha256_file(path, hex, &size, &e);
			if (hr == PL_ENOTFOUND) {
				pl_buf_printf(&rep, "vanished: %s (%s)\n", files[i].path, path);
				(*problems)++;
			} else if (hr) {
				rc = pl_err_set(err, hr, "%s", e.msg);
			} else if (size != files[i].size || strcmp(hex, files[i].sha256) != 0) {
				pl_buf_printf(&rep, "changed: %s (size %lld, recorded %lld; sha256 %s, recorded %s)\n",
					      files[i].path, (long long)size, (long long)files[i].size, hex, files[i].sha256);
				(*problems)++;
			}
		}
		free(path);
	}
	store_close(&st);
	pl_blob_files_free(files, n);
	if (rc == 0 && !(*report = pl_strdup(pl_buf_cstr(&rep))))
		rc = pl_err_nomem(err);
	pl_buf_dispose(&rep);
	if (rc && rc != PL_ENOMEM)
		pl_err_wrap(err, "blob verify of %s", ref);
	if (rc)
		pl_blob_version_dispose(out);
	return rc;
}
