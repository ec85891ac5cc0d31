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

TargetList::U128 TargetList::value_of(const IpAddress& a) {
  U128 v = 0;
  for (std::size_t i = 0; i < a.size(); i++) v = v << 8 | a.data()[i];
  return v;
}

IpAddress TargetList::address_of(U128 v) const {
  std::uint8_t b[16];
  const std::size_t n = family_ == 4 ? 4 : 16;
  for (std::size_t i = n; i-- > 0; v >>= 8) b[i] = static_cast<std::uint8_t>(v);
  return n == 4 ? IpAddress::v4(b) : IpAddress::v6(b);
}

namespace {
__extension__ typedef unsigned __int128 U128;
std::uint64_t slot_hash(U128 v) {
  const auto lo = static_cast<std::uint64_t>(v), hi = static_cast<std::uint64_t>(v >> 64);
  std::uint64_t h = (lo ^ (hi * 0x9e3779b97f4a7c15ull)) * 0xff51afd7ed558ccdull;
  return h ^ (h >> 29);
}
}  // namespace

void TargetList::freeze() {
  std::vector<std::size_t> order(blocks_.size());
  for (std::size_t i = 0; i < blocks_.size(); i++) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return blocks_[a].base < blocks_[b].base; });
  for (std::size_t i = 1; i < order.size(); i++) {
    const Prefix& prev = blocks_[order[i - 1]];
    const Prefix& cur = blocks_[order[i]];
    if (prev.contains(cur.base))
      throw TargetError("overlapping targets: " + cur.str() + " lies inside " + prev.str() +
                        " (each target must appear once)");
  }
  base_value_.clear();
  for (const Prefix& b : blocks_) base_value_.push_back(value_of(b.base));
  lo_.clear();
  hi_.clear();
  lo_start_.clear();
  for (std::size_t k : order) {
    lo_.push_back(base_value_[k]);
    hi_.push_back(base_value_[k] + (blocks_[k].size() - 1));
    lo_start_.push_back(starts_[k]);
  }
  all_single_ = blocks_.size() > 1 && count_ == blocks_.size();
  singles_.clear();
  slots_.clear();
  if (!all_single_) return;
  singles_ = base_value_;
  std::uint64_t cap = 16;
  while (cap < 2 * count_) cap <<= 1;  // at most half full
  slots_.assign(cap, ~0ull);
  slot_mask_ = cap - 1;
  for (std::uint64_t i = 0; i < count_; i++) {
    std::uint64_t s = slot_hash(singles_[i]) & slot_mask_;
    while (slots_[s] != ~0ull) s = (s + 1) & slot_mask_;
    slots_[s] = i;
  }
}

std::optional<std::uint64_t> TargetList::index_of(const IpAddress& addr) const {
  if (lo_.size() != blocks_.size()) throw std::logic_error("TargetList::index_of before freeze()");
  if (addr.family() != family_ || blocks_.empty()) return std::nullopt;
  const U128 v = value_of(addr);
  if (all_single_) {
    for (std::uint64_t s = slot_hash(v) & slot_mask_;; s = (s + 1) & slot_mask_) {
      const std::uint64_t i = slots_[s];
      if (i == ~0ull) return std::nullopt;
      if (singles_[i] == v) return i;
    }
  }
  if (blocks_.size() == 1) {
    if (v < lo_[0] || v > hi_[0]) return std::nullopt;
    return static_cast<std::uint64_t>(v - lo_[0]);
  }
  const auto it = std::upper_bound(lo_.begin(), lo_.end(), v);
  if (it == lo_.begin()) return std::nullopt;
  const auto k = static_cast<std::size_t>(it - lo_.begin() - 1);
  if (v > hi_[k]) return std::nullopt;
  return lo_start_[k] + static_cast<std::uint64_t>(v - lo_[k]);
}

IpAddress TargetList::at(std::uint64_t i) const {
  const bool frozen = base_value_.size() == blocks_.size();
  if (frozen && blocks_.size() == 1) return address_of(base_value_[0] + i);
  if (frozen && all_single_) return address_of(singles_[i]);
  const auto it = std::upper_bound(starts_.begin(), starts_.end(), i);
  const auto k = static_cast<std::size_t>(it - starts_.begin() - 1);
  if (!frozen) return blocks_[k].at(i - starts_[k]);  // before freeze(): the slow way
  return address_of(base_value_[k] + (i - starts_[k]));
}

}  // namespace hopscope::survey
