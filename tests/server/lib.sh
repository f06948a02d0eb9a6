# Shared by the HTTP test scripts (sourced): counters and checks, and waiting for a started
# `planar serve` to log the port it listens on.
pass=0 fail=0
# http_test_start PATH/TO/planar: sets planar, a temporary directory work (removed at exit, with a
# server whose pid is in pid killed); exits 77 (skipped) without curl(1).
http_test_start() {
  planar=$(realpath "$1")
  command -v curl >/dev/null 2>&1 || { echo "curl not found: skipped"; exit 77; }
  work=$(mktemp -d)
  pid=
  trap 'if [ -n "$pid" ]; then kill -9 "$pid" 2>/dev/null; fi; rm -rf "$work"' EXIT
}
check() { # check NAME EXPECTED ACTUAL
  if [ "$2" = "$3" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $1: expected '$2', got '$3'"; fi
}
has() { # has NAME NEEDLE HAYSTACK
  case "$3" in *"$2"*) pass=$((pass + 1)) ;; *) fail=$((fail + 1)); echo "FAIL $1: '$2' not in: $3" ;; esac
}
hasnt() { # hasnt NAME NEEDLE HAYSTACK
  case "$3" in *"$2"*) fail=$((fail + 1)); echo "FAIL $1: '$2' in: $3" ;; *) pass=$((pass + 1)) ;; esac
}
# listening_port LOG [PID [OLD_PORT]]: prints the port the server logging to LOG listens on, once
# it has logged one (other than OLD_PORT); empty when PID died first or after 30 s.
listening_port() {
  local port= i
  for ((i = 0; i < 600; i++)); do
    port=$(sed -n 's/.*"event":"listening".*"port":\([0-9]*\).*/\1/p' "$1" | tail -n 1)
    [ -n "$port" ] && [ "$port" != "${3:-}" ] && break
    port=
    [ -z "${2:-}" ] || kill -0 "$2" 2>/dev/null || break
    sleep 0.05
  done
  echo "$port"
}
