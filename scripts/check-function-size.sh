#!/usr/bin/env bash
# Fails when a function in userspace/ or tools/ (their headers included) is
# longer than 100 lines: clang-tidy's readability-function-size over the
# build's compile_commands.json.
#
#   scripts/check-function-size.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
[[ -r $build/compile_commands.json ]] || { echo "check-function-size: no $build/compile_commands.json" >&2; exit 2; }
max=${HOPSCOPE_MAX_FUNCTION_LINES:-100}
config="{Checks: \"-*,readability-function-size\", CheckOptions: [{key: readability-function-size.LineThreshold, value: $max}]}"
files=$(cd "$root" && ls userspace/*/*.cpp tools/hopscope/*.cpp)
out=$(cd "$root" && run-clang-tidy -quiet -p "$build" -j "$(nproc)" -config="$config" \
  -header-filter="$root/(include/hopscope|userspace|tools)/" $files 2>/dev/null | sed 's/\x1b\[[0-9;]*m//g' || true)
found=$(grep -E "warning: function .* exceeds recommended size" <<<"$out" | sort -u || true)
if [[ -n $found ]]; then
  echo "$found"
  grep -E "note: [0-9]+ lines including" <<<"$out" | sort -u
  echo "check-function-size: functions longer than $max lines (split them)"
  exit 1
fi
n=$(wc -w <<<"$files")
echo "check-function-size: $n files, no function longer than $max lines"
