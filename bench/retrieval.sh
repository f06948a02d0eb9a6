#!/usr/bin/env bash
# Search quality and speed on Debian's package descriptions (bench/retrieval.c).
#   bench/retrieval.sh [BUILD_DIR] [--queries N] [--scale-docs N] [--speed-queries N] [--reps N]
# Builds the corpus from `apt-cache dumpavail` and the long descriptions of apt's Translation-en
# lists (when apt has none: `apt-get update -o Acquire::Languages=en` once), then runs
# bench/run.sh --bench retrieval on it. BUILD_DIR defaults to build-bench (Release).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=build-bench
case "${1:-}" in
--* | "") ;;
*) BUILD=$1; shift ;;
esac
DATA=$(mktemp /tmp/planar-retrieval-XXXXXX.tsv)
trap 'rm -f "$DATA"' EXIT
{
	apt-cache dumpavail
	for f in /var/lib/apt/lists/*_i18n_Translation-en*; do
		[ -e "$f" ] || continue
		/usr/lib/apt/apt-helper cat-file "$f"
		echo
	done
} | python3 "$ROOT/bench/retrieval_data.py" >"$DATA"
n=$(wc -l <"$DATA")
if [ "$n" -lt 1000 ]; then
	echo "bench/retrieval.sh: only $n packages with a long description: run" \
		"'apt-get update -o Acquire::Languages=en' once" >&2
	exit 1
fi
"$ROOT/bench/run.sh" "$BUILD" --bench retrieval --data "$DATA" "$@"
