// CLOCK_MONOTONIC in nanoseconds: the clock bpf_ktime_get_ns() reads, so
// kernel receive stamps and userspace send stamps subtract directly. Clock is
// the engines' time edge: SystemClock in production, a virtual clock in tests.
#pragma once

#include <cstdint>
#include <ctime>

namespace hopscope {

inline std::uint64_t mono_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

// Unix time - CLOCK_MONOTONIC, ns: turns monotonic stamps into Unix time.
inline std::int64_t unix_minus_mono_ns() {
  timespec rt;
  clock_gettime(CLOCK_REALTIME, &rt);
  const std::int64_t unix_ns = static_cast<std::int64_t>(rt.tv_sec) * 1000000000ll + rt.tv_nsec;
  return unix_ns - static_cast<std::int64_t>(mono_ns());
}

// Unix time in milliseconds (the start and end stamps of results).
inline std::int64_t unix_ms() {
  timespec rt;
  clock_gettime(CLOCK_REALTIME, &rt);
  return static_cast<std::int64_t>(rt.tv_sec) * 1000 + rt.tv_nsec / 1000000;
}

class Clock {
 public:
  virtual ~Clock() = default;
  // CLOCK_MONOTONIC ns (or the virtual equivalent).
  [[nodiscard]] virtual std::uint64_t now_ns() const = 0;
  // Unix time - now_ns(), ns.
  [[nodiscard]] virtual std::int64_t unix_offset_ns() const = 0;
  // Lets about `ns` pass. The system clock sleeps for waits above
  // kShortWaitNs and returns at once for shorter ones (the caller re-checks:
  // a short busy wait, as a sleep that short would oversleep).
  virtual void sleep_for(std::uint64_t ns) = 0;
  static constexpr std::uint64_t kShortWaitNs = 50'000;
};

class SystemClock final : public Clock {
 public:
  [[nodiscard]] std::uint64_t now_ns() const override { return mono_ns(); }
  [[nodiscard]] std::int64_t unix_offset_ns() const override { return unix_minus_mono_ns(); }
  void sleep_for(std::uint64_t ns) override;
};

// The process's SystemClock.
Clock& system_clock();

}  // namespace hopscope
