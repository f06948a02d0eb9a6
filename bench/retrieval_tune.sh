#!/usr/bin/env bash
# Weighs the hybrid fusion on Debian's package descriptions (bench/retrieval_tune.c): builds
# the corpus as bench/retrieval.sh does, compiles the text layer with PL_TEXT_TUNE and runs
#   bench/retrieval_tune.sh [QUERIES] [W0 W1 RELATIVE WORDS_FIRST BM25_FIRST TOP_K_ONLY]...
# or, for the speed of the index alone at N documents: bench/retrieval_tune.sh -N
# (default: 1000 queries per half, the built-in weights).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-1000}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] || [ "$N" -lt 0 ] || set -- 0.05 0 0 1 1 1
TMP=$(mktemp -d /tmp/planar-tune-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
{
	apt-cache dumpavail
	for f in /var/lib/apt/lists/*_i18n_Translation-en*; do
		[ -e "$f" ] || continue
		/usr/lib/apt/apt-helper cat-file "$f"
		echo
	done
} | python3 "$ROOT/bench/retrieval_data.py" >"$TMP/data.tsv"
cc -std=c11 -O2 -D_GNU_SOURCE -DPL_TEXT_TUNE -I"$ROOT/src" -I"$ROOT/include" -I/usr/include/libstemmer \
	-o "$TMP/tune" "$ROOT/bench/retrieval_tune.c" "$ROOT"/src/text/*.c "$ROOT"/src/core/err.c "$ROOT"/src/core/str.c \
	"$ROOT"/src/core/buf.c "$ROOT"/src/core/fault.c -lutf8proc -lstemmer -lm -lpthread
"$TMP/tune" "$TMP/data.tsv" "$N" "$@"
