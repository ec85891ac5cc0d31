#include "hopscope/survey/cohorts.hpp"

#include <algorithm>
#include <stdexcept>

#include "hopscope/survey/collector.hpp"

namespace hopscope::survey {

Cohorts::Cohorts(TargetState& st, const SchedulerOptions& o, std::size_t cohort_size, std::size_t max_active)
    : st_(st),
      o_(o),
      order_(std::max<std::uint64_t>(st.size(), 1), o.seed ^ 0xc0407715eedULL),
      size_(cohort_size),
      max_active_(max_active) {
  if (cohort_size == 0 || max_active == 0) throw std::invalid_argument("cohorts: size and active count must be >= 1");
}

std::size_t Cohort::next(std::span<SurveyProbe> out) {
  if (!preprobing) return sched.next(out);
  std::size_t n = 0;
  for (; n < out.size() && pre_pos < sched.size(); n++)
    out[n] = {static_cast<std::uint32_t>(sched.member(pre_order.at(pre_pos++))), max_ttl,
              static_cast<std::uint8_t>(kPreprobeFlow)};
  return n;
}

std::uint64_t Cohort::hints(TargetState& st) const {
  std::uint64_t n = 0;
  for (std::uint64_t i = 0; i < sched.size(); i++) n += get(st.hint(sched.member(i))) != 0;
  return n;
}

Cohort* Cohorts::sending() {
  for (Cohort& c : active_)
    if (c.sending) return &c;
  if (active_.size() >= max_active_ || admitted_ >= st_.size()) return nullptr;
  const std::uint64_t n = std::min<std::uint64_t>(size_, st_.size() - admitted_);
  std::vector<std::uint32_t> members(n);
  for (std::uint64_t i = 0; i < n; i++) members[i] = static_cast<std::uint32_t>(order_.at(admitted_ + i));
  std::sort(members.begin(), members.end());  // the state arrays are walked in address order
  admitted_ += n;
  SchedulerOptions o = o_;
  o.seed ^= 0x9e3779b97f4a7c15ull * static_cast<std::uint64_t>(next_number_);  // each its own probe order
  return &active_.emplace_back(st_, o, std::move(members), next_number_++);
}

std::vector<FinishedTarget> Cohorts::halt(std::uint64_t lost_now) {
  std::vector<FinishedTarget> out;
  while (!active_.empty()) {
    auto it = active_.begin();
    it->sched.halt();
    const std::size_t from = out.size();
    out.insert(out.end(), it->sched.finished().begin(), it->sched.finished().end());
    for (std::size_t i = from; i < out.size(); i++) out[i].ring_lost = ring_lost_since(it->lost_at_start, lost_now);
    retire(it);
  }
  for (; admitted_ < st_.size(); admitted_++) {
    const auto t = static_cast<std::uint32_t>(order_.at(admitted_));
    put(st_.done(t), 1);
    out.push_back({t, 1, 0, 0, true});
  }
  return out;
}

void Cohorts::retire(std::list<Cohort>::iterator it) {
  skipped_ += it->sched.skipped();
  retried_ += it->sched.retried();
  preprobes_ += it->pre_pos;
  hinted_ += it->sched.hinted();
  passes_ = std::max(passes_, it->sched.pass() + 1);
  retry_rounds_ = std::max(retry_rounds_, it->sched.retry_round());
  active_.erase(it);
}

std::uint64_t Cohorts::skipped() const {
  std::uint64_t n = skipped_;
  for (const Cohort& c : active_) n += c.sched.skipped();
  return n;
}

std::uint64_t Cohorts::retried() const {
  std::uint64_t n = retried_;
  for (const Cohort& c : active_) n += c.sched.retried();
  return n;
}

std::uint64_t Cohorts::preprobes() const {
  std::uint64_t n = preprobes_;
  for (const Cohort& c : active_) n += c.pre_pos;
  return n;
}

std::uint64_t Cohorts::hinted() const {
  std::uint64_t n = hinted_;
  for (const Cohort& c : active_) n += c.sched.hinted();
  return n;
}

int Cohorts::max_passes() const {
  int n = passes_;
  for (const Cohort& c : active_) n = std::max(n, c.sched.pass() + 1);
  return n;
}

int Cohorts::max_retry_rounds() const {
  int n = retry_rounds_;
  for (const Cohort& c : active_) n = std::max(n, c.sched.retry_round());
  return n;
}

}  // namespace hopscope::survey
