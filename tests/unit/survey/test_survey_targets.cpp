#include <gtest/gtest.h>

#include <cstdio>
#include <set>
#include <sstream>

#include "hopscope/survey/targets.hpp"

using namespace hopscope;
using namespace hopscope::survey;

TEST(Targets, FileWithCommentsAddressesAndBlocks) {
  std::istringstream in(
      "# a survey list\n"
      "198.18.0.1\n"
      "\n"
      "   198.19.0.0/30   # four addresses\n"
      "198.18.5.5/32\n");
  TargetList t;
  t.add_file(in, "list.txt", false);
  ASSERT_EQ(t.size(), 6u);
  EXPECT_EQ(t.family(), 4);
  EXPECT_EQ(t.at(0).str(), "198.18.0.1");
  EXPECT_EQ(t.at(1).str(), "198.19.0.0");
  EXPECT_EQ(t.at(4).str(), "198.19.0.3");
  EXPECT_EQ(t.at(5).str(), "198.18.5.5");
}

TEST(Targets, CommandLineCidrsAndIpv6) {
  TargetList t;
  t.add("2001:2:0:1::/120", "argument 1");
  t.add("2001:2::ff", "argument 2");
  ASSERT_EQ(t.size(), 257u);
  EXPECT_EQ(t.family(), 6);
  EXPECT_EQ(t.at(255).str(), "2001:2:0:1::ff");
  EXPECT_EQ(t.at(256).str(), "2001:2::ff");
}

TEST(Targets, WholeRangesWithoutExpanding) {
  TargetList t;
  t.add("198.18.0.0/15", "x");
  EXPECT_EQ(t.size(), 131072u);
  EXPECT_EQ(t.at(131071).str(), "198.19.255.255");
  EXPECT_EQ(t.at(256).str(), "198.18.1.0") << "carry across bytes";
  TargetList big;
  big.add("2001:2::/100", "y");
  EXPECT_EQ(big.size(), 1ull << 28);
  EXPECT_EQ(big.at((1ull << 28) - 1).str(), "2001:2::fff:ffff");
  big.freeze();
  EXPECT_EQ(big.index_of(*IpAddress::parse("2001:2::fff:ffff")), (1ull << 28) - 1);
  EXPECT_FALSE(big.index_of(*IpAddress::parse("2001:2::1000:0")));
}

TEST(Targets, BadLinesNameTheLine) {
  auto error_of = [](const std::string& text) {
    std::istringstream in(text);
    TargetList t;
    try {
      t.add_file(in, "list.txt", false);
    } catch (const TargetError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error_of("198.18.0.1\nnot-an-ip\n"), "list.txt line 2: 'not-an-ip' is not an IPv4 or IPv6 address");
  EXPECT_EQ(error_of("198.18.0.1/24\n"),
            "list.txt line 1: host bits set in '198.18.0.1/24' (did you mean 198.18.0.0/24?)");
  EXPECT_EQ(error_of("198.18.0.0/33\n"), "list.txt line 1: bad prefix length '/33' (0..32)");
  EXPECT_EQ(error_of("198.18.0.0/x\n"), "list.txt line 1: bad prefix length '/x' (0..32)");
  EXPECT_EQ(error_of("198.18.0.1\n2001:2::1\n"),
            "list.txt line 2: mixes IPv6 with the IPv4 targets before it (one family per survey)");
  EXPECT_EQ(error_of("2001:2::/64\n"), "list.txt line 1: more than 268435456 targets in all");
  EXPECT_EQ(error_of("2001:2::/99\n"), "list.txt line 1: more than 268435456 targets in all");
}

TEST(Targets, LookupNeedsFreeze) {
  TargetList t;
  t.add("198.18.0.0/24", "x");
  EXPECT_THROW((void)t.index_of(*IpAddress::parse("198.18.0.1")), std::logic_error);
  t.freeze();
  EXPECT_EQ(t.index_of(*IpAddress::parse("198.18.0.7")), 7u);
}

TEST(Targets, SkipBadRecordsEverySkippedLine) {
  std::istringstream in("198.18.0.1\nbogus\n198.18.0.2\n198.18.0.3/16\n");
  TargetList t;
  t.add_file(in, "l", true);
  EXPECT_EQ(t.size(), 2u);
  ASSERT_EQ(t.skipped().size(), 2u);
  EXPECT_NE(t.skipped()[0].find("l line 2"), std::string::npos);
  EXPECT_NE(t.skipped()[1].find("l line 4"), std::string::npos);
}

// Every target's index round-trips through at() and index_of(), whatever the
// list's shape: one block (arithmetic), single addresses and blocks of one
// size (flat hash table of blocks), mixed blocks (binary search); addresses
// around the targets are not found.
TEST(Targets, LookupsRoundTripForEveryShapeOfList) {
  auto check_all = [](const TargetList& t) {
    for (std::uint64_t i = 0; i < t.size(); i++) {
      const IpAddress a = t.at(i);
      ASSERT_EQ(t.index_of(a), i) << a.str();
    }
  };
  TargetList one;
  one.add("198.18.4.0/22", "x");
  one.freeze();
  check_all(one);
  EXPECT_FALSE(one.index_of(*IpAddress::parse("198.18.3.255")));
  EXPECT_FALSE(one.index_of(*IpAddress::parse("198.18.8.0")));
  EXPECT_FALSE(one.index_of(*IpAddress::parse("2001:2::1"))) << "another family";

  TargetList singles;  // 3,000 single addresses, not in order
  for (int i = 0; i < 3000; i++) {
    const int k = (i * 7919) % 3000;
    singles.add("198.19." + std::to_string(k / 200) + "." + std::to_string(k % 200), "x");
  }
  singles.freeze();
  EXPECT_EQ(singles.size(), 3000u);
  EXPECT_LE(singles.longest_probe(), 8u);
  check_all(singles);
  EXPECT_EQ(singles.at(1).str(), "198.19.9.119") << "insertion order: the second line (k = 7919 mod 3000)";
  EXPECT_FALSE(singles.index_of(*IpAddress::parse("198.19.0.200")));
  EXPECT_FALSE(singles.index_of(*IpAddress::parse("198.19.15.0")));

  TargetList v6;
  for (int i = 0; i < 50; i++) v6.add("2001:2:0:" + std::to_string(i) + "::1", "x");
  v6.freeze();
  check_all(v6);
  EXPECT_LE(v6.longest_probe(), 4u);
  EXPECT_FALSE(v6.index_of(*IpAddress::parse("2001:2:0:1::2")));

  TargetList slash120;  // a hitlist of /120s, not in order (the 1M IPv6 bench's shape)
  for (int i = 0; i < 300; i++) {
    const int g = (i * 101) % 300 + 1;
    char buf[64];
    std::snprintf(buf, sizeof buf, "2001:2:0:%x::/120", g);
    slash120.add(buf, "x");
  }
  slash120.freeze();
  EXPECT_EQ(slash120.size(), 300u * 256);
  EXPECT_LE(slash120.longest_probe(), 8u) << "the blocks spread over the table (a weak hash put them in a few slots)";
  check_all(slash120);
  EXPECT_EQ(slash120.at(256 + 5).str(), "2001:2:0:66::5") << "block 1 is the second line (g = 102)";
  for (const char* miss : {"2001:2:0:66::100", "2001:2:0:12d::", "2001:2::ff", "2001:2:0:66:1::"})
    EXPECT_FALSE(slash120.index_of(*IpAddress::parse(miss))) << miss;

  TargetList mixed;
  mixed.add("198.18.9.0/24", "x");
  mixed.add("198.18.1.7", "x");
  mixed.add("198.18.2.0/30", "x");
  mixed.add("198.18.0.128/25", "x");
  mixed.freeze();
  EXPECT_EQ(mixed.size(), 256u + 1 + 4 + 128);
  check_all(mixed);
  EXPECT_EQ(mixed.at(256).str(), "198.18.1.7");
  for (const char* miss : {"198.18.0.127", "198.18.1.6", "198.18.1.8", "198.18.2.4", "198.18.10.0", "0.0.0.0"})
    EXPECT_FALSE(mixed.index_of(*IpAddress::parse(miss))) << miss;
}

// A target file is text: binary data ends it at once (even with --skip-bad), a line longer
// than kMaxLine is one bad line, and what goes into a message is escaped.
TEST(Targets, BinaryDataAndLongLinesAreRefusedQuickly) {
  auto error_of = [](const std::string& text, bool skip_bad = false) {
    std::istringstream in(text);
    TargetList t;
    try {
      t.add_file(in, "f", skip_bad);
    } catch (const TargetError& e) {
      return std::string(e.what());
    }
    return "skipped " + std::to_string(t.skipped().size()) + ", " + std::to_string(t.size()) + " targets";
  };
  const std::string binary = "f line 1: binary data (a NUL byte, or no line end in 1 MiB): not a target file";
  EXPECT_EQ(error_of(std::string(1 << 22, '\0')), binary) << "as /dev/zero reads";
  EXPECT_EQ(error_of(std::string(1 << 22, '\0'), true), binary);
  EXPECT_EQ(error_of(std::string(3 << 20, 'x'), true), binary) << "no line end";
  EXPECT_EQ(error_of(std::string(2000, '1') + "\n"),
            "f line 1: longer than 1024 bytes ('" + std::string(40, '1') + "...')");
  EXPECT_EQ(error_of(std::string(2000, '1') + "\n198.18.0.1\n", true), "skipped 1, 1 targets");
  EXPECT_EQ(error_of("198.18.0.1\n\x1b[2J\xfe\n"), "f line 2: '\\x1b[2J\\xfe' is not an IPv4 or IPv6 address");
}

TEST(Targets, TheBlocklistLeavesAddressesOutAndSaysWhy) {
  Blocklist b;
  b.permit_benchmarking();
  b.exclude_local({{"to-r1", *IpAddress::parse("198.18.1.1"), 24}, {"lo", *IpAddress::parse("127.0.0.1"), 8}});
  TargetList t;
  t.set_blocklist(&b);
  t.add("198.18.1.0/24", "x");
  t.add("198.18.8.2", "y");
  t.add("10.0.0.0/30", "z");
  EXPECT_EQ(t.size(), 255u) << "256 less the own address and the broadcast, plus one";
  EXPECT_EQ(t.skipped_addresses(), 6u);
  ASSERT_EQ(t.skipped().size(), 3u);
  EXPECT_EQ(t.skipped()[0], "x: 1 address, this host's own address (on to-r1)");
  EXPECT_EQ(t.skipped()[1], "x: 1 address, the broadcast address of to-r1's 198.18.1.0/24");
  EXPECT_EQ(t.skipped()[2], "z: 4 addresses, private-use (RFC 1918) (10.0.0.0/8), in the default blocklist");
  t.freeze();
  std::set<std::string> all;
  for (std::uint64_t i = 0; i < t.size(); i++) all.insert(t.at(i).str());
  EXPECT_EQ(all.size(), 255u);
  EXPECT_FALSE(all.count("198.18.1.1"));
  EXPECT_FALSE(all.count("198.18.1.255"));
  EXPECT_TRUE(all.count("198.18.1.254"));
  EXPECT_EQ(t.index_of(*IpAddress::parse("198.18.8.2")), 254u);
}
