#!/usr/bin/env bash
# tests/s3/blob.sh path/to/planar -- end-to-end checks of `planar blob` (versioned datasets and
# checkpoints) with a local root and with an S3 root on the test server that
# tests/s3/with-server.sh starts (ctest runs it so: cli_blob):
#
# put / list / alias / get / verify round trips; metadata and job ids; versions never reused
# (a crash mid-upload, PLANAR_FAULT=blob:after-first-file, leaves no visible version and the
# next put takes the next number); four concurrent puts of one name get four versions; bad
# input (JSON, kind, names, empty folder); six concurrent puts on a PostgreSQL catalog (tests/pg.sh);
# on S3: multipart uploads, keys with spaces, '%' and
# unicode, an upload that fails midway (server errors injected by the fault proxy) recording
# nothing and removing what it uploaded, a missing bucket, wrong keys (the secret never shown).
# Prints one line per failing check, then "N passed, N failed"; exits 1 on any failure.
set -u

if [ $# -ne 1 ]; then
	echo "usage: $0 path/to/planar" >&2
	exit 2
fi
PLANAR=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
if [ -z "${PLANAR_S3_ENDPOINT:-}" ]; then
	echo "PLANAR_S3_ENDPOINT is not set: run through tests/s3/with-server.sh" >&2
	exit 2
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"

passed=0
failed=0
OUT=
ERR=
RC=0
pass() { passed=$((passed + 1)); }
fail() {
	failed=$((failed + 1))
	echo "FAIL: $1"
}
run() { # run ARGS...: runs planar; sets OUT, ERR, RC
	"$PLANAR" "$@" >"$TMP/out" 2>"$TMP/err"
	RC=$?
	OUT=$(cat "$TMP/out")
	ERR=$(cat "$TMP/err")
}
check() { # check NAME CONDITION...
	local name=$1
	shift
	if "$@"; then pass; else fail "$name (rc=$RC, out: ${OUT:0:300}, err: ${ERR:0:500})"; fi
}
has() { [[ "$1" == *"$2"* ]]; }
lacks() { [[ "$1" != *"$2"* ]]; }

LAKE=(--lake "sqlite:$TMP/meta.sqlite" --data-path "$TMP/lake/data/")
mkdir -p src/sub src2
echo hello >src/a.txt
head -c 200000 /dev/urandom >src/sub/b.bin
echo other >src2/x.txt

# ---- local root: the default, blobs/ beside the data path
run blob put src ds --kind dataset --metadata '{"rows": 3, "split": "train"}' --job-id job-7 "${LAKE[@]}"
check "put v1" [ $RC -eq 0 ]
check "put v1 says so" has "$OUT" "put ds:v1 (dataset, 2 files, 200006 bytes) $TMP/lake/blobs/datasets/ds/v1/"
check "manifest beside the objects" [ -f "$TMP/lake/blobs/datasets/ds/v1/.planar-manifest.json" ]
check "manifest names the files" grep -q '"sub/b.bin"' "$TMP/lake/blobs/datasets/ds/v1/.planar-manifest.json"
run blob put src2 ds --kind dataset "${LAKE[@]}"
check "put v2" has "$OUT" "put ds:v2 (dataset, 1 files"
run blob list ds "${LAKE[@]}"
check "list" [ $RC -eq 0 ]
check "list v1 metadata and job" has "$OUT" $'ds\t1\tdataset'
check "list v1 metadata" has "$OUT" '{"rows":3,"split":"train"}'
check "list v1 job id" has "$OUT" $'\tjob-7\t'
check "latest is v2" has "$(grep $'^ds\t2' <<<"$OUT")" $'\tlatest\t'
run blob alias ds:v1 best "${LAKE[@]}"
check "alias" has "$OUT" "alias best -> ds:v1"
run blob alias ds:v1 latest "${LAKE[@]}"
check "latest is reserved" has "$ERR" "'latest' cannot be an alias"
run blob get ds:best got1 "${LAKE[@]}"
check "get by alias" [ $RC -eq 0 ]
check "get by alias: same files" diff -r src got1
run blob get ds got2 "${LAKE[@]}"
check "get latest" diff -r src2 got2
run blob get ds:v9 got3 "${LAKE[@]}"
check "get missing version" has "$ERR" "blob 'ds' has no version 9"
run blob get ds:nosuch got3 "${LAKE[@]}"
check "get missing alias" has "$ERR" "has no alias 'nosuch'"
run blob verify ds:v1 "${LAKE[@]}"
check "verify intact" [ $RC -eq 0 ]
check "verify intact says so" has "$OUT" "every object matches its manifest"
echo changed >>"$TMP/lake/blobs/datasets/ds/v1/a.txt"
rm "$TMP/lake/blobs/datasets/ds/v1/sub/b.bin"
run blob verify ds:v1 "${LAKE[@]}"
check "verify finds damage" [ $RC -eq 1 ]
check "verify names the changed file" has "$OUT" "changed: a.txt (size 14, recorded 6"
check "verify names the vanished file" has "$OUT" "vanished: sub/b.bin"
check "verify counts" has "$ERR" "2 objects of ds:v1 changed or vanished"
run blob get ds:v1 got4 "${LAKE[@]}"
check "get refuses a changed object" [ $RC -ne 0 ]

# ---- bad input records nothing
run blob put src ds --kind dataset --metadata '{bad' "${LAKE[@]}"
check "bad metadata" has "$ERR" "--metadata is not valid JSON"
run blob put src ds --kind checkpoint "${LAKE[@]}"
check "kind fixed by the first version" has "$ERR" "blob 'ds' is a dataset, not a checkpoint"
run blob put src ds --kind model "${LAKE[@]}"
check "unknown kind" has "$ERR" "neither dataset nor checkpoint"
run blob put src ../escape --kind dataset "${LAKE[@]}"
check "bad name" has "$ERR" "cannot name a blob"
mkdir empty
run blob put empty ds --kind dataset "${LAKE[@]}"
check "empty folder" has "$ERR" "has no files to upload"
run blob list ds "${LAKE[@]}"
check "still two versions" [ "$(grep -c $'^ds\t' <<<"$OUT")" -eq 2 ]

# ---- a crash mid-upload: invisible, and its number is not reused
PLANAR_FAULT=blob:after-first-file "$PLANAR" blob put src ds --kind dataset "${LAKE[@]}" >/dev/null 2>&1
RC=$?
check "crash point reached" [ $RC -eq 99 ]
run blob list ds "${LAKE[@]}"
check "crashed version invisible" [ "$(grep -c $'^ds\t' <<<"$OUT")" -eq 2 ]
run blob get ds:v3 got5 "${LAKE[@]}"
check "crashed version cannot be read" has "$ERR" "has no version 3"
run blob put src ds --kind dataset "${LAKE[@]}"
check "next put skips the crashed number" has "$OUT" "put ds:v4"

# ---- four puts of one name at once
for i in 1 2 3 4; do
	"$PLANAR" blob put src conc --kind checkpoint "${LAKE[@]}" >"$TMP/conc$i.out" 2>&1 &
done
wait
run blob list conc "${LAKE[@]}"
check "concurrent puts: four versions" [ "$(cut -f2 <<<"$OUT" | grep -c '^[1-4]$')" -eq 4 ]
check "concurrent puts: all succeeded" [ "$(cat "$TMP"/conc*.out | grep -c '^put conc:v')" -eq 4 ]
check "concurrent puts: four folders" [ "$(ls "$TMP/lake/blobs/checkpoints/conc" | wc -l)" -eq 4 ]

# ---- a PostgreSQL catalog: concurrent puts there race at READ COMMITTED and retry on the key
. "$(dirname "$0")/../pg.sh"
PG_STARTED=0
trap '[ "$PG_STARTED" = 1 ] && pg_stop "$TMP/pg"; rm -rf "$TMP"' EXIT
chmod 755 "$TMP" # the server runs as the postgres user when the tests run as root
if pg_bindir >/dev/null 2>&1 && pg_start "$TMP/pg" >/dev/null 2>&1; then
	PG_STARTED=1
	PLAKE=(--lake "postgres:$PLANAR_PG" --data-path "$TMP/pglake/data/")
	run -c "SELECT 1" "${PLAKE[@]}" # the lake exists; its blob tables do not yet
	for i in 1 2 3 4 5 6; do
		"$PLANAR" blob put src pgconc --kind dataset --root "$TMP/pgblobs" "${PLAKE[@]}" >"$TMP/pg$i.out" 2>&1 &
	done
	wait
	run blob list pgconc "${PLAKE[@]}"
	check "postgres: six concurrent puts, six versions" [ "$(cut -f2 <<<"$OUT" | grep -c '^[1-6]$')" -eq 6 ]
	check "postgres: all succeeded" [ "$(cat "$TMP"/pg?.out | grep -c '^put pgconc:v')" -eq 6 ]
	run blob get pgconc:v3 pgot "${PLAKE[@]}"
	check "postgres: get" diff -r src pgot
	pg_stop "$TMP/pg"
	PG_STARTED=0
else
	fail "postgres: no server could be started (apt-get install postgresql)"
fi

# ---- the same from SQL: versions and manifests beside a table snapshot
run -csv -c "SELECT name, version, kind, aliases, job_id, metadata FROM planar_blob_versions('lake') WHERE name = 'ds' ORDER BY version" "${LAKE[@]}"
check "sql versions" has "$OUT" 'ds,1,dataset,[best],job-7,"{""rows"":3,""split"":""train""}"'
check "sql versions: latest" has "$OUT" "ds,4,dataset,[latest]"
run -csv -c "SELECT path, size FROM planar_blob_files('lake') WHERE name = 'ds' AND version = 1 ORDER BY path" "${LAKE[@]}"
check "sql manifest" has "$OUT" $'a.txt,6\nsub/b.bin,200000'
run -csv -c "SELECT v.version, f.sha256 = '$(sha256sum src/a.txt | cut -d' ' -f1)' AS same, (SELECT max(snapshot_id) FROM ducklake_snapshots('lake')) AS snap FROM planar_blob_versions('lake') v JOIN planar_blob_files('lake') f USING (name, version) WHERE v.name = 'ds' AND list_contains(v.aliases, 'best') AND f.path = 'a.txt'" "${LAKE[@]}"
check "sql pin a version and a snapshot" has "$OUT" "1,true,0"

# ---- the lake is still a DuckLake lake
run -c "CREATE TABLE t(i INT)" -c "INSERT INTO t VALUES (1)" -c "SELECT count(*) FROM ducklake_snapshots('lake')" "${LAKE[@]}"
check "lake still works beside the blob tables" [ $RC -eq 0 ]

# ---- S3 root, DuckDB-file catalog
export PLANAR_S3_MULTIPART_THRESHOLD=100000 PLANAR_S3_PART_SIZE=65536
SLAKE=(--lake "duckdb:$TMP/s3meta.ducklake" --data-path "$TMP/s3lake/data/")
ROOT="s3://$PLANAR_S3_BUCKET/team/blobs"
mkdir -p s3src/dir\ with\ space
cp src/sub/b.bin "s3src/dir with space/b c%.bin"
echo unicode >"s3src/$(printf '\xc3\xbc')ber.txt"
run blob put s3src model --kind checkpoint --job-id train-1 --root "$ROOT" "${SLAKE[@]}"
check "s3 put" has "$OUT" "put model:v1 (checkpoint, 2 files, 200008 bytes) $ROOT/checkpoints/model/v1/"
run blob put s3src model --kind checkpoint --root "$ROOT" "${SLAKE[@]}"
check "s3 put v2" has "$OUT" "put model:v2"
run blob alias model:v1 good "${SLAKE[@]}"
run blob get model:good s3got "${SLAKE[@]}"
check "s3 get" [ $RC -eq 0 ]
check "s3 get: same files" diff -r s3src s3got
run blob verify model:v2 "${SLAKE[@]}"
check "s3 verify" has "$OUT" "every object matches its manifest"
run blob list model "${SLAKE[@]}"
check "s3 list" has "$OUT" "$ROOT/checkpoints/model/v2/"
check "s3 objects on the server" [ -n "$(find "$PLANAR_S3_DATA_DIR/$PLANAR_S3_BUCKET/team/blobs/checkpoints/model/v1" -name '.planar-manifest.json*' 2>/dev/null)" ]

# an upload that fails midway (the proxy answers 500 to the second file): nothing recorded,
# the first file removed again
mkdir -p mid/z
echo first >mid/a.txt
echo second >mid/z/fault-500always.bin
AWS_ENDPOINT_URL=$PLANAR_S3_PROXY run blob put mid midway --kind dataset --root "$ROOT" "${SLAKE[@]}"
check "failing upload fails" [ $RC -ne 0 ]
check "failing upload: clear message" has "$ERR" "blob put of midway v1 failed, no version was recorded: S3 upload (PUT) of $ROOT/datasets/midway/v1/z/fault-500always.bin failed: HTTP 500 InternalError"
run blob list midway "${SLAKE[@]}"
check "failing upload: no version" [ "$(grep -c $'^midway\t' <<<"$OUT")" -eq 0 ]
check "failing upload: uploaded file removed" [ -z "$(find "$PLANAR_S3_DATA_DIR/$PLANAR_S3_BUCKET/team/blobs/datasets/midway" -type f 2>/dev/null)" ]
mkdir -p mid2 && echo ok >mid2/a.txt
run blob put mid2 midway --kind dataset --root "$ROOT" "${SLAKE[@]}"
check "after a failed upload the next number" has "$OUT" "put midway:v2"

# missing bucket, wrong keys
run blob put src nb --kind dataset --root "s3://no-such-bucket/x" "${SLAKE[@]}"
check "missing bucket" has "$ERR" "bucket 'no-such-bucket' does not exist"
check "missing bucket: checked first" has "$ERR" "access check (list) of s3://no-such-bucket/x/ failed"
run blob list nb "${SLAKE[@]}"
check "missing bucket: no version" [ "$(grep -c $'^nb\t' <<<"$OUT")" -eq 0 ]
AWS_ACCESS_KEY_ID=WRONGKEY AWS_SECRET_ACCESS_KEY=do-not-print-me run blob put src wk --kind dataset --root "$ROOT" "${SLAKE[@]}"
check "wrong key id" has "$ERR" "InvalidAccessKeyId"
check "wrong key: what to check" has "$ERR" "check the key id"
check "wrong key: checked before anything is written" lacks "$ERR" "no version was recorded"
check "secret never shown" lacks "$ERR$OUT" "do-not-print-me"
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$PLANAR" blob put src nk --kind dataset --root "$ROOT" "${SLAKE[@]}" >"$TMP/out" 2>"$TMP/err"
RC=$?
ERR=$(cat "$TMP/err")
check "no credentials" has "$ERR" "no S3 credentials in the environment"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
