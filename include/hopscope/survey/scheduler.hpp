// Which (target, TTL) to probe next, for one cohort of destinations (all of
// them, or those cohorts.hpp gives it). Every pass walks a keyed random
// permutation of the cohort's (target, TTL) space and sends, for each target,
// the TTLs this pass offers it:
//  - band passes. Pass 0 offers the TTLs up to the frontier: the distance the
//    pre-probe suggested, else kDefaultFrontier. Pass k >= 1 extends forward to
//    min(frontier + kGapLimit*k, the highest TTL that answered + kGapLimit)
//    while the target is not reached (forward probing stops after kGapLimit
//    silent TTLs, as traceroute), to its distance once it is.
//    With Doubletree stop sets, pass 0 offers only the kBackStep TTLs up to
//    the frontier and each pass extends backward by kBackStep more, until the
//    lowest TTL that answered did so from an interface an earlier reply had
//    shown (the local stop set): the path below it is taken as known.
//  - retry rounds, once no band moves any more: each resends the TTLs, up to
//    the destination (or the last one offered), that got no answer yet.
// Limits are fixed when a pass starts (the caller waits for the previous
// pass's replies first), so a TTL left out once is sent in a later pass if the
// path answers further on. A TTL beyond the distance where a destination
// answered is never sent. When a pass starts, the destinations that will get
// nothing more are marked done and listed in finished(): their traces can be
// written out.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "hopscope/survey/permutation.hpp"
#include "hopscope/survey/target_state.hpp"

namespace hopscope::survey {

struct SurveyProbe {
  std::uint32_t target = 0;
  std::uint8_t ttl = 1;
  std::uint8_t flow = 0;  // Paris flow (1: pre-probe)
};

struct SchedulerOptions {
  int max_ttl = 32;
  std::uint64_t seed = 1;
  bool use_hints = true;    // start at the pre-probes' distance estimates
  int retries = 1;          // retry rounds for TTLs without an answer
  bool doubletree = false;  // backward probing with a local stop set
};

// A destination nothing more will be sent to.
struct FinishedTarget {
  std::uint32_t target = 0;
  std::uint8_t first = 1;    // TTLs first..last were probed (first > 1: Doubletree stopped below)
  std::uint8_t last = 0;     //
  std::uint8_t retries = 0;  // retry rounds it took part in: an unanswered TTL got 1 + retries probes
  bool halted = false;       // the survey was interrupted before it was done (it has what it got)
  // Replies the ring buffer lost (survey-wide) while it was traced, from its
  // cohort's admission to its end: some of them may have been its own.
  std::uint32_t ring_lost = 0;
};

class Scheduler {
 public:
  static constexpr int kDefaultFrontier = 16;
  static constexpr int kGapLimit = 5;
  static constexpr int kBackStep = 3;
  static constexpr int kMaxTtl = 64;  // the answered bitmap has 64 bits

  // Schedules every destination of `state`.
  Scheduler(TargetState& state, const SchedulerOptions& opts);
  // Schedules only `members` (target indices into `state`, each in one cohort).
  Scheduler(TargetState& state, const SchedulerOptions& opts, std::vector<std::uint32_t> members);
  Scheduler(Scheduler&&) noexcept = default;

  // Fills up to out.size() probes of the current pass; 0 once it is exhausted.
  std::size_t next(std::span<SurveyProbe> out);
  [[nodiscard]] bool pass_finished() const { return pos_ >= walk_; }
  // Starts the next pass (call once the replies to this one have arrived);
  // false when there is none. Either way, finished() then lists the
  // destinations that became done.
  bool next_pass();
  // The survey stops (SIGINT/SIGTERM): every member not done is done now, halted,
  // listed in finished() with the TTLs probed so far (this pass's included).
  void halt();
  [[nodiscard]] const std::vector<FinishedTarget>& finished() const { return finished_; }
  [[nodiscard]] int pass() const { return pass_; }
  [[nodiscard]] int retry_round() const { return round_; }
  [[nodiscard]] std::uint64_t total() const { return walk_; }  // (target, TTL) pairs this pass walks
  [[nodiscard]] std::uint64_t position() const { return pos_; }
  [[nodiscard]] std::uint64_t skipped() const { return skipped_; }  // beyond a reached destination or a stop
  [[nodiscard]] std::uint64_t retried() const { return retried_; }  // probes of retry rounds
  [[nodiscard]] std::uint64_t size() const { return targets_; }     // destinations in this cohort
  // The target at position i (0..size()-1) of this cohort.
  [[nodiscard]] std::uint64_t member(std::uint64_t i) const { return id(i); }
  // Destinations whose pass 0 started at a pre-probe's distance (0 before the first next()).
  [[nodiscard]] std::uint64_t hinted() const { return hinted_; }
  // Bytes of scheduler-owned state per destination of its cohort.
  [[nodiscard]] static constexpr std::size_t bytes_per_target() { return 4; }

 private:
  // Private functions take i, a position in the cohort; the shared state is
  // indexed by id(i), the target.
  [[nodiscard]] std::uint64_t id(std::uint64_t i) const { return members_.empty() ? i : members_[i]; }
  [[nodiscard]] int frontier(std::uint64_t i) const;
  // Doubletree: the lowest TTL >= ttl that answered did so from a known interface.
  [[nodiscard]] bool stopped_at(std::uint64_t i, int ttl) const;
  [[nodiscard]] int end(std::uint64_t i) const;       // highest TTL worth an answer
  [[nodiscard]] bool missing(std::uint64_t i) const;  // a TTL in first..end without an answer
  void start();       // pass 0's limits, at the first next(): the hints are fixed by then
  bool band_pass();   // computes the next band pass; false if no target moves
  bool retry_pass();  // computes the next retry round; false if none is left or needed
  void finish(std::uint64_t i);
  [[nodiscard]] std::pair<int, int> window(std::uint64_t i) const;  // TTLs this pass may offer i
  void compact();  // a later pass walks the active targets' TTL windows only

  TargetState* st_;
  SchedulerOptions o_;
  Permutation perm_;
  std::vector<std::uint32_t> members_;  // empty: every target, in index order
  std::uint64_t targets_;
  // Scheduler-owned, per member: TTLs floor..covered were offered in earlier
  // passes; this pass offers lo..floor-1 and covered+1..limit (band passes) or
  // the unanswered ones in floor..end (retry rounds).
  std::unique_ptr<std::uint8_t[]> floor_, covered_, lo_, limit_;
  std::vector<FinishedTarget> finished_;
  // From pass 1 on: the members still active (positions) and the widest TTL
  // window among them; the pass walks active_.size() x width_ pairs (pass 0:
  // the whole space).
  std::vector<std::uint32_t> active_;
  std::uint64_t width_ = 1;
  std::uint64_t walk_ = 0;
  bool compacted_ = false;
  bool started_ = false;
  bool retrying_ = false;
  int pass_ = 0;
  int round_ = 0;
  std::uint64_t pos_ = 0;
  std::uint64_t skipped_ = 0;
  std::uint64_t retried_ = 0;
  std::uint64_t hinted_ = 0;
};

}  // namespace hopscope::survey
