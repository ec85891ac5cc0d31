#include "hopscope/survey/scheduler.hpp"

#include <stdexcept>

namespace hopscope::survey {

Scheduler::Scheduler(std::uint64_t targets, int max_ttl, std::uint64_t seed, const std::atomic<std::uint8_t>* dist,
                     const std::atomic<std::uint8_t>* hint)
    : perm_(targets * static_cast<std::uint64_t>(max_ttl), seed),
      max_ttl_(max_ttl),
      dist_(dist),
      hint_(hint),
      passes_(hint ? 2 : 1) {
  if (max_ttl < 1 || max_ttl > 255) throw std::invalid_argument("max TTL must be 1..255");
}

std::size_t Scheduler::next(std::span<SurveyProbe> out) {
  std::size_t n = 0;
  const auto ttls = static_cast<std::uint64_t>(max_ttl_);
  while (n < out.size() && pass_ < passes_) {
    if (pos_ == perm_.size()) {
      pass_++;
      pos_ = 0;
      continue;
    }
    const std::uint64_t v = perm_.at(pos_++);
    const auto target = static_cast<std::uint32_t>(v / ttls);
    const auto ttl = static_cast<std::uint8_t>(v % ttls + 1);
    // Hinted TTLs go in the first pass, the others in the second.
    if (hint_) {
      const int h = hint_[target].load(std::memory_order_relaxed);
      const bool early = !h || ttl <= h + kHintSlack;
      if (early != (pass_ == 0)) continue;
    }
    const std::uint8_t d = dist_[target].load(std::memory_order_relaxed);
    if (d && ttl > d) {
      skipped_++;
      continue;
    }
    out[n++] = {target, ttl};
  }
  return n;
}

}  // namespace hopscope::survey
