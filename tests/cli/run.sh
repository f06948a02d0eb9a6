#!/usr/bin/env bash
# tests/cli/run.sh -- end-to-end checks of the `planar` command and its SQL shell.
#
# Usage: tests/cli/run.sh path/to/planar   (ctest runs it from the project root)
# Covers -c, script files, piped stdin, exit codes, output modes, dot-commands, --lake and,
# through script(1), the interactive shell.
# Prints one line per failing check, then "N passed, N failed, N skipped"; exits 1 on any
# failure, else 77 (reported by ctest as skipped) when a group of checks could not run (no
# script(1) on this machine), else 0.
set -u

if [ $# -ne 1 ]; then
	echo "usage: $0 path/to/planar" >&2
	exit 2
fi
PLANAR=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export HOME="$TMP/home" # the interactive shell writes its history there
mkdir -p "$HOME"

passed=0
failed=0
skipped=0
OUT=
ERR=
RC=0

pass() { passed=$((passed + 1)); }
fail() {
	failed=$((failed + 1))
	echo "FAIL: $1"
}

# run [<stdin-file>] -- ARGS...: runs planar, sets OUT, ERR and RC. stdin is /dev/null by default.
run() {
	local input=/dev/null
	if [ "$1" != "--" ]; then
		input=$1
		shift
	fi
	shift
	OUT=$("$PLANAR" "$@" <"$input" 2>"$TMP/stderr")
	RC=$?
	ERR=$(cat "$TMP/stderr")
}

expect_rc() { # NAME WANT
	if [ "$RC" -eq "$2" ]; then pass; else fail "$1: exit code $RC, want $2 (stderr: ${ERR:0:200})"; fi
}
expect_fail() { # NAME: non-zero exit and an "Error:" line
	if [ "$RC" -ne 0 ] && [[ "$ERR" == *"Error"* ]]; then pass; else fail "$1: exit $RC, stderr '${ERR:0:200}'"; fi
}
expect_out() { # NAME WANT
	if [ "$OUT" == "$2" ]; then
		pass
	else
		fail "$1: stdout differs"
		diff <(printf '%s\n' "$2") <(printf '%s\n' "$OUT") | head -20 | sed 's/^/    /'
	fi
}
expect_has() { # NAME TEXT
	if [[ "$OUT" == *"$2"* ]]; then pass; else fail "$1: stdout lacks '$2': ${OUT:0:300}"; fi
}
expect_lacks() { # NAME TEXT
	if [[ "$OUT" != *"$2"* ]]; then pass; else fail "$1: stdout has '$2'"; fi
}
expect_err_has() { # NAME TEXT
	if [[ "$ERR" == *"$2"* ]]; then pass; else fail "$1: stderr lacks '$2': ${ERR:0:300}"; fi
}

script_file() { # NAME <<EOF: writes $TMP/NAME from stdin and prints its path
	cat >"$TMP/$1"
	echo "$TMP/$1"
}

# --- -c ---------------------------------------------------------------------------------------

run -- -c "SELECT 42 AS a, 'hello' AS b"
expect_rc "-c exit code" 0
expect_out "-c box output" "┌───────┬─────────┐
│   a   │    b    │
│ int32 │ varchar │
├───────┼─────────┤
│    42 │ hello   │
└───────┴─────────┘"

run -- -csv -c "SELECT 1 AS x" -c "SELECT 2 AS y"
expect_out "-c repeated runs in order" "x
1
y
2"

run -- -csv -c "SELECT 1 AS a; SELECT 2 AS b;"
expect_out "-c with two statements prints both" "a
1
b
2"

run -- -csv -c "SELECT 1 AS a" -c "SELEC oops" -c "SELECT 3 AS c"
expect_fail "-c failure exits non-zero"
expect_has "-c runs statements before the failure" "a"
expect_lacks "-c stops at the failure" "c"
expect_err_has "-c error message" "Error: "

run -- -csv -c "SELECT 1 AS a; SELECT * FROM no_such_table; SELECT 3 AS c"
expect_fail "failure inside one -c string"
expect_lacks "failure inside one -c string stops it" "c"

run -- -c ""
expect_rc "empty -c is fine" 0

# --- scripts: files and stdin -------------------------------------------------------------------

basic=$(script_file basic.sql <<'EOF'
-- comments and blank lines are fine

CREATE TABLE t(a INTEGER, b VARCHAR);
INSERT INTO t VALUES (1, 'one'), (2, 'it''s; two');
.mode csv
SELECT *
  FROM t
  ORDER BY a;
SELECT 'x' AS y /* ; */ ; SELECT 'semi;colon' AS z;
SELECT 99 AS last
EOF
)
want_basic="a,b
1,one
2,it's; two
y
x
z
semi;colon
last
99"
run -- "$basic"
expect_rc "FILE exit code" 0
expect_out "FILE output (DDL/DML print nothing, last statement without ;)" "$want_basic"
run "$basic" --
expect_rc "stdin script exit code" 0
expect_out "stdin script output" "$want_basic"
run "$basic" -- -
expect_out "FILE - reads stdin" "$want_basic"

bad=$(script_file bad.sql <<'EOF'
.mode csv
SELECT 1 AS before;
SELECT * FROM missing_table;
SELECT 2 AS after;
EOF
)
run -- "$bad"
expect_fail "FILE with an error exits non-zero"
expect_has "FILE runs statements before the error" "before"
expect_lacks "FILE stops at the first error" "after"
expect_err_has "FILE error names the problem" "missing_table"
run "$bad" --
expect_fail "stdin script with an error exits non-zero"
expect_lacks "stdin script stops at the first error" "after"

nobail=$(script_file nobail.sql <<'EOF'
.bail off
.mode csv
SELECT * FROM missing_table;
SELECT 2 AS after;
EOF
)
run "$nobail" --
expect_fail ".bail off still exits non-zero"
expect_has ".bail off continues after an error" "after"

run -- "$TMP/does-not-exist.sql"
expect_fail "missing FILE"

run -- -csv "$basic" -c "SELECT 7 AS seven"
expect_has "FILE then -c share the session" "seven"

dollar=$(script_file dollar.sql <<'EOF'
.mode list
SELECT $$a;b$$ AS d;
SELECT $tag$ it's; $tag$ AS e;
SELECT E'q\';' AS f;
SELECT "odd;name" FROM (SELECT 1 AS "odd;name");
EOF
)
run -- "$dollar"
expect_rc "quotes and dollar quoting" 0
expect_out "statement splitting respects quotes" "d
a;b
e
 it's; 
f
q';
odd;name
1"

quit=$(script_file quit.sql <<'EOF'
.mode csv
SELECT 1 AS one;
.exit 3
SELECT 2 AS two;
EOF
)
run -- "$quit"
expect_rc ".exit CODE sets the exit code" 3
expect_lacks ".exit stops the script" "two"
run -- -c ".quit" -c "SELECT 5 AS five"
expect_rc ".quit exits 0" 0
expect_lacks ".quit stops" "five"

# --- output modes ---------------------------------------------------------------------------------

run -- -csv -c "SELECT 1 AS a, 'x,y' AS b, 'q\"q' AS c, NULL AS d, 'l1' || chr(10) || 'l2' AS e"
expect_out "csv quoting" 'a,b,c,d,e
1,"x,y","q""q",NULL,"l1
l2"'

run -- -c ".mode csv" -c ".headers off" -c "SELECT 1 AS a, 2 AS b"
expect_out ".headers off" "1,2"

run -- -json -c "SELECT 1 AS a, 'x\"y' AS b, NULL AS n, true AS t, 1.5::DOUBLE AS f FROM range(2)"
expect_out "json" '[{"a":1,"b":"x\"y","n":null,"t":true,"f":1.5},
{"a":1,"b":"x\"y","n":null,"t":true,"f":1.5}]'
run -- -json -c "SELECT 1 AS a WHERE false"
expect_out "json with no rows" "[]"
run -- -json -c "SELECT 'tab'||chr(9)||'nl'||chr(10) AS s, 'inf'::DOUBLE AS g"
expect_out "json escapes and non-finite numbers" '[{"s":"tab\tnl\n","g":"inf"}]'

run -- -line -c "SELECT 1 AS a, 'hello' AS longname FROM range(2)"
expect_out "line" "       a = 1
longname = hello

       a = 1
longname = hello"

run -- -list -c "SELECT 1 AS a, 'x' AS b, NULL AS c"
expect_out "list" "a|b|c
1|x|NULL"

run -- -markdown -c "SELECT 1 AS a, 'x|y' AS bcd"
expect_out "markdown" "| a | bcd  |
|--:|------|
| 1 | x\\|y |"

run -- -c ".mode json" -c ".mode" -c "SELECT 1 AS a"
expect_out ".mode without argument shows the mode" 'current output mode: json
[{"a":1}]'

run -- -c ".mode nosuchmode"
expect_fail "unknown mode"

run -- -c ".nullvalue (null)" -c "SELECT NULL AS n, 1 AS i"
expect_has ".nullvalue" "(null)"

run -- -c "SELECT NULL::INTEGER AS n, NULL::VARCHAR AS s"
expect_out "box NULL alignment" "┌───────┬─────────┐
│   n   │    s    │
│ int32 │ varchar │
├───────┼─────────┤
│  NULL │ NULL    │
└───────┴─────────┘"

run -- -c "SELECT 1 AS a WHERE false"
expect_out "box with no rows" "┌────────┐
│   a    │
│ int32  │
├────────┤
│ 0 rows │
└────────┘"

run -- -c "CREATE TABLE t(a INTEGER)"
expect_out "statements without a result print nothing" ""

run -- -c "SELECT * FROM range(100) t(i)"
expect_has "box elides the middle of long results" "│          · │"
expect_has "box footer counts rows" "100 rows"
expect_has "box footer counts shown rows" "(40 shown)"
expect_has "box shows the first rows" "│          0 │"
expect_has "box shows the last rows" "│         99 │"
expect_lacks "box hides the middle rows" "│         50 │"
if [ "$(printf '%s\n' "$OUT" | wc -l)" -eq 51 ]; then pass; else fail "box with 100 rows has 51 lines"; fi

run -- -c ".maxrows 4" -c "SELECT * FROM range(10) t(i)"
expect_has ".maxrows" "(4 shown)"
run -- -c ".maxrows 0" -c "SELECT * FROM range(100) t(i)"
expect_has ".maxrows 0 shows every row" "│    50 │"

run -- -c "SELECT i, i * 2 AS j, 'some text' AS k FROM range(12) t(i)"
expect_has "box footer with rows and columns" "│ 12 rows         3 columns │"

run -- -c "SELECT 'é世界' AS w, 1 AS n"
expect_out "box counts display width of UTF-8" "┌─────────┬───────┐
│    w    │   n   │
│ varchar │ int32 │
├─────────┼───────┤
│ é世界   │     1 │
└─────────┴───────┘"

run -- -c ".maxwidth 40" -c "SELECT repeat('x', 100) AS long, 'short' AS s"
expect_has ".maxwidth truncates long values" "…"
widest=$(printf '%s\n' "$OUT" | while IFS= read -r l; do echo "${#l}"; done | sort -n | tail -1)
if [ "${widest:-999}" -le 40 ]; then pass; else fail ".maxwidth 40 gives lines of $widest characters"; fi

run -- -c ".maxwidth 60" -c "SELECT $(for i in $(seq 1 20); do printf "'value%d' AS column_%d," "$i" "$i"; done) 0 AS last"
expect_has "box prunes columns that do not fit" "21 columns ("
expect_has "box keeps the last column" "last"

run -- -c "EXPLAIN SELECT 1"
expect_lacks "box prints EXPLAIN plans as they are" "explain_key"
expect_has "EXPLAIN plan drawn" "┌"

run -- -c "SELECT repeat('x', 300) AS long"
expect_lacks "output to a pipe is not truncated" "…"

# --- dot-commands -----------------------------------------------------------------------------------

run -- -c "CREATE TABLE t1(a INTEGER); CREATE VIEW v1 AS SELECT 1 AS x; CREATE TEMP TABLE tmp1(b INTEGER);" -c ".tables"
expect_has ".tables lists tables" "t1"
expect_has ".tables lists views" "v1"
expect_has ".tables lists temp tables" "tmp1"
expect_lacks ".tables hides system views" "duckdb_"
run -- -c "CREATE TABLE t1(a INTEGER); CREATE TABLE other(b INTEGER);" -c ".tables t%"
expect_out ".tables PATTERN" "t1"

run -- -c "CREATE TABLE t1(a INTEGER, b VARCHAR); CREATE VIEW v1 AS SELECT 1 AS x;" -c ".schema"
expect_has ".schema shows CREATE TABLE" "CREATE TABLE t1(a INTEGER, b VARCHAR);"
expect_has ".schema shows CREATE VIEW" "CREATE VIEW v1"
run -- -c "CREATE TABLE t1(a INTEGER); CREATE VIEW v1 AS SELECT 1 AS x;" -c ".schema v1"
expect_lacks ".schema NAME filters" "CREATE TABLE"
expect_has ".schema NAME shows the match" "CREATE VIEW v1"

run -- -c ".help"
expect_has ".help lists .mode" ".mode"
expect_has ".help lists .tables" ".tables"

run -- -c ".nosuchcommand"
expect_fail "unknown dot-command"
expect_err_has "unknown dot-command message" "nosuchcommand"
run -- -c ".mode a b c"
expect_fail "dot-command with too many arguments"
run -- -c ".timer maybe"
expect_fail "dot-command with a bad on/off value"

run -- -c ".timer on" -c "SELECT 1 AS a"
expect_has ".timer" "Run Time (s): real"
run -- -c ".echo on" -c ".mode csv" -c "SELECT 1 AS a"
expect_has ".echo prints the command" "SELECT 1 AS a"

inner=$(script_file inner.sql <<'EOF'
SELECT 'from inner' AS r;
EOF
)
run -- -csv -c ".read $inner"
expect_out ".read" "r
from inner"
run -- -c ".read $TMP/missing.sql"
expect_fail ".read of a missing file"

run -- -c ".output $TMP/out.txt" -c ".mode csv" -c "SELECT 'to file' AS f" -c ".output" -c "SELECT 2 AS g"
expect_out ".output leaves stdout alone" "g
2"
if [ "$(cat "$TMP/out.txt" 2>/dev/null)" == "f
to file" ]; then pass; else fail ".output writes the file"; fi

# --- options ------------------------------------------------------------------------------------------

run -- --help
expect_rc "--help exits 0" 0
expect_has "--help shows usage" "Usage: planar"
expect_has "--help lists --lake" "--lake"
run -- -h
expect_has "-h shows usage" "Usage: planar"
run -- --version
expect_rc "--version exits 0" 0
expect_has "--version prints the version" "planar "
run -- --no-such-option
expect_fail "unknown option"
run -- -c
expect_fail "option without its value"
run -- --data-path /tmp
expect_fail "--data-path without --lake"
run -- --csv --c="SELECT 1 AS a"
expect_out "--long and --opt=value forms" "a
1"
run -- -cmd ".mode csv" -c "SELECT 1 AS a"
expect_out "-cmd runs first" "a
1"
run -- -nullvalue "-" -list -noheader -c "SELECT NULL"
expect_out "-nullvalue and -noheader" "-"
run -- test "$TMP/no-such-file.test"
if [ "$RC" -ne 0 ]; then pass; else fail "planar test dispatches to the test runner"; fi

# --- --lake -------------------------------------------------------------------------------------------

mkdir -p "$TMP/it's"
probe="$TMP/probe.ducklake"
run -- -c "ATTACH 'ducklake:$probe' AS probe (DATA_PATH '$TMP/probe_data')"
expect_rc "ATTACH a lake" 0
lakes=("$TMP/it's/meta.ducklake" "ducklake:sqlite:$TMP/it's/meta.sqlite")
for uri in "${lakes[@]}"; do
	run -- --lake "$uri" --data-path "$TMP/it's/data-${#uri}" -csv \
		-c "CREATE TABLE items(id INTEGER, name VARCHAR); INSERT INTO items VALUES (1, 'a'), (2, 'b');"
	expect_rc "--lake $uri: create and insert" 0
	run -- --lake "$uri" --data-path "$TMP/it's/data-${#uri}" -csv -c "SELECT * FROM items ORDER BY id"
	expect_out "--lake $uri: data persists" "id,name
1,a
2,b"
	run -- --lake "$uri" --data-path "$TMP/it's/data-${#uri}" -c ".tables"
	expect_has "--lake $uri: .tables lists lake tables" "items"
	run -- --lake "$uri" --lake-name "my lake" --data-path "$TMP/it's/data-${#uri}" -csv \
		-c "SELECT count(*) AS n FROM \"my lake\".items"
	expect_out "--lake-name" "n
2"
done
echo "not a directory" >"$TMP/plain-file"
run -- --lake "$TMP/plain-file/meta.ducklake" -c "SELECT 1 AS never"
expect_fail "--lake that cannot be opened"
expect_lacks "--lake failure stops before the commands" "never"

# --- interactive (through a pseudo-terminal) ------------------------------------------------------

if command -v script >/dev/null 2>&1; then
	printf 'SELECT 1 AS a,\n  2 AS b;\n.mode csv\nSELEC 1;\nSELECT 3 AS c;\n.quit\n' >"$TMP/tty-input"
	OUT=$(script -qfec "$PLANAR" /dev/null <"$TMP/tty-input" 2>&1)
	RC=$?
	expect_rc "interactive: .quit exits 0" 0
	expect_has "interactive: prompt" "P "
	expect_has "interactive: multi-line statement" "│     1 │     2 │"
	expect_has "interactive: error does not stop the shell" "Error: "
	expect_has "interactive: runs on after an error" "c"
	# libedit stores entries vis(3)-encoded: spaces become \040
	if grep -q 'SELECT.*3.*AS.*c;' "$HOME/.planar_history" 2>/dev/null; then pass; else fail "interactive: history file"; fi
else
	skipped=$((skipped + 6))
	echo "SKIPPED: 6 interactive checks (script(1) not found; it comes with Debian's bsdutils)"
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] || exit 1
[ "$passed" -gt 0 ] || { echo "FAIL: no check ran"; exit 1; }
[ "$skipped" -eq 0 ] || exit 77
