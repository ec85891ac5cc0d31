// Which (target, TTL) to probe next: a keyed random permutation of the whole
// space, walked once, skipping TTLs beyond a destination already reached.
// The distances are written by the reply collector (another thread) and read
// here with relaxed atomics: no lock on either side.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>

#include "hopscope/survey/permutation.hpp"

namespace hopscope::survey {

struct SurveyProbe {
  std::uint32_t target = 0;
  std::uint8_t ttl = 1;
};

class Scheduler {
 public:
  // dist[t] = 0 while unknown, else the TTL where target t answered.
  Scheduler(std::uint64_t targets, int max_ttl, std::uint64_t seed, const std::atomic<std::uint8_t>* dist);

  // Fills up to out.size() probes; returns how many (0 once the space is done).
  std::size_t next(std::span<SurveyProbe> out);
  [[nodiscard]] bool done() const { return pos_ >= perm_.size(); }
  [[nodiscard]] std::uint64_t total() const { return perm_.size(); }
  [[nodiscard]] std::uint64_t position() const { return pos_; }
  [[nodiscard]] std::uint64_t skipped() const { return skipped_; }  // beyond a reached destination

 private:
  Permutation perm_;
  int max_ttl_;
  const std::atomic<std::uint8_t>* dist_;
  std::uint64_t pos_ = 0;
  std::uint64_t skipped_ = 0;
};

}  // namespace hopscope::survey
