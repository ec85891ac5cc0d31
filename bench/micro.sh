#!/usr/bin/env bash
# Google Benchmark micro-benchmarks (probe build, validation, checksum) with
# ratios against copying a frame, measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh >/dev/null
./scripts/build.sh >/dev/null
exec "${HOPSCOPE_BUILD_DIR:-build}/bench/bench_micro" "$@"
