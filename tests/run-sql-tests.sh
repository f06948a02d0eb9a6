#!/usr/bin/env bash
# Runs every SQL logic test under tests/sql on one catalog kind.
#   tests/run-sql-tests.sh PATH/TO/planar duckdb|sqlite|postgres [K/N]
# With K/N only the K-th of N parts runs: the files sorted by path, every N-th from the K-th on
# (ctest runs the parts side by side; together they are every file).
# Test files attach their lake as '${DUCKLAKE_PREFIX}{TEST_DIR}/meta.db' and may branch on
# ${CATALOG} (onlyif CATALOG=sqlite); see src/cli/sqltest.h. For postgres a private server is
# started for the run (tests/pg.sh) and each test file's catalog lives in its own schema.
# Fails when a file fails, when no file passed, and when a file is skipped (require/require-env)
# other than those in EXPECTED_SKIPS (which exist to test skipping itself): a file that stops
# running must not go unnoticed.
set -euo pipefail
planar=$(realpath "$1")
catalog=$2
part=${3:-1/1}
cd "$(dirname "$0")/.."
k=${part%/*} n=${part#*/}
case "$k/$n" in
  [1-9]/[1-9]) [ "$k" -le "$n" ] || { echo "part $part: K must be at most N" >&2; exit 2; } ;;
  *) echo "part '$part' is not K/N" >&2; exit 2 ;;
esac
files=()
i=0
while IFS= read -r f; do
  [ $((i % n)) -eq $((k - 1)) ] && files+=("$f")
  i=$((i + 1))
done < <(find tests/sql -name '*.test' | LC_ALL=C sort)
[ ${#files[@]} -gt 0 ] || { echo "no test file in part $part" >&2; exit 1; }
EXPECTED_SKIPS=(tests/sql/runner/skip.test)
. tests/test-summary.sh
log=$(mktemp /tmp/planar-sqltests-XXXXXX)
pgdir=
cleanup() {
  [ -z "$pgdir" ] || { pg_stop "$pgdir"; rm -rf "$pgdir"; }
  rm -f "$log"
}
trap cleanup EXIT
case "$catalog" in
  duckdb) prefix="ducklake:duckdb:" ;;
  sqlite) prefix="ducklake:sqlite:" ;;
  postgres)
    . tests/pg.sh
    pgdir=$(mktemp -d /tmp/planar-pg-XXXXXX)
    pg_start "$pgdir"
    prefix="ducklake:postgres:$PLANAR_PG metadata_schema=" ;;
  *) echo "unknown catalog kind '$catalog'" >&2; exit 2 ;;
esac
# the tests look at catalog rows through __planar_cat(), which exists only with this set
export PLANAR_TEST_CATALOG_SQL=1
"$planar" test -v --env "DUCKLAKE_PREFIX=$prefix" --env "CATALOG=$catalog" "${files[@]}" | tee "$log"
check_test_summary "$log" "${EXPECTED_SKIPS[@]}"
