#!/usr/bin/env bash
# bench/s3lake.sh -- a lake on S3 (the test server on loopback, tests/s3/s3.sh) against the same
# lake on local disk and against curl moving the same bytes:
#   warm scans   the same queries on the local lake and on the S3 lake with a warm cache;
#   cold query   the first query on the S3 lake with an empty cache, against curl --parallel GETs
#                of the same files followed by the same query on the local lake (warm);
#   bulk INSERT  an INSERT into the S3 lake, against the same INSERT into the local lake plus
#                curl --parallel PUTs of the files it wrote (the bytes S3 must receive).
# Prints medians over the repetitions and the ratios.
#
# usage: bench/s3lake.sh [PLANAR] [--files N] [--rows R] [--reps K] [--queries Q]
#   PLANAR defaults to build/planar; N=8 files of R=400000 rows, K=3 repetitions, Q=10 queries
#   per warm run. PLANAR_S3_PARALLEL (default 8) is used for curl's --parallel-max too.
set -u
cd "$(dirname "$0")/.."
PLANAR=build/planar
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then PLANAR=$1; shift; fi
PLANAR=$(cd "$(dirname "$PLANAR")" && pwd)/$(basename "$PLANAR")
FILES=8 ROWS=400000 REPS=3 QUERIES=10
while [ $# -gt 0 ]; do
	case "$1" in
	--files) FILES=$2; shift 2 ;;
	--rows) ROWS=$2; shift 2 ;;
	--reps) REPS=$2; shift 2 ;;
	--queries) QUERIES=$2; shift 2 ;;
	*) echo "unknown option $1" >&2; exit 2 ;;
	esac
done
PAR=${PLANAR_S3_PARALLEL:-8}
. tests/s3/s3.sh
TMP=$(mktemp -d)
trap 's3_stop "$TMP/s3"; rm -rf "$TMP"' EXIT
s3_start "$TMP/s3" bench || exit $?
export PLANAR_S3_CACHE_DIR=$TMP/cache
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
elapsed() { echo "$2 - $1" | bc; }
SECRET="CREATE SECRET (TYPE s3, KEY_ID '$AWS_ACCESS_KEY_ID', SECRET '$AWS_SECRET_ACCESS_KEY', ENDPOINT '$PLANAR_S3_ENDPOINT')"
LOCAL="ATTACH 'ducklake:sqlite:$TMP/local.sqlite' AS lake (DATA_PATH '$TMP/localdata/')"
REMOTE="ATTACH 'ducklake:sqlite:$TMP/s3.sqlite' AS lake (DATA_PATH 's3://bench/lake/')"
INSERT="INSERT INTO lake.t SELECT range AS id, range % 1000 AS k, random() AS x, md5(range::VARCHAR) AS s FROM range($ROWS)"
QUERY="SELECT k, count(*), sum(x), max(s) FROM lake.t WHERE id % 7 = 3 GROUP BY k ORDER BY k LIMIT 3"
"$PLANAR" -c "$LOCAL" -c "CREATE TABLE lake.t(id BIGINT, k INT, x DOUBLE, s VARCHAR)" >/dev/null || exit 1
"$PLANAR" -c "$SECRET" -c "$REMOTE" -c "CREATE TABLE lake.t(id BIGINT, k INT, x DOUBLE, s VARCHAR)" >/dev/null || exit 1

# ---- bulk INSERT: FILES inserts of ROWS rows each ----
: >"$TMP/ins_local.t"; : >"$TMP/ins_s3.t"; : >"$TMP/put.t"
ins_args=()
for _ in $(seq 1 "$FILES"); do ins_args+=(-c "$INSERT"); done
for r in $(seq 1 "$REPS"); do
	t0=$(now)
	"$PLANAR" -c "$LOCAL" -c "BEGIN" "${ins_args[@]}" -c "COMMIT" >/dev/null || exit 1
	t1=$(now)
	elapsed "$t0" "$t1" >>"$TMP/ins_local.t"
	t0=$(now)
	"$PLANAR" -c "$SECRET" -c "$REMOTE" -c "BEGIN" "${ins_args[@]}" -c "COMMIT" >/dev/null || exit 1
	t1=$(now)
	elapsed "$t0" "$t1" >>"$TMP/ins_s3.t"
	# the same bytes, sent by curl: the files this repetition's local INSERT wrote
	: >"$TMP/put.cfg"
	find "$TMP/localdata" -name '*.parquet' -printf '%T@ %p\n' | sort -rn | head -n "$FILES" | cut -d' ' -f2- >"$TMP/put.list"
	i=0
	while read -r f; do
		i=$((i + 1))
		printf 'upload-file = "%s"\nurl = "%s/bench/curl/r%s/f%s.parquet"\n' "$f" "$PLANAR_S3_ENDPOINT" "$r" "$i" >>"$TMP/put.cfg"
	done <"$TMP/put.list"
	t0=$(now)
	curl -sS --fail --parallel --parallel-max "$PAR" --aws-sigv4 "aws:amz:us-east-1:s3" \
		--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
		-K "$TMP/put.cfg" -o /dev/null || exit 1
	t1=$(now)
	elapsed "$t0" "$t1" >>"$TMP/put.t"
done
bytes=$(du -cb $(cat "$TMP/put.list") | tail -1 | cut -f1)

# ---- warm scans ----
q_args=()
for _ in $(seq 1 "$QUERIES"); do q_args+=(-c "$QUERY"); done
"$PLANAR" -c "$SECRET" -c "$REMOTE" -c "$QUERY" >/dev/null || exit 1 # warms the cache
: >"$TMP/warm_local.t"; : >"$TMP/warm_s3.t"
for _ in $(seq 1 "$REPS"); do
	t0=$(now)
	"$PLANAR" -c "$LOCAL" "${q_args[@]}" >/dev/null || exit 1
	t1=$(now)
	elapsed "$t0" "$t1" >>"$TMP/warm_local.t"
	t0=$(now)
	"$PLANAR" -c "$SECRET" -c "$REMOTE" "${q_args[@]}" >/dev/null || exit 1
	t1=$(now)
	elapsed "$t0" "$t1" >>"$TMP/warm_s3.t"
done

# ---- cold first query ----
: >"$TMP/cold_s3.t"; : >"$TMP/cold_base.t"
: >"$TMP/get.cfg"
i=0
for key in $(cd "$TMP/s3/data/bench" && find lake -name '*._S3rver_object' | sed 's/\._S3rver_object$//'); do
	i=$((i + 1))
	printf 'url = "%s/bench/%s"\noutput = "%s/get/f%s"\n' "$PLANAR_S3_ENDPOINT" "$key" "$TMP" "$i" >>"$TMP/get.cfg"
done
nobj=$i
for _ in $(seq 1 "$REPS"); do
	rm -rf "$PLANAR_S3_CACHE_DIR"
	t0=$(now)
	"$PLANAR" -c "$SECRET" -c "$REMOTE" -c "$QUERY" >/dev/null || exit 1
	t1=$(now)
	elapsed "$t0" "$t1" >>"$TMP/cold_s3.t"
	rm -rf "$TMP/get"
	mkdir -p "$TMP/get"
	t0=$(now)
	curl -sS --fail --parallel --parallel-max "$PAR" --aws-sigv4 "aws:amz:us-east-1:s3" \
		--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
		-K "$TMP/get.cfg" 2>"$TMP/get.err" || { cat "$TMP/get.err" >&2; exit 1; }
	"$PLANAR" -c "$LOCAL" -c "$QUERY" >/dev/null || exit 1
	t1=$(now)
	elapsed "$t0" "$t1" >>"$TMP/cold_base.t"
done

il=$(median <"$TMP/ins_local.t"); is=$(median <"$TMP/ins_s3.t"); ip=$(median <"$TMP/put.t")
wl=$(median <"$TMP/warm_local.t"); ws=$(median <"$TMP/warm_s3.t")
cs=$(median <"$TMP/cold_s3.t"); cb=$(median <"$TMP/cold_base.t")
mb=$(echo "$bytes / 1000000" | bc -l)
printf 'S3 lake vs local lake, %d files x %d rows (%.0f MB), median of %d, %d transfers at once\n' "$FILES" "$ROWS" "$mb" "$REPS" "$PAR"
printf '  warm scans (%d queries)     local %7.2f s   s3 %7.2f s   ratio %5.2f\n' "$QUERIES" "$wl" "$ws" "$(echo "$ws / $wl" | bc -l)"
printf '  cold first query            s3 %7.2f s   curl GETs + local query %7.2f s   ratio %5.2f  (%d objects)\n' "$cs" "$cb" "$(echo "$cs / $cb" | bc -l)" "$nobj"
printf '  bulk INSERT                 local %7.2f s   s3 %7.2f s   curl PUTs %7.2f s\n' "$il" "$is" "$ip"
printf '    upload throughput: s3 INSERT beyond local %.1f MB/s, curl %.1f MB/s, ratio %5.2f\n' \
	"$(echo "$mb / ($is - $il)" | bc -l)" "$(echo "$mb / $ip" | bc -l)" "$(echo "$ip / ($is - $il)" | bc -l)"
printf '    whole INSERT: (local INSERT + curl PUTs) / s3 INSERT = %5.2f\n' "$(echo "($il + $ip) / $is" | bc -l)"
