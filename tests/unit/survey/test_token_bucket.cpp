#include <gtest/gtest.h>

#include <vector>

#include "hopscope/survey/token_bucket.hpp"

using hopscope::survey::TokenBucket;

namespace {
// A sender that takes every token it can, polling every `poll_ns`, for
// `seconds`; returns how many it sent in each whole second.
std::vector<std::uint64_t> per_second(double rate, std::uint64_t poll_ns, int seconds) {
  std::uint64_t now = 1'000'000'000;
  TokenBucket b(rate, TokenBucket::default_burst(rate), now);
  std::vector<std::uint64_t> counts(static_cast<std::size_t>(seconds), 0);
  const std::uint64_t start = now;
  while (now < start + static_cast<std::uint64_t>(seconds) * 1'000'000'000ull) {
    const std::uint64_t n = std::min<std::uint64_t>(b.available(now), 64);  // batches of up to 64
    b.consume(n);
    counts[(now - start) / 1'000'000'000ull] += n;
    now += poll_ns;
  }
  return counts;
}
}  // namespace

TEST(TokenBucket, RateHonouredWithinTwoPercentEverySecond) {
  for (double rate : {1000.0, 100000.0, 1000000.0, 5000000.0}) {
    for (std::uint64_t poll : {1'000ull, 37'000ull, 250'000ull}) {
      // Only where a sender taking <= 64 per poll can keep up with the rate.
      if (rate * static_cast<double>(poll) / 1e9 > 48) continue;
      auto c = per_second(rate, poll, 5);
      for (std::size_t s = 0; s < c.size(); s++) {
        EXPECT_GE(static_cast<double>(c[s]), rate * 0.98) << "rate " << rate << " poll " << poll << " second " << s;
        EXPECT_LE(static_cast<double>(c[s]), rate * 1.02) << "rate " << rate << " poll " << poll << " second " << s;
      }
    }
  }
}

TEST(TokenBucket, WaitTimeAndBurst) {
  TokenBucket b(1000, 10, 0);
  EXPECT_EQ(b.available(0), 10u) << "starts full";
  b.consume(10);
  EXPECT_EQ(b.available(0), 0u);
  EXPECT_EQ(b.wait_ns(1), 1'000'000u) << "one token per ms";
  EXPECT_EQ(b.available(5'000'000), 5u);
  EXPECT_EQ(b.available(3'000'000'000ull), 10u) << "never more than the burst";
  EXPECT_EQ(TokenBucket::default_burst(100), 1u);
  EXPECT_EQ(TokenBucket::default_burst(1e6), 10000u) << "10 ms of tokens";
  EXPECT_THROW(TokenBucket(0, 1, 0), std::invalid_argument);
}

TEST(TokenBucket, ShortStallsOfTheSenderCostNoRate) {
  // 40k/s, a poll every 100 us, and every 50 ms the sender is descheduled
  // for 4 ms (a busy machine): each second still within 2%. A bucket of
  // 64 tokens (1.6 ms) lost ~5% this way.
  const double rate = 40000;
  std::uint64_t now = 1'000'000'000;
  const std::uint64_t start = now;
  TokenBucket b(rate, TokenBucket::default_burst(rate), now);
  std::vector<std::uint64_t> counts(3, 0);
  while (now < start + 3'000'000'000ull) {
    const std::uint64_t n = std::min<std::uint64_t>(b.available(now), 64);
    b.consume(n);
    counts[(now - start) / 1'000'000'000ull] += n;
    now += (now - start) % 50'000'000 < 100'000 ? 4'000'000 : 100'000;
  }
  for (auto c : counts) EXPECT_NEAR(static_cast<double>(c), rate, rate * 0.02);
}

TEST(TokenBucket, DrainForgetsTheTokensBankedDuringAPause) {
  TokenBucket b(1000, 100, 0);
  b.consume(b.available(0));
  EXPECT_EQ(b.available(50'000'000), 50u) << "50 ms of pause banked 50";
  b.drain(50'000'000);
  EXPECT_EQ(b.available(50'000'000), 0u);
  EXPECT_EQ(b.available(51'000'000), 1u) << "then the rate again";
}

TEST(TokenBucket, ASenderSlowerThanTheRateIsNotStarved) {
  // Polling every 250 us and taking at most 64 per poll, it can send 256k/s:
  // below a 5M/s rate it must get (nearly) all of that, every second.
  auto c = per_second(5e6, 250'000, 3);
  for (auto n : c) EXPECT_GE(n, 255'000u);
}

TEST(TokenBucket, TokensSpentAheadAreOwedNotAWindfall) {
  // A push of 64 right after a drain leaves the bucket 64 in debt: nothing
  // is available until the rate has paid it back (a negative count once read
  // as a huge unsigned one let a whole pass out at once).
  TokenBucket b(100000, 1000, 0);
  b.drain(0);
  b.consume(64);
  EXPECT_EQ(b.available(0), 0u);
  EXPECT_EQ(b.available(640'000), 0u) << "64 tokens at 100k/s take 640 us to repay";
  EXPECT_EQ(b.wait_ns(64), 640'000u);
  EXPECT_EQ(b.available(1'280'000), 64u);
}
