#!/usr/bin/env bash
# Run a command against a throw-away PostgreSQL cluster, then stop it and delete it.
#
#   scripts/with-postgres.sh .venv/bin/pytest
#
# The cluster lives in a temporary folder, listens on a free port on 127.0.0.1 only, and is
# started with initdb + pg_ctl from Debian's packages. initdb refuses to run as root, so as
# root the server runs as the `postgres` user. The command sees DATABASE_URL and
# TEST_DATABASE_URL pointing at a fresh, empty database.
set -euo pipefail
[ "$#" -gt 0 ] || { echo "usage: $0 COMMAND [ARG...]" >&2; exit 2; }

bindir="${PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "PostgreSQL server binaries not found: run scripts/install-debian-packages.sh postgresql" >&2
  exit 1
fi

base="$(mktemp -d /tmp/marketplace-pg.XXXXXX)"
data="$base/data"
sockets="$base/sockets"
mkdir -p "$data" "$sockets"

as_owner=()
if [ "$(id -u)" -eq 0 ]; then
  chown -R postgres:postgres "$base"
  chmod 700 "$base"
  as_owner=(runuser -u postgres --)
fi

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"

stop() {
  "${as_owner[@]}" "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$base"
}
trap stop EXIT

"${as_owner[@]}" "$bindir/initdb" -D "$data" -U app --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
"${as_owner[@]}" "$bindir/pg_ctl" -D "$data" -l "$base/server.log" -w \
  -o "-h 127.0.0.1 -p $port -k $sockets -F -c max_connections=200" start >/dev/null \
  || { cat "$base/server.log" >&2; exit 1; }
"${as_owner[@]}" "$bindir/createdb" -h 127.0.0.1 -p "$port" -U app marketplace_test

url="postgresql+psycopg://app@127.0.0.1:${port}/marketplace_test"
echo "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
set +e
DATABASE_URL="$url" TEST_DATABASE_URL="$url" "$@"
status=$?
set -e
exit "$status"
