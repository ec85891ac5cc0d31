#include "hopscope/survey/scheduler.hpp"

#include <algorithm>
#include <stdexcept>

namespace hopscope::survey {

Scheduler::Scheduler(TargetState& state, const SchedulerOptions& opts) : Scheduler(state, opts, {}) {}

Scheduler::Scheduler(TargetState& state, const SchedulerOptions& opts, std::vector<std::uint32_t> members)
    : st_(&state),
      o_(opts),
      perm_(1, opts.seed),
      members_(std::move(members)),
      targets_(members_.empty() ? state.size() : members_.size()),
      floor_(new std::uint8_t[targets_]()),
      covered_(new std::uint8_t[targets_]()),
      lo_(new std::uint8_t[targets_]()),
      limit_(new std::uint8_t[targets_]()) {
  if (opts.max_ttl < 1 || opts.max_ttl > kMaxTtl)
    throw std::invalid_argument("max TTL must be 1.." + std::to_string(kMaxTtl));
  if (opts.retries < 0 || opts.retries > 255) throw std::invalid_argument("retries must be 0..255");
  for (const std::uint32_t t : members_)
    if (t >= state.size()) throw std::invalid_argument("scheduler: a member is not a target");
  perm_ = Permutation(targets_ * static_cast<std::uint64_t>(opts.max_ttl), opts.seed);
  walk_ = perm_.size();  // pass 0 walks the whole (target, TTL) space
}

int Scheduler::frontier(std::uint64_t i) const {
  const int h = o_.use_hints ? get(st_->hint(id(i))) : 0;
  return std::min(h && h != TargetState::kNoHint ? h : kDefaultFrontier, o_.max_ttl);
}

bool Scheduler::stopped_at(std::uint64_t i, int ttl) const {
  if (!o_.doubletree || ttl > 64) return false;
  const std::uint64_t t = id(i);
  // The lowest TTL >= ttl that answered, if its interface was already known.
  const std::uint64_t a = st_->answered(t).load(std::memory_order_relaxed) & (~0ull << (ttl - 1));
  return a && (st_->known(t).load(std::memory_order_relaxed) & (a & -a));
}

int Scheduler::end(std::uint64_t i) const {
  const int d = get(st_->dist(id(i)));
  return d ? std::min<int>(d, covered_[i]) : covered_[i];
}

bool Scheduler::missing(std::uint64_t i) const {
  const int first = floor_[i], last = end(i);
  if (first > last) return false;
  const std::uint64_t want = (last == 64 ? ~0ull : (1ull << last) - 1) & ~((1ull << (first - 1)) - 1);
  return (st_->answered(id(i)).load(std::memory_order_relaxed) & want) != want;
}

void Scheduler::start() {
  // Pass 0's limits read the hints, fixed from now on (a later pre-probe reply is ignored).
  for (std::uint64_t i = 0; i < targets_; i++) {
    if (o_.use_hints && st_->freeze_hint(id(i))) hinted_++;
    const int f = frontier(i);
    floor_[i] = static_cast<std::uint8_t>(f + 1);  // nothing offered yet: floor > covered
    covered_[i] = static_cast<std::uint8_t>(f);
    lo_[i] = static_cast<std::uint8_t>(o_.doubletree ? std::max(1, f - kBackStep + 1) : 1);
    limit_[i] = static_cast<std::uint8_t>(f);
  }
  started_ = true;
}

// The lowest and highest TTL the current pass may offer `t` (empty: lo > hi).
std::pair<int, int> Scheduler::window(std::uint64_t i) const {
  if (retrying_) return {floor_[i], end(i)};
  const bool back = lo_[i]<floor_[i], fwd = limit_[i]> covered_[i];
  if (!back && !fwd) return {1, 0};
  return {back ? lo_[i] : covered_[i] + 1, fwd ? limit_[i] : floor_[i] - 1};
}

// Later passes walk only the targets still active, over the widest TTL
// window any of them has, not the whole (target, TTL) space: the work of a
// pass is proportional to what is left. Every TTL a target is offered lies
// in its window, so next() still sees each exactly once.
void Scheduler::compact() {
  active_.clear();
  int width = 1;
  for (std::uint64_t i = 0; i < targets_; i++) {
    if (get(st_->done(id(i)))) continue;
    const auto [lo, hi] = window(i);
    if (lo > hi) continue;
    active_.push_back(static_cast<std::uint32_t>(i));
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
    std::uint64_t i;
    int ttl;
    if (compacted_) {
      i = active_[v / width_];
      ttl = window(i).first + static_cast<int>(v % width_);
    } else {
      i = v / ttls;
      ttl = static_cast<int>(v % ttls + 1);
    }
    const std::uint64_t t = id(i);
    if (get(st_->done(t))) continue;
    if (retrying_) {
      if (ttl < floor_[i] || ttl > end(i)) continue;
      if (st_->answered(t).load(std::memory_order_relaxed) >> (ttl - 1) & 1) continue;
      retried_++;
    } else {
      if (!(ttl >= lo_[i] && ttl < floor_[i]) && !(ttl > covered_[i] && ttl <= limit_[i])) continue;
      const int d = get(st_->dist(t));
      // Past the destination, or below a known interface on the way back.
      if ((d && ttl > d) || (ttl < floor_[i] && stopped_at(i, ttl + 1))) {
        skipped_++;
        continue;
      }
    }
    out[n++] = {static_cast<std::uint32_t>(t), static_cast<std::uint8_t>(ttl), 0};
  }
  return n;
}

void Scheduler::finish(std::uint64_t i) {
  const std::uint64_t t = id(i);
  put(st_->done(t), 1);
  const int d = get(st_->dist(t));
  finished_.push_back({static_cast<std::uint32_t>(t), floor_[i],
                       static_cast<std::uint8_t>(d ? std::min<int>(d, covered_[i]) : covered_[i]),
                       static_cast<std::uint8_t>(round_)});
}

bool Scheduler::band_pass() {
  const int k = pass_ + 1;
  bool moved = false;
  for (std::uint64_t i = 0; i < targets_; i++) {
    const std::uint64_t t = id(i);
    if (get(st_->done(t))) continue;
    floor_[i] = std::min(floor_[i], lo_[i]);
    covered_[i] = limit_[i];
    const int f = frontier(i);
    const int band = std::min(f + kGapLimit * k, o_.max_ttl);
    const int d = get(st_->dist(t));
    const int reach = d ? d : get(st_->alive(t)) + kGapLimit;
    const int limit = std::max<int>(covered_[i], std::min(band, reach));
    const int lo = (floor_[i] > 1 && !stopped_at(i, floor_[i])) ? std::max(1, floor_[i] - kBackStep) : floor_[i];
    limit_[i] = static_cast<std::uint8_t>(limit);
    lo_[i] = static_cast<std::uint8_t>(lo);
    const bool more = limit > covered_[i] || lo < floor_[i];
    moved |= more;
    if (!more && (o_.retries == 0 || !missing(i))) finish(i);
  }
  return moved;
}

bool Scheduler::retry_pass() {
  if (round_ >= o_.retries) return false;
  std::vector<std::uint64_t> again;
  for (std::uint64_t i = 0; i < targets_; i++) {
    if (get(st_->done(id(i)))) continue;
    if (missing(i))
      again.push_back(i);
    else
      finish(i);
  }
  if (again.empty()) return false;
  round_++;
  for (const std::uint64_t i : again) put(st_->round(id(i)), round_);
  return true;
}

void Scheduler::halt() {
  if (!started_) start();
  finished_.clear();
  for (std::uint64_t i = 0; i < targets_; i++) {
    const std::uint64_t t = id(i);
    if (get(st_->done(t))) continue;
    put(st_->done(t), 1);
    // TTLs earlier passes offered (floor..covered), and this pass's once it began.
    const bool began = pos_ > 0;
    int first = began ? std::min(floor_[i], lo_[i]) : floor_[i];
    int last = began ? std::max(covered_[i], limit_[i]) : covered_[i];
    if (pass_ == 0 && !began) {  // nothing sent yet
      first = 1;
      last = 0;
    }
    const int d = get(st_->dist(t));
    finished_.push_back({static_cast<std::uint32_t>(t), static_cast<std::uint8_t>(first),
                         static_cast<std::uint8_t>(d ? std::min(d, last) : last), static_cast<std::uint8_t>(round_),
                         true});
  }
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
  for (std::uint64_t i = 0; i < targets_; i++)
    if (!get(st_->done(id(i)))) finish(i);
  return false;
}

}  // namespace hopscope::survey
