// Path MTU discovery over a scripted path (virtual clock).
#include <gtest/gtest.h>

#include "hopscope/output/pmtu_output.hpp"
#include "hopscope/trace/pmtu.hpp"
#include "support/fake_network.hpp"

using namespace hopscope;
using test::FakeHop;
using test::FakeNetwork;

namespace {

IpAddress A(const char* s) { return *IpAddress::parse(s); }

PmtuOptions pmtu_options(const IpAddress& dst) {
  PmtuOptions o;
  o.trace.dst = dst;
  o.trace.src = dst.is_v4() ? A("198.18.1.1") : A("2001:2:0:1::1");
  o.trace.seq_base = 300;
  o.trace.probes_per_hop = 2;
  o.start_mtu = 1500;
  return o;
}

// The lab: r1, r2, r3, silent r4, r5, then a 1280-byte link to the destination.
std::vector<FakeHop> narrow_last_link(bool v4, std::uint16_t mtu = 1280) {
  auto a = [&](int n) {
    return v4 ? A(("198.18." + std::to_string(n) + ".2").c_str())
              : A(("2001:2:0:" + std::to_string(n) + "::2").c_str());
  };
  std::vector<FakeHop> p = {FakeHop{a(1)}, FakeHop{a(2)}, FakeHop{a(3)}, FakeHop{std::nullopt}, FakeHop{a(7)}};
  p[4].mtu_after = mtu;
  return p;
}

}  // namespace

TEST(Pmtu, DiagnosesABlackHoleAndFindsTheMtuThroughIt) {
  // r5 drops its own Fragmentation Needed / Packet Too Big: probes of 1500
  // bytes vanish after hop 5. It used to end "path MTU 1500, destination not
  // reached" with no hint.
  for (bool v4 : {true, false}) {
    const IpAddress dst = v4 ? A("198.18.8.2") : A("2001:2:0:8::2");
    auto path = narrow_last_link(v4, 1400);
    path[4].drops_too_big = true;
    FakeNetwork net(dst, path, Method::UdpParis);
    PmtuOptions o = pmtu_options(dst);
    o.trace.wait = std::chrono::milliseconds(50);
    const PmtuResult r = run_pmtu(o, net);
    EXPECT_TRUE(r.reached);
    EXPECT_EQ(r.path_mtu, 1400) << "the binary search's answer";
    ASSERT_EQ(r.black_holes.size(), 1u);
    EXPECT_EQ(r.black_holes[0].after_ttl, 5);
    EXPECT_EQ(r.black_holes[0].passes, 1400);
    EXPECT_EQ(r.black_holes[0].vanishes, 1401);
    EXPECT_TRUE(r.drops.empty()) << "nobody reported an MTU";
    ASSERT_EQ(r.hops.size(), 6u) << "the silent run past hop 5 is replaced by the destination";
    EXPECT_EQ(r.hops[5].addr, dst);
    EXPECT_EQ(r.hops[5].pmtu, 1400);
    const std::string text = pmtu_text(r);
    EXPECT_NE(text.find(std::string("black hole: no ") + (v4 ? "Fragmentation Needed" : "Packet Too Big") +
                        " from hop 5 or after (ICMP filtered?): probes of 1401 bytes vanish there, 1400 bytes pass"),
              std::string::npos)
        << text;
    EXPECT_NE(pmtu_json(r).find(R"("black_holes":[{"after_ttl":5,"passes":1400,"vanishes":1401}])"), std::string::npos);
  }
}

TEST(Pmtu, ASilentDestinationIsNoBlackHole) {
  const IpAddress dst = A("198.18.8.2");
  FakeNetwork net(dst, narrow_last_link(true), Method::UdpParis, /*reachable=*/false);
  PmtuOptions o = pmtu_options(dst);
  o.trace.wait = std::chrono::milliseconds(50);
  const PmtuResult r = run_pmtu(o, net);
  EXPECT_FALSE(r.reached);
  EXPECT_TRUE(r.black_holes.empty()) << "small probes vanish too";
}

TEST(Pmtu, FindsTheNarrowLinkAndItsMtu) {
  for (bool v4 : {true, false}) {
    const IpAddress dst = v4 ? A("198.18.8.2") : A("2001:2:0:8::2");
    FakeNetwork net(dst, narrow_last_link(v4), Method::UdpParis);
    const PmtuResult r = run_pmtu(pmtu_options(dst), net);
    EXPECT_TRUE(r.reached);
    EXPECT_EQ(r.path_mtu, 1280);
    ASSERT_EQ(r.hops.size(), 6u);
    for (int i = 0; i < 5; i++) EXPECT_EQ(r.hops[i].pmtu, 1500) << "hop " << i + 1;
    EXPECT_TRUE(r.hops[3].addr.empty()) << "the silent hop";
    EXPECT_EQ(r.hops[5].addr, dst);
    EXPECT_EQ(r.hops[5].pmtu, 1280);
    ASSERT_EQ(r.drops.size(), 1u);
    EXPECT_EQ(r.drops[0].after_ttl, 5);
    EXPECT_EQ(r.drops[0].reporter, v4 ? A("198.18.7.2") : A("2001:2:0:7::2"));
    EXPECT_EQ(r.drops[0].mtu, 1280);
    // Every probe had DF and the size of its moment.
    for (const ProbeRequest& p : net.sent) {
      EXPECT_TRUE(p.dont_fragment);
      EXPECT_TRUE(p.ip_len == 1500 || p.ip_len == 1280) << p.ip_len;
    }
  }
}

TEST(Pmtu, ARouterWithoutANextHopMtuStillMovesItDown) {
  const IpAddress dst = A("198.18.8.2");
  auto path = narrow_last_link(true, 1400);
  path[4].reported_mtu = 0;  // a pre-RFC 1191 router
  FakeNetwork net(dst, path, Method::UdpParis);
  const PmtuResult r = run_pmtu(pmtu_options(dst), net);
  EXPECT_TRUE(r.reached);
  EXPECT_EQ(r.path_mtu, 1280) << "1500 -> 1280 by hand: the first size that passes";
  ASSERT_EQ(r.drops.size(), 1u);
  EXPECT_EQ(r.drops[0].mtu, 0);
}

TEST(Pmtu, ExactlyTheLinkMtuPassesWithoutADrop) {
  const IpAddress dst = A("198.18.8.2");
  FakeNetwork net(dst, narrow_last_link(true, 1400), Method::UdpParis);
  PmtuOptions o = pmtu_options(dst);
  o.start_mtu = 1400;
  const PmtuResult r = run_pmtu(o, net);
  EXPECT_TRUE(r.drops.empty());
  EXPECT_EQ(r.path_mtu, 1400);
  EXPECT_TRUE(r.reached);
}

TEST(Pmtu, GivesUpBelowTheProtocolMinimum) {
  const IpAddress dst = A("198.18.8.2");
  auto path = narrow_last_link(true, 40);  // nothing IPv4 fits
  FakeNetwork net(dst, path, Method::UdpParis);
  const PmtuResult r = run_pmtu(pmtu_options(dst), net);
  EXPECT_FALSE(r.reached);
  EXPECT_EQ(r.path_mtu, 68);
  EXPECT_LT(net.sent.size(), 40u) << "no endless retries";
}

TEST(Pmtu, TextAndJson) {
  const IpAddress dst = A("198.18.8.2");
  FakeNetwork net(dst, narrow_last_link(true), Method::UdpParis);
  const PmtuResult r = run_pmtu(pmtu_options(dst), net);
  const std::string t = pmtu_text(r);
  EXPECT_NE(t.find(" 5  198.18.7.2  "), std::string::npos) << t;
  EXPECT_NE(t.find("     198.18.7.2 reports MTU 1280: the MTU drops after hop 5\n 6  198.18.8.2"), std::string::npos)
      << t;
  EXPECT_NE(t.find("path MTU 1280, destination reached\n"), std::string::npos) << t;
  const std::string j = pmtu_json(r);
  EXPECT_NE(j.find(R"("path_mtu":1280,"reached":true)"), std::string::npos) << j;
  EXPECT_NE(j.find(R"("drops":[{"after_ttl":5,"addr":"198.18.7.2","mtu":1280}])"), std::string::npos) << j;
}
