#!/usr/bin/env bash
# Runs a test binary against a PostgreSQL server on the other side of a
# network link that the test can cut and mend:
#
#   tests/pg/partition_test.sh TEST_BINARY [ARG...]
#
# The server runs in a network namespace of its own (with_postgres.sh with
# SOCLE_PG_NETNS), reached over two veth pairs. Cutting takes the
# namespace's end of the first link down: what crosses it is dropped without
# a word, as when a machine is lost or a network partitions, and no reset
# ever comes back. The test gets SOCLE_TEST_POSTGRES (across the first
# link), the two commands as SOCLE_TEST_CUT and SOCLE_TEST_MEND, and the
# server's address across the second link, never cut, as
# SOCLE_TEST_UNCUT_HOST (a replica that stays connected). Everything is
# removed afterwards.
#
# Needs root (network namespaces) and iproute2; otherwise, or when this
# machine refuses a namespace, exits 77 (ctest: skipped).
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: $0 TEST_BINARY [ARG...]" >&2
  exit 2
fi

# The commands the test runs (SOCLE_TEST_CUT, SOCLE_TEST_MEND).
if [ "$1" = --cut ]; then
  exec ip -n "$2" link set "$3" down
fi
if [ "$1" = --mend ]; then
  # NAMESPACE NS_IF HOST_IF ADDRESS: the link up, the neighbours the cut
  # left marked unreachable forgotten, then wait until the server answers
  # a TCP connection (10 s at most).
  ip -n "$2" link set "$3" up
  ip -n "$2" neigh flush dev "$3" 2>/dev/null || true
  ip neigh flush dev "$4" 2>/dev/null || true
  give_up=$((SECONDS + 10))
  while [ "$SECONDS" -lt "$give_up" ]; do
    if timeout 1 bash -c "exec 3<>/dev/tcp/$5/5432" 2>/dev/null; then exit 0; fi
    sleep 0.1
  done
  echo "partition_test.sh: $5:5432 still unreachable after mending" >&2
  exit 1
fi
skip() {
  echo "partition_test.sh: $1: not run"
  exit 77
}
[ "$(id -u)" = 0 ] || skip "needs root to make a network namespace"
command -v ip >/dev/null || skip "the ip command (iproute2) is missing"

ns="socle-part-$$"
# Two links to the server: the first is cut, the second never.
host_if="spt$$h"
ns_if="spt$$n"
host_if2="spu$$h"
ns_if2="spu$$n"
# A /30 of 10.213.0.0/16 and one of 10.214.0.0/16 picked by the process id,
# so that runs at the same time (a clean clone's CI beside a working tree's)
# do not meet: the host's end is .1 of it, the server's .2.
slot=$(( $$ % 16384 ))
base="$(( slot / 64 )).$(( slot % 64 * 4 ))"
host_ip="10.213.${base%.*}.$(( ${base#*.} + 1 ))"
server_ip="10.213.${base%.*}.$(( ${base#*.} + 2 ))"
host_ip2="10.214.${base%.*}.$(( ${base#*.} + 1 ))"
server_ip2="10.214.${base%.*}.$(( ${base#*.} + 2 ))"
cleanup() {
  status=$?
  # Deleting the namespace deletes its ends of the pairs, and so the others.
  ip netns del "$ns" 2>/dev/null || true
  ip link del "$host_if" 2>/dev/null || true
  ip link del "$host_if2" 2>/dev/null || true
  exit "$status"
}
ip netns add "$ns" 2>/dev/null || skip "this machine refuses a network namespace"
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

link() {  # HOST_IF NS_IF HOST_IP SERVER_IP
  ip link add "$1" type veth peer name "$2" netns "$ns" &&
    ip addr add "$3/30" dev "$1" &&
    ip link set "$1" up &&
    ip -n "$ns" addr add "$4/30" dev "$2" &&
    ip -n "$ns" link set "$2" up
}
{
  ip -n "$ns" link set lo up &&
    link "$host_if" "$ns_if" "$host_ip" "$server_ip" &&
    link "$host_if2" "$ns_if2" "$host_ip2" "$server_ip2"
} || skip "this machine refuses a veth link into the namespace"

self=$(readlink -f "$0")
export SOCLE_TEST_CUT="$self --cut $ns $ns_if"
export SOCLE_TEST_MEND="$self --mend $ns $ns_if $host_if $server_ip"
export SOCLE_TEST_UNCUT_HOST="$server_ip2"
set +e
env -u SOCLE_TEST_POSTGRES SOCLE_PG_NETNS="$ns" SOCLE_PG_HOST="$server_ip,$server_ip2" \
  "$(dirname "$self")/with_postgres.sh" "$@"
status=$?
set -e
exit "$status"
