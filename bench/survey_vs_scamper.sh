#!/usr/bin/env bash
# The same targets traced by scamper (its maximum rate, 10,000 pps) and by
# hopscope survey, through the real-router lab: wall time (start-up
# included), probes sent, destinations reached, interfaces discovered.
# Brings the lab up and always takes it down.
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
WORK=$(mktemp -d /tmp/hopscope-sv.XXXXXX)
cleanup() { "$HS" lab down --prefix "$PREFIX" >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT INT TERM
"$HS" lab up --prefix "$PREFIX" >/dev/null
NS=$PREFIX-prober

# N targets of the lab's destination block 198.18.64.0/19 (real Linux routers on the way).
for ((i = 0; i < N; i++)); do echo "198.18.$((64 + i / 256)).$((i % 256))"; done > "$WORK/targets.txt"

now() { date +%s.%N; }
t0=$(now)
ip netns exec "$NS" scamper -O json -p 10000 -c "trace -P udp-paris -q 1 -w 1" -f "$WORK/targets.txt" > "$WORK/scamper.json"
t1=$(now)
"$HS" survey --netns "$NS" --targets "$WORK/targets.txt" -r "$RATE" -w "$WAIT" -O "$WORK/hopscope.json" > "$WORK/summary.txt"
t2=$(now)

read -r s_traces s_reached s_probes s_ifaces < <("$BUILD/bench/bench_count_traces" "$WORK/scamper.json" | tr -d 'a-z_=' )
read -r h_traces h_reached h_probes_out h_ifaces < <("$BUILD/bench/bench_count_traces" "$WORK/hopscope.json" | tr -d 'a-z_=')
h_probes=$(sed -n 's/^probes_sent=\([0-9]*\).*/\1/p' "$WORK/summary.txt")
s_time=$(echo "$t1 - $t0" | bc -l)
h_time=$(echo "$t2 - $t1" | bc -l)

echo "$N targets in 198.18.64.0/19 through the real-router lab (udp-paris, one probe per hop)"
printf "%-34s %10s %10s %10s %11s %15s\n" tool wall_s probes reached interfaces probes/iface
printf "%-34s %10.2f %10d %10d %11d %15.1f\n" "scamper (-p 10000, max)" "$s_time" "$s_probes" "$s_reached" "$s_ifaces" "$(echo "$s_probes / $s_ifaces" | bc -l)"
printf "%-34s %10.2f %10d %10d %11d %15.1f\n" "hopscope survey (-r $RATE -w $WAIT)" "$h_time" "$h_probes" "$h_reached" "$h_ifaces" "$(echo "$h_probes / $h_ifaces" | bc -l)"
printf "ratio wall time scamper / hopscope: %.1fx; interfaces hopscope / scamper: %.2fx\n" \
  "$(echo "$s_time / $h_time" | bc -l)" "$(echo "$h_ifaces / $s_ifaces" | bc -l)"
