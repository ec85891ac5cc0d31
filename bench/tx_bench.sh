#!/usr/bin/env bash
# Send rate: hopscope's AF_XDP sender vs a bare AF_XDP sender, AF_PACKET and raw-socket
# sendmmsg and zmap (same run, same veth pair, frames counted on arrival), and the send-timestamp error
# on a veth pair between two namespaces this script creates and always removes.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh >/dev/null
./scripts/build.sh >/dev/null
BUILD=${HOPSCOPE_BUILD_DIR:-build}
TX=hsbench-tx-$$
RX=hsbench-rx-$$
cleanup() { ip netns del "$TX" 2>/dev/null || true; ip netns del "$RX" 2>/dev/null || true; }
trap cleanup EXIT INT TERM
ip netns add "$TX"
ip netns add "$RX"
ip link add name tx0 netns "$TX" numtxqueues 2 numrxqueues 2 type veth peer name rx0 netns "$RX" numtxqueues 2 numrxqueues 2
ip -n "$TX" link set tx0 up
ip -n "$RX" link set rx0 up
# For the raw-socket sender: an address, a route via the peer, a permanent
# neighbour entry (the sink drops ARP).
RXMAC=$(ip -n "$RX" -o link show rx0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
ip -n "$TX" addr add 198.18.200.1/32 dev tx0
ip -n "$TX" route add 198.18.200.2/32 dev tx0
ip -n "$TX" route add 198.18.0.0/15 via 198.18.200.2 dev tx0
ip -n "$TX" neigh replace 198.18.200.2 lladdr "$RXMAC" dev tx0 nud permanent
# The survey runs (both --tx backends) are measured by bench_tx at the sink too.
ip netns exec "$TX" "$BUILD/bench/bench_tx" --if tx0 --peer-ns "$RX" --peer-if rx0 \
  --hopscope "$(realpath "$BUILD/tools/hopscope")" "$@"
