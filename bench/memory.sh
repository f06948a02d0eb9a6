#!/bin/sh
# bench/memory.sh -- builds bench/memory.c against libplanar.a and runs it: peak RSS of reading a
# large lake table through the C API's streaming result and through the shell in csv mode, next
# to DuckDB reading the same files through its own C API.
#
# usage: bench/memory.sh [BUILD_DIR] [program options...]
#   e.g. bench/memory.sh build-bench                       (20 million rows, 3 runs per side)
#        bench/memory.sh build-bench --rows 2000000 --reps 1
#        bench/memory.sh build-bench --memory-limit 200
#
# BUILD_DIR (default build-bench) is a CMake build directory of this project, configured
# (Release) when it has no CMakeCache.txt; its planar_lib and planar targets are brought up to
# date. The program is linked like bench/run.sh links its programs (the libraries of the planar
# command's link line minus libedit, the libduckdb the build directory was configured with) and
# gets that build's `planar` as the shell to measure.
set -eu

cd "$(dirname "$0")/.."
ROOT=$(pwd)

BUILD=build-bench
if [ $# -gt 0 ]; then
	case "$1" in
	-*) ;;
	*) BUILD=$1; shift ;;
	esac
fi
case "$BUILD" in
/*) ;;
*) BUILD="$ROOT/$BUILD" ;;
esac

LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
	cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >"$LOG" 2>&1 || { cat "$LOG" >&2; exit 1; }
fi
cmake --build "$BUILD" --target planar_lib planar -j2 >"$LOG" 2>&1 || { cat "$LOG" >&2; exit 1; }

DUCKDB_LIBRARY=$(sed -n 's/^DUCKDB_LIBRARY:FILEPATH=//p' "$BUILD/CMakeCache.txt")
DUCKDB_INCLUDE=$(sed -n 's/^DUCKDB_INCLUDE_DIR:PATH=//p' "$BUILD/CMakeCache.txt")
if [ -z "$DUCKDB_LIBRARY" ] || [ ! -f "$DUCKDB_LIBRARY" ]; then
	echo "bench/memory.sh: $BUILD was configured without libduckdb (DUCKDB_LIBRARY)" >&2
	exit 1
fi
LIBS=
for w in $(sed -n 's/.* libplanar\.a //p' "$BUILD/CMakeFiles/planar.dir/link.txt"); do
	case "$w" in
	*libedit* | -ledit) ;;
	*) LIBS="$LIBS $w" ;;
	esac
done
# shellcheck disable=SC2086 # LIBS is a list
${CC:-cc} -O2 -std=c11 -Wall -Wextra -Werror -I"$ROOT/include" -I"$DUCKDB_INCLUDE" bench/memory.c bench/util.c \
	"$BUILD/libplanar.a" $LIBS -lpthread -lm \
	-Wl,-rpath,"$(dirname "$DUCKDB_LIBRARY")" -o "$BUILD/bench_memory"

"$BUILD/bench_memory" --shell "$BUILD/planar" "$@"
