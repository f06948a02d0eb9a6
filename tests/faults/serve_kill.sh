#!/usr/bin/env bash
# kill -9 of `planar serve` under a concurrent write load: every acknowledged row is in the lake
# exactly once after a restart, no request is half written (its records all there or none),
# and a retry of every request with its Idempotency-Key after the restart leaves every request
# written exactly once. Three rounds, each killing the server at a different moment.
#   tests/faults/serve_kill.sh PATH/TO/planar
# Needs curl(1); exits 77 (skipped) without it.
set -uo pipefail
. "$(dirname "$0")/../server/lib.sh"
planar=$(realpath "$1")
command -v curl >/dev/null 2>&1 || { echo "curl not found: skipped"; exit 77; }
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
[ -n "${KEEP_LOG:-}" ] && trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; cp "$work/log" "$KEEP_LOG"; rm -rf "$work"' EXIT
lakeuri="sqlite:$work/meta.sqlite"
lake() { "$planar" -csv -noheader --lake "$lakeuri" --data-path "$work/data/" "$@"; }
lake -c "CREATE TABLE ev(req BIGINT NOT NULL, part INTEGER NOT NULL)" || { echo "setup failed"; exit 1; }
W=$("$planar" token create --lake "$lakeuri" --tenant t1 --role writer | tail -n 1)

start() {
  "$planar" serve --lake "$lakeuri" --data-path "$work/data/" --listen 127.0.0.1:0 --flush-rows 2000 --flush-secs 5 \
    2>> "$work/log" &
  pid=$!
  local port=
  : > "$work/port"
  port=$(listening_port "$work/log" "$pid" "$(cat "$work/lastport" 2>/dev/null)")
  [ -n "$port" ] || { echo "server did not start:"; cat "$work/log"; exit 1; }
  echo "$port" > "$work/lastport"
  base="http://127.0.0.1:$port"
}
body() { # body REQ: five records of request REQ
  printf '{"table":"ev","tenant_id":"t1","job_id":"kill","schema_version":%s,"records":[' "$sv"
  for p in 0 1 2 3 4; do printf '%s{"req":%d,"part":%d}' "$([ $p -gt 0 ] && echo ,)" "$1" "$p"; done
  printf ']}'
}
send() { # send REQ: prints REQ when acknowledged (201)
  local code
  code=$(curl -s -m 20 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $W" -H 'Content-Type: application/json' \
    -H "Idempotency-Key: req-$1" --data-binary "$(body "$1")" "$base/data/ingest")
  [ "$code" = 201 ] && echo "$1"
}
client() { # client ROUND N: requests ROUND*100000 + N*1000 + i until the server is gone
  local i=0
  while [ $i -lt 900 ]; do
    send $(( $1 * 100000 + $2 * 1000 + i )) || { kill -0 "$pid" 2>/dev/null || break; }
    i=$((i + 1))
  done
}
# the schema version ingests name: the server's first start creates the data-plane tables
start
kill -TERM "$pid"; wait "$pid"; pid=
sv=$(lake -c "SELECT schema_version FROM ducklake_snapshots('lake') ORDER BY snapshot_id DESC LIMIT 1")
for round in 1 2 3; do
  start
  cpids=()
  for n in $(seq 1 12); do client "$round" "$n" >> "$work/acked.$round" & cpids+=($!); done
  # kill at a different moment each round (after some acknowledged writes)
  for _ in $(seq 1 600); do [ "$(wc -l < "$work/acked.$round" 2>/dev/null || echo 0)" -ge $((round * 60)) ] && break; sleep 0.05; done
  sleep "0.$((round * 3))"
  kill -9 "$pid"; wait "$pid" 2>/dev/null; pid=
  wait "${cpids[@]}"
  acked=$(sort -u "$work/acked.$round" | wc -l)
  echo "round $round: $acked requests acknowledged before kill -9 ($(date +%T))"
  check "round $round: some writes acknowledged" "1" "$([ "$acked" -gt 0 ] && echo 1)"
  # after the restart (no server needed to read the lake)
  sort -u "$work/acked.$round" > "$work/acked.sorted"
  lake -c "SELECT req, count(*) FROM ev WHERE req >= $((round * 100000)) AND req < $(((round + 1) * 100000)) GROUP BY req" \
    | tr -d '"' | sort > "$work/present"
  missing=$(cut -d, -f1 "$work/present" | sort | comm -23 "$work/acked.sorted" - | wc -l)
  check "round $round: every acknowledged request is in the lake" "0" "$missing"
  check "round $round: every request present has exactly its 5 rows (no half batch, no duplicate)" "" \
    "$(awk -F, '$2 != 5' "$work/present")"
  check "round $round: every (req, part) at most once" "0" \
    "$(lake -c "SELECT count(*) FROM (SELECT req, part FROM ev GROUP BY req, part HAVING count(*) > 1)")"
done

# retry every request of every round with its key: each ends up written exactly once
start
cpids=()
for round in 1 2 3; do
  for n in $(seq 1 12); do
    ( lo=$((round * 100000 + n * 1000))
      last=$(awk -v lo=$lo -v hi=$((lo + 999)) '$1 >= lo && $1 <= hi' "$work/acked.$round" | sort -n | tail -n 1)
      [ -z "$last" ] && last=$lo
      for r in $(seq $lo $((last + 2))); do send "$r" > /dev/null; done ) &
    cpids+=($!)
  done
done
wait "${cpids[@]}"
kill -TERM "$pid"; wait "$pid"; check "server stops" "0" "$?"; pid=
check "after the retries: every request written once" "" \
  "$(lake -c "SELECT req, count(*) FROM ev GROUP BY req HAVING count(*) <> 5" | head -n 5)"
check "after the retries: nothing twice" "0" \
  "$(lake -c "SELECT count(*) FROM (SELECT req, part FROM ev GROUP BY req, part HAVING count(*) > 1)")"
for round in 1 2 3; do
  sort -u "$work/acked.$round" > "$work/acked.sorted"
  lake -c "SELECT DISTINCT req FROM ev" | sort > "$work/present"
  check "after the retries: round $round acknowledged requests present" "0" "$(comm -23 "$work/acked.sorted" "$work/present" | wc -l)"
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
