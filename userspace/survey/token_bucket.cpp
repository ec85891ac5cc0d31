#include "hopscope/survey/token_bucket.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace hopscope::survey {

TokenBucket::TokenBucket(double rate, std::uint64_t burst, std::uint64_t now_ns)
    : rate_(rate), tokens_(static_cast<double>(burst)), burst_(static_cast<double>(burst)), last_ns_(now_ns) {
  if (!(rate > 0)) throw std::invalid_argument("rate must be positive");
  if (burst < 1) throw std::invalid_argument("burst must be at least 1");
}

std::uint64_t TokenBucket::default_burst(double rate) {
  return static_cast<std::uint64_t>(std::max(rate / 100.0, 1.0));
}

std::uint64_t TokenBucket::available(std::uint64_t now_ns) {
  if (now_ns > last_ns_) {
    tokens_ = std::min(burst_, tokens_ + static_cast<double>(now_ns - last_ns_) * rate_ / 1e9);
    last_ns_ = now_ns;
  }
  return tokens_ > 0 ? static_cast<std::uint64_t>(tokens_) : 0;  // spent ahead (consume after drain): none
}

void TokenBucket::consume(std::uint64_t n) { tokens_ -= static_cast<double>(n); }

void TokenBucket::drain(std::uint64_t now_ns) {
  tokens_ = 0;
  last_ns_ = std::max(last_ns_, now_ns);
}

std::uint64_t TokenBucket::wait_ns(std::uint64_t n) const {
  const double missing = static_cast<double>(n) - tokens_;
  return missing <= 0 ? 0 : static_cast<std::uint64_t>(std::ceil(missing * 1e9 / rate_));
}

}  // namespace hopscope::survey
