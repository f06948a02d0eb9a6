#!/usr/bin/env bash
# A private S3-compatible server for tests (sourced by test scripts), like tests/pg.sh for
# PostgreSQL: s3rver from the npm registry (installed by scripts/install-deps.sh into
# .deps/s3rver, version and integrity locked in tests/s3/package-lock.json), started on a free
# loopback port with its files in a temporary directory.
#   s3_start DIR [BUCKET...]  starts it with the buckets created (default: planar-test) and a
#                  fault-injecting proxy in front of it (tests/s3/faultproxy.js); exports
#                  PLANAR_S3_ENDPOINT (the server), PLANAR_S3_PROXY (the proxy),
#                  PLANAR_S3_DEAD (a loopback port nothing listens on), PLANAR_S3_BUCKET,
#                  PLANAR_S3_DATA_DIR (where the server keeps the objects) and the
#                  server's keys as AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_REGION.
#                  Returns 77 when s3rver is not installed.
#                  With python3-botocore installed, also PLANAR_S3_SIGCHECK: a proxy that checks
#                  every request's SigV4 signature with botocore (tests/s3/sigv4check.py).
#   s3_stop DIR    stops them.
# The server accepts virtual-host URLs as <bucket>.s3.localhost:<port> (curl resolves every
# *.localhost name to the loopback address).

S3_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
S3RVER_BIN="$S3_ROOT/.deps/s3rver/node_modules/s3rver/bin/s3rver.js"

. "$S3_ROOT/tests/port.sh"

s3_start() {
  local dir=$1 port pport sport dead b
  shift
  local buckets=("$@")
  [ ${#buckets[@]} -gt 0 ] || buckets=(planar-test)
  if [ ! -f "$S3RVER_BIN" ] || ! command -v node >/dev/null 2>&1; then
    echo "s3rver is not installed (run scripts/install-deps.sh)" >&2
    return 77
  fi
  mkdir -p "$dir/data"
  local args=(-d "$dir/data" -a 127.0.0.1 -p "{PORT}" -s --service-endpoint localhost)
  for b in "${buckets[@]}"; do args+=(--configure-bucket "$b"); done
  # s3rver's continuation tokens use DES, which OpenSSL 3 keeps in its legacy provider
  start_on_port port "$dir/server.pid" "$dir/server.log" node --openssl-legacy-provider "$S3RVER_BIN" "${args[@]}" ||
    { echo "s3rver did not start:" >&2; cat "$dir/server.log" >&2; return 1; }
  start_on_port pport "$dir/proxy.pid" "$dir/proxy.log" node "$S3_ROOT/tests/s3/faultproxy.js" "{PORT}" "$port" ||
    { echo "fault proxy did not start:" >&2; cat "$dir/proxy.log" >&2; return 1; }
  # an independent SigV4 check (botocore) in front of the server, when python3-botocore is there
  if python3 -c "import botocore" 2>/dev/null; then
    start_on_port sport "$dir/sigv4.pid" "$dir/sigv4.log" python3 "$S3_ROOT/tests/s3/sigv4check.py" "{PORT}" "$port" S3RVER ||
      { echo "SigV4 checker did not start:" >&2; cat "$dir/sigv4.log" >&2; return 1; }
    export PLANAR_S3_SIGCHECK="http://127.0.0.1:$sport"
  fi
  dead=$(free_port) || { echo "no free port" >&2; return 1; }
  export PLANAR_S3_ENDPOINT="http://127.0.0.1:$port"
  export PLANAR_S3_VHOST_ENDPOINT="http://s3.localhost:$port"
  export PLANAR_S3_PROXY="http://127.0.0.1:$pport"
  export PLANAR_S3_DEAD="http://127.0.0.1:$dead"
  export PLANAR_S3_BUCKET=${buckets[0]}
  export PLANAR_S3_DATA_DIR="$dir/data"
  export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
  export AWS_ENDPOINT_URL=$PLANAR_S3_ENDPOINT
}

s3_stop() {
  local dir=$1 f pid
  for f in sigv4 proxy server; do
    [ -f "$dir/$f.pid" ] || continue
    pid=$(cat "$dir/$f.pid")
    kill "$pid" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -9 "$pid" 2>/dev/null
    rm -f "$dir/$f.pid"
  done
  return 0
}
