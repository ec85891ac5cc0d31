#include "hopscope/survey/scheduler.hpp"

#include <algorithm>
#include <stdexcept>

namespace hopscope::survey {

Scheduler::Scheduler(TargetState& state, const SchedulerOptions& opts)
    : st_(state),
      o_(opts),
      perm_(state.size() * static_cast<std::uint64_t>(std::max(opts.max_ttl, 1)), opts.seed),
      targets_(state.size()),
      floor_(new std::uint8_t[state.size()]()),
      covered_(new std::uint8_t[state.size()]()),
      lo_(new std::uint8_t[state.size()]()),
      limit_(new std::uint8_t[state.size()]()) {
  if (opts.max_ttl < 1 || opts.max_ttl > kMaxTtl)
    throw std::invalid_argument("max TTL must be 1.." + std::to_string(kMaxTtl));
  if (opts.retries < 0 || opts.retries > 255) throw std::invalid_argument("retries must be 0..255");
  walk_ = perm_.size();  // pass 0 walks the whole (target, TTL) space
}

int Scheduler::frontier(std::uint64_t t) const {
  const int h = o_.use_hints ? get(st_.hint(t)) : 0;
  return std::min(h ? h : kDefaultFrontier, o_.max_ttl);
}

bool Scheduler::stopped_at(std::uint64_t t, int ttl) const {
  if (!o_.doubletree || ttl > 64) return false;
  // The lowest TTL >= ttl that answered, if its interface was already known.
  const std::uint64_t a = st_.answered(t).load(std::memory_order_relaxed) & (~0ull << (ttl - 1));
  return a && (st_.known(t).load(std::memory_order_relaxed) & (a & -a));
}

int Scheduler::end(std::uint64_t t) const {
  const int d = get(st_.dist(t));
  return d ? std::min<int>(d, covered_[t]) : covered_[t];
}

bool Scheduler::missing(std::uint64_t t) const {
  const int first = floor_[t], last = end(t);
  if (first > last) return false;
  const std::uint64_t want = (last == 64 ? ~0ull : (1ull << last) - 1) & ~((1ull << (first - 1)) - 1);
  return (st_.answered(t).load(std::memory_order_relaxed) & want) != want;
}

void Scheduler::start() {
  // Pass 0's limits read the hints: only now are they fixed (after the pre-probes).
  for (std::uint64_t t = 0; t < targets_; t++) {
    const int f = frontier(t);
    floor_[t] = static_cast<std::uint8_t>(f + 1);  // nothing offered yet: floor > covered
    covered_[t] = static_cast<std::uint8_t>(f);
    lo_[t] = static_cast<std::uint8_t>(o_.doubletree ? std::max(1, f - kBackStep + 1) : 1);
    limit_[t] = static_cast<std::uint8_t>(f);
  }
  started_ = true;
}

// The lowest and highest TTL the current pass may offer `t` (empty: lo > hi).
std::pair<int, int> Scheduler::window(std::uint64_t t) const {
  if (retrying_) return {floor_[t], end(t)};
  const bool back = lo_[t]<floor_[t], fwd = limit_[t]> covered_[t];
  if (!back && !fwd) return {1, 0};
  return {back ? lo_[t] : covered_[t] + 1, fwd ? limit_[t] : floor_[t] - 1};
}

// Later passes walk only the targets still active, over the widest TTL
// window any of them has, not the whole (target, TTL) space: the work of a
// pass is proportional to what is left. Every TTL a target is offered lies
// in its window, so next() still sees each exactly once.
void Scheduler::compact() {
  active_.clear();
  int width = 1;
  for (std::uint64_t t = 0; t < targets_; t++) {
    if (get(st_.done(t))) continue;
    const auto [lo, hi] = window(t);
    if (lo > hi) continue;
    active_.push_back(static_cast<std::uint32_t>(t));
    width = std::max(width, hi - lo + 1);
  }
  width_ = static_cast<std::uint64_t>(width);
  perm_ = Permutation(std::max<std::uint64_t>(active_.size() * width_, 1),
                      o_.seed ^ (0x9e3779b97f4a7c15ull * static_cast<std::uint64_t>(pass_ + 1)));
  walk_ = active_.size() * width_;
  compacted_ = true;
}

std::size_t Scheduler::next(std::span<SurveyProbe> out) {
  if (!started_) start();
  std::size_t n = 0;
  const auto ttls = static_cast<std::uint64_t>(o_.max_ttl);
  while (n < out.size() && pos_ < walk_) {
    const std::uint64_t v = perm_.at(pos_++);
    std::uint64_t t;
    int ttl;
    if (compacted_) {
      t = active_[v / width_];
      ttl = window(t).first + static_cast<int>(v % width_);
    } else {
      t = v / ttls;
      ttl = static_cast<int>(v % ttls + 1);
    }
    if (get(st_.done(t))) continue;
    if (retrying_) {
      if (ttl < floor_[t] || ttl > end(t)) continue;
      if (st_.answered(t).load(std::memory_order_relaxed) >> (ttl - 1) & 1) continue;
      retried_++;
    } else {
      if (!(ttl >= lo_[t] && ttl < floor_[t]) && !(ttl > covered_[t] && ttl <= limit_[t])) continue;
      const int d = get(st_.dist(t));
      // Past the destination, or below a known interface on the way back.
      if ((d && ttl > d) || (ttl < floor_[t] && stopped_at(t, ttl + 1))) {
        skipped_++;
        continue;
      }
    }
    out[n++] = {static_cast<std::uint32_t>(t), static_cast<std::uint8_t>(ttl), 0};
  }
  return n;
}

void Scheduler::finish(std::uint64_t t) {
  put(st_.done(t), 1);
  const int d = get(st_.dist(t));
  finished_.push_back({static_cast<std::uint32_t>(t), floor_[t],
                       static_cast<std::uint8_t>(d ? std::min<int>(d, covered_[t]) : covered_[t]),
                       static_cast<std::uint8_t>(round_)});
}

bool Scheduler::band_pass() {
  const int k = pass_ + 1;
  bool moved = false;
  for (std::uint64_t t = 0; t < targets_; t++) {
    if (get(st_.done(t))) continue;
    floor_[t] = std::min(floor_[t], lo_[t]);
    covered_[t] = limit_[t];
    const int f = frontier(t);
    const int band = std::min(f + kGapLimit * k, o_.max_ttl);
    const int d = get(st_.dist(t));
    const int reach = d ? d : get(st_.alive(t)) + kGapLimit;
    const int limit = std::max<int>(covered_[t], std::min(band, reach));
    const int lo = (floor_[t] > 1 && !stopped_at(t, floor_[t])) ? std::max(1, floor_[t] - kBackStep) : floor_[t];
    limit_[t] = static_cast<std::uint8_t>(limit);
    lo_[t] = static_cast<std::uint8_t>(lo);
    const bool more = limit > covered_[t] || lo < floor_[t];
    moved |= more;
    if (!more && (o_.retries == 0 || !missing(t))) finish(t);
  }
  return moved;
}

bool Scheduler::retry_pass() {
  if (round_ >= o_.retries) return false;
  bool any = false;
  for (std::uint64_t t = 0; t < targets_; t++) {
    if (get(st_.done(t))) continue;
    if (missing(t))
      any = true;
    else
      finish(t);
  }
  if (!any) return false;
  round_++;
  put(st_.round(), round_);
  return true;
}

bool Scheduler::next_pass() {
  if (!started_) start();
  finished_.clear();
  if (!retrying_ && band_pass()) {
    pass_++;
    pos_ = 0;
    compact();
    return true;
  }
  retrying_ = true;
  if (retry_pass()) {
    pass_++;
    pos_ = 0;
    compact();
    return true;
  }
  for (std::uint64_t t = 0; t < targets_; t++)
    if (!get(st_.done(t))) finish(t);
  return false;
}

}  // namespace hopscope::survey
