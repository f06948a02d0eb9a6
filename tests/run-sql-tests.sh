#!/usr/bin/env bash
# Runs every SQL logic test under tests/sql on one catalog kind.
#   tests/run-sql-tests.sh PATH/TO/planar duckdb|sqlite|postgres
# Test files attach their lake as '${DUCKLAKE_PREFIX}{TEST_DIR}/meta.db' and may branch on
# ${CATALOG} (onlyif CATALOG=sqlite); see src/cli/sqltest.h. For postgres a private server is
# started for the run (tests/pg.sh) and each test file's catalog lives in its own schema.
set -euo pipefail
planar=$(realpath "$1")
catalog=$2
cd "$(dirname "$0")/.."
case "$catalog" in
  duckdb) prefix="ducklake:duckdb:" ;;
  sqlite) prefix="ducklake:sqlite:" ;;
  postgres)
    . tests/pg.sh
    pgdir=$(mktemp -d /tmp/planar-pg-XXXXXX)
    trap 'pg_stop "$pgdir"; rm -rf "$pgdir"' EXIT
    pg_start "$pgdir"
    prefix="ducklake:postgres:$PLANAR_PG metadata_schema=" ;;
  *) echo "unknown catalog kind '$catalog'" >&2; exit 2 ;;
esac
# the tests look at catalog rows through __planar_cat(), which exists only with this set
export PLANAR_TEST_CATALOG_SQL=1
"$planar" test --env "DUCKLAKE_PREFIX=$prefix" --env "CATALOG=$catalog" tests/sql
