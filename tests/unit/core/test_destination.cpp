#include <gtest/gtest.h>

#include "hopscope/core/destination.hpp"

using namespace hopscope;

namespace {
IpAddress ip(const char* s) { return *IpAddress::parse(s); }
std::string why(const char* s) { return unroutable_reason(ip(s)).value_or("routable"); }
}  // namespace

TEST(Destination, UnroutableAddressesSayWhy) {
  EXPECT_EQ(why("0.0.0.0"), "the unspecified address or \"this network\" (RFC 1122) (0.0.0.0/8)");
  EXPECT_EQ(why("127.0.0.1"), "a loopback address (127.0.0.0/8)");
  EXPECT_EQ(why("169.254.1.1"), "a link-local address (169.254.0.0/16)");
  EXPECT_EQ(why("224.0.0.1"), "a multicast address (224.0.0.0/4)");
  EXPECT_EQ(why("239.255.255.255"), "a multicast address (224.0.0.0/4)");
  EXPECT_EQ(why("255.255.255.255"), "the limited broadcast address (255.255.255.255/32)");
  EXPECT_EQ(why("240.0.0.1"), "a reserved address (RFC 1112 class E) (240.0.0.0/4)");
  EXPECT_EQ(why("::"), "the unspecified address (::/128)");
  EXPECT_EQ(why("::1"), "the loopback address (::1/128)");
  EXPECT_EQ(why("fe80::1"), "a link-local address (fe80::/10)");
  EXPECT_EQ(why("ff02::1"), "a multicast address (ff00::/8)");
  EXPECT_EQ(why("::ffff:198.18.8.2"), "an IPv4-mapped address (trace the IPv4 address) (::ffff:0.0.0.0/96)");
  for (const char* ok : {"198.18.8.2", "1.0.0.0", "223.255.255.255", "2001:2::1", "::2", "fec0::1", "fe7f::1"})
    EXPECT_EQ(why(ok), "routable") << ok;
}

TEST(Destination, BlocksThatOverlapARangeAreNamed) {
  EXPECT_EQ(unroutable_overlap(parse_prefix("0.0.0.0/0")).value_or(""),
            "holds the unspecified address or \"this network\" (RFC 1122) (0.0.0.0/8)");
  EXPECT_EQ(unroutable_overlap(parse_prefix("224.1.0.0/16")).value_or(""), "holds a multicast address (224.0.0.0/4)");
  EXPECT_EQ(unroutable_overlap(parse_prefix("192.0.0.0/2")).value_or(""), "holds a multicast address (224.0.0.0/4)");
  EXPECT_FALSE(unroutable_overlap(parse_prefix("198.18.0.0/15")));
  EXPECT_FALSE(unroutable_overlap(parse_prefix("2001:2::/48")));
  EXPECT_TRUE(unroutable_overlap(parse_prefix("::/0")));
}

TEST(Destination, OwnAddressesAndSubnetBroadcasts) {
  const std::vector<LocalNet> nets = {
      {"to-r1", ip("198.18.1.1"), 24}, {"p2p", ip("198.18.9.1"), 31}, {"to-r1", ip("2001:2:0:1::1"), 64}};
  EXPECT_EQ(local_reason(ip("198.18.1.1"), nets).value_or(""), "this host's own address (on to-r1)");
  EXPECT_EQ(local_reason(ip("198.18.1.255"), nets).value_or(""), "the broadcast address of to-r1's 198.18.1.0/24");
  EXPECT_EQ(local_reason(ip("2001:2:0:1::1"), nets).value_or(""), "this host's own address (on to-r1)");
  EXPECT_FALSE(local_reason(ip("198.18.9.0"), nets)) << "a /31 has no broadcast address (RFC 3021)";
  EXPECT_FALSE(local_reason(ip("198.18.1.2"), nets));
  EXPECT_FALSE(local_reason(ip("2001:2:0:1:ffff:ffff:ffff:ffff"), nets)) << "IPv6 has no broadcast";
}

TEST(Destination, SubtractLeavesTheFewestBlocks) {
  auto strs = [](const std::vector<Prefix>& v) {
    std::vector<std::string> s;
    for (const Prefix& p : v) s.push_back(p.str());
    return s;
  };
  EXPECT_EQ(strs(subtract(parse_prefix("198.18.1.0/24"), {ip("198.18.1.255")})),
            (std::vector<std::string>{"198.18.1.0/25", "198.18.1.128/26", "198.18.1.192/27", "198.18.1.224/28",
                                      "198.18.1.240/29", "198.18.1.248/30", "198.18.1.252/31", "198.18.1.254/32"}));
  EXPECT_EQ(strs(subtract(parse_prefix("198.18.1.0/30"), {ip("198.18.1.1"), ip("198.18.1.2")})),
            (std::vector<std::string>{"198.18.1.0/32", "198.18.1.3/32"}));
  EXPECT_EQ(strs(subtract(parse_prefix("198.18.1.0/24"), {ip("198.18.2.1")})),
            (std::vector<std::string>{"198.18.1.0/24"}));
  EXPECT_TRUE(subtract(parse_prefix("198.18.1.1/32"), {ip("198.18.1.1")}).empty());
  std::uint64_t n = 0;
  for (const Prefix& p : subtract(parse_prefix("2001:2::/64"), {ip("2001:2::1")})) n += p.size();
  EXPECT_EQ(n, ~0ull) << "2^64 - 1 addresses left";
}

TEST(Prefix, PrintableEscapesBytesAndCuts) {
  EXPECT_EQ(printable("198.18.0.1"), "198.18.0.1");
  EXPECT_EQ(printable(std::string("a\0b\x1b[2J\xff", 8)), "a\\x00b\\x1b[2J\\xff");
  EXPECT_EQ(printable(std::string(100, 'x'), 10), "xxxxxxxxxx...");
}
