#!/usr/bin/env bash
# hopscope's main job on the built-in lab: install, build, bring the
# real-router lab up, trace its destination with both methods and both
# address families, and tear everything down (also on failure).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
HOPSCOPE=./${HOPSCOPE_BUILD_DIR:-build}/tools/hopscope

trap '"$HOPSCOPE" lab down >/dev/null 2>&1 || true' EXIT INT TERM
"$HOPSCOPE" lab up
for family in -4 -6; do
  for method in udp-paris icmp-paris; do
    echo
    "$HOPSCOPE" trace "$family" -M "$method"
  done
done
echo
echo "# the same trace as JSON (one object per line):"
"$HOPSCOPE" trace -4 -M udp-paris -o json
