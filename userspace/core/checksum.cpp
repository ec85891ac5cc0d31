#include "hopscope/core/checksum.hpp"

namespace hopscope::csum {

std::uint32_t add(std::uint32_t acc, std::span<const std::uint8_t> bytes) {
  std::size_t i = 0;
  for (; i + 1 < bytes.size(); i += 2) acc += static_cast<std::uint32_t>(bytes[i] << 8 | bytes[i + 1]);
  if (i < bytes.size()) acc += static_cast<std::uint32_t>(bytes[i] << 8);
  // Keep the accumulator from overflowing on long inputs.
  return (acc & 0xffff) + (acc >> 16);
}

std::uint32_t pseudo_header(const IpAddress& src, const IpAddress& dst, std::uint8_t proto, std::uint32_t l4_len) {
  std::uint32_t acc = 0;
  acc = add(acc, {src.data(), src.size()});
  acc = add(acc, {dst.data(), dst.size()});
  acc += proto;
  acc += l4_len >> 16;
  acc += l4_len & 0xffff;
  return acc;
}

std::uint16_t fold(std::uint32_t acc) {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<std::uint16_t>(acc);
}

std::uint16_t ones_add(std::uint16_t a, std::uint16_t b) {
  std::uint32_t s = static_cast<std::uint32_t>(a) + b;
  return static_cast<std::uint16_t>((s & 0xffff) + (s >> 16));
}

std::uint16_t fixup_word(std::uint32_t sum_without_slot) {
  // A valid packet sums to 0xffff. Add whatever is missing.
  return static_cast<std::uint16_t>(~fold(sum_without_slot));
}

}  // namespace hopscope::csum
