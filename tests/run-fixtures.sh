#!/usr/bin/env bash
# Runs the lakes written by DuckDB's official ducklake extension (../shared/fixtures/ducklake-1.0)
# exactly as they are: each expected.test attaches its lake read-only and checks the rows the
# extension returned. Fails when the fixtures are missing, when a file fails or is skipped, and
# when no file passed.
#   tests/run-fixtures.sh PATH/TO/planar
set -uo pipefail
planar=$1
cd "$(dirname "$0")/.."
fixtures=../shared/fixtures/ducklake-1.0
if [ ! -d "$fixtures" ]; then
  echo "fixtures not found at $fixtures (shared/ must sit beside the project)" >&2
  exit 1
fi
. tests/test-summary.sh
log=$(mktemp /tmp/planar-fixtures-XXXXXX)
trap 'rm -f "$log"' EXIT
# Every lake the fixtures hold, so a new fixture is picked up without editing this script.
"$planar" test -v "$fixtures" | tee "$log"
rc=${PIPESTATUS[0]}
check_test_summary "$log" || exit 1
exit "$rc"
