#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds the CLI, benchmarks and
# end-to-end tests and runs CTest (end-to-end on the real-router lab and the
# sim, layers, style), then the unit and BPF_PROG_RUN suites in builds with
# AddressSanitizer + UndefinedBehaviorSanitizer and with ThreadSanitizer, and
# the fuzzers (scripts/sanitize.sh). Root runs all of them; without root the
# privileged ones skip with a reason.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
# The unit and BPF_PROG_RUN binaries are left out of this build: they run,
# sanitized, below (not a third time: CI stays well under 20 minutes).
HOPSCOPE_CMAKE_ARGS="-DHOPSCOPE_UNIT_TESTS=OFF" ./scripts/build.sh
cd "${HOPSCOPE_BUILD_DIR:-build}"
ctest --output-on-failure --timeout 600
cd - >/dev/null
# Memory and thread safety, and the fuzzers (README "Tests").
./scripts/sanitize.sh
