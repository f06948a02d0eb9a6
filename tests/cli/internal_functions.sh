#!/usr/bin/env bash
# Without PLANAR_TEST_CATALOG_SQL=1 there is no function that runs SQL on a lake's catalog, not even
# through query(), which the statement router cannot see into.
#   tests/cli/internal_functions.sh PATH/TO/planar
set -euo pipefail
planar=$(realpath "$1")
dir=$(mktemp -d /tmp/planar-internal-XXXXXX)
trap 'rm -rf "$dir"' EXIT
unset PLANAR_TEST_CATALOG_SQL
attach="ATTACH 'ducklake:sqlite:$dir/meta.db' AS lake (DATA_PATH '$dir/data/')"
"$planar" -c "$attach" -c "CREATE TABLE lake.t(i INTEGER)" -c "INSERT INTO lake.t VALUES (1)" >/dev/null
fail=0
for q in "SELECT * FROM query('SELECT * FROM __planar_cat(''lake'', ''DELETE FROM ducklake_data_file'')')" \
         "SELECT * FROM query('SELECT * FROM __planar_cat(''lake'', ''SELECT 1'')')"; do
  if out=$("$planar" -c "$attach" -c "$q" 2>&1); then
    echo "FAIL: ran: $q"; fail=1
  elif ! grep -q "Table Function with name .* does not exist" <<<"$out"; then
    echo "FAIL: unexpected error for: $q: $out"; fail=1
  fi
done
count=$("$planar" -csv -c "$attach" -c "SELECT count(*) FROM lake.t" | tail -n 1)
[ "$count" = 1 ] || { echo "FAIL: the table has $count rows, expected 1"; fail=1; }
[ $fail -eq 0 ] && echo "internal functions: ok"
exit $fail
