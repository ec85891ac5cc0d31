#include "hopscope/core/clock.hpp"

#include <chrono>
#include <thread>

namespace hopscope {

void SystemClock::sleep_for(std::uint64_t ns) {
  if (ns > kShortWaitNs) std::this_thread::sleep_for(std::chrono::nanoseconds(ns));
}

Clock& system_clock() {
  static SystemClock clock;
  return clock;
}

}  // namespace hopscope
