#!/usr/bin/env bash
# One command that installs, builds and runs every test: the cmocka unit tests, the SQL logic
# tests on each catalog kind, the DuckLake fixtures and the shell tests -- once in a normal
# build and once under AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh

run_suite() { # run_suite BUILD_DIR LABEL [cmake args]
  local dir=$1 label=$2
  shift 2
  echo "== $label: building in $dir"
  ./scripts/build.sh "$dir" "$@"
  echo "== $label: running tests"
  (cd "$dir" && ctest --output-on-failure -j 2)
}

# malloc_context_size=2: each allocation records only its two innermost callers. libduckdb is
# built without frame pointers, so deeper stacks unwound from inside it are garbage, every one
# unique, and ASan's stack store grows without bound: with the default (30) the sanitized run
# took 20x longer (unit_sql_sessions 473 s instead of 20 s). Errors and leaks are found all the
# same; to see a report's full allocation stack, re-run that one test with
# ASAN_OPTIONS=malloc_context_size=30:fast_unwind_on_malloc=0.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:malloc_context_size=2}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0}
run_suite build "normal build"
run_suite build-asan "ASan+UBSan build" -DPLANAR_SANITIZE=ON
