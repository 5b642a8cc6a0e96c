#!/usr/bin/env bash
# The README's test command: `cargo test --workspace`, after installing nats-server when this
# machine lacks it (zerocodec-nats's tests start a real `nats-server -js`, and fail, saying how
# to install it, when it is missing). Debian's package is used (2.9.x, JetStream included);
# NATS_SERVER, if set, names a server binary to use instead. Arguments go to cargo test.
set -euo pipefail
cd "$(dirname "$0")/.."

have_server() {
  [ -n "${NATS_SERVER:-}" ] && return 0
  command -v nats-server >/dev/null 2>&1 && return 0
  # Where Debian's package puts it (a user's PATH often lacks /usr/sbin); the tests look here.
  for dir in /usr/sbin /usr/local/sbin /usr/local/bin /sbin; do
    [ -x "$dir/nats-server" ] && return 0
  done
  return 1
}

if ! have_server; then
  echo "== installing nats-server (zerocodec-nats's tests run it)"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y nats-server
fi

exec cargo test --workspace "$@"
