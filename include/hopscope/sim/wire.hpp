// What the far side of the wire saw: frames per millisecond at the sim's
// responder (abi/sim.h, hs_sim_wire), and the busiest windows of them, so a
// sender's pacing is checked where it matters (on the wire, not in a queue).
#pragma once

#include <cstdint>
#include <vector>

namespace hopscope::sim {

// Frames per HS_SIM_WIRE_SLOT_NS slot for consecutive slots, first to last
// slot that saw a frame (empty when none did).
struct WireSlots {
  std::uint64_t first_slot = 0;  // absolute slot number (CLOCK_MONOTONIC ns / slot ns)
  std::vector<std::uint64_t> frames;
};

// Per-CPU slots as the map holds them (slot number, frames), summed into
// consecutive slots; slots older than the map's span before `now_slot` (left
// from an earlier lap of the ring) are ignored.
struct WireEntry {
  std::uint64_t slot;
  std::uint64_t frames;
};
WireSlots merge_wire(const std::vector<WireEntry>& entries, std::uint64_t now_slot);

struct WireWindows {
  std::uint64_t frames = 0;
  double span_s = 0;            // first to last slot with a frame, inclusive
  std::uint64_t max_1s = 0;     // the most frames in any 1000 consecutive slots
  std::uint64_t max_100ms = 0;  // ... 100 consecutive slots
  std::uint64_t max_10ms = 0;   // ... 10 consecutive slots
};
// Sliding windows over 1 ms slots.
WireWindows busiest_windows(const WireSlots& s);

}  // namespace hopscope::sim
