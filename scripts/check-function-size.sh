#!/usr/bin/env bash
# Fails when a function in userspace/ or tools/ (their headers included) is
# longer than 100 lines, from its first line to its closing brace, as
# universal-ctags finds the definitions (a second; clang-tidy's
# readability-function-size, which this replaced, parsed every file: 105 s).
#
#   scripts/check-function-size.sh [ROOT]   (ROOT: the tree to check; default this one)
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
max=${HOPSCOPE_MAX_FUNCTION_LINES:-100}
cd "$root"
shopt -s nullglob
files=(userspace/*/*.cpp tools/*/*.cpp include/hopscope/*/*.hpp)
((${#files[@]})) || { echo "check-function-size: no sources under $root" >&2; exit 2; }
found=$(ctags -x --_xformat='%{end} %n %N %F' --kinds-c++=f --fields=+ne --language-force=c++ "${files[@]}" |
  awk -v max="$max" '$1 != "-" && $1 - $2 + 1 > max { printf "%s:%s: %s is %d lines\n", $4, $2, $3, $1 - $2 + 1 }')
if [[ -n $found ]]; then
  echo "$found"
  echo "check-function-size: functions longer than $max lines (split them)"
  exit 1
fi
echo "check-function-size: ${#files[@]} files, no function longer than $max lines"
