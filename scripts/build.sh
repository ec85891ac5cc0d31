#!/usr/bin/env bash
# Configures and builds hopscope into ./build (or $HOPSCOPE_BUILD_DIR);
# $HOPSCOPE_CMAKE_ARGS are passed to the configuration.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${HOPSCOPE_BUILD_DIR:-build}
# -g1: line tables and function names (perf, gdb backtraces) at less compile time than -g.
# shellcheck disable=SC2086 # word splitting of the extra arguments is meant
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" \
  ${HOPSCOPE_CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
