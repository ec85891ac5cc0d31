#include "hopscope/core/address.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace hopscope {

IpAddress IpAddress::v4(const std::uint8_t bytes[4]) {
  IpAddress a;
  a.family_ = 4;
  std::memcpy(a.bytes_.data(), bytes, 4);
  return a;
}

IpAddress IpAddress::v6(const std::uint8_t bytes[16]) {
  IpAddress a;
  a.family_ = 6;
  std::memcpy(a.bytes_.data(), bytes, 16);
  return a;
}

IpAddress IpAddress::from_record(int family, const std::uint8_t bytes[16]) {
  return family == 4 ? v4(bytes) : v6(bytes);
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  std::string s(text);
  std::uint8_t buf[16];
  if (inet_pton(AF_INET, s.c_str(), buf) == 1) return v4(buf);
  if (inet_pton(AF_INET6, s.c_str(), buf) == 1) return v6(buf);
  return std::nullopt;
}

void IpAddress::words(std::uint32_t out[4]) const {
  std::memset(out, 0, 16);
  std::memcpy(out, bytes_.data(), size());
}

namespace {
// Dotted quad without glibc's inet_ntop, which formats IPv4 through sprintf
// (a survey writes every reply's address: it showed in profiles).
char* dotted_quad(const std::uint8_t* b, char* out) {
  for (int i = 0; i < 4; i++) {
    unsigned v = b[i];
    if (v >= 100) *out++ = static_cast<char>('0' + v / 100);
    if (v >= 10) *out++ = static_cast<char>('0' + v / 10 % 10);
    *out++ = static_cast<char>('0' + v % 10);
    *out++ = i < 3 ? '.' : '\0';
  }
  return out - 1;
}

char* hex_group(unsigned v, char* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  bool lead = true;
  for (int shift = 12; shift >= 0; shift -= 4) {
    const unsigned d = v >> shift & 0xf;
    if (lead && d == 0 && shift) continue;
    lead = false;
    *out++ = kHex[d];
  }
  return out;
}

// IPv6 text exactly as glibc's inet_ntop writes it (RFC 5952: lowercase,
// no leading zeros, the first longest run of 2+ zero groups as "::"; the
// IPv4-mapped ::ffff:a.b.c.d and IPv4-compatible ::a.b.c.d forms), without
// its sprintf per group (a survey writes millions of addresses).
void ipv6_text(const std::uint8_t* b, char* out) {
  unsigned g[8];
  for (int i = 0; i < 8; i++) g[i] = static_cast<unsigned>(b[2 * i]) << 8 | b[2 * i + 1];
  int best = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (g[i]) {
      i++;
      continue;
    }
    int j = i;
    while (j < 8 && !g[j]) j++;
    if (j - i > best_len) best = i, best_len = j - i;
    i = j;
  }
  if (best_len < 2) best = -1;
  for (int i = 0; i < 8; i++) {
    if (i == best) {
      *out++ = ':';
      i += best_len - 1;
      if (i == 7) *out++ = ':';
      continue;
    }
    if (i) *out++ = ':';
    if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && g[5] == 0xffff))) {
      dotted_quad(b + 12, out);
      return;
    }
    out = hex_group(g[i], out);
  }
  *out = '\0';
}
}  // namespace

const char* IpAddress::to_chars(char* buf) const {
  buf[0] = 0;
  if (is_v4())
    dotted_quad(bytes_.data(), buf);
  else if (is_v6())
    ipv6_text(bytes_.data(), buf);
  return buf;
}

std::string IpAddress::str() const {
  char buf[INET6_ADDRSTRLEN] = {};
  return to_chars(buf);
}

}  // namespace hopscope
