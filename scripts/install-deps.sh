#!/usr/bin/env bash
# Installs everything Planar needs to build and test on Debian 12:
#   - Debian packages (compiler, cmake, sqlite3, libedit, cmocka, ...), via apt when missing;
#   - the S3-compatible server the tests start (npm package s3rver, its version and every
#     dependency's integrity pinned in tests/s3/package-lock.json), into .deps/s3rver;
#   - libduckdb (shared library from the npm package @duckdb/node-bindings-linux-x64) and its C
#     header (from the npm package duckdb), at pinned versions with verified SHA-256 checksums,
#     unpacked into .deps/duckdb/{lib,include}.
# Set DUCKDB_HOME to a directory holding libduckdb.so and duckdb.h (directly or under lib/ and
# include/) to use your own libduckdb instead. Safe to run again: it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(build-essential cmake pkg-config libsqlite3-dev libedit-dev libcmocka-dev
              libjansson-dev libcurl4-openssl-dev libssl-dev libxml2-dev libpq-dev libroaring-dev libmicrohttpd-dev
              nettle-dev libstemmer-dev libutf8proc-dev curl openssl postgresql python3-botocore wrk)

DUCKDB_LIB_PKG="@duckdb/node-bindings-linux-x64@1.5.6-r.1"
DUCKDB_LIB_SHA256="1b9f82478539bb9a1d1df44bd103121a12ae52142c07158dc52b97d2ec1d69ff"
DUCKDB_HDR_PKG="duckdb@1.4.4"
DUCKDB_HDR_SHA256="5bb967dcbcd517670ba5f169f238fb9d6787e53752c60ebe24386169d76941ed"

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The tests' S3 server: `npm ci` installs exactly the locked tree and checks every package
# against its integrity hash; the stamp names the lock file's SHA-256, so a changed lock
# reinstalls.
S3RVER_DIR=.deps/s3rver
S3RVER_LOCK_SHA256=$(sha256sum tests/s3/package-lock.json | cut -d' ' -f1)
if [ ! -f "$S3RVER_DIR/.installed-$S3RVER_LOCK_SHA256" ]; then
  echo "installing the test S3 server (npm s3rver, locked in tests/s3/package-lock.json)"
  rm -rf "$S3RVER_DIR" && mkdir -p "$S3RVER_DIR"
  cp tests/s3/package.json tests/s3/package-lock.json "$S3RVER_DIR/"
  (cd "$S3RVER_DIR" && npm ci --silent --no-audit --no-fund --ignore-scripts >/dev/null)
  touch "$S3RVER_DIR/.installed-$S3RVER_LOCK_SHA256"
fi

if [ -n "${DUCKDB_HOME:-}" ]; then
  echo "using libduckdb from DUCKDB_HOME=$DUCKDB_HOME"
  exit 0
fi

DEST=.deps/duckdb
STAMP="$DEST/.installed-$DUCKDB_LIB_SHA256-$DUCKDB_HDR_SHA256"
[ -f "$STAMP" ] && exit 0

fetch() { # fetch PKG SHA256 -> prints path of verified tarball
  local pkg=$1 sum=$2 dir=.deps/npm
  mkdir -p "$dir"
  local file
  file=$(cd "$dir" && npm pack --silent "$pkg" 2>/dev/null | tail -n 1)
  local got
  got=$(sha256sum "$dir/$file" | cut -d' ' -f1)
  if [ "$got" != "$sum" ]; then
    echo "checksum mismatch for $pkg: expected $sum, got $got" >&2
    rm -f "$dir/$file"
    exit 1
  fi
  echo "$dir/$file"
}

echo "fetching $DUCKDB_LIB_PKG and $DUCKDB_HDR_PKG from the npm registry"
lib_tgz=$(fetch "$DUCKDB_LIB_PKG" "$DUCKDB_LIB_SHA256")
hdr_tgz=$(fetch "$DUCKDB_HDR_PKG" "$DUCKDB_HDR_SHA256")
rm -rf "$DEST" && mkdir -p "$DEST/lib" "$DEST/include"
tar -xzf "$lib_tgz" -C "$DEST/lib" --strip-components=1 package/libduckdb.so
tar -xzf "$hdr_tgz" -C "$DEST/include" --strip-components=5 package/src/duckdb/src/include/duckdb.h
touch "$STAMP"
echo "libduckdb installed in $DEST"
