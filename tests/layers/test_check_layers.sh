#!/usr/bin/env bash
# The layer check itself: passes on a tree whose includes follow the arrows,
# fails on a reversed arrow (core including trace), a file at the root of
# userspace/ and an undeclared folder — each with its own message.
set -euo pipefail
check=$(cd "$(dirname "$0")/../.." && pwd)/scripts/check-layers.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"/userspace/{core,trace} "$tmp"/include/hopscope/{core,trace,abi}
printf 'core: \ntrace: core\n' >"$tmp/components.txt"
echo '#include "hopscope/core/a.hpp"' >"$tmp/userspace/core/a.cpp"
printf '#include "hopscope/abi/x.h"\n#include "hopscope/core/a.hpp"\n' >"$tmp/userspace/trace/t.cpp"
echo '#include "hopscope/core/a.hpp"' >"$tmp/include/hopscope/trace/t.hpp"

expect() {  # expect RC PATTERN
  set +e
  out=$("$check" "$tmp/components.txt" "$tmp" 2>&1)
  rc=$?
  set -e
  if [[ $rc != "$1" || $out != *"$2"* ]]; then
    echo "FAIL: expected exit $1 and '$2', got exit $rc:"
    echo "$out"
    exit 1
  fi
}

expect 0 "2 components, every include follows the arrows"
echo '  #  include "hopscope/trace/t.hpp"' >>"$tmp/include/hopscope/core/a.hpp"
expect 1 "include/hopscope/core/a.hpp:1: core includes trace"
: >"$tmp/include/hopscope/core/a.hpp"
expect 0 "every include follows"
echo x >"$tmp/userspace/stray.cpp"
expect 1 "userspace/stray.cpp: at the root"
rm "$tmp/userspace/stray.cpp"
mkdir "$tmp/userspace/extra"
expect 1 "'extra' is not a component"
rmdir "$tmp/userspace/extra"
echo '#include "hopscope/nosuch/n.hpp"' >"$tmp/userspace/trace/n.cpp"
expect 1 "includes hopscope/nosuch/, which is not a component"
echo "check-layers test: all cases as expected"
