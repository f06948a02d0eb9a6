/*
 * router.h -- the statement router: classifies each statement and sends lake DDL/DML to Planar's
 * handlers, everything else (and every query) to DuckDB unchanged.
 */
#ifndef PL_SQL_ROUTER_H
#define PL_SQL_ROUTER_H

#include "sql/lexer.h"
#include "sql/session.h"

/* How a lake DML statement was asked for: run, or only explained (EXPLAIN), or run and
 * explained with its profile (EXPLAIN ANALYZE). */
typedef enum pl_explain {
	PL_EXPLAIN_NONE = 0,
	PL_EXPLAIN_PLAN,
	PL_EXPLAIN_ANALYZE,
} pl_explain;

typedef struct pl_stmt {
	planar_conn *conn;
	const char *sql;
	pl_toks toks;
	/* For lake INSERT / UPDATE / DELETE written after `EXPLAIN [ANALYZE]` and/or a `WITH` list:
	 * sql and toks hold the statement itself, cte the `WITH ...` text before it (NULL when none),
	 * which handlers put before every query that evaluates the user's expressions. */
	const char *cte;
	pl_explain explain;
	/* The statement as written, before the AT and change-feed rewrites (NULL when the same). */
	const char *original;
} pl_stmt;

/* A resolved reference to an object in a lake. */
typedef struct pl_target {
	pl_lake *lake;
	char *schema; /* schema name */
	char *name;   /* object name (NULL for CREATE SCHEMA targets) */
	size_t start, end; /* token range of the name in the statement */
} pl_target;

int pl_router_run(planar_conn *conn, const char *sql, planar_result **out, pl_err *err);

/* Parses a dotted name at token *i (advancing it); up to 3 parts. */
int pl_parse_qname(const pl_toks *t, size_t *i, char *parts[3], size_t *nparts, pl_err *err);
/* The session's current database and schema (malloc'd; sql/target.c): one DuckDB query, then
 * kept by the connection until a statement that may change them runs. */
int pl_session_location(pl_stmt *st, char **db_out, char **schema_out, pl_err *err);
/* Whether a statement of this kind never changes the session's current database and schema. */
bool pl_stmt_keeps_location(const pl_toks *t);
/* Resolves a table-like name to a lake object; target->lake is NULL when not in a lake. */
int pl_resolve_target(pl_stmt *st, char *parts[3], size_t n, pl_target *out, pl_err *err);
/* The same, given the session's location (for callers resolving many names). */
int pl_resolve_target_in(planar_db *db, const char *cur_db, const char *cur_schema, char *parts[3], size_t n,
			 pl_target *out, pl_err *err);
void pl_target_dispose(pl_target *t);

/* DuckLake's settings (sql/settings.c): SET / RESET ducklake_..., current_setting() rewritten
 * into the value; a setting's value for the session (session, else global, else DuckLake's
 * default; NULL for none), whether either scope set it, and the commit retry policy they give. */
int pl_handle_set(pl_stmt *st, planar_result **out, pl_err *err, bool *handled);
/* CREATE/DROP SECRET of TYPE s3 or r2, and duckdb_secrets() showing them redacted (sql/secret.c). */
int pl_secret_route(pl_stmt *st, planar_result **out, pl_err *err, bool *handled);
int pl_settings_rewrite(planar_conn *conn, const pl_toks *t, char **sql_out, pl_strv *views, pl_err *err);
const char *pl_setting_value(planar_conn *conn, pl_setting_id id);
bool pl_setting_is_set(planar_conn *conn, pl_setting_id id);
void pl_setting_retry(planar_conn *conn, pl_retry_policy *out);

/* Handlers (one file each). Called with db->lock held. */
/* CREATE MACRO / DROP MACRO in a lake (sql/macros.c): name_at / at is the name's token. */
int pl_handle_create_macro(pl_stmt *st, size_t name_at, planar_result **out, pl_err *err);
int pl_handle_drop_macro(pl_stmt *st, size_t at, bool table_kind, bool if_exists, planar_result **out, pl_err *err);
int pl_handle_attach(pl_stmt *st, planar_result **out, pl_err *err);
/* ATTACH of a plain database file (not ducklake:): refused when the file is an attached lake's
 * catalog. */
int pl_attach_check_plain(pl_stmt *st, pl_err *err);
int pl_handle_detach(pl_stmt *st, pl_lake *lake, planar_result **out, pl_err *err);
int pl_handle_create_schema(pl_stmt *st, size_t name_at, planar_result **out, pl_err *err);
int pl_handle_create_table(pl_stmt *st, size_t name_at, planar_result **out, pl_err *err);
int pl_handle_drop(pl_stmt *st, size_t kind_at, planar_result **out, pl_err *err);
int pl_handle_insert(pl_stmt *st, size_t into_at, planar_result **out, pl_err *err);
int pl_handle_delete(pl_stmt *st, size_t name_at, planar_result **out, pl_err *err);
int pl_handle_call(pl_stmt *st, planar_result **out, pl_err *err, bool *handled);
/* CALL ...add_data_files: lake given for lake.add_data_files(, else NULL; open is the '('. */
int pl_handle_add_data_files(pl_stmt *st, pl_lake *lake, size_t open, pl_err *err);
int pl_handle_create_view(pl_stmt *st, size_t name_at, planar_result **out, pl_err *err);
int pl_handle_drop_view(pl_stmt *st, size_t name_at, bool if_exists, pl_err *err);
int pl_handle_alter_view(pl_stmt *st, size_t name_at, bool if_exists, pl_err *err);
int pl_handle_comment(pl_stmt *st, planar_result **out, pl_err *err);
int pl_handle_alter(pl_stmt *st, size_t name_at, planar_result **out, pl_err *err);
int pl_handle_update(pl_stmt *st, size_t name_at, planar_result **out, pl_err *err);
/* MERGE INTO a lake table (sql/merge.c): name_at is the target's first token. */
int pl_handle_merge(pl_stmt *st, size_t name_at, planar_result **out, pl_err *err);

/* Runs sql on the session's connection and returns its result. */
int pl_stmt_passthrough(pl_stmt *st, const char *sql, planar_result **out, pl_err *err);
/* A one-column result `Count` with n, as DuckDB reports changed rows. */
int pl_stmt_count_result(pl_stmt *st, int64_t n, planar_result **out, pl_err *err);
/* Fresh name for a temporary object on this connection: __planar_<what>_<n>. */
void pl_stmt_temp_name(pl_stmt *st, const char *what, char out[64]);

/* Ends a statement rewrite: when `changed`, appends the rest of the source from `copied` and
 * hands the new text to *sql_out; disposes out; returns rc (or PL_ENOMEM). */
int pl_rewrite_finish(pl_buf *out, const pl_toks *t, size_t copied, bool changed, int rc, char **sql_out,
		      pl_err *err);

/* Rows `planar serve` registers (sql/service.h, service_rows.c): when the query text sql reads,
 * at one place only, a registered source of several parts (__planar_rows('<id>')), *out says
 * how each part is read alone, with a new connection of db's engine for each part after the
 * first (the caller disposes of it); else out->n is 0. */
struct pl_source_parts;
int pl_service_rows_split(planar_db *db, const char *sql, struct pl_source_parts *out, pl_err *err);
void pl_service_rows_split_dispose(struct pl_source_parts *p);
/* Registers a table function of VARCHAR parameters whose extra info is db. */
int pl_functions_add_table(planar_db *db, const char *name, size_t nparams, duckdb_table_function_bind_t bind,
			   duckdb_table_function_init_t init, duckdb_table_function_t scan, pl_err *err);
int pl_functions_register(planar_db *db, pl_err *err);
int pl_functions_install_macros(duckdb_connection con, pl_err *err);
/* The blob listings in SQL (blob.c): __planar_blobs() and the macros planar_blob_versions(lake),
 * planar_blob_files(lake). */
int pl_blob_functions_register(planar_db *db, pl_err *err);
int pl_blob_install_macros(duckdb_connection con, pl_err *err);

#endif
