/*
 * secrets.h -- S3 credentials given as DuckDB users give them: CREATE [PERSISTENT] SECRET
 * (TYPE s3, KEY_ID, SECRET, SESSION_TOKEN, ENDPOINT, REGION, URL_STYLE, USE_SSL, SCOPE).
 *
 * Secrets are kept by the process (every database and session of it sees them, as DuckDB's
 * secret manager does for one database instance). A PERSISTENT secret is also written to a file
 * of its own, mode 0600 in a directory of mode 0700: $PLANAR_SECRET_DIR, else
 * $XDG_CONFIG_HOME/planar/secrets, else ~/.config/planar/secrets (as DuckDB keeps its persistent
 * secrets in ~/.duckdb/stored_secrets); such files are read once, the first time a secret is
 * needed. A secret never reaches a catalog, and the secret key and session token never appear
 * in a listing (pl_secret_list redacts them) or a message.
 *
 * Which secret an s3:// path uses (DuckLake secrets never apply to paths): the one whose SCOPE is the longest prefix of it; a secret without a
 * SCOPE applies to every path. With no secret, the environment (pl_s3_config_from_env).
 */
#ifndef PL_STORAGE_SECRETS_H
#define PL_STORAGE_SECRETS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "storage/s3.h"

/* A DuckLake secret (TYPE ducklake), as DuckDB's extension defines it: where a lake is. ATTACH
 * 'ducklake:' uses the default one (__default_ducklake), 'ducklake:name' the one named so. */
typedef struct pl_lake_secret {
	char *metadata_path; /* what follows ducklake: in an ATTACH (required) */
	char *data_path, *metadata_schema, *metadata_catalog;
	char *meta_type;     /* METADATA_PARAMETERS' TYPE: the catalog database kind */
} pl_lake_secret;

typedef struct pl_secret_def {
	char *name;   /* NULL: DuckDB's default name for the type (__default_s3, __default_ducklake) */
	char *type;   /* "s3" | "r2" | "ducklake" */
	char *scope;  /* NULL: every path */
	bool persistent;
	pl_s3_config cfg; /* key_id, secret, session_token, endpoint, region, path_style, use_ssl */
	bool url_style_set, use_ssl_set;
	pl_lake_secret lake; /* type ducklake */
} pl_secret_def;

void pl_secret_def_init(pl_secret_def *d);
void pl_secret_def_dispose(pl_secret_def *d);

/* Registers a secret (taking what d owns: d is left empty). replace: CREATE OR REPLACE;
 * if_not_exists: an existing one is kept silently; else PL_EEXISTS. */
int pl_secret_create(pl_secret_def *d, bool replace, bool if_not_exists, pl_err *err);
/* Removes a secret (and its file when persistent); PL_ENOTFOUND unless if_exists. */
int pl_secret_drop(const char *name, bool if_exists, pl_err *err);

/* The configuration for an s3:// path: the best secret's, else the environment's (PL_ENOTFOUND
 * naming both ways when neither gives keys). PLANAR_S3_* settings apply either way. */
int pl_secret_config_for(const char *uri, pl_s3_config *out, pl_err *err);
/* The SCOPE of the secret pl_secret_config_for picks for uri (malloc'd), or NULL when that is a
 * secret without a scope or the environment; PL_ENOMEM when out of memory. */
int pl_secret_scope_for(const char *uri, char **scope_out);

/* A copy of the DuckLake secret `name` (NULL: the default one); PL_ENOTFOUND when there is none
 * of type ducklake. Free with pl_lake_secret_dispose. */
int pl_secret_lake(const char *name, pl_lake_secret *out, pl_err *err);
void pl_lake_secret_dispose(pl_lake_secret *s);

/* One row of duckdb_secrets(): the secret string has secret and session_token redacted. */
typedef struct pl_secret_row {
	char *name, *type, *provider, *storage, *scope, *secret_string;
	bool persistent;
} pl_secret_row;

int pl_secret_list(pl_secret_row **out, size_t *n, pl_err *err);
void pl_secret_rows_free(pl_secret_row *rows, size_t n);

/* Replaces every occurrence of a known secret key or session token in msg by "***". */
void pl_secret_scrub(char *msg);

#endif
