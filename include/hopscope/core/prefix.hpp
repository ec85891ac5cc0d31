// An address prefix (CIDR block): "ADDR" or "ADDR/LEN", host bits zero. One
// type for survey targets and watch's allow/deny lists.
#pragma once

#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <string_view>

#include "hopscope/core/address.hpp"

namespace hopscope {

struct Prefix {
  IpAddress base;  // network address (host bits zero)
  int len = 32;    // prefix length in bits

  [[nodiscard]] std::uint64_t size() const;  // addresses in the block (saturates at 2^64 - 1)
  [[nodiscard]] bool contains(const IpAddress& a) const;
  // a - base, if `a` lies in the block (blocks of up to 2^64 addresses).
  [[nodiscard]] std::optional<std::uint64_t> offset_of(const IpAddress& a) const;
  // base + n (n < size()).
  [[nodiscard]] IpAddress at(std::uint64_t n) const;
  [[nodiscard]] std::string str() const;  // "198.18.0.0/24"
  bool operator==(const Prefix&) const = default;
};

// Parses "ADDR" or "ADDR/LEN" (surrounding blanks ignored); throws
// std::invalid_argument with the reason (bad address, bad length, host bits
// set — with the prefix that was probably meant).
Prefix parse_prefix(std::string_view text);

// The block of length `len` that holds `a` (host bits cleared); with
// fill_host set, its last address instead (host bits set).
IpAddress masked(const IpAddress& a, int len, bool fill_host = false);

// `s` without leading and trailing blanks (space, tab, CR).
std::string_view trim_blanks(std::string_view s);
// `s` as it may go into a message: bytes outside printable ASCII as \xNN,
// at most `max` characters of it, then "...".
std::string printable(std::string_view s, std::size_t max = 80);

// Reads one line of at most `max` bytes into `line` (see TargetList): Line,
// Eof, TooLong (the rest of the line was read and dropped), Binary (a NUL
// byte, or 1 MiB without a line end).
enum class LineEnd { Line, Eof, TooLong, Binary };
LineEnd read_bounded_line(std::istream& in, std::string& line, std::size_t max);

}  // namespace hopscope
