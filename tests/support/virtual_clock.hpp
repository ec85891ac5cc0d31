// A Clock whose time moves only when someone sleeps on it: the engines'
// waits (pacing, settling, quiet periods) take no real time, so tests of
// timing logic are fast. Before time moves on, the clock waits (real time)
// until `ready()` says the world has caught up with the present — a fake
// network uses it to say every reply due by now has been handed over — so
// results do not depend on how the machine schedules the engine's threads.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <thread>

#include "hopscope/core/clock.hpp"

namespace hopscope::test {

class VirtualClock final : public Clock {
 public:
  explicit VirtualClock(std::uint64_t start_ns = 1'000'000'000) : now_(start_ns) {}
  [[nodiscard]] std::uint64_t now_ns() const override { return now_.load(std::memory_order_acquire); }
  [[nodiscard]] std::int64_t unix_offset_ns() const override { return 1'700'000'000'000'000'000; }
  void sleep_for(std::uint64_t ns) override {
    // A guard against a test that never catches up: give up waiting after 10 s.
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (ready_ && !ready_() && std::chrono::steady_clock::now() < give_up)
      std::this_thread::sleep_for(std::chrono::microseconds(10));
    now_.fetch_add(ns == 0 ? 1 : ns, std::memory_order_acq_rel);
    // Long waits also take a little real time, so that a deliberately stalled
    // thread is outlived by the engine's caps (10 s virtual >= 0.2 s real).
    if (ns >= 1'000'000)
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    else
      std::this_thread::yield();
  }
  // Set before the engine's threads start.
  void set_ready(std::function<bool()> ready) { ready_ = std::move(ready); }
  void advance(std::uint64_t ns) { now_.fetch_add(ns, std::memory_order_acq_rel); }

 private:
  std::atomic<std::uint64_t> now_;
  std::function<bool()> ready_;
};

}  // namespace hopscope::test
