#!/bin/sh
# bench/planning.sh -- builds bench/planning.c against libplanar.a and runs it.
#
# usage: bench/planning.sh [BUILD_DIR] [program options...]
#   e.g. bench/planning.sh build-bench --files "1000 10000" --reps 7
#        bench/planning.sh build-bench --catalog postgres     (a private PostgreSQL, tests/pg.sh)
#
# BUILD_DIR (default build-bench) is a CMake build directory of this project, configured
# (Release) when it has no CMakeCache.txt; its planar_lib target is brought up to date and the
# program is linked as bench/run.sh links its programs: the libraries of the planar command's
# link line (minus libedit), the libduckdb the build directory was configured with.
# With `--catalog postgres` and no PLANAR_PG in the environment, a private server is started
# for the run and stopped afterwards.
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
PGDIR=
cleanup() {
	rm -f "$LOG"
	if [ -n "$PGDIR" ]; then
		# shellcheck disable=SC1091
		bash -c '. tests/pg.sh; pg_stop "$1"' _ "$PGDIR"
		rm -rf "$PGDIR"
	fi
}
trap cleanup EXIT
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
	cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >"$LOG" 2>&1 || { cat "$LOG" >&2; exit 1; }
fi
cmake --build "$BUILD" --target planar_lib -j2 >"$LOG" 2>&1 || { cat "$LOG" >&2; exit 1; }

DUCKDB_LIBRARY=$(sed -n 's/^DUCKDB_LIBRARY:FILEPATH=//p' "$BUILD/CMakeCache.txt")
if [ -z "$DUCKDB_LIBRARY" ] || [ ! -f "$DUCKDB_LIBRARY" ]; then
	HOME_DIR=${DUCKDB_HOME:-$ROOT/.deps/duckdb}
	DUCKDB_LIBRARY=
	for f in "$HOME_DIR/lib/libduckdb.so" "$HOME_DIR/libduckdb.so" "$HOME_DIR/lib/libduckdb.dylib" "$HOME_DIR/libduckdb.dylib"; do
		if [ -z "$DUCKDB_LIBRARY" ] && [ -f "$f" ]; then DUCKDB_LIBRARY=$f; fi
	done
	[ -n "$DUCKDB_LIBRARY" ] || { echo "bench/planning.sh: libduckdb not found in $HOME_DIR" >&2; exit 1; }
fi
LIBS=
if [ -f "$BUILD/CMakeFiles/planar.dir/link.txt" ]; then
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
# shellcheck disable=SC2086 # LIBS is a list
${CC:-cc} -O2 -std=c11 -Wall -Wextra -Werror -I"$ROOT/include" bench/planning.c \
	"$BUILD/libplanar.a" $LIBS -lpthread -lm \
	-Wl,-rpath,"$(dirname "$DUCKDB_LIBRARY")" -o "$BUILD/bench_planning"

case " $* " in
*" --catalog postgres "*)
	if [ -z "${PLANAR_PG:-}" ]; then
		PGDIR=$(mktemp -d /tmp/planar-planning-pg-XXXXXX)
		chmod 755 "$PGDIR"
		PLANAR_PG=$(bash -c '. tests/pg.sh; pg_start "$1/pg" >&2 && echo "$PLANAR_PG"' _ "$PGDIR")
		export PLANAR_PG
	fi
	;;
esac
"$BUILD/bench_planning" "$@"
