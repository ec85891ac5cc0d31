#!/usr/bin/env bash
# The same targets traced by scamper (its maximum rate, 10,000 pps) and by
# hopscope survey, through the real-router lab and through the simulated
# Internet: wall time (start-up included), probes sent, destinations reached,
# interfaces discovered. Brings the lab and the sim up and always takes them down.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh >/dev/null
./scripts/build.sh >/dev/null
BUILD=${HOPSCOPE_BUILD_DIR:-build}
HS="$BUILD/tools/hopscope"
N=${TARGETS:-5000}
RATE=${RATE:-100000}
WAIT=${WAIT:-1}
PREFIX=hsbench-sv$$
SIM=hsbench-svsim$$
WORK=$(mktemp -d /tmp/hopscope-sv.XXXXXX)
cleanup() {
  "$HS" lab down --prefix "$PREFIX" >/dev/null 2>&1 || true
  "$HS" sim down --netns "$SIM" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
"$HS" lab up --prefix "$PREFIX" >/dev/null
NS=$PREFIX-prober

# N targets of the lab's destination block 198.18.64.0/19 (real Linux routers on the way).
for ((i = 0; i < N; i++)); do echo "198.18.$((64 + i / 256)).$((i % 256))"; done > "$WORK/targets.txt"

now() { date +%s.%N; }
row() { printf "%-60s %8.2f %8d %8d %11d %13.1f\n" "$@"; }
# compare LABEL NETNS TARGETS [wrapper...]: runs scamper, then hopscope survey
# with its defaults and tuned for speed (no retry round, short waits), each
# without and with Doubletree stop sets; prints the table and the ratios.
compare() {
  local label=$1 ns=$2 targets=$3
  shift 3
  local t0 t1 s_time s_traces s_reached s_probes s_ifaces
  t0=$(now)
  "$@" ip netns exec "$ns" scamper -O json -p 10000 -c "trace -P udp-paris -q 1 -w 1" -f "$targets" > "$WORK/scamper.json"
  t1=$(now)
  read -r s_traces s_reached s_probes s_ifaces < <("$BUILD/bench/bench_count_traces" "$WORK/scamper.json" | tr -d 'a-z_=')
  s_time=$(echo "$t1 - $t0" | bc -l)
  echo "$label (udp-paris)"
  printf "%-60s %8s %8s %8s %11s %13s\n" tool wall_s probes reached interfaces probes/iface
  row "scamper (-p 10000, its max; -q 1)" "$s_time" "$s_probes" "$s_reached" "$s_ifaces" \
    "$(echo "$s_probes / $s_ifaces" | bc -l)"
  local opts
  for opts in "-r $RATE -w $WAIT" "-r $RATE -w $WAIT --doubletree" "-r 1000000 -w 0.1 --retries 0" \
    "-r 1000000 -w 0.1 --retries 0 --doubletree"; do
    local h_time h_traces h_reached h_probes_out h_ifaces h_probes
    t0=$(now)
    # shellcheck disable=SC2086
    "$HS" survey --netns "$ns" --targets "$targets" $opts -O "$WORK/hopscope.json" > "$WORK/summary.txt"
    t1=$(now)
    read -r h_traces h_reached h_probes_out h_ifaces < <("$BUILD/bench/bench_count_traces" "$WORK/hopscope.json" | tr -d 'a-z_=')
    h_probes=$(sed -n 's/^probes_sent=\([0-9]*\).*/\1/p' "$WORK/summary.txt")
    h_time=$(echo "$t1 - $t0" | bc -l)
    row "hopscope survey $opts" "$h_time" "$h_probes" "$h_reached" "$h_ifaces" "$(echo "$h_probes / $h_ifaces" | bc -l)"
    printf "%-60s wall time scamper / hopscope %.1fx, interfaces hopscope / scamper %.2fx\n" "" \
      "$(echo "$s_time / $h_time" | bc -l)" "$(echo "$h_ifaces / $s_ifaces" | bc -l)"
  done
  echo
}

compare "$N targets in 198.18.64.0/19 through the real-router lab" "$NS" "$WORK/targets.txt"

# The sim: the same number of its destinations. scamper's kernel sockets get the
# responder's XDP_TX replies only while sim0 runs an XDP program: hold one for it.
"$HS" sim up --seed 1 --destinations "$N" --netns "$SIM" --truth "$WORK/truth.ndjson" >/dev/null
sed -n 's/.*"type":"dest","dst":"\([^"]*\)".*/\1/p' "$WORK/truth.ndjson" > "$WORK/sim-targets.txt"
with_pass() {
  coproc HOLD { "$BUILD/bench/bench_hold_xdp_pass" "$SIM" sim0; }
  read -r _ <&"${HOLD[0]}"  # "attached"
  "$@"
  local rc=$?
  exec {HOLD[1]}>&-
  wait "$HOLD_PID" 2>/dev/null || true
  return $rc
}
compare "$N destinations of a simulated Internet (seed 1)" "$SIM" "$WORK/sim-targets.txt" with_pass
