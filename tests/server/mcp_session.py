#!/usr/bin/env python3
"""The agents' interface end to end, as a scripted client over a fresh SQLite lake.

  tests/server/mcp_session.py PATH/TO/planar stdio     `planar mcp`: the MCP lifecycle, every tool,
                                                     hostile messages and queries, the lake untouched
  tests/server/mcp_session.py PATH/TO/planar http      `planar serve`: POST /mcp (tokens, tenants,
                                                     transport rules) and GET /data/retrieve's checks
  tests/server/mcp_session.py PATH/TO/planar retrieve  retrieval over real search indexes (HTTP and
                                                     MCP); exits 77 (skipped) when the lake has no search

Prints one line per failed check and a summary; exits 1 when a check failed.
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

planar = os.path.realpath(sys.argv[1])
mode = sys.argv[2] if len(sys.argv) > 2 else "stdio"
work = tempfile.mkdtemp(prefix="planar-mcp-")
lake_uri = "sqlite:" + os.path.join(work, "meta.sqlite")
data_path = os.path.join(work, "data") + "/"
passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL %s %s" % (name, str(detail)[:600]))


def sql(*stmts, ok=True):
    args = [planar, "-csv", "-noheader", "--lake", lake_uri, "--data-path", data_path]
    for s in stmts:
        args += ["-c", s]
    p = subprocess.run(args, capture_output=True, text=True, env=dict(os.environ, PLANAR_TEST_CATALOG_SQL="1"))
    if ok and p.returncode != 0:
        print("setup failed: %s\n%s" % (stmts, p.stderr))
        sys.exit(1)
    return p.stdout.strip()


def setup():
    sql(
        "CREATE TABLE notes(id BIGINT, body VARCHAR, kind VARCHAR, ts TIMESTAMP)",
        "INSERT INTO notes VALUES (1, 'gpu node torch-3 failed with out of memory', 'failure', '2026-11-01 10:00:00'),"
        " (2, 'navigation trial reached the goal', 'success', '2026-11-15 10:00:00'),"
        " (3, 'notebook job on torch.dev.gpu failed: CUDA error', 'failure', '2026-11-28 09:00:00')",
        "CREATE TABLE ev(id BIGINT, tenant_id VARCHAR, what VARCHAR)",
        "INSERT INTO ev VALUES (1, 't1', 'mine'), (2, 't2', 'theirs')",
        "CREATE SCHEMA world_model",
        'CREATE TABLE world_model.snapshots(snapshot_id VARCHAR, tenant_id VARCHAR, intent_id VARCHAR, '
        '"timestamp" TIMESTAMPTZ, agents_active JSON, user_plane JSON, causal_chain JSON, lake_snapshot_id BIGINT)',
        "INSERT INTO world_model.snapshots VALUES "
        "('s-1', 't1', 'intent-a', '2026-11-30 10:00:00+00', '[{\"role\":\"planner\",\"status\":\"active\",\"tool_call_count\":3}]',"
        " '{\"torch\":{\"jobs_in_flight\":2,\"gpu_util\":0.5}}', '[{\"intent_id\":\"intent-a\",\"job_id\":\"j1\",\"outcome\":\"ok\"}]', 5),"
        "('s-2', 't1', 'intent-b', '2026-12-01 10:00:00+00', '[]', '{}', '[]', 6),"
        "('s-3', 't2', 'intent-a', '2026-12-01 11:00:00+00', '[]', '{}', '[]', 7)",
        "DELETE FROM notes WHERE id = 2",
    )


def snapshot_count():
    return sql("SELECT count(*) FROM ducklake_snapshots('lake')")


# ---------------------------------------------------------------------------------------------
# A client of `planar mcp`
# ---------------------------------------------------------------------------------------------
class Stdio:
    def __init__(self, *extra):
        self.p = subprocess.Popen([planar, "mcp", "--lake", lake_uri, "--data-path", data_path] + list(extra),
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def send_raw(self, data):
        self.p.stdin.write(data if isinstance(data, bytes) else data.encode())
        self.p.stdin.write(b"\n")
        self.p.stdin.flush()

    def read(self):
        line = self.p.stdout.readline()
        if not line:
            return None
        return json.loads(line)

    def rpc(self, method, params=None, id=1):
        msg = {"jsonrpc": "2.0", "id": id, "method": method}
        if params is not None:
            msg["params"] = params
        self.send_raw(json.dumps(msg))
        return self.read()

    def raw(self, data):
        self.send_raw(data)
        return self.read()

    def notify(self, method, params=None):
        msg = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        self.send_raw(json.dumps(msg))

    def close(self):
        self.p.stdin.close()
        rest = self.p.stdout.read()
        rc = self.p.wait()
        return rc, rest

    def tool(self, name, args=None, id=7):
        params = {"name": name}
        if args is not None:
            params["arguments"] = args
        return self.rpc("tools/call", params, id)


def tool_ok(name, reply):
    """The structured result of a successful tools/call, checked for the MCP shape."""
    res = (reply or {}).get("result") or {}
    ok = res.get("isError") is False and isinstance(res.get("content"), list) and res["content"] \
        and res["content"][0].get("type") == "text"
    check(name, ok, reply)
    if not ok:
        return {}
    text = json.loads(res["content"][0]["text"])
    check(name + ": structuredContent is the text's JSON", text == res.get("structuredContent"), res)
    return text


def tool_err(name, reply, needle=""):
    res = (reply or {}).get("result") or {}
    text = (res.get("content") or [{}])[0].get("text", "")
    check(name, res.get("isError") is True and needle in text, reply)


def rpc_err(name, reply, code, id="any"):
    err = (reply or {}).get("error") or {}
    check(name, err.get("code") == code and (id == "any" or reply.get("id") == id), reply)


HOSTILE = [
    "INSERT INTO notes VALUES (9, 'x', 'y', NULL)", "DELETE FROM notes", "UPDATE notes SET body = 'x'",
    "DROP TABLE notes", "CREATE TABLE x AS SELECT 1", "ALTER TABLE notes ADD COLUMN z INT", "TRUNCATE notes",
    "COPY notes TO '%s/stolen.csv'" % work, "COPY (SELECT 1) TO '%s/stolen.csv'" % work,
    "EXPORT DATABASE '%s/exp'" % work, "ATTACH '%s/x.db' AS x" % work, "DETACH lake", "INSTALL httpfs",
    "LOAD httpfs", "SET threads = 1", "PRAGMA database_list", "CHECKPOINT", "BEGIN", "USE memory",
    "SELECT * FROM read_csv('/etc/passwd')", "SELECT * FROM read_text('/etc/passwd')", "SELECT * FROM '/etc/passwd'",
    "SELECT * FROM glob('/*')", "SELECT * FROM read_parquet('%s**/*.parquet')" % data_path,
    "SELECT getenv('HOME')", "SELECT current_setting('threads')", "SELECT * FROM duckdb_settings()",
    "SELECT * FROM duckdb_tables()", "SELECT * FROM information_schema.tables",
    "SELECT * FROM __ducklake_metadata_lake.ducklake_snapshot", "SELECT * FROM ducklake_snapshots('lake')",
    "SELECT * FROM lake.snapshots()", "SELECT * FROM __planar_cat('lake', 'SELECT 1')", "SELECT * FROM query('SELECT 1')",
    "SELECT 1; DROP TABLE notes", "SELECT 1; SELECT 2", "SELECT * FROM (SELECT 1) t, read_csv('/etc/passwd')",
    "SELECT (SELECT count(*) FROM read_csv('/etc/passwd'))", "SELECT list_transform([1], x -> getenv('HOME'))",
    "DESCRIBE notes", "SUMMARIZE notes", "SHOW TABLES", "EXPLAIN SELECT 1", "", "   ", "-- a comment",
    "SELECT * FROM memory.main.x", "SELECT * FROM system.main.duckdb_settings",
]


def run_stdio():
    setup()
    cat = os.path.join(work, "meta.sqlite")
    before = hashlib.sha256(open(cat, "rb").read()).hexdigest()
    snaps = snapshot_count()
    c = Stdio()
    # ---- lifecycle ----
    rpc_err("tools/list before initialize", c.rpc("tools/list", id=1), -32600, 1)
    r = c.rpc("ping", id="p0")
    check("ping before initialize", r == {"jsonrpc": "2.0", "id": "p0", "result": {}}, r)
    r = c.rpc("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                             "clientInfo": {"name": "test", "version": "1"}}, id=1)
    res = (r or {}).get("result", {})
    check("initialize: the version asked", res.get("protocolVersion") == "2025-06-18", r)
    check("initialize: tools capability", isinstance(res.get("capabilities", {}).get("tools"), dict), r)
    check("initialize: serverInfo", res.get("serverInfo", {}).get("name") == "planar"
          and isinstance(res.get("serverInfo", {}).get("version"), str), r)
    rpc_err("initialize twice", c.rpc("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                                      "clientInfo": {"name": "t", "version": "1"}}, id=2), -32600, 2)
    c.notify("notifications/initialized")
    c.notify("notifications/cancelled", {"requestId": 99})
    c.notify("no/such/notification")
    c.send_raw('{"jsonrpc":"2.0","id":77,"result":{}}')  # a response: never answered
    r = c.rpc("ping", id=3)
    check("notifications and responses get no reply", r == {"jsonrpc": "2.0", "id": 3, "result": {}}, r)
    # an unknown version gets the server's latest
    c2 = Stdio()
    r = c2.rpc("initialize", {"protocolVersion": "1999-01-01", "capabilities": {},
                              "clientInfo": {"name": "t", "version": "1"}})
    check("unknown version: the server's own", r.get("result", {}).get("protocolVersion") == "2025-11-25", r)
    rc, rest = c2.close()
    check("EOF ends planar mcp", rc == 0 and rest == b"", (rc, rest))

    # ---- tools/list ----
    r = c.rpc("tools/list", id=4)
    tools = {t["name"]: t for t in r.get("result", {}).get("tools", [])}
    want = {"list_tables", "describe_table", "query", "retrieve", "list_snapshots", "get_snapshot", "table_history"}
    check("tools/list names the tools", set(tools) == want, sorted(tools))
    for name, t in tools.items():
        s = t.get("inputSchema", {})
        check("inputSchema of " + name, s.get("type") == "object" and isinstance(s.get("properties"), dict)
              and isinstance(t.get("description"), str), t)
        check(name + " is read-only", t.get("annotations", {}).get("readOnlyHint") is True, t)
    check("query requires sql", tools["query"]["inputSchema"].get("required") == ["sql"], tools["query"])

    # ---- tables ----
    out = tool_ok("list_tables", c.tool("list_tables", {}))
    names = {t["name"]: t for t in out.get("tables", [])}
    check("list_tables: the lake's tables", set(names) == {"main.notes", "main.ev", "world_model.snapshots"}, names)
    check("list_tables: columns", [col["name"] for col in names.get("main.notes", {}).get("columns", [])]
          == ["id", "body", "kind", "ts"], names.get("main.notes"))
    out = tool_ok("list_tables schema", c.tool("list_tables", {"schema": "world_model"}))
    check("list_tables: one schema", [t["name"] for t in out.get("tables", [])] == ["world_model.snapshots"], out)
    out = tool_ok("describe_table", c.tool("describe_table", {"table": "notes"}))
    check("describe_table: rows", out.get("row_count") == 2 and out.get("name") == "main.notes", out)
    tool_err("describe_table unknown", c.tool("describe_table", {"table": "nope"}), "no table")
    tool_err("describe_table missing argument", c.tool("describe_table", {}), "required")

    # ---- query ----
    out = tool_ok("query", c.tool("query", {"sql": "SELECT id, body FROM notes ORDER BY id"}))
    check("query rows", out.get("rows") == [[1, "gpu node torch-3 failed with out of memory"],
                                            [3, "notebook job on torch.dev.gpu failed: CUDA error"]], out)
    check("query columns", [x["name"] for x in out.get("columns", [])] == ["id", "body"], out)
    out = tool_ok("query limit", c.tool("query", {"sql": "SELECT * FROM range(10)", "limit": 3}))
    check("query limit truncates", out.get("row_count") == 3 and out.get("truncated") is True, out)
    out = tool_ok("query WITH", c.tool("query", {"sql": "WITH a AS (SELECT count(*) n FROM notes) SELECT n FROM a"}))
    check("query WITH", out.get("rows") == [[2]], out)
    hist = sql("SELECT max(snapshot_id) FROM ducklake_snapshots('lake') WHERE snapshot_id < "
               "(SELECT max(snapshot_id) FROM ducklake_snapshots('lake'))")
    out = tool_ok("query as_of", c.tool("query", {"sql": "SELECT count(*) FROM notes", "as_of": int(hist)}))
    check("query as_of sees the deleted row", out.get("rows") == [[3]], out)
    out = tool_ok("query after as_of", c.tool("query", {"sql": "SELECT count(*) FROM notes"}))
    check("the session is back on the current lake", out.get("rows") == [[2]], out)
    tool_err("query as_of unknown snapshot", c.tool("query", {"sql": "SELECT 1", "as_of": 999999}))
    out = tool_ok("query as_of a timestamp", c.tool("query", {"sql": "SELECT count(*) FROM notes",
                                                              "as_of": "2999-01-01T00:00:00Z"}))
    check("as_of a timestamp: the last snapshot before it", out.get("rows") == [[2]], out)
    tool_err("query as_of neither id nor time", c.tool("query", {"sql": "SELECT 1", "as_of": "whenever"}))
    for i, q in enumerate(HOSTILE):
        tool_err("hostile query refused: %r" % q, c.tool("query", {"sql": q}, id=1000 + i))
    tool_err("query: unknown argument", c.tool("query", {"sql": "SELECT 1", "db": "x"}), "unknown argument")
    tool_err("query: sql not a string", c.tool("query", {"sql": 5}), "must be a string")
    tool_err("query: limit not an integer", c.tool("query", {"sql": "SELECT 1", "limit": "5"}), "integer")
    tool_err("query: negative limit", c.tool("query", {"sql": "SELECT 1", "limit": -1}), "integer")

    # ---- world-model snapshots (stdio reads every tenant) ----
    out = tool_ok("list_snapshots", c.tool("list_snapshots", {}))
    check("list_snapshots newest first", [s["snapshot_id"] for s in out.get("snapshots", [])] == ["s-3", "s-2", "s-1"], out)
    out = tool_ok("list_snapshots intent", c.tool("list_snapshots", {"intent_id": "intent-a"}))
    check("list_snapshots by intent", [s["snapshot_id"] for s in out.get("snapshots", [])] == ["s-3", "s-1"], out)
    out = tool_ok("list_snapshots range", c.tool("list_snapshots", {"from": "2026-12-01T00:00:00Z",
                                                                    "to": "2026-12-01T10:30:00Z"}))
    check("list_snapshots by time", [s["snapshot_id"] for s in out.get("snapshots", [])] == ["s-2"], out)
    out = tool_ok("list_snapshots limit", c.tool("list_snapshots", {"limit": 1}))
    check("list_snapshots limit", len(out.get("snapshots", [])) == 1 and out.get("truncated") is True, out)
    tool_err("list_snapshots bad time", c.tool("list_snapshots", {"from": "last tuesday"}), "timestamp")
    tool_err("list_snapshots injection in intent", c.tool("list_snapshots", {"intent_id": 5}), "string")
    out = tool_ok("list_snapshots quote in intent", c.tool("list_snapshots", {"intent_id": "x' OR '1'='1"}))
    check("intent_id is a value, never SQL", out.get("snapshots") == [], out)
    out = tool_ok("get_snapshot", c.tool("get_snapshot", {"snapshot_id": "s-1"}))
    check("get_snapshot JSON fields", out.get("agents_active") == [{"role": "planner", "status": "active",
                                                                     "tool_call_count": 3}]
          and out.get("user_plane", {}).get("torch", {}).get("jobs_in_flight") == 2
          and out.get("causal_chain", [{}])[0].get("job_id") == "j1" and out.get("lake_snapshot_id") == 5
          and out.get("timestamp") == "2026-11-30T10:00:00Z", out)
    tool_err("get_snapshot unknown", c.tool("get_snapshot", {"snapshot_id": "nope"}), "no world-model snapshot")

    # ---- table history ----
    out = tool_ok("table_history", c.tool("table_history", {"table": "notes"}))
    kinds = [list(s["changes"].keys()) for s in out.get("snapshots", [])]
    check("table_history: create, insert, delete", len(kinds) == 3 and "tables_created" in kinds[-1], kinds)
    feed = out.get("changes", {}).get("rows", [])
    check("table_history: the change feed", sorted(r["change_type"] for r in feed) == ["delete", "insert", "insert", "insert"], feed)
    out = tool_ok("table_history without changes", c.tool("table_history", {"table": "notes", "changes": False}))
    check("table_history changes=false", "changes" not in out and len(out.get("snapshots", [])) == 3, out)
    out = tool_ok("table_history of another schema", c.tool("table_history", {"table": "world_model.snapshots"}))
    check("table_history of another schema", len(out.get("snapshots", [])) == 2
          and [r["change_type"] for r in out.get("changes", {}).get("rows", [])] == ["insert"] * 3, out)
    tool_err("table_history unknown table", c.tool("table_history", {"table": "nope"}), "no table")
    tool_err("table_history bad bound", c.tool("table_history", {"table": "notes", "from_snapshot": -4}), "integer")

    # ---- retrieve: its checks before any search ----
    tool_err("retrieve without query", c.tool("retrieve", {}), "required")
    tool_err("retrieve top_k 0", c.tool("retrieve", {"query": "x", "top_k": 0}), "top_k")
    tool_err("retrieve filter with ;", c.tool("retrieve", {"query": "x", "table": "notes", "filter": "1=1; DROP TABLE notes"}), ";")
    tool_err("retrieve filter comment", c.tool("retrieve", {"query": "x", "table": "notes", "filter": "1=1 --"}), "comment")
    tool_err("retrieve filter parens", c.tool("retrieve", {"query": "x", "table": "notes", "filter": "1=1) OR (1=1"}), "parenthes")
    tool_err("retrieve filter reads a file", c.tool("retrieve", {"query": "x", "table": "notes",
                                                                  "filter": "body IN (SELECT * FROM read_text('/etc/passwd'))"}), "not allowed")
    tool_err("retrieve filter getenv", c.tool("retrieve", {"query": "x", "table": "notes", "filter": "getenv('HOME') = body"}), "not allowed")
    tool_err("retrieve since without a time column", c.tool("retrieve", {"query": "x", "table": "ev", "since": "2026-01-01"}), "time column")
    tool_err("retrieve bad since", c.tool("retrieve", {"query": "x", "table": "notes", "since": "soon"}), "timestamp")
    tool_err("retrieve unknown table", c.tool("retrieve", {"query": "x", "table": "nope"}), "no table")
    tool_err("retrieve bad mode", c.tool("retrieve", {"query": "x", "mode": "magic"}), "mode")

    # ---- protocol faults ----
    rpc_err("unknown tool", c.tool("drop_everything", {}), -32602)
    rpc_err("tools/call without name", c.rpc("tools/call", {"arguments": {}}, id=8), -32602, 8)
    rpc_err("arguments not an object", c.rpc("tools/call", {"name": "query", "arguments": [1]}, id=9), -32602, 9)
    rpc_err("params not an object", c.rpc("tools/list", [1, 2], id=10), -32602, 10)
    rpc_err("unknown method", c.rpc("resources/list", {}, id=11), -32601, 11)
    rpc_err("not JSON", c.raw("garbage"), -32700, None)
    rpc_err("truncated JSON", c.raw('{"jsonrpc":"2.0","id":1,"method":"ping"'), -32700, None)
    rpc_err("invalid UTF-8", c.raw(b'{"jsonrpc":"2.0","id":1,"method":"p\xff\xfeing"}'), -32700, None)
    rpc_err("NUL byte", c.raw(b'{"jsonrpc":"2.0","id":1,\x00"method":"ping"}'), -32700, None)
    rpc_err("batch", c.raw('[{"jsonrpc":"2.0","id":1,"method":"ping"}]'), -32600, None)
    rpc_err("empty batch", c.raw("[]"), -32600, None)
    rpc_err("a number", c.raw("42"), -32600, None)
    rpc_err("empty object", c.raw("{}"), -32600, None)
    rpc_err("jsonrpc 1.0", c.raw('{"jsonrpc":"1.0","id":1,"method":"ping"}'), -32600, None)
    rpc_err("id null", c.raw('{"jsonrpc":"2.0","id":null,"method":"ping"}'), -32600, None)
    rpc_err("id fraction", c.raw('{"jsonrpc":"2.0","id":1.5,"method":"ping"}'), -32600, None)
    rpc_err("id object", c.raw('{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}'), -32600, None)
    rpc_err("huge integer id", c.raw('{"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"ping"}'), -32600, None)
    rpc_err("huge string id", c.raw(json.dumps({"jsonrpc": "2.0", "id": "x" * 5000, "method": "ping"})), -32600, None)
    r = c.raw('{"jsonrpc":"2.0","id":9223372036854775807,"method":"ping"}')
    check("largest integer id echoed", r == {"jsonrpc": "2.0", "id": 9223372036854775807, "result": {}}, r)
    r = c.raw('{"jsonrpc":"2.0","id":"a\\"b\\u00e9","method":"ping"}')
    check("string id echoed", r == {"jsonrpc": "2.0", "id": 'a"b\u00e9', "result": {}}, r)
    rpc_err("method not a string", c.raw('{"jsonrpc":"2.0","id":5,"method":7}'), -32600, 5)
    rpc_err("duplicate keys", c.raw('{"jsonrpc":"2.0","id":5,"id":6,"method":"ping"}'), -32700, None)
    c.send_raw("")
    c.send_raw("   ")
    r = c.rpc("ping", id=12)
    check("blank lines are ignored", r == {"jsonrpc": "2.0", "id": 12, "result": {}}, r)
    deep = "[" * 100000 + "]" * 100000
    r = c.raw(deep)
    check("deeply nested input is refused", (r or {}).get("error", {}).get("code") in (-32700, -32600), r)
    rc, rest = c.close()
    check("planar mcp exits cleanly", rc == 0 and rest == b"", (rc, rest))
    err = c.p.stderr.read().decode(errors="replace")
    check("no stderr noise", err == "", err)

    # a message over --max-message, then the session goes on
    c3 = Stdio("--max-message", "4096")
    c3.rpc("initialize", {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}})
    rpc_err("message over the limit", c3.raw(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping",
                                                         "params": {"pad": "x" * 10000}})), -32600, None)
    r = c3.rpc("ping", id=2)
    check("session goes on after a long message", r == {"jsonrpc": "2.0", "id": 2, "result": {}}, r)
    check("exits cleanly after a long message", c3.close() == (0, b""))
    # the time limit interrupts a long query; the next call works
    c4 = Stdio("--query-timeout-ms", "300")
    c4.rpc("initialize", {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}})
    tool_err("time limit", c4.tool("query", {"sql": "SELECT sum(x) FROM range(1000000000000) r(x)"}), "time limit")
    out = tool_ok("after the time limit", c4.tool("query", {"sql": "SELECT 42"}))
    check("after the time limit", out.get("rows") == [[42]], out)
    check("exits cleanly after a time limit", c4.close() == (0, b""))
    err = c4.p.stderr.read().decode(errors="replace")
    check("no stderr noise after a time limit", err == "", err)

    p = subprocess.run([planar, "mcp"], capture_output=True, text=True)
    check("planar mcp needs --lake", p.returncode == 2 and "--lake" in p.stderr, p.stderr)
    p = subprocess.run([planar, "mcp", "--lake", "sqlite:" + work + "/none/x.sqlite"], capture_output=True, text=True,
                       input="")
    check("a lake that cannot open", p.returncode == 1 and p.stdout == "", (p.returncode, p.stdout, p.stderr))
    after = hashlib.sha256(open(cat, "rb").read()).hexdigest()
    check("the catalog file is unchanged (read-only)", before == after)
    check("no snapshot was made", snapshot_count() == snaps, snapshot_count())
    check("no file written by hostile queries", not any(re.search("stolen|exp|x.db", f) for f in os.listdir(work)),
          os.listdir(work))


# ---------------------------------------------------------------------------------------------
# HTTP: POST /mcp and GET /data/retrieve
# ---------------------------------------------------------------------------------------------
class Server:
    def __init__(self):
        self.log = open(os.path.join(work, "serve.log"), "w+")
        self.p = subprocess.Popen([planar, "serve", "--lake", lake_uri, "--data-path", data_path, "--listen",
                                   "127.0.0.1:0", "--audit-flush-ms", "50"], stderr=self.log)
        self.port = None
        for _ in range(400):
            self.log.seek(0)
            m = re.search(r'"event":"listening".*"port":(\d+)', self.log.read())
            if m:
                self.port = int(m.group(1))
                break
            if self.p.poll() is not None:
                break
            time.sleep(0.05)
        if not self.port:
            self.log.seek(0)
            print("server did not start:\n" + self.log.read())
            sys.exit(1)

    def req(self, method, path, token=None, body=None, headers=None, ctype="application/json"):
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else (body if isinstance(body, str) else json.dumps(body)).encode()
            if ctype:
                h["Content-Type"] = ctype
        r = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path), data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(r) as resp:
                return resp.status, resp.read().decode(), resp.headers
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(), e.headers

    def mcp(self, token, msg, headers=None):
        code, body, _ = self.req("POST", "/mcp", token, msg, headers)
        try:
            return code, json.loads(body) if body else None
        except ValueError:
            return code, body

    def stop(self):
        self.p.terminate()
        rc = self.p.wait()
        self.log.seek(0)
        log = self.log.read()
        check("the server stops cleanly", rc == 0 and "Sanitizer" not in log, (rc, log[-2000:]))


def token(*args):
    p = subprocess.run([planar, "token", "create", "--lake", lake_uri] + list(args), capture_output=True, text=True)
    return p.stdout.strip().splitlines()[-1]


def call(name, args, id=1):
    return {"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": name, "arguments": args}}


def retrieve_get(srv, tok, **params):
    q = urllib.parse.urlencode(params)
    code, body, _ = srv.req("GET", "/data/retrieve?" + q, tok)
    try:
        return code, json.loads(body)
    except ValueError:
        return code, body


def run_http():
    setup()
    t1, t2, ad = token("--tenant", "t1", "--role", "reader"), token("--tenant", "t2", "--role", "writer"), token("--role", "admin")
    srv = Server()
    try:
        init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
        code, r = srv.mcp(t1, init)
        check("POST /mcp initialize", code == 200 and r.get("result", {}).get("protocolVersion") == "2025-11-25", (code, r))
        code, body, _ = srv.req("POST", "/mcp", t1, {"jsonrpc": "2.0", "method": "notifications/initialized"})
        check("notification: 202 without body", code == 202 and body == "", (code, body))
        code, r = srv.mcp(t1, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
        check("tools/list over HTTP", code == 200 and len(r.get("result", {}).get("tools", [])) == 7, (code, r))
        code, r = srv.mcp(None, init)
        check("no token: 401", code == 401, (code, r))
        code, r = srv.mcp("plt_nope", init)
        check("unknown token: 401", code == 401, (code, r))
        code, body, _ = srv.req("GET", "/mcp", t1)
        check("GET /mcp: 405", code == 405, (code, body))
        code, body, _ = srv.req("DELETE", "/mcp", t1)
        check("DELETE /mcp: 405", code == 405, (code, body))
        code, body, _ = srv.req("POST", "/mcp", t1, json.dumps(init), ctype="text/plain")
        check("not JSON content type: 415", code == 415, (code, body))
        code, r = srv.mcp(t1, init, {"MCP-Protocol-Version": "2020-01-01"})
        check("unknown MCP-Protocol-Version: 400", code == 400, (code, r))
        code, r = srv.mcp(t1, init, {"MCP-Protocol-Version": "2025-06-18"})
        check("known MCP-Protocol-Version", code == 200, (code, r))
        code, r = srv.mcp(t1, init, {"Origin": "http://evil.example"})
        check("foreign Origin: 403", code == 403, (code, r))
        code, r = srv.mcp(t1, init, {"Origin": "http://127.0.0.1:%d" % srv.port})
        check("own Origin", code == 200, (code, r))
        code, r = srv.mcp(t1, "{not json")
        check("parse error: 400 with -32700", code == 400 and r.get("error", {}).get("code") == -32700, (code, r))
        code, r = srv.mcp(t1, "[]")
        check("batch: 400 with -32600", code == 400 and r.get("error", {}).get("code") == -32600, (code, r))
        code, r = srv.mcp(t1, {"jsonrpc": "2.0", "id": 3, "method": "nope"})
        check("unknown method: -32601", code == 200 and r.get("error", {}).get("code") == -32601 and r.get("id") == 3, (code, r))
        code, r = srv.mcp(t1, call("no_such_tool", {}))
        check("unknown tool: -32602", r.get("error", {}).get("code") == -32602, (code, r))

        # tenants: each sees its own world-model snapshots and rows
        code, r = srv.mcp(t1, call("list_snapshots", {}))
        out = r.get("result", {}).get("structuredContent", {})
        check("t1 sees its snapshots", [s["snapshot_id"] for s in out.get("snapshots", [])] == ["s-2", "s-1"], r)
        code, r = srv.mcp(t2, call("list_snapshots", {}))
        out = r.get("result", {}).get("structuredContent", {})
        check("t2 sees its snapshots", [s["snapshot_id"] for s in out.get("snapshots", [])] == ["s-3"], r)
        code, r = srv.mcp(ad, call("list_snapshots", {}))
        out = r.get("result", {}).get("structuredContent", {})
        check("admin sees every snapshot", len(out.get("snapshots", [])) == 3, r)
        code, r = srv.mcp(t2, call("get_snapshot", {"snapshot_id": "s-1"}))
        tool_err("another tenant's snapshot is invisible", r, "no world-model snapshot")
        code, r = srv.mcp(t1, call("get_snapshot", {"snapshot_id": "s-1"}))
        check("own snapshot", r.get("result", {}).get("structuredContent", {}).get("intent_id") == "intent-a", r)
        rows = lambda r: r.get("result", {}).get("structuredContent", {}).get("rows")
        code, r = srv.mcp(t1, call("query", {"sql": "SELECT snapshot_id FROM world_model.snapshots ORDER BY 1"}))
        check("SQL over a shared table reads the tenant's rows", rows(r) == [["s-1"], ["s-2"]], r)
        code, r = srv.mcp(t1, call("query", {"sql": "SELECT count(*) FROM lake.world_model.snapshots"}))
        check("SQL over a shared table, catalog-qualified", rows(r) == [[2]], r)
        code, r = srv.mcp(t1, call("query", {"sql": "WITH x AS (SELECT * FROM ev) SELECT what FROM x"}))
        check("SQL over a shared table in a CTE", rows(r) == [["mine"]], r)
        code, r = srv.mcp(t1, call("query", {"sql": "SELECT what FROM ev WHERE tenant_id = 't2' OR true"}))
        check("a WHERE cannot widen the tenant's rows", rows(r) == [["mine"]], r)
        code, r = srv.mcp(t1, call("query", {"sql": "SELECT count(*) FROM notes"}))
        check("SQL over an unshared table", r.get("result", {}).get("structuredContent", {}).get("rows") == [[2]], r)
        code, r = srv.mcp(ad, call("query", {"sql": "SELECT count(*) FROM world_model.snapshots"}))
        check("admin SQL over a shared table", r.get("result", {}).get("structuredContent", {}).get("rows") == [[3]], r)
        code, r = srv.mcp(t1, call("describe_table", {"table": "ev"}))
        out = r.get("result", {}).get("structuredContent", {})
        check("describe_table counts the tenant's rows", out.get("row_count") == 1 and out.get("tenant_rows_only") is True, r)
        code, r = srv.mcp(t2, call("table_history", {"table": "ev"}))
        rows = r.get("result", {}).get("structuredContent", {}).get("changes", {}).get("rows", [])
        check("table_history shows the tenant's rows only", [x.get("what") for x in rows] == ["theirs"], r)
        code, r = srv.mcp(t1, call("query", {"sql": "COPY notes TO '%s/stolen.csv'" % work}))
        tool_err("COPY over HTTP MCP", r)
        code, r = srv.mcp(t1, call("query", {"sql": "SELECT * FROM read_csv('/etc/passwd')"}))
        tool_err("file read over HTTP MCP", r)
        code, r = srv.mcp(t1, call("query", {"sql": "INSERT INTO notes VALUES (5, 'x', 'y', NULL)"}))
        tool_err("write over HTTP MCP", r)

        # GET /data/retrieve: parameters, tenants, hostile filters (before any search runs)
        code, body, _ = srv.req("GET", "/data/retrieve?query=x", None)
        check("retrieve: no token", code == 401, (code, body))
        code, r = retrieve_get(srv, t1)
        check("retrieve: query required", code == 400, (code, r))
        for bad in ({"top_k": "0"}, {"top_k": "abc"}, {"top_k": "1001"}, {"as_of": "-1"}, {"mode": "magic"},
                    {"table": "notes", "filter": "1=1; DROP TABLE notes"}, {"table": "notes", "filter": "1=1 /* x */"},
                    {"table": "notes", "filter": "(1=1"}, {"table": "notes", "filter": "getenv('HOME') = body"},
                    {"table": "notes", "filter": "body IN (SELECT content FROM read_text('/etc/passwd'))"},
                    {"table": "notes", "filter": "id IN (SELECT snapshot_id FROM ducklake_snapshots('lake'))"},
                    {"table": "notes", "since": "not a time"}, {"table": "ev", "since": "2026-01-01"},
                    {"table": "notes", "time_column": "body", "since": "2026-01-01"}):
            code, r = retrieve_get(srv, t1, query="x", **bad)
            check("retrieve refuses %s" % bad, code == 400 and "error" in r, (code, r))
        code, r = retrieve_get(srv, t1, query="x", tenant_id="t2")
        check("retrieve for another tenant: 403", code == 403, (code, r))
        code, r = retrieve_get(srv, t1, query="x", table="nope")
        check("retrieve unknown table: 404", code == 404, (code, r))
        code, body, _ = srv.req("PUT", "/data/retrieve?query=x", t1)
        check("retrieve PUT: 405", code == 405, (code, body))
        code, body, _ = srv.req("POST", "/data/retrieve", t1, {"query": 5})
        check("retrieve POST with a non-string query: 400", code == 400, (code, body))

        # a snapshot stored by POST /data/snapshots is what the snapshot tools read
        wm, iz = "0193a8c4-1111-7000-8000-00000000abcd", "0193a8c4-2222-7000-8000-00000000abcd"
        code, body, _ = srv.req("POST", "/data/snapshots", t2, {
            "snapshot_id": wm, "intent_id": iz, "timestamp": "2026-12-01T12:00:00Z",
            "agents_active": [{"role": "executor", "status": "running", "tool_call_count": 1}],
            "user_plane": {"torch": {"jobs_in_flight": 1, "gpu_util": 0.25}}, "causal_chain": []})
        check("POST /data/snapshots", code == 201, (code, body))
        code, r = srv.mcp(t2, call("get_snapshot", {"snapshot_id": wm}))
        out = r.get("result", {}).get("structuredContent", {})
        check("get_snapshot reads a posted snapshot", out.get("intent_id") == iz
              and out.get("agents_active", [{}])[0].get("role") == "executor"
              and isinstance(out.get("lake_snapshot_id"), int), r)
        code, r = srv.mcp(t2, call("list_snapshots", {"intent_id": iz}))
        check("list_snapshots finds it", [x["snapshot_id"] for x in r.get("result", {}).get("structuredContent", {})
                                          .get("snapshots", [])] == [wm], r)
        code, r = srv.mcp(t1, call("get_snapshot", {"snapshot_id": wm}))
        tool_err("another tenant cannot read it", r, "no world-model snapshot")
        code, r = srv.mcp(t2, call("query", {"sql": "SELECT count(*) FROM notes", "as_of": wm}))
        check("query as_of a world-model snapshot", r.get("result", {}).get("structuredContent", {}).get("rows") == [[2]], r)
        code, r = srv.mcp(t1, call("query", {"sql": "SELECT count(*) FROM notes", "as_of": wm}))
        tool_err("as_of another tenant's world-model snapshot", r)

        # a tenant policy's allowed_tables (PUT /data/policy) limits every tool
        code, body, _ = srv.req("PUT", "/data/policy", ad, {"tenant_id": "t1", "allowed_tables": ["main.notes",
                                                                                             "world_model.snapshots"]})
        check("PUT /data/policy", code == 200, (code, body))
        code, r = srv.mcp(t1, call("list_tables", {}))
        names = {t["name"] for t in r.get("result", {}).get("structuredContent", {}).get("tables", [])}
        check("list_tables shows the allowed tables only", names == {"main.notes", "world_model.snapshots"}, names)
        code, r = srv.mcp(t1, call("describe_table", {"table": "ev"}))
        tool_err("describe_table of a table the policy does not allow", r, "no table")
        code, r = srv.mcp(t1, call("table_history", {"table": "ev"}))
        tool_err("table_history of a table the policy does not allow", r, "no table")
        code, r = srv.mcp(t1, call("query", {"sql": "SELECT count(*) FROM ev"}))
        tool_err("query of a table the policy does not allow", r, "not")
        code, r = retrieve_get(srv, t1, query="x", table="ev")
        check("retrieve of a table the policy does not allow: 404, as if it did not exist", code == 404, (code, r))
        code, r = srv.mcp(t1, call("list_snapshots", {}))
        check("allowed snapshots still readable", len(r.get("result", {}).get("structuredContent", {})
                                                      .get("snapshots", [])) == 2, r)
        code, r = srv.mcp(t2, call("describe_table", {"table": "ev"}))
        check("another tenant's policy is its own", r.get("result", {}).get("isError") is False, r)

        code, body, _ = srv.req("GET", "/openapi.json")
        doc = json.loads(body)
        check("openapi documents /data/retrieve and /mcp", "/data/retrieve" in doc.get("paths", {})
              and "post" in doc["paths"].get("/mcp", {}), sorted(doc.get("paths", {})))
        code, body, _ = srv.req("GET", "/metrics")
        check("metrics: mcp route", 'route="mcp",status="200"' in body, body[:300])
        check("metrics: retrieve route", 'route="retrieve",status="400"' in body, body[:300])
        check("metrics: tool calls", re.search(r'planar_serve_mcp_tool_calls_total\{outcome="ok"\} [1-9]', body), body[-500:])
    finally:
        srv.stop()
    check("no file written", not any(re.search("stolen", f) for f in os.listdir(work)), os.listdir(work))
    audit = sql("SELECT count(*) FROM __planar_cat('lake', 'SELECT * FROM planar_service_audit WHERE route = ''mcp''')",
                ok=False)
    check("MCP requests are audited", audit.isdigit() and int(audit) > 0, audit)


# ---------------------------------------------------------------------------------------------
# Retrieval over real search indexes
# ---------------------------------------------------------------------------------------------
def run_retrieve():
    setup()
    probe = subprocess.run([planar, "-csv", "--lake", lake_uri, "--data-path", data_path, "-c",
                            "FROM lake.search_indexes()"], capture_output=True, text=True)
    if probe.returncode != 0:
        print("this planar has no search indexes (lake.search_indexes()): skipped")
        sys.exit(77)
    sql("CREATE TABLE docs(id VARCHAR, tenant_id VARCHAR, body VARCHAR, topic VARCHAR, created_at TIMESTAMP)",
        "INSERT INTO docs VALUES ('d1', 't1', 'notebook job on torch.dev.gpu failed with CUDA out of memory', 'jobs', '2026-11-20 10:00:00'),"
        " ('d2', 't1', 'navigation trial in the maze reached the goal', 'nav', '2026-11-25 10:00:00'),"
        " ('d3', 't2', 'notebook job failed on torch.dev.gpu last week', 'jobs', '2026-11-27 10:00:00'),"
        " ('d4', 't1', 'training run finished; checkpoint saved', 'jobs', '2026-11-29 10:00:00')",
        "CALL lake.create_search_index('main.docs', text_column => 'body', id_column => 'id', metadata_columns => ['topic'])",
        "CALL lake.create_search_index('main.notes', text_column => 'body', id_column => 'id', metadata_columns => ['kind'])")
    before = sql("SELECT max(snapshot_id) FROM ducklake_snapshots('lake')")
    sql("INSERT INTO docs VALUES ('d5', 't1', 'notebook job failed again on torch.dev.gpu', 'jobs', '2026-11-30 10:00:00')")
    # planar mcp: retrieval on the lake opened read-only leaves the catalog as it was
    cat = os.path.join(work, "meta.sqlite")
    before_hash = hashlib.sha256(open(cat, "rb").read()).hexdigest()
    c = Stdio()
    c.rpc("initialize", {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}})
    out = tool_ok("stdio retrieve", c.tool("retrieve", {"query": "notebook job failed on torch.dev.gpu", "top_k": 3}))
    ids = [x.get("id") for x in out.get("results", [])]
    check("stdio retrieve: every tenant, every index", len(ids) == 3 and "d3" in ids, out)
    check("stdio session ends cleanly", c.close() == (0, b""))
    check("stdio retrieve leaves the catalog file unchanged",
          hashlib.sha256(open(cat, "rb").read()).hexdigest() == before_hash)
    t1, t2, ad = token("--tenant", "t1", "--role", "reader"), token("--tenant", "t2", "--role", "reader"), token("--role", "admin")
    srv = Server()
    try:
        code, r = retrieve_get(srv, t1, query="notebook jobs that failed on torch.dev.gpu", top_k="3", table="docs")
        check("retrieve: 200 and a list", code == 200 and isinstance(r, list), (code, r))
        ids = [x.get("id") for x in r] if isinstance(r, list) else []
        check("retrieve: the failed notebook jobs first", ids[:2] and set(ids[:2]) <= {"d1", "d5"}, r)
        check("retrieve: another tenant's rows are invisible", "d3" not in ids, r)
        check("retrieve: shape", all(set(x) >= {"id", "text", "score", "metadata"} for x in r), r)
        check("retrieve: best first", all(r[i]["score"] >= r[i + 1]["score"] for i in range(len(r) - 1)), r)
        check("retrieve: metadata", r and r[0].get("metadata", {}).get("topic") == "jobs", r)
        code, r = retrieve_get(srv, t2, query="notebook job failed", table="docs")
        check("t2 sees its row", code == 200 and [x["id"] for x in r] == ["d3"], (code, r))
        code, r = retrieve_get(srv, ad, query="notebook job failed", table="docs", top_k="10")
        check("admin sees every tenant", code == 200 and {"d1", "d3", "d5"} <= {x["id"] for x in r}, (code, r))
        code, r = retrieve_get(srv, t1, query="notebook job failed", table="docs", top_k="1")
        check("top_k", code == 200 and len(r) == 1, (code, r))
        code, r = retrieve_get(srv, t1, query="notebook job failed", table="docs", since="2026-11-25", until="2026-11-30")
        check("since/until on the time column", code == 200 and {x["id"] for x in r} == {"d2", "d4"}, (code, r))
        code, r = retrieve_get(srv, t1, query="notebook job failed", table="docs", since="2026-11-30")
        check("since", code == 200 and [x["id"] for x in r] == ["d5"], (code, r))
        code, r = retrieve_get(srv, t1, query="job", table="docs", filter="topic = 'jobs' AND id <> 'd4'")
        check("filter", code == 200 and {x["id"] for x in r} == {"d1", "d5"}, (code, r))
        code, r = retrieve_get(srv, t1, query="notebook job failed", table="docs", as_of=before)
        check("as_of: before d5", code == 200 and "d5" not in [x["id"] for x in r] and "d1" in [x["id"] for x in r], (code, r))
        code, r = retrieve_get(srv, t1, query="notebook job failed", table="docs", as_of="2999-01-01T00:00:00Z")
        check("as_of a timestamp", code == 200 and "d5" in [x["id"] for x in r], (code, r))
        code, r = retrieve_get(srv, t1, query="notebook job failed", table="docs", as_of="someday")
        check("as_of neither id nor time", code in (400, 404), (code, r))
        code, r = retrieve_get(srv, t1, query="notebook job failed", table="docs", mode="bm25")
        check("mode bm25", code == 200 and r and r[0]["id"] in ("d1", "d5"), (code, r))
        code, r = retrieve_get(srv, t1, query="failed CUDA out of memory gpu", top_k="10")
        tables = {x.get("table") for x in r} if code == 200 else set()
        check("every index, merged by score", code == 200 and tables == {"main.docs", "main.notes"}
              and all(r[i]["score"] >= r[i + 1]["score"] for i in range(len(r) - 1)), (code, r))
        code, r = retrieve_get(srv, t1, query="x", table="ev")
        check("a table without a search index", code in (400, 404) and "error" in r, (code, r))
        code, body, _ = srv.req("POST", "/data/retrieve", t1, {"query": "notebook job failed", "top_k": 2, "table": "docs"})
        check("POST /data/retrieve", code == 200 and len(json.loads(body)) == 2, (code, body))
        code, r = srv.mcp(t1, call("retrieve", {"query": "notebook job failed", "table": "docs", "top_k": 5}))
        res = r.get("result", {}).get("structuredContent", {}).get("results", [])
        check("MCP retrieve", code == 200 and res and "d3" not in [x["id"] for x in res], (code, r))
        code, r = srv.mcp(t1, call("list_tables", {}))
        tabs = {t["name"]: t for t in r.get("result", {}).get("structuredContent", {}).get("tables", [])}
        check("list_tables names the search indexes", tabs.get("main.docs", {}).get("search_index") is True
              and tabs.get("main.ev", {}).get("search_index") is False, tabs)
        code, r = srv.mcp(t1, call("retrieve", {"query": "notebook", "table": "docs", "filter": "1=1); DROP TABLE docs; --"}))
        tool_err("MCP retrieve: hostile filter", r, "not allowed")
        code, r = retrieve_get(srv, t1, query="notebook", table="docs", filter="id IN (SELECT id FROM docs WHERE tenant_id = 't2')")
        check("a filter cannot widen the tenant's rows", code in (200, 400) and (code == 400 or r == []), (code, r))
    finally:
        srv.stop()


try:
    {"stdio": run_stdio, "http": run_http, "retrieve": run_retrieve}[mode]()
finally:
    shutil.rmtree(work, ignore_errors=True)
print("%s: %d passed, %d failed" % (mode, passed, failed))
sys.exit(1 if failed else 0)
