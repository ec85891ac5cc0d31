#!/usr/bin/env bash
# ns/packet of the XDP reply matcher and the sim responder under BPF_PROG_RUN,
# against an empty XDP program measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh >/dev/null
./scripts/build.sh >/dev/null
exec "${HOPSCOPE_BUILD_DIR:-build}/bench/bench_xdp_prog_run"
