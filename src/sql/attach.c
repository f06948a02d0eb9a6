/*
 * attach.c -- ATTACH 'ducklake:[kind:]location' [AS name] [(options)] and DETACH of lakes.
 *
 * Kinds: duckdb (default; a DuckDB database file), sqlite, postgres (a libpq connection string
 * or postgresql:// URI). Options follow DuckDB's ducklake extension: DATA_PATH, READ_ONLY,
 * OVERRIDE_DATA_PATH, SNAPSHOT_VERSION, SNAPSHOT_TIME, METADATA_SCHEMA and PASSWORD_ENV (the
 * name of an environment variable holding the password; postgres); options
 * that only tune the extension's behaviour are accepted and ignored; anything else is an error.
 */
#include <stdlib.h>
#include <string.h>

#include "catalog/inline.h"
#include "core/str.h"
#include "sql/lake.h"
#include "sql/router.h"
#include "storage/secrets.h"

typedef struct attach_args {
	char *uri, *alias, *data_path, *snapshot_time, *schema, *password_env, *metadata_catalog;
	char *secret_meta_type; /* the catalog kind a DuckLake secret's METADATA_PARAMETERS name */
	bool if_not_exists;
	bool or_replace; /* ATTACH OR REPLACE: a lake of that name is detached first */
	bool kind_given; /* the URI names the catalog kind */
	bool read_write; /* READ_WRITE given */
	pl_lake_options o;
} attach_args;

static void args_dispose(attach_args *a)
{
	free(a->uri);
	free(a->alias);
	free(a->data_path);
	free(a->snapshot_time);
	free(a->schema);
	free(a->password_env);
	free(a->metadata_catalog);
	free(a->secret_meta_type);
}

static bool option_bool(const pl_toks *t, size_t *i)
{
	if (pl_tok_is(t, *i, "true") || pl_tok_is(t, *i, "false")) {
		bool v = pl_tok_is(t, *i, "true");
		(*i)++;
		return v;
	}
	if (*i < t->len && t->items[*i].kind == PL_TOK_NUMBER) {
		bool v = t->src[t->items[*i].start] != '0';
		(*i)++;
		return v;
	}
	return true; /* a bare flag: READ_ONLY */
}

/* Options that only tune how the extension reaches its catalog or migrates it; Planar has its own
 * way (busy waits, one catalog format) and accepts them as it is. META_<name> options are
 * parameters of the extension's ATTACH of the catalog database: META_TYPE names its kind, the
 * others do not apply to Planar's catalog drivers. */
static const char *const ignored_options[] = {
	"ENCRYPTED", "METADATA_PARAMETERS", "MIGRATE_IF_REQUIRED", "TYPE", "BUSY_TIMEOUT", NULL,
};

static int apply_meta_type(attach_args *a, char *v, pl_err *err);

/* META_TYPE 'duckdb' | 'sqlite' | 'postgres': the catalog's kind, as the URI prefix gives it. */
static int meta_type_option(const pl_toks *t, size_t *i, attach_args *a, pl_err *err)
{
	if (*i >= t->len || t->items[*i].kind != PL_TOK_STRING)
		return pl_err_set(err, PL_EINVALID, "ATTACH option META_TYPE needs a string value");
	char *v = pl_tok_string(t, (*i)++);
	if (!v)
		return pl_err_nomem(err);
	int rc = apply_meta_type(a, v, err);
	free(v);
	return rc;
}

/* The catalog kind v (lower-cased here) names, from META_TYPE or a DuckLake secret. */
static int apply_meta_type(attach_args *a, char *v, pl_err *err)
{
	for (char *c = v; *c; c++)
		*c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
	static const char *const kinds[] = {"duckdb", "sqlite", "postgres", NULL};
	const char *kind = NULL;
	for (const char *const *k = kinds; *k; k++)
		if (strcmp(v, *k) == 0 || (strcmp(*k, "postgres") == 0 && strcmp(v, "postgresql") == 0))
			kind = *k;
	int rc = 0;
	if (!kind)
		rc = pl_err_set(err, PL_EUNSUPPORTED, "ATTACH option META_TYPE: catalog database kind '%s' is not "
				"supported (use duckdb, sqlite or postgres)", v);
	else if (a->kind_given && strcmp(a->o.kind, kind) != 0)
		rc = pl_err_set(err, PL_EINVALID, "ATTACH option META_TYPE '%s' contradicts the catalog kind '%s' of the "
				"path", v, a->o.kind);
	else
		a->o.kind = kind;
	return rc;
}

static int string_option(const pl_toks *t, size_t *i, const char *name, char **out, pl_err *err)
{
	/* as DuckDB takes an option's value: a bare name is its text */
	bool word = *i < t->len && (t->items[*i].kind == PL_TOK_WORD || t->items[*i].kind == PL_TOK_QIDENT) &&
		    !(*i + 1 < t->len && pl_tok_is_punct(t, *i + 1, "("));
	if (*i >= t->len || (t->items[*i].kind != PL_TOK_STRING && !word))
		return pl_err_set(err, PL_EINVALID, "ATTACH option %s needs a string value", name);
	free(*out);
	if (!(*out = word ? pl_tok_ident(t, *i) : pl_tok_string(t, *i)))
		return pl_err_nomem(err);
	(*i)++;
	return 0;
}

static int parse_option(const pl_toks *t, size_t *i, attach_args *a, pl_err *err)
{
	char *name = pl_tok_ident(t, *i);
	if (!name)
		return pl_err_nomem(err);
	(*i)++;
	int rc = 0;
	if (pl_str_ieq(name, "DATA_PATH")) {
		rc = string_option(t, i, "DATA_PATH", &a->data_path, err);
	} else if (pl_str_ieq(name, "META_TYPE")) {
		rc = meta_type_option(t, i, a, err);
	} else if (pl_str_ieq(name, "CREATE_IF_NOT_EXISTS")) {
		a->o.create_if_missing = option_bool(t, i);
		a->o.create_if_missing_set = true;
	} else if (pl_str_ieq(name, "WRITE_DELETION_VECTORS")) {
		a->o.write_dv_set = true;
		a->o.write_dv = option_bool(t, i);
	} else if (pl_str_ieq(name, "READ_ONLY") || pl_str_ieq(name, "READONLY")) {
		a->o.read_only = option_bool(t, i);
	} else if (pl_str_ieq(name, "READ_WRITE")) {
		a->o.read_only = !option_bool(t, i);
		a->read_write = !a->o.read_only;
	} else if (pl_str_ieq(name, "OVERRIDE_DATA_PATH")) {
		a->o.override_data_path = option_bool(t, i);
	} else if (pl_str_ieq(name, "AUTOMATIC_MIGRATION")) {
		a->o.automatic_migration = option_bool(t, i);
	} else if (pl_str_ieq(name, "SNAPSHOT_VERSION")) {
		if (*i >= t->len || t->items[*i].kind != PL_TOK_NUMBER)
			rc = pl_err_set(err, PL_EINVALID, "ATTACH option SNAPSHOT_VERSION needs a number");
		else
			a->o.snapshot_version = strtoll(t->src + t->items[(*i)++].start, NULL, 10);
	} else if (pl_str_ieq(name, "METADATA_CATALOG")) {
		rc = string_option(t, i, "METADATA_CATALOG", &a->metadata_catalog, err);
	} else if (pl_str_ieq(name, "DATA_INLINING_ROW_LIMIT")) {
		char num[32] = "";
		if (*i < t->len && t->items[*i].kind == PL_TOK_NUMBER && t->items[*i].len < sizeof(num))
			memcpy(num, t->src + t->items[*i].start, t->items[*i].len);
		if (!num[0] || !pl_inline_parse_limit(num, &a->o.inline_limit))
			rc = pl_err_set(err, PL_EINVALID, "ATTACH option DATA_INLINING_ROW_LIMIT needs a row count (0 "
					"turns data inlining off)");
		else
			a->o.inline_limit_set = true, (*i)++;
	} else if (pl_str_ieq(name, "METADATA_SCHEMA")) {
		rc = string_option(t, i, "METADATA_SCHEMA", &a->schema, err);
	} else if (pl_str_ieq(name, "PASSWORD_ENV")) {
		rc = string_option(t, i, "PASSWORD_ENV", &a->password_env, err);
	} else if (pl_str_ieq(name, "SNAPSHOT_TIME")) {
		rc = string_option(t, i, "SNAPSHOT_TIME", &a->snapshot_time, err);
	} else {
		bool known = pl_str_has_prefix_i(name, "META_");
		for (const char *const *o = ignored_options; *o; o++)
			known = known || pl_str_ieq(name, *o);
		if (!known)
			rc = pl_err_set(err, PL_EINVALID, "unknown ATTACH option \"%s\" for a lake", name);
		else if (*i < t->len && !pl_tok_is_punct(t, *i, ",") && !pl_tok_is_punct(t, *i, ")"))
			(*i)++;
	}
	free(name);
	return rc;
}

static int parse_options(const pl_toks *t, size_t i, attach_args *a, pl_err *err)
{
	if (i >= t->len)
		return 0;
	if (!pl_tok_is_punct(t, i, "("))
		return pl_err_set(err, PL_EINVALID, "syntax error in ATTACH near \"%.*s\"", (int)t->items[i].len,
				  t->src + t->items[i].start);
	size_t end = pl_tok_match_paren(t, i);
	if (end >= t->len)
		return pl_err_set(err, PL_EINVALID, "syntax error in ATTACH: unbalanced parentheses");
	for (i++; i < end;) {
		int rc = parse_option(t, &i, a, err);
		if (rc)
			return rc;
		if (pl_tok_is_punct(t, i, ","))
			i++;
		else if (i != end)
			return pl_err_set(err, PL_EINVALID, "syntax error in ATTACH options near \"%.*s\"",
					  (int)t->items[i].len, t->src + t->items[i].start);
	}
	return end + 1 < t->len ? pl_err_set(err, PL_EINVALID, "syntax error after ATTACH options") : 0;
}

/* Alias from the location: file name without directories and extension. */
static char *default_alias(const char *location)
{
	const char *base = strrchr(location, '/');
	base = base ? base + 1 : location;
	const char *dot = strchr(base, '.');
	return pl_strndup(base, dot && dot != base ? (size_t)(dot - base) : strlen(base));
}

/* As in DuckLake: an empty path or a plain name (letters, digits, '_') names a DuckLake secret. */
static bool is_secret_name(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

/* ATTACH 'ducklake:' / 'ducklake:name': the lake the DuckLake secret describes. Its path becomes
 * the URI; its DATA_PATH, METADATA_SCHEMA and METADATA_CATALOG apply unless ATTACH gives them. */
static int from_secret(attach_args *a, pl_err *err)
{
	const char *name = a->uri + strlen("ducklake:");
	pl_lake_secret ls;
	int rc = pl_secret_lake(*name ? name : NULL, &ls, err);
	if (rc == PL_ENOTFOUND && !*name)
		return pl_err_set(err, PL_ENOTFOUND, "Invalid Input Error: Default secret was not found - either specify "
				  "a path to attach to directly, or create the secret (CREATE SECRET (TYPE ducklake, "
				  "METADATA_PATH '...'))");
	if (rc == PL_ENOTFOUND)
		return pl_err_set(err, PL_ENOTFOUND, "Invalid Input Error: Secret \"%s\" was not found - if this was "
				  "meant to be a path to a DuckDB file, use duckdb:%s instead", name, name);
	if (rc)
		return rc;
	pl_buf uri = PL_BUF_INIT;
	pl_buf_printf(&uri, "ducklake:%s", ls.metadata_path);
	char *u = pl_buf_detach(&uri);
	if (!u) {
		pl_lake_secret_dispose(&ls);
		return pl_err_nomem(err);
	}
	free(a->uri);
	a->uri = u;
	char **own[] = {&a->data_path, &a->schema, &a->metadata_catalog, &a->secret_meta_type};
	char **given[] = {&ls.data_path, &ls.metadata_schema, &ls.metadata_catalog, &ls.meta_type};
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
		free(*own[i]);
		*own[i] = *given[i];
		*given[i] = NULL;
	}
	pl_lake_secret_dispose(&ls);
	return 0;
}

static int split_uri(attach_args *a, pl_err *err)
{
	if (is_secret_name(a->uri + strlen("ducklake:"))) {
		int rc = from_secret(a, err);
		if (rc)
			return rc;
	}
	const char *rest = a->uri + strlen("ducklake:");
	static const char *const kinds[] = {"sqlite", "duckdb", "postgres", "postgresql", "mysql", NULL};
	a->o.kind = "duckdb";
	for (const char *const *k = kinds; *k; k++) {
		size_t n = strlen(*k);
		if (strncmp(rest, *k, n) == 0 && rest[n] == ':') {
			a->o.kind = *k;
			a->kind_given = true;
			rest += n + 1;
			break;
		}
	}
	if (strcmp(a->o.kind, "mysql") == 0)
		return pl_err_set(err, PL_EUNSUPPORTED, "catalog database kind 'mysql' is not supported (use duckdb, sqlite or postgres)");
	if (strcmp(a->o.kind, "postgresql") == 0)
		a->o.kind = "postgres";
	if (!*rest)
		return pl_err_set(err, PL_EINVALID, "ATTACH 'ducklake:...' needs a catalog path");
	a->o.location = rest;
	return 0;
}

static int parse_attach(const pl_toks *t, attach_args *a, pl_err *err)
{
	size_t i = 1;
	if (pl_tok_is(t, i, "OR") && pl_tok_is(t, i + 1, "REPLACE")) {
		a->or_replace = true;
		i += 2;
	}
	if (pl_tok_is(t, i, "DATABASE"))
		i++;
	if (pl_tok_is(t, i, "IF") && pl_tok_is(t, i + 1, "NOT") && pl_tok_is(t, i + 2, "EXISTS")) {
		a->if_not_exists = true;
		i += 3;
	}
	if (!(a->uri = pl_tok_string(t, i++)))
		return pl_err_nomem(err);
	int rc = split_uri(a, err);
	if (rc == 0 && a->secret_meta_type)
		rc = apply_meta_type(a, a->secret_meta_type, err);
	if (rc)
		return rc;
	if (pl_tok_is(t, i, "AS")) {
		if (i + 1 >= t->len)
			return pl_err_set(err, PL_EINVALID, "syntax error: ATTACH ... AS needs a name");
		a->alias = pl_tok_ident(t, i + 1);
		i += 2;
	} else {
		a->alias = pl_catdb_kind_is_file(a->o.kind) ? default_alias(a->o.location) : pl_strdup("lake");
	}
	if (!a->alias)
		return pl_err_nomem(err);
	a->o.name = a->alias;
	return parse_options(t, i, a, err);
}

/* The lake whose catalog has this identity, if one is attached. */
static pl_lake *lake_with_identity(planar_db *db, const char *identity)
{
	for (size_t i = 0; identity && i < db->nlakes; i++)
		if (db->lakes[i]->identity && strcmp(db->lakes[i]->identity, identity) == 0)
			return db->lakes[i];
	return NULL;
}

static int refuse_second_open(const char *location, const pl_lake *open, pl_err *err)
{
	return pl_err_set(err, PL_EEXISTS,
			  "'%s' is the catalog of lake \"%s\", already attached in this process; a catalog can be attached "
			  "for writing once per process (use \"%s\", or attach it again with READ_ONLY or SNAPSHOT_VERSION)",
			  location, open->name, open->name);
}

/* A second attachment of an attached catalog only reads it. */
static bool reads_only(const pl_lake_options *o)
{
	return o->read_only || o->snapshot_version >= 0 || o->snapshot_time;
}

/* A file DuckDB itself has attached (ATTACH without ducklake:) with this identity. */
static int engine_has_file(planar_conn *conn, const char *identity, char **path_out, pl_err *err)
{
	duckdb_result res;
	*path_out = NULL;
	int rc = pl_engine_query(conn->con, "SELECT path FROM duckdb_databases() WHERE path IS NOT NULL", &res, err);
	if (rc)
		return rc;
	bool oom = false;
	for (idx_t r = 0; rc == 0 && !*path_out && r < duckdb_row_count(&res); r++) {
		char *path = pl_engine_value_str(&res, 0, r, &oom), *id = NULL;
		if (path && pl_catdb_file_identity(path, &id, err) == 0 && id && strcmp(id, identity) == 0)
			*path_out = path, path = NULL;
		free(id);
		free(path);
	}
	duckdb_destroy_result(&res);
	return oom ? pl_err_nomem(err) : 0;
}

/* One catalog is open at most once per process, however it is named: a catalog file is checked
 * before it is opened (opening a DuckDB file twice in one process loses commits); a PostgreSQL
 * catalog once connected. */
static int check_not_open(pl_stmt *st, pl_lake_options *o, char **identity, pl_err *err)
{
	*identity = NULL;
	if (!pl_catdb_kind_is_file(o->kind))
		return 0;
	int rc = pl_catdb_file_identity(o->location, identity, err);
	pl_lake *open = rc ? NULL : lake_with_identity(st->conn->db, *identity);
	if (open && !reads_only(o))
		return refuse_second_open(o->location, open, err);
	if (open) { /* read through the attached lake's connection: the file is opened once */
		o->share_catalog_of = open->cat_owner ? open->cat_owner : open;
		return 0;
	}
	char *path = NULL;
	if (rc == 0 && *identity && (rc = engine_has_file(st->conn, *identity, &path, err)) == 0 && path) {
		rc = pl_err_set(err, PL_EEXISTS, "'%s' is already attached as a plain database ('%s'); DETACH it first",
				o->location, path);
		free(path);
	}
	return rc;
}

int pl_attach_check_plain(pl_stmt *st, pl_err *err)
{
	const pl_toks *t = &st->toks;
	size_t i = 1;
	i += pl_tok_is(t, i, "DATABASE");
	if (pl_tok_is(t, i, "IF") && pl_tok_is(t, i + 1, "NOT") && pl_tok_is(t, i + 2, "EXISTS"))
		i += 3;
	if (i >= t->len || t->items[i].kind != PL_TOK_STRING || st->conn->db->nlakes == 0)
		return 0;
	char *path = pl_tok_string(t, i), *id = NULL;
	if (!path)
		return pl_err_nomem(err);
	const char *file = pl_str_has_prefix_i(path, "duckdb:") ? path + strlen("duckdb:") : path;
	int rc = pl_catdb_file_identity(file, &id, err);
	const pl_lake *open = rc ? NULL : lake_with_identity(st->conn->db, id);
	if (open)
		rc = refuse_second_open(file, open, err);
	free(id);
	free(path);
	return rc;
}

int pl_handle_attach(pl_stmt *st, planar_result **out, pl_err *err)
{
	attach_args a = {0};
	a.o.snapshot_version = -1;
	a.o.create_if_missing = true;
	planar_db *db = st->conn->db;
	(void)out;
	int rc = parse_attach(&st->toks, &a, err);
	a.o.data_path = a.data_path;
	a.o.snapshot_time = a.snapshot_time;
	a.o.schema = a.schema;
	a.o.password_env = a.password_env;
	a.o.metadata_catalog = a.metadata_catalog;
	if (!a.o.write_dv_set) { /* as DuckLake: the setting at ATTACH time */
		const char *dv = pl_setting_value(st->conn, PL_SET_WRITE_DELETION_VECTORS);
		a.o.write_dv_set = true;
		a.o.write_dv = dv && strcmp(dv, "true") == 0;
	}
	if (rc == 0 && a.read_write && (a.o.snapshot_version >= 0 || a.o.snapshot_time))
		rc = pl_err_set(err, PL_EINVALID, "Invalid Input Error: SNAPSHOT_VERSION / SNAPSHOT_TIME can only be used in "
				"read-only mode");
	if (rc == 0 && a.o.snapshot_version >= 0 && a.o.snapshot_time)
		rc = pl_err_set(err, PL_EINVALID, "Invalid Input Error: Cannot specify both VERSION and TIMESTAMP "
				"(SNAPSHOT_VERSION and SNAPSHOT_TIME)");
	if (rc == 0 && a.metadata_catalog && pl_str_ieq(a.metadata_catalog, a.alias))
		rc = pl_err_set(err, PL_EINVALID,
				"Binder Error: the METADATA_CATALOG of lake \"%s\" cannot have the lake's own name", a.alias);
	if (rc == 0 && a.or_replace && pl_db_find_lake(db, a.alias))
		rc = pl_handle_detach(st, pl_db_find_lake(db, a.alias), out, err);
	if (rc == 0 && (pl_db_find_lake(db, a.alias))) {
		if (!a.if_not_exists)
			rc = pl_err_set(err, PL_EEXISTS, "Binder Error: Failed to attach database: database with name \"%s\" already "
					"exists (a lake of that name is already attached)", a.alias);
		args_dispose(&a);
		return rc;
	}
	pl_lake *lake = NULL;
	char *identity = NULL;
	if (rc == 0)
		rc = check_not_open(st, &a.o, &identity, err);
	if (rc == 0)
		rc = pl_lake_open(&lake, db, &a.o, err);
	if (rc == 0 && !identity) /* a new catalog file, or PostgreSQL */
		rc = pl_catdb_identity(lake->cat, lake->location, &identity, err);
	const pl_lake *open = rc || a.o.share_catalog_of ? NULL : lake_with_identity(db, identity);
	if (open && !reads_only(&a.o))
		rc = refuse_second_open(a.o.location, open, err);
	if (rc == 0) {
		lake->identity = identity;
		identity = NULL;
	} else if (lake) {
		pl_db_remove_lake(db, lake);
		pl_lake_detach(lake, db);
	}
	free(identity);
	args_dispose(&a);
	return rc;
}

int pl_handle_detach(pl_stmt *st, pl_lake *lake, planar_result **out, pl_err *err)
{
	planar_db *db = st->conn->db;
	(void)out;
	for (size_t i = 0; i < db->nlakes; i++)
		if (db->lakes[i]->cat_owner == lake)
			return pl_err_set(err, PL_EBUSY, "cannot detach lake \"%s\": lake \"%s\" reads its catalog through it "
					  "(DETACH \"%s\" first)", lake->name, db->lakes[i]->name, db->lakes[i]->name);
	if (lake->writers > 0)
		return pl_err_set(err, PL_EBUSY, "cannot detach lake \"%s\": another session is writing to it (retry when "
				  "its statement ends)", lake->name);
	for (size_t i = 0; st->conn->in_txn && i < st->conn->nbegin; i++)
		if (st->conn->begin[i].lake == lake && st->conn->begin[i].pending)
			return pl_err_set(err, PL_EBUSY,
					  "cannot detach lake \"%s\": a transaction of this session has uncommitted writes to it "
					  "(COMMIT or ROLLBACK first)",
					  lake->name);
	if (lake->txn_writers > 0)
		return pl_err_set(err, PL_EBUSY,
				  "cannot detach lake \"%s\": a transaction of another session has uncommitted writes to it "
				  "(retry when it ends)",
				  lake->name);
	for (size_t i = 0; st->conn->in_txn && i < st->conn->nbegin; i++)
		if (st->conn->begin[i].lake == lake)
			return pl_err_set(err, PL_EBUSY,
					  "cannot detach lake \"%s\" inside a transaction that read it (COMMIT or ROLLBACK "
					  "first)",
					  lake->name);
	if (lake->txn_readers > 0)
		return pl_err_set(err, PL_EBUSY,
				  "cannot detach lake \"%s\": a transaction of another session reads it (retry when it "
				  "ends)",
				  lake->name);
	/* A session whose current database is the lake moves back to the default database. */
	pl_err ignored;
	char *cur = NULL;
	if (pl_engine_query_value(st->conn->con, "SELECT current_database()", &cur, &ignored) == 0 && cur &&
	    pl_str_ieq(cur, lake->name))
		pl_engine_exec(st->conn->con, "USE memory", &ignored);
	free(cur);
	pl_db_remove_lake(db, lake);
	pl_lake_detach(lake, db);
	return 0;
}
