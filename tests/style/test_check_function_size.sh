#!/usr/bin/env bash
# The function-size check passes on a tree whose longest function has 100
# lines and fails on one with 101 (naming it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
check=$here/../../scripts/check-function-size.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/userspace/x"
body() {  # N: a function of N lines
  echo "int f$1(int a) {"
  for ((i = 0; i < $1 - 2; i++)); do echo "  a += $i;"; done
  echo "}"
}
body 100 >"$tmp/userspace/x/ok.cpp"
"$check" "$tmp" >/dev/null || { echo "a 100-line function was refused"; exit 1; }
body 101 >"$tmp/userspace/x/long.cpp"
if out=$("$check" "$tmp"); then
  echo "a 101-line function passed"
  exit 1
fi
grep -q "long.cpp:1: f101 is 101 lines" <<<"$out" || { echo "not named: $out"; exit 1; }
echo "check-function-size refuses a 101-line function"
