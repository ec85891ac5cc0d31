// A Clock whose time moves only when someone sleeps on it: the engines'
// waits (pacing, settling, quiet periods) take no real time, so tests of
// timing logic are fast and do not depend on the machine's load. A sleep
// also yields the CPU (and, for a millisecond or more, sleeps a little for
// real) so that the engine's other threads make progress meanwhile.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include "hopscope/core/clock.hpp"

namespace hopscope::test {

class VirtualClock final : public Clock {
 public:
  explicit VirtualClock(std::uint64_t start_ns = 1'000'000'000) : now_(start_ns) {}
  [[nodiscard]] std::uint64_t now_ns() const override { return now_.load(std::memory_order_acquire); }
  [[nodiscard]] std::int64_t unix_offset_ns() const override { return 1'700'000'000'000'000'000; }
  void sleep_for(std::uint64_t ns) override {
    now_.fetch_add(ns == 0 ? 1 : ns, std::memory_order_acq_rel);
    if (ns >= 1'000'000)
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    else
      std::this_thread::yield();
  }
  void advance(std::uint64_t ns) { now_.fetch_add(ns, std::memory_order_acq_rel); }

 private:
  std::atomic<std::uint64_t> now_;
};

}  // namespace hopscope::test
