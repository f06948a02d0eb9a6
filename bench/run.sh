#!/bin/sh
# bench/run.sh -- builds one benchmark program against libplanar.a and runs it.
#
# usage: bench/run.sh [BUILD_DIR] [--bench NAME] [program options...]
#   e.g. bench/run.sh build-bench --rows 1000000                  (the scan benchmark)
#        bench/run.sh build-bench --bench deletes --rows 1000000
#
# NAME is scan (the default), deletes, timetravel or commit: bench/NAME.c, built into
# BUILD_DIR/bench_NAME. `--bench NAME` (or `--bench=NAME`) may appear anywhere after BUILD_DIR;
# every other argument goes to the program.
#
# BUILD_DIR (default build-bench) is a CMake build directory of this project; it is configured
# (Release) when it has no CMakeCache.txt, and its planar_lib target is brought up to date.
# The program links the libraries CMake links the planar command with (BUILD_DIR's
# CMakeFiles/planar.dir/link.txt), minus libedit. libduckdb is the one the build directory was
# configured with (DUCKDB_LIBRARY in its CMakeCache.txt); failing that, the CMakeLists.txt logic:
# $DUCKDB_HOME, else .deps/duckdb, with the library in <home>/lib or <home>.
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

BENCH=scan
n=$#
while [ "$n" -gt 0 ]; do
	arg=$1
	shift
	n=$((n - 1))
	case "$arg" in
	--bench)
		if [ "$n" -eq 0 ]; then
			echo "bench/run.sh: --bench needs a name (scan, deletes, timetravel, commit, sessions, insertmem, partition, retrieval, smallwrites)" >&2
			exit 2
		fi
		BENCH=$1
		shift
		n=$((n - 1))
		;;
	--bench=*) BENCH=${arg#--bench=} ;;
	*) set -- "$@" "$arg" ;;
	esac
done
case "$BENCH" in
scan) SOURCES="bench/scan.c bench/util.c" ;;
deletes | timetravel | commit | sessions | insertmem | partition | retrieval | smallwrites) SOURCES="bench/$BENCH.c bench/util.c" ;;
*)
	echo "bench/run.sh: unknown benchmark '$BENCH' (scan, deletes, timetravel, commit, sessions, insertmem, partition, retrieval, smallwrites)" >&2
	exit 2
	;;
esac

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

# The libraries libplanar.a needs: those CMake links the planar command with (its link line in
# a Makefiles build directory), except libedit; failing that, the known list.
LIBS=
if [ -f "$BUILD/CMakeFiles/planar.dir/link.txt" ]; then
	# shellcheck disable=SC2013 # the link line is split into words on purpose
	for w in $(sed -n 's/.* libplanar\.a //p' "$BUILD/CMakeFiles/planar.dir/link.txt"); do
		case "$w" in
		*libedit* | -ledit) ;;
		*) LIBS="$LIBS $w" ;;
		esac
	done
fi
if [ -z "$LIBS" ]; then
	ROARING_LIBRARY=$(sed -n 's/^ROARING_LIBRARY:FILEPATH=//p' "$BUILD/CMakeCache.txt")
	[ -n "$ROARING_LIBRARY" ] && [ -f "$ROARING_LIBRARY" ] || ROARING_LIBRARY=-lroaring
	LIBS="$DUCKDB_LIBRARY $(pkg-config --libs sqlite3 2>/dev/null || echo -lsqlite3)"
	LIBS="$LIBS $(pkg-config --libs libpq 2>/dev/null || echo -lpq) $ROARING_LIBRARY"
fi

# shellcheck disable=SC2086 # SOURCES and LIBS are lists
${CC:-cc} -O2 -std=c11 -Wall -Wextra -Werror -I"$ROOT/include" $SOURCES \
	"$BUILD/libplanar.a" $LIBS -lpthread -lm \
	-Wl,-rpath,"$DUCKDB_LIB_DIR" -o "$BUILD/bench_$BENCH"

"$BUILD/bench_$BENCH" "$@"
