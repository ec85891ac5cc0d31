#!/usr/bin/env bash
# Runs every libFuzzer target (tests/fuzz/) over its corpus in
# tests/fuzz/corpus/<name>/ for a bounded time, all at once (they share the
# CPUs: the wall time is the budget), and prints the executions of each and
# in total. New inputs go to a scratch
# directory (the repo's corpora are seeds, read only); a crash, leak, UB or
# timeout fails the run and leaves the input in $out/<name>/.
#
#   scripts/fuzz.sh FUZZ_BUILD_DIR [SECONDS (default 90)]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:?usage: fuzz.sh FUZZ_BUILD_DIR [SECONDS]}
secs=${2:-${HOPSCOPE_FUZZ_SECONDS:-90}}
out=$(mktemp -d /tmp/hopscope-fuzz.XXXXXX)
names=(targets destination prefix2as score reply_records)

run_one() {
  local name=$1
  mkdir -p "$out/$name/new" "$out/$name/crash"
  "$bin/fuzz_$name" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -max_len=8192 -print_final_stats=1 \
    -artifact_prefix="$out/$name/crash/" "$out/$name/new" "$root/tests/fuzz/corpus/$name" >"$out/$name/log" 2>&1
}

pids=()
status=0
for name in "${names[@]}"; do
  run_one "$name" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || status=1; done

total=0
for name in "${names[@]}"; do
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$name/log" | tail -1)
  runs=${runs:-0}
  total=$((total + runs))
  if grep -qE "ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|SUMMARY: UndefinedBehavior" "$out/$name/log"; then
    echo "fuzz: $name FAILED after $runs executions (input in $out/$name/crash/):"
    grep -E -A12 "ERROR:|runtime error:" "$out/$name/log" | head -30
    status=1
  else
    echo "fuzz: $name: $runs executions, clean"
  fi
done
echo "fuzz: $total executions in total over ${#names[@]} targets in ${secs} s on $(nproc) CPUs"
((status == 0)) && rm -rf "$out"
exit $status
