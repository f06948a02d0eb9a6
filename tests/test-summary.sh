# Checks the output of `planar test -v` (sourced by tests/run-*.sh).
#   check_test_summary LOG [EXPECTED_SKIP_FILE...]
# Fails (returns 1, saying why) when the closing "N passed, N failed, N skipped" line is missing,
# when a file failed, when no file passed, or when a file was skipped that is not one of the
# expected ones. Prints nothing when all is well.
check_test_summary() {
  local log=$1 summary npass nfail nskip word bad=0 path expected ok
  shift
  summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$log" | tail -n 1)
  if [ -z "$summary" ]; then
    echo "FAIL: planar test printed no summary line" >&2
    return 1
  fi
  read -r npass word nfail word nskip word <<<"$summary"
  if [ "$nfail" -ne 0 ]; then
    echo "FAIL: $nfail test file(s) failed" >&2
    bad=1
  fi
  if [ "$npass" -eq 0 ]; then
    echo "FAIL: no test file passed (nothing was tested)" >&2
    bad=1
  fi
  while IFS= read -r path; do
    ok=0
    for expected in "$@"; do [ "$path" = "$expected" ] && ok=1; done
    if [ "$ok" = 0 ]; then
      echo "FAIL: $path was skipped: $(grep -F "$path: skipped" "$log" | head -n 1 | sed 's/.*: skipped //')" >&2
      bad=1
    fi
  done < <(sed -n 's/^\(.*\): skipped (.*)$/\1/p' "$log")
  return "$bad"
}
