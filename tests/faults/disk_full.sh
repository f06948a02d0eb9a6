#!/usr/bin/env bash
# Disk full during a write: the lake's data path sits on a 4 MiB tmpfs (in a private mount
# namespace), an INSERT larger than that fails with a clear error, and the lake is left exactly
# as before: same snapshots, same rows, no stray file in the data path. The next write succeeds.
# Where this machine cannot mount (no privileges), the file-size limit (ulimit -f) stands in
# for a full disk: the write fails the same way, with EFBIG instead of ENOSPC.
#   tests/faults/disk_full.sh PATH/TO/planar
set -uo pipefail
planar=$(realpath "$1")
work=$(mktemp -d)
trap 'umount "$work/small" 2>/dev/null; rm -rf "$work"' EXIT
pass=0 fail=0
check() { # check NAME EXPECTED ACTUAL
  if [ "$2" = "$3" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $1: expected '$2', got '$3'"; fi
}

cat > "$work/scenario.sh" <<'SCENARIO'
set -u
planar=$1 work=$2 limit_kb=${3:-}
lake() { "$planar" -csv -noheader --lake "ducklake:sqlite:$work/meta.sqlite" --data-path "$work/small/data/" "$@"; }
# the scenario counts Parquet files: data inlining off
lake -c "CALL lake.set_option('data_inlining_row_limit', 0)" -c "CREATE TABLE t(i BIGINT, s VARCHAR)" \
  -c "INSERT INTO t VALUES (1, 'one')" || exit 10
before=$(lake -c "SELECT count(*) FROM ducklake_snapshots('lake')")
if [ -n "$limit_kb" ]; then ulimit -f "$limit_kb"; trap '' XFSZ; fi
lake -c "INSERT INTO t SELECT i, md5(i::VARCHAR) || md5((i * 7)::VARCHAR) FROM range(2000000) r(i)" \
  > "$work/out.txt" 2> "$work/err.txt"
echo "rc=$?"
echo "before=$before"
echo "after=$(lake -c "SELECT count(*) FROM ducklake_snapshots('lake')")"
echo "rows=$(lake -c "SELECT count(*) FROM t")"
echo "files_registered=$(lake -c "SELECT count(*) FROM ducklake_list_files('lake', 't')")"
echo "files_on_disk=$(find "$work/small/data" -type f | wc -l)"
echo "dirs_left=$(find "$work/small/data" -mindepth 3 -type d | wc -l)"
lake -c "INSERT INTO t VALUES (2, 'two')" >/dev/null 2>&1
echo "next_rows=$(lake -c "SELECT count(*) FROM t")"
SCENARIO

mkdir -p "$work/small"
if unshare -m true 2>/dev/null; then
  mode=tmpfs
  out=$(unshare -m bash -c "mount -t tmpfs -o size=4m tmpfs '$work/small' && bash '$work/scenario.sh' '$planar' '$work'")
else
  mode=ulimit
  out=$(bash "$work/scenario.sh" "$planar" "$work" 4096)
fi
get() { printf '%s\n' "$out" | sed -n "s/^$1=//p"; }
echo "disk-full scenario via $mode"
check "insert on a full disk fails" "rc=1" "rc=$(get rc)"
grep -qiE "no space left|file too large|could not write|cannot write" "$work/err.txt" \
  && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL error names the cause: $(cat "$work/err.txt")"; }
check "no new snapshot" "$(get before)" "$(get after)"
check "rows unchanged" "1" "$(get rows)"
check "one file registered" "1" "$(get files_registered)"
check "no stray file" "1" "$(get files_on_disk)"
check "no staging directory left" "0" "$(get dirs_left)"
check "next write succeeds" "2" "$(get next_rows)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
