#!/usr/bin/env bash
# Configures and builds hopscope into ./build (or $HOPSCOPE_BUILD_DIR);
# $HOPSCOPE_CMAKE_ARGS are passed to the configuration.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${HOPSCOPE_BUILD_DIR:-build}
# -g1: line tables and function names (perf, gdb backtraces) at less compile time than -g.
# Unity builds of the libraries and tools (16 files a compile; test files stay
# one per compile): 2.5 min for the CI build on 2 cores.
# shellcheck disable=SC2086 # word splitting of the extra arguments is meant
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" \
  -DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=16 \
  ${HOPSCOPE_CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
