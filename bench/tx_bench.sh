#!/usr/bin/env bash
# AF_XDP send rate (vs AF_PACKET sendmmsg, same run) and send-timestamp error
# on a veth pair between two namespaces this script creates and always removes.
set -euo pipefail
BUILD=${HOPSCOPE_BUILD_DIR:-$(dirname "$0")/../build}
TX=hsbench-tx-$$
RX=hsbench-rx-$$
cleanup() { ip netns del "$TX" 2>/dev/null || true; ip netns del "$RX" 2>/dev/null || true; }
trap cleanup EXIT INT TERM
ip netns add "$TX"
ip netns add "$RX"
ip link add name tx0 netns "$TX" numtxqueues 1 numrxqueues 1 type veth peer name rx0 netns "$RX" numtxqueues 1 numrxqueues 1
ip -n "$TX" link set tx0 up
ip -n "$RX" link set rx0 up
ip netns exec "$TX" "$BUILD/bench/bench_tx" --if tx0 --peer-ns "$RX" --peer-if rx0 "$@"
