#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds, runs every CTest test
# (unit, BPF_PROG_RUN, end-to-end on the real-router lab). Root runs all of
# them; without root the privileged ones skip with a reason.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
cd "${HOPSCOPE_BUILD_DIR:-build}"
ctest --output-on-failure --timeout 600
