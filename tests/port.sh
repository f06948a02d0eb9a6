#!/usr/bin/env bash
# Loopback ports for the servers the tests start (sourced by tests/pg.sh and tests/s3/s3.sh).
#   free_port      prints a port nothing listens on, taken below the kernel's ephemeral range
#                  (net.ipv4.ip_local_port_range) so that no client connection of a test running
#                  beside this one can be handed the same port between this check and the bind.
#   start_on_port OUTVAR PIDFILE LOG CMD...
#                  runs CMD in the background with every "{PORT}" argument replaced by a free
#                  port, its pid in PIDFILE and its output in LOG; waits until it listens. A
#                  server that lost the port to another process between check and bind is
#                  started again on another (five tries). Sets OUTVAR to the port.

free_port() {
  local lo=32768 p
  read -r lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || lo=32768
  [ "$lo" -gt 12000 ] || lo=32768
  for _ in $(seq 1 100); do
    p=$((10000 + RANDOM % (lo - 10000)))
    (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo "$p"; return 0; }
  done
  return 1
}

wait_port() { # wait_port PORT PID: waits (at most 60 s) until something listens on PORT
  for _ in $(seq 1 1200); do
    (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

start_on_port() {
  local __out=$1 __pidfile=$2 __log=$3 __port __try __a
  shift 3
  for __try in 1 2 3 4 5; do
    __port=$(free_port) || { echo "no free port" >&2; return 1; }
    local __cmd=()
    for __a in "$@"; do __cmd+=("${__a//\{PORT\}/$__port}"); done
    "${__cmd[@]}" >"$__log" 2>&1 &
    echo $! >"$__pidfile"
    if wait_port "$__port" "$!"; then
      printf -v "$__out" '%s' "$__port"
      return 0
    fi
    kill "$(cat "$__pidfile")" 2>/dev/null
    grep -q "EADDRINUSE\|Address already in use" "$__log" || break
  done
  return 1
}
