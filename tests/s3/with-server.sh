#!/usr/bin/env bash
# tests/s3/with-server.sh CMD [ARGS...] -- runs CMD with a private S3 server and its fault proxy
# started (tests/s3/s3.sh) and stops them after; exits with CMD's status, or 77 (skipped) when
# the server is not installed.
set -u
. "$(dirname "$0")/s3.sh"
TMP=$(mktemp -d)
trap 's3_stop "$TMP"; rm -rf "$TMP"' EXIT
s3_start "$TMP" planar-test planar-other
rc=$?
if [ $rc -ne 0 ]; then
  [ $rc -eq 77 ] && echo "skipped: the test S3 server is not installed" >&2
  exit $rc
fi
"$@"
