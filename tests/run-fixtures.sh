#!/usr/bin/env bash
# Runs the lakes written by DuckDB's official ducklake extension (../shared/fixtures/ducklake-1.0)
# exactly as they are: each expected.test attaches its lake read-only and checks the rows the
# extension returned.
#   tests/run-fixtures.sh PATH/TO/planar
set -uo pipefail
planar=$1
cd "$(dirname "$0")/.."
fixtures=../shared/fixtures/ducklake-1.0
if [ ! -d "$fixtures" ]; then
  echo "fixtures not found at $fixtures (shared/ must sit beside the project)" >&2
  exit 1
fi
# Every lake the fixtures hold, so a new fixture is picked up without editing this script.
exec "$planar" test "$fixtures"
