// CLOCK_MONOTONIC in nanoseconds: the clock bpf_ktime_get_ns() reads, so
// kernel receive stamps and userspace send stamps subtract directly.
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

}  // namespace hopscope
