// Which (target, TTL) to probe next: a keyed random permutation of the whole
// space, skipping TTLs beyond a destination already reached. With distance
// hints (from pre-probes) the space is walked twice: first only TTLs up to
// hint + kHintSlack, then the rest for destinations not reached yet, so a
// wrong hint costs probes, never coverage. Distances are written by the reply
// collector (another thread) and read here with relaxed atomics: no locks.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>

#include "hopscope/survey/permutation.hpp"

namespace hopscope::survey {

struct SurveyProbe {
  std::uint32_t target = 0;
  std::uint8_t ttl = 1;
  std::uint8_t flow = 0;  // Paris flow (1: pre-probe)
};

class Scheduler {
 public:
  static constexpr int kHintSlack = 0;  // a missed destination is caught by the second pass
  // dist[t] = 0 while unknown, else the TTL where target t answered;
  // hint[t] (may be null) = 0 or its estimated distance, fixed before next() is called.
  Scheduler(std::uint64_t targets, int max_ttl, std::uint64_t seed, const std::atomic<std::uint8_t>* dist,
            const std::atomic<std::uint8_t>* hint = nullptr);

  // Fills up to out.size() probes; returns how many (0 once the space is done).
  std::size_t next(std::span<SurveyProbe> out);
  [[nodiscard]] bool done() const { return pass_ >= passes_; }
  [[nodiscard]] std::uint64_t total() const { return perm_.size() * passes_; }
  [[nodiscard]] std::uint64_t position() const { return perm_.size() * pass_ + pos_; }
  [[nodiscard]] std::uint64_t skipped() const { return skipped_; }  // beyond a reached destination

 private:
  Permutation perm_;
  int max_ttl_;
  const std::atomic<std::uint8_t>* dist_;
  const std::atomic<std::uint8_t>* hint_;
  int passes_;
  int pass_ = 0;
  std::uint64_t pos_ = 0;
  std::uint64_t skipped_ = 0;
};

}  // namespace hopscope::survey
