#!/usr/bin/env bash
# What `hopscope watch`'s kernel flow observer costs applications: loopback
# TCP throughput without and with it attached (cgroup v2 root), alternating
# in the same run; prints medians and the ratio (observed / off).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh >/dev/null
"${HOPSCOPE_BUILD_DIR:-build}"/bench/bench_flow_observer "$@"
