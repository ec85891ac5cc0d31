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
void dotted_quad(const std::uint8_t* b, char* out) {
  for (int i = 0; i < 4; i++) {
    unsigned v = b[i];
    if (v >= 100) *out++ = static_cast<char>('0' + v / 100);
    if (v >= 10) *out++ = static_cast<char>('0' + v / 10 % 10);
    *out++ = static_cast<char>('0' + v % 10);
    *out++ = i < 3 ? '.' : '\0';
  }
}
}  // namespace

const char* IpAddress::to_chars(char* buf) const {
  buf[0] = 0;
  if (is_v4())
    dotted_quad(bytes_.data(), buf);
  else if (is_v6())
    inet_ntop(AF_INET6, bytes_.data(), buf, INET6_ADDRSTRLEN);
  return buf;
}

std::string IpAddress::str() const {
  char buf[INET6_ADDRSTRLEN] = {};
  return to_chars(buf);
}

}  // namespace hopscope
