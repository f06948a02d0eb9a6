#!/usr/bin/env bash
# All catalog SQL lives in src/catalog: fails when a C string outside src/catalog names a DuckLake
# catalog table in SQL (`FROM ducklake_x`, `INTO ducklake_x`, ...) or as a whole literal
# ("ducklake_metadata").
#   tests/layers/catalog_sql.sh DIR   (DIR: a source tree such as src/)
set -euo pipefail
dir=$1
sql='"[^"]*\b(from|join|into|update|table|exists)[[:space:]]+(\\")?ducklake_[a-z_]+\b'
# the catalog's tables (and ducklake_inlined_data_<table>_<version>), as a whole literal
name='"ducklake_(column|column_mapping|column_tag|data_file|delete_file|file_column_stats|file_partition_value|file_variant_stats|files_scheduled_for_deletion|inlined_data_[a-z0-9_%]*|macro|macro_impl|macro_parameters|metadata|name_mapping|partition_column|partition_info|schema|schema_versions|snapshot|snapshot_changes|sort_expression|sort_info|table|table_column_stats|table_stats|tag|view)"'
hits=$(grep -rniE --include='*.c' --include='*.h' -e "$sql" -e "$name" "$dir" | grep -v "^${dir%/}/catalog/" || true)
if [ -n "$hits" ]; then
  echo "catalog SQL outside src/catalog (move it into a src/catalog function):" >&2
  echo "$hits" >&2
  exit 1
fi
echo "no catalog SQL outside ${dir%/}/catalog"
