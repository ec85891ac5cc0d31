// An independent, deliberately naive Internet checksum (RFC 1071) used to
// check the production implementation: 64-bit sum of 16-bit words, folded once at the end.
#pragma once

#include <cstdint>
#include <vector>

namespace hopscope::test {

inline std::uint16_t reference_checksum(const std::vector<std::uint8_t>& bytes) {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < bytes.size(); i += 2) {
    std::uint64_t hi = bytes[i];
    std::uint64_t lo = i + 1 < bytes.size() ? bytes[i + 1] : 0;
    sum += hi * 256 + lo;
  }
  while (sum > 0xffff) sum = (sum % 65536) + (sum / 65536);
  return static_cast<std::uint16_t>(0xffff - sum);
}

// Pseudo-header bytes (RFC 768 / RFC 8200) followed by the L4 bytes.
inline std::vector<std::uint8_t> with_pseudo_header(const std::uint8_t* src, const std::uint8_t* dst, int addr_len,
                                                    std::uint8_t proto, const std::vector<std::uint8_t>& l4) {
  std::vector<std::uint8_t> v(src, src + addr_len);
  v.insert(v.end(), dst, dst + addr_len);
  const auto len = static_cast<std::uint32_t>(l4.size());
  if (addr_len == 4) {
    v.insert(v.end(), {0, proto, static_cast<std::uint8_t>(len >> 8), static_cast<std::uint8_t>(len)});
  } else {
    v.insert(v.end(), {static_cast<std::uint8_t>(len >> 24), static_cast<std::uint8_t>(len >> 16),
                       static_cast<std::uint8_t>(len >> 8), static_cast<std::uint8_t>(len), 0, 0, 0, proto});
  }
  v.insert(v.end(), l4.begin(), l4.end());
  return v;
}

}  // namespace hopscope::test
