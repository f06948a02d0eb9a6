#!/usr/bin/env bash
# One command for a newcomer: installs every dependency, builds Planar, and runs it on its
# embedded default (SQLite catalog, local files): creates the demo lake in ./demo, writes to it
# and queries it, then prints how to open the interactive shell on it.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh build
./build/planar --lake ducklake:sqlite:demo/meta.sqlite --data-path demo/data/ \
  -c "CREATE TABLE IF NOT EXISTS trials(id INTEGER, robot VARCHAR, success BOOLEAN, duration_s DOUBLE)" \
  -c "INSERT INTO trials SELECT i, 'tb' || (i % 3), i % 4 <> 0, 10 + i * 0.5 FROM range(12) r(i)" \
  -c "SELECT robot, count(*) AS trials, avg(duration_s) AS avg_s, count(*) FILTER (success) AS ok FROM trials GROUP BY robot ORDER BY robot" \
  -c "SELECT snapshot_id, changes FROM ducklake_snapshots('lake') ORDER BY snapshot_id"
echo
echo "Demo lake in ./demo. Open the shell on it with:"
echo "  ./build/planar --lake ducklake:sqlite:demo/meta.sqlite --data-path demo/data/"
