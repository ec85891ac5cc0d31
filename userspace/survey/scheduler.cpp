#include "hopscope/survey/scheduler.hpp"

#include <algorithm>
#include <stdexcept>

namespace hopscope::survey {

Scheduler::Scheduler(std::uint64_t targets, int max_ttl, std::uint64_t seed, TargetState state)
    : perm_(targets * static_cast<std::uint64_t>(max_ttl), seed),
      targets_(targets),
      max_ttl_(max_ttl),
      state_(state),
      covered_(new std::uint8_t[targets]()),
      limit_(new std::uint8_t[targets]()) {
  if (max_ttl < 1 || max_ttl > 255) throw std::invalid_argument("max TTL must be 1..255");
  if (!state.dist || !state.alive) throw std::invalid_argument("scheduler: no target state");
}

void Scheduler::start() {
  // Pass 0's limits read the hints: only now are they fixed (after the pre-probes).
  for (std::uint64_t t = 0; t < targets_; t++)
    limit_[t] = static_cast<std::uint8_t>(frontier(static_cast<std::uint32_t>(t)));
  started_ = true;
}

int Scheduler::frontier(std::uint32_t target) const {
  const int h = state_.hint ? state_.hint[target].load(std::memory_order_relaxed) : 0;
  return std::min(h ? h : kDefaultFrontier, max_ttl_);
}

std::size_t Scheduler::next(std::span<SurveyProbe> out) {
  if (!started_) start();
  std::size_t n = 0;
  const auto ttls = static_cast<std::uint64_t>(max_ttl_);
  while (n < out.size() && pos_ < perm_.size()) {
    const std::uint64_t v = perm_.at(pos_++);
    const auto target = static_cast<std::uint32_t>(v / ttls);
    const int ttl = static_cast<int>(v % ttls + 1);
    if (ttl <= covered_[target] || ttl > limit_[target]) continue;  // another pass's
    const int d = state_.dist[target].load(std::memory_order_relaxed);
    if (d && ttl > d) {
      skipped_++;
      continue;
    }
    out[n++] = {target, static_cast<std::uint8_t>(ttl), 0};
  }
  return n;
}

bool Scheduler::next_pass() {
  if (!started_) start();
  const int k = pass_ + 1;
  bool moved = false;
  for (std::uint64_t t = 0; t < targets_; t++) {
    covered_[t] = limit_[t];
    const auto target = static_cast<std::uint32_t>(t);
    const int band = std::min(frontier(target) + kGapLimit * k, max_ttl_);
    const int d = state_.dist[t].load(std::memory_order_relaxed);
    const int reach = d ? d : state_.alive[t].load(std::memory_order_relaxed) + kGapLimit;
    const int limit = std::max<int>(covered_[t], std::min(band, reach));
    limit_[t] = static_cast<std::uint8_t>(limit);
    moved |= limit > covered_[t];
  }
  if (!moved) return false;
  pass_ = k;
  pos_ = 0;
  return true;
}

}  // namespace hopscope::survey
