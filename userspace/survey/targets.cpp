#include "hopscope/survey/targets.hpp"

#include <algorithm>
#include <bit>
#include <stdexcept>

#include "hopscope/core/blocklist.hpp"

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
  std::vector<Prefix> pieces;
  std::vector<Blocklist::Part> dropped;
  if (blocklist_) {
    blocklist_->split(b, pieces, dropped);
  } else {
    pieces.push_back(b);
  }
  // One line per reason, with how many addresses of the block it took.
  std::vector<std::pair<std::string, std::uint64_t>> why;
  for (const Blocklist::Part& d : dropped) {
    auto it = std::find_if(why.begin(), why.end(), [&](const auto& w) { return w.first == d.why; });
    if (it == why.end()) it = why.insert(why.end(), {d.why, 0});
    it->second += d.prefix.size();
    skipped_addresses_ += d.prefix.size();
  }
  for (const auto& [reason, count] : why)
    skipped_.push_back(where + ": " + std::to_string(count) + (count == 1 ? " address, " : " addresses, ") + reason);
  std::uint64_t n = 0;
  for (const Prefix& p : pieces) n += p.size();
  if (n > kMaxTargets || count_ + n > kMaxTargets)
    throw TargetError(where + ": more than " + std::to_string(kMaxTargets) + " targets in all");
  family_ = b.base.family();
  for (const Prefix& p : pieces) {
    starts_.push_back(count_);
    blocks_.push_back(p);
    count_ += p.size();
  }
}

void TargetList::add_file(std::istream& in, const std::string& name, bool skip_bad) {
  std::string line, where;
  for (std::size_t n = 1;; n++) {
    where.assign(name).append(" line ").append(std::to_string(n));  // no allocation once it is long enough
    const LineEnd end = read_bounded_line(in, line, kMaxLine);
    if (end == LineEnd::Eof) break;
    if (end == LineEnd::Binary)
      throw TargetError(where + ": binary data (a NUL byte, or no line end in 1 MiB): not a target file");
    try {
      if (end == LineEnd::TooLong)
        throw TargetError(where + ": longer than " + std::to_string(kMaxLine) + " bytes ('" + printable(line, 40) +
                          "')");
      std::string_view s = line;
      if (auto hash = s.find('#'); hash != std::string_view::npos) s = s.substr(0, hash);
      s = trim_blanks(s);
      if (!s.empty()) add(s, where);
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
// Every bit of the key reaches the low bits that pick a slot (murmur3's
// finalizer on each half): addresses differ anywhere, in the top bits of the
// low half for a list of /120s. A multiply-and-shift mix left those keys in a
// handful of slots (the 1M IPv6 survey's RX thread fell behind its ring).
std::uint64_t fmix64(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  return x ^ (x >> 33);
}
std::uint64_t slot_hash(U128 v) {
  return fmix64(static_cast<std::uint64_t>(v) ^ fmix64(static_cast<std::uint64_t>(v >> 64)));
}
}  // namespace

void TargetList::freeze() {
  base_value_.clear();
  for (const Prefix& b : blocks_) base_value_.push_back(value_of(b.base));
  std::vector<std::size_t> order(blocks_.size());
  for (std::size_t i = 0; i < blocks_.size(); i++) order[i] = i;
  // By value (one family per list): an integer compare, not a byte-wise one.
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return base_value_[a] < base_value_[b]; });
  for (std::size_t i = 1; i < order.size(); i++) {
    const Prefix& prev = blocks_[order[i - 1]];
    const Prefix& cur = blocks_[order[i]];
    if (prev.contains(cur.base))
      throw TargetError("overlapping targets: " + cur.str() + " lies inside " + prev.str() +
                        " (each target must appear once)");
  }
  lo_.clear();
  hi_.clear();
  lo_start_.clear();
  for (std::size_t k : order) {
    lo_.push_back(base_value_[k]);
    hi_.push_back(base_value_[k] + (blocks_[k].size() - 1));
    lo_start_.push_back(starts_[k]);
  }
  // Block k starts at target k << bits only if every block has 2^bits targets
  // (a CIDR block's size is a power of two).
  const std::uint64_t size0 = blocks_.empty() ? 0 : blocks_[0].size();
  uniform_ = blocks_.size() > 1 && count_ == blocks_.size() * size0 &&
             std::all_of(blocks_.begin(), blocks_.end(), [&](const Prefix& b) { return b.size() == size0; });
  slots_.clear();
  longest_probe_ = 0;
  if (!uniform_) return;
  uniform_bits_ = static_cast<unsigned>(std::countr_zero(size0));
  std::uint64_t cap = 16;
  while (cap < 2 * blocks_.size()) cap <<= 1;  // at most half full
  slots_.assign(cap, ~0ull);
  slot_mask_ = cap - 1;
  for (std::uint64_t k = 0; k < blocks_.size(); k++) {
    std::uint64_t s = slot_hash(base_value_[k] >> uniform_bits_) & slot_mask_, probes = 1;
    for (; slots_[s] != ~0ull; probes++) s = (s + 1) & slot_mask_;
    slots_[s] = k;
    longest_probe_ = std::max(longest_probe_, probes);
  }
}

std::optional<std::uint64_t> TargetList::index_of(const IpAddress& addr) const {
  if (lo_.size() != blocks_.size()) throw std::logic_error("TargetList::index_of before freeze()");
  if (addr.family() != family_ || blocks_.empty()) return std::nullopt;
  const U128 v = value_of(addr);
  if (uniform_) {
    const U128 key = v >> uniform_bits_;
    for (std::uint64_t s = slot_hash(key) & slot_mask_;; s = (s + 1) & slot_mask_) {
      const std::uint64_t k = slots_[s];
      if (k == ~0ull) return std::nullopt;
      if (base_value_[k] >> uniform_bits_ == key)
        return k << uniform_bits_ | static_cast<std::uint64_t>(v - base_value_[k]);
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
  if (frozen && uniform_)
    return address_of(base_value_[i >> uniform_bits_] + (i & ((std::uint64_t{1} << uniform_bits_) - 1)));
  const auto it = std::upper_bound(starts_.begin(), starts_.end(), i);
  const auto k = static_cast<std::size_t>(it - starts_.begin() - 1);
  if (!frozen) return blocks_[k].at(i - starts_[k]);  // before freeze(): the slow way
  return address_of(base_value_[k] + (i - starts_[k]));
}

}  // namespace hopscope::survey
