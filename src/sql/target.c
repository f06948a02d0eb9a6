/*
 * target.c -- what a statement names (see router.h): qualified names, the lake, schema and table
 * they resolve to from the session's current database and schema, and the small results
 * statements Planar runs itself answer with.
 */
#include "sql/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "sql/lake.h"

int pl_parse_qname(const pl_toks *t, size_t *i, char *parts[3], size_t *nparts, pl_err *err)
{
	*nparts = 0;
	for (;;) {
		if (*i >= t->len || (t->items[*i].kind != PL_TOK_WORD && t->items[*i].kind != PL_TOK_QIDENT))
			break;
		if (*nparts == 3)
			return pl_err_set(err, PL_EINVALID, "syntax error: name has too many parts");
		if (!(parts[(*nparts)++] = pl_tok_ident(t, *i)))
			return pl_err_nomem(err);
		(*i)++;
		if (!pl_tok_is_punct(t, *i, "."))
			return 0;
		(*i)++;
	}
	if (*nparts == 0)
		return pl_err_set(err, PL_EINVALID, "syntax error: expected a name");
	return pl_err_set(err, PL_EINVALID, "syntax error: name ends with '.'");
}

void pl_target_dispose(pl_target *t)
{
	free(t->schema);
	free(t->name);
	memset(t, 0, sizeof(*t));
}

/* Current database and schema of the session: asked once, then kept until a statement that may
 * change them (pl_stmt_keeps_location). */
int pl_session_location(pl_stmt *st, char **db_out, char **schema_out, pl_err *err)
{
	planar_conn *conn = st->conn;
	*db_out = *schema_out = NULL;
	if (!conn->loc_known) {
		duckdb_result res;
		int rc = pl_engine_query(conn->con, "SELECT current_database(), current_schema()", &res, err);
		if (rc)
			return rc;
		bool oom = false;
		free(conn->loc_db);
		free(conn->loc_schema);
		conn->loc_db = pl_engine_value_str(&res, 0, 0, &oom);
		conn->loc_schema = pl_engine_value_str(&res, 1, 0, &oom);
		duckdb_destroy_result(&res);
		if (oom)
			return pl_err_nomem(err);
		conn->loc_known = true;
	}
	if ((conn->loc_db && !(*db_out = pl_strdup(conn->loc_db))) ||
	    (conn->loc_schema && !(*schema_out = pl_strdup(conn->loc_schema)))) {
		free(*db_out);
		*db_out = NULL;
		return pl_err_nomem(err);
	}
	return 0;
}

/* Whether a statement leaves the session's current database and schema as they are: the kinds
 * below never change them (USE, SET, RESET, DETACH, DROP, PRAGMA, EXECUTE and any other kind may). */
bool pl_stmt_keeps_location(const pl_toks *t)
{
	static const char *const kinds[] = {"SELECT", "FROM",   "WITH",  "VALUES",   "TABLE",  "INSERT",   "UPDATE",
					    "DELETE", "MERGE",  "CREATE", "ALTER",   "COPY",   "EXPLAIN",  "DESCRIBE",
					    "SHOW",   "SUMMARIZE", "BEGIN", "START", "COMMIT", "END", "ROLLBACK",
					    "ABORT",  "CHECKPOINT", "CALL", "COMMENT", NULL};
	for (const char *const *k = kinds; *k; k++)
		if (pl_tok_is(t, 0, *k))
			return true;
	return false;
}

int pl_resolve_target_in(planar_db *db, const char *cur_db, const char *cur_schema, char *parts[3], size_t n,
			 pl_target *out, pl_err *err)
{
	memset(out, 0, sizeof(*out));
	pl_lake *cur = cur_db ? pl_db_find_lake(db, cur_db) : NULL;
	const char *schema = NULL, *name = parts[n - 1];
	if (n == 3) {
		out->lake = pl_db_find_lake(db, parts[0]);
		schema = parts[1];
	} else if (n == 2) {
		pl_lake *named = pl_db_find_lake(db, parts[0]);
		if (named && !(cur && pl_model_schema(cur->model, parts[0]))) {
			out->lake = named;
			schema = "main";
		} else if (cur) {
			out->lake = cur;
			schema = parts[0];
		}
	} else if (cur) {
		out->lake = cur;
		schema = cur_schema ? cur_schema : "main";
	}
	if (out->lake && (!(out->schema = pl_strdup(schema)) || !(out->name = pl_strdup(name))))
		return pl_err_nomem(err);
	return 0;
}

int pl_resolve_target(pl_stmt *st, char *parts[3], size_t n, pl_target *out, pl_err *err)
{
	char *cur_db = NULL, *cur_schema = NULL;
	memset(out, 0, sizeof(*out));
	int rc = pl_session_location(st, &cur_db, &cur_schema, err);
	if (rc == 0)
		rc = pl_resolve_target_in(st->conn->db, cur_db, cur_schema, parts, n, out, err);
	free(cur_db);
	free(cur_schema);
	return rc;
}

int pl_stmt_passthrough(pl_stmt *st, const char *sql, planar_result **out, pl_err *err)
{
	return pl_result_from_sql(out, st->conn, sql, err);
}

int pl_stmt_count_result(pl_stmt *st, int64_t n, planar_result **out, pl_err *err)
{
	duckdb_result res;
	pl_engine_arg arg = {.i = n, .is_int = true};
	int rc = pl_engine_query_args(st->conn->con, &st->conn->prepared, "SELECT CAST($1 AS BIGINT) AS \"Count\"", &arg,
				      1, &res, err);
	return rc ? rc : pl_result_wrap(out, st->conn, &res, err);
}

void pl_stmt_temp_name(pl_stmt *st, const char *what, char out[64])
{
	snprintf(out, 64, "__planar_%s_%lu", what, ++st->conn->tmp_seq);
}

