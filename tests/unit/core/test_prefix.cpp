#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <random>
#include <stdexcept>

#include "hopscope/core/prefix.hpp"

using namespace hopscope;

namespace {
IpAddress A(const char* s) { return *IpAddress::parse(s); }
}  // namespace

TEST(Prefix, ParsesAddressesAndBlocksOfBothFamilies) {
  const Prefix a = parse_prefix(" 198.18.0.7 ");
  EXPECT_EQ(a.base, A("198.18.0.7"));
  EXPECT_EQ(a.len, 32);
  EXPECT_EQ(a.size(), 1u);
  const Prefix b = parse_prefix("198.18.0.0/15");
  EXPECT_EQ(b.len, 15);
  EXPECT_EQ(b.size(), 131072u);
  EXPECT_EQ(b.str(), "198.18.0.0/15");
  const Prefix c = parse_prefix("2001:2::/48");
  EXPECT_EQ(c.len, 48);
  EXPECT_EQ(c.size(), ~0ull) << "2^80 addresses saturate";
  EXPECT_EQ(parse_prefix("2001:2::/64").size(), ~0ull);
  EXPECT_EQ(parse_prefix("2001:2::/65").size(), 1ull << 63);
}

TEST(Prefix, RefusesBadTextWithTheReason) {
  auto why = [](const char* text) {
    try {
      parse_prefix(text);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(why(""), "empty target");
  EXPECT_NE(why("198.18.0/24").find("is not an IPv4 or IPv6 address"), std::string::npos);
  EXPECT_NE(why("198.18.0.0/33").find("bad prefix length '/33' (0..32)"), std::string::npos);
  EXPECT_NE(why("198.18.0.0/2x").find("bad prefix length"), std::string::npos);
  EXPECT_NE(why("2001:2::/129").find("(0..128)"), std::string::npos);
  EXPECT_NE(why("198.18.0.1/24").find("did you mean 198.18.0.0/24?"), std::string::npos);
  EXPECT_NE(why("2001:2::1/64").find("did you mean 2001:2::/64?"), std::string::npos);
}

TEST(Prefix, ContainsOffsetAndAtAgree) {
  const Prefix p = parse_prefix("198.18.4.0/22");
  EXPECT_TRUE(p.contains(A("198.18.4.0")));
  EXPECT_TRUE(p.contains(A("198.18.7.255")));
  EXPECT_FALSE(p.contains(A("198.18.8.0")));
  EXPECT_FALSE(p.contains(A("198.18.3.255")));
  EXPECT_FALSE(p.contains(A("2001:2::1"))) << "another family";
  EXPECT_EQ(p.offset_of(A("198.18.5.1")), 257u);
  EXPECT_FALSE(p.offset_of(A("198.18.8.1")));
  for (std::uint64_t n : {0ull, 1ull, 255ull, 256ull, 1023ull}) EXPECT_EQ(p.offset_of(p.at(n)), n);
  EXPECT_EQ(p.at(1023), A("198.18.7.255"));

  const Prefix v6 = parse_prefix("2001:2:0:ff00::/56");
  EXPECT_TRUE(v6.contains(A("2001:2:0:ffff::1")));
  EXPECT_FALSE(v6.contains(A("2001:2:0:fe00::1")));
  EXPECT_EQ(v6.at(0x1'0000'0000ull), A("2001:2:0:ff00::1:0:0"));
  EXPECT_EQ(v6.offset_of(A("2001:2:0:ff00::1:0:0")), 0x1'0000'0000ull);
  EXPECT_TRUE(parse_prefix("0.0.0.0/0").contains(A("198.18.0.1")));
}

TEST(Address, TextFormsRoundTrip) {
  for (const char* s : {"0.0.0.0", "198.18.0.1", "198.19.255.255", "10.100.9.99", "255.255.255.255", "1.20.200.0"}) {
    const IpAddress a = A(s);
    char buf[64];
    EXPECT_STREQ(a.to_chars(buf), s);
    EXPECT_EQ(a.str(), s);
  }
  EXPECT_EQ(A("2001:2::1").str(), "2001:2::1");
  EXPECT_EQ(A("2001:2:0:ff00::1:0:0").str(), "2001:2:0:ff00:0:1::") << "the longest run of zeros is compressed";
  EXPECT_EQ(IpAddress().str(), "");
}

// Our IPv6 text is glibc's inet_ntop's, byte for byte: zero runs of every
// length at every position, the IPv4-mapped and -compatible forms, random.
TEST(Address, Ipv6TextIsInetNtops) {
  std::mt19937_64 rng(7);
  auto check = [](const std::uint8_t* b) {
    char want[INET6_ADDRSTRLEN], got[64];
    ASSERT_NE(inet_ntop(AF_INET6, b, want, sizeof want), nullptr);
    EXPECT_STREQ(IpAddress::v6(b).to_chars(got), want);
  };
  std::uint8_t b[16];
  for (int mask = 0; mask < 256; mask++)  // each group zero or not
    for (int variant = 0; variant < 4; variant++) {
      for (int g = 0; g < 8; g++) {
        const unsigned v = mask >> g & 1 ? (variant == 0   ? 1u
                                            : variant == 1 ? 0xffffu
                                                           : 0x100u * (g + 1) + variant)
                                         : 0u;
        b[2 * g] = static_cast<std::uint8_t>(v >> 8);
        b[2 * g + 1] = static_cast<std::uint8_t>(v);
      }
      check(b);
    }
  for (int i = 0; i < 20000; i++) {
    for (auto& x : b) x = static_cast<std::uint8_t>(rng() % 4 == 0 ? 0 : rng());
    check(b);
  }
  const std::uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 0, 1};
  check(mapped);
  EXPECT_EQ(IpAddress::v6(mapped).str(), "::ffff:198.18.0.1");
}
