#!/bin/sh
# bench/run.sh -- builds bench/scan.c against libplanar.a and runs it.
#
# usage: bench/run.sh [BUILD_DIR] [scan options...]     e.g. bench/run.sh build-bench --rows 1000000
#
# BUILD_DIR (default build-bench) is a CMake build directory of this project; it is configured
# (Release) when it has no CMakeCache.txt, and its planar_lib target is brought up to date. The
# benchmark binary is written to BUILD_DIR/bench_scan. libduckdb is the one the build directory
# was configured with (DUCKDB_LIBRARY in its CMakeCache.txt); failing that, the CMakeLists.txt
# logic: $DUCKDB_HOME, else .deps/duckdb, with the library in <home>/lib or <home>.
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

# CMake's output is shown only when it fails.
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
	cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >"$LOG" 2>&1 || { cat "$LOG" >&2; exit 1; }
fi
cmake --build "$BUILD" --target planar_lib -j2 >"$LOG" 2>&1 || { cat "$LOG" >&2; exit 1; }

DUCKDB_LIBRARY=$(sed -n 's/^DUCKDB_LIBRARY:FILEPATH=//p' "$BUILD/CMakeCache.txt")
if [ -z "$DUCKDB_LIBRARY" ] || [ ! -f "$DUCKDB_LIBRARY" ]; then
	HOME_DIR=${DUCKDB_HOME:-$ROOT/.deps/duckdb}
	DUCKDB_LIBRARY=
	for d in "$HOME_DIR/lib" "$HOME_DIR"; do
		for f in "$d/libduckdb.so" "$d/libduckdb.dylib"; do
			if [ -z "$DUCKDB_LIBRARY" ] && [ -f "$f" ]; then
				DUCKDB_LIBRARY=$f
			fi
		done
	done
	if [ -z "$DUCKDB_LIBRARY" ]; then
		echo "bench/run.sh: libduckdb not found in $HOME_DIR: run scripts/install-deps.sh or set DUCKDB_HOME" >&2
		exit 1
	fi
fi
DUCKDB_LIB_DIR=$(dirname "$DUCKDB_LIBRARY")

SQLITE_LIBS=$(pkg-config --libs sqlite3 2>/dev/null || echo -lsqlite3)

# shellcheck disable=SC2086 # SQLITE_LIBS is a list of flags
${CC:-cc} -O2 -std=c11 -Wall -Wextra -Werror -I"$ROOT/include" "$ROOT/bench/scan.c" \
	"$BUILD/libplanar.a" "$DUCKDB_LIBRARY" $SQLITE_LIBS -lpthread -lm \
	-Wl,-rpath,"$DUCKDB_LIB_DIR" -o "$BUILD/bench_scan"

"$BUILD/bench_scan" "$@"
