// An IPv4 or IPv6 address, stored in network byte order in 16 bytes; an
// Ethernet MAC address.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hopscope {

using MacAddress = std::array<std::uint8_t, 6>;

class IpAddress {
 public:
  IpAddress() = default;
  static IpAddress v4(const std::uint8_t bytes[4]);
  static IpAddress v6(const std::uint8_t bytes[16]);
  // From 16 bytes as stored in an ABI record (IPv4 in the first 4).
  static IpAddress from_record(int family, const std::uint8_t bytes[16]);
  static std::optional<IpAddress> parse(std::string_view text);

  [[nodiscard]] int family() const { return family_; }  // 4, 6 or 0 (unset)
  [[nodiscard]] bool is_v4() const { return family_ == 4; }
  [[nodiscard]] bool is_v6() const { return family_ == 6; }
  [[nodiscard]] bool empty() const { return family_ == 0; }
  [[nodiscard]] const std::uint8_t* data() const { return bytes_.data(); }
  [[nodiscard]] std::size_t size() const { return is_v4() ? 4 : 16; }
  [[nodiscard]] const std::array<std::uint8_t, 16>& bytes() const { return bytes_; }
  // As the four 32-bit words the validation hash takes (network order, IPv4: word 0).
  void words(std::uint32_t out[4]) const;
  [[nodiscard]] std::string str() const;
  // Writes the text form into buf (>= 46 bytes) and returns buf: no allocation.
  const char* to_chars(char* buf) const;

  auto operator<=>(const IpAddress&) const = default;

 private:
  int family_ = 0;
  std::array<std::uint8_t, 16> bytes_{};
};

}  // namespace hopscope
