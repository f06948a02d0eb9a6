/*
 * auth.c -- API tokens: `planar token create|list|revoke`, and the bearer-token check of every
 * request. A token is "plt_" followed by 64 hex digits of randomness (getrandom); the catalog
 * keeps only its SHA-256 (nettle), so a token is shown once, when it is created.
 *
 * Roles: reader (query), writer (query and ingest), both bound to one tenant_id; admin (any
 * tenant, no tenant of its own).
 */
#include <getopt.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "core/ids.h"
#include "core/str.h"
#include "server/internal.h"
#include "server/server.h"

void pl_srv_sha256_hex(const char *s, size_t n, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	struct sha256_ctx ctx;
	uint8_t d[SHA256_DIGEST_SIZE];
	sha256_init(&ctx);
	sha256_update(&ctx, n, (const uint8_t *)s);
	sha256_digest(&ctx, sizeof d, d);
	for (size_t i = 0; i < sizeof d; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[64] = '\0';
}

/* ---- what request checks read from the catalog, kept while the catalog is unchanged ----
 * A token's (token_id, tenant, role) and the lake's current snapshot and schema version are
 * kept with the catalog's data version (pl_service_data_version: it changes with every commit
 * of another connection, e.g. `planar token revoke`, a DDL statement or this server's own lake
 * commits). A kept answer is used only while the data version is the one it was read at, so a
 * revoked token is refused from the revoke's commit on, as without the cache. Catalogs without
 * a data version (DuckDB file, PostgreSQL) read the catalog every time. */
#define TOKEN_SLOTS 64

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tok_slot {
	const pl_srv_lake *l; /* NULL: free */
	char hash[65];
	char *token_id, *tenant_id, *role;
	int64_t gen;
} toks[TOKEN_SLOTS];
static size_t tok_next;
static struct {
	const pl_srv_lake *l;
	int64_t gen, snap, ver;
} cur_cache;

int64_t pl_srv_catalog_gen(pl_srv_lake *l)
{
	int64_t v = -1;
	pl_err err;
	pl_err_clear(&err);
	pthread_mutex_lock(&l->svc_lock);
	if (l->svc && pl_service_data_version(l->svc, &v, &err) != 0)
		v = -1;
	pthread_mutex_unlock(&l->svc_lock);
	return v;
}

static void slot_clear(struct tok_slot *t)
{
	free(t->token_id);
	free(t->tenant_id);
	free(t->role);
	memset(t, 0, sizeof *t);
}

void pl_srv_auth_dispose(pl_srv_lake *l)
{
	pthread_mutex_lock(&cache_lock);
	for (size_t i = 0; i < TOKEN_SLOTS; i++)
		if (toks[i].l == l)
			slot_clear(&toks[i]);
	if (cur_cache.l == l)
		cur_cache.l = NULL;
	pthread_mutex_unlock(&cache_lock);
}

int pl_srv_current(pl_srv_lake *l, int64_t *snapshot_id, int64_t *schema_version, pl_err *err)
{
	int64_t gen = pl_srv_catalog_gen(l);
	if (gen >= 0) {
		pthread_mutex_lock(&cache_lock);
		bool hit = cur_cache.l == l && cur_cache.gen == gen;
		if (hit) {
			*snapshot_id = cur_cache.snap;
			*schema_version = cur_cache.ver;
		}
		pthread_mutex_unlock(&cache_lock);
		if (hit)
			return 0;
	}
	pthread_mutex_lock(&l->svc_lock);
	int rc = pl_service_current(l->svc, snapshot_id, schema_version, err);
	pthread_mutex_unlock(&l->svc_lock);
	if (rc == 0 && gen >= 0) { /* read after gen: at least as new as gen */
		pthread_mutex_lock(&cache_lock);
		cur_cache.l = l;
		cur_cache.gen = gen;
		cur_cache.snap = *snapshot_id;
		cur_cache.ver = *schema_version;
		pthread_mutex_unlock(&cache_lock);
	}
	return rc;
}

/* The caller of a token kept at gen: true and r's fields set, or false. */
static bool token_kept(const pl_srv_lake *l, const char *hash, int64_t gen, pl_req *r)
{
	bool hit = false;
	pthread_mutex_lock(&cache_lock);
	for (size_t i = 0; i < TOKEN_SLOTS && !hit; i++) {
		struct tok_slot *t = &toks[i];
		if (t->l != l || strcmp(t->hash, hash) != 0)
			continue;
		if (t->gen != gen) { /* the catalog changed since: read it again */
			slot_clear(t);
			break;
		}
		r->token_id = pl_strdup(t->token_id);
		r->tenant_id = t->tenant_id ? pl_strdup(t->tenant_id) : NULL;
		r->role = pl_strdup(t->role);
		hit = r->token_id && r->role && (r->tenant_id || !t->tenant_id);
		if (!hit) {
			free(r->token_id);
			free(r->tenant_id);
			free(r->role);
			r->token_id = r->tenant_id = r->role = NULL;
		}
	}
	pthread_mutex_unlock(&cache_lock);
	return hit;
}

static void token_keep(const pl_srv_lake *l, const char *hash, int64_t gen, const pl_req *r)
{
	pthread_mutex_lock(&cache_lock);
	struct tok_slot *t = NULL;
	for (size_t i = 0; i < TOKEN_SLOTS && !t; i++)
		if (toks[i].l == l && strcmp(toks[i].hash, hash) == 0)
			t = &toks[i];
	for (size_t i = 0; i < TOKEN_SLOTS && !t; i++)
		if (!toks[i].l)
			t = &toks[i];
	if (!t)
		t = &toks[tok_next++ % TOKEN_SLOTS];
	slot_clear(t);
	t->token_id = pl_strdup(r->token_id);
	t->tenant_id = r->tenant_id ? pl_strdup(r->tenant_id) : NULL;
	t->role = pl_strdup(r->role);
	if (t->token_id && t->role && (t->tenant_id || !r->tenant_id)) {
		t->l = l;
		memcpy(t->hash, hash, sizeof t->hash);
		t->gen = gen;
	} else {
		slot_clear(t);
	}
	pthread_mutex_unlock(&cache_lock);
}

static int random_hex(char *out, size_t nbytes)
{
	uint8_t b[64];
	if (nbytes > sizeof b)
		return -1;
	size_t got = 0;
	while (got < nbytes) {
		ssize_t k = getrandom(b + got, nbytes - got, 0);
		if (k < 0)
			return -1;
		got += (size_t)k;
	}
	for (size_t i = 0; i < nbytes; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	return 0;
}

bool pl_srv_authenticate(struct MHD_Connection *c, pl_req *r, enum MHD_Result *ret)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	if (!h || strncasecmp(h, "Bearer ", 7) != 0 || h[7 + strspn(h + 7, " ")] == '\0') {
		*ret = pl_srv_reply_error(c, r, PL_SRV_UNAUTHORIZED, "missing bearer token (Authorization: Bearer <token>)",
					  NULL);
		return false;
	}
	const char *tok = h + 7 + strspn(h + 7, " ");
	char hash[65];
	pl_srv_sha256_hex(tok, strlen(tok), hash);
	pl_srv_lake *l = &r->srv->lake;
	int64_t gen = pl_srv_catalog_gen(l);
	if (gen >= 0 && token_kept(l, hash, gen, r))
		return true;
	pl_rows *rows = NULL;
	pl_err err;
	pl_err_clear(&err);
	pthread_mutex_lock(&l->svc_lock);
	int rc = pl_service_token_find(l->svc, hash, &rows, &err);
	pthread_mutex_unlock(&l->svc_lock);
	if (rc) {
		*ret = pl_srv_reply_error(c, r, PL_SRV_UNAVAILABLE, "the catalog cannot be reached to check the token",
					  json_pack("{s:s}", "reason", err.msg));
		return false;
	}
	if (rows->nrows == 0) {
		pl_rows_free(rows);
		*ret = pl_srv_reply_error(c, r, PL_SRV_UNAUTHORIZED, "unknown or revoked token", NULL);
		return false;
	}
	r->token_id = pl_strdup(pl_rows_get(rows, 0, 0));
	r->tenant_id = pl_rows_get(rows, 0, 1) ? pl_strdup(pl_rows_get(rows, 0, 1)) : NULL;
	r->role = pl_strdup(pl_rows_get(rows, 0, 2));
	pl_rows_free(rows);
	if (gen >= 0 && r->token_id && r->role)
		token_keep(l, hash, gen, r);
	return true;
}

bool pl_srv_authorize_tenant(struct MHD_Connection *c, pl_req *r, const char *tenant, enum MHD_Result *ret)
{
	if (r->role && strcmp(r->role, "admin") == 0)
		return true;
	if (tenant && r->tenant_id && strcmp(tenant, r->tenant_id) == 0)
		return true;
	*ret = pl_srv_reply_error(c, r, PL_SRV_FORBIDDEN, "this token may act only for its own tenant",
				  json_pack("{s:s?}", "tenant_id", tenant));
	return false;
}

/* ---------------------------------------------------------------------------------------------
 * planar token create|list|revoke
 * ------------------------------------------------------------------------------------------- */

static void token_usage(FILE *out)
{
	fputs("Usage: planar token create --lake URI [--data-path P] (--tenant ID --role reader|writer | --role admin)\n"
	      "       planar token list --lake URI [--data-path P]\n"
	      "       planar token revoke --lake URI [--data-path P] TOKEN_ID\n\n"
	      "create prints the new token on its last line; it is stored only as a hash and never shown again.\n"
	      "list prints one line per token: id, tenant, role, created, revoked.\n",
	      out);
}

int pl_server_token_main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		token_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *action = argv[1];
	const char *lake = getenv("PLANAR_SERVE_LAKE"), *data_path = getenv("PLANAR_SERVE_DATA_PATH");
	const char *tenant = NULL, *role = NULL, *id = NULL;
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		const char **dst = strcmp(a, "--lake") == 0 ? &lake
				   : strcmp(a, "--data-path") == 0 ? &data_path
				   : strcmp(a, "--tenant") == 0 ? &tenant
				   : strcmp(a, "--role") == 0 ? &role
				   : NULL;
		if (dst) {
			if (i + 1 >= argc) {
				fprintf(stderr, "Error: %s needs a value\n", a);
				return 2;
			}
			*dst = argv[++i];
		} else if (a[0] != '-' && !id) {
			id = a;
		} else {
			fprintf(stderr, "Error: unknown argument \"%s\"; see planar token --help\n", a);
			return 2;
		}
	}
	if (!lake) {
		fprintf(stderr, "Error: --lake URI is required\n");
		return 2;
	}
	bool create = strcmp(action, "create") == 0, list = strcmp(action, "list") == 0,
	     revoke = strcmp(action, "revoke") == 0;
	if (!create && !list && !revoke) {
		fprintf(stderr, "Error: unknown token command \"%s\" (create, list, revoke)\n", action);
		return 2;
	}
	if (create) {
		if (!role || (strcmp(role, "reader") && strcmp(role, "writer") && strcmp(role, "admin"))) {
			fprintf(stderr, "Error: --role must be reader, writer or admin\n");
			return 2;
		}
		if (strcmp(role, "admin") == 0 && tenant) {
			fprintf(stderr, "Error: an admin token has no tenant (drop --tenant)\n");
			return 2;
		}
		if (strcmp(role, "admin") != 0 && (!tenant || !*tenant)) {
			fprintf(stderr, "Error: a %s token needs --tenant ID\n", role);
			return 2;
		}
		if (tenant && !pl_srv_utf8_valid(tenant, strlen(tenant))) {
			fprintf(stderr, "Error: --tenant must be UTF-8 text\n");
			return 2;
		}
	}
	if (revoke && !id) {
		fprintf(stderr, "Error: planar token revoke needs a TOKEN_ID (see planar token list)\n");
		return 2;
	}
	pl_srv_lake l;
	char *msg = NULL;
	int rc = pl_srv_lake_open(&l, lake, data_path, 0, &msg);
	if (rc) {
		fprintf(stderr, "Error: %s\n", msg ? msg : "cannot open the lake");
		planar_free(msg);
		pl_srv_lake_close(&l);
		return 1;
	}
	pl_err err;
	pl_err_clear(&err);
	int status = 0;
	if (create) {
		char secret[129], token[140], token_id[40], hash[65];
		char rnd[13];
		if (random_hex(secret, 32) || random_hex(rnd, 6)) {
			fprintf(stderr, "Error: no randomness available\n");
			pl_srv_lake_close(&l);
			return 1;
		}
		snprintf(token_id, sizeof token_id, "tok_%s", rnd);
		snprintf(token, sizeof token, "plt_%s", secret);
		pl_srv_sha256_hex(token, strlen(token), hash);
		rc = pl_service_token_add(l.svc, token_id, hash, tenant, role, &err);
		if (rc == 0) {
			printf("token id: %s\ntenant: %s\nrole: %s\n%s\n", token_id, tenant ? tenant : "(none: admin)", role,
			       token);
		}
	} else if (list) {
		pl_rows *rows = NULL;
		rc = pl_service_token_list(l.svc, &rows, &err);
		for (size_t i = 0; rc == 0 && i < rows->nrows; i++) {
			const char *t = pl_rows_get(rows, i, 1), *rv = pl_rows_get(rows, i, 4);
			printf("%s\t%s\t%s\t%s\t%s\n", pl_rows_get(rows, i, 0), t ? t : "-", pl_rows_get(rows, i, 2),
			       pl_rows_get(rows, i, 3), rv ? rv : "-");
		}
		pl_rows_free(rows);
	} else {
		bool found = false;
		rc = pl_service_token_revoke(l.svc, id, &found, &err);
		if (rc == 0 && !found) {
			fprintf(stderr, "Error: no live token with id \"%s\"\n", id);
			status = 1;
		} else if (rc == 0) {
			printf("revoked %s\n", id);
		}
	}
	if (rc) {
		fprintf(stderr, "Error: %s\n", err.msg);
		status = 1;
	}
	pl_srv_lake_close(&l);
	return status;
}
