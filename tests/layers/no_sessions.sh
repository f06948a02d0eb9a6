#!/usr/bin/env bash
# The layers below src/sql know nothing of sessions, statements or attached lakes: fails when code
# (not a comment) in DIR names planar_db, planar_conn, planar_result, pl_stmt or pl_lake.
#   tests/layers/no_sessions.sh DIR...
set -euo pipefail
hits=$(grep -rnE --include='*.c' --include='*.h' '\b(planar_db|planar_conn|planar_result|pl_stmt|pl_lake)\b' "$@" |
  grep -vE '^[^:]+:[0-9]+:[[:space:]]*(/?\*|//)' || true)
if [ -n "$hits" ]; then
  echo "session or statement types below src/sql (pass what the operation needs explicitly):" >&2
  echo "$hits" >&2
  exit 1
fi
echo "no session or statement types in $*"
