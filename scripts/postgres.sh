#!/usr/bin/env bash
# A PostgreSQL cluster of the project's own, on loopback, for the test suite.
# Installs Debian's postgresql when it is missing, creates the cluster, and prints the
# DATABASE_URL on stdout. The cluster lives where the user that runs it can reach it:
#   - run as root, PostgreSQL runs as the 'postgres' user, who may not be able to enter the
#     checkout (a clone under a private folder: mktemp -d, or /root), so the cluster is in
#     /var/tmp/cloudsite-postgres/<a digest of the checkout's path>, owned by postgres;
#   - run as anyone else, it runs as that user, in the checkout's .cache/postgres.
#
#   scripts/postgres.sh start   create (once) and start; prints DATABASE_URL
#   scripts/postgres.sh stop    stop the cluster
#
# Reads:
#   PGPORT_CLOUDSITE  the port (default: a free one, remembered in .cache/postgres/port)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/common.sh
source scripts/lib/common.sh

if [ "$(id -u)" -eq 0 ]; then
  root=/var/tmp/cloudsite-postgres/$(printf '%s' "$PWD" | sha256sum | cut -c 1-16)
else
  root=$PWD/.cache/postgres
fi
data=$root/data
command=${1:-start}

newest_bindir() { find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin 2>/dev/null | sort -V | tail -n 1; }
bindir=$(newest_bindir)
if [ -z "$bindir" ] && [ "$command" = start ]; then
  SYSTEM_PACKAGES="postgresql" scripts/system-packages.sh
  bindir=$(newest_bindir)
fi
[ -n "$bindir" ] || fail "PostgreSQL: not installed, so there is nothing to stop"

# PostgreSQL refuses to run as root; the Debian package creates a 'postgres' user for it.
run() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$command" in
  start)
    if [ "$(id -u)" -eq 0 ]; then
      install -d -m 0755 "$(dirname "$root")"
      install -d -m 0700 -o postgres "$root"
    else
      mkdir -p "$root"
    fi
    run test -w "$root" || fail "PostgreSQL: $(run id -un) cannot write $root (a folder above it is private or not its own)"
    if [ ! -f "$data/PG_VERSION" ]; then
      msg "creating a PostgreSQL cluster in $data"
      run "$bindir/initdb" --pgdata="$data" --username=cloudsite --auth=trust \
        --encoding=UTF8 --no-instructions >/dev/null
    fi
    if [ ! -f "$root/port" ]; then
      echo "${PGPORT_CLOUDSITE:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}" > "$root/port"
    fi
    port=$(cat "$root/port")
    if ! run "$bindir/pg_ctl" --pgdata="$data" status >/dev/null 2>&1; then
      run "$bindir/pg_ctl" --pgdata="$data" --log="$data/server.log" --wait --timeout=60 \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$data -c fsync=off" \
        start >/dev/null || fail "PostgreSQL: the cluster did not start; see $data/server.log"
    fi
    run "$bindir/psql" -h 127.0.0.1 -p "$port" -U cloudsite -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = 'cloudsite'" | grep -q 1 \
      || run "$bindir/createdb" -h 127.0.0.1 -p "$port" -U cloudsite cloudsite
    echo "postgres://cloudsite@127.0.0.1:$port/cloudsite"
    ;;
  stop)
    [ -f "$data/PG_VERSION" ] && run "$bindir/pg_ctl" --pgdata="$data" stop --mode=fast >/dev/null || true
    ;;
  *)
    fail "postgres.sh: '$command' is not a command; use start or stop"
    ;;
esac
