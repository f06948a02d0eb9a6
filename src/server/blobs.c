/*
 * blobs.c -- versioned blobs (catalog/blobs.h, `planar blob`) over HTTP, read only:
 *
 *   GET /data/blobs[?name=&tenant_id=]                       the committed versions the caller sees
 *   GET /data/blobs/{name}/{version}                         a version's manifest ({version}: N, vN,
 *                                                            latest or an alias)
 *   GET /data/blobs/{name}/{version}/objects/{path}          one object of it, streamed
 *
 * Tenant scope: a version belongs to the tenant its metadata's "tenant_id" names (`planar blob
 * put --metadata '{"tenant_id": "t1"}'`). A tenant token sees only its tenant's versions; any
 * other version (another tenant's, or one without a tenant) answers exactly like one that does
 * not exist (404), and listings leave it out. Admin tokens see every version; with tenant_id=,
 * that tenant's view. An object is served only when its path is in the version's manifest (a
 * path with an empty, "." or ".." part is 400) and its size (S3: also its SHA-256) still
 * matches the manifest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog/blobs.h"
#include "core/str.h"
#include "server/resources.h"
#include "sql/service.h"

/* A blob name or version selector as `planar blob` allows them: [A-Za-z0-9._-], not starting
 * with '.', at most 200 bytes. */
static bool ref_ok(const char *s, size_t n)
{
	if (n == 0 || n > 200 || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

/* The tenant of a version's metadata (malloc'd), or NULL. */
static char *tenant_of(const char *metadata)
{
	if (!metadata)
		return NULL;
	json_t *m = json_loads(metadata, JSON_DECODE_ANY, NULL);
	json_t *t = json_is_object(m) ? json_object_get(m, "tenant_id") : NULL;
	char *out = json_is_string(t) ? pl_strdup(json_string_value(t)) : NULL;
	json_decref(m);
	return out;
}

/* view NULL: every version (an admin); else only the tenant's. */
static bool visible(const char *view, const char *metadata)
{
	if (!view)
		return true;
	char *t = tenant_of(metadata);
	bool ok = t && strcmp(t, view) == 0;
	free(t);
	return ok;
}

/* The tenant whose view the request gets (NULL: all, an admin without tenant_id=); false when a
 * reply was queued. */
static bool view_of(struct MHD_Connection *c, pl_req *r, const char **view, enum MHD_Result *ret)
{
	const char *t = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "tenant_id");
	if (t && (!*t || !pl_srv_utf8_valid(t, strlen(t)))) {
		*ret = pl_srv_reply_error(c, r, PL_SRV_BAD_REQUEST, "\"tenant_id\" must be non-empty UTF-8 text", NULL);
		return false;
	}
	bool admin = r->role && strcmp(r->role, "admin") == 0;
	if (t && !pl_srv_authorize_tenant(c, r, t, ret))
		return false;
	*view = t ? t : admin ? NULL : r->tenant_id;
	if (!admin && !*view) {
		*ret = pl_srv_reply_error(c, r, PL_SRV_FORBIDDEN, "this token has no tenant", NULL);
		return false;
	}
	return true;
}

static json_t *metadata_json(const char *metadata)
{
	json_t *m = metadata ? json_loads(metadata, JSON_DECODE_ANY, NULL) : NULL;
	return m ? m : json_null();
}

static enum MHD_Result not_found(struct MHD_Connection *c, pl_req *r, const char *name, const char *sel)
{
	return pl_srv_reply_error(c, r, PL_SRV_NOT_FOUND, "no such blob version",
				  json_pack("{s:s,s:s?}", "name", name, "version", sel));
}

static enum MHD_Result list_versions(struct MHD_Connection *c, pl_req *r, const char *view)
{
	const char *name = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "name");
	if (name && !ref_ok(name, strlen(name)))
		return pl_srv_reply_error(c, r, PL_SRV_BAD_REQUEST,
					  "\"name\" must be a blob name (letters, digits, '.', '_', '-'; not starting with '.')",
					  NULL);
	pl_srv_lake *l = &r->srv->lake;
	pl_rows *rows = NULL;
	pl_err err = {0};
	pthread_mutex_lock(&l->svc_lock);
	int rc = pl_blobs_list(l->svc, name, &rows, &err);
	pthread_mutex_unlock(&l->svc_lock);
	if (rc)
		return pl_srv_reply_error(c, r, pl_srv_err_of_planar(rc), err.msg, NULL);
	json_t *out = json_array();
	for (size_t i = 0; out && i < rows->nrows; i++) {
		const char *meta = pl_rows_get(rows, i, 8);
		if (!visible(view, meta))
			continue;
		json_t *aliases = json_array();
		const char *a = pl_rows_get(rows, i, 6);
		for (const char *p = a; p && *p;) {
			size_t n = strcspn(p, ",");
			json_array_append_new(aliases, json_stringn(p, n));
			p += n + (p[n] == ',');
		}
		char *tenant = tenant_of(meta);
		json_array_append_new(
			out, json_pack("{s:s?,s:I,s:s?,s:s?,s:I,s:I,s:o,s:s?,s:o,s:s?}", "name", pl_rows_get(rows, i, 0),
				       "version", (json_int_t)pl_rows_int(rows, i, 1, 0), "kind", pl_rows_get(rows, i, 2),
				       "created_at", pl_rows_get(rows, i, 3), "file_count",
				       (json_int_t)pl_rows_int(rows, i, 4, 0), "total_bytes",
				       (json_int_t)pl_rows_int(rows, i, 5, 0), "aliases", aliases, "job_id",
				       pl_rows_get(rows, i, 7), "metadata", metadata_json(meta), "tenant_id", tenant));
		free(tenant);
	}
	size_t n = json_array_size(out);
	pl_rows_free(rows);
	r->rows = (int64_t)n;
	return pl_srv_reply_json(c, r, 200, json_pack("{s:o,s:I}", "versions", out, "count", (json_int_t)n));
}

/* Resolves name:sel for the view, with its manifest; false when a reply was queued. */
static bool resolve(struct MHD_Connection *c, pl_req *r, const char *view, const char *name, const char *sel,
		    pl_blob_version *v, pl_blob_file **files, size_t *nfiles, enum MHD_Result *ret)
{
	pl_srv_lake *l = &r->srv->lake;
	pl_err err = {0};
	memset(v, 0, sizeof(*v));
	pthread_mutex_lock(&l->svc_lock);
	int rc = pl_blobs_resolve(l->svc, name, sel, v, &err);
	bool seen = rc == 0 && visible(view, v->metadata);
	if (seen)
		rc = pl_blobs_files(l->svc, name, v->version, files, nfiles, &err);
	pthread_mutex_unlock(&l->svc_lock);
	if ((rc == 0 && !seen) || rc == PLANAR_ENOTFOUND) {
		*ret = not_found(c, r, name, sel);
	} else if (rc) {
		*ret = pl_srv_reply_error(c, r, pl_srv_err_of_planar(rc), err.msg, NULL);
	} else {
		return true;
	}
	pl_blob_version_dispose(v);
	return false;
}

static enum MHD_Result manifest(struct MHD_Connection *c, pl_req *r, const char *view, const char *name,
				const char *sel)
{
	pl_blob_version v;
	pl_blob_file *files = NULL;
	size_t n = 0;
	enum MHD_Result ret;
	if (!resolve(c, r, view, name, sel, &v, &files, &n, &ret))
		return ret;
	json_t *fl = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(fl, json_pack("{s:s,s:I,s:s?}", "path", files[i].path, "size",
						    (json_int_t)files[i].size, "sha256", files[i].sha256));
	char *tenant = tenant_of(v.metadata);
	ret = pl_srv_reply_json(c, r, 200,
				json_pack("{s:s?,s:I,s:s?,s:s?,s:I,s:I,s:s?,s:o,s:s?,s:o}", "name", v.name, "version",
					  (json_int_t)v.version, "kind", v.kind, "created_at", v.created_at, "file_count",
					  (json_int_t)v.file_count, "total_bytes", (json_int_t)v.total_bytes, "job_id",
					  v.job_id, "metadata", metadata_json(v.metadata), "tenant_id", tenant, "files", fl));
	free(tenant);
	pl_blob_files_free(files, n);
	pl_blob_version_dispose(&v);
	return ret;
}

static enum MHD_Result object(struct MHD_Connection *c, pl_req *r, const char *view, const char *name,
			      const char *sel, const char *path)
{
	if (!pl_service_blob_path_ok(path))
		return pl_srv_reply_error(c, r, PL_SRV_BAD_REQUEST, "an object path may not have empty, '.' or '..' parts",
					  json_pack("{s:s}", "path", path));
	pl_blob_version v;
	pl_blob_file *files = NULL;
	size_t n = 0;
	enum MHD_Result ret;
	if (!resolve(c, r, view, name, sel, &v, &files, &n, &ret))
		return ret;
	const pl_blob_file *f = NULL;
	for (size_t i = 0; !f && i < n; i++)
		if (strcmp(files[i].path, path) == 0)
			f = &files[i];
	int fd = -1;
	pl_err err = {0};
	int rc = f ? pl_service_blob_open(v.location, f->path, f->size, f->sha256, &fd, &err) : PLANAR_ENOTFOUND;
	if (!f) {
		ret = pl_srv_reply_error(c, r, PL_SRV_NOT_FOUND, "no such object in this blob version",
					 json_pack("{s:s,s:I,s:s}", "name", name, "version", (json_int_t)v.version, "path", path));
	} else if (rc) { /* the manifest names it: a store that lost or changed it is the server's trouble */
		ret = pl_srv_reply_error(c, r, rc == PLANAR_ENOTFOUND ? PL_SRV_NOT_FOUND : PL_SRV_UNAVAILABLE, err.msg,
					 json_pack("{s:s,s:I,s:s}", "name", name, "version", (json_int_t)v.version, "path", path));
	} else {
		struct MHD_Response *resp = MHD_create_response_from_fd64((uint64_t)f->size, fd);
		if (!resp) {
			close(fd);
			ret = MHD_NO;
		} else {
			char etag[80];
			snprintf(etag, sizeof etag, "\"%s\"", f->sha256 ? f->sha256 : "");
			MHD_add_response_header(resp, "Content-Type", "application/octet-stream");
			MHD_add_response_header(resp, "X-Request-Id", r->id);
			MHD_add_response_header(resp, "ETag", etag);
			r->status = 200;
			ret = MHD_queue_response(c, 200, resp);
			MHD_destroy_response(resp);
		}
	}
	pl_blob_files_free(files, n);
	pl_blob_version_dispose(&v);
	return ret;
}

enum MHD_Result pl_srv_route_blobs(struct MHD_Connection *c, pl_req *r)
{
	const char *view = NULL;
	enum MHD_Result ret;
	if (!view_of(c, r, &view, &ret))
		return ret;
	const char *p = r->path + strlen("/data/blobs");
	if (!*p)
		return list_versions(c, r, view);
	/* /{name}/{sel}[/objects/{path}] */
	const char *name = p + 1, *slash = strchr(name, '/');
	const char *sel = slash ? slash + 1 : NULL, *end = sel ? strchr(sel, '/') : NULL;
	size_t nl = slash ? (size_t)(slash - name) : strlen(name), sl = sel ? (end ? (size_t)(end - sel) : strlen(sel)) : 0;
	const char *path = end && strncmp(end, "/objects/", 9) == 0 ? end + 9 : NULL;
	if (!ref_ok(name, nl) || !sel || !ref_ok(sel, sl) || (end && (!path || !*path)))
		return pl_srv_reply_error(c, r, PL_SRV_NOT_FOUND,
					  "no such route (GET /data/blobs/{name}/{version}[/objects/{path}]; names: letters, "
					  "digits, '.', '_', '-')",
					  json_pack("{s:s}", "path", r->path));
	char *n = pl_strndup(name, nl), *s = pl_strndup(sel, sl);
	if (!n || !s)
		ret = pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, "out of memory", NULL);
	else {
		free(r->target);
		r->target = pl_strdup(n);
		ret = path ? object(c, r, view, n, s, path) : manifest(c, r, view, n, s);
	}
	free(n);
	free(s);
	return ret;
}

bool pl_srv_resources_dispatch(struct MHD_Connection *c, pl_req *r, enum MHD_Result *ret)
{
	const char *p = r->path;
	bool tables = strcmp(p, "/data/tables") == 0;
	bool blobs = strcmp(p, "/data/blobs") == 0 || strncmp(p, "/data/blobs/", 12) == 0;
	if (!tables && !blobs)
		return false;
	r->route = tables ? "tables" : "blobs";
	const char *want = tables ? "POST" : "GET";
	if (strcmp(r->method, want) != 0) {
		*ret = pl_srv_reply_error(c, r, PL_SRV_METHOD, tables ? "use POST" : "use GET", NULL);
		return true;
	}
	if (!pl_srv_authenticate(c, r, ret))
		return true;
	*ret = tables ? pl_srv_route_tables(c, r) : pl_srv_route_blobs(c, r);
	return true;
}

/* The OpenAPI entries of these routes. */
const char pl_srv_resources_openapi_paths[] =
	"\"/data/tables\":{\"post\":{\"summary\":\"create a table (admin only)\",\"security\":[{\"bearer\":[]}],"
	"\"requestBody\":{\"required\":true,\"content\":{\"application/json\":{\"schema\":{\"type\":\"object\","
	"\"required\":[\"table\",\"columns\"],\"properties\":{\"schema\":{\"type\":\"string\",\"default\":\"main\"},"
	"\"table\":{\"type\":\"string\"},\"columns\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"required\":"
	"[\"name\",\"type\"],\"properties\":{\"name\":{\"type\":\"string\"},\"type\":{\"type\":\"string\",\"description\":"
	"\"BOOLEAN, TINYINT..HUGEINT, UTINYINT..UBIGINT, FLOAT, DOUBLE, DECIMAL(p, s), VARCHAR, BLOB, DATE, TIME, "
	"TIMESTAMP, TIMESTAMPTZ, INTERVAL, UUID, JSON; T[] for a list\"},\"nullable\":{\"type\":\"boolean\",\"default\":"
	"true}}}},\"partitioned_by\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"description\":\"a column, or "
	"year|month|day|hour(column)\"}}}}}}},\"responses\":{\"201\":{\"description\":\"created\",\"content\":{"
	"\"application/json\":{\"schema\":{\"type\":\"object\",\"properties\":{\"schema\":{\"type\":\"string\"},"
	"\"table\":{\"type\":\"string\"},\"columns\":{\"type\":\"array\"},\"partitioned_by\":{\"type\":\"array\"},"
	"\"snapshot_id\":{\"type\":\"integer\"}}}}}},\"401\":{\"description\":\"no token\"},\"403\":{\"description\":"
	"\"not an admin token\"},\"409\":{\"description\":\"the table exists\"},\"415\":{\"description\":\"not JSON\"},"
	"\"422\":{\"description\":\"invalid field (details name it)\"},\"503\":{\"description\":\"unavailable\"}}}},"
	"\"/data/blobs\":{\"get\":{\"summary\":\"the committed blob versions the caller sees (a tenant: those whose "
	"metadata names it as tenant_id)\",\"security\":[{\"bearer\":[]}],\"parameters\":[{\"name\":\"name\",\"in\":"
	"\"query\",\"schema\":{\"type\":\"string\"}},{\"name\":\"tenant_id\",\"in\":\"query\",\"schema\":{\"type\":"
	"\"string\"}}],\"responses\":{\"200\":{\"description\":\"versions, oldest first\",\"content\":{\"application/json"
	"\":{\"schema\":{\"type\":\"object\",\"properties\":{\"versions\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
	"\"properties\":{\"name\":{\"type\":\"string\"},\"version\":{\"type\":\"integer\"},\"kind\":{\"type\":\"string\"},"
	"\"created_at\":{\"type\":\"string\"},\"file_count\":{\"type\":\"integer\"},\"total_bytes\":{\"type\":\"integer\"},"
	"\"aliases\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},\"job_id\":{\"type\":[\"string\",\"null\"]},"
	"\"metadata\":{},\"tenant_id\":{\"type\":[\"string\",\"null\"]}}}},\"count\":{\"type\":\"integer\"}}}}}},\"400\":{"
	"\"description\":\"bad request\"},\"401\":{\"description\":\"no token\"},\"403\":{\"description\":\"forbidden\"},"
	"\"503\":{\"description\":\"unavailable\"}}}},"
	"\"/data/blobs/{name}/{version}\":{\"get\":{\"summary\":\"a blob version's manifest ({version}: N, vN, latest "
	"or an alias)\",\"security\":[{\"bearer\":[]}],\"parameters\":[{\"name\":\"name\",\"in\":\"path\",\"required\":"
	"true,\"schema\":{\"type\":\"string\"}},{\"name\":\"version\",\"in\":\"path\",\"required\":true,\"schema\":{\"type\":"
	"\"string\"}},{\"name\":\"tenant_id\",\"in\":\"query\",\"schema\":{\"type\":\"string\"}}],\"responses\":{\"200\":{"
	"\"description\":\"the version and its files (path, size, sha256)\"},\"401\":{\"description\":\"no token\"},"
	"\"403\":{\"description\":\"forbidden\"},\"404\":{\"description\":\"no such version the caller may see\"}}}},"
	"\"/data/blobs/{name}/{version}/objects/{path}\":{\"get\":{\"summary\":\"one object of a blob version, "
	"streamed\",\"security\":[{\"bearer\":[]}],\"parameters\":[{\"name\":\"name\",\"in\":\"path\",\"required\":true,"
	"\"schema\":{\"type\":\"string\"}},{\"name\":\"version\",\"in\":\"path\",\"required\":true,\"schema\":{\"type\":"
	"\"string\"}},{\"name\":\"path\",\"in\":\"path\",\"required\":true,\"schema\":{\"type\":\"string\"},\"description\":"
	"\"a path of the manifest ('/' kept)\"}],\"responses\":{\"200\":{\"description\":\"the object's bytes (ETag: "
	"its SHA-256)\",\"content\":{\"application/octet-stream\":{}}},\"400\":{\"description\":\"a path with an "
	"empty, '.' or '..' part\"},\"401\":{\"description\":\"no token\"},\"403\":{\"description\":\"forbidden\"},"
	"\"404\":{\"description\":\"no such version or object\"},\"503\":{\"description\":\"the store failed or the "
	"object changed\"}}}}";
