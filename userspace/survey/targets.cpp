#include "hopscope/survey/targets.hpp"

#include <algorithm>
#include <stdexcept>

namespace hopscope::survey {

void TargetList::add(std::string_view text, const std::string& where) {
  Prefix b;
  try {
    b = parse_prefix(text);
  } catch (const std::invalid_argument& e) {
    throw TargetError(where + ": " + e.what());
  }
  if (family_ && b.base.family() != family_)
    throw TargetError(where + ": mixes IPv" + std::to_string(b.base.family()) + " with the IPv" +
                      std::to_string(family_) + " targets before it (one family per survey)");
  const std::uint64_t n = b.size();
  if (n > kMaxTargets || count_ + n > kMaxTargets)
    throw TargetError(where + ": more than " + std::to_string(kMaxTargets) + " targets in all");
  family_ = b.base.family();
  starts_.push_back(count_);
  blocks_.push_back(b);
  count_ += n;
}

void TargetList::add_file(std::istream& in, const std::string& name, bool skip_bad) {
  std::string line;
  for (std::size_t n = 1; std::getline(in, line); n++) {
    std::string_view s = line;
    if (auto hash = s.find('#'); hash != std::string_view::npos) s = s.substr(0, hash);
    s = trim_blanks(s);
    if (s.empty()) continue;
    try {
      add(s, name + " line " + std::to_string(n));
    } catch (const TargetError& e) {
      if (!skip_bad) throw;
      skipped_.push_back(e.what());
    }
  }
}

void TargetList::freeze() {
  by_base_.resize(blocks_.size());
  for (std::size_t i = 0; i < blocks_.size(); i++) by_base_[i] = i;
  std::sort(by_base_.begin(), by_base_.end(),
            [&](std::size_t a, std::size_t b) { return blocks_[a].base < blocks_[b].base; });
  for (std::size_t i = 1; i < by_base_.size(); i++) {
    const Prefix& prev = blocks_[by_base_[i - 1]];
    const Prefix& cur = blocks_[by_base_[i]];
    if (prev.contains(cur.base))
      throw TargetError("overlapping targets: " + cur.str() + " lies inside " + prev.str() +
                        " (each target must appear once)");
  }
}

std::optional<std::uint64_t> TargetList::index_of(const IpAddress& addr) const {
  if (by_base_.size() != blocks_.size()) throw std::logic_error("TargetList::index_of before freeze()");
  auto it = std::upper_bound(by_base_.begin(), by_base_.end(), addr,
                             [&](const IpAddress& a, std::size_t b) { return a < blocks_[b].base; });
  if (it == by_base_.begin()) return std::nullopt;
  const std::size_t k = *(it - 1);
  const auto off = blocks_[k].offset_of(addr);
  if (!off) return std::nullopt;
  return starts_[k] + *off;
}

IpAddress TargetList::at(std::uint64_t i) const {
  const auto it = std::upper_bound(starts_.begin(), starts_.end(), i);
  const auto k = static_cast<std::size_t>(it - starts_.begin() - 1);
  return blocks_[k].at(i - starts_[k]);
}

}  // namespace hopscope::survey
