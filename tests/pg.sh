#!/usr/bin/env bash
# Private PostgreSQL servers for tests (sourced by test scripts).
#   pg_start DIR   initializes a cluster in DIR/data, starts it on a free loopback port with its
#                  socket in DIR, creates database `planar`, and sets PLANAR_PG (a libpq
#                  connection string) and PLANAR_PG_PORT. Runs the server as the `postgres` user
#                  when called as root (initdb refuses root).
#   pg_stop DIR    stops it (fast shutdown).
#   pg_restart DIR restarts it on the same port.
# Nothing is assumed to be running: Debian's postgresql package provides the binaries.

pg_bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$d" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; return 1; }
  echo "$d"
}

pg_as() { # run a command as the cluster's owner
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

. "$(dirname "${BASH_SOURCE[0]}")/port.sh"

pg_start() {
  local dir=$1 bin port
  bin=$(pg_bindir) || return 1
  mkdir -p "$dir"
  chmod 777 "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
  pg_as "$bin/initdb" -D "$dir/data" -A trust -U planar -N >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2; return 1; }
  local try started=
  for try in 1 2 3 4 5; do # another process may take the port between the check and the bind
    port=$(free_port) || { echo "no free port" >&2; return 1; }
    echo "$port" >"$dir/port"
    if pg_as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null; then
      started=1; break
    fi
    grep -q "Address already in use\|could not bind" "$dir/server.log" || break
  done
  [ -n "$started" ] || { cat "$dir/server.log" >&2; return 1; }
  "$bin/createdb" -h 127.0.0.1 -p "$port" -U planar planar || return 1
  export PLANAR_PG="host=127.0.0.1 port=$port dbname=planar user=planar"
  export PLANAR_PG_PORT=$port
}

pg_stop() {
  local dir=$1 bin
  bin=$(pg_bindir) || return 0
  [ -d "$dir/data" ] && pg_as "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1
  return 0
}

pg_restart() {
  local dir=$1 bin port
  bin=$(pg_bindir) || return 1
  port=$(cat "$dir/port")
  pg_as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 -m fast \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" restart >/dev/null
}
