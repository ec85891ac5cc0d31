#include "hopscope/sim/wire.hpp"

#include <algorithm>
#include <limits>

#include "hopscope/abi/sim.h"

namespace hopscope::sim {

WireSlots merge_wire(const std::vector<WireEntry>& entries, std::uint64_t now_slot) {
  const std::uint64_t oldest = now_slot >= HS_SIM_WIRE_SLOTS ? now_slot - HS_SIM_WIRE_SLOTS + 1 : 0;
  std::uint64_t lo = std::numeric_limits<std::uint64_t>::max(), hi = 0;
  for (const WireEntry& e : entries)
    if (e.frames && e.slot >= oldest && e.slot <= now_slot) {
      lo = std::min(lo, e.slot);
      hi = std::max(hi, e.slot);
    }
  WireSlots s;
  if (lo > hi) return s;
  s.first_slot = lo;
  s.frames.assign(hi - lo + 1, 0);
  for (const WireEntry& e : entries)
    if (e.frames && e.slot >= lo && e.slot <= hi) s.frames[e.slot - lo] += e.frames;
  return s;
}

namespace {

std::uint64_t busiest(const std::vector<std::uint64_t>& f, std::size_t width) {
  std::uint64_t sum = 0, best = 0;
  for (std::size_t i = 0; i < f.size(); i++) {
    sum += f[i];
    if (i >= width) sum -= f[i - width];
    best = std::max(best, sum);
  }
  return best;
}

}  // namespace

WireWindows busiest_windows(const WireSlots& s) {
  WireWindows w;
  for (std::uint64_t n : s.frames) w.frames += n;
  w.span_s = static_cast<double>(s.frames.size()) * static_cast<double>(HS_SIM_WIRE_SLOT_NS) / 1e9;
  constexpr std::size_t kPerSecond = 1000000000ULL / HS_SIM_WIRE_SLOT_NS;
  w.max_1s = busiest(s.frames, kPerSecond);
  w.max_100ms = busiest(s.frames, kPerSecond / 10);
  w.max_10ms = busiest(s.frames, kPerSecond / 100);
  return w;
}

}  // namespace hopscope::sim
