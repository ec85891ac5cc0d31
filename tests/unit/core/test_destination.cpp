#include <gtest/gtest.h>

#include "hopscope/core/blocklist.hpp"
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

namespace {
std::string blocked(const Blocklist& b, const char* s) { return b.why_blocked(ip(s)).value_or("permitted"); }
std::uint64_t total(const std::vector<Prefix>& v) {
  std::uint64_t n = 0;
  for (const Prefix& p : v) n += p.size();
  return n;
}
}  // namespace

TEST(Blocklist, DefaultListUnroutableRangesAndBenchmarking) {
  Blocklist b;
  EXPECT_EQ(blocked(b, "10.1.2.3"), "private-use (RFC 1918) (10.0.0.0/8), in the default blocklist");
  EXPECT_EQ(blocked(b, "192.0.2.1"), "documentation (TEST-NET-1, RFC 5737) (192.0.2.0/24), in the default blocklist");
  EXPECT_EQ(blocked(b, "2001:db8::1"), "documentation (RFC 3849) (2001:db8::/32), in the default blocklist");
  EXPECT_EQ(blocked(b, "fd00::1"), "unique-local (RFC 4193) (fc00::/7), in the default blocklist");
  EXPECT_EQ(blocked(b, "ff02::1"), "a multicast address (ff00::/8)");
  EXPECT_EQ(blocked(b, "198.18.8.2"), "benchmarking (RFC 2544) (198.18.0.0/15), in the default blocklist");
  EXPECT_EQ(blocked(b, "2001:2:0:8::2"), "benchmarking (RFC 5180) (2001:2::/48), in the default blocklist");
  for (const char* ok : {"8.8.8.8", "1.1.1.1", "198.17.255.255", "198.20.0.0", "2606:4700::1111", "2001:3::1"})
    EXPECT_EQ(blocked(b, ok), "permitted") << ok;
  b.permit_benchmarking();
  EXPECT_EQ(blocked(b, "198.18.8.2"), "permitted");
  EXPECT_EQ(blocked(b, "2001:2:0:8::2"), "permitted");
  EXPECT_EQ(blocked(b, "10.1.2.3"), "private-use (RFC 1918) (10.0.0.0/8), in the default blocklist");
  EXPECT_TRUE(b.blocked(ip("224.0.0.1")));
  EXPECT_FALSE(b.blocked(ip("198.18.8.2")));
}

// The allowlist is zmap's: only these; it overrides the default list, never the unroutable
// ranges or the user's --blocklist.
TEST(Blocklist, AllowlistAndUserBlocklist) {
  Blocklist b;
  b.allow({parse_prefix("198.18.0.0/16"), parse_prefix("224.0.0.0/4"), parse_prefix("8.8.0.0/16")});
  b.block({parse_prefix("8.8.8.0/24")});
  EXPECT_EQ(blocked(b, "198.18.8.2"), "permitted");
  EXPECT_EQ(blocked(b, "198.19.0.1"), "not in the --allowlist");
  EXPECT_EQ(blocked(b, "1.1.1.1"), "not in the --allowlist");
  EXPECT_EQ(blocked(b, "224.0.0.1"), "a multicast address (224.0.0.0/4)");
  EXPECT_EQ(blocked(b, "8.8.8.8"), "in the --blocklist (8.8.8.0/24)");
  EXPECT_EQ(blocked(b, "8.8.4.4"), "permitted");
}

TEST(Blocklist, SplitLeavesOutWhatIsBlockedAndSaysWhy) {
  Blocklist b;
  b.permit_benchmarking();
  b.exclude_local({{"to-r1", ip("198.18.1.1"), 24}});
  std::vector<Prefix> keep;
  std::vector<Blocklist::Part> dropped;
  b.split(parse_prefix("198.18.1.0/24"), keep, dropped);
  EXPECT_EQ(total(keep), 254u);
  EXPECT_EQ(keep.size(), 14u) << "the fewest blocks: 7 around .1 and 7 before .255";
  ASSERT_EQ(dropped.size(), 2u);
  EXPECT_EQ(dropped[0].prefix.str(), "198.18.1.1/32");
  EXPECT_EQ(dropped[0].why, "this host's own address (on to-r1)");
  EXPECT_EQ(dropped[1].why, "the broadcast address of to-r1's 198.18.1.0/24");
  // The whole IPv4 space: what zmap's default blocklist leaves, less 198.18.0.0/15 (permitted here).
  keep.clear();
  dropped.clear();
  Blocklist all;
  all.split(parse_prefix("0.0.0.0/0"), keep, dropped);
  EXPECT_EQ(total(keep), 3702258432u);
  std::uint64_t gone = 0;
  for (const auto& d : dropped) gone += d.prefix.size();
  EXPECT_EQ(total(keep) + gone, 1ull << 32);
  keep.clear();
  all.split(parse_prefix("8.8.8.0/24"), keep, dropped);
  ASSERT_EQ(keep.size(), 1u) << "a block with nothing blocked stays whole";
}

TEST(Prefix, PrintableEscapesBytesAndCuts) {
  EXPECT_EQ(printable("198.18.0.1"), "198.18.0.1");
  EXPECT_EQ(printable(std::string("a\0b\x1b[2J\xff", 8)), "a\\x00b\\x1b[2J\\xff");
  EXPECT_EQ(printable(std::string(100, 'x'), 10), "xxxxxxxxxx...");
}
