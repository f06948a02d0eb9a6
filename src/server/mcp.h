/*
 * mcp.h -- the agents' interface of a lake inside the service: the Model Context Protocol
 * (JSON-RPC 2.0) server shared by `planar mcp` (stdio) and POST /mcp, its tools, semantic
 * retrieval (GET /data/retrieve and the retrieve tool) and the one tenant check they all use.
 */
#ifndef PL_SERVER_MCP_H
#define PL_SERVER_MCP_H

#include "server/internal.h"

/* Who is calling: tenant NULL reads for every tenant (an admin token, or `planar mcp` on the
 * local lake). */
typedef struct pl_mcp_caller {
	const char *tenant;
	bool stdio;         /* `planar mcp`: the lifecycle (initialize first) is enforced */
	bool initialized;   /* stdio: initialize was answered */
	char version[16];   /* the protocol version agreed on */
	char what[80];      /* the last message's method (and tool), for the request log */
} pl_mcp_caller;

/* What a message was, for the HTTP status of its reply. */
typedef enum pl_mcp_kind {
	PL_MCP_REPLY,        /* a request: the reply is a JSON-RPC response */
	PL_MCP_NO_REPLY,     /* a notification or a response: nothing to answer */
	PL_MCP_BAD_MESSAGE,  /* not JSON, or not a JSON-RPC request: an error response without id */
} pl_mcp_kind;

/* Handles one JSON-RPC message (text of len bytes); returns the reply text (malloc'd, one line
 * without newline) or NULL when none is due; *kind says which. */
char *pl_mcp_handle_text(pl_srv *s, pl_mcp_caller *who, const char *text, size_t len, pl_mcp_kind *kind);

/* POST /mcp: the same server over HTTP (stateless: every request may call tools). */
enum MHD_Result pl_srv_route_mcp(struct MHD_Connection *c, pl_req *r);

/* ---- tools (mcp_tools.c) ---- */
typedef struct pl_mcp_call {
	pl_srv *srv;
	const char *tenant;
	planar_conn *conn; /* a session of the lake (current database: the lake) */
	bool broken;       /* set by a tool that could not leave the session as it found it */
} pl_mcp_call;

/* The tools/list result ({"tools": [...]}). */
json_t *pl_mcp_tools_list(void);
/* Whether a tool of that name exists. */
bool pl_mcp_tool_exists(const char *name);
/* Runs a tool: 0 and *result (an object), or non-zero and *errmsg (malloc'd): a tool failure
 * the caller reports with isError. */
int pl_mcp_tool_call(pl_mcp_call *call, const char *name, json_t *args, json_t **result, char **errmsg);
/* Tool calls answered, for /metrics. */
void pl_mcp_metrics(pl_buf *b);

/* Helpers of the tools: a tool failure (printf-like with up to two strings; returns
 * PLANAR_EINVALID); a string / integer argument (absent: *out unchanged or NULL); a prepared
 * statement with text parameters (NULL: SQL NULL) run to JSON as pl_mcp_result_json; the most
 * rows a tool returns; a table argument resolved and checked against the caller's tenant scope
 * (its row predicate in *row_filter). */
int pl_mcp_tool_err(char **errmsg, const char *fmt, const char *a, const char *b);
int pl_mcp_arg_str(json_t *args, const char *k, bool required, const char **out, char **errmsg);
int pl_mcp_arg_int(json_t *args, const char *k, int64_t min, int64_t max, int64_t *out, char **errmsg);
int pl_mcp_run(planar_conn *conn, const char *sql, const char *const *params, size_t nparams, int64_t cap, bool objects,
	       json_t **out, char **errmsg);
int64_t pl_mcp_row_cap(pl_mcp_call *call);
int pl_mcp_scoped_table(pl_mcp_call *call, const char *name, char *sch, char *tbl, char **row_filter, char **errmsg);
/* The history tools (mcp_history.c). */
int pl_mcp_list_snapshots(pl_mcp_call *call, json_t *args, json_t **result, char **errmsg);
int pl_mcp_get_snapshot(pl_mcp_call *call, json_t *args, json_t **result, char **errmsg);
int pl_mcp_table_history(pl_mcp_call *call, json_t *args, json_t **result, char **errmsg);

/* ---- shared with the rest of the service ---- */
/* read_only: the lake is attached READ_ONLY and the service tables are not created (lake.c). */
int pl_srv_lake_open_mode(pl_srv_lake *l, const char *uri, const char *data_path, bool read_only, char **errmsg);
/* Appends the value at (col, row) of res's current chunk as JSON, typed as /data/query sends it
 * (type: the column's planar_result_column_type_id); and s as a JSON string (query.c). */
void pl_srv_put_value(pl_buf *b, planar_result *res, planar_type type, size_t col, size_t row);
void pl_srv_put_json_string(pl_buf *b, const char *s, size_t n);

/* ---- tenant scope (tenant.c) ---- */
/* Whether tenant (NULL: any) may read the lake table schema.table; when it may and the table
 * holds rows of several tenants (a tenant_id column), *row_filter is an SQL predicate keeping
 * only the tenant's rows (malloc'd; NULL when none applies). The one place the service decides
 * what a tenant sees of a table. */
int pl_srv_tenant_scope(pl_srv *s, planar_conn *conn, const char *tenant, const char *schema,
			const char *table, bool *allowed, char **row_filter, char **errmsg);

/* ---- lake tables (tenant.c) ---- */
/* Resolves "table" or "schema.table" to a table of the lake (case-insensitive): the names as
 * stored, in schema_out/table_out (PL_NAME_MAX + 1 bytes each). PLANAR_ENOTFOUND if none. */
int pl_srv_table_resolve(planar_conn *conn, const char *name, char *schema_out, char *table_out, char **errmsg);
/* The columns of a lake table: [{"name", "type", "nullable"}] in table order. */
int pl_srv_table_columns(planar_conn *conn, const char *schema, const char *table, json_t **out, char **errmsg);

/* ---- retrieval (retrieve.c) ---- */
typedef struct pl_retrieve_req {
	const char *query;
	int64_t top_k;
	const char *table;       /* NULL: every search index the tenant may read */
	const char *since, *until; /* time bounds (inclusive since, exclusive until) or NULL */
	const char *time_column; /* NULL: the table's time column (see retrieve.c) */
	const char *filter;      /* SQL predicate on the table's columns, or NULL */
	const char *mode;        /* hybrid, bm25, vector, or NULL */
	int64_t as_of;           /* lake snapshot, -1: current */
	const char *as_of_text;  /* or a timestamp / world-model snapshot id (policy.h), or NULL */
} pl_retrieve_req;

/* Runs a retrieval for tenant (NULL: any): *out is the array [{id, text, score, metadata,
 * table}] best first. On failure *kind is the error class and *errmsg the message. */
int pl_srv_retrieve(pl_srv *s, planar_conn *conn, const char *tenant, const pl_retrieve_req *q, json_t **out,
		    pl_srv_err *kind, char **errmsg);
enum MHD_Result pl_srv_route_retrieve(struct MHD_Connection *c, pl_req *r);

/* Rows of a streaming or materialized result as JSON (at most cap rows; *truncated when more
 * were left): {"columns": [{"name", "type"}], "rows": [[...]], "row_count", "truncated"}, or
 * with objects=true "rows": [{column: value}]. JSON columns are embedded as JSON. */
int pl_mcp_result_json(planar_result *res, int64_t cap, bool objects, json_t **out, char **errmsg);

#endif
