#!/usr/bin/env bash
# Runs the lakes written by DuckDB's official ducklake extension (../shared/fixtures/ducklake-1.0)
# exactly as they are: each expected.test attaches its lake read-only and checks the rows the
# extension returned.
#   tests/run-fixtures.sh PATH/TO/planar
# The fixtures listed in PENDING exercise features of the change-over-time issue (deletes, schema
# evolution, time travel, change feed, views); they are run and reported, and gate nothing yet.
set -uo pipefail
planar=$1
cd "$(dirname "$0")/.."
fixtures=../shared/fixtures/ducklake-1.0
if [ ! -d "$fixtures" ]; then
  echo "fixtures not found at $fixtures (shared/ must sit beside the project)" >&2
  exit 1
fi
GATING=(types nested partitioned)
PENDING=(catalog_objects changes deletes deletes_dv evolution)
files=()
for f in "${GATING[@]}"; do files+=("$fixtures/$f/expected.test"); done
echo "pending fixtures (not gating):"
for f in "${PENDING[@]}"; do
  if out=$("$planar" test "$fixtures/$f/expected.test" 2>&1 | tail -n 1); then :; fi
  echo "  $f: $out"
done
exec "$planar" test "${files[@]}"
