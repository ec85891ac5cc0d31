// Internet checksum (RFC 1071) helpers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "hopscope/core/address.hpp"

namespace hopscope::csum {

// 32-bit accumulator of 16-bit big-endian words; fold() reduces it.
std::uint32_t add(std::uint32_t acc, std::span<const std::uint8_t> bytes);
// Pseudo-header of UDP/TCP/ICMPv6 (RFC 768 / RFC 8200 8.1).
std::uint32_t pseudo_header(const IpAddress& src, const IpAddress& dst, std::uint8_t proto, std::uint32_t l4_len);
// Folds the accumulator to 16 bits (not complemented).
std::uint16_t fold(std::uint32_t acc);
// Final checksum value to put in a header: ~fold(acc).
inline std::uint16_t finish(std::uint32_t acc) { return static_cast<std::uint16_t>(~fold(acc)); }

// One's-complement 16-bit arithmetic.
std::uint16_t ones_add(std::uint16_t a, std::uint16_t b);
inline std::uint16_t ones_sub(std::uint16_t a, std::uint16_t b) { return ones_add(a, static_cast<std::uint16_t>(~b)); }

// The 16-bit word to put in a free, zeroed slot so that a packet whose
// checksum (computed with the slot at zero and the checksum field set to
// `wanted`) is `wanted`. `sum_without_slot` = fold of everything covered,
// with the checksum field holding `wanted` and the slot zero.
std::uint16_t fixup_word(std::uint32_t sum_without_slot);

}  // namespace hopscope::csum
