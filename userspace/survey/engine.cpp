#include "hopscope/survey/engine.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <stdexcept>

#include "hopscope/survey/permutation.hpp"
#include "hopscope/survey/reply_pump.hpp"

namespace hopscope::survey {
namespace {

constexpr std::size_t kBatch = 64;
constexpr double kCongestedFill = 0.5;  // the reply source this full: the pacing thread stops
constexpr double kRelievedFill = 0.25;  // and goes on once it is down to this

// The meta the outputs need: the probes' description from the caller, the rest from the options.
SurveyMeta complete_meta(SurveyMeta m, const TargetList& targets, const SurveyOptions& o, const Clock& clock) {
  check_survey_options(targets, o);
  m.method = o.method;
  m.max_ttl = o.max_ttl;
  m.start_unix_ms = (static_cast<std::int64_t>(clock.now_ns()) + clock.unix_offset_ns()) / 1'000'000;
  m.format = o.format;
  m.codec = ProbeCodec(targets.family(), o.method);
  m.packet_size = m.codec.ip_len(1);
  m.asn = o.asn;
  m.wait_s = static_cast<double>(o.wait.count()) / 1000;
  m.unix_offset_us = clock.unix_offset_ns() / 1000;
  m.clock = &clock;
  return m;
}

}  // namespace

void check_survey_options(const TargetList& targets, const SurveyOptions& o) {
  if (targets.size() == 0) throw std::invalid_argument("no targets");
  if (o.max_ttl < 1 || o.max_ttl > ProbeCodec::kMaxTtl)
    throw std::invalid_argument("max TTL must be 1.." + std::to_string(ProbeCodec::kMaxTtl) + " for a survey");
  if (!(o.rate > 0)) throw std::invalid_argument("rate must be positive");
  if (o.wait.count() < 0 || static_cast<std::uint64_t>(o.wait.count()) * 1'000'000 >= ProbeCodec::kWrapNs)
    throw std::invalid_argument("wait must be below 2.09 s (the probes' send time wraps after 2.097 s)");
  if (o.cohort_size == 0) throw std::invalid_argument("cohort size must be at least 1");
}

SurveyEngine::SurveyEngine(const TargetList& targets, const SurveyOptions& o, const SurveyMeta& probes, ProbeSink& sink,
                           ReplySource& source, Clock& clock, std::ostream& out)
    : targets_(targets),
      o_(o),
      sink_(sink),
      source_(source),
      clock_(clock),
      state_((check_survey_options(targets, o), targets.size())),
      collector_(targets, ProbeCodec(targets.family(), o.method), state_,
                 static_cast<std::uint64_t>(std::chrono::nanoseconds(o.wait).count())),
      cohorts_(state_, {o.max_ttl, o.seed, o.preprobe, o.retries, o.doubletree}, o.cohort_size),
      writer_(targets, state_, collector_.addresses(), complete_meta(probes, targets, o, clock), out),
      bucket_(o.rate, TokenBucket::default_burst(o.rate), clock.now_ns()),
      per_push_(probes_per_push(o.rate)) {}

std::size_t SurveyEngine::probes_per_push(double rate) {
  // About 1 ms of tokens: at low rates a push is no burst (1 ms of probes at
  // once), at high rates pacing costs one wake-up per kBatch probes.
  return static_cast<std::size_t>(std::clamp(rate / 1000.0, 1.0, static_cast<double>(kBatch)));
}

void SurveyEngine::draw_progress(std::uint64_t now) {
  const double elapsed = static_cast<double>(now - t0_) / 1e9;
  const std::uint64_t sent = sink_.sent();
  const double rate = elapsed > 0 ? static_cast<double>(sent) / elapsed : 0;
  const double frac = static_cast<double>(done_) / static_cast<double>(targets_.size());
  const double eta = frac > 0 ? elapsed * (1 - frac) / frac : 0;
  std::fprintf(o_.progress,
               "\r\033[Ksent %llu (%.0f pps), replies %llu, destinations reached %llu, done %llu (%.1f%%); "
               "cohort %d of %llu, ETA %.0f s",
               (unsigned long long)sent, rate, (unsigned long long)collector_.replies(),
               (unsigned long long)collector_.reached(), (unsigned long long)done_, 100 * frac, cohorts_.cohorts(),
               (unsigned long long)((targets_.size() + cohorts_.cohort_size() - 1) / cohorts_.cohort_size()), eta);
  std::fflush(o_.progress);
}

// One push from `next(span) -> count`, paced by the bucket: it waits
// (sleeps) until a whole push's worth of tokens is there, so the pacing
// thread wakes once per push, not once per probe. False: it slept instead.
template <class Next>
bool SurveyEngine::push_paced(Next&& next) {
  hold_while_congested();  // before the tokens are counted: a pause empties the bucket
  const std::uint64_t now = clock_.now_ns();
  const std::uint64_t avail = bucket_.available(now);
  if (avail < per_push_) {
    clock_.sleep_for(bucket_.wait_ns(per_push_));
    return false;
  }
  std::array<SurveyProbe, kBatch> batch;
  const std::size_t n = next(std::span(batch.data(), std::min<std::uint64_t>(kBatch, avail)));
  sink_.push(std::span(batch.data(), n));
  bucket_.consume(n);
  if (o_.progress && now >= next_progress_) {
    draw_progress(now);
    next_progress_ = now + 500'000'000;
  }
  return true;
}

// Backpressure: while the reply source is more than half full (replies
// arrive faster than the receiving thread consumes them), no probe is sent
// until it is down to a quarter; the pause is counted and the bucket emptied
// (no burst after it). The replies still in flight when it starts must fit
// in the other half: at the default 64 MiB ring (~800k records) that is
// 0.4 s of replies at 1 Mpps.
void SurveyEngine::hold_while_congested() {
  if (source_.fill() <= kCongestedFill) return;
  const std::uint64_t t0 = clock_.now_ns();
  const auto cap = std::max<std::uint64_t>(static_cast<std::uint64_t>(o_.wait.count()) * 10'000'000, 1'000'000'000);
  s_.backpressure_pauses++;
  while (source_.fill() > kRelievedFill && clock_.now_ns() - t0 < cap) clock_.sleep_for(1'000'000);
  s_.backpressure_s += static_cast<double>(clock_.now_ns() - t0) / 1e9;
  bucket_.drain(clock_.now_ns());
}

// The longest a cohort waits for the replies to a pass: --wait, at least 20 ms.
std::uint64_t SurveyEngine::settle_cap_ns() const {
  return std::max<std::uint64_t>(static_cast<std::uint64_t>(o_.wait.count()) * 1'000'000, 20'000'000);
}

// A cohort's pre-probe replies are in once every member has a hint, or no
// new hint came for 3x the largest RTT seen (20 ms at least, 200 ms at most)
// after at least one did, or --wait has passed since the last pre-probe left
// (a hint that comes later only costs probes: pass 0 starts at the default
// frontier). Other cohorts send meanwhile.
bool SurveyEngine::hints_in(Cohort& c, std::uint64_t now) {
  const std::uint64_t cap = settle_cap_ns();
  if (now - c.left_ns >= cap) return true;
  if (c.hint_change_ns && now - c.hint_looked_ns < 5'000'000) return false;  // a look (a scan) per 5 ms at most
  c.hint_looked_ns = now;
  const std::uint64_t n = c.hints(state_);
  if (n >= c.sched.size()) return true;
  if (n != c.hints_seen || !c.hint_change_ns) {
    c.hints_seen = n;
    c.hint_change_ns = now;
    return false;
  }
  const std::uint64_t quiet =
      std::clamp<std::uint64_t>(3 * collector_.max_rtt_ns(), 20'000'000, std::min<std::uint64_t>(200'000'000, cap));
  return n > 0 && now - c.hint_change_ns >= quiet;
}

// After a pass, a cohort's replies are awaited before its next pass's limits
// are computed from them (a decision on stale answers could end the survey
// early): 3x the largest RTT seen (20 ms at least, --wait at most) after its
// last probe left (the senders may still be sending it while other cohorts'
// probes queue up behind; for its pre-probes: hints_in()), and then a
// completed poll of the receiving thread that began after that: replies
// queued in the ring while it was busy are not silence (a 1M-target survey
// ended passes early that way).
bool SurveyEngine::settled(Cohort& c, const ReplyPump& pump, std::uint64_t now) {
  if (!c.left_ns) {
    if (!sink_.left(c.pushed)) return false;
    c.left_ns = now;
  }
  const std::uint64_t cap = settle_cap_ns();
  if (c.preprobing ? !hints_in(c, now)
                   : now - c.left_ns < std::clamp<std::uint64_t>(3 * collector_.max_rtt_ns(), 20'000'000, cap))
    return false;
  if (!c.marked) {
    c.poll_mark = pump.polls_begun();
    c.marked = true;
  }
  return pump.polls_done() > c.poll_mark;
}

// Cohorts whose replies are in start their next pass; the destinations a
// pass finishes go to the writer at once; a cohort with no pass left retires.
void SurveyEngine::advance_settled(ReplyPump& pump) {
  auto& active = cohorts_.active();
  for (auto it = active.begin(); it != active.end();) {
    Cohort& c = *it;
    if (c.sending || !settled(c, pump, clock_.now_ns())) {
      ++it;
      continue;
    }
    if (c.preprobing) {  // pass 0 starts from the hints
      c.preprobing = false;
      c.sending = true;
      c.marked = false;
      ++it;
      continue;
    }
    const bool more = c.sched.next_pass();
    const auto& finished = c.sched.finished();
    if (more || active.size() > 1 || cohorts_.admitted() < targets_.size()) s_.streamed += finished.size();
    post(pump, finished, c.lost_at_start);
    if (more) {
      c.sending = true;
      c.marked = false;
      ++it;
    } else {
      cohorts_.retire(it++);
    }
  }
}

// Interrupted: nothing more is pushed; once the senders have sent what they
// hold, the replies on their way are awaited (3x the largest RTT, 20 ms at
// least, --wait at most) and a poll of the receiving thread completes; then
// every destination not done is finished as it is, halted.
void SurveyEngine::halt(ReplyPump& pump) {
  const SinkMark m = sink_.mark();
  while (!sink_.left(m)) clock_.sleep_for(1'000'000);
  clock_.sleep_for(std::clamp<std::uint64_t>(3 * collector_.max_rtt_ns(), 20'000'000, settle_cap_ns()));
  const std::uint64_t begun = pump.polls_begun();
  while (pump.polls_done() <= begun) clock_.sleep_for(1'000'000);
  std::vector<FinishedTarget> finished = cohorts_.halt(ring_lost_now());
  for (const FinishedTarget& f : finished) s_.halted += f.halted;
  post(pump, std::move(finished), 0, true);
}

std::uint64_t SurveyEngine::ring_lost_now() const { return source_.counters()[HS_CNT_RINGBUF_FULL]; }

// Losses since the cohort began mark its destinations ("replies_lost_while_traced"):
// some of those replies may have been theirs. per_target: ring_lost is already set.
void SurveyEngine::post(ReplyPump& pump, std::vector<FinishedTarget> finished, std::uint64_t lost_at_start,
                        bool per_target) {
  if (!per_target && !finished.empty()) {
    const std::uint32_t lost = ring_lost_since(lost_at_start, ring_lost_now());
    for (FinishedTarget& f : finished) f.ring_lost = lost;
  }
  for (const FinishedTarget& f : finished) s_.lost_traces += f.ring_lost != 0;
  done_ += finished.size();
  pump.post_finished(finished, clock_.now_ns());
}

// Feeds the sink from the oldest cohort that has probes left in its pass;
// when every active cohort waits for replies (and no new one may start),
// the pacing thread sleeps, and the pause is not paid back with a burst.
void SurveyEngine::probe_cohorts(ReplyPump& pump) {
  std::uint64_t idle_from = 0;
  for (;;) {
    if (o_.stop && o_.stop->load(std::memory_order_relaxed)) return halt(pump);
    advance_settled(pump);
    Cohort* c = cohorts_.sending();
    if (c && c->number >= cohorts_seen_) {  // just admitted: nothing of it sent yet
      c->lost_at_start = ring_lost_now();
      cohorts_seen_ = c->number + 1;
    }
    if (!c) {
      if (cohorts_.exhausted()) {
        if (idle_from) s_.paused_s += static_cast<double>(clock_.now_ns() - idle_from) / 1e9;
        return;
      }
      // Idle once the senders have sent everything too (until then the
      // pacing thread merely waits for them).
      if (!idle_from && sink_.left(sink_.mark())) idle_from = clock_.now_ns();
      clock_.sleep_for(1'000'000);
      continue;
    }
    if (idle_from) {
      s_.paused_s += static_cast<double>(clock_.now_ns() - idle_from) / 1e9;
      idle_from = 0;
      bucket_.drain(clock_.now_ns());
    }
    push_paced([&](std::span<SurveyProbe> slots) { return c->next(slots); });
    if (!c->pass_finished()) continue;
    c->pushed = sink_.mark();  // its settling starts once its last probe has left
    c->left_ns = 0;
    c->sending = false;
  }
}

SurveySummary SurveyEngine::run() {
  if (ran_) throw std::logic_error("SurveyEngine::run: a survey runs once");
  ran_ = true;
  s_.targets = targets_.size();
  s_.pairs = targets_.size() * static_cast<std::uint64_t>(o_.max_ttl);
  s_.doubletree = o_.doubletree;
  s_.threads = sink_.threads();
  t0_ = next_progress_ = clock_.now_ns();
  bucket_.drain(t0_);  // start at the rate, not with a banked burst
  {
    ReplyPump pump(source_, collector_, writer_);
    probe_cohorts(pump);
    pump.stop();
  }
  const std::uint64_t t1 = clock_.now_ns();
  if (o_.progress) {
    draw_progress(t1);
    std::fputc('\n', o_.progress);
  }
  s_.written = writer_.finish();
  fill_summary(t1);
  if (s_.written != targets_.size())
    throw std::logic_error(fmt::format("survey: {} traces written for {} targets", s_.written, targets_.size()));
  return s_;
}

void SurveyEngine::fill_summary(std::uint64_t t1) {
  if (writer_.first_write_ns()) s_.first_write_s = static_cast<double>(writer_.first_write_ns() - t0_) / 1e9;
  s_.passes = cohorts_.max_passes();
  s_.cohorts = cohorts_.cohorts();
  s_.cohort_size = cohorts_.cohort_size();
  s_.held_peak = writer_.peak_held();
  s_.write_delay_s = static_cast<double>(writer_.max_write_delay_ns()) / 1e9;
  s_.late_writes = writer_.late_writes();
  s_.writer_priority = writer_.priority_raised();
  s_.probes_sent = sink_.sent();
  s_.queue_full_waits = sink_.full_waits();
  s_.generator_runs = sink_.generator_runs();
  s_.probing_s = static_cast<double>(t1 - t0_) / 1e9;
  s_.duration_s = static_cast<double>(clock_.now_ns() - t0_) / 1e9;
  s_.retried = cohorts_.retried();
  s_.retry_rounds = cohorts_.max_retry_rounds();
  s_.late = collector_.late();
  s_.duplicates = collector_.duplicates();
  s_.stale = collector_.stale();
  s_.short_mac = collector_.short_mac();
  s_.interfaces = collector_.interfaces();
  s_.state_bytes = TargetState::bytes_per_target() + Scheduler::bytes_per_target();
  s_.skipped = cohorts_.skipped();
  s_.preprobes = cohorts_.preprobes();
  s_.hinted = cohorts_.hinted();
  s_.replies = collector_.replies();
  s_.unmatched = collector_.unmatched();
  s_.reached = collector_.reached();
  s_.matcher = source_.counters();
  s_.rate = o_.rate;
  s_.dropped = s_.matcher[HS_CNT_RINGBUF_FULL];
}

}  // namespace hopscope::survey
