/*
 * mcp.c -- the Model Context Protocol server of a lake (JSON-RPC 2.0), shared by `planar mcp`
 * (newline-delimited messages on stdin/stdout) and POST /mcp of `planar serve`.
 *
 * Methods: initialize (protocolVersion, capabilities {tools}, serverInfo, instructions),
 * ping, tools/list, tools/call; notifications (notifications/initialized, .../cancelled) get no
 * answer. Protocol faults are JSON-RPC errors: -32700 the text is not JSON, -32600 not a
 * request (wrong jsonrpc, an id that is null or not a string/integer, a batch, a method that
 * is not a string, a request before initialize on stdio), -32601 unknown method, -32602 bad
 * params (not an object, missing tool name, unknown tool). A tool that fails answers a result
 * with isError true and the reason as text, so an agent can correct its call.
 *
 * Over HTTP (Streamable HTTP transport, stateless: no session id, every POST may call tools):
 * a request gets 200 and its JSON-RPC response as application/json; a notification or response
 * 202 without body; a body that is not a JSON-RPC message 400 with the JSON-RPC error; GET and
 * DELETE 405 (no server-sent stream). A MCP-Protocol-Version header must name a version this
 * server speaks; an Origin header must be this server's own (DNS rebinding).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/str.h"
#include "server/mcp.h"
#include "server/server.h"

#define MCP_ID_MAX 1024 /* longest string id accepted */

static const char *const versions[] = {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"};
#define NVERSIONS (sizeof versions / sizeof versions[0])

static bool version_known(const char *v)
{
	for (size_t i = 0; v && i < NVERSIONS; i++)
		if (strcmp(v, versions[i]) == 0)
			return true;
	return false;
}

static char *dump(json_t *msg)
{
	char *t = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
	json_decref(msg);
	return t;
}

/* Takes the reference of result. */
static char *reply_result(json_t *id, json_t *result)
{
	return dump(json_pack("{s:s,s:O,s:o}", "jsonrpc", "2.0", "id", id ? id : json_null(), "result",
			      result ? result : json_object()));
}

static char *reply_error(json_t *id, int code, const char *message, json_t *data)
{
	json_t *err = json_pack("{s:i,s:s}", "code", code, "message", message);
	if (err && data)
		json_object_set_new(err, "data", data);
	else
		json_decref(data);
	return dump(json_pack("{s:s,s:O,s:o}", "jsonrpc", "2.0", "id", id ? id : json_null(), "error",
			      err ? err : json_object()));
}

static json_t *initialize_result(pl_mcp_caller *who, const char *asked)
{
	snprintf(who->version, sizeof who->version, "%s", version_known(asked) ? asked : versions[0]);
	return json_pack("{s:s,s:{s:{s:b}},s:{s:s,s:s,s:s},s:s}", "protocolVersion", who->version, "capabilities",
			 "tools", "listChanged", 0, "serverInfo", "name", "planar", "title", "Planar lake",
			 "version", planar_version(), "instructions",
			 "Read-only access to a Planar lake (DuckLake tables). Start with list_tables; query runs one "
			 "SELECT; retrieve searches the lake's search indexes; list_snapshots/get_snapshot read "
			 "world-model snapshots; table_history shows a table's snapshots and row changes.");
}

static char *tools_call(pl_srv *s, pl_mcp_caller *who, json_t *id, json_t *params)
{
	json_t *nv = json_object_get(params, "name"), *args = json_object_get(params, "arguments");
	if (!json_is_string(nv))
		return reply_error(id, -32602, "Invalid params: tools/call needs the tool's \"name\" (a string)", NULL);
	const char *name = json_string_value(nv);
	if (!pl_mcp_tool_exists(name)) {
		pl_buf m = PL_BUF_INIT;
		pl_buf_puts(&m, "Unknown tool: ");
		pl_buf_put(&m, name, strnlen(name, 128));
		char *r = reply_error(id, -32602, pl_buf_cstr(&m), json_pack("{s:s}", "hint", "tools/list names the tools"));
		pl_buf_dispose(&m);
		return r;
	}
	snprintf(who->what, sizeof who->what, "tools/call %s", name);
	if (args && !json_is_null(args) && !json_is_object(args))
		return reply_error(id, -32602, "Invalid params: \"arguments\" must be an object", NULL);
	json_t *empty = NULL;
	if (!args || json_is_null(args))
		args = empty = json_object();
	planar_conn *conn = NULL;
	char *msg = NULL;
	json_t *result = NULL;
	int rc = pl_srv_conn_get(&s->lake, &conn, &msg);
	bool fired = false;
	if (rc == 0) {
		int watch = pl_srv_watch_add(s, conn, s->cfg.query_timeout_ms);
		pl_mcp_call call = {s, who->tenant, conn, false};
		rc = pl_mcp_tool_call(&call, name, args, &result, &msg);
		fired = pl_srv_watch_remove(s, watch);
		pl_srv_conn_put(&s->lake, conn, !fired && !call.broken);
	}
	json_decref(empty);
	json_t *res;
	if (rc) {
		const char *text = fired ? "the tool ran longer than its time limit" : msg ? msg : "the tool failed";
		res = json_pack("{s:[{s:s,s:s}],s:b}", "content", "type", "text", "text", text, "isError", 1);
		if (!res) /* a message that is not UTF-8 */
			res = json_pack("{s:[{s:s,s:s}],s:b}", "content", "type", "text", "text", "the tool failed", "isError", 1);
	} else {
		char *text = json_dumps(result, JSON_COMPACT);
		res = text ? json_pack("{s:[{s:s,s:s}],s:O,s:b}", "content", "type", "text", "text", text, "structuredContent",
				       result, "isError", 0)
			   : NULL;
		free(text);
	}
	free(msg);
	json_decref(result);
	if (!res)
		return reply_error(id, -32603, "Internal error: out of memory", NULL);
	return reply_result(id, res);
}

char *pl_mcp_handle_text(pl_srv *s, pl_mcp_caller *who, const char *text, size_t len, pl_mcp_kind *kind)
{
	*kind = PL_MCP_BAD_MESSAGE;
	who->what[0] = '\0';
	json_error_t jerr;
	json_t *msg = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!msg) /* valid JSON with an integer beyond 64 bits is still JSON: then not a valid request */
		msg = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, NULL);
	if (!msg)
		return reply_error(NULL, -32700, "Parse error: the message is not valid JSON (UTF-8)",
				   json_pack("{s:s,s:i}", "reason", jerr.text, "position", jerr.position));
	char *out = NULL;
	if (json_is_array(msg)) {
		out = reply_error(NULL, -32600, "Invalid Request: batches are not supported; send one message at a time", NULL);
		goto done;
	}
	if (!json_is_object(msg)) {
		out = reply_error(NULL, -32600, "Invalid Request: a message is a JSON object", NULL);
		goto done;
	}
	json_t *jv = json_object_get(msg, "jsonrpc"), *id = json_object_get(msg, "id"), *mv = json_object_get(msg, "method");
	json_t *params = json_object_get(msg, "params");
	if (!json_is_string(jv) || strcmp(json_string_value(jv), "2.0") != 0) {
		out = reply_error(NULL, -32600, "Invalid Request: \"jsonrpc\" must be \"2.0\"", NULL);
		goto done;
	}
	if (id && !(json_is_integer(id) || (json_is_string(id) && json_string_length(id) <= MCP_ID_MAX))) {
		out = reply_error(NULL, -32600,
				  "Invalid Request: \"id\" must be a string (at most 1024 bytes) or an integer (64 bits), "
				  "not null",
				  NULL);
		goto done;
	}
	if (!mv) {
		if (id && (json_object_get(msg, "result") || json_object_get(msg, "error"))) {
			*kind = PL_MCP_NO_REPLY; /* a response to a request this server never sends */
			goto done;
		}
		out = reply_error(id, -32600, "Invalid Request: \"method\" is missing", NULL);
		goto done;
	}
	if (!json_is_string(mv)) {
		out = reply_error(id, -32600, "Invalid Request: \"method\" must be a string", NULL);
		goto done;
	}
	const char *method = json_string_value(mv);
	snprintf(who->what, sizeof who->what, "%.60s", method);
	if (!id) { /* a notification: never answered */
		*kind = PL_MCP_NO_REPLY;
		goto done;
	}
	*kind = PL_MCP_REPLY;
	if (params && !json_is_object(params)) {
		out = reply_error(id, -32602, "Invalid params: \"params\" must be an object", NULL);
		goto done;
	}
	if (strcmp(method, "initialize") == 0) {
		json_t *pv = json_object_get(params, "protocolVersion");
		if (!json_is_string(pv)) {
			out = reply_error(id, -32602, "Invalid params: initialize needs \"protocolVersion\" (a string)", NULL);
			goto done;
		}
		if (who->stdio && who->initialized) {
			out = reply_error(id, -32600, "Invalid Request: the session is already initialized", NULL);
			goto done;
		}
		json_t *res = initialize_result(who, json_string_value(pv));
		who->initialized = true;
		out = reply_result(id, res);
		goto done;
	}
	if (strcmp(method, "ping") == 0) {
		out = reply_result(id, NULL);
		goto done;
	}
	bool tools_list = strcmp(method, "tools/list") == 0, call = strcmp(method, "tools/call") == 0;
	if (!tools_list && !call) {
		pl_buf m = PL_BUF_INIT;
		pl_buf_puts(&m, "Method not found: ");
		pl_buf_put(&m, method, strnlen(method, 128));
		out = reply_error(id, -32601, pl_buf_cstr(&m), NULL);
		pl_buf_dispose(&m);
		goto done;
	}
	if (who->stdio && !who->initialized) {
		out = reply_error(id, -32600, "Invalid Request: send initialize first", NULL);
		goto done;
	}
	if (tools_list) {
		json_t *res = pl_mcp_tools_list();
		out = reply_result(id, res);
	} else {
		out = tools_call(s, who, id, params);
	}
done:
	json_decref(msg);
	if (!out && *kind != PL_MCP_NO_REPLY)
		out = pl_strdup("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32603,\"message\":\"Internal error\"}}");
	return out;
}

/* ---------------------------------------------------------------------------------------------
 * POST /mcp
 * ------------------------------------------------------------------------------------------- */

static enum MHD_Result reply_text(struct MHD_Connection *c, pl_req *r, int status, char *text)
{
	size_t n = text ? strlen(text) : 0;
	struct MHD_Response *resp = MHD_create_response_from_buffer(n, text ? text : (void *)"",
								   text ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	if (text)
		MHD_add_response_header(resp, "Content-Type", "application/json");
	MHD_add_response_header(resp, "X-Request-Id", r->id);
	r->status = status;
	enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* An Origin header, when sent, must name this server (http or https, the Host header). */
static bool origin_ok(struct MHD_Connection *c)
{
	const char *o = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
	if (!o)
		return true;
	const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
	if (!host)
		return false;
	const char *rest = strncasecmp(o, "http://", 7) == 0 ? o + 7 : strncasecmp(o, "https://", 8) == 0 ? o + 8 : NULL;
	return rest && strcasecmp(rest, host) == 0;
}

enum MHD_Result pl_srv_route_mcp(struct MHD_Connection *c, pl_req *r)
{
	if (!origin_ok(c))
		return pl_srv_reply_error(c, r, PL_SRV_FORBIDDEN, "the Origin header does not name this server", NULL);
	if (!pl_srv_is_json(c))
		return pl_srv_reply_error(c, r, PL_SRV_MEDIA_TYPE,
					  "an MCP message is JSON (Content-Type: application/json)", NULL);
	const char *pv = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "MCP-Protocol-Version");
	if (pv && !version_known(pv))
		return pl_srv_reply_error(c, r, PL_SRV_BAD_REQUEST, "unsupported MCP-Protocol-Version",
					  json_pack("{s:s,s:[s,s,s,s]}", "version", pv, "supported", versions[0], versions[1],
						    versions[2], versions[3]));
	pl_mcp_caller who = {.tenant = r->role && strcmp(r->role, "admin") == 0 ? NULL : r->tenant_id};
	if (!who.tenant && (!r->role || strcmp(r->role, "admin") != 0))
		return pl_srv_reply_error(c, r, PL_SRV_FORBIDDEN, "this token has no tenant", NULL);
	pl_mcp_kind kind;
	char *out = pl_mcp_handle_text(r->srv, &who, r->body.ptr ? r->body.ptr : "", r->body.len, &kind);
	if (who.what[0]) {
		free(r->target);
		r->target = pl_strdup(who.what);
	}
	if (kind == PL_MCP_NO_REPLY) {
		free(out);
		return reply_text(c, r, 202, NULL);
	}
	if (kind == PL_MCP_BAD_MESSAGE)
		snprintf(r->error_code, sizeof r->error_code, "bad_request");
	return reply_text(c, r, kind == PL_MCP_BAD_MESSAGE ? 400 : 200, out);
}

/* ---------------------------------------------------------------------------------------------
 * `planar mcp`: the server on one lake, opened read-only
 * ------------------------------------------------------------------------------------------- */

struct pl_server_mcp {
	pl_srv *srv;
	pl_mcp_caller who;
	bool watching;
};

int pl_server_mcp_open(pl_server_mcp **out, const char *lake, const char *data_path, long long row_cap,
		       unsigned query_timeout_ms, char **errmsg)
{
	*out = NULL;
	*errmsg = NULL;
	pl_server_mcp *m = calloc(1, sizeof *m);
	if (m)
		m->srv = calloc(1, sizeof *m->srv);
	if (!m || !m->srv) {
		free(m);
		*errmsg = pl_strdup("out of memory");
		return PLANAR_ENOMEM;
	}
	m->srv->cfg.row_cap = row_cap > 0 ? row_cap : 100000;
	m->srv->cfg.query_timeout_ms = query_timeout_ms;
	m->who.stdio = true;
	int rc = pl_srv_lake_open_mode(&m->srv->lake, lake, data_path, true, errmsg);
	if (rc == 0 && pl_srv_watch_start(m->srv) != 0) {
		*errmsg = pl_strdup("cannot start the query watchdog");
		rc = PLANAR_ERROR;
	}
	m->watching = rc == 0;
	if (rc) {
		pl_server_mcp_close(m);
		return rc;
	}
	*out = m;
	return 0;
}

char *pl_server_mcp_handle(pl_server_mcp *m, const char *msg, size_t len)
{
	pl_mcp_kind kind;
	return pl_mcp_handle_text(m->srv, &m->who, msg, len, &kind);
}

void pl_server_mcp_close(pl_server_mcp *m)
{
	if (!m)
		return;
	if (m->watching)
		pl_srv_watch_stop(m->srv);
	pl_srv_lake_close(&m->srv->lake);
	free(m->srv);
	free(m);
}
