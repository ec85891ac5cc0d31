#!/usr/bin/env bash
# Full loop through the simulated Internet (probes -> XDP responder -> XDP
# matcher -> ring buffer -> userspace), counts at every stage. Brings a sim
# up and always takes it down.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh >/dev/null
./scripts/build.sh >/dev/null
BUILD=${HOPSCOPE_BUILD_DIR:-build}
NS=hsbench-loop-$$
TRUTH=$(mktemp /tmp/hopscope-loop-truth.XXXXXX)
cleanup() { "$BUILD/tools/hopscope" sim down --netns "$NS" >/dev/null 2>&1 || true; rm -f "$TRUTH"; }
trap cleanup EXIT INT TERM
"$BUILD/tools/hopscope" sim up --seed 1 --destinations "${DESTINATIONS:-100000}" --netns "$NS" --truth "$TRUTH" | head -1
# The binary enters the namespace itself (ip netns exec would hide bpffs).
"$BUILD/bench/bench_full_loop" --netns "$NS" --truth "$TRUTH" "$@"
