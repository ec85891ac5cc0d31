// Which destinations are probed together. A survey's destinations enter, in
// a keyed random order, a rolling set of cohorts of at most `cohort_size`
// each; every cohort runs its own passes (scheduler.hpp) and is retired once
// all its destinations are finished. While one cohort waits for the replies
// to its last pass, another sends: the pacing thread never idles between
// passes, and only the replies of the few active cohorts are held (the
// memory of a survey no longer grows with its number of destinations).
// Bookkeeping only: the engine decides, from its clock and the receiving
// thread, when a cohort's replies are in (mark_sent(), settled()).
#pragma once

#include <algorithm>
#include <cstdint>
#include <list>
#include <span>
#include <vector>

#include "hopscope/survey/edges.hpp"
#include "hopscope/survey/permutation.hpp"
#include "hopscope/survey/scheduler.hpp"
#include "hopscope/survey/target_state.hpp"

namespace hopscope::survey {

// Ring-buffer losses between two readings of the counter, as FinishedTarget keeps them.
inline std::uint32_t ring_lost_since(std::uint64_t then, std::uint64_t now) {
  return now > then ? static_cast<std::uint32_t>(std::min<std::uint64_t>(now - then, UINT32_MAX)) : 0;
}

struct Cohort {
  Cohort(TargetState& st, const SchedulerOptions& o, std::vector<std::uint32_t> members, int n)
      : sched(st, o, std::move(members)),
        number(n),
        preprobing(o.use_hints),
        pre_order(std::max<std::uint64_t>(sched.size(), 1), o.seed ^ 0x5eedf00dULL),
        max_ttl(static_cast<std::uint8_t>(o.max_ttl)) {}

  // Its first pass: with hints, one pre-probe per member at the max TTL in a
  // random order (the reply's TTL tells the distance), then the scheduler's.
  std::size_t next(std::span<SurveyProbe> out);
  [[nodiscard]] bool pass_finished() const { return preprobing ? pre_pos >= sched.size() : sched.pass_finished(); }
  // Members with a pre-probe hint so far.
  [[nodiscard]] std::uint64_t hints(TargetState& st) const;

  Scheduler sched;
  int number;  // 0, 1, ... in the order they were admitted
  bool preprobing;
  Permutation pre_order;
  std::uint8_t max_ttl;
  std::uint64_t pre_pos = 0;         // pre-probes pushed
  std::uint64_t hints_seen = 0;      // settling the pre-probes: hints at the last look
  std::uint64_t hint_change_ns = 0;  // and when that count last changed
  std::uint64_t hint_looked_ns = 0;  // the last look
  bool sending = true;               // its current pass has probes left
  SinkMark pushed;                   // the sink's mark after the last probe of its pass was pushed
  std::uint64_t left_ns = 0;         // when that probe was seen to have left (0: not yet)
  bool marked = false;               // settling: poll_mark is taken
  std::uint64_t poll_mark = 0;       // a poll begun after this many had begun must complete
  std::uint64_t lost_at_start = 0;   // the source's ring-buffer losses when it was admitted
};

class Cohorts {
 public:
  // 32k: on the 1M IPv6 sim, 65,536 wrote a pass end's ~60k traces in one
  // go, up to 1.35 s after they finished (147,868 over 1 s); 32,768: at most
  // 0.59-1.17 s (0 to 10,563 over 1 s), 208-225 MB max RSS instead of 255-265.
  static constexpr std::size_t kDefaultSize = 32768;
  static constexpr std::size_t kDefaultActive = 4;

  Cohorts(TargetState& st, const SchedulerOptions& o, std::size_t cohort_size = kDefaultSize,
          std::size_t max_active = kDefaultActive);

  // The oldest cohort whose pass has probes left; when none has, a new one
  // is admitted if fewer than max_active are active and destinations are
  // left. nullptr: every active cohort waits for replies (or all are done).
  Cohort* sending();
  // The cohorts admitted and not retired, oldest first.
  std::list<Cohort>& active() { return active_; }
  // Retires a cohort whose last pass is over (its destinations are finished).
  void retire(std::list<Cohort>::iterator it);
  [[nodiscard]] bool exhausted() const { return active_.empty() && admitted_ == st_.size(); }
  // The survey stops: every active cohort's members not done, then every
  // destination never admitted (nothing probed), done and halted; the cohorts retire.
  // `lost_now`: the ring-buffer losses so far (FinishedTarget::ring_lost).
  std::vector<FinishedTarget> halt(std::uint64_t lost_now);

  [[nodiscard]] std::uint64_t admitted() const { return admitted_; }  // destinations that entered a cohort
  [[nodiscard]] int cohorts() const { return next_number_; }
  [[nodiscard]] std::size_t cohort_size() const { return size_; }
  // Over all cohorts, retired or not.
  [[nodiscard]] std::uint64_t skipped() const;
  [[nodiscard]] std::uint64_t retried() const;
  [[nodiscard]] std::uint64_t preprobes() const;
  [[nodiscard]] std::uint64_t hinted() const;  // destinations whose pass 0 started at a hint
  [[nodiscard]] int max_passes() const;        // passes of the cohort that needed most
  [[nodiscard]] int max_retry_rounds() const;

 private:
  TargetState& st_;
  SchedulerOptions o_;
  Permutation order_;
  std::size_t size_;
  std::size_t max_active_;
  std::list<Cohort> active_;
  std::uint64_t admitted_ = 0;
  int next_number_ = 0;
  // Of retired cohorts.
  std::uint64_t skipped_ = 0;
  std::uint64_t retried_ = 0;
  std::uint64_t preprobes_ = 0;
  std::uint64_t hinted_ = 0;
  int passes_ = 0;
  int retry_rounds_ = 0;
};

}  // namespace hopscope::survey
