#!/usr/bin/env bash
# bench/blobput.sh -- `planar blob put` of a folder of N files of M MB to an S3 root vs curl
# uploading the same files with SigV4 (`curl --aws-sigv4`, one PUT per file, `--parallel` with the
# same number of transfers at once), both against the test S3 server on loopback (s3rver,
# tests/s3/s3.sh). Prints the median of each over the repetitions and their ratio.
#
# usage: bench/blobput.sh [PLANAR] [--files N] [--mb M] [--reps R] [--parallel P]
#   PLANAR defaults to build/planar; N=100, M=1, R=3, P=8 (PLANAR_BLOB_PARALLEL for planar).
# The server is a Node.js process writing to a temporary directory: it, not the network, bounds
# both sides, so the ratio (planar's overhead: checksums, catalog, manifest) is the figure.
set -u
cd "$(dirname "$0")/.."
PLANAR=build/planar
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then PLANAR=$1; shift; fi
PLANAR=$(cd "$(dirname "$PLANAR")" && pwd)/$(basename "$PLANAR")
FILES=100 MB=1 REPS=3 PAR=8
while [ $# -gt 0 ]; do
	case "$1" in
	--files) FILES=$2; shift 2 ;;
	--mb) MB=$2; shift 2 ;;
	--reps) REPS=$2; shift 2 ;;
	--parallel) PAR=$2; shift 2 ;;
	*) echo "unknown option $1" >&2; exit 2 ;;
	esac
done
. tests/s3/s3.sh
TMP=$(mktemp -d)
trap 's3_stop "$TMP/s3"; rm -rf "$TMP"' EXIT
s3_start "$TMP/s3" bench || exit $?
mkdir -p "$TMP/src"
for i in $(seq 1 "$FILES"); do
	head -c $((MB * 1024 * 1024)) /dev/urandom >"$TMP/src/f$i.bin"
done
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
export PLANAR_BLOB_PARALLEL=$PAR
: >"$TMP/planar.t"
: >"$TMP/curl.t"
for r in $(seq 1 "$REPS"); do
	t0=$(now)
	"$PLANAR" blob put "$TMP/src" bench-data --kind dataset --root s3://bench/blobs \
		--lake "sqlite:$TMP/meta.sqlite" --data-path "$TMP/data/" >/dev/null || exit 1
	t1=$(now)
	echo "$t1 - $t0" | bc >>"$TMP/planar.t"
	: >"$TMP/curl.cfg"
	for i in $(seq 1 "$FILES"); do
		printf 'upload-file = "%s"\nurl = "%s/bench/curl/r%s/f%s.bin"\n' "$TMP/src/f$i.bin" \
			"$PLANAR_S3_ENDPOINT" "$r" "$i" >>"$TMP/curl.cfg"
	done
	t0=$(now)
	curl -sS --fail --parallel --parallel-max "$PAR" --aws-sigv4 "aws:amz:us-east-1:s3" \
		--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
		-K "$TMP/curl.cfg" -o /dev/null 2>"$TMP/curl.err" || { cat "$TMP/curl.err" >&2; exit 1; }
	t1=$(now)
	echo "$t1 - $t0" | bc >>"$TMP/curl.t"
done
p=$(median <"$TMP/planar.t")
c=$(median <"$TMP/curl.t")
total=$((FILES * MB))
printf 'upload of %d files x %d MB (%d MB), %d at once, median of %d\n' "$FILES" "$MB" "$total" "$PAR" "$REPS"
printf '  planar blob put   %8.2f s  %8.1f MB/s\n' "$p" "$(echo "$total / $p" | bc -l)"
printf '  curl --parallel   %8.2f s  %8.1f MB/s\n' "$c" "$(echo "$total / $c" | bc -l)"
printf '  ratio planar/curl %8.2f\n' "$(echo "$p / $c" | bc -l)"
