/*
 * secrets.c -- S3 secrets of CREATE SECRET, in memory and (PERSISTENT) in 0600 files (see
 * secrets.h).
 */
#include "storage/secrets.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/str.h"
#include "storage/fs.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pl_secret_def *secrets;
static size_t nsecrets, capsecrets;
static bool loaded;

#define FILE_SUFFIX ".s3secret"
#define FILE_MAGIC "planar-s3-secret 1"

void pl_secret_def_init(pl_secret_def *d)
{
	memset(d, 0, sizeof(*d));
	pl_s3_config_init(&d->cfg);
}

void pl_lake_secret_dispose(pl_lake_secret *s)
{
	free(s->metadata_path);
	free(s->data_path);
	free(s->metadata_schema);
	free(s->metadata_catalog);
	free(s->meta_type);
	memset(s, 0, sizeof(*s));
}

static bool is_lake(const pl_secret_def *d)
{
	return d->type && strcmp(d->type, "ducklake") == 0;
}

void pl_secret_def_dispose(pl_secret_def *d)
{
	pl_lake_secret_dispose(&d->lake);
	free(d->name);
	free(d->type);
	free(d->scope);
	pl_s3_config_dispose(&d->cfg);
	memset(d, 0, sizeof(*d));
}

static char *secret_dir(void)
{
	pl_buf b = PL_BUF_INIT;
	const char *v = getenv("PLANAR_SECRET_DIR");
	if (v && *v)
		pl_buf_puts(&b, v);
	else if ((v = getenv("XDG_CONFIG_HOME")) && *v)
		pl_buf_printf(&b, "%s/planar/secrets", v);
	else if ((v = getenv("HOME")) && *v)
		pl_buf_printf(&b, "%s/.config/planar/secrets", v);
	else
		return NULL;
	return pl_buf_detach(&b);
}

static char *secret_file(const char *name)
{
	char *dir = secret_dir();
	if (!dir)
		return NULL;
	pl_buf b = PL_BUF_INIT;
	pl_buf_printf(&b, "%s/", dir);
	pl_buf_put_path_name(&b, name);
	pl_buf_puts(&b, FILE_SUFFIX);
	free(dir);
	return pl_buf_detach(&b);
}

static void put_line(pl_buf *b, const char *key, const char *v)
{
	if (v)
		pl_buf_printf(b, "%s=%s\n", key, v);
}

static int write_file(const pl_secret_def *d, pl_err *err)
{
	char *dir = secret_dir(), *path = secret_file(d->name);
	pl_buf b = PL_BUF_INIT, tmp = PL_BUF_INIT;
	int rc = 0;
	if (!dir || !path) {
		rc = pl_err_set(err, PL_EINVALID, "cannot store a persistent secret: set HOME, XDG_CONFIG_HOME or "
				"PLANAR_SECRET_DIR");
		goto out;
	}
	pl_buf_printf(&b, "%s\n", FILE_MAGIC);
	put_line(&b, "name", d->name);
	put_line(&b, "type", d->type);
	put_line(&b, "scope", d->scope);
	put_line(&b, "key_id", d->cfg.key_id);
	put_line(&b, "secret", d->cfg.secret);
	put_line(&b, "session_token", d->cfg.session_token);
	put_line(&b, "endpoint", d->cfg.endpoint);
	put_line(&b, "region", d->cfg.region);
	put_line(&b, "url_style", d->cfg.path_style ? "path" : "vhost");
	put_line(&b, "use_ssl", d->cfg.use_ssl ? "true" : "false");
	put_line(&b, "metadata_path", d->lake.metadata_path);
	put_line(&b, "data_path", d->lake.data_path);
	put_line(&b, "metadata_schema", d->lake.metadata_schema);
	put_line(&b, "metadata_catalog", d->lake.metadata_catalog);
	put_line(&b, "meta_type", d->lake.meta_type);
	pl_buf_printf(&tmp, "%s.tmp-%ld", path, (long)getpid());
	if (pl_buf_oom(&b) || pl_buf_oom(&tmp)) {
		rc = pl_err_nomem(err);
		goto out;
	}
	rc = pl_fs_mkdirs(dir, err);
	if (rc)
		goto out;
	(void)chmod(dir, 0700);
	int fd = open(tmp.ptr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = pl_err_set(err, PL_EIO, "cannot store persistent secret \"%s\" in '%s': %s", d->name, dir,
				strerror(errno));
		goto out;
	}
	bool ok = write(fd, b.ptr, b.len) == (ssize_t)b.len && fsync(fd) == 0;
	close(fd);
	if (!ok || rename(tmp.ptr, path) != 0) {
		rc = pl_err_set(err, PL_EIO, "cannot store persistent secret \"%s\" in '%s': %s", d->name, dir,
				strerror(errno));
		unlink(tmp.ptr);
	}
out:
	/* the buffer held the secret: wipe it */
	if (b.ptr)
		memset(b.ptr, 0, b.len);
	pl_buf_dispose(&b);
	pl_buf_dispose(&tmp);
	free(dir);
	free(path);
	return rc;
}

static int set_field(char **dst, const char *v)
{
	free(*dst);
	*dst = pl_strdup(v);
	return *dst ? 0 : -1;
}

static void read_file(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > 65536 || st.st_uid != geteuid()) {
		close(fd);
		return;
	}
	char *text = calloc(1, (size_t)st.st_size + 1);
	ssize_t got = text ? read(fd, text, (size_t)st.st_size) : -1;
	close(fd);
	if (got != st.st_size || strncmp(text, FILE_MAGIC "\n", strlen(FILE_MAGIC) + 1) != 0) {
		free(text);
		return;
	}
	pl_secret_def d;
	pl_secret_def_init(&d);
	d.persistent = true;
	bool bad = false;
	for (char *line = text + strlen(FILE_MAGIC) + 1, *nl; *line && !bad; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			break;
		*nl = '\0';
		char *eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq = '\0';
		const char *v = eq + 1;
		if (strcmp(line, "name") == 0)
			bad = set_field(&d.name, v);
		else if (strcmp(line, "type") == 0)
			bad = set_field(&d.type, v);
		else if (strcmp(line, "scope") == 0)
			bad = set_field(&d.scope, v);
		else if (strcmp(line, "key_id") == 0)
			bad = set_field(&d.cfg.key_id, v);
		else if (strcmp(line, "secret") == 0)
			bad = set_field(&d.cfg.secret, v);
		else if (strcmp(line, "session_token") == 0)
			bad = set_field(&d.cfg.session_token, v);
		else if (strcmp(line, "endpoint") == 0)
			bad = set_field(&d.cfg.endpoint, v);
		else if (strcmp(line, "region") == 0)
			bad = set_field(&d.cfg.region, v);
		else if (strcmp(line, "url_style") == 0)
			d.cfg.path_style = strcmp(v, "path") == 0;
		else if (strcmp(line, "use_ssl") == 0)
			d.cfg.use_ssl = strcmp(v, "true") == 0;
		else if (strcmp(line, "metadata_path") == 0)
			bad = set_field(&d.lake.metadata_path, v);
		else if (strcmp(line, "data_path") == 0)
			bad = set_field(&d.lake.data_path, v);
		else if (strcmp(line, "metadata_schema") == 0)
			bad = set_field(&d.lake.metadata_schema, v);
		else if (strcmp(line, "metadata_catalog") == 0)
			bad = set_field(&d.lake.metadata_catalog, v);
		else if (strcmp(line, "meta_type") == 0)
			bad = set_field(&d.lake.meta_type, v);
	}
	memset(text, 0, (size_t)st.st_size);
	free(text);
	bool known = false;
	for (size_t i = 0; d.name && i < nsecrets; i++)
		known = known || strcmp(secrets[i].name, d.name) == 0;
	if (bad || !d.name || !d.type || known) {
		pl_secret_def_dispose(&d);
		return;
	}
	if (nsecrets == capsecrets) {
		size_t cap = capsecrets * 2 + 4;
		pl_secret_def *grown = realloc(secrets, cap * sizeof(*secrets));
		if (!grown) {
			pl_secret_def_dispose(&d);
			return;
		}
		secrets = grown;
		capsecrets = cap;
	}
	secrets[nsecrets++] = d;
}

/* Reads the persistent secrets once (with lock held). */
static void load_persistent(void)
{
	if (loaded)
		return;
	loaded = true;
	char *dir = secret_dir();
	DIR *dh = dir ? opendir(dir) : NULL;
	for (struct dirent *e; dh && (e = readdir(dh)) != NULL;) {
		if (!pl_str_has_suffix(e->d_name, FILE_SUFFIX))
			continue;
		pl_buf p = PL_BUF_INIT;
		pl_buf_printf(&p, "%s/%s", dir, e->d_name);
		if (!pl_buf_oom(&p))
			read_file(p.ptr);
		pl_buf_dispose(&p);
	}
	if (dh)
		closedir(dh);
	free(dir);
}

static ssize_t find(const char *name)
{
	for (size_t i = 0; i < nsecrets; i++)
		if (pl_str_ieq(secrets[i].name, name))
			return (ssize_t)i;
	return -1;
}

static void remove_at(size_t i)
{
	pl_secret_def_dispose(&secrets[i]);
	memmove(&secrets[i], &secrets[i + 1], (nsecrets - i - 1) * sizeof(*secrets));
	nsecrets--;
}

int pl_secret_create(pl_secret_def *d, bool replace, bool if_not_exists, pl_err *err)
{
	static const char *const defaults[][2] = {{"r2", "__default_r2"}, {"ducklake", "__default_ducklake"}};
	const char *default_name = "__default_s3";
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
		if (strcmp(d->type, defaults[i][0]) == 0)
			default_name = defaults[i][1];
	if (!d->name && !(d->name = pl_strdup(default_name)))
		return pl_err_nomem(err);
	pthread_mutex_lock(&lock);
	load_persistent();
	ssize_t at = find(d->name);
	int rc = 0;
	if (at >= 0 && if_not_exists) {
		pthread_mutex_unlock(&lock);
		pl_secret_def_dispose(d);
		return 0;
	}
	if (at >= 0 && !replace)
		rc = pl_err_set(err, PL_EEXISTS, "Invalid Input Error: Persistent secret with name '%s' already exists"
				" (use CREATE OR REPLACE SECRET)", d->name);
	if (rc == 0 && nsecrets == capsecrets) {
		size_t cap = capsecrets * 2 + 4;
		pl_secret_def *grown = realloc(secrets, cap * sizeof(*secrets));
		if (!grown)
			rc = pl_err_nomem(err);
		else
			secrets = grown, capsecrets = cap;
	}
	if (rc == 0 && d->persistent)
		rc = write_file(d, err);
	if (rc == 0 && at >= 0) {
		if (secrets[at].persistent && !d->persistent) {
			char *path = secret_file(secrets[at].name);
			if (path)
				unlink(path);
			free(path);
		}
		remove_at((size_t)at);
	}
	if (rc == 0) {
		secrets[nsecrets++] = *d;
		memset(d, 0, sizeof(*d));
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

int pl_secret_drop(const char *name, bool if_exists, pl_err *err)
{
	pthread_mutex_lock(&lock);
	load_persistent();
	ssize_t at = find(name);
	int rc = 0;
	if (at < 0) {
		rc = if_exists ? 0 : pl_err_set(err, PL_ENOTFOUND, "Invalid Input Error: Failed to remove non-existent "
						 "secret with name '%s'", name);
	} else {
		if (secrets[at].persistent) {
			char *path = secret_file(secrets[at].name);
			if (path && unlink(path) != 0 && errno != ENOENT)
				rc = pl_err_set(err, PL_EIO, "cannot remove persistent secret \"%s\": %s", name,
						strerror(errno));
			free(path);
		}
		if (rc == 0)
			remove_at((size_t)at);
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

/* The secret for uri (the longest scope that is a prefix of it), or -1; under the lock. */
static ssize_t best_for(const char *uri)
{
	load_persistent();
	ssize_t best = -1;
	size_t best_len = 0;
	for (size_t i = 0; i < nsecrets; i++) {
		if (is_lake(&secrets[i]))
			continue;
		const char *scope = secrets[i].scope;
		size_t len = scope ? strlen(scope) : 0;
		if (scope && strncmp(uri, scope, len) != 0)
			continue;
		if (best < 0 || len > best_len)
			best = (ssize_t)i, best_len = len;
	}
	return best;
}

int pl_secret_scope_for(const char *uri, char **scope_out)
{
	*scope_out = NULL;
	pthread_mutex_lock(&lock);
	ssize_t best = best_for(uri);
	const char *scope = best >= 0 ? secrets[best].scope : NULL;
	bool oom = scope && !(*scope_out = pl_strdup(scope));
	pthread_mutex_unlock(&lock);
	return oom ? PL_ENOMEM : 0;
}

int pl_secret_config_for(const char *uri, pl_s3_config *out, pl_err *err)
{
	pthread_mutex_lock(&lock);
	ssize_t best = best_for(uri);
	int rc = 0;
	if (best >= 0) {
		pl_s3_config_dispose(out);
		rc = pl_s3_config_copy(out, &secrets[best].cfg, err);
		if (rc == 0) {
			out->source = "CREATE SECRET";
			pl_s3_config_env_overrides(out);
		}
	}
	pthread_mutex_unlock(&lock);
	if (best >= 0 || rc)
		return rc;
	rc = pl_s3_config_from_env(out, NULL, err);
	if (rc == PL_ENOTFOUND)
		return pl_err_wrap(err, "no S3 secret applies to '%s' (create one: CREATE SECRET (TYPE s3, KEY_ID '...', "
				   "SECRET '...', ENDPOINT '...', REGION '...'))", uri);
	return rc;
}

int pl_secret_lake(const char *name, pl_lake_secret *out, pl_err *err)
{
	memset(out, 0, sizeof(*out));
	if (!name)
		name = "__default_ducklake";
	pthread_mutex_lock(&lock);
	load_persistent();
	ssize_t at = find(name);
	const pl_lake_secret *s = at >= 0 && is_lake(&secrets[at]) ? &secrets[at].lake : NULL;
	bool oom = false;
	if (s) {
		const char *const src[] = {s->metadata_path, s->data_path, s->metadata_schema, s->metadata_catalog,
					   s->meta_type};
		char **dst[] = {&out->metadata_path, &out->data_path, &out->metadata_schema, &out->metadata_catalog,
				&out->meta_type};
		for (size_t i = 0; i < sizeof(dst) / sizeof(dst[0]); i++)
			oom = oom || (src[i] && !(*dst[i] = pl_strdup(src[i])));
	}
	pthread_mutex_unlock(&lock);
	if (oom) {
		pl_lake_secret_dispose(out);
		return pl_err_nomem(err);
	}
	return s ? 0 : PL_ENOTFOUND;
}

static void put_lake_string(pl_buf *s, const pl_secret_def *d)
{
	const char *const keys[] = {"data_path", "meta_type", "metadata_catalog", "metadata_path", "metadata_schema"};
	const char *const vals[] = {d->lake.data_path, d->lake.meta_type, d->lake.metadata_catalog,
				    d->lake.metadata_path, d->lake.metadata_schema};
	pl_buf_printf(s, "name=%s;type=ducklake;provider=config;serializable=true;scope", d->name);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (vals[i])
			pl_buf_printf(s, ";%s=%s", keys[i], vals[i]);
}

int pl_secret_list(pl_secret_row **out, size_t *n, pl_err *err)
{
	pthread_mutex_lock(&lock);
	load_persistent();
	pl_secret_row *rows = calloc(nsecrets ? nsecrets : 1, sizeof(*rows));
	bool oom = rows == NULL;
	for (size_t i = 0; !oom && i < nsecrets; i++) {
		const pl_secret_def *d = &secrets[i];
		pl_buf s = PL_BUF_INIT;
		if (is_lake(d)) {
			put_lake_string(&s, d);
			rows[i] = (pl_secret_row){pl_strdup(d->name), pl_strdup(d->type), pl_strdup("config"),
						  pl_strdup(d->persistent ? "local_file" : "memory"), pl_strdup(""),
						  pl_buf_detach(&s), d->persistent};
			oom = !rows[i].name || !rows[i].type || !rows[i].provider || !rows[i].storage ||
			      !rows[i].scope || !rows[i].secret_string;
			continue;
		}
		pl_buf_printf(&s, "name=%s;type=%s;provider=config;serializable=true;scope=%s", d->name, d->type,
			      d->scope ? d->scope : "s3://,s3n://,s3a://");
		if (d->cfg.endpoint)
			pl_buf_printf(&s, ";endpoint=%s", d->cfg.endpoint);
		if (d->cfg.key_id)
			pl_buf_printf(&s, ";key_id=%s", d->cfg.key_id);
		pl_buf_printf(&s, ";region=%s;secret=redacted", d->cfg.region ? d->cfg.region : "us-east-1");
		if (d->cfg.session_token)
			pl_buf_puts(&s, ";session_token=redacted");
		pl_buf_printf(&s, ";url_style=%s;use_ssl=%s", d->cfg.path_style ? "path" : "vhost",
			      d->cfg.use_ssl ? "true" : "false");
		rows[i] = (pl_secret_row){pl_strdup(d->name), pl_strdup(d->type), pl_strdup("config"),
					  pl_strdup(d->persistent ? "local_file" : "memory"),
					  pl_strdup(d->scope ? d->scope : "s3://"), pl_buf_detach(&s), d->persistent};
		oom = !rows[i].name || !rows[i].type || !rows[i].provider || !rows[i].storage || !rows[i].scope ||
		      !rows[i].secret_string;
	}
	size_t count = nsecrets;
	pthread_mutex_unlock(&lock);
	if (oom) {
		pl_secret_rows_free(rows, rows ? count : 0);
		return pl_err_nomem(err);
	}
	*out = rows;
	*n = count;
	return 0;
}

void pl_secret_rows_free(pl_secret_row *rows, size_t n)
{
	for (size_t i = 0; rows && i < n; i++) {
		free(rows[i].name);
		free(rows[i].type);
		free(rows[i].provider);
		free(rows[i].storage);
		free(rows[i].scope);
		free(rows[i].secret_string);
	}
	free(rows);
}

static void scrub_one(char *msg, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n < 4)
		return;
	for (char *p = strstr(msg, s); p; p = strstr(p, s)) {
		memmove(p + 3, p + n, strlen(p + n) + 1);
		memcpy(p, "***", 3);
		p += 3;
	}
}

void pl_secret_scrub(char *msg)
{
	if (!msg)
		return;
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nsecrets; i++) {
		scrub_one(msg, secrets[i].cfg.secret);
		scrub_one(msg, secrets[i].cfg.session_token);
	}
	pthread_mutex_unlock(&lock);
}
