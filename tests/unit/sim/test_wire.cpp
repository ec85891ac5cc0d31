#include <gtest/gtest.h>

#include "hopscope/abi/sim.h"
#include "hopscope/sim/wire.hpp"

using namespace hopscope::sim;

TEST(SimWire, MergesCpusIntoConsecutiveSlotsAndDropsAnEarlierLap) {
  const std::uint64_t now = 1000000;
  std::vector<WireEntry> e = {
      {now - 10, 3},
      {now - 10, 4},                  // two CPUs, same slot
      {now - 7, 1},                   // a gap of two empty slots before it
      {now - HS_SIM_WIRE_SLOTS, 99},  // an earlier lap of the ring: outside the map's span
      {now + 5, 42},                  // the future (a clock mix-up): ignored
  };
  WireSlots s = merge_wire(e, now);
  EXPECT_EQ(s.first_slot, now - 10);
  ASSERT_EQ(s.frames.size(), 4u);
  EXPECT_EQ(s.frames[0], 7u);
  EXPECT_EQ(s.frames[1], 0u);
  EXPECT_EQ(s.frames[2], 0u);
  EXPECT_EQ(s.frames[3], 1u);
  EXPECT_TRUE(merge_wire({}, now).frames.empty());
}

TEST(SimWire, BusiestWindowsSlide) {
  // 2 s at 100 frames per ms, except one burst: 600 extra frames in one
  // 10 ms stretch starting at 1.2345 s (not aligned with any window).
  WireSlots s;
  s.first_slot = 5;
  s.frames.assign(2000, 100);
  for (int i = 0; i < 10; i++) s.frames[1234 + i] += 60;
  WireWindows w = busiest_windows(s);
  EXPECT_EQ(w.frames, 2000u * 100 + 600);
  EXPECT_DOUBLE_EQ(w.span_s, 2.0);
  EXPECT_EQ(w.max_1s, 100000u + 600);
  EXPECT_EQ(w.max_100ms, 10000u + 600);
  EXPECT_EQ(w.max_10ms, 1000u + 600);
}

TEST(SimWire, ShortRunsCountWhatFits) {
  WireSlots s;
  s.frames = {5, 0, 7};
  WireWindows w = busiest_windows(s);
  EXPECT_EQ(w.max_1s, 12u);
  EXPECT_EQ(w.max_10ms, 12u);
  EXPECT_DOUBLE_EQ(w.span_s, 0.003);
}
