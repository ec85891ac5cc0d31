#include "hopscope/survey/targets.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <stdexcept>

namespace hopscope::survey {
namespace {

std::string_view trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

// Adds `n` to the low 64 bits of a 128-bit big-endian address (enough for any block we accept).
IpAddress add_offset(const IpAddress& base, std::uint64_t n) {
  std::array<std::uint8_t, 16> b = base.bytes();
  const std::size_t len = base.size();
  unsigned carry = 0;
  for (std::size_t i = len; i-- > 0;) {
    const unsigned v = b[i] + static_cast<unsigned>(n & 0xff) + carry;
    b[i] = static_cast<std::uint8_t>(v);
    carry = v >> 8;
    n >>= 8;
  }
  return base.is_v4() ? IpAddress::v4(b.data()) : IpAddress::v6(b.data());
}

}  // namespace

std::uint64_t TargetBlock::size() const {
  const int host_bits = static_cast<int>(base.size() * 8) - prefix_len;
  return host_bits >= 64 ? ~0ull : (1ull << host_bits);
}

TargetBlock parse_block(std::string_view text) {
  text = trim(text);
  if (text.empty()) throw std::invalid_argument("empty target");
  const auto slash = text.find('/');
  const auto addr = IpAddress::parse(text.substr(0, slash));
  if (!addr) throw std::invalid_argument("'" + std::string(text.substr(0, slash)) + "' is not an IPv4 or IPv6 address");
  TargetBlock b;
  b.base = *addr;
  const int bits = static_cast<int>(addr->size() * 8);
  b.prefix_len = bits;
  if (slash != std::string_view::npos) {
    const std::string_view len = text.substr(slash + 1);
    int v = -1;
    auto [p, ec] = std::from_chars(len.data(), len.data() + len.size(), v);
    if (ec != std::errc() || p != len.data() + len.size() || v < 0 || v > bits)
      throw std::invalid_argument("bad prefix length '/" + std::string(len) + "' (0.." + std::to_string(bits) + ")");
    b.prefix_len = v;
  }
  // Host bits must be zero: a typo like 198.18.0.1/24 is refused, not guessed.
  const auto& by = b.base.bytes();
  for (int i = b.prefix_len; i < bits; i++)
    if (by[static_cast<std::size_t>(i / 8)] & (0x80 >> (i % 8))) {
      auto net = b.base.bytes();
      for (int k = b.prefix_len; k < bits; k++)
        net[static_cast<std::size_t>(k / 8)] &= static_cast<std::uint8_t>(~(0x80 >> (k % 8)));
      const IpAddress fixed = b.base.is_v4() ? IpAddress::v4(net.data()) : IpAddress::v6(net.data());
      throw std::invalid_argument("host bits set in '" + std::string(text) + "' (did you mean " + fixed.str() + "/" +
                                  std::to_string(b.prefix_len) + "?)");
    }
  return b;
}

void TargetList::add(std::string_view text, const std::string& where) {
  TargetBlock b;
  try {
    b = parse_block(text);
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
    s = trim(s);
    if (s.empty()) continue;
    try {
      add(s, name + " line " + std::to_string(n));
    } catch (const TargetError& e) {
      if (!skip_bad) throw;
      skipped_.push_back(e.what());
    }
  }
}

namespace {
// Offset of `a` from `base` if `a` lies in the block, else nullopt.
std::optional<std::uint64_t> offset_in(const TargetBlock& b, const IpAddress& a) {
  if (a.family() != b.base.family()) return std::nullopt;
  const auto& x = a.bytes();
  const auto& y = b.base.bytes();
  const auto full = static_cast<std::size_t>(b.prefix_len / 8);
  if (std::memcmp(x.data(), y.data(), full) != 0) return std::nullopt;
  if (const int rem = b.prefix_len % 8) {
    const auto m = static_cast<std::uint8_t>(0xff << (8 - rem));
    if ((x[full] & m) != (y[full] & m)) return std::nullopt;
  }
  // Host bits of the base are zero and blocks hold at most 2^32 addresses,
  // so the offset is the difference of the low 64 bits.
  const std::size_t len = a.size();
  std::uint64_t off = 0, base_low = 0;
  for (std::size_t i = len >= 8 ? len - 8 : 0; i < len; i++) {
    off = off << 8 | x[i];
    base_low = base_low << 8 | y[i];
  }
  return off - base_low;
}
}  // namespace

void TargetList::freeze() {
  by_base_.resize(blocks_.size());
  for (std::size_t i = 0; i < blocks_.size(); i++) by_base_[i] = i;
  std::sort(by_base_.begin(), by_base_.end(),
            [&](std::size_t a, std::size_t b) { return blocks_[a].base < blocks_[b].base; });
  for (std::size_t i = 1; i < by_base_.size(); i++) {
    const TargetBlock& prev = blocks_[by_base_[i - 1]];
    const TargetBlock& cur = blocks_[by_base_[i]];
    if (offset_in(prev, cur.base))
      throw TargetError("overlapping targets: " + cur.base.str() + "/" + std::to_string(cur.prefix_len) +
                        " lies inside " + prev.base.str() + "/" + std::to_string(prev.prefix_len) +
                        " (each target must appear once)");
  }
}

std::optional<std::uint64_t> TargetList::index_of(const IpAddress& addr) const {
  if (by_base_.size() != blocks_.size()) throw std::logic_error("TargetList::index_of before freeze()");
  auto it = std::upper_bound(by_base_.begin(), by_base_.end(), addr,
                             [&](const IpAddress& a, std::size_t b) { return a < blocks_[b].base; });
  if (it == by_base_.begin()) return std::nullopt;
  const std::size_t k = *(it - 1);
  const auto off = offset_in(blocks_[k], addr);
  if (!off) return std::nullopt;
  return starts_[k] + *off;
}

IpAddress TargetList::at(std::uint64_t i) const {
  const auto it = std::upper_bound(starts_.begin(), starts_.end(), i);
  const auto k = static_cast<std::size_t>(it - starts_.begin() - 1);
  return add_offset(blocks_[k].base, i - starts_[k]);
}

}  // namespace hopscope::survey
