#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "hopscope/output/trace_formats.hpp"
#include "hopscope/trace/tracer.hpp"
#include "support/fake_network.hpp"

using namespace hopscope;
using test::FakeHop;
using test::FakeNetwork;

namespace {

IpAddress A(const char* s) { return *IpAddress::parse(s); }

TraceOptions options(const IpAddress& dst, Method m = Method::UdpParis) {
  TraceOptions o;
  o.dst = dst;
  o.src = dst.is_v4() ? A("198.18.1.1") : A("2001:2:0:1::1");
  o.method = m;
  o.seq_base = 1000;
  return o;
}

std::vector<FakeHop> lab_like_path(bool v4 = true) {
  auto a = [&](int n) {
    return v4 ? A(("198.18." + std::to_string(n) + ".2").c_str())
              : A(("2001:2:0:" + std::to_string(n) + "::2").c_str());
  };
  return {FakeHop{a(1)}, FakeHop{a(2)}, FakeHop{a(3)}, FakeHop{std::nullopt}, FakeHop{a(7)}};
}

}  // namespace

TEST(Tracer, ReachesTheDestinationWithSilentHop) {
  const IpAddress dst = A("198.18.8.2");
  FakeNetwork net(dst, lab_like_path(), Method::UdpParis);
  TraceResult r = run_trace(options(dst), net);
  EXPECT_EQ(r.stop_reason, StopReason::Completed);
  ASSERT_EQ(r.hops.size(), 6u);
  for (int i = 0; i < 6; i++) EXPECT_EQ(r.hops[i].ttl, i + 1);
  EXPECT_TRUE(r.hops[3].replies.empty()) << "silent hop";
  ASSERT_EQ(r.hops[0].replies.size(), 3u);
  EXPECT_EQ(r.hops[0].replies[0].addr, A("198.18.1.2"));
  EXPECT_EQ(r.hops[5].replies[0].addr, dst);
  EXPECT_EQ(r.hops[5].replies[0].icmp_type, 3);
  EXPECT_EQ(r.hops[5].replies[0].icmp_code, 3);
  for (int a = 0; a < 3; a++) EXPECT_EQ(r.hops[2].replies[a].attempt, a);
}

TEST(Tracer, RttIsReceiveStampMinusSendStamp) {
  const IpAddress dst = A("198.18.8.2");
  FakeNetwork net(dst, lab_like_path(), Method::UdpParis);
  net.per_hop_ns = 250'000;
  TraceResult r = run_trace(options(dst), net);
  // Hop n answers after 2 * n * 250 us.
  EXPECT_NEAR(r.hops[0].replies[0].rtt_ms, 0.5, 1e-9);
  EXPECT_NEAR(r.hops[4].replies[2].rtt_ms, 2.5, 1e-9);
  EXPECT_NEAR(r.hops[5].replies[1].rtt_ms, 3.0, 1e-9);
}

TEST(Tracer, IcmpEchoReplyEndsTheTraceIPv6) {
  const IpAddress dst = A("2001:2:0:8::2");
  FakeNetwork net(dst, lab_like_path(false), Method::IcmpParis);
  TraceResult r = run_trace(options(dst, Method::IcmpParis), net);
  EXPECT_EQ(r.stop_reason, StopReason::Completed);
  ASSERT_EQ(r.hops.size(), 6u);
  EXPECT_EQ(r.hops[5].replies[0].kind, HS_REPLY_ECHO_REPLY);
  EXPECT_EQ(r.hops[5].replies[0].addr, dst);
}

TEST(Tracer, StopsAfterGapLimitSilentHops) {
  const IpAddress dst = A("198.18.8.2");
  FakeNetwork net(dst, {FakeHop{A("198.18.1.2")}}, Method::UdpParis, /*reachable=*/false);
  TraceOptions o = options(dst);
  o.wait = std::chrono::milliseconds(100);
  TraceResult r = run_trace(o, net);
  EXPECT_EQ(r.stop_reason, StopReason::GapLimit);
  ASSERT_EQ(r.hops.size(), 6u) << "hop 1 then 5 silent hops";
  for (int i = 1; i < 6; i++) EXPECT_TRUE(r.hops[i].replies.empty());
}

TEST(Tracer, StopsAtMaxTtl) {
  const IpAddress dst = A("198.18.8.2");
  FakeNetwork net(dst, lab_like_path(), Method::UdpParis);
  TraceOptions o = options(dst);
  o.max_ttl = 3;
  TraceResult r = run_trace(o, net);
  EXPECT_EQ(r.stop_reason, StopReason::HopLimit);
  EXPECT_EQ(r.hops.size(), 3u);
  for (const auto& p : net.sent) EXPECT_LE(p.ttl, 3);
}

TEST(Tracer, UnreachableFromARouterEndsTheTrace) {
  const IpAddress dst = A("198.18.8.2");
  auto path = lab_like_path();
  path[2] = FakeHop{A("198.18.3.2"), HS_REPLY_DEST_UNREACH, 3, 1};  // host unreachable
  FakeNetwork net(dst, path, Method::UdpParis);
  TraceResult r = run_trace(options(dst), net);
  EXPECT_EQ(r.stop_reason, StopReason::Unreach);
  EXPECT_EQ(r.hops.size(), 3u);
}

TEST(Tracer, PacketTooBigEndsTheTraceIPv6) {
  // r5 answers the probe at TTL 6 with Packet Too Big (the link after it is
  // too small for it): the trace ends there, as traceroute's does with !F
  // (it went on, and here a probe that got through would seem to reach dst).
  const IpAddress dst = A("2001:2:0:8::2");
  auto path = lab_like_path(false);
  path.push_back(FakeHop{A("2001:2:0:7::2"), HS_REPLY_PACKET_TOO_BIG, 2, 0});
  FakeNetwork net(dst, path, Method::UdpParis);
  TraceResult r = run_trace(options(dst), net);
  EXPECT_EQ(r.stop_reason, StopReason::Unreach);
  ASSERT_EQ(r.hops.size(), 6u);
  ASSERT_FALSE(r.hops[5].replies.empty());
  EXPECT_EQ(r.hops[5].replies[0].kind, HS_REPLY_PACKET_TOO_BIG);
}

TEST(Tracer, ARoutingLoopEndsTheTrace) {
  // r4 and r5 send the probes to each other: r5 answers at 5, 7, 9, ... and
  // the trace went on to the max TTL (scamper stops with LOOP).
  const IpAddress dst = A("198.18.8.2");
  std::vector<FakeHop> path = lab_like_path();
  for (int i = 0; i < 10; i++) path.push_back(i % 2 ? path[4] : FakeHop{std::nullopt});
  FakeNetwork net(dst, path, Method::UdpParis, /*reachable=*/false);
  TraceOptions o = options(dst);
  o.wait = std::chrono::milliseconds(50);
  TraceResult r = run_trace(o, net);
  EXPECT_EQ(r.stop_reason, StopReason::Loop);
  ASSERT_EQ(r.hops.size(), 7u) << "r5 again at 7";
  EXPECT_EQ(r.hops[6].replies.at(0).addr, A("198.18.7.2"));
  EXPECT_STREQ(stop_reason_name(r.stop_reason), "loop");
}

TEST(Tracer, OneRouterAtTwoAdjacentTtlsIsNoLoop) {
  const IpAddress dst = A("198.18.8.2");
  std::vector<FakeHop> path = lab_like_path();
  path.insert(path.begin() + 2, path[1]);  // r2 answers at 2 and 3 (it does not decrement, say)
  FakeNetwork net(dst, path, Method::UdpParis);
  TraceResult r = run_trace(options(dst), net);
  EXPECT_EQ(r.stop_reason, StopReason::Completed);
  EXPECT_EQ(r.hops.size(), 7u);
}

TEST(Tracer, FirstTtlSkipsNearHops) {
  const IpAddress dst = A("198.18.8.2");
  FakeNetwork net(dst, lab_like_path(), Method::UdpParis);
  TraceOptions o = options(dst);
  o.first_ttl = 3;
  TraceResult r = run_trace(o, net);
  ASSERT_EQ(r.hops.size(), 4u);
  EXPECT_EQ(r.hops.front().ttl, 3);
  for (const auto& p : net.sent) EXPECT_GE(p.ttl, 3);
}

TEST(Tracer, IgnoresDuplicatesAndForeignReplies) {
  const IpAddress dst = A("198.18.8.2");
  FakeNetwork net(dst, lab_like_path(), Method::UdpParis);
  net.duplicate_every_reply = true;
  hs_reply_record other{};
  other.family = 4;
  other.method = HS_METHOD_UDP_PARIS;
  other.seq = 1000;  // a seq we use, but for another destination
  IpAddress elsewhere = A("198.18.9.9");
  std::memcpy(other.probe_dst, elsewhere.data(), 4);
  std::memcpy(other.responder, elsewhere.data(), 4);
  net.foreign = other;
  TraceResult r = run_trace(options(dst), net);
  EXPECT_EQ(r.stop_reason, StopReason::Completed);
  EXPECT_EQ(r.hops[0].replies.size(), 3u);
  EXPECT_EQ(r.hops[0].replies[0].addr, A("198.18.1.2"));
}

TEST(Tracer, RepliesAfterTheWaitAreNotUsed) {
  const IpAddress dst = A("198.18.8.2");
  FakeNetwork net(dst, lab_like_path(), Method::UdpParis);
  net.per_hop_ns = 40'000'000;  // 80 ms per hop round trip
  TraceOptions o = options(dst);
  o.wait = std::chrono::milliseconds(100);  // hop 2+ answers too late
  o.max_ttl = 3;
  TraceResult r = run_trace(o, net);
  EXPECT_EQ(r.hops[0].replies.size(), 3u);
  EXPECT_TRUE(r.hops[1].replies.empty());
}

// A reply after its probe was given up is no answer, but kept apart with how
// many probes had gone out since (RIPE Atlas "late"): the Atlas output lists
// it with "late" and no RTT, then the probe's "*".
TEST(Tracer, LateRepliesAreKeptApartWithHowLateTheyAre) {
  const IpAddress dst = A("198.18.8.2");
  FakeNetwork net(dst, lab_like_path(), Method::UdpParis);
  net.per_hop_ns = 40'000'000;  // hop 2 answers after 160 ms
  TraceOptions o = options(dst);
  o.wait = std::chrono::milliseconds(100);
  o.window = 1;  // hop 3 is still waited for when hop 2's replies come
  o.max_ttl = 3;
  TraceResult r = run_trace(o, net);
  ASSERT_GE(r.hops.size(), 2u);
  EXPECT_TRUE(r.hops[1].replies.empty());
  ASSERT_EQ(r.hops[1].late.size(), 3u) << "one per probe";
  for (const HopReply& x : r.hops[1].late) {
    EXPECT_EQ(x.addr, A("198.18.2.2"));
    EXPECT_GE(x.late, 3) << "hop 3's probes went out meanwhile";
  }
  EXPECT_EQ(r.late_replies, 3u);
  std::string atlas;
  append_trace_atlas(atlas, r);
  const auto j = nlohmann::json::parse(atlas);
  const auto& hop2 = j["result"][1]["result"];
  ASSERT_EQ(hop2.size(), 6u) << hop2.dump();
  EXPECT_EQ(hop2[0]["from"], "198.18.2.2");
  EXPECT_TRUE(hop2[0].contains("late"));
  EXPECT_FALSE(hop2[0].contains("rtt"));
  EXPECT_EQ(hop2[1], nlohmann::json::parse(R"({"x":"*"})"));
}

TEST(Tracer, DoesNotProbeBeyondAKnownDestination) {
  const IpAddress dst = A("198.18.8.2");
  FakeNetwork net(dst, lab_like_path(), Method::UdpParis);
  TraceOptions o = options(dst);
  o.window = 2;
  TraceResult r = run_trace(o, net);
  EXPECT_EQ(r.stop_reason, StopReason::Completed);
  int max_sent = 0;
  for (const auto& p : net.sent) max_sent = std::max<int>(max_sent, p.ttl);
  EXPECT_LE(max_sent, 7) << "window of 2 past the destination at 6";
  EXPECT_GT(net.batches, 1);
}

TEST(Tracer, RejectsBadOptions) {
  const IpAddress dst = A("198.18.8.2");
  FakeNetwork net(dst, lab_like_path(), Method::UdpParis);
  TraceOptions o = options(dst);
  o.max_ttl = 0;
  EXPECT_THROW(run_trace(o, net), std::invalid_argument);
  o = options(dst);
  o.probes_per_hop = 0;
  EXPECT_THROW(run_trace(o, net), std::invalid_argument);
  o = options(dst);
  o.src = A("2001:2::1");
  EXPECT_THROW(run_trace(o, net), std::invalid_argument);
  o = options(dst);
  o.seq_base = 0;
  EXPECT_THROW(run_trace(o, net), std::invalid_argument);
}
