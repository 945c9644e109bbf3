#!/usr/bin/env bash
# Runs a command with a throw-away PostgreSQL server:
#
#   tests/pg/with_postgres.sh COMMAND [ARG...]
#
# creates a cluster in a temporary directory (initdb), starts it on a free
# loopback port with its unix socket in that directory, runs COMMAND with
# SOCLE_TEST_POSTGRES=postgresql://postgres@127.0.0.1:PORT/postgres, then
# stops the server and removes the directory, whatever happens. Exits with
# COMMAND's status.
#
# PostgreSQL refuses to run as root: as root (CI), the server runs as the
# unprivileged system user socle-pg (created if missing; `nobody` if it cannot
# be), which owns the temporary directory; otherwise as the current user.
# COMMAND itself runs as the caller.
#
# The cluster trades durability for speed (fsync off): it holds test data
# only. With SOCLE_PG_DURABLE=1 it keeps PostgreSQL's durable defaults
# (fsync, full-page writes, 128 MB of shared buffers), as a production server
# would: for the benchmarks (make bench), whose writes must be measured with
# their flushes. If SOCLE_TEST_POSTGRES is already set, COMMAND runs against
# that server and nothing is started.
#
# SOCLE_PG_NETNS=NAME and SOCLE_PG_HOST=ADDRESS[,ADDRESS...] run the server
# inside the network namespace NAME, listening on those addresses, port 5432
# (SOCLE_TEST_POSTGRES names the first): partition_test.sh, a server across
# links that a test can cut.
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: $0 COMMAND [ARG...]" >&2
  exit 2
fi

if [ -n "${SOCLE_TEST_POSTGRES:-}" ]; then
  exec "$@"
fi

# Debian keeps the server programs out of PATH: the newest installed version,
# or PG_BINDIR.
bindir="${PG_BINDIR:-}"
if [ -z "$bindir" ]; then
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
fi
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ] || [ ! -x "$bindir/pg_ctl" ]; then
  if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
    bindir=$(dirname "$(command -v initdb)")
  else
    echo "$0: PostgreSQL server programs not found (install the postgresql package, or set PG_BINDIR)" >&2
    exit 1
  fi
fi

# As root, run the server as an unprivileged user.
as_user=()
if [ "$(id -u)" = 0 ]; then
  pg_user=socle-pg
  if ! id "$pg_user" >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin "$pg_user" >/dev/null 2>&1 || pg_user=nobody
  fi
  as_user=(runuser -u "$pg_user" --)
fi

# In a network namespace of its own, when asked.
in_netns=()
listen_host=127.0.0.1
if [ -n "${SOCLE_PG_NETNS:-}" ]; then
  in_netns=(ip netns exec "$SOCLE_PG_NETNS")
  listen_host=${SOCLE_PG_HOST:?SOCLE_PG_HOST must name the address to listen on in SOCLE_PG_NETNS}
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/socle-pg-XXXXXX")
data="$tmp/data"
log="$tmp/server.log"
if [ "${#as_user[@]}" -gt 0 ]; then
  chown "$pg_user" "$tmp"
fi

started=0
cleanup() {
  status=$?
  if [ "$started" = 1 ]; then
    "${in_netns[@]}" "${as_user[@]}" "$bindir/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"${as_user[@]}" "$bindir/initdb" -D "$data" -U postgres --auth=trust \
  --encoding=UTF8 --no-locale --no-sync >"$tmp/initdb.log" 2>&1 || {
  echo "$0: initdb failed:" >&2
  cat "$tmp/initdb.log" >&2
  exit 1
}
# initdb trusts loopback only; in a namespace, the client is across the link.
if [ "${#in_netns[@]}" -gt 0 ]; then
  echo "host all all samenet trust" >>"$data/pg_hba.conf"
fi

# A free port: let the kernel pick one, then start; retry if another process
# took it in between.
free_port() {
  if command -v python3 >/dev/null; then
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
  else
    echo $(( 20000 + RANDOM % 40000 ))
  fi
}

if [ "${SOCLE_PG_DURABLE:-0}" = 1 ]; then
  durability="-c fsync=on -c synchronous_commit=on -c full_page_writes=on"
else
  durability="-c fsync=off -c synchronous_commit=on -c full_page_writes=off \
    -c shared_buffers=64MB"
fi
for attempt in 1 2 3 4 5; do
  # A namespace of its own has every port free.
  if [ "${#in_netns[@]}" -gt 0 ]; then port=5432; else port=$(free_port); fi
  if "${in_netns[@]}" "${as_user[@]}" "$bindir/pg_ctl" -D "$data" -l "$log" -w -t 60 \
      -o "-p $port -k $tmp -c listen_addresses=$listen_host $durability \
          -c max_connections=300 -c max_pred_locks_per_transaction=256" \
      start >/dev/null 2>&1; then
    started=1
    break
  fi
done
if [ "$started" != 1 ]; then
  echo "$0: could not start PostgreSQL; server log:" >&2
  cat "$log" >&2 2>/dev/null || true
  exit 1
fi

export SOCLE_TEST_POSTGRES="postgresql://postgres@${listen_host%%,*}:$port/postgres"
echo "with_postgres.sh: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on $listen_host:$port (data in $tmp$([ "${SOCLE_PG_DURABLE:-0}" = 1 ] && echo ', durable'))" >&2

set +e
"$@"
status=$?
set -e
exit "$status"
