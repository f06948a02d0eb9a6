#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang, -DPLANAR_FUZZ=ON, into build-fuzz/) and runs each one
# for SECONDS (default 120), one after another, niced. New inputs go to a scratch corpus under
# WORK (default /tmp/planar-fuzz); the committed corpus tests/fuzz/corpus/<target>/ is only read.
# A finding is saved as WORK/<target>/crash-* (or leak-*, timeout-*, oom-*): fix the bug, then
# add the input to tests/fuzz/corpus/<target>/ so ctest replays it.
#   tests/fuzz/run-libfuzzer.sh [SECONDS] [TARGET...]     (targets: lexer sqltest dv jscan)
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-120}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(lexer sqltest dv jscan)
work=${WORK:-/tmp/planar-fuzz}
CC=clang cmake -S . -B build-fuzz -DPLANAR_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# only the fuzz targets: the rest of the project is built with gcc in the other build directories
cmake --build build-fuzz -j "$(nproc)" --target $(printf 'fuzz_%s_libfuzzer ' "${targets[@]}") >/dev/null
found=0
for t in "${targets[@]}"; do
  mkdir -p "$work/$t/corpus"
  dict=()
  [ -f "tests/fuzz/$t.dict" ] && dict=("-dict=tests/fuzz/$t.dict")
  echo "== fuzz_$t for $secs s (log: $work/$t/log)"
  rc=0
  nice "build-fuzz/tests/fuzz/fuzz_${t}_libfuzzer" "${dict[@]}" -max_total_time="$secs" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/$t/" \
    "$work/$t/corpus" "tests/fuzz/corpus/$t" >"$work/$t/log" 2>&1 || rc=$?
  grep -E '^Done [0-9]+ runs' "$work/$t/log" || true
  if [ "$rc" -ne 0 ]; then # a finding (its input is saved) or the fuzzer could not run
    echo "FINDING in fuzz_$t (exit $rc):"
    grep -E 'ERROR|check failed|SUMMARY|Test unit written' "$work/$t/log" | head -n 5 | sed 's/^/  /'
    found=1
  fi
done
exit "$found"
