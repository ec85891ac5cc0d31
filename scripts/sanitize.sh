#!/usr/bin/env bash
# Mechanical checks of memory and thread safety (README "Tests"):
#  1. a clang build with AddressSanitizer + UndefinedBehaviorSanitizer (any
#     finding fatal) runs the unit and BPF_PROG_RUN suites, and its libFuzzer
#     targets run over their corpora (scripts/fuzz.sh);
#  2. a clang build with ThreadSanitizer runs the same two suites.
# Builds at -O1 without debug info, the libraries as unity builds (-15% build
# time; the test files stay one per compile), into build-asan/ and build-tsan/ (or
# $HOPSCOPE_SANITIZE_DIR/{asan,tsan}); only the test binaries are built.
#
#   scripts/sanitize.sh [asan|tsan|fuzz]...   (default: all three)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
base=${HOPSCOPE_SANITIZE_DIR:-$root}
steps=("$@")
((${#steps[@]})) || steps=(asan fuzz tsan)

configure() {  # DIR SANITIZERS [extra cmake args]
  local dir=$1 san=$2
  shift 2
  CC=clang CXX=clang++ cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=Sanitize -DCMAKE_CXX_FLAGS_SANITIZE="-O1" \
    -DCMAKE_C_FLAGS_SANITIZE="-O1" -DHOPSCOPE_SANITIZE="$san" -DHOPSCOPE_BENCH=OFF -DCMAKE_UNITY_BUILD=ON \
    -DCMAKE_UNITY_BUILD_BATCH_SIZE=16 "$@" >/dev/null
}

suites() {  # DIR: the unit and BPF_PROG_RUN suites, each one process
  local dir=$1
  "$dir/tests/hopscope_unit_tests" --gtest_brief=1
  "$dir/tests/hopscope_bpf_tests" --gtest_brief=1
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}

for step in "${steps[@]}"; do
  start=$(date +%s)
  case $step in
    asan)
      configure "$base/build-asan" address,undefined -DHOPSCOPE_FUZZ=ON
      cmake --build "$base/build-asan" -j"$(nproc)" --target hopscope_unit_tests hopscope_bpf_tests hopscope_fuzzers
      suites "$base/build-asan"
      ;;
    fuzz)
      [[ -x $base/build-asan/tests/fuzz/fuzz_targets ]] || "$0" asan
      "$root/scripts/fuzz.sh" "$base/build-asan/tests/fuzz"
      ;;
    tsan)
      configure "$base/build-tsan" thread
      cmake --build "$base/build-tsan" -j"$(nproc)" --target hopscope_unit_tests hopscope_bpf_tests
      suites "$base/build-tsan"
      ;;
    *)
      echo "sanitize: unknown step '$step' (asan, tsan or fuzz)" >&2
      exit 2
      ;;
  esac
  echo "sanitize: $step clean in $(($(date +%s) - start)) s"
done
