#!/usr/bin/env bash
# Runs every SQL logic test under tests/sql on one catalog kind.
#   tests/run-sql-tests.sh PATH/TO/planar duckdb|sqlite
# Test files attach their lake as '${DUCKLAKE_PREFIX}{TEST_DIR}/...' and may branch on
# ${CATALOG} (onlyif CATALOG=sqlite); see src/cli/sqltest.h.
set -euo pipefail
planar=$1
catalog=$2
case "$catalog" in
  duckdb) prefix="ducklake:duckdb:" ;;
  sqlite) prefix="ducklake:sqlite:" ;;
  *) echo "unknown catalog kind '$catalog'" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."
exec "$planar" test --env "DUCKLAKE_PREFIX=$prefix" --env "CATALOG=$catalog" tests/sql
