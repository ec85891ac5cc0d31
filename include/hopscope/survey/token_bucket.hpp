// Token bucket for the probing rate: `rate` tokens per second, at most
// `burst` banked. Time is passed in (CLOCK_MONOTONIC ns), so it is tested
// without sleeping.
#pragma once

#include <cstdint>

namespace hopscope::survey {

class TokenBucket {
 public:
  // rate > 0 probes/s; burst >= 1.
  TokenBucket(double rate, std::uint64_t burst, std::uint64_t now_ns);
  // A burst that keeps every 1-second window within 1% of `rate`: 10 ms of
  // tokens (rate/100), at least 1. Smaller bursts lose tokens whenever the
  // pacing thread is descheduled for longer than they last (a 64-token cap
  // cost 30% of a 40 kpps survey on a busy 2-CPU machine).
  static std::uint64_t default_burst(double rate);

  // Whole tokens available now (refilled up to `burst`).
  std::uint64_t available(std::uint64_t now_ns);
  // Spends n tokens (n <= available()).
  void consume(std::uint64_t n);
  // Empties the bucket at `now_ns`: after a deliberate pause (waiting for
  // replies), sending resumes at the rate instead of with a banked burst.
  void drain(std::uint64_t now_ns);
  // Nanoseconds from `now_ns` until `n` tokens are available (0 if already).
  [[nodiscard]] std::uint64_t wait_ns(std::uint64_t n) const;

 private:
  double rate_;
  double tokens_;
  double burst_;
  std::uint64_t last_ns_;
};

}  // namespace hopscope::survey
