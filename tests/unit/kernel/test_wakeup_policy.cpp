#include <gtest/gtest.h>

#include "lib/wakeup.h"

namespace {
// Wake-ups while the backlog grows by `records` records of `rec` bytes.
int wakeups(int records, unsigned rec, unsigned every) {
  int n = 0;
  for (int i = 1; i <= records; i++) n += hs_should_wake(static_cast<__u64>(i) * rec, rec, every);
  return n;
}
}  // namespace

TEST(WakeupPolicy, OncePerThresholdOfBacklog) {
  EXPECT_EQ(wakeups(100, 72, 10 * 72), 10) << "not on every record past the threshold";
  EXPECT_EQ(wakeups(9, 72, 10 * 72), 0);
  EXPECT_EQ(wakeups(10, 72, 10 * 72), 1);
  EXPECT_EQ(wakeups(100000, 72, 256 * 72), 100000 / 256);
}

TEST(WakeupPolicy, ZeroMeansEveryRecord) { EXPECT_EQ(wakeups(50, 72, 0), 50); }

TEST(WakeupPolicy, AfterTheConsumerDrainsTheCountStartsAgain) {
  // Backlog 9 records, consumer drains to 0, then 1 record: no wake-up.
  EXPECT_FALSE(hs_should_wake(72, 72, 720));
  EXPECT_TRUE(hs_should_wake(720, 72, 720));
}
