#!/usr/bin/env bash
# The survey engine end to end on the simulated Internet, every figure from
# one run: the 131,070-destination IPv4 sim (seed 1, `sim up --queues 2`),
#  - the full-loop floor: bench_full_loop (AF_XDP sender -> responder ->
#    matcher -> ring -> userspace, no scheduler), as fast as possible;
#  - zmap (ICMP echo, -T 2, -r 0) sending into the same sim (send only);
#  - hopscope survey --tx af_xdp and --tx xdp-live, --threads 2, -r RATE:
#    probing rate (probes / probing seconds), wall time, ring losses, and the
#    score against the truth (recall, exact paths);
#  - hopscope survey at -r 100000: CPU used, in cores (user + sys / wall);
#  - pacing on the wire, counted on the far side (the sim's responder counts
#    frames per 1 ms, `hopscope sim wire`): both backends at -r $PACED, the
#    busiest 1 s and 100 ms windows against the rate.
# Prints ratios against the floor and zmap. Brings the sim up and always
# takes it down.
#   RATE=20000000 DESTINATIONS=131070 ./bench/survey_sim.sh
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh >/dev/null
./scripts/build.sh >/dev/null
BUILD=${HOPSCOPE_BUILD_DIR:-build}
HS="$BUILD/tools/hopscope"
RATE=${RATE:-20000000}
DESTINATIONS=${DESTINATIONS:-131070}
PACED=${PACED:-200000}
NS=hsbench-ssim-$$
TMP=$(mktemp -d /tmp/hopscope-survey-sim.XXXXXX)
cleanup() {
  "$HS" sim down --netns "$NS" >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

"$HS" sim up --seed 1 --destinations "$DESTINATIONS" --queues 2 --netns "$NS" --truth "$TMP/truth.ndjson" | head -1
# The sim's destinations: the /15 the sim answers for (two addresses of it are not destinations).
RANGE=198.18.0.0/15

# 1. The full-loop floor.
floor=$("$BUILD/bench/bench_full_loop" --netns "$NS" --truth "$TMP/truth.ndjson" --probes 2000000 --paced-rate 200000 |
  awk '/as fast as possible/ {f = 1} f && /records consumed in userspace/ {print $(NF-1); exit}')

# 2. zmap into the same sim (ICMP echo, two send threads, as fast as it goes).
gw=$(ip netns exec "$NS" ip -4 route show "$RANGE" | awk '{print $3}')
ip netns exec "$NS" ip neigh replace "$gw" lladdr "$(ip netns exec "$NS" ip -br link show sim0 | awk '{print $3}')" dev sim0 nud permanent 2>/dev/null || true
gwmac=$(ip netns exec "$NS" ip neigh show "$gw" dev sim0 | awk '{print $3}')
zstart=$(date +%s.%N)
ip netns exec "$NS" zmap -i sim0 -G "$gwmac" -M icmp_echoscan -r 0 -T 2 -P 8 -c 0 -q --disable-syslog \
  -b /dev/null -o /dev/null "$RANGE" >"$TMP/zmap.log" 2>&1 || true
zend=$(date +%s.%N)
zsent=$((8 * 131072))
zmap_mpps=$(awk -v n="$zsent" -v a="$zstart" -v b="$zend" 'BEGIN {printf "%.3f", n / (b - a) / 1e6}')

survey() {  # survey NAME ARGS... -> prints one line of figures
  local name=$1
  shift
  /usr/bin/time -f "%e %U %S %M" -o "$TMP/$name.time" \
    "$HS" survey "$RANGE" --netns "$NS" --threads 2 -O "$TMP/$name.ndjson" "$@" >"$TMP/$name.summary" 2>&1
  local last probing wall dropped rate score cpu rss
  last=$(tail -1 "$TMP/$name.summary")
  probing=$(grep -o 'probing [0-9.]* s' "$TMP/$name.summary" | awk '{print $2}')
  dropped=$(grep -o 'dropped=[0-9]*' <<<"$last" | cut -d= -f2)
  local probes
  probes=$(grep -o 'probes_sent=[0-9]*' <<<"$last" | cut -d= -f2)
  rate=$(awk -v n="$probes" -v s="$probing" 'BEGIN {printf "%.3f", n / s / 1e6}')
  read -r wall user sys rss <"$TMP/$name.time"
  cpu=$(awk -v u="$user" -v s="$sys" -v w="$wall" 'BEGIN {printf "%.2f", (u + s) / w}')
  score=$("$HS" score --truth "$TMP/truth.ndjson" "$TMP/$name.ndjson" | tail -1)
  printf '%s %s %s %s %s %s %s %s\n' "$rate" "$probes" "$probing" "$wall" "$dropped" "$cpu" "$((rss / 1024))" "$score"
}

read -r ax_rate ax_probes ax_probing ax_wall ax_drop ax_cpu ax_rss ax_score < <(survey afxdp -r "$RATE" --tx af_xdp)
read -r xl_rate xl_probes xl_probing xl_wall xl_drop xl_cpu xl_rss xl_score < <(survey xdplive -r "$RATE" --tx xdp-live)
read -r d_rate d_probes d_probing d_wall d_drop d_cpu d_rss d_score < <(survey default -r 100000 --tx af_xdp)

pacing() {  # pacing TX -> the far side's count of a survey at -r $PACED
  "$HS" sim wire --netns "$NS" --clear >/dev/null
  "$HS" survey "$RANGE" --netns "$NS" --threads 2 -r "$PACED" --tx "$1" -O /dev/null >"$TMP/pacing-$1.summary" 2>&1
  "$HS" sim wire --netns "$NS" --clear --rate "$PACED" | sed 's/^sim [^:]*: wire //'
}
wire_afxdp=$(pacing af_xdp)
wire_xdplive=$(pacing xdp-live)

# Where the CPU goes: one more run of each backend under `perf record -a`
# (not the runs measured above: sampling costs rate), samples grouped by
# stage, as CPU ns per probe (share x CPUs x wall / probes).
stages() {  # stages NAME ARGS...
  local name=$1
  shift
  command -v perf >/dev/null || { echo "  (perf not installed: no stage table)"; return; }
  local t0 t1 probes
  t0=$(date +%s.%N)
  perf record -q -a -F 999 -o "$TMP/$name.perf" -- "$HS" survey "$RANGE" --netns "$NS" --threads 2 -O /dev/null "$@" \
    >"$TMP/$name.psummary" 2>&1
  t1=$(date +%s.%N)
  probes=$(grep -o "probes_sent=[0-9]*" "$TMP/$name.psummary" | tail -1 | cut -d= -f2)
  echo "  CPU ns per probe by stage, survey $* ($probes probes, $(nproc) CPUs, $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}') s):"
  perf report -i "$TMP/$name.perf" --no-children --sort sym --stdio 2>/dev/null | grep -E '^ +[0-9]+\.[0-9]+%' |
    awk -f bench/perf_stages.awk | sort -t$'\t' -k2 -rn |
    awk -F'\t' -v n="$probes" -v c="$(nproc)" -v a="$t0" -v b="$t1" \
      '{printf "    %-34s %6.1f ns  (%5.1f%%)\n", $1, $2 / 100 * c * (b - a) * 1e9 / n, $2}'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
echo
echo "survey_sim: $DESTINATIONS-destination IPv4 sim, 2 queues; survey --threads 2 -r $RATE (same run)"
printf '  %-40s %8s Mpps\n' "full-loop floor (no scheduler)" "$floor"
printf '  %-40s %8s Mpps\n' "zmap -T 2 icmp_echoscan (send only)" "$zmap_mpps"
for row in "af_xdp $ax_rate $ax_probes $ax_probing $ax_wall $ax_drop $ax_cpu $ax_rss" \
  "xdp-live $xl_rate $xl_probes $xl_probing $xl_wall $xl_drop $xl_cpu $xl_rss"; do
  read -r tx rate probes probing wall drop cpu rss <<<"$row"
  printf '  survey --tx %-9s %7s Mpps probing (%sx floor, %sx zmap); %s probes in %s s; wall %s s; dropped %s; %s cores; %s MB\n' \
    "$tx" "$rate" "$(ratio "$rate" "$floor")" "$(ratio "$rate" "$zmap_mpps")" "$probes" "$probing" "$wall" "$drop" "$cpu" "$rss"
done
echo "  score af_xdp:   $ax_score"
echo "  score xdp-live: $xl_score"
printf '  survey -r 100000 --tx af_xdp: %s cores (user+sys / wall) over %s s; dropped %s; %s\n' "$d_cpu" "$d_wall" "$d_drop" "$d_score"
echo "  on the wire (far side), -r $PACED, busiest windows (targets: 1 s <= +2%, 100 ms <= +10%):"
echo "    af_xdp:   $wire_afxdp"
echo "    xdp-live: $wire_xdplive"
stages afxdp -r "$RATE" --tx af_xdp
stages xdplive -r "$RATE" --tx xdp-live
