// Which (target, TTL) to probe next. Every pass walks a keyed random
// permutation of the whole (target, TTL) space and sends, for each target,
// the TTLs above what earlier passes covered and up to this pass's limit:
//  - pass 0: limit = frontier = the distance the pre-probe suggested, else
//    kDefaultFrontier;
//  - pass k >= 1: limit = min(frontier + kGapLimit*k, the highest TTL that got
//    an answer + kGapLimit) while the target is not reached (forward probing
//    stops after kGapLimit silent TTLs, as traceroute), min(frontier +
//    kGapLimit*k, its distance) once it is.
// Limits are fixed when a pass starts (the caller waits for the previous
// pass's replies first), so a TTL left out once is sent in a later pass if the
// path answers further on. A TTL beyond the distance where a destination
// answered is never sent. Distances and answers are written by the reply
// collector (another thread) and read here with relaxed atomics: no locks.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>

#include "hopscope/survey/permutation.hpp"

namespace hopscope::survey {

struct SurveyProbe {
  std::uint32_t target = 0;
  std::uint8_t ttl = 1;
  std::uint8_t flow = 0;  // Paris flow (1: pre-probe)
};

// Per-destination state shared with the collector: 3 bytes per target.
struct TargetState {
  const std::atomic<std::uint8_t>* dist = nullptr;   // TTL where the destination answered, 0 = not yet
  const std::atomic<std::uint8_t>* hint = nullptr;   // pre-probe's distance estimate, 0 = none (may be null)
  const std::atomic<std::uint8_t>* alive = nullptr;  // highest TTL that got any answer, 0 = none
};

class Scheduler {
 public:
  static constexpr int kDefaultFrontier = 16;
  static constexpr int kGapLimit = 5;

  Scheduler(std::uint64_t targets, int max_ttl, std::uint64_t seed, TargetState state);

  // Fills up to out.size() probes of the current pass; 0 once it is exhausted.
  std::size_t next(std::span<SurveyProbe> out);
  [[nodiscard]] bool pass_finished() const { return pos_ >= perm_.size(); }
  // Starts the next pass; false when no target's limit moves any more.
  bool next_pass();
  [[nodiscard]] int pass() const { return pass_; }
  [[nodiscard]] std::uint64_t total() const { return perm_.size(); }  // per pass
  [[nodiscard]] std::uint64_t position() const { return pos_; }
  [[nodiscard]] std::uint64_t skipped() const { return skipped_; }  // beyond a reached destination

 private:
  [[nodiscard]] int frontier(std::uint32_t target) const;
  void start();  // pass 0's limits, at the first next(): the hints are fixed by then

  Permutation perm_;
  std::uint64_t targets_;
  int max_ttl_;
  TargetState state_;
  // Scheduler-owned, per target: TTLs 1..covered were offered in earlier passes,
  // this pass offers covered+1..limit (2 bytes per target).
  std::unique_ptr<std::uint8_t[]> covered_;
  std::unique_ptr<std::uint8_t[]> limit_;
  bool started_ = false;
  int pass_ = 0;
  std::uint64_t pos_ = 0;
  std::uint64_t skipped_ = 0;
};

}  // namespace hopscope::survey
